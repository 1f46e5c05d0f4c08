//! The flags of `confer run`, each with its environment variable (clap reads a flag over
//! its variable), turned into one layer of [`Settings`] for `run` to lay over the
//! configuration file's ([`crate::config::file`]). What a flag leaves unsaid stays `None`,
//! so the file or the default decides; switches take `--mdns` (or `--mdns=false`, or
//! `CONFER_MDNS=false`, to say no over a file that says yes).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

use crate::config::settings::Settings;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// libp2p listen address (repeatable). Default: TCP and QUIC on port 4646, all interfaces.
    #[arg(
        long,
        value_name = "MULTIADDR",
        env = "CONFER_LISTEN",
        value_delimiter = ','
    )]
    pub listen: Vec<Multiaddr>,
    /// Local API address (plain HTTP): loopback only, unless --api-insecure. Default:
    /// 127.0.0.1:4647.
    #[arg(long, value_name = "HOST:PORT", env = "CONFER_API")]
    pub api: Option<SocketAddr>,
    /// Allow --api on an address other than loopback, although the API token and data
    /// then travel unencrypted over the network.
    #[arg(long, value_name = "BOOL", env = "CONFER_API_INSECURE", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub api_insecure: Option<bool>,
    /// Be reachable through this relay too (its address, ending in /p2p/RELAY_ID;
    /// repeatable): for a node behind NAT or a firewall that partners cannot dial.
    #[arg(long = "relay", value_name = "MULTIADDR", env = "CONFER_RELAY", value_delimiter = ',', value_parser = node_address)]
    pub relays: Vec<Multiaddr>,
    /// Find and connect to confer nodes on the local network (mDNS). Off by default.
    #[arg(long, value_name = "BOOL", env = "CONFER_MDNS", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub mdns: Option<bool>,
    /// Remember this partner node and keep it connected, as `confer peer add` does (its
    /// address, ending in /p2p/PEER_ID; repeatable).
    #[arg(long = "peer", value_name = "MULTIADDR", env = "CONFER_PEER", value_delimiter = ',', value_parser = node_address)]
    pub peers: Vec<Multiaddr>,
    /// Serve the web UI on this address (none: no UI). Loopback, or HTTPS (--ui-cert,
    /// --ui-key), or --ui-insecure.
    #[arg(long, value_name = "HOST:PORT", env = "CONFER_UI")]
    pub ui: Option<SocketAddr>,
    /// PEM certificate chain for the UI's HTTPS.
    #[arg(long, value_name = "FILE", env = "CONFER_UI_CERT")]
    pub ui_cert: Option<PathBuf>,
    /// PEM private key for the UI's HTTPS.
    #[arg(long, value_name = "FILE", env = "CONFER_UI_KEY")]
    pub ui_key: Option<PathBuf>,
    /// Allow --ui on an address other than loopback without HTTPS, although passwords
    /// and session cookies then travel unencrypted.
    #[arg(long, value_name = "BOOL", env = "CONFER_UI_INSECURE", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ui_insecure: Option<bool>,
    /// Serve Prometheus metrics (GET /metrics, no token) on this address for a
    /// monitoring server. It exposes counts only, so any address is allowed. Default: off.
    #[arg(long, value_name = "HOST:PORT", env = "CONFER_METRICS")]
    pub metrics: Option<SocketAddr>,
}

/// A node's address: a multiaddr that ends in `/p2p/ID`.
fn node_address(text: &str) -> Result<Multiaddr, String> {
    let addr: Multiaddr = text.parse().map_err(|e| format!("{e}"))?;
    match addr.iter().last() {
        Some(Protocol::P2p(_)) => Ok(addr),
        _ => Err("the address must end in /p2p/ID".to_owned()),
    }
}

impl RunArgs {
    /// What the flags and their variables said.
    pub fn settings(self) -> Settings {
        let list = |l: Vec<Multiaddr>| (!l.is_empty()).then_some(l);
        Settings {
            data: None,
            listen: list(self.listen),
            api: self.api,
            api_insecure: self.api_insecure,
            relay: list(self.relays),
            mdns: self.mdns,
            peer: list(self.peers),
            ui: self.ui,
            ui_cert: self.ui_cert,
            ui_key: self.ui_key,
            ui_insecure: self.ui_insecure,
            metrics: self.metrics,
        }
    }
}
