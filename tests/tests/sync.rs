//! Sync between honest nodes: delivery to members only, convergence of concurrent edits,
//! and convergence through a third member when two members are not connected.

use crate::support::*;

/// Three bodies in a full mesh. An agenda between A and B reaches B and never C (which is
/// connected to both, so nothing but membership keeps it away); concurrent edits on A and
/// B converge to the same state with every signature verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agenda_reaches_members_only_and_concurrent_edits_converge() {
    let fed = Federation::new();
    let a = fed.spawn("平湖市政协").await;
    let b = fed.spawn("金山区政协").await;
    let c = fed.spawn("嘉善县政协").await;
    connect(&a, &b).await;
    connect(&a, &c).await;
    connect(&b, &c).await;

    let id = a.create_agenda("跨界河道水环境联防联治", &[&b]).await;
    let on_b = wait_has_agenda(&b, id).await;
    assert_eq!(on_b.text("title"), "跨界河道水环境联防联治");
    let member_ids: Vec<&str> = on_b.members.iter().map(|m| m.id.as_str()).collect();
    assert!(
        member_ids.contains(&a.body.to_string().as_str())
            && member_ids.contains(&b.body.to_string().as_str()),
        "members: {member_ids:?}"
    );
    assert_eq!(on_b.members.len(), 2, "only A and B are members");

    // Concurrent edits on both sides: both change the title, B also the summary.
    let title_a = "联防联治（平湖稿）";
    let title_b = "金山—平湖交界河道水污染联防联治";
    let summary_b = "建议两地建立交界河道联合巡查和信息通报机制";
    tokio::join!(
        a.edit(id, Some(title_a), None),
        b.edit(id, Some(title_b), Some(summary_b))
    );

    let view = converged(
        &[&a, &b],
        id,
        "A and B converge after concurrent edits",
        |v| v.entries == 3,
    )
    .await;
    let on_a = a.show(id).await;
    let on_b = b.show(id).await;
    assert_eq!(on_a.fields, on_b.fields);
    assert_eq!(on_a.vector, on_b.vector);
    assert!(on_a.all_signatures_verified && on_b.all_signatures_verified);
    assert_eq!(on_a.signatures_verified, 3);
    // The generic read path shows the same document on both nodes, and a refused action
    // through the generic write path changes nothing.
    let read_a = a.handle.read(id).await.expect("read on A");
    assert_eq!(read_a, b.handle.read(id).await.expect("read on B"));
    assert_eq!(read_a.title(), on_a.text("title"));
    let blank = confer_protocol::model::AgendaEdit {
        title: Some("  ".into()),
        summary: None,
    };
    assert!(matches!(
        a.handle.apply(id, blank.into(), None).await,
        Err(confer_node::NodeError::Refused { .. })
    ));
    assert_eq!(
        a.show(id).await.entries,
        3,
        "the refused action wrote nothing"
    );
    assert_eq!(
        view.vector.get(a.member_key()),
        Some(&2),
        "A wrote the first version and one edit"
    );
    assert_eq!(
        view.vector.get(b.member_key()),
        Some(&1),
        "B wrote one edit"
    );
    // Both titles survive (one current, the other a conflict, unless one edit saw the
    // other); the summary is B's, attributed to B's body.
    let titles = field_values(&view, "title");
    assert!(
        titles.contains(&title_a.to_owned()) || titles.contains(&title_b.to_owned()),
        "titles: {titles:?}"
    );
    assert!(
        !titles.contains(&"跨界河道水环境联防联治".to_owned()),
        "the first title was overwritten by both: {titles:?}"
    );
    let summary = view
        .fields
        .iter()
        .find(|f| f.name == "summary")
        .and_then(|f| f.current.clone())
        .expect("summary is set");
    assert_eq!(summary.value, summary_b);
    assert_eq!(summary.author, b.member_key());
    assert_eq!(
        summary.body.as_ref().map(|x| x.id.clone()),
        Some(b.body.to_string())
    );

    // C is connected to both the whole time but is not a member: it never gets the agenda.
    always(
        "C holds no trace of the agenda while connected to A and B",
        SEVERAL_ROUNDS,
        || async {
            let status = c.status_now().await;
            ensure(status.spaces.is_empty(), || {
                format!("C's status lists spaces: {:?}", status.spaces)
            })?;
            match c.try_show(id).await {
                Err(NodeError::UnknownAgenda(_)) => Ok(()),
                other => Err(format!("show_agenda on C gave {other:?}")),
            }
        },
    )
    .await;
    // …and it was connected to both all along (so only membership kept the agenda away).
    for n in [&a, &b] {
        assert!(
            c.has_proven_peer(n.peer_id()).await,
            "C is not connected to {}",
            n.name
        );
    }
    let traffic = c.status_now().await.traffic;
    for kind in ["sync-request", "sync-response", "push"] {
        assert!(
            !traffic.received.contains_key(kind),
            "C received {kind} messages: {traffic:?}"
        );
    }
    let listed = c.handle.list_agendas().await.expect("list on C");
    assert!(listed.is_empty(), "C lists agendas: {listed:?}");
}

/// A 3-body agenda where A and C are not directly connected (only A–B and B–C): what A
/// writes reaches C through B, and what C writes reaches A; and what A writes while C is
/// offline reaches C from B once C is back (anti-entropy through the third member).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_body_agenda_converges_through_a_third_member() {
    let fed = Federation::new();
    let a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    let c = fed.spawn("C 政协").await;
    connect(&a, &b).await;
    connect(&c, &b).await;

    // B knows both other bodies (A and C have never met), so B creates the agenda; A and
    // C, which do not trust each other, accept the invitation.
    let id = b.create_agenda("三地联动协商", &[&a, &c]).await;
    a.accept_invitation(id).await;
    c.accept_invitation(id).await;
    wait_has_agenda(&a, id).await;
    wait_has_agenda(&c, id).await;

    a.edit(id, Some("三地联动（A 稿）"), None).await;
    let on_c = wait_view(&c, id, "A's edit arrives through B", |v| {
        v.vector.get(a.member_key()) == Some(&1)
    })
    .await;
    assert_eq!(on_c.text("title"), "三地联动（A 稿）");
    // C has A's member certificate (it came with the entry through B): A's value is
    // attributed to A's body, and every signature verifies.
    let title = on_c
        .fields
        .iter()
        .find(|f| f.name == "title")
        .and_then(|f| f.current.clone())
        .expect("title");
    assert_eq!(title.author, a.member_key());
    assert_eq!(
        title.body.map(|x| x.id),
        Some(a.body.to_string()),
        "C attributes A's value to A's body"
    );
    assert!(on_c.all_signatures_verified);

    // Edits on the two ends at once, several each.
    let edits_a = async {
        for i in 0..3 {
            a.edit(id, None, Some(&format!("A 摘要 {i}"))).await;
        }
    };
    let edits_c = async {
        for i in 0..3 {
            c.edit(id, Some(&format!("C 标题 {i}")), None).await;
        }
    };
    tokio::join!(edits_a, edits_c);
    let view = converged(&[&a, &b, &c], id, "A, B and C converge through B", |v| {
        v.vector.get(a.member_key()) == Some(&4) && v.vector.get(c.member_key()) == Some(&3)
    })
    .await;
    assert_eq!(view.entries, 1 + 4 + 3);
    assert_eq!(view.text("summary"), "A 摘要 2");

    // A and C really never connected to each other.
    assert!(
        !a.has_proven_peer(c.peer_id()).await && !c.has_proven_peer(a.peer_id()).await,
        "A and C must not be directly connected"
    );
    let a_peers = a.status_now().await.peers;
    assert!(
        a_peers.iter().all(|p| p.peer_id != c.peer_id()),
        "A is connected to C: {a_peers:?}"
    );

    // C goes offline; A writes; B gets it at once; C, back (it remembers B), gets it from B.
    let mut c = c;
    c.shutdown().await;
    a.edit(id, Some("A 在 C 离线时修改"), None).await;
    wait_view(&b, id, "A's offline-time edit reaches B", |v| {
        v.vector.get(a.member_key()) == Some(&5)
    })
    .await;
    c.restart().await;
    let view = converged(
        &[&a, &b, &c],
        id,
        "C catches up from B after restarting",
        |v| v.vector.get(a.member_key()) == Some(&5),
    )
    .await;
    assert_eq!(view.text("title"), "A 在 C 离线时修改");
    assert!(
        !a.has_proven_peer(c.peer_id()).await,
        "A and C must not be directly connected"
    );
}

/// Spaces created while the other member was offline reach it when the two reconnect,
/// through the session's own pulls: the anti-entropy timer is set to an hour, so nothing
/// else could bring them. Done in both directions, so whichever node has the smaller key,
/// the side that does not know the space yet gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_brings_spaces_created_offline_without_anti_entropy() {
    let fed = Federation::new();
    let hourly = |c: &mut confer_node::Config| c.sync_interval = Duration::from_secs(3600);
    let mut a = fed.spawn_with("平湖市政协", hourly).await;
    let mut b = fed.spawn_with("金山区政协", hourly).await;
    connect(&a, &b).await; // A remembers B's address and redials it

    b.shutdown().await;
    let s1 = a.create_agenda("B 离线时平湖创建的议题", &[&b]).await;
    b.restart_on_same_port()
        .await
        .expect("B restarts on its old port");
    converged(
        &[&a, &b],
        s1,
        "B gets the agenda made while it was offline",
        |v| v.text("title") == "B 离线时平湖创建的议题",
    )
    .await;

    a.shutdown().await;
    let s2 = b.create_agenda("A 离线时金山创建的议题", &[&a]).await;
    a.restart().await;
    let both = converged(
        &[&a, &b],
        s2,
        "A gets the agenda made while it was offline",
        |v| v.text("title") == "A 离线时金山创建的议题",
    )
    .await;
    assert!(both.all_signatures_verified);
}

/// A body whose node this node's operator has not added cannot draw it into an agenda (a
/// look-alike committee cannot plant spaces or certificates here); once the operator adds
/// that body's node, its agendas are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_bodies_the_operator_added_can_introduce_agendas() {
    let fed = Federation::new();
    let a = fed.spawn("平湖市政协").await;
    let s = fed.spawn("平湖市政协（冒名）").await;
    s.handle.add_peer(a.addr()).await.expect("S adds A");
    wait_trusted(&s, &a).await; // S trusts A, so S may name A in an agenda
    let id = s.create_agenda("冒名机构发起的议题", &[&a]).await;
    always(
        "A does not join an agenda made by a body it never added",
        SEVERAL_ROUNDS,
        || async {
            ensure(a.try_show(id).await.is_err(), || "A joined it".into())?;
            let status = a.handle.status().await.map_err(|e| e.to_string())?;
            let peer = status
                .peers
                .iter()
                .find(|p| p.body.as_ref().is_some_and(|b| b.id == s.body.to_string()));
            ensure(peer.is_some_and(|p| !p.trusted), || {
                format!("A's view of S: {peer:?}")
            })
        },
    )
    .await;
    a.handle.add_peer(s.addr()).await.expect("A adds S");
    let on_a = wait_has_agenda(&a, id).await;
    assert_eq!(on_a.members.len(), 2);
}

/// A writes 3,000 entries as fast as it can while B is connected (a bulk import, or a long
/// agenda written in one go): B ends up with every one and not one request from A to B
/// fails. Before requests were held back per peer (`event_loop/outbox.rs`), A opened a
/// stream per push, B dropped those past its 32 concurrent streams ("at capacity"), and
/// what they carried waited for a timeout or the next anti-entropy round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_writes_reaches_the_partner_without_a_failed_request() {
    use confer_protocol::model::{AgendaAction, ModelAction, RecordId, RecordKey, RecordWrite};
    const WRITES: u64 = 3_000;
    let fed = Federation::new();
    let a = fed.spawn("平湖市政协").await;
    let b = fed.spawn("金山区政协").await;
    connect(&a, &b).await;
    let id = a.create_agenda("批量录入", &[&b]).await;
    wait_has_agenda(&b, id).await;
    let write = |n: u64, create: bool, fields: Vec<(&'static str, String)>| -> ModelAction {
        AgendaAction::Write(RecordWrite {
            key: RecordKey {
                collection: if n == 0 { "round" } else { "suggestion" },
                body: None,
                id: RecordId::from_bytes(n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes()),
            },
            create,
            fields,
        })
        .into()
    };
    let round = RecordId::from_bytes(0u64.to_be_bytes()).to_string();
    a.handle
        .apply(id, write(0, true, vec![("number", "1".into())]), None)
        .await
        .expect("round");
    for n in 1..WRITES {
        a.handle
            .apply(
                id,
                write(
                    n,
                    true,
                    vec![("round", round.clone()), ("text", format!("意见建议 {n}"))],
                ),
                None,
            )
            .await
            .unwrap_or_else(|e| panic!("write {n}: {e}"));
    }
    // The agenda's first entry and the round come before the suggestions.
    let last = WRITES + 1;
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        b.handle.wait_for(id, a.member_public(), last),
    )
    .await
    .expect("B holds every entry within two minutes")
    .expect("wait");
    let status = a.status_now().await;
    assert_eq!(
        status.traffic.requests_failed, 0,
        "no request from A failed: {:?}",
        status.traffic
    );
    assert_eq!(status.traffic.requests_waiting, 0, "nothing left waiting");
}
