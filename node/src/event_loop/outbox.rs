//! Requests to each peer, at most [`MAX_IN_FLIGHT`] at a time; the rest wait here, in order.
//!
//! Every request is a stream of its own, and a node serves at most
//! [`crate::net::MAX_CONCURRENT_STREAMS`] inbound streams per connection: past that, libp2p
//! drops the stream, and what it carried (a push, a pull) is lost until a timeout or the next
//! anti-entropy round. Writing faster than a partner applies (a bulk import, a long agenda
//! written in one go) used to do exactly that; holding requests back here keeps every
//! request within what the partner accepts.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use confer_protocol::replica::Sent;
use confer_protocol::sync::{Budget, MAX_MESSAGE_CERTS};
use confer_protocol::{Message, PublicKey};

/// Requests in flight per peer: half of what a peer accepts at once, leaving the other half
/// for that peer's own requests on the same connection.
pub(crate) const MAX_IN_FLIGHT: usize = crate::net::MAX_CONCURRENT_STREAMS / 2;

/// Requests per peer in flight and waiting. `I` names a request sent (libp2p's
/// `OutboundRequestId`; numbers in the tests).
pub(crate) struct Outbox<I> {
    in_flight: HashMap<PublicKey, usize>,
    waiting: HashMap<PublicKey, VecDeque<Message>>,
    /// Every request in flight, by id: for whom and what it carried. A peer's are dropped
    /// when it goes, so a failure reported late (after the peer reconnected) frees no slot
    /// of the new connection's.
    sent: HashMap<I, (PublicKey, Sent)>,
}

impl<I> Default for Outbox<I> {
    fn default() -> Self {
        Outbox {
            in_flight: HashMap::new(),
            waiting: HashMap::new(),
            sent: HashMap::new(),
        }
    }
}

/// A request that ended: for whom, what it carried, and the next one to send to that peer
/// now (already counted as in flight).
pub(crate) struct Ended {
    pub(crate) peer: PublicKey,
    pub(crate) sent: Sent,
    pub(crate) next: Option<Message>,
}

/// What a peer that went had in flight (lost) and waiting (never sent).
pub(crate) struct Forgotten {
    pub(crate) in_flight: Vec<Sent>,
    pub(crate) waiting: Vec<Message>,
}

impl<I: Hash + Eq> Outbox<I> {
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

    /// A request admitted was sent as `id`.
    pub(crate) fn sent(&mut self, id: I, peer: PublicKey, sent: Sent) {
        self.sent.insert(id, (peer, sent));
    }

    /// Request `id` ended (answered or failed). `None` if it is not in flight: unknown, or
    /// its peer went before (then it was counted as lost by [`Outbox::forget`]).
    pub(crate) fn ended(&mut self, id: &I) -> Option<Ended> {
        let (peer, sent) = self.sent.remove(id)?;
        let next = self.next(peer);
        Some(Ended { peer, sent, next })
    }

    /// A slot of `peer`'s freed: the next waiting one, if any, takes it.
    fn next(&mut self, peer: PublicKey) -> Option<Message> {
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

    /// The peer is gone: what it had in flight and what waited for it.
    pub(crate) fn forget(&mut self, peer: &PublicKey) -> Forgotten {
        self.in_flight.remove(peer);
        let mut in_flight = Vec::new();
        self.sent.retain(|_, (p, sent)| {
            let keep = p != peer;
            if !keep {
                in_flight.push(*sent);
            }
            keep
        });
        Forgotten {
            in_flight,
            waiting: self.waiting.remove(peer).map(Vec::from).unwrap_or_default(),
        }
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

    const PULL: Sent = Sent {
        space: None,
        pull: true,
    };

    /// Admits `m` for `peer` and, if it may go, sends it as request `id`.
    fn send(out: &mut Outbox<u32>, id: u32, peer: PublicKey, m: Message) -> bool {
        let admitted = out.admit(peer, m).is_some();
        if admitted {
            out.sent(id, peer, PULL);
        }
        admitted
    }

    #[test]
    fn at_most_max_in_flight_per_peer_the_rest_in_order() {
        let a = SecretKey::from_seed([1; 32]).public();
        let b = SecretKey::from_seed([2; 32]).public();
        let mut out = Outbox::default();
        for i in 0..MAX_IN_FLIGHT as u8 {
            assert!(send(&mut out, u32::from(i), a, msg(i)));
        }
        assert!(!send(&mut out, 100, a, msg(100)));
        assert!(!send(&mut out, 101, a, msg(101)));
        // Another peer is not held back by the first.
        assert!(send(&mut out, 200, b, msg(0)));
        assert_eq!(out.waiting(), 2);
        let ended = out.ended(&0).expect("request 0 is in flight");
        assert_eq!(ended.peer, a);
        assert_eq!(ended.next.as_ref().map(name).as_deref(), Some("100"));
        out.sent(100, a, PULL);
        let ended = out.ended(&1).expect("request 1 is in flight");
        assert_eq!(ended.next.as_ref().map(name).as_deref(), Some("101"));
        out.sent(101, a, PULL);
        assert_eq!(out.waiting(), 0);
        assert!(out.ended(&1).is_none(), "an id ends once");
        // The two went in place of two that ended: still full.
        assert!(!send(&mut out, 102, a, msg(102)));
        let gone = out.forget(&a);
        assert_eq!(gone.waiting.len(), 1);
        assert_eq!(
            gone.in_flight.len(),
            MAX_IN_FLIGHT,
            "what was in flight is lost"
        );
        // Forgotten: a fresh start, and b's request is still b's.
        assert!(send(&mut out, 103, a, msg(103)));
        assert!(out.ended(&103).is_some_and(|e| e.next.is_none()));
        assert!(out.ended(&200).is_some_and(|e| e.peer == b));
    }

    #[test]
    fn a_failure_reported_after_the_peer_reconnected_frees_no_new_slot() {
        let a = SecretKey::from_seed([1; 32]).public();
        let mut out = Outbox::default();
        for i in 0..MAX_IN_FLIGHT as u32 {
            assert!(send(&mut out, i, a, msg(0)));
        }
        // The connection drops; the peer reconnects and the new connection fills up.
        let gone = out.forget(&a);
        assert_eq!(gone.in_flight.len(), MAX_IN_FLIGHT);
        for i in 0..MAX_IN_FLIGHT as u32 {
            assert!(send(&mut out, 1000 + i, a, msg(1)));
        }
        // libp2p reports the old connection's requests as failed only now.
        for i in 0..MAX_IN_FLIGHT as u32 {
            assert!(
                out.ended(&i).is_none(),
                "old request {i} counted as lost already"
            );
        }
        assert!(
            !send(&mut out, 2000, a, msg(2)),
            "still MAX_IN_FLIGHT in flight: the late failures freed nothing"
        );
        assert_eq!(out.waiting(), 1);
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
        let mut out: Outbox<u32> = Outbox::default();
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
