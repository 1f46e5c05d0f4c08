//! Remembered peers (`confer peer add`): every address each was added with, when to dial
//! it next (exponential backoff), and what happened last — connected since when, or the
//! last dial error and when — which `status` and `peer list` show and `RUST_LOG=info`
//! logs. Re-adding a known peer id with another address keeps both (the node dials all
//! of a peer's addresses at once and keeps the first that answers) unless the operator
//! asks to replace them.

use std::time::{Duration, Instant};

use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::DialError;
use libp2p::{Multiaddr, PeerId};

use super::EventLoop;
use crate::handle::NodeError;
use crate::runtime::{unix_now, NodeFailure};
use crate::store::WriteBatch;
use crate::views::{DialErrorView, RememberedPeerView};

pub(super) const FIRST_REDIAL: Duration = Duration::from_millis(500);

/// A peer added with `peer add`, and when to dial it next.
#[derive(Debug)]
pub(super) struct Remembered {
    /// Every address it was added with, oldest first.
    pub(super) addrs: Vec<Multiaddr>,
    pub(super) delay: Duration,
    pub(super) next: Instant,
    pub(super) dialing: bool,
    /// Unix seconds when its current connection came up (`None`: not connected).
    connected_since: Option<u64>,
    last_error: Option<DialErrorView>,
}

impl Remembered {
    fn new(addr: Multiaddr) -> Remembered {
        Remembered {
            addrs: vec![addr],
            delay: FIRST_REDIAL,
            next: Instant::now(),
            dialing: false,
            connected_since: None,
            last_error: None,
        }
    }
}

/// What became of `peer add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A peer id not remembered before.
    New,
    /// A known peer id: this address is kept beside the others.
    AnotherAddress,
    /// A known peer id: this address replaced the others.
    Replaced,
    /// Nothing new: already remembered at this address.
    Known,
}

/// A dial error in words, with a kind the CLI can say in the operator's language.
pub(super) fn describe_dial_error(peer: &PeerId, error: &DialError) -> (String, String) {
    match error {
        DialError::WrongPeerId { obtained, .. } => (
            "wrong_peer_id".into(),
            format!("the node at that address is {obtained}, not {peer}: check the peer id"),
        ),
        DialError::Transport(errors) => {
            let text = errors
                .iter()
                .map(|(addr, e)| format!("{addr}: {}", error_chain(e)))
                .collect::<Vec<_>>()
                .join("; ");
            let lower = text.to_ascii_lowercase();
            let kind = if lower.contains("connection refused") {
                "refused"
            } else if lower.contains("timed out") || lower.contains("timeout") {
                "timeout"
            } else {
                "unreachable"
            };
            (kind.into(), text)
        }
        DialError::Denied { cause, .. } => ("denied".into(), cause.to_string()),
        other => ("other".into(), error_chain(other)),
    }
}

/// An error and its sources, one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}

impl EventLoop {
    /// Keeps a connection to the peer at `addr` (which ends in `/p2p/<id>`), beside any
    /// other address it is remembered at.
    pub(crate) fn remember(&mut self, addr: Multiaddr) -> Added {
        let Some(Protocol::P2p(peer)) = addr.iter().last() else {
            return Added::Known;
        };
        // The operator added it: connection limits never lock it out.
        self.swarm.behaviour_mut().limits.bypass_peer_id(&peer);
        match self.remembered.get_mut(&peer) {
            None => {
                self.remembered.insert(peer, Remembered::new(addr));
                Added::New
            }
            Some(r) if r.addrs.contains(&addr) => Added::Known,
            Some(r) => {
                r.addrs.push(addr);
                // Try the new address soon.
                r.delay = FIRST_REDIAL;
                r.next = Instant::now();
                Added::AnotherAddress
            }
        }
    }

    /// `peer add`: remembers `addr` durably (replacing the peer's other addresses if
    /// `replace`). The outer error is a storage failure that must stop the node.
    pub(super) fn add_peer(
        &mut self,
        addr: Multiaddr,
        replace: bool,
    ) -> Result<Result<Added, NodeError>, NodeFailure> {
        let Some(Protocol::P2p(peer)) = addr.iter().last() else {
            return Ok(Err(NodeError::BadAddress(format!(
                "{addr} does not end in /p2p/<peer id>"
            ))));
        };
        if peer == *self.swarm.local_peer_id() {
            return Ok(Err(NodeError::BadAddress(format!(
                "{addr} is this node itself"
            ))));
        }
        if crate::net::peer_ed25519_key(&peer).is_none() {
            return Ok(Err(NodeError::BadAddress(format!(
                "{peer} is not a confer node's peer id"
            ))));
        }
        let others: Vec<Multiaddr> = match (replace, self.remembered.get(&peer)) {
            (true, Some(r)) => r.addrs.iter().filter(|a| **a != addr).cloned().collect(),
            _ => Vec::new(),
        };
        let batch = WriteBatch {
            peers_added: vec![addr.to_string()],
            peers_removed: others.iter().map(ToString::to_string).collect(),
            ..WriteBatch::default()
        };
        self.store.commit(&batch).map_err(|e| {
            tracing::error!(error = %e, "storage failed; stopping the node so memory and disk cannot disagree");
            NodeFailure::Storage(e)
        })?;
        if let Some(r) = self.remembered.get_mut(&peer) {
            r.addrs.retain(|a| !others.contains(a));
        }
        let mut added = self.remember(addr.clone());
        if !others.is_empty() {
            added = Added::Replaced;
            tracing::info!(peer = %peer, address = %addr, replaced = ?others, "the operator replaced a peer's addresses");
        }
        self.redial();
        // Already connected and proven (it dialled us first): trust its body now.
        let body = crate::net::peer_ed25519_key(&peer)
            .map(confer_protocol::PublicKey::from_bytes)
            .and_then(|key| self.replica.peer_body(&key));
        if let Some(body) = body {
            let fx = self.replica.trust(body);
            self.carry_out(fx)?;
        }
        Ok(Ok(added))
    }

    /// `peer remove`: forgets every address of `peer` durably.
    pub(super) fn forget_peer(
        &mut self,
        peer: PeerId,
    ) -> Result<Result<(), NodeError>, NodeFailure> {
        let Some(r) = self.remembered.remove(&peer) else {
            return Ok(Err(NodeError::BadAddress(format!(
                "{peer} is not a remembered peer (see `confer peer list`)"
            ))));
        };
        let batch = WriteBatch {
            peers_removed: r.addrs.iter().map(ToString::to_string).collect(),
            ..WriteBatch::default()
        };
        self.store.commit(&batch).map_err(|e| {
            tracing::error!(error = %e, "storage failed; stopping the node so memory and disk cannot disagree");
            NodeFailure::Storage(e)
        })?;
        self.swarm.behaviour_mut().limits.remove_peer_id(&peer);
        let _ = self.swarm.disconnect_peer_id(peer);
        tracing::info!(peer = %peer, "the operator removed a peer");
        Ok(Ok(()))
    }

    /// Dials every remembered peer that is due and not connected, at all its addresses.
    pub(super) fn redial(&mut self) {
        let now = Instant::now();
        let due: Vec<(PeerId, Vec<Multiaddr>)> = self
            .remembered
            .iter()
            .filter(|(peer, r)| !r.dialing && r.next <= now && !self.swarm.is_connected(peer))
            .map(|(peer, r)| (*peer, r.addrs.clone()))
            .collect();
        for (peer, addrs) in due {
            let opts = DialOpts::peer_id(peer).addresses(addrs).build();
            let started = self.swarm.dial(opts);
            let Some(r) = self.remembered.get_mut(&peer) else {
                continue;
            };
            match started {
                Ok(()) => r.dialing = true,
                Err(e) => {
                    r.delay = (r.delay * 2).min(self.config.max_redial_backoff);
                    r.next = now + r.delay;
                    let (kind, detail) = describe_dial_error(&peer, &e);
                    tracing::info!(peer = %peer, error = %detail, retry_in = ?r.delay, "dial not started");
                    r.last_error = Some(DialErrorView {
                        kind,
                        detail,
                        at: unix_now(),
                    });
                }
            }
        }
    }

    /// A connection to `peer` came up.
    pub(super) fn remembered_connected(&mut self, peer: &PeerId) {
        if let Some(r) = self.remembered.get_mut(peer) {
            r.dialing = false;
            r.delay = FIRST_REDIAL;
            r.connected_since.get_or_insert_with(unix_now);
        }
    }

    /// The last connection to `peer` closed.
    pub(super) fn remembered_disconnected(&mut self, peer: &PeerId) {
        if let Some(r) = self.remembered.get_mut(peer) {
            r.dialing = false;
            r.next = Instant::now() + r.delay;
            r.connected_since = None;
        }
    }

    /// A dial of `peer` failed.
    pub(super) fn dial_failed(&mut self, peer: &PeerId, error: &DialError) {
        let max = self.config.max_redial_backoff;
        let connected = self.swarm.is_connected(peer);
        let Some(r) = self.remembered.get_mut(peer) else {
            return;
        };
        r.dialing = false;
        r.delay = (r.delay * 2).min(max);
        r.next = Instant::now() + r.delay;
        let (kind, detail) = describe_dial_error(peer, error);
        tracing::info!(peer = %peer, error = %confer_protocol::text::display_line(&detail), retry_in = ?r.delay, "dial failed");
        if !connected {
            r.last_error = Some(DialErrorView {
                kind,
                detail,
                at: unix_now(),
            });
        }
    }

    /// Every remembered peer and its state, for `status`.
    pub(super) fn remembered_views(&self) -> Vec<RememberedPeerView> {
        let now = Instant::now();
        self.remembered
            .iter()
            .map(|(peer, r)| {
                let connected = self.swarm.is_connected(peer);
                let state = if connected {
                    "connected"
                } else if r.dialing {
                    "dialing"
                } else {
                    "waiting"
                };
                RememberedPeerView {
                    peer_id: peer.to_string(),
                    addresses: r.addrs.iter().map(ToString::to_string).collect(),
                    state: state.into(),
                    connected_since: r.connected_since.filter(|_| connected),
                    last_error: r.last_error.clone(),
                    next_dial_in: (!connected && !r.dialing)
                        .then(|| r.next.saturating_duration_since(now).as_secs()),
                    last_sync: self.last_sync.of_peer(peer),
                }
            })
            .collect()
    }
}
