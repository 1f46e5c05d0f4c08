//! `confer relay`: a relay (libp2p circuit relay v2) that any body can run for partners
//! behind NAT or a government firewall. It carries their Noise-encrypted streams and sees
//! nothing of what they say; it holds no space, no body and no member key, only its own node
//! key (`DIR/relay.key`, created 0600 on first start).

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::Multiaddr;
use rand::RngExt;

use crate::net;

/// Why a relay could not run.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("relay key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("network: {0}")]
    Net(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
}

/// A relay running in this process.
pub struct RunningRelay {
    /// Its listen addresses, each ending in `/p2p/RELAY_ID`.
    pub addresses: Vec<Multiaddr>,
    pub peer_id: libp2p::PeerId,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningRelay {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Loads the relay's key from `dir/relay.key`, creating it (0600) on first use.
pub fn relay_seed(dir: &Path) -> Result<[u8; 32], RelayError> {
    let path = dir.join("relay.key");
    let fail = |reason: String| RelayError::Key {
        path: path.clone(),
        reason,
    };
    match std::fs::read(&path) {
        Ok(bytes) => bytes
            .try_into()
            .map_err(|_| fail("not a 32-byte key".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
            let seed: [u8; 32] = rand::rng().random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&path).map_err(|e| fail(e.to_string()))?;
            file.write_all(&seed).map_err(|e| fail(e.to_string()))?;
            file.sync_all().map_err(|e| fail(e.to_string()))?;
            Ok(seed)
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Starts a relay listening on `listen`; returns once every listener reported its address.
pub async fn start(seed: [u8; 32], listen: &[Multiaddr]) -> Result<RunningRelay, RelayError> {
    let keypair = net::keypair_from_seed(seed).map_err(|e| RelayError::Net(e.to_string()))?;
    let mut swarm = net::build_relay_swarm(keypair).map_err(|e| RelayError::Net(e.to_string()))?;
    for addr in listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| RelayError::Listen {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
    }
    let peer_id = *swarm.local_peer_id();
    let mut addresses = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while addresses.len() < listen.len() {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .map_err(|_| RelayError::Listen {
                addr: format!("{listen:?}"),
                reason: "no listen address after 10 s".into(),
            })?;
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                // A relay only grants reservations once it knows an address to hand out;
                // its listen addresses are what it is run to be reached at.
                swarm.add_external_address(address.clone());
                addresses.push(address.with_p2p(peer_id).unwrap_or_else(|a| a));
            }
            SwarmEvent::ListenerError { error, .. } => {
                return Err(RelayError::Listen {
                    addr: format!("{listen:?}"),
                    reason: error.to_string(),
                })
            }
            _ => {}
        }
    }
    // It also learns the address the nodes that use it see (identify), e.g. behind a
    // port forward.
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                event = swarm.select_next_some() => match event {
                    SwarmEvent::Behaviour(net::RelayBehaviourEvent::Identify(
                        libp2p::identify::Event::Received { info, .. },
                    )) => {
                        swarm.add_external_address(info.observed_addr);
                    }
                    SwarmEvent::Behaviour(net::RelayBehaviourEvent::Relay(event)) => {
                        tracing::debug!(?event, "relay");
                    }
                    _ => {}
                },
            }
        }
    });
    Ok(RunningRelay {
        addresses,
        peer_id,
        stop,
        task,
    })
}

/// Runs a relay until `shutdown` resolves (the CLI's `confer relay`).
pub async fn run(
    dir: &Path,
    listen: &[Multiaddr],
    shutdown: impl Future<Output = ()>,
    announce: impl FnOnce(&RunningRelay),
) -> Result<(), RelayError> {
    let relay = start(relay_seed(dir)?, listen).await?;
    announce(&relay);
    shutdown.await;
    relay.stop().await;
    Ok(())
}
