//! The replica's part in changing a space's member bodies: this body's consents (made
//! with a member key that may sign for it), consents from member peers, and the body just
//! added learning the space.

use std::collections::BTreeSet;

use super::{Effects, Event, PeerKey, Replica, ReplicaError};
use crate::cert::BodyId;
use crate::keys::PublicKey;
use crate::membership::{Change, Consent, Members, Op};
use crate::space::{Genesis, SpaceId};
use crate::sync::{Message, Refusal, MAX_MESSAGE_CONSENTS};

impl Replica {
    /// Proposes adding `body` to `space`, with this body's consent.
    pub fn propose_add(
        &mut self,
        space: &SpaceId,
        body: BodyId,
        author: Option<&PublicKey>,
        now: u64,
    ) -> Result<(Change, Effects), ReplicaError> {
        let s = self.space_ref(space)?;
        if s.is_member(&body) {
            return Err(ReplicaError::AlreadyAMember);
        }
        // A body's own ledger has one member, always.
        if s.members().current.len() >= crate::space::MAX_MEMBERS
            || s.genesis().kind == crate::space::SpaceKind::Ledger
        {
            return Err(ReplicaError::Space(crate::space::SpaceError::MemberCount));
        }
        let tip = s.members().tip;
        let change = Change {
            space: *space,
            prev: tip,
            op: Op::Add(body),
            issued_at: now,
        };
        let fx = self.consent(change.clone(), author)?;
        Ok((change, fx))
    }

    /// This body leaves `space`: what its keys wrote so far stays; it is sent nothing new.
    pub fn propose_leave(
        &mut self,
        space: &SpaceId,
        author: Option<&PublicKey>,
        now: u64,
    ) -> Result<(Change, Effects), ReplicaError> {
        let change = self
            .leave_change(space, now)
            .ok_or(ReplicaError::UnknownSpace(*space))?;
        let fx = self.consent(change.clone(), author)?;
        Ok((change, fx))
    }

    /// This body leaving `space` on its tip, with the cutoffs of what its keys wrote: this
    /// node's own keys up to what it signed, the body's other keys up to what it holds.
    fn leave_change(&self, space: &SpaceId, now: u64) -> Option<Change> {
        let me = self.identity.body();
        let s = self.spaces.get(space)?;
        let vector = s.vector();
        let mut cutoffs: Vec<(PublicKey, u64)> = vector
            .0
            .keys()
            .filter(|a| s.author_body(a) == Some(me))
            .map(|a| {
                let own = self.own_tips.get(&(*space, *a)).copied();
                (*a, own.unwrap_or_else(|| vector.get(a)))
            })
            .collect();
        cutoffs.sort();
        Some(Change {
            space: *space,
            prev: s.members().tip,
            op: Op::Remove { body: me, cutoffs },
            issued_at: now,
        })
    }

    /// Proposes removing another body from `space` (every other member body must
    /// consent): its authors' entries this node holds stay, nothing later counts, and it is
    /// sent nothing new.
    pub fn propose_remove(
        &mut self,
        space: &SpaceId,
        body: BodyId,
        author: Option<&PublicKey>,
        now: u64,
    ) -> Result<(Change, Effects), ReplicaError> {
        let s = self.space_ref(space)?;
        if !s.is_member(&body) || body == self.identity.body() {
            return Err(ReplicaError::NotAMember);
        }
        if s.members().current.len() < 3 {
            return Err(ReplicaError::TooFewToRemove);
        }
        let vector = s.vector();
        let mut cutoffs: Vec<(PublicKey, u64)> = vector
            .0
            .iter()
            .filter(|(a, _)| s.author_body(a) == Some(body))
            .map(|(a, n)| (*a, *n))
            .collect();
        cutoffs.sort();
        let change = Change {
            space: *space,
            prev: s.members().tip,
            op: Op::Remove { body, cutoffs },
            issued_at: now,
        };
        let fx = self.consent(change.clone(), author)?;
        Ok((change, fx))
    }

    /// Consents, for this body, to `change` (a change on the space's current tip): signed
    /// by `author` (default: the first member of this body here that may sign).
    pub fn consent(
        &mut self,
        change: Change,
        author: Option<&PublicKey>,
    ) -> Result<Effects, ReplicaError> {
        let space = change.space;
        let me = self.identity.body();
        let s = self.space_ref(&space)?;
        if change.prev != s.members().tip {
            return Err(ReplicaError::StaleChange);
        }
        if change.withdraws().is_some() {
            return Err(ReplicaError::NotAChange);
        }
        // One change per `prev`: never agree to two alternatives (one whose consent this
        // body withdrew does not count).
        let withdrawn = |c: &Consent| {
            let id = c.change.id();
            s.consents().iter().any(|w| {
                w.body() == me && w.change.prev == c.change.prev && w.change.withdraws() == Some(id)
            })
        };
        let other = s.consents().iter().any(|c| {
            c.body() == me
                && c.change.prev == change.prev
                && c.change != change
                && c.change.withdraws().is_none()
                && !withdrawn(c)
        });
        if other {
            return Err(ReplicaError::AlreadyConsented);
        }
        let taken_back = s
            .consents()
            .iter()
            .any(|c| c.body() == me && c.change == change && withdrawn(c));
        if taken_back {
            return Err(ReplicaError::AlreadyConsented);
        }
        let author = match author {
            Some(a) => *a,
            None => self
                .members()
                .find(|c| c.can_sign())
                .map(|c| c.key)
                .ok_or(ReplicaError::NoSigner)?,
        };
        let (secret, cert) = self.writer(Some(&author))?;
        if !cert.can_sign() {
            return Err(ReplicaError::NoSigner);
        }
        let consent = Consent::sign(change, cert, &secret).map_err(|_| ReplicaError::NoSigner)?;
        let mut fx = Effects::default();
        self.take_consent(space, consent, &mut fx);
        Ok(fx)
    }

    /// Takes back this body's consent to `change`, a change on the space's current state
    /// that has not taken effect: signed (by `author`, default: the first member here that
    /// may sign) as a consent to `Op::Withdraw(change id)`. From then on this body's consent
    /// to it counts on no node that holds the withdrawal, and this body may consent to
    /// another change on that state. A withdrawal is for good: the same change cannot be
    /// consented to again by this body.
    pub fn withdraw_consent(
        &mut self,
        change: &Change,
        author: Option<&PublicKey>,
        now: u64,
    ) -> Result<(Change, Effects), ReplicaError> {
        let space = change.space;
        let me = self.identity.body();
        let s = self.space_ref(&space)?;
        if change.prev != s.members().tip {
            return Err(ReplicaError::StaleChange);
        }
        let id = change.id();
        let held = s
            .consents()
            .iter()
            .any(|c| c.body() == me && c.change == *change);
        let already = s.consents().iter().any(|c| {
            c.body() == me && c.change.prev == change.prev && c.change.withdraws() == Some(id)
        });
        if !held || already {
            return Err(ReplicaError::NotConsented);
        }
        let withdrawal = Change {
            space,
            prev: change.prev,
            op: Op::Withdraw(id),
            issued_at: now,
        };
        let author = match author {
            Some(a) => *a,
            None => self
                .members()
                .find(|c| c.can_sign())
                .map(|c| c.key)
                .ok_or(ReplicaError::NoSigner)?,
        };
        let (secret, cert) = self.writer(Some(&author))?;
        if !cert.can_sign() {
            return Err(ReplicaError::NoSigner);
        }
        let consent =
            Consent::sign(withdrawal.clone(), cert, &secret).map_err(|_| ReplicaError::NoSigner)?;
        let mut fx = Effects::default();
        self.take_consent(space, consent, &mut fx);
        Ok((withdrawal, fx))
    }

    fn space_ref(&self, space: &SpaceId) -> Result<&crate::space::Space, ReplicaError> {
        self.spaces
            .get(space)
            .ok_or(ReplicaError::UnknownSpace(*space))
    }

    /// Restores a consent from storage for an invitation not yet accepted.
    pub fn restore_invited_consent(&mut self, space: SpaceId, consent: Consent) {
        self.invited_consents
            .entry(space)
            .or_default()
            .push(consent);
    }

    pub(super) fn take_consent(&mut self, space: SpaceId, consent: Consent, fx: &mut Effects) {
        let Some(s) = self.spaces.get_mut(&space) else {
            return;
        };
        let before = s.members().current.clone();
        match s.add_consent(consent.clone()) {
            Ok((false, _)) => return,
            Ok((true, withdrawals)) => {
                for w in withdrawals {
                    if let Some(first) = w.withdrawn.first() {
                        fx.events.push(Event::Withdrawn {
                            space,
                            key: first.author(),
                            count: w.withdrawn.len(),
                        });
                    }
                    fx.persist.withdrawals.push((space, w));
                }
            }
            Err(e) => {
                fx.events.push(Event::PeerRefused {
                    peer: self.identity.node_cert.key,
                    space: Some(space),
                    reason: format!("applying a membership change: {e}"),
                });
                return;
            }
        }
        fx.persist.consents.push((space, consent));
        // A body that became a member brings the revocations it made into play.
        let after = self.members_after_revocations(space, fx);
        if after != before {
            fx.events.push(Event::MembersChanged {
                space,
                members: after.iter().copied().collect(),
            });
        }
        self.tell_members(space, &before, fx);
        self.leave_again(space, fx);
    }

    /// This body's leave was displaced by another change on its state: propose it again on
    /// the tip, signed by the same member (when its key is on this node), so two bodies
    /// leaving at once both end up gone. The change's time is the displaced one's
    /// (informational; the replica has no clock).
    fn leave_again(&mut self, space: SpaceId, fx: &mut Effects) {
        let me = self.identity.body();
        let Some(s) = self.spaces.get(&space) else {
            return;
        };
        let Some(displaced) = s.members().displaced_leave(me, s.consents()) else {
            return;
        };
        let (key, issued_at) = (displaced.cert.key, displaced.change.issued_at);
        let Ok((secret, cert)) = self.writer(Some(&key)) else {
            return;
        };
        if !cert.can_sign() {
            return;
        }
        let change = self.leave_change(&space, issued_at);
        let Some(change) = change else { return };
        let Ok(consent) = Consent::sign(change.clone(), cert, &secret) else {
            return;
        };
        fx.events.push(Event::LeavingAgain {
            space,
            change: change.id(),
        });
        self.take_consent(space, consent, fx);
    }

    /// The members of `space` changed (from `before`) other than by a consent: say so, and
    /// tell the member peers as after a consent.
    pub(super) fn members_changed(
        &mut self,
        space: SpaceId,
        before: &BTreeSet<BodyId>,
        after: BTreeSet<BodyId>,
        fx: &mut Effects,
    ) {
        fx.events.push(Event::MembersChanged {
            space,
            members: after.into_iter().collect(),
        });
        self.tell_members(space, before, fx);
    }

    /// Offers the consents of `space` to every member peer, and starts syncing with the
    /// peers of bodies that were not members `before`.
    fn tell_members(&mut self, space: SpaceId, before: &BTreeSet<BodyId>, fx: &mut Effects) {
        // Every member peer hears of it (a body just added included: it learns the space).
        let peers: Vec<PeerKey> = self
            .peers
            .keys()
            .copied()
            .filter(|k| self.peer_is_member(k, &space))
            .collect();
        for peer in peers {
            self.offer_membership(peer, space, fx);
            if self.peer_body(&peer).is_some_and(|b| !before.contains(&b)) {
                self.start_sync(peer, space, fx);
            }
        }
    }

    /// Consents a peer sent. For a space we hold, from a member peer; for one we do not,
    /// with its genesis, if the consents make this body and the peer's members: then it is
    /// an invitation, waiting for this body's operator like any other.
    pub(super) fn receive_consents(
        &mut self,
        peer: PeerKey,
        space: SpaceId,
        genesis: Option<Genesis>,
        consents: Vec<Consent>,
        fx: &mut Effects,
    ) -> Result<(), (Refusal, String)> {
        let Some(peer_body) = self.peer_body(&peer) else {
            return Err((Refusal::NotIdentified, "send hello first".into()));
        };
        // Count only consents signed by a key its body authorised and did not revoke, from a
        // body that is or was a member (a body being added need not consent), on a state of
        // this space's chain: anything else could only fill the space's consent bound.
        // For a space held, "revoked" means by a revocation applied in it, which every
        // member holds: the same consents are dropped on every node (and would not count
        // anyway). For an invitation, by any revocation held.
        let held = self.spaces.get(&space);
        let authorised: Vec<Consent> = consents
            .into_iter()
            .filter(|c| {
                c.change.space == space
                    && self.certs.authorised(&c.cert.signer, &c.cert.body)
                    && match held {
                        Some(s) => {
                            !s.is_revoked(&c.cert.key, &c.cert.body)
                                && s.members().states.contains(&c.change.prev)
                                && s.all_bodies().contains(&c.body())
                        }
                        None => !self.revocations.is_revoked(&c.cert.body, &c.cert.key),
                    }
            })
            .collect();
        if self.spaces.contains_key(&space) {
            if !self.peer_is_member(&peer, &space) {
                return Err((
                    Refusal::NotMember,
                    "your body is not a member of that space".into(),
                ));
            }
            for c in authorised {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.consents_sent.insert(digest(&c));
                }
                self.take_consent(space, c, fx);
            }
            return Ok(());
        }
        if self.invited.contains_key(&space) {
            let held = self.invited_consents.entry(space).or_default();
            for c in authorised {
                if held.len() >= crate::sync::MAX_MESSAGE_CONSENTS {
                    break;
                }
                if !held.contains(&c) {
                    fx.persist.consents.push((space, c.clone()));
                    held.push(c);
                }
            }
            return Err((
                Refusal::NotAccepted,
                "this body's operator has not accepted that space yet".into(),
            ));
        }
        let Some(genesis) = genesis else {
            return Err((Refusal::UnknownSpace, "unknown space and no genesis".into()));
        };
        let members = Members::derive(&genesis, &authorised);
        if !members.current.contains(&self.identity.body()) || !members.current.contains(&peer_body)
        {
            return Err((
                Refusal::NotMember,
                "this body is not a member of that space".into(),
            ));
        }
        if !self.trusted.contains(&peer_body) {
            return Err((
                Refusal::Untrusted,
                "this node's operator has not added your body".into(),
            ));
        }
        // Counted with the spaces its creator introduced, like any new space.
        let creator = genesis.creator.body;
        let introduced = self
            .spaces
            .values()
            .map(crate::space::Space::genesis)
            .chain(self.invited.values())
            .filter(|g| g.creator.body == creator)
            .count();
        if introduced >= super::MAX_SPACES_PER_CREATOR {
            return Err((
                Refusal::Invalid,
                format!(
                    "that space's creator has introduced {} spaces here, the most one body may",
                    super::MAX_SPACES_PER_CREATOR
                ),
            ));
        }
        // Added after creation: always the operator's decision.
        let untrusted: Vec<BodyId> = members
            .current
            .iter()
            .filter(|b| **b != self.identity.body() && !self.trusted.contains(b))
            .copied()
            .collect();
        fx.persist.invited.push(genesis.clone());
        for c in &authorised {
            fx.persist.consents.push((space, c.clone()));
        }
        fx.events.push(Event::SpaceInvited {
            peer,
            space,
            untrusted,
        });
        self.invited.insert(space, genesis);
        self.invited_consents.insert(space, authorised);
        Err((
            Refusal::NotAccepted,
            "this body's operator has not accepted that space yet".into(),
        ))
    }

    /// Sends `peer` the consents of `space` it has not been sent on this connection (with
    /// the genesis if it may not hold the space).
    pub(super) fn offer_membership(&mut self, peer: PeerKey, space: SpaceId, fx: &mut Effects) {
        let Some(s) = self.spaces.get(&space) else {
            return;
        };
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if p.body.is_none() || !p.acked {
            return;
        }
        let fresh: Vec<Consent> = s
            .consents()
            .iter()
            .filter(|c| !p.consents_sent.contains(&digest(c)))
            .cloned()
            .collect();
        if fresh.is_empty() {
            return;
        }
        let genesis = (!p.told.contains_key(&space)).then(|| s.genesis().clone());
        for batch in fresh.chunks(MAX_MESSAGE_CONSENTS) {
            for c in batch {
                p.consents_sent.insert(digest(c));
            }
            fx.send.push((
                peer,
                Message::Membership {
                    space,
                    genesis: genesis.clone(),
                    consents: batch.to_vec(),
                },
            ));
        }
    }
}

fn digest(c: &Consent) -> [u8; 32] {
    *blake3::hash(&c.encode()).as_bytes()
}
