//! Members and revocation across nodes: a body's further member writes as itself, and when
//! the body revokes a key, what that key signed afterwards (with a copy of it, say) counts
//! on no node — whether it arrived before the revocation or after — and stays so across a
//! restart from the redb file.

use confer_node::identity::members;
use confer_protocol::model::AgendaEdit;
use confer_protocol::{Entry, Role, SecretKey};

use crate::support::*;

fn summary(text: &str) -> AgendaEdit {
    AgendaEdit {
        title: None,
        summary: Some(text.to_owned()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_keys_later_entries_count_nowhere_in_any_order() {
    record_warnings();
    let fed = Federation::new();
    let (mut a, b, id) = pair(&fed).await;

    // B adds 王五 and writes as him.
    let cert = members::add_member(
        &b.dir,
        &b.body_secret(),
        "王五",
        Role::Member,
        false,
        unix_now(),
    )
    .expect("member add");
    let wang = cert.key;
    let listed = b.handle.reload_members().await.expect("reload");
    assert!(
        listed.iter().any(|m| m.name == "王五" && !m.revoked),
        "{listed:?}"
    );
    b.handle
        .edit_agenda_as(id, summary("王五 的意见"), Some(wang))
        .await
        .expect("edit as 王五");
    let wang_hex = wang.to_string();
    let seen = wait_view(&a, id, "A holds 王五's entry", |v| {
        v.vector.get(&wang_hex) == Some(&1)
    })
    .await;
    let value = seen
        .field("summary")
        .and_then(|f| f.current.clone())
        .expect("summary");
    assert_eq!(value.member_name.as_deref(), Some("王五"));

    // Someone holds a copy of 王五's key and signs more with it; a node of B's body (the
    // thief's, certified by a body key it should not have — the rogue stands for any
    // member-body node relaying it) delivers one entry to A before the revocation.
    let stolen = SecretKey::from_seed(read_seed(
        &b.dir.join("keys/members").join(format!("{wang}.key")),
    ));
    let mut courier = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    courier.dial(&a.addr()).await;
    courier.hello().await;
    let mut held: Vec<Entry> = fetch_entries(&mut courier, id).await;
    let mut doc = doc_from_entries(&held);
    let change = change_as(&mut doc, &wang, &[("summary", "盗用者 的修改")]);
    let theft_1 = forged_entry(id, b.body, &change, &stolen);
    held.push(theft_1.clone());
    let ack = courier
        .request(&confer_protocol::Message::Push {
            space: id,
            genesis: None,
            certs: vec![],
            entries: vec![theft_1.clone()],
        })
        .await;
    assert!(
        matches!(ack, Ok(confer_protocol::Message::PushAck { .. })),
        "{ack:?}"
    );
    wait_view(
        &a,
        id,
        "A applied the stolen entry (not revoked yet)",
        |v| v.vector.get(&wang_hex) == Some(&2) && v.text("summary") == "盗用者 的修改",
    )
    .await;

    // A passes the stolen entry on to B, whose node holds 王五's key and did not sign it:
    // B's status alerts its operator.
    let alert = eventually("B alerts on a foreign use of 王五's key", WAIT, || async {
        let status = b.status_now().await;
        status
            .foreign_use
            .iter()
            .find(|f| f.key == wang_hex && f.space == id.to_string())
            .cloned()
            .ok_or_else(|| format!("{:?}", status.foreign_use))
    })
    .await;
    assert_eq!(alert.seq, 2);

    // B's operator revokes 王五 (his node signed only seq 1: that is what stays).
    let reach = b.handle.freeze_member(wang).await.expect("freeze");
    assert_eq!(reach.spaces.get(&id.to_string()), Some(&1), "{reach:?}");
    let body_key = b.body_secret();
    let revocations = reach
        .revocations()
        .expect("revocations")
        .into_iter()
        .map(|r| r.sign(&body_key).expect("sign"))
        .collect();
    b.handle.revoke(revocations).await.expect("revoke");
    let err = b
        .handle
        .edit_agenda_as(id, summary("撤销后"), Some(wang))
        .await
        .expect_err("a revoked key writes nothing more");
    assert!(err.to_string().contains("revoked"), "{err}");

    // A withdraws the stolen entry when the revocation arrives: back to 王五's own value,
    // which stands and is marked as written by a key revoked since.
    let on_a = wait_view(&a, id, "A withdrew the stolen entry", |v| {
        v.vector.get(&wang_hex) == Some(&1) && v.text("summary") == "王五 的意见"
    })
    .await;
    let value = on_a
        .field("summary")
        .and_then(|f| f.current.clone())
        .expect("summary");
    assert!(value.author_revoked, "{value:?}");

    // After the revocation, the next stolen entry is refused outright.
    let mut doc = doc_from_entries(&held);
    let change = change_as(&mut doc, &wang, &[("title", "盗用者 再改")]);
    let theft_2 = forged_entry(id, b.body, &change, &stolen);
    let vector = match courier
        .request(&confer_protocol::Message::Push {
            space: id,
            genesis: None,
            certs: vec![],
            entries: vec![theft_1, theft_2],
        })
        .await
    {
        Ok(confer_protocol::Message::PushAck { vector, .. }) => vector,
        other => panic!("expected PushAck, got {other:?}"),
    };
    assert_eq!(vector.get(&wang), 1, "nothing past the cutoff is taken");
    // Refused with a warning naming the peer and the reason.
    let courier_id = courier.swarm.local_peer_id().to_string();
    eventually(
        "a warning names the courier and the revocation",
        WAIT,
        || async {
            let lines = warnings_naming(&courier_id);
            lines
                .iter()
                .find(|l| l.contains("was revoked by its body"))
                .cloned()
                .ok_or_else(|| format!("{lines:?}"))
        },
    )
    .await;

    // Both honest nodes agree, also after A restarts from its redb file.
    converged(&[&a, &b], id, "A and B agree after the revocation", |v| {
        v.vector.get(&wang_hex) == Some(&1)
    })
    .await;
    a.shutdown().await;
    a.restart().await;
    connect(&a, &b).await;
    let after = wait_view(&a, id, "A after restart", |v| {
        v.vector.get(&wang_hex) == Some(&1) && v.text("summary") == "王五 的意见"
    })
    .await;
    assert!(after
        .field("summary")
        .and_then(|f| f.current.clone())
        .is_some_and(|v| v.author_revoked));
    honest_sync_still_works(&a, &b, id, "撤销之后").await;
}

/// A's body key changes (`body-key rotate`); the node tells B with a fresh hello. A member
/// certified by the new key writes, and B attributes it to A's body — also after B restarts
/// from its redb file. A key that claims A's body without a chain is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_body_key_is_honoured_by_the_partner() {
    let fed = Federation::new();
    let (a, mut b, id) = pair(&fed).await;

    let link = confer_node::identity::rotate_body_key(&a.dir, None, unix_now()).expect("rotate");
    assert_eq!(link.body, a.body);
    assert_ne!(link.key, a.body.0);
    a.handle.reload_body_chain().await.expect("reload chain");
    // The new key is the one on disk now.
    let new_key = confer_node::identity::load_body_key(&a.dir, None).expect("load");
    assert_eq!(new_key.public(), link.key);

    let cert = members::add_member(&a.dir, &new_key, "赵六", Role::Chair, true, unix_now())
        .expect("member add with the new body key");
    assert_eq!(cert.signer, link.key);
    assert_eq!(cert.body, a.body);
    a.handle.reload_members().await.expect("reload members");
    a.handle
        .edit_agenda_as(id, summary("赵六 的意见"), Some(cert.key))
        .await
        .expect("edit as 赵六");
    let zhao = cert.key.to_string();
    let on_b = wait_view(&b, id, "B takes 赵六's entry", |v| {
        v.vector.get(&zhao) == Some(&1)
    })
    .await;
    let value = on_b
        .field("summary")
        .and_then(|f| f.current.clone())
        .expect("summary");
    assert_eq!(value.member_name.as_deref(), Some("赵六"));
    assert_eq!(value.body.map(|x| x.id), Some(a.body.to_string()));
    assert!(on_b.all_signatures_verified);

    // B restarts from its redb file: the chain was stored with the certificates.
    b.shutdown().await;
    b.restart().await;
    connect(&a, &b).await;
    let after = b.show(id).await;
    let value = after
        .field("summary")
        .and_then(|f| f.current.clone())
        .expect("summary");
    assert_eq!(value.member_name.as_deref(), Some("赵六"));

    // Someone's key claiming A's body certifies a member: its entries are refused.
    let thief = SecretKey::from_seed(random_seed());
    let impostor = SecretKey::from_seed(random_seed());
    let forged = confer_protocol::Certificate::issue_for(
        a.body,
        &thief,
        "A 政协",
        impostor.public(),
        confer_protocol::Subject::member("冒名者", Role::Chair),
        unix_now(),
    )
    .expect("forged certificate");
    // (A relay node of B's own body carries it; A's body file now holds the new key.)
    let mut courier = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    courier.dial(&b.addr()).await;
    courier.hello().await;
    let held = fetch_entries(&mut courier, id).await;
    let mut doc = doc_from_entries(&held);
    let change = change_as(&mut doc, &impostor.public(), &[("title", "冒名者 的标题")]);
    let entry = forged_entry(id, a.body, &change, &impostor);
    let vector = match courier
        .request(&confer_protocol::Message::Push {
            space: id,
            genesis: None,
            certs: vec![forged],
            entries: vec![entry],
        })
        .await
    {
        Ok(confer_protocol::Message::PushAck { vector, .. }) => vector,
        other => panic!("expected PushAck, got {other:?}"),
    };
    assert_eq!(
        vector.get(&impostor.public()),
        0,
        "the impostor's entry is refused"
    );
    honest_sync_still_works(&a, &b, id, "换钥之后").await;
}

/// A node of A's body whose key is stolen: A revokes its node key; B, which had accepted
/// that node, disconnects it and refuses its Hello from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_node_key_is_disconnected_and_refused() {
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let mut stolen = Rogue::new(random_seed(), &a.body_secret(), "A 政协");
    stolen.dial(&b.addr()).await;
    stolen.hello().await;
    let peer = stolen.swarm.local_peer_id().to_string();
    assert!(b.has_proven_peer(&peer).await, "B took the node as A's");

    revoke_node_key(&a, &stolen, &[id]).await;

    eventually("B drops the revoked node", WAIT, || async {
        ensure(!b.has_proven_peer(&peer).await, || "still connected".into())
    })
    .await;
    // It comes back: its Hello is refused, with the reason.
    hello_refused_as_revoked(&b, &mut stolen).await;
    honest_sync_still_works(&a, &b, id, "撤销节点之后").await;
}

/// A stolen node key of A's body is revoked while the partners it fooled share no agenda
/// with A: the revocation reaches them anyway, outside any agenda — C, connected to A when
/// A revokes, and D, which meets A only afterwards — and each drops the node and refuses
/// its Hello from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_node_key_reaches_partners_that_share_no_agenda() {
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let c = fed.spawn("C 政协").await;
    let d = fed.spawn("D 政协").await;
    connect(&a, &c).await;

    // One stolen node key, used from two places.
    let seed = random_seed();
    let mut stolen = Rogue::new(seed, &a.body_secret(), "A 政协");
    let mut at_d = Rogue::new(seed, &a.body_secret(), "A 政协");
    stolen.dial(&c.addr()).await;
    stolen.hello().await;
    at_d.dial(&d.addr()).await;
    at_d.hello().await;
    let peer = stolen.swarm.local_peer_id().to_string();
    assert!(c.has_proven_peer(&peer).await, "C took the node as A's");
    assert!(d.has_proven_peer(&peer).await, "D took the node as A's");

    revoke_node_key(&a, &stolen, &[id]).await;

    eventually("C drops the revoked node", WAIT, || async {
        ensure(!c.has_proven_peer(&peer).await, || "still connected".into())
    })
    .await;
    assert!(
        d.has_proven_peer(&peer).await,
        "D has not met A yet, so it cannot know"
    );
    connect(&a, &d).await;
    eventually("D drops the revoked node once it meets A", WAIT, || async {
        ensure(!d.has_proven_peer(&peer).await, || "still connected".into())
    })
    .await;
    hello_refused_as_revoked(&c, &mut stolen).await;
    hello_refused_as_revoked(&d, &mut at_d).await;
    honest_sync_still_works(&a, &b, id, "撤销节点之后").await;
}
