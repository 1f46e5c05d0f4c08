//! The agenda's workflow records and their rules: areas only their body writes, attestations
//! only signers make, state rules checked when an action is made — with entries crafted by a
//! rogue replica (not through the actions, which never produce them), and a property test
//! that random valid and invalid actions, synced in random orders, converge and never show
//! what the rules forbid.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{AutomergeError, ObjType, ReadDoc, ROOT};
use confer_protocol::keys::Domain;
use confer_protocol::model::record_book::RecordBook;
use confer_protocol::model::{
    find_record, read_agenda, read_view, read_view_kept, read_view_kept_where, AgendaAction,
    AgendaView, Author, ModelAction, ModelError, RecordId, RecordKey, RecordWrite,
};
use confer_protocol::space::{Rejection, Space};
use confer_protocol::{
    BodyId, Certificate, Certificates, Entry, Genesis, Role, SecretKey, SpaceKind, Subject,
};
use proptest::prelude::*;

use crate::support::{body_id, body_name, body_secret, member_cert, member_secret, wire};

/// Body `n`'s signer (chair, may sign joint documents).
fn signer_secret(n: u8) -> SecretKey {
    SecretKey::from_seed([n + 32; 32])
}

fn signer_cert(n: u8) -> Certificate {
    Certificate::issue(
        &body_secret(n),
        &body_name(n),
        signer_secret(n).public(),
        Subject::Member {
            name: format!("主席 {n}"),
            role: Role::Chair,
            can_sign: true,
        },
        1_700_000_100,
    )
    .expect("signer certificate")
}

fn all_certs(bodies: &[u8]) -> Certificates {
    let mut certs = Certificates::new();
    for &b in bodies {
        certs.insert(member_cert(b));
        certs.insert(signer_cert(b));
    }
    certs
}

/// A writer: body `n`'s member (`signer` false) or its chair.
#[derive(Debug, Clone, Copy)]
struct Who {
    body: u8,
    signer: bool,
}

impl Who {
    /// Body `n`'s member (who may not sign).
    fn member(body: u8) -> Self {
        Who {
            body,
            signer: false,
        }
    }

    /// Body `n`'s chair, who may sign.
    fn signer(body: u8) -> Self {
        Who { body, signer: true }
    }

    fn secret(self) -> SecretKey {
        if self.signer {
            signer_secret(self.body)
        } else {
            member_secret(self.body)
        }
    }

    fn author(self) -> Author {
        Author {
            key: self.secret().public(),
            body: body_id(self.body),
            can_sign: self.signer,
        }
    }
}

fn agenda(bodies: &[u8]) -> Space {
    let members: Vec<BodyId> = bodies.iter().map(|&b| body_id(b)).collect();
    let genesis = Genesis::create(
        SpaceKind::Agenda,
        &members,
        1_700_000_000,
        [7; 16],
        member_cert(bodies[0]),
        &member_secret(bodies[0]),
    )
    .expect("genesis");
    Space::new(genesis)
}

/// An action made the way `Replica::apply_as` makes it: validated on its own, then against
/// the document, then written and checked by the space's rules.
fn act(space: &mut Space, who: Who, now: i64, action: &ModelAction) -> Result<Entry, String> {
    action.validate().map_err(|e| e.to_string())?;
    action
        .validate_in(space, &who.author())
        .map_err(|e| e.to_string())?;
    let action = action
        .clone()
        .resolve(space, &all_certs(&[1, 2, 3]), &who.author(), &who.secret())
        .map_err(|e| e.to_string())?;
    space
        .local_change_signing(&who.secret(), body_id(who.body), who.signer, now, |tx| {
            action.apply(tx)
        })
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "no change".to_owned())
}

/// An entry written straight into a copy of the document, signed by `who` for its body: what
/// a modified node could send.
fn rogue(
    space: &Space,
    who: Who,
    now: i64,
    edit: impl FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
) -> Entry {
    let mut doc = space.doc().fork();
    doc.set_actor(automerge::ActorId::from(
        who.secret().public().as_bytes().as_slice(),
    ));
    let mut tx = doc.transaction();
    edit(&mut tx).expect("edit");
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(now));
    let change = doc
        .get_change_by_hash(&hash.expect("a change"))
        .expect("committed")
        .clone();
    Entry::sign(space.id(), body_id(who.body), &change, &who.secret()).expect("sign")
}

fn id(n: u64) -> RecordId {
    RecordId::from_bytes(n.to_be_bytes())
}

fn key(collection: &'static str, body: Option<u8>, n: u64) -> RecordKey {
    RecordKey {
        collection,
        body: body.map(body_id),
        id: id(n),
    }
}

/// Makes the record's map (and its shard's, if there is none) the way a crafted change
/// would: no rules asked.
fn make_record(
    tx: &mut Transaction<'_>,
    key: &RecordKey,
) -> Result<automerge::ObjId, AutomergeError> {
    let shard_key = key.shard().root_key();
    let shard = match tx.get(ROOT, shard_key.as_str())? {
        Some((_, obj)) => obj,
        None => tx.put_object(ROOT, shard_key.as_str(), ObjType::Map)?,
    };
    tx.put_object(&shard, key.id_key().as_str(), ObjType::Map)
}

fn make(
    collection: &'static str,
    body: Option<u8>,
    n: u64,
    fields: &[(&'static str, &str)],
) -> ModelAction {
    ModelAction::Agenda(AgendaAction::Write(RecordWrite {
        key: key(collection, body, n),
        create: true,
        fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    }))
}

fn edit(
    collection: &'static str,
    body: Option<u8>,
    n: u64,
    fields: &[(&'static str, &str)],
) -> ModelAction {
    ModelAction::Agenda(AgendaAction::Write(RecordWrite {
        create: false,
        ..match make(collection, body, n, fields) {
            ModelAction::Agenda(AgendaAction::Write(w)) => w,
            _ => unreachable!(),
        }
    }))
}

/// Signs `digest` for `body` as `who` (the attestation's signed bytes).
fn attest(who: Who, body: BodyId, digest: [u8; 32]) -> String {
    let mut payload = body.0.as_bytes().to_vec();
    payload.extend_from_slice(&digest);
    hex::encode(
        who.secret()
            .sign(Domain(b"confer/attestation/v1"), &payload)
            .0,
    )
}

/// Round 1, suggestion 2 and body 1's handling 3 of it, written by honest actions.
fn with_handling(space: &mut Space) -> Vec<Entry> {
    let one = Who::member(1);
    let r = id(1).to_string();
    let s = id(2).to_string();
    vec![
        act(space, one, 1, &make("round", None, 1, &[("number", "1")])).expect("round"),
        act(
            space,
            one,
            2,
            &make(
                "suggestion",
                None,
                2,
                &[("round", &r), ("text", "建立跨界河长制")],
            ),
        )
        .expect("suggestion"),
        act(
            space,
            one,
            3,
            &make(
                "handling",
                Some(1),
                3,
                &[
                    ("suggestion", &s),
                    ("unit", "生态环境局"),
                    ("role", "lead"),
                    ("assigned", "2026-03-01"),
                    ("due", "2026-06-01"),
                ],
            ),
        )
        .expect("handling"),
    ]
}

/// Gives `entry` to `space`, which must take it.
fn accept(space: &mut Space, entry: &Entry, certs: &Certificates) {
    let got = space.receive(vec![wire(entry)], certs.certifies());
    assert!(got.rejected.is_empty(), "{:?}", got.rejected);
}

fn model_rejections(got: &confer_protocol::space::Received) -> usize {
    got.rejected
        .iter()
        .filter(|(r, _)| matches!(r, Rejection::Model(_)))
        .count()
}

#[test]
fn a_rogue_member_writing_another_bodys_feedback_is_refused_on_every_node() {
    let certs = all_certs(&[1, 2, 3]);
    let mut author = agenda(&[1, 2, 3]);
    let history = with_handling(&mut author);
    let two = Who::member(2);
    // Body 2's member makes a feedback record in body 1's area; body 3's moves the deadline
    // of body 1's handling.
    let h = id(3).to_string();
    let fake_feedback = rogue(&author, two, 10, |tx| {
        let obj = make_record(tx, &key("feedback", Some(1), 9))?;
        tx.put(&obj, "handling", h.as_str())?;
        tx.put(&obj, "result", "adopted")?;
        tx.put(&obj, "text", "已办结")
    });
    let handling = key("handling", Some(1), 3);
    let three = Who::member(3);
    let moved_deadline = rogue(&author, three, 11, |tx| {
        let Some(obj) = find_record(tx, &handling) else {
            panic!("handling record");
        };
        tx.put(&obj, "due", "2030-01-01")
    });
    for node in [1u8, 2, 3] {
        let mut replica = agenda(&[1, 2, 3]);
        let got = replica.receive(history.iter().map(wire).collect(), certs.certifies());
        assert_eq!(got.accepted.len(), 3, "node {node}: honest history");
        let got = replica.receive(
            vec![wire(&fake_feedback), wire(&moved_deadline)],
            certs.certifies(),
        );
        assert_eq!(got.accepted.len(), 0, "node {node}: {:?}", got.rejected);
        assert_eq!(model_rejections(&got), 2, "node {node}: {:?}", got.rejected);
        let view = read_agenda(&replica, &certs);
        assert!(view.records("feedback").is_empty());
        assert_eq!(view.records("handling")[0].get("due"), "2026-06-01");
        // Honest entries keep syncing after the refusal.
        let mut honest = agenda(&[1, 2, 3]);
        honest.receive(history.iter().map(wire).collect(), certs.certifies());
        let ok = act(
            &mut honest,
            Who::member(node),
            20,
            &make(
                "finding",
                None,
                30,
                &[("text", "河面仍有漂浮物"), ("severity", "medium")],
            ),
        )
        .expect("finding");
        let got = replica.receive(vec![wire(&ok)], certs.certifies());
        assert_eq!(got.accepted.len(), 1);
    }
    // The local interface refuses the same write before it becomes a change.
    let refused = act(
        &mut author,
        two,
        12,
        &make(
            "feedback",
            Some(1),
            9,
            &[
                ("handling", &h),
                ("result", "adopted"),
                ("text", "x"),
                ("date", "2026-05-01"),
            ],
        ),
    );
    assert!(refused.is_err());
}

#[test]
fn only_a_signers_attestation_counts_and_it_cannot_be_edited() {
    let certs = all_certs(&[1, 2]);
    let mut space = agenda(&[1, 2]);
    let one = Who::member(1);
    let r = id(1).to_string();
    let mut history = vec![act(
        &mut space,
        one,
        1,
        &make("round", None, 1, &[("number", "1")]),
    )
    .expect("round")];
    history.push(
        act(
            &mut space,
            one,
            2,
            &make(
                "outcome",
                None,
                4,
                &[
                    ("round", &r),
                    ("kind", "joint-opinion"),
                    ("title", "联合意见"),
                    ("text", "共同治理"),
                ],
            ),
        )
        .expect("outcome"),
    );
    let o = id(4).to_string();
    let digest = [5u8; 32];
    let attestation = |who: Who, body: u8, sig: String| {
        let at = key("attestation", Some(body), 50 + u64::from(who.signer));
        let o = o.clone();
        move |tx: &mut Transaction<'_>| {
            let obj = make_record(tx, &at)?;
            tx.put(&obj, "outcome", o.as_str())?;
            tx.put(&obj, "digest", hex::encode(digest))?;
            tx.put(&obj, "signature", sig)
        }
    };
    let member = Who::member(2);
    let chair = Who::signer(2);
    let by_member = rogue(
        &space,
        member,
        3,
        attestation(member, 2, attest(member, body_id(2), digest)),
    );
    let forged = rogue(
        &space,
        chair,
        3,
        attestation(chair, 2, attest(member, body_id(2), digest)),
    );
    let for_other_body = rogue(
        &space,
        chair,
        3,
        attestation(chair, 1, attest(chair, body_id(1), digest)),
    );
    let by_chair = rogue(
        &space,
        chair,
        3,
        attestation(chair, 2, attest(chair, body_id(2), digest)),
    );

    let mut node = agenda(&[1, 2]);
    node.receive(history.iter().map(wire).collect(), certs.certifies());
    for (what, entry) in [
        ("a member's", &by_member),
        ("a forged", &forged),
        ("another body's", &for_other_body),
    ] {
        let got = node.receive(vec![wire(entry)], certs.certifies());
        assert_eq!(
            model_rejections(&got),
            1,
            "{what} attestation: {:?}",
            got.rejected
        );
    }
    let got = node.receive(vec![wire(&by_chair)], certs.certifies());
    assert_eq!(got.accepted.len(), 1, "{:?}", got.rejected);
    let view = read_agenda(&node, &certs);
    assert_eq!(view.records("attestation").len(), 1);
    assert_eq!(view.records("attestation")[0].area, Some(body_id(2)));

    // An attestation once made is never edited.
    let at = key("attestation", Some(2), 51);
    let changed = rogue(&node, chair, 4, |tx| {
        let Some(obj) = find_record(tx, &at) else {
            panic!("attestation");
        };
        tx.put(&obj, "digest", hex::encode([6u8; 32]))
    });
    let got = node.receive(vec![wire(&changed)], certs.certifies());
    assert_eq!(model_rejections(&got), 1, "{:?}", got.rejected);

    // Locally, a member that may not sign cannot write one either.
    let refused = node.local_change_signing(
        &member.secret(),
        body_id(2),
        false,
        5,
        attestation(member, 2, attest(member, body_id(2), digest)),
    );
    assert!(matches!(refused, Err(e) if e.to_string().contains("can-sign")));
}

#[test]
fn state_rules_refuse_a_bad_action_and_change_nothing() {
    let mut space = agenda(&[1, 2]);
    with_handling(&mut space);
    let one = Who::member(1);
    let s = id(2).to_string();
    let h = id(3).to_string();
    let long = "长".repeat(20_000);
    let refused: Vec<(&str, ModelAction)> = vec![
        (
            "feedback for a unit not assigned",
            make(
                "feedback",
                Some(1),
                9,
                &[
                    ("handling", &id(77).to_string()),
                    ("result", "adopted"),
                    ("text", "x"),
                    ("date", "2026-05-01"),
                ],
            ),
        ),
        (
            "not adopted without a reason",
            make(
                "feedback",
                Some(1),
                9,
                &[
                    ("handling", &h),
                    ("result", "not-adopted"),
                    ("text", "x"),
                    ("date", "2026-05-01"),
                ],
            ),
        ),
        (
            "a deadline before the assignment",
            make(
                "handling",
                Some(1),
                8,
                &[
                    ("suggestion", &s),
                    ("unit", "水务局"),
                    ("role", "co"),
                    ("assigned", "2026-03-01"),
                    ("due", "2026-02-01"),
                ],
            ),
        ),
        (
            "an unknown suggestion",
            make(
                "evaluation",
                Some(1),
                9,
                &[
                    ("suggestion", &id(99).to_string()),
                    ("satisfaction", "satisfied"),
                ],
            ),
        ),
        (
            "a text over its limit",
            make(
                "suggestion",
                None,
                9,
                &[("round", &id(1).to_string()), ("text", &long)],
            ),
        ),
        (
            "another body's area",
            make(
                "evaluation",
                Some(2),
                9,
                &[("suggestion", &s), ("satisfaction", "satisfied")],
            ),
        ),
        (
            "a record made twice",
            make("round", None, 1, &[("number", "2")]),
        ),
        (
            "an edit of nothing",
            edit("meeting", None, 5, &[("place", "平湖")]),
        ),
        (
            "an unknown value",
            make(
                "evaluation",
                Some(1),
                9,
                &[("suggestion", &s), ("satisfaction", "great")],
            ),
        ),
        (
            "a bad date",
            make(
                "submission",
                Some(1),
                9,
                &[("suggestion", &s), ("to", "市委"), ("date", "2026-02-30")],
            ),
        ),
        (
            "a host that is not a member",
            edit("round", None, 1, &[("host", &body_id(9).to_string())]),
        ),
        (
            "a missing required field",
            make("meeting", None, 9, &[("round", &id(1).to_string())]),
        ),
    ];
    for (what, action) in refused {
        let before = (space.doc().get_heads(), space.log().len());
        let got = act(&mut space, one, 50, &action);
        assert!(got.is_err(), "{what} was accepted");
        assert_eq!(
            (space.doc().get_heads(), space.log().len()),
            before,
            "{what} changed the document"
        );
    }
    // A deadline before the suggestion was submitted is refused too.
    act(
        &mut space,
        one,
        51,
        &make(
            "submission",
            Some(1),
            10,
            &[
                ("suggestion", &s),
                ("to", "平湖市委"),
                ("date", "2026-04-01"),
            ],
        ),
    )
    .expect("submission");
    let early = make(
        "handling",
        Some(1),
        11,
        &[
            ("suggestion", &s),
            ("unit", "水务局"),
            ("role", "co"),
            ("assigned", "2026-01-01"),
            ("due", "2026-03-01"),
        ],
    );
    let err = act(&mut space, one, 52, &early).expect_err("due before submission");
    assert!(err.contains("submitted"), "{err}");
    // The error names the field.
    let ModelAction::Agenda(AgendaAction::Write(w)) = make(
        "feedback",
        Some(1),
        9,
        &[("handling", &h), ("result", "adopted")],
    ) else {
        unreachable!()
    };
    assert_eq!(
        ModelAction::Agenda(AgendaAction::Write(w)).validate_in(&space, &one.author()),
        Err(ModelError::MissingField { field: "text" })
    );
}

/// What the rules forbid never shows: every record in a body's area, and every value in
/// it, was written by a member of that body; every attestation by a signer of it.
fn assert_lawful(view: &AgendaView, certs: &Certificates) {
    for (collection, records) in &view.records {
        for record in records {
            let Some(area) = record.area else { continue };
            let maker = record.created_by.as_ref().expect("attributed");
            assert_eq!(
                maker.body,
                Some(area),
                "{collection} {} made by another body",
                record.id
            );
            for field in &record.fields {
                for value in field.current.iter().chain(&field.conflicts) {
                    assert_eq!(
                        value.body,
                        Some(area),
                        "{collection}.{} by another body",
                        field.name
                    );
                }
            }
            if *collection == "attestation" {
                let cert = certs.member_cert(&maker.author, &area).expect("cert");
                assert!(cert.can_sign(), "attestation by a non-signer");
            }
        }
    }
}

fn rogue_secret(i: u8) -> SecretKey {
    SecretKey::from_seed([150 + i; 32])
}

fn rogue_cert(i: u8, body: u8) -> Certificate {
    Certificate::issue(
        &body_secret(body),
        &body_name(body),
        rogue_secret(i).public(),
        Subject::member(format!("委员 r{i}"), Role::Member),
        1_700_000_200,
    )
    .expect("rogue certificate")
}

#[derive(Debug, Clone)]
enum Step {
    /// An action through the local interface (may be refused).
    Act {
        node: usize,
        signer: bool,
        action: u8,
        n: u64,
        value: u8,
    },
    /// A rogue entry into another body's area.
    Rogue { node: usize, target: u8, n: u64 },
    /// Sync from one node to another, in a shuffled order.
    Sync { from: usize, to: usize, seed: u64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, any::<bool>(), 0..8u8, 1..6u64, 0..4u8)
            .prop_map(|(node, signer, action, n, value)| Step::Act { node, signer, action, n, value }),
        1 => (0..3usize, 1..4u8, 1..6u64).prop_map(|(node, target, n)| Step::Rogue { node, target, n }),
        3 => (0..3usize, 0..3usize, any::<u64>()).prop_map(|(from, to, seed)| Step::Sync { from, to, seed }),
    ]
}

fn action_for(body: u8, action: u8, n: u64, value: u8) -> ModelAction {
    let r = id(1).to_string();
    let s = id(100 + n).to_string();
    let dates = ["2026-01-01", "2026-03-01", "2026-06-01", "2025-12-31"];
    let d = dates[usize::from(value % 4)];
    match action {
        0 => make("round", None, 1, &[("number", "1")]),
        1 => make(
            "suggestion",
            None,
            100 + n,
            &[("round", &r), ("text", "意见")],
        ),
        2 => make(
            "handling",
            Some(body),
            200 + n,
            &[
                ("suggestion", &s),
                ("unit", "局"),
                ("role", "lead"),
                ("assigned", "2026-02-01"),
                ("due", d),
            ],
        ),
        3 => make(
            "feedback",
            Some(body),
            300 + n,
            &[
                ("handling", &id(200 + n).to_string()),
                ("result", "adopted"),
                ("text", "办结"),
                ("date", d),
            ],
        ),
        4 => edit("handling", Some(body), 200 + n, &[("due", d)]),
        5 => make(
            "evaluation",
            Some(body),
            400 + n,
            &[
                ("suggestion", &s),
                (
                    "satisfaction",
                    ["satisfied", "unsatisfied", "basically-satisfied", "bad"]
                        [usize::from(value % 4)],
                ),
            ],
        ),
        6 => edit(
            "suggestion",
            None,
            100 + n,
            &[("text", ["甲", "乙", "丙", ""][usize::from(value % 4)])],
        ),
        _ => make(
            "preselection",
            Some(body),
            500 + n,
            &[("round", &r), ("date", d), ("text", "主席会议预选")],
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_actions_synced_in_random_orders_converge_within_the_rules(steps in prop::collection::vec(step(), 1..40)) {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let mut certs = all_certs(&[1, 2, 3]);
        for i in 0..40 {
            for b in 1..=3u8 {
                certs.insert(rogue_cert(i, b));
            }
        }
        let mut rogues = 0u8;
        let mut rogue_keys = std::collections::HashSet::new();
        let mut nodes: Vec<Space> = (0..3).map(|_| agenda(&[1, 2, 3])).collect();
        // Each node's records kept between reads read as a fresh read does, after every step.
        let mut books: Vec<RecordBook> = (0..3).map(|_| RecordBook::default()).collect();
        let mut clock = 0i64;
        for step in steps {
            for (node, book) in nodes.iter().zip(books.iter_mut()) {
                prop_assert_eq!(read_view_kept(node, &certs, book), read_view(node, &certs));
            }
            clock += 1;
            match step {
                Step::Act { node, signer, action, n, value } => {
                    let who = Who { body: node as u8 + 1, signer };
                    let _ = act(&mut nodes[node], who, clock, &action_for(who.body, action, n, value));
                }
                Step::Rogue { node, target, n } => {
                    let body = node as u8 + 1;
                    if target == body {
                        continue;
                    }
                    // A key of its own for each rogue entry, so that it never equivocates.
                    let secret = rogue_secret(rogues);
                    rogues += 1;
                    let at = key("evaluation", Some(target), 900 + n);
                    let mut doc = nodes[node].doc().fork();
                    doc.set_actor(automerge::ActorId::from(secret.public().as_bytes().as_slice()));
                    let mut tx = doc.transaction();
                    let obj = make_record(&mut tx, &at).expect("record");
                    tx.put(&obj, "satisfaction", "satisfied").expect("field");
                    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(clock));
                    let change = doc.get_change_by_hash(&hash.expect("change")).expect("change").clone();
                    let entry = Entry::sign(nodes[node].id(), body_id(body), &change, &secret).expect("sign");
                    rogue_keys.insert(secret.public());
                    for other in nodes.iter_mut() {
                        let got = other.receive(vec![wire(&entry)], certs.certifies());
                        prop_assert!(got.accepted.is_empty(), "a rogue entry was accepted");
                    }
                }
                Step::Sync { from, to, seed } => {
                    if from == to {
                        continue;
                    }
                    let (entries, _) = nodes[from].missing_for(&nodes[to].vector(), usize::MAX, usize::MAX);
                    let mut batch: Vec<Entry> = entries.into_iter().map(wire).collect();
                    batch.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
                    let got = nodes[to].receive(batch, certs.certifies());
                    let honest: Vec<_> = got.rejected.iter().filter(|(_, k)| !k.is_some_and(|k| rogue_keys.contains(&k.0))).collect();
                    prop_assert!(honest.is_empty(), "honest entries refused: {:?}", honest);
                }
            }
        }
        // Full sync, then every node shows the same lawful agenda.
        for _ in 0..2 {
            for from in 0..3 {
                for to in 0..3 {
                    if from != to {
                        let (entries, _) = nodes[from].missing_for(&nodes[to].vector(), usize::MAX, usize::MAX);
                        let batch: Vec<Entry> = entries.into_iter().map(wire).collect();
                        let got = nodes[to].receive(batch, certs.certifies());
                        let honest: Vec<_> = got.rejected.iter().filter(|(_, k)| !k.is_some_and(|k| rogue_keys.contains(&k.0))).collect();
                        prop_assert!(honest.is_empty(), "{:?}", honest);
                    }
                }
            }
        }
        let views: Vec<AgendaView> = nodes.iter().map(|s| read_agenda(s, &certs)).collect();
        for (node, book) in nodes.iter().zip(books.iter_mut()) {
            prop_assert_eq!(read_view_kept(node, &certs, book), read_view(node, &certs));
        }
        prop_assert_eq!(&views[0], &views[1]);
        prop_assert_eq!(&views[1], &views[2]);
        assert_lawful(&views[0], &certs);
    }
}

#[test]
fn the_follow_up_loop_overdue_trail_and_report_read_the_same_on_every_node() {
    use confer_protocol::model::agenda::{followup, report};
    use confer_protocol::model::date::Date;
    let certs = all_certs(&[1, 2]);
    let mut space = agenda(&[1, 2]);
    let one = Who::member(1);
    let two = Who::member(2);
    let mut log = with_handling(&mut space);
    let s = id(2).to_string();
    let r = id(1).to_string();
    let mut write = |space: &mut Space, who: Who, action: ModelAction| {
        log.push(act(space, who, 10, &action).expect("action"));
    };
    write(
        &mut space,
        one,
        make(
            "meeting",
            None,
            6,
            &[("round", &r), ("date", "2026-02-20"), ("place", "平湖")],
        ),
    );
    write(
        &mut space,
        one,
        edit("suggestion", None, 2, &[("meeting", &id(6).to_string())]),
    );
    write(
        &mut space,
        one,
        make(
            "submission",
            Some(1),
            7,
            &[
                ("suggestion", &s),
                ("to", "平湖市委"),
                ("date", "2026-02-25"),
            ],
        ),
    );
    // Body 2 assigns two units; one answers, the other is extended and then late.
    write(
        &mut space,
        two,
        make(
            "handling",
            Some(2),
            20,
            &[
                ("suggestion", &s),
                ("unit", "金山区生态环境局"),
                ("role", "lead"),
                ("assigned", "2026-03-01"),
                ("due", "2026-06-01"),
            ],
        ),
    );
    write(
        &mut space,
        two,
        make(
            "handling",
            Some(2),
            21,
            &[
                ("suggestion", &s),
                ("unit", "金山区水务局"),
                ("role", "co"),
                ("assigned", "2026-03-01"),
                ("due", "2026-06-01"),
            ],
        ),
    );
    write(
        &mut space,
        two,
        edit(
            "handling",
            Some(2),
            21,
            &[("extended_to", "2026-07-01"), ("extension_reason", "汛期")],
        ),
    );
    write(
        &mut space,
        two,
        make(
            "feedback",
            Some(2),
            22,
            &[
                ("handling", &id(20).to_string()),
                ("result", "adopted"),
                ("text", "已建立联合河长制"),
                ("date", "2026-05-20"),
            ],
        ),
    );
    write(
        &mut space,
        one,
        make(
            "evaluation",
            Some(1),
            23,
            &[("suggestion", &s), ("satisfaction", "satisfied")],
        ),
    );
    write(
        &mut space,
        one,
        make(
            "finding",
            None,
            24,
            &[
                ("suggestion", &s),
                ("text", "回头看：仍有排污口"),
                ("severity", "high"),
                ("date", "2026-09-01"),
            ],
        ),
    );

    let as_of = Date::parse("2026-07-11").expect("date");
    let view = read_agenda(&space, &certs);
    let overdue = followup::overdue(&view, as_of);
    // Body 1's unit (due 06-01) is 40 days late; body 2's co unit 10 days past its extension.
    let late: Vec<(&str, i64)> = overdue
        .iter()
        .map(|u| (u.unit.as_str(), u.overdue_days))
        .collect();
    assert_eq!(late, vec![("生态环境局", 40), ("金山区水务局", 10)]);
    assert!(overdue[1].extended);

    let trail = followup::trail(&view, &s, as_of).expect("trail");
    assert_eq!(trail.round, "1");
    assert_eq!(trail.submissions.len(), 1);
    assert_eq!(trail.units.len(), 3);
    let answered: Vec<_> = trail
        .units
        .iter()
        .filter_map(|u| u.feedback.as_ref())
        .collect();
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].result, "adopted");
    assert_eq!(trail.evaluations[0].get("satisfaction"), "satisfied");
    assert_eq!(trail.findings[0].get("severity"), "high");

    let figures = report::figures("a", &view, 2026, as_of);
    assert_eq!((figures.meetings, figures.suggestions), (1, 1));
    let b2 = &figures.bodies[&body_id(2).to_string()];
    assert_eq!((b2.units, b2.answered, b2.overdue), (2, 1, 1));
    assert_eq!(b2.adoption_rate(), Some(100.0));
    assert_eq!(b2.completion_rate(), Some(50.0));
    assert_eq!(figures.findings.get("high"), Some(&1));
    assert_eq!(report::figures("a", &view, 2025, as_of).suggestions, 0);

    // Another node, given the same entries in another order, reports the same.
    let mut other = agenda(&[1, 2]);
    let mut shuffled: Vec<Entry> = log.iter().rev().map(wire).collect();
    shuffled.rotate_left(3);
    let got = other.receive(shuffled, certs.certifies());
    assert!(got.rejected.is_empty(), "{:?}", got.rejected);
    let theirs = read_agenda(&other, &certs);
    let ours = report::report(&[("a".into(), &view)], 2026, as_of);
    assert_eq!(report::report(&[("a".into(), &theirs)], 2026, as_of), ours);
    let md = report::markdown(&ours, true);
    assert!(
        md.contains("采纳率") && md.contains("100.0%") && md.contains("50.0%"),
        "{md}"
    );
    let html = report::html(&ours, false);
    assert!(html.contains("<td>1</td>") && html.contains("Adoption rate"));
}

fn ledger_write(
    collection: &'static str,
    n: u64,
    create: bool,
    fields: &[(&'static str, &str)],
) -> ModelAction {
    ModelAction::Ledger(confer_protocol::model::LedgerAction::Write(RecordWrite {
        key: key(collection, None, n),
        create,
        fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    }))
}

#[test]
fn a_ledger_has_one_member_and_screens_topics_with_a_reason() {
    // Only the body itself may be a ledger's member, made here or decoded from a peer.
    let with_other = Genesis::create(
        SpaceKind::Ledger,
        &[body_id(2)],
        1,
        [1; 16],
        member_cert(1),
        &member_secret(1),
    );
    assert!(with_other.is_err());
    let genesis = Genesis::create(
        SpaceKind::Ledger,
        &[],
        1,
        [1; 16],
        member_cert(1),
        &member_secret(1),
    )
    .expect("ledger");
    assert_eq!(
        Genesis::decode(&genesis.encode()).expect("decodes").kind,
        SpaceKind::Ledger
    );
    let mut ledger = Space::new(genesis);
    let one = Who::member(1);
    let topic = [
        ("title", "跨界河道水环境治理"),
        ("source", "liaison-station"),
        ("urgency", "routine"),
        ("category", "livelihood"),
    ];
    act(&mut ledger, one, 1, &ledger_write("topic", 1, true, &topic)).expect("topic");
    act(&mut ledger, one, 2, &ledger_write("topic", 2, true, &topic)).expect("a similar topic");
    for (what, action) in [
        (
            "screened out without a reason",
            ledger_write("topic", 1, false, &[("screening", "rejected")]),
        ),
        (
            "other without text",
            ledger_write(
                "topic",
                1,
                false,
                &[("screening", "rejected"), ("screening_reason", "other")],
            ),
        ),
        (
            "merged into an unknown topic",
            ledger_write("topic", 2, false, &[("merged_into", &id(9).to_string())]),
        ),
        (
            "merged into itself",
            ledger_write("topic", 2, false, &[("merged_into", &id(2).to_string())]),
        ),
        (
            "a plan item with an unknown topic",
            ledger_write(
                "plan_item",
                5,
                true,
                &[
                    ("year", "2026"),
                    ("category", "livelihood"),
                    ("title", "河道"),
                    ("topics", &id(9).to_string()),
                ],
            ),
        ),
        (
            "an unknown source",
            ledger_write(
                "topic",
                6,
                true,
                &[
                    ("title", "x"),
                    ("source", "rumour"),
                    ("urgency", "routine"),
                    ("category", "planning"),
                ],
            ),
        ),
    ] {
        assert!(
            act(&mut ledger, one, 3, &action).is_err(),
            "{what} was accepted"
        );
    }
    act(
        &mut ledger,
        one,
        4,
        &ledger_write("topic", 2, false, &[("merged_into", &id(1).to_string())]),
    )
    .expect("merge");
    act(
        &mut ledger,
        one,
        5,
        &ledger_write(
            "plan_item",
            5,
            true,
            &[
                ("year", "2026"),
                ("category", "livelihood"),
                ("title", "跨界河道"),
                ("topics", &id(1).to_string()),
            ],
        ),
    )
    .expect("plan item");
    act(
        &mut ledger,
        one,
        6,
        &ledger_write(
            "topic",
            1,
            false,
            &[("screening", "rejected"), ("screening_reason", "petition")],
        ),
    )
    .expect("screened");
    let view = confer_protocol::model::read_ledger(&ledger, &all_certs(&[1]));
    assert_eq!(
        view.merged_into(&id(1).to_string()).count(),
        1,
        "both origins kept"
    );
    assert_eq!(
        view.records("plan_item")[0].get("topics"),
        id(1).to_string()
    );
    // An agenda's records cannot be written into a ledger, nor a ledger's into an agenda.
    assert!(act(
        &mut ledger,
        one,
        7,
        &make("round", None, 8, &[("number", "1")])
    )
    .is_err());
    let mut joint = agenda(&[1, 2]);
    assert!(act(&mut joint, one, 1, &ledger_write("topic", 1, true, &topic)).is_err());
    let crafted = rogue(&joint, one, 2, |tx| {
        let obj = make_record(tx, &key("topic", None, 1))?;
        tx.put(&obj, "title", "x")
    });
    let mut other = agenda(&[1, 2]);
    let got = other.receive(vec![wire(&crafted)], all_certs(&[1, 2]).certifies());
    assert_eq!(model_rejections(&got), 1);
}

#[test]
fn an_outcome_is_adopted_when_every_body_signs_its_text_and_exported_it_verifies_offline() {
    use confer_protocol::model::agenda::outcomes;
    use confer_protocol::model::bundle::{verify, Bundle};
    let certs = all_certs(&[1, 2]);
    let mut a = agenda(&[1, 2]);
    let one = Who::member(1);
    let r = id(1).to_string();
    let mut log =
        vec![act(&mut a, one, 1, &make("round", None, 1, &[("number", "1")])).expect("round")];
    log.push(
        act(
            &mut a,
            one,
            2,
            &make(
                "outcome",
                None,
                4,
                &[
                    ("round", &r),
                    ("kind", "joint-opinion"),
                    ("title", "关于交界河道联防联治的联合意见"),
                    ("text", "一、建立联合河长制。\n二、信息互通。"),
                ],
            ),
        )
        .expect("outcome"),
    );
    let sign = |n: u64| {
        ModelAction::Agenda(AgendaAction::Sign {
            outcome: id(4),
            id: id(n),
        })
    };
    // A member who may not sign cannot; a chair can, once per text.
    assert!(act(&mut a, one, 3, &sign(40)).is_err());
    let chair1 = Who::signer(1);
    log.push(act(&mut a, chair1, 3, &sign(41)).expect("body 1 signs"));
    assert!(act(&mut a, chair1, 3, &sign(42))
        .unwrap_err()
        .contains("already signed"));
    let status = |s: &Space| read_agenda(s, &certs).outcomes[0].clone();
    assert!(!status(&a).adopted);
    // Body 2's chair signs on its own node, after syncing.
    let mut b = agenda(&[1, 2]);
    assert!(b
        .receive(log.iter().map(wire).collect(), certs.certifies())
        .rejected
        .is_empty());
    let chair2 = Who::signer(2);
    let signed2 = act(&mut b, chair2, 4, &sign(43)).expect("body 2 signs");
    accept(&mut a, &signed2, &certs);
    let adopted = status(&a);
    assert!(adopted.adopted, "{adopted:?}");
    assert_eq!(adopted, status(&b));

    // The exported bundle verifies offline and says adopted.
    let view = read_agenda(&a, &certs);
    let text = outcomes::outcome_text(&view, &id(4).to_string()).expect("text");
    let bundle = Bundle::build(
        &text,
        &outcomes::attestations(&view, &id(4).to_string()),
        &certs,
    );
    let report = verify(bundle.to_json().as_bytes());
    assert!(report.valid && report.adopted, "{report:?}");

    // Editing the text afterwards shows both signatures as not matching.
    act(
        &mut a,
        one,
        5,
        &edit(
            "outcome",
            None,
            4,
            &[(
                "text",
                "一、建立联合河长制。\n二、信息互通。\n三、联合执法。",
            )],
        ),
    )
    .expect("edit");
    let after = status(&a);
    assert!(!after.adopted);
    assert!(
        after.bodies.iter().all(|b| b.signed && !b.matches),
        "{after:?}"
    );
    // The old bundle still verifies for the old text; a new one has no signature yet.
    let view = read_agenda(&a, &certs);
    let text = outcomes::outcome_text(&view, &id(4).to_string()).expect("text");
    let fresh = Bundle::build(
        &text,
        &outcomes::attestations(&view, &id(4).to_string()),
        &certs,
    );
    let report = verify(fresh.to_json().as_bytes());
    assert!(report.valid && !report.adopted, "{report:?}");
}

#[test]
fn the_history_says_who_changed_what_and_when_from_the_entries() {
    use confer_protocol::model::history::history;
    let certs = all_certs(&[1, 2]);
    let mut space = agenda(&[1, 2]);
    with_handling(&mut space);
    let two = Who::member(2);
    let s = id(2).to_string();
    act(
        &mut space,
        two,
        77,
        &edit("suggestion", None, 2, &[("text", "建立跨界河长制（修改）")]),
    )
    .expect("edit");
    let all = history(&space, &certs, None);
    assert_eq!(all.len(), 4, "{all:?}");
    let trail = history(&space, &certs, Some(&s));
    assert_eq!(trail.len(), 2, "made, then edited: {trail:?}");
    assert!(
        trail[0].made
            && trail[0]
                .fields
                .iter()
                .any(|(f, v)| f == "text" && v == "建立跨界河长制")
    );
    let edit = &trail[1];
    assert!(!edit.made);
    assert_eq!(
        (edit.time_ms, edit.body.as_str()),
        (77, body_id(2).to_string().as_str())
    );
    assert_eq!(edit.member_name.as_deref(), Some("委员 2"));
    assert_eq!(
        edit.fields,
        vec![("text".to_owned(), "建立跨界河长制（修改）".to_owned())]
    );
    // Body 1's handling record in its area is found by its id too.
    let handling = history(&space, &certs, Some(&id(3).to_string()));
    assert_eq!(handling[0].target, key("handling", Some(1), 3).path());
}

#[test]
fn a_history_book_read_as_the_log_grows_shows_what_a_fresh_read_shows() {
    use confer_protocol::model::history::{history, HistoryBook};
    let certs = all_certs(&[1, 2]);
    let mut space = agenda(&[1, 2]);
    let mut book = HistoryBook::default();
    book.update(&space);
    assert_eq!(book.items(&certs, None), history(&space, &certs, None));
    with_handling(&mut space);
    book.update(&space);
    assert_eq!(book.items(&certs, None), history(&space, &certs, None));
    let two = Who::member(2);
    for n in 0..3 {
        act(
            &mut space,
            two,
            10 + n,
            &edit("suggestion", None, 2, &[("text", &format!("修改 {n}"))]),
        )
        .expect("edit");
    }
    book.update(&space);
    book.update(&space);
    let fresh = history(&space, &certs, None);
    assert_eq!(fresh.len(), 6, "{fresh:?}");
    assert_eq!(book.items(&certs, None), fresh);
    let s = id(2).to_string();
    assert_eq!(
        book.items(&certs, Some(&s)),
        history(&space, &certs, Some(&s))
    );
    // Names come from the certificates asked with: none known, none shown, as afresh.
    let none = Certificates::new();
    assert_eq!(book.items(&none, None), history(&space, &none, None));
    assert!(book
        .items(&none, None)
        .iter()
        .all(|i| i.member_name.is_none()));

    // Body 2 revokes its member's key after its first edit: the log is rewritten without
    // the two later edits, and the book reads it again rather than keep them.
    space
        .revoke(member_secret(2).public(), body_id(2), 1, None)
        .expect("revoke");
    book.update(&space);
    let fresh = history(&space, &certs, None);
    assert_eq!(fresh.len(), 4, "{fresh:?}");
    assert_eq!(book.items(&certs, None), fresh);
    // A book of another space starts again too.
    let mut other = agenda(&[1, 2]);
    with_handling(&mut other);
    book.update(&other);
    assert_eq!(book.items(&certs, None), history(&other, &certs, None));
}

/// What a book of kept records shows, next to a fresh read of the same space: whole, and
/// listing only the suggestions (outcomes and counts as in the whole read).
fn kept_reads_fresh(space: &Space, certs: &Certificates, book: &mut RecordBook) {
    let fresh = read_view(space, certs);
    assert_eq!(read_view_kept(space, certs, book), fresh);
    let (only, counts) = read_view_kept_where(space, certs, book, |r| r.collection == "suggestion");
    let mut expected = fresh.clone();
    if let confer_protocol::model::ModelView::Agenda(view) = &mut expected {
        view.records.retain(|c, _| *c == "suggestion");
    }
    assert_eq!(only, expected);
    let all: std::collections::BTreeMap<&str, usize> =
        fresh.records().iter().map(|(c, r)| (*c, r.len())).collect();
    assert_eq!(counts, all);
}

#[test]
fn records_kept_between_reads_read_again_only_what_changed_and_show_what_a_fresh_read_shows() {
    let certs = all_certs(&[1, 2]);
    let one = Who::member(1);
    let two = Who::member(2);
    let mut a = agenda(&[1, 2]);
    let mut book = RecordBook::default();
    kept_reads_fresh(&a, &certs, &mut book);
    assert_eq!(book.rebuilds(), 1, "the first read reads everything");
    let sent = with_handling(&mut a);
    kept_reads_fresh(&a, &certs, &mut book);
    assert_eq!(book.rebuilds(), 2, "the first records made their shards");
    // Edits, a new record, a field cleared, and a second author's writes arriving from B:
    // each read reads only the records written since.
    let mut b = agenda(&[1, 2]);
    let got = b.receive(sent.iter().map(wire).collect(), certs.certifies());
    assert!(got.rejected.is_empty(), "{:?}", got.rejected);
    for n in 0..3 {
        act(
            &mut a,
            one,
            10 + n,
            &edit("suggestion", None, 2, &[("text", &format!("修改 {n}"))]),
        )
        .expect("edit");
        kept_reads_fresh(&a, &certs, &mut book);
    }
    let r = id(1).to_string();
    act(
        &mut a,
        one,
        20,
        &make(
            "suggestion",
            None,
            4,
            &[("round", &r), ("text", "新建议"), ("proposer", "张委员")],
        ),
    )
    .expect("a new suggestion in an existing shard");
    kept_reads_fresh(&a, &certs, &mut book);
    act(
        &mut a,
        one,
        21,
        &edit("suggestion", None, 4, &[("proposer", "")]),
    )
    .expect("cleared");
    kept_reads_fresh(&a, &certs, &mut book);
    let from_b = act(
        &mut b,
        two,
        22,
        &edit("suggestion", None, 2, &[("text", "金山的修改")]),
    )
    .expect("edit on B");
    let got = a.receive(vec![wire(&from_b)], certs.certifies());
    assert!(got.rejected.is_empty(), "{:?}", got.rejected);
    kept_reads_fresh(&a, &certs, &mut book);
    assert_eq!(
        book.rebuilds(),
        2,
        "edits and new records are read one by one"
    );

    // A concurrent edit of one field on both sides: the conflict shows as afresh.
    let on_a = act(
        &mut a,
        one,
        23,
        &edit("suggestion", None, 2, &[("text", "甲")]),
    )
    .expect("A");
    let on_b = act(
        &mut b,
        two,
        23,
        &edit("suggestion", None, 2, &[("text", "乙")]),
    )
    .expect("B");
    accept(&mut a, &on_b, &certs);
    accept(&mut b, &on_a, &certs);
    kept_reads_fresh(&a, &certs, &mut book);
    let view = read_view_kept(&a, &certs, &mut book);
    let suggestion = &view.records()["suggestion"][0];
    assert_eq!(
        suggestion
            .fields
            .iter()
            .find(|f| f.name == "text")
            .map(|f| f.conflicts.len()),
        Some(1)
    );
    assert_eq!(book.rebuilds(), 2);

    // A new shard (a record whose id starts with another hex digit) is read afresh: a second
    // map under one shard key would change which version of a record shows.
    act(
        &mut a,
        one,
        30,
        &make(
            "suggestion",
            None,
            u64::MAX,
            &[("round", &r), ("text", "另一分片")],
        ),
    )
    .expect("a suggestion in a new shard");
    kept_reads_fresh(&a, &certs, &mut book);
    assert_eq!(book.rebuilds(), 3);

    // Other names for an author (no certificates known): every value is attributed again.
    let none = Certificates::new();
    kept_reads_fresh(&a, &none, &mut book);
    assert_eq!(book.rebuilds(), 4);
    kept_reads_fresh(&a, &certs, &mut book);
    assert_eq!(book.rebuilds(), 5);

    // Body 2 revokes its member's key after its first edit: the log is rewritten without
    // its later edits, and the book reads it again rather than keep them.
    let before = read_view_kept(&a, &certs, &mut book);
    a.revoke(member_secret(2).public(), body_id(2), 1, None)
        .expect("revoke");
    kept_reads_fresh(&a, &certs, &mut book);
    assert_ne!(
        read_view(&a, &certs),
        before,
        "the revocation dropped B's later edit"
    );
    assert_eq!(book.rebuilds(), 6);
    // A book of another space starts again too.
    let mut other = agenda(&[1, 2]);
    with_handling(&mut other);
    kept_reads_fresh(&other, &certs, &mut book);
    assert_eq!(book.rebuilds(), 7);
}

#[test]
fn attachments_are_content_addressed_whole_and_size_limited() {
    use base64::Engine;
    use sha2::Digest;
    let certs = all_certs(&[1, 2]);
    let mut space = agenda(&[1, 2]);
    let one = Who::member(1);
    let bytes = "回头看现场照片".repeat(100).into_bytes();
    let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let sha = hex::encode(digest);
    let attach = |n: u64, sha: &str, data: &str| {
        make(
            "attachment",
            None,
            n,
            &[
                ("name", "现场.jpg"),
                ("media_type", "image/jpeg"),
                ("sha256", sha),
                ("data", data),
            ],
        )
    };
    // The id must be the digest's first 8 bytes, and the digest the data's.
    assert!(act(&mut space, one, 1, &attach(n + 1, &sha, &data)).is_err());
    assert!(act(
        &mut space,
        one,
        1,
        &attach(n, &hex::encode([0u8; 32]), &data)
    )
    .is_err());
    let too_big = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 512 * 1024 + 1]);
    assert!(act(&mut space, one, 1, &attach(n, &sha, &too_big)).is_err());
    let made = act(&mut space, one, 1, &attach(n, &sha, &data)).expect("attachment");
    let finding = act(
        &mut space,
        one,
        2,
        &make(
            "finding",
            None,
            9,
            &[("text", "排污口仍在"), ("attachments", &id(n).to_string())],
        ),
    )
    .expect("finding");
    assert!(
        act(
            &mut space,
            one,
            3,
            &make(
                "finding",
                None,
                10,
                &[("text", "x"), ("attachments", &id(5).to_string())]
            )
        )
        .is_err(),
        "an unknown attachment"
    );
    // A partner gets the bytes with the space; an edit of them is refused there.
    let mut other = agenda(&[1, 2]);
    let got = other.receive(vec![wire(&made), wire(&finding)], certs.certifies());
    assert!(got.rejected.is_empty(), "{:?}", got.rejected);
    let view = read_agenda(&other, &certs);
    assert_eq!(view.records("attachment")[0].get("data"), data);
    let attachment = key("attachment", None, n);
    let swapped = rogue(&space, Who::member(2), 4, |tx| {
        let Some(obj) = find_record(tx, &attachment) else {
            panic!("attachment");
        };
        tx.put(&obj, "name", "别的.jpg")
    });
    assert_eq!(
        model_rejections(&other.receive(vec![wire(&swapped)], certs.certifies())),
        1
    );
}

#[test]
fn a_short_text_attachment() {
    use base64::Engine;
    use sha2::Digest;
    let mut space = agenda(&[1, 2]);
    let one = Who::member(1);
    let bytes = "巡河台账照片 6 张".as_bytes();
    let digest: [u8; 32] = sha2::Sha256::digest(bytes).into();
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let sha = hex::encode(digest);
    act(
        &mut space,
        one,
        1,
        &make(
            "attachment",
            None,
            n,
            &[
                ("name", "巡河台账照片 6 张.txt"),
                ("media_type", "text/plain"),
                ("sha256", &sha),
                ("data", &data),
            ],
        ),
    )
    .expect("attachment");
}

#[test]
fn records_made_concurrently_in_a_new_shard_are_both_kept_and_editable_everywhere() {
    let certs = all_certs(&[1, 2]);
    let one = Who::member(1);
    let two = Who::member(2);
    let mut a = agenda(&[1, 2]);
    let round = act(&mut a, one, 1, &make("round", None, 1, &[("number", "1")])).expect("round");
    let mut b = agenda(&[1, 2]);
    accept(&mut b, &round, &certs);
    let r = id(1).to_string();
    // Ids 2 and 3 share the first hex digit: each side makes the shard `suggestion/0`.
    let on_a = act(
        &mut a,
        one,
        2,
        &make("suggestion", None, 2, &[("round", &r), ("text", "甲")]),
    )
    .expect("suggestion on A");
    let on_b = act(
        &mut b,
        two,
        2,
        &make("suggestion", None, 3, &[("round", &r), ("text", "乙")]),
    )
    .expect("suggestion on B");
    accept(&mut a, &on_b, &certs);
    accept(&mut b, &on_a, &certs);
    let conflicting = a
        .doc()
        .get_all(ROOT, key("suggestion", None, 2).shard().root_key())
        .expect("shards");
    assert_eq!(conflicting.len(), 2, "two maps under one shard key");
    for space in [&a, &b] {
        let view = read_agenda(space, &certs);
        let texts: Vec<&str> = view
            .records("suggestion")
            .iter()
            .map(|r| r.get("text"))
            .collect();
        assert_eq!(texts, ["甲", "乙"]);
    }
    // Each side edits the record the other made, whichever shard automerge shows first.
    let e_a = act(
        &mut a,
        one,
        3,
        &edit("suggestion", None, 3, &[("text", "乙（改）")]),
    )
    .expect("edit on A");
    let e_b = act(
        &mut b,
        two,
        3,
        &edit("suggestion", None, 2, &[("text", "甲（改）")]),
    )
    .expect("edit on B");
    accept(&mut a, &e_b, &certs);
    accept(&mut b, &e_a, &certs);
    let view_a = read_agenda(&a, &certs);
    assert_eq!(view_a, read_agenda(&b, &certs));
    let texts: Vec<&str> = view_a
        .records("suggestion")
        .iter()
        .map(|r| r.get("text"))
        .collect();
    assert_eq!(texts, ["甲（改）", "乙（改）"]);
    let history = confer_protocol::model::history::history(&a, &certs, Some(&id(3).to_string()));
    assert_eq!(history.len(), 2, "made on B, edited on A: {history:?}");
    assert!(history[0].made && !history[1].made);
}

#[test]
fn shards_hold_only_their_own_records_in_their_own_area() {
    let certs = all_certs(&[1, 2]);
    let one = Who::member(1);
    let two = Who::member(2);
    let mut space = agenda(&[1, 2]);
    let round = act(
        &mut space,
        one,
        1,
        &make("round", None, 1, &[("number", "1")]),
    )
    .expect("round");
    let r = id(1).to_string();
    let crafted = [
        // A record whose id starts with 1 in the shard of ids starting with 0.
        rogue(&space, one, 2, |tx| {
            let shard = tx.put_object(ROOT, "suggestion/0", ObjType::Map)?;
            let obj = tx.put_object(&shard, id(1 << 60).to_string().as_str(), ObjType::Map)?;
            tx.put(&obj, "round", r.as_str())?;
            tx.put(&obj, "text", "x")
        }),
        // A shard that is not a map.
        rogue(&space, one, 2, |tx| tx.put(ROOT, "suggestion/1", "x")),
        // A shard key that is not one hex digit.
        rogue(&space, one, 2, |tx| {
            tx.put_object(ROOT, "suggestion/00", ObjType::Map)
                .map(|_| ())
        }),
        // Body 2's member makes an (empty) shard in body 1's area.
        rogue(&space, two, 2, |tx| {
            let key = key("feedback", Some(1), 9).shard().root_key();
            tx.put_object(ROOT, key.as_str(), ObjType::Map).map(|_| ())
        }),
        // A scalar put straight into a shard.
        rogue(&space, one, 2, |tx| {
            let shard = tx.put_object(ROOT, "suggestion/2", ObjType::Map)?;
            tx.put(&shard, id(2 << 60).to_string().as_str(), "x")
        }),
    ];
    for entry in crafted {
        let mut other = agenda(&[1, 2]);
        accept(&mut other, &round, &certs);
        let got = other.receive(vec![wire(&entry)], certs.certifies());
        assert_eq!(model_rejections(&got), 1, "{:?}", got.rejected);
        assert_eq!(read_agenda(&other, &certs), read_agenda(&space, &certs));
    }
}

#[test]
fn the_root_holds_at_most_sixteen_shards_per_collection_and_area() {
    let one = Who::member(1);
    let mut space = agenda(&[1, 2]);
    act(
        &mut space,
        one,
        1,
        &make("round", None, 1, &[("number", "1")]),
    )
    .expect("round");
    let r = id(1).to_string();
    for n in 0..300u64 {
        // Ids spread over every first hex digit.
        let n = (n << 56) | (n + 2);
        act(
            &mut space,
            one,
            2,
            &make("suggestion", None, n, &[("round", &r), ("text", "意见")]),
        )
        .expect("suggestion");
    }
    let root: Vec<String> = space.doc().keys(ROOT).collect();
    let shards = root.iter().filter(|k| k.starts_with("suggestion/")).count();
    assert_eq!(shards, 16, "{root:?}");
    assert!(
        root.len() <= 16 + 2 + 1,
        "kind, round shard(s), suggestion shards: {root:?}"
    );
    assert_eq!(
        read_agenda(&space, &all_certs(&[1, 2]))
            .records("suggestion")
            .len(),
        300
    );
}
