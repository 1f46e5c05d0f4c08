//! The replica: a node's sans-IO state machine. It holds the node's identity, the
//! certificates it knows, its spaces and what it knows of each connected peer, and turns
//! protocol events into [`Effects`]: what to persist, what to send, what to report.
//!
//! The caller (the node) must carry out `persist` durably *before* it sends the response
//! or any message in `send`: nothing is acknowledged or forwarded that a crash could lose.
//!
//! Invariants:
//! - Nothing about a space is sent to a peer before the peer proved its body with a node
//!   certificate whose key is the peer's transport key, and only if that body is a member
//!   of the space.
//! - Every entry, local or remote, goes through [`Space::receive`] /
//!   [`Space::local_change`]; nothing else writes a space.
//! - A new space is joined only if the body that created it is *trusted*: its node was
//!   added by this node's operator (see [`Replica::trust`]), and so is every other member
//!   body — or this node's operator accepted it ([`Replica::accept`]); until then it is
//!   only an *invitation*: nothing of it is received or sent. Certificates of untrusted
//!   peers are never persisted. Membership, not trust, decides who receives a space.
//! - Nothing but `Hello` is sent to a peer before it answered our `Hello`: a node may then
//!   treat any other request from a peer it has not identified as hostile.
//! - Time and randomness come in as arguments.

mod members;
mod membership;
mod offline;

use std::collections::{BTreeMap, HashMap, HashSet};

use automerge::transaction::Transaction;
use automerge::AutomergeError;

use crate::cert::{BodyId, Certificate, Certificates};
use crate::entry::Entry;
use crate::keys::{PublicKey, SecretKey};
use crate::model::{ModelAction, ModelError};
use crate::revocation::{Revocation, Revocations};
use crate::space::{
    Equivocation, Genesis, Received, Space, SpaceError, SpaceId, SpaceKind, Vector, Withdrawal,
};
use crate::sync::{Budget, Message, Refusal};

/// A peer is named by its node key (the Ed25519 key inside its libp2p peer id).
pub type PeerKey = PublicKey;

/// What the node remembers about a request it sent, to report how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub space: Option<SpaceId>,
    /// It was a pull (`SyncRequest`).
    pub pull: bool,
}

impl Sent {
    pub fn of(message: &Message) -> Sent {
        Sent {
            space: message.space(),
            pull: matches!(message, Message::SyncRequest { .. }),
        }
    }
}

/// Who this node is.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The body's certificate for this node's transport key.
    pub node_cert: Certificate,
    /// The member key that signs this node's entries.
    pub member: SecretKey,
    /// The body's certificate for `member`.
    pub member_cert: Certificate,
}

impl Identity {
    pub fn body(&self) -> BodyId {
        self.node_cert.body
    }
}

/// Batch sizes for sync traffic.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub batch_entries: usize,
    pub batch_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            batch_entries: 4096,
            batch_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Most spaces and invitations one body may introduce on a node.
pub const MAX_SPACES_PER_CREATOR: usize = 10_000;
/// Most bytes of entries waiting for dependencies, across all spaces of a node.
pub const MAX_PENDING_BYTES_TOTAL: usize = 256 * 1024 * 1024;

/// What the node must do after an event: persist first, then send.
#[derive(Debug, Default)]
pub struct Effects {
    pub persist: Persist,
    pub send: Vec<(PeerKey, Message)>,
    pub events: Vec<Event>,
}

/// New durable state.
#[derive(Debug, Default)]
pub struct Persist {
    pub spaces: Vec<Genesis>,
    pub certs: Vec<Certificate>,
    /// In log order per space.
    pub entries: Vec<Entry>,
    pub equivocations: Vec<(SpaceId, Equivocation)>,
    /// Bodies newly trusted.
    pub trusted: Vec<BodyId>,
    /// Bodies no longer trusted.
    pub untrusted: Vec<BodyId>,
    /// Spaces this body was invited to and has not accepted (a space in `spaces` is no
    /// longer an invitation).
    pub invited: Vec<Genesis>,
    /// Revocations newly held (verified).
    pub revocations: Vec<Revocation>,
    /// Log rewrites by revocations, in order: apply after `entries`.
    pub withdrawals: Vec<(SpaceId, Withdrawal)>,
    /// Entries this node signed itself: (space, member key, seq). What a revocation of
    /// the key keeps is what its own node signed, not what others signed with a copy.
    pub own: Vec<(SpaceId, PublicKey, u64)>,
    /// Consents to membership changes newly held.
    pub consents: Vec<(SpaceId, crate::membership::Consent)>,
}

impl Persist {
    pub fn is_empty(&self) -> bool {
        self.spaces.is_empty()
            && self.certs.is_empty()
            && self.entries.is_empty()
            && self.equivocations.is_empty()
            && self.trusted.is_empty()
            && self.untrusted.is_empty()
            && self.invited.is_empty()
            && self.revocations.is_empty()
            && self.withdrawals.is_empty()
            && self.own.is_empty()
            && self.consents.is_empty()
    }
}

/// Something worth reporting (the node logs these; warnings name the peer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    PeerIdentified {
        peer: PeerKey,
        body: BodyId,
        body_name: String,
    },
    /// We refused something the peer sent.
    PeerRefused {
        peer: PeerKey,
        space: Option<SpaceId>,
        reason: String,
    },
    /// The peer refused something we sent.
    RefusedByPeer {
        peer: PeerKey,
        space: Option<SpaceId>,
        reason: Refusal,
        detail: String,
    },
    SpaceJoined {
        peer: PeerKey,
        space: SpaceId,
    },
    /// A trusted body invited this body into a space with members this node does not
    /// trust; it waits for the operator's acceptance.
    SpaceInvited {
        peer: PeerKey,
        space: SpaceId,
        untrusted: Vec<BodyId>,
    },
    Received {
        peer: PeerKey,
        space: SpaceId,
        accepted: usize,
        duplicates: usize,
        pending: usize,
    },
    EntriesRejected {
        peer: PeerKey,
        space: SpaceId,
        count: usize,
        /// [`crate::space::Rejection::code`] of the reason.
        code: &'static str,
        reason: String,
    },
    Equivocation {
        peer: PeerKey,
        space: SpaceId,
        author: PublicKey,
        seq: u64,
    },
    /// A peer sent an entry signed with one of this node's own member keys that this node
    /// did not sign: someone else holds a copy of the key (revoke it), or this node was
    /// restored from an old backup.
    ForeignUseOfOwnKey {
        peer: PeerKey,
        space: SpaceId,
        key: PublicKey,
        seq: u64,
    },
    /// A connected peer's node key was revoked by its body: disconnect it (its Hello is
    /// refused from now on).
    NodeRevoked {
        peer: PeerKey,
    },
    /// This body's leave was displaced by another change on its state (another body left
    /// at the same time, say); it leaves again on the new state (`change`).
    LeavingAgain {
        space: SpaceId,
        change: [u8; 32],
    },
    /// The space's member bodies changed (a body added, left or removed).
    MembersChanged {
        space: SpaceId,
        members: Vec<BodyId>,
    },
    /// A revocation took entries out of a space (past the key's cutoff, or built on such
    /// an entry).
    Withdrawn {
        space: SpaceId,
        key: PublicKey,
        count: usize,
    },
}

/// Why a local operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    #[error("no such space: {0}")]
    UnknownSpace(SpaceId),
    #[error("no invitation to space {0}")]
    NotInvited(SpaceId),
    #[error(transparent)]
    Space(#[from] SpaceError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("no member key {0:?} on this node")]
    UnknownMember(PublicKey),
    #[error("member key {0:?} was revoked; it writes nothing more")]
    MemberRevoked(PublicKey),
    #[error("certificate is not a member certificate of this body for that key")]
    NotOurMember,
    #[error("revocation is not by a body this node deals with")]
    ForeignRevocation,
    #[error("the space's members changed since: propose again on the current state")]
    StaleChange,
    #[error("that body is not another member body of the space")]
    NotAMember,
    #[error("that body is already a member body of the space")]
    AlreadyAMember,
    #[error("a body is removed against its will only from a space of three or more bodies (in a space of two, either may leave)")]
    TooFewToRemove,
    #[error("this body already agreed to another change at this point of the space's membership (withdraw that consent first)")]
    AlreadyConsented,
    #[error("this body has no consent to that change to withdraw (or withdrew it already)")]
    NotConsented,
    #[error("a withdrawal is itself not consented to")]
    NotAChange,
    #[error("no member of this body on this node may sign for it (add one with `confer member add --can-sign`, or name one with --as)")]
    NoSigner,
}

#[derive(Debug, Default)]
struct PeerState {
    body: Option<BodyId>,
    body_name: String,
    /// The node certificate it proved its body with.
    node_cert: Option<Certificate>,
    /// Re-run sync for every shared space once the next HelloAck arrives.
    resync_on_ack: bool,
    /// It answered our Hello: it has seen our node certificate, so it will not refuse our
    /// requests as coming from an unproven peer. Nothing but Hello is sent before.
    acked: bool,
    /// The last vector the peer told us, per space (it holds at least that).
    told: HashMap<SpaceId, Vector>,
    /// What we sent that extends `told` contiguously (optimistic; reset on failure).
    sent: HashMap<SpaceId, Vector>,
    syncing: HashSet<SpaceId>,
    /// Revocations sent on this connection (blake3 of the encoding).
    revocations_sent: HashSet<[u8; 32]>,
    /// Membership consents sent on this connection (blake3 of the encoding).
    consents_sent: HashSet<[u8; 32]>,
}

impl PeerState {
    fn known(&self, space: &SpaceId) -> Vector {
        let mut v = self.told.get(space).cloned().unwrap_or_default();
        if let Some(sent) = self.sent.get(space) {
            for (a, s) in &sent.0 {
                let e = v.0.entry(*a).or_insert(0);
                *e = (*e).max(*s);
            }
        }
        v
    }
}

/// A node's whole sync state. See the module docs.
pub struct Replica {
    identity: Identity,
    certs: Certificates,
    trusted: std::collections::BTreeSet<BodyId>,
    spaces: BTreeMap<SpaceId, Space>,
    invited: BTreeMap<SpaceId, Genesis>,
    peers: HashMap<PeerKey, PeerState>,
    limits: Limits,
    /// Further member keys of this body held on this node, besides `identity.member`, in
    /// the order they were added.
    members: Vec<(SecretKey, Certificate)>,
    /// Member keys this node no longer writes with (a revocation is being signed).
    frozen: std::collections::BTreeSet<PublicKey>,
    /// The last seq this node signed itself with each member key, per space.
    own_tips: HashMap<(SpaceId, PublicKey), u64>,
    /// This body's key changes, oldest first (from `identity.json`), sent with Hello.
    own_chain: Vec<Certificate>,
    /// Consents that made this body a member of an invitation (after the space's creation).
    invited_consents: BTreeMap<SpaceId, Vec<crate::membership::Consent>>,
    revocations: Revocations,
}

impl Replica {
    pub fn new(identity: Identity, limits: Limits) -> Replica {
        let mut certs = Certificates::new();
        certs.insert(identity.node_cert.clone());
        certs.insert(identity.member_cert.clone());
        let trusted = std::iter::once(identity.body()).collect();
        Replica {
            identity,
            certs,
            trusted,
            spaces: BTreeMap::new(),
            invited: BTreeMap::new(),
            peers: HashMap::new(),
            limits,
            members: Vec::new(),
            frozen: std::collections::BTreeSet::new(),
            own_tips: HashMap::new(),
            invited_consents: BTreeMap::new(),
            own_chain: Vec::new(),
            revocations: Revocations::new(),
        }
    }

    /// Trusts `body`: this node's operator added one of its nodes. A trusted body may
    /// introduce new spaces naming this body, and its certificates are kept. Returns what
    /// to persist (nothing if it was trusted already).
    pub fn trust(&mut self, body: BodyId) -> Effects {
        let mut fx = Effects::default();
        if !self.trusted.insert(body) {
            return fx;
        }
        fx.persist.trusted.push(body);
        self.ask_lasting_revocations(body, &mut fx);
        let certs: Vec<Certificate> = self
            .peers
            .values()
            .filter_map(|p| p.node_cert.clone())
            .filter(|c| c.body == body)
            .collect();
        for cert in certs {
            if self.certs.insert(cert.clone()) {
                fx.persist.certs.push(cert);
            }
        }
        // Invitations whose member bodies are now all trusted need no acceptance — except
        // those that reached us through a membership change: always the operator's call.
        let ready: Vec<SpaceId> = self
            .invited
            .iter()
            .filter(|(id, g)| {
                self.untrusted_members(g).is_empty() && !self.invited_consents.contains_key(*id)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            self.join_invited(id, &mut fx);
        }
        fx
    }

    /// This body's operator accepts an invitation: the space is joined and synced with its
    /// connected member peers.
    pub fn accept(&mut self, space: &SpaceId) -> Result<Effects, ReplicaError> {
        if !self.invited.contains_key(space) {
            return Err(ReplicaError::NotInvited(*space));
        }
        let mut fx = Effects::default();
        self.join_invited(*space, &mut fx);
        Ok(fx)
    }

    fn join_invited(&mut self, id: SpaceId, fx: &mut Effects) {
        let Some(genesis) = self.invited.remove(&id) else {
            return;
        };
        fx.persist.spaces.push(genesis.clone());
        let mut space = Space::new(genesis);
        for c in self.invited_consents.remove(&id).unwrap_or_default() {
            let _ = space.add_consent(c);
        }
        self.spaces.insert(id, space);
        self.apply_revocations(id, fx);
        let peers: Vec<PeerKey> = self
            .peers
            .keys()
            .copied()
            .filter(|k| self.peer_is_member(k, &id))
            .collect();
        for peer in peers {
            self.start_sync(peer, id, fx);
        }
    }

    /// Restores an invitation from storage.
    pub fn restore_invitation(&mut self, genesis: Genesis) {
        if !self.spaces.contains_key(&genesis.id()) {
            self.invited.insert(genesis.id(), genesis);
        }
    }

    /// Invitations waiting for this body's operator.
    pub fn invitations(&self) -> impl Iterator<Item = &Genesis> {
        self.invited.values()
    }

    /// The member bodies of an invitation now: the genesis's, changed by the consents held
    /// for it (an invitation that came through a membership change names this body only
    /// there; a consent by a key revoked in any revocation held does not count). Sorted.
    pub fn invitation_members(&self, genesis: &Genesis) -> Vec<BodyId> {
        let consents = self
            .invited_consents
            .get(&genesis.id())
            .map(Vec::as_slice)
            .unwrap_or_default();
        crate::membership::Members::derive_counting(
            genesis,
            consents
                .iter()
                .filter(|c| !self.revocations.is_revoked(&c.cert.body, &c.cert.key)),
        )
        .current
        .into_iter()
        .collect()
    }

    /// The member bodies of an invitation now ([`Replica::invitation_members`]), other than
    /// ours, that this node does not trust.
    pub fn untrusted_invitation_members(&self, genesis: &Genesis) -> Vec<BodyId> {
        self.invitation_members(genesis)
            .into_iter()
            .filter(|b| *b != self.identity.body() && !self.trusted.contains(b))
            .collect()
    }

    /// Member bodies of `genesis` (other than ours) this node does not trust.
    pub fn untrusted_members(&self, genesis: &Genesis) -> Vec<BodyId> {
        genesis
            .members
            .iter()
            .filter(|b| **b != self.identity.body() && !self.trusted.contains(b))
            .copied()
            .collect()
    }

    /// Withdraws trust from `body`: it introduces no new space here from now on. Spaces it
    /// already shares with this body stay (membership, not trust, decides who receives
    /// them); invitations it made wait for acceptance like any other. This node's own body
    /// cannot be untrusted. Returns what to persist.
    pub fn untrust(&mut self, body: &BodyId) -> Effects {
        let mut fx = Effects::default();
        if *body != self.identity.body() && self.trusted.remove(body) {
            fx.persist.untrusted.push(*body);
        }
        fx
    }

    /// Restores trust from storage.
    pub fn restore_trust(&mut self, body: BodyId) {
        self.trusted.insert(body);
    }

    pub fn is_trusted(&self, body: &BodyId) -> bool {
        self.trusted.contains(body)
    }

    pub fn trusted(&self) -> impl Iterator<Item = &BodyId> {
        self.trusted.iter()
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn certs(&self) -> &Certificates {
        &self.certs
    }

    /// Adds a certificate loaded from storage.
    pub fn add_cert(&mut self, cert: Certificate) {
        self.certs.insert(cert);
    }

    /// Adds certificates in any order (a body's key chain before what its later keys
    /// signed); returns those no chain authorises.
    pub fn add_certs(&mut self, certs: Vec<Certificate>) -> Vec<Certificate> {
        self.certs.insert_all(certs)
    }

    /// Adds a certificate of this body's own new key (after `confer body-key rotate`) and
    /// tells every connected peer with a fresh Hello, so they accept what the new key signs.
    pub fn add_own_body_key(&mut self, cert: Certificate) -> Effects {
        let mut fx = Effects::default();
        if cert.body != self.identity.body()
            || !cert.is_body_key()
            || self.own_chain.contains(&cert)
            || self.own_chain.len() >= crate::sync::MAX_CHAIN
            || !self.certs.authorised(&cert.signer, &cert.body)
        {
            return fx;
        }
        self.own_chain.push(cert.clone());
        if self.certs.insert(cert.clone()) {
            fx.persist.certs.push(cert);
        }
        let peers: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| p.acked)
            .map(|(k, _)| *k)
            .collect();
        for peer in peers {
            fx.send.push((
                peer,
                Message::Hello {
                    node: self.identity.node_cert.clone(),
                    chain: self.own_chain(),
                },
            ));
        }
        fx
    }

    /// Adds a space restored from storage.
    /// Adds a space restored from storage (revocations restored first). Returns what a
    /// revocation the stored log did not reflect yet takes out of it, to persist.
    pub fn insert_space(&mut self, mut space: Space) -> Effects {
        let id = space.id();
        let mut fx = Effects::default();
        // A space restored with its consents: the log must be what they give (a store
        // written before membership was settled this way may differ).
        match space.settle() {
            Ok(Some(w)) => fx.persist.withdrawals.push((id, w)),
            Ok(None) => {}
            Err(e) => fx.events.push(Event::PeerRefused {
                peer: self.identity.node_cert.key,
                space: Some(id),
                reason: format!("settling the members: {e}"),
            }),
        }
        self.spaces.insert(id, space);
        self.apply_revocations(id, &mut fx);
        fx
    }

    pub fn space(&self, id: &SpaceId) -> Option<&Space> {
        self.spaces.get(id)
    }

    pub fn space_mut(&mut self, id: &SpaceId) -> Option<&mut Space> {
        self.spaces.get_mut(id)
    }

    pub fn spaces(&self) -> impl Iterator<Item = &Space> {
        self.spaces.values()
    }

    /// Connected peers and, once proven, their bodies.
    pub fn peers(&self) -> impl Iterator<Item = (PeerKey, Option<(BodyId, &str)>)> {
        self.peers
            .iter()
            .map(|(k, p)| (*k, p.body.map(|b| (b, p.body_name.as_str()))))
    }

    /// What `peer` last told us it holds of `space` (its vector in a request, response
    /// or acknowledgement on this connection); `None`: it has said nothing of it yet.
    pub fn peer_told(&self, peer: &PeerKey, space: &SpaceId) -> Option<&Vector> {
        self.peers.get(peer).and_then(|p| p.told.get(space))
    }

    pub fn peer_body(&self, peer: &PeerKey) -> Option<BodyId> {
        self.peers.get(peer).and_then(|p| p.body)
    }

    /// A transport connection to `peer` is up: introduce ourselves.
    pub fn connected(&mut self, peer: PeerKey) -> Effects {
        self.peers.entry(peer).or_default();
        let mut fx = Effects::default();
        fx.send.push((
            peer,
            Message::Hello {
                node: self.identity.node_cert.clone(),
                chain: self.own_chain(),
            },
        ));
        fx
    }

    /// The last connection to `peer` closed.
    pub fn disconnected(&mut self, peer: &PeerKey) {
        self.peers.remove(peer);
    }

    /// A request we sent to `peer` got no usable answer (failure, timeout, or an answer
    /// that did not decode).
    pub fn request_failed(&mut self, peer: &PeerKey, sent: Sent) {
        if let (Some(p), Some(space)) = (self.peers.get_mut(peer), sent.space) {
            if sent.pull {
                p.syncing.remove(&space);
            }
            p.sent.remove(&space);
        }
    }

    /// A request we sent to `peer` was answered. Call before [`Replica::handle_response`]:
    /// whatever the answer says (even a refusal naming no space, or the wrong message),
    /// the pull it answers is over.
    pub fn request_answered(&mut self, peer: &PeerKey, sent: Sent) {
        if let (Some(p), Some(space), true) = (self.peers.get_mut(peer), sent.space, sent.pull) {
            p.syncing.remove(&space);
        }
    }

    /// Anti-entropy: start a sync round for every shared space with every proven peer.
    pub fn tick(&mut self) -> Effects {
        let mut fx = Effects::default();
        let peers: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| p.body.is_some())
            .map(|(k, _)| *k)
            .collect();
        for peer in peers {
            self.sync_all_with(peer, &mut fx);
        }
        fx
    }

    /// Creates a space with `members` (our body is added) and its first content.
    pub fn create_space<F>(
        &mut self,
        kind: SpaceKind,
        members: &[BodyId],
        created_at: u64,
        nonce: [u8; 16],
        now_ms: i64,
        edit: F,
    ) -> Result<(SpaceId, Effects), ReplicaError>
    where
        F: FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
    {
        self.create_space_as(None, kind, members, created_at, nonce, now_ms, edit)
    }

    /// [`Self::create_space`] as the member key `author` (`None`: the node's first member).
    #[allow(clippy::too_many_arguments)]
    pub fn create_space_as<F>(
        &mut self,
        author: Option<&PublicKey>,
        kind: SpaceKind,
        members: &[BodyId],
        created_at: u64,
        nonce: [u8; 16],
        now_ms: i64,
        edit: F,
    ) -> Result<(SpaceId, Effects), ReplicaError>
    where
        F: FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
    {
        let (secret, cert) = self.writer(author)?;
        let genesis = Genesis::create(kind, members, created_at, nonce, cert.clone(), &secret)?;
        let id = genesis.id();
        // A space created after a revocation was issued is covered by it at once: the same
        // path as every space joined.
        self.spaces.insert(id, Space::new(genesis.clone()));
        let mut fx = Effects::default();
        self.apply_revocations(id, &mut fx);
        let written = match self.spaces.get_mut(&id) {
            Some(space) => {
                space.local_change_signing(&secret, cert.body, cert.can_sign(), now_ms, edit)
            }
            None => return Err(ReplicaError::UnknownSpace(id)),
        };
        let entry = match written {
            Ok(entry) => entry,
            Err(e) => {
                self.spaces.remove(&id);
                return Err(e.into());
            }
        };
        fx.persist.spaces.push(genesis);
        if let Some(entry) = entry {
            self.signed_here(id, &entry, &mut fx);
            fx.persist.entries.push(entry.clone());
            self.push_to_members(id, &[entry], None, &mut fx);
        }
        Ok((id, fx))
    }

    /// Makes a local change in `space` and pushes it to the connected member peers.
    pub fn local_change<F>(
        &mut self,
        space: &SpaceId,
        now_ms: i64,
        edit: F,
    ) -> Result<(Option<Entry>, Effects), ReplicaError>
    where
        F: FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
    {
        self.local_change_as(None, space, now_ms, edit)
    }

    /// [`Self::local_change`] as the member key `author` (`None`: the node's first member).
    pub fn local_change_as<F>(
        &mut self,
        author: Option<&PublicKey>,
        space: &SpaceId,
        now_ms: i64,
        edit: F,
    ) -> Result<(Option<Entry>, Effects), ReplicaError>
    where
        F: FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
    {
        let (member, cert) = self.writer(author)?;
        let body = cert.body;
        let target = self
            .spaces
            .get_mut(space)
            .ok_or(ReplicaError::UnknownSpace(*space))?;
        let entry = target.local_change_signing(&member, body, cert.can_sign(), now_ms, edit)?;
        let mut fx = Effects::default();
        if let Some(entry) = &entry {
            self.signed_here(*space, entry, &mut fx);
            fx.persist.entries.push(entry.clone());
            self.push_to_members(*space, std::slice::from_ref(entry), None, &mut fx);
        }
        Ok((entry, fx))
    }

    /// Applies a model action to `space` as the member key `author` (`None`: the node's
    /// first member): the one write path for every kind of document. The action is
    /// validated, and checked to be for the space's kind, before it becomes a change; a
    /// refused action changes nothing.
    pub fn apply_as(
        &mut self,
        author: Option<&PublicKey>,
        space: &SpaceId,
        now_ms: i64,
        action: &ModelAction,
    ) -> Result<(Option<Entry>, Effects), ReplicaError> {
        let (secret, cert) = self.writer(author)?;
        let action = action.clone().placed(&cert.body);
        action.validate()?;
        let kind = self
            .spaces
            .get(space)
            .ok_or(ReplicaError::UnknownSpace(*space))?
            .genesis()
            .kind;
        if action.kind() != kind {
            return Err(ModelError::WrongKind {
                action: action.kind(),
                space: kind,
            }
            .into());
        }
        let writer = crate::model::Author {
            key: cert.key,
            body: cert.body,
            can_sign: cert.can_sign(),
        };
        let target = self
            .spaces
            .get(space)
            .ok_or(ReplicaError::UnknownSpace(*space))?;
        action.validate_in(target, &writer)?;
        let action = action.resolve(target, &self.certs, &writer, &secret)?;
        self.local_change_as(author, space, now_ms, |tx| action.apply(tx))
    }

    /// Handles a request from `peer`; returns the response and the effects.
    pub fn handle_request(&mut self, peer: PeerKey, msg: Message) -> (Message, Effects) {
        let mut fx = Effects::default();
        let response = match msg {
            Message::Hello { node, chain } => match self.identify(peer, node, chain, &mut fx) {
                Ok(()) => Message::HelloAck {
                    node: self.identity.node_cert.clone(),
                    chain: self.own_chain(),
                },
                Err(reason) => self.refuse(peer, None, Refusal::Invalid, reason, &mut fx),
            },
            Message::SyncRequest {
                space,
                genesis,
                vector,
                tips,
            } => match self.admit(peer, space, genesis, &mut fx) {
                Err((reason, detail)) => self.refuse(peer, Some(space), reason, detail, &mut fx),
                Ok(()) => {
                    let p = self.peers.entry(peer).or_default();
                    p.told.insert(space, vector.clone());
                    p.sent.remove(&space);
                    let Some(s) = self.spaces.get(&space) else {
                        return (
                            self.refuse(
                                peer,
                                Some(space),
                                Refusal::UnknownSpace,
                                "unknown space".into(),
                                &mut fx,
                            ),
                            fx,
                        );
                    };
                    // Forks first: they are what the peer most needs to know. Then what it
                    // lacks, cut so the response is one the peer (and we) would accept.
                    let forks = s.forks_against(&vector, &tips);
                    let (missing, more) =
                        s.missing_for(&vector, self.limits.batch_entries, self.limits.batch_bytes);
                    let mut budget =
                        Budget::new(self.limits.batch_entries, self.limits.batch_bytes);
                    let mut certified: HashSet<PublicKey> = HashSet::new();
                    let mut entries: Vec<Entry> = Vec::new();
                    let mut cut = false;
                    for entry in forks.into_iter().chain(missing) {
                        let new_cert = vector.get(&entry.author()) == 0
                            && !certified.contains(&entry.author());
                        if !budget.take(entry, new_cert) {
                            cut = true;
                            break;
                        }
                        if new_cert {
                            certified.insert(entry.author());
                        }
                        entries.push(entry.clone());
                    }
                    let more = more || cut;
                    let certs = self.certs_for(s, &entries, &vector);
                    Message::SyncResponse {
                        space,
                        vector: s.vector(),
                        tips: s.tips(),
                        certs,
                        entries,
                        more,
                    }
                }
            },
            Message::Push {
                space,
                genesis,
                certs,
                entries,
            } => match self.admit(peer, space, genesis, &mut fx) {
                Err((reason, detail)) => self.refuse(peer, Some(space), reason, detail, &mut fx),
                Ok(()) => {
                    self.receive(peer, space, certs, entries, &mut fx);
                    let vector = self
                        .spaces
                        .get(&space)
                        .map(Space::vector)
                        .unwrap_or_default();
                    let behind = self.spaces.get(&space).is_some_and(|s| s.pending_len() > 0);
                    if behind {
                        self.start_sync(peer, space, &mut fx);
                    }
                    Message::PushAck { space, vector }
                }
            },
            Message::Membership {
                space,
                genesis,
                consents,
            } => match self.receive_consents(peer, space, genesis, consents, &mut fx) {
                Err((reason, detail)) => self.refuse(peer, Some(space), reason, detail, &mut fx),
                Ok(()) => {
                    let vector = self
                        .spaces
                        .get(&space)
                        .map(Space::vector)
                        .unwrap_or_default();
                    Message::PushAck { space, vector }
                }
            },
            Message::Revoke { space, revocations } => {
                match self.admit(peer, space, None, &mut fx) {
                    Err((reason, detail)) => {
                        self.refuse(peer, Some(space), reason, detail, &mut fx)
                    }
                    Ok(()) => {
                        self.receive_revocations(peer, space, revocations, &mut fx);
                        let vector = self
                            .spaces
                            .get(&space)
                            .map(Space::vector)
                            .unwrap_or_default();
                        Message::PushAck { space, vector }
                    }
                }
            }
            Message::Revocations { revocations } => {
                if self.peer_body(&peer).is_none() {
                    self.refuse(
                        peer,
                        None,
                        Refusal::NotIdentified,
                        "send hello first".into(),
                        &mut fx,
                    )
                } else {
                    self.receive_lasting_revocations(peer, revocations, &mut fx);
                    Message::Revocations {
                        revocations: self.lasting_revocations_answer(peer),
                    }
                }
            }
            other => self.refuse(
                peer,
                other.space(),
                Refusal::Invalid,
                format!("{} is not a request", other.kind()),
                &mut fx,
            ),
        };
        (response, fx)
    }

    /// Handles the response to a request we sent to `peer`.
    pub fn handle_response(&mut self, peer: PeerKey, msg: Message) -> Effects {
        let mut fx = Effects::default();
        match msg {
            Message::HelloAck { node, chain } => {
                if let Err(reason) = self.identify(peer, node, chain, &mut fx) {
                    fx.events.push(Event::PeerRefused {
                        peer,
                        space: None,
                        reason,
                    });
                    return fx;
                }
                // The peer has handled our Hello: from now on it reads our requests. Pull
                // every shared space (each is pulled at most once at a time).
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.acked = true;
                    p.resync_on_ack = false;
                }
                self.sync_all_with(peer, &mut fx);
                self.offer_lasting_revocations(peer, &mut fx);
            }
            Message::Revocations { revocations } => {
                self.receive_lasting_revocations(peer, revocations, &mut fx);
            }
            Message::SyncResponse {
                space,
                vector,
                tips,
                certs,
                entries,
                more,
            } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.syncing.remove(&space);
                }
                if !self.peer_is_member(&peer, &space) {
                    fx.events.push(Event::PeerRefused {
                        peer,
                        space: Some(space),
                        reason: "sync response for a space the peer is not a member of".into(),
                    });
                    return fx;
                }
                let accepted = self.receive(peer, space, certs, entries, &mut fx);
                let forks: Vec<Entry> = self
                    .spaces
                    .get(&space)
                    .map(|s| {
                        s.forks_against(&vector, &tips)
                            .into_iter()
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                if !forks.is_empty() {
                    self.send_push(peer, space, forks, &mut fx);
                }
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.told.insert(space, vector);
                    p.sent.remove(&space);
                }
                // Ask for the next batch only if this one moved us on: a peer that keeps
                // answering "more" with nothing we can apply waits for the next round.
                if more && accepted > 0 {
                    self.start_sync(peer, space, &mut fx);
                }
            }
            Message::PushAck { space, vector } => {
                // The peer repairs gaps itself (it pulls when a push leaves it pending, and
                // on every anti-entropy round); here we only learn what it holds.
                if let Some(p) = self.peers.get_mut(&peer) {
                    let told = p.told.entry(space).or_default();
                    for (a, s) in vector.0 {
                        let e = told.0.entry(a).or_insert(0);
                        *e = (*e).max(s);
                    }
                }
            }
            Message::Refused {
                space,
                reason,
                detail,
            } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    if let Some(space) = space {
                        p.syncing.remove(&space);
                        p.sent.remove(&space);
                    }
                    if reason == Refusal::NotIdentified {
                        p.resync_on_ack = true;
                        p.acked = false;
                        fx.send.push((
                            peer,
                            Message::Hello {
                                node: self.identity.node_cert.clone(),
                                chain: self.own_chain(),
                            },
                        ));
                    }
                }
                fx.events.push(Event::RefusedByPeer {
                    peer,
                    space,
                    reason,
                    detail,
                });
            }
            other => {
                fx.events.push(Event::PeerRefused {
                    peer,
                    space: other.space(),
                    reason: format!("{} is not a response", other.kind()),
                });
            }
        }
        fx
    }

    fn identify(
        &mut self,
        peer: PeerKey,
        node: Certificate,
        chain: Vec<Certificate>,
        fx: &mut Effects,
    ) -> Result<(), String> {
        node.expect_node().map_err(|e| e.to_string())?;
        if node.key != peer {
            return Err("node certificate is for another key than the connection's".into());
        }
        // The node certificate's signer must be the body's key, or reached from it through
        // the body-key certificates that came with it (in order).
        let mut keys: HashSet<PublicKey> = std::iter::once(node.body.0).collect();
        for link in &chain {
            if link.body != node.body || !keys.contains(&link.signer) {
                return Err(
                    "the body-key certificates do not form a chain from the body's id".into(),
                );
            }
            keys.insert(link.key);
        }
        if !keys.contains(&node.signer) && !self.certs.authorised(&node.signer, &node.body) {
            return Err("node certificate signed by a key not authorised for its body".into());
        }
        if self.revocations.is_revoked(&node.body, &node.key) {
            return Err("this node key was revoked by its body".into());
        }
        let p = self.peers.entry(peer).or_default();
        let first = p.body.is_none();
        if let Some(body) = p.body {
            if body != node.body {
                return Err("peer changed its body mid-connection".into());
            }
        }
        p.body = Some(node.body);
        p.body_name = node.body_name.clone();
        p.node_cert = Some(node.clone());
        // A stranger's certificate stays with the connection; only trusted bodies' are kept.
        if self.trusted.contains(&node.body) {
            for link in chain {
                if self.certs.insert(link.clone()) {
                    fx.persist.certs.push(link);
                }
            }
            if self.certs.insert(node.clone()) {
                fx.persist.certs.push(node.clone());
            }
        }
        if first {
            fx.events.push(Event::PeerIdentified {
                peer,
                body: node.body,
                body_name: node.body_name,
            });
            // Each side pulls what it lacks: the two pulls run at once and every entry
            // crosses the link once.
            self.sync_all_with(peer, fx);
        }
        Ok(())
    }

    /// Checks that `peer` may talk about `space`, joining the space from `genesis` if it
    /// is new to us and names our body.
    fn admit(
        &mut self,
        peer: PeerKey,
        space: SpaceId,
        genesis: Option<Genesis>,
        fx: &mut Effects,
    ) -> Result<(), (Refusal, String)> {
        let Some(body) = self.peer_body(&peer) else {
            return Err((Refusal::NotIdentified, "send hello first".into()));
        };
        if self.invited.contains_key(&space) {
            return Err((
                Refusal::NotAccepted,
                "this body's operator has not accepted that space yet".into(),
            ));
        }
        if !self.spaces.contains_key(&space) {
            let Some(genesis) = genesis else {
                return Err((Refusal::UnknownSpace, "unknown space and no genesis".into()));
            };
            if !genesis.is_member(&self.identity.body()) {
                return Err((
                    Refusal::NotMember,
                    "this body is not a member of that space".into(),
                ));
            }
            if !genesis.is_member(&body) {
                return Err((
                    Refusal::NotMember,
                    "your body is not a member of that space".into(),
                ));
            }
            if !self
                .certs
                .authorised(&genesis.creator.signer, &genesis.creator.body)
            {
                return Err((
                    Refusal::Untrusted,
                    "the creator's certificate is signed by a key this node does not know for its body (a newer body key: its nodes send it with their Hello)".into(),
                ));
            }
            if !self.trusted.contains(&genesis.creator.body) {
                return Err((
                    Refusal::Untrusted,
                    format!(
                        "this node's operator has not added the body that created that space ({}); it must add one of that body's nodes first",
                        genesis.creator.body
                    ),
                ));
            }
            let creator = genesis.creator.body;
            let introduced = self
                .spaces
                .values()
                .map(Space::genesis)
                .chain(self.invited.values())
                .filter(|g| g.creator.body == creator)
                .count();
            if introduced >= MAX_SPACES_PER_CREATOR {
                return Err((
                    Refusal::Invalid,
                    format!("your body has introduced {MAX_SPACES_PER_CREATOR} spaces here, the most one body may"),
                ));
            }
            if self.certs.insert(genesis.creator.clone()) {
                fx.persist.certs.push(genesis.creator.clone());
            }
            let untrusted = self.untrusted_members(&genesis);
            if !untrusted.is_empty() {
                // A trusted body may invite us with bodies we never vetted: record the
                // invitation, take nothing and send nothing until the operator accepts.
                fx.persist.invited.push(genesis.clone());
                fx.events.push(Event::SpaceInvited {
                    peer,
                    space,
                    untrusted,
                });
                self.invited.insert(space, genesis);
                return Err((
                    Refusal::NotAccepted,
                    "this body's operator has not accepted that space yet".into(),
                ));
            }
            fx.persist.spaces.push(genesis.clone());
            fx.events.push(Event::SpaceJoined { peer, space });
            self.spaces.insert(space, Space::new(genesis));
            self.apply_revocations(space, fx);
            // Pull it at once: the peer's request only told us it exists.
            self.start_sync(peer, space, fx);
        }
        if !self.peer_is_member(&peer, &space) {
            return Err((
                Refusal::NotMember,
                "your body is not a member of that space".into(),
            ));
        }
        Ok(())
    }

    fn refuse(
        &mut self,
        peer: PeerKey,
        space: Option<SpaceId>,
        reason: Refusal,
        detail: String,
        fx: &mut Effects,
    ) -> Message {
        fx.events.push(Event::PeerRefused {
            peer,
            space,
            reason: detail.clone(),
        });
        Message::Refused {
            space,
            reason,
            detail,
        }
    }

    /// Our body's body-key certificates, sent with Hello: those this node's identity
    /// recorded ([`Self::add_own_body_key`]), not others claiming our body.
    fn own_chain(&self) -> Vec<Certificate> {
        self.own_chain.clone()
    }

    fn peer_is_member(&self, peer: &PeerKey, space: &SpaceId) -> bool {
        match (self.peer_body(peer), self.spaces.get(space)) {
            (Some(body), Some(s)) => s.is_member(&body),
            _ => false,
        }
    }

    fn receive(
        &mut self,
        peer: PeerKey,
        space: SpaceId,
        certs: Vec<Certificate>,
        entries: Vec<Entry>,
        fx: &mut Effects,
    ) -> usize {
        let Some(s) = self.spaces.get_mut(&space) else {
            return 0;
        };
        // Certificates the message brings count for this message's entries only, and are
        // kept only for the authors of entries that were accepted: a peer cannot make us
        // store anything else.
        let offered: BTreeMap<(PublicKey, BodyId), Certificate> = certs
            .into_iter()
            .filter(|c| {
                c.is_member() && s.has_had(&c.body) && self.certs.authorised(&c.signer, &c.body)
            })
            .map(|c| ((c.key, c.body), c))
            .collect();
        if entries.is_empty() {
            return 0;
        }
        // The pending bound is shared by all spaces: this one may use what the others
        // leave of it.
        let elsewhere: usize = self
            .spaces
            .iter()
            .filter(|(id, _)| **id != space)
            .map(|(_, other)| other.pending_bytes())
            .sum();
        let Some(s) = self.spaces.get_mut(&space) else {
            return 0;
        };
        s.set_pending_limit(
            crate::space::MAX_PENDING,
            MAX_PENDING_BYTES_TOTAL
                .saturating_sub(elsewhere)
                .min(crate::space::MAX_PENDING_BYTES),
        );
        let known = &self.certs;
        let Received {
            accepted,
            equivocations,
            rejected,
            duplicates,
            pending,
        } = s.receive(entries, |key, body| {
            known
                .member_cert(key, body)
                .or_else(|| offered.get(&(*key, *body)))
                .map(|cert| crate::space::Certified {
                    can_sign: cert.can_sign(),
                })
        });
        if !offered.is_empty() {
            // Verified entries that were applied or wait for their dependencies.
            let valid: std::collections::BTreeSet<(PublicKey, BodyId)> = accepted
                .iter()
                .chain(s.pending_entries())
                .map(|e| (e.author(), e.body()))
                .collect();
            for (who, cert) in offered {
                if valid.contains(&who) && self.certs.insert(cert.clone()) {
                    fx.persist.certs.push(cert);
                }
            }
        }
        if !rejected.is_empty() {
            let mut reasons: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
            for (reason, _) in &rejected {
                *reasons
                    .entry((reason.code(), reason.to_string()))
                    .or_default() += 1;
            }
            for ((code, reason), count) in reasons {
                fx.events.push(Event::EntriesRejected {
                    peer,
                    space,
                    count,
                    code,
                    reason,
                });
            }
        }
        let mut evidence: Vec<Entry> = Vec::new();
        for eq in equivocations {
            fx.events.push(Event::Equivocation {
                peer,
                space,
                author: eq.author,
                seq: eq.seq,
            });
            evidence.push(eq.held.clone());
            evidence.push(eq.other.clone());
            fx.persist.equivocations.push((space, eq));
        }
        if !evidence.is_empty() {
            // Tell every member peer (the sender too): each detects the fork from the pair.
            self.push_to_members(space, &evidence, None, fx);
        }
        fx.events.push(Event::Received {
            peer,
            space,
            accepted: accepted.len(),
            duplicates,
            pending,
        });
        for (key, seq) in self.foreign_use(space, &accepted) {
            fx.events.push(Event::ForeignUseOfOwnKey {
                peer,
                space,
                key,
                seq,
            });
        }
        if !accepted.is_empty() {
            fx.persist.entries.extend(accepted.iter().cloned());
            // Pass new entries on, so members converge through whoever is connected.
            self.push_to_members(space, &accepted, Some(peer), fx);
        }
        accepted.len()
    }

    fn sync_all_with(&mut self, peer: PeerKey, fx: &mut Effects) {
        let shared: Vec<SpaceId> = self
            .spaces
            .keys()
            .copied()
            .filter(|s| self.peer_is_member(&peer, s))
            .collect();
        for space in shared {
            self.start_sync(peer, space, fx);
        }
    }

    fn start_sync(&mut self, peer: PeerKey, space: SpaceId, fx: &mut Effects) {
        let Some(s) = self.spaces.get(&space) else {
            return;
        };
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if p.body.is_none() || !p.acked || !p.syncing.insert(space) {
            return;
        }
        let genesis = (!p.told.contains_key(&space)).then(|| s.genesis().clone());
        fx.send.push((
            peer,
            Message::SyncRequest {
                space,
                genesis,
                vector: s.vector(),
                tips: s.tips(),
            },
        ));
        self.offer_revocations(peer, space, fx);
        self.offer_membership(peer, space, fx);
    }

    fn push_to_members(
        &mut self,
        space: SpaceId,
        entries: &[Entry],
        except: Option<PeerKey>,
        fx: &mut Effects,
    ) {
        let targets: Vec<PeerKey> = self
            .peers
            .keys()
            .copied()
            .filter(|k| Some(*k) != except && self.peer_is_member(k, &space))
            .collect();
        let batches = batches(entries, self.limits);
        for peer in targets {
            for batch in &batches {
                self.send_push(peer, space, batch.clone(), fx);
            }
        }
    }

    fn send_push(&mut self, peer: PeerKey, space: SpaceId, entries: Vec<Entry>, fx: &mut Effects) {
        let Some(s) = self.spaces.get(&space) else {
            return;
        };
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if !p.acked {
            // It pulls what it lacks once our Hello is answered.
            return;
        }
        let known = p.known(&space);
        let genesis = (!p.told.contains_key(&space)).then(|| s.genesis().clone());
        // Certificates go by what the peer *confirmed* holding, not by what we sent: pushes
        // travel on separate streams and may overtake each other.
        let told = p.told.get(&space).cloned().unwrap_or_default();
        let certs = certs_for(&self.certs, s, &entries, &told);
        let sent = p.sent.entry(space).or_default();
        for e in &entries {
            let have = known.get(&e.author()).max(sent.get(&e.author()));
            if Some(e.seq()) == have.checked_add(1) {
                sent.0.insert(e.author(), e.seq());
            }
        }
        fx.send.push((
            peer,
            Message::Push {
                space,
                genesis,
                certs,
                entries,
            },
        ));
    }

    fn certs_for(&self, space: &Space, entries: &[Entry], theirs: &Vector) -> Vec<Certificate> {
        certs_for(&self.certs, space, entries, theirs)
    }
}

/// Splits `entries` into batches that each fit one message ([`Budget`]), counting one
/// certificate per author a peer may not know yet.
fn batches(entries: &[Entry], limits: Limits) -> Vec<Vec<Entry>> {
    let mut out: Vec<Vec<Entry>> = Vec::new();
    let mut budget = Budget::new(limits.batch_entries, limits.batch_bytes);
    let mut authors: HashSet<PublicKey> = HashSet::new();
    for entry in entries {
        let new_author = !authors.contains(&entry.author());
        if out.is_empty() || !budget.take(entry, new_author) {
            out.push(Vec::new());
            budget = Budget::new(limits.batch_entries, limits.batch_bytes);
            authors.clear();
            budget.take(entry, true);
        }
        authors.insert(entry.author());
        if let Some(batch) = out.last_mut() {
            batch.push(entry.clone());
        }
    }
    out
}

/// Member certificates for the authors in `entries` (each for the body its entry names)
/// that a peer at `theirs` may not have seen yet.
fn certs_for(
    certs: &Certificates,
    space: &Space,
    entries: &[Entry],
    theirs: &Vector,
) -> Vec<Certificate> {
    let mut authors: Vec<(PublicKey, BodyId)> = entries
        .iter()
        .filter(|e| theirs.get(&e.author()) == 0)
        .map(|e| (e.author(), e.body()))
        .collect();
    authors.sort();
    authors.dedup();
    authors
        .iter()
        .filter(|(_, body)| space.has_had(body))
        .filter_map(|(key, body)| certs.member_cert(key, body).cloned())
        .collect()
}
