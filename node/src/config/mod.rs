//! A node's validated configuration: what `run` (and the demo and tests) start a node with.
//! [`Config::validate`] is the one place that decides whether a configuration may start:
//! the local API stays on loopback unless the operator explicitly accepts that its bearer
//! token and everything it carries cross the network in clear (`api_insecure`).
//! `run` builds it from layers of [`settings::Settings`] — flags, environment, the
//! configuration file read by [`file`] — over these defaults.

pub mod file;
pub mod settings;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use libp2p::Multiaddr;

/// Default libp2p port (TCP and QUIC).
pub const DEFAULT_P2P_PORT: u16 = 4646;
/// Default local API port.
pub const DEFAULT_API_PORT: u16 = 4647;

#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory (keys, identity.json, confer.redb, api.json).
    pub data_dir: PathBuf,
    /// libp2p listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Where the local HTTP API listens; `None` runs no API (tests drive the handle).
    pub api: Option<SocketAddr>,
    /// Allow `api` on an address other than loopback (`confer run --api-insecure`). The API
    /// speaks plain HTTP, so its token and data would travel unencrypted.
    pub api_insecure: bool,
    /// Period of anti-entropy rounds with every connected peer.
    pub sync_interval: Duration,
    /// Longest wait between redials of a remembered peer.
    pub max_redial_backoff: Duration,
    /// Write a document snapshot once a space has grown by this many entries.
    pub snapshot_every: u64,
    /// Relays to be reachable through (each `/…/p2p/RELAY_ID`): the node reserves a slot on
    /// each and listens on `RELAY/p2p-circuit`, for partners that cannot reach it directly.
    pub relays: Vec<Multiaddr>,
    /// Announce and discover nodes on the local network with mDNS (off by default).
    pub mdns: bool,
    /// A peer that connects and has not proved its body this long after is disconnected
    /// (at once if it sends anything but Hello first; peers added with `peer add`
    /// excepted). Default 30 s.
    pub hello_deadline: Duration,
    /// Where the web UI listens, and its HTTPS certificate and key (`confer run --ui`);
    /// `None`: no UI listener.
    pub ui: Option<crate::ui::UiConfig>,
    /// Allow the web UI on an address other than loopback without HTTPS
    /// (`--ui-insecure`): passwords and session cookies would travel in clear.
    pub ui_insecure: bool,
    /// Where `run` serves Prometheus metrics without a token (`--metrics`,
    /// [`crate::metrics`]); `None`: only on the local API, with its token.
    pub metrics: Option<SocketAddr>,
    /// Peers to remember and keep connected from the start, as `confer peer add` does
    /// (each address ends in `/p2p/PEER_ID`; re-adding a remembered one changes nothing).
    pub peers: Vec<Multiaddr>,
    /// Sync batch sizes this node answers and accepts (defaults: 4,096 entries, 4 MiB);
    /// tests lower them to see a catch-up in many batches.
    pub limits: confer_protocol::Limits,
}

impl Config {
    /// Defaults for a node with data in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            listen: default_listen(),
            api: Some(SocketAddr::from(([127, 0, 0, 1], DEFAULT_API_PORT))),
            api_insecure: false,
            sync_interval: Duration::from_secs(30),
            max_redial_backoff: Duration::from_secs(60),
            snapshot_every: 1000,
            relays: Vec::new(),
            mdns: false,
            hello_deadline: Duration::from_secs(30),
            ui: None,
            ui_insecure: false,
            metrics: None,
            peers: Vec::new(),
            limits: confer_protocol::Limits::default(),
        }
    }

    /// A node on loopback with OS-assigned ports and no API: what tests and the demo use.
    pub fn loopback(data_dir: impl Into<PathBuf>) -> Config {
        let mut config = Config::new(data_dir);
        config.listen = vec![loopback_tcp()];
        config.api = None;
        config.sync_interval = Duration::from_secs(2);
        config.max_redial_backoff = Duration::from_secs(2);
        config
    }

    /// Checks what cannot be expressed in the types: an API on an address other than
    /// loopback needs `api_insecure`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(addr) = self.api {
            if !is_loopback(addr.ip()) && !self.api_insecure {
                return Err(ConfigError::ApiNotLoopback(addr));
            }
        }
        if let Some(ui) = &self.ui {
            if !is_loopback(ui.addr.ip()) && ui.tls.is_none() && !self.ui_insecure {
                return Err(ConfigError::UiNotLoopback(ui.addr));
            }
        }
        Ok(())
    }

    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("confer.redb")
    }

    pub fn api_file(&self) -> PathBuf {
        self.data_dir.join("api.json")
    }
}

/// Why a [`Config`] may not start a node. Explained to people by
/// [`crate::i18n::config_error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the local API address {0} is not a loopback address (its token would travel in clear); use --api-insecure to allow it")]
    ApiNotLoopback(SocketAddr),
    #[error("the web UI address {0} is not a loopback address and has no HTTPS (passwords would travel in clear); give --ui-cert and --ui-key, or --ui-insecure")]
    UiNotLoopback(SocketAddr),
    #[error("the web UI's HTTPS needs both --ui-cert and --ui-key; {missing} is missing")]
    UiTlsIncomplete { missing: &'static str },
    #[error("--ui-cert and --ui-key are given but --ui is not")]
    UiTlsWithoutUi,
}

/// Whether `ip` reaches only this host: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z. The
/// unspecified address (0.0.0.0, ::) listens on every interface and is *not* loopback.
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

fn default_listen() -> Vec<Multiaddr> {
    let tcp = format!("/ip4/0.0.0.0/tcp/{DEFAULT_P2P_PORT}");
    let quic = format!("/ip4/0.0.0.0/udp/{DEFAULT_P2P_PORT}/quic-v1");
    [tcp, quic].iter().filter_map(|a| a.parse().ok()).collect()
}

fn loopback_tcp() -> Multiaddr {
    Multiaddr::from(std::net::Ipv4Addr::LOCALHOST).with(libp2p::multiaddr::Protocol::Tcp(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_api(api: &str, insecure: bool) -> Config {
        let mut config = Config::new("/nonexistent");
        config.api = Some(api.parse().expect("test address"));
        config.api_insecure = insecure;
        config
    }

    #[test]
    fn api_off_loopback_needs_api_insecure() {
        for api in [
            "127.0.0.1:4647",
            "127.8.9.10:0",
            "[::1]:4647",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert_eq!(with_api(api, false).validate(), Ok(()), "{api}");
        }
        for api in [
            "0.0.0.0:4647",
            "[::]:4647",
            "192.168.1.5:4647",
            "[2001:db8::1]:80",
            "[::ffff:10.0.0.1]:1",
        ] {
            let config = with_api(api, false);
            assert_eq!(
                config.validate(),
                Err(ConfigError::ApiNotLoopback(
                    api.parse().expect("test address")
                )),
                "{api}"
            );
            assert_eq!(
                with_api(api, true).validate(),
                Ok(()),
                "{api} with --api-insecure"
            );
        }
        let mut ui = Config::loopback("/nonexistent");
        ui.ui = Some(crate::ui::UiConfig {
            addr: "0.0.0.0:8080".parse().expect("test address"),
            tls: None,
        });
        assert!(matches!(ui.validate(), Err(ConfigError::UiNotLoopback(_))));
        ui.ui_insecure = true;
        assert_eq!(ui.validate(), Ok(()), "--ui-insecure");
        ui.ui_insecure = false;
        if let Some(u) = ui.ui.as_mut() {
            u.tls = Some(("cert.pem".into(), "key.pem".into()));
        }
        assert_eq!(ui.validate(), Ok(()), "HTTPS");
        if let Some(u) = ui.ui.as_mut() {
            u.tls = None;
            u.addr = "127.0.0.1:8080".parse().expect("test address");
        }
        assert_eq!(ui.validate(), Ok(()), "loopback");
        let mut no_api = Config::loopback("/nonexistent");
        no_api.api = None;
        assert_eq!(no_api.validate(), Ok(()));
        assert_eq!(
            Config::new("/nonexistent").validate(),
            Ok(()),
            "the defaults start"
        );
    }
}
