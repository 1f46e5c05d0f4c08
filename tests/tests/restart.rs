//! Restarts: a node stopped cleanly or killed comes back from its data directory with
//! everything it acknowledged, catches up with what it missed, and a document restored
//! from a snapshot plus the log after it is intact.

use std::collections::HashSet;

use automerge::{Automerge, ChangeHash};
use confer_node::store::Store;
use confer_protocol::Entry;

use crate::support::*;

/// Restarts `b` on its old port so that `a` (which remembers that address) redials it; if
/// the port was taken meanwhile, restarts it anywhere and has it dial `a` instead.
async fn restart_reachable_by(b: &mut TestNode, a: &TestNode) {
    if b.restart_on_same_port().await.is_err() {
        b.restart().await;
        b.handle.add_peer(a.addr()).await.expect("add_peer");
    }
}

/// B stops cleanly; A edits; B restarts from the same data directory on its old port, A
/// redials it, and B catches up. B's own acknowledged edit from before the stop is there
/// the moment it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_shutdown_then_restart_catches_up() {
    let fed = Federation::new();
    let a = fed.spawn("A 政协").await;
    let mut b = fed.spawn("B 政协").await;
    connect(&a, &b).await; // A remembers B's address.
    let id = a.create_agenda("重启测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;

    b.edit(id, None, Some("B 停机前确认的摘要")).await;
    let before = b.show(id).await;
    b.shutdown().await;

    a.edit(id, Some("B 停机期间 A 的修改 1"), None).await;
    a.edit(id, Some("B 停机期间 A 的修改 2"), None).await;

    restart_reachable_by(&mut b, &a).await;
    let back = b.show(id).await;
    assert_eq!(
        back.text("summary"),
        "B 停机前确认的摘要",
        "B's acknowledged edit survived: {}",
        describe(&back)
    );
    assert_eq!(back.vector.get(b.member_key()), Some(&1));
    assert!(back.entries >= before.entries && back.all_signatures_verified);

    let view = converged(&[&a, &b], id, "B catches up after a clean restart", |v| {
        v.vector.get(a.member_key()) == Some(&3)
    })
    .await;
    assert_eq!(view.text("title"), "B 停机期间 A 的修改 2");
    assert_eq!(view.text("summary"), "B 停机前确认的摘要");

    // And the session works both ways after the restart.
    b.edit(id, None, Some("B 重启后的摘要")).await;
    let view = converged(&[&a, &b], id, "B's post-restart edit reaches A", |v| {
        v.vector.get(b.member_key()) == Some(&2)
    })
    .await;
    assert_eq!(view.text("summary"), "B 重启后的摘要");
}

/// B is killed (no clean shutdown) right after its edits were acknowledged; A edits; B
/// restarts on a new port, redials A (which it remembers) and catches up; nothing B
/// acknowledged is lost, and A gets it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_then_restart_keeps_acknowledged_edits_and_catches_up() {
    let fed = Federation::new();
    let a = fed.spawn("A 政协").await;
    let mut b = fed.spawn("B 政协").await;
    connect(&b, &a).await; // B remembers A's address.
    let id = a.create_agenda("崩溃测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;

    for i in 1..=3 {
        b.edit(id, None, Some(&format!("B 崩溃前的摘要 {i}"))).await;
    }
    b.abort().await;

    a.edit(id, Some("B 崩溃期间 A 的修改"), None).await;

    b.restart().await;
    let back = b.show(id).await;
    assert_eq!(
        back.vector.get(b.member_key()),
        Some(&3),
        "all three acknowledged edits survived the crash: {}",
        describe(&back)
    );
    assert_eq!(back.text("summary"), "B 崩溃前的摘要 3");
    assert!(back.all_signatures_verified);

    let view = converged(
        &[&a, &b],
        id,
        "B catches up after a crash, and A has all of B's edits",
        |v| v.vector.get(a.member_key()) == Some(&2) && v.vector.get(b.member_key()) == Some(&3),
    )
    .await;
    assert_eq!(view.text("title"), "B 崩溃期间 A 的修改");
    assert_eq!(view.text("summary"), "B 崩溃前的摘要 3");
    assert_eq!(view.entries, 5);
}

/// Heads of the document made of the first `count` entries of `log`.
fn prefix_heads(log: &[Entry], count: usize) -> HashSet<ChangeHash> {
    let mut heads: HashSet<ChangeHash> = log[..count].iter().map(Entry::change_hash).collect();
    for e in &log[..count] {
        for d in e.deps() {
            heads.remove(d);
        }
    }
    heads
}

/// Reads B's redb file (B must be stopped): the stored log of `id` and its snapshot count,
/// after checking that the snapshot is a valid document for exactly that prefix of the log
/// (so a restart really loads it rather than falling back to a full replay).
fn stored_snapshot(node: &TestNode, id: SpaceId) -> (usize, usize) {
    let store = Store::open(&node.config.store_path()).expect("open the stopped node's store");
    let loaded = store.load().expect("load the store");
    let space = loaded
        .spaces
        .iter()
        .find(|s| s.id == *id.as_bytes())
        .expect("the space is stored");
    let log: Vec<Entry> = space
        .entries
        .iter()
        .map(|b| Entry::decode(b.clone()).expect("stored entry decodes"))
        .collect();
    let snapshot = space.snapshot.as_ref().expect("a snapshot was written");
    let count = usize::try_from(snapshot.entry_count).expect("count fits");
    assert!(
        count <= log.len(),
        "snapshot covers {count} entries, log holds {}",
        log.len()
    );
    let doc = Automerge::load(&snapshot.doc).expect("the snapshot loads");
    let doc_heads: HashSet<ChangeHash> = doc.get_heads().into_iter().collect();
    assert_eq!(
        doc_heads,
        prefix_heads(&log, count),
        "the snapshot is the document of the log's first {count} entries"
    );
    (count, log.len())
}

/// With `snapshot_every = 5`, B writes more than that, is killed, and restarts from a
/// snapshot plus the log entries after it; the document is intact and keeps syncing.
/// Then a clean shutdown (which snapshots everything) and a restart from the snapshot
/// alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_from_snapshot_keeps_the_document_intact() {
    let fed = Federation::new();
    let a = fed.spawn("A 政协").await;
    let mut b = fed.spawn_with("B 政协", |c| c.snapshot_every = 5).await;
    connect(&b, &a).await;
    let id = a.create_agenda("快照测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;

    for i in 1..=11 {
        if i % 2 == 0 {
            b.edit(id, Some(&format!("B 标题 {i}")), None).await;
        } else {
            b.edit(id, None, Some(&format!("B 摘要 {i}"))).await;
        }
    }
    let before = b.show(id).await;
    assert_eq!(before.entries, 12);
    b.abort().await;

    let (count, len) = stored_snapshot(&b, id);
    assert_eq!(len, 12, "every acknowledged entry is stored");
    assert!((5..len).contains(&count), "the crash left a snapshot of part of the log ({count} of {len}), so restart uses snapshot + replay");

    b.restart().await;
    let after = b.show(id).await;
    assert!(
        same_state(&before, &after),
        "document changed across the restart:\nbefore {}\nafter  {}",
        describe(&before),
        describe(&after)
    );
    assert!(after.all_signatures_verified && after.signatures_verified == 12);
    assert_eq!(after.text("title"), "B 标题 10");
    assert_eq!(after.text("summary"), "B 摘要 11");

    // The restored document is a working base for new changes on both sides (A first gets
    // everything B wrote before the crash, so its edit comes after B's).
    wait_view(&a, id, "A holds all of B's pre-crash entries", |v| {
        v.vector.get(b.member_key()) == Some(&11)
    })
    .await;
    a.edit(id, Some("A 在 B 恢复后修改"), None).await;
    b.edit(id, None, Some("B 恢复后修改")).await;
    let view = converged(
        &[&a, &b],
        id,
        "A and B converge after B restored from a snapshot",
        |v| v.vector.get(a.member_key()) == Some(&2) && v.vector.get(b.member_key()) == Some(&12),
    )
    .await;
    assert_eq!(view.text("title"), "A 在 B 恢复后修改");
    assert_eq!(view.text("summary"), "B 恢复后修改");

    // Clean shutdown snapshots everything; restarting from the snapshot alone is intact too.
    let before = b.show(id).await;
    b.shutdown().await;
    let (count, len) = stored_snapshot(&b, id);
    assert_eq!(
        (count, len),
        (14, 14),
        "a clean shutdown snapshots the whole log"
    );
    b.restart().await;
    let after = b.show(id).await;
    assert!(
        same_state(&before, &after),
        "document changed across the restart:\nbefore {}\nafter  {}",
        describe(&before),
        describe(&after)
    );
    assert!(after.all_signatures_verified);
}
