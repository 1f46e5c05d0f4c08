//! Starting and stopping a node: load the identity and the redb file, rebuild the replica,
//! build the swarm, and run the event loop until asked to stop.
//!
//! `start` is what tests and the demo call (port 0, no API); `run` is what `confer run`
//! calls: it adds the local HTTP API and waits for a shutdown signal.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use confer_protocol::{Certificate, Entry, Genesis, Limits, Replica, Space};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::event_loop::EventLoop;
use crate::handle::NodeHandle;
use crate::identity::{self, IdentityError};
use crate::net::{self, NetConfig};
use crate::store::{Store, StoreError};

/// Why a node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum NodeFailure {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("cannot open {path}: {source} (is another `confer run` using this data directory?)")]
    OpenStore { path: String, source: StoreError },
    #[error("the data file is damaged: {0}")]
    Damaged(String),
    #[error("storage failed: {0}")]
    Storage(#[from] StoreError),
    #[error("network: {0}")]
    Net(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("API: {0}")]
    Api(String),
}

/// A node running in this process.
#[derive(Debug)]
pub struct RunningNode {
    pub handle: NodeHandle,
    task: JoinHandle<Result<(), NodeFailure>>,
}

impl RunningNode {
    /// Stops the node cleanly (snapshots written, store closed) and waits for it.
    pub async fn shutdown(self) -> Result<(), NodeFailure> {
        self.handle.request_shutdown().await;
        self.wait().await
    }

    /// Waits for the node to stop by itself (after a fatal error, or a shutdown request).
    pub async fn wait(self) -> Result<(), NodeFailure> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(NodeFailure::Net(format!("event loop panicked: {e}"))),
        }
    }

    /// Stops the node abruptly, without its shutdown path: what tests use to simulate a
    /// crash (the redb file is left as the last commit left it).
    pub async fn abort(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Starts a node from `config` and returns once it listens.
pub async fn start(config: Config) -> Result<RunningNode, NodeFailure> {
    let local = identity::load(&config.data_dir)?;
    let store_path = config.store_path();
    let store = Store::open(&store_path).map_err(|source| NodeFailure::OpenStore {
        path: store_path.display().to_string(),
        source,
    })?;
    let loaded = store.load()?;
    let remembered = loaded.peers.clone();
    let (replica, snapshot_counts) = restore(loaded, local.identity.clone())?;
    let keypair =
        net::keypair_from_seed(local.node_seed).map_err(|e| NodeFailure::Net(e.to_string()))?;
    let net_config = NetConfig {
        mdns: config.mdns,
        ..NetConfig::default()
    };
    let mut swarm =
        net::build_swarm(keypair, &net_config).map_err(|e| NodeFailure::Net(e.to_string()))?;
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| NodeFailure::Listen {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
    }

    let (tx, rx) = mpsc::channel(64);
    let mut event_loop = EventLoop::new(
        config,
        swarm,
        replica,
        store,
        local.region,
        rx,
        snapshot_counts,
    );
    for addr in remembered {
        match addr.parse() {
            Ok(addr) => event_loop.remember(addr),
            Err(e) => {
                tracing::warn!(%addr, error = %e, "ignoring a stored peer address that does not parse")
            }
        }
    }
    event_loop.wait_listening(Duration::from_secs(10)).await?;
    event_loop.listen_via_relays();
    let task = tokio::spawn(event_loop.run());
    Ok(RunningNode {
        handle: NodeHandle { tx },
        task,
    })
}

/// Rebuilds the replica from the redb file.
fn restore(
    loaded: crate::store::Loaded,
    identity: confer_protocol::Identity,
) -> Result<(Replica, Vec<(confer_protocol::SpaceId, u64)>), NodeFailure> {
    let mut replica = Replica::new(identity, Limits::default());
    for (_, bytes) in &loaded.certificates {
        match Certificate::decode(bytes) {
            Ok(cert) => replica.add_cert(cert),
            Err(e) => return Err(NodeFailure::Damaged(format!("stored certificate: {e}"))),
        }
    }
    let mut snapshot_counts = Vec::new();
    for stored in loaded.spaces {
        let genesis = Genesis::decode(&stored.genesis)
            .map_err(|e| NodeFailure::Damaged(format!("stored space: {e}")))?;
        let entries = stored
            .entries
            .into_iter()
            .map(Entry::decode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| NodeFailure::Damaged(format!("stored entry: {e}")))?;
        let snapshot = stored
            .snapshot
            .as_ref()
            .map(|s| (s.entry_count, s.doc.as_slice()));
        let space = Space::restore(genesis, entries, snapshot)
            .map_err(|e| NodeFailure::Damaged(format!("space {}: {e}", hex::encode(stored.id))))?;
        snapshot_counts.push((space.id(), stored.snapshot.map_or(0, |s| s.entry_count)));
        replica.insert_space(space);
    }
    for body in &loaded.trusted {
        replica.restore_trust(confer_protocol::BodyId(
            confer_protocol::PublicKey::from_bytes(*body),
        ));
    }
    for bytes in &loaded.invited {
        let genesis = Genesis::decode(bytes)
            .map_err(|e| NodeFailure::Damaged(format!("stored invitation: {e}")))?;
        replica.restore_invitation(genesis);
    }
    for evidence in loaded.evidence {
        let id = confer_protocol::SpaceId(evidence.space);
        if let Some(space) = replica.space_mut(&id) {
            space.mark_equivocator(confer_protocol::PublicKey::from_bytes(evidence.author));
        }
    }
    Ok((replica, snapshot_counts))
}

/// Runs a node with its local API until `shutdown` resolves, then stops it cleanly.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), NodeFailure> {
    let api_addr = config.api;
    let api_file = config.api_file();
    let node = start(config).await?;
    let api = match api_addr {
        Some(addr) => Some(
            crate::api::serve(addr, node.handle.clone(), &api_file)
                .await
                .map_err(|e| NodeFailure::Api(e.to_string()))?,
        ),
        None => None,
    };
    let handle = node.handle.clone();
    let waiter = tokio::spawn(node.wait());
    tokio::select! {
        _ = shutdown => {
            tracing::info!("shutting down");
            handle.request_shutdown().await;
        }
        _ = handle.tx.closed() => {}
    }
    let result = match waiter.await {
        Ok(result) => result,
        Err(e) => Err(NodeFailure::Net(format!("event loop panicked: {e}"))),
    };
    if let Some(api) = api {
        api.stop().await;
    }
    let _ = std::fs::remove_file(&api_file);
    result
}
