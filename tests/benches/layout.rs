//! `cargo bench -p confer-tests --bench layout`: what the workflow's document layout costs,
//! at the protocol level (no network, no disk), each figure beside its limit measured in the
//! same run:
//!
//! - `growth`: the cost of receiving one new remote entry (signature check, rules, automerge
//!   apply) into a document of N changes, at N = 1,000, 10,000 and `CONFER_BENCH_CHANGES`
//!   (default 100,000), for three histories: the workflow layout with a record made every
//!   second change (the agenda keeps growing: 50,000 records at 100,000 changes); the same
//!   history once the agenda has the workflow issue's size (about 4,300 records, then only
//!   edits); and the layout it replaces (every change overwrites one root field). Limit:
//!   Ed25519 verification of the same entry.
//! - `views`: a joint agenda of 5 rounds, 500 suggestions, 2,000 handling records (most with
//!   feedback) and 200 findings — the model view (`read_agenda`), overdue units, one
//!   suggestion's trail, the year-end report, the history of one record. Limit: reading
//!   every field of every record straight from automerge (root → shard → record), without
//!   attribution.
//!
//! Prints one JSON object per line, then a table.
//!
//! Measured 2026-12-07 on this 2-core machine (release profile; two other builds running at
//! nice 15), median of 31 probes; limit = Ed25519 verification of the same entry (0.044–0.051
//! ms):
//!
//! | changes | records keep coming | at the issue's size | one root field |
//! |---|---|---|---|
//! | 1,000 | 0.18 ms (3.7×) | 0.17 ms (3.5×) | 0.22 ms (4.6×) |
//! | 10,000 | 0.51 ms (10×) | 0.15 ms (3.1×) | 1.30 ms (27×) |
//! | 100,000 | 3.6 ms (74×) | 0.18 ms (4.1×) | 12.6 ms (246×) |
//!
//! At a given size the cost is flat in the history: records sit in 16 shard maps per
//! collection and an edit touches one small record map. It grows with the number of
//! records: automerge 0.12 clones its index of every object on each `apply_changes`
//! (`BatchApply::apply`, `obj_info.clone()`), about 70 ns per record (50,000 records: 3.6
//! ms). Views at the issue's size (4,305 entries), median: model view 34 ms (raw read of
//! every field 16 ms, 2.1×); overdue 13.6 ms, a trail 13.4 ms, the report with Markdown 14.6
//! ms (each on a view already read); the history of one record 39 ms.

use std::time::{Duration, Instant};

use automerge::{ReadDoc, ROOT};
use confer_protocol::model::agenda::{followup, report};
use confer_protocol::model::date::Date;
use confer_protocol::model::history::history;
use confer_protocol::model::{
    read_agenda, AgendaAction, AgendaEdit, ModelAction, RecordId, RecordKey, RecordWrite,
};
use confer_protocol::space::Certified;
use confer_protocol::{
    BodyId, Certificate, Certificates, Entry, Genesis, Role, SecretKey, Space, SpaceKind, Subject,
};
use serde_json::json;

fn body_key(n: u8) -> SecretKey {
    SecretKey::from_seed([n; 32])
}

fn member(n: u8) -> SecretKey {
    SecretKey::from_seed([n + 64; 32])
}

fn body(n: u8) -> BodyId {
    BodyId(body_key(n).public())
}

fn cert(n: u8) -> Certificate {
    Certificate::issue(
        &body_key(n),
        &format!("政协 {n}"),
        member(n).public(),
        Subject::member(format!("委员 {n}"), Role::Member),
        1,
    )
    .expect("certificate")
}

fn genesis() -> Genesis {
    Genesis::create(
        SpaceKind::Agenda,
        &[body(2)],
        1,
        [7; 16],
        cert(1),
        &member(1),
    )
    .expect("genesis")
}

fn certified(_: &confer_protocol::PublicKey, _: &BodyId) -> Option<Certified> {
    Some(Certified { can_sign: false })
}

/// Record `n`'s id. Sequential, so every record falls into shard `0` of its collection: a
/// record's creation here touches one shard holding all of them (the node's random ids spread
/// over 16), so the figures are an upper bound for creations; edits touch the record alone.
fn rid(n: u64) -> RecordId {
    RecordId::from_bytes(n.to_be_bytes())
}

fn write(
    collection: &'static str,
    own: Option<u8>,
    n: u64,
    create: bool,
    fields: &[(&'static str, String)],
) -> ModelAction {
    AgendaAction::Write(RecordWrite {
        key: RecordKey {
            collection,
            body: own.map(body),
            id: rid(n),
        },
        create,
        fields: fields.to_vec(),
    })
    .into()
}

/// Body `who`'s member writes `action` (validated as `Replica::apply_as` does).
fn act(space: &mut Space, who: u8, now: i64, action: &ModelAction) -> Entry {
    let author = confer_protocol::model::Author {
        key: member(who).public(),
        body: body(who),
        can_sign: false,
    };
    action.validate().expect("valid action");
    action.validate_in(space, &author).expect("valid here");
    space
        .local_change(&member(who), body(who), now, |tx| action.apply(tx))
        .expect("local change")
        .expect("a change")
}

/// The i-th change of a realistic workflow history: suggestions made and edited, handling
/// assigned, extended and answered, spread over many records.
fn workflow_step(space: &mut Space, i: u64) -> Entry {
    workflow_step_upto(space, i, u64::MAX)
}

/// Records made, per collection, by [`workflow_step_at_size`]: suggestions and handling
/// records of about the workflow issue's agenda (4,300 records in all).
const AT_SIZE: u64 = 2_150;

/// The same history on an agenda that stops growing at the issue's size: once `AT_SIZE`
/// suggestions and handling records exist, every change edits one of them.
fn workflow_step_at_size(space: &mut Space, i: u64) -> Entry {
    workflow_step_upto(space, i, AT_SIZE)
}

fn workflow_step_upto(space: &mut Space, i: u64, cap: u64) -> Entry {
    let round = rid(1).to_string();
    let who = if i.is_multiple_of(2) { 1 } else { 2 };
    let suggestions = (i / 4).clamp(1, cap);
    let s = 1_000 + (i * 7919) % suggestions;
    let action = match i % 4 {
        0 if i / 4 < cap => write(
            "suggestion",
            None,
            1_000 + i / 4,
            true,
            &[
                ("round", round),
                ("text", format!("意见建议 {i}：加强交界河道联合巡查")),
                ("date", "2026-03-01".into()),
            ],
        ),
        1 => write(
            "suggestion",
            None,
            s,
            false,
            &[("text", format!("意见建议修改稿 {i}"))],
        ),
        2 if i / 4 < cap => write(
            "handling",
            Some(who),
            1_000_000 + i,
            true,
            &[
                ("suggestion", rid(s).to_string()),
                ("unit", format!("承办单位 {}", i % 13)),
                ("role", "lead".into()),
                ("assigned", "2026-03-10".into()),
                ("due", "2026-06-10".into()),
            ],
        ),
        _ => write(
            "suggestion",
            None,
            s,
            false,
            &[("proposer", format!("委员 {i}"))],
        ),
    };
    act(space, who, i as i64, &action)
}

fn single_object_step(space: &mut Space, i: u64) -> Entry {
    let edit = AgendaEdit {
        title: None,
        summary: Some(format!("摘要第 {i} 稿")),
    };
    act(space, 1, i as i64, &ModelAction::from(edit))
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e3
}

fn p99(mut v: Vec<Duration>) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * 0.99).round() as usize;
    v[i].as_secs_f64() * 1e3
}

/// Median cost (ms) of receiving one fresh entry into a document of `n` changes made by
/// `step`, and of verifying that entry's signature alone.
fn growth(n: u64, step: fn(&mut Space, u64) -> Entry) -> (f64, f64) {
    const PROBES: u64 = 31;
    let mut writer = Space::new(genesis());
    let round = write("round", None, 1, true, &[("number", "1".into())]);
    let mut base = vec![act(&mut writer, 1, 0, &round)];
    for i in 0..n {
        base.push(step(&mut writer, i));
    }
    let probes: Vec<Entry> = (n..n + PROBES).map(|i| step(&mut writer, i)).collect();
    let mut reader = Space::new(genesis());
    let got = reader.receive(base, certified);
    assert!(got.rejected.is_empty(), "{:?}", got.rejected.first());
    let mut apply = Vec::new();
    let mut verify = Vec::new();
    let mut rules = Vec::new();
    for probe in probes {
        let wire = Entry::decode(probe.bytes().to_vec()).expect("decodes");
        let started = Instant::now();
        wire.verify().expect("signature");
        verify.push(started.elapsed());
        // The model's rules alone on the same change (part of what receiving costs).
        let change = wire.clone().take_change().expect("change");
        let author = confer_protocol::model::Author {
            key: wire.author(),
            body: wire.body(),
            can_sign: false,
        };
        let started = Instant::now();
        confer_protocol::model::check_change(
            SpaceKind::Agenda,
            reader.doc(),
            &mut confer_protocol::model::Made::default(),
            &author,
            &change,
        )
        .expect("the rules pass");
        rules.push(started.elapsed());
        let started = Instant::now();
        let got = reader.receive(vec![wire], certified);
        apply.push(started.elapsed());
        assert_eq!(got.accepted.len(), 1, "{:?}", got.rejected.first());
    }
    eprintln!(
        "  of which the model's rules: {:.3} ms (median)",
        median(rules)
    );
    (median(apply), median(verify))
}

/// The agenda of the issue's size, written through the model's actions.
fn big_agenda() -> Space {
    let mut space = Space::new(genesis());
    let mut now = 0i64;
    let mut next = |space: &mut Space, who: u8, action: ModelAction| {
        now += 1;
        act(space, who, now, &action);
    };
    for r in 1..=5u64 {
        next(
            &mut space,
            1,
            write(
                "round",
                None,
                r,
                true,
                &[("number", r.to_string()), ("date", "2026-03-01".into())],
            ),
        );
    }
    for s in 0..500u64 {
        next(
            &mut space,
            (s % 2 + 1) as u8,
            write(
                "suggestion",
                None,
                100 + s,
                true,
                &[
                    ("round", rid(1 + s % 5).to_string()),
                    (
                        "text",
                        format!("建议 {s}：交界河道联合治理的具体举措之一，由两地共同推进落实。"),
                    ),
                    ("proposer", format!("委员 {}", s % 40)),
                    ("date", "2026-03-01".into()),
                ],
            ),
        );
    }
    for h in 0..2_000u64 {
        let who = (h % 2 + 1) as u8;
        let id = 10_000 + h;
        next(
            &mut space,
            who,
            write(
                "handling",
                Some(who),
                id,
                true,
                &[
                    ("suggestion", rid(100 + h % 500).to_string()),
                    ("unit", format!("单位 {}", h % 17)),
                    ("role", if h % 4 == 0 { "co" } else { "lead" }.into()),
                    ("assigned", "2026-03-10".into()),
                    ("due", "2026-06-10".into()),
                ],
            ),
        );
        if h % 5 != 0 {
            next(
                &mut space,
                who,
                write(
                    "feedback",
                    Some(who),
                    50_000 + h,
                    true,
                    &[
                        ("handling", rid(id).to_string()),
                        (
                            "result",
                            ["adopted", "partly-adopted", "planned", "for-reference"]
                                [(h % 4) as usize]
                                .into(),
                        ),
                        ("text", "已按要求办理并反馈。".into()),
                        ("date", "2026-05-30".into()),
                    ],
                ),
            );
        }
    }
    for f in 0..200u64 {
        next(
            &mut space,
            1,
            write(
                "finding",
                None,
                90_000 + f,
                true,
                &[
                    ("suggestion", rid(100 + f % 500).to_string()),
                    ("text", format!("回头看发现 {f}")),
                    (
                        "severity",
                        ["low", "medium", "high"][(f % 3) as usize].into(),
                    ),
                    ("date", "2026-09-01".into()),
                ],
            ),
        );
    }
    space
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(f());
            started.elapsed()
        })
        .collect()
}

fn main() {
    let full: u64 = std::env::var("CONFER_BENCH_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut rows: Vec<(String, f64, f64, f64)> = Vec::new();

    // ---- growth ----
    let mut sizes = vec![1_000u64, 10_000, full];
    sizes.sort_unstable();
    sizes.dedup();
    for &n in &sizes {
        for (layout, step) in [
            (
                "workflow records",
                workflow_step as fn(&mut Space, u64) -> Entry,
            ),
            ("workflow records, the issue's size", workflow_step_at_size),
            ("one root field", single_object_step),
        ] {
            eprintln!("growth: building {n} changes, {layout}…");
            let (apply, verify) = growth(n, step);
            println!(
                "{}",
                json!({"scenario": "growth", "layout": layout, "changes": n,
                       "receive_one_ms": apply, "verify_one_ms": verify, "ratio": apply / verify})
            );
            rows.push((
                format!("receive 1 entry, {n} changes, {layout}"),
                apply,
                verify,
                apply / verify,
            ));
        }
    }

    // ---- views ----
    eprintln!(
        "views: building the agenda (5 rounds, 500 suggestions, 2,000 handling, 200 findings)…"
    );
    let space = big_agenda();
    let mut certs = Certificates::new();
    certs.insert(cert(1));
    certs.insert(cert(2));
    // Every field of every record: root → shard map → record map → fields.
    let raw = time(30, || {
        let doc = space.doc();
        let mut n = 0usize;
        for shard in doc.map_range(ROOT, ..) {
            if !matches!(shard.value, automerge::ValueRef::Object(_)) {
                continue;
            }
            for record in doc.map_range(shard.id(), ..) {
                if matches!(record.value, automerge::ValueRef::Object(_)) {
                    n += doc.map_range(record.id(), ..).count();
                }
            }
        }
        n
    });
    let limit = median(raw);
    let view = read_agenda(&space, &certs);
    let as_of = Date::parse("2026-07-01").expect("date");
    let suggestion = rid(100 + 7).to_string();
    let id = "agenda".to_owned();
    let cases: Vec<(&str, Vec<Duration>)> = vec![
        (
            "read_agenda (model view)",
            time(30, || read_agenda(&space, &certs)),
        ),
        ("overdue", time(30, || followup::overdue(&view, as_of))),
        (
            "trail of one suggestion",
            time(30, || followup::trail(&view, &suggestion, as_of)),
        ),
        (
            "year-end report + markdown",
            time(30, || {
                report::markdown(&report::report(&[(id.clone(), &view)], 2026, as_of), true)
            }),
        ),
        (
            "history of one record",
            time(10, || history(&space, &certs, Some(&suggestion))),
        ),
    ];
    for (name, samples) in cases {
        let (m, p) = (median(samples.clone()), p99(samples));
        println!(
            "{}",
            json!({"scenario": "views", "view": name, "median_ms": m, "p99_ms": p,
                   "raw_read_ms": limit, "ratio": m / limit, "entries": space.log().len()})
        );
        rows.push((
            format!("{name} ({} entries)", space.log().len()),
            m,
            limit,
            m / limit,
        ));
    }

    println!();
    println!("| scenario | median ms | limit ms | ratio |");
    println!("|---|---|---|---|");
    for (name, m, l, r) in rows {
        println!("| {name} | {m:.3} | {l:.3} | {r:.1} |");
    }
}
