//! The CLI tells the operator the truth (issue 8): a port another process holds, the
//! state of each remembered peer, which member bodies hold an agenda and why not, what an
//! edit reached.

use super::*;

#[test]
fn a_second_node_on_the_same_tcp_port_refuses_to_start() {
    let root = TempDir::new().expect("tempdir");
    let mut a = Node::init(root.path(), "a", "平湖市政协");
    let mut b = Node::init(root.path(), "b", "金山区政协");
    a.start(LOOPBACK);
    let port = tcp_port(&a.tcp_addr());
    let same = format!("/ip4/127.0.0.1/tcp/{port}");
    b.spawn_run(&same);
    let (status, _) = b.wait_exit(START_DEADLINE);
    assert_eq!(status.code(), Some(1), "{}", b.logs());
    let log = b.logs();
    let line = log
        .lines()
        .find(|l| l.starts_with("confer: "))
        .unwrap_or_else(|| panic!("no error line: {log}"));
    assert!(line.contains(&same), "{line}");
    assert!(line.contains("another process"), "{line}");
    assert!(line.contains("--listen"), "{line}");
    assert!(
        !b.api_file().exists(),
        "the refused node never served its API"
    );
    // The first node still runs and answers.
    assert_eq!(tcp_port(&a.tcp_addr()), port);
    // In Chinese too, entirely.
    let out = cli_lang(
        &b.data,
        "zh_CN.UTF-8",
        &["run", "--listen", &same, "--api", "127.0.0.1:0"],
    );
    let line = out.one_line_error();
    assert!(line.contains("已被另一个进程"), "{line}");
}

/// A loopback TCP port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local address").port()
}

/// The remembered peer `peer` in `a`'s status.
fn remembered(a: &Node, peer: &str) -> Result<Value, String> {
    let status = a.try_json(&["status"])?;
    status["remembered_peers"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["peer_id"] == peer))
        .cloned()
        .ok_or_else(|| format!("{peer} not remembered: {status}"))
}

#[test]
fn peer_add_reports_dial_failures_keeps_every_address_and_replace_keeps_one() {
    let root = TempDir::new().expect("tempdir");
    let mut a = Node::init(root.path(), "a", "平湖市政协");
    let mut b = Node::init(root.path(), "b", "金山区政协");
    let c = Node::init(root.path(), "c", "嘉善县政协");
    a.log_filter = "info";
    a.start(LOOPBACK);
    b.start(LOOPBACK);
    let b_addr = b.tcp_addr();

    // A wrong port: the command says it did not connect and why; so do status and peer list.
    let wrong_port = format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", closed_port(), b.peer);
    let out = a.cli(&["peer", "add", &wrong_port]).ok();
    assert!(out.stdout.contains("Not connected:"), "{}", out.describe());
    assert!(out.stdout.contains("refused"), "{}", out.describe());
    let row = poll("the failed dial in status", SYNC_DEADLINE, &[&a], || {
        let row = remembered(&a, &b.peer)?;
        if row["last_error"]["kind"] == "refused" && row["state"] != "connected" {
            Ok(row)
        } else {
            Err(row.to_string())
        }
    });
    assert_eq!(row["addresses"], serde_json::json!([wrong_port]));
    assert!(
        row["last_error"]["at"].as_u64().is_some_and(|t| t > 0),
        "{row}"
    );
    let list = a.cli(&["peer", "list"]).ok().stdout;
    assert!(list.contains("last error:"), "{list}");
    let zh = cli_lang(&a.data, "zh_CN.UTF-8", &["peer", "list"])
        .ok()
        .stdout;
    assert!(zh.contains("连接被拒绝"), "{zh}");
    assert!(!zh.contains("refused"), "no English in Chinese: {zh}");
    // RUST_LOG=info logs it.
    poll("the dial failure in the log", SYNC_DEADLINE, &[&a], || {
        let log = a.logs();
        if log.contains("dial failed") && log.contains(&b.peer) {
            Ok(())
        } else {
            Err(log)
        }
    });

    // Another node at B's address: a wrong peer id.
    let wrong_id = format!(
        "{}/p2p/{}",
        b_addr.rsplit_once("/p2p/").expect("p2p").0,
        c.peer
    );
    let out = a.cli(&["peer", "add", &wrong_id, "--json"]).json();
    assert_eq!(out["peer"]["last_error"]["kind"], "wrong_peer_id", "{out}");
    let human = a.cli(&["peer", "list"]).ok().stdout;
    assert!(
        human.contains(&b.peer),
        "the real peer id is named: {human}"
    );

    // B's real address beside the wrong port: both kept, and the good one connects.
    let out = a.cli(&["peer", "add", &b_addr]).ok();
    assert!(
        out.stdout.contains(&wrong_port),
        "the other address is named: {}",
        out.describe()
    );
    poll("A to connect to B", SYNC_DEADLINE, &[&a, &b], || {
        let row = remembered(&a, &b.peer)?;
        if row["state"] == "connected" {
            Ok(())
        } else {
            Err(row.to_string())
        }
    });
    let row = remembered(&a, &b.peer).expect("remembered");
    assert_eq!(row["addresses"], serde_json::json!([wrong_port, b_addr]));

    // Both survive a restart (they are in the redb file).
    a.kill9();
    a.start(LOOPBACK);
    let row = poll("B remembered after restart", SYNC_DEADLINE, &[&a], || {
        remembered(&a, &b.peer)
    });
    let mut kept: Vec<String> = serde_json::from_value(row["addresses"].clone()).expect("list");
    kept.sort();
    let mut both = vec![wrong_port.clone(), b_addr.clone()];
    both.sort();
    assert_eq!(kept, both);

    // --replace keeps only the one given, also after a restart.
    a.cli(&["peer", "add", &b_addr, "--replace"]).ok();
    assert_eq!(
        remembered(&a, &b.peer).expect("remembered")["addresses"],
        serde_json::json!([b_addr])
    );
    a.kill9();
    a.start(LOOPBACK);
    assert_eq!(
        poll("B remembered after restart", SYNC_DEADLINE, &[&a], || {
            remembered(&a, &b.peer)
        })["addresses"],
        serde_json::json!([b_addr])
    );

    // peer remove forgets every address, for good.
    a.cli(&["peer", "add", &wrong_port]).ok();
    a.cli(&["peer", "remove", &b.peer]).ok();
    a.kill9();
    a.start(LOOPBACK);
    let status = a.status();
    assert!(
        status["remembered"].as_array().is_some_and(|r| r
            .iter()
            .all(|a| !a.as_str().unwrap_or("").ends_with(&b.peer))),
        "{status}"
    );
    assert!(
        status["remembered_peers"]
            .as_array()
            .is_some_and(|r| r.iter().all(|p| p["peer_id"] != b.peer.as_str())),
        "{status}"
    );
}
