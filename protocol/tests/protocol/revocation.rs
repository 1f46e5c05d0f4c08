//! Revocations in a space: the same entries count on every replica, whatever order the
//! entries and the revocation arrive in.

use std::collections::{BTreeSet, HashSet};

use automerge::ChangeHash;
use confer_protocol::revocation::{Revocation, Scope};
use confer_protocol::space::{Rejection, SpaceError};
use confer_protocol::{Certificates, Entry, Space};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::support::{self, body_id, body_secret, edit, heads, local_edit, member_secret, receive};

/// A history of `steps` edits by the members of bodies 1, 2 and 3, each on its own
/// replica, with random catch-ups between them (so later edits build on others').
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

fn revoke_member_2(space: &Space, up_to: u64) -> Revocation {
    Revocation::unsigned(
        body_id(2),
        member_secret(2).public(),
        1_800_000_000,
        Scope::Space {
            space: space.id(),
            up_to,
        },
    )
    .sign(&body_secret(2))
    .expect("sign")
}

/// What must count: everything except member 2's entries past `up_to` and whatever
/// depends on one of them (directly, or through its own author's earlier entry).
fn expected(all: &[Entry], up_to: u64) -> BTreeSet<ChangeHash> {
    let revoked = member_secret(2).public();
    let mut out: HashSet<ChangeHash> = HashSet::new();
    let mut kept = BTreeSet::new();
    // `all` is in creation order, which is causal.
    let mut broken: HashSet<confer_protocol::PublicKey> = HashSet::new();
    for e in all {
        let bad = (e.author() == revoked && e.seq() > up_to)
            || broken.contains(&e.author())
            || e.deps().iter().any(|d| out.contains(d));
        if bad {
            out.insert(e.change_hash());
            broken.insert(e.author());
        } else {
            kept.insert(e.change_hash());
        }
    }
    kept
}

fn counted(space: &Space) -> BTreeSet<ChangeHash> {
    space.log().iter().map(Entry::change_hash).collect()
}

fn apply(space: &mut Space, r: &Revocation) {
    let Scope::Space { up_to, .. } = r.scope else {
        panic!("space scope expected")
    };
    space.revoke(r.key, r.body, up_to, None).expect("revoke");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Three replicas: one holds everything before the revocation arrives (it withdraws),
    /// one gets the revocation first (it refuses), one gets it at a random point between
    /// random batches. All end with the same entries and the same document, and that set
    /// is exactly what the rule says.
    #[test]
    fn every_order_of_entries_and_revocation_counts_the_same_entries(
        seed in any::<u64>(),
        steps in 6usize..30,
        cut in 0u64..6,
    ) {
        let (all, certs) = history(seed, steps);
        let genesis = support::genesis(1, &[2, 3], 9);
        let reference = Space::new(genesis.clone());
        let revocation = revoke_member_2(&reference, cut);
        let want = expected(&all, cut);
        let by_two = all.iter().filter(|e| e.author() == member_secret(2).public()).count();
        prop_assert_eq!(want.len() < all.len(), by_two as u64 > cut);

        let mut late = Space::new(genesis.clone());
        receive(&mut late, &all, &certs);
        prop_assert_eq!(late.log().len(), all.len());
        apply(&mut late, &revocation);

        let mut early = Space::new(genesis.clone());
        apply(&mut early, &revocation);
        let mut shuffled = all.clone();
        shuffled.shuffle(&mut StdRng::seed_from_u64(seed ^ 1));
        for batch in shuffled.chunks(3) {
            receive(&mut early, batch, &certs);
        }

        let mut middle = Space::new(genesis);
        let mut rng = StdRng::seed_from_u64(seed ^ 2);
        shuffled.shuffle(&mut rng);
        let at = rng.random_range(0..=shuffled.len());
        receive(&mut middle, &shuffled[..at], &certs);
        apply(&mut middle, &revocation);
        receive(&mut middle, &shuffled[at..], &certs);
        // Anti-entropy offers everything again; nothing changes.
        receive(&mut middle, &all, &certs);
        receive(&mut late, &all, &certs);

        prop_assert_eq!(&counted(&late), &want);
        prop_assert_eq!(&counted(&early), &want);
        prop_assert_eq!(&counted(&middle), &want);
        prop_assert_eq!(heads(&late), heads(&early));
        prop_assert_eq!(heads(&late), heads(&middle));
        prop_assert_eq!(late.doc().save(), Space::restore(
            late.genesis().clone(), late.log().to_vec(), None
        ).expect("restore").doc().save());
    }
}

#[test]
fn a_revoked_key_and_a_key_that_built_on_it_cannot_write_again() {
    let genesis = support::genesis(1, &[2, 3], 9);
    let certs = support::certs(&[1, 2, 3]);
    let mut two = Space::new(genesis.clone());
    let mut three = Space::new(genesis.clone());
    let first = local_edit(&mut two, 2, 1, &edit(Some("二 1"), None));
    let stolen = local_edit(&mut two, 2, 2, &edit(Some("二 2（被盗用）"), None));
    receive(&mut three, &[first.clone(), stolen.clone()], &certs);
    let built = local_edit(&mut three, 3, 3, &edit(None, Some("三 在被盗用的条目上")));

    let revocation = revoke_member_2(&three, 1);
    let Scope::Space { up_to, .. } = revocation.scope else {
        unreachable!()
    };
    let w = three
        .revoke(revocation.key, revocation.body, up_to, None)
        .expect("revoke")
        .expect("entries withdrawn");
    let gone: Vec<_> = w.withdrawn.iter().map(Entry::change_hash).collect();
    assert_eq!(gone, vec![stolen.change_hash(), built.change_hash()]);
    assert_eq!(counted(&three), BTreeSet::from([first.change_hash()]));
    assert_eq!(w.from, 1);
    assert!(w.tail.is_empty());

    // Member 3's seq 1 is gone: it must not sign a new seq 1 (that would be a fork).
    let err = three
        .local_change(&member_secret(3), body_id(3), 4, |tx| {
            edit(Some("再写"), None).apply(tx)
        })
        .expect_err("a broken author writes");
    assert!(matches!(err, SpaceError::Withdrawn(_)), "{err}");
    let err = three
        .local_change(&member_secret(2), body_id(2), 4, |tx| {
            edit(Some("再写"), None).apply(tx)
        })
        .expect_err("a revoked key writes");
    assert!(matches!(err, SpaceError::Revoked(_)), "{err}");

    // The withdrawn entries are refused when offered again, with the reason.
    let got = receive(&mut three, &[stolen, built], &certs);
    let reasons: Vec<_> = got.rejected.iter().map(|(r, _)| r.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            Rejection::Revoked(member_secret(2).public()),
            Rejection::Withdrawn
        ]
    );
    // After a restart (log without them, withdrawn entries restored as evidence) the same.
    let mut restored = Space::restore(genesis, three.log().to_vec(), None).expect("restore");
    restored.mark_withdrawn(&w.withdrawn);
    restored
        .revoke(revocation.key, revocation.body, up_to, None)
        .expect("revoke");
    assert!(restored
        .local_change(&member_secret(3), body_id(3), 5, |tx| edit(Some("x"), None)
            .apply(tx))
        .is_err());
}

/// Member 1 forks at seq 2: one replica holds side A (and the others' edits built on it),
/// another side B. Its body resolves the fork for A: both end up with the same entries and
/// document, in whichever order the decision and the entries arrive, the key is no longer
/// refused up to the fork, and side B is refused as not chosen.
#[test]
fn a_fork_resolution_makes_the_members_converge_on_the_chosen_side() {
    let genesis = support::genesis(1, &[2, 3], 9);
    let certs = support::certs(&[1, 2, 3]);
    let mut one = Space::new(genesis.clone());
    let s1 = local_edit(&mut one, 1, 1, &edit(Some("一"), None));
    let mut clone = Space::new(genesis.clone());
    receive(&mut clone, std::slice::from_ref(&s1), &certs);
    let side_a = local_edit(&mut one, 1, 2, &edit(Some("甲方案"), None));
    let side_b = local_edit(&mut clone, 1, 3, &edit(Some("乙方案"), None));
    assert_eq!((side_a.seq(), side_b.seq()), (2, 2));

    // Replica X: side A, then member 2 builds on it, then side B arrives (fork detected).
    let mut x = Space::new(genesis.clone());
    receive(&mut x, &[s1.clone(), side_a.clone()], &certs);
    let on_a = local_edit(&mut x, 2, 4, &edit(None, Some("二 基于甲")));
    let got = receive(&mut x, std::slice::from_ref(&side_b), &certs);
    assert_eq!(got.equivocations.len(), 1);
    // Replica Y: side B first, member 3 builds on it, then side A (fork detected).
    let mut y = Space::new(genesis.clone());
    receive(&mut y, &[s1.clone(), side_b.clone()], &certs);
    let on_b = local_edit(&mut y, 3, 5, &edit(None, Some("三 基于乙")));
    receive(&mut y, std::slice::from_ref(&side_a), &certs);
    assert!(x.equivocators().contains(&member_secret(1).public()));
    assert!(y.equivocators().contains(&member_secret(1).public()));

    let decision = Revocation::unsigned(
        body_id(1),
        member_secret(1).public(),
        1_800_000_000,
        Scope::Fork {
            space: genesis.id(),
            seq: 2,
            stands: side_a.change_hash().0,
        },
    )
    .sign(&body_secret(1))
    .expect("sign");
    let decision = Revocation::decode(&decision.encode()).expect("round trip");
    let Scope::Fork { seq, stands, .. } = decision.scope else {
        unreachable!()
    };
    for space in [&mut x, &mut y] {
        space
            .revoke(decision.key, decision.body, seq, Some((seq, stands)))
            .expect("resolve");
        assert!(space.equivocators().is_empty());
        // Anti-entropy: each offers the other everything it has.
        let all = [
            s1.clone(),
            side_a.clone(),
            side_b.clone(),
            on_a.clone(),
            on_b.clone(),
        ];
        let got = receive(space, &all, &certs);
        assert!(got.equivocations.is_empty(), "{:?}", got.equivocations);
    }
    let want: BTreeSet<ChangeHash> = [&s1, &side_a, &on_a]
        .iter()
        .map(|e| e.change_hash())
        .collect();
    assert_eq!(counted(&x), want);
    assert_eq!(
        counted(&y),
        want,
        "Y dropped side B and what member 3 built on it"
    );
    assert_eq!(heads(&x), heads(&y));
    // The key writes nothing past the fork; side B is refused as not chosen.
    let got = receive(&mut y, std::slice::from_ref(&side_b), &certs);
    assert_eq!(
        got.rejected[0].0,
        Rejection::NotChosen(member_secret(1).public())
    );
    // A node restarted from its log and evidence comes back the same (evidence marks the
    // key an equivocator; the stored decision lifts that again).
    let mut restored = Space::restore(genesis, x.log().to_vec(), None).expect("restore");
    restored
        .revoke(decision.key, decision.body, seq, Some((seq, stands)))
        .expect("resolve");
    restored.mark_equivocator(member_secret(1).public());
    assert!(restored.equivocators().is_empty());
    assert_eq!(heads(&restored), heads(&x));
}
