//! Prometheus metrics: the text exposition format (version 0.0.4), built from the node's
//! [`StatusView`], and the separate `confer run --metrics HOST:PORT` listener.
//!
//! The metrics are served in two places:
//! - `GET /metrics` on the local API, which takes the API token like every other route
//!   there (the token is fresh for each `run`, so this one is for local tools and scripts);
//! - `GET /metrics` on the metrics listener, without a token, for a monitoring server.
//!   That listener serves nothing else, and the metrics hold only counts, durations, space
//!   and body ids and body names: no agenda content, no keys, no token. So it may listen
//!   on an address other than loopback (it is logged as a warning).
//!
//! The list of metrics, with their types, labels and meaning, is in the README
//! ("Monitoring"); [`render`] writes them.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use crate::handle::NodeHandle;
use crate::views::StatusView;

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds, in seconds, of the store commit latency histogram's buckets (a durable
/// commit is an fsync: around a millisecond on an SSD, tens on a busy disk).
pub const COMMIT_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// How long the store's durable commits took: a histogram kept with atomics, so it can be
/// recorded through `&Store`.
#[derive(Debug, Default)]
pub struct CommitTimes {
    /// Commits at most each bound of [`COMMIT_BUCKETS`] (not cumulative).
    buckets: [AtomicU64; COMMIT_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl CommitTimes {
    pub fn record(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(i) = COMMIT_BUCKETS.iter().position(|le| seconds <= *le) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn view(&self) -> CommitLatencyView {
        let mut cumulative = 0;
        let buckets = COMMIT_BUCKETS
            .iter()
            .zip(&self.buckets)
            .map(|(le, n)| {
                cumulative += n.load(Ordering::Relaxed);
                CommitBucket {
                    le: *le,
                    count: cumulative,
                }
            })
            .collect();
        CommitLatencyView {
            count: self.count.load(Ordering::Relaxed),
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            buckets,
        }
    }
}

/// The store's durable commits since start and how long they took.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CommitLatencyView {
    /// Commits since start.
    pub count: u64,
    /// The time they took together, in seconds.
    pub sum_seconds: f64,
    /// Commits that took at most `le` seconds (cumulative, as Prometheus buckets are).
    pub buckets: Vec<CommitBucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CommitBucket {
    pub le: f64,
    pub count: u64,
}

/// A label value in the exposition format: backslash, double quote and newline escaped.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One metric family: `# HELP`, `# TYPE`, then its samples.
struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &'static str, kind: &str, help: &str) -> Family<'a> {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Family { out, name }
    }

    fn sample(&mut self, suffix: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let _ = write!(self.out, "{}{suffix}", self.name);
        if !labels.is_empty() {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
                .collect();
            let _ = write!(self.out, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.out, " {value}");
    }
}

/// The labels of a catch-up's samples.
fn progress_labels(p: &crate::views::ProgressView) -> [(&'static str, &str); 5] {
    let (body, name) = p.body.as_ref().map_or(("", ""), |b| {
        (b.id.as_str(), b.name.as_deref().unwrap_or(""))
    });
    [
        ("space", &p.space),
        ("peer", &p.peer_id),
        ("body", body),
        ("body_name", name),
        ("state", &p.state),
    ]
}

/// Messages by kind: every kind of the protocol from the start (0 until one is seen), then
/// any other the counts hold.
fn by_kind(f: &mut Family<'_>, counts: &std::collections::BTreeMap<String, crate::views::Counter>) {
    let messages = |kind: &str| counts.get(kind).map_or(0, |c| c.messages);
    for kind in confer_protocol::Message::KINDS {
        f.sample("", &[("kind", kind)], messages(kind));
    }
    for (kind, c) in counts
        .iter()
        .filter(|(k, _)| !confer_protocol::Message::KINDS.contains(&k.as_str()))
    {
        f.sample("", &[("kind", kind)], c.messages);
    }
}

/// The node's metrics in the text exposition format.
pub fn render(status: &StatusView) -> String {
    let mut out = String::new();
    let o = &mut out;

    let mut f = Family::new(
        o,
        "confer_build_info",
        "gauge",
        "This node's release and body (always 1).",
    );
    f.sample(
        "",
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("body", &status.body.id),
            ("body_name", status.body.name.as_deref().unwrap_or("")),
        ],
        1,
    );

    let mut f = Family::new(o, "confer_spaces", "gauge", "Spaces held, by kind.");
    for kind in ["agenda", "ledger"] {
        let n = status.spaces.iter().filter(|s| s.kind == kind).count();
        f.sample("", &[("kind", kind)], n);
    }

    let mut f = Family::new(
        o,
        "confer_space_entries",
        "gauge",
        "Entries applied in each space (its log).",
    );
    for s in &status.spaces {
        f.sample("", &[("space", &s.id), ("kind", &s.kind)], s.entries);
    }
    let mut f = Family::new(
        o,
        "confer_entries",
        "gauge",
        "Entries applied in all spaces together.",
    );
    f.sample(
        "",
        &[],
        status.spaces.iter().map(|s| s.entries).sum::<usize>(),
    );
    let mut f = Family::new(
        o,
        "confer_space_pending_entries",
        "gauge",
        "Entries of each space held waiting for their dependencies.",
    );
    for s in &status.spaces {
        f.sample("", &[("space", &s.id)], s.pending);
    }

    let mut f = Family::new(
        o,
        "confer_peers_connected",
        "gauge",
        "Peers with an open connection.",
    );
    f.sample("", &[], status.peers.len());
    let mut f = Family::new(
        o,
        "confer_peers_proven",
        "gauge",
        "Connected peers that proved their body with a node certificate.",
    );
    f.sample(
        "",
        &[],
        status.peers.iter().filter(|p| p.body.is_some()).count(),
    );
    let mut f = Family::new(
        o,
        "confer_peers_remembered",
        "gauge",
        "Peers added with `peer add`, kept connected.",
    );
    f.sample("", &[], status.remembered_peers.len());

    let mut f = Family::new(
        o,
        "confer_sync_lag_entries",
        "gauge",
        "Entries this node holds of a space that the best-placed connected node of a member body lacks, per the vector it last told (only while one is connected and has told it).",
    );
    for s in &status.spaces {
        for d in s
            .delivery
            .iter()
            .filter(|d| d.state == "current" || d.state == "behind")
        {
            f.sample(
                "",
                &[
                    ("space", &s.id),
                    ("body", &d.body.id),
                    ("body_name", d.body.name.as_deref().unwrap_or("")),
                ],
                d.missing,
            );
        }
    }
    let mut f = Family::new(
        o,
        "confer_sync_partner_state",
        "gauge",
        "1 for the state of each other member body of each space: current, behind, waiting, refused or offline.",
    );
    for s in &status.spaces {
        for d in &s.delivery {
            f.sample(
                "",
                &[
                    ("space", &s.id),
                    ("body", &d.body.id),
                    ("body_name", d.body.name.as_deref().unwrap_or("")),
                    ("state", &d.state),
                ],
                1,
            );
        }
    }

    let entries = &status.traffic.entries;
    let mut f = Family::new(
        o,
        "confer_entries_received_total",
        "counter",
        "Entries peers sent since start, by what became of them.",
    );
    f.sample("", &[("outcome", "accepted")], entries.accepted);
    f.sample("", &[("outcome", "duplicate")], entries.duplicates);
    f.sample("", &[("outcome", "rejected")], entries.rejected);
    let mut f = Family::new(
        o,
        "confer_entries_refused_total",
        "counter",
        "Entries from peers refused since start, by kind of reason (bad_signature, unauthorized, model, revoked, equivocator, ...).",
    );
    // Every reason from the start, at 0 until it happens, so dashboards and alerts have a
    // series to watch (and a rate over it) before the first refusal.
    let by_reason = &status.traffic.rejected_by_reason;
    for reason in confer_protocol::space::Rejection::CODES {
        f.sample(
            "",
            &[("reason", reason)],
            by_reason.get(reason).copied().unwrap_or(0),
        );
    }
    for (reason, n) in by_reason
        .iter()
        .filter(|(r, _)| !confer_protocol::space::Rejection::CODES.contains(&r.as_str()))
    {
        f.sample("", &[("reason", reason)], n);
    }
    let mut f = Family::new(
        o,
        "confer_requests_failed_total",
        "counter",
        "Requests to peers since start that got no usable answer.",
    );
    f.sample("", &[], status.traffic.requests_failed);
    let mut f = Family::new(
        o,
        "confer_messages_sent_total",
        "counter",
        "Sync protocol messages sent since start, by kind.",
    );
    by_kind(&mut f, &status.traffic.sent);
    let mut f = Family::new(
        o,
        "confer_messages_received_total",
        "counter",
        "Sync protocol messages received since start, by kind.",
    );
    by_kind(&mut f, &status.traffic.received);
    let mut f = Family::new(
        o,
        "confer_equivocations",
        "gauge",
        "Equivocations (a member key that signed two entries at one seq) this node holds evidence of.",
    );
    f.sample("", &[], status.equivocations.len());

    let mut f = Family::new(
        o,
        "confer_catch_up_received_entries",
        "gauge",
        "Entries received in the latest catch-up of each space from each peer (a pull answered in batches).",
    );
    for p in &status.progress {
        f.sample("", &progress_labels(p), p.received);
    }
    let mut f = Family::new(
        o,
        "confer_catch_up_total_entries",
        "gauge",
        "Entries received plus those the peer still holds beyond this node, for the same catch-ups.",
    );
    for p in &status.progress {
        f.sample("", &progress_labels(p), p.total);
    }
    let mut f = Family::new(
        o,
        "confer_peer_clock_skew_seconds",
        "gauge",
        "Each connected peer's clock minus this machine's, as it said once it proved its body.",
    );
    for p in &status.peers {
        if let (Some(c), Some(b)) = (&p.clock, &p.body) {
            f.sample(
                "",
                &[
                    ("peer", &p.peer_id),
                    ("body", &b.id),
                    ("body_name", b.name.as_deref().unwrap_or("")),
                ],
                c.skew_ms as f64 / 1000.0,
            );
        }
    }

    let commits = &status.store_commits;
    let mut f = Family::new(
        o,
        "confer_store_commit_seconds",
        "histogram",
        "How long each durable store commit (one redb transaction, fsynced) took.",
    );
    for b in &commits.buckets {
        f.sample("_bucket", &[("le", &b.le.to_string())], b.count);
    }
    f.sample("_bucket", &[("le", "+Inf")], commits.count);
    f.sample("_sum", &[], commits.sum_seconds);
    f.sample("_count", &[], commits.count);
    out
}

/// `GET /metrics`: the node's metrics, or 503 if the node is stopping.
pub async fn answer(node: &NodeHandle) -> Response {
    match node.status().await {
        Ok(status) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&status)).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("the node does not answer: {e}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(node): State<NodeHandle>) -> Response {
    answer(&node).await
}

async fn not_here() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "this listener serves only GET /metrics\n",
    )
        .into_response()
}

/// A running metrics listener.
pub struct MetricsServer {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds the metrics listener on `addr` (no token: it serves only `GET /metrics`).
pub async fn serve(addr: SocketAddr, node: NodeHandle) -> std::io::Result<MetricsServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .fallback(not_here)
        .with_state(node);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "metrics listener failed");
        }
    });
    if crate::config::is_loopback(addr.ip()) {
        tracing::info!(%addr, "metrics listening (GET /metrics)");
    } else {
        tracing::warn!(
            %addr,
            "metrics listening on an address other than loopback, without a token: anyone who reaches it sees counts, space and body ids and body names (no agenda content, no keys)"
        );
    }
    Ok(MetricsServer { addr, stop, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(label("x\ny"), "x\\ny");
        assert_eq!(label("金山区政协"), "金山区政协");
    }

    #[test]
    fn commit_times_fill_cumulative_buckets() {
        let t = CommitTimes::default();
        t.record(Duration::from_micros(300));
        t.record(Duration::from_millis(3));
        t.record(Duration::from_secs(10));
        let v = t.view();
        assert_eq!(v.count, 3);
        assert!((v.sum_seconds - 10.0033).abs() < 1e-9, "{}", v.sum_seconds);
        let at = |le: f64| v.buckets.iter().find(|b| b.le == le).map(|b| b.count);
        assert_eq!(at(0.0005), Some(1));
        assert_eq!(at(0.0025), Some(1));
        assert_eq!(at(0.005), Some(2));
        assert_eq!(at(2.5), Some(2), "10 s falls only in +Inf");
    }
}
