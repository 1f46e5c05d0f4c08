//! `cargo bench -p confer-tests --bench sync`: sync throughput, catch-up cost and live
//! latency between two real nodes over libp2p on loopback. Prints one JSON object per line
//! per scenario, each with the limit it is compared to, measured in the same run on the
//! same entries:
//!
//! - `initial`: B, empty, syncs N entries (10 authors) from A until it holds them all;
//!   compared with plain single-signature Ed25519 verification of the same entries on one
//!   core.
//! - `incremental`: B was stopped while A wrote 100 entries; B restarts and catches up.
//!   Round trips and bytes of the sync messages, against the bytes of the 100 entries
//!   themselves, and automerge's own sync protocol on the same two documents.
//! - `live`: write on A to visible on B, over 1,000 writes; against a bare libp2p
//!   request-response round trip on the same transport.
//!
//! `CONFER_BENCH_ENTRIES` overrides N (default 100,000).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use automerge::sync::{State as SyncState, SyncDoc};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ROOT};
use confer_node::store::{NewEntry, Store, WriteBatch};
use confer_node::views::TrafficView;
use confer_node::{identity, runtime, Config};
use confer_protocol::model::AgendaEdit;
use confer_protocol::{
    BodyId, Certificate, Entry, Genesis, PublicKey, Role, SecretKey, SpaceId, SpaceKind, Subject,
};
use futures::StreamExt;
use serde_json::json;

const AUTHORS: usize = 10;
const INCREMENTAL: u64 = 100;
const LIVE_WRITES: usize = 1000;
const SYNC_KINDS: [&str; 5] = [
    "sync-request",
    "sync-response",
    "push",
    "push-ack",
    "refused",
];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(bench()) {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn entries_wanted() -> usize {
    std::env::var("CONFER_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn read_secret(path: &Path) -> Res<SecretKey> {
    let text = std::fs::read_to_string(path)?;
    let seed: [u8; 32] = hex::decode(text.trim())?
        .try_into()
        .map_err(|_| "bad key file")?;
    Ok(SecretKey::from_seed(seed))
}

fn config(dir: &Path) -> Config {
    let mut c = Config::loopback(dir);
    c.sync_interval = Duration::from_secs(3600); // measure the protocol, not the timer
    c
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A fixture: body A's data dir pre-filled with a space of `n` entries by 10 members.
struct Fixture {
    a_dir: PathBuf,
    b_dir: PathBuf,
    space: SpaceId,
    tips: Vec<(PublicKey, u64)>,
    entries: Vec<Entry>,
}

fn build_fixture(root: &Path, n: usize) -> Res<Fixture> {
    let a_dir = root.join("a");
    let b_dir = root.join("b");
    let a = identity::init(&a_dir, "平湖市政协", "浙江省嘉兴市", "秘书处", 0)?;
    let b = identity::init(&b_dir, "金山区政协", "上海市", "秘书处", 0)?;
    let body_a = read_secret(&a_dir.join("keys/body.key"))?;
    let genesis = Genesis::create(
        SpaceKind::Agenda,
        &[b.identity.body()],
        0,
        [7; 16],
        a.identity.member_cert.clone(),
        &a.identity.member,
    )?;
    let space = genesis.id();
    let authors: Vec<SecretKey> = (0..AUTHORS)
        .map(|i| SecretKey::from_seed([i as u8 + 1; 32]))
        .collect();
    let certs: Vec<Certificate> = authors
        .iter()
        .enumerate()
        .map(|(i, k)| {
            Certificate::issue(
                &body_a,
                "平湖市政协",
                k.public(),
                Subject::member(format!("委员{i}"), Role::Member),
                0,
            )
        })
        .collect::<Result<_, _>>()?;
    let mut doc = Automerge::new();
    for i in 0..n {
        let author = &authors[i % AUTHORS];
        doc.set_actor(ActorId::from(author.public().as_bytes().as_slice()));
        let mut tx = doc.transaction();
        if i == 0 {
            tx.put(ROOT, "kind", "agenda")?;
            tx.put(ROOT, "title", "跨界河道水环境联防联治")?;
        } else {
            // The agenda model has two fields: every edit rewrites one of them (the
            // cost automerge then pays is the one a real agenda's history makes).
            let field = if i % 2 == 0 { "title" } else { "summary" };
            tx.put(ROOT, field, format!("第{i}稿：加强交界河道联合巡查"))?;
        }
        tx.commit_with(CommitOptions::default().with_time(i as i64));
    }
    let changes = doc.get_changes(&[]);
    let entries: Vec<Entry> = changes
        .iter()
        .map(|c| {
            let actor = c.actor_id().to_bytes();
            let author = authors
                .iter()
                .find(|k| k.public().as_bytes().as_slice() == actor)
                .ok_or("unknown actor")?;
            Ok(Entry::sign(space, BodyId(body_a.public()), c, author)?)
        })
        .collect::<Res<_>>()?;
    let mut tips: Vec<(PublicKey, u64)> = authors.iter().map(|k| (k.public(), 0)).collect();
    for e in &entries {
        if let Some(t) = tips.iter_mut().find(|t| t.0 == e.author()) {
            t.1 = t.1.max(e.seq());
        }
    }
    let store = Store::open(&a_dir.join("confer.redb"))?;
    let batch = WriteBatch {
        spaces: vec![(*space.as_bytes(), genesis.encode())],
        certificates: certs
            .iter()
            .map(|c| (*blake3::hash(&c.encode()).as_bytes(), c.encode()))
            .collect(),
        entries: entries
            .iter()
            .map(|e| NewEntry {
                space: *space.as_bytes(),
                author: *e.author().as_bytes(),
                seq: e.seq(),
                bytes: e.bytes().to_vec(),
            })
            .collect(),
        ..WriteBatch::default()
    };
    store.commit(&batch)?;
    Ok(Fixture {
        a_dir,
        b_dir,
        space,
        tips,
        entries,
    })
}

/// Plain single-signature verification of `entries` on this thread.
fn verify_rate(entries: &[Entry]) -> Res<f64> {
    let start = Instant::now();
    for e in entries {
        e.verify()?;
    }
    Ok(entries.len() as f64 / start.elapsed().as_secs_f64())
}

fn sync_traffic(t: &TrafficView) -> (u64, u64) {
    let total = t.total(&SYNC_KINDS);
    let requests: u64 = ["sync-request", "push"]
        .iter()
        .map(|k| {
            t.sent.get(*k).map_or(0, |c| c.messages) + t.received.get(*k).map_or(0, |c| c.messages)
        })
        .sum();
    (requests, total.bytes)
}

async fn bench() -> Res<()> {
    let n = entries_wanted();
    let root = tempfile::Builder::new().prefix("confer-bench-").tempdir()?;
    let t = Instant::now();
    let fx = build_fixture(root.path(), n)?;
    let build_s = t.elapsed().as_secs_f64();
    let entry_bytes: usize = fx.entries.iter().map(Entry::len).sum();

    // ---- initial ----
    let verify_per_s = verify_rate(&fx.entries)?;
    let t = Instant::now();
    let a = runtime::start(config(&fx.a_dir)).await?;
    let a_start_s = t.elapsed().as_secs_f64();
    let a_addr = a
        .handle
        .status()
        .await?
        .listen
        .first()
        .cloned()
        .ok_or("A has no address")?;
    let b = runtime::start(config(&fx.b_dir)).await?;
    let t = Instant::now();
    b.handle.add_peer(a_addr.parse()?).await?;
    for (author, seq) in &fx.tips {
        b.handle.wait_for(fx.space, *author, *seq).await?;
    }
    let secs = t.elapsed().as_secs_f64();
    let (sa, sb) = (a.handle.status().await?, b.handle.status().await?);
    let (va, vb) = (&sa.spaces[0], &sb.spaces[0]);
    if va.vector != vb.vector || vb.entries != n {
        return Err(format!("B did not converge: {} of {n} entries", vb.entries).into());
    }
    let (da, db) = (
        a.handle.show_agenda(fx.space).await?,
        b.handle.show_agenda(fx.space).await?,
    );
    if da.fields != db.fields || !db.all_signatures_verified {
        return Err("B's document differs from A's".into());
    }
    let (_, wire) = sync_traffic(&sb.traffic);
    let rate = n as f64 / secs;
    println!(
        "{}",
        json!({
            "scenario": "initial", "entries": n, "authors": AUTHORS, "seconds": secs, "entries_per_s": rate,
            "bytes_on_wire": wire, "entry_bytes": entry_bytes, "wire_to_entry_bytes": wire as f64 / entry_bytes as f64,
            "limit": "single-signature Ed25519 verify of the same entries, one core",
            "limit_entries_per_s": verify_per_s, "ratio": rate / verify_per_s, "target_ratio": 0.5,
            "fixture_build_s": build_s, "a_start_from_redb_s": a_start_s, "peak_rss_mib": peak_rss_mib(),
        })
    );

    // ---- incremental ----
    let a_member: PublicKey = sa.member.key.parse()?;
    b.shutdown().await?;
    for i in 0..INCREMENTAL {
        a.handle
            .edit_agenda(
                fx.space,
                AgendaEdit {
                    title: None,
                    summary: Some(format!("第{i}次补充意见")),
                },
            )
            .await?;
    }
    let before = a.handle.status().await?.traffic;
    let b = runtime::start(config(&fx.b_dir)).await?;
    b.handle.wait_for(fx.space, a_member, INCREMENTAL).await?;
    // Let the round finish (acks) before reading the counters.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = a.handle.status().await?.traffic;
    let (req_before, bytes_before) = sync_traffic(&before);
    let (req_after, bytes_after) = sync_traffic(&after);
    let round_trips = req_after - req_before;
    let inc_bytes = bytes_after - bytes_before;

    // ---- live ----
    let mut latencies = Vec::with_capacity(LIVE_WRITES);
    for i in 0..LIVE_WRITES {
        let t = Instant::now();
        a.handle
            .edit_agenda(
                fx.space,
                AgendaEdit {
                    title: Some(format!("议题标题 第{i}稿")),
                    summary: None,
                },
            )
            .await?;
        b.handle
            .wait_for(fx.space, a_member, INCREMENTAL + i as u64 + 1)
            .await?;
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let (rtt_p50, rtt_p99) = raw_round_trip().await?;
    println!(
        "{}",
        json!({
            "scenario": "live", "writes": LIVE_WRITES, "p50_ms": percentile(&latencies, 0.5), "p99_ms": percentile(&latencies, 0.99),
            "target_p99_ms": 50.0,
            "limit": "bare libp2p request-response round trip (TCP+Noise+Yamux, loopback, same payload size)",
            "limit_p50_ms": rtt_p50, "limit_p99_ms": rtt_p99, "ratio_p50": percentile(&latencies, 0.5) / rtt_p50,
            "note": "a write is durable on A (redb commit) and on B (redb commit) before it counts as visible",
        })
    );
    b.shutdown().await?;
    a.shutdown().await?;

    // The 100 incremental entries themselves, and automerge's own sync on the same docs.
    let loaded = Store::open(&fx.a_dir.join("confer.redb"))?.load()?;
    let stored = loaded
        .spaces
        .into_iter()
        .find(|s| s.id == *fx.space.as_bytes())
        .ok_or("space missing")?;
    let all: Vec<Entry> = stored
        .entries
        .into_iter()
        .map(Entry::decode)
        .collect::<Result<_, _>>()?;
    let is_new = |e: &Entry| e.author() == a_member && e.seq() <= INCREMENTAL;
    let new_bytes: usize = all.iter().filter(|e| is_new(e)).map(Entry::len).sum();
    let mut doc_b = Automerge::new();
    doc_b.apply_changes(
        all.iter()
            .filter(|e| e.author() != a_member)
            .cloned()
            .map(|mut e| e.take_change())
            .collect::<Result<Vec<_>, _>>()?,
    )?;
    let mut doc_a = doc_b.clone();
    doc_a.apply_changes(
        all.iter()
            .filter(|e| is_new(e))
            .cloned()
            .map(|mut e| e.take_change())
            .collect::<Result<Vec<_>, _>>()?,
    )?;
    let (am_messages, am_bytes) = automerge_sync(&mut doc_b, &mut doc_a)?;
    println!(
        "{}",
        json!({
            "scenario": "incremental", "new_entries": INCREMENTAL, "round_trips": round_trips, "bytes_on_wire": inc_bytes,
            "entry_bytes": new_bytes, "ratio": inc_bytes as f64 / new_bytes as f64, "target_round_trips": 2, "target_ratio": 1.3,
            "limit": "the bytes of the new entries themselves",
            "automerge_sync": { "round_trips": am_messages.div_ceil(2), "messages": am_messages, "bytes": am_bytes, "ratio": am_bytes as f64 / new_bytes as f64 },
            "note": "after B restarts: hello exchange excluded; sync messages in both directions counted",
        })
    );
    Ok(())
}

/// automerge's own sync protocol from `behind` (who starts) to `ahead`, until quiet:
/// (messages, bytes).
fn automerge_sync(behind: &mut Automerge, ahead: &mut Automerge) -> Res<(u64, u64)> {
    let (mut s_behind, mut s_ahead) = (SyncState::new(), SyncState::new());
    let (mut messages, mut bytes) = (0u64, 0u64);
    for _ in 0..100 {
        let mut quiet = true;
        if let Some(m) = behind.generate_sync_message(&mut s_behind) {
            let enc = m.encode();
            messages += 1;
            bytes += enc.len() as u64;
            ahead.receive_sync_message(&mut s_ahead, automerge::sync::Message::decode(&enc)?)?;
            quiet = false;
        }
        if let Some(m) = ahead.generate_sync_message(&mut s_ahead) {
            let enc = m.encode();
            messages += 1;
            bytes += enc.len() as u64;
            behind.receive_sync_message(&mut s_behind, automerge::sync::Message::decode(&enc)?)?;
            quiet = false;
        }
        if quiet {
            break;
        }
    }
    if behind.get_heads() != ahead.get_heads() {
        return Err("automerge sync did not converge".into());
    }
    Ok((messages, bytes))
}

/// p50/p99 of a bare request-response round trip between two swarms of the node's own
/// transport stack, with a payload the size of one live push.
async fn raw_round_trip() -> Res<(f64, f64)> {
    use confer_node::net::{build_swarm, keypair_from_seed, BehaviourEvent, NetConfig};
    use libp2p::request_response::{Event, Message};
    use libp2p::swarm::SwarmEvent;
    let mut server = build_swarm(keypair_from_seed([201; 32])?, &NetConfig::default())?;
    let mut client = build_swarm(keypair_from_seed([202; 32])?, &NetConfig::default())?;
    server.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = server.select_next_some().await {
            break address;
        }
    };
    let server_id = *server.local_peer_id();
    tokio::spawn(async move {
        loop {
            if let SwarmEvent::Behaviour(BehaviourEvent::Sync(Event::Message {
                message: Message::Request { channel, .. },
                ..
            })) = server.select_next_some().await
            {
                let _ = server
                    .behaviour_mut()
                    .sync
                    .send_response(channel, vec![0u8; 64]);
            }
        }
    });
    client.dial(addr)?;
    loop {
        match client.select_next_some().await {
            SwarmEvent::ConnectionEstablished { .. } => break,
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                return Err(error.to_string().into())
            }
            _ => {}
        }
    }
    let mut times = Vec::with_capacity(LIVE_WRITES);
    for _ in 0..LIVE_WRITES + 50 {
        let t = Instant::now();
        client
            .behaviour_mut()
            .sync
            .send_request(&server_id, vec![1u8; 400]);
        loop {
            match client.select_next_some().await {
                SwarmEvent::Behaviour(BehaviourEvent::Sync(Event::Message {
                    message: Message::Response { .. },
                    ..
                })) => break,
                SwarmEvent::Behaviour(BehaviourEvent::Sync(Event::OutboundFailure {
                    error,
                    ..
                })) => return Err(error.to_string().into()),
                _ => {}
            }
        }
        times.push(t.elapsed());
    }
    let mut times = times.split_off(50); // warm-up
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 0.99)))
}
