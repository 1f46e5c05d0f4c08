//! The configuration file through the real binary: `confer run --config FILE` takes the API
//! address, peers and the data directory from it; a flag and an environment variable win
//! over it; an unknown key, a wrong type and a missing file are refused before anything
//! starts, naming the file and the line, in English and in Chinese.

use std::net::TcpListener;

use super::truth::english_words;
use super::*;

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn stop(node: &mut Node) {
    signal(node.pid(), Signal::SIGTERM);
    let (status, _) = node.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status}\n{}", node.logs());
}

#[test]
fn a_configuration_file_sets_the_api_and_peers_and_flags_and_environment_win_over_it() {
    let root = TempDir::new().expect("tempdir");
    let mut a = Node::init(root.path(), "a", "平湖市政协");
    let mut b = Node::init(root.path(), "b", "金山区政协");
    b.start(LOOPBACK);
    let port = free_port();
    let config = root.path().join("confer.toml");
    fs::write(
        &config,
        format!(
            "# a's settings\n\
             data = \"a\"\n\
             api = \"127.0.0.1:{port}\"\n\
             peer = [\"{}\"]\n",
            b.tcp_addr()
        ),
    )
    .expect("write config");
    let config_arg = config.to_str().expect("utf-8 path");

    // The file's API address: the node answers there, with its token.
    let api = start_with_args(&mut a, &["--config", config_arg]);
    let addr = format!("127.0.0.1:{port}");
    assert_eq!(api["addr"], addr.as_str(), "{api}");
    let token = api["token"].as_str().expect("token");
    let response = raw_get(&addr, "/v1/status", Some(token));
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(&a.body), "{response}");
    // The file's peer is remembered and connected, as `peer add` would.
    poll(
        "a connects to the peer its file names",
        SYNC_DEADLINE,
        &[&a, &b],
        || {
            let status = a.try_json(&["status"])?;
            ensure_peer(&status, &b.body)
        },
    );
    // Every command finds the data directory through the file (relative to it): the
    // clean environment of `confer`, without its --data.
    let template = confer(&a.data, "C");
    let mut cmd = Command::new(BIN);
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.args(["--config", config_arg, "status", "--json"]);
    let status: Value = serde_json::from_str(
        &finish(
            cmd,
            "confer --config FILE status --json".into(),
            CLI_TIMEOUT,
        )
        .ok()
        .stdout,
    )
    .expect("status JSON");
    assert_eq!(status["body"]["id"], a.body.as_str());
    stop(&mut a);

    // A flag wins over the file.
    let api = start_with_args(&mut a, &["--config", config_arg, "--api", "127.0.0.1:0"]);
    assert_ne!(api["addr"], addr.as_str(), "--api wins: {api}");
    assert!(
        api["addr"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{api}"
    );
    stop(&mut a);
    // So does the environment.
    let api = start_with_env(
        &mut a,
        &[("CONFER_API", "127.0.0.1:0"), ("CONFER_CONFIG", config_arg)],
        &[],
    );
    assert_ne!(api["addr"], addr.as_str(), "CONFER_API wins: {api}");
    a.cli(&["status"]).ok();
    stop(&mut a);
}

/// Whether `status` shows a connected peer of `body`.
fn ensure_peer(status: &Value, body: &str) -> Result<(), String> {
    if peer_bodies(status).iter().any(|b| b == body) {
        Ok(())
    } else {
        Err(format!("no connected peer of {body}: {status}"))
    }
}

#[test]
fn a_bad_configuration_file_is_refused_naming_the_line_in_both_languages() {
    let root = TempDir::new().expect("tempdir");
    let a = Node::init(root.path(), "a", "平湖市政协");
    let write = |name: &str, text: &str| {
        let path = root.path().join(name);
        fs::write(&path, text).expect("write config");
        path.to_str().expect("utf-8 path").to_owned()
    };
    let unknown = write(
        "unknown.toml",
        "api = \"127.0.0.1:0\"\n\n# a typo\nmdsn = true\n",
    );
    let wrong_type = write(
        "type.toml",
        "listen = [\"/ip4/127.0.0.1/tcp/0\"]\napi = 4647\n",
    );
    let missing = root.path().join("missing.toml");
    let missing = missing.to_str().expect("utf-8 path");

    let run = |lang: &str, file: &str| {
        let out = cli_lang(
            &a.data,
            lang,
            &["run", "--config", file, "--listen", LOOPBACK],
        );
        let line = out.one_line_error();
        assert!(!a.api_file().exists(), "nothing started: {line}");
        line
    };
    let en = run("C", &unknown);
    assert!(
        en.contains(&unknown) && en.contains("line 4, column 1"),
        "{en}"
    );
    assert!(
        en.contains("unknown setting `mdsn`") && en.contains("`mdns`"),
        "{en}"
    );
    let zh = run("zh_CN.UTF-8", &unknown);
    assert!(
        zh.contains("第 4 行第 1 列") && zh.contains("未知的设置项“mdsn”"),
        "{zh}"
    );
    assert!(english_words(&zh).is_empty(), "{zh}");

    let en = run("C", &wrong_type);
    assert!(
        en.contains("line 2, column 7") && en.contains("invalid type"),
        "{en}"
    );
    assert!(en.contains("HOST:PORT"), "says what it should be: {en}");
    let zh = run("zh_CN.UTF-8", &wrong_type);
    assert!(
        zh.contains("第 2 行第 7 列") && zh.contains("值的类型不对"),
        "{zh}"
    );
    assert!(zh.contains("主机:端口"), "{zh}");
    assert!(english_words(&zh).is_empty(), "{zh}");

    let en = run("C", missing);
    assert!(en.contains(missing) && en.contains("No such file"), "{en}");
    let zh = run("zh_CN.UTF-8", missing);
    assert!(zh.contains(missing) && zh.contains("文件不存在"), "{zh}");
    assert!(english_words(&zh).is_empty(), "{zh}");

    // The example the Debian package installs starts a node (the test's flags over it).
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/confer.toml");
    let mut a = a;
    let api = start_with_args(&mut a, &["--config", example, "--api", "127.0.0.1:0"]);
    assert!(api["token"].is_string());
    stop(&mut a);
}
