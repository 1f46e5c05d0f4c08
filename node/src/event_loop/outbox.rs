//! Requests to each peer, at most [`MAX_IN_FLIGHT`] at a time; the rest wait here, in order.
//!
//! Every request is a stream of its own, and a node serves at most
//! [`crate::net::MAX_CONCURRENT_STREAMS`] inbound streams per connection: past that, libp2p
//! drops the stream, and what it carried (a push, a pull) is lost until a timeout or the next
//! anti-entropy round. Writing faster than a partner applies (a bulk import, a long agenda
//! written in one go) used to do exactly that; holding requests back here keeps every
//! request within what the partner accepts.

use std::collections::{HashMap, VecDeque};

use confer_protocol::sync::{Budget, MAX_MESSAGE_CERTS};
use confer_protocol::{Message, PublicKey};

/// Requests in flight per peer: half of what a peer accepts at once, leaving the other half
/// for that peer's own requests on the same connection.
pub(crate) const MAX_IN_FLIGHT: usize = crate::net::MAX_CONCURRENT_STREAMS / 2;

/// Requests per peer in flight and waiting.
#[derive(Default)]
pub(crate) struct Outbox {
    in_flight: HashMap<PublicKey, usize>,
    waiting: HashMap<PublicKey, VecDeque<Message>>,
}

impl Outbox {
    /// Whether a request to `peer` may go now (counted as in flight if so); otherwise it is
    /// kept, to go when one in flight ends.
    pub(crate) fn admit(&mut self, peer: PublicKey, message: Message) -> Option<Message> {
        let n = self.in_flight.entry(peer).or_default();
        if *n < MAX_IN_FLIGHT {
            *n += 1;
            Some(message)
        } else {
            let queue = self.waiting.entry(peer).or_default();
            match (queue.back_mut(), message) {
                (Some(last), message) => {
                    if let Some(left) = merge(last, message) {
                        queue.push_back(left);
                    }
                }
                (None, message) => queue.push_back(message),
            }
            None
        }
    }

    /// A request to `peer` ended (answered or failed): the next waiting one, if any, to send
    /// now (already counted as in flight).
    pub(crate) fn ended(&mut self, peer: PublicKey) -> Option<Message> {
        let next = self.waiting.get_mut(&peer).and_then(VecDeque::pop_front);
        if self.waiting.get(&peer).is_some_and(VecDeque::is_empty) {
            self.waiting.remove(&peer);
        }
        if next.is_none() {
            if let Some(n) = self.in_flight.get_mut(&peer) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.in_flight.remove(&peer);
                }
            }
        }
        next
    }

    /// The peer is gone: what waited for it, never sent.
    pub(crate) fn forget(&mut self, peer: &PublicKey) -> Vec<Message> {
        self.in_flight.remove(peer);
        self.waiting.remove(peer).map(Vec::from).unwrap_or_default()
    }

    /// Requests waiting, over all peers (for `status`).
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.values().map(VecDeque::len).sum()
    }
}

/// Folds a push into the push waiting before it for the same space, while the two fit one
/// message the peer accepts (the limits of a sync batch: [`Budget`]), so a burst of writes
/// waits as a few batches, not a message per write. Returns `next` if it was not folded in.
fn merge(last: &mut Message, next: Message) -> Option<Message> {
    let (
        Message::Push {
            space,
            genesis,
            certs,
            entries,
        },
        Message::Push {
            space: next_space,
            genesis: next_genesis,
            certs: next_certs,
            entries: next_entries,
        },
    ) = (&mut *last, &next)
    else {
        return Some(next);
    };
    if space != next_space {
        return Some(next);
    }
    let limits = confer_protocol::replica::Limits::default();
    let mut budget = Budget::new(limits.batch_entries, limits.batch_bytes);
    let fits = entries
        .iter()
        .chain(next_entries)
        .all(|e| budget.take(e, false))
        && certs.len() + next_certs.len() <= MAX_MESSAGE_CERTS;
    if !fits {
        return Some(next);
    }
    if genesis.is_none() {
        genesis.clone_from(next_genesis);
    }
    for cert in next_certs {
        if !certs.contains(cert) {
            certs.push(cert.clone());
        }
    }
    entries.extend(next_entries.iter().cloned());
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use confer_protocol::SecretKey;

    fn msg(n: u8) -> Message {
        Message::Refused {
            space: None,
            reason: confer_protocol::Refusal::Invalid,
            detail: format!("{n}"),
        }
    }

    fn name(m: &Message) -> String {
        match m {
            Message::Refused { detail, .. } => detail.clone(),
            _ => String::new(),
        }
    }

    #[test]
    fn at_most_max_in_flight_per_peer_the_rest_in_order() {
        let a = SecretKey::from_seed([1; 32]).public();
        let b = SecretKey::from_seed([2; 32]).public();
        let mut out = Outbox::default();
        for i in 0..MAX_IN_FLIGHT as u8 {
            assert!(out.admit(a, msg(i)).is_some());
        }
        assert!(out.admit(a, msg(100)).is_none());
        assert!(out.admit(a, msg(101)).is_none());
        // Another peer is not held back by the first.
        assert!(out.admit(b, msg(0)).is_some());
        assert_eq!(out.waiting(), 2);
        assert_eq!(out.ended(a).as_ref().map(name).as_deref(), Some("100"));
        assert_eq!(out.ended(a).as_ref().map(name).as_deref(), Some("101"));
        assert_eq!(out.waiting(), 0);
        // The two went in place of two that ended: still full.
        assert!(out.admit(a, msg(102)).is_none());
        assert_eq!(out.forget(&a).len(), 1);
        // Forgotten: a fresh start.
        assert!(out.admit(a, msg(103)).is_some());
        assert!(out.ended(a).is_none());
        assert!(
            out.ended(a).is_none(),
            "ending more than were sent is harmless"
        );
        assert!(out.admit(a, msg(104)).is_some());
    }

    fn push(space: u8) -> Message {
        Message::Push {
            space: confer_protocol::SpaceId([space; 32]),
            genesis: None,
            certs: Vec::new(),
            entries: Vec::new(),
        }
    }

    #[test]
    fn waiting_pushes_for_one_space_fold_into_one_message() {
        let a = SecretKey::from_seed([1; 32]).public();
        let mut out = Outbox::default();
        for _ in 0..MAX_IN_FLIGHT {
            assert!(out.admit(a, msg(0)).is_some());
        }
        for _ in 0..10 {
            assert!(out.admit(a, push(7)).is_none());
        }
        assert_eq!(out.waiting(), 1, "ten pushes for one space wait as one");
        assert!(out.admit(a, push(8)).is_none());
        assert!(out.admit(a, msg(1)).is_none());
        assert!(out.admit(a, push(8)).is_none());
        assert_eq!(
            out.waiting(),
            4,
            "another space, or anything between, is not folded"
        );
    }
}
