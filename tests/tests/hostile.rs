//! The hostile-peer suite: a peer speaking the wire protocol by hand sends what no honest
//! node would, before and after proving its body. Each attack is refused with a reason, the
//! node keeps answering its operator, and honest sync is unaffected.

use confer_protocol::space::Tips;
use confer_protocol::sync::MAX_MESSAGE_CERTS;
use confer_protocol::wire::Writer;
use confer_protocol::{
    BodyId, Certificate, Entry, Message, PublicKey, Refusal, SecretKey, Subject, Vector,
};

use crate::support::*;

/// A change chunk whose five columns are each one run of 2^40 rows (key "a", insert false,
/// action set, value null, no preds): 95 bytes that automerge 0.12 would spend ~46 hours
/// validating. Built as in `protocol/tests/protocol/chunk.rs` (`runs_of(1 << 40)`).
const OP_COUNT_BOMB: &str = "856f4a83bc2252bd015500200707070707070707070707070707070707070707070707070707070707070707010100000005150834064207560770078080808080200161808080808020808080808020018080808080200080808080802000";

/// A `Push` of one entry carrying the bomb, encoded by hand (no `Entry` can hold it).
fn bomb_push(space: SpaceId) -> Vec<u8> {
    let chunk = hex::decode(OP_COUNT_BOMB).expect("hex");
    let mut entry = Writer::new();
    entry
        .u8(2)
        .raw(space.as_bytes())
        .raw(&[9; 32])
        .bytes(&chunk)
        .raw(&[0; 64]);
    let entry = entry.finish();
    let mut w = Writer::new();
    w.u8(1)
        .u8(5)
        .raw(space.as_bytes())
        .u8(0)
        .u32(0)
        .u32(1)
        .bytes(&entry);
    w.finish()
}

/// The operator's view still answers at once.
async fn still_answers(node: &TestNode) {
    tokio::time::timeout(Duration::from_secs(10), node.status_now())
        .await
        .expect("status answers within 10 s after the attack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_count_bomb_before_hello_is_refused_unread() {
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let stranger = SecretKey::from_seed(random_seed());
    let mut rogue = Rogue::new(random_seed(), &stranger, "陌生机构");
    // Never answer A's Hello either: the rogue proves nothing.
    rogue.answer_requests = false;
    rogue.dial(&a.addr()).await;
    let answer = rogue.request_bytes(bomb_push(id)).await.expect("an answer");
    match Message::decode(&answer) {
        Ok(Message::Refused {
            reason: Refusal::NotIdentified,
            ..
        }) => {}
        other => panic!("expected NotIdentified before hello, got {other:?}"),
    }
    still_answers(&a).await;
    honest_sync_still_works(&a, &b, id, "未认证的炸弹之后").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_count_bomb_from_a_member_body_is_refused_at_decode() {
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let mut rogue = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    rogue.dial(&a.addr()).await;
    rogue.hello().await;
    let started = std::time::Instant::now();
    let answer = rogue.request_bytes(bomb_push(id)).await.expect("an answer");
    let took = started.elapsed();
    match Message::decode(&answer) {
        Ok(Message::Refused {
            reason: Refusal::Invalid,
            detail,
            ..
        }) => assert!(detail.contains("ops"), "the refusal says why: {detail}"),
        other => panic!("expected Invalid for the bomb, got {other:?}"),
    }
    // Not a timing assertion on the node's speed: 46 hours of validation would not fit.
    assert!(took < WAIT, "refused after {took:?}");
    still_answers(&a).await;
    honest_sync_still_works(&a, &b, id, "成员的炸弹之后").await;
}

/// A stranger body (it proves a body nobody here trusts or shares a space with) gets only
/// a Hello's worth of bytes read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_request_from_a_stranger_body_is_not_read() {
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let stranger = SecretKey::from_seed(random_seed());
    let mut rogue = Rogue::new(random_seed(), &stranger, "陌生机构");
    rogue.dial(&a.addr()).await;
    rogue.hello().await;
    // A megabyte that claims to be a Push: the node reads its length and refuses the rest.
    let mut big = vec![1u8, 5];
    big.resize(1024 * 1024, 0);
    let answer = rogue.request_bytes(big).await;
    assert!(
        answer.is_err(),
        "a stranger's 1 MiB request is not read: {answer:?}"
    );
    // A Hello still fits, and is answered.
    let ack = rogue.hello().await;
    assert_eq!(ack.body, a.body);
    // A node of a member body gets the full size: B's rogue fetches the whole space.
    let mut member = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    member.dial(&a.addr()).await;
    member.hello().await;
    let mut big = vec![1u8, 5];
    big.resize(1024 * 1024, 0);
    match member.request_bytes(big).await.map(|r| Message::decode(&r)) {
        Ok(Ok(Message::Refused {
            reason: Refusal::Invalid,
            ..
        })) => {}
        other => panic!("a member's large request is read and judged: {other:?}"),
    }
    still_answers(&a).await;
    honest_sync_still_works(&a, &b, id, "未认证的大消息之后").await;
}

/// Review finding: a trusted body's agenda naming a body this node never trusted was
/// joined at once. Now it waits as an invitation (nothing received or sent), listed with
/// the untrusted bodies, until the operator accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agenda_with_an_untrusted_member_waits_for_the_operators_acceptance() {
    let fed = Federation::new();
    let a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    let c = fed.spawn("C 政协").await;
    connect(&a, &b).await;
    connect(&a, &c).await;
    // B and C each trust A only; A invites both, together.
    let id = a.create_agenda("三方议题", &[&b, &c]).await;
    let invitation = eventually("B lists the invitation", WAIT, || async {
        let list = b.handle.list_agendas().await.map_err(|e| e.to_string())?;
        list.into_iter()
            .find(|s| s.id == id.to_string())
            .ok_or_else(|| "not listed yet".to_owned())
    })
    .await;
    assert!(invitation.invited);
    assert_eq!(
        invitation
            .untrusted
            .iter()
            .map(|v| v.id.clone())
            .collect::<Vec<_>>(),
        vec![c.body.to_string()]
    );
    always(
        "B holds nothing of the agenda before accepting",
        SEVERAL_ROUNDS,
        || async {
            match b.try_show(id).await {
                Err(NodeError::UnknownAgenda(_)) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;

    b.handle.accept_agenda(id).await.expect("accept");
    wait_view(&b, id, "the agenda's content", |v| {
        v.text("title") == "三方议题"
    })
    .await;
    // C, which does not trust B either, accepts once its invitation has arrived.
    eventually("C is invited", WAIT, || async {
        let list = c.handle.list_agendas().await.map_err(|e| e.to_string())?;
        ensure(
            list.iter().any(|s| s.id == id.to_string() && s.invited),
            || format!("{list:?}"),
        )
    })
    .await;
    c.handle.accept_agenda(id).await.expect("accept");
    // C edits only once it holds A's first entry, so its title is a later edit, not a
    // concurrent one.
    wait_view(&c, id, "the agenda's content", |v| {
        v.text("title") == "三方议题"
    })
    .await;
    // Accepted: B's edits reach C (through A) and C's reach B.
    b.edit(id, None, Some("B 接受后的摘要")).await;
    c.edit(id, Some("C 的标题"), None).await;
    for node in [&a, &b, &c] {
        wait_view(node, id, "both edits", |v| {
            v.text("summary") == "B 接受后的摘要" && v.text("title") == "C 的标题"
        })
        .await;
    }
    assert!(matches!(
        b.handle.accept_agenda(id).await,
        Err(NodeError::NotInvited(_))
    ));
}

/// The member certificate `body` (named `body_name`) issues for `key`, dated `issued_at`.
fn member_cert(body: &SecretKey, body_name: &str, key: PublicKey, issued_at: u64) -> Certificate {
    Certificate::issue(
        body,
        body_name,
        key,
        Subject::member("批量证书", confer_protocol::Role::Staff),
        issued_at,
    )
    .expect("issue a member certificate")
}

/// Waits until a warning logged by the node names `peer` and contains `reason`.
async fn wait_warning(peer: &str, reason: &str) -> String {
    eventually(
        &format!("a warning names peer {peer} and says {reason:?}"),
        WAIT,
        || async {
            let lines = warnings_naming(peer);
            lines
                .iter()
                .find(|l| l.contains(reason))
                .cloned()
                .ok_or_else(|| format!("warnings naming the peer: {lines:?}"))
        },
    )
    .await
}

/// Replay: a node of a member body sends the node entries it already holds — the node's
/// own and another member's, old ones included — many times over, in many messages and
/// many times within one. Every one is counted as a duplicate (`status`), none is
/// applied, rejected, left pending or forwarded, and honest sync carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_entries_are_counted_as_duplicates_and_change_nothing() {
    record_warnings();
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    // B's first entry becomes an old one: B writes twice more.
    b.edit(id, Some("B 的第二次修改"), None).await;
    b.edit(id, None, Some("B 的第三次修改")).await;
    converged(&[&a, &b], id, "B's later edits arrive", |v| v.entries == 4).await;
    let before_a = a.show(id).await;
    let before_b = b.show(id).await;

    let mut rogue = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    rogue.dial(&a.addr()).await;
    rogue.hello().await;
    let peer = rogue.swarm.local_peer_id().to_string();
    let held = fetch_entries(&mut rogue, id).await;
    assert_eq!(held.len(), 4, "A's creation and B's three entries");
    assert!(held.iter().any(|e| e.author() == a.member_public()));
    assert!(held
        .iter()
        .any(|e| e.author() == b.member_public() && e.seq() == 1));
    let counts_a = a.status_now().await.traffic.entries;
    let counts_b = b.status_now().await.traffic.entries;

    const ROUNDS: usize = 50;
    const COPIES: usize = 100;
    let mut vectors = Vec::new();
    for _ in 0..ROUNDS {
        vectors.push(push(&mut rogue, id, vec![], held.clone()).await);
    }
    let many: Vec<Entry> = held
        .iter()
        .cycle()
        .take(held.len() * COPIES)
        .cloned()
        .collect();
    vectors.push(push(&mut rogue, id, vec![], many).await);
    // B's oldest entry alone, again and again.
    for _ in 0..ROUNDS {
        vectors.push(push(&mut rogue, id, vec![], vec![held[1].clone()]).await);
    }
    assert!(
        vectors.windows(2).all(|w| w[0] == w[1]),
        "A's vector moved during the replay: {vectors:?}"
    );

    let after_a = a.status_now().await.traffic.entries;
    let replayed = (ROUNDS * held.len() + COPIES * held.len() + ROUNDS) as u64;
    assert_eq!(
        after_a.duplicates - counts_a.duplicates,
        replayed,
        "every replayed entry counts as a duplicate: {counts_a:?} → {after_a:?}"
    );
    assert_eq!(after_a.accepted, counts_a.accepted, "nothing accepted");
    assert_eq!(
        after_a.rejected, counts_a.rejected,
        "a replay is not a rejection"
    );
    unchanged(&a, id, &before_a, "the replay").await;
    // Nothing was forwarded to B: it received no entry, new or duplicate.
    let after_b = b.status_now().await.traffic.entries;
    assert_eq!(
        after_b, counts_b,
        "A forwarded something of the replay to B"
    );
    unchanged(&b, id, &before_b, "the replay to A").await;
    let rejections: Vec<String> = warnings_naming(&peer)
        .into_iter()
        .filter(|l| l.contains("rejected"))
        .collect();
    assert!(
        rejections.is_empty(),
        "replayed entries were reported as rejected: {rejections:?}"
    );
    still_answers(&a).await;
    honest_sync_still_works(&a, &b, id, "重放之后").await;
}

/// Unknown versions and types, from a node of a member body (so every byte is read and
/// judged): an entry whose version byte is not 2 inside an otherwise valid Push, a message
/// with an unknown version, a message of an unknown type, and a response of an unknown
/// version to the node's own request; and from a stranger, a Hello of an unknown version.
/// Each is refused, the refusal says why, and the node logs a warning naming the peer and
/// the reason; nothing changes, and honest sync carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_versions_and_types_are_refused_with_a_warning_naming_the_peer() {
    record_warnings();
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let before_a = a.show(id).await;
    let mut rogue = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    rogue.dial(&a.addr()).await;
    rogue.hello().await;
    let peer = rogue.swarm.local_peer_id().to_string();
    let held = fetch_entries(&mut rogue, id).await;
    let valid_push = Message::Push {
        space: id,
        genesis: None,
        certs: vec![],
        entries: held.clone(),
    }
    .encode();

    // An entry of version 3 (the layout of version 2 otherwise), in a push.
    let mut entry = held[0].bytes().to_vec();
    entry[0] = 3;
    let mut w = Writer::new();
    w.u8(1)
        .u8(5)
        .raw(id.as_bytes())
        .u8(0)
        .u32(0)
        .u32(1)
        .bytes(&entry);
    let new_entry_version = w.finish();
    let mut new_message_version = valid_push.clone();
    new_message_version[0] = 2;
    let mut unknown_type = valid_push.clone();
    unknown_type[1] = 99;

    for (what, bytes, reason) in [
        (
            "an entry of version 3",
            new_entry_version,
            "unknown entry version",
        ),
        (
            "a message of version 2",
            new_message_version,
            "unknown message version",
        ),
        ("a message of type 99", unknown_type, "unknown message type"),
    ] {
        match rogue
            .request_bytes(bytes)
            .await
            .map(|r| Message::decode(&r))
        {
            Ok(Ok(Message::Refused {
                reason: Refusal::Invalid,
                detail,
                ..
            })) => assert!(
                detail.contains(reason),
                "{what}: the refusal says why: {detail}"
            ),
            other => panic!("{what}: expected Refused(Invalid), got {other:?}"),
        }
        let line = wait_warning(&peer, reason).await;
        assert!(line.contains("WARN"), "{line}");
    }

    // A response of an unknown version to the node's own pull (anti-entropy asks the
    // rogue every round, since it is a node of a member body).
    let mut bad_response = Message::SyncResponse {
        space: id,
        vector: Vector::default(),
        tips: Tips::default(),
        certs: vec![],
        entries: vec![],
        more: false,
    }
    .encode();
    bad_response[0] = 2;
    rogue.respond_with = Some(bad_response);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !warnings_naming(&peer)
        .iter()
        .any(|l| l.contains("malformed response") && l.contains("unknown message version"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no warning about the rogue's malformed response: {:?}",
            warnings_naming(&peer)
        );
        rogue.pump(Duration::from_millis(200)).await;
    }
    rogue.respond_with = None;

    // A stranger whose first message is a Hello of version 2: refused with that reason
    // (not "send hello first"), and named in a warning.
    let stranger = SecretKey::from_seed(random_seed());
    let mut newer = Rogue::new(random_seed(), &stranger, "陌生机构");
    newer.answer_requests = false;
    newer.dial(&a.addr()).await;
    let newer_peer = newer.swarm.local_peer_id().to_string();
    let mut hello = Message::Hello {
        node: newer.cert.clone(),
        chain: vec![],
    }
    .encode();
    hello[0] = 2;
    match newer
        .request_bytes(hello)
        .await
        .map(|r| Message::decode(&r))
    {
        Ok(Ok(Message::Refused { detail, .. })) => assert!(
            detail.contains("unknown message version"),
            "a Hello of another version is told so: {detail}"
        ),
        other => panic!("a Hello of version 2: expected Refused, got {other:?}"),
    }
    wait_warning(&newer_peer, "unknown message version").await;

    unchanged(&a, id, &before_a, "unknown versions and types").await;
    still_answers(&a).await;
    honest_sync_still_works(&a, &b, id, "未知版本之后").await;
}

/// Certificate flood: a node of a member body sends the most certificates a message may
/// carry (1,024), again and again: certificates for keys that write nothing, from the
/// member body and from a stranger body, and — for keys whose entries wait here for a
/// dependency — newer certificates every time. The node keeps only the certificate of
/// each author of an entry it accepted or holds, one per key and body (the store holds no
/// superseded copies), keeps answering, and a message with one certificate more is
/// refused with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_flood_stores_nothing_but_the_certificates_of_authors() {
    record_warnings();
    let fed = Federation::new();
    let (mut a, b, id) = pair(&fed).await;
    let before_a = a.show(id).await;
    let mut rogue = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    let rogue_body = BodyId(b.body_secret().public());
    rogue.dial(&a.addr()).await;
    rogue.hello().await;
    let peer = rogue.swarm.local_peer_id().to_string();
    let held = fetch_entries(&mut rogue, id).await;
    let certs_before = a.status_now().await.certificates;
    let now = unix_now();

    // Keys that write nothing: certified by the member body and by a stranger body.
    let stranger = SecretKey::from_seed(random_seed());
    let idle: Vec<PublicKey> = (0..MAX_MESSAGE_CERTS)
        .map(|_| SecretKey::from_seed(random_seed()).public())
        .collect();
    let idle_certs = |at: u64| -> Vec<Certificate> {
        idle.iter()
            .enumerate()
            .map(|(i, key)| {
                if i % 2 == 0 {
                    member_cert(&b.body_secret(), "B 政协", *key, at)
                } else {
                    member_cert(&stranger, "陌生机构", *key, at)
                }
            })
            .collect()
    };
    const ROUNDS: u64 = 5;
    for round in 0..ROUNDS {
        let started = std::time::Instant::now();
        // Alone, and beside entries the node already holds.
        push(&mut rogue, id, idle_certs(now + round), vec![]).await;
        push(&mut rogue, id, idle_certs(now + round), held.clone()).await;
        assert!(
            started.elapsed() < WAIT,
            "round {round} took {:?}",
            started.elapsed()
        );
        still_answers(&a).await;
    }
    assert_eq!(
        a.status_now().await.certificates,
        certs_before,
        "certificates of keys that wrote nothing were kept"
    );

    // Keys whose first entry waits for a dependency the node never gets (a change by a key
    // nobody sends): the node holds them pending, with their certificates.
    const WAITING: usize = 64;
    let mut ahead = doc_from_entries(&held);
    let phantom = SecretKey::from_seed(random_seed());
    change_as(
        &mut ahead,
        &phantom.public(),
        &[("summary", "从未送达的修改")],
    );
    let waiting: Vec<SecretKey> = (0..WAITING)
        .map(|_| SecretKey::from_seed(random_seed()))
        .collect();
    let pending_entries: Vec<Entry> = waiting
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let change = change_as(
                &mut ahead.clone(),
                &key.public(),
                &[("title", &format!("等待依赖的标题 {i}"))],
            );
            Entry::sign(id, rogue_body, &change, key).expect("sign")
        })
        .collect();
    // Their certificates, then newer ones for the same keys every round, each message
    // filled up to the limit with certificates of keys that write nothing.
    let flood = |at: u64| -> Vec<Certificate> {
        waiting
            .iter()
            .map(|key| member_cert(&b.body_secret(), "B 政协", key.public(), at))
            .chain(idle_certs(at).into_iter().skip(WAITING))
            .collect()
    };
    assert_eq!(flood(now).len(), MAX_MESSAGE_CERTS);
    push(&mut rogue, id, flood(now), pending_entries.clone()).await;
    assert_eq!(
        a.space(id).await.map(|s| s.pending),
        Some(WAITING),
        "the entries wait for their dependency"
    );
    let certs_held = a.status_now().await.certificates;
    assert_eq!(
        certs_held,
        certs_before + WAITING,
        "one certificate per waiting author"
    );
    for round in 1..=ROUNDS {
        let started = std::time::Instant::now();
        push(
            &mut rogue,
            id,
            flood(now + round * 60),
            vec![pending_entries[0].clone()],
        )
        .await;
        assert!(
            started.elapsed() < WAIT,
            "round {round} took {:?}",
            started.elapsed()
        );
        still_answers(&a).await;
    }
    assert_eq!(a.status_now().await.certificates, certs_held);

    // One certificate more than a message may carry: refused, with the reason.
    let mut too_many = flood(now);
    too_many.push(member_cert(
        &b.body_secret(),
        "B 政协",
        SecretKey::from_seed(random_seed()).public(),
        now,
    ));
    match rogue
        .request(&Message::Push {
            space: id,
            genesis: None,
            certs: too_many,
            entries: vec![],
        })
        .await
    {
        Ok(Message::Refused {
            reason: Refusal::Invalid,
            detail,
            ..
        }) => assert!(
            detail.contains("certificates"),
            "the refusal says why: {detail}"
        ),
        other => panic!("1,025 certificates: expected Refused(Invalid), got {other:?}"),
    }
    wait_warning(&peer, "certificates").await;

    let view = honest_sync_still_works(&a, &b, id, "证书洪泛之后").await;
    assert_eq!(
        view.entries,
        before_a.entries + 2,
        "no flood entry was applied"
    );

    // The store: one certificate per key and body, none for a key that wrote nothing.
    a.shutdown().await;
    let store = confer_node::store::Store::open(&a.config.store_path()).expect("open A's store");
    let rows = store.load().expect("load A's store").certificates;
    let stored: Vec<Certificate> = rows
        .iter()
        .map(|(_, bytes)| Certificate::decode(bytes).expect("a stored certificate decodes"))
        .collect();
    let mut subjects: Vec<(PublicKey, BodyId)> = stored.iter().map(|c| (c.key, c.body)).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(
        subjects.len(),
        stored.len(),
        "the store keeps superseded certificates: {} rows for {} keys and bodies",
        stored.len(),
        subjects.len()
    );
    assert!(
        !stored.iter().any(|c| idle.contains(&c.key)),
        "the store holds a certificate of a key that wrote nothing"
    );
    for key in &waiting {
        assert!(
            stored.iter().any(|c| c.key == key.public()),
            "the certificate of a waiting author is stored"
        );
    }
}

/// Lasting revocations (outside any agenda) are taken only from bodies the node is or
/// trusts, and only of scope `Later`: a node of member body B relays one by a body A does
/// not trust, revoking that body's node key, and one of B's naming an agenda. A answers,
/// warns naming the peer, and takes neither: the stranger's node still proves its body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_revocations_from_untrusted_bodies_or_of_other_scopes_are_refused() {
    use confer_protocol::revocation::{Revocation, Scope};
    record_warnings();
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let stranger_body = SecretKey::from_seed(random_seed());
    let mut stranger = Rogue::new(random_seed(), &stranger_body, "Z 政协");
    let mut courier = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    courier.dial(&a.addr()).await;
    courier.hello().await;
    let peer = courier.swarm.local_peer_id().to_string();
    let foreign = Revocation::unsigned(
        BodyId(stranger_body.public()),
        stranger.node_key.public(),
        unix_now(),
        Scope::Later,
    )
    .sign(&stranger_body)
    .expect("sign");
    let scoped = Revocation::unsigned(
        b.body,
        b.member_public(),
        unix_now(),
        Scope::Space {
            space: id,
            up_to: 1,
        },
    )
    .sign(&b.body_secret())
    .expect("sign");
    let answer = courier
        .request(&Message::Revocations {
            revocations: vec![foreign, scoped],
        })
        .await;
    assert!(
        matches!(&answer, Ok(Message::Revocations { .. })),
        "{answer:?}"
    );
    wait_warning(&peer, "2 lasting revocation(s)").await;
    stranger.dial(&a.addr()).await;
    stranger.hello().await;
    assert!(
        a.has_proven_peer(&stranger.swarm.local_peer_id().to_string())
            .await,
        "A took a revocation from a body it does not trust"
    );
    honest_sync_still_works(&a, &b, id, "转发撤销之后").await;
}
