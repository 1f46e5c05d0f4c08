//! Catch-up progress over real libp2p: a node far behind its partner receives the agenda in
//! many batches, and its `status` says per space and peer how many entries arrived of how
//! many, the numbers consistent at every look (never more received than the total, never
//! going back) and ending `done` with everything it lacked.

use confer_node::views::ProgressView;

use crate::support::*;

/// A's answers are cut at this many entries, so B's catch-up takes many batches.
const BATCH: usize = 40;
/// Edits A makes while B is down.
const EDITS: u64 = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_far_behind_shows_its_catch_up_until_done() {
    let fed = Federation::new();
    let a = fed
        .spawn_with("A 政协", |c| c.limits.batch_entries = BATCH)
        .await;
    let mut b = fed.spawn("B 政协").await;
    connect(&a, &b).await;
    let id = a.create_agenda("追赶同步进度", &[&b]).await;
    wait_has_agenda(&b, id).await;
    b.shutdown().await;

    for i in 0..EDITS {
        a.edit(id, Some(&format!("B 停机期间的第 {i} 次修改")), None)
            .await;
    }
    let lacking = EDITS;

    b.restart().await;
    b.handle.add_peer(a.addr()).await.expect("add_peer");
    let space = id.to_string();
    let a_peer = a.peer_id().to_owned();
    let seen: std::sync::Mutex<Vec<ProgressView>> = std::sync::Mutex::new(Vec::new());
    let done = eventually("B's catch-up from A ends done", WAIT, || async {
        let status = b.status_now().await;
        let p = status
            .progress
            .iter()
            .find(|p| p.space == space && p.peer_id == a_peer)
            .cloned();
        let Some(p) = p else {
            return Err(format!("no progress yet: {:?}", status.progress));
        };
        seen.lock().map_err(|e| e.to_string())?.push(p.clone());
        ensure(p.state == "done", || format!("{p:?}"))?;
        Ok(p)
    })
    .await;

    assert_eq!(done.received, lacking, "{done:?}");
    assert_eq!(done.total, lacking, "{done:?}");
    assert_eq!(
        done.body.as_ref().map(|b| b.id.clone()),
        Some(a.body.to_string()),
        "names A's body"
    );
    let seen = seen.into_inner().expect("not poisoned");
    for pair in seen.windows(2) {
        assert!(pair[0].received <= pair[1].received, "never back: {seen:?}");
    }
    for p in &seen {
        assert!(p.received <= p.total, "{p:?}");
        assert_eq!(
            p.total, lacking,
            "the total is known from the first answer: {p:?}"
        );
        assert!(["receiving", "done"].contains(&p.state.as_str()), "{p:?}");
    }
    // The same numbers for a monitoring server.
    let metrics = confer_node::metrics::render(&b.status_now().await);
    for name in [
        "confer_catch_up_received_entries{",
        "confer_catch_up_total_entries{",
    ] {
        assert!(
            metrics.lines().any(|l| l.starts_with(name)
                && l.contains(&space)
                && l.contains("state=\"done\"")
                && l.ends_with(&format!(" {lacking}"))),
            "{name} in\n{metrics}"
        );
    }
    let view = converged(&[&a, &b], id, "B caught up", |v| {
        v.vector.get(a.member_key()) == Some(&(EDITS + 1))
    })
    .await;
    assert_eq!(
        view.text("title"),
        format!("B 停机期间的第 {} 次修改", EDITS - 1)
    );
}
