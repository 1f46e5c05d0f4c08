//! The signed entry: one automerge change, bound to a space and signed by its author.
//!
//! Layout (version 2), all of it canonical:
//!
//! ```text
//! u8 version = 2 | [32] space id | [32] body id | u32 len, change bytes | [64] Ed25519 signature
//! ```
//!
//! The signature covers `"confer/entry/v2" 0x00 || space id || body id || change bytes`. The
//! automerge actor id of the change *is* the author's public key, so the change's own
//! (actor, seq) is the entry's (author, seq) and cannot disagree with the signature. The
//! *body id* names the body the author writes for: the entry counts only if that body
//! certified the author's key and is a member of the space, and it is shown under that body
//! and no other. A key is public, so any body can certify it; binding the body into the
//! signed bytes means no one but the author decides whose name the entry carries. An entry
//! is addressed by the BLAKE3 hash of its full encoding.
//!
//! The change bytes pass [`crate::chunk::precheck_change`] before automerge parses them, on
//! decoding and on signing alike: at most [`MAX_CHANGE_OPS`] ops, a valid checksum, no
//! compression.

use std::fmt;

use automerge::{Change, ChangeHash};

use crate::cert::BodyId;
use crate::chunk::{precheck_change, ChunkError, MAX_CHANGE_OPS};
use crate::keys::{Domain, KeyError, PublicKey, SecretKey, Signature};
use crate::space::SpaceId;
use crate::wire::{DecodeError, Reader, Writer};

const ENTRY_DOMAIN: Domain = Domain(b"confer/entry/v2");
const ENTRY_VERSION: u8 = 2;
/// Largest automerge change one entry may carry.
pub const MAX_CHANGE_BYTES: usize = 1024 * 1024;
/// Bytes an entry adds around its change.
pub const ENTRY_OVERHEAD: usize = 1 + 32 + 32 + 4 + 64;
/// Largest encoded entry.
pub const MAX_ENTRY_BYTES: usize = MAX_CHANGE_BYTES + ENTRY_OVERHEAD;

/// The BLAKE3 hash of an entry's encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryHash(pub [u8; 32]);

impl fmt::Display for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryHash({})", hex::encode(&self.0[..4]))
    }
}

/// Why an entry could not be decoded or created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("entry is malformed: {0}")]
    Decode(#[from] DecodeError),
    #[error("entry holds no valid automerge change: {0}")]
    Change(String),
    #[error("change refused before parsing: {0}")]
    Chunk(ChunkError),
    #[error("change actor is not a 32-byte public key")]
    ActorNotAKey,
    #[error("change actor {actor:?} is not the signing key {signer:?}")]
    ActorMismatch { actor: PublicKey, signer: PublicKey },
    #[error("change has sequence number 0 (sequence numbers start at 1)")]
    SeqZero,
    #[error("change timestamp {0} ms is out of range (at most {MAX_TIME_MS} from 1970)")]
    Timestamp(i64),
    #[error("entry signature by {author:?} does not verify")]
    BadSignature { author: PublicKey },
}

/// A sequence number of 0 is reported as [`EntryError::SeqZero`] whichever check finds it.
impl From<ChunkError> for EntryError {
    fn from(e: ChunkError) -> Self {
        match e {
            ChunkError::SeqZero => EntryError::SeqZero,
            e => EntryError::Chunk(e),
        }
    }
}

/// A decoded entry. Holds its encoding and what validation and sync need. A freshly decoded
/// entry also carries its parsed automerge change until it is applied
/// ([`Entry::take_change`]), so the change is parsed once on the way in and the log does
/// not keep two copies of it.
#[derive(Clone)]
pub struct Entry {
    bytes: Vec<u8>,
    space: SpaceId,
    body: BodyId,
    author: PublicKey,
    seq: u64,
    hash: EntryHash,
    change_hash: ChangeHash,
    deps: Vec<ChangeHash>,
    /// Work automerge does on the change: its ops plus their predecessor links (the
    /// pre-check's upper bound).
    work: u64,
    parsed: Option<Change>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Entry {}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Entry({}:{} of {} in {})",
            self.author.fmt_short(),
            self.seq,
            self.body.fmt_short(),
            self.space.fmt_short()
        )
    }
}

fn author_of(change: &Change) -> Result<PublicKey, EntryError> {
    let actor: [u8; 32] = change
        .actor_id()
        .to_bytes()
        .try_into()
        .map_err(|_| EntryError::ActorNotAKey)?;
    Ok(PublicKey::from_bytes(actor))
}

impl Entry {
    /// Signs `change` for `space`, written for `body`. Fails if the change's actor is not
    /// `author`'s key.
    pub fn sign(
        space: SpaceId,
        body: BodyId,
        change: &Change,
        author: &SecretKey,
    ) -> Result<Entry, EntryError> {
        let actor = author_of(change)?;
        if actor != author.public() {
            return Err(EntryError::ActorMismatch {
                actor,
                signer: author.public(),
            });
        }
        if change.seq() == 0 {
            return Err(EntryError::SeqZero);
        }
        let raw = change.raw_bytes();
        if raw.len() > MAX_CHANGE_BYTES {
            return Err(DecodeError::TooLarge {
                what: "change",
                len: raw.len(),
                max: MAX_CHANGE_BYTES,
            }
            .into());
        }
        // What a peer would refuse, we do not sign.
        let shape = precheck_change(raw, MAX_CHANGE_OPS)?;
        check_time(change.timestamp())?;
        let signature = author.sign(ENTRY_DOMAIN, &signed_payload(&space, &body, raw));
        let mut w = Writer::with_capacity(raw.len() + ENTRY_OVERHEAD);
        w.u8(ENTRY_VERSION)
            .raw(space.as_bytes())
            .raw(body.0.as_bytes())
            .bytes(raw)
            .raw(&signature.0);
        let bytes = w.finish();
        Ok(Entry {
            hash: EntryHash(*blake3::hash(&bytes).as_bytes()),
            bytes,
            space,
            body,
            author: actor,
            seq: change.seq(),
            change_hash: change.hash(),
            deps: change.deps().to_vec(),
            work: shape.ops.saturating_add(shape.group_entries),
            parsed: None,
        })
    }

    /// Decodes an entry and parses its change. Does **not** check the signature: call
    /// [`Entry::verify`] (or verify a batch) before trusting it.
    pub fn decode(bytes: Vec<u8>) -> Result<Entry, EntryError> {
        let mut r = Reader::new(&bytes);
        if r.u8()? != ENTRY_VERSION {
            return Err(DecodeError::Invalid("unknown entry version").into());
        }
        let space = SpaceId(r.array()?);
        let body = BodyId(PublicKey::from_bytes(r.array()?));
        let raw = r.bytes("change", MAX_CHANGE_BYTES)?;
        let _sig: [u8; 64] = r.array()?;
        r.finish()?;
        // Before automerge parses anything: one uncompressed change chunk (a compressed one
        // could be a decompression bomb) with a valid checksum, whose columns decode to at
        // most MAX_CHANGE_OPS ops — automerge expands run-length columns without a cap.
        let shape = precheck_change(raw, MAX_CHANGE_OPS)?;
        let change = parse_change(raw.to_vec())?;
        check_time(change.timestamp())?;
        // automerge accepts a compressed change and re-encodes it; only the exact bytes
        // that were signed are acceptable.
        if change.raw_bytes() != raw {
            return Err(EntryError::Change(
                "change bytes are not in canonical form".into(),
            ));
        }
        let author = author_of(&change)?;
        if change.seq() == 0 {
            return Err(EntryError::SeqZero);
        }
        let entry = Entry {
            hash: EntryHash(*blake3::hash(&bytes).as_bytes()),
            space,
            body,
            author,
            seq: change.seq(),
            change_hash: change.hash(),
            deps: change.deps().to_vec(),
            work: shape.ops.saturating_add(shape.group_entries),
            bytes,
            parsed: Some(change),
        };
        Ok(entry)
    }

    pub fn decode_from(r: &mut Reader<'_>) -> Result<Entry, EntryError> {
        Self::decode(r.bytes("entry", MAX_ENTRY_BYTES)?.to_vec())
    }

    fn change_bytes(&self) -> &[u8] {
        &self.bytes[1 + 32 + 32 + 4..self.bytes.len() - 64]
    }

    pub fn signature(&self) -> Signature {
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&self.bytes[self.bytes.len() - 64..]);
        Signature(sig)
    }

    /// The payload the signature covers (without the domain tag).
    pub fn signed_payload(&self) -> Vec<u8> {
        signed_payload(&self.space, &self.body, self.change_bytes())
    }

    pub fn domain() -> Domain {
        ENTRY_DOMAIN
    }

    /// Strict check of the author's signature.
    pub fn verify(&self) -> Result<(), EntryError> {
        self.author
            .verify(ENTRY_DOMAIN, &self.signed_payload(), &self.signature())
            .map_err(|_: KeyError| EntryError::BadSignature {
                author: self.author,
            })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    pub fn space(&self) -> SpaceId {
        self.space
    }
    /// The body the author wrote this entry for (signed).
    pub fn body(&self) -> BodyId {
        self.body
    }
    pub fn author(&self) -> PublicKey {
        self.author
    }
    pub fn seq(&self) -> u64 {
        self.seq
    }
    pub fn hash(&self) -> EntryHash {
        self.hash
    }
    pub fn change_hash(&self) -> ChangeHash {
        self.change_hash
    }
    pub fn deps(&self) -> &[ChangeHash] {
        &self.deps
    }
    /// The automerge change inside: the one parsed at decode time if still held, else
    /// parsed again.
    pub fn take_change(&mut self) -> Result<Change, EntryError> {
        match self.parsed.take() {
            Some(change) => Ok(change),
            None => parse_change(self.change_bytes().to_vec()),
        }
    }

    /// The automerge change inside, parsed from the entry's bytes (the entry keeps what it
    /// holds): for readers of a space's log.
    pub fn parse_change(&self) -> Result<Change, EntryError> {
        match &self.parsed {
            Some(change) => Ok(change.clone()),
            None => parse_change(self.change_bytes().to_vec()),
        }
    }

    /// An upper bound on the ops and predecessor links automerge walks for this change.
    pub fn work(&self) -> u64 {
        self.work
    }

    /// Encoded length.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Parses a change with automerge, which panics on some malformed input (found by fuzzing:
/// an `unwrap` in `OpId::new` on a predecessor counter or actor index beyond 32 bits, in
/// automerge 0.12). The pre-check has already bounded the work; a panic is caught here and
/// becomes an ordinary refusal. Parsing has no side effects, so nothing is left half-done.
fn parse_change(bytes: Vec<u8>) -> Result<Change, EntryError> {
    match std::panic::catch_unwind(move || Change::from_bytes(bytes)) {
        Ok(Ok(change)) => Ok(change),
        Ok(Err(e)) => Err(EntryError::Change(e.to_string())),
        Err(_) => Err(EntryError::Change(
            "automerge could not parse the change (it panicked)".into(),
        )),
    }
}

/// Largest distance of a change's timestamp from 1970, in ms (about 146 million years).
/// automerge stores timestamps as deltas between changes; two timestamps within this range
/// cannot overflow an `i64` delta.
pub const MAX_TIME_MS: i64 = 1 << 62;

fn check_time(time: i64) -> Result<(), EntryError> {
    if time.checked_abs().is_some_and(|t| t < MAX_TIME_MS) {
        Ok(())
    } else {
        Err(EntryError::Timestamp(time))
    }
}

fn signed_payload(space: &SpaceId, body: &BodyId, change: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(64 + change.len());
    payload.extend_from_slice(space.as_bytes());
    payload.extend_from_slice(body.0.as_bytes());
    payload.extend_from_slice(change);
    payload
}
