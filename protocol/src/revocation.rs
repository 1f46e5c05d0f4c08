//! Revocations: a body withdraws one of its member keys.
//!
//! A revocation is signed by the body key, like a certificate, and says which entries of
//! the key still count:
//! - **in one space** ([`Scope::Space`]): the key's entries up to `up_to` (its own seq in
//!   that space) stay; later ones are refused. The body's node issues one for every space
//!   the key could write in, with the seq it had reached, after it stopped writing with it.
//! - **in spaces created later** ([`Scope::Later`]): in a space whose genesis was created
//!   after the revocation was issued, the key writes nothing.
//! - **resolving a fork** ([`Scope::Fork`]): the key signed two different entries at one
//!   seq in a space; of the two, the one with the change hash `stands` counts, with the
//!   key's entries before it, and nothing the key signs later. Nodes that refused the key
//!   after the fork take it back up to there, so all members converge again.
//!
//! Every node applies the same revocations the same way, whatever order entries and
//! revocations arrive in (see [`crate::space::Space::revoke`]): an entry counts only if
//! its seq is within the cutoff, and an entry that depends on one that does not count does
//! not count either. Two revocations of one key in one scope merge to the stricter one.

use std::collections::BTreeMap;
use std::fmt;

use crate::cert::BodyId;
use crate::keys::{Domain, PublicKey, SecretKey, Signature};
use crate::space::SpaceId;
use crate::wire::{DecodeError, Reader, Writer};

const REVOCATION_DOMAIN: Domain = Domain(b"confer/revocation/v1");
const REVOCATION_VERSION: u8 = 1;
/// Encoded length of a revocation of scope `Space` or `Later`.
pub const REVOCATION_BYTES: usize = 1 + 32 + 32 + 32 + 8 + 1 + 32 + 8 + 64;
/// Encoded length of a revocation of scope `Fork` (the longest).
pub const MAX_REVOCATION_BYTES: usize = REVOCATION_BYTES + 32;

/// Where a revocation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// In `space`, the key's entries with seq `<= up_to` stay.
    Space { space: SpaceId, up_to: u64 },
    /// In every space created after the revocation was issued, nothing of the key counts.
    Later,
    /// In `space`, of the key's two entries at `seq`, the one whose change hash is
    /// `stands` counts; its entries before `seq` count; nothing after.
    Fork {
        space: SpaceId,
        seq: u64,
        stands: [u8; 32],
    },
}

/// A body key's signed withdrawal of one member key.
#[derive(Clone, PartialEq, Eq)]
pub struct Revocation {
    pub body: BodyId,
    /// The body key that signed (the body's id, or a later body key; see
    /// [`crate::cert::Certificates::authorised`]).
    pub signer: PublicKey,
    pub key: PublicKey,
    /// Unix seconds; for [`Scope::Later`], spaces created after it are covered.
    pub issued_at: u64,
    pub scope: Scope,
    pub signature: Signature,
}

impl fmt::Debug for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocation")
            .field("body", &self.body)
            .field("key", &self.key)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Why a revocation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevocationError {
    #[error("revocation is malformed: {0}")]
    Decode(#[from] DecodeError),
    #[error("revocation signature by body {0} does not verify")]
    BadSignature(BodyId),
}

impl Revocation {
    /// What the body key signs (also the content of an unsigned request file).
    pub fn unsigned(body: BodyId, key: PublicKey, issued_at: u64, scope: Scope) -> Revocation {
        Revocation {
            body,
            signer: body.0,
            key,
            issued_at,
            scope,
            signature: Signature([0; 64]),
        }
    }

    /// Signs with a body key (the body's id, or a later body key: whoever applies it
    /// checks that the signer is authorised for the body).
    pub fn sign(mut self, body_secret: &SecretKey) -> Result<Revocation, RevocationError> {
        self.signer = body_secret.public();
        self.signature = body_secret.sign(REVOCATION_DOMAIN, &self.signed_bytes());
        Ok(self)
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(REVOCATION_BYTES);
        w.u8(REVOCATION_VERSION)
            .raw(self.body.0.as_bytes())
            .raw(self.signer.as_bytes())
            .raw(self.key.as_bytes())
            .u64(self.issued_at);
        match self.scope {
            Scope::Space { space, up_to } => {
                w.u8(1).raw(space.as_bytes()).u64(up_to);
            }
            Scope::Later => {
                w.u8(2).raw(&[0; 32]).u64(0);
            }
            Scope::Fork { space, seq, stands } => {
                w.u8(3).raw(space.as_bytes()).u64(seq).raw(&stands);
            }
        }
        w.finish()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = self.signed_bytes();
        bytes.extend_from_slice(&self.signature.0);
        bytes
    }

    /// Decodes without checking the signature (for request files); see [`Self::decode`].
    pub fn decode_unverified(bytes: &[u8]) -> Result<Revocation, RevocationError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != REVOCATION_VERSION {
            return Err(DecodeError::Invalid("unknown revocation version").into());
        }
        let body = BodyId(PublicKey::from_bytes(r.array()?));
        let signer = PublicKey::from_bytes(r.array()?);
        let key = PublicKey::from_bytes(r.array()?);
        let issued_at = r.u64()?;
        let kind = r.u8()?;
        let space: [u8; 32] = r.array()?;
        let up_to = r.u64()?;
        let scope = match kind {
            1 => Scope::Space {
                space: SpaceId(space),
                up_to,
            },
            2 if space == [0; 32] && up_to == 0 => Scope::Later,
            3 if up_to >= 1 => Scope::Fork {
                space: SpaceId(space),
                seq: up_to,
                stands: r.array()?,
            },
            _ => return Err(DecodeError::Invalid("unknown revocation scope").into()),
        };
        let signature = Signature(r.array()?);
        r.finish()?;
        Ok(Revocation {
            body,
            signer,
            key,
            issued_at,
            scope,
            signature,
        })
    }

    /// Decodes and verifies the body's signature.
    pub fn decode(bytes: &[u8]) -> Result<Revocation, RevocationError> {
        let revocation = Self::decode_unverified(bytes)?;
        revocation.verify()?;
        Ok(revocation)
    }

    /// Checks the signer's signature.
    pub fn verify(&self) -> Result<(), RevocationError> {
        self.signer
            .verify(REVOCATION_DOMAIN, &self.signed_bytes(), &self.signature)
            .map_err(|_| RevocationError::BadSignature(self.body))
    }

    pub fn space(&self) -> Option<SpaceId> {
        match self.scope {
            Scope::Space { space, .. } | Scope::Fork { space, .. } => Some(space),
            Scope::Later => None,
        }
    }

    /// Whether this revocation decides anything in a space created at `created_at` with
    /// id `space`.
    pub fn applies_to(&self, space: &SpaceId, created_at: u64) -> bool {
        match self.scope {
            Scope::Space { space: s, .. } | Scope::Fork { space: s, .. } => s == *space,
            Scope::Later => created_at > self.issued_at,
        }
    }

    /// The last seq of the key that counts in a space this revocation applies to.
    pub fn up_to(&self) -> u64 {
        match self.scope {
            Scope::Space { up_to, .. } => up_to,
            Scope::Fork { seq, .. } => seq,
            Scope::Later => 0,
        }
    }

    /// Stricter first: the lower cutoff, then the earlier issue, then the smaller encoding,
    /// so every node keeps the same one of two revocations in the same scope.
    fn stricter_than(&self, other: &Revocation) -> bool {
        let rank = |r: &Revocation| match r.scope {
            Scope::Space { up_to, .. } => (up_to, 0, r.encode()),
            Scope::Fork { seq, .. } => (seq, 0, r.encode()),
            Scope::Later => (0, r.issued_at, r.encode()),
        };
        rank(self) < rank(other)
    }
}

/// Slot of one revocation: (body, key, space or `None` for [`Scope::Later`], whether it
/// resolves a fork).
type Slot = (BodyId, PublicKey, Option<SpaceId>, bool);

fn slot(r: &Revocation) -> Slot {
    (
        r.body,
        r.key,
        r.space(),
        matches!(r.scope, Scope::Fork { .. }),
    )
}

/// Most (key, scope) slots one body's revocations may fill on a node. A body that revokes
/// more is misbehaving; its excess revocations are refused (which of them depends on
/// arrival order, and only that body's own keys are affected).
pub const MAX_REVOCATIONS_PER_BODY: usize = 16_384;

/// The revocations a node holds: for each body, key and scope, the strictest one.
#[derive(Debug, Default, Clone)]
pub struct Revocations {
    held: BTreeMap<Slot, Revocation>,
    per_body: BTreeMap<BodyId, usize>,
}

impl Revocations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a verified revocation; true if it is kept (new, or stricter than the one held).
    pub fn insert(&mut self, revocation: Revocation) -> bool {
        let slot = slot(&revocation);
        match self.held.get(&slot) {
            Some(held) if !revocation.stricter_than(held) => false,
            Some(_) => {
                self.held.insert(slot, revocation);
                true
            }
            None => {
                let count = self.per_body.entry(revocation.body).or_default();
                if *count >= MAX_REVOCATIONS_PER_BODY {
                    return false;
                }
                *count += 1;
                self.held.insert(slot, revocation);
                true
            }
        }
    }

    /// The cutoff for `key` writing for `body` in a space: `None` if nothing revokes it
    /// there, else the last seq that counts (the stricter of the two scopes).
    pub fn cutoff(
        &self,
        body: &BodyId,
        key: &PublicKey,
        space: &SpaceId,
        created_at: u64,
    ) -> Option<u64> {
        [(Some(*space), false), (Some(*space), true), (None, false)]
            .into_iter()
            .filter_map(|(s, fork)| self.held.get(&(*body, *key, s, fork)))
            .filter(|r| r.applies_to(space, created_at))
            .map(Revocation::up_to)
            .min()
    }

    /// The fork resolution for `key` writing for `body` in `space`, if any: (seq, change
    /// hash of the entry that stands there).
    pub fn fork_pin(
        &self,
        body: &BodyId,
        key: &PublicKey,
        space: &SpaceId,
    ) -> Option<(u64, [u8; 32])> {
        match self.held.get(&(*body, *key, Some(*space), true))?.scope {
            Scope::Fork { seq, stands, .. } => Some((seq, stands)),
            _ => None,
        }
    }

    /// Whether `body` has revoked `key` at all.
    pub fn is_revoked(&self, body: &BodyId, key: &PublicKey) -> bool {
        self.held
            .range((*body, *key, None, false)..)
            .next()
            .is_some_and(|((b, k, _, _), _)| b == body && k == key)
    }

    /// The revocations that decide something in a space with these member bodies.
    pub fn for_space<'a>(
        &'a self,
        members: &'a [BodyId],
        space: &'a SpaceId,
        created_at: u64,
    ) -> impl Iterator<Item = &'a Revocation> + 'a {
        self.held
            .values()
            .filter(move |r| members.contains(&r.body) && r.applies_to(space, created_at))
    }

    pub fn all(&self) -> impl Iterator<Item = &Revocation> {
        self.held.values()
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> SecretKey {
        SecretKey::from_seed([7; 32])
    }

    fn revocation(scope: Scope, issued_at: u64) -> Revocation {
        Revocation::unsigned(
            BodyId(body().public()),
            SecretKey::from_seed([8; 32]).public(),
            issued_at,
            scope,
        )
        .sign(&body())
        .expect("sign")
    }

    #[test]
    fn encode_decode_verify_and_every_flipped_bit_is_refused() {
        let space = SpaceId([3; 32]);
        for scope in [
            Scope::Space { space, up_to: 5 },
            Scope::Later,
            Scope::Fork {
                space,
                seq: 3,
                stands: [9; 32],
            },
        ] {
            let r = revocation(scope, 1_700_000_000);
            let bytes = r.encode();
            let len = match scope {
                Scope::Fork { .. } => MAX_REVOCATION_BYTES,
                _ => REVOCATION_BYTES,
            };
            assert_eq!(bytes.len(), len);
            assert_eq!(Revocation::decode(&bytes), Ok(r));
            for i in 0..bytes.len() * 8 {
                let mut bad = bytes.clone();
                bad[i / 8] ^= 1 << (i % 8);
                assert!(Revocation::decode(&bad).is_err(), "flipped bit {i}");
            }
        }
    }

    #[test]
    fn the_signature_is_the_named_signers() {
        let other = SecretKey::from_seed([9; 32]);
        let r = Revocation::unsigned(BodyId(body().public()), other.public(), 0, Scope::Later);
        // Signed by another key, it names that key as signer (authorisation is checked
        // where it is applied); a signature by one key claiming another does not verify.
        let by_other = r.clone().sign(&other).expect("sign");
        assert_eq!(by_other.signer, other.public());
        let mut forged = r.clone();
        forged.signature = other.sign(REVOCATION_DOMAIN, &r.signed_bytes());
        assert!(Revocation::decode(&forged.encode()).is_err());
    }

    #[test]
    fn the_stricter_revocation_wins_in_any_order() {
        let space = SpaceId([3; 32]);
        let loose = revocation(Scope::Space { space, up_to: 9 }, 10);
        let strict = revocation(Scope::Space { space, up_to: 4 }, 20);
        let later = revocation(Scope::Later, 100);
        for order in [vec![&loose, &strict, &later], vec![&later, &strict, &loose]] {
            let mut set = Revocations::new();
            for r in order {
                set.insert(r.clone());
            }
            let (b, k) = (loose.body, loose.key);
            assert_eq!(set.cutoff(&b, &k, &space, 50), Some(4));
            // A space created after the `Later` revocation: nothing counts.
            assert_eq!(set.cutoff(&b, &k, &space, 101), Some(0));
            assert_eq!(set.cutoff(&b, &k, &SpaceId([4; 32]), 50), None);
            assert_eq!(set.cutoff(&b, &k, &SpaceId([4; 32]), 101), Some(0));
            assert!(set.is_revoked(&b, &k));
            assert_eq!(set.len(), 2);
        }
    }
}
