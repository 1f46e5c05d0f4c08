//! Convergence of spaces under random edits and random, partial, reordered, lossy syncs
//! (entries move as `Space::missing_for` → `Space::receive`).

use std::collections::{BTreeMap, HashSet};

use automerge::{Automerge, ChangeHash};
use confer_protocol::model::{read_agenda, AgendaEdit};
use confer_protocol::{Certificates, Entry, Space};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::support::{self, heads, wire};

#[derive(Debug, Clone)]
enum Op {
    Edit {
        at: usize,
        title: Option<String>,
        summary: Option<String>,
    },
    /// Send what `to` lacks from `from`: at most `max` entries, shuffled and split into
    /// batches; `lossy` drops some of them on the way.
    Sync {
        from: usize,
        to: usize,
        max: usize,
        lossy: bool,
        seed: u64,
    },
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z ]{1,12}", "[\u{4e00}-\u{9fa5}]{1,8}", "\\PC{0,10}"]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (any::<usize>(), proptest::option::of(text()), proptest::option::of(text()))
            .prop_map(|(at, title, summary)| Op::Edit { at, title, summary }),
        3 => (any::<usize>(), any::<usize>(), 1usize..8, any::<bool>(), any::<u64>())
            .prop_map(|(from, to, max, lossy, seed)| Op::Sync { from, to, max, lossy, seed }),
    ]
}

/// Moves entries `from` → `to` as the op says; every delivered entry must be accepted,
/// be a duplicate or wait for its dependencies — an honest peer never sends a rejected one.
fn sync(
    spaces: &mut [Space],
    from: usize,
    to: usize,
    max: usize,
    lossy: bool,
    seed: u64,
    certs: &Certificates,
) {
    if from == to {
        return;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut batch: Vec<Entry> = {
        let want = spaces[to].vector();
        let (entries, _more) = spaces[from].missing_for(&want, max, usize::MAX);
        entries.into_iter().map(wire).collect()
    };
    batch.shuffle(&mut rng);
    if lossy {
        batch.retain(|_| rng.random_bool(0.7));
    }
    while !batch.is_empty() {
        let n = rng.random_range(1..=batch.len());
        let rest = batch.split_off(n);
        let got = spaces[to].receive(std::mem::replace(&mut batch, rest), certs.certifies());
        assert!(
            got.rejected.is_empty(),
            "honest entries rejected: {:?}",
            got.rejected
        );
        assert!(got.equivocations.is_empty());
    }
}

fn run(n: usize, ops: Vec<Op>) {
    let bodies: Vec<u8> = (1..=n as u8).collect();
    let genesis = support::genesis(1, &bodies, 42);
    let certs = support::certs(&bodies);
    let mut spaces: Vec<Space> = (0..n).map(|_| Space::new(genesis.clone())).collect();
    let mut made = 0u64;
    for (i, op) in ops.into_iter().enumerate() {
        match op {
            Op::Edit { at, title, summary } => {
                let r = at % n;
                let edit = AgendaEdit { title, summary };
                if edit.validate().is_err() {
                    // The model refuses it (locally and from peers): not an edit anyone
                    // can make.
                    assert!(spaces[r]
                        .local_change(
                            &support::member_secret(bodies[r]),
                            support::body_id(bodies[r]),
                            i as i64,
                            |tx| edit.apply(tx),
                        )
                        .is_err());
                    continue;
                }
                let entry = spaces[r]
                    .local_change(
                        &support::member_secret(bodies[r]),
                        support::body_id(bodies[r]),
                        i as i64,
                        |tx| edit.apply(tx),
                    )
                    .expect("local edit");
                made += u64::from(entry.is_some());
            }
            Op::Sync {
                from,
                to,
                max,
                lossy,
                seed,
            } => sync(&mut spaces, from % n, to % n, max, lossy, seed, &certs),
        }
    }
    // Full all-pairs sync, until nothing is missing anywhere.
    for pass in 0.. {
        assert!(pass < 4, "not converged after {pass} full passes");
        for from in 0..n {
            for to in 0..n {
                sync(&mut spaces, from, to, usize::MAX, false, 0, &certs);
            }
        }
        if spaces.iter().all(|s| s.vector() == spaces[0].vector()) {
            break;
        }
    }
    let first = &spaces[0];
    assert_eq!(first.vector().total(), made, "every edit reached replica 0");
    let view = read_agenda(first, &certs);
    for (i, s) in spaces.iter().enumerate() {
        assert_eq!(s.pending_len(), 0, "replica {i} still has pending entries");
        assert_eq!(s.vector(), first.vector(), "replica {i} vector");
        assert_eq!(s.log().len() as u64, made, "replica {i} log length");
        assert_eq!(heads(s), heads(first), "replica {i} heads");
        assert_eq!(read_agenda(s, &certs), view, "replica {i} agenda view");
        // `doc().save()` depends on the order the changes were applied in (see
        // `saved_bytes_are_the_same_for_the_same_entries`), so compare what a save loads
        // back to, and a save built in a canonical order.
        let reloaded = Automerge::load(&s.doc().save()).expect("a save loads");
        let mut reloaded_heads = reloaded.get_heads();
        reloaded_heads.sort();
        assert_eq!(
            reloaded_heads,
            heads(first),
            "replica {i}: a save loads back to the same heads"
        );
        assert_eq!(
            canonical_save(s),
            canonical_save(first),
            "replica {i}: canonical save"
        );
    }
}

/// The document rebuilt from the log in a canonical causal order (Kahn's algorithm, ties
/// broken by change hash) and saved: equal entries give equal bytes.
pub fn canonical_save(space: &Space) -> Vec<u8> {
    let mut waiting: BTreeMap<ChangeHash, &Entry> =
        space.log().iter().map(|e| (e.change_hash(), e)).collect();
    let mut done: HashSet<ChangeHash> = HashSet::new();
    let mut doc = Automerge::new();
    while !waiting.is_empty() {
        let next = *waiting
            .iter()
            .find(|(_, e)| e.deps().iter().all(|d| done.contains(d)))
            .expect("the log is causally closed")
            .0;
        let mut entry = waiting.remove(&next).expect("present").clone();
        doc.apply_changes([entry.take_change().expect("change")])
            .expect("apply");
        done.insert(next);
    }
    doc.save()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn replicas_converge(n in 3usize..=5, ops in proptest::collection::vec(op(), 0..40)) {
        run(n, ops);
    }
}

/// Deterministic: every member edits the same field concurrently; all see the same winner
/// and the same conflicts.
#[test]
fn concurrent_edits_resolve_identically() {
    let ops: Vec<Op> = (0..5)
        .map(|i| Op::Edit {
            at: i,
            title: Some(format!("标题 {i}")),
            summary: None,
        })
        .collect();
    run(5, ops);
    let bodies = [1u8, 2, 3];
    let genesis = support::genesis(1, &bodies, 43);
    let certs = support::certs(&bodies);
    let mut spaces: Vec<Space> = (0..3).map(|_| Space::new(genesis.clone())).collect();
    for (i, s) in spaces.iter_mut().enumerate() {
        support::local_edit(
            s,
            bodies[i],
            0,
            &support::edit(Some(&format!("标题 {i}")), None),
        );
    }
    for from in 0..3 {
        for to in 0..3 {
            sync(&mut spaces, from, to, usize::MAX, false, 0, &certs);
        }
    }
    let views: Vec<_> = spaces.iter().map(|s| read_agenda(s, &certs)).collect();
    let title = views[0].field("title").expect("title");
    assert_eq!(
        title.conflicts.len(),
        2,
        "three concurrent titles: one winner, two conflicts"
    );
    assert!(
        title
            .current
            .as_ref()
            .is_some_and(|c| c.member_name.is_some()),
        "attributed to a member"
    );
    assert!(views.iter().all(|v| *v == views[0]));
}

/// Invariant 4 says replicas with the same entries show the same state "byte for byte".
/// The state is the same, but automerge's `save()` writes changes in the order they were
/// applied, so two replicas that received concurrent entries in different orders save
/// different bytes (`Space::snapshot` passes those bytes on).
#[test]
#[ignore = "KNOWN LIMITATION (ARCHITECTURE.md): Space::snapshot / doc().save() bytes depend on the order entries were applied in; see canonical_save for an order-independent save"]
fn saved_bytes_are_the_same_for_the_same_entries() {
    let genesis = support::genesis(1, &[2], 44);
    let certs = support::certs(&[1, 2]);
    let mut a = Space::new(genesis.clone());
    let mut b = Space::new(genesis);
    let ea = support::local_edit(&mut a, 1, 0, &support::edit(Some("甲"), None));
    let eb = support::local_edit(&mut b, 2, 0, &support::edit(Some("乙"), None));
    assert_eq!(
        a.receive(vec![wire(&eb)], certs.certifies()).accepted.len(),
        1
    );
    assert_eq!(
        b.receive(vec![wire(&ea)], certs.certifies()).accepted.len(),
        1
    );
    assert_eq!(heads(&a), heads(&b));
    assert_eq!(read_agenda(&a, &certs), read_agenda(&b, &certs));
    assert_eq!(
        canonical_save(&a),
        canonical_save(&b),
        "a canonical order gives equal bytes"
    );
    assert_eq!(
        a.snapshot().1,
        b.snapshot().1,
        "same entries, same state, different snapshot bytes"
    );
}
