//! The sync protocol's messages and their canonical encoding.
//!
//! A session between two nodes: both send [`Message::Hello`] with their node certificate;
//! nothing about a space is said before the peer's body is known. Then each side *pulls*
//! every space the two bodies share: it sends its version vector ([`Message::SyncRequest`])
//! and the other answers with the entries it lacks, in bounded batches
//! ([`Message::SyncResponse`], `more` asks for another round). Both pulls run at once, so
//! a session costs one round trip and every missing entry crosses the link once. Vectors
//! travel with [`Tips`], the hash of each author's last entry, so a fork (two different
//! entries at one seq, which equal vectors would hide) is noticed and the entries that
//! prove it are sent. New local entries are pushed at once ([`Message::Push`]); a node
//! that a push leaves with missing dependencies pulls; a periodic anti-entropy pull repairs
//! anything else.

use crate::cert::Certificate;
use crate::entry::Entry;
use crate::membership::{Consent, MAX_CONSENT_BYTES};
use crate::revocation::{Revocation, MAX_REVOCATION_BYTES, REVOCATION_BYTES};
use crate::space::{Genesis, SpaceId, Tips, Vector};
use crate::wire::{DecodeError, Reader, Writer};

/// The version byte every message starts with.
pub const MESSAGE_VERSION: u8 = 1;
/// Most entries one message may carry.
pub const MAX_MESSAGE_ENTRIES: usize = 16_384;
/// Most certificates one message may carry.
pub const MAX_MESSAGE_CERTS: usize = 1_024;
/// Most consents to membership changes one message may carry.
pub const MAX_MESSAGE_CONSENTS: usize = 256;
/// Most revocations one message may carry.
pub const MAX_MESSAGE_REVOCATIONS: usize = 1_024;
/// Most automerge work (ops plus predecessor links, as [`Entry::work`] bounds it) the
/// entries of one message may carry: parsing and applying them stays well under a second.
pub const MAX_MESSAGE_WORK: u64 = 2_000_000;
/// Largest encoded message (the frame limit every transport enforces).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Longest genesis on the wire.
pub const MAX_GENESIS_BYTES: usize = 64 * 1024;
/// Longest refusal text.
pub const MAX_REASON_BYTES: usize = 1024;

/// What one message may still carry. A node cuts every batch it sends with a budget, so
/// every message it builds is one it would accept itself: within the entry, byte, work and
/// certificate limits of [`Message::decode`], however many authors a space has.
#[derive(Debug, Clone)]
pub struct Budget {
    entries: usize,
    bytes: usize,
    work: u64,
    certs: usize,
    taken: usize,
}

/// Bytes of a message's entries, leaving room for the largest vector, tips, genesis and
/// certificates beside them within [`MAX_MESSAGE_BYTES`].
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

impl Budget {
    /// At most `entries` entries of `bytes` bytes in all (each capped by the protocol's own
    /// limits).
    pub fn new(entries: usize, bytes: usize) -> Budget {
        Budget {
            entries: entries.clamp(1, MAX_MESSAGE_ENTRIES),
            bytes: bytes.min(MAX_BATCH_BYTES),
            work: MAX_MESSAGE_WORK,
            certs: MAX_MESSAGE_CERTS,
            taken: 0,
        }
    }

    /// Takes `entry` (bringing one more certificate if `new_cert`) if it fits. The first
    /// entry always fits: one entry is within every limit by construction.
    pub fn take(&mut self, entry: &Entry, new_cert: bool) -> bool {
        let cert = usize::from(new_cert);
        let fits = self.entries >= 1
            && self.bytes >= entry.len()
            && self.work >= entry.work()
            && self.certs >= cert;
        if !fits && self.taken > 0 {
            return false;
        }
        self.entries = self.entries.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(entry.len());
        self.work = self.work.saturating_sub(entry.work());
        self.certs = self.certs.saturating_sub(cert);
        self.taken += 1;
        true
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The requester has not proven its body yet (send Hello first).
    NotIdentified = 1,
    /// The requester's body is not a member of the space.
    NotMember = 2,
    /// The space is unknown here and no genesis came with the request.
    UnknownSpace = 3,
    /// The request was malformed or invalid.
    Invalid = 4,
    /// The space was created by a body this node's operator has not added.
    Untrusted = 5,
    /// The space names member bodies this node does not trust, and its operator has not
    /// accepted the invitation yet.
    NotAccepted = 6,
}

impl Refusal {
    fn from_u8(v: u8) -> Result<Refusal, DecodeError> {
        Ok(match v {
            1 => Refusal::NotIdentified,
            2 => Refusal::NotMember,
            3 => Refusal::UnknownSpace,
            4 => Refusal::Invalid,
            5 => Refusal::Untrusted,
            6 => Refusal::NotAccepted,
            _ => return Err(DecodeError::Invalid("unknown refusal")),
        })
    }
}

/// One message of the sync protocol (requests and responses share the type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The node certificate, and the body-key certificates that authorise its signer if
    /// the body's key changed since the body was created.
    Hello {
        node: Certificate,
        chain: Vec<Certificate>,
    },
    HelloAck {
        node: Certificate,
        chain: Vec<Certificate>,
    },
    SyncRequest {
        space: SpaceId,
        genesis: Option<Genesis>,
        vector: Vector,
        tips: Tips,
    },
    SyncResponse {
        space: SpaceId,
        vector: Vector,
        tips: Tips,
        certs: Vec<Certificate>,
        entries: Vec<Entry>,
        more: bool,
    },
    Push {
        space: SpaceId,
        genesis: Option<Genesis>,
        certs: Vec<Certificate>,
        entries: Vec<Entry>,
    },
    PushAck {
        space: SpaceId,
        vector: Vector,
    },
    /// Revocations by member bodies of `space` that decide something in it (answered with
    /// `PushAck`). Sent once per connection and space, and when a new one arrives.
    Revoke {
        space: SpaceId,
        revocations: Vec<Revocation>,
    },
    /// Revocations that hold in every space, present and later ([`Scope::Later`]): how a
    /// revoked node key reaches partners that share no space with its body. Sent once the
    /// peer has acknowledged our Hello and when a new one is held; answered with the
    /// receiver's own such revocations the sender has not had from it (often none).
    ///
    /// [`Scope::Later`]: crate::revocation::Scope::Later
    Revocations {
        revocations: Vec<Revocation>,
    },
    /// Consents to changes of the space's member bodies (answered with `PushAck`), with
    /// the genesis when the receiver may not hold the space (a body just added).
    Membership {
        space: SpaceId,
        genesis: Option<Genesis>,
        consents: Vec<Consent>,
    },
    Refused {
        space: Option<SpaceId>,
        reason: Refusal,
        detail: String,
    },
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("certificate: {0}")]
    Cert(#[from] crate::cert::CertError),
    #[error("space: {0}")]
    Genesis(#[from] crate::space::SpaceError),
    #[error("entry: {0}")]
    Entry(#[from] crate::entry::EntryError),
    #[error("genesis does not match the space id")]
    GenesisMismatch,
    #[error("the entries carry more than {MAX_MESSAGE_WORK} automerge ops in all")]
    TooMuchWork,
    #[error("revocation: {0}")]
    Revocation(#[from] crate::revocation::RevocationError),
    #[error("membership consent: {0}")]
    Consent(#[from] crate::membership::ConsentError),
}

impl Message {
    /// Every [`Message::kind`], so that counters by kind can start at zero.
    pub const KINDS: [&'static str; 10] = [
        "hello",
        "hello-ack",
        "sync-request",
        "sync-response",
        "push",
        "push-ack",
        "revoke",
        "revocations",
        "membership",
        "refused",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Message::Hello { .. } => "hello",
            Message::HelloAck { .. } => "hello-ack",
            Message::SyncRequest { .. } => "sync-request",
            Message::SyncResponse { .. } => "sync-response",
            Message::Push { .. } => "push",
            Message::PushAck { .. } => "push-ack",
            Message::Revoke { .. } => "revoke",
            Message::Revocations { .. } => "revocations",
            Message::Membership { .. } => "membership",
            Message::Refused { .. } => "refused",
        }
    }

    /// The space a message is about, if any.
    pub fn space(&self) -> Option<SpaceId> {
        match self {
            Message::Hello { .. } | Message::HelloAck { .. } | Message::Revocations { .. } => None,
            Message::SyncRequest { space, .. }
            | Message::SyncResponse { space, .. }
            | Message::Push { space, .. }
            | Message::PushAck { space, .. }
            | Message::Revoke { space, .. }
            | Message::Membership { space, .. } => Some(*space),
            Message::Refused { space, .. } => *space,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(MESSAGE_VERSION);
        match self {
            Message::Hello { node, chain } => {
                w.u8(1);
                node.encode_into(&mut w);
                encode_certs(&mut w, chain);
            }
            Message::HelloAck { node, chain } => {
                w.u8(2);
                node.encode_into(&mut w);
                encode_certs(&mut w, chain);
            }
            Message::SyncRequest {
                space,
                genesis,
                vector,
                tips,
            } => {
                w.u8(3).raw(space.as_bytes());
                encode_genesis(&mut w, genesis.as_ref());
                vector.encode_into(&mut w);
                tips.encode_into(&mut w, vector);
            }
            Message::SyncResponse {
                space,
                vector,
                tips,
                certs,
                entries,
                more,
            } => {
                w.u8(4).raw(space.as_bytes());
                vector.encode_into(&mut w);
                tips.encode_into(&mut w, vector);
                encode_certs(&mut w, certs);
                encode_entries(&mut w, entries);
                w.u8(u8::from(*more));
            }
            Message::Push {
                space,
                genesis,
                certs,
                entries,
            } => {
                w.u8(5).raw(space.as_bytes());
                encode_genesis(&mut w, genesis.as_ref());
                encode_certs(&mut w, certs);
                encode_entries(&mut w, entries);
            }
            Message::PushAck { space, vector } => {
                w.u8(6).raw(space.as_bytes());
                vector.encode_into(&mut w);
            }
            Message::Revoke { space, revocations } => {
                w.u8(8).raw(space.as_bytes());
                w.u32(revocations.len() as u32);
                for r in revocations {
                    w.bytes(&r.encode());
                }
            }
            Message::Revocations { revocations } => {
                w.u8(10);
                w.u32(revocations.len() as u32);
                for r in revocations {
                    w.bytes(&r.encode());
                }
            }
            Message::Membership {
                space,
                genesis,
                consents,
            } => {
                w.u8(9).raw(space.as_bytes());
                encode_genesis(&mut w, genesis.as_ref());
                w.u32(consents.len() as u32);
                for c in consents {
                    w.bytes(&c.encode());
                }
            }
            Message::Refused {
                space,
                reason,
                detail,
            } => {
                w.u8(7);
                match space {
                    Some(s) => w.u8(1).raw(s.as_bytes()),
                    None => w.u8(0),
                };
                w.u8(*reason as u8).str(detail);
            }
        }
        w.finish()
    }

    /// Whether `bytes` claim to be a `Hello` (version and type bytes only): what a peer that
    /// has not proved its body may send, checked before anything is decoded.
    pub fn is_hello(bytes: &[u8]) -> bool {
        bytes.len() >= 2 && bytes[0] == MESSAGE_VERSION && bytes[1] == 1
    }

    /// Decodes a message, verifying every certificate and genesis it carries and parsing
    /// every entry (entry signatures are checked later, in a batch, by the space).
    pub fn decode(bytes: &[u8]) -> Result<Message, MessageError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != MESSAGE_VERSION {
            return Err(DecodeError::Invalid("unknown message version").into());
        }
        let msg = match r.u8()? {
            1 => Message::Hello {
                node: Certificate::decode_from(&mut r)?,
                chain: decode_chain(&mut r)?,
            },
            2 => Message::HelloAck {
                node: Certificate::decode_from(&mut r)?,
                chain: decode_chain(&mut r)?,
            },
            3 => {
                let space = SpaceId(r.array()?);
                let genesis = decode_genesis(&mut r, space)?;
                let vector = Vector::decode_from(&mut r)?;
                let tips = Tips::decode_from(&mut r, &vector)?;
                Message::SyncRequest {
                    space,
                    genesis,
                    vector,
                    tips,
                }
            }
            4 => {
                let space = SpaceId(r.array()?);
                let vector = Vector::decode_from(&mut r)?;
                let tips = Tips::decode_from(&mut r, &vector)?;
                let certs = decode_certs(&mut r)?;
                let entries = decode_entries(&mut r)?;
                let more = r.flag()?;
                Message::SyncResponse {
                    space,
                    vector,
                    tips,
                    certs,
                    entries,
                    more,
                }
            }
            5 => {
                let space = SpaceId(r.array()?);
                let genesis = decode_genesis(&mut r, space)?;
                let certs = decode_certs(&mut r)?;
                let entries = decode_entries(&mut r)?;
                Message::Push {
                    space,
                    genesis,
                    certs,
                    entries,
                }
            }
            6 => Message::PushAck {
                space: SpaceId(r.array()?),
                vector: Vector::decode_from(&mut r)?,
            },
            7 => {
                let space = if r.flag()? {
                    Some(SpaceId(r.array()?))
                } else {
                    None
                };
                let reason = Refusal::from_u8(r.u8()?)?;
                let detail = r.str("reason", MAX_REASON_BYTES)?.to_owned();
                Message::Refused {
                    space,
                    reason,
                    detail,
                }
            }
            8 => {
                let space = SpaceId(r.array()?);
                let n = r.count("revocations", MAX_MESSAGE_REVOCATIONS, 4 + REVOCATION_BYTES)?;
                let mut revocations = Vec::with_capacity(n);
                for _ in 0..n {
                    revocations.push(Revocation::decode(
                        r.bytes("revocation", MAX_REVOCATION_BYTES)?,
                    )?);
                }
                Message::Revoke { space, revocations }
            }
            10 => {
                let n = r.count("revocations", MAX_MESSAGE_REVOCATIONS, 4 + REVOCATION_BYTES)?;
                let mut revocations = Vec::with_capacity(n);
                for _ in 0..n {
                    revocations.push(Revocation::decode(
                        r.bytes("revocation", MAX_REVOCATION_BYTES)?,
                    )?);
                }
                Message::Revocations { revocations }
            }
            9 => {
                let space = SpaceId(r.array()?);
                let genesis = decode_genesis(&mut r, space)?;
                let n = r.count("consents", MAX_MESSAGE_CONSENTS, 4 + 64)?;
                let mut consents = Vec::with_capacity(n);
                for _ in 0..n {
                    consents.push(Consent::decode(r.bytes("consent", MAX_CONSENT_BYTES)?)?);
                }
                Message::Membership {
                    space,
                    genesis,
                    consents,
                }
            }
            _ => return Err(DecodeError::Invalid("unknown message type").into()),
        };
        r.finish()?;
        Ok(msg)
    }
}

fn encode_genesis(w: &mut Writer, genesis: Option<&Genesis>) {
    match genesis {
        Some(g) => {
            w.u8(1).bytes(&g.encode());
        }
        None => {
            w.u8(0);
        }
    }
}

fn decode_genesis(r: &mut Reader<'_>, space: SpaceId) -> Result<Option<Genesis>, MessageError> {
    if !r.flag()? {
        return Ok(None);
    }
    let genesis = Genesis::decode(r.bytes("genesis", MAX_GENESIS_BYTES)?)?;
    if genesis.id() != space {
        return Err(MessageError::GenesisMismatch);
    }
    Ok(Some(genesis))
}

fn encode_certs(w: &mut Writer, certs: &[Certificate]) {
    w.u32(certs.len() as u32);
    for cert in certs {
        cert.encode_into(w);
    }
}

fn decode_certs(r: &mut Reader<'_>) -> Result<Vec<Certificate>, MessageError> {
    let n = r.count("certificates", MAX_MESSAGE_CERTS, 4)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(Certificate::decode_from(r)?);
    }
    Ok(out)
}

/// Most body-key certificates a Hello may carry (one per change of the body's key).
pub const MAX_CHAIN: usize = 8;

fn decode_chain(r: &mut Reader<'_>) -> Result<Vec<Certificate>, MessageError> {
    let n = r.count("body-key certificates", MAX_CHAIN, 4)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let cert = Certificate::decode_from(r)?;
        if !cert.is_body_key() {
            return Err(
                DecodeError::Invalid("a Hello chain holds only body-key certificates").into(),
            );
        }
        out.push(cert);
    }
    Ok(out)
}

fn encode_entries(w: &mut Writer, entries: &[Entry]) {
    w.u32(entries.len() as u32);
    for entry in entries {
        w.bytes(entry.bytes());
    }
}

fn decode_entries(r: &mut Reader<'_>) -> Result<Vec<Entry>, MessageError> {
    let n = r.count("entries", MAX_MESSAGE_ENTRIES, 4)?;
    let mut out = Vec::with_capacity(n);
    let mut work = 0u64;
    for _ in 0..n {
        let entry = Entry::decode_from(r)?;
        work = work.saturating_add(entry.work());
        if work > MAX_MESSAGE_WORK {
            return Err(MessageError::TooMuchWork);
        }
        out.push(entry);
    }
    Ok(out)
}
