//! The event loop: the one task that owns the swarm, the replica and the store.
//!
//! Every protocol event goes through the replica, and its effects are carried out in one
//! order: persist durably, then answer, then send. A storage failure stops the node
//! rather than let memory and disk disagree. Messages from peers that do not decode are
//! dropped with a warning naming the peer.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use confer_protocol::model::history::HistoryBook;
use confer_protocol::model::record_book::RecordBook;
use confer_protocol::model::{
    read_title, read_view_kept, read_view_kept_where, AgendaEdit, ModelAction, ModelView,
};
use confer_protocol::sync::{MessageError, MESSAGE_VERSION};
use confer_protocol::text::display_line;
use confer_protocol::{
    BodyId, Effects, Event, Message, PeerKey, PublicKey, Replica, ReplicaError, Sent, Space,
    SpaceId, SpaceKind,
};
use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm};
use rand::RngExt;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::evidence::EvidenceBook;
use crate::handle::{Command, NodeError};
use crate::net::{self, Behaviour, BehaviourEvent, Gate};
use crate::runtime::{unix_now, unix_now_ms, NodeFailure};
use crate::store::{self, Store, WriteBatch};

mod catch_up;
mod clock;
mod delivery;
mod last_sync;
mod members;
mod membership;
mod offline;
mod ops;
mod outbox;
mod peers;
mod progress;
mod record_views;
mod reverify;
use crate::views::{
    AgendaSummary, AgendaView, BodyView, ForeignUseView, LastSyncView, PeerView, RecordView,
    SpaceView, StatusView, TrafficView,
};
pub(crate) use catch_up::{catch_up_mark, CatchUp};
pub(crate) use members::frozen_members;
pub use peers::Added;
use record_views::Attributions;

const HOUSEKEEPING: Duration = Duration::from_millis(500);
/// How long to wait before listening through a relay again after it failed.
const RELAY_RETRY: Duration = Duration::from_secs(30);
/// Messages at least this large are decoded on a blocking thread, not on the event loop.
const DECODE_INLINE_MAX: usize = 64 * 1024;
pub(crate) struct EventLoop {
    config: Config,
    swarm: Swarm<Behaviour>,
    replica: Replica,
    store: Store,
    region: String,
    commands: mpsc::Receiver<Command>,
    /// Requests held back so that no peer has more than its share in flight.
    outbox: outbox::Outbox<OutboundRequestId>,
    peer_ids: HashMap<PeerKey, PeerId>,
    /// The open connections to each peer and the address each goes to, as this node sees
    /// it (a relayed one ends in `/p2p-circuit/p2p/PEER`): shown in `status`.
    connections: HashMap<PeerId, Vec<(ConnectionId, Multiaddr)>>,
    listen: Vec<Multiaddr>,
    remembered: BTreeMap<PeerId, peers::Remembered>,
    snapshot_counts: HashMap<SpaceId, u64>,
    traffic: TrafficView,
    waiters: Vec<Waiter>,
    gate: Arc<Gate>,
    /// Connected peers that have not proved their body yet, and since when.
    unproven: HashMap<PeerId, Instant>,
    decoded_tx: mpsc::Sender<Decoded>,
    decoded_rx: mpsc::Receiver<Decoded>,
    /// Listeners through relays, and relays to listen through again (after a failure).
    relay_listeners: HashMap<ListenerId, Multiaddr>,
    relay_retry: Vec<(Instant, Multiaddr)>,
    /// The equivocations this node holds evidence of (the entries stay in the store).
    evidence: EvidenceBook,
    /// Entries by this node's own member keys that it did not sign, since start (shown
    /// in `status`; the log has every one).
    foreign_use: Vec<ForeignUseView>,
    /// The entries `agenda show` has checked again since start.
    reverified: reverify::Reverified,
    /// A restored store's spaces that take no local edits yet.
    catch_up: CatchUp,
    /// How far each large pull from a peer has come (`status`, the log).
    progress: progress::Progress,
    /// What connected peers said of their clocks.
    clocks: clock::Clocks,
    /// This node's key: it signs sync files.
    node_key: confer_protocol::SecretKey,
    /// What each connected peer announced of its software (identify's agent string).
    agents: HashMap<PeerId, String>,
    /// Refusals of spaces by member bodies' nodes (`agenda show`, `status`).
    delivery: delivery::DeliveryBook,
    /// When a sync exchange with each partner peer last completed (`status`).
    last_sync: last_sync::LastSync,
    /// Spaces whose stored state changed, for the web UI's live pages (`Command::Subscribe`).
    changes: tokio::sync::broadcast::Sender<SpaceId>,
    /// Each space's history as far as it was last asked for (`Command::History`).
    histories: HashMap<SpaceId, HistoryBook>,
    /// Each space's records as last read (`Command::Read`, `Command::ShowAgenda`).
    record_books: HashMap<SpaceId, RecordBook>,
    /// Spaces loaded at start whose records are not read yet: one is read per housekeeping
    /// tick, so that the first view of each after a start is not a read of every record.
    unread: Vec<SpaceId>,
}

/// Most foreign-use alerts `status` keeps (one per space and key).
const MAX_FOREIGN_USE_ALERTS: usize = 64;

/// What start-up read from the store for the event loop, besides the replica.
pub(crate) struct Restored {
    /// Entries each space's stored snapshot covers (0: none usable).
    pub(crate) snapshot_counts: Vec<(SpaceId, u64)>,
    /// The equivocations the store holds evidence of.
    pub(crate) evidence: EvidenceBook,
    /// What a restored store still waits for.
    pub(crate) catch_up: CatchUp,
    /// This node's key, which signs the sync files it exports.
    pub(crate) node_key: confer_protocol::SecretKey,
}

/// A message from a peer, decoded off the event loop, and where its answer goes.
struct Decoded {
    peer: PeerId,
    key: PeerKey,
    len: usize,
    origin: Origin,
    message: Result<Message, MessageError>,
}

enum Origin {
    Request(ResponseChannel<Vec<u8>>),
    Response(OutboundRequestId),
}

/// A `wait_for` request: answered once the space holds `author` up to `seq`.
struct Waiter {
    space: SpaceId,
    author: PublicKey,
    seq: u64,
    reply: tokio::sync::oneshot::Sender<Result<(), NodeError>>,
}

impl EventLoop {
    pub(crate) fn new(
        config: Config,
        swarm: Swarm<Behaviour>,
        replica: Replica,
        store: Store,
        region: String,
        commands: mpsc::Receiver<Command>,
        restored: Restored,
    ) -> EventLoop {
        let Restored {
            snapshot_counts,
            evidence,
            catch_up,
            node_key,
        } = restored;
        let gate = swarm.behaviour().sync.gate().clone();
        let (decoded_tx, decoded_rx) = mpsc::channel(256);
        EventLoop {
            config,
            swarm,
            replica,
            store,
            region,
            commands,
            outbox: outbox::Outbox::default(),
            peer_ids: HashMap::new(),
            connections: HashMap::new(),
            listen: Vec::new(),
            remembered: BTreeMap::new(),
            snapshot_counts: snapshot_counts.into_iter().collect(),
            traffic: TrafficView::default(),
            waiters: Vec::new(),
            gate,
            unproven: HashMap::new(),
            decoded_tx,
            decoded_rx,
            relay_listeners: HashMap::new(),
            relay_retry: Vec::new(),
            evidence,
            foreign_use: Vec::new(),
            reverified: reverify::Reverified::default(),
            catch_up,
            progress: progress::Progress::default(),
            clocks: clock::Clocks::default(),
            node_key,
            agents: HashMap::new(),
            delivery: delivery::DeliveryBook::default(),
            last_sync: last_sync::LastSync::default(),
            changes: tokio::sync::broadcast::channel(256).0,
            histories: HashMap::new(),
            record_books: HashMap::new(),
            unread: Vec::new(),
        }
    }

    /// Checks every stored agenda's signatures again once, off the loop, so that the first
    /// `agenda show` after a start does not wait for it; a failure is logged and shown there.
    fn reverify_in_background(&self) {
        let spaces: Vec<(SpaceId, Vec<confer_protocol::Entry>)> = self
            .replica
            .spaces()
            .filter(|s| s.genesis().kind == SpaceKind::Agenda)
            .map(|s| (s.id(), self.reverified.unchecked(s.id(), s.log())))
            .collect();
        let reverified = self.reverified.clone();
        tokio::task::spawn_blocking(move || {
            for (id, entries) in spaces {
                let failed = reverified.check(id, &entries);
                if !failed.is_empty() {
                    tracing::error!(space = %id, failed = failed.len(), "stored entries whose signature does not verify");
                }
            }
        });
    }

    /// Listens through every configured relay (`RELAY/p2p-circuit`): the relay client dials
    /// the relay and reserves a slot; the circuit address then shows among the listen
    /// addresses. A relay that is down is retried, never fatal.
    pub(crate) fn listen_via_relays(&mut self) {
        for relay in self.config.relays.clone() {
            self.listen_via(relay);
        }
    }

    fn listen_via(&mut self, relay: Multiaddr) {
        let circuit = relay.clone().with(Protocol::P2pCircuit);
        match self.swarm.listen_on(circuit) {
            Ok(id) => {
                self.relay_listeners.insert(id, relay);
            }
            Err(e) => {
                tracing::warn!(relay = %relay, error = %e, "cannot listen through relay; retrying");
                self.relay_retry.push((Instant::now() + RELAY_RETRY, relay));
            }
        }
    }

    fn retry_relays(&mut self) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.relay_retry)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.relay_retry = later;
        for (_, relay) in due {
            self.listen_via(relay);
        }
    }

    /// Drives the swarm until every listener reported its address.
    pub(crate) async fn wait_listening(&mut self, limit: Duration) -> Result<(), NodeFailure> {
        let deadline = tokio::time::Instant::now() + limit;
        while self.listen.len() < self.config.listen.len() {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .map_err(|_| NodeFailure::Listen {
                    addr: format!("{:?}", self.config.listen),
                    reason: "no listen address after 10 s".into(),
                })?;
            if let SwarmEvent::ListenerError { error, .. }
            | SwarmEvent::ListenerClosed {
                reason: Err(error), ..
            } = &event
            {
                return Err(NodeFailure::Listen {
                    addr: format!("{:?}", self.config.listen),
                    reason: error.to_string(),
                });
            }
            self.on_swarm_event(event)?;
        }
        Ok(())
    }

    pub(crate) async fn run(mut self) -> Result<(), NodeFailure> {
        let mut housekeeping = tokio::time::interval(HOUSEKEEPING);
        let mut anti_entropy = tokio::time::interval(self.config.sync_interval);
        anti_entropy.tick().await;
        tracing::info!(peer = %self.swarm.local_peer_id(), listen = ?self.listen, "node running");
        self.reverify_in_background();
        self.unread = self.replica.spaces().map(|s| s.id()).collect();
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command)?,
                },
                event = self.swarm.select_next_some() => self.on_swarm_event(event)?,
                Some(decoded) = self.decoded_rx.recv() => self.on_decoded(decoded)?,
                _ = housekeeping.tick() => {
                    self.redial();
                    self.forget_settled_refusals();
                    self.drop_silent_strangers();
                    self.retry_relays();
                    self.tend_kept_views();
                }
                _ = anti_entropy.tick() => {
                    let fx = self.replica.tick();
                    self.carry_out(fx)?;
                    self.snapshot_grown(false)?;
                }
            }
        }
        self.snapshot_grown(true)?;
        tracing::info!("node stopped");
        Ok(())
    }

    // ---- effects -------------------------------------------------------------------

    /// Persists, then sends. Storage failure is fatal.
    fn carry_out(&mut self, fx: Effects) -> Result<(), NodeFailure> {
        self.persist(&fx)?;
        // Every entry stored here was verified on arrival or signed here.
        self.reverified.verified_here(&fx.persist.entries);
        self.tally(&fx.events);
        self.log_events(&fx.events);
        self.open_gate(&fx);
        for (peer, message) in fx.send {
            self.send(peer, message);
        }
        self.drop_revoked_nodes(&fx.events);
        // A refusal ends when the body's node tells how far it holds the space, which
        // arrives as effects: forgotten now, not at the next tick, which may come after
        // that node has gone again (and then it would show as refused, not offline).
        self.forget_settled_refusals();
        self.trust_added_peers(&fx.events)
    }

    /// Disconnects peers whose node key their body revoked.
    fn drop_revoked_nodes(&mut self, events: &[Event]) {
        for event in events {
            if let Event::NodeRevoked { peer } = event {
                if let Some(id) = self.peer_ids.get(peer).copied() {
                    let _ = self.swarm.disconnect_peer_id(id);
                }
            }
        }
    }

    /// Peers that proved a body this node deals with (trusted, or a member of a space held
    /// here) may send full-size messages from now on.
    fn open_gate(&mut self, fx: &Effects) {
        let news = !fx.persist.trusted.is_empty()
            || !fx.persist.untrusted.is_empty()
            || !fx.persist.spaces.is_empty();
        let identified = fx
            .events
            .iter()
            .any(|e| matches!(e, Event::PeerIdentified { .. }));
        if !news && !identified {
            return;
        }
        for event in &fx.events {
            if let Event::PeerIdentified { peer, .. } = event {
                if let Some(id) = self.peer_ids.get(peer) {
                    self.unproven.remove(id);
                }
                self.ask_clock(peer);
            }
        }
        // Open for peers this node now deals with, close for those it no longer does.
        let changes: Vec<(PeerId, bool)> = self
            .replica
            .peers()
            .filter_map(|(key, body)| Some((key, body?.0)))
            .filter_map(|(key, body)| Some((*self.peer_ids.get(&key)?, self.deals_with(&body))))
            .filter(|(id, open)| self.gate.is_open(id) != *open)
            .collect();
        for (id, open) in changes {
            if open {
                self.gate.open(id);
            } else {
                self.gate.close(&id);
            }
        }
    }

    fn deals_with(&self, body: &BodyId) -> bool {
        self.replica.is_trusted(body) || self.replica.spaces().any(|s| s.has_had(body))
    }

    /// Disconnects peers that connected but did not prove a body in time (operator-added
    /// peers excepted: they are redialled anyway).
    fn drop_silent_strangers(&mut self) {
        let now = Instant::now();
        let late: Vec<PeerId> = self
            .unproven
            .iter()
            .filter(|(id, since)| {
                now.duration_since(**since) > self.config.hello_deadline
                    && !self.remembered.contains_key(id)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            tracing::warn!(peer = %id, "peer did not prove its body in time; disconnecting");
            self.unproven.remove(&id);
            let _ = self.swarm.disconnect_peer_id(id);
        }
    }

    /// Whether `peer` is a relay this node's operator named: one it listens through
    /// (`--relay`) or one in the circuit address of a peer added with `peer add`.
    fn is_relay(&self, peer: &PeerId) -> bool {
        self.config
            .relays
            .iter()
            .any(|r| matches!(r.iter().last(), Some(Protocol::P2p(id)) if id == *peer))
            || self
                .remembered
                .values()
                .any(|r| r.addrs.iter().any(|a| relay_of(a) == Some(*peer)))
    }

    /// A peer this node's operator added (`peer add`) proved its body: trust that body.
    fn trust_added_peers(&mut self, events: &[Event]) -> Result<(), NodeFailure> {
        for event in events {
            if let Event::PeerIdentified {
                peer,
                body,
                body_name,
            } = event
            {
                let added = self
                    .peer_ids
                    .get(peer)
                    .is_some_and(|id| self.remembered.contains_key(id));
                if added && !self.replica.is_trusted(body) {
                    tracing::info!(body = %body, body_name = %display_line(body_name), "trusting the body of an added peer");
                    let fx = self.replica.trust(*body);
                    self.carry_out(fx)?;
                }
            }
        }
        Ok(())
    }

    fn persist(&mut self, fx: &Effects) -> Result<(), NodeFailure> {
        let p = &fx.persist;
        if p.is_empty() {
            return Ok(());
        }
        let now = unix_now();
        let batch = write_batch(p, now);
        self.store.commit(&batch).map_err(|e| {
            tracing::error!(error = %e, "storage failed; stopping the node so memory and disk cannot disagree");
            NodeFailure::Storage(e)
        })?;
        for (space, _) in &p.withdrawals {
            // The log changed below the last snapshot's count (the store dropped it).
            self.snapshot_counts.remove(space);
        }
        for (space, eq) in &p.equivocations {
            self.evidence.record(*space, eq, now);
        }
        self.announce_changes(p);
        if !p.entries.is_empty() {
            self.snapshot_grown(false)?;
            self.answer_waiters();
        }
        Ok(())
    }

    /// Tells the subscribers (the web UI's live pages) which spaces changed; nobody
    /// listening is fine.
    fn announce_changes(&self, p: &confer_protocol::Persist) {
        if self.changes.receiver_count() == 0 {
            return;
        }
        let mut spaces: Vec<SpaceId> = p.entries.iter().map(|e| e.space()).collect();
        spaces.extend(p.spaces.iter().map(|g| g.id()));
        spaces.extend(p.invited.iter().map(|g| g.id()));
        spaces.extend(p.consents.iter().map(|(s, _)| *s));
        spaces.extend(p.withdrawals.iter().map(|(s, _)| *s));
        spaces.sort_unstable_by_key(|s| *s.as_bytes());
        spaces.dedup();
        for space in spaces {
            let _ = self.changes.send(space);
        }
    }

    fn held(&self, space: &SpaceId, author: &PublicKey, seq: u64) -> bool {
        self.replica
            .space(space)
            .is_some_and(|s| s.entry(author, seq).is_some())
    }

    fn answer_waiters(&mut self) {
        if self.waiters.is_empty() {
            return;
        }
        let waiters = std::mem::take(&mut self.waiters);
        for w in waiters {
            if self.held(&w.space, &w.author, w.seq) {
                let _ = w.reply.send(Ok(()));
            } else if !w.reply.is_closed() {
                self.waiters.push(w);
            }
        }
    }

    /// Writes a snapshot of every space that doubled (or grew by `snapshot_every`) since
    /// its last one, or, at shutdown, of every space that grew at all.
    fn snapshot_grown(&mut self, all: bool) -> Result<(), NodeFailure> {
        let mut batch = WriteBatch::default();
        for space in self.replica.spaces() {
            let last = self.snapshot_counts.get(&space.id()).copied().unwrap_or(0);
            let len = space.log().len() as u64;
            let due = len > last && (all || len - last >= self.config.snapshot_every.max(last));
            if due {
                let (count, doc) = space.snapshot();
                batch.snapshots.push(store::Snapshot {
                    space: *space.id().as_bytes(),
                    entry_count: count,
                    doc,
                });
            }
        }
        if batch.snapshots.is_empty() {
            return Ok(());
        }
        self.store.commit(&batch)?;
        for s in &batch.snapshots {
            self.snapshot_counts.insert(SpaceId(s.space), s.entry_count);
        }
        Ok(())
    }

    /// Counts what became of the entries peers sent (shown in `status`).
    fn tally(&mut self, events: &[Event]) {
        self.note_refusals(events);
        for event in events {
            let counts = &mut self.traffic.entries;
            match event {
                Event::Received {
                    accepted,
                    duplicates,
                    ..
                } => {
                    counts.accepted += *accepted as u64;
                    counts.duplicates += *duplicates as u64;
                }
                Event::EntriesRejected { count, code, .. } => {
                    counts.rejected += *count as u64;
                    *self
                        .traffic
                        .rejected_by_reason
                        .entry((*code).to_owned())
                        .or_default() += *count as u64;
                }
                Event::ForeignUseOfOwnKey {
                    peer,
                    space,
                    key,
                    seq,
                } => {
                    let (space, key) = (space.to_string(), key.to_string());
                    let peer = self.peer_label(peer);
                    let at = unix_now();
                    let alerts = &mut self.foreign_use;
                    if let Some(f) = alerts.iter_mut().find(|f| f.space == space && f.key == key) {
                        f.seq = f.seq.max(*seq);
                        f.peer = peer;
                        f.at = at;
                    } else if alerts.len() < MAX_FOREIGN_USE_ALERTS {
                        alerts.push(ForeignUseView {
                            space,
                            key,
                            seq: *seq,
                            peer,
                            at,
                        });
                    }
                }
                _ => {}
            }
        }
    }

    fn log_events(&self, events: &[Event]) {
        for event in events {
            match event {
                Event::PeerIdentified {
                    peer,
                    body,
                    body_name,
                } => {
                    tracing::info!(peer = %self.peer_label(peer), body = %body, body_name = %display_line(body_name), "peer proved its body")
                }
                Event::PeerRefused {
                    peer,
                    space,
                    reason,
                } => {
                    tracing::warn!(peer = %self.peer_label(peer), space = ?space, reason = %display_line(reason), "refused a message from peer")
                }
                Event::RefusedByPeer {
                    peer,
                    space,
                    reason,
                    detail,
                } => {
                    tracing::warn!(peer = %self.peer_label(peer), space = ?space, ?reason, detail = %display_line(detail), "peer refused our message")
                }
                Event::SpaceInvited {
                    peer,
                    space,
                    untrusted,
                } => {
                    let untrusted: Vec<String> =
                        untrusted.iter().map(ToString::to_string).collect();
                    tracing::warn!(peer = %self.peer_label(peer), space = %space, untrusted = ?untrusted, "invited to a space with bodies this node does not trust; waiting for `confer agenda accept`")
                }
                Event::SpaceJoined { peer, space } => {
                    tracing::info!(peer = %self.peer_label(peer), space = %space.fmt_short(), "joined a space")
                }
                Event::Received {
                    peer,
                    space,
                    accepted,
                    duplicates,
                    pending,
                } => {
                    tracing::debug!(peer = %self.peer_label(peer), space = %space.fmt_short(), accepted, duplicates, pending, "entries received")
                }
                Event::EntriesRejected {
                    peer,
                    space,
                    count,
                    reason,
                    ..
                } => {
                    tracing::warn!(peer = %self.peer_label(peer), space = %space.fmt_short(), count, reason = %display_line(reason), "rejected entries from peer")
                }
                Event::Equivocation {
                    peer,
                    space,
                    author,
                    seq,
                } => tracing::error!(
                    peer = %self.peer_label(peer), space = %space.fmt_short(), author = %author.fmt_short(), seq,
                    "EQUIVOCATION: a member key signed two different entries at one seq; both kept as evidence, key refused in this space"
                ),
                Event::ForeignUseOfOwnKey {
                    peer,
                    space,
                    key,
                    seq,
                } => tracing::error!(
                    peer = %self.peer_label(peer), space = %space.fmt_short(), key = %key.fmt_short(), seq,
                    "an entry signed with one of this node's own member keys arrived that this node did not sign: someone else holds a copy of the key (revoke it with `confer member revoke`), or this node was restored from an old backup"
                ),
                Event::NodeRevoked { peer } => tracing::warn!(
                    peer = %self.peer_label(peer),
                    "the peer's node key was revoked by its body; disconnecting"
                ),
                Event::LeavingAgain { space, change } => tracing::info!(
                    space = %space.fmt_short(), change = %hex::encode(change),
                    "this body's leave was displaced by another change on the same state; leaving again on the new state"
                ),
                Event::MembersChanged { space, members } => {
                    let members: Vec<String> = members.iter().map(|b| b.fmt_short()).collect();
                    tracing::info!(space = %space.fmt_short(), members = ?members, "the space's member bodies changed")
                }
                Event::Withdrawn { space, key, count } => tracing::warn!(
                    space = %space.fmt_short(), key = %key.fmt_short(), count,
                    "a revocation took entries out of a space (past the revoked key's cutoff, or built on them)"
                ),
            }
        }
    }

    fn peer_label(&self, peer: &PeerKey) -> String {
        self.peer_ids
            .get(peer)
            .map_or_else(|| peer.fmt_short(), PeerId::to_string)
    }

    fn send(&mut self, peer: PeerKey, message: Message) {
        if !self.peer_ids.contains_key(&peer) {
            tracing::debug!(peer = %peer.fmt_short(), kind = message.kind(), "peer gone; message not sent");
            self.replica.request_failed(&peer, Sent::of(&message));
            return;
        }
        if let Some(message) = self.outbox.admit(peer, message) {
            self.send_now(peer, message);
        }
    }

    /// A sync exchange with `peer` completed: remembered for `status` if it proved a body.
    fn synced_with(&mut self, peer: PeerId, key: &PeerKey) {
        if let Some(body) = self.replica.peer_body(key) {
            self.last_sync.completed(peer, body, unix_now());
        }
    }

    /// Request `id` ended: what it carried, if it was still in flight (not lost with its
    /// peer's connection already); the next one held back for that peer goes.
    fn request_ended(&mut self, id: OutboundRequestId) -> Option<(PeerKey, Sent)> {
        let ended = self.outbox.ended(&id)?;
        if let Some(next) = ended.next {
            self.send_now(ended.peer, next);
        }
        Some((ended.peer, ended.sent))
    }

    fn send_now(&mut self, peer: PeerKey, message: Message) {
        let Some(peer_id) = self.peer_ids.get(&peer).copied() else {
            self.replica.request_failed(&peer, Sent::of(&message));
            return;
        };
        let sent = Sent::of(&message);
        let bytes = message.encode();
        TrafficView::count(&mut self.traffic.sent, message.kind(), bytes.len());
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer_id, bytes);
        self.outbox.sent(id, peer, sent);
    }

    // ---- swarm ----------------------------------------------------------------------

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) -> Result<(), NodeFailure> {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                let full = address
                    .with_p2p(*self.swarm.local_peer_id())
                    .unwrap_or_else(|a| a);
                tracing::info!(address = %full, "listening");
                self.listen.push(full);
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                addresses,
                reason,
            } if self.relay_listeners.contains_key(&listener_id) => {
                // libp2p reports no ExpiredListenAddr for a closed listener's addresses.
                self.listen.retain(|a| {
                    !addresses
                        .iter()
                        .any(|gone| a.iter().zip(gone.iter()).all(|(x, y)| x == y))
                });
                if let Some(relay) = self.relay_listeners.remove(&listener_id) {
                    tracing::warn!(relay = %relay, reason = ?reason.err(), "relay listener closed; retrying");
                    self.relay_retry.push((Instant::now() + RELAY_RETRY, relay));
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen
                    .retain(|a| !a.iter().zip(address.iter()).all(|(x, y)| x == y));
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                endpoint,
                ..
            } => {
                self.connections
                    .entry(peer_id)
                    .or_default()
                    .push((connection_id, endpoint.get_remote_address().clone()));
                self.remembered_connected(&peer_id);
                let Some(key) =
                    net::peer_ed25519_key(&peer_id).map(confer_protocol::PublicKey::from_bytes)
                else {
                    tracing::warn!(peer = %peer_id, "peer id is not an Ed25519 key; closing");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return Ok(());
                };
                if self.is_relay(&peer_id) {
                    // Not a confer node: it owes no Hello, and dropping it as a silent
                    // stranger would close every circuit through it.
                    tracing::debug!(relay = %peer_id, "connected to a relay");
                    return Ok(());
                }
                if num_established.get() == 1 {
                    tracing::debug!(peer = %peer_id, address = %endpoint.get_remote_address(), "connected");
                    self.peer_ids.insert(key, peer_id);
                    self.unproven.insert(peer_id, Instant::now());
                    let fx = self.replica.connected(key);
                    self.carry_out(fx)?;
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } if num_established > 0 => {
                if let Some(open) = self.connections.get_mut(&peer_id) {
                    open.retain(|(id, _)| *id != connection_id);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                cause,
                ..
            } => {
                tracing::debug!(peer = %peer_id, cause = ?cause, "disconnected");
                self.connections.remove(&peer_id);
                self.agents.remove(&peer_id);
                self.gate.close(&peer_id);
                self.unproven.remove(&peer_id);
                if let Some(key) =
                    net::peer_ed25519_key(&peer_id).map(confer_protocol::PublicKey::from_bytes)
                {
                    self.replica.disconnected(&key);
                    self.progress.peer_gone(&key, Instant::now());
                    self.clocks.forget(&key);
                    self.peer_ids.remove(&key);
                    let gone = self.outbox.forget(&key);
                    for sent in gone.in_flight {
                        self.replica.request_failed(&key, sent);
                    }
                    for message in gone.waiting {
                        self.replica.request_failed(&key, Sent::of(&message));
                    }
                }
                self.remembered_disconnected(&peer_id);
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer_id),
                error,
                ..
            } => {
                self.dial_failed(&peer_id, &error);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync_event(event)?,
            SwarmEvent::Behaviour(BehaviourEvent::Clock(event)) => self.on_clock_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(libp2p::mdns::Event::Discovered(found))) => {
                // A node on the LAN: connect (it still has to prove a body; discovery
                // trusts nothing).
                for (peer, addr) in found {
                    if !self.swarm.is_connected(&peer) && peer != *self.swarm.local_peer_id() {
                        tracing::debug!(peer = %peer, address = %addr, "found on the local network");
                        let _ = self.swarm.dial(addr);
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::RelayClient(
                libp2p::relay::client::Event::ReservationReqAccepted { relay_peer_id, .. },
            )) => {
                tracing::info!(relay = %relay_peer_id, "reachable through a relay");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Dcutr(libp2p::dcutr::Event {
                remote_peer_id,
                result,
            })) => {
                tracing::debug!(peer = %remote_peer_id, direct = result.is_ok(), "hole punching");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(
                libp2p::identify::Event::Received { peer_id, info, .. },
            )) if self.swarm.is_connected(&peer_id) => {
                let software = crate::versions::software(&info.agent_version);
                if software.incompatible && !self.agents.contains_key(&peer_id) {
                    tracing::warn!(peer = %peer_id, agent = %display_line(&software.agent), "the peer speaks another sync protocol version; the two nodes cannot sync until one is upgraded");
                }
                self.agents.insert(peer_id, info.agent_version);
            }
            SwarmEvent::ExternalAddrConfirmed { address } => {
                tracing::info!(%address, "confirmed reachable from outside at");
            }
            _ => {}
        }
        Ok(())
    }

    fn on_sync_event(
        &mut self,
        event: request_response::Event<Vec<u8>, Vec<u8>>,
    ) -> Result<(), NodeFailure> {
        match event {
            request_response::Event::Message { peer, message, .. } => {
                let Some(key) =
                    net::peer_ed25519_key(&peer).map(confer_protocol::PublicKey::from_bytes)
                else {
                    return Ok(());
                };
                match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => {
                        // Before a peer proved its body, only its Hello is decoded: nothing
                        // else is verified or parsed for it (and the gate kept it small).
                        if self.replica.peer_body(&key).is_none() && !Message::is_hello(&request) {
                            let refusal = match request.first() {
                                // Likely an honest node of another release: say why, and
                                // tell the operator.
                                Some(&version) if version != MESSAGE_VERSION => {
                                    let detail = format!("unknown message version {version}; this node speaks version {MESSAGE_VERSION}");
                                    tracing::warn!(peer = %peer, reason = %detail, "refused a message before hello; disconnecting");
                                    Message::Refused {
                                        space: None,
                                        reason: confer_protocol::Refusal::Invalid,
                                        detail,
                                    }
                                }
                                _ => {
                                    tracing::debug!(peer = %peer, bytes = request.len(), "refused a request sent before hello; disconnecting");
                                    Message::Refused {
                                        space: None,
                                        reason: confer_protocol::Refusal::NotIdentified,
                                        detail: "send hello first".into(),
                                    }
                                }
                            };
                            let _ = self
                                .swarm
                                .behaviour_mut()
                                .sync
                                .send_response(channel, refusal.encode());
                            // An honest node sends nothing but Hello before its Hello was
                            // answered: drop this one at the next housekeeping round (after
                            // the refusal has gone out).
                            let long_ago = Instant::now()
                                .checked_sub(self.config.hello_deadline + HOUSEKEEPING)
                                .unwrap_or_else(Instant::now);
                            self.unproven.insert(peer, long_ago);
                            return Ok(());
                        }
                        self.decode(peer, key, request, Origin::Request(channel))?;
                    }
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => {
                        self.decode(peer, key, response, Origin::Response(request_id))?;
                    }
                }
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::warn!(peer = %peer, error = %error, "request to peer failed");
                self.traffic.requests_failed += 1;
                if let Some((key, sent)) = self.request_ended(request_id) {
                    self.replica.request_failed(&key, sent);
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::warn!(peer = %peer, error = %error, "dropped an inbound request");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
        Ok(())
    }

    /// Decodes a peer's message: small ones at once, large ones on a blocking thread (change
    /// parsing and certificate checks must not stall the loop), arriving in `on_decoded`.
    fn decode(
        &mut self,
        peer: PeerId,
        key: PeerKey,
        bytes: Vec<u8>,
        origin: Origin,
    ) -> Result<(), NodeFailure> {
        let len = bytes.len();
        if len < DECODE_INLINE_MAX {
            let message = Message::decode(&bytes);
            return self.on_decoded(Decoded {
                peer,
                key,
                len,
                origin,
                message,
            });
        }
        let tx = self.decoded_tx.clone();
        tokio::task::spawn_blocking(move || {
            let message = Message::decode(&bytes);
            let _ = tx.blocking_send(Decoded {
                peer,
                key,
                len,
                origin,
                message,
            });
        });
        Ok(())
    }

    fn on_decoded(&mut self, decoded: Decoded) -> Result<(), NodeFailure> {
        let Decoded {
            peer,
            key,
            len,
            origin,
            message,
        } = decoded;
        match (origin, message) {
            (Origin::Request(channel), Ok(msg)) => {
                TrafficView::count(&mut self.traffic.received, msg.kind(), len);
                let (response, mut fx) = self.replica.handle_request(key, msg);
                self.claim_own_entries(&mut fx);
                // Durable before acknowledged.
                self.persist(&fx)?;
                self.tally(&fx.events);
                self.log_events(&fx.events);
                self.open_gate(&fx);
                if last_sync::ends_exchange(&response) {
                    self.synced_with(peer, &key);
                }
                let bytes = response.encode();
                TrafficView::count(&mut self.traffic.sent, response.kind(), bytes.len());
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, bytes);
                for (peer, message) in fx.send {
                    self.send(peer, message);
                }
                self.drop_revoked_nodes(&fx.events);
                self.trust_added_peers(&fx.events)
            }
            (Origin::Request(channel), Err(e)) => {
                tracing::warn!(peer = %peer, reason = %display_line(&e.to_string()), bytes = len, "dropped a malformed request");
                let refusal = Message::Refused {
                    space: None,
                    reason: confer_protocol::Refusal::Invalid,
                    detail: e.to_string(),
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, refusal.encode());
                Ok(())
            }
            (Origin::Response(request_id), message) => {
                let sent = self.request_ended(request_id).map(|(_, s)| s);
                match message {
                    Ok(msg) => {
                        if let Some(sent) = sent {
                            self.replica.request_answered(&key, sent);
                        }
                        TrafficView::count(&mut self.traffic.received, msg.kind(), len);
                        if last_sync::ends_exchange(&msg) {
                            self.synced_with(peer, &key);
                        }
                        let finished = match &msg {
                            Message::SyncResponse {
                                space, more: false, ..
                            } => Some(*space),
                            _ => None,
                        };
                        let answer = progress::Answer::of(&msg, &self.replica);
                        let mut fx = self.replica.handle_response(key, msg);
                        self.claim_own_entries(&mut fx);
                        self.carry_out(fx)?;
                        if let Some(answer) = answer {
                            self.sync_answered(key, answer);
                        }
                        match (finished, self.replica.peer_body(&key)) {
                            (Some(space), Some(body)) => self.caught_up_with(space, body),
                            _ => Ok(()),
                        }
                    }
                    Err(e) => {
                        tracing::warn!(peer = %peer, reason = %display_line(&e.to_string()), bytes = len, "dropped a malformed response");
                        self.traffic.requests_failed += 1;
                        if let Some(sent) = sent {
                            self.replica.request_failed(&key, sent);
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    // ---- commands -------------------------------------------------------------------

    fn on_command(&mut self, command: Command) -> Result<(), NodeFailure> {
        match command {
            Command::Status(reply) => {
                let _ = reply.send(Ok(self.status()));
            }
            Command::AddPeer(addr, replace, reply) => match self.add_peer(addr, replace) {
                Ok(result) => {
                    let _ = reply.send(result);
                }
                Err(failure) => {
                    // Like every other storage failure: stop rather than run on with memory
                    // and disk disagreeing.
                    let _ = reply.send(Err(NodeError::Storage(failure.to_string())));
                    return Err(failure);
                }
            },
            Command::CreateAgenda {
                edit,
                with,
                author,
                reply,
            } => {
                let result = self.create_agenda(edit, with, author);
                let (result, fx) = match result {
                    Ok((id, fx)) => (Ok(id), Some(fx)),
                    Err(e) => (Err(e), None),
                };
                if let Some(fx) = fx {
                    self.carry_out(fx)?;
                }
                let _ = reply.send(result);
            }
            Command::OwnSpace {
                kind,
                create,
                reply,
            } => {
                let result = match self.own_space(kind) {
                    Some(id) => Ok(Some(id)),
                    None if create => self.create_own_space(kind).map(Some),
                    None => Ok(None),
                };
                let _ = reply.send(result);
            }
            Command::Apply {
                space,
                action,
                author,
                reply,
            } => {
                let result = self.apply(space, &action, author);
                let (result, fx) = match result {
                    Ok(fx) => (Ok(()), Some(fx)),
                    Err(e) => (Err(e), None),
                };
                if let Some(fx) = fx {
                    self.carry_out(fx)?;
                }
                let _ = reply.send(result);
            }
            Command::ListAgendas(reply) => {
                let mut list: Vec<AgendaSummary> = self
                    .replica
                    .spaces()
                    .filter(|s| s.genesis().kind == SpaceKind::Agenda)
                    .map(|s| AgendaSummary {
                        id: s.id().to_string(),
                        title: read_title(s, self.replica.certs()),
                        members: self
                            .bodies(&s.members().current.iter().copied().collect::<Vec<_>>()),
                        entries: s.log().len(),
                        invited: false,
                        untrusted: Vec::new(),
                    })
                    .collect();
                list.extend(self.replica.invitations().map(|g| AgendaSummary {
                    id: g.id().to_string(),
                    title: String::new(),
                    members: self.bodies(&self.replica.invitation_members(g)),
                    entries: 0,
                    invited: true,
                    untrusted: self.bodies(&self.replica.untrusted_invitation_members(g)),
                }));
                let _ = reply.send(Ok(list));
            }
            Command::Trust(body, reply) => {
                tracing::info!(body = %body, "the operator trusts a body");
                let fx = self.replica.trust(body);
                self.carry_out(fx)?;
                let _ = reply.send(Ok(()));
            }
            Command::Untrust(body, reply) => {
                if body == self.replica.identity().body() {
                    let _ = reply.send(Err(NodeError::BadInput(
                        "this node's own body cannot be untrusted".into(),
                    )));
                    return Ok(());
                }
                tracing::info!(body = %body, "the operator withdrew trust from a body");
                let fx = self.replica.untrust(&body);
                self.carry_out(fx)?;
                let _ = reply.send(Ok(()));
            }
            Command::RemovePeer(peer, reply) => {
                let result = self.forget_peer(peer)?;
                let _ = reply.send(result);
            }
            Command::AcceptAgenda(id, reply) => match self.replica.accept(&id) {
                Ok(fx) => {
                    tracing::info!(space = %id, "the operator accepted an invitation");
                    self.carry_out(fx)?;
                    let _ = reply.send(Ok(()));
                }
                Err(_) => {
                    let _ = reply.send(Err(NodeError::NotInvited(id.to_string())));
                }
            },
            Command::Read(id, reply) => {
                let result = self
                    .read(&id)
                    .ok_or_else(|| NodeError::UnknownAgenda(id.to_string()));
                let _ = reply.send(result);
            }
            Command::History(id, record, reply) => {
                let result = match self.replica.space(&id) {
                    Some(space) => {
                        // Kept per space: only entries new since the last request are read.
                        let book = self.histories.entry(id).or_default();
                        book.update(space);
                        Ok(book.items(self.replica.certs(), record.as_deref()))
                    }
                    None => Err(NodeError::UnknownAgenda(id.to_string())),
                };
                let _ = reply.send(result);
            }
            Command::Subscribe(reply) => {
                let _ = reply.send(Ok(self.changes.subscribe()));
            }
            Command::Certificates(reply) => {
                let _ = reply.send(Ok(self.replica.certs().clone()));
            }
            Command::ShowRecords(id, reply) => {
                let result = match (self.read(&id), self.replica.space(&id)) {
                    (Some(view), Some(space)) => {
                        let records = match view {
                            ModelView::Agenda(agenda) => agenda.records,
                            ModelView::Ledger(ledger) => ledger.records,
                        };
                        Ok(self.records_view(space, records))
                    }
                    _ => Err(NodeError::UnknownAgenda(id.to_string())),
                };
                let _ = reply.send(result);
            }
            Command::ShowAgenda(id, listed, reply) => {
                let agenda = self
                    .replica
                    .space(&id)
                    .filter(|s| s.genesis().kind == SpaceKind::Agenda);
                if agenda.is_none() {
                    let _ = reply.send(Err(NodeError::UnknownAgenda(id.to_string())));
                    return Ok(());
                }
                let read = match &listed {
                    Some(filter) => self.read_where(&id, filter),
                    None => self.read(&id).map(|model| {
                        let counts = model.records().iter().map(|(c, r)| (*c, r.len())).collect();
                        (model, counts)
                    }),
                };
                let (Some((model, counts)), Some(space)) = (read, self.replica.space(&id)) else {
                    let _ = reply.send(Err(NodeError::UnknownAgenda(id.to_string())));
                    return Ok(());
                };
                // Every signature not checked again since start is, on a blocking thread: a
                // large agenda takes a while and the loop keeps syncing meanwhile.
                let mut view = self.agenda_view(space, model, &counts, listed.as_ref());
                let total = space.log().len();
                let unchecked = self.reverified.unchecked(id, space.log());
                let reverified = self.reverified.clone();
                tokio::task::spawn_blocking(move || {
                    let failed = reverified.check(id, &unchecked);
                    view.signatures_verified = total - failed.len();
                    view.all_signatures_verified = failed.is_empty();
                    view.signatures_failed =
                        failed.iter().map(|(a, n)| format!("{a}:{n}")).collect();
                    let _ = reply.send(Ok(view));
                });
            }
            Command::MembershipOf(id, reply) => {
                let result = match self.replica.space(&id) {
                    Some(space) if space.genesis().kind == SpaceKind::Agenda => {
                        Ok(self.membership_view(space))
                    }
                    _ => Err(NodeError::UnknownAgenda(id.to_string())),
                };
                let _ = reply.send(result);
            }
            Command::Equivocations(id, reply) => {
                if self.replica.space(&id).is_none() {
                    let _ = reply.send(Err(NodeError::UnknownAgenda(id.to_string())));
                    return Ok(());
                }
                // A read: a failure is reported to the asker, nothing was changed.
                let result = match self.store.evidence(id.as_bytes()) {
                    Ok(rows) => Ok(EvidenceBook::served(&rows, &id, &self.replica)),
                    Err(e) => {
                        tracing::error!(error = %e, "reading equivocation evidence failed");
                        Err(NodeError::Storage(e.to_string()))
                    }
                };
                let _ = reply.send(result);
            }
            Command::WaitFor {
                space,
                author,
                seq,
                reply,
            } => {
                if self.held(&space, &author, seq) {
                    let _ = reply.send(Ok(()));
                } else {
                    self.waiters.push(Waiter {
                        space,
                        author,
                        seq,
                        reply,
                    });
                }
            }
            Command::Members(command) => self.on_member_command(command)?,
            Command::Membership(command) => {
                if let Some(command) = self.membership_allowed(command) {
                    self.on_membership_command(command)?
                }
            }
            Command::Ops(command) => self.on_ops_command(command)?,
            Command::Shutdown => {}
        }
        Ok(())
    }

    fn create_agenda(
        &mut self,
        edit: AgendaEdit,
        with: Vec<BodyId>,
        author: Option<PublicKey>,
    ) -> Result<(SpaceId, Effects), NodeError> {
        let needs_title = edit.title.is_none();
        let action = ModelAction::from(edit);
        action
            .validate()
            .map_err(|e| NodeError::BadInput(e.to_string()))?;
        if needs_title {
            return Err(NodeError::BadInput("an agenda needs a title".into()));
        }
        let me = self.replica.identity().body();
        for body in &with {
            if *body != me && !self.replica.is_trusted(body) {
                return Err(NodeError::UnknownBody(body.to_string()));
            }
        }
        let nonce: [u8; 16] = rand::rng().random();
        self.replica
            .create_space_as(
                author.as_ref(),
                SpaceKind::Agenda,
                &with,
                unix_now(),
                nonce,
                unix_now_ms(),
                |tx| action.apply(tx),
            )
            .map_err(|e| NodeError::BadInput(e.to_string()))
    }

    /// This body's own space of `kind`: the earliest made, if several nodes of the body
    /// each made one.
    fn own_space(&self, kind: SpaceKind) -> Option<SpaceId> {
        let me = self.replica.identity().body();
        self.replica
            .spaces()
            .filter(|s| s.genesis().kind == kind && s.genesis().members == [me])
            .min_by_key(|s| (s.genesis().created_at, s.id()))
            .map(Space::id)
    }

    fn create_own_space(&mut self, kind: SpaceKind) -> Result<SpaceId, NodeError> {
        let nonce: [u8; 16] = rand::rng().random();
        let (id, fx) = self
            .replica
            .create_space_as(None, kind, &[], unix_now(), nonce, unix_now_ms(), |tx| {
                use automerge::transaction::Transactable;
                tx.put(automerge::ROOT, "kind", "ledger").map(|_| ())
            })
            .map_err(|e| NodeError::BadInput(e.to_string()))?;
        self.carry_out(fx)
            .map_err(|e| NodeError::Storage(e.to_string()))?;
        tracing::info!(space = %id, ?kind, "made this body's own space");
        Ok(id)
    }

    /// The one write path: a model action applied to a space as a member key.
    fn apply(
        &mut self,
        space: SpaceId,
        action: &ModelAction,
        author: Option<PublicKey>,
    ) -> Result<Effects, NodeError> {
        self.refuse_while_catching_up(&space)?;
        let (_, fx) = self
            .replica
            .apply_as(author.as_ref(), &space, unix_now_ms(), action)
            .map_err(|e| match e {
                ReplicaError::UnknownSpace(id) => NodeError::UnknownAgenda(id.to_string()),
                ReplicaError::Model(e) => NodeError::Refused {
                    en: e.to_string(),
                    zh: e.zh(|name| crate::cli::field_label(crate::i18n::Lang::Zh, name)),
                },
                e => NodeError::BadInput(e.to_string()),
            })?;
        Ok(fx)
    }

    // ---- views ----------------------------------------------------------------------

    fn body_view(&self, body: &BodyId) -> BodyView {
        BodyView {
            id: body.to_string(),
            name: self.replica.certs().body_name(body).map(str::to_owned),
        }
    }

    fn bodies(&self, bodies: &[BodyId]) -> Vec<BodyView> {
        bodies.iter().map(|b| self.body_view(b)).collect()
    }

    fn status(&self) -> StatusView {
        let identity = self.replica.identity();
        let mut peers: Vec<PeerView> = self
            .replica
            .peers()
            .map(|(key, body)| PeerView {
                peer_id: self.peer_label(&key),
                addresses: self
                    .peer_ids
                    .get(&key)
                    .and_then(|id| self.connections.get(id))
                    .map(|open| open.iter().map(|(_, a)| a.to_string()).collect())
                    .unwrap_or_default(),
                trusted: body.is_some_and(|(id, _)| self.replica.is_trusted(&id)),
                software: self
                    .peer_ids
                    .get(&key)
                    .and_then(|id| self.agents.get(id))
                    .map(|agent| crate::versions::software(agent)),
                last_sync: self
                    .peer_ids
                    .get(&key)
                    .and_then(|id| self.last_sync.of_peer(id)),
                body: body.map(|(id, name)| BodyView {
                    id: id.to_string(),
                    name: Some(name.to_owned()),
                }),
                clock: self.clocks.reading(&key),
            })
            .collect();
        peers.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        StatusView {
            body: self.body_view(&identity.body()),
            region: self.region.clone(),
            member: self.member_view(&identity.member_cert),
            peer_id: self.swarm.local_peer_id().to_string(),
            listen: self.listen.iter().map(ToString::to_string).collect(),
            peers,
            remembered: self
                .remembered
                .values()
                .flat_map(|r| r.addrs.iter().map(ToString::to_string))
                .collect(),
            remembered_peers: self.remembered_views(),
            last_sync: self
                .last_sync
                .by_body()
                .into_iter()
                .map(|(body, at, peer)| LastSyncView {
                    body: self.body_view(&body),
                    at,
                    peer: peer.to_string(),
                })
                .collect(),
            spaces: self.replica.spaces().map(|s| self.space_view(s)).collect(),
            trusted: self
                .replica
                .trusted()
                .filter(|b| **b != identity.body())
                .map(|b| self.body_view(b))
                .collect(),
            traffic: TrafficView {
                requests_waiting: self.outbox.waiting(),
                ..self.traffic.clone()
            },
            certificates: self.replica.certs().len(),
            damaged: self.store.salvaged().to_vec(),
            foreign_use: self.foreign_use.clone(),
            equivocations: self.evidence.views(None, &self.replica),
            catch_up: self.catch_up_view().waiting,
            progress: self.progress.views(
                Instant::now(),
                |peer| self.peer_label(peer),
                |body| self.body_view(body),
            ),
            store_commits: self.store.commit_times(),
        }
    }

    fn space_view(&self, s: &Space) -> SpaceView {
        SpaceView {
            id: s.id().to_string(),
            kind: match s.genesis().kind {
                SpaceKind::Agenda => "agenda".into(),
                SpaceKind::Ledger => "ledger".into(),
            },
            title: read_title(s, self.replica.certs()),
            members: self.bodies(&s.members().current.iter().copied().collect::<Vec<_>>()),
            vector: s
                .vector()
                .0
                .iter()
                .map(|(a, n)| (a.to_string(), *n))
                .collect(),
            entries: s.log().len(),
            pending: s.pending_len(),
            equivocators: s.equivocators().iter().map(ToString::to_string).collect(),
            authors: s
                .vector()
                .0
                .iter()
                .map(|(a, n)| crate::views::AuthorCount {
                    author: a.to_string(),
                    body: s.author_body(a).map(|b| self.body_view(&b)),
                    entries: *n,
                })
                .collect(),
            delivery: self.delivery_views(s),
        }
    }

    /// A space's records, each value attributed, as people see them.
    fn records_view(
        &self,
        s: &Space,
        records: BTreeMap<&'static str, Vec<confer_protocol::model::RecordView>>,
    ) -> BTreeMap<String, Vec<RecordView>> {
        Attributions::new(s, self.replica.certs()).records(records)
    }

    /// Housekeeping of what views keep: reads one space loaded at start that no view has
    /// read yet (see `unread`), and drops what is kept of spaces this node no longer holds
    /// (left, or removed from).
    fn tend_kept_views(&mut self) {
        let replica = &self.replica;
        self.record_books
            .retain(|id, _| replica.space(id).is_some());
        self.histories.retain(|id, _| replica.space(id).is_some());
        while let Some(id) = self.unread.pop() {
            if !self.record_books.contains_key(&id) {
                let _ = self.read(&id);
                return;
            }
        }
    }

    /// [`Self::read`] listing only the records `filter` keeps (the others are not copied),
    /// with how many each collection holds in all.
    fn read_where(
        &mut self,
        id: &SpaceId,
        filter: &crate::views::RecordFilter,
    ) -> Option<(ModelView, BTreeMap<&'static str, usize>)> {
        let space = self.replica.space(id)?;
        let book = self.record_books.entry(*id).or_default();
        Some(read_view_kept_where(
            space,
            self.replica.certs(),
            book,
            |r| filter.keeps(r.collection, r),
        ))
    }

    /// The one read path: a space's document as the model shows it, its records kept per
    /// space between reads (only those written since are read again).
    fn read(&mut self, id: &SpaceId) -> Option<ModelView> {
        let space = self.replica.space(id)?;
        let book = self.record_books.entry(*id).or_default();
        Some(read_view_kept(space, self.replica.certs(), book))
    }

    /// An agenda as `agenda show` shows it; with `listed`, only the records it keeps (every
    /// collection counted all the same).
    fn agenda_view(
        &self,
        s: &Space,
        model: ModelView,
        counts: &BTreeMap<&'static str, usize>,
        listed: Option<&crate::views::RecordFilter>,
    ) -> AgendaView {
        // Taken apart so that every text moves into the view rather than being copied.
        let (fields, records, outcomes) = match model {
            ModelView::Agenda(agenda) => (agenda.fields, agenda.records, agenda.outcomes),
            ModelView::Ledger(ledger) => (Vec::new(), ledger.records, Vec::new()),
        };
        let record_counts = counts.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect();
        let mut attributions = Attributions::new(s, self.replica.certs());
        AgendaView {
            id: s.id().to_string(),
            created_by: self.body_view(&s.genesis().creator.body),
            created_at: s.genesis().created_at,
            members: self.bodies(&s.members().current.iter().copied().collect::<Vec<_>>()),
            fields: fields.into_iter().map(|f| attributions.field(f)).collect(),
            entries: s.log().len(),
            // Filled in by the caller, off the event loop.
            signatures_verified: 0,
            all_signatures_verified: false,
            signatures_failed: Vec::new(),
            equivocators: s.equivocators().iter().map(ToString::to_string).collect(),
            membership: self.membership_view(s),
            vector: s
                .vector()
                .0
                .iter()
                .map(|(a, n)| (a.to_string(), *n))
                .collect(),
            equivocations: self.evidence.views(Some(&s.id()), &self.replica),
            records: attributions.records(records),
            record_counts,
            records_listed: listed.map(|l| l.collections.clone()),
            delivery: self.delivery_views(s),
            outcomes,
        }
    }
}

/// What `persist` commits for a replica's effects, in one transaction.
pub(crate) fn write_batch(p: &confer_protocol::Persist, now: u64) -> WriteBatch {
    let entry_row = |e: &confer_protocol::Entry| store::NewEntry {
        space: *e.space().as_bytes(),
        author: *e.author().as_bytes(),
        seq: e.seq(),
        bytes: e.bytes().to_vec(),
    };
    let mut batch = WriteBatch {
        spaces: p
            .spaces
            .iter()
            .map(|g| (*g.id().as_bytes(), g.encode()))
            .collect(),
        invited: p
            .invited
            .iter()
            .map(|g| (*g.id().as_bytes(), g.encode()))
            .collect(),
        trusted: p.trusted.iter().map(|b| *b.0.as_bytes()).collect(),
        untrusted: p.untrusted.iter().map(|b| *b.0.as_bytes()).collect(),
        // One row per key and body: a newer certificate replaces the older one, as it
        // does in the registry (a peer re-sending newer certificates for its authors must
        // not grow the file).
        certificates: p
            .certs
            .iter()
            .map(|c| {
                (
                    store::cert_row(c.key.as_bytes(), c.body.0.as_bytes()),
                    c.encode(),
                )
            })
            .collect(),
        entries: p.entries.iter().map(entry_row).collect(),
        ..WriteBatch::default()
    };
    for (space, eq) in &p.equivocations {
        for entry in [&eq.held, &eq.other] {
            batch.evidence.push(store::Evidence {
                space: *space.as_bytes(),
                author: *eq.author.as_bytes(),
                seq: eq.seq,
                hash: entry.hash().0,
                bytes: entry.bytes().to_vec(),
                detected_at: Some(now),
            });
        }
    }
    batch.revocations = p
        .revocations
        .iter()
        .map(|r| {
            let bytes = r.encode();
            (*blake3::hash(&bytes).as_bytes(), bytes)
        })
        .collect();
    batch.consents = p
        .consents
        .iter()
        .map(|(space, c)| {
            let bytes = c.encode();
            (*space.as_bytes(), *blake3::hash(&bytes).as_bytes(), bytes)
        })
        .collect();
    batch.own = p
        .own
        .iter()
        .map(|(space, key, seq)| (*space.as_bytes(), *key.as_bytes(), *seq))
        .collect();
    batch.rewrites = p
        .withdrawals
        .iter()
        .map(|(space, w)| store::LogRewrite {
            space: *space.as_bytes(),
            from: w.from,
            tail: w.tail.iter().map(entry_row).collect(),
            withdrawn: w.withdrawn.iter().map(entry_row).collect(),
            restored: w.restored.iter().map(entry_row).collect(),
        })
        .collect();
    batch
}

/// The relay in a circuit address (`…/p2p/RELAY/p2p-circuit/p2p/PEER`), if it is one.
fn relay_of(addr: &Multiaddr) -> Option<PeerId> {
    let mut relay = None;
    for p in addr.iter() {
        match p {
            Protocol::P2p(id) => relay = Some(id),
            Protocol::P2pCircuit => return relay,
            _ => {}
        }
    }
    None
}
