//! `confer run --metrics HOST:PORT` through the real binary: the listener serves
//! `GET /metrics` without a token and nothing else, and the series a dashboard or an alert
//! watches exist at zero before anything happened.

use std::net::TcpListener;

use super::*;

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// The status line and the body of a raw HTTP response.
fn split(response: &str) -> (&str, &str) {
    let status = response.lines().next().unwrap_or("");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body)
}

#[test]
fn the_metrics_listener_serves_only_metrics_without_a_token_and_zeros_from_the_start() {
    let root = TempDir::new().expect("tempdir");
    let mut a = Node::init(root.path(), "a", "平湖市政协");
    let port = free_port();
    let metrics = format!("127.0.0.1:{port}");
    let api = start_with_args(&mut a, &["--api", "127.0.0.1:0", "--metrics", &metrics]);

    let response = raw_get(&metrics, "/metrics", None);
    let (status, body) = split(&response);
    assert!(status.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{response}"
    );
    assert!(body.contains("confer_build_info{"), "{body}");
    assert!(body.contains(&a.body), "names its body: {body}");
    // Every refusal reason and message kind has its series before anything happened.
    for reason in [
        "bad_signature",
        "unauthorized",
        "model",
        "revoked",
        "equivocator",
        "not_chosen",
    ] {
        let line = format!("confer_entries_refused_total{{reason=\"{reason}\"}} 0");
        assert!(body.lines().any(|l| l == line), "{line} in\n{body}");
    }
    for kind in ["hello", "sync-request", "push"] {
        let line = format!("confer_messages_received_total{{kind=\"{kind}\"}} 0");
        assert!(body.lines().any(|l| l == line), "{line} in\n{body}");
    }
    assert!(
        body.lines().any(|l| l == "confer_peers_connected 0"),
        "{body}"
    );

    // Nothing else, with or without the API's token.
    let token = api["token"].as_str().expect("token");
    for path in [
        "/",
        "/v1/status",
        "/v1/agendas",
        "/metrics/x",
        "/v1/openapi.json",
    ] {
        for t in [None, Some(token)] {
            let response = raw_get(&metrics, path, t);
            assert!(
                split(&response).0.starts_with("HTTP/1.1 404"),
                "{path}: {response}"
            );
            assert!(
                !response.contains(&a.body),
                "{path} tells nothing: {response}"
            );
        }
    }
    // The API's own /metrics still wants the token.
    let api_addr = api["addr"].as_str().expect("api addr");
    let response = raw_get(api_addr, "/metrics", None);
    assert!(split(&response).0.starts_with("HTTP/1.1 401"), "{response}");
    let response = raw_get(api_addr, "/metrics", Some(token));
    assert!(split(&response).0.starts_with("HTTP/1.1 200"), "{response}");
}
