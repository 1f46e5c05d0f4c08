//! Prometheus metrics over real HTTP: a node with a partner over real libp2p, scraped on
//! its local API (token required) and on its separate metrics listener (no token, only
//! `/metrics`); the values move with what happens — an edit on the partner, a connected
//! peer, entries refused after a rogue's push — and the text parses as the exposition
//! format.

use std::collections::BTreeMap;

use confer_node::api::ApiFile;
use confer_protocol::{BodyId, Entry, SecretKey};

use crate::support::*;

/// One sample: metric name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text exposition format strictly enough to catch a malformed line: every line
/// is a `# HELP`/`# TYPE` comment or `name{k="v",…} value`, every sample's family was
/// typed before it, label values unescaped.
fn parse(text: &str) -> Vec<Sample> {
    let mut typed: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().expect("TYPE names a metric");
            let kind = parts.next().expect("TYPE gives a type");
            assert!(
                ["counter", "gauge", "histogram"].contains(&kind),
                "type {kind} in {line:?}"
            );
            typed.push(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.is_empty() && !line.starts_with('#'), "line {line:?}");
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = value.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("labels end with }");
                (name.to_owned(), parse_labels(body, line))
            }
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name {name:?}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| typed.iter().any(|t| t == f))
            })
            .unwrap_or(&name);
        assert!(
            typed.iter().any(|t| t == family),
            "sample {name} before its # TYPE"
        );
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    samples
}

fn parse_labels(body: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(
            chars.next(),
            Some('"'),
            "label {key} opens a quote: {line:?}"
        );
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c @ ('\\' | '"')) => value.push(c),
                    other => panic!("bad escape {other:?} in {line:?}"),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => panic!("unterminated label value in {line:?}"),
            }
        }
        labels.insert(key, value);
        match chars.next() {
            Some(',') | None => {}
            other => panic!("after a label: {other:?} in {line:?}"),
        }
    }
    labels
}

/// The value of the one sample named `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} matches {found:?}");
    found.first().map(|s| s.value)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client")
}

async fn get_text(url: &str, token: Option<&str>) -> (u16, String, String) {
    let mut request = client().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, kind, response.text().await.expect("body"))
}

/// A scrape of the metrics listener, parsed.
async fn scrape(url: &str) -> Vec<Sample> {
    let (status, kind, text) = get_text(url, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    parse(&text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_both_endpoints_and_move_with_the_node() {
    let fed = Federation::new();
    let (a, b, id) = pair(&fed).await;
    let space = id.to_string();
    let b_body = b.body.to_string();

    let listener = confer_node::metrics::serve(
        "127.0.0.1:0".parse().expect("loopback address"),
        a.handle.clone(),
    )
    .await
    .expect("the metrics listener starts");
    let url = format!("http://{}/metrics", listener.addr);
    let api_file = a.dir.join("api.json");
    let api = confer_node::api::serve(
        "127.0.0.1:0".parse().expect("loopback address"),
        a.handle.clone(),
        &api_file,
    )
    .await
    .expect("the API starts");
    let file: ApiFile =
        serde_json::from_slice(&std::fs::read(&api_file).expect("api.json written"))
            .expect("api.json parses");

    // The local API's /metrics takes the token; the listener serves nothing else.
    let api_url = format!("http://{}/metrics", api.addr);
    let (status, _, _) = get_text(&api_url, None).await;
    assert_eq!(status, 401, "the API served metrics without its token");
    let (status, kind, text) = get_text(&api_url, Some(&file.token)).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let from_api = parse(&text);
    assert_eq!(
        value(&from_api, "confer_space_entries", &[("space", &space)]),
        Some(2.0),
        "{text}"
    );
    for other in ["/v1/status", "/", "/metrics/x"] {
        let (status, _, _) = get_text(
            &format!("http://{}{other}", listener.addr),
            Some(&file.token),
        )
        .await;
        assert_eq!(status, 404, "the metrics listener served {other}");
    }

    // The pair: one agenda of two entries, B connected and current.
    let before = eventually(
        "B's node tells A its vector",
        Duration::from_secs(20),
        || {
            let url = url.clone();
            let (space, b_body) = (space.clone(), b_body.clone());
            async move {
                let m = scrape(&url).await;
                let lag = value(
                    &m,
                    "confer_sync_lag_entries",
                    &[("space", &space), ("body", &b_body)],
                );
                (lag == Some(0.0))
                    .then_some(m)
                    .ok_or(format!("lag {lag:?}"))
            }
        },
    )
    .await;
    assert_eq!(
        value(&before, "confer_spaces", &[("kind", "agenda")]),
        Some(1.0)
    );
    assert_eq!(
        value(&before, "confer_space_entries", &[("space", &space)]),
        Some(2.0)
    );
    assert_eq!(value(&before, "confer_entries", &[]), Some(2.0));
    assert_eq!(value(&before, "confer_peers_connected", &[]), Some(1.0));
    assert_eq!(value(&before, "confer_peers_proven", &[]), Some(1.0));
    assert_eq!(
        value(
            &before,
            "confer_sync_partner_state",
            &[("space", &space), ("body", &b_body), ("state", "current")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &before,
            "confer_build_info",
            &[("body", &a.body.to_string()), ("body_name", "A 政协")]
        ),
        Some(1.0),
        "the body's name, not ASCII, passes through as a label"
    );
    let commits = value(&before, "confer_store_commit_seconds_count", &[]).expect("count");
    assert!(
        commits >= 2.0,
        "A committed its genesis and B's entry: {commits}"
    );
    assert_eq!(
        value(
            &before,
            "confer_store_commit_seconds_bucket",
            &[("le", "+Inf")]
        ),
        Some(commits)
    );
    let buckets: Vec<f64> = before
        .iter()
        .filter(|s| s.name == "confer_store_commit_seconds_bucket")
        .map(|s| s.value)
        .collect();
    assert!(
        buckets.windows(2).all(|w| w[0] <= w[1]),
        "buckets are cumulative: {buckets:?}"
    );
    assert!(value(&before, "confer_store_commit_seconds_sum", &[]).expect("sum") > 0.0);
    let accepted = |m: &[Sample]| {
        value(
            m,
            "confer_entries_received_total",
            &[("outcome", "accepted")],
        )
        .expect("accepted")
    };
    assert!(accepted(&before) >= 1.0, "B's entry was received");

    // An edit on B: A's entries and commits move.
    b.edit(id, Some("B 改的标题"), None).await;
    converged(&[&a, &b], id, "B's edit reaches A", |v| v.entries == 3).await;
    let after = scrape(&url).await;
    assert_eq!(
        value(&after, "confer_space_entries", &[("space", &space)]),
        Some(3.0)
    );
    assert_eq!(value(&after, "confer_entries", &[]), Some(3.0));
    assert!(
        value(&after, "confer_store_commit_seconds_count", &[]).expect("count") > commits,
        "B's edit was committed on A"
    );
    assert_eq!(accepted(&after), accepted(&before) + 1.0);
    // Nothing refused yet: every reason is there, at 0.
    let refused: Vec<&Sample> = after
        .iter()
        .filter(|s| s.name == "confer_entries_refused_total")
        .collect();
    assert_eq!(
        refused.len(),
        confer_protocol::space::Rejection::CODES.len(),
        "{refused:?}"
    );
    assert!(refused.iter().all(|s| s.value == 0.0), "{refused:?}");

    // A rogue node of B's body pushes an entry by a key no member certificate covers.
    let mut rogue = Rogue::new(random_seed(), &b.body_secret(), "B 政协");
    rogue.dial(&a.addr()).await;
    rogue.hello().await;
    let base = doc_from_entries(&fetch_entries(&mut rogue, id).await);
    let uncertified = SecretKey::from_seed(random_seed());
    let change = change_as(
        &mut base.clone(),
        &uncertified.public(),
        &[("title", "无证书密钥写入的标题")],
    );
    let bad =
        Entry::sign(id, BodyId(b.body_secret().public()), &change, &uncertified).expect("sign");
    push(&mut rogue, id, vec![], vec![bad]).await;
    let refused = scrape(&url).await;
    assert_eq!(
        value(
            &refused,
            "confer_entries_refused_total",
            &[("reason", "unauthorized")]
        ),
        Some(1.0),
        "{refused:?}"
    );
    assert_eq!(
        value(
            &refused,
            "confer_entries_received_total",
            &[("outcome", "rejected")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&refused, "confer_space_entries", &[("space", &space)]),
        Some(3.0),
        "the refused entry was not applied"
    );
    assert_eq!(
        value(&refused, "confer_peers_connected", &[]),
        Some(2.0),
        "B's node and the rogue"
    );

    listener.stop().await;
    api.stop().await;
    assert!(
        client().get(&url).send().await.is_err(),
        "the metrics listener stopped"
    );
}
