//! Backup and restore while running: a backup taken through the running node during
//! writes holds every write acknowledged before it; a node restored from it takes no
//! edits until it has synced with its partner (which holds what the lost node signed
//! after the backup), then writes on without equivocating.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use confer_node::backup::{self, BackupError};
use confer_node::Config;
use confer_protocol::model::AgendaEdit;

use crate::support::*;

const WRITES: u64 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_writes_restores_and_waits_for_catch_up_before_writing() {
    let fed = Federation::new();
    let mut a = fed.spawn("A 政协").await;
    let mut b = fed.spawn("B 政协").await;
    connect(&a, &b).await; // A remembers B's address, and so does its backup.
    let id = a.create_agenda("备份测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;

    // A writes while the backup is taken.
    let acked = Arc::new(AtomicU64::new(0));
    let writer = {
        let (handle, acked) = (a.handle.clone(), acked.clone());
        tokio::spawn(async move {
            for i in 1..=WRITES {
                let edit = AgendaEdit {
                    title: None,
                    summary: Some(format!("A 的第 {i} 次修改")),
                };
                handle.edit_agenda(id, edit).await.expect("A's edit");
                acked.store(i, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    eventually("A has acknowledged some edits", WAIT, || async {
        ensure(acked.load(Ordering::SeqCst) >= 5, || "not yet".into())
    })
    .await;
    let acked_before = acked.load(Ordering::SeqCst);
    let archive = a.handle.backup().await.expect("backup");
    writer.await.expect("writer");
    let a_key = a.member_key().to_owned();
    converged(&[&a, &b], id, "B holds every edit of A", |v| {
        v.vector.get(&a_key) == Some(&(1 + WRITES))
    })
    .await;

    // A's machine is lost; B is offline when A comes back from the backup.
    a.abort().await;
    b.shutdown().await;
    let dir = fed.dir("A 恢复");
    let summary = backup::restore(&archive, &dir).expect("restore");
    assert!(summary.entries >= 1 + acked_before, "{summary:?}");
    let mut restored = TestNode::start("A 恢复", Config::loopback(&dir)).await;
    assert_eq!(restored.body, a.body, "the restored node is the same body");
    let back = restored.show(id).await;
    let in_backup = back.vector.get(&a_key).copied().unwrap_or(0);
    assert!(
        in_backup > acked_before,
        "every edit acknowledged before the backup is in it: {in_backup} entries of A, {acked_before} acknowledged before: {}",
        describe(&back)
    );
    assert!(
        in_backup < 1 + WRITES,
        "A signed more after the backup (what the restored node must not sign again)"
    );

    // Before catch-up: the agenda waits for B, and an edit is refused in both languages.
    let waiting = restored.handle.catch_up(false).await.expect("catch-up");
    assert_eq!(waiting.waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting.waiting[0].waiting_for[0].id, b.body.to_string());
    let early = AgendaEdit {
        title: Some("恢复后、同步前的修改".into()),
        summary: None,
    };
    match restored.handle.edit_agenda(id, early).await {
        Err(NodeError::Refused { en, zh }) => {
            assert!(en.contains("restored from a backup"), "{en}");
            assert!(zh.contains("从备份恢复"), "{zh}");
        }
        other => panic!("an edit before catch-up must be refused, got {other:?}"),
    }
    assert_eq!(
        restored.show(id).await.vector.get(&a_key),
        Some(&in_backup),
        "the refused edit wrote nothing"
    );

    // B comes back where the restored node remembers it; the restored node pulls A's
    // later entries from B, and then writes on.
    if b.restart_on_same_port().await.is_err() {
        b.restart().await;
        restored.handle.add_peer(b.addr()).await.expect("add_peer");
    }
    eventually("the restored node caught up with B", WAIT, || async {
        let view = restored
            .handle
            .catch_up(false)
            .await
            .map_err(|e| e.to_string())?;
        ensure(view.waiting.is_empty(), || format!("{view:?}"))
    })
    .await;
    let caught_up = restored.show(id).await;
    assert_eq!(caught_up.vector.get(&a_key), Some(&(1 + WRITES)));
    assert_eq!(caught_up.text("summary"), format!("A 的第 {WRITES} 次修改"));
    let status = restored.status_now().await;
    assert!(
        status.foreign_use.is_empty(),
        "A's own entries coming back are not foreign use: {:?}",
        status.foreign_use
    );

    restored.edit(id, Some("恢复并同步后的修改"), None).await;
    let view = converged(
        &[&restored, &b],
        id,
        "the restored node's edit reaches B",
        |v| v.vector.get(&a_key) == Some(&(2 + WRITES)),
    )
    .await;
    assert_eq!(view.text("title"), "恢复并同步后的修改");
    assert!(view.equivocators.is_empty(), "{}", describe(&view));
    assert!(b.show(id).await.equivocators.is_empty());

    // Restarting keeps the catch-up done.
    restored.shutdown().await;
    restored.restart().await;
    assert!(restored
        .handle
        .catch_up(false)
        .await
        .expect("catch-up")
        .waiting
        .is_empty());
}

/// A restore writes nothing into a directory that holds anything, nor from an archive
/// that was altered; a restored store refuses edits until the operator skips catch-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_used_directory_and_an_altered_archive_and_skip_lifts_the_wait() {
    let fed = Federation::new();
    let mut a = fed.spawn("A 政协").await;
    let mut b = fed.spawn("B 政协").await;
    connect(&a, &b).await;
    let id = a.create_agenda("备份校验议题", &[&b]).await;
    wait_has_agenda(&b, id).await;
    let archive = a.handle.backup().await.expect("backup");
    // Neither is around when the copy runs: it cannot catch up.
    a.shutdown().await;
    b.shutdown().await;

    let used = fed.dir("used");
    std::fs::create_dir_all(&used).expect("mkdir");
    std::fs::write(used.join("note.txt"), b"keep me").expect("write");
    assert!(matches!(
        backup::restore(&archive, &used),
        Err(BackupError::NotEmpty { .. })
    ));
    assert_eq!(std::fs::read_dir(&used).expect("list").count(), 1);

    for at in [20, archive.len() / 2, archive.len() - 1] {
        let mut altered = archive.clone();
        altered[at] ^= 0x01;
        let dir = fed.dir(&format!("altered-{at}"));
        let e = backup::restore(&altered, &dir).expect_err("an altered archive is refused");
        assert!(matches!(e, BackupError::Checksum), "byte {at}: {e}");
        assert!(!dir.exists(), "nothing was written for byte {at}");
    }
    let e = backup::restore(b"not a backup", &fed.dir("junk")).expect_err("junk");
    assert!(matches!(e, BackupError::NotABackup), "{e}");

    let dir = fed.dir("A 恢复");
    backup::restore(&archive, &dir).expect("restore");
    use std::os::unix::fs::PermissionsExt;
    for file in [
        "confer.redb",
        "keys/member.key",
        "keys/node.key",
        "identity.json",
    ] {
        let mode = std::fs::metadata(dir.join(file))
            .expect(file)
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{file} is private to its owner: {mode:o}");
    }
    let restored = TestNode::start("A 恢复", Config::loopback(&dir)).await;
    let refused = restored
        .handle
        .edit_agenda(
            id,
            AgendaEdit {
                title: Some("跳过前".into()),
                summary: None,
            },
        )
        .await;
    assert!(
        matches!(refused, Err(NodeError::Refused { .. })),
        "{refused:?}"
    );
    let view = restored.handle.catch_up(true).await.expect("skip");
    assert!(
        view.waiting.is_empty() && view.restored_at.is_some(),
        "{view:?}"
    );
    restored.edit(id, Some("跳过后"), None).await;
}
