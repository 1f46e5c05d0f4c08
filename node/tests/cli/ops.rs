//! Operations through the real binary: two committees with no network path between them
//! keep an agenda in step with `sync export` and `sync import` (receipts carried back);
//! `backup` of a running node, `restore` into a new directory, and the restored node
//! refusing edits (in English and Chinese) until a partner's sync file has caught it up.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

#[test]
fn files_carry_an_agenda_between_unconnected_nodes_and_a_backup_restores_and_catches_up() {
    let root = TempDir::new().expect("tempdir");
    let mut a = Node::init(root.path(), "a", "平湖市政协");
    let mut b = Node::init(root.path(), "b", "金山区政协");
    a.start(LOOPBACK);
    b.start(LOOPBACK);
    a.cli(&["trust", &b.body]).ok();
    b.cli(&["trust", &a.body]).ok();
    let created = a
        .cli(&[
            "agenda",
            "new",
            "--title",
            "网闸两侧的议题",
            "--with",
            &b.body,
            "--json",
        ])
        .json();
    let id = created["id"].as_str().expect("id").to_owned();

    let file = |name: &str| root.path().join(name);
    let f1 = file("a-to-b-1.sync");
    let out = a
        .cli(&[
            "sync",
            "export",
            "--for",
            &b.body,
            "--out",
            f1.to_str().unwrap(),
        ])
        .ok();
    assert!(
        out.stdout.contains("confer sync import"),
        "{}",
        out.describe()
    );
    let imported = b
        .cli(&["sync", "import", f1.to_str().unwrap(), "--json"])
        .json();
    assert_eq!(imported["import"]["spaces"][0]["accepted"], 1, "{imported}");
    let r1 = PathBuf::from(imported["receipt_file"].as_str().expect("receipt file"));
    assert!(r1.exists());
    let on_b = b.cli(&["agenda", "show", &id, "--json"]).json();
    assert_eq!(
        field_value(&on_b, "title").as_deref(),
        Some("网闸两侧的议题")
    );

    // B edits; its file goes back; A's next file since B's receipt holds the difference.
    b.cli(&["agenda", "edit", &id, "--summary", "金山的意见"])
        .ok();
    let f2 = file("b-to-a-1.sync");
    b.cli(&[
        "sync",
        "export",
        "--for",
        &a.body,
        "--out",
        f2.to_str().unwrap(),
    ])
    .ok();
    let r2 = file("b-to-a-1.receipt");
    let text = a
        .cli(&[
            "sync",
            "import",
            f2.to_str().unwrap(),
            "--receipt",
            r2.to_str().unwrap(),
        ])
        .ok();
    assert!(text.stdout.contains("金山区政协"), "{}", text.describe());
    let on_a = a.cli(&["agenda", "show", &id, "--json"]).json();
    assert_eq!(field_value(&on_a, "summary").as_deref(), Some("金山的意见"));

    // An altered file: one line saying so, nothing imported.
    let mut bytes = fs::read(&f2).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    let altered = file("altered.sync");
    fs::write(&altered, &bytes).expect("write");
    let err = cli_lang(
        &a.data,
        "zh_CN.UTF-8",
        &["sync", "import", altered.to_str().unwrap()],
    )
    .one_line_error();
    assert!(err.contains("未导入任何内容"), "{err}");

    // A's backup, while it runs: private, and never over an existing file.
    a.cli(&["agenda", "edit", &id, "--title", "备份前的标题"])
        .ok();
    let bak = file("a.backup");
    let made = a.cli(&["backup", bak.to_str().unwrap(), "--json"]).json();
    assert!(made["entries"].as_u64().expect("entries") >= 3, "{made}");
    assert_eq!(mode(&bak), 0o600);
    let again = a.cli(&["backup", bak.to_str().unwrap()]).one_line_error();
    assert!(again.contains("already exists"), "{again}");
    // A edits after the backup and sends that to B, then its machine is lost.
    a.cli(&["agenda", "edit", &id, "--title", "备份后的标题"])
        .ok();
    let f3 = file("a-to-b-2.sync");
    a.cli(&[
        "sync",
        "export",
        "--for",
        &b.body,
        "--since",
        r1.to_str().unwrap(),
        "--out",
        f3.to_str().unwrap(),
    ])
    .ok();
    b.cli(&["sync", "import", f3.to_str().unwrap()]).ok();
    a.kill9();

    let dir = file("a-restored");
    let used = cli(&a.data, &["restore", bak.to_str().unwrap()]).one_line_error();
    assert!(used.contains("not empty"), "{used}");
    let restored = cli(&dir, &["restore", bak.to_str().unwrap(), "--json"]).json();
    assert!(restored["entries"].as_u64().expect("entries") >= 3);
    let mut a2 = Node {
        name: "a-restored".into(),
        data: dir.clone(),
        root: root.path().to_owned(),
        body: a.body.clone(),
        peer: a.peer.clone(),
        child: None,
        runs: 0,
        log_filter: "warn",
        colour_env: false,
    };
    a2.start(LOOPBACK);
    let waiting = a2.cli(&["catch-up", "--json"]).json();
    assert_eq!(waiting["waiting"][0]["space"], id.as_str(), "{waiting}");
    let refused = a2
        .cli(&["agenda", "edit", &id, "--title", "同步前"])
        .one_line_error();
    assert!(refused.contains("restored from a backup"), "{refused}");
    let refused = cli_lang(
        &a2.data,
        "zh_CN.UTF-8",
        &["agenda", "edit", &id, "--title", "同步前"],
    )
    .one_line_error();
    assert!(refused.contains("从备份恢复"), "{refused}");

    // B's file brings back what A signed after the backup; then A writes on.
    let f4 = file("b-to-a-2.sync");
    b.cli(&[
        "sync",
        "export",
        "--for",
        &a.body,
        "--out",
        f4.to_str().unwrap(),
    ])
    .ok();
    a2.cli(&["sync", "import", f4.to_str().unwrap()]).ok();
    let done = a2.cli(&["catch-up"]).ok();
    assert!(done.stdout.contains("caught up"), "{}", done.describe());
    let view = a2.cli(&["agenda", "show", &id, "--json"]).json();
    assert_eq!(field_value(&view, "title").as_deref(), Some("备份后的标题"));
    a2.cli(&["agenda", "edit", &id, "--title", "恢复并同步后的标题"])
        .ok();
    let f5 = file("a-to-b-3.sync");
    a2.cli(&[
        "sync",
        "export",
        "--for",
        &b.body,
        "--out",
        f5.to_str().unwrap(),
    ])
    .ok();
    let last = b
        .cli(&["sync", "import", f5.to_str().unwrap(), "--json"])
        .json();
    assert_eq!(last["import"]["spaces"][0]["accepted"], 1, "{last}");
    let on_b = b.cli(&["agenda", "show", &id, "--json"]).json();
    assert_eq!(
        field_value(&on_b, "title").as_deref(),
        Some("恢复并同步后的标题")
    );
    assert_eq!(on_b["equivocators"], serde_json::json!([]), "{on_b}");
    assert_clean_logs(&[&b]);
}
