//! A node's validated configuration: what `run` (and the demo and tests) start a node with.

use std::net::SocketAddr;
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
}

impl Config {
    /// Defaults for a node with data in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            listen: default_listen(),
            api: Some(SocketAddr::from(([127, 0, 0, 1], DEFAULT_API_PORT))),
            sync_interval: Duration::from_secs(30),
            max_redial_backoff: Duration::from_secs(60),
            snapshot_every: 1000,
            relays: Vec::new(),
            mdns: false,
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

    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("confer.redb")
    }

    pub fn api_file(&self) -> PathBuf {
        self.data_dir.join("api.json")
    }
}

fn default_listen() -> Vec<Multiaddr> {
    let tcp = format!("/ip4/0.0.0.0/tcp/{DEFAULT_P2P_PORT}");
    let quic = format!("/ip4/0.0.0.0/udp/{DEFAULT_P2P_PORT}/quic-v1");
    [tcp, quic].iter().filter_map(|a| a.parse().ok()).collect()
}

fn loopback_tcp() -> Multiaddr {
    Multiaddr::from(std::net::Ipv4Addr::LOCALHOST).with(libp2p::multiaddr::Protocol::Tcp(0))
}
