//! Shared fixtures: bodies, members, nodes, spaces and signed entries built from fixed seeds.

use std::sync::LazyLock;

use automerge::ReadDoc;
use confer_protocol::model::AgendaEdit;
use confer_protocol::space::{Received, Tips, MAX_MEMBERS};
use confer_protocol::{
    BodyId, Certificate, Certificates, Entry, Genesis, Identity, Limits, Message, Refusal, Replica,
    Role, SecretKey, Space, SpaceKind, Subject, Vector,
};

/// Seeds: body `n` is `[n; 32]`, its member key `[n + 64; 32]`, its node key `[n + 128; 32]`.
pub fn body_secret(n: u8) -> SecretKey {
    assert!(n < 64, "fixture body index out of range");
    SecretKey::from_seed([n; 32])
}

pub fn member_secret(n: u8) -> SecretKey {
    SecretKey::from_seed([n + 64; 32])
}

pub fn node_secret(n: u8) -> SecretKey {
    SecretKey::from_seed([n + 128; 32])
}

pub fn body_id(n: u8) -> BodyId {
    BodyId(body_secret(n).public())
}

pub fn body_name(n: u8) -> String {
    format!("政协 body {n}")
}

pub fn member_cert(n: u8) -> Certificate {
    Certificate::issue(
        &body_secret(n),
        &body_name(n),
        member_secret(n).public(),
        Subject::member(format!("委员 {n}"), Role::Member),
        1_700_000_000 + u64::from(n),
    )
    .expect("member certificate")
}

pub fn node_cert(n: u8) -> Certificate {
    Certificate::issue(
        &body_secret(n),
        &body_name(n),
        node_secret(n).public(),
        Subject::Node,
        1_700_000_000,
    )
    .expect("node certificate")
}

pub fn identity(n: u8) -> Identity {
    Identity {
        node_cert: node_cert(n),
        member: member_secret(n),
        member_cert: member_cert(n),
    }
}

/// Body `n`'s replica, whose operator has added the nodes of bodies 1 to 8 (so it trusts
/// them), as in a federation set up by the README's procedure.
pub fn replica(n: u8, limits: Limits) -> Replica {
    let mut r = Replica::new(identity(n), limits);
    for other in 1..=8 {
        let _ = r.trust(body_id(other));
    }
    r
}

/// Body `n`'s replica that trusts no other body.
pub fn untrusting_replica(n: u8, limits: Limits) -> Replica {
    Replica::new(identity(n), limits)
}

/// A genesis created by body `creator`'s member with the bodies `members` (the creator's
/// body is added).
pub fn genesis(creator: u8, members: &[u8], nonce: u8) -> Genesis {
    let bodies: Vec<BodyId> = members.iter().map(|&m| body_id(m)).collect();
    assert!(bodies.len() < MAX_MEMBERS);
    Genesis::create(
        SpaceKind::Agenda,
        &bodies,
        1_700_000_000,
        [nonce; 16],
        member_cert(creator),
        &member_secret(creator),
    )
    .expect("genesis")
}

/// Certificates holding the member certificates of `bodies`.
pub fn certs(bodies: &[u8]) -> Certificates {
    let mut certs = Certificates::new();
    for &b in bodies {
        certs.insert(member_cert(b));
    }
    certs
}

pub fn edit(title: Option<&str>, summary: Option<&str>) -> AgendaEdit {
    AgendaEdit {
        title: title.map(str::to_owned),
        summary: summary.map(str::to_owned),
    }
}

/// Makes a local agenda edit in `space` as member `n`; the change must not be empty.
pub fn local_edit(space: &mut Space, n: u8, now_ms: i64, edit: &AgendaEdit) -> Entry {
    space
        .local_change(&member_secret(n), body_id(n), now_ms, |tx| edit.apply(tx))
        .expect("local change")
        .expect("the edit changed something")
}

/// An entry by member `n` on top of `space`'s document, signed for `body` without the
/// space's local checks (for entries a non-member or a misbehaving node would make).
pub fn outside_edit(space: &Space, n: u8, body: BodyId, now_ms: i64, edit: &AgendaEdit) -> Entry {
    let mut doc = space.doc().fork();
    doc.set_actor(automerge::ActorId::from(
        member_secret(n).public().as_bytes().as_slice(),
    ));
    let mut tx = doc.transaction();
    edit.apply(&mut tx).expect("edit");
    let (hash, _) =
        tx.commit_with(automerge::transaction::CommitOptions::default().with_time(now_ms));
    let change = doc
        .get_change_by_hash(&hash.expect("a change"))
        .expect("committed change")
        .clone();
    Entry::sign(space.id(), body, &change, &member_secret(n)).expect("sign")
}

/// What a peer would receive: the entry re-decoded from its bytes.
pub fn wire(entry: &Entry) -> Entry {
    Entry::decode(entry.bytes().to_vec()).expect("a signed entry decodes")
}

/// Receives `entries` into `space` and returns the outcome.
pub fn receive(space: &mut Space, entries: &[Entry], certs: &Certificates) -> Received {
    space.receive(entries.iter().map(wire).collect(), certs.certifies())
}

/// The sorted heads of a space's document.
pub fn heads(space: &Space) -> Vec<automerge::ChangeHash> {
    let mut heads = space.doc().get_heads();
    heads.sort();
    heads
}

/// A small world shared by the encoding tests: bodies 1..=3, a space of all three, and a
/// few signed entries by each member (some concurrent).
pub struct Pool {
    pub genesis: Genesis,
    pub entries: Vec<Entry>,
    pub certs: Vec<Certificate>,
    pub vector: Vector,
    pub tips: Tips,
}

pub static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let genesis = genesis(1, &[2, 3], 7);
    let mut spaces: Vec<Space> = (0..3).map(|_| Space::new(genesis.clone())).collect();
    let all = certs(&[1, 2, 3]);
    let mut entries = Vec::new();
    for round in 0..3u8 {
        for (i, space) in spaces.iter_mut().enumerate() {
            let n = i as u8 + 1;
            let title = format!("议题 {round}-{n}");
            entries.push(local_edit(
                space,
                n,
                1_000 * i64::from(round),
                &edit(Some(&title), Some("摘要")),
            ));
        }
        // Everyone catches up with everyone, so the next round depends on this one.
        for to in 0..spaces.len() {
            let mut batch = Vec::new();
            for (from, space) in spaces.iter().enumerate() {
                if from != to {
                    batch.extend(space.log().iter().cloned());
                }
            }
            let got = receive(&mut spaces[to], &batch, &all);
            assert!(got.rejected.is_empty(), "{:?}", got.rejected);
        }
    }
    let vector = spaces[0].vector();
    let tips = spaces[0].tips();
    assert_eq!(tips.0.len(), vector.0.len());
    Pool {
        genesis,
        entries,
        certs: [1, 2, 3].map(member_cert).into(),
        vector,
        tips,
    }
});

/// One message of every kind, built from the pool.
pub fn sample_messages() -> Vec<Message> {
    let pool = &*POOL;
    let id = pool.genesis.id();
    vec![
        Message::Hello {
            node: node_cert(1),
            chain: vec![],
        },
        Message::HelloAck {
            node: node_cert(2),
            chain: vec![],
        },
        Message::SyncRequest {
            space: id,
            genesis: Some(pool.genesis.clone()),
            vector: pool.vector.clone(),
            tips: pool.tips.clone(),
        },
        Message::SyncRequest {
            space: id,
            genesis: None,
            vector: Vector::default(),
            tips: Tips::default(),
        },
        Message::SyncResponse {
            space: id,
            vector: pool.vector.clone(),
            tips: pool.tips.clone(),
            certs: pool.certs.clone(),
            entries: pool.entries.clone(),
            more: true,
        },
        Message::SyncResponse {
            space: id,
            vector: Vector::default(),
            tips: Tips::default(),
            certs: vec![],
            entries: vec![],
            more: false,
        },
        Message::Push {
            space: id,
            genesis: Some(pool.genesis.clone()),
            certs: pool.certs[..1].to_vec(),
            entries: pool.entries[..2].to_vec(),
        },
        Message::Push {
            space: id,
            genesis: None,
            certs: vec![],
            entries: vec![],
        },
        Message::PushAck {
            space: id,
            vector: pool.vector.clone(),
        },
        Message::Revoke {
            space: id,
            revocations: vec![
                confer_protocol::revocation::Revocation::unsigned(
                    body_id(2),
                    member_secret(2).public(),
                    1_800_000_000,
                    confer_protocol::revocation::Scope::Space {
                        space: id,
                        up_to: 1,
                    },
                )
                .sign(&body_secret(2))
                .expect("sign"),
                confer_protocol::revocation::Revocation::unsigned(
                    body_id(3),
                    member_secret(3).public(),
                    1_800_000_000,
                    confer_protocol::revocation::Scope::Later,
                )
                .sign(&body_secret(3))
                .expect("sign"),
                confer_protocol::revocation::Revocation::unsigned(
                    body_id(1),
                    member_secret(1).public(),
                    1_800_000_000,
                    confer_protocol::revocation::Scope::Fork {
                        space: id,
                        seq: 2,
                        stands: [7; 32],
                    },
                )
                .sign(&body_secret(1))
                .expect("sign"),
            ],
        },
        Message::Revocations {
            revocations: vec![confer_protocol::revocation::Revocation::unsigned(
                body_id(3),
                member_secret(3).public(),
                1_800_000_000,
                confer_protocol::revocation::Scope::Later,
            )
            .sign(&body_secret(3))
            .expect("sign")],
        },
        Message::Revocations {
            revocations: vec![],
        },
        Message::Membership {
            space: id,
            genesis: Some(pool.genesis.clone()),
            consents: {
                let change = confer_protocol::membership::Change {
                    space: id,
                    prev: *id.as_bytes(),
                    op: confer_protocol::membership::Op::Add(body_id(4)),
                    issued_at: 1_800_000_000,
                };
                let leave = confer_protocol::membership::Change {
                    space: id,
                    prev: change.id(),
                    op: confer_protocol::membership::Op::Remove {
                        body: body_id(2),
                        cutoffs: vec![(member_secret(2).public(), 3)],
                    },
                    issued_at: 1_800_000_001,
                };
                [(1u8, &change), (2, &change), (2, &leave)]
                    .into_iter()
                    .map(|(n, c)| {
                        let signer = SecretKey::from_seed([n + 200; 32]);
                        let cert = Certificate::issue(
                            &body_secret(n),
                            &body_name(n),
                            signer.public(),
                            Subject::Member {
                                name: format!("秘书长 {n}"),
                                role: Role::SecretaryGeneral,
                                can_sign: true,
                            },
                            0,
                        )
                        .expect("signer certificate");
                        confer_protocol::membership::Consent::sign(c.clone(), cert, &signer)
                            .expect("consent")
                    })
                    .collect()
            },
        },
        Message::Refused {
            space: Some(id),
            reason: Refusal::NotMember,
            detail: "不是成员".into(),
        },
        Message::Refused {
            space: None,
            reason: Refusal::NotIdentified,
            detail: String::new(),
        },
    ]
}
