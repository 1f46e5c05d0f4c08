//! A space: one shared automerge document (a joint agenda), the bodies that take part in
//! it, and the validation pipeline every entry — local or remote — goes through.
//!
//! Invariants:
//! - The document holds exactly the changes of `log`, and `log` is in causal order (an
//!   entry appears after everything it depends on), so any prefix of it is a valid
//!   document and serving a peer in log order never sends a change before its deps.
//! - Per author, `log` holds seqs `1..=n` with no gap: the version vector
//!   `{author → n}` says exactly what the space holds.
//! - An entry is applied only if it decodes, the body it names (signed) is a member of the
//!   space and certified its author, the author is not a known equivocator, and its
//!   signature verifies.
//! - An author writes for one body per space: the body named by its entry at seq 1. Every
//!   later entry of that author must name the same body, so each change is attributed to
//!   exactly one body, the same on every node.
//! - A second, different entry at an (author, seq) that is already held is equivocation:
//!   both are kept as evidence and that author is refused in this space from then on.
//! - Entries whose dependencies are missing wait in a bounded pending set.
//! - A revoked key's entries past its cutoff (see [`crate::revocation`]) never count, nor
//!   does anything that depends on one: [`Space::revoke`] takes them out of the log and
//!   the document if they were already held, and they are refused when they arrive later.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::str::FromStr;

use automerge::transaction::{CommitOptions, Transaction};
use automerge::{ActorId, Automerge, AutomergeError, Change, ChangeHash, ReadDoc};

use crate::cert::{BodyId, CertError, Certificate, Certificates};
use crate::entry::{Entry, EntryError};
use crate::keys::{Domain, PublicKey, SecretKey, Signature};
use crate::wire::{DecodeError, Reader, Writer};

const GENESIS_DOMAIN: Domain = Domain(b"confer/genesis/v1");
const GENESIS_VERSION: u8 = 1;
/// Most bodies a space may have.
pub const MAX_MEMBERS: usize = 64;
/// Most entries waiting for missing dependencies, per space.
pub const MAX_PENDING: usize = 65_536;
/// Most bytes of entries waiting for missing dependencies, per space.
pub const MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;
/// Most member keys one body may write with in one space. Keeps every space's version
/// vector within [`Vector::MAX_AUTHORS`] (64 bodies × 1,024) and bounds what one body can
/// make every node store. A body whose people exceed it must use another space; `member
/// add` refuses past it. (Which of a misbehaving body's *excess* authors a node refuses
/// depends on arrival order; everyone else's entries are unaffected.)
pub const MAX_AUTHORS_PER_BODY: usize = 1024;
/// Most bytes of entries one author may write in one space (about a hundred thousand
/// ordinary edits). Counted along the author's own sequence, so every node refuses the same
/// entries.
pub const MAX_BYTES_PER_AUTHOR: u64 = 256 * 1024 * 1024;
/// Most consents to membership changes one space keeps.
pub const MAX_CONSENTS: usize = 4096;
/// Most consents one body may have on one state of a space (an honest body has one).
pub const MAX_CONSENTS_PER_BODY_AND_STATE: usize = 4;
/// Longest space title, in bytes.
pub const MAX_TITLE_BYTES: usize = 1024;

/// A space's id: the BLAKE3 hash of its signed genesis.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpaceId(pub [u8; 32]);

impl SpaceId {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    pub fn fmt_short(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl fmt::Display for SpaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SpaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpaceId({})", self.fmt_short())
    }
}

impl FromStr for SpaceId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(s.trim()).map_err(|_| format!("not a space id: {s}"))?;
        bytes
            .try_into()
            .map(SpaceId)
            .map_err(|_| format!("not a space id: {s}"))
    }
}

impl serde::Serialize for SpaceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// What kind of document a space holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceKind {
    /// A joint agenda (联动协商议题).
    Agenda,
    /// A body's own working space (台账, 年度协商计划, 专家库): its only member is the body.
    Ledger,
}

/// What a member certificate lets its key do, as [`Space::receive`] asks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Certified {
    /// The key may sign joint documents for its body.
    pub can_sign: bool,
}

/// The signed statement that creates a space and fixes its member bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    pub kind: SpaceKind,
    /// Member bodies, sorted, without repeats; includes the creator's body.
    pub members: Vec<BodyId>,
    pub created_at: u64,
    pub nonce: [u8; 16],
    /// The creating member's certificate, from one of the member bodies.
    pub creator: Certificate,
    pub signature: Signature,
    id: SpaceId,
}

/// Why a genesis or a local write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpaceError {
    #[error("space description is malformed: {0}")]
    Decode(#[from] DecodeError),
    #[error("creator certificate: {0}")]
    Cert(#[from] CertError),
    #[error("creator's signature on the space does not verify")]
    BadSignature,
    #[error("a space needs between 1 and {MAX_MEMBERS} member bodies")]
    MemberCount,
    #[error("the creator's body is not a member of the space")]
    CreatorNotMember,
    #[error("the creator certificate is not for the signing key")]
    CreatorKeyMismatch,
    #[error("member key {0:?} is refused in this space after equivocating")]
    Equivocator(PublicKey),
    #[error(
        "this body is not a member of the space, or the key already writes for another body in it"
    )]
    NotAuthorBody,
    #[error("automerge: {0}")]
    Automerge(String),
    #[error("entry: {0}")]
    Entry(#[from] EntryError),
    #[error("stored document is inconsistent: {0}")]
    Corrupt(String),
    #[error("the change breaks the document's rules: {0}")]
    Model(String),
    #[error("member key {0:?} was revoked by its body and writes nothing more here")]
    Revoked(PublicKey),
    #[error("member key {key:?} has written {written} bytes in this space, and this change ({change} bytes) would pass the {quota}-byte limit every node holds an author to; write as another member of the body (`confer member add`)")]
    AuthorQuota {
        key: PublicKey,
        written: u64,
        change: u64,
        quota: u64,
    },
    #[error("member key {0:?} built on entries of a revoked key, which were withdrawn; it cannot write in this space again (write as another member)")]
    Withdrawn(PublicKey),
}

impl From<AutomergeError> for SpaceError {
    fn from(e: AutomergeError) -> Self {
        SpaceError::Automerge(e.to_string())
    }
}

impl Genesis {
    /// Creates and signs a space. `members` need not include the creator's body; it is added.
    pub fn create(
        kind: SpaceKind,
        members: &[BodyId],
        created_at: u64,
        nonce: [u8; 16],
        creator: Certificate,
        creator_secret: &SecretKey,
    ) -> Result<Genesis, SpaceError> {
        if creator.key != creator_secret.public() || !creator.is_member() {
            return Err(SpaceError::CreatorKeyMismatch);
        }
        let mut members: Vec<BodyId> = members.to_vec();
        members.push(creator.body);
        members.sort();
        members.dedup();
        if members.len() > MAX_MEMBERS || (kind == SpaceKind::Ledger && members.len() != 1) {
            return Err(SpaceError::MemberCount);
        }
        let mut genesis = Genesis {
            kind,
            members,
            created_at,
            nonce,
            creator,
            signature: Signature([0; 64]),
            id: SpaceId([0; 32]),
        };
        genesis.signature = creator_secret.sign(GENESIS_DOMAIN, &genesis.signed_bytes());
        genesis.id = SpaceId(*blake3::hash(&genesis.encode()).as_bytes());
        Ok(genesis)
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(GENESIS_VERSION);
        w.u8(match self.kind {
            SpaceKind::Agenda => 1,
            SpaceKind::Ledger => 2,
        });
        w.u32(self.members.len() as u32);
        for m in &self.members {
            w.raw(m.0.as_bytes());
        }
        w.u64(self.created_at).raw(&self.nonce);
        self.creator.encode_into(&mut w);
        w.finish()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = self.signed_bytes();
        bytes.extend_from_slice(&self.signature.0);
        bytes
    }

    /// Decodes and fully verifies a genesis.
    pub fn decode(bytes: &[u8]) -> Result<Genesis, SpaceError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != GENESIS_VERSION {
            return Err(DecodeError::Invalid("unknown space version").into());
        }
        let kind = match r.u8()? {
            1 => SpaceKind::Agenda,
            2 => SpaceKind::Ledger,
            _ => return Err(DecodeError::Invalid("unknown space kind").into()),
        };
        let n = r.count("members", MAX_MEMBERS, 32)?;
        let mut members = Vec::with_capacity(n);
        for _ in 0..n {
            members.push(BodyId(PublicKey::from_bytes(r.array()?)));
        }
        if members.is_empty() || (kind == SpaceKind::Ledger && members.len() != 1) {
            return Err(SpaceError::MemberCount);
        }
        if members.windows(2).any(|w| w[0] >= w[1]) {
            return Err(DecodeError::Invalid("members not sorted and unique").into());
        }
        let created_at = r.u64()?;
        let nonce = r.array()?;
        let creator = Certificate::decode_from(&mut r)?;
        let signature = Signature(r.array()?);
        r.finish()?;
        let genesis = Genesis {
            kind,
            members,
            created_at,
            nonce,
            creator,
            signature,
            id: SpaceId(*blake3::hash(bytes).as_bytes()),
        };
        if !genesis.creator.is_member() {
            return Err(SpaceError::CreatorKeyMismatch);
        }
        if !genesis.members.contains(&genesis.creator.body) {
            return Err(SpaceError::CreatorNotMember);
        }
        genesis
            .creator
            .key
            .verify(GENESIS_DOMAIN, &genesis.signed_bytes(), &genesis.signature)
            .map_err(|_| SpaceError::BadSignature)?;
        Ok(genesis)
    }

    pub fn id(&self) -> SpaceId {
        self.id
    }

    pub fn is_member(&self, body: &BodyId) -> bool {
        self.members.binary_search(body).is_ok()
    }
}

/// What a replica holds of a space: `{author → highest contiguous seq}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Vector(pub BTreeMap<PublicKey, u64>);

impl Vector {
    /// Most authors a vector may list on the wire.
    pub const MAX_AUTHORS: usize = 100_000;

    pub fn get(&self, author: &PublicKey) -> u64 {
        self.0.get(author).copied().unwrap_or(0)
    }

    /// Total number of entries the vector covers.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// True if this vector holds everything `other` holds.
    pub fn covers(&self, other: &Vector) -> bool {
        other.0.iter().all(|(a, s)| self.get(a) >= *s)
    }

    pub fn encode_into(&self, w: &mut Writer) {
        w.u32(self.0.len() as u32);
        for (author, seq) in &self.0 {
            w.raw(author.as_bytes()).u64(*seq);
        }
    }

    pub fn decode_from(r: &mut Reader<'_>) -> Result<Vector, DecodeError> {
        let n = r.count("vector", Self::MAX_AUTHORS, 40)?;
        let mut map = BTreeMap::new();
        let mut last: Option<PublicKey> = None;
        for _ in 0..n {
            let author = PublicKey::from_bytes(r.array()?);
            if last.is_some_and(|l| l >= author) {
                return Err(DecodeError::Invalid("vector authors not sorted and unique"));
            }
            last = Some(author);
            let seq = r.u64()?;
            map.insert(author, seq);
        }
        Ok(Vector(map))
    }
}

/// Bytes of a change hash kept per author in [`Tips`].
pub const TIP_BYTES: usize = 16;

/// The first bytes of the change hash of each author's last held entry. Two replicas with
/// equal seqs but different tips hold different entries at that seq — a fork that the
/// version vector alone cannot show. Sent next to the vector, in the vector's author order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tips(pub BTreeMap<PublicKey, [u8; TIP_BYTES]>);

impl Tips {
    /// Writes one tip per author of `vector`, in its order (zeros where unknown).
    pub fn encode_into(&self, w: &mut Writer, vector: &Vector) {
        for author in vector.0.keys() {
            w.raw(self.0.get(author).unwrap_or(&[0; TIP_BYTES]));
        }
    }

    /// Reads the tips that [`Tips::encode_into`] wrote for `vector`.
    pub fn decode_from(r: &mut Reader<'_>, vector: &Vector) -> Result<Tips, DecodeError> {
        let mut tips = BTreeMap::new();
        for author in vector.0.keys() {
            let tip: [u8; TIP_BYTES] = r.array()?;
            if tip != [0; TIP_BYTES] {
                tips.insert(*author, tip);
            }
        }
        Ok(Tips(tips))
    }
}

fn tip_of(entry: &Entry) -> [u8; TIP_BYTES] {
    let mut tip = [0u8; TIP_BYTES];
    tip.copy_from_slice(&entry.change_hash().0[..TIP_BYTES]);
    tip
}

/// Why one entry was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("entry belongs to another space")]
    WrongSpace,
    #[error("author {0:?} holds no member certificate from the member body its entry names")]
    Unauthorized(PublicKey),
    #[error("author {0:?} wrote this entry for another body than its earlier entries")]
    BodyMismatch(PublicKey),
    #[error("body {0:?} already writes with {MAX_AUTHORS_PER_BODY} keys in this space")]
    TooManyAuthors(BodyId),
    #[error("the change refers to an actor {0} that is not an author in this space")]
    UnknownActor(String),
    #[error("the change breaks the document's rules: {0}")]
    Model(String),
    #[error("author {0:?} has written as many bytes in this space as one author may")]
    AuthorQuota(PublicKey),
    #[error("author {0:?} is refused in this space after equivocating")]
    Equivocator(PublicKey),
    #[error("signature by {0:?} does not verify")]
    BadSignature(PublicKey),
    #[error("too many entries waiting for missing dependencies")]
    PendingFull,
    #[error("automerge refused the change: {0}")]
    Apply(String),
    #[error("author {0:?} was revoked by its body before this entry")]
    Revoked(PublicKey),
    #[error("the entry builds on a withdrawn entry of a revoked key")]
    Withdrawn,
    #[error("author {0:?} forked here and its body chose the other side")]
    NotChosen(PublicKey),
}

impl Rejection {
    /// Every [`Rejection::code`], so that counters by reason can start at zero.
    pub const CODES: [&'static str; 14] = [
        "wrong_space",
        "unauthorized",
        "body_mismatch",
        "too_many_authors",
        "unknown_actor",
        "model",
        "author_quota",
        "equivocator",
        "bad_signature",
        "pending_full",
        "apply",
        "revoked",
        "withdrawn",
        "not_chosen",
    ];

    /// A stable snake_case name of the kind of rejection, without the values it carries:
    /// what counters and dashboards group refusals by.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::WrongSpace => "wrong_space",
            Rejection::Unauthorized(_) => "unauthorized",
            Rejection::BodyMismatch(_) => "body_mismatch",
            Rejection::TooManyAuthors(_) => "too_many_authors",
            Rejection::UnknownActor(_) => "unknown_actor",
            Rejection::Model(_) => "model",
            Rejection::AuthorQuota(_) => "author_quota",
            Rejection::Equivocator(_) => "equivocator",
            Rejection::BadSignature(_) => "bad_signature",
            Rejection::PendingFull => "pending_full",
            Rejection::Apply(_) => "apply",
            Rejection::Revoked(_) => "revoked",
            Rejection::Withdrawn => "withdrawn",
            Rejection::NotChosen(_) => "not_chosen",
        }
    }
}

/// Two different entries at the same (author, seq): proof that a key signed a fork.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivocation {
    pub author: PublicKey,
    pub seq: u64,
    pub held: Entry,
    pub other: Entry,
}

/// What a revocation took out of a space's log.
#[derive(Debug, Clone)]
pub struct Withdrawal {
    /// The log is unchanged before this position.
    pub from: u64,
    /// The log from `from` on, after the withdrawal.
    pub tail: Vec<Entry>,
    /// The entries taken out, in their old log order.
    pub withdrawn: Vec<Entry>,
    /// Entries withdrawn earlier that count again (a removal displaced, a consent that no
    /// longer counts): they are in `tail` and leave the withdrawn entries.
    pub restored: Vec<Entry>,
}

/// What became of a batch of incoming entries.
#[derive(Debug, Default)]
pub struct Received {
    /// Applied, in the order they were appended to the log (persist in this order).
    pub accepted: Vec<Entry>,
    pub equivocations: Vec<Equivocation>,
    pub rejected: Vec<(Rejection, Option<(PublicKey, u64)>)>,
    /// Already held.
    pub duplicates: usize,
    /// Now waiting for dependencies (total in the pending set).
    pub pending: usize,
}

type Key = (PublicKey, u64);

/// One shared document and its validated log.
pub struct Space {
    genesis: Genesis,
    doc: Automerge,
    log: Vec<Entry>,
    by_author: HashMap<PublicKey, Vec<usize>>,
    applied: HashSet<ChangeHash>,
    pending: BTreeMap<Key, Entry>,
    /// Bound on `pending`: (entries, bytes).
    pending_limit: (usize, usize),
    equivocators: BTreeSet<PublicKey>,
    /// Authors per body (by their entry at seq 1).
    body_authors: HashMap<BodyId, usize>,
    /// Bytes of entries per author.
    author_bytes: HashMap<PublicKey, u64>,
    /// Bound on `author_bytes` (default [`MAX_BYTES_PER_AUTHOR`]).
    author_quota: u64,
    /// Keys their body revoked here: (key, body it wrote for) → last seq that counts.
    revoked: HashMap<(PublicKey, BodyId), u64>,
    /// `revoked` and the cutoffs of the removals in effect, the lower per key: what counts.
    cutoffs: HashMap<(PublicKey, BodyId), u64>,
    /// Entries held out of the log (past a cutoff, by a body that is no member, or built
    /// on such an entry), in the order they left it; [`Space::settle`] puts back those
    /// that count again.
    withdrawn_entries: Vec<Entry>,
    /// Their change hashes.
    withdrawn: HashSet<ChangeHash>,
    /// Authors with withdrawn entries → their first withdrawn seq: nothing from there on
    /// counts, and they cannot write here again.
    broken: HashMap<PublicKey, u64>,
    /// Forks their body resolved: author → (seq, the change that stands there). Such an
    /// author is no longer refused as an equivocator up to that seq.
    pins: HashMap<PublicKey, (u64, ChangeHash)>,
    /// Consents to membership changes held, and the member bodies they give.
    consents: Vec<crate::membership::Consent>,
    members: crate::membership::Members,
}

impl fmt::Debug for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Space")
            .field("id", &self.id())
            .field("entries", &self.log.len())
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Space {
    /// An empty space.
    pub fn new(genesis: Genesis) -> Space {
        Space {
            doc: Automerge::new(),
            log: Vec::new(),
            by_author: HashMap::new(),
            applied: HashSet::new(),
            pending: BTreeMap::new(),
            pending_limit: (MAX_PENDING, MAX_PENDING_BYTES),
            equivocators: BTreeSet::new(),
            body_authors: HashMap::new(),
            author_bytes: HashMap::new(),
            author_quota: MAX_BYTES_PER_AUTHOR,
            revoked: HashMap::new(),
            cutoffs: HashMap::new(),
            withdrawn_entries: Vec::new(),
            withdrawn: HashSet::new(),
            broken: HashMap::new(),
            pins: HashMap::new(),
            members: crate::membership::Members::derive(&genesis, &[]),
            consents: Vec::new(),
            genesis,
        }
    }

    /// Rebuilds a space from its stored log (in log order, already validated when it was
    /// first accepted) and, if there is one, a snapshot of the document covering the first
    /// `count` entries. Falls back to replaying every change if the snapshot is unusable.
    pub fn restore(
        genesis: Genesis,
        log: Vec<Entry>,
        snapshot: Option<(u64, &[u8])>,
    ) -> Result<Space, SpaceError> {
        let mut space = Space::new(genesis);
        let from_snapshot = snapshot.and_then(|(count, bytes)| {
            let count = usize::try_from(count).ok().filter(|c| *c <= log.len())?;
            let doc = Automerge::load(bytes).ok()?;
            // The snapshot must hold exactly the log's first `count` changes: same heads.
            let mut heads: HashSet<ChangeHash> =
                log[..count].iter().map(Entry::change_hash).collect();
            for e in &log[..count] {
                for d in e.deps() {
                    heads.remove(d);
                }
            }
            let doc_heads: HashSet<ChangeHash> = doc.get_heads().into_iter().collect();
            (doc_heads == heads).then_some((count, doc))
        });
        let start = match from_snapshot {
            Some((count, doc)) => {
                space.doc = doc;
                count
            }
            None => 0,
        };
        let mut log = log;
        let rest = log[start..]
            .iter_mut()
            .map(Entry::take_change)
            .collect::<Result<Vec<_>, _>>()?;
        space.doc.apply_changes(rest)?;
        for mut entry in log {
            entry.take_change().ok();
            let positions = space.by_author.entry(entry.author()).or_default();
            if positions.len() as u64 + 1 != entry.seq() {
                return Err(SpaceError::Corrupt(format!(
                    "log has a gap for author {:?} at seq {}",
                    entry.author(),
                    entry.seq()
                )));
            }
            positions.push(space.log.len());
            if entry.seq() == 1 {
                *space.body_authors.entry(entry.body()).or_default() += 1;
            }
            *space.author_bytes.entry(entry.author()).or_default() += entry.len() as u64;
            space.applied.insert(entry.change_hash());
            space.log.push(entry);
        }
        Ok(space)
    }

    pub fn id(&self) -> SpaceId {
        self.genesis.id()
    }

    /// Whether `body` is a member body now (the genesis's, changed by the membership
    /// changes in effect).
    pub fn is_member(&self, body: &BodyId) -> bool {
        self.members.current.contains(body)
    }

    /// Whether `body` is or was a member body (its certificates and revocations matter
    /// here).
    pub fn has_had(&self, body: &BodyId) -> bool {
        self.is_member(body) || self.members.removed.contains_key(body)
    }

    /// Every body that is or was a member, sorted.
    pub fn all_bodies(&self) -> Vec<BodyId> {
        let mut all: Vec<BodyId> = self
            .members
            .current
            .iter()
            .chain(self.members.removed.keys())
            .copied()
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The member bodies now, and how they came to be.
    pub fn members(&self) -> &crate::membership::Members {
        &self.members
    }

    pub fn consents(&self) -> &[crate::membership::Consent] {
        &self.consents
    }

    /// Whether an entry by `author` for `body` at `seq` may count: `body` is a member, or
    /// was one and the entry is within what its removal kept, and no removal in effect cut
    /// the key before `seq`.
    fn may_write(&self, body: &BodyId, author: &PublicKey, seq: u64) -> bool {
        if self
            .members
            .cut
            .get(&(*body, *author))
            .is_some_and(|up_to| seq > *up_to)
        {
            return false;
        }
        self.is_member(body)
            || self
                .members
                .removed
                .get(body)
                .is_some_and(|cut| cut.iter().any(|(k, s)| k == author && seq <= *s))
    }

    /// Adds a consent (verified, its signer authorised for its body) to a membership
    /// change. Returns whether it was new, and what the membership it gives changed in the
    /// log (persist in order): a removal that takes effect withdraws what is past its
    /// cutoffs, a removal displaced gives it back ([`Space::settle`]).
    pub fn add_consent(
        &mut self,
        consent: crate::membership::Consent,
    ) -> Result<(bool, Vec<Withdrawal>), SpaceError> {
        if !self.keep_consent(consent) {
            return Ok((false, Vec::new()));
        }
        Ok((true, self.settle()?.into_iter().collect()))
    }

    /// Restores consents from storage without touching the log: the stored log already
    /// reflects them. Call [`Space::settle`] once everything is restored (revocations
    /// included) to check that it does.
    pub fn restore_consents(&mut self, consents: Vec<crate::membership::Consent>) {
        for c in consents {
            self.keep_consent(c);
        }
        self.members = self.derive_members();
    }

    /// Keeps a consent within the bounds. A body agrees to one change per state; a few more
    /// from one body on one state are kept (a misbehaving body's), no more, so no body can
    /// fill the bound.
    fn keep_consent(&mut self, consent: crate::membership::Consent) -> bool {
        let same_state = self
            .consents
            .iter()
            .filter(|c| c.body() == consent.body() && c.change.prev == consent.change.prev)
            .count();
        if consent.change.space != self.id()
            || self.consents.contains(&consent)
            || self.consents.len() >= MAX_CONSENTS
            || same_state >= MAX_CONSENTS_PER_BODY_AND_STATE
        {
            return false;
        }
        self.consents.push(consent);
        true
    }

    /// Whether `key`, writing for `body`, was revoked by its body in this space (by any
    /// revocation applied here). Its consents do not count.
    pub fn is_revoked(&self, key: &PublicKey, body: &BodyId) -> bool {
        self.revoked.contains_key(&(*key, *body))
    }

    /// The members the consents that count give: a consent signed by a key its body
    /// revoked here counts for nothing, whenever the revocation arrived.
    fn derive_members(&self) -> crate::membership::Members {
        crate::membership::Members::derive_counting(
            &self.genesis,
            self.consents
                .iter()
                .filter(|c| !self.is_revoked(&c.cert.key, &c.cert.body)),
        )
    }

    /// Makes the members and the log what the held consents, revocations and entries say,
    /// whatever order they came in: the members are derived again from the consents that
    /// count, and every held entry — in the log or withdrawn — is in the log exactly when
    /// it counts: its key is within its body's revocation and the removals in effect, its
    /// body is or was a member and kept it, and it builds on no entry that does not count
    /// (through its automerge dependencies or its author's earlier entry). Entries that
    /// leave are kept as withdrawn; withdrawn entries that count again come back at the
    /// log's end. Returns what changed in the log, if anything (persist it).
    pub fn settle(&mut self) -> Result<Option<Withdrawal>, SpaceError> {
        self.members = self.derive_members();
        let mut cutoffs = self.revoked.clone();
        for ((body, key), up_to) in &self.members.cut {
            let cut = cutoffs.entry((*key, *body)).or_insert(*up_to);
            *cut = (*cut).min(*up_to);
        }
        self.cutoffs = cutoffs;
        let doomed = |this: &Space, e: &Entry| {
            this.revoked
                .get(&(e.author(), e.body()))
                .is_some_and(|up_to| e.seq() > *up_to)
                || this.pin_refuses(e)
                || !this.may_write(&e.body(), &e.author(), e.seq())
        };
        let mut gone_hashes: HashSet<ChangeHash> = HashSet::new();
        let mut gone_authors: HashMap<PublicKey, u64> = HashMap::new();
        let mut first: Option<usize> = None;
        let mut kept: Vec<Entry> = Vec::with_capacity(self.log.len());
        let mut gone: Vec<Entry> = Vec::new();
        let log = std::mem::take(&mut self.log);
        for (i, entry) in log.into_iter().enumerate() {
            let out = doomed(self, &entry)
                || gone_authors
                    .get(&entry.author())
                    .is_some_and(|s| entry.seq() > *s)
                || entry.deps().iter().any(|d| gone_hashes.contains(d));
            if out {
                first.get_or_insert(i);
                gone_hashes.insert(entry.change_hash());
                gone_authors.entry(entry.author()).or_insert(entry.seq());
                gone.push(entry);
            } else {
                kept.push(entry);
            }
        }
        // Withdrawn entries, in causal order (dependencies and the author's previous seq
        // decided first): each comes back if it counts now.
        let mut have: HashSet<ChangeHash> = kept.iter().map(Entry::change_hash).collect();
        let mut held: HashSet<Key> = kept.iter().map(|e| (e.author(), e.seq())).collect();
        let mut waiting = std::mem::take(&mut self.withdrawn_entries);
        waiting.sort_by_key(|e| (e.author(), e.seq()));
        let mut restored: Vec<Entry> = Vec::new();
        let mut stay: Vec<Entry> = Vec::new();
        loop {
            let mut progress = false;
            let mut later = Vec::new();
            for entry in waiting {
                let (author, seq) = (entry.author(), entry.seq());
                let prev_decided = seq == 1
                    || held.contains(&(author, seq - 1))
                    || gone_authors.get(&author).is_some_and(|s| seq > *s);
                let deps_decided = entry
                    .deps()
                    .iter()
                    .all(|d| have.contains(d) || gone_hashes.contains(d));
                if !(prev_decided && deps_decided) {
                    later.push(entry);
                    continue;
                }
                progress = true;
                if held.contains(&(author, seq)) || have.contains(&entry.change_hash()) {
                    // Another entry holds its place (or it is held twice): it stays out.
                    stay.push(entry);
                    continue;
                }
                let out = doomed(self, &entry)
                    || gone_authors.get(&author).is_some_and(|s| seq > *s)
                    || entry.deps().iter().any(|d| gone_hashes.contains(d));
                if out {
                    gone_hashes.insert(entry.change_hash());
                    gone_authors.entry(author).or_insert(seq);
                    stay.push(entry);
                } else {
                    have.insert(entry.change_hash());
                    held.insert((author, seq));
                    restored.push(entry);
                }
            }
            waiting = later;
            if !progress || waiting.is_empty() {
                break;
            }
        }
        // What depends on an entry never held stays out.
        stay.extend(waiting);
        let changed = !gone.is_empty() || !restored.is_empty();
        let from = first.unwrap_or(kept.len());
        kept.extend(restored.iter().cloned());
        let mut withdrawn_entries = stay;
        withdrawn_entries.extend(gone.iter().cloned());
        self.withdrawn_entries = withdrawn_entries;
        self.index_withdrawn();
        // Waiting entries that no longer count leave too (they come back through
        // anti-entropy if they count again).
        let doomed_pending: Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, e)| doomed(self, e))
            .map(|(k, _)| *k)
            .collect();
        for k in doomed_pending {
            self.pending.remove(&k);
        }
        if !changed {
            self.log = kept;
            return Ok(None);
        }
        self.pending
            .retain(|k, e| !held.contains(k) && !e.deps().iter().any(|d| gone_hashes.contains(d)));
        let tail = kept[from..].to_vec();
        self.reset_log(kept)?;
        Ok(Some(Withdrawal {
            from: from as u64,
            tail,
            withdrawn: gone,
            restored,
        }))
    }

    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    pub fn doc(&self) -> &Automerge {
        &self.doc
    }

    pub fn log(&self) -> &[Entry] {
        &self.log
    }

    /// Changes the bound on entries waiting for dependencies (default [`MAX_PENDING`]
    /// entries, [`MAX_PENDING_BYTES`] bytes).
    pub fn set_pending_limit(&mut self, entries: usize, bytes: usize) {
        self.pending_limit = (entries, bytes);
    }

    /// Changes the bound on the bytes one author may write here (default
    /// [`MAX_BYTES_PER_AUTHOR`]; every node must use the same value, so only tests change it).
    pub fn set_author_quota(&mut self, bytes: u64) {
        self.author_quota = bytes;
    }

    /// Bytes of the entries waiting for dependencies.
    pub fn pending_bytes(&self) -> usize {
        self.pending.values().map(Entry::len).sum()
    }

    /// Entries that passed validation and wait for their dependencies.
    pub fn pending_entries(&self) -> impl Iterator<Item = &Entry> {
        self.pending.values()
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    pub fn equivocators(&self) -> &BTreeSet<PublicKey> {
        &self.equivocators
    }

    /// Refuses `author` from now on (used when loading stored evidence).
    pub fn mark_equivocator(&mut self, author: PublicKey) {
        if self.pins.contains_key(&author) {
            // Its body resolved the fork: the side that stands counts (see `revoke`).
            return;
        }
        self.equivocators.insert(author);
        self.pending.retain(|(a, _), _| *a != author);
    }

    pub fn vector(&self) -> Vector {
        Vector(
            self.by_author
                .iter()
                .map(|(a, p)| (*a, p.len() as u64))
                .collect(),
        )
    }

    /// The tip of every author held.
    pub fn tips(&self) -> Tips {
        Tips(
            self.by_author
                .iter()
                .filter_map(|(a, p)| p.last().map(|&i| (*a, tip_of(&self.log[i]))))
                .collect(),
        )
    }

    /// Our entries at each (author, seq) where a replica at `theirs` holds a *different*
    /// change: sending them lets that replica detect the fork.
    pub fn forks_against(&self, theirs: &Vector, tips: &Tips) -> Vec<&Entry> {
        tips.0
            .iter()
            .filter_map(|(author, tip)| {
                let ours = self.entry(author, theirs.get(author))?;
                (tip_of(ours) != *tip).then_some(ours)
            })
            .collect()
    }

    /// The entry at (author, seq), if held.
    pub fn entry(&self, author: &PublicKey, seq: u64) -> Option<&Entry> {
        let index = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.by_author
            .get(author)?
            .get(index)
            .map(|&p| &self.log[p])
    }

    /// The body `author` writes for in this space: the one its first entry names.
    pub fn author_body(&self, author: &PublicKey) -> Option<BodyId> {
        self.entry(author, 1).map(Entry::body)
    }

    /// The member certificate of `author` for the body it writes for here, if known: who
    /// an author is, the same on every node that holds the same certificates.
    pub fn author_cert<'c>(
        &self,
        author: &PublicKey,
        certs: &'c Certificates,
    ) -> Option<&'c Certificate> {
        certs.member_cert(author, &self.author_body(author)?)
    }

    /// The entries a replica at `theirs` lacks, in log (causal) order, at most
    /// `max_entries` of them and about `max_bytes` (at least one entry is returned if any
    /// is missing). The flag says whether more remain.
    pub fn missing_for(
        &self,
        theirs: &Vector,
        max_entries: usize,
        max_bytes: usize,
    ) -> (Vec<&Entry>, bool) {
        let mut positions: Vec<usize> = Vec::new();
        for (author, held) in &self.by_author {
            let have = usize::try_from(theirs.get(author)).unwrap_or(usize::MAX);
            if have < held.len() {
                positions.extend_from_slice(&held[have..]);
            }
        }
        positions.sort_unstable();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for &p in &positions {
            let entry = &self.log[p];
            if !out.is_empty()
                && (out.len() >= max_entries || bytes + entry.bytes().len() > max_bytes)
            {
                return (out, true);
            }
            bytes += entry.bytes().len();
            out.push(entry);
        }
        (out, false)
    }

    /// Makes a local change as `author` and signs it. `now_ms` becomes the change's
    /// timestamp. Returns `None` if `edit` changed nothing.
    pub fn local_change<F>(
        &mut self,
        author: &SecretKey,
        body: BodyId,
        now_ms: i64,
        edit: F,
    ) -> Result<Option<Entry>, SpaceError>
    where
        F: FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
    {
        self.local_change_signing(author, body, false, now_ms, edit)
    }

    /// [`Self::local_change`] by a key whose certificate says whether it may sign joint
    /// documents for its body (`can_sign`), which some of the document's rules ask.
    pub fn local_change_signing<F>(
        &mut self,
        author: &SecretKey,
        body: BodyId,
        can_sign: bool,
        now_ms: i64,
        edit: F,
    ) -> Result<Option<Entry>, SpaceError>
    where
        F: FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
    {
        let me = author.public();
        if self.equivocators.contains(&me) {
            return Err(SpaceError::Equivocator(me));
        }
        if self.cutoffs.contains_key(&(me, body)) {
            return Err(SpaceError::Revoked(me));
        }
        if self.broken.contains_key(&me) {
            return Err(SpaceError::Withdrawn(me));
        }
        if !self.is_member(&body) || self.author_body(&me).is_some_and(|b| b != body) {
            return Err(SpaceError::NotAuthorBody);
        }
        self.doc.set_actor(ActorId::from(me.as_bytes().as_slice()));
        let mut tx = self.doc.transaction();
        if let Err(e) = edit(&mut tx) {
            tx.rollback();
            return Err(e.into());
        }
        let (hash, _) = tx.commit_with(CommitOptions::default().with_time(now_ms));
        let Some(hash) = hash else { return Ok(None) };
        let change = self
            .doc
            .get_change_by_hash(&hash)
            .ok_or_else(|| SpaceError::Automerge("committed change not found".into()))?
            .clone();
        // The rules every remote change is held to hold for ours too; a refused change is
        // taken out of the document again (rebuilt from the log).
        let writer = crate::model::Author {
            key: me,
            body,
            can_sign,
        };
        let checked = crate::model::check_change(
            self.genesis.kind,
            &self.doc,
            &mut crate::model::Made::default(),
            &writer,
            &change,
        )
        .map_err(|e| SpaceError::Model(e.to_string()))
        .and_then(|()| Entry::sign(self.id(), body, &change, author).map_err(Into::into))
        .and_then(|entry| {
            // The bound every partner holds this author to (see `receive`): an entry past it
            // would be refused everywhere, and everything after it would wait behind it.
            let written = self.author_bytes.get(&me).copied().unwrap_or(0);
            let size = entry.len() as u64;
            if written + size > self.author_quota {
                return Err(SpaceError::AuthorQuota {
                    key: me,
                    written,
                    change: size,
                    quota: self.author_quota,
                });
            }
            Ok(entry)
        });
        let entry = match checked {
            Ok(entry) => entry,
            Err(e) => {
                self.rebuild_doc()?;
                return Err(e);
            }
        };
        self.append(entry.clone());
        Ok(Some(entry))
    }

    /// Rebuilds the document from the log (after a local change was refused).
    fn rebuild_doc(&mut self) -> Result<(), SpaceError> {
        let mut doc = Automerge::new();
        let changes = self
            .log
            .iter()
            .map(|e| e.clone().take_change())
            .collect::<Result<Vec<_>, _>>()?;
        doc.apply_changes(changes)?;
        self.doc = doc;
        Ok(())
    }

    /// Why a revocation refuses `entry`, if it does.
    fn revoked_reason(&self, entry: &Entry) -> Option<Rejection> {
        let author = entry.author();
        if self
            .cutoffs
            .get(&(author, entry.body()))
            .is_some_and(|up_to| entry.seq() > *up_to)
        {
            return Some(Rejection::Revoked(author));
        }
        if self.pin_refuses(entry) {
            return Some(Rejection::NotChosen(author));
        }
        let broken = self.broken.get(&author).is_some_and(|s| entry.seq() >= *s);
        (broken || entry.deps().iter().any(|d| self.withdrawn.contains(d)))
            .then_some(Rejection::Withdrawn)
    }

    /// Applies a revocation: `key`'s entries for `body` past `up_to` stop counting here,
    /// with everything that depends on them. Returns what was taken out of the log (in log
    /// order) and the log position from which the log changed; the store keeps the
    /// withdrawn entries as evidence and rewrites the log from there. Idempotent; a later,
    /// looser cutoff changes nothing.
    ///
    /// With `pin` — a fork resolution by the key's body: (seq, change hash that stands) —
    /// the key is no longer refused as an equivocator, and its entry at that seq counts
    /// only if it is the chosen one.
    pub fn revoke(
        &mut self,
        key: PublicKey,
        body: BodyId,
        up_to: u64,
        pin: Option<(u64, [u8; 32])>,
    ) -> Result<Option<Withdrawal>, SpaceError> {
        let cutoff = self.revoked.entry((key, body)).or_insert(up_to);
        *cutoff = (*cutoff).min(up_to);
        let up_to = *cutoff;
        if let Some((seq, stands)) = pin {
            if self.author_body(&key).is_none_or(|b| b == body) {
                self.pins.insert(key, (seq, ChangeHash(stands)));
                self.equivocators.remove(&key);
            }
        }
        let doomed = |this: &Space, e: &Entry| {
            e.author() == key && e.body() == body && (e.seq() > up_to || this.pin_refuses(e))
        };
        let pending_doomed: Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, e)| doomed(self, e))
            .map(|(k, _)| *k)
            .collect();
        for k in pending_doomed {
            self.pending.remove(&k);
        }
        // The key's consents count no more, which may change the members too.
        self.settle()
    }

    /// Whether a fork resolution refuses `entry` (another change than the chosen one at the
    /// resolved seq).
    fn pin_refuses(&self, entry: &Entry) -> bool {
        self.pins
            .get(&entry.author())
            .is_some_and(|(seq, stands)| entry.seq() == *seq && entry.change_hash() != *stands)
    }

    /// Records entries withdrawn earlier (from storage), so they and what builds on them
    /// stay refused and their authors do not write again, until [`Space::settle`] finds
    /// that they count again.
    pub fn mark_withdrawn(&mut self, entries: &[Entry]) {
        for e in entries {
            let hash = e.change_hash();
            if !self.withdrawn.contains(&hash) && !self.applied.contains(&hash) {
                self.withdrawn.insert(hash);
                self.withdrawn_entries.push(e.clone());
            }
        }
        self.index_withdrawn();
    }

    /// Entries held out of the log.
    pub fn withdrawn_entries(&self) -> &[Entry] {
        &self.withdrawn_entries
    }

    /// Rebuilds `withdrawn` and `broken` from the withdrawn entries.
    fn index_withdrawn(&mut self) {
        self.withdrawn = self
            .withdrawn_entries
            .iter()
            .map(Entry::change_hash)
            .collect();
        // A key that is cut (revoked, or its body removed or no member) is stopped by that
        // already: it is not "broken".
        let cut: HashSet<PublicKey> = self.cutoffs.keys().map(|(k, _)| *k).collect();
        let mut broken: HashMap<PublicKey, u64> = HashMap::new();
        for e in &self.withdrawn_entries {
            if cut.contains(&e.author()) || !self.may_write(&e.body(), &e.author(), e.seq()) {
                continue;
            }
            let first = broken.entry(e.author()).or_insert(e.seq());
            *first = (*first).min(e.seq());
        }
        self.broken = broken;
    }

    /// Authors that lost entries to a revocation (and cannot write here again), with the
    /// first seq they lost.
    pub fn broken_authors(&self) -> &HashMap<PublicKey, u64> {
        &self.broken
    }

    /// Revoked keys in this space and their cutoffs.
    pub fn cutoffs(&self) -> &HashMap<(PublicKey, BodyId), u64> {
        &self.cutoffs
    }

    /// Replaces the log (a causal-order subset of the old one) and rebuilds the document
    /// and every index from it.
    fn reset_log(&mut self, log: Vec<Entry>) -> Result<(), SpaceError> {
        self.by_author.clear();
        self.applied.clear();
        self.body_authors.clear();
        self.author_bytes.clear();
        for entry in log {
            self.append(entry);
        }
        self.rebuild_doc()
    }

    fn append(&mut self, entry: Entry) {
        if entry.seq() == 1 {
            *self.body_authors.entry(entry.body()).or_default() += 1;
        }
        *self.author_bytes.entry(entry.author()).or_default() += entry.len() as u64;
        self.by_author
            .entry(entry.author())
            .or_default()
            .push(self.log.len());
        self.applied.insert(entry.change_hash());
        self.log.push(entry);
    }

    /// Runs incoming entries through validation and applies every one whose dependencies
    /// are met, in one automerge call. `certified(key, body)` says whether `body` issued a
    /// member certificate for `key` (from the node's registry or the message at hand).
    pub fn receive(
        &mut self,
        incoming: Vec<Entry>,
        certified: impl Fn(&PublicKey, &BodyId) -> Option<Certified>,
    ) -> Received {
        let mut out = Received::default();
        let mut candidates: Vec<Entry> = Vec::new();
        for entry in incoming {
            let key = (entry.author(), entry.seq());
            if entry.space() != self.id() {
                out.rejected.push((Rejection::WrongSpace, Some(key)));
                continue;
            }
            if !self.may_write(&entry.body(), &entry.author(), entry.seq())
                || certified(&entry.author(), &entry.body()).is_none()
            {
                out.rejected
                    .push((Rejection::Unauthorized(entry.author()), Some(key)));
                continue;
            }
            if self.equivocators.contains(&entry.author()) {
                out.rejected
                    .push((Rejection::Equivocator(entry.author()), Some(key)));
                continue;
            }
            if let Some(reason) = self.revoked_reason(&entry) {
                out.rejected.push((reason, Some(key)));
                continue;
            }
            // Same change = same entry, whatever the signature bytes: only a different
            // change at a held (author, seq) is equivocation.
            // (The same change written for another body is not the same entry: that falls
            // through to the equivocation check below.)
            let held = self
                .entry(&key.0, key.1)
                .or_else(|| self.pending.get(&key))
                .map(|e| (e.change_hash(), e.body()));
            let dup_in_batch = candidates
                .iter()
                .any(|c| (c.change_hash(), c.body()) == (entry.change_hash(), entry.body()));
            if held == Some((entry.change_hash(), entry.body())) || dup_in_batch {
                out.duplicates += 1;
                continue;
            }
            candidates.push(entry);
        }

        let bad = bad_signatures(&candidates);
        let mut fresh: Vec<Entry> = Vec::new();
        for (i, entry) in candidates.into_iter().enumerate() {
            let key = (entry.author(), entry.seq());
            if bad.contains(&i) {
                out.rejected
                    .push((Rejection::BadSignature(entry.author()), Some(key)));
                continue;
            }
            if self.equivocators.contains(&entry.author()) {
                out.rejected
                    .push((Rejection::Equivocator(entry.author()), Some(key)));
                continue;
            }
            let held = self
                .entry(&key.0, key.1)
                .cloned()
                .or_else(|| self.pending.get(&key).cloned());
            let held =
                held.or_else(|| fresh.iter().find(|e| (e.author(), e.seq()) == key).cloned());
            if let Some(held) = held {
                out.equivocations.push(Equivocation {
                    author: key.0,
                    seq: key.1,
                    held,
                    other: entry,
                });
                self.mark_equivocator(key.0);
                fresh.retain(|e| e.author() != key.0);
                continue;
            }
            fresh.push(entry);
        }
        // Everything goes in, what is ready is applied, and only then is the bound enforced
        // — on this batch's leftovers — so a full pending set never blocks entries that
        // could be applied. Evicted entries come back through anti-entropy.
        let batch_keys: Vec<Key> = fresh.iter().map(|e| (e.author(), e.seq())).collect();
        for entry in fresh {
            self.pending.insert((entry.author(), entry.seq()), entry);
        }
        self.apply_ready(&certified, &mut out);
        let mut pending_bytes: usize = self.pending.values().map(Entry::len).sum();
        for key in batch_keys.iter().rev() {
            if self.pending.len() <= self.pending_limit.0 && pending_bytes <= self.pending_limit.1 {
                break;
            }
            if let Some(evicted) = self.pending.remove(key) {
                pending_bytes -= evicted.len();
                out.rejected.push((Rejection::PendingFull, Some(*key)));
            }
        }
        out.pending = self.pending.len();
        out
    }

    /// Moves every pending entry whose dependencies are met into the document (Kahn's
    /// algorithm over the pending set, so arrival order does not matter).
    fn apply_ready(
        &mut self,
        certified: &dyn Fn(&PublicKey, &BodyId) -> Option<Certified>,
        out: &mut Received,
    ) {
        if self.pending.is_empty() {
            return;
        }
        let by_hash: HashMap<ChangeHash, Key> = self
            .pending
            .iter()
            .map(|(k, e)| (e.change_hash(), *k))
            .collect();
        let mut waiting_on: HashMap<Key, usize> = HashMap::new();
        let mut dependents: HashMap<Key, Vec<Key>> = HashMap::new();
        let mut ready: VecDeque<Key> = VecDeque::new();
        for (key, entry) in &self.pending {
            let mut count = 0usize;
            let mut blocked = false;
            let have = self.by_author.get(&key.0).map_or(0, |p| p.len() as u64);
            if key.1 != have + 1 {
                let prev = (key.0, key.1.saturating_sub(1));
                if key.1 > have + 1 && self.pending.contains_key(&prev) {
                    count += 1;
                    dependents.entry(prev).or_default().push(*key);
                } else {
                    blocked = true;
                }
            }
            for dep in entry.deps() {
                if self.applied.contains(dep) {
                    continue;
                }
                match by_hash.get(dep) {
                    Some(dep_key)
                        if dep_key.0 == key.0 && dep_key.1.checked_add(1) == Some(key.1) => {} // counted as prev
                    Some(dep_key) => {
                        count += 1;
                        dependents.entry(*dep_key).or_default().push(*key);
                    }
                    None => blocked = true,
                }
            }
            if blocked {
                waiting_on.insert(*key, usize::MAX);
            } else if count == 0 {
                ready.push_back(*key);
            } else {
                waiting_on.insert(*key, count);
            }
        }
        let mut order: Vec<Key> = Vec::new();
        while let Some(key) = ready.pop_front() {
            order.push(key);
            for dependent in dependents.remove(&key).unwrap_or_default() {
                if let Some(count) = waiting_on.get_mut(&dependent) {
                    if *count != usize::MAX {
                        *count -= 1;
                        if *count == 0 {
                            waiting_on.remove(&dependent);
                            ready.push_back(dependent);
                        }
                    }
                }
            }
        }
        if order.is_empty() {
            return;
        }
        // An author writes for the body its seq-1 entry names. `order` is causal, so an
        // author's seq 1 comes before its later entries; whatever depends on a refused
        // entry is refused with it.
        let mut bodies: HashMap<PublicKey, BodyId> = HashMap::new();
        let mut refused: HashSet<ChangeHash> = HashSet::new();
        let mut refused_keys: HashSet<Key> = HashSet::new();
        let mut new_authors: HashMap<BodyId, usize> = HashMap::new();
        let mut batch_authors: HashSet<PublicKey> = HashSet::new();
        let mut batch_bytes: HashMap<PublicKey, u64> = HashMap::new();
        let mut batch: Vec<(Entry, Change)> = Vec::with_capacity(order.len());
        let mut made = crate::model::Made::default();
        for key in &order {
            let Some(mut entry) = self.pending.remove(key) else {
                continue;
            };
            let prev_refused = refused_keys.contains(&(key.0, key.1.saturating_sub(1)));
            if prev_refused || entry.deps().iter().any(|d| refused.contains(d)) {
                refused.insert(entry.change_hash());
                refused_keys.insert(*key);
                out.rejected.push((
                    Rejection::Apply("depends on a refused change".into()),
                    Some(*key),
                ));
                continue;
            }
            let bound = match self.author_body(&key.0) {
                Some(body) => body,
                None => *bodies.entry(key.0).or_insert(entry.body()),
            };
            let hash = entry.change_hash();
            let mut refuse = |reason: Rejection, out: &mut Received| {
                refused.insert(hash);
                refused_keys.insert(*key);
                out.rejected.push((reason, Some(*key)));
            };
            if bound != entry.body() {
                refuse(Rejection::BodyMismatch(key.0), out);
                continue;
            }
            if key.1 == 1 {
                let count = self.body_authors.get(&bound).copied().unwrap_or(0)
                    + new_authors.get(&bound).copied().unwrap_or(0);
                if count >= MAX_AUTHORS_PER_BODY {
                    refuse(Rejection::TooManyAuthors(bound), out);
                    continue;
                }
            }
            let change = match entry.take_change() {
                Ok(change) => change,
                Err(e) => {
                    refuse(Rejection::Apply(e.to_string()), out);
                    continue;
                }
            };
            // automerge panics applying a change that names an actor the document does
            // not know; a legitimate change names only authors whose changes it builds on.
            let stranger = change.other_actor_ids().iter().find(|actor| {
                let bytes = actor.to_bytes();
                let known = <[u8; 32]>::try_from(bytes).ok().map(PublicKey::from_bytes);
                !known
                    .is_some_and(|k| self.by_author.contains_key(&k) || batch_authors.contains(&k))
            });
            if let Some(actor) = stranger {
                refuse(Rejection::UnknownActor(actor.to_hex_string()), out);
                continue;
            }
            let writer = crate::model::Author {
                key: key.0,
                body: bound,
                can_sign: certified(&key.0, &bound).is_some_and(|c| c.can_sign),
            };
            if let Err(e) = crate::model::check_change(
                self.genesis.kind,
                &self.doc,
                &mut made,
                &writer,
                &change,
            ) {
                refuse(Rejection::Model(e.to_string()), out);
                continue;
            }
            let written = self.author_bytes.get(&key.0).copied().unwrap_or(0)
                + batch_bytes.get(&key.0).copied().unwrap_or(0);
            if written + entry.len() as u64 > self.author_quota {
                refuse(Rejection::AuthorQuota(key.0), out);
                continue;
            }
            *batch_bytes.entry(key.0).or_default() += entry.len() as u64;
            if key.1 == 1 {
                *new_authors.entry(bound).or_default() += 1;
            }
            batch_authors.insert(key.0);
            batch.push((entry, change));
        }
        self.apply_batch(batch, out);
    }

    /// Applies validated entries (in causal order) in one automerge call, falling back to
    /// one at a time to find a change automerge refuses.
    fn apply_batch(&mut self, batch: Vec<(Entry, Change)>, out: &mut Received) {
        if batch.is_empty() {
            return;
        }
        let changes: Vec<Change> = batch.iter().map(|(_, c)| c.clone()).collect();
        match self.apply_guarded(changes) {
            Ok(()) => {
                for (entry, _) in batch {
                    out.accepted.push(entry.clone());
                    self.append(entry);
                }
            }
            Err(_) => {
                // Find the change automerge refuses: apply one at a time (already applied
                // ones are ignored), keep what went in, reject the rest of that author.
                for (entry, change) in batch {
                    let key = (entry.author(), entry.seq());
                    let prev_ok = key.1 == 1 || self.entry(&key.0, key.1 - 1).is_some();
                    let deps_ok = entry.deps().iter().all(|d| self.applied.contains(d));
                    if !prev_ok || !deps_ok {
                        out.rejected.push((
                            Rejection::Apply("depends on a refused change".into()),
                            Some(key),
                        ));
                        continue;
                    }
                    if self.doc.get_change_by_hash(&entry.change_hash()).is_none() {
                        if let Err(e) = self.apply_guarded(vec![change]) {
                            out.rejected.push((Rejection::Apply(e), Some(key)));
                            continue;
                        }
                    }
                    out.accepted.push(entry.clone());
                    self.append(entry);
                }
            }
        }
    }

    /// `apply_changes`, with automerge's panics on malformed input caught: the document is
    /// then rebuilt from the log (a panic may have left it half-changed) and the changes
    /// count as refused.
    fn apply_guarded(&mut self, changes: Vec<Change>) -> Result<(), String> {
        let doc = &mut self.doc;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            doc.apply_changes(changes)
        }));
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => {
                self.rebuild_doc().map_err(|e| e.to_string())?;
                Err("automerge could not apply the change (it panicked)".into())
            }
        }
    }

    /// A snapshot of the document covering every entry of the log: `(count, bytes)`.
    pub fn snapshot(&self) -> (u64, Vec<u8>) {
        (self.log.len() as u64, self.doc.save())
    }
}

/// Checks every signature of `log` again (for `agenda show`): returns how many verified and
/// which did not.
pub fn reverify(log: &[Entry]) -> (usize, Vec<(PublicKey, u64)>) {
    let mut failed: Vec<usize> = bad_signatures(log).into_iter().collect();
    failed.sort_unstable();
    let bad: Vec<(PublicKey, u64)> = failed
        .into_iter()
        .map(|i| (log[i].author(), log[i].seq()))
        .collect();
    (log.len() - bad.len(), bad)
}

/// Indices of entries whose signature does not verify.
///
/// Every entry is checked on its own with `verify_strict`, never as part of a batch:
/// ed25519-dalek's batch equation is cofactorless with coefficients derived from the whole
/// batch, so a signature carrying a torsion component would pass or fail depending on which
/// other entries shared its batch, and nodes would disagree about it. Large sets are
/// checked on all cores (plain threads: no I/O, no clock, no randomness).
fn bad_signatures(entries: &[Entry]) -> HashSet<usize> {
    const PARALLEL_FROM: usize = 256;
    let check = |offset: usize, chunk: &[Entry]| -> Vec<usize> {
        chunk
            .iter()
            .enumerate()
            .filter(|(_, e)| e.verify().is_err())
            .map(|(i, _)| offset + i)
            .collect()
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if entries.len() < PARALLEL_FROM || threads < 2 {
        return check(0, entries).into_iter().collect();
    }
    let size = entries.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .chunks(size)
            .enumerate()
            .map(|(n, chunk)| scope.spawn(move || check(n * size, chunk)))
            .collect();
        let mut bad = HashSet::new();
        for (n, handle) in handles.into_iter().enumerate() {
            match handle.join() {
                Ok(found) => bad.extend(found),
                // A verifier thread cannot panic on its input; if it did, refuse its share.
                Err(_) => bad.extend(n * size..(n * size + size).min(entries.len())),
            }
        }
        bad
    })
}

#[cfg(test)]
mod rejection_codes {
    use super::*;

    #[test]
    fn codes_lists_every_rejection_once() {
        let key = crate::SecretKey::from_seed([1; 32]).public();
        let all = [
            Rejection::WrongSpace,
            Rejection::Unauthorized(key),
            Rejection::BodyMismatch(key),
            Rejection::TooManyAuthors(BodyId(key)),
            Rejection::UnknownActor(String::new()),
            Rejection::Model(String::new()),
            Rejection::AuthorQuota(key),
            Rejection::Equivocator(key),
            Rejection::BadSignature(key),
            Rejection::PendingFull,
            Rejection::Apply(String::new()),
            Rejection::Revoked(key),
            Rejection::Withdrawn,
            Rejection::NotChosen(key),
        ];
        // A new variant fails to compile here until it is listed above (and in CODES).
        for r in &all {
            match r {
                Rejection::WrongSpace
                | Rejection::Unauthorized(_)
                | Rejection::BodyMismatch(_)
                | Rejection::TooManyAuthors(_)
                | Rejection::UnknownActor(_)
                | Rejection::Model(_)
                | Rejection::AuthorQuota(_)
                | Rejection::Equivocator(_)
                | Rejection::BadSignature(_)
                | Rejection::PendingFull
                | Rejection::Apply(_)
                | Rejection::Revoked(_)
                | Rejection::Withdrawn
                | Rejection::NotChosen(_) => {}
            }
        }
        let codes: Vec<&str> = all.iter().map(Rejection::code).collect();
        assert_eq!(codes, Rejection::CODES);
    }
}
