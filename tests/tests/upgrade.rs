//! Upgrades: a store in the layout of the release before schema 3 is migrated when a node
//! of this release opens it, and keeps what it held; a store from a newer release is
//! refused, naming both releases, and left as it was. Peers announce their software, and
//! `status` shows it.

use confer_node::store::{tables, RELEASE, SCHEMA_VERSION, SCHEMA_VERSION_KEY, WRITTEN_BY_KEY};
use confer_node::NodeFailure;
use redb::{Database, ReadableDatabase};

use crate::support::*;

/// Rewrites `dir`'s store as the release before schema 3 left it: schema 2, no release
/// named, without the tables added after schema 2.
fn make_schema_2(dir: &std::path::Path) {
    let db = Database::create(dir.join("confer.redb")).expect("open the store");
    let txn = db.begin_write().expect("write");
    txn.delete_table(tables::EVIDENCE_SEEN)
        .expect("drop evidence_seen_v1");
    txn.delete_table(tables::CONSENTS)
        .expect("drop consents_v1");
    {
        let mut meta = txn.open_table(tables::META).expect("meta");
        meta.insert(SCHEMA_VERSION_KEY, 2u64.to_be_bytes().as_slice())
            .expect("version");
        meta.remove(WRITTEN_BY_KEY).expect("release");
    }
    txn.commit().expect("commit");
}

fn set_version(dir: &std::path::Path, version: u64, release: &str) {
    let db = Database::create(dir.join("confer.redb")).expect("open the store");
    let txn = db.begin_write().expect("write");
    {
        let mut meta = txn.open_table(tables::META).expect("meta");
        meta.insert(SCHEMA_VERSION_KEY, version.to_be_bytes().as_slice())
            .expect("version");
        meta.insert(WRITTEN_BY_KEY, release.as_bytes())
            .expect("release");
    }
    txn.commit().expect("commit");
}

fn stored_version(dir: &std::path::Path) -> (u64, Option<String>) {
    let db = Database::create(dir.join("confer.redb")).expect("open the store");
    let txn = db.begin_read().expect("read");
    let meta = txn.open_table(tables::META).expect("meta");
    let version = meta
        .get(SCHEMA_VERSION_KEY)
        .expect("get")
        .map(|g| u64::from_be_bytes(g.value().try_into().expect("8 bytes")))
        .expect("a version");
    let release = meta
        .get(WRITTEN_BY_KEY)
        .expect("get")
        .map(|g| String::from_utf8_lossy(g.value()).into_owned());
    (version, release)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_store_is_migrated_and_a_newer_one_refused_naming_both_releases() {
    let fed = Federation::new();
    let mut a = fed.spawn("A 政协").await;
    let b = fed.spawn("B 政协").await;
    connect(&b, &a).await; // B redials A when it comes back.
    let id = a.create_agenda("升级测试议题", &[&b]).await;
    wait_has_agenda(&b, id).await;
    b.edit(id, None, Some("升级前 B 的摘要")).await;
    let before = converged(&[&a, &b], id, "both hold the agenda", |v| v.entries == 2).await;

    // Each peer shows the other's software: the same release, nothing to say.
    let b_peer = b.peer_id().to_owned();
    let seen = eventually("A knows B's software", WAIT, || async {
        let status = a.status_now().await;
        let sw = status
            .peers
            .iter()
            .find(|p| p.peer_id == b_peer)
            .and_then(|p| p.software.clone());
        sw.ok_or_else(|| format!("{:?}", status.peers))
    })
    .await;
    assert_eq!(seen.release.as_deref(), Some(RELEASE));
    assert_eq!(seen.store, Some(SCHEMA_VERSION));
    assert!(!seen.differs && !seen.incompatible, "{seen:?}");

    a.shutdown().await;
    make_schema_2(&a.dir);
    assert_eq!(stored_version(&a.dir), (2, None));
    a.restart_on_same_port().await.expect("restart A");
    let back = a.show(id).await;
    assert!(same_state(&back, &before), "{}", describe(&back));
    assert!(a.status_now().await.damaged.is_empty());
    // The migrated node syncs on as before.
    a.edit(id, Some("升级后 A 的标题"), None).await;
    b.edit(id, None, Some("升级后 B 的摘要")).await;
    let view = converged(&[&a, &b], id, "edits after the upgrade meet", |v| {
        v.entries == 4
    })
    .await;
    assert_eq!(view.text("title"), "升级后 A 的标题");
    a.shutdown().await;
    assert_eq!(
        stored_version(&a.dir),
        (SCHEMA_VERSION, Some(RELEASE.to_owned())),
        "migrated to this release's schema"
    );

    // A store from a newer release: refused, naming both, and left alone.
    set_version(&a.dir, SCHEMA_VERSION + 1, "99.0.0");
    let mut config = a.config.clone();
    config.listen = confer_node::Config::loopback(&a.dir).listen;
    let refused = a.restart_with(config.clone()).await;
    match refused {
        Err(NodeFailure::OpenStore { source, .. }) => {
            let text = source.to_string();
            assert!(text.contains("confer 99.0.0"), "{text}");
            assert!(text.contains(&format!("confer {RELEASE}")), "{text}");
        }
        other => panic!("a newer store must be refused, got {other:?}"),
    }
    assert_eq!(
        stored_version(&a.dir),
        (SCHEMA_VERSION + 1, Some("99.0.0".to_owned())),
        "the refused file is left as it was"
    );
    // Put back, it opens again with everything.
    set_version(&a.dir, SCHEMA_VERSION, RELEASE);
    a.restart_with(config).await.expect("restart A");
    assert_eq!(a.show(id).await.entries, 4);
}
