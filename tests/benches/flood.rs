//! `cargo bench -p confer-tests --bench flood`: honest live sync while strangers flood a
//! node with connections and requests sent before `Hello`, all on loopback.
//!
//! Two honest nodes A and B share an agenda. The same paced run of writes (edit on A, then
//! wait until B holds it) is measured alone (baseline), during two flood rounds against A
//! (the second shows whether memory the first left behind is reused or keeps growing), and
//! alone again after them. The attackers run in a child process (this same binary, started again with
//! `CONFER_FLOOD_ATTACK` set) on one tokio thread, so that the process RSS measured is the
//! two nodes' alone and the attackers' CPU is counted apart. Each attacker is its own
//! libp2p swarm with a fresh key (a distinct peer id). It dials A (and dials again a second
//! after it is refused or dropped), never sends `Hello`, and keeps in flight:
//!
//! - small requests: Push-shaped junk (a few hundred bytes) and, every third, a 4 KiB frame
//!   tagged as a `Hello` but holding garbage (the one thing A decodes from a stranger);
//! - frames whose prefix claims 16 MiB (the full message limit), followed by as many body
//!   bytes as the stream lets through.
//!
//! Everything is bounded: the number of attackers, the small requests each sends, the
//! claims each keeps open, and the flood's duration. It prints a table (latency before and
//! under the flood, also per 5 s window, the nodes' RSS before / peak / after, what happened
//! to the attackers' dials and requests, the CPU each side used) and the bare libp2p
//! request-response round trip measured in the same run. It asserts nothing about timing;
//! it exits non-zero only on a functional failure (an honest write that never arrives, the
//! attackers' process failing, or a 16 MiB claim from a stranger that A read in full and
//! answered).
//!
//! Knobs (environment): `CONFER_BENCH_WRITES` (honest writes per phase, 300),
//! `CONFER_BENCH_ATTACKERS` (300), `CONFER_BENCH_FLOOD_SECS` (20),
//! `CONFER_BENCH_FLOOD_REQUESTS` (small requests per attacker, 100),
//! `CONFER_BENCH_CLAIMS` (16 MiB claims each attacker keeps open, 4; A serves 32 streams
//! per connection, so 28 with the 4 small ones fills every connection it accepts),
//! `CONFER_BENCH_ATTACKER_NICE` (the attackers' process's `nice -n`, 19: on a network the
//! attackers' CPU is other machines'; here it would otherwise take a core from the nodes,
//! which is the machine being small, not the node being slow; 0 to let them compete).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use confer_node::handle::NodeHandle;
use confer_node::net::{
    read_frame, write_frame, MAX_MESSAGE_BYTES, MAX_UNPROVEN_FRAME_BYTES, SYNC_PROTOCOL,
};
use confer_protocol::model::AgendaEdit;
use confer_protocol::{Message, PublicKey, SpaceId};
use confer_tests::{connect, random_seed, Federation, TestNode};
use futures::{AsyncRead, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, SwarmEvent};
use libp2p::{noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm, SwarmBuilder};
use serde_json::json;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// How long an honest write may take to reach B before the run counts as failed.
const ARRIVAL: Duration = Duration::from_secs(30);
/// Writes before each measured phase, not counted.
const WARM_UP: usize = 20;
/// How long an attacker waits before dialling again after a refusal or a drop.
const REDIAL: Duration = Duration::from_secs(1);
/// Small requests each attacker keeps in flight.
const SMALL_IN_FLIGHT: usize = 4;
/// Size of a Push-shaped junk request.
const PUSH_JUNK_BYTES: usize = 400;
/// Flood rounds: a second shows whether memory the first left behind is reused or grows.
const FLOOD_ROUNDS: usize = 2;
/// Samples of the bare round trip (after 50 of warm-up).
const RAW_SAMPLES: usize = 1000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The scenario's bounds.
#[derive(Debug, Clone, Copy)]
struct Plan {
    writes: usize,
    attackers: usize,
    flood: Duration,
    small_per_attacker: usize,
    claims_in_flight: usize,
    /// The attackers' process's niceness (`nice -n`): on a real network their CPU is
    /// other machines', here it is the nodes' two cores; 0 lets them compete as equals.
    attacker_nice: i32,
}

impl Plan {
    fn from_env() -> Plan {
        Plan {
            writes: env_or("CONFER_BENCH_WRITES", 300usize).max(1),
            attackers: env_or("CONFER_BENCH_ATTACKERS", 300),
            flood: Duration::from_secs(env_or("CONFER_BENCH_FLOOD_SECS", 20u64).max(1)),
            small_per_attacker: env_or("CONFER_BENCH_FLOOD_REQUESTS", 100),
            claims_in_flight: env_or("CONFER_BENCH_CLAIMS", 4),
            attacker_nice: env_or("CONFER_BENCH_ATTACKER_NICE", 19i32).clamp(0, 19),
        }
    }

    /// The pause between two honest writes: the writes of one phase span 90% of the flood.
    fn pace(&self) -> Duration {
        self.flood.mul_f64(0.9) / self.writes as u32
    }
}

/// Set (to "<peer id> <address>") in the child process that runs the attackers.
const ATTACK_ENV: &str = "CONFER_FLOOD_ATTACK";

fn main() {
    let result = match std::env::var(ATTACK_ENV) {
        Ok(spec) => attack_main(&spec),
        Err(_) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("node")
            .thread_keep_alive(Duration::from_secs(3600))
            .enable_all()
            .build()
            .map_err(Into::into)
            .and_then(|nodes| nodes.block_on(bench())),
    };
    if let Err(e) = result {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

// ---- measuring ---------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`).
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> f64 {
    kib.map_or(f64::NAN, |k| k as f64 / 1024.0)
}

/// Samples the process RSS every 20 ms on its own thread until stopped; gives the peak.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("rss-sampler".into())
            .spawn(move || {
                let mut peak = 0;
                while !flag.load(Ordering::Relaxed) {
                    peak = peak.max(proc_status_kib("VmRSS:").unwrap_or(0));
                    std::thread::sleep(Duration::from_millis(20));
                }
                peak
            })
            .expect("spawn the RSS sampler");
        RssSampler { stop, thread }
    }

    fn peak_kib(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

/// CPU seconds used so far by this process's threads, grouped by thread name: the nodes'
/// runtime (`node`), the attackers' (`attacker`), and the rest (the bench's own thread).
fn cpu_seconds_by_group() -> BTreeMap<&'static str, f64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in dir.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let group = if name.starts_with("attacker") {
            "attacker"
        } else if name.starts_with("node") {
            "node"
        } else {
            "other"
        };
        // schedstat: nanoseconds on a CPU, nanoseconds waiting for one, time slices.
        let ns: f64 = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        *out.entry(group).or_insert(0.0) += ns / 1e9;
    }
    out
}

/// What A's status says about its peers, sampled during the flood: the most peers it held
/// at once, and the most of them that had not proved a body.
#[derive(Debug, Default, Clone, Copy)]
struct PeerCounts {
    peak: usize,
    peak_unproven: usize,
    samples: usize,
}

fn sample_peers(a: NodeHandle, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<PeerCounts> {
    tokio::spawn(async move {
        let mut counts = PeerCounts::default();
        while !stop.load(Ordering::Relaxed) {
            if let Ok(status) = a.status().await {
                counts.peak = counts.peak.max(status.peers.len());
                let unproven = status.peers.iter().filter(|p| p.body.is_none()).count();
                counts.peak_unproven = counts.peak_unproven.max(unproven);
                counts.samples += 1;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        counts
    })
}

/// The honest writer: `n` edits on A, one every `pace`, each timed until B holds it.
struct Writer<'a> {
    a: &'a TestNode,
    b: &'a TestNode,
    space: SpaceId,
    author: PublicKey,
    seq: u64,
}

impl Writer<'_> {
    /// Each write's start (from the first) and its latency.
    async fn run(
        &mut self,
        label: &str,
        n: usize,
        pace: Duration,
    ) -> Res<Vec<(Duration, Duration)>> {
        let start = Instant::now();
        let mut tick = tokio::time::interval(pace);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            tick.tick().await;
            let t = Instant::now();
            self.a
                .handle
                .edit_agenda(
                    self.space,
                    AgendaEdit {
                        title: Some(format!("议题标题 {label} 第{i}稿")),
                        summary: None,
                    },
                )
                .await?;
            self.seq += 1;
            tokio::time::timeout(
                ARRIVAL,
                self.b.handle.wait_for(self.space, self.author, self.seq),
            )
            .await
            .map_err(|_| {
                format!(
                    "{label}: honest write {i} did not reach B within {} s",
                    ARRIVAL.as_secs()
                )
            })??;
            out.push((t - start, t.elapsed()));
        }
        Ok(out)
    }
}

// ---- the attackers -------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Push-shaped junk, refused unread as "send hello first".
    Push,
    /// 4 KiB tagged as Hello, holding garbage: decoded, refused as invalid.
    BadHello,
    /// A prefix claiming 16 MiB, then zeros for as long as the stream takes them.
    Claim,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Push => "push junk",
            Kind::BadHello => "bad hello (4 KiB)",
            Kind::Claim => "16 MiB claim",
        }
    }
}

/// One attacker request: its kind and, for the small ones, its bytes.
#[derive(Debug, Clone)]
struct Junk {
    kind: Kind,
    bytes: Vec<u8>,
}

impl Junk {
    fn small(n: usize) -> Junk {
        // Message version 1, then the type byte: 5 = Push, 1 = Hello.
        if n % 3 == 2 {
            let mut bytes = vec![0xA5; MAX_UNPROVEN_FRAME_BYTES];
            bytes[..2].copy_from_slice(&[1, 1]);
            Junk {
                kind: Kind::BadHello,
                bytes,
            }
        } else {
            let mut bytes = vec![1, 5];
            bytes.extend_from_slice(&random_seed()); // a space id
            bytes.resize(PUSH_JUNK_BYTES, 0x5A);
            Junk {
                kind: Kind::Push,
                bytes,
            }
        }
    }

    fn claim() -> Junk {
        Junk {
            kind: Kind::Claim,
            bytes: Vec::new(),
        }
    }
}

static ZEROS: [u8; 16 * 1024] = [0; 16 * 1024];

/// The attacker's codec: writes junk frames (a claim writes its body from a shared buffer
/// of zeros, so the attackers hold no 16 MiB of their own) and reads responses up to 64 KiB.
/// It never serves requests.
#[derive(Debug, Clone, Default)]
struct JunkCodec;

impl request_response::Codec for JunkCodec {
    type Protocol = StreamProtocol;
    type Request = Junk;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<Junk>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(io::Error::other("attackers serve no requests"))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, 64 * 1024).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Junk,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        if req.kind != Kind::Claim {
            return write_frame(io, &req.bytes).await;
        }
        let claimed = u32::try_from(MAX_MESSAGE_BYTES).map_err(io::Error::other)?;
        io.write_all(&claimed.to_be_bytes()).await?;
        let mut left = MAX_MESSAGE_BYTES;
        while left > 0 {
            let n = left.min(ZEROS.len());
            io.write_all(&ZEROS[..n]).await?;
            left -= n;
        }
        io.flush().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
        _: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(io::Error::other("attackers answer nothing"))
    }
}

/// What all attackers saw, added up.
#[derive(Debug, Default)]
struct Tally {
    attackers_started: u64,
    attackers_ever_connected: u64,
    dials: u64,
    dial_errors: BTreeMap<String, u64>,
    established: u64,
    /// Connections A closed before answering anything on them.
    closed_unanswered: u64,
    /// Connections A closed after answering at least one request on them.
    closed_after_answers: u64,
    closed_lifetimes_ms: Vec<u64>,
    /// Connections still open when the flood ended.
    open_at_end: u64,
    sent: BTreeMap<Kind, u64>,
    answers: BTreeMap<(Kind, String), u64>,
    failures: BTreeMap<(Kind, String), u64>,
    /// How long A kept a 16 MiB claim open before failing it.
    claim_hold_ms: Vec<u64>,
    /// Claims A read in full and answered: the gate would be open to strangers.
    claims_answered: u64,
}

fn shorten(text: String) -> String {
    let mut t: String = text.chars().take(100).collect();
    if t.len() < text.len() {
        t.push('…');
    }
    t
}

/// An error and its sources, joined with ": ".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !more.is_empty() && !text.contains(&more) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}

fn dial_error_label(error: &DialError) -> String {
    match error {
        DialError::Transport(errors) => errors.first().map_or_else(
            || "transport".to_owned(),
            |(_, e)| shorten(format!("transport: {}", chain(e))),
        ),
        other => shorten(chain(other)),
    }
}

/// A yamux stream's errors start with its id ("000001db/3: connection is closed"): drop it
/// so that equal failures count together.
fn without_stream_id(text: String) -> String {
    match text.split_once(": ") {
        Some((id, rest))
            if id.contains('/') && id.chars().all(|c| c.is_ascii_hexdigit() || c == '/') =>
        {
            rest.to_owned()
        }
        _ => text,
    }
}

fn failure_label(error: &OutboundFailure) -> String {
    match error {
        OutboundFailure::Io(e) => shorten(format!(
            "io {:?}: {}",
            e.kind(),
            without_stream_id(chain(e))
        )),
        other => other.to_string(),
    }
}

fn answer_label(bytes: &[u8]) -> String {
    match Message::decode(bytes) {
        Ok(Message::Refused { reason, .. }) => format!("refused {reason:?}"),
        Ok(other) => format!("answered {}", other.kind()),
        Err(e) => shorten(format!("undecodable answer: {e}")),
    }
}

fn min_median_max(values: &[u64]) -> String {
    let mut v = values.to_vec();
    v.sort_unstable();
    match (v.first(), v.get(v.len() / 2), v.last()) {
        (Some(min), Some(median), Some(max)) => format!("{min}/{median}/{max}"),
        _ => "-".to_owned(),
    }
}

impl Tally {
    /// What the attackers saw, as lines for the report.
    fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "attackers: {} started, {} ever connected; {} dials: {} connections established, {} dials failed",
            self.attackers_started,
            self.attackers_ever_connected,
            self.dials,
            self.established,
            self.dial_errors.values().sum::<u64>()
        )];
        for (label, n) in &self.dial_errors {
            out.push(format!("  dial failed ×{n}: {label}"));
        }
        out.push(format!(
            "  connections A closed: {} before answering anything on them, {} after answering (lifetime ms min/median/max {}); {} still open when the flood ended",
            self.closed_unanswered,
            self.closed_after_answers,
            min_median_max(&self.closed_lifetimes_ms),
            self.open_at_end
        ));
        for (kind, n) in &self.sent {
            out.push(format!("  sent {}: {n}", kind.label()));
        }
        for ((kind, label), n) in &self.answers {
            out.push(format!("    {} → {label}: {n}", kind.label()));
        }
        for ((kind, label), n) in &self.failures {
            out.push(format!("    {} → failed, {label}: {n}", kind.label()));
        }
        out.push(format!(
            "  16 MiB claims: time until they failed, ms min/median/max {}",
            min_median_max(&self.claim_hold_ms)
        ));
        out
    }
}

enum Link {
    /// Not connected; dial again at this instant.
    Down(tokio::time::Instant),
    Dialing(ConnectionId),
    Up {
        id: ConnectionId,
        since: Instant,
        answers: u64,
    },
}

fn attacker_swarm() -> Res<Swarm<request_response::Behaviour<JunkCodec>>> {
    let key = confer_node::net::keypair_from_seed(random_seed())?;
    let config = request_response::Config::default()
        .with_request_timeout(Duration::from_secs(30))
        .with_max_concurrent_streams(64);
    let swarm = SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                JunkCodec,
                [(SYNC_PROTOCOL, ProtocolSupport::Outbound)],
                config,
            )
        })
        .map_err(|never: Infallible| -> Box<dyn std::error::Error> { match never {} })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    Ok(swarm)
}

/// One attacker: dials `target` until `deadline`, sending junk whenever connected.
async fn attacker(
    target: PeerId,
    addr: Multiaddr,
    plan: Plan,
    deadline: tokio::time::Instant,
    tally: Arc<Mutex<Tally>>,
) {
    let note = |f: &mut dyn FnMut(&mut Tally)| {
        f(&mut tally.lock().unwrap_or_else(PoisonError::into_inner))
    };
    note(&mut |t| t.attackers_started += 1);
    let Ok(mut swarm) = attacker_swarm() else {
        return;
    };
    let mut link = Link::Down(tokio::time::Instant::now());
    let mut in_flight: HashMap<OutboundRequestId, (Kind, Instant)> = HashMap::new();
    let mut small_sent = 0usize;
    let mut connected_once = false;
    let run = async {
        loop {
            if matches!(link, Link::Up { .. }) {
                let claims = in_flight
                    .values()
                    .filter(|(k, _)| *k == Kind::Claim)
                    .count();
                let small = in_flight.len() - claims;
                let mut send = Vec::new();
                send.extend((claims..plan.claims_in_flight).map(|_| Junk::claim()));
                let room = SMALL_IN_FLIGHT
                    .saturating_sub(small)
                    .min(plan.small_per_attacker - small_sent);
                for _ in 0..room {
                    send.push(Junk::small(small_sent));
                    small_sent += 1;
                }
                for junk in send {
                    let kind = junk.kind;
                    let id = swarm.behaviour_mut().send_request(&target, junk);
                    in_flight.insert(id, (kind, Instant::now()));
                    note(&mut |t| *t.sent.entry(kind).or_default() += 1);
                }
            }
            let redial_at = match link {
                Link::Down(at) => Some(at),
                _ => None,
            };
            tokio::select! {
                event = swarm.select_next_some() => match event {
                    SwarmEvent::ConnectionEstablished { connection_id, .. }
                        if matches!(link, Link::Dialing(id) if id == connection_id) =>
                    {
                        let first = !connected_once;
                        connected_once = true;
                        note(&mut |t| {
                            t.established += 1;
                            t.attackers_ever_connected += u64::from(first);
                        });
                        link = Link::Up { id: connection_id, since: Instant::now(), answers: 0 };
                    }
                    SwarmEvent::OutgoingConnectionError { connection_id, error, .. }
                        if matches!(link, Link::Dialing(id) if id == connection_id) =>
                    {
                        let label = dial_error_label(&error);
                        note(&mut |t| *t.dial_errors.entry(label.clone()).or_default() += 1);
                        link = Link::Down(tokio::time::Instant::now() + REDIAL);
                    }
                    SwarmEvent::ConnectionClosed { connection_id, .. } => {
                        if let Link::Up { id, since, answers } = link {
                            if id == connection_id {
                                let ms = since.elapsed().as_millis() as u64;
                                note(&mut |t| {
                                    if answers == 0 {
                                        t.closed_unanswered += 1;
                                    } else {
                                        t.closed_after_answers += 1;
                                    }
                                    t.closed_lifetimes_ms.push(ms);
                                });
                                link = Link::Down(tokio::time::Instant::now() + REDIAL);
                            }
                        }
                    }
                    SwarmEvent::Behaviour(request_response::Event::Message {
                        message: request_response::Message::Response { request_id, response },
                        ..
                    }) => {
                        if let Some((kind, _)) = in_flight.remove(&request_id) {
                            let label = answer_label(&response);
                            note(&mut |t| {
                                *t.answers.entry((kind, label.clone())).or_default() += 1;
                                t.claims_answered += u64::from(kind == Kind::Claim);
                            });
                        }
                        if let Link::Up { answers, .. } = &mut link {
                            *answers += 1;
                        }
                    }
                    SwarmEvent::Behaviour(request_response::Event::OutboundFailure {
                        request_id, error, ..
                    }) => {
                        if let Some((kind, sent_at)) = in_flight.remove(&request_id) {
                            let label = failure_label(&error);
                            let ms = sent_at.elapsed().as_millis() as u64;
                            note(&mut |t| {
                                *t.failures.entry((kind, label.clone())).or_default() += 1;
                                if kind == Kind::Claim {
                                    t.claim_hold_ms.push(ms);
                                }
                            });
                        }
                    }
                    _ => {}
                },
                () = tokio::time::sleep_until(redial_at.unwrap_or(deadline)), if redial_at.is_some() => {
                    let opts = DialOpts::peer_id(target)
                        .addresses(vec![addr.clone()])
                        .condition(PeerCondition::Always)
                        .build();
                    let id = opts.connection_id();
                    note(&mut |t| t.dials += 1);
                    link = match swarm.dial(opts) {
                        Ok(()) => Link::Dialing(id),
                        Err(e) => {
                            let label = dial_error_label(&e);
                            note(&mut |t| *t.dial_errors.entry(label.clone()).or_default() += 1);
                            Link::Down(tokio::time::Instant::now() + REDIAL)
                        }
                    };
                }
            }
        }
    };
    let _ = tokio::time::timeout_at(deadline, run).await;
    if matches!(link, Link::Up { .. }) {
        note(&mut |t| t.open_at_end += 1);
    }
}

// ---- the attackers' process -------------------------------------------------------------

/// The child process: runs every attacker against `spec` ("<peer id> <address>") for the
/// flood's duration on one thread, then prints what they saw and, last, one JSON line.
fn attack_main(spec: &str) -> Res<()> {
    let (peer, addr) = spec.split_once(' ').ok_or("bad attack spec")?;
    let target: PeerId = peer.parse()?;
    let addr: Multiaddr = addr.parse()?;
    let plan = Plan::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("attacker")
        .enable_all()
        .build()?;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let cpu_s = runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + plan.flood;
        let tasks: Vec<_> = (0..plan.attackers)
            .map(|_| {
                tokio::spawn(attacker(
                    target,
                    addr.clone(),
                    plan,
                    deadline,
                    tally.clone(),
                ))
            })
            .collect();
        for task in tasks {
            let _ = task.await;
        }
        // Before the runtime's thread exits and takes its CPU time with it.
        cpu_seconds_by_group().values().sum::<f64>()
    });
    runtime.shutdown_background();
    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(PoisonError::into_inner));
    for line in tally.lines() {
        println!("{line}");
    }
    println!(
        "{}",
        json!({
            "cpu_s": cpu_s,
            "peak_rss_mib": mib(proc_status_kib("VmHWM:")),
            "dials": tally.dials,
            "established": tally.established,
            "dial_errors": tally.dial_errors.values().sum::<u64>(),
            "closed_unanswered": tally.closed_unanswered,
            "closed_after_answers": tally.closed_after_answers,
            "open_at_end": tally.open_at_end,
            "sent": tally.sent.values().sum::<u64>(),
            "answered": tally.answers.values().sum::<u64>(),
            "failed": tally.failures.values().sum::<u64>(),
            "claims_answered": tally.claims_answered,
        })
    );
    Ok(())
}

// ---- the run -------------------------------------------------------------------------------

/// p50, p99 and max of the latencies, in ms.
fn summary(latencies: &[Duration]) -> (f64, f64, f64) {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    (
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        percentile(&sorted, 1.0),
    )
}

/// p50/p99/max of the writes that started in each 5 s window of a phase.
fn by_window(timed: &[(Duration, Duration)]) -> Vec<String> {
    const WINDOW: u64 = 5;
    let last = timed
        .iter()
        .map(|(at, _)| at.as_secs() / WINDOW)
        .max()
        .unwrap_or(0);
    (0..=last)
        .map(|w| {
            let inside: Vec<Duration> = timed
                .iter()
                .filter(|(at, _)| at.as_secs() / WINDOW == w)
                .map(|(_, l)| *l)
                .collect();
            if inside.is_empty() {
                return "-".to_owned();
            }
            let (p50, p99, max) = summary(&inside);
            format!("{p50:.1}/{p99:.1}/{max:.1} (n={})", inside.len())
        })
        .collect()
}

/// What one flood round measured.
struct FloodRound {
    /// The honest writes: start and latency.
    timed: Vec<(Duration, Duration)>,
    flood_s: f64,
    rss_before_kib: Option<u64>,
    rss_peak_kib: u64,
    /// Three seconds after the attackers' process ended.
    rss_after_kib: Option<u64>,
    cpu_node_s: f64,
    peers: PeerCounts,
    a_peers_after: usize,
    /// The attackers' own report, and its last line parsed.
    attack_lines: Vec<String>,
    attack: serde_json::Value,
}

/// One flood: the attackers' process against A while the writer measures.
async fn flood_round(writer: &mut Writer<'_>, plan: &Plan) -> Res<FloodRound> {
    let a = writer.a;
    let rss_before_kib = proc_status_kib("VmRSS:");
    let cpu_before = cpu_seconds_by_group();
    let rss = RssSampler::start();
    let stop_peers = Arc::new(AtomicBool::new(false));
    let peers = sample_peers(a.handle.clone(), stop_peers.clone());
    let start = Instant::now();
    let attackers = tokio::process::Command::new("nice")
        .arg("-n")
        .arg(plan.attacker_nice.to_string())
        .arg(std::env::current_exe()?)
        .env(ATTACK_ENV, format!("{} {}", a.peer_id(), a.listen_addr()))
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let timed = writer.run("flood", plan.writes, plan.pace()).await?;
    let attackers = attackers.wait_with_output().await?;
    let flood_s = start.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds_by_group();
    stop_peers.store(true, Ordering::Relaxed);
    let peers = peers.await?;
    if !attackers.status.success() {
        return Err(format!("the attackers' process failed: {}", attackers.status).into());
    }
    let text = String::from_utf8_lossy(&attackers.stdout).into_owned();
    let mut attack_lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let attack: serde_json::Value =
        serde_json::from_str(&attack_lines.pop().ok_or("the attackers printed nothing")?)?;
    // The attackers are gone; give A a moment to notice and free what it held.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_peak_kib = rss.peak_kib();
    let group = |m: &BTreeMap<&str, f64>| m.get("node").copied().unwrap_or(0.0);
    Ok(FloodRound {
        timed,
        flood_s,
        rss_before_kib,
        rss_peak_kib,
        rss_after_kib: proc_status_kib("VmRSS:"),
        cpu_node_s: group(&cpu_after) - group(&cpu_before),
        peers,
        a_peers_after: a.status_now().await.peers.len(),
        attack_lines,
        attack,
    })
}

fn latencies(timed: &[(Duration, Duration)]) -> Vec<Duration> {
    timed.iter().map(|(_, l)| *l).collect()
}

async fn bench() -> Res<()> {
    let plan = Plan::from_env();
    let fed = Federation::new();
    // Measure the protocol, not the anti-entropy timer.
    let quiet = |c: &mut confer_node::Config| c.sync_interval = Duration::from_secs(3600);
    let a = fed.spawn_with("平湖市政协", quiet).await;
    let b = fed.spawn_with("金山区政协", quiet).await;
    connect(&a, &b).await;
    let space = a.create_agenda("跨界河道水环境联防联治", &[&b]).await;
    let author = a.member_public();
    let seq = a
        .space(space)
        .await
        .and_then(|s| s.vector.get(&author.to_string()).copied())
        .ok_or("A's agenda has no entry of A's member")?;
    tokio::time::timeout(ARRIVAL, b.handle.wait_for(space, author, seq))
        .await
        .map_err(|_| "B never received the agenda")??;
    let mut writer = Writer {
        a: &a,
        b: &b,
        space,
        author,
        seq,
    };
    let pace = plan.pace();

    writer
        .run("warm-up", WARM_UP, Duration::from_millis(10))
        .await?;
    let baseline = writer.run("baseline", plan.writes, pace).await?;
    let mut rounds = Vec::new();
    for _ in 0..FLOOD_ROUNDS {
        rounds.push(flood_round(&mut writer, &plan).await?);
    }
    let after = writer.run("after", plan.writes, pace).await?;
    let (raw_p50, raw_p99) = raw_round_trip().await?;

    // ---- the report ----
    let (base_p50, base_p99, base_max) = summary(&latencies(&baseline));
    let mut phases = vec![("baseline".to_owned(), &baseline)];
    phases.extend(
        rounds
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("flood {}", i + 1), &r.timed)),
    );
    phases.push(("after the floods".to_owned(), &after));
    println!();
    println!(
        "flood: {} attackers (distinct peer ids, one thread in a child process at nice {}) × {} small pre-Hello requests ({} in flight) + {} open 16 MiB claims each, for {} s; {FLOOD_ROUNDS} rounds, loopback",
        plan.attackers,
        plan.attacker_nice,
        plan.small_per_attacker,
        SMALL_IN_FLIGHT,
        plan.claims_in_flight,
        plan.flood.as_secs()
    );
    println!(
        "honest: {} writes per phase (after {WARM_UP} warm-up), one every {:.0} ms; edit on A → held by B",
        plan.writes,
        pace.as_secs_f64() * 1e3,
    );
    println!();
    println!("| live latency | p50 ms | p99 ms | max ms | p99 / baseline p99 |");
    println!("|---|---|---|---|---|");
    for (name, timed) in &phases {
        let (p50, p99, max) = summary(&latencies(timed));
        println!(
            "| {name} | {p50:.2} | {p99:.2} | {max:.2} | {:.2} |",
            p99 / base_p99
        );
    }
    println!(
        "| bare libp2p request-response RTT, same run | {raw_p50:.3} | {raw_p99:.3} | | baseline p50 / RTT p50: {:.0}× |",
        base_p50 / raw_p50
    );
    println!();
    let windows: Vec<Vec<String>> = phases.iter().map(|(_, t)| by_window(t)).collect();
    let names: Vec<&str> = phases.iter().map(|(n, _)| n.as_str()).collect();
    println!("| p50/p99/max ms by 5 s window | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
    let rows = windows.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..rows {
        let cells: Vec<&str> = windows
            .iter()
            .map(|w| w.get(i).map_or("-", String::as_str))
            .collect();
        println!("| {}–{} s | {} |", i * 5, i * 5 + 5, cells.join(" | "));
    }
    println!();
    println!("| flood round | nodes' RSS before | peak | 3 s after | node threads' CPU | attackers' CPU | attackers' peak RSS | A's peers: peak (unproven) / after (samples) |");
    println!("|---|---|---|---|---|---|---|---|");
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "| {} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} s in {:.1} s | {:.1} s | {:.1} MiB | {} ({}) / {} ({}) |",
            i + 1,
            mib(r.rss_before_kib),
            r.rss_peak_kib as f64 / 1024.0,
            mib(r.rss_after_kib),
            r.cpu_node_s,
            r.flood_s,
            r.attack["cpu_s"].as_f64().unwrap_or(f64::NAN),
            r.attack["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
            r.peers.peak,
            r.peers.peak_unproven,
            r.a_peers_after,
            r.peers.samples
        );
    }
    println!(
        "(RSS of the process holding A and B; VmHWM at the end: {:.1} MiB)",
        mib(proc_status_kib("VmHWM:"))
    );
    for (i, r) in rounds.iter().enumerate() {
        println!();
        println!("flood {}, as the attackers saw it:", i + 1);
        for line in &r.attack_lines {
            println!("{line}");
        }
    }
    let ratios: Vec<f64> = rounds
        .iter()
        .map(|r| summary(&latencies(&r.timed)).1 / base_p99)
        .collect();
    let worst = ratios.iter().copied().fold(0.0, f64::max);
    println!();
    println!(
        "FLOOD p99 ratio: {worst:.2} (target ≤ 2; worst of {FLOOD_ROUNDS} rounds: {})",
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "{}",
        json!({
            "scenario": "flood", "attackers": plan.attackers, "flood_s": plan.flood.as_secs(), "rounds": FLOOD_ROUNDS,
            "attacker_nice": plan.attacker_nice, "small_requests_per_attacker": plan.small_per_attacker, "claims_in_flight": plan.claims_in_flight,
            "writes": plan.writes, "pace_ms": pace.as_secs_f64() * 1e3,
            "baseline_p50_ms": base_p50, "baseline_p99_ms": base_p99, "baseline_max_ms": base_max,
            "after_p99_ms": summary(&latencies(&after)).1,
            "p99_ratios": ratios, "target_p99_ratio": 2.0,
            "limit": "bare libp2p request-response round trip (TCP+Noise+Yamux, loopback)",
            "limit_p50_ms": raw_p50, "limit_p99_ms": raw_p99,
            "rounds_detail": rounds.iter().map(|r| json!({
                "p50_ms": summary(&latencies(&r.timed)).0, "p99_ms": summary(&latencies(&r.timed)).1,
                "nodes_rss_before_mib": mib(r.rss_before_kib), "nodes_rss_peak_mib": r.rss_peak_kib as f64 / 1024.0,
                "nodes_rss_after_mib": mib(r.rss_after_kib), "nodes_cpu_s": r.cpu_node_s,
                "a_peers_peak": r.peers.peak, "a_unproven_peers_peak": r.peers.peak_unproven,
                "attack": r.attack,
            })).collect::<Vec<_>>(),
        })
    );

    let (mut a, mut b) = (a, b);
    b.shutdown().await;
    a.shutdown().await;
    let breached: u64 = rounds
        .iter()
        .map(|r| r.attack["claims_answered"].as_u64().unwrap_or(0))
        .sum();
    if breached > 0 {
        return Err(format!(
            "A read {breached} frames of 16 MiB from peers that never proved a body"
        )
        .into());
    }
    Ok(())
}

/// p50/p99 of a bare request-response round trip between two swarms of the node's own
/// transport stack, with a payload the size of one live push (as in `benches/sync.rs`).
async fn raw_round_trip() -> Res<(f64, f64)> {
    use confer_node::net::{build_swarm, keypair_from_seed, BehaviourEvent, NetConfig};
    use libp2p::request_response::{Event, Message};
    let mut server = build_swarm(keypair_from_seed([201; 32])?, &NetConfig::default())?;
    let mut client = build_swarm(keypair_from_seed([202; 32])?, &NetConfig::default())?;
    server.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = server.select_next_some().await {
            break address;
        }
    };
    let server_id = *server.local_peer_id();
    let serve = tokio::spawn(async move {
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
    let mut times = Vec::with_capacity(RAW_SAMPLES + 50);
    for _ in 0..RAW_SAMPLES + 50 {
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
    serve.abort();
    let mut times = times.split_off(50); // warm-up
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 0.99)))
}
