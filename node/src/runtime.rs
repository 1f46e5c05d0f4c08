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
use crate::event_loop::{self, EventLoop};
use crate::evidence::EvidenceBook;
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
    #[error("storage failed: {0}")]
    Storage(#[from] StoreError),
    #[error("network: {0}")]
    Net(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("cannot listen on {addr}: {reason}; another process (another `confer run`?) holds that port: stop it or choose another with --listen")]
    PortTaken { addr: String, reason: String },
    #[error("API: {0}")]
    Api(String),
    #[error("cannot serve metrics on {addr} (--metrics): {source}")]
    Metrics {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
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
    let mut store = Store::open(&store_path).map_err(|source| NodeFailure::OpenStore {
        path: store_path.display().to_string(),
        source,
    })?;
    let loaded = store.load()?;
    let remembered = loaded.peers.clone();
    let Restored {
        mut replica,
        snapshot_counts,
        damaged,
        evidence,
    } = restore(
        loaded,
        local.identity.clone(),
        local.chain.clone(),
        &store,
        config.limits,
    )?;
    for cert in local.chain.iter().cloned() {
        // Already stored with the certificates; this makes it part of our Hello.
        let _ = replica.add_own_body_key(cert);
    }
    for (secret, cert) in local.members.iter().cloned() {
        replica.add_member(secret, cert).map_err(|e| {
            NodeFailure::Identity(IdentityError::Damaged {
                path: config.data_dir.join("members.json"),
                reason: e.to_string(),
            })
        })?;
    }
    for key in crate::event_loop::frozen_members(&store)? {
        replica.freeze_member(key);
    }
    for line in &damaged {
        tracing::warn!(
            "damaged data file: {}",
            confer_protocol::text::display_line(line)
        );
    }
    store.record_salvage(damaged);
    let keypair =
        net::keypair_from_seed(local.node_seed).map_err(|e| NodeFailure::Net(e.to_string()))?;
    let net_config = NetConfig {
        mdns: config.mdns,
        agent: crate::versions::agent(),
        ..NetConfig::default()
    };
    let mut swarm =
        net::build_swarm(keypair, &net_config).map_err(|e| NodeFailure::Net(e.to_string()))?;
    // libp2p listens with SO_REUSEPORT: refuse a port another process holds first.
    net::ports::check_tcp_ports_free(&config.listen).map_err(|taken| NodeFailure::PortTaken {
        addr: taken.addr.to_string(),
        reason: taken.error.to_string(),
    })?;
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| NodeFailure::Listen {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
    }

    let catch_up = event_loop::CatchUp::load(&store, &replica)?;
    let (tx, rx) = mpsc::channel(64);
    let mut event_loop = EventLoop::new(
        config,
        swarm,
        replica,
        store,
        local.region,
        rx,
        event_loop::Restored {
            snapshot_counts,
            evidence,
            catch_up,
            node_key: confer_protocol::SecretKey::from_seed(local.node_seed),
        },
    );
    for addr in remembered {
        match addr.parse() {
            Ok(addr) => {
                event_loop.remember(addr);
            }
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

/// Rebuilds the replica from the redb file, salvaging what one damaged record leaves
/// intact instead of refusing to start:
/// - a certificate or invitation that does not decode is skipped (the row stays; the same
///   record sent again by a peer overwrites it);
/// - a space whose genesis does not decode (or does not hash to its id) is removed from
///   the store, log and all: a member peer offers the genesis again when it next syncs;
/// - a log is kept up to the longest prefix that decodes and restores (after an entry
///   that does not decode, a gap, or a change automerge refuses), and the store is cut to
///   that prefix ([`Store::truncate_log`]); the rest comes back from peers through sync;
/// - if a certificate was damaged, a log is also cut before the first entry whose author
///   has no member certificate left here: peers send a member certificate only with an
///   author's first entries, so only fetching them again brings it back.
///
/// Each salvage is one line of the returned report (empty for a sound file). Only a
/// failure of the store itself (reading, or writing the repairs) stops the start.
fn restore(
    loaded: crate::store::Loaded,
    identity: confer_protocol::Identity,
    chain: Vec<Certificate>,
    store: &Store,
    limits: Limits,
) -> Result<Restored, NodeFailure> {
    let own_key = identity.member_cert.key;
    let mut replica = Replica::new(identity, limits);
    let mut damaged = Vec::new();
    // Body-key chains first (ours from identity.json, then stored ones), then what they
    // authorise, in whatever order the store holds them.
    let mut certs: Vec<Certificate> = chain;
    for (key, bytes) in &loaded.certificates {
        match Certificate::decode(bytes) {
            Ok(cert) => certs.push(cert),
            Err(e) => damaged.push(format!(
                "certificate record {}: did not decode ({e}) and was skipped; a peer sends it again with its holder's entries or hello",
                short(key)
            )),
        }
    }
    let unchained = replica.add_certs(certs);
    if !unchained.is_empty() {
        tracing::debug!(
            count = unchained.len(),
            "stored certificates whose signer no known body-key chain authorises were left out"
        );
    }
    let certs_damaged = !damaged.is_empty();
    // Revocations first: inserting a space applies them.
    for bytes in &loaded.revocations {
        match confer_protocol::revocation::Revocation::decode(bytes) {
            Ok(r) => replica.restore_revocation(r),
            Err(e) => damaged.push(format!(
                "revocation record: did not decode ({e}) and was skipped; its body's nodes send it again"
            )),
        }
    }
    let mut withdrawn: std::collections::HashMap<[u8; 32], Vec<confer_protocol::Entry>> =
        std::collections::HashMap::new();
    for (space, bytes) in &loaded.withdrawn {
        if let Ok(entry) = confer_protocol::Entry::decode(bytes.clone()) {
            withdrawn.entry(*space).or_default().push(entry);
        }
    }
    for (space, key, seq) in &loaded.own_tips {
        replica.restore_own_tip(
            confer_protocol::SpaceId(*space),
            confer_protocol::PublicKey::from_bytes(*key),
            *seq,
        );
    }
    let mut consents: std::collections::HashMap<
        [u8; 32],
        Vec<confer_protocol::membership::Consent>,
    > = std::collections::HashMap::new();
    for (space, bytes) in &loaded.consents {
        match confer_protocol::membership::Consent::decode(bytes) {
            Ok(c) => consents.entry(*space).or_default().push(c),
            Err(e) => damaged.push(format!(
                "membership consent record: did not decode ({e}) and was skipped; member peers send it again"
            )),
        }
    }
    let mut snapshot_counts = Vec::new();
    for stored in loaded.spaces {
        let salvage = Salvage {
            store,
            own_key,
            check_certs: certs_damaged,
        };
        if let Some((mut space, snapshot_count)) =
            salvage.space(stored, &mut replica, &mut damaged)?
        {
            if let Some(gone) = withdrawn.get(space.id().as_bytes()) {
                space.mark_withdrawn(gone);
            }
            // Applied when they were stored: the stored log already reflects them (checked
            // by `insert_space`, with the revocations).
            space.restore_consents(consents.remove(space.id().as_bytes()).unwrap_or_default());
            let id = space.id();
            let fx = replica.insert_space(space);
            if fx.persist.withdrawals.is_empty() {
                snapshot_counts.push((id, snapshot_count));
            } else {
                // A revocation the stored log did not reflect (it should, being written in
                // the same transaction): make the file agree now.
                store
                    .commit(&crate::event_loop::write_batch(&fx.persist, unix_now()))
                    .map_err(NodeFailure::Storage)?;
                damaged.push(format!(
                    "space {}: the stored log did not match the stored revocations and membership consents; entries were moved out of it or back into it",
                    id.fmt_short()
                ));
            }
        }
    }
    for body in &loaded.trusted {
        replica.restore_trust(confer_protocol::BodyId(
            confer_protocol::PublicKey::from_bytes(*body),
        ));
    }
    for (id, bytes) in &loaded.invited {
        match Genesis::decode(bytes) {
            Ok(genesis) if genesis.id().as_bytes() == id => {
                for consent in consents.remove(id).unwrap_or_default() {
                    replica.restore_invited_consent(genesis.id(), consent);
                }
                replica.restore_invitation(genesis)
            }
            Ok(_) => damaged.push(format!(
                "invitation to space {}: does not match the space's id and was skipped; the inviting peer offers it again when it next syncs",
                short(id)
            )),
            Err(e) => damaged.push(format!(
                "invitation to space {}: did not decode ({e}) and was skipped; the inviting peer offers it again when it next syncs",
                short(id)
            )),
        }
    }
    let mut held_evidence = Vec::with_capacity(loaded.evidence.len());
    for evidence in loaded.evidence {
        let id = confer_protocol::SpaceId(evidence.space);
        if let Some(space) = replica.space_mut(&id) {
            space.mark_equivocator(confer_protocol::PublicKey::from_bytes(evidence.author));
            held_evidence.push(evidence);
        }
    }
    let (evidence, unreadable) = EvidenceBook::restore(&held_evidence);
    damaged.extend(unreadable);
    Ok(Restored {
        replica,
        snapshot_counts,
        damaged,
        evidence,
    })
}

/// What [`restore`] rebuilt, and what it had to salvage.
struct Restored {
    replica: Replica,
    /// Entries each space's stored snapshot covers (0: none usable).
    snapshot_counts: Vec<(confer_protocol::SpaceId, u64)>,
    /// One line per salvaged record.
    damaged: Vec<String>,
    /// The equivocations of the spaces restored, as `status` lists them.
    evidence: EvidenceBook,
}

/// First 16 hex digits of a stored id, for the salvage report.
fn short(id: &[u8; 32]) -> String {
    format!("{}…", hex::encode(&id[..8]))
}

/// "1 entry", "3 entries".
fn count_entries(n: u64) -> String {
    if n == 1 {
        "1 entry".to_owned()
    } else {
        format!("{n} entries")
    }
}

/// Restores one stored space, keeping what can be kept.
struct Salvage<'a> {
    store: &'a Store,
    /// This node's member key: its own dropped entries are worth a warning.
    own_key: confer_protocol::PublicKey,
    /// Cut logs before an entry whose author has no member certificate here.
    check_certs: bool,
}

impl Salvage<'_> {
    /// The restored space and the entries its usable snapshot covers, or `None` if the
    /// space was removed. Appends a line to `damaged` for anything salvaged.
    fn space(
        &self,
        stored: crate::store::LoadedSpace,
        replica: &mut Replica,
        damaged: &mut Vec<String>,
    ) -> Result<Option<(Space, u64)>, NodeFailure> {
        let id = stored.id;
        let genesis = match Genesis::decode(&stored.genesis) {
            Ok(genesis) if genesis.id().as_bytes() == &id => Ok(genesis),
            Ok(_) => Err("does not match the space's id".to_owned()),
            Err(e) => Err(format!("did not decode ({e})")),
        };
        let genesis = match genesis {
            Ok(genesis) => genesis,
            Err(why) => {
                let removed = self.store.forget_space(&id)?;
                damaged.push(format!(
                    "space {}: its description (genesis) {why}, so its log cannot be read; the space and its {} stored were removed, and a member peer offers it again when it next syncs",
                    short(&id),
                    count_entries(removed),
                ));
                return Ok(None);
            }
        };
        // Its creator's certificate travels inside the genesis.
        replica.add_cert(genesis.creator.clone());

        let stored_len = stored.stored_len;
        let mut problems = stored.damage;
        let (mut entries, bad) = decode_prefix(&genesis, stored.entries, self.own_key);
        let mut own_dropped = bad.as_ref().map_or(0, |b| b.own_after);
        if let Some(bad) = bad {
            problems.push(bad.why);
        }
        if self.check_certs {
            let certs = replica.certs();
            if let Some(pos) = entries
                .iter()
                .position(|e| certs.member_cert(&e.author(), &e.body()).is_none())
            {
                problems.push(format!(
                    "the entry at position {pos} is by {}, whose member certificate is no longer here",
                    short(entries[pos].author().as_bytes())
                ));
                own_dropped += entries[pos..]
                    .iter()
                    .filter(|e| e.author() == self.own_key)
                    .count();
                entries.truncate(pos);
            }
        }
        let decoded = entries.len();
        let snapshot = stored
            .snapshot
            .as_ref()
            .filter(|s| s.entry_count <= decoded as u64)
            .map(|s| (s.entry_count, s.doc.as_slice()));
        let (space, snapshot_count) = match Space::restore(genesis.clone(), entries, snapshot) {
            Ok(space) => (space, snapshot.map_or(0, |(count, _)| count)),
            Err(e) => {
                problems.push(format!("the log did not restore ({e})"));
                let (space, own) = self.restore_prefix(&genesis, decoded, snapshot.is_some())?;
                own_dropped += own;
                (space, 0)
            }
        };
        if problems.is_empty() {
            return Ok(Some((space, snapshot_count)));
        }
        let keep = space.log().len() as u64;
        let removed = self.store.truncate_log(&id, keep)?;
        let dropped = stored_len.saturating_sub(keep).max(removed);
        let mut line = if dropped > 0 {
            format!(
                "space {}: {} from position {keep} {} dropped ({}); they will be fetched again from peers",
                short(&id),
                count_entries(dropped),
                if dropped == 1 { "was" } else { "were" },
                problems.join("; ")
            )
        } else {
            format!(
                "space {}: {}; every entry was kept, the snapshot will be written again",
                short(&id),
                problems.join("; ")
            )
        };
        if own_dropped > 0 {
            line.push_str(&format!(
                ". {} of them {} written by this node: do not edit this agenda here until a peer has sent them back, or this node's key signs a second entry at the same position (a fork)",
                own_dropped,
                if own_dropped == 1 { "was" } else { "were" },
            ));
        }
        damaged.push(line);
        Ok(Some((space, snapshot_count)))
    }

    /// The longest prefix of the first `decoded` entries that restores, read again from the
    /// store (the first attempt consumed them), and how many of the entries after it are
    /// this node's own. Tries the whole prefix without the snapshot first if there was one.
    fn restore_prefix(
        &self,
        genesis: &Genesis,
        decoded: usize,
        had_snapshot: bool,
    ) -> Result<(Space, usize), NodeFailure> {
        let id = genesis.id();
        let raw = self
            .store
            .load_space(id.as_bytes())?
            .map(|s| s.entries)
            .unwrap_or_default();
        let (mut entries, _) = decode_prefix(genesis, raw, self.own_key);
        entries.truncate(decoded);
        let attempt = |n: usize| Space::restore(genesis.clone(), entries[..n].to_vec(), None);
        let own_after = |n: usize| {
            entries[n..]
                .iter()
                .filter(|e| e.author() == self.own_key)
                .count()
        };
        if had_snapshot {
            if let Ok(space) = attempt(entries.len()) {
                return Ok((space, 0));
            }
        }
        // Restoring is monotone in the prefix (a prefix of a causal, gap-free log is one),
        // so the longest prefix that restores is found by bisection.
        let (mut good, mut bad) = (0, entries.len());
        while bad - good > 1 {
            let mid = good + (bad - good) / 2;
            if attempt(mid).is_ok() {
                good = mid;
            } else {
                bad = mid;
            }
        }
        let space = attempt(good).unwrap_or_else(|_| Space::new(genesis.clone()));
        Ok((space, own_after(good)))
    }
}

/// Why a stored log stops decoding, and how many of the entries after that point are
/// this node's own (those that still decode).
struct BadEntry {
    why: String,
    own_after: usize,
}

/// Decodes a stored log up to the first entry that does not decode or names another space.
fn decode_prefix(
    genesis: &Genesis,
    raw: Vec<Vec<u8>>,
    own_key: confer_protocol::PublicKey,
) -> (Vec<Entry>, Option<BadEntry>) {
    let mut entries = Vec::with_capacity(raw.len());
    let mut bad: Option<BadEntry> = None;
    for (pos, bytes) in raw.into_iter().enumerate() {
        let decoded = Entry::decode(bytes);
        if let Some(bad) = bad.as_mut() {
            if decoded.is_ok_and(|e| e.author() == own_key) {
                bad.own_after += 1;
            }
            continue;
        }
        match decoded {
            Ok(entry) if entry.space() == genesis.id() => entries.push(entry),
            Ok(entry) => {
                bad = Some(BadEntry {
                    why: format!("the entry at position {pos} belongs to another space"),
                    own_after: usize::from(entry.author() == own_key),
                })
            }
            Err(e) => {
                bad = Some(BadEntry {
                    why: format!("the entry at position {pos} did not decode: {e}"),
                    own_after: 0,
                })
            }
        }
    }
    (entries, bad)
}

/// Runs a node with its local API until `shutdown` resolves, then stops it cleanly.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), NodeFailure> {
    let api_addr = config.api;
    let api_file = config.api_file();
    let ui_config = config.ui.clone();
    let data_dir = config.data_dir.clone();
    let metrics_addr = config.metrics;
    let peers = config.peers.clone();
    let node = start(config).await?;
    for addr in peers {
        // As `confer peer add`: remembered durably, dialled, kept connected.
        if let Err(e) = node.handle.add_peer(addr.clone()).await {
            tracing::warn!(%addr, error = %e, "cannot remember the peer the configuration names");
        }
    }
    let api = match api_addr {
        Some(addr) => Some(
            crate::api::serve(addr, node.handle.clone(), &api_file)
                .await
                .map_err(|e| NodeFailure::Api(e.to_string()))?,
        ),
        None => None,
    };
    let ui = match &ui_config {
        Some(ui) => Some(
            crate::ui::serve(ui, node.handle.clone(), data_dir)
                .await
                .map_err(|e| NodeFailure::Api(format!("web UI: {e}")))?,
        ),
        None => None,
    };
    let metrics = match metrics_addr {
        Some(addr) => match crate::metrics::serve(addr, node.handle.clone()).await {
            Ok(server) => Some(server),
            Err(e) => {
                if let Some(api) = api {
                    api.stop().await;
                }
                let _ = std::fs::remove_file(&api_file);
                let _ = node.shutdown().await;
                return Err(NodeFailure::Metrics { addr, source: e });
            }
        },
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
    if let Some(ui) = ui {
        ui.stop().await;
    }
    if let Some(api) = api {
        api.stop().await;
    }
    if let Some(metrics) = metrics {
        metrics.stop().await;
    }
    let _ = std::fs::remove_file(&api_file);
    result
}
