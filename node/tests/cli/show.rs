//! `agenda show` on an agenda too large to list whole: a count of each kind of record,
//! `--records` to list the kinds asked for (human and `--json`), an unknown kind refused
//! in both languages, and the API's `?records=` behind it; `history` showing the latest
//! changes unless asked for all.

use super::*;

fn suggestion_texts(view: &Value) -> Vec<String> {
    view["records"]["suggestion"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .filter_map(|r| {
                    r["fields"]
                        .as_array()?
                        .iter()
                        .find(|f| f["name"] == "text")
                        .and_then(|f| f["current"]["value"].as_str())
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn agenda_show_counts_a_large_agenda_by_kind_and_lists_the_kinds_asked_for() {
    let root = TempDir::new().expect("tempdir");
    let (a, agenda, api) = workflow_agenda(root.path());
    let round = record_id(&a.cli(&["round", "new", &agenda, "--json"]).json());
    let first = record_id(
        &a.cli(&["suggestion", "add", &agenda, "--text", "建议 0", "--json"])
            .json(),
    );
    // Small: every record is listed.
    let small = a.cli(&["agenda", "show", &agenda]).ok().stdout;
    assert!(small.contains(&round) && small.contains(&first), "{small}");
    assert!(!small.contains("--records"), "{small}");

    // Past 200 records (written through the API, as the CLI writes them).
    for n in 1..=200 {
        let response = raw_post(
            &api,
            &format!("/v1/agendas/{agenda}/records"),
            &serde_json::json!({
                "collection": "suggestion",
                "fields": {"round": round, "text": format!("建议 {n}")},
            }),
        );
        assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    }
    let large = a.cli(&["agenda", "show", &agenda]).ok().stdout;
    assert!(
        !large.contains(&first),
        "a large agenda's records are not listed: {large}"
    );
    assert!(large.contains("202 in all"), "{large}");
    assert!(
        large.lines().any(|l| l.trim() == "201  suggestion"),
        "{large}"
    );
    assert!(large.lines().any(|l| l.trim() == "1  round"), "{large}");
    let zh = cli_lang(&a.data, "zh_CN.UTF-8", &["agenda", "show", &agenda])
        .ok()
        .stdout;
    assert!(
        zh.contains("共 202 条") && zh.contains("   201  意见建议 (suggestion)"),
        "{zh}"
    );

    // `--records` lists the kinds asked for, all of them, with the counts of every kind.
    let rounds = a
        .cli(&["agenda", "show", &agenda, "--records", "round"])
        .ok()
        .stdout;
    assert!(
        rounds.contains(&round) && !rounds.contains(&first),
        "{rounds}"
    );
    let json = a
        .cli(&[
            "agenda",
            "show",
            &agenda,
            "--records",
            "suggestion",
            "--json",
        ])
        .json();
    assert_eq!(suggestion_texts(&json).len(), 201);
    assert!(
        json["records"].get("round").is_none(),
        "{}",
        json["records"]
    );
    assert_eq!(json["record_counts"]["round"], 1);
    assert_eq!(json["records_listed"], serde_json::json!(["suggestion"]));
    // `--json` without it is the whole agenda, as before.
    let whole = a.cli(&["agenda", "show", &agenda, "--json"]).json();
    assert_eq!(suggestion_texts(&whole).len(), 201);
    assert!(whole["records"]["round"].is_array());
    assert!(whole.get("records_listed").is_none());

    // `history` shows the latest 100 changes and says so; `--all` and `--json` every one.
    let latest = a.cli(&["history", &agenda]).ok().stdout;
    let lines: Vec<&str> = latest.lines().collect();
    assert!(
        lines[0].contains("the latest 100 changes") && lines[0].contains("--all"),
        "{latest}"
    );
    assert_eq!(lines.len(), 101, "{latest}");
    assert!(
        lines[100].contains("建议 200"),
        "the newest change is last: {latest}"
    );
    let every = a.cli(&["history", &agenda, "--all"]).ok().stdout;
    assert!(
        every.lines().count() > 200 && !every.contains("the latest"),
        "{every}"
    );
    let all = a.cli(&["history", &agenda, "--json"]).json();
    assert_eq!(all.as_array().map(Vec::len), Some(every.lines().count()));
    let zh = cli_lang(&a.data, "zh_CN.UTF-8", &["history", &agenda])
        .ok()
        .stdout;
    assert!(zh.starts_with("（最近 100 项修改"), "{zh}");

    // An unknown kind: one clear line in the user's language, nothing asked of the node.
    let en = a
        .cli(&["agenda", "show", &agenda, "--records", "suggestion,minutes"])
        .one_line_error();
    assert!(
        en.contains("minutes") && en.contains("known: round"),
        "{en}"
    );
    let zh = cli_lang(
        &a.data,
        "zh_CN.UTF-8",
        &["agenda", "show", &agenda, "--records", "minutes"],
    )
    .one_line_error();
    assert!(zh.contains("不是议题的记录类别"), "{zh}");
    // The API says the same, with a 400.
    let addr = api["addr"].as_str().expect("addr");
    let token = api["token"].as_str().expect("token");
    let refused = raw_get(
        addr,
        &format!("/v1/agendas/{agenda}?records=minutes"),
        Some(token),
    );
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
    assert!(
        refused.contains("minutes is not a collection of an agenda"),
        "{refused}"
    );
    let zero = raw_get(
        addr,
        &format!("/v1/agendas/{agenda}/history?last=0"),
        Some(token),
    );
    assert!(zero.starts_with("HTTP/1.1 400"), "{zero}");
    let none = raw_get(addr, &format!("/v1/agendas/{agenda}?records="), Some(token));
    let body = none.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(none.starts_with("HTTP/1.1 200"), "{none}");
    assert!(
        body.contains("\"records\":{}") && body.contains("\"suggestion\":201"),
        "{body}"
    );
}
