//! Changing an agenda's member bodies: a further body invited with every member's consent,
//! a body leaving. The added body catches up and writes; the body that left is sent
//! nothing new and writes nothing more; every node agrees, also after a restart.

use confer_protocol::Role;

use crate::support::*;

/// Gives `node`'s body a member who may sign for it, and loads it; returns its key.
async fn signer(node: &TestNode, name: &str) -> confer_protocol::PublicKey {
    let cert = confer_node::identity::members::add_member(
        &node.dir,
        &node.body_secret(),
        name,
        Role::SecretaryGeneral,
        true,
        unix_now(),
    )
    .expect("member add");
    node.handle.reload_members().await.expect("reload");
    cert.key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_invited_by_all_members_joins_and_a_body_that_leaves_gets_nothing_new() {
    let fed = Federation::new();
    let a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    let mut c = fed.spawn("C 政协").await;
    connect(&a, &b).await;
    connect(&a, &c).await;
    connect(&b, &c).await;
    let id = a.create_agenda("扩大联动范围", &[&b]).await;
    wait_has_agenda(&b, id).await;
    b.edit(id, None, Some("B 的摘要")).await;

    // Only a member that may sign for its body consents.
    let refused = a.handle.invite(id, c.body, None).await;
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("may sign")),
        "{refused:?}"
    );
    signer(&a, "甲秘书长").await;
    signer(&b, "乙秘书长").await;
    let change = a.handle.invite(id, c.body, None).await.expect("invite");

    // B sees the change waiting for its consent; C is not a member yet.
    let on_b = wait_view(&b, id, "B sees the invitation waiting for it", |v| {
        v.membership.pending.iter().any(|p| {
            p.id == change
                && p.missing.iter().map(|m| m.id.clone()).collect::<Vec<_>>()
                    == vec![b.body.to_string()]
        })
    })
    .await;
    assert_eq!(on_b.members.len(), 2);
    assert!(
        c.try_show(id).await.is_err(),
        "C holds nothing before every member agreed"
    );
    b.handle
        .consent(id, change[..12].to_owned(), None)
        .await
        .expect("consent");

    // Every member agreed: C is invited (its operator decides) and catches up. Its list
    // shows the invitation's members as the change made them (A, B and C), not the
    // genesis's (A and B).
    let mut want = vec![a.body.to_string(), b.body.to_string(), c.body.to_string()];
    want.sort();
    eventually(
        "C's list shows the invitation with A, B and C",
        WAIT,
        || async {
            let list = c.handle.list_agendas().await.map_err(|e| e.to_string())?;
            let invitation = list.iter().find(|s| s.id == id.to_string() && s.invited);
            let mut members: Vec<String> = invitation
                .map(|s| s.members.iter().map(|m| m.id.clone()).collect())
                .unwrap_or_default();
            members.sort();
            ensure(members == want, || format!("{list:?}"))
        },
    )
    .await;
    c.accept_invitation(id).await;
    let on_c = wait_view(&c, id, "C catches up", |v| v.text("summary") == "B 的摘要").await;
    assert_eq!(on_c.members.len(), 3);
    c.edit(id, Some("C 加入后的标题"), None).await;
    converged(&[&a, &b, &c], id, "C's edit reaches A and B", |v| {
        v.text("title") == "C 加入后的标题" && v.members.len() == 3
    })
    .await;

    // B leaves: what it wrote stays; it writes nothing more and is sent nothing new.
    b.handle.leave(id, None).await.expect("leave");
    for n in [&a, &c] {
        wait_view(n, id, "B has left", |v| {
            v.members.len() == 2
                && v.membership
                    .removed
                    .iter()
                    .any(|r| r.id == b.body.to_string())
        })
        .await;
    }
    let refused = b
        .handle
        .edit_agenda(
            id,
            confer_protocol::model::AgendaEdit {
                title: None,
                summary: Some("离开后".into()),
            },
        )
        .await;
    assert!(
        refused.is_err(),
        "a body that left still wrote: {refused:?}"
    );
    let before = b.show(id).await;
    a.edit(id, None, Some("B 离开后 A 的摘要")).await;
    wait_view(&c, id, "A's later edit reaches C", |v| {
        v.text("summary") == "B 离开后 A 的摘要"
    })
    .await;
    always("B is sent nothing new", SEVERAL_ROUNDS, || async {
        let now = b.show(id).await;
        ensure(now.vector == before.vector, || format!("{:?}", now.vector))
    })
    .await;
    // B's summary still stands where nobody overwrote it — it is A's now; B's entry stays
    // in every log.
    let on_a = a.show(id).await;
    assert_eq!(on_a.vector.get(b.member_key()), Some(&1));

    // C restarts from its redb file: the same members.
    c.shutdown().await;
    c.restart().await;
    let after = c.show(id).await;
    assert_eq!(after.members.len(), 2);
    assert!(after
        .membership
        .removed
        .iter()
        .any(|r| r.id == b.body.to_string()));
}

/// A and B remove C (C's consent is not needed): C's entries so far stay; what C writes
/// afterwards counts nowhere, and C is sent nothing new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_removed_by_the_others_gets_nothing_new_and_its_later_entries_count_nowhere() {
    let fed = Federation::new();
    let a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    let c = fed.spawn("C 政协").await;
    connect(&a, &b).await;
    connect(&a, &c).await;
    connect(&b, &c).await;
    let id = a.create_agenda("三方议题", &[&b, &c]).await;
    for n in [&b, &c] {
        wait_has_agenda(n, id).await;
    }
    c.edit(id, None, Some("C 被移除前的摘要")).await;
    converged(&[&a, &b, &c], id, "C's edit is everywhere", |v| {
        v.text("summary") == "C 被移除前的摘要"
    })
    .await;
    signer(&a, "甲秘书长").await;
    signer(&b, "乙秘书长").await;
    let change = a
        .handle
        .remove_body(id, c.body, None)
        .await
        .expect("propose");
    let seen = wait_view(&b, id, "B sees the removal waiting for it", |v| {
        v.membership
            .pending
            .iter()
            .any(|p| p.id == change && p.op == "remove")
    })
    .await;
    // What consenting agrees to keep of C is shown: C's key up to its one entry.
    let pending = seen
        .membership
        .pending
        .iter()
        .find(|p| p.id == change)
        .expect("pending");
    assert_eq!(pending.cutoffs.len(), 1, "{pending:?}");
    assert_eq!(
        (pending.cutoffs[0].key.as_str(), pending.cutoffs[0].up_to),
        (c.member_key(), 1)
    );
    b.handle.consent(id, change, None).await.expect("consent");
    for n in [&a, &b] {
        wait_view(n, id, "C is removed", |v| {
            v.members.len() == 2
                && v.membership
                    .removed
                    .iter()
                    .any(|r| r.id == c.body.to_string())
        })
        .await;
    }
    // C does not know; it writes on. Nothing of it counts at A or B, and A's next edit
    // does not reach C.
    c.edit(id, Some("C 被移除后的标题"), None).await;
    let before_c = c.show(id).await;
    a.edit(id, None, Some("移除 C 之后 A 的摘要")).await;
    wait_view(&b, id, "A's edit reaches B", |v| {
        v.text("summary") == "移除 C 之后 A 的摘要"
    })
    .await;
    always(
        "nothing new crosses to or from C",
        SEVERAL_ROUNDS,
        || async {
            let on_a = a.show(id).await;
            let on_c = c.show(id).await;
            ensure(
                on_a.vector.get(c.member_key()) == Some(&1) && on_c.vector == before_c.vector,
                || format!("A {:?} / C {:?}", on_a.vector, on_c.vector),
            )
        },
    )
    .await;
    let on_b = b.show(id).await;
    assert_ne!(on_b.text("title"), "C 被移除后的标题");
    assert_eq!(
        on_b.vector.get(c.member_key()),
        Some(&1),
        "C's entry from before stays"
    );
}

/// A and B add C; then B revokes the member who consented for it. That consent counts on no
/// node any more, wherever the revocation arrives after the change took effect: C is not a
/// member on A or on B, and every node agrees, also after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_consent_is_revoked_is_undone_on_every_member() {
    let fed = Federation::new();
    let mut a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    let c = fed.spawn("C 政协").await;
    connect(&a, &b).await;
    connect(&a, &c).await;
    connect(&b, &c).await;
    let id = a.create_agenda("撤销后的同意", &[&b]).await;
    wait_has_agenda(&b, id).await;
    signer(&a, "甲秘书长").await;
    let on_b = signer(&b, "乙秘书长").await;
    let change = a.handle.invite(id, c.body, None).await.expect("invite");
    wait_view(&b, id, "B sees the invitation", |v| {
        v.membership.pending.iter().any(|p| p.id == change)
    })
    .await;
    b.handle
        .consent(id, change.clone(), None)
        .await
        .expect("consent");
    converged(&[&a, &b], id, "C was added", |v| v.members.len() == 3).await;

    let reach = b.handle.freeze_member(on_b).await.expect("freeze");
    let body_key = b.body_secret();
    let revocations = reach
        .revocations()
        .expect("revocations")
        .into_iter()
        .map(|r| r.sign(&body_key).expect("sign"))
        .collect();
    b.handle.revoke(revocations).await.expect("revoke");
    converged(&[&a, &b], id, "B's revoked consent counts nowhere", |v| {
        v.members.len() == 2 && !v.members.iter().any(|m| m.id == c.body.to_string())
    })
    .await;

    a.shutdown().await;
    a.restart().await;
    let after = a.show(id).await;
    assert_eq!(after.members.len(), 2, "{:?}", after.members);
}

/// A proposes adding C, B proposes adding D, at once: each change needs both bodies, and
/// each body agreed to its own, so neither can complete. A takes back its consent to adding
/// C and consents to adding D: D joins, C does not, on both nodes, also after a restart. A
/// body cannot withdraw what it never agreed to, nor agree again to what it withdrew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_withdraws_its_consent_may_agree_to_another_change() {
    let fed = Federation::new();
    let mut a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    let c = fed.spawn("C 政协").await;
    let d = fed.spawn("D 政协").await;
    for (x, y) in [(&a, &b), (&a, &c), (&a, &d), (&b, &c), (&b, &d)] {
        connect(x, y).await;
    }
    let id = a.create_agenda("两个同时提出的变更", &[&b]).await;
    wait_has_agenda(&b, id).await;
    signer(&a, "甲秘书长").await;
    signer(&b, "乙秘书长").await;
    let add_c = a.handle.invite(id, c.body, None).await.expect("invite C");
    let add_d = b.handle.invite(id, d.body, None).await.expect("invite D");
    converged(&[&a, &b], id, "both proposals are pending", |v| {
        v.membership.pending.len() == 2
    })
    .await;
    let stuck = a.handle.consent(id, add_d.clone(), None).await;
    assert!(
        matches!(&stuck, Err(e) if e.to_string().contains("already agreed")),
        "{stuck:?}"
    );
    let never = a.handle.withdraw_consent(id, add_d.clone(), None).await;
    assert!(
        matches!(&never, Err(e) if e.to_string().contains("no consent")),
        "{never:?}"
    );

    a.handle
        .withdraw_consent(id, add_c.clone(), None)
        .await
        .expect("withdraw");
    let again = a.handle.consent(id, add_c.clone(), None).await;
    assert!(
        again.is_err(),
        "agreed again to a withdrawn change: {again:?}"
    );
    a.handle
        .consent(id, add_d.clone(), None)
        .await
        .expect("consent to D");
    converged(&[&a, &b], id, "D joined and C did not", |v| {
        v.members.len() == 3
            && v.members.iter().any(|m| m.id == d.body.to_string())
            && !v.members.iter().any(|m| m.id == c.body.to_string())
            && v.membership.pending.is_empty()
    })
    .await;

    a.shutdown().await;
    a.restart().await;
    let after = a.show(id).await;
    assert!(
        after.members.iter().any(|m| m.id == d.body.to_string()) && after.members.len() == 3,
        "{:?}",
        after.members
    );
}

/// B and C leave the agenda at once, on the same state: only one of the two changes can
/// follow that state (the lower id stands), so the other body's node proposes its leave
/// again on the new state. Both end up gone on every node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bodies_leaving_at_once_both_leave() {
    let fed = Federation::new();
    let a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    let c = fed.spawn("C 政协").await;
    connect(&a, &b).await;
    connect(&a, &c).await;
    connect(&b, &c).await;
    let id = a.create_agenda("两家同时退出", &[&b, &c]).await;
    wait_has_agenda(&b, id).await;
    wait_has_agenda(&c, id).await;
    signer(&b, "乙秘书长").await;
    signer(&c, "丙秘书长").await;
    let (left_b, left_c) = tokio::join!(b.handle.leave(id, None), c.handle.leave(id, None));
    let (left_b, left_c) = (left_b.expect("B leaves"), left_c.expect("C leaves"));
    assert_ne!(left_b, left_c);
    let on_a = converged(&[&a], id, "B and C both left, on A", |v| {
        v.members.len() == 1 && v.members[0].id == a.body.to_string()
    })
    .await;
    assert!(on_a.membership.pending.is_empty(), "{:?}", on_a.membership);
}
