//! Shared imports and small helpers for the integration tests.

pub use confer_tests::*;

pub use confer_node::handle::NodeError;
pub use confer_protocol::SpaceId;
pub use std::time::Duration;

use confer_node::views::AgendaView;
use confer_protocol::space::Tips;
use confer_protocol::{Certificate, Entry, Message, Vector};

/// Long enough for several anti-entropy rounds (`Config::loopback` syncs every 2 s).
pub const SEVERAL_ROUNDS: Duration = Duration::from_secs(7);

/// Waits until `node` holds agenda `id` with its creator's first entry. A node learns a
/// space (its genesis) before the entries arrive; a test that edited in between would
/// write concurrently with the creator's title, and which title wins would then depend on
/// the order of the two member keys.
pub async fn wait_has_agenda(node: &TestNode, id: SpaceId) -> confer_node::views::AgendaView {
    eventually(
        &format!("{} holds agenda {}", node.name, id.fmt_short()),
        WAIT,
        || async {
            let v = node.try_show(id).await.map_err(|e| e.to_string())?;
            if v.entries >= 1 {
                Ok(v)
            } else {
                Err(describe(&v))
            }
        },
    )
    .await
}

/// Waits until `node`'s view of `id` satisfies `pred`.
pub async fn wait_view(
    node: &TestNode,
    id: SpaceId,
    what: &str,
    pred: impl Fn(&confer_node::views::AgendaView) -> bool,
) -> confer_node::views::AgendaView {
    eventually(&format!("{}: {what}", node.name), WAIT, || async {
        let v = node.try_show(id).await.map_err(|e| e.to_string())?;
        if pred(&v) {
            Ok(v)
        } else {
            Err(describe(&v))
        }
    })
    .await
}

/// Two members A and B, connected, sharing an agenda with two entries (A's creation, B's
/// edit), converged.
pub async fn pair(fed: &Federation) -> (TestNode, TestNode, SpaceId) {
    let a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    connect(&a, &b).await;
    let id = a.create_agenda("对抗测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;
    b.edit(id, None, Some("B 的摘要")).await;
    converged(&[&a, &b], id, "A and B share the agenda", |v| {
        v.entries == 2
    })
    .await;
    (a, b, id)
}

/// After the attack: a new edit on each honest node still reaches the other.
pub async fn honest_sync_still_works(
    a: &TestNode,
    b: &TestNode,
    id: SpaceId,
    tag: &str,
) -> AgendaView {
    let va = a
        .show(id)
        .await
        .vector
        .get(a.member_key())
        .copied()
        .unwrap_or(0);
    let vb = b
        .show(id)
        .await
        .vector
        .get(b.member_key())
        .copied()
        .unwrap_or(0);
    a.edit(id, Some(&format!("{tag}：A 的新标题")), None).await;
    b.edit(id, None, Some(&format!("{tag}：B 的新摘要"))).await;
    let view = converged(
        &[a, b],
        id,
        &format!("honest edits sync after {tag}"),
        |v| {
            v.vector.get(a.member_key()) == Some(&(va + 1))
                && v.vector.get(b.member_key()) == Some(&(vb + 1))
        },
    )
    .await;
    assert_eq!(view.text("title"), format!("{tag}：A 的新标题"));
    assert_eq!(view.text("summary"), format!("{tag}：B 的新摘要"));
    view
}

/// Asserts `node` still shows exactly `expected` (fields, vector, entries) and holds
/// nothing pending for `id`.
pub async fn unchanged(node: &TestNode, id: SpaceId, expected: &AgendaView, after: &str) {
    let now = node.show(id).await;
    assert!(
        same_state(expected, &now),
        "{} changed after {after}:\nbefore {}\nafter  {}",
        node.name,
        describe(expected),
        describe(&now)
    );
    let space = node.space(id).await.expect("space listed");
    assert_eq!(
        space.pending, 0,
        "{} keeps rejected entries pending after {after}",
        node.name
    );
}

/// The entries of `id` as a member-body rogue receives them from the honest node.
pub async fn fetch_entries(rogue: &mut Rogue, id: SpaceId) -> Vec<Entry> {
    match rogue
        .request(&Message::SyncRequest {
            space: id,
            genesis: None,
            vector: Vector::default(),
            tips: Tips::default(),
        })
        .await
    {
        Ok(Message::SyncResponse {
            entries,
            more: false,
            ..
        }) => entries,
        other => {
            panic!("a node of a member body asking for the space should get it, got {other:?}")
        }
    }
}

/// Pushes `entries` (with `certs`) and returns the PushAck vector; panics on anything else.
pub async fn push(
    rogue: &mut Rogue,
    id: SpaceId,
    certs: Vec<Certificate>,
    entries: Vec<Entry>,
) -> Vector {
    match rogue
        .request(&Message::Push {
            space: id,
            genesis: None,
            certs,
            entries,
        })
        .await
    {
        Ok(Message::PushAck { vector, .. }) => vector,
        other => panic!("expected PushAck from a member-body peer's push, got {other:?}"),
    }
}

/// `body_node` revokes the stolen node key of `rogue` (its body's) as `confer node revoke`
/// does: cutoff 0 in each space of `spaces`, and one revocation of scope `Later`.
pub async fn revoke_node_key(body_node: &TestNode, rogue: &Rogue, spaces: &[SpaceId]) {
    let reach = confer_node::views::Reach {
        body: body_node.body.to_string(),
        key: rogue.node_key.public().to_string(),
        spaces: spaces.iter().map(|s| (s.to_string(), 0)).collect(),
        since: unix_now(),
    };
    let body_key = body_node.body_secret();
    let signed = reach
        .revocations()
        .expect("revocations")
        .into_iter()
        .map(|r| r.sign(&body_key).expect("sign"))
        .collect();
    body_node
        .handle
        .revoke(signed)
        .await
        .expect("revoke the node key");
}

/// After `node` dropped the revoked `rogue`: its Hello is refused, naming the revocation.
pub async fn hello_refused_as_revoked(node: &TestNode, rogue: &mut Rogue) {
    rogue.dial(&node.addr()).await;
    let again = rogue
        .request(&Message::Hello {
            node: rogue.cert.clone(),
            chain: vec![],
        })
        .await;
    assert!(
        matches!(&again, Ok(Message::Refused { detail, .. }) if detail.contains("revoked")),
        "{} accepted a revoked node key again: {again:?}",
        node.name
    );
}
