//! Changes to a space's member bodies after its creation: a further body invited, a body
//! leaving or removed.
//!
//! A change is a statement every body whose agreement it needs signs: a [`Consent`] carries
//! the [`Change`] and is signed by a member key of the consenting body that may sign for it
//! (`can_sign`). Changes form a chain: each names the change before it (`prev`, the genesis
//! id for the first), so every node derives the same member list from the same consents:
//!
//! - **Add(B)** takes effect when every current member body consented.
//! - **Remove(B)** takes effect when B itself consented (it leaves), or every other current
//!   member did (it is removed). It states, for each of B's authors, the last seq that
//!   counts; B's later entries, and any entry by a key of B not listed, count nowhere
//!   ([`crate::space::Space::settle`]). A removed body is sent nothing new.
//! - Of two changes on the same `prev` that both take effect, the one with the lower id
//!   does. A body consents to one change per `prev` (the node refuses a second), so with
//!   honest members only one can gather every consent it needs.
//!
//! The fold is a pure function of the consents it is given; [`crate::space::Space`] gives
//! it those whose signer its body has not revoked in the space, so the members are a
//! function of the consents and revocations held, whatever order they arrived in.

use std::collections::{BTreeMap, BTreeSet};

use crate::cert::{BodyId, CertError, Certificate};
use crate::keys::{Domain, PublicKey, SecretKey, Signature};
use crate::space::{Genesis, SpaceId};
use crate::wire::{DecodeError, Reader, Writer};

const CONSENT_DOMAIN: Domain = Domain(b"confer/membership-consent/v1");
const CHANGE_VERSION: u8 = 1;
/// Most authors a removal may list.
pub const MAX_CUTOFFS: usize = crate::space::MAX_AUTHORS_PER_BODY;
/// Longest encoded consent.
pub const MAX_CONSENT_BYTES: usize =
    1 + 32 + 32 + 1 + 32 + 4 + MAX_CUTOFFS * 40 + 8 + 4 + crate::cert::MAX_CERT_BYTES + 64;

/// What a change does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Add(BodyId),
    /// The body's authors and the last seq of each that counts.
    Remove {
        body: BodyId,
        cutoffs: Vec<(PublicKey, u64)>,
    },
    /// Takes back the consenting body's consent to the change with this id (on the same
    /// state). Never a step of the chain: while it is held, that consent counts for nothing.
    Withdraw([u8; 32]),
}

/// One change to a space's member bodies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Change {
    pub space: SpaceId,
    /// The change this one follows, or the space id for the first.
    pub prev: [u8; 32],
    pub op: Op,
    /// Unix seconds; informational.
    pub issued_at: u64,
}

impl Change {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(CHANGE_VERSION)
            .raw(self.space.as_bytes())
            .raw(&self.prev);
        match &self.op {
            Op::Add(body) => {
                w.u8(1).raw(body.0.as_bytes()).u32(0);
            }
            Op::Remove { body, cutoffs } => {
                w.u8(2).raw(body.0.as_bytes()).u32(cutoffs.len() as u32);
                for (key, seq) in cutoffs {
                    w.raw(key.as_bytes()).u64(*seq);
                }
            }
            Op::Withdraw(change) => {
                w.u8(3).raw(change).u32(0);
            }
        }
        w.u64(self.issued_at);
        w.finish()
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<Change, DecodeError> {
        if r.u8()? != CHANGE_VERSION {
            return Err(DecodeError::Invalid("unknown membership change version"));
        }
        let space = SpaceId(r.array()?);
        let prev: [u8; 32] = r.array()?;
        let kind = r.u8()?;
        let target: [u8; 32] = r.array()?;
        let body = BodyId(PublicKey::from_bytes(target));
        let n = r.count("cutoffs", MAX_CUTOFFS, 40)?;
        let mut cutoffs = Vec::with_capacity(n);
        let mut last: Option<PublicKey> = None;
        for _ in 0..n {
            let key = PublicKey::from_bytes(r.array()?);
            if last.is_some_and(|l| l >= key) {
                return Err(DecodeError::Invalid("cutoffs not sorted and unique"));
            }
            last = Some(key);
            cutoffs.push((key, r.u64()?));
        }
        let op = match kind {
            1 if cutoffs.is_empty() => Op::Add(body),
            2 => Op::Remove { body, cutoffs },
            3 if cutoffs.is_empty() => Op::Withdraw(target),
            _ => return Err(DecodeError::Invalid("unknown membership change")),
        };
        Ok(Change {
            space,
            prev,
            op,
            issued_at: r.u64()?,
        })
    }

    /// The change's id: the BLAKE3 hash of its encoding.
    pub fn id(&self) -> [u8; 32] {
        *blake3::hash(&self.encode()).as_bytes()
    }

    /// The body added or removed (none for a withdrawal).
    pub fn body(&self) -> Option<BodyId> {
        match &self.op {
            Op::Add(b) | Op::Remove { body: b, .. } => Some(*b),
            Op::Withdraw(_) => None,
        }
    }

    /// The change a withdrawal takes a consent back from.
    pub fn withdraws(&self) -> Option<[u8; 32]> {
        match &self.op {
            Op::Withdraw(id) => Some(*id),
            _ => None,
        }
    }
}

/// Why a consent was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("consent is malformed: {0}")]
    Decode(#[from] DecodeError),
    #[error("consent certificate: {0}")]
    Cert(#[from] CertError),
    #[error("the consent is not signed by a member key that may sign for its body")]
    NotASigner,
    #[error("the consent's signature does not verify")]
    BadSignature,
}

/// A body's agreement to a change, signed by one of its members who may sign for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub change: Change,
    /// The signer's member certificate (its body is the consenting body).
    pub cert: Certificate,
    pub signature: Signature,
}

impl Consent {
    pub fn sign(
        change: Change,
        cert: Certificate,
        key: &SecretKey,
    ) -> Result<Consent, ConsentError> {
        if cert.key != key.public() || !cert.can_sign() {
            return Err(ConsentError::NotASigner);
        }
        let signature = key.sign(CONSENT_DOMAIN, &change.encode());
        Ok(Consent {
            change,
            cert,
            signature,
        })
    }

    /// The consenting body.
    pub fn body(&self) -> BodyId {
        self.cert.body
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(&self.change.encode());
        self.cert.encode_into(&mut w);
        w.raw(&self.signature.0);
        w.finish()
    }

    /// Decodes; checks the certificate's and the consent's signatures and that the signer
    /// may sign for its body (whether the certificate's signer is authorised for the body
    /// is [`crate::cert::Certificates::authorised`]'s question).
    pub fn decode(bytes: &[u8]) -> Result<Consent, ConsentError> {
        let mut r = Reader::new(bytes);
        let start = r.position();
        let change = Change::decode_from(&mut r)?;
        let change_len = r.position() - start;
        let cert = Certificate::decode_from(&mut r)?;
        let signature = Signature(r.array()?);
        r.finish()?;
        if !cert.can_sign() {
            return Err(ConsentError::NotASigner);
        }
        cert.key
            .verify(
                CONSENT_DOMAIN,
                &bytes[start..start + change_len],
                &signature,
            )
            .map_err(|_| ConsentError::BadSignature)?;
        Ok(Consent {
            change,
            cert,
            signature,
        })
    }
}

/// The member bodies a space has, derived from its genesis and the consents held.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Members {
    pub current: BTreeSet<BodyId>,
    /// Bodies removed (or that left), with their authors' cutoffs.
    pub removed: BTreeMap<BodyId, Vec<(PublicKey, u64)>>,
    /// Every cutoff a removal in effect stated, the lowest per (body, key): it stays when
    /// the body is added again (that key writes nothing past it here, ever).
    pub cut: BTreeMap<(BodyId, PublicKey), u64>,
    /// The changes in effect, in order.
    pub chain: Vec<Change>,
    /// The states the space went through: the genesis id, then one per change in effect.
    pub states: Vec<[u8; 32]>,
    /// The state the next change must name as `prev`.
    pub tip: [u8; 32],
}

/// The bodies whose consent to `change` is held and not taken back.
pub fn consenting(change: &Change, consents: &[Consent]) -> BTreeSet<BodyId> {
    let id = change.id();
    let back: BTreeSet<BodyId> = consents
        .iter()
        .filter(|c| c.change.withdraws() == Some(id) && c.change.prev == change.prev)
        .map(Consent::body)
        .collect();
    consents
        .iter()
        .filter(|c| c.change == *change && !back.contains(&c.body()))
        .map(Consent::body)
        .collect()
}

/// The state a change leads to. It depends only on the state before and on what the change
/// does (add or remove which body), not on the change's own id: two changes that do the
/// same thing on one state (a body leaving while the others remove it) lead to the same
/// state, so what follows is the same whichever of them a node saw take effect first.
pub fn next_state(prev: &[u8; 32], op: &Op) -> [u8; 32] {
    let (kind, target) = match op {
        Op::Add(b) => (1u8, b.0.as_bytes()),
        Op::Remove { body, .. } => (2u8, body.0.as_bytes()),
        Op::Withdraw(id) => (3u8, id),
    };
    let mut h = blake3::Hasher::new();
    h.update(b"confer/membership-state/v1");
    h.update(prev);
    h.update(&[kind]);
    h.update(target);
    *h.finalize().as_bytes()
}

impl Members {
    /// Folds `consents` (verified, for this space) over the genesis's members.
    pub fn derive(genesis: &Genesis, consents: &[Consent]) -> Members {
        Members::derive_counting(genesis, consents.iter())
    }

    /// [`Members::derive`] over the consents that count (those whose signer its body has
    /// not revoked in the space: [`crate::space::Space`] leaves the others out).
    pub fn derive_counting<'c>(
        genesis: &Genesis,
        consents: impl Iterator<Item = &'c Consent>,
    ) -> Members {
        let mut m = Members {
            current: genesis.members.iter().copied().collect(),
            removed: BTreeMap::new(),
            cut: BTreeMap::new(),
            chain: Vec::new(),
            states: vec![*genesis.id().as_bytes()],
            tip: *genesis.id().as_bytes(),
        };
        let consents: Vec<&Consent> = consents
            .filter(|c| c.change.space == genesis.id())
            .collect();
        // Consents taken back: (body, change id), by a withdrawal on the change's state.
        let withdrawn: BTreeSet<(BodyId, [u8; 32], [u8; 32])> = consents
            .iter()
            .filter_map(|c| c.change.withdraws().map(|id| (c.body(), id, c.change.prev)))
            .collect();
        let mut by_change: BTreeMap<[u8; 32], (Change, BTreeSet<BodyId>)> = BTreeMap::new();
        for c in consents {
            let id = c.change.id();
            if c.change.withdraws().is_some() || withdrawn.contains(&(c.body(), id, c.change.prev))
            {
                continue;
            }
            by_change
                .entry(id)
                .or_insert_with(|| (c.change.clone(), BTreeSet::new()))
                .1
                .insert(c.body());
        }
        loop {
            // The lowest-id change on the tip that has every consent it needs.
            let next = by_change
                .iter()
                .filter(|(_, (change, _))| change.prev == m.tip)
                .find(|(_, (change, who))| m.agreed(change, who))
                .map(|(id, (change, _))| (*id, change.clone()));
            let Some((_, change)) = next else { break };
            match &change.op {
                Op::Withdraw(_) => break,
                Op::Add(body) => {
                    m.current.insert(*body);
                    m.removed.remove(body);
                }
                Op::Remove { body, cutoffs } => {
                    // A body leaving while the others remove it: both may gather what they
                    // need (they need no body in common). Whichever takes effect, what
                    // counts of the body is the stricter of all of them, so every node
                    // keeps the same entries whatever it saw first.
                    let mut kept: BTreeMap<PublicKey, u64> = cutoffs.iter().copied().collect();
                    let rivals = by_change.values().filter(|(other, who)| {
                        other.prev == change.prev
                            && *other != change
                            && matches!(&other.op, Op::Remove { body: b, .. } if b == body)
                            && m.agreed(other, who)
                    });
                    for (other, _) in rivals {
                        if let Op::Remove {
                            cutoffs: theirs, ..
                        } = &other.op
                        {
                            let theirs: BTreeMap<PublicKey, u64> = theirs.iter().copied().collect();
                            for (key, up_to) in kept.iter_mut() {
                                *up_to = (*up_to).min(theirs.get(key).copied().unwrap_or(0));
                            }
                        }
                    }
                    for (key, up_to) in &kept {
                        let cut = m.cut.entry((*body, *key)).or_insert(*up_to);
                        *cut = (*cut).min(*up_to);
                    }
                    m.current.remove(body);
                    m.removed.insert(*body, kept.into_iter().collect());
                }
            }
            m.tip = next_state(&m.tip, &change.op);
            m.states.push(m.tip);
            m.chain.push(change);
        }
        m
    }

    fn agreed(&self, change: &Change, who: &BTreeSet<BodyId>) -> bool {
        match &change.op {
            Op::Add(body) => {
                !self.current.contains(body)
                    && self.current.len() < crate::space::MAX_MEMBERS
                    && self.current.iter().all(|b| who.contains(b))
            }
            // A body may leave any space of two or more; removing one against its will
            // needs two others (so two bodies cannot remove each other at once).
            Op::Remove { body, .. } => {
                self.current.contains(body)
                    && self.current.len() > 1
                    && (who.contains(body)
                        || (self.current.len() > 2
                            && self
                                .current
                                .iter()
                                .filter(|b| *b != body)
                                .all(|b| who.contains(b))))
            }
            Op::Withdraw(_) => false,
        }
    }

    /// `body`'s own consent to leaving, on a state of the chain where another change took
    /// effect instead (two bodies leaving at once: the lower id stands), when nothing
    /// since added or removed `body`, it is still a member, and it agreed to nothing on the
    /// tip. Its node proposes leaving again on the tip: a leave stands until it takes
    /// effect.
    pub fn displaced_leave<'c>(
        &self,
        body: BodyId,
        consents: &'c [Consent],
    ) -> Option<&'c Consent> {
        if !self.current.contains(&body) {
            return None;
        }
        let agreed_at_tip = consents.iter().any(|c| {
            c.body() == body
                && c.change.prev == self.tip
                && c.change.withdraws().is_none()
                && consenting(&c.change, consents).contains(&body)
        });
        if agreed_at_tip {
            return None;
        }
        let touches = |c: &Change| match &c.op {
            Op::Add(b) | Op::Remove { body: b, .. } => *b == body,
            Op::Withdraw(_) => false,
        };
        // The last change in effect that added or removed `body`: a leave displaced before
        // it was overtaken by it.
        let since = self.chain.iter().rposition(touches).map_or(0, |i| i + 1);
        (since..self.chain.len()).rev().find_map(|i| {
            let state = self.states.get(i)?;
            consents.iter().find(|c| {
                c.body() == body
                    && c.change.prev == *state
                    && matches!(&c.change.op, Op::Remove { body: b, .. } if *b == body)
                    && c.change != self.chain[i]
                    && consenting(&c.change, consents).contains(&body)
            })
        })
    }

    /// The bodies whose consent `change` still lacks, at the current tip (a consent taken
    /// back is lacking).
    pub fn missing(&self, change: &Change, consents: &[Consent]) -> Vec<BodyId> {
        let who = consenting(change, consents);
        match &change.op {
            Op::Withdraw(_) => Vec::new(),
            Op::Add(_) => self
                .current
                .iter()
                .filter(|b| !who.contains(b))
                .copied()
                .collect(),
            Op::Remove { body, .. } if who.contains(body) => Vec::new(),
            Op::Remove { body, .. } => self
                .current
                .iter()
                .filter(|b| *b != body && !who.contains(b))
                .copied()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{Role, Subject};
    use crate::space::SpaceKind;

    fn body(n: u8) -> SecretKey {
        SecretKey::from_seed([n; 32])
    }

    fn signer(n: u8) -> (Certificate, SecretKey) {
        let key = SecretKey::from_seed([n + 100; 32]);
        let cert = Certificate::issue(
            &body(n),
            &format!("政协 {n}"),
            key.public(),
            Subject::Member {
                name: format!("秘书长 {n}"),
                role: Role::SecretaryGeneral,
                can_sign: true,
            },
            0,
        )
        .expect("cert");
        (cert, key)
    }

    fn consent(n: u8, change: &Change) -> Consent {
        let (cert, key) = signer(n);
        let c = Consent::sign(change.clone(), cert, &key).expect("sign");
        Consent::decode(&c.encode()).expect("round trip")
    }

    fn genesis() -> Genesis {
        let (cert, key) = signer(1);
        Genesis::create(
            SpaceKind::Agenda,
            &[BodyId(body(2).public())],
            0,
            [0; 16],
            cert,
            &key,
        )
        .expect("genesis")
    }

    /// Adding needs every member; leaving needs only the leaver; of two changes on one
    /// state that both have what they need, the lower id wins; the order consents arrive
    /// in never matters.
    #[test]
    fn members_follow_the_consents_in_any_order() {
        let g = genesis();
        let id = *g.id().as_bytes();
        let three = BodyId(body(3).public());
        let add = Change {
            space: g.id(),
            prev: id,
            op: Op::Add(three),
            issued_at: 1,
        };
        let only_one = [consent(1, &add)];
        assert!(!Members::derive(&g, &only_one).current.contains(&three));
        let both = [consent(1, &add), consent(2, &add)];
        let m = Members::derive(&g, &both);
        assert!(m.current.contains(&three));
        assert_eq!(m.tip, next_state(&id, &add.op));
        // A consent from a body that is not a member does not count.
        let outsider = [consent(1, &add), consent(3, &add)];
        assert!(!Members::derive(&g, &outsider).current.contains(&three));

        // Body 2 leaves after 3 joined: its own consent is enough.
        let leave = Change {
            space: g.id(),
            prev: next_state(&id, &add.op),
            op: Op::Remove {
                body: BodyId(body(2).public()),
                cutoffs: vec![(body(9).public(), 4)],
            },
            issued_at: 2,
        };
        // Two alternatives on the same state, both with what they need: the lower id wins.
        let other_leave = Change {
            issued_at: 3,
            ..leave.clone()
        };
        let mut all = vec![
            consent(1, &add),
            consent(2, &add),
            consent(2, &leave),
            consent(2, &other_leave),
        ];
        let want = Members::derive(&g, &all);
        assert!(!want.current.contains(&BodyId(body(2).public())));
        assert_eq!(want.chain.len(), 2);
        assert_eq!(want.tip, next_state(&leave.prev, &leave.op));
        for _ in 0..8 {
            all.rotate_left(1);
            assert_eq!(Members::derive(&g, &all), want);
        }
        // Body 2 leaves (keeping its key up to 5) while 1 and 3 remove it (keeping up to
        // 2): whichever wins, the stricter cutoff counts, in any order of arrival.
        let three_members = [consent(1, &add), consent(2, &add)];
        let key9 = body(9).public();
        let leave2 = Change {
            space: g.id(),
            prev: next_state(&id, &add.op),
            op: Op::Remove {
                body: BodyId(body(2).public()),
                cutoffs: vec![(key9, 5)],
            },
            issued_at: 10,
        };
        let oust2 = Change {
            issued_at: 11,
            op: Op::Remove {
                body: BodyId(body(2).public()),
                cutoffs: vec![(key9, 2)],
            },
            ..leave2.clone()
        };
        let mut race: Vec<Consent> = three_members.to_vec();
        race.extend([consent(2, &leave2), consent(1, &oust2), consent(3, &oust2)]);
        for _ in 0..race.len() {
            race.rotate_left(1);
            let m = Members::derive(&g, &race);
            assert_eq!(
                m.removed.get(&BodyId(body(2).public())),
                Some(&vec![(key9, 2)])
            );
        }
        // In a space of two, one body cannot remove the other (it may only leave itself).
        let oust = Change {
            space: g.id(),
            prev: id,
            op: Op::Remove {
                body: BodyId(body(2).public()),
                cutoffs: vec![],
            },
            issued_at: 4,
        };
        let alone = Members::derive(&g, &[consent(1, &oust)]);
        assert!(alone.current.contains(&BodyId(body(2).public())));
        // A tampered consent does not decode.
        let mut bytes = consent(1, &add).encode();
        bytes[40] ^= 1;
        assert!(Consent::decode(&bytes).is_err());
    }
}
