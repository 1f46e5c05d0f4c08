//! The test vectors in `docs/sync-protocol.md`, rebuilt with confer's own code.
//!
//! The page prints, for fixed seeds and values, every object a node signs and one message
//! of each type, one field per line (hex, then what the field is). This test builds each
//! object and message with `confer_protocol`, lays out the same fields *by hand* from the
//! page's description (so the layout the page states is checked, not only the bytes),
//! requires their concatenation to be exactly what confer encodes and decodes back, and
//! requires the page to print exactly those lines. The page and the code cannot drift.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ReadDoc, ROOT};
use confer_protocol::membership::{next_state, Change, Consent, Op};
use confer_protocol::revocation::{Revocation, Scope};
use confer_protocol::space::{Tips, TIP_BYTES};
use confer_protocol::{
    BodyId, Certificate, Certificates, Entry, Genesis, Message, Refusal, Role, SecretKey, Space,
    SpaceKind, Subject, Vector,
};
use sha2::{Digest, Sha256};

/// The page, as compiled into this test.
const DOCS: &str = include_str!("../../../docs/sync-protocol.md");

const BODY_A: &str = "平湖市政协";
const BODY_B: &str = "金山区政协";
/// 2027-01-15 08:00:00 UTC, the vectors' clock.
const T: u64 = 1_800_000_000;

/// 32 consecutive bytes starting at `first`: the page's `000102…1f` and the like.
fn run(first: u8) -> [u8; 32] {
    std::array::from_fn(|i| first + i as u8)
}

fn key(first: u8) -> SecretKey {
    SecretKey::from_seed(run(first))
}

/// One field: its bytes and what the page calls it.
struct Field(Vec<u8>, String);

fn f(bytes: impl AsRef<[u8]>, label: impl Into<String>) -> Field {
    Field(bytes.as_ref().to_vec(), label.into())
}

fn u32be(n: usize) -> [u8; 4] {
    u32::try_from(n).expect("fits a u32").to_be_bytes()
}

/// A length prefix of `bytes`, then `bytes`, as two fields.
fn prefixed(bytes: &[u8], what: &str) -> [Field; 2] {
    [
        f(
            u32be(bytes.len()),
            format!("{what}: length {}", bytes.len()),
        ),
        f(bytes, what),
    ]
}

/// A vector printed in the page: a heading line naming it, then one field per line.
struct Block {
    name: &'static str,
    fields: Vec<Field>,
}

impl Block {
    fn bytes(&self) -> Vec<u8> {
        self.fields
            .iter()
            .flat_map(|Field(b, _)| b.clone())
            .collect()
    }

    fn text(&self) -> String {
        let mut out = format!("```text\n# {}\n", self.name);
        for Field(bytes, label) in &self.fields {
            out.push_str(&format!("{}  {label}\n", hex::encode(bytes)));
        }
        out.push_str("```");
        out
    }
}

fn certificate_fields(cert: &Certificate) -> Vec<Field> {
    let mut out = vec![
        f([2], "version 2"),
        f(cert.body.0.as_bytes(), "body id"),
        f(cert.signer.as_bytes(), "signer"),
    ];
    out.extend(prefixed(cert.body_name.as_bytes(), "body name (UTF-8)"));
    out.push(f(cert.key.as_bytes(), "key certified"));
    match &cert.subject {
        Subject::Member {
            name,
            role,
            can_sign,
        } => {
            out.push(f([1], "subject 1: member"));
            out.extend(prefixed(name.as_bytes(), "member name (UTF-8)"));
            let code = Role::ALL.iter().position(|r| r == role).expect("a role") + 1;
            out.push(f([code as u8], format!("role {code}: {role}")));
            out.push(f([u8::from(*can_sign)], "can sign"));
        }
        Subject::Node => out.push(f([2], "subject 2: node")),
        Subject::BodyKey => out.push(f([3], "subject 3: body key")),
    }
    out.push(f(cert.issued_at.to_be_bytes(), "issued at (Unix seconds)"));
    out.push(f(cert.signature.0, "signature"));
    out
}

fn vector_fields(vector: &Vector, tips: Option<&Tips>) -> Vec<Field> {
    let mut out = vec![f(
        u32be(vector.0.len()),
        format!("vector: count {}", vector.0.len()),
    )];
    for (author, seq) in &vector.0 {
        out.push(f(author.as_bytes(), "vector: author"));
        out.push(f(seq.to_be_bytes(), "vector: seq"));
    }
    if let Some(tips) = tips {
        for author in vector.0.keys() {
            let tip = tips.0.get(author).copied().unwrap_or([0; TIP_BYTES]);
            out.push(f(tip, "tip of that author"));
        }
    }
    out
}

fn list(items: &[Vec<u8>], what: &str, name: &str) -> Vec<Field> {
    let mut out = vec![f(
        u32be(items.len()),
        format!("{what}: count {}", items.len()),
    )];
    for item in items {
        out.push(f(
            u32be(item.len()),
            format!("{what}: length {}", item.len()),
        ));
        out.push(f(item, name));
    }
    out
}

fn revocation_fields(r: &Revocation) -> Vec<Field> {
    let mut out = vec![
        f([1], "version 1"),
        f(r.body.0.as_bytes(), "body id"),
        f(r.signer.as_bytes(), "signer"),
        f(r.key.as_bytes(), "key revoked"),
        f(r.issued_at.to_be_bytes(), "issued at (Unix seconds)"),
    ];
    match r.scope {
        Scope::Space { space, up_to } => {
            out.push(f([1], "scope 1: space"));
            out.push(f(space.as_bytes(), "space id"));
            out.push(f(up_to.to_be_bytes(), "last seq that counts"));
        }
        Scope::Later => {
            out.push(f([2], "scope 2: later"));
            out.push(f([0; 32], "zero"));
            out.push(f(0u64.to_be_bytes(), "zero"));
        }
        Scope::Fork { space, seq, stands } => {
            out.push(f([3], "scope 3: fork"));
            out.push(f(space.as_bytes(), "space id"));
            out.push(f(seq.to_be_bytes(), "forked seq"));
            out.push(f(stands, "change hash that stands"));
        }
    }
    out.push(f(r.signature.0, "signature"));
    out
}

fn change_fields(change: &Change) -> Vec<Field> {
    let mut out = vec![
        f([1], "version 1"),
        f(change.space.as_bytes(), "space id"),
        f(
            change.prev,
            "prev: the state it follows (the space id: the first change)",
        ),
    ];
    match &change.op {
        Op::Add(body) => {
            out.push(f([1], "op 1: add"));
            out.push(f(body.0.as_bytes(), "body added"));
            out.push(f(u32be(0), "cutoffs: count 0"));
        }
        Op::Remove { body, cutoffs } => {
            out.push(f([2], "op 2: remove"));
            out.push(f(body.0.as_bytes(), "body removed"));
            out.push(f(u32be(cutoffs.len()), "cutoffs: count"));
            for (key, seq) in cutoffs {
                out.push(f(key.as_bytes(), "cutoff: author"));
                out.push(f(seq.to_be_bytes(), "cutoff: last seq that counts"));
            }
        }
        Op::Withdraw(id) => {
            out.push(f([3], "op 3: withdraw"));
            out.push(f(id, "change id withdrawn"));
            out.push(f(u32be(0), "cutoffs: count 0"));
        }
    }
    out.push(f(
        change.issued_at.to_be_bytes(),
        "issued at (Unix seconds)",
    ));
    out
}

/// Everything the page's vectors are made of.
struct Fixture {
    node_a: Certificate,
    node_b: Certificate,
    member_a: Certificate,
    body_key_a2: Certificate,
    genesis: Genesis,
    entry: Entry,
    vector: Vector,
    tips: Tips,
    revocation_space: Revocation,
    revocation_later: Revocation,
    change: Change,
    consent: Consent,
}

fn fixture() -> Fixture {
    let body_a = key(0x00);
    let member = key(0x20);
    let node_a = key(0x40);
    let body_b = key(0x60);
    let node_b = key(0x80);
    let body_a2 = key(0xa0);
    let body_c = key(0xc0);
    let stolen_node = key(0xe0);
    let a = BodyId(body_a.public());

    let node_a_cert = Certificate::issue(&body_a, BODY_A, node_a.public(), Subject::Node, T)
        .expect("node certificate of A");
    let node_b_cert = Certificate::issue(&body_b, BODY_B, node_b.public(), Subject::Node, T)
        .expect("node certificate of B");
    let member_a = Certificate::issue(
        &body_a,
        BODY_A,
        member.public(),
        Subject::Member {
            name: "李四".into(),
            role: Role::SecretaryGeneral,
            can_sign: true,
        },
        T,
    )
    .expect("member certificate");
    let body_key_a2 =
        Certificate::issue_for(a, &body_a, BODY_A, body_a2.public(), Subject::BodyKey, T)
            .expect("body-key certificate");

    let nonce: [u8; 16] = std::array::from_fn(|i| 0xf0 + i as u8);
    let genesis = Genesis::create(
        SpaceKind::Agenda,
        &[BodyId(body_b.public())],
        T,
        nonce,
        member_a.clone(),
        &member,
    )
    .expect("genesis");
    let space = genesis.id();

    // The agenda's first change, as the member's node makes it: actor = the member key.
    let mut doc = Automerge::new();
    doc.set_actor(ActorId::from(member.public().as_bytes().as_slice()));
    let mut tx = doc.transaction();
    tx.put(ROOT, "kind", "agenda").expect("put kind");
    tx.put(ROOT, "title", "联动议题").expect("put title");
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time((T * 1000) as i64));
    let change = doc
        .get_change_by_hash(&hash.expect("a change"))
        .expect("the change");
    let entry = Entry::sign(space, a, &change, &member).expect("entry");

    // What the receiving node makes of it: accepted, the vector and tips below.
    let mut certs = Certificates::new();
    assert!(certs.insert(member_a.clone()));
    let mut held = Space::new(genesis.clone());
    let received = held.receive(vec![entry.clone()], certs.certifies());
    assert_eq!(received.accepted.len(), 1, "{:?}", received.rejected);

    let revocation_space = Revocation::unsigned(
        a,
        member.public(),
        T + 100,
        Scope::Space { space, up_to: 1 },
    )
    .sign(&body_a)
    .expect("sign");
    let revocation_later = Revocation::unsigned(a, stolen_node.public(), T + 100, Scope::Later)
        .sign(&body_a2)
        .expect("sign");
    let change = Change {
        space,
        prev: *space.as_bytes(),
        op: Op::Add(BodyId(body_c.public())),
        issued_at: T + 200,
    };
    let consent = Consent::sign(change.clone(), member_a.clone(), &member).expect("consent");
    Fixture {
        node_a: node_a_cert,
        node_b: node_b_cert,
        member_a,
        body_key_a2,
        genesis,
        entry,
        vector: held.vector(),
        tips: held.tips(),
        revocation_space,
        revocation_later,
        change,
        consent,
    }
}

fn genesis_fields(g: &Genesis) -> Vec<Field> {
    let mut out = vec![
        f([1], "version 1"),
        f([1], "kind 1: agenda"),
        f(u32be(g.members.len()), "members: count"),
    ];
    for m in &g.members {
        out.push(f(m.0.as_bytes(), "member body id (ascending)"));
    }
    out.push(f(g.created_at.to_be_bytes(), "created at (Unix seconds)"));
    out.push(f(g.nonce, "nonce"));
    out.extend(prefixed(
        &g.creator.encode(),
        "creator's member certificate (C2)",
    ));
    out.push(f(g.signature.0, "signature by the creator's key"));
    out
}

fn entry_fields(e: &Entry) -> Vec<Field> {
    let bytes = e.bytes();
    let change = &bytes[69..bytes.len() - 64];
    let mut out = vec![
        f([2], "version 2"),
        f(e.space().as_bytes(), "space id"),
        f(e.body().0.as_bytes(), "body id the author writes for"),
    ];
    out.extend(prefixed(change, "automerge change chunk"));
    out.push(f(&bytes[bytes.len() - 64..], "signature by the author"));
    out
}

fn blocks(x: &Fixture) -> Vec<(Block, Vec<u8>)> {
    let space = x.genesis.id();
    let genesis = x.genesis.encode();
    let entry = x.entry.bytes().to_vec();
    let c1 = x.node_a.encode();
    let c2 = x.member_a.encode();
    let c3 = x.body_key_a2.encode();
    let c4 = x.node_b.encode();
    let header = |ty: u8, name: &str| {
        vec![
            f([1], "message version 1"),
            f([ty], format!("type {ty}: {name}")),
        ]
    };
    let genesis_some = || {
        let mut v = vec![f([1], "genesis: present")];
        v.extend(prefixed(&genesis, "genesis (G)"));
        v
    };

    let mut out: Vec<(Block, Vec<u8>)> = Vec::new();
    let mut object = |name: &'static str, fields: Vec<Field>, encoded: Vec<u8>| {
        out.push((Block { name, fields }, encoded));
    };
    object(
        "C1: node certificate of body A",
        certificate_fields(&x.node_a),
        c1.clone(),
    );
    object(
        "C2: member certificate of body A",
        certificate_fields(&x.member_a),
        c2.clone(),
    );
    object(
        "C3: body-key certificate of body A",
        certificate_fields(&x.body_key_a2),
        c3.clone(),
    );
    object(
        "C4: node certificate of body B",
        certificate_fields(&x.node_b),
        c4.clone(),
    );
    object("G: genesis", genesis_fields(&x.genesis), genesis.clone());
    object("E: entry", entry_fields(&x.entry), entry.clone());
    object(
        "R1: revocation, scope space",
        revocation_fields(&x.revocation_space),
        x.revocation_space.encode(),
    );
    object(
        "R2: revocation, scope later",
        revocation_fields(&x.revocation_later),
        x.revocation_later.encode(),
    );
    object(
        "M: membership change",
        change_fields(&x.change),
        x.change.encode(),
    );
    let mut consent = vec![f(x.change.encode(), "the change (M), unprefixed")];
    consent.extend(prefixed(&c2, "signer's member certificate (C2)"));
    consent.push(f(
        x.consent.signature.0,
        "signature by the signer's key over M",
    ));
    object("K: consent", consent, x.consent.encode());

    let mut message = |name: &'static str, fields: Vec<Field>, msg: Message| {
        let encoded = msg.encode();
        assert_eq!(Message::decode(&encoded), Ok(msg), "{name} decodes back");
        out.push((Block { name, fields }, encoded));
    };
    let mut hello = header(1, "Hello");
    hello.extend(prefixed(&c1, "node certificate (C1)"));
    hello.extend(list(
        std::slice::from_ref(&c3),
        "chain",
        "body-key certificate (C3)",
    ));
    message(
        "1: Hello",
        hello,
        Message::Hello {
            node: x.node_a.clone(),
            chain: vec![x.body_key_a2.clone()],
        },
    );

    let mut ack = header(2, "HelloAck");
    ack.extend(prefixed(&c4, "node certificate (C4)"));
    ack.extend(list(&[], "chain", "body-key certificate"));
    message(
        "2: HelloAck",
        ack,
        Message::HelloAck {
            node: x.node_b.clone(),
            chain: vec![],
        },
    );

    let mut request = header(3, "SyncRequest");
    request.push(f(space.as_bytes(), "space id"));
    request.extend(genesis_some());
    request.extend(vector_fields(&x.vector, Some(&x.tips)));
    message(
        "3: SyncRequest",
        request,
        Message::SyncRequest {
            space,
            genesis: Some(x.genesis.clone()),
            vector: x.vector.clone(),
            tips: x.tips.clone(),
        },
    );

    let mut response = header(4, "SyncResponse");
    response.push(f(space.as_bytes(), "space id"));
    response.extend(vector_fields(&x.vector, Some(&x.tips)));
    response.extend(list(
        std::slice::from_ref(&c2),
        "certificates",
        "member certificate (C2)",
    ));
    response.extend(list(std::slice::from_ref(&entry), "entries", "entry (E)"));
    response.push(f([0], "more: no"));
    message(
        "4: SyncResponse",
        response,
        Message::SyncResponse {
            space,
            vector: x.vector.clone(),
            tips: x.tips.clone(),
            certs: vec![x.member_a.clone()],
            entries: vec![x.entry.clone()],
            more: false,
        },
    );

    let mut push = header(5, "Push");
    push.push(f(space.as_bytes(), "space id"));
    push.push(f([0], "genesis: absent"));
    push.extend(list(
        std::slice::from_ref(&c2),
        "certificates",
        "member certificate (C2)",
    ));
    push.extend(list(std::slice::from_ref(&entry), "entries", "entry (E)"));
    message(
        "5: Push",
        push,
        Message::Push {
            space,
            genesis: None,
            certs: vec![x.member_a.clone()],
            entries: vec![x.entry.clone()],
        },
    );

    let mut push_ack = header(6, "PushAck");
    push_ack.push(f(space.as_bytes(), "space id"));
    push_ack.extend(vector_fields(&x.vector, None));
    message(
        "6: PushAck",
        push_ack,
        Message::PushAck {
            space,
            vector: x.vector.clone(),
        },
    );

    let detail = "your body is not a member of that space";
    let mut refused = header(7, "Refused");
    refused.push(f([1], "space: present"));
    refused.push(f(space.as_bytes(), "space id"));
    refused.push(f([2], "reason 2: not a member"));
    refused.extend(prefixed(detail.as_bytes(), "detail (UTF-8)"));
    message(
        "7: Refused",
        refused,
        Message::Refused {
            space: Some(space),
            reason: Refusal::NotMember,
            detail: detail.into(),
        },
    );

    let mut revoke = header(8, "Revoke");
    revoke.push(f(space.as_bytes(), "space id"));
    revoke.extend(list(
        &[x.revocation_space.encode()],
        "revocations",
        "revocation (R1)",
    ));
    message(
        "8: Revoke",
        revoke,
        Message::Revoke {
            space,
            revocations: vec![x.revocation_space.clone()],
        },
    );

    let mut membership = header(9, "Membership");
    membership.push(f(space.as_bytes(), "space id"));
    membership.push(f([0], "genesis: absent"));
    membership.extend(list(&[x.consent.encode()], "consents", "consent (K)"));
    message(
        "9: Membership",
        membership,
        Message::Membership {
            space,
            genesis: None,
            consents: vec![x.consent.clone()],
        },
    );

    let mut lasting = header(10, "Revocations");
    lasting.extend(list(
        &[x.revocation_later.encode()],
        "revocations",
        "revocation (R2)",
    ));
    message(
        "10: Revocations",
        lasting,
        Message::Revocations {
            revocations: vec![x.revocation_later.clone()],
        },
    );
    out
}

/// The values the page states besides the blocks, each as `` `hex` ``.
fn derived(x: &Fixture) -> Vec<(&'static str, String)> {
    let change_hash = x.entry.change_hash().0;
    let raw = &x.entry.bytes()[69..x.entry.bytes().len() - 64];
    // automerge's change hash: SHA-256 of the chunk after magic bytes and checksum.
    assert_eq!(Sha256::digest(&raw[8..]).as_slice(), change_hash.as_slice());
    assert_eq!(&Sha256::digest(&raw[8..])[..4], &raw[4..8], "checksum");
    let tip: [u8; TIP_BYTES] = change_hash[..TIP_BYTES].try_into().expect("16 bytes");
    assert_eq!(x.tips.0.values().next(), Some(&tip));
    let pk = |first: u8| key(first).public();
    let out = vec![
        ("body A's id (seed 00…1f)", pk(0x00).to_string()),
        ("member key of A (seed 20…3f)", pk(0x20).to_string()),
        ("node key of A (seed 40…5f)", pk(0x40).to_string()),
        ("body B's id (seed 60…7f)", pk(0x60).to_string()),
        ("node key of B (seed 80…9f)", pk(0x80).to_string()),
        ("A's new body key (seed a0…bf)", pk(0xa0).to_string()),
        ("body C's id (seed c0…df)", pk(0xc0).to_string()),
        ("a stolen node key (seed e0…ff)", pk(0xe0).to_string()),
        ("space id", x.genesis.id().to_string()),
        ("entry hash", x.entry.hash().to_string()),
        ("change hash", hex::encode(change_hash)),
        ("tip", hex::encode(tip)),
        ("change id", hex::encode(x.change.id())),
        (
            "state after M",
            hex::encode(next_state(&x.change.prev, &x.change.op)),
        ),
    ];
    assert_eq!(x.entry.author(), pk(0x20));
    out
}

#[test]
fn the_test_vectors_in_the_docs_are_what_confer_encodes() {
    let x = fixture();
    let mut missing = Vec::new();
    for (block, encoded) in blocks(&x) {
        assert_eq!(
            hex::encode(block.bytes()),
            hex::encode(&encoded),
            "{}: the fields the page lists are not what confer encodes",
            block.name
        );
        let text = block.text();
        if !DOCS.contains(&text) {
            missing.push(text);
        }
    }
    for (what, value) in derived(&x) {
        if !DOCS.contains(&format!("`{value}`")) {
            missing.push(format!("{what}: `{value}`"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/sync-protocol.md does not print what confer makes:\n\n{}",
        missing.join("\n\n")
    );
}
