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

/// The delivery entry of `body` in an agenda view, status space or command output.
fn delivery_of<'v>(view: &'v Value, body: &str) -> Option<&'v Value> {
    view["delivery"]
        .as_array()?
        .iter()
        .find(|d| d["body"]["id"] == body)
}

fn space_of<'v>(status: &'v Value, id: &str) -> Option<&'v Value> {
    status["spaces"].as_array()?.iter().find(|s| s["id"] == id)
}

#[test]
fn agenda_new_edit_show_and_status_say_which_bodies_hold_the_agenda_and_why_not() {
    let root = TempDir::new().expect("tempdir");
    let mut a = Node::init(root.path(), "a", "平湖市政协");
    let mut b = Node::init(root.path(), "b", "金山区政协");
    a.start(LOOPBACK);
    b.start(LOOPBACK);
    // A adds B; B has not added A yet.
    a.cli(&["peer", "add", &b.tcp_addr()]).ok();
    wait_trusted(&a, &b);

    // The creator sees the refusal in the command's own output, in words.
    let out = a
        .cli(&["agenda", "new", "--title", "跨界水污染", "--with", &b.body])
        .ok();
    assert!(
        out.stdout.contains("金山区政协") && out.stdout.contains("has not added this node yet"),
        "{}",
        out.describe()
    );
    let id = a.cli(&["agenda", "list", "--json"]).json()[0]["id"]
        .as_str()
        .expect("agenda id")
        .to_owned();
    let refused = poll(
        "the refusal in agenda show",
        SYNC_DEADLINE,
        &[&a, &b],
        || {
            let view = a.try_json(&["agenda", "show", &id])?;
            match delivery_of(&view, &b.body) {
                Some(d) if d["state"] == "refused" => Ok(d.clone()),
                _ => Err(view["delivery"].to_string()),
            }
        },
    );
    assert_eq!(refused["reason"], "not_trusted", "{refused}");
    assert!(refused["at"].as_u64().is_some(), "{refused}");
    let show = a.cli(&["agenda", "show", &id]).ok().stdout;
    assert!(show.contains("has not added this node yet"), "{show}");
    let zh = cli_lang(&a.data, "zh_CN.UTF-8", &["agenda", "show", &id])
        .ok()
        .stdout;
    assert!(zh.contains("尚未添加本节点"), "{zh}");
    let status = a.cli(&["status"]).ok().stdout;
    assert!(status.contains("has not added this node yet"), "{status}");
    assert!(status.contains("1 change applied (平湖市政协"), "{status}");
    assert!(status.contains("all received changes applied"), "{status}");
    // B holds nothing of it.
    assert!(b.status()["spaces"].as_array().is_some_and(Vec::is_empty));

    // B adds A: the next sync brings the agenda, and A says B holds every change.
    b.cli(&["peer", "add", &a.tcp_addr()]).ok();
    poll(
        "B to hold the agenda, as A sees it",
        SYNC_DEADLINE,
        &[&a, &b],
        || {
            let status = a.try_json(&["status"])?;
            let space = space_of(&status, &id).ok_or("no space")?;
            match delivery_of(space, &b.body) {
                Some(d) if d["state"] == "current" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    );

    // An edit while B is connected: delivered to B.
    let out = a.cli(&["agenda", "edit", &id, "--summary", "第一稿"]).ok();
    assert!(
        out.stdout.starts_with("Saved (durable):"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("Delivered to 金山区政协"),
        "{}",
        out.describe()
    );
    let edit = a
        .cli(&["agenda", "edit", &id, "--summary", "第二稿", "--json"])
        .json();
    assert_eq!(
        delivery_of(&edit, &b.body).expect("B")["state"],
        "current",
        "{edit}"
    );

    // B stops: the edit is saved and will reach B when it connects.
    b.kill9();
    poll("A to notice B is gone", SYNC_DEADLINE, &[&a], || {
        let status = a.try_json(&["status"])?;
        let space = space_of(&status, &id).ok_or("no space")?;
        match delivery_of(space, &b.body) {
            Some(d) if d["state"] == "offline" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    let out = a.cli(&["agenda", "edit", &id, "--summary", "第三稿"]).ok();
    assert!(
        out.stdout.contains("Will reach 金山区政协") && !out.stdout.contains("Delivered"),
        "{}",
        out.describe()
    );
    let zh = cli_lang(
        &a.data,
        "zh_CN.UTF-8",
        &["agenda", "edit", &id, "--summary", "第四稿"],
    )
    .ok()
    .stdout;
    assert!(
        zh.contains("已保存") && zh.contains("连接后即会收到"),
        "{zh}"
    );
}

#[test]
fn a_forgotten_or_wrong_data_directory_gets_one_coherent_hint() {
    let root = TempDir::new().expect("tempdir");
    // No --data and no CONFER_DATA: the default is named, not a new committee suggested.
    let home = root.path().join("home");
    fs::create_dir_all(&home).expect("home");
    let mut cmd = Command::new(BIN);
    cmd.arg("status")
        .env("HOME", &home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("CONFER_DATA")
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .stdin(Stdio::null());
    let out = finish(cmd, "confer status (no --data)".into(), CLI_TIMEOUT);
    let line = out.one_line_error();
    let default = home.join(".local/share/confer").display().to_string();
    assert!(
        line.contains("pass --data DIR or set CONFER_DATA")
            && line.contains(&format!("(default: {default})")),
        "{line}"
    );
    // An existing directory that is no data directory (`--data /tmp`): the same one hint
    // from a command and from `run`, never "not running" beside "not initialised".
    let plain = root.path().join("plain");
    fs::create_dir_all(&plain).expect("plain dir");
    for args in [
        &["status"][..],
        &["run", "--listen", LOOPBACK, "--api", "127.0.0.1:0"],
    ] {
        let line = cli(&plain, args).one_line_error();
        assert!(line.contains("is not a confer data directory"), "{line}");
        assert!(line.contains("--data DIR or set CONFER_DATA"), "{line}");
        assert!(!line.contains("not running"), "{line}");
        let zh = cli_lang(&plain, "zh_CN.UTF-8", args).one_line_error();
        assert!(zh.contains("不是 confer 数据目录"), "{zh}");
    }
    assert!(
        fs::read_dir(&plain).expect("read").next().is_none(),
        "nothing written there"
    );
}

/// Latin words in Chinese output that are not ids, paths, commands, flags, placeholders,
/// values to type or names of standards: what a Chinese reader should never meet.
pub(crate) fn english_words(text: &str) -> Vec<String> {
    const ALLOWED: &[&str] = &[
        "confer",
        "libp2p",
        "TCP",
        "QUIC",
        "HTTP",
        "API",
        "JSON",
        "mDNS",
        "NAT",
        "SIGINT",
        "SIGTERM",
        "UTF-8",
        "SHA-256",
        "Markdown",
        "HTML",
        "A4",
        "KiB",
        "MiB",
        "NTP",
        "redb",
        "UTC",
        "LANG=C",
        "YYYY-MM-DD",
        "FILE",
        "ID",
    ];
    let mut out = Vec::new();
    // The usage line is a synopsis of the command to type.
    for line in text.lines().filter(|l| !l.starts_with("用法：")) {
        // Backticks quote commands; ［可选值：…］ and ［默认值：…］ hold values to type.
        let mut cleaned = String::new();
        let mut in_code = false;
        let mut in_values = false;
        let mut rest = line;
        while let Some(c) = rest.chars().next() {
            if rest.starts_with("［可选值：") || rest.starts_with("［默认值：") {
                in_values = true;
            }
            match c {
                '`' => in_code = !in_code,
                // “…” quotes what the operator typed.
                '“' => in_code = true,
                '”' => in_code = false,
                '］' => in_values = false,
                _ if in_code || in_values => {}
                _ => cleaned.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        // A word right after a flag is its value (`--reason other`).
        let mut after_flag = false;
        for word in cleaned.split(|c: char| {
            c.is_whitespace()
                || !c.is_ascii()
                || matches!(c, ',' | ';' | '(' | ')' | '[' | ']' | '"')
        }) {
            let word = word.trim_matches(|c: char| matches!(c, '.' | ':' | '…'));
            if word.is_empty() {
                after_flag = false;
                continue;
            }
            let value = std::mem::replace(&mut after_flag, word.starts_with("--"));
            if value {
                continue;
            }
            let latin = word.chars().any(|c| c.is_ascii_alphabetic());
            let code_like = word.starts_with('-')
                || word.contains('/')
                || word.contains('$')
                || word.contains('~')
                || word.contains('<')
                || word.contains('_')
                || word.contains('@')
                || word.contains('.')
                || (word.len() >= 8 && word.chars().all(|c| c.is_ascii_hexdigit()))
                || word.starts_with("12D3Koo")
                || word.chars().all(|c| !c.is_ascii_lowercase());
            if latin && !code_like && !ALLOWED.contains(&word) {
                out.push(word.to_owned());
            }
        }
    }
    out
}

/// The subcommands a `--help` lists under 命令.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("命令"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn chinese_help_and_errors_are_entirely_chinese() {
    let root = TempDir::new().expect("tempdir");
    let a = Node::init(root.path(), "a", "平湖市政协");
    let zh = |args: &[&str]| cli_lang(&a.data, "zh_CN.UTF-8", args);
    // Every command's --help, recursively.
    let mut queue: Vec<Vec<String>> = vec![vec![]];
    let mut seen = 0;
    while let Some(path) = queue.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = zh(&args).ok();
        seen += 1;
        let names = subcommands(&out.stdout);
        let words: Vec<String> = english_words(&out.stdout)
            .into_iter()
            .filter(|w| !names.contains(w))
            .collect();
        assert!(
            words.is_empty(),
            "English in `{}`: {words:?}\n{}",
            args.join(" "),
            out.stdout
        );
        assert!(out.stdout.contains("用法："), "{}", out.stdout);
        for sub in subcommands(&out.stdout) {
            let mut next = path.clone();
            next.push(sub);
            queue.push(next);
        }
    }
    assert!(seen > 80, "walked {seen} commands");
    // And English stays English.
    let en = cli(&a.data, &["agenda", "new", "--help"]).ok().stdout;
    assert!(en.contains("Usage:") && en.contains("--summary"), "{en}");

    // Command-line errors clap finds, in Chinese too.
    for args in [
        &["agenda", "new", "--title", "T"][..],
        &["agenda", "nw"],
        &["peer", "add", "notanaddr"],
        &["report", "--year", "2025", "--format", "pdf"],
        &["status", "--bogus"],
    ] {
        let out = zh(args);
        assert_eq!(out.status.code(), Some(2), "{}", out.describe());
        assert!(out.stderr.starts_with("confer: "), "{}", out.describe());
        let words = english_words(&out.stderr);
        assert!(words.is_empty(), "English in {}: {words:?}", out.stderr);
    }

    // Error paths, with the node not running and running.
    let not_running = zh(&["status"]).one_line_error();
    assert!(english_words(&not_running).is_empty(), "{not_running}");
    let mut a = a;
    a.start(LOOPBACK);
    let zh = |args: &[&str]| cli_lang(&a.data, "zh_CN.UTF-8", args);
    let errors = [
        zh(&["agenda", "new", "--title", "T", "--with", "194b3a70"]),
        zh(&["agenda", "new", "--title", "T", "--with", "not-hex"]),
        zh(&["agenda", "show", "194B3A70"]),
        zh(&["agenda", "show", "12"]),
        zh(&["peer", "add", "/ip4/127.0.0.1/tcp/1"]),
        zh(&[
            "peer",
            "remove",
            "12D3KooWDPQ1CRCpcw2dngWzMVasjv1RJqKsNLPmBqh8aSus1uqx",
        ]),
        zh(&["trust", "194b3a70"]),
        zh(&["untrust", "194b3a70"]),
        zh(&["agenda", "edit", &"ab".repeat(32)]),
        zh(&["history", &"ab".repeat(32)]),
    ];
    for out in errors {
        let line = out.one_line_error();
        let words = english_words(&line);
        assert!(words.is_empty(), "English in {line}: {words:?}");
    }
}

fn doctor_check<'v>(report: &'v Value, name: &str) -> Vec<&'v Value> {
    report["checks"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["check"] == name).collect())
        .unwrap_or_default()
}

#[test]
fn doctor_says_what_to_fix() {
    let root = TempDir::new().expect("tempdir");
    let mut a = Node::init(root.path(), "a", "平湖市政协");
    let mut b = Node::init(root.path(), "b", "金山区政协");

    // Not running, keys private, body key in plaintext.
    let out = a.cli(&["doctor", "--json"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(
        doctor_check(&report, "data_dir")[0]["status"],
        "ok",
        "{report}"
    );
    assert_eq!(
        doctor_check(&report, "key_files")[0]["status"],
        "ok",
        "{report}"
    );
    assert_eq!(
        doctor_check(&report, "body_key")[0]["status"],
        "warn",
        "{report}"
    );
    assert_eq!(
        doctor_check(&report, "node")[0]["status"],
        "warn",
        "{report}"
    );
    assert_eq!(doctor_check(&report, "disk")[0]["status"], "ok", "{report}");
    assert_eq!(
        doctor_check(&report, "clock")[0]["status"],
        "skipped",
        "{report}"
    );

    // A key file others can read: a failure naming the fix, exit status 1.
    let key = a.data.join("keys/node.key");
    let key = if key.exists() {
        key
    } else {
        fs::read_dir(a.data.join("keys"))
            .expect("keys")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.is_file())
            .expect("a key file")
    };
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = a.cli(&["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{}", out.describe());
    assert!(
        out.stdout.contains("FAIL") && out.stdout.contains(&format!("chmod 600 {}", key.display())),
        "{}",
        out.describe()
    );
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).expect("chmod");

    // Running, with one peer that cannot be reached and one that is connected.
    a.start(LOOPBACK);
    b.start(LOOPBACK);
    let dead = Node::init(root.path(), "c", "嘉善县政协");
    let nowhere = format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", closed_port(), dead.peer);
    a.cli(&["peer", "add", &nowhere]).ok();
    a.cli(&["peer", "add", &b.tcp_addr()]).ok();
    wait_trusted(&a, &b);
    let out = a.cli(&["doctor", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", out.describe());
    let report: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(report["ok"], false);
    assert_eq!(doctor_check(&report, "node")[0]["status"], "ok", "{report}");
    let peers = doctor_check(&report, "peer");
    let bad = peers
        .iter()
        .find(|p| p["detail"].as_str().is_some_and(|d| d.contains(&dead.peer)))
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(bad["status"], "fail");
    assert!(
        bad["detail"]
            .as_str()
            .is_some_and(|d| d.contains("does not accept TCP connections from here")),
        "{bad}"
    );
    assert!(
        bad["fix"].as_str().is_some_and(|f| f.contains("--replace")),
        "{bad}"
    );
    let good = peers
        .iter()
        .find(|p| p["detail"].as_str().is_some_and(|d| d.contains(&b.peer)))
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(good["status"], "ok", "{report}");
    // B's clock, asked over the wire once it proved its body: the same machine's.
    let clocks = poll("A knows B's clock", SYNC_DEADLINE, &[&a, &b], || {
        let report: Value = serde_json::from_str(&a.cli(&["doctor", "--json"]).stdout)
            .map_err(|e| e.to_string())?;
        let clocks: Vec<Value> = doctor_check(&report, "clock")
            .into_iter()
            .cloned()
            .collect();
        if clocks.iter().any(|c| c["status"] == "ok") {
            Ok(clocks)
        } else {
            Err(format!("{clocks:?}"))
        }
    });
    let clock = clocks
        .iter()
        .find(|c| c["detail"].as_str().is_some_and(|d| d.contains(&b.peer)))
        .unwrap_or_else(|| panic!("{clocks:?}"));
    assert_eq!(clock["status"], "ok", "{clock}");
    let skew = a.status()["peers"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["peer_id"] == b.peer.as_str()).cloned())
        .and_then(|p| p["clock"]["skew_ms"].as_i64())
        .expect("status shows B's clock");
    assert!(skew.abs() < 1_000, "one machine, one clock: {skew} ms");

    // Fixed: nothing fails, exit 0; in Chinese, entirely.
    a.cli(&["peer", "remove", &dead.peer]).ok();
    let out = a.cli(&["doctor"]).ok();
    assert!(out.stdout.contains("connected"), "{}", out.stdout);
    let zh = cli_lang(&a.data, "zh_CN.UTF-8", &["doctor"]).ok().stdout;
    assert!(zh.contains("已连接") && zh.contains("处理："), "{zh}");
    let words = english_words(&zh);
    assert!(words.is_empty(), "English in {zh}: {words:?}");
}
