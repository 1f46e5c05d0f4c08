//! Sync without a network path: two nodes that never connect keep a joint agenda in step
//! through sync files and receipts alone. A file altered anywhere, or made for another
//! body, is refused whole and changes nothing.

use confer_node::sync_file::{ImportReport, Receipt};

use crate::support::*;

async fn export(from: &TestNode, to: &TestNode, since: Option<&Receipt>) -> Vec<u8> {
    from.handle
        .sync_export(to.body, since.cloned())
        .await
        .unwrap_or_else(|e| panic!("{} exports for {}: {e}", from.name, to.name))
}

async fn import(node: &TestNode, file: Vec<u8>) -> ImportReport {
    node.handle
        .sync_import(file)
        .await
        .unwrap_or_else(|e| panic!("{} imports: {e}", node.name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joint_agenda_converges_through_files_alone() {
    let fed = Federation::new();
    let a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    let c = fed.spawn("C 政协").await;
    // Trust by body id, as each committee sent it by official letter: no connection.
    a.handle.trust(b.body).await.expect("A trusts B");
    b.handle.trust(a.body).await.expect("B trusts A");
    let id = a.create_agenda("离线联动议题", &[&b]).await;
    a.edit(id, None, Some("A 的摘要")).await;

    // A → B: the whole agenda.
    let first = import(&b, export(&a, &b, None).await).await;
    assert_eq!(first.from.id, a.body.to_string());
    assert_eq!(first.spaces.len(), 1, "{first:?}");
    assert_eq!(first.spaces[0].accepted, 2, "{first:?}");
    assert!(first.spaces[0].refusals.is_empty(), "{first:?}");
    let on_b = b.show(id).await;
    assert!(same_state(&on_b, &a.show(id).await), "{}", describe(&on_b));
    assert!(on_b.all_signatures_verified);
    let receipt_from_b = first.receipt;
    assert_eq!(receipt_from_b.body, b.body.to_string());

    // B edits and sends its part back; A's receipt says what A holds.
    b.edit(id, Some("B 修改的标题"), None).await;
    let back = import(&a, export(&b, &a, None).await).await;
    assert_eq!(
        back.spaces[0].accepted, 1,
        "only B's edit is new to A: {back:?}"
    );
    assert_eq!(back.spaces[0].duplicates, 2, "{back:?}");
    let receipt_from_a = back.receipt;

    // Both edit again; each export since the other's receipt holds only the difference.
    a.edit(id, None, Some("A 的第二个摘要")).await;
    b.edit(id, Some("B 的第二个标题"), None).await;
    let full = export(&a, &b, None).await;
    let difference = export(&a, &b, Some(&receipt_from_b)).await;
    assert!(
        difference.len() < full.len(),
        "{} < {}",
        difference.len(),
        full.len()
    );
    let to_b = import(&b, difference).await;
    // What B lacked when it wrote its receipt: A's new edit, and B's own first edit,
    // which A received after that receipt (a duplicate on B).
    assert_eq!(
        (to_b.spaces[0].accepted, to_b.spaces[0].duplicates),
        (1, 1),
        "the export since B's receipt holds only the difference: {to_b:?}"
    );
    // Likewise B's file since A's receipt: B's second edit, and A's second edit, which
    // B received after A wrote that receipt.
    let to_a = import(&a, export(&b, &a, Some(&receipt_from_a)).await).await;
    assert_eq!(
        (to_a.spaces[0].accepted, to_a.spaces[0].duplicates),
        (1, 1),
        "the export since A's receipt holds only the difference: {to_a:?}"
    );
    let view = converged(&[&a, &b], id, "A and B converge through files", |v| {
        v.entries == 5
    })
    .await;
    assert_eq!(view.text("title"), "B 的第二个标题");
    assert_eq!(view.text("summary"), "A 的第二个摘要");
    assert!(view.equivocators.is_empty());

    // An altered file is refused whole; so is one made for another body.
    a.edit(id, None, Some("A 的第三个摘要")).await;
    let file = export(&a, &b, Some(&to_b.receipt)).await;
    let before = b.show(id).await;
    for at in [13, file.len() / 2, file.len() - 1] {
        let mut altered = file.clone();
        altered[at] ^= 0x01;
        match b.handle.sync_import(altered).await {
            Err(NodeError::Refused { en, zh }) => {
                assert!(en.contains("nothing was imported"), "{en}");
                assert!(zh.contains("未导入任何内容"), "{zh}");
            }
            other => panic!("an altered file (byte {at}) must be refused, got {other:?}"),
        }
    }
    match c.handle.sync_import(file.clone()).await {
        Err(NodeError::Refused { en, .. }) => assert!(en.contains("made for body"), "{en}"),
        other => panic!("a file for B must be refused on C, got {other:?}"),
    }
    assert!(c.handle.list_agendas().await.expect("list").is_empty());
    unchanged(&b, id, &before, "the altered files").await;
    // The genuine file still goes in.
    assert_eq!(import(&b, file).await.spaces[0].accepted, 1);
    converged(
        &[&a, &b],
        id,
        "the genuine file after the altered ones",
        |v| v.entries == 6,
    )
    .await;

    for node in [&a, &b, &c] {
        assert!(
            node.status_now().await.peers.is_empty(),
            "{} never connected to anyone",
            node.name
        );
    }
}
