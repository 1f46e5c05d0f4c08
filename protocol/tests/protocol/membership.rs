//! Membership changes in a space: the members, the cutoffs, the log and the document are a
//! function of the consents, revocations and entries held, whatever order they arrive in.

use std::collections::BTreeSet;

use automerge::ChangeHash;
use confer_protocol::membership::{next_state, Change, Consent, Op};
use confer_protocol::{BodyId, Certificate, Certificates, Entry, Role, SecretKey, Space, Subject};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::support::{self, body_id, body_name, body_secret, edit, heads, local_edit, receive};

/// Body `n`'s member who may sign for it (seed `[n + 192; 32]`).
fn signer_secret(n: u8) -> SecretKey {
    SecretKey::from_seed([n + 192; 32])
}

fn signer_cert(n: u8) -> Certificate {
    Certificate::issue(
        &body_secret(n),
        &body_name(n),
        signer_secret(n).public(),
        Subject::Member {
            name: format!("秘书长 {n}"),
            role: Role::SecretaryGeneral,
            can_sign: true,
        },
        1_700_000_000,
    )
    .expect("signer certificate")
}

fn consent(n: u8, change: &Change) -> Consent {
    let c = Consent::sign(change.clone(), signer_cert(n), &signer_secret(n)).expect("sign");
    Consent::decode(&c.encode()).expect("round trip")
}

fn change(space: &Space, prev: [u8; 32], op: Op, issued_at: u64) -> Change {
    Change {
        space: space.id(),
        prev,
        op,
        issued_at,
    }
}

fn leave(space: &Space, n: u8, up_to: u64, issued_at: u64) -> Change {
    let prev = *space.id().as_bytes();
    let op = Op::Remove {
        body: body_id(n),
        cutoffs: vec![(support::member_secret(n).public(), up_to)],
    };
    change(space, prev, op, issued_at)
}

/// Revokes body `n`'s signer in `space` (cutoff 0: it signed no entry).
fn revoke_signer(space: &mut Space, n: u8) {
    space
        .revoke(signer_secret(n).public(), body_id(n), 0, None)
        .expect("revoke");
}

fn counted(space: &Space) -> BTreeSet<ChangeHash> {
    space.log().iter().map(Entry::change_hash).collect()
}

/// Edits by the members of bodies 1, 2 and 3, each on its own replica, with random
/// catch-ups between them (so later edits build on others').
fn history(seed: u64, steps: usize) -> (Vec<Entry>, Certificates) {
    let genesis = support::genesis(1, &[2, 3], 9);
    let certs = support::certs(&[1, 2, 3]);
    let mut spaces: Vec<Space> = (0..3).map(|_| Space::new(genesis.clone())).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut all = Vec::new();
    for step in 0..steps {
        let at = rng.random_range(0..3usize);
        if rng.random_bool(0.5) {
            let from = rng.random_range(0..3usize);
            if from != at {
                let theirs: Vec<Entry> = spaces[from].log().to_vec();
                receive(&mut spaces[at], &theirs, &certs);
            }
        }
        let n = at as u8 + 1;
        let text = format!("{n}:{step}");
        all.push(local_edit(
            &mut spaces[at],
            n,
            step as i64,
            &edit(Some(&text), Some(&text)),
        ));
    }
    (all, certs)
}

/// A consent signed by a key its body revoked counts on no replica, whether the
/// revocation arrived before the consent or after it had completed the change.
#[test]
fn a_revoked_signers_consent_counts_nowhere_whenever_the_revocation_arrives() {
    let genesis = support::genesis(1, &[2], 9);
    let mut early = Space::new(genesis.clone());
    let mut late = Space::new(genesis);
    let prev = *early.id().as_bytes();
    let add = change(&early, prev, Op::Add(body_id(3)), 1);
    let consents = [consent(1, &add), consent(2, &add)];

    revoke_signer(&mut early, 2);
    for c in &consents {
        early.add_consent(c.clone()).expect("consent");
    }
    for c in &consents {
        late.add_consent(c.clone()).expect("consent");
    }
    assert!(
        late.is_member(&body_id(3)),
        "both consents count before the revocation"
    );
    revoke_signer(&mut late, 2);

    for s in [&early, &late] {
        assert!(
            !s.is_member(&body_id(3)),
            "a revoked signer's consent counted"
        );
        assert!(s.members().chain.is_empty());
        assert_eq!(s.members().tip, prev);
    }
    assert_eq!(early.members(), late.members());
}

/// Bodies 2 and 3 leave at once on one state, each keeping only its first entry. The
/// lower id takes effect; a replica that saw the other take effect first gives back what
/// it withdrew, so both replicas end with the same entries and document.
#[test]
fn a_displaced_removal_gives_back_what_it_withdrew() {
    let (all, certs) = history(7, 18);
    let genesis = support::genesis(1, &[2, 3], 9);
    let mut a = Space::new(genesis.clone());
    let mut b = Space::new(genesis);
    let two = leave(&a, 2, 1, 1);
    let three = leave(&a, 3, 1, 2);
    let (lo, hi) = if two.id() < three.id() {
        (consent(2, &two), consent(3, &three))
    } else {
        (consent(3, &three), consent(2, &two))
    };
    receive(&mut a, &all, &certs);
    receive(&mut b, &all, &certs);
    assert_eq!(a.log().len(), all.len());

    a.add_consent(hi.clone()).expect("consent");
    assert!(a.log().len() < all.len(), "the removal withdraws nothing");
    a.add_consent(lo.clone()).expect("consent");
    b.add_consent(lo).expect("consent");
    b.add_consent(hi).expect("consent");

    assert_eq!(a.members(), b.members());
    assert_eq!(a.members().chain.len(), 1);
    assert_eq!(counted(&a), counted(&b));
    assert_eq!(heads(&a), heads(&b));
    assert_eq!(a.cutoffs(), b.cutoffs());
}

fn withdraw(space: &Space, of: &Change, issued_at: u64) -> Change {
    change(space, of.prev, Op::Withdraw(of.id()), issued_at)
}

/// In a space of bodies 1 and 2, body 1 proposes adding body 3, takes its consent back and
/// agrees to adding body 4; body 2, before it learned of the withdrawal, agreed to adding
/// 3, then took that back too and agreed to adding 4. A replica that saw adding 3 complete
/// (both consents, no withdrawal yet) undoes it when the withdrawals arrive; every order
/// ends with body 4 a member and body 3 not.
#[test]
fn a_withdrawn_consent_counts_nowhere_whenever_the_withdrawal_arrives() {
    let genesis = support::genesis(1, &[2], 9);
    let reference = Space::new(genesis.clone());
    let prev = *reference.id().as_bytes();
    let add3 = change(&reference, prev, Op::Add(body_id(3)), 1);
    let add4 = change(&reference, prev, Op::Add(body_id(4)), 2);
    let statements = [
        consent(1, &add3),
        consent(1, &withdraw(&reference, &add3, 3)),
        consent(1, &add4),
        consent(2, &add3),
        consent(2, &withdraw(&reference, &add3, 4)),
        consent(2, &add4),
    ];
    let mut rng = StdRng::seed_from_u64(11);
    let mut ends = Vec::new();
    for round in 0..24 {
        let mut order = statements.to_vec();
        if round == 0 {
            // Adding 3 completes first, the withdrawals come last.
            order.swap(1, 3);
            order.swap(3, 4);
        } else {
            order.shuffle(&mut rng);
        }
        let mut space = Space::new(genesis.clone());
        let mut saw_three = false;
        for c in order {
            space.add_consent(c).expect("consent");
            saw_three |= space.is_member(&body_id(3));
        }
        if round == 0 {
            assert!(saw_three, "adding 3 never completed on the way");
        }
        assert!(!space.is_member(&body_id(3)), "a withdrawn consent counted");
        assert!(space.is_member(&body_id(4)));
        assert_eq!(space.members().tip, next_state(&prev, &add4.op));
        ends.push(space.members().clone());
    }
    assert!(ends.windows(2).all(|w| w[0] == w[1]));
}

/// What a replica holds at the end: the members, the cutoffs, the log and the document.
#[derive(Debug, PartialEq)]
struct End {
    members: confer_protocol::membership::Members,
    cutoffs: Vec<((confer_protocol::PublicKey, BodyId), u64)>,
    log: BTreeSet<ChangeHash>,
    heads: Vec<ChangeHash>,
}

fn state(space: &Space) -> End {
    let mut cutoffs: Vec<_> = space.cutoffs().iter().map(|(k, v)| (*k, *v)).collect();
    cutoffs.sort();
    End {
        members: space.members().clone(),
        cutoffs,
        log: counted(space),
        heads: heads(space),
    }
}

enum Item {
    Entries(Vec<Entry>),
    Consent(Box<Consent>),
    Revoke(u8),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Bodies 1, 2 and 3 write; bodies 2 and 3 each leave with a random cutoff, all three
    /// add body 4 on the same state (2 and 3 consent to two alternatives), and body 2 or
    /// 3 may revoke its signer, and body 3 may take back its consent to adding body 4. Four replicas get the entries (in batches), the consents
    /// and the revocation in random orders; once every replica has everything (entries
    /// offered again, as anti-entropy does), they hold the same members, cutoffs, log and
    /// document.
    #[test]
    fn every_order_of_consents_revocations_and_entries_gives_one_state(
        seed in any::<u64>(),
        steps in 6usize..24,
        cut2 in 0u64..5,
        cut3 in 0u64..5,
        revoked in 0u8..4,
        withdrawn in any::<bool>(),
    ) {
        let (all, certs) = history(seed, steps);
        let genesis = support::genesis(1, &[2, 3], 9);
        let reference = Space::new(genesis.clone());
        let prev = *reference.id().as_bytes();
        let add = change(&reference, prev, Op::Add(body_id(4)), 3);
        let two = leave(&reference, 2, cut2, 1);
        let three = leave(&reference, 3, cut3, 2);
        // After body 4 joined, body 2 leaves keeping everything.
        let after_add = next_state(&prev, &add.op);
        let later = change(&reference, after_add, Op::Remove {
            body: body_id(2),
            cutoffs: vec![(support::member_secret(2).public(), 100)],
        }, 4);
        let mut statements = vec![
            Item::Consent(Box::new(consent(2, &two))),
            Item::Consent(Box::new(consent(3, &three))),
            Item::Consent(Box::new(consent(1, &add))),
            Item::Consent(Box::new(consent(2, &add))),
            Item::Consent(Box::new(consent(3, &add))),
            Item::Consent(Box::new(consent(2, &later))),
        ];
        if (2..=3).contains(&revoked) {
            statements.push(Item::Revoke(revoked));
        }
        if withdrawn {
            statements.push(Item::Consent(Box::new(consent(3, &withdraw(&reference, &add, 5)))));
        }
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        let mut ends = Vec::new();
        for _ in 0..4 {
            let mut entries = all.clone();
            entries.shuffle(&mut rng);
            let mut items: Vec<Item> = entries
                .chunks(rng.random_range(1..=4usize))
                .map(|c| Item::Entries(c.to_vec()))
                .collect();
            for s in &statements {
                items.push(match s {
                    Item::Consent(c) => Item::Consent(c.clone()),
                    Item::Revoke(n) => Item::Revoke(*n),
                    Item::Entries(e) => Item::Entries(e.clone()),
                });
            }
            items.shuffle(&mut rng);
            let mut space = Space::new(genesis.clone());
            for item in items {
                match item {
                    Item::Entries(batch) => {
                        receive(&mut space, &batch, &certs);
                    }
                    Item::Consent(c) => {
                        space.add_consent(*c).expect("consent");
                    }
                    Item::Revoke(n) => revoke_signer(&mut space, n),
                }
            }
            // Anti-entropy: whatever was refused while a removal stood is offered again.
            receive(&mut space, &all, &certs);
            receive(&mut space, &all, &certs);
            ends.push(state(&space));
        }
        // A leave always takes effect (a revoked signer stops at most one of them).
        prop_assert!(!ends[0].members.chain.is_empty());
        for end in &ends[1..] {
            prop_assert_eq!(end, &ends[0]);
        }
    }
}
