//! Which member bodies hold a space, as this node knows it, and why not: what `agenda
//! new`, `agenda edit`, `agenda show` and `status` tell the operator.
//!
//! A connected node of a member body tells what it holds of a space in every request,
//! response and acknowledgement of it (the replica keeps the last vector per peer,
//! [`confer_protocol::Replica::peer_told`]); a body "holds everything" when one of its
//! connected nodes told a vector covering this node's. A refusal of the space by such a
//! node (`Refused`: it has not added this node, its operator has not accepted the
//! invitation, …) is kept here per space and body, with its time, until a node of that
//! body tells it holds the space. A body none of whose nodes is connected gets the space
//! and the changes when one connects; nothing here is stored, it is learnt again after a
//! restart from the peers.

use std::collections::HashMap;

use confer_protocol::sync::Refusal;
use confer_protocol::{BodyId, Event, Space, SpaceId};

use super::EventLoop;
use crate::runtime::unix_now;
use crate::views::DeliveryView;

/// The last refusal of a space by a node of a body.
#[derive(Debug, Clone)]
pub(super) struct Refused {
    reason: &'static str,
    detail: String,
    at: u64,
}

/// Refusals of spaces by member bodies' nodes, until they hold them.
#[derive(Debug, Default)]
pub(super) struct DeliveryBook {
    refused: HashMap<(SpaceId, BodyId), Refused>,
}

/// A refusal in a word the CLI says in the operator's language.
fn reason_code(reason: Refusal) -> Option<&'static str> {
    match reason {
        // Passing: the node sends Hello again and retries.
        Refusal::NotIdentified => None,
        Refusal::Untrusted => Some("not_trusted"),
        Refusal::NotAccepted => Some("not_accepted"),
        Refusal::NotMember => Some("not_member"),
        Refusal::UnknownSpace => Some("unknown_space"),
        Refusal::Invalid => Some("invalid"),
    }
}

impl EventLoop {
    /// Keeps each refusal of a space by a node whose body is known.
    pub(super) fn note_refusals(&mut self, events: &[Event]) {
        for event in events {
            let Event::RefusedByPeer {
                peer,
                space: Some(space),
                reason,
                detail,
            } = event
            else {
                continue;
            };
            let (Some(body), Some(reason)) = (self.replica.peer_body(peer), reason_code(*reason))
            else {
                continue;
            };
            self.delivery.refused.insert(
                (*space, body),
                Refused {
                    reason,
                    detail: detail.clone(),
                    at: unix_now(),
                },
            );
        }
    }

    /// Forgets the refusals of bodies a connected node of which now holds the space.
    pub(super) fn forget_settled_refusals(&mut self) {
        let replica = &self.replica;
        self.delivery.refused.retain(|(space, body), _| {
            !replica
                .peers()
                .filter(|(_, b)| b.is_some_and(|(id, _)| id == *body))
                .any(|(key, _)| replica.peer_told(&key, space).is_some())
        });
    }

    /// Each member body of `s` other than this one, and how far it holds `s`.
    pub(super) fn delivery_views(&self, s: &Space) -> Vec<DeliveryView> {
        let own = self.replica.identity().body();
        let ours = s.vector();
        let space = s.id();
        s.members()
            .current
            .iter()
            .filter(|b| **b != own)
            .map(|body| {
                let nodes: Vec<_> = self
                    .replica
                    .peers()
                    .filter(|(_, b)| b.is_some_and(|(id, _)| id == *body))
                    .map(|(key, _)| key)
                    .collect();
                // Of the body's connected nodes, the one missing least.
                let missing = nodes
                    .iter()
                    .filter_map(|key| self.replica.peer_told(key, &space))
                    .map(|theirs| {
                        ours.0
                            .iter()
                            .map(|(a, n)| n.saturating_sub(theirs.get(a)))
                            .sum::<u64>()
                    })
                    .min();
                let refused = self.delivery.refused.get(&(space, *body));
                let (state, missing) = match (missing, refused) {
                    (Some(0), _) => ("current", 0),
                    (Some(n), _) => ("behind", n),
                    (None, Some(_)) => ("refused", 0),
                    (None, None) if nodes.is_empty() => ("offline", 0),
                    (None, None) => ("waiting", 0),
                };
                let refused = refused.filter(|_| state == "refused");
                DeliveryView {
                    body: self.body_view(body),
                    state: state.into(),
                    missing,
                    reason: refused.map(|r| r.reason.to_owned()),
                    detail: refused.map(|r| r.detail.clone()),
                    at: refused.map(|r| r.at),
                }
            })
            .collect()
    }
}
