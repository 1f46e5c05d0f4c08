//! Peers that do not play by the rules: entries by uncertified or forged authors, a
//! stranger body asking for a space, malformed bytes, and one member key on two nodes
//! (equivocation). The honest nodes must apply nothing they should not, leak nothing, and
//! keep syncing with each other.

use std::collections::BTreeSet;

use confer_node::api::ApiFile;
use confer_node::views::{BodyView, EquivocationView};
use confer_protocol::model::AgendaEdit;
use confer_protocol::space::Tips;
use confer_protocol::{
    BodyId, Certificate, Entry, Genesis, Message, Refusal, Role, SecretKey, SpaceKind, Subject,
    Vector,
};

use crate::support::*;

/// A rogue node of a member body (B's body key is used to certify its node key) pushes
/// entries for the shared space that no member certificate authorises: by a key with no
/// certificate; by that key with a member certificate from a stranger body; by the rogue's
/// node key (certified as a node, not a member); and a change claiming A's member key but
/// signed by another key. The honest node applies none of them, forwards none, and keeps
/// syncing with B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncertified_and_forged_entries_are_not_applied() {
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let before_a = a.show(id).await;
    let before_b = b.show(id).await;

    let seed = random_seed();
    let mut rogue = Rogue::new(seed, &b.body_secret(), "B 政协");
    let rogue_body = BodyId(b.body_secret().public());
    rogue.dial(&a.addr()).await;
    let ack = rogue.hello().await;
    assert_eq!(ack.body, a.body, "HelloAck carries A's node certificate");
    let entries = fetch_entries(&mut rogue, id).await;
    assert_eq!(entries.len(), 2);
    let base = doc_from_entries(&entries);

    // 1. A key with no certificate at all, on top of the current document.
    let uncertified = SecretKey::from_seed(random_seed());
    let change = change_as(
        &mut base.clone(),
        &uncertified.public(),
        &[("title", "无证书密钥写入的标题"), ("summary", "pwned")],
    );
    let bad = Entry::sign(id, rogue_body, &change, &uncertified).expect("sign");
    let vector = push(&mut rogue, id, vec![], vec![bad.clone()]).await;
    assert_eq!(
        vector.get(&uncertified.public()),
        0,
        "PushAck vector lists the uncertified key"
    );
    unchanged(&a, id, &before_a, "a push by an uncertified key").await;

    // 2. The same entry with a *member* certificate for that key from a stranger body.
    let stranger = SecretKey::from_seed(random_seed());
    let stranger_cert = Certificate::issue(
        &stranger,
        "陌生机构",
        uncertified.public(),
        Subject::member("冒充者", Role::Staff),
        unix_now(),
    )
    .expect("cert");
    let vector = push(&mut rogue, id, vec![stranger_cert], vec![bad]).await;
    assert_eq!(vector.get(&uncertified.public()), 0);
    unchanged(&a, id, &before_a, "a push certified by a stranger body").await;

    // 3. An entry signed by the rogue's node key, which B's body certified as a *node*.
    let change = change_as(
        &mut base.clone(),
        &rogue.node_key.public(),
        &[("title", "节点密钥写入的标题")],
    );
    let by_node_key = Entry::sign(id, rogue_body, &change, &rogue.node_key).expect("sign");
    let node_cert = rogue.cert.clone();
    let vector = push(&mut rogue, id, vec![node_cert], vec![by_node_key]).await;
    assert_eq!(vector.get(&rogue.node_key.public()), 0);
    unchanged(&a, id, &before_a, "a push signed by a node key").await;

    // 4. A change claiming to be A's next entry (actor = A's member key, seq 2), signed by
    //    another key.
    let change = change_as(
        &mut base.clone(),
        &a.member_public(),
        &[("title", "冒充 A 的标题")],
    );
    assert_eq!(change.seq(), 2);
    let forged = forged_entry(id, a.body, &change, &uncertified);
    assert_eq!(forged.author(), a.member_public());
    let vector = push(&mut rogue, id, vec![], vec![forged]).await;
    assert_eq!(
        vector.get(&a.member_public()),
        1,
        "A's key still at seq 1 after a forged seq 2"
    );
    unchanged(&a, id, &before_a, "a forged entry claiming A's key").await;

    // Nothing was forwarded to B either.
    unchanged(&b, id, &before_b, "the rogue's pushes to A").await;

    let view = honest_sync_still_works(&a, &b, id, "伪造条目之后").await;
    assert!(
        view.equivocators.is_empty(),
        "a forged entry made A's key an equivocator: {:?}",
        view.equivocators
    );
    for n in [&a, &b] {
        let v = n.show(id).await;
        assert_eq!(
            v.entries,
            4,
            "{}: only the honest entries are held: {}",
            n.name,
            describe(&v)
        );
        assert_eq!(
            v.vector.len(),
            2,
            "{}: only A's and B's keys appear: {}",
            n.name,
            describe(&v)
        );
    }
}

/// A node of a stranger body (not a member) asks for the space: refused before Hello
/// (NotIdentified), after replaying a member node's certificate (still NotIdentified),
/// after Hello (NotMember), pushing (NotMember), with a genesis that does
/// not match the id (refused), and with a genesis of its own making that does not name A
/// (NotMember). It never receives an entry or any message about the space, over several
/// anti-entropy rounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_body_is_refused_and_never_receives_the_space() {
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let before_a = a.show(id).await;

    let stranger_body = SecretKey::from_seed(random_seed());
    let mut rogue = Rogue::new(random_seed(), &stranger_body, "陌生机构");
    // Do not answer A's Hello, so A cannot learn our body before we ask.
    rogue.answer_requests = false;
    rogue.dial(&a.addr()).await;
    let ask = Message::SyncRequest {
        space: id,
        genesis: None,
        vector: Vector::default(),
        tips: Tips::default(),
    };
    match rogue.request(&ask).await {
        Ok(Message::Refused {
            reason: Refusal::NotIdentified,
            ..
        }) => {}
        other => {
            panic!("a sync request before Hello must be refused as NotIdentified, got {other:?}")
        }
    }

    // Replaying B's node certificate (public) does not make us B's body: it is for another
    // key than our connection's.
    match rogue
        .request(&Message::Hello {
            node: node_cert(&b.dir),
            chain: vec![],
        })
        .await
    {
        Ok(Message::Refused { .. }) | Err(_) => {}
        other => panic!("a Hello with another node's certificate must be refused, got {other:?}"),
    }
    match rogue.request(&ask).await {
        Ok(Message::Refused {
            reason: Refusal::NotIdentified,
            ..
        }) => {}
        other => {
            panic!("after a replayed certificate we must still be unidentified, got {other:?}")
        }
    }

    rogue.answer_requests = true;
    let ack = rogue.hello().await;
    assert_eq!(ack.body, a.body);
    match rogue.request(&ask).await {
        Ok(Message::Refused {
            reason: Refusal::NotMember | Refusal::UnknownSpace,
            ..
        }) => {}
        other => panic!("a stranger's sync request must be refused, got {other:?}"),
    }
    let push = Message::Push {
        space: id,
        genesis: None,
        certs: vec![],
        entries: vec![],
    };
    match rogue.request(&push).await {
        Ok(Message::Refused {
            reason: Refusal::NotMember | Refusal::UnknownSpace,
            ..
        }) => {}
        other => panic!("a stranger's push must be refused, got {other:?}"),
    }

    // A genesis of the stranger's own making: it names the stranger's body but cannot hash
    // to the real space id.
    let member = SecretKey::from_seed(random_seed());
    let member_cert = Certificate::issue(
        &stranger_body,
        "陌生机构",
        member.public(),
        Subject::member("陌生人", Role::Staff),
        unix_now(),
    )
    .expect("cert");
    let forged = Genesis::create(
        SpaceKind::Agenda,
        &[a.body, b.body],
        unix_now(),
        [7; 16],
        member_cert.clone(),
        &member,
    )
    .expect("genesis");
    assert_ne!(forged.id(), id);
    match rogue
        .request(&Message::SyncRequest {
            space: id,
            genesis: Some(forged.clone()),
            vector: Vector::default(),
            tips: Tips::default(),
        })
        .await
    {
        Ok(Message::Refused { .. }) | Err(_) => {}
        other => {
            panic!("a genesis that does not match the space id must be refused, got {other:?}")
        }
    }
    // A space of its own that does not name A's body.
    let own = Genesis::create(
        SpaceKind::Agenda,
        &[b.body],
        unix_now(),
        [8; 16],
        member_cert,
        &member,
    )
    .expect("genesis");
    match rogue
        .request(&Message::SyncRequest {
            space: own.id(),
            genesis: Some(own.clone()),
            vector: Vector::default(),
            tips: Tips::default(),
        })
        .await
    {
        Ok(Message::Refused {
            reason: Refusal::NotMember,
            ..
        }) => {}
        other => panic!("a space that does not name A must be refused as NotMember, got {other:?}"),
    }
    assert!(
        a.space(own.id()).await.is_none(),
        "A joined a space that does not name its body"
    );

    // Stay connected (identified) over several anti-entropy rounds, recording what A sends.
    rogue.pump(SEVERAL_ROUNDS).await;
    assert!(
        !rogue.inbound.is_empty(),
        "the rogue recorded nothing: A sent not even Hello"
    );
    for msg in &rogue.inbound {
        match msg {
            Ok(m) => assert_ne!(
                m.space(),
                Some(id),
                "A sent the stranger a message about the space: {m:?}"
            ),
            Err(e) => panic!("A sent the rogue a message that does not decode: {e}"),
        }
        if let Ok(Message::Push { entries, .. }) = msg {
            assert!(
                entries.is_empty(),
                "A pushed entries to a stranger: {entries:?}"
            );
        }
    }
    let status = a.status_now().await;
    assert!(
        status
            .peers
            .iter()
            .any(|p| p.peer_id == rogue.swarm.local_peer_id().to_string()
                && p.body.as_ref().map(|x| x.id.clone())
                    == Some(stranger_body.public().to_string())),
        "the test is only meaningful if A had identified the stranger: {:?}",
        status.peers
    );
    unchanged(&a, id, &before_a, "the stranger's requests").await;
    honest_sync_still_works(&a, &b, id, "陌生机构请求之后").await;
}

/// Malformed requests — random bytes, empty, truncated valid messages, unknown version and
/// type, trailing bytes, absurd counts — get a Refused answer or are dropped; the node keeps
/// its data and keeps syncing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_refused_and_the_node_keeps_serving() {
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let before_a = a.show(id).await;

    let mut rogue = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    rogue.dial(&a.addr()).await;
    rogue.hello().await;
    let entries = fetch_entries(&mut rogue, id).await;
    let valid_push = Message::Push {
        space: id,
        genesis: None,
        certs: vec![],
        entries: entries.clone(),
    }
    .encode();
    let valid_hello = Message::Hello {
        node: rogue.cert.clone(),
        chain: vec![],
    }
    .encode();

    let mut garbage: Vec<(&str, Vec<u8>)> = vec![
        (
            "random bytes",
            (0..4096).map(|_| rand::random::<u8>()).collect(),
        ),
        ("empty", vec![]),
        ("version only", vec![1]),
        ("unknown version", {
            let mut v = valid_hello.clone();
            v[0] = 2;
            v
        }),
        ("unknown type", vec![1, 99, 0, 0]),
        (
            "truncated push",
            valid_push[..valid_push.len() / 2].to_vec(),
        ),
        (
            "push cut by one byte",
            valid_push[..valid_push.len() - 1].to_vec(),
        ),
        (
            "truncated hello",
            valid_hello[..valid_hello.len() - 10].to_vec(),
        ),
        ("push with a trailing byte", {
            let mut v = valid_push.clone();
            v.push(0);
            v
        }),
        ("absurd entry count", {
            let mut v = vec![1, 5];
            v.extend_from_slice(id.as_bytes());
            v.push(0); // no genesis
            v.extend_from_slice(&0u32.to_be_bytes()); // no certs
            v.extend_from_slice(&u32::MAX.to_be_bytes()); // 4 billion entries
            v
        }),
    ];
    // A valid push whose entry bytes have one bit flipped in the change: no longer decodes.
    let mut flipped = valid_push.clone();
    let at = flipped.len() - 64 - 20;
    flipped[at] ^= 0x40;
    garbage.push(("push with a corrupted entry", flipped));

    for (what, bytes) in garbage {
        match rogue.request_bytes(bytes).await {
            Err(_) => {} // dropped
            Ok(response) => match Message::decode(&response) {
                Ok(Message::Refused { .. }) => {}
                // A corrupted byte may still leave a valid message (e.g. inside a change's
                // text): then the entries must be duplicates or rejected, checked below.
                Ok(Message::PushAck { .. }) if what == "push with a corrupted entry" => {}
                other => panic!("{what}: expected Refused or a dropped request, got {other:?}"),
            },
        }
    }

    // A still serves: its data is intact, and the rogue's connection still gets answers.
    unchanged(&a, id, &before_a, "malformed requests").await;
    match rogue
        .request(&Message::SyncRequest {
            space: id,
            genesis: None,
            vector: Vector::default(),
            tips: Tips::default(),
        })
        .await
    {
        Ok(Message::SyncResponse { entries: again, .. }) => assert_eq!(again.len(), entries.len()),
        Ok(other) => panic!("after garbage, a valid request got {other:?}"),
        Err(e) => {
            tracing::info!(error = %e, "the node dropped the rogue after garbage (acceptable)")
        }
    }
    honest_sync_still_works(&a, &b, id, "畸形请求之后").await;
}

/// One member key on two nodes: A and A2 are the same body, A2 a copy of A's data directory
/// with its own node key. B (which creates it) and C share an agenda with that body; B is
/// connected to A, A2 and C, A and A2 never to each other. A2 goes offline; A writes its
/// first entry (seq 1), which reaches B and C; A2 comes back isolated and writes a
/// different entry at the same seq.
struct Forked {
    a: TestNode,
    a2: TestNode,
    b: TestNode,
    c: TestNode,
    id: SpaceId,
    /// The shared member key, hex.
    key: String,
}

const TITLE_A: &str = "A 节点的标题";
const TITLE_A2: &str = "A2 节点的标题";

async fn forked_member_key(fed: &Federation) -> Forked {
    let dir_a = fed.init("A 政协");
    let dir_a2 = fed.dir("A2");
    clone_member_to_new_node(&dir_a, &dir_a2);
    let a = TestNode::start("A", confer_node::Config::loopback(&dir_a)).await;
    let mut a2 = TestNode::start("A2", confer_node::Config::loopback(&dir_a2)).await;
    assert_eq!(a.body, a2.body);
    assert_eq!(
        a.member_key(),
        a2.member_key(),
        "A and A2 share one member key"
    );
    assert_ne!(a.peer_id(), a2.peer_id());
    let key = a.member_key().to_owned();
    let mut b = fed.spawn("B 政协").await;
    let c = fed.spawn("C 政协").await;
    connect(&b, &a).await;
    connect(&b, &a2).await;
    connect(&b, &c).await;

    let id = b.create_agenda("一钥两用测试议题", &[&a, &c]).await;
    // A, A2 and C do not trust each other's bodies: their operators accept.
    for n in [&a, &a2, &c] {
        n.accept_invitation(id).await;
        wait_has_agenda(n, id).await;
    }

    a2.shutdown().await;
    a.edit(id, Some(TITLE_A), None).await;
    for n in [&b, &c] {
        wait_view(n, id, "A's first entry arrives", |v| {
            v.vector.get(&key) == Some(&1) && v.text("title") == TITLE_A
        })
        .await;
    }
    // A2 comes back while B — the only node it knows — is down: isolated. Same seq (1),
    // different change.
    b.shutdown().await;
    a2.restart().await;
    a2.edit(id, Some(TITLE_A2), None).await;
    let on_a2 = a2.show(id).await;
    assert_eq!(on_a2.vector.get(&key), Some(&1));
    assert_eq!(on_a2.text("title"), TITLE_A2);
    assert!(
        a2.status_now().await.peers.is_empty(),
        "A2 must be isolated"
    );
    b.restart_on_same_port()
        .await
        .expect("B restarts on its old port");
    Forked {
        a,
        a2,
        b,
        c,
        id,
        key,
    }
}

/// A2's entry as a member-body node fetching from A2 sees it.
async fn fetch_fork(a2: &TestNode, member_body: &TestNode, id: SpaceId) -> Entry {
    let mut courier = Rogue::new(random_seed(), &member_body.body_secret(), &member_body.name);
    courier.dial(&a2.addr()).await;
    courier.hello().await;
    let entries = fetch_entries(&mut courier, id).await;
    let key = a2.member_public();
    entries
        .into_iter()
        .find(|e| e.author() == key && e.seq() == 1)
        .expect("A2 holds its entry at seq 1")
}

/// The second entry at (A's member key, 1) reaches B, which already holds A's: B records
/// the equivocation, keeps exactly the entry it had, refuses the key from then on (A's next
/// entry too), keeps syncing other authors, and still knows all of it after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equivocation_is_detected_and_contained() {
    let fed = Federation::new();
    let Forked {
        a,
        a2,
        mut b,
        c,
        id,
        key,
    } = forked_member_key(&fed).await;

    // A node of a member body (certified by C's body) carries A2's entry to B.
    let fork = fetch_fork(&a2, &c, id).await;
    let mut courier = Rogue::new(random_seed(), &c.body_secret(), &c.name);
    courier.dial(&b.addr()).await;
    courier.hello().await;
    let vector = push(&mut courier, id, vec![], vec![fork]).await;
    assert_eq!(vector.get(&a.member_public()), 1);

    let space = eventually(
        "B lists the shared member key as an equivocator",
        WAIT,
        || async {
            let s = b.space(id).await.ok_or("B lost the space")?;
            ensure(s.equivocators.contains(&key), || {
                format!("equivocators {:?}, vector {:?}", s.equivocators, s.vector)
            })?;
            Ok(s)
        },
    )
    .await;
    assert_eq!(
        space.equivocators,
        vec![key.clone()],
        "only that key equivocated"
    );
    assert_eq!(
        space.vector.get(&key),
        Some(&1),
        "B holds exactly one entry at the equivocating seq"
    );
    assert_eq!(space.pending, 0);
    let on_b = b.show(id).await;
    assert_eq!(on_b.equivocators, vec![key.clone()]);
    assert_eq!(
        field_values(&on_b, "title"),
        vec![TITLE_A.to_owned()],
        "B keeps the entry it held, and only it"
    );
    assert_eq!(on_b.entries, 2);

    // B passes the evidence on to every member peer, A included: A's own node learns that
    // its member key forked, and from then on refuses to write with it (a clear error,
    // rather than entries every other node would refuse).
    eventually(
        "the evidence reaches A, which lists its own key as an equivocator",
        WAIT,
        || async {
            let s = a.space(id).await.ok_or("A lost the space")?;
            ensure(s.equivocators.contains(&key), || {
                format!("A's equivocators: {:?}", s.equivocators)
            })
        },
    )
    .await;
    let refused = a
        .handle
        .edit_agenda(
            id,
            AgendaEdit {
                title: None,
                summary: Some("A 在被拒后写的摘要".into()),
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("equivocat")),
        "A's node still wrote with the forked key: {refused:?}"
    );
    // Other authors keep syncing: C's edit reaches B and A, B's edit reaches C and A.
    c.edit(id, None, Some("C 的摘要")).await;
    b.edit(id, Some("B 在发现后修改的标题"), None).await;
    for n in [&b, &c] {
        let v = wait_view(n, id, "C's and B's later edits arrive", |v| {
            v.vector.get(c.member_key()) == Some(&1) && v.vector.get(b.member_key()) == Some(&2)
        })
        .await;
        assert_eq!(v.text("title"), "B 在发现后修改的标题");
    }
    wait_view(&a, id, "C's and B's later edits reach A through B", |v| {
        v.vector.get(c.member_key()) == Some(&1) && v.vector.get(b.member_key()) == Some(&2)
    })
    .await;
    always(
        "B never applies a second entry of the equivocating key",
        SEVERAL_ROUNDS,
        || async {
            let s = b.space(id).await.ok_or("space gone")?;
            ensure(
                s.vector.get(&key) == Some(&1) && s.equivocators.contains(&key) && s.entries == 4,
                || {
                    format!(
                        "vector {:?}, equivocators {:?}, entries {}",
                        s.vector, s.equivocators, s.entries
                    )
                },
            )
        },
    )
    .await;
    let on_c = c.show(id).await;
    assert_eq!(
        on_c.vector.get(&key),
        Some(&1),
        "A's refused entry reached C: {}",
        describe(&on_c)
    );
    assert_ne!(on_c.text("summary"), "A 在被拒后写的摘要");

    // The evidence and the refusal survive a restart of B.
    let before = b.show(id).await;
    b.shutdown().await;
    b.restart().await;
    let space = b.space(id).await.expect("space after restart");
    assert_eq!(
        space.equivocators,
        vec![key.clone()],
        "equivocation forgotten across a restart"
    );
    let after = b.show(id).await;
    assert!(
        same_state(&before, &after),
        "state changed across the restart: {} vs {}",
        describe(&before),
        describe(&after)
    );
    // B redials A (which still offers its refused entry) and C: still refused, still syncing.
    wait_connected(&b, &a).await;
    wait_connected(&b, &c).await;
    c.edit(id, None, Some("C 在 B 重启后的摘要")).await;
    let v = wait_view(&b, id, "C's edit reaches B after B's restart", |v| {
        v.vector.get(c.member_key()) == Some(&2)
    })
    .await;
    assert_eq!(
        v.vector.get(&key),
        Some(&1),
        "A's refused entry got in after the restart: {}",
        describe(&v)
    );
    assert_eq!(v.equivocators, vec![key.clone()]);
}

/// The same fork, but the two entries meet the way they would in practice: B, holding A's
/// entry, connects to A2, holding the other entry at the same seq. One of them must notice.
///
/// Version vectors alone would hide this fork (both say `{key: 1}`); the tips that travel
/// with them (`space::Tips`) show that the entries differ, the side that notices sends its
/// entry, and the detecting node passes the evidence on to every member peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equivocation_is_detected_when_the_forks_meet_through_sync() {
    let fed = Federation::new();
    let Forked { a2, b, id, key, .. } = forked_member_key(&fed).await;
    connect(&b, &a2).await;
    b.edit(id, None, Some("B 连接 A2 之后的摘要")).await;
    eventually("B and A2 list the shared member key as an equivocator", WAIT, || async {
        let sb = b.space(id).await.ok_or("B lost the space")?;
        let sa2 = a2.space(id).await.ok_or("A2 lost the space")?;
        ensure(sb.equivocators.contains(&key) && sa2.equivocators.contains(&key), || {
            format!(
                "B: equivocators {:?} vector {:?} pending {}; A2: equivocators {:?} vector {:?} pending {}",
                sb.equivocators, sb.vector, sb.pending, sa2.equivocators, sa2.vector, sa2.pending
            )
        })
    })
    .await;
}

/// `GET /v1/agendas/{id}/equivocations` on `node`, through its real API (started for the
/// call, token from the `api.json` it writes): also checks that the route refuses a
/// request without the token and answers 404 for an agenda the node does not hold.
async fn served_evidence(node: &TestNode, id: SpaceId) -> Vec<EquivocationView> {
    let api_file = node.dir.join("api.json");
    let server = confer_node::api::serve(
        "127.0.0.1:0".parse().expect("loopback address"),
        node.handle.clone(),
        &api_file,
    )
    .await
    .expect("the API starts");
    let file: ApiFile =
        serde_json::from_slice(&std::fs::read(&api_file).expect("api.json written"))
            .expect("api.json parses");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client");
    let base = format!("http://{}", server.addr);
    let url = format!("{base}/v1/agendas/{id}/equivocations");
    let refused = http.get(&url).send().await.expect("request");
    assert_eq!(refused.status(), 401, "evidence served without the token");
    let other = format!("{base}/v1/agendas/{}/equivocations", "ab".repeat(32));
    let unknown = http
        .get(&other)
        .bearer_auth(&file.token)
        .send()
        .await
        .expect("request");
    assert_eq!(unknown.status(), 404, "an agenda the node does not hold");
    let response = http
        .get(&url)
        .bearer_auth(&file.token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let served: Vec<EquivocationView> = response.json().await.expect("evidence JSON");
    // `GET /v1/status` through the same API lists the same equivocations (without bytes).
    let status: confer_node::views::StatusView = http
        .get(format!("{base}/v1/status"))
        .bearer_auth(&file.token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("status JSON");
    assert_eq!(status.equivocations, without_bytes(&served));
    server.stop().await;
    served
}

/// The evidence as `status` and `agenda show` list it: without the entries' bytes and the
/// certificate.
fn without_bytes(served: &[EquivocationView]) -> Vec<EquivocationView> {
    let mut listed = served.to_vec();
    for e in &mut listed {
        e.certificate = None;
        for x in &mut e.entries {
            x.bytes = None;
        }
    }
    listed
}

/// B, holding A's entry at (A's member key, seq 1), meets A2's different entry at that
/// seq. B's `status` and its view of the agenda list the equivocation: the space, the key,
/// the body it writes for with the names its certificates give, the seq, both change
/// hashes and when B detected it. B's API serves both signed entries and the key's
/// member certificate, which decode and verify offline (and a tampered copy does not).
/// After B restarts from its redb file all of it is the same, detection time included. A
/// learns of the fork from B and lists it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equivocation_evidence_is_listed_served_and_kept_across_a_restart() {
    let fed = Federation::new();
    let before = unix_now();
    let Forked {
        a,
        a2,
        mut b,
        c,
        id,
        key,
    } = forked_member_key(&fed).await;
    // The two entries at (A's key, 1): A's own and A2's.
    let held = fetch_fork(&a, &c, id).await;
    let fork = fetch_fork(&a2, &c, id).await;
    assert_ne!(held.change_hash(), fork.change_hash());
    let mut courier = Rogue::new(random_seed(), &c.body_secret(), &c.name);
    courier.dial(&b.addr()).await;
    courier.hello().await;
    push(&mut courier, id, vec![], vec![fork.clone()]).await;

    let listed = eventually("B's status lists the equivocation", WAIT, || async {
        let s = b.status_now().await;
        ensure(!s.equivocations.is_empty(), || {
            format!("equivocations {:?}", s.equivocations)
        })?;
        Ok(s.equivocations)
    })
    .await;
    let after = unix_now();
    assert_eq!(listed.len(), 1, "one equivocation: {listed:?}");
    let e = &listed[0];
    assert_eq!(e.space, id.to_string());
    assert_eq!(e.author, key);
    assert_eq!(e.seq, 1);
    assert_eq!(
        e.body,
        Some(BodyView {
            id: a.body.to_string(),
            name: Some("A 政协".into()),
        }),
        "the body the key writes for, named by its certificate"
    );
    assert_eq!(e.member_name.as_deref(), Some("A 政协 秘书处"));
    let hashes = |e: &EquivocationView| -> BTreeSet<(String, String)> {
        e.entries
            .iter()
            .map(|x| (x.change_hash.clone(), x.entry_hash.clone()))
            .collect()
    };
    let expected: BTreeSet<(String, String)> = [&held, &fork]
        .iter()
        .map(|x| (x.change_hash().to_string(), x.hash().to_string()))
        .collect();
    assert_eq!(hashes(e), expected, "both entries' hashes");
    assert!(e.entries.iter().all(|x| x.body.id == a.body.to_string()));
    let detected = e.detected_at.expect("B records when it detected the fork");
    assert!(
        (before..=after).contains(&detected),
        "detected at {detected}, not between {before} and {after}"
    );
    assert_eq!(
        e.certificate, None,
        "status lists the evidence, it does not carry it"
    );
    assert!(e.entries.iter().all(|x| x.bytes.is_none()));
    assert_eq!(
        b.show(id).await.equivocations,
        listed,
        "the agenda view lists the same equivocation"
    );

    // The evidence itself, for anyone to check without trusting B.
    let check_served = |served: &[EquivocationView]| {
        assert_eq!(without_bytes(served), listed);
        let e = &served[0];
        let mut changes = BTreeSet::new();
        for x in &e.entries {
            let bytes = hex::decode(x.bytes.as_deref().expect("entry bytes served"))
                .expect("entry bytes are hex");
            let entry = Entry::decode(bytes.clone()).expect("a served entry decodes");
            entry.verify().expect("a served entry's signature verifies");
            assert_eq!(entry.space(), id);
            assert_eq!(entry.author(), a.member_public());
            assert_eq!(entry.seq(), 1);
            assert_eq!(entry.body(), a.body);
            assert_eq!(entry.hash().to_string(), x.entry_hash);
            assert_eq!(entry.change_hash().to_string(), x.change_hash);
            changes.insert(entry.change_hash());
            // One flipped bit of the signature and the check fails.
            let mut tampered = bytes;
            if let Some(last) = tampered.last_mut() {
                *last ^= 1;
            }
            let tampered = Entry::decode(tampered).expect("still decodes");
            assert!(tampered.verify().is_err(), "a tampered copy verifies");
        }
        assert_eq!(changes.len(), 2, "two different changes at one seq");
        let cert = Certificate::decode(
            &hex::decode(e.certificate.as_deref().expect("member certificate served"))
                .expect("certificate is hex"),
        )
        .expect("the served certificate decodes and verifies");
        assert_eq!(cert.key, a.member_public());
        assert_eq!(cert.body, a.body);
        assert!(cert.is_member());
    };
    let served = served_evidence(&b, id).await;
    check_served(&served);

    // A learns of the fork from B and lists the same pair.
    let on_a = eventually("A lists the equivocation", WAIT, || async {
        let s = a.status_now().await;
        ensure(!s.equivocations.is_empty(), || {
            format!("A's equivocations {:?}", s.equivocations)
        })?;
        Ok(s.equivocations)
    })
    .await;
    assert_eq!(on_a.len(), 1);
    assert_eq!((&on_a[0].author, on_a[0].seq), (&key, 1));
    assert_eq!(hashes(&on_a[0]), expected);

    // All of it survives a restart of B from its redb file.
    b.shutdown().await;
    b.restart().await;
    assert_eq!(
        b.status_now().await.equivocations,
        listed,
        "status after the restart"
    );
    assert_eq!(
        b.show(id).await.equivocations,
        listed,
        "agenda view after the restart"
    );
    let again = served_evidence(&b, id).await;
    assert_eq!(again, served, "evidence served after the restart");
}

/// After the fork, A's body decides that A2's entry stands (the one B did not hold): every
/// member node, B and C included, drops A's side, takes A2's, stops refusing the key up to
/// there, and converges; the key writes nothing more in the space.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_resolved_by_its_body_converges_every_member_on_the_chosen_side() {
    use confer_protocol::revocation::{Revocation, Scope};
    let fed = Federation::new();
    let Forked {
        a,
        a2,
        b,
        c,
        id,
        key,
    } = forked_member_key(&fed).await;
    let fork = fetch_fork(&a2, &c, id).await;
    let mut courier = Rogue::new(random_seed(), &c.body_secret(), &c.name);
    courier.dial(&b.addr()).await;
    courier.hello().await;
    push(&mut courier, id, vec![], vec![fork.clone()]).await;
    for n in [&a, &b, &c] {
        wait_view(n, id, "the fork is known", |v| {
            v.equivocators == vec![key.clone()]
        })
        .await;
    }

    let decision = Revocation::unsigned(
        a.body,
        a.member_public(),
        unix_now(),
        Scope::Fork {
            space: id,
            seq: 1,
            stands: fork.change_hash().0,
        },
    )
    .sign(&a.body_secret())
    .expect("sign");
    a.handle.revoke(vec![decision]).await.expect("resolve");

    let view = converged(
        &[&a, &a2, &b, &c],
        id,
        "every member keeps A2's side",
        |v| v.equivocators.is_empty() && v.text("title") == TITLE_A2,
    )
    .await;
    assert_eq!(view.vector.get(&key), Some(&1));
    assert_eq!(field_values(&view, "title"), vec![TITLE_A2.to_owned()]);
    // The evidence stays listed, marked resolved with the side that stands.
    let listed = b.status_now().await.equivocations;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        listed[0].resolved.as_deref(),
        Some(hex::encode(fork.change_hash().0).as_str())
    );
    let refused = a2
        .handle
        .edit_agenda(
            id,
            AgendaEdit {
                title: Some("之后".into()),
                summary: None,
            },
        )
        .await;
    assert!(
        refused.is_err(),
        "the key wrote after its fork was resolved"
    );
    // The others keep syncing.
    c.edit(id, None, Some("C 在处理后写的摘要")).await;
    converged(&[&a, &b, &c], id, "C's later edit arrives", |v| {
        v.text("summary") == "C 在处理后写的摘要"
    })
    .await;
}
