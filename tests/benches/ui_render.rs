//! `cargo bench -p confer-tests --bench ui_render`: every page of the web UI over real HTTP
//! on a node holding the workflow issue's large agenda (5 rounds, 500 suggestions, 2,000
//! handling units, 1,600 feedback records, 200 findings, one outcome; shared with a second
//! body's node over libp2p), as a logged-in member: per page the median and p95 time of a
//! whole GET (request, rendering, body read) and its bytes, against issue 7's targets
//! (under 100 ms, at most 300 KB).
//!
//! The floor in the same run: a GET of the embedded stylesheet (the HTTP round trip, the
//! session check and a static body) and the model view of the agenda read alone
//! (`NodeHandle::read`, what any page about the agenda needs at least). The ratio is a
//! page's median over their sum.
//!
//! Prints one JSON object per line, then a table. `CONFER_BENCH_ROUNDS` sets the GETs per
//! page (default 20, after two unmeasured ones).
//!
//! Measured 2026-12-08 00:05 UTC on this 2-core machine, quiet (load average 0.8), release
//! profile, 4,307 entries:
//!
//! | page | median ms | p95 ms | KB | × floor |
//! |---|---|---|---|---|
//! | dashboard | 50.4 | 58.9 | 9 | 1.4 |
//! | agenda page (50 suggestions, latest 30 findings) | 63.7 | 80.8 | 232 | 1.8 |
//! | agenda page 5 | 69.2 | 82.6 | 231 | 2.0 |
//! | suggestion page | 54.1 | 74.1 | 7 | 1.5 |
//! | overdue | 63.4 | 71.5 | 116 | 1.8 |
//! | report | 47.0 | 64.1 | 3 | 1.3 |
//! | search | 1.0 | 1.1 | 34 | 0.0 |
//! | agendas, ledger, network, admin | < 0.5 | < 0.5 | 3–5 | 0.0 |
//! | floor: stylesheet GET + model view | 35.3 (0.2 + 35.1) | — | 7 | 1.0 |
//!
//! Again at 00:58 UTC Dec 8, quiet, after the ledger, members, meeting and membership pages
//! and forms were merged in:
//!
//! | page | median ms | p95 ms | KB | × floor |
//! |---|---|---|---|---|
//! | dashboard | 53.7 | 82.7 | 9 | 1.0 |
//! | agenda page / page 5 | 51.9 / 81.2 | 82.6 / 87.3 | 238 / 236 | 1.0 / 1.5 |
//! | suggestion page | 46.8 | 74.5 | 7 | 0.9 |
//! | overdue | 72.7 | 75.1 | 116 | 1.4 |
//! | report | 53.6 | 78.6 | 3 | 1.0 |
//! | search | 1.2 | 1.8 | 35 | 0.0 |
//! | agendas, ledger, annual plan, expert pool, members, network, admin | < 0.5 | < 0.5 | 2–5 | 0.0 |
//! | floor: stylesheet GET + model view | 52.7 (0.2 + 52.6) | — | 7 | 1.0 |
//!
//! Again at 03:11 UTC Dec 8, quiet, after each space's records were kept between reads (the
//! GETs follow each other without writes between, so each page's model read finds no new
//! entries; `workflow_live` times views right after a write: 7.5 ms there against 7.8 here):
//!
//! | page | median ms | p95 ms | KB | × floor |
//! |---|---|---|---|---|
//! | dashboard | 26.7 | 29.7 | 9 | 3.3 |
//! | agenda page / page 5 | 22.7 / 29.0 | 36.0 / 33.8 | 238 / 236 | 2.8 / 3.6 |
//! | suggestion page | 19.4 | 21.7 | 7 | 2.4 |
//! | overdue | 19.8 | 22.0 | 116 | 2.5 |
//! | report | 19.7 | 24.3 | 3 | 2.5 |
//! | search | 1.1 | 1.5 | 35 | 0.1 |
//! | the other pages | < 0.5 | < 0.5 | 2–5 | 0.0 |
//! | floor: stylesheet GET + model view | 8.0 (0.2 + 7.8) | — | 7 | 1.0 |

use std::time::{Duration, Instant};

use confer_node::ui::accounts;
use confer_protocol::model::ModelView;
use confer_protocol::SpaceId;
use confer_tests::ui_client::{ui_for, Http};
use confer_tests::workflow_agenda::{self, rid, write};
use confer_tests::{connect, Federation, TestNode};
use serde_json::json;

/// Issue 7's targets.
const TARGET_MS: f64 = 100.0;
const TARGET_BYTES: usize = 300 * 1024;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// `author`'s seq in `space` as `node` holds it.
async fn seq_on(node: &TestNode, space: SpaceId, author: confer_protocol::PublicKey) -> u64 {
    node.handle
        .status()
        .await
        .expect("status")
        .spaces
        .into_iter()
        .find(|v| v.id == space.to_string())
        .and_then(|v| v.vector.get(&author.to_string()).copied())
        .unwrap_or(0)
}

/// GETs `path` `rounds` times after two unmeasured ones: the sorted times and the body's
/// bytes (the last answer's).
async fn time_get(http: &mut Http, path: &str, rounds: usize) -> (Vec<Duration>, usize) {
    let mut times = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for i in 0..rounds + 2 {
        let started = Instant::now();
        let page = http.get(path).await;
        let took = started.elapsed();
        assert!(
            page.status.is_success(),
            "{path}: {} {}",
            page.status,
            &page.body[..page.body.len().min(500)]
        );
        bytes = page.body.len();
        if i >= 2 {
            times.push(took);
        }
    }
    times.sort();
    (times, bytes)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    confer_tests::init_tracing();
    let rounds: usize = std::env::var("CONFER_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let fed = Federation::new();
    let pinghu = fed.spawn("平湖市政协").await;
    let jinshan = fed.spawn("金山区政协").await;
    connect(&pinghu, &jinshan).await;
    let space = pinghu
        .create_agenda("跨界河道水环境联防联治", &[&jinshan])
        .await;
    eprintln!("ui_render: writing the workflow-size agenda");
    workflow_agenda::fill(&pinghu, space).await;
    pinghu
        .handle
        .apply(
            space,
            write(
                "outcome",
                95_000,
                true,
                vec![
                    ("round", rid(1).to_string()),
                    ("kind", "joint-opinion".into()),
                    ("title", "关于跨界河道水环境联防联治的联合协商意见".into()),
                    (
                        "text",
                        "一、建立联合河长制。\n二、定期通报水质监测数据。".into(),
                    ),
                ],
            ),
            None,
        )
        .await
        .expect("an outcome");
    // Nothing left to sync while pages are timed.
    let member = pinghu.member_public();
    let seq = seq_on(&pinghu, space, member).await;
    tokio::time::timeout(
        Duration::from_secs(300),
        jinshan.handle.wait_for(space, member, seq),
    )
    .await
    .expect("the partner catches up within five minutes")
    .expect("the partner holds the agenda");
    eprintln!("ui_render: {seq} entries on both nodes; timing pages");

    let once = accounts::add(&pinghu.dir, "zhang", pinghu.member_key(), true).expect("account");
    let ui = ui_for(&pinghu).await;
    let mut http = Http::new(&ui);
    http.login("zhang", &once, "zhang-password-1").await;

    let suggestion = rid(100).to_string();
    let pages = [
        ("dashboard", "/".to_owned()),
        ("agendas", "/agendas".to_owned()),
        ("agenda page", format!("/agendas/{space}")),
        ("agenda page 5", format!("/agendas/{space}?page=5")),
        (
            "suggestion page",
            format!("/agendas/{space}/suggestions/{suggestion}"),
        ),
        ("ledger", "/ledger".to_owned()),
        ("annual plan", "/plan".to_owned()),
        ("expert pool", "/experts".to_owned()),
        ("members", "/members".to_owned()),
        ("overdue", "/overdue".to_owned()),
        ("report", "/report".to_owned()),
        ("network", "/network".to_owned()),
        // 联合: in every suggestion's text.
        ("search", "/search?q=%E8%81%94%E5%90%88".to_owned()),
        ("admin", "/admin".to_owned()),
    ];

    // The floor: a static asset over the same HTTP path, and the model view alone.
    let (asset, asset_bytes) = time_get(&mut http, "/assets/ui.css", rounds).await;
    let mut read = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let view = pinghu.handle.read(space).await.expect("read");
        read.push(started.elapsed());
        assert!(matches!(view, ModelView::Agenda(_)));
    }
    read.sort();
    let (asset50, read50) = (pct(&asset, 0.5), pct(&read, 0.5));
    let floor = asset50 + read50;
    println!(
        "{}",
        json!({"scenario": "floor", "static_asset_median_ms": asset50, "static_asset_bytes": asset_bytes,
        "model_view_median_ms": read50, "floor_ms": floor, "entries": seq})
    );

    let mut rows = Vec::new();
    for (name, path) in &pages {
        let (times, bytes) = time_get(&mut http, path, rounds).await;
        let (p50, p95) = (pct(&times, 0.5), pct(&times, 0.95));
        println!(
            "{}",
            json!({"scenario": "page", "page": name, "path": path, "rounds": rounds,
            "median_ms": p50, "p95_ms": p95, "bytes": bytes, "ratio_to_floor": p50 / floor,
            "target_ms": TARGET_MS, "target_bytes": TARGET_BYTES,
            "meets": p95 < TARGET_MS && bytes <= TARGET_BYTES})
        );
        rows.push((name, p50, p95, bytes));
    }
    ui.stop().await;

    println!();
    println!("| page | median ms | p95 ms | KB | × floor | meets 100 ms / 300 KB |");
    println!("|---|---|---|---|---|---|");
    for (name, p50, p95, bytes) in &rows {
        let meets = *p95 < TARGET_MS && *bytes <= TARGET_BYTES;
        println!(
            "| {name} | {p50:.1} | {p95:.1} | {:.0} | {:.1} | {} |",
            *bytes as f64 / 1024.0,
            p50 / floor,
            if meets { "yes" } else { "no" }
        );
    }
    println!(
        "| floor: static asset GET + model view | {floor:.1} | — | {:.0} | 1.0 | {asset50:.1} + {read50:.1} ms |",
        asset_bytes as f64 / 1024.0
    );
}
