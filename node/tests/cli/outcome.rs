//! Outcomes signed by both bodies through the real binary on two running nodes: a member
//! who may not sign is refused, each body's signer signs, the outcome is adopted on both
//! nodes, its exported bundle verifies offline, a second signature of the same text is
//! refused, and editing the text shows both signatures as not matching. Then the closed
//! loop read back: `overdue`, `suggestion show` and `report`.

use super::*;

fn text_file(root: &Path, name: &str, text: &str) -> String {
    let path = root.join(name);
    std::fs::write(&path, text).expect("write text file");
    path.display().to_string()
}

fn id_of(out: Out) -> String {
    out.json()["id"].as_str().expect("id").to_owned()
}

#[test]
fn both_bodies_sign_an_outcome_it_verifies_offline_and_the_loop_reads_back() {
    let root = TempDir::new().expect("tempdir");
    let (a, b) = connected_pair(root.path());
    let agenda = shared_agenda(&a, &b, "跨界河道联防联治");
    a.cli(&["round", "new", &agenda, "--json"]).ok();
    let suggestion = id_of(a.cli(&[
        "suggestion",
        "add",
        &agenda,
        "--text",
        "建立联合河长制",
        "--date",
        "2026-02-15",
        "--json",
    ]));
    let first = text_file(
        root.path(),
        "opinion.txt",
        "一、建立联合河长制。\n二、信息互通。\n",
    );
    let outcome = id_of(a.cli(&[
        "outcome",
        "new",
        &agenda,
        "--kind",
        "joint-opinion",
        "--title",
        "联合协商意见",
        "--text-file",
        &first,
        "--suggestion",
        &suggestion,
        "--json",
    ]));
    a.cli(&[
        "member",
        "add",
        "--name",
        "主席甲",
        "--role",
        "chair",
        "--can-sign",
    ])
    .ok();
    b.cli(&[
        "member",
        "add",
        "--name",
        "主席乙",
        "--role",
        "chair",
        "--can-sign",
    ])
    .ok();

    // The first member (staff) may not sign; the chair may, once per text.
    let refused = a.cli(&["outcome", "sign", &outcome[..8]]).one_line_error();
    assert!(refused.contains("can-sign"), "{refused}");
    a.cli(&["outcome", "sign", &outcome[..8], "--as", "主席甲", "--json"])
        .ok();
    let twice = a
        .cli(&["outcome", "sign", &outcome, "--as", "主席甲"])
        .one_line_error();
    assert!(twice.contains("already signed"), "{twice}");
    let twice = cli_lang(
        &a.data,
        "zh_CN.UTF-8",
        &["outcome", "sign", &outcome, "--as", "主席甲"],
    )
    .one_line_error();
    assert!(
        twice.contains("已签署过") && !twice.contains("already"),
        "{twice}"
    );
    poll("B holds the outcome", SYNC_DEADLINE, &[&a, &b], || {
        b.try_json(&["outcome", "show", &outcome])
    });
    b.cli(&["outcome", "sign", &outcome, "--as", "主席乙", "--json"])
        .ok();
    let adopted = poll("A shows it adopted", SYNC_DEADLINE, &[&a, &b], || {
        let shown = a.try_json(&["outcome", "show", &outcome])?;
        if shown["adopted"] == true {
            Ok(shown)
        } else {
            Err(shown.to_string())
        }
    });
    let bodies = adopted["bodies"].as_array().expect("bodies");
    assert_eq!(bodies.len(), 2);
    assert!(bodies.iter().all(|b| b["matches"] == true), "{adopted}");
    let zh = cli_lang(&b.data, "zh_CN.UTF-8", &["outcome", "show", &outcome]).ok();
    assert!(
        zh.stdout.contains("已通过") && zh.stdout.contains("主席甲"),
        "{}",
        zh.stdout
    );

    // Exported, it verifies offline (no data directory) and says adopted.
    let bundle = root.path().join("opinion.bundle.json");
    let bundle_arg = bundle.display().to_string();
    a.cli(&["outcome", "export", &outcome, "--out", &bundle_arg])
        .ok();
    let nowhere = root.path().join("no-data-here");
    let verified = cli(&nowhere, &["verify", &bundle_arg, "--json"]).json();
    assert_eq!(
        (verified["valid"].clone(), verified["adopted"].clone()),
        (true.into(), true.into()),
        "{verified}"
    );

    // A changed text: both signatures stand for the old text only.
    let second = text_file(
        root.path(),
        "opinion2.txt",
        "一、建立联合河长制。\n二、信息互通。\n三、联合执法。\n",
    );
    a.cli(&["outcome", "edit", &outcome, "--text-file", &second])
        .ok();
    let changed = a.cli(&["outcome", "show", &outcome, "--json"]).json();
    assert_eq!(changed["adopted"], false, "{changed}");
    let bodies = changed["bodies"].as_array().expect("bodies");
    assert!(
        bodies
            .iter()
            .all(|b| b["signed"] == true && b["matches"] == false),
        "{changed}"
    );
    a.cli(&["outcome", "export", &outcome, "--out", &bundle_arg])
        .ok();
    let mut verify = confer(&nowhere, "C.UTF-8");
    verify.args(["verify", &bundle_arg, "--json"]);
    let out = finish(verify, "verify the changed outcome".into(), CLI_TIMEOUT);
    assert_eq!(
        out.status.code(),
        Some(3),
        "valid but not adopted: {}",
        out.describe()
    );

    // The closed loop: a unit assigned on A runs late; overdue, the trail and the report
    // say so.
    a.cli(&[
        "handling",
        "assign",
        &suggestion,
        "--unit",
        "平湖市水利局",
        "--assigned",
        "2026-02-20",
        "--due",
        "2026-04-20",
    ])
    .ok();
    let overdue = a.cli(&["overdue", "--on", "2026-05-01", "--json"]).json();
    assert_eq!(overdue.as_array().map(Vec::len), Some(1), "{overdue}");
    assert_eq!(overdue[0]["overdue_days"], 11, "{overdue}");
    assert_eq!(overdue[0]["unit"], "平湖市水利局");
    let none = a.cli(&["overdue", "--on", "2026-04-01", "--json"]).json();
    assert_eq!(none.as_array().map(Vec::len), Some(0), "{none}");
    let trail = a
        .cli(&[
            "suggestion",
            "show",
            &suggestion[..8],
            "--on",
            "2026-05-01",
            "--json",
        ])
        .json();
    assert_eq!(trail["units"][0]["overdue_days"], 11, "{trail}");
    assert_eq!(trail["outcomes"][0]["id"], outcome.as_str(), "{trail}");
    let zh = cli_lang(
        &a.data,
        "zh_CN.UTF-8",
        &["suggestion", "show", &suggestion, "--on", "2026-05-01"],
    )
    .ok();
    assert!(zh.stdout.contains("已逾期 11 天"), "{}", zh.stdout);
    let report = a
        .cli(&[
            "report",
            "--year",
            "2026",
            "--as-of",
            "2026-05-01",
            "--json",
        ])
        .json();
    assert_eq!(report["agendas"][0]["suggestions"], 1, "{report}");
    let md = cli_lang(
        &a.data,
        "zh_CN.UTF-8",
        &["report", "--year", "2026", "--as-of", "2026-05-01"],
    )
    .ok();
    assert!(
        md.stdout.contains("年终通报") && md.stdout.contains("逾期"),
        "{}",
        md.stdout
    );
    let html = a
        .cli(&[
            "report",
            "--year",
            "2026",
            "--agenda",
            &agenda[..8],
            "--format",
            "html",
        ])
        .ok();
    assert!(
        html.stdout.starts_with("<!doctype html>"),
        "{}",
        html.stdout
    );
    // Round two takes the suggestion up again; the neighbouring body assesses the outcome.
    a.cli(&["round", "new", &agenda, "--from", &outcome[..8]])
        .ok();
    let again = id_of(a.cli(&[
        "suggestion",
        "add",
        &agenda,
        "--text",
        "扩大联合河长制范围",
        "--from",
        &suggestion[..8],
        "--json",
    ]));
    let trail = a.cli(&["suggestion", "show", &again, "--json"]).json();
    assert_eq!(trail["earlier"][0]["id"], suggestion.as_str(), "{trail}");
    assert_eq!(trail["round"], "2", "{trail}");
    poll("B holds round two", SYNC_DEADLINE, &[&a, &b], || {
        b.try_json(&["suggestion", "show", &again])
    });
    let assessed = id_of(b.cli(&[
        "outcome",
        "assess",
        &outcome,
        "--text",
        "联合巡河已常态化",
        "--rating",
        "satisfied",
        "--json",
    ]));
    let view = b.cli(&["agenda", "show", &agenda, "--json"]).json();
    assert_eq!(
        view["records"]["assessment"][0]["id"],
        assessed.as_str(),
        "{view}"
    );
    assert_eq!(
        view["records"]["assessment"][0]["area"]["id"],
        b.body.as_str()
    );

    // A finding with an attachment: B gets the bytes with the agenda, checked by digest.
    let photo = root.path().join("现场.jpg");
    let bytes: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&photo, &bytes).expect("photo");
    let photo_arg = photo.display().to_string();
    let finding = id_of(a.cli(&[
        "finding",
        "add",
        &agenda,
        "--suggestion",
        &suggestion,
        "--text",
        "回头看：排污口仍在",
        "--severity",
        "high",
        "--attach",
        &photo_arg,
        "--json",
    ]));
    let attachment = poll(
        "B holds the finding's attachment",
        SYNC_DEADLINE,
        &[&a, &b],
        || {
            let view = b.try_json(&["agenda", "show", &agenda])?;
            let finding = view["records"]["finding"]
                .as_array()
                .and_then(|f| f.iter().find(|r| r["id"] == finding.as_str()).cloned())
                .ok_or("no finding yet")?;
            field_value(&finding, "attachments").ok_or_else(|| "no attachments".to_owned())
        },
    );
    let copy = root.path().join("copy.jpg");
    let copy_arg = copy.display().to_string();
    b.cli(&[
        "attachment",
        "get",
        &attachment,
        "--agenda",
        &agenda,
        "--out",
        &copy_arg,
    ])
    .ok();
    assert_eq!(std::fs::read(&copy).expect("copy"), bytes);
    let big = root.path().join("big.bin");
    std::fs::write(&big, vec![0u8; 600 * 1024]).expect("big");
    let refused = a
        .cli(&[
            "finding",
            "add",
            &agenda,
            "--text",
            "x",
            "--attach",
            &big.display().to_string(),
        ])
        .one_line_error();
    assert!(refused.contains("512 KiB"), "{refused}");

    // Who changed the outcome, when: made, then its text replaced; signatures are records
    // of their own in each body's area.
    let history = a
        .cli(&["history", &agenda, "--record", &outcome[..8], "--json"])
        .json();
    let items = history.as_array().expect("history");
    assert_eq!(items.len(), 2, "{history}");
    assert_eq!(
        (items[0]["made"].clone(), items[1]["made"].clone()),
        (true.into(), false.into())
    );
    assert_eq!(items[1]["member_name"], "张三", "{history}");
    let text = cli_lang(&a.data, "zh_CN.UTF-8", &["history", &agenda]).ok();
    assert!(
        text.stdout.contains("新建") && text.stdout.contains("修改"),
        "{}",
        text.stdout
    );
    let bad = a.cli(&["overdue", "--on", "2026-02-30"]).one_line_error();
    assert!(bad.contains("--on"), "{bad}");
}
