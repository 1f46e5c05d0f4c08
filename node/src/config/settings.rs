//! What `confer run` may be told, from wherever it was told: the command line, the
//! environment (clap reads both into one [`Settings`], a flag over its variable), and the
//! configuration file ([`super::file`]). Every field is optional: `None` means "not said
//! here". [`Settings::over`] lays one layer over a lower one, and
//! [`Settings::into_config`] fills what no layer said with the defaults of
//! [`Config::new`] and checks the result ([`Config::validate`]). So the precedence —
//! flags > environment > file > defaults — is decided in this one place.

use std::net::SocketAddr;
use std::path::PathBuf;

use libp2p::Multiaddr;

use super::{Config, ConfigError};

/// One layer of settings for `confer run`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The data directory.
    pub data: Option<PathBuf>,
    /// libp2p listen addresses (a layer that names any replaces the lower layer's list).
    pub listen: Option<Vec<Multiaddr>>,
    /// The local API's address.
    pub api: Option<SocketAddr>,
    pub api_insecure: Option<bool>,
    /// Relays to be reachable through.
    pub relay: Option<Vec<Multiaddr>>,
    pub mdns: Option<bool>,
    /// Peers to remember and keep connected, as `peer add` does (each ending in /p2p/ID).
    pub peer: Option<Vec<Multiaddr>>,
    /// The web UI's address, certificate, key, and whether it may go off loopback in clear.
    pub ui: Option<SocketAddr>,
    pub ui_cert: Option<PathBuf>,
    pub ui_key: Option<PathBuf>,
    pub ui_insecure: Option<bool>,
    /// The metrics listener's address.
    pub metrics: Option<SocketAddr>,
}

impl Settings {
    /// `self` where it says something, else `lower`.
    pub fn over(self, lower: Settings) -> Settings {
        Settings {
            data: self.data.or(lower.data),
            listen: self.listen.or(lower.listen),
            api: self.api.or(lower.api),
            api_insecure: self.api_insecure.or(lower.api_insecure),
            relay: self.relay.or(lower.relay),
            mdns: self.mdns.or(lower.mdns),
            peer: self.peer.or(lower.peer),
            ui: self.ui.or(lower.ui),
            ui_cert: self.ui_cert.or(lower.ui_cert),
            ui_key: self.ui_key.or(lower.ui_key),
            ui_insecure: self.ui_insecure.or(lower.ui_insecure),
            metrics: self.metrics.or(lower.metrics),
        }
    }

    /// The configuration these settings start a node with, data in `data` (the caller
    /// resolves it, since every command needs it, from `self.data` or the default
    /// directory); checked.
    pub fn into_config(self, data: PathBuf) -> Result<Config, ConfigError> {
        let mut config = Config::new(data);
        if let Some(listen) = self.listen.filter(|l| !l.is_empty()) {
            config.listen = listen;
        }
        if let Some(api) = self.api {
            config.api = Some(api);
        }
        config.api_insecure = self.api_insecure.unwrap_or(false);
        config.relays = self.relay.unwrap_or_default();
        config.mdns = self.mdns.unwrap_or(false);
        config.peers = self.peer.unwrap_or_default();
        let tls = match (self.ui_cert, self.ui_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::UiTlsIncomplete { missing: "ui-key" }),
            (None, Some(_)) => return Err(ConfigError::UiTlsIncomplete { missing: "ui-cert" }),
        };
        config.ui = match (self.ui, tls) {
            (Some(addr), tls) => Some(crate::ui::UiConfig { addr, tls }),
            (None, Some(_)) => return Err(ConfigError::UiTlsWithoutUi),
            (None, None) => None,
        };
        config.ui_insecure = self.ui_insecure.unwrap_or(false);
        config.metrics = self.metrics;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("test address")
    }

    fn multi(s: &str) -> Multiaddr {
        s.parse().expect("test multiaddr")
    }

    #[test]
    fn a_higher_layer_wins_field_by_field_and_lists_replace_whole() {
        let file = Settings {
            data: Some("/var/lib/confer".into()),
            listen: Some(vec![multi("/ip4/0.0.0.0/tcp/4646")]),
            api: Some(addr("127.0.0.1:5000")),
            mdns: Some(true),
            relay: Some(vec![multi("/ip4/10.0.0.1/tcp/4646")]),
            metrics: Some(addr("0.0.0.0:9646")),
            ..Settings::default()
        };
        let environment = Settings {
            api: Some(addr("127.0.0.1:6000")),
            mdns: Some(false),
            ..Settings::default()
        };
        let flags = Settings {
            api: Some(addr("127.0.0.1:7000")),
            listen: Some(vec![multi("/ip4/127.0.0.1/tcp/0")]),
            ..Settings::default()
        };
        let merged = flags.over(environment.over(file));
        assert_eq!(merged.api, Some(addr("127.0.0.1:7000")), "the flag wins");
        assert_eq!(merged.mdns, Some(false), "the environment beats the file");
        assert_eq!(
            merged.data,
            Some("/var/lib/confer".into()),
            "the file fills the rest"
        );
        assert_eq!(merged.listen, Some(vec![multi("/ip4/127.0.0.1/tcp/0")]));
        assert_eq!(merged.metrics, Some(addr("0.0.0.0:9646")));

        let config = merged.into_config("/d".into()).expect("valid");
        assert_eq!(config.api, Some(addr("127.0.0.1:7000")));
        assert!(!config.mdns);
        assert_eq!(config.listen, vec![multi("/ip4/127.0.0.1/tcp/0")]);
        assert_eq!(config.relays, vec![multi("/ip4/10.0.0.1/tcp/4646")]);
        assert_eq!(config.metrics, Some(addr("0.0.0.0:9646")));
    }

    #[test]
    fn what_nobody_said_is_the_default() {
        let config = Settings::default()
            .into_config("/d".into())
            .expect("defaults start");
        let defaults = Config::new("/d");
        assert_eq!(config.listen, defaults.listen);
        assert_eq!(config.api, defaults.api);
        assert_eq!(config.relays, defaults.relays);
        assert_eq!(config.mdns, defaults.mdns);
        assert!(config.peers.is_empty() && config.ui.is_none() && config.metrics.is_none());
        // An empty list of listen addresses is not "listen nowhere".
        let config = Settings {
            listen: Some(Vec::new()),
            ..Settings::default()
        }
        .into_config("/d".into())
        .expect("valid");
        assert_eq!(config.listen, defaults.listen);
    }

    #[test]
    fn the_merged_settings_are_checked() {
        let off_loopback = Settings {
            api: Some(addr("0.0.0.0:4647")),
            ..Settings::default()
        };
        assert!(matches!(
            off_loopback.clone().into_config("/d".into()),
            Err(ConfigError::ApiNotLoopback(_))
        ));
        // The file says the API may leave loopback; the flag moves it there.
        let file = Settings {
            api_insecure: Some(true),
            ..Settings::default()
        };
        assert!(off_loopback.over(file).into_config("/d".into()).is_ok());

        let half_tls = Settings {
            ui: Some(addr("127.0.0.1:8080")),
            ui_cert: Some("cert.pem".into()),
            ..Settings::default()
        };
        assert_eq!(
            half_tls.into_config("/d".into()).err(),
            Some(ConfigError::UiTlsIncomplete { missing: "ui-key" })
        );
        let tls_no_ui = Settings {
            ui_cert: Some("cert.pem".into()),
            ui_key: Some("key.pem".into()),
            ..Settings::default()
        };
        assert_eq!(
            tls_no_ui.clone().into_config("/d".into()).err(),
            Some(ConfigError::UiTlsWithoutUi)
        );
        // The UI's address from the file, its certificate from the command line.
        let file = Settings {
            ui: Some(addr("0.0.0.0:8443")),
            ..Settings::default()
        };
        let config = tls_no_ui
            .over(file)
            .into_config("/d".into())
            .expect("HTTPS");
        assert!(config.ui.is_some_and(|ui| ui.tls.is_some()));
    }
}
