//! `Space::receive`: the validation pipeline every incoming entry goes through.

use automerge::transaction::Transactable;
use confer_protocol::model::read_agenda;
use confer_protocol::space::Rejection;
use confer_protocol::space::SpaceError;
use confer_protocol::{Certificate, Certificates, Entry, Role, Space, Subject};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::support::{
    self, body_id, edit, heads, local_edit, member_cert, member_secret, receive, wire,
};

/// Authors' spaces and a reader: bodies 1, 2 and 3 are members.
fn three() -> (Vec<Space>, Space, Certificates) {
    let genesis = support::genesis(1, &[2, 3], 1);
    let authors = (0..3).map(|_| Space::new(genesis.clone())).collect();
    (authors, Space::new(genesis), support::certs(&[1, 2, 3]))
}

fn titled(space: &mut Space, n: u8, i: usize) -> Entry {
    local_edit(
        space,
        n,
        i as i64,
        &edit(Some(&format!("议题 {n}/{i}")), Some(&format!("{i}"))),
    )
}

#[test]
fn an_author_without_a_certificate_is_unauthorized() {
    let (mut authors, mut reader, _) = three();
    let e = titled(&mut authors[1], 2, 1);
    let only_body_1 = support::certs(&[1]);
    let got = receive(&mut reader, std::slice::from_ref(&e), &only_body_1);
    assert_eq!(
        got.rejected,
        vec![(
            Rejection::Unauthorized(member_secret(2).public()),
            Some((member_secret(2).public(), 1))
        )]
    );
    assert!(got.accepted.is_empty());
    assert!(reader.log().is_empty());
    assert_eq!(reader.pending_len(), 0);
    // Once the certificate is known, the same entry goes in.
    let got = receive(&mut reader, &[e], &support::certs(&[1, 2]));
    assert_eq!(got.accepted.len(), 1);
    assert!(got.rejected.is_empty());
}

#[test]
fn a_key_certified_only_by_a_non_member_body_is_unauthorized() {
    // Space of bodies 1 and 2; body 3 is not a member but certifies its own member.
    let genesis = support::genesis(1, &[2], 1);
    let outsider = Space::new(genesis.clone());
    let mut reader = Space::new(genesis);
    let e = support::outside_edit(&outsider, 3, body_id(3), 1, &edit(Some("外部"), None));
    let certs = support::certs(&[1, 2, 3]);
    let got = receive(&mut reader, &[e], &certs);
    assert_eq!(got.rejected.len(), 1);
    assert_eq!(
        got.rejected[0].0,
        Rejection::Unauthorized(member_secret(3).public())
    );
    assert!(reader.log().is_empty());

    // A member body's *node* certificate for the key does not make it a member key either.
    let sneaky = Space::new(reader.genesis().clone());
    let key = member_secret(9).public();
    let mut certs = support::certs(&[1, 2]);
    certs.insert(
        Certificate::issue(&support::body_secret(1), "b1", key, Subject::Node, 0).expect("cert"),
    );
    let e = support::outside_edit(&sneaky, 9, body_id(1), 1, &edit(Some("节点"), None));
    let got = receive(&mut reader, &[e], &certs);
    assert_eq!(got.rejected.len(), 1);
    assert_eq!(got.rejected[0].0, Rejection::Unauthorized(key));
}

#[test]
fn a_stranger_certifying_a_member_key_does_not_lock_the_member_out() {
    let (mut authors, mut reader, _) = three();
    let member = member_secret(2).public();
    // A stranger body whose id sorts before body 2's, so it comes first in the key's slot.
    let stranger = (10..64)
        .map(support::body_secret)
        .find(|s| s.public() < support::body_id(2).0)
        .expect("a lower body id");
    let claim = Certificate::issue(
        &stranger,
        "冒名者",
        member,
        Subject::member("假的", Role::Staff),
        0,
    )
    .expect("cert");
    let mut certs = Certificates::new();
    assert!(certs.insert(claim.clone()));
    for b in [1, 2, 3] {
        certs.insert(member_cert(b));
    }
    assert_eq!(
        certs.any_for(&member),
        Some(&claim),
        "the stranger's claim sorts first"
    );
    let e = titled(&mut authors[1], 2, 1);
    let got = receive(&mut reader, &[e], &certs);
    assert!(got.rejected.is_empty(), "{:?}", got.rejected);
    assert_eq!(got.accepted.len(), 1);
    // And the value is attributed to the member body, not the stranger.
    let view = read_agenda(&reader, &certs);
    let title = view
        .field("title")
        .and_then(|f| f.current.as_ref())
        .expect("title");
    assert_eq!(title.body, Some(support::body_id(2)));
    assert_eq!(
        title.body_name.as_deref(),
        Some(support::body_name(2).as_str())
    );

    // The stranger's claim alone authorises nothing.
    let mut only_claim = Certificates::new();
    only_claim.insert(claim);
    let mut fresh = Space::new(reader.genesis().clone());
    let got = receive(&mut fresh, &reader.log()[..1], &only_claim);
    assert_eq!(got.rejected.len(), 1);
    assert_eq!(got.rejected[0].0, Rejection::Unauthorized(member));
}

/// Entries by three authors, each round depending on everyone's previous one.
fn interleaved(rounds: usize) -> (Space, Certificates, Vec<Entry>) {
    let (mut authors, mut hub, certs) = three();
    for i in 0..rounds {
        for (a, space) in authors.iter_mut().enumerate() {
            let got = receive(space, hub.log(), &certs);
            assert!(got.rejected.is_empty());
            let e = titled(space, a as u8 + 1, i);
            let got = receive(&mut hub, &[e], &certs);
            assert_eq!(got.accepted.len(), 1);
        }
    }
    let log = hub.log().to_vec();
    (hub, certs, log)
}

/// A full pending set never blocks entries that are ready: orphans beyond the bound are
/// evicted (`PendingFull`, to come back through anti-entropy), ready entries still apply,
/// and evicted ones apply when delivered again.
#[test]
fn a_full_pending_set_still_applies_ready_entries() {
    let (hub, certs, log) = interleaved(2);
    let mut reader = Space::new(hub.genesis().clone());
    reader.set_pending_limit(2, usize::MAX);
    let orphans: Vec<Entry> = log[1..].iter().rev().take(3).cloned().collect();
    let got = receive(&mut reader, &orphans, &certs);
    assert!(got.accepted.is_empty());
    assert_eq!(got.pending, 2, "held up to the bound");
    let full: Vec<_> = got
        .rejected
        .iter()
        .filter(|(r, _)| matches!(r, confer_protocol::space::Rejection::PendingFull))
        .collect();
    assert_eq!(
        full.len(),
        1,
        "one orphan over the bound evicted: {:?}",
        got.rejected
    );
    // The first entry has no dependencies: it applies although the pending set is full.
    let got = receive(&mut reader, &log[..1], &certs);
    assert!(got.rejected.is_empty(), "{:?}", got.rejected);
    assert!(
        !got.accepted.is_empty(),
        "a ready entry was blocked by the full pending set"
    );
    // Delivering everything again completes the space.
    receive(&mut reader, &log, &certs);
    assert_eq!(reader.vector(), hub.vector());
    assert_eq!(reader.pending_len(), 0);
}

#[test]
fn entries_in_reverse_order_wait_and_then_all_apply() {
    let (hub, certs, log) = interleaved(4);
    assert_eq!(log.len(), 12);
    let mut reader = Space::new(hub.genesis().clone());
    for (i, e) in log.iter().rev().enumerate() {
        let got = receive(&mut reader, std::slice::from_ref(e), &certs);
        assert!(got.rejected.is_empty(), "{:?}", got.rejected);
        if i + 1 < log.len() {
            assert!(
                got.accepted.is_empty(),
                "entry {i} from the end applied before its dependencies"
            );
            assert_eq!(got.pending, i + 1);
        } else {
            assert_eq!(
                got.accepted.len(),
                log.len(),
                "the first entry releases all the others"
            );
            assert_eq!(got.pending, 0);
        }
    }
    assert_eq!(reader.pending_len(), 0);
    assert_eq!(reader.vector(), hub.vector());
    assert_eq!(heads(&reader), heads(&hub));
    assert_eq!(reader.doc().save(), hub.doc().save());
}

#[test]
fn entries_in_random_order_and_batches_all_apply() {
    let (hub, certs, log) = interleaved(4);
    for seed in 0..20u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut shuffled = log.clone();
        shuffled.shuffle(&mut rng);
        let mut reader = Space::new(hub.genesis().clone());
        let mut accepted = 0;
        let mut rest = shuffled.as_slice();
        while !rest.is_empty() {
            let n = rng.random_range(1..=rest.len().min(5));
            let (batch, tail) = rest.split_at(n);
            rest = tail;
            let got = receive(&mut reader, batch, &certs);
            assert!(got.rejected.is_empty(), "seed {seed}: {:?}", got.rejected);
            accepted += got.accepted.len();
            assert_eq!(got.pending, reader.pending_len());
        }
        assert_eq!(accepted, log.len(), "seed {seed}");
        assert_eq!(reader.pending_len(), 0, "seed {seed}");
        assert_eq!(reader.vector(), hub.vector(), "seed {seed}");
        assert_eq!(heads(&reader), heads(&hub), "seed {seed}");
        // The log is in causal order: every entry comes after what it depends on.
        let mut seen = std::collections::HashSet::new();
        for e in reader.log() {
            assert!(
                e.deps().iter().all(|d| seen.contains(d)),
                "seed {seed}: log out of causal order"
            );
            seen.insert(e.change_hash());
        }
    }
}

#[test]
fn duplicates_are_counted_and_not_applied_twice() {
    let (hub, certs, log) = interleaved(2);
    let mut reader = Space::new(hub.genesis().clone());
    let got = receive(&mut reader, &log, &certs);
    assert_eq!((got.accepted.len(), got.duplicates), (log.len(), 0));
    let got = receive(&mut reader, &log, &certs);
    assert_eq!((got.accepted.len(), got.duplicates), (0, log.len()));
    assert!(got.rejected.is_empty());
    assert_eq!(reader.log().len(), log.len());

    // Twice in one batch, and again while the first copy waits in the pending set.
    let mut reader = Space::new(hub.genesis().clone());
    let last = log.last().expect("entries").clone();
    let got = receive(&mut reader, &[last.clone(), last.clone()], &certs);
    assert_eq!((got.accepted.len(), got.duplicates, got.pending), (0, 1, 1));
    let got = receive(&mut reader, &[last], &certs);
    assert_eq!((got.accepted.len(), got.duplicates, got.pending), (0, 1, 1));
    assert!(got.rejected.is_empty() && got.equivocations.is_empty());
}

/// Two different changes by member 1 at seq 1 (and the fork's continuation at seq 2).
fn forked() -> (Space, Certificates, Entry, Entry, Entry) {
    let (mut authors, reader, certs) = three();
    let a1 = titled(&mut authors[0], 1, 1);
    let a2 = titled(&mut authors[0], 1, 2);
    let mut other = Space::new(reader.genesis().clone());
    let b1 = local_edit(&mut other, 1, 99, &edit(Some("另一个"), None));
    assert_eq!((a1.seq(), b1.seq(), a2.seq()), (1, 1, 2));
    assert_ne!(a1.change_hash(), b1.change_hash());
    (reader, certs, a1, b1, a2)
}

#[test]
fn a_second_change_at_a_held_seq_is_equivocation() {
    let (mut reader, certs, a1, b1, a2) = forked();
    let author = member_secret(1).public();
    let got = receive(&mut reader, std::slice::from_ref(&a1), &certs);
    assert_eq!(got.accepted.len(), 1);
    let got = receive(&mut reader, std::slice::from_ref(&b1), &certs);
    assert!(got.accepted.is_empty());
    assert_eq!(got.equivocations.len(), 1);
    let eq = &got.equivocations[0];
    assert_eq!((eq.author, eq.seq), (author, 1));
    assert_eq!(eq.held, a1);
    assert_eq!(eq.other, b1);
    assert!(reader.equivocators().contains(&author));
    // The key is refused from now on, even for its honest-looking continuation.
    let got = receive(&mut reader, &[a2], &certs);
    assert!(got.accepted.is_empty());
    assert_eq!(
        got.rejected,
        vec![(Rejection::Equivocator(author), Some((author, 2)))]
    );
    // Re-sending the held entry is still a duplicate, not a new offence.
    let got = receive(&mut reader, &[a1], &certs);
    assert!(got.accepted.is_empty() && got.equivocations.is_empty());
    // Other members are unaffected.
    let mut space2 = Space::new(reader.genesis().clone());
    let c1 = titled(&mut space2, 2, 1);
    let got = receive(&mut reader, &[c1], &certs);
    assert_eq!(got.accepted.len(), 1);
    assert_eq!(reader.log().len(), 2);
}

#[test]
fn equivocation_against_a_pending_entry_or_within_one_batch() {
    // The fork at seq 2 while seq 2 still waits for seq 1.
    let (mut authors, mut reader, certs) = three();
    let a1 = titled(&mut authors[0], 1, 1);
    let a2 = titled(&mut authors[0], 1, 2);
    let mut fork = Space::new(reader.genesis().clone());
    receive(&mut fork, std::slice::from_ref(&a1), &certs);
    let b2 = local_edit(&mut fork, 1, 7, &edit(None, Some("分叉")));
    assert_eq!(b2.seq(), 2);
    let got = receive(&mut reader, std::slice::from_ref(&a2), &certs);
    assert_eq!(got.pending, 1);
    let got = receive(&mut reader, std::slice::from_ref(&b2), &certs);
    assert_eq!(got.equivocations.len(), 1);
    assert_eq!(
        (&got.equivocations[0].held, &got.equivocations[0].other),
        (&a2, &b2)
    );
    assert_eq!(
        reader.pending_len(),
        0,
        "the equivocator's waiting entries are dropped"
    );
    let got = receive(&mut reader, &[a1], &certs);
    assert_eq!(got.rejected.len(), 1);
    assert!(matches!(got.rejected[0].0, Rejection::Equivocator(_)));
    assert!(reader.log().is_empty());

    // Both sides of a fork in one batch: reported once, neither applied.
    let (mut reader, certs, a1, b1, _) = forked();
    let got = receive(&mut reader, &[a1.clone(), b1.clone()], &certs);
    assert_eq!(got.equivocations.len(), 1);
    let eq = &got.equivocations[0];
    assert_eq!((&eq.held, &eq.other), (&a1, &b1));
    assert!(
        got.accepted.is_empty(),
        "an entry of a fork detected in the same batch was applied"
    );
    assert!(reader.log().is_empty());
}

#[test]
fn an_equivocator_cannot_write_locally_either() {
    let (mut reader, certs, a1, b1, _) = forked();
    receive(&mut reader, &[a1, b1], &certs);
    let err = reader
        .local_change(&member_secret(1), body_id(1), 0, |tx| {
            tx.put(automerge::ROOT, "title", "x")
        })
        .expect_err("equivocator wrote");
    assert_eq!(
        err,
        confer_protocol::space::SpaceError::Equivocator(member_secret(1).public())
    );
}

#[test]
fn a_bad_signature_is_rejected_and_the_rest_of_the_batch_accepted() {
    let (hub, certs, log) = interleaved(2);
    // The last entry has no dependents in the batch; tamper with its signature.
    let victim = log.last().expect("entries");
    let mut bytes = victim.bytes().to_vec();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x40;
    let tampered = Entry::decode(bytes).expect("still decodes");
    assert!(tampered.verify().is_err());
    let mut batch: Vec<Entry> = log[..log.len() - 1].iter().map(wire).collect();
    batch.insert(2, tampered.clone());
    let mut reader = Space::new(hub.genesis().clone());
    let got = reader.receive(batch, certs.certifies());
    assert_eq!(
        got.rejected,
        vec![(
            Rejection::BadSignature(victim.author()),
            Some((victim.author(), victim.seq()))
        )]
    );
    assert_eq!(got.accepted.len(), log.len() - 1);
    assert!(got.equivocations.is_empty());
    // The forgery left no trace: the genuine entry is accepted, and is no equivocation.
    let got = receive(&mut reader, std::slice::from_ref(victim), &certs);
    assert_eq!(got.accepted.len(), 1);
    assert!(got.equivocations.is_empty() && reader.equivocators().is_empty());
    assert_eq!(reader.vector(), hub.vector());
    assert_eq!(
        confer_protocol::space::reverify(reader.log()),
        (log.len(), vec![])
    );
}

#[test]
fn an_entry_for_another_space_is_rejected() {
    let (mut authors, mut reader, certs) = three();
    let ours = titled(&mut authors[0], 1, 1);
    let mut elsewhere = Space::new(support::genesis(1, &[2, 3], 2));
    let theirs = titled(&mut elsewhere, 1, 1);
    assert_ne!(theirs.space(), reader.id());
    let got = receive(&mut reader, &[theirs.clone(), ours], &certs);
    assert_eq!(
        got.rejected,
        vec![(Rejection::WrongSpace, Some((theirs.author(), 1)))]
    );
    assert_eq!(got.accepted.len(), 1);
}

#[test]
fn missing_for_serves_what_the_peer_lacks_in_causal_batches() {
    let (hub, certs, log) = interleaved(3);
    let mut reader = Space::new(hub.genesis().clone());
    let mut rounds = 0;
    loop {
        let (batch, more) = hub.missing_for(&reader.vector(), 2, usize::MAX);
        assert!(batch.len() <= 2);
        let batch: Vec<Entry> = batch.into_iter().cloned().collect();
        let got = receive(&mut reader, &batch, &certs);
        assert_eq!(
            got.accepted.len(),
            batch.len(),
            "a batch in log order applies at once"
        );
        rounds += 1;
        if !more {
            break;
        }
    }
    assert_eq!(rounds, log.len().div_ceil(2));
    assert_eq!(reader.vector(), hub.vector());
    assert!(hub
        .missing_for(&reader.vector(), 10, usize::MAX)
        .0
        .is_empty());
    // A byte budget smaller than one entry still yields one entry.
    let (one, more) = hub.missing_for(&Default::default(), 100, 1);
    assert_eq!((one.len(), more), (1, true));
}

/// Restoring from the log (with or without a snapshot) gives the same document.
#[test]
fn restore_gives_the_same_document() {
    let (hub, _, log) = interleaved(3);
    let (count, snapshot) = hub.snapshot();
    let restored = Space::restore(
        hub.genesis().clone(),
        log.iter().map(wire).collect(),
        Some((count, &snapshot)),
    )
    .expect("restore");
    assert_eq!(heads(&restored), heads(&hub));
    let replayed = Space::restore(hub.genesis().clone(), log.iter().map(wire).collect(), None)
        .expect("replay");
    assert_eq!(heads(&replayed), heads(&hub));
    assert_eq!(replayed.vector(), hub.vector());
    // A snapshot of an earlier state with a later count is not trusted.
    let early = Space::restore(
        hub.genesis().clone(),
        log[..3].iter().map(wire).collect(),
        None,
    )
    .expect("prefix");
    let stale = early.doc().save();
    let restored = Space::restore(
        hub.genesis().clone(),
        log.iter().map(wire).collect(),
        Some((count, &stale)),
    )
    .expect("fallback");
    assert_eq!(heads(&restored), heads(&hub));
}

/// A member key that signs a change with sequence number 0. automerge parses such a change;
/// the space must refuse it (or leave it waiting) without panicking.
#[test]
fn an_entry_with_seq_zero_is_refused_without_panicking() {
    let (mut authors, mut reader, certs) = three();
    let honest = titled(&mut authors[0], 1, 1);
    let raw = &honest.bytes()[1 + 32 + 32 + 4..honest.len() - 64];
    let mut change = raw.to_vec();
    // magic(4) checksum(4) type(1) len(LEB) | deps count(LEB) | actor len(LEB) actor(32) | seq
    let mut at = 9;
    while change[at] & 0x80 != 0 {
        at += 1;
    }
    at += 1;
    assert_eq!(change[at], 0, "no deps");
    assert_eq!(change[at + 1], 32, "32-byte actor");
    at += 2 + 32;
    assert_eq!(change[at], 1, "seq 1");
    change[at] = 0;
    let change = automerge::Change::from_bytes(change).expect("automerge parses a seq-0 change");
    assert_eq!(change.seq(), 0);
    // Neither signing nor decoding lets such a change become an entry.
    assert!(matches!(
        Entry::sign(reader.id(), body_id(1), &change, &member_secret(1)),
        Err(confer_protocol::entry::EntryError::SeqZero)
    ));
    let mut payload = reader.id().as_bytes().to_vec();
    payload.extend_from_slice(body_id(1).0.as_bytes());
    payload.extend_from_slice(change.raw_bytes());
    let sig = member_secret(1).sign(Entry::domain(), &payload);
    let mut w = confer_protocol::wire::Writer::new();
    w.u8(2)
        .raw(reader.id().as_bytes())
        .raw(body_id(1).0.as_bytes())
        .bytes(change.raw_bytes())
        .raw(&sig.0);
    let decoded = std::panic::catch_unwind(|| Entry::decode(w.finish()));
    assert!(
        matches!(
            decoded,
            Ok(Err(confer_protocol::entry::EntryError::SeqZero))
        ),
        "a seq-0 entry must be refused at decode: {decoded:?}"
    );
    assert!(reader.log().is_empty());
    // The honest history of that author is still accepted.
    let got = receive(&mut reader, &[honest], &certs);
    assert_eq!(got.accepted.len(), 1);
}

/// A replica holding one side of a fork learns of it from a replica holding the other:
/// same seq in the vectors, different tips.
#[test]
fn forks_against_reveals_a_fork_hidden_behind_equal_vectors() {
    let (mut left, certs, a1, b1, _) = forked();
    let mut right = Space::new(left.genesis().clone());
    receive(&mut left, std::slice::from_ref(&a1), &certs);
    receive(&mut right, std::slice::from_ref(&b1), &certs);
    assert_eq!(left.vector(), right.vector(), "the vectors cannot tell");
    assert_ne!(left.tips(), right.tips());
    let forks: Vec<Entry> = left
        .forks_against(&right.vector(), &right.tips())
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(forks, vec![a1.clone()]);
    let got = receive(&mut right, &forks, &certs);
    assert_eq!(got.equivocations.len(), 1);
    assert!(right.equivocators().contains(&a1.author()));
    // No fork, nothing to send.
    let mut same = Space::new(left.genesis().clone());
    receive(&mut same, std::slice::from_ref(&a1), &certs);
    assert!(left.forks_against(&same.vector(), &same.tips()).is_empty());
    assert!(left
        .forks_against(&Default::default(), &Default::default())
        .is_empty());
}

/// Sync as the replica does it: forks first, then what is missing; evidence of a detected
/// fork goes to everyone.
fn sync_with_forks(spaces: &mut [Space], certs: &Certificates) {
    for _ in 0..3 {
        for from in 0..spaces.len() {
            for to in 0..spaces.len() {
                if from == to {
                    continue;
                }
                let (theirs, tips) = (spaces[to].vector(), spaces[to].tips());
                let mut batch: Vec<Entry> = spaces[from]
                    .forks_against(&theirs, &tips)
                    .into_iter()
                    .cloned()
                    .collect();
                batch.extend(
                    spaces[from]
                        .missing_for(&theirs, usize::MAX, usize::MAX)
                        .0
                        .into_iter()
                        .cloned(),
                );
                let got = receive(&mut spaces[to], &batch, certs);
                let evidence: Vec<Entry> = got
                    .equivocations
                    .iter()
                    .flat_map(|e| [e.held.clone(), e.other.clone()])
                    .collect();
                for (i, space) in spaces.iter_mut().enumerate() {
                    if i != to && !evidence.is_empty() {
                        receive(space, &evidence, certs);
                    }
                }
            }
        }
    }
}

/// A member that was offline when a fork was detected never learns of it: the replicas
/// that know hold the other side only as evidence, not in their log, so neither
/// `missing_for` nor `forks_against` serves it. And members that all learned of the same
/// fork still hold different documents for good:
/// what each applied before it learned stays applied (one got both sides in one batch and
/// applied neither, one applied the first side, one had also applied the key's next
/// entry), and the key's entries are refused from then on, so nothing evens it out.
#[test]
#[ignore = "KNOWN LIMITATION (ARCHITECTURE.md): fork evidence is not part of anti-entropy (a member offline at detection never learns of it), and members' documents depend on what each applied before detection"]
fn replicas_that_saw_the_same_fork_converge() {
    let (mut one_batch, certs, a1, b1, a2) = forked();
    let mut two_batches = Space::new(one_batch.genesis().clone());
    let mut unaware = Space::new(one_batch.genesis().clone());
    receive(&mut one_batch, &[a1.clone(), b1.clone()], &certs);
    receive(&mut two_batches, std::slice::from_ref(&a1), &certs);
    receive(&mut two_batches, std::slice::from_ref(&b1), &certs);
    receive(&mut unaware, &[a1.clone(), a2], &certs);
    let mut spaces = [one_batch, two_batches, unaware];
    sync_with_forks(&mut spaces, &certs);
    for (i, space) in spaces.iter().enumerate() {
        assert!(
            space.equivocators().contains(&a1.author()),
            "replica {i} never learned of the fork"
        );
    }
    assert_eq!(
        spaces[0].vector(),
        spaces[1].vector(),
        "same evidence, different documents"
    );
    assert_eq!(
        spaces[1].vector(),
        spaces[2].vector(),
        "same evidence, different documents"
    );
}

/// Review finding: a member body whose id sorts lower than the author's body certified the
/// author's key under a name of its own, and every node showed the author's text under
/// that body. Entries now name (and sign) the body they are written for: the other body's
/// certificate changes nothing, on any node, whatever certificates it holds.
#[test]
fn a_member_body_certifying_another_members_key_cannot_relabel_its_edits() {
    let relabeller = (10..64)
        .find(|&n| support::body_id(n) < support::body_id(2))
        .expect("a body id below body 2's");
    let genesis = support::genesis(1, &[2, relabeller], 7);
    let mut author = Space::new(genesis.clone());
    let author_key = member_secret(2).public();
    let claim = Certificate::issue(
        &support::body_secret(relabeller),
        "冒名的政协",
        author_key,
        Subject::member("冒名者", Role::Chair),
        0,
    )
    .expect("cert");
    // One node knows only the honest certificates, another also the relabelling one.
    let honest = support::certs(&[1, 2, relabeller]);
    let mut with_claim = support::certs(&[1, 2, relabeller]);
    assert!(with_claim.insert(claim.clone()));
    let e1 = titled(&mut author, 2, 1);
    let e2 = titled(&mut author, 2, 2);
    assert_eq!(e1.body(), support::body_id(2));
    for certs in [&honest, &with_claim] {
        let mut reader = Space::new(genesis.clone());
        let got = receive(&mut reader, &[e1.clone(), e2.clone()], certs);
        assert_eq!(got.accepted.len(), 2, "{:?}", got.rejected);
        let view = read_agenda(&reader, certs);
        let title = view
            .field("title")
            .and_then(|f| f.current.clone())
            .expect("title");
        assert_eq!(title.body, Some(support::body_id(2)));
        assert_eq!(title.body_name, Some(support::body_name(2)));
        assert_eq!(
            title.member_name.as_deref(),
            Some(member_cert(2).subject_name())
        );
        assert_eq!(
            reader.author_cert(&author_key, certs),
            Some(&member_cert(2))
        );
    }

    // The relabelling body cannot re-sign the author's change for itself: the entry is
    // signed by the author's key over the body id. Swapping the body bytes breaks it.
    let mut bytes = e2.bytes().to_vec();
    bytes[1 + 32..1 + 32 + 32].copy_from_slice(support::body_id(relabeller).0.as_bytes());
    let swapped = Entry::decode(bytes).expect("decodes");
    let mut reader = Space::new(genesis.clone());
    receive(&mut reader, std::slice::from_ref(&e1), &with_claim);
    let got = receive(&mut reader, &[swapped], &with_claim);
    assert_eq!(
        got.rejected[0].0,
        Rejection::BadSignature(author_key),
        "{:?}",
        got.rejected
    );

    // And an author cannot switch bodies within a space either, even one that certified
    // it: its later entries must name the body its first one named.
    let switched = support::outside_edit(
        &reader,
        2,
        support::body_id(relabeller),
        3,
        &edit(Some("改名"), None),
    );
    let got = receive(&mut reader, &[switched], &with_claim);
    assert_eq!(
        got.rejected[0].0,
        Rejection::BodyMismatch(author_key),
        "{:?}",
        got.rejected
    );
}

/// The same change signed for two different bodies is two entries at one (author, seq):
/// equivocation, so no two nodes can disagree about whose name it carries.
#[test]
fn the_same_change_signed_for_two_bodies_is_equivocation() {
    let genesis = support::genesis(1, &[2, 3], 8);
    let mut author = Space::new(genesis.clone());
    let e1 = titled(&mut author, 2, 1);
    let change = author.log()[0].clone().take_change().expect("change");
    let other = Entry::sign(author.id(), body_id(3), &change, &member_secret(2)).expect("sign");
    let mut certs = support::certs(&[1, 2, 3]);
    certs.insert(
        Certificate::issue(
            &support::body_secret(3),
            "b3",
            member_secret(2).public(),
            Subject::member("x", Role::Staff),
            0,
        )
        .expect("cert"),
    );
    let mut reader = Space::new(genesis);
    let got = receive(&mut reader, &[e1], &certs);
    assert_eq!(got.accepted.len(), 1);
    let got = receive(&mut reader, &[other], &certs);
    assert_eq!(got.equivocations.len(), 1, "{got:?}");
    assert!(reader.equivocators().contains(&member_secret(2).public()));
}

/// A member's signed change that names an actor the document does not know (its deps
/// removed, so it claims to build on nothing): automerge 0.12 panics applying it. The
/// space refuses it before automerge sees it, and goes on.
#[test]
fn a_change_naming_an_unknown_actor_is_refused_without_panicking() {
    use automerge::ReadDoc;
    use sha2::{Digest, Sha256};
    let genesis = support::genesis(1, &[2], 11);
    // A stranger actor writes a key; member 2 overwrites it (so its change names the
    // stranger as an actor, through the op it overwrites).
    let mut doc = automerge::Automerge::new();
    doc.set_actor(automerge::ActorId::from([0x55u8; 32].as_slice()));
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "title", "陌生人").expect("put");
    tx.commit();
    doc.set_actor(automerge::ActorId::from(
        member_secret(2).public().as_bytes().as_slice(),
    ));
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "title", "覆盖").expect("put");
    let (hash, _) = tx.commit();
    let change = doc
        .get_change_by_hash(&hash.expect("a change"))
        .expect("change")
        .clone();
    assert_eq!(change.other_actor_ids().len(), 1);
    assert_eq!(change.deps().len(), 1);
    // Drop the one dependency and reseal the chunk.
    let raw = change.raw_bytes();
    let mut at = 9;
    while raw[at] & 0x80 != 0 {
        at += 1;
    }
    let body = &raw[at + 1..];
    assert_eq!(body[0], 1, "one dep");
    let mut new_body = vec![0u8];
    new_body.extend_from_slice(&body[1 + 32..]);
    let mut hashed = vec![1u8];
    let mut len = new_body.len() as u64;
    loop {
        let b = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            hashed.push(b);
            break;
        }
        hashed.push(b | 0x80);
    }
    hashed.extend_from_slice(&new_body);
    let mut chunk = raw[..4].to_vec();
    chunk.extend_from_slice(&Sha256::digest(&hashed)[..4]);
    chunk.extend_from_slice(&hashed);
    let crafted = automerge::Change::from_bytes(chunk).expect("automerge parses it");
    assert!(crafted.deps().is_empty());
    let entry = Entry::sign(genesis.id(), body_id(2), &crafted, &member_secret(2)).expect("sign");
    let mut reader = Space::new(genesis);
    let got = receive(&mut reader, &[entry], &support::certs(&[1, 2]));
    assert!(
        matches!(got.rejected[..], [(Rejection::UnknownActor(_), _)]),
        "{:?}",
        got.rejected
    );
    assert!(reader.log().is_empty());
    // The space still works.
    let mut author = Space::new(reader.genesis().clone());
    let honest = titled(&mut author, 2, 1);
    assert_eq!(
        receive(&mut reader, &[honest], &support::certs(&[1, 2]))
            .accepted
            .len(),
        1
    );
}

/// Review finding: field limits were checked only for local edits. A member's change that
/// the local interface would refuse — an over-long title, a field the agenda does not have,
/// an empty title — is refused from peers too, in the same validation path.
#[test]
fn remote_changes_obey_the_limits_local_edits_obey() {
    use automerge::transaction::Transactable;
    use confer_protocol::model::{MAX_SUMMARY_BYTES, MAX_TITLE_BYTES};
    let genesis = support::genesis(1, &[2], 12);
    let certs = support::certs(&[1, 2]);
    let author = Space::new(genesis.clone());
    let raw = |put: &dyn Fn(&mut automerge::transaction::Transaction<'_>)| {
        let mut doc = author.doc().fork();
        doc.set_actor(automerge::ActorId::from(
            member_secret(2).public().as_bytes().as_slice(),
        ));
        let mut tx = doc.transaction();
        put(&mut tx);
        let (hash, _) = tx.commit();
        use automerge::ReadDoc;
        let change = doc
            .get_change_by_hash(&hash.expect("change"))
            .expect("change")
            .clone();
        Entry::sign(genesis.id(), body_id(2), &change, &member_secret(2)).expect("sign")
    };
    let long_title = "题".repeat(MAX_TITLE_BYTES / 3 + 1);
    let long_summary = "x".repeat(MAX_SUMMARY_BYTES + 1);
    let cases: Vec<(&str, Entry)> = vec![
        (
            "over-long title",
            raw(&|tx| {
                tx.put(automerge::ROOT, "title", long_title.as_str())
                    .expect("put");
            }),
        ),
        (
            "over-long summary",
            raw(&|tx| {
                tx.put(automerge::ROOT, "summary", long_summary.as_str())
                    .expect("put");
            }),
        ),
        (
            "empty title",
            raw(&|tx| {
                tx.put(automerge::ROOT, "title", "  ").expect("put");
            }),
        ),
        (
            "unknown field",
            raw(&|tx| {
                tx.put(automerge::ROOT, "payload", "x").expect("put");
            }),
        ),
        (
            "nested object",
            raw(&|tx| {
                tx.put_object(automerge::ROOT, "title", automerge::ObjType::Map)
                    .expect("put");
            }),
        ),
        (
            "a number",
            raw(&|tx| {
                tx.put(automerge::ROOT, "summary", 7).expect("put");
            }),
        ),
    ];
    for (what, entry) in cases {
        let mut reader = Space::new(genesis.clone());
        let got = receive(&mut reader, &[entry], &certs);
        assert!(
            matches!(got.rejected[..], [(Rejection::Model(_), _)]),
            "{what}: {:?}",
            got.rejected
        );
        assert!(reader.log().is_empty(), "{what} applied");
    }
    // The same rules refuse the local edit, and leave the document as it was.
    let mut local = Space::new(genesis.clone());
    titled(&mut local, 1, 1);
    let before = heads(&local);
    let refused = local.local_change(&member_secret(1), body_id(1), 2, |tx| {
        tx.put(automerge::ROOT, "payload", "x").map(|_| ())
    });
    assert!(refused.is_err());
    assert_eq!(
        heads(&local),
        before,
        "the refused change is not in the document"
    );
    assert_eq!(local.log().len(), 1);
    let ok = titled(&mut local, 1, 3);
    assert_eq!(ok.seq(), 2, "the next edit takes the next seq");
}

/// The bytes one author may write are counted along its own sequence, so every node
/// refuses the same entries, however they arrive.
#[test]
fn the_author_quota_refuses_the_same_entries_everywhere() {
    let genesis = support::genesis(1, &[2], 13);
    let certs = support::certs(&[1, 2]);
    let mut author = Space::new(genesis.clone());
    let entries: Vec<Entry> = (0..6).map(|i| titled(&mut author, 2, i)).collect();
    let quota: u64 = entries[..4].iter().map(|e| e.len() as u64).sum();
    let mut one_batch = Space::new(genesis.clone());
    one_batch.set_author_quota(quota);
    let got = receive(&mut one_batch, &entries, &certs);
    assert_eq!(got.accepted.len(), 4);
    assert!(got
        .rejected
        .iter()
        .any(|(r, k)| matches!(r, Rejection::AuthorQuota(_)) && k.map(|k| k.1) == Some(5)));
    let mut reversed = Space::new(genesis);
    reversed.set_author_quota(quota);
    for e in entries.iter().rev() {
        receive(&mut reversed, std::slice::from_ref(e), &certs);
    }
    assert_eq!(reversed.vector(), one_batch.vector());
}

/// A local edit is held to the author quota like a remote one: the edit that would take the
/// author past it is refused where it is made (and leaves no trace), so no node signs an
/// entry its partners refuse, which would stall their sync of everything after it.
#[test]
fn a_local_edit_past_the_author_quota_is_refused_where_it_is_made() {
    let genesis = support::genesis(1, &[2], 13);
    let certs = support::certs(&[1, 2]);
    let mut probe = Space::new(genesis.clone());
    let sizes: Vec<u64> = (0..6)
        .map(|i| titled(&mut probe, 2, i).len() as u64)
        .collect();
    let quota: u64 = sizes[..4].iter().sum();
    let mut author = Space::new(genesis.clone());
    author.set_author_quota(quota);
    let mut written = Vec::new();
    let mut refused = None;
    for i in 0..6 {
        let change = edit(Some(&format!("议题 2/{i}")), Some(&format!("{i}")));
        let edit = author.local_change(&member_secret(2), body_id(2), i as i64, |tx| {
            change.apply(tx)
        });
        match edit {
            Ok(Some(e)) => written.push(e),
            Ok(None) => panic!("the edit changed nothing"),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    assert_eq!(written.len(), 4, "{refused:?}");
    assert!(
        matches!(refused, Some(SpaceError::AuthorQuota { .. })),
        "{refused:?}"
    );
    let before = heads(&author);
    assert_eq!(author.log().len(), 4);
    let mut partner = Space::new(genesis);
    partner.set_author_quota(quota);
    let got = receive(&mut partner, &written, &certs);
    assert_eq!(got.accepted.len(), written.len(), "{:?}", got.rejected);
    assert_eq!(heads(&partner), before);
}
