//! The body's ledger through the real binary: topics with their source and screening
//! (a reason required to screen one out), a merge keeping both origins, the annual plan,
//! the expert pool shared into an agenda, and an agenda made from a topic that links back.

use super::*;

#[test]
fn ledger_topics_screening_plan_experts_and_an_agenda_from_a_topic() {
    let root = TempDir::new().expect("tempdir");
    let mut a = Node::init(root.path(), "a", "平湖市政协");
    let b = Node::init(root.path(), "b", "金山区政协");
    a.start(LOOPBACK);
    a.cli(&["trust", &b.body]).ok();
    // Nothing yet: the ledger is made on the first write.
    assert_eq!(
        a.cli(&["topic", "list", "--json"]).json(),
        serde_json::json!([])
    );
    let add = |title: &str, source: &str| {
        record_id(
            &a.cli(&[
                "topic",
                "add",
                "--title",
                title,
                "--source",
                source,
                "--category",
                "livelihood",
                "--date",
                "2026-01-05",
                "--json",
            ])
            .json(),
        )
    };
    let river = add("交界河道水环境治理", "liaison-station");
    let same = add("跨界河流污染联防", "online");
    let lawsuit = add("某企业排污纠纷", "member");

    // Screening out needs a reason; "other" needs words too.
    let no_reason = a.cli(&["topic", "screen", &lawsuit]).one_line_error();
    assert!(no_reason.contains("--reason"), "{no_reason}");
    let zh = cli_lang(
        &a.data,
        "zh_CN.UTF-8",
        &["topic", "screen", &lawsuit, "--reason", "other"],
    )
    .one_line_error();
    assert!(zh.contains("--text"), "{zh}");
    a.cli(&["topic", "screen", &lawsuit[..8], "--reason", "litigation"])
        .ok();
    a.cli(&["topic", "screen", &river, "--accept"]).ok();
    a.cli(&["topic", "merge", &same, "--into", &river[..8]])
        .ok();
    let shown = a.cli(&["topic", "show", &river, "--json"]).json();
    assert_eq!(
        shown["merged"][0]["id"],
        same.as_str(),
        "both origins kept: {shown}"
    );
    let list = a.cli(&["topic", "list", "--json"]).json();
    let reason = list
        .as_array()
        .and_then(|l| l.iter().find(|t| t["id"] == lawsuit.as_str()))
        .and_then(|t| field_value(t, "screening_reason"));
    assert_eq!(reason.as_deref(), Some("litigation"), "{list}");
    let unknown = a
        .cli(&["topic", "merge", &same, "--into", "ffffffffffff"])
        .one_line_error();
    assert!(unknown.contains("ffffffffffff"), "{unknown}");

    // An agenda from the topic takes its title and links both ways.
    let agenda = a
        .cli(&[
            "agenda",
            "new",
            "--from-topic",
            &river[..8],
            "--with",
            &b.body,
            "--json",
        ])
        .json()["id"]
        .as_str()
        .expect("agenda id")
        .to_owned();
    let view = a.cli(&["agenda", "show", &agenda, "--json"]).json();
    assert_eq!(
        field_value(&view, "title").as_deref(),
        Some("交界河道水环境治理"),
        "{view}"
    );
    let shown = a.cli(&["topic", "show", &river, "--json"]).json();
    assert_eq!(
        field_value(&shown["topic"], "agenda").as_deref(),
        Some(agenda.as_str()),
        "{shown}"
    );

    // The annual plan links topics and agendas.
    let item = record_id(
        &a.cli(&[
            "plan",
            "add",
            "--year",
            "2026",
            "--category",
            "livelihood",
            "--title",
            "跨界河道联防联治",
            "--topic",
            &river,
            "--agenda",
            &agenda[..8],
            "--json",
        ])
        .json(),
    );
    let plan = a.cli(&["plan", "list", "--year", "2026", "--json"]).json();
    assert_eq!(plan[0]["id"], item.as_str(), "{plan}");
    assert_eq!(
        field_value(&plan[0], "agendas").as_deref(),
        Some(agenda.as_str())
    );

    // The expert pool: shared into the agenda without the contact.
    let expert = record_id(
        &a.cli(&[
            "expert",
            "add",
            "--name",
            "李教授",
            "--field",
            "水环境",
            "--contact",
            "13800000000",
            "--json",
        ])
        .json(),
    );
    a.cli(&["expert", "share", &expert, "--agenda", &agenda, "--json"])
        .ok();
    let view = a.cli(&["agenda", "show", &agenda, "--json"]).json();
    let shared = &view["records"]["expert"][0];
    assert_eq!(
        field_value(shared, "name").as_deref(),
        Some("李教授"),
        "{view}"
    );
    assert_eq!(
        field_value(shared, "pool_id").as_deref(),
        Some(expert.as_str())
    );
    assert_eq!(
        field_value(shared, "contact"),
        None,
        "the contact stays in the pool"
    );
    // The ledger is not an agenda.
    let agendas = a.cli(&["agenda", "list", "--json"]).json();
    assert_eq!(agendas.as_array().map(Vec::len), Some(1), "{agendas}");
}
