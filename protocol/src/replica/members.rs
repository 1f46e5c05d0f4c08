//! The replica's member keys and revocations: which of this body's keys may write here,
//! and how a body's withdrawal of a key reaches every space and every node.
//!
//! A revocation is accepted from a peer only for a space both bodies share, only if the
//! revoking body is a member of it, and it is applied to every space held where it decides
//! something ([`Space::revoke`]), identically on every node.

use std::collections::BTreeMap;

use super::{Effects, Event, PeerKey, Replica, ReplicaError};
use crate::cert::{BodyId, Certificate};
use crate::entry::Entry;
use crate::keys::{PublicKey, SecretKey};
use crate::revocation::{Revocation, Revocations, Scope};
use crate::space::SpaceId;
use crate::sync::{Message, MAX_MESSAGE_REVOCATIONS};

impl Replica {
    /// Adds a further member key of this body (its certificate issued by our body key).
    pub fn add_member(&mut self, secret: SecretKey, cert: Certificate) -> Result<(), ReplicaError> {
        if cert.body != self.identity.body() || !cert.is_member() || cert.key != secret.public() {
            return Err(ReplicaError::NotOurMember);
        }
        let known = cert.key == self.identity.member.public()
            || self.members.iter().any(|(_, c)| c.key == cert.key);
        if !known {
            self.certs.insert(cert.clone());
            self.members.push((secret, cert));
        }
        Ok(())
    }

    /// Every member key held here: the first member, then the others by key.
    pub fn members(&self) -> impl Iterator<Item = &Certificate> {
        std::iter::once(&self.identity.member_cert).chain(self.members.iter().map(|(_, c)| c))
    }

    /// The key and certificate to write with: `author`, or the first member.
    pub(super) fn writer(
        &self,
        author: Option<&PublicKey>,
    ) -> Result<(SecretKey, Certificate), ReplicaError> {
        let (secret, cert) = match author {
            None => (&self.identity.member, &self.identity.member_cert),
            Some(key) if *key == self.identity.member.public() => {
                (&self.identity.member, &self.identity.member_cert)
            }
            Some(key) => self
                .members
                .iter()
                .find(|(_, c)| c.key == *key)
                .map(|(s, c)| (s, c))
                .ok_or(ReplicaError::UnknownMember(*key))?,
        };
        if self.revocations.is_revoked(&cert.body, &cert.key) || self.frozen.contains(&cert.key) {
            return Err(ReplicaError::MemberRevoked(cert.key));
        }
        Ok((secret.clone(), cert.clone()))
    }

    /// Stops writing with `key` (before its revocation is signed, so the seqs it states
    /// are final).
    pub fn freeze_member(&mut self, key: PublicKey) {
        self.frozen.insert(key);
    }

    pub fn is_frozen(&self, key: &PublicKey) -> bool {
        self.frozen.contains(key)
    }

    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    /// How far this node wrote with `key` in each space this body takes part in (for a
    /// revocation of it: those entries stay). Counts only what this node signed itself:
    /// entries signed elsewhere with a copy of the key are not kept. Spaces where it wrote
    /// nothing are listed with 0.
    pub fn reach_of(&self, key: &PublicKey) -> BTreeMap<SpaceId, u64> {
        self.spaces
            .keys()
            .chain(self.invited.keys())
            .map(|id| (*id, self.own_tips.get(&(*id, *key)).copied().unwrap_or(0)))
            .collect()
    }

    /// Records (from storage) that this node signed `key`'s entries up to `seq` in `space`.
    pub fn restore_own_tip(&mut self, space: SpaceId, key: PublicKey, seq: u64) {
        let tip = self.own_tips.entry((space, key)).or_insert(seq);
        *tip = (*tip).max(seq);
    }

    /// Notes an entry this node just signed.
    pub(super) fn signed_here(&mut self, space: SpaceId, entry: &Entry, fx: &mut Effects) {
        self.restore_own_tip(space, entry.author(), entry.seq());
        fx.persist.own.push((space, entry.author(), entry.seq()));
    }

    /// Entries by this node's own member keys that it did not sign: someone else holds a
    /// copy of the key (or this node was restored from an old backup).
    pub(super) fn foreign_use(&self, space: SpaceId, accepted: &[Entry]) -> Vec<(PublicKey, u64)> {
        accepted
            .iter()
            .filter(|e| self.members().any(|c| c.key == e.author()))
            .filter(|e| {
                self.own_tips
                    .get(&(space, e.author()))
                    .copied()
                    .unwrap_or(0)
                    < e.seq()
            })
            .map(|e| (e.author(), e.seq()))
            .collect()
    }

    /// Restores a revocation from storage (before the spaces are inserted).
    pub fn restore_revocation(&mut self, revocation: Revocation) {
        self.revocations.insert(revocation);
    }

    /// Adds a revocation made by this body's operator (or relayed by the API): verifies
    /// it, keeps it, applies it to every space it decides something in and sends it to the
    /// member peers of those spaces.
    pub fn add_revocation(&mut self, revocation: Revocation) -> Result<Effects, ReplicaError> {
        revocation
            .verify()
            .map_err(|_| ReplicaError::ForeignRevocation)?;
        if revocation.body != self.identity.body() && !self.trusted.contains(&revocation.body) {
            return Err(ReplicaError::ForeignRevocation);
        }
        if !self.certs.authorised(&revocation.signer, &revocation.body) {
            return Err(ReplicaError::ForeignRevocation);
        }
        let mut fx = Effects::default();
        self.take_revocation(revocation, &mut fx);
        Ok(fx)
    }

    /// Revocations a member peer sent for `space`.
    pub(super) fn receive_revocations(
        &mut self,
        peer: PeerKey,
        space: SpaceId,
        revocations: Vec<Revocation>,
        fx: &mut Effects,
    ) {
        let Some(created_at) = self.spaces.get(&space).map(|s| s.genesis().created_at) else {
            return;
        };
        let accept = |me: &Self, r: &Revocation| {
            me.spaces.get(&space).is_some_and(|s| s.has_had(&r.body))
                && r.applies_to(&space, created_at)
        };
        self.take_from_peer(peer, revocations, accept, fx, |refused| {
            (
                Some(space),
                format!(
                    "{refused} revocation(s) by bodies that are not members of the space, or for other spaces"
                ),
            )
        });
    }

    /// Revocations of scope `Later` a peer sent outside any space: taken from a body this
    /// node is or trusts, signed by a key authorised for it; the rest are refused.
    pub(super) fn receive_lasting_revocations(
        &mut self,
        peer: PeerKey,
        revocations: Vec<Revocation>,
        fx: &mut Effects,
    ) {
        let accept = |me: &Self, r: &Revocation| {
            matches!(r.scope, Scope::Later)
                && (r.body == me.identity.body() || me.trusted.contains(&r.body))
        };
        self.take_from_peer(peer, revocations, accept, fx, |refused| {
            (
                None,
                format!(
                    "{refused} lasting revocation(s) of other scopes, by bodies this node does not trust, or by unauthorised keys"
                ),
            )
        });
    }

    /// Takes each of a peer's revocations that `accept` allows and whose signer is
    /// authorised for its body (remembering the peer has it); reports the rest, if any,
    /// with `refusal(count)`: the space it concerns and the reason.
    fn take_from_peer(
        &mut self,
        peer: PeerKey,
        revocations: Vec<Revocation>,
        accept: impl Fn(&Self, &Revocation) -> bool,
        fx: &mut Effects,
        refusal: impl FnOnce(usize) -> (Option<SpaceId>, String),
    ) {
        let mut refused = 0usize;
        for r in revocations {
            if accept(self, &r) && self.certs.authorised(&r.signer, &r.body) {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.revocations_sent.insert(digest(&r));
                }
                self.take_revocation(r, fx);
            } else {
                refused += 1;
            }
        }
        if refused > 0 {
            let (space, reason) = refusal(refused);
            fx.events.push(Event::PeerRefused {
                peer,
                space,
                reason,
            });
        }
    }

    /// The held revocations of scope `Later` of this body and the bodies it trusts.
    pub(super) fn lasting_revocations(&self) -> impl Iterator<Item = &Revocation> {
        let own = self.identity.body();
        self.revocations
            .all()
            .filter(|r| matches!(r.scope, Scope::Later))
            .filter(move |r| r.body == own || self.trusted.contains(&r.body))
    }

    /// The answer to a peer's lasting revocations: all ours (at most one message's worth),
    /// whether sent before or not — it asks when it may have refused them (it had not
    /// trusted their body yet), and asks rarely.
    pub(super) fn lasting_revocations_answer(&mut self, peer: PeerKey) -> Vec<Revocation> {
        let all: Vec<Revocation> = self
            .lasting_revocations()
            .take(MAX_MESSAGE_REVOCATIONS)
            .cloned()
            .collect();
        if let Some(p) = self.peers.get_mut(&peer) {
            p.revocations_sent.extend(all.iter().map(digest));
        }
        all
    }

    /// The lasting revocations `peer` has not had from or to us (at most one message's
    /// worth); marks them sent.
    fn lasting_revocations_for(&mut self, peer: PeerKey) -> Vec<Revocation> {
        let Some(sent) = self.peers.get(&peer).map(|p| &p.revocations_sent) else {
            return Vec::new();
        };
        let fresh: Vec<Revocation> = self
            .lasting_revocations()
            .filter(|r| !sent.contains(&digest(r)))
            .take(MAX_MESSAGE_REVOCATIONS)
            .cloned()
            .collect();
        if let Some(p) = self.peers.get_mut(&peer) {
            p.revocations_sent.extend(fresh.iter().map(digest));
        }
        fresh
    }

    /// After this node trusts `body`: asks each connected node of it for its lasting
    /// revocations (offering ours), which it may have sent before we would take them.
    pub(super) fn ask_lasting_revocations(&mut self, body: BodyId, fx: &mut Effects) {
        let peers: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| p.body == Some(body) && p.acked)
            .map(|(k, _)| *k)
            .collect();
        for peer in peers {
            let revocations = self.lasting_revocations_for(peer);
            fx.send.push((peer, Message::Revocations { revocations }));
        }
    }

    /// Sends `peer` the lasting revocations it has not had, once it reads our requests.
    pub(super) fn offer_lasting_revocations(&mut self, peer: PeerKey, fx: &mut Effects) {
        if !self
            .peers
            .get(&peer)
            .is_some_and(|p| p.body.is_some() && p.acked)
        {
            return;
        }
        loop {
            let batch = self.lasting_revocations_for(peer);
            if batch.is_empty() {
                break;
            }
            fx.send
                .push((peer, Message::Revocations { revocations: batch }));
        }
    }

    fn take_revocation(&mut self, revocation: Revocation, fx: &mut Effects) {
        if !self.revocations.insert(revocation.clone()) {
            return;
        }
        fx.persist.revocations.push(revocation.clone());
        // A revoked node key: that node proves the body no more.
        let revoked_nodes: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(k, p)| **k == revocation.key && p.body == Some(revocation.body))
            .map(|(k, _)| *k)
            .collect();
        for peer in revoked_nodes {
            self.peers.remove(&peer);
            fx.events.push(Event::NodeRevoked { peer });
        }
        if matches!(revocation.scope, Scope::Later) {
            let peers: Vec<PeerKey> = self.peers.keys().copied().collect();
            for peer in peers {
                self.offer_lasting_revocations(peer, fx);
            }
        }
        let spaces: Vec<SpaceId> = match revocation.scope {
            Scope::Space { space, .. } | Scope::Fork { space, .. } => vec![space],
            Scope::Later => self.spaces.keys().copied().collect(),
        };
        for space in spaces {
            self.apply_revocations(space, fx);
            let members: Vec<PeerKey> = self
                .peers
                .keys()
                .copied()
                .filter(|k| self.peer_is_member(k, &space))
                .collect();
            for peer in members {
                self.offer_revocations(peer, space, fx);
            }
        }
    }

    /// Applies every held revocation that decides something in `space`. A revoked key's
    /// consents count no more, so the members may change: then the member peers hear of it
    /// as after a consent, and the revocations of bodies that became members apply too.
    pub(super) fn apply_revocations(&mut self, space: SpaceId, fx: &mut Effects) {
        let Some(before) = self.spaces.get(&space).map(|s| s.members().current.clone()) else {
            return;
        };
        self.revoke_in(space, fx);
        let after = self.members_after_revocations(space, fx);
        if after != before {
            self.members_changed(space, &before, after, fx);
        }
    }

    /// Applies the held revocations again while the bodies that are or were members grow
    /// (each pass can only add bodies whose revocations then count); returns the members.
    pub(super) fn members_after_revocations(
        &mut self,
        space: SpaceId,
        fx: &mut Effects,
    ) -> std::collections::BTreeSet<BodyId> {
        // At most one pass per body that can join, plus one.
        for _ in 0..=crate::space::MAX_MEMBERS {
            let Some(bodies) = self.spaces.get(&space).map(crate::space::Space::all_bodies) else {
                break;
            };
            self.revoke_in(space, fx);
            if self
                .spaces
                .get(&space)
                .map(crate::space::Space::all_bodies)
                .as_ref()
                == Some(&bodies)
            {
                break;
            }
        }
        self.spaces
            .get(&space)
            .map(|s| s.members().current.clone())
            .unwrap_or_default()
    }

    /// [`Replica::apply_revocations`] without telling anyone.
    fn revoke_in(&mut self, space: SpaceId, fx: &mut Effects) {
        let Some(s) = self.spaces.get_mut(&space) else {
            return;
        };
        let g = s.genesis();
        let (members, created_at) = (s.all_bodies(), g.created_at);
        type Cut = (BodyId, PublicKey, u64, Option<(u64, [u8; 32])>);
        let cutoffs: Vec<Cut> = self
            .revocations
            .for_space(&members, &space, created_at)
            .filter_map(|r| {
                let pin = self.revocations.fork_pin(&r.body, &r.key, &space);
                self.revocations
                    .cutoff(&r.body, &r.key, &space, created_at)
                    .map(|up_to| (r.body, r.key, up_to, pin))
            })
            .collect();
        for (body, key, up_to, pin) in cutoffs {
            match s.revoke(key, body, up_to, pin) {
                Ok(Some(withdrawal)) => {
                    if !withdrawal.withdrawn.is_empty() {
                        fx.events.push(Event::Withdrawn {
                            space,
                            key,
                            count: withdrawal.withdrawn.len(),
                        });
                    }
                    fx.persist.withdrawals.push((space, withdrawal));
                }
                Ok(None) => {}
                Err(e) => fx.events.push(Event::PeerRefused {
                    peer: self.identity.node_cert.key,
                    space: Some(space),
                    reason: format!("applying a revocation: {e}"),
                }),
            }
        }
    }

    /// Sends `peer` the revocations deciding something in `space` it has not been sent
    /// on this connection.
    pub(super) fn offer_revocations(&mut self, peer: PeerKey, space: SpaceId, fx: &mut Effects) {
        let Some(s) = self.spaces.get(&space) else {
            return;
        };
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if p.body.is_none() || !p.acked {
            return;
        }
        let g = s.genesis();
        let bodies = s.all_bodies();
        let fresh: Vec<Revocation> = self
            .revocations
            .for_space(&bodies, &space, g.created_at)
            .filter(|r| !p.revocations_sent.contains(&digest(r)))
            .cloned()
            .collect();
        for batch in fresh.chunks(MAX_MESSAGE_REVOCATIONS) {
            for r in batch {
                p.revocations_sent.insert(digest(r));
            }
            fx.send.push((
                peer,
                Message::Revoke {
                    space,
                    revocations: batch.to_vec(),
                },
            ));
        }
    }
}

fn digest(r: &Revocation) -> [u8; 32] {
    *blake3::hash(&r.encode()).as_bytes()
}
