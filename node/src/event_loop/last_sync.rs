//! When this node last completed a sync exchange with each partner peer, in memory since
//! start: a pull answered to its end (`SyncResponse` with nothing more) or a push, revocation
//! or membership message acknowledged (`PushAck`), in either direction, with a peer that
//! proved its body. `status` shows it per partner body (the latest of its nodes) and per
//! peer.

use std::collections::HashMap;

use confer_protocol::{BodyId, Message};
use libp2p::PeerId;

/// Peers remembered at most; the one synced longest ago is forgotten first.
const MAX_PEERS: usize = 1024;

#[derive(Debug, Default)]
pub(super) struct LastSync {
    peers: HashMap<PeerId, (BodyId, u64)>,
}

/// Whether `message` (a response, ours or a peer's) ends a sync exchange.
pub(super) fn ends_exchange(message: &Message) -> bool {
    matches!(
        message,
        Message::SyncResponse { more: false, .. } | Message::PushAck { .. }
    )
}

impl LastSync {
    /// An exchange with `peer`, a node of `body`, completed at `now` (unix seconds).
    pub(super) fn completed(&mut self, peer: PeerId, body: BodyId, now: u64) {
        if self.peers.len() >= MAX_PEERS && !self.peers.contains_key(&peer) {
            let oldest = self
                .peers
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(p, _)| *p);
            if let Some(oldest) = oldest {
                self.peers.remove(&oldest);
            }
        }
        self.peers.insert(peer, (body, now));
    }

    /// When the last exchange with `peer` completed.
    pub(super) fn of_peer(&self, peer: &PeerId) -> Option<u64> {
        self.peers.get(peer).map(|(_, at)| *at)
    }

    /// Per body: the latest exchange with any of its nodes, and that node; by body id.
    pub(super) fn by_body(&self) -> Vec<(BodyId, u64, PeerId)> {
        let mut latest: HashMap<BodyId, (u64, PeerId)> = HashMap::new();
        for (peer, (body, at)) in &self.peers {
            let slot = latest.entry(*body).or_insert((*at, *peer));
            if *at > slot.0 {
                *slot = (*at, *peer);
            }
        }
        let mut out: Vec<(BodyId, u64, PeerId)> = latest
            .into_iter()
            .map(|(body, (at, peer))| (body, at, peer))
            .collect();
        out.sort_by_key(|a| a.0);
        out
    }
}
