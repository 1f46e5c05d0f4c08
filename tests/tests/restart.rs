//! Restarts: a node stopped cleanly or killed comes back from its data directory with
//! everything it acknowledged, catches up with what it missed, and a document restored
//! from a snapshot plus the log after it is intact. A damaged record in the file does not
//! stop the node: it is salvaged, reported in `status`, and fetched again from peers.

use std::collections::HashSet;

use automerge::{Automerge, ChangeHash};
use confer_node::store::{tables, Store};
use confer_protocol::{Certificate, Entry};
use redb::ReadableTable;

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

/// Authors of a stopped node's stored log of `id`, in log order.
fn stored_authors(node: &TestNode, id: SpaceId) -> Vec<String> {
    let store = Store::open(&node.config.store_path()).expect("open the stopped node's store");
    let space = store
        .load_space(id.as_bytes())
        .expect("load the space")
        .expect("the space is stored");
    space
        .entries
        .into_iter()
        .map(|b| {
            Entry::decode(b)
                .expect("stored entry decodes")
                .author()
                .to_string()
        })
        .collect()
}

/// Overwrites one record of a stopped node's file with garbage, through redb, as a failing
/// disk under a checksummed page would leave it: the file opens, the record does not decode.
fn damage_record(node: &TestNode, write: impl FnOnce(&redb::WriteTransaction)) {
    let db = redb::Database::open(node.config.store_path()).expect("open the redb file");
    let txn = db.begin_write().expect("write transaction");
    write(&txn);
    txn.commit().expect("commit the damage");
}

const GARBAGE: &[u8] = b"\xa5 this is not what was stored here \xa5";

/// One stored entry of B's log no longer decodes. B starts anyway, keeps the log before it
/// (dropping it and what follows), leaves its other agenda alone, says so in `status`, and
/// gets the dropped entries back from A; afterwards the file is sound again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_entry_is_dropped_with_what_follows_and_fetched_again() {
    let fed = Federation::new();
    let mut a = fed.spawn("A 政协").await;
    let mut b = fed.spawn("B 政协").await;
    connect(&a, &b).await;
    let other = b.create_agenda("不受影响的议题", &[&a]).await;
    wait_has_agenda(&a, other).await;
    b.edit(other, None, Some("不受影响的摘要")).await;
    let id = a.create_agenda("损坏条目测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;
    b.edit(id, None, Some("B 的摘要")).await;
    wait_view(&a, id, "A holds B's edit", |v| v.entries == 2).await;
    for i in 1..=4 {
        a.edit(id, Some(&format!("A 的修改 {i}")), None).await;
    }
    let full = converged(&[&a, &b], id, "A and B share six entries", |v| {
        v.entries == 6
    })
    .await;
    let other_before = converged(&[&a, &b], other, "A and B share the other agenda", |v| {
        v.entries == 2
    })
    .await;
    // A stops too, so that B's state right after its start can be observed before any sync.
    b.shutdown().await;
    a.shutdown().await;

    let (ak, bk) = (a.member_key().to_owned(), b.member_key().to_owned());
    assert_eq!(
        stored_authors(&b, id),
        [&ak, &bk, &ak, &ak, &ak, &ak].map(String::clone),
        "B's log: A's creation, B's edit, A's four edits"
    );
    damage_record(&b, |txn| {
        let mut log = txn.open_table(tables::LOG).expect("log table");
        log.insert((id.as_bytes(), 3u64), GARBAGE)
            .expect("overwrite position 3");
    });

    b.restart().await;
    let status = b.status_now().await;
    assert_eq!(status.damaged.len(), 1, "{:#?}", status.damaged);
    let line = &status.damaged[0];
    for part in [
        &format!("space {}", &id.to_string()[..16]),
        "3 entries from position 3 were dropped",
        "the entry at position 3 did not decode",
        "fetched again from peers",
    ] {
        assert!(line.contains(part), "{part:?} in {line:?}");
    }
    let prefix = b.show(id).await;
    assert_eq!(prefix.entries, 3, "{}", describe(&prefix));
    assert_eq!(prefix.vector.get(&ak), Some(&2));
    assert_eq!(prefix.vector.get(&bk), Some(&1));
    assert_eq!(prefix.text("title"), "A 的修改 1");
    assert_eq!(prefix.text("summary"), "B 的摘要");
    assert!(prefix.all_signatures_verified);
    let other_after = b.show(other).await;
    assert!(
        same_state(&other_before, &other_after),
        "the other agenda changed: {} vs {}",
        describe(&other_before),
        describe(&other_after)
    );

    a.restart().await;
    b.handle.add_peer(a.addr()).await.expect("add_peer");
    let view = converged(&[&a, &b], id, "B fetches the dropped entries again", |v| {
        v.entries == 6
    })
    .await;
    assert!(
        same_state(&full, &view),
        "{} vs {}",
        describe(&full),
        describe(&view)
    );
    assert_eq!(view.text("title"), "A 的修改 4");

    // The file agrees with the node again: a restart finds nothing damaged.
    b.shutdown().await;
    b.restart().await;
    assert!(b.status_now().await.damaged.is_empty());
    let again = b.show(id).await;
    assert!(same_state(&full, &again), "{}", describe(&again));
    assert!(again.all_signatures_verified);
}

/// A's stored copy of B's member certificate no longer decodes. A starts anyway, skips it,
/// and drops B's entries it can no longer vouch for (new ones from B would be refused
/// without the certificate, and peers send it only with an author's first entries); when A
/// meets B again, B's entries come back with the certificate, and B's new edits are
/// accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_certificate_is_skipped_and_fetched_again_with_its_entries() {
    let fed = Federation::new();
    let mut a = fed.spawn("A 政协").await;
    let mut b = fed.spawn("B 政协").await;
    connect(&a, &b).await;
    let id = a.create_agenda("损坏证书测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;
    b.edit(id, None, Some("B 的摘要 1")).await;
    b.edit(id, None, Some("B 的摘要 2")).await;
    let full = converged(&[&a, &b], id, "A and B share three entries", |v| {
        v.entries == 3
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;

    let b_key = b.member_public();
    damage_record(&a, |txn| {
        let mut certs = txn.open_table(tables::CERTS).expect("certs table");
        let rows: Vec<[u8; 32]> = certs
            .iter()
            .expect("iterate certificates")
            .filter_map(|item| {
                let (k, v) = item.expect("read a certificate");
                let cert = Certificate::decode(v.value()).expect("stored certificate decodes");
                (cert.key == b_key && cert.is_member()).then_some(*k.value())
            })
            .collect();
        assert_eq!(rows.len(), 1, "A holds one member certificate for B's key");
        certs
            .insert(&rows[0], GARBAGE)
            .expect("overwrite the certificate");
    });
    a.restart().await;
    let status = a.status_now().await;
    assert_eq!(status.damaged.len(), 2, "{:#?}", status.damaged);
    assert!(
        status.damaged[0].starts_with("certificate record ")
            && status.damaged[0].contains("did not decode"),
        "{:?}",
        status.damaged[0]
    );
    let line = &status.damaged[1];
    for part in [
        &format!("space {}", &id.to_string()[..16]),
        "2 entries from position 1 were dropped",
        "member certificate is no longer here",
        "fetched again from peers",
    ] {
        assert!(line.contains(part), "{part:?} in {line:?}");
    }
    let prefix = a.show(id).await;
    assert_eq!(prefix.entries, 1, "{}", describe(&prefix));
    assert_eq!(prefix.vector.get(b.member_key()), None);

    b.restart().await;
    a.handle.add_peer(b.addr()).await.expect("add_peer");
    let view = converged(&[&a, &b], id, "A fetches B's entries again", |v| {
        v.entries == 3
    })
    .await;
    assert!(
        same_state(&full, &view),
        "{} vs {}",
        describe(&full),
        describe(&view)
    );
    // The certificate came back with them: B's next edit is accepted.
    b.edit(id, None, Some("B 的摘要 3")).await;
    let view = converged(&[&a, &b], id, "A accepts B's new edit", |v| v.entries == 4).await;
    assert_eq!(view.text("summary"), "B 的摘要 3");

    // The same certificate, stored again, replaced the damaged record.
    a.shutdown().await;
    a.restart().await;
    assert!(a.status_now().await.damaged.is_empty());
    assert!(same_state(&view, &a.show(id).await));
}

/// An entry that decodes but is out of place (A's third entry where its second belongs) makes
/// the log refuse to restore. B keeps the longest prefix that restores, warns that one of the
/// dropped entries is its own, and gets them all back from A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_that_does_not_restore_keeps_its_longest_restorable_prefix() {
    let fed = Federation::new();
    let mut a = fed.spawn("A 政协").await;
    let mut b = fed.spawn("B 政协").await;
    connect(&a, &b).await;
    let id = a.create_agenda("顺序错乱测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;
    b.edit(id, None, Some("B 的摘要 1")).await;
    wait_view(&a, id, "A holds B's edit", |v| v.entries == 2).await;
    a.edit(id, Some("A 的修改 1"), None).await;
    wait_view(&b, id, "B holds A's edit", |v| v.entries == 3).await;
    b.edit(id, None, Some("B 的摘要 2")).await;
    wait_view(&a, id, "A holds B's second edit", |v| v.entries == 4).await;
    a.edit(id, Some("A 的修改 2"), None).await;
    let full = converged(&[&a, &b], id, "A and B share five entries", |v| {
        v.entries == 5
    })
    .await;
    b.shutdown().await;
    a.shutdown().await;

    let (ak, bk) = (a.member_key().to_owned(), b.member_key().to_owned());
    assert_eq!(
        stored_authors(&b, id),
        [&ak, &bk, &ak, &bk, &ak].map(String::clone),
        "B's log alternates between A and B"
    );
    damage_record(&b, |txn| {
        let mut log = txn.open_table(tables::LOG).expect("log table");
        let last = log
            .get((id.as_bytes(), 4u64))
            .expect("read position 4")
            .expect("position 4 is stored")
            .value()
            .to_vec();
        log.insert((id.as_bytes(), 2u64), last.as_slice())
            .expect("overwrite position 2");
    });

    b.restart().await;
    let status = b.status_now().await;
    assert_eq!(status.damaged.len(), 1, "{:#?}", status.damaged);
    let line = &status.damaged[0];
    for part in [
        "3 entries from position 2 were dropped",
        "the log did not restore",
        "1 of them was written by this node",
        "fetched again from peers",
    ] {
        assert!(line.contains(part), "{part:?} in {line:?}");
    }
    let prefix = b.show(id).await;
    assert_eq!(prefix.entries, 2, "{}", describe(&prefix));
    assert_eq!(prefix.text("summary"), "B 的摘要 1");
    assert!(prefix.all_signatures_verified);

    a.restart().await;
    b.handle.add_peer(a.addr()).await.expect("add_peer");
    let view = converged(&[&a, &b], id, "B fetches the dropped entries again", |v| {
        v.entries == 5
    })
    .await;
    assert!(
        same_state(&full, &view),
        "{} vs {}",
        describe(&full),
        describe(&view)
    );
    b.shutdown().await;
    b.restart().await;
    assert!(b.status_now().await.damaged.is_empty());
    assert!(same_state(&full, &b.show(id).await));
}

/// B's stored genesis of one agenda no longer decodes, so its log cannot be read. B starts
/// with its other agenda, removes the unreadable one from its file, and rejoins it when A
/// (whose body created it and which B trusts) offers the genesis again on the next sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_whose_genesis_is_damaged_is_rejoined_from_a_peer() {
    let fed = Federation::new();
    let mut a = fed.spawn("A 政协").await;
    let mut b = fed.spawn("B 政协").await;
    connect(&a, &b).await;
    let other = b.create_agenda("不受影响的议题", &[&a]).await;
    let id = a.create_agenda("损坏创建记录测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;
    b.edit(id, None, Some("B 的摘要")).await;
    let full = converged(&[&a, &b], id, "A and B share two entries", |v| {
        v.entries == 2
    })
    .await;
    let other_before = converged(&[&a, &b], other, "A holds the other agenda", |v| {
        v.entries == 1
    })
    .await;
    b.shutdown().await;
    a.shutdown().await;

    damage_record(&b, |txn| {
        let mut spaces = txn.open_table(tables::SPACES).expect("spaces table");
        spaces
            .insert(id.as_bytes(), GARBAGE)
            .expect("overwrite the genesis");
    });

    b.restart().await;
    let status = b.status_now().await;
    assert_eq!(status.damaged.len(), 1, "{:#?}", status.damaged);
    let line = &status.damaged[0];
    for part in [
        &format!("space {}", &id.to_string()[..16]),
        "did not decode",
        "its 2 entries stored were removed",
        "offers it again",
    ] {
        assert!(line.contains(part), "{part:?} in {line:?}");
    }
    assert!(b.try_show(id).await.is_err(), "B no longer holds it");
    assert!(same_state(&other_before, &b.show(other).await));

    a.restart().await;
    b.handle.add_peer(a.addr()).await.expect("add_peer");
    let view = converged(
        &[&a, &b],
        id,
        "B rejoins the agenda and fetches its log",
        |v| v.entries == 2,
    )
    .await;
    assert!(
        same_state(&full, &view),
        "{} vs {}",
        describe(&full),
        describe(&view)
    );
    b.shutdown().await;
    b.restart().await;
    assert!(b.status_now().await.damaged.is_empty());
    assert!(same_state(&full, &b.show(id).await));
}
