//! Peers' clocks (`crate::net::clock`): each peer is asked once it proved its body, and
//! what it said is kept while it stays connected, for `status` (`PeerView::clock`) and
//! `confer doctor`. Only peers that proved a body are answered.

use std::collections::HashMap;

use confer_protocol::PeerKey;
use libp2p::request_response::{self, OutboundRequestId};

use super::EventLoop;
use crate::net::clock::skew_ms;
use crate::views::ClockView;

#[derive(Debug, Default)]
pub(super) struct Clocks {
    /// Questions in flight: to whom, and when (ms since the epoch here).
    asked: HashMap<OutboundRequestId, (PeerKey, u64)>,
    readings: HashMap<PeerKey, ClockView>,
}

impl Clocks {
    pub(super) fn reading(&self, peer: &PeerKey) -> Option<ClockView> {
        self.readings.get(peer).cloned()
    }

    pub(super) fn forget(&mut self, peer: &PeerKey) {
        self.readings.remove(peer);
        self.asked.retain(|_, (p, _)| p != peer);
    }
}

fn now_ms() -> u64 {
    u64::try_from(crate::runtime::unix_now_ms()).unwrap_or(0)
}

impl EventLoop {
    /// Asks `peer` (which just proved its body) for its clock.
    pub(super) fn ask_clock(&mut self, peer: &PeerKey) {
        let Some(id) = self.peer_ids.get(peer).copied() else {
            return;
        };
        let request = self.swarm.behaviour_mut().clock.send_request(&id, ());
        self.clocks.asked.insert(request, (*peer, now_ms()));
    }

    pub(super) fn on_clock_event(&mut self, event: request_response::Event<(), u64>) {
        match event {
            request_response::Event::Message {
                peer,
                message: request_response::Message::Request { channel, .. },
                ..
            } => {
                let proven = crate::net::peer_ed25519_key(&peer)
                    .map(confer_protocol::PublicKey::from_bytes)
                    .is_some_and(|key| self.replica.peer_body(&key).is_some());
                if proven {
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .clock
                        .send_response(channel, now_ms());
                }
                // Otherwise the channel drops: the peer learns nothing.
            }
            request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let received = now_ms();
                if let Some((peer, sent)) = self.clocks.asked.remove(&request_id) {
                    let view = ClockView {
                        skew_ms: skew_ms(sent, response, received),
                        round_trip_ms: received.saturating_sub(sent),
                    };
                    if view.skew_ms.unsigned_abs() > crate::net::clock::NOTABLE_SKEW_MS {
                        tracing::warn!(peer = %self.peer_label(&peer), skew_ms = view.skew_ms, "a peer's clock differs from this machine's; keep both synchronised (NTP)");
                    }
                    self.clocks.readings.insert(peer, view);
                }
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some((peer, _)) = self.clocks.asked.remove(&request_id) {
                    tracing::debug!(peer = %self.peer_label(&peer), error = %error, "the peer does not tell its clock");
                }
            }
            request_response::Event::InboundFailure { .. }
            | request_response::Event::ResponseSent { .. } => {}
        }
    }
}
