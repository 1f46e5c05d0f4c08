//! The consultation workflow between two real nodes over libp2p: shared records written by
//! either body, each body's handling and feedback in its own area, the trail and the report
//! read the same on the partner, records kept across a restart from the redb file, and the
//! body's ledger private to it.

use confer_protocol::model::agenda::{followup, report};
use confer_protocol::model::date::Date;
use confer_protocol::model::{
    AgendaAction, AgendaView, LedgerAction, ModelAction, ModelView, RecordId, RecordKey,
    RecordWrite,
};
use confer_protocol::{SpaceId, SpaceKind};

use crate::support::*;

fn write(
    collection: &'static str,
    id: RecordId,
    create: bool,
    fields: &[(&'static str, &str)],
) -> ModelAction {
    AgendaAction::Write(RecordWrite {
        key: RecordKey {
            collection,
            body: None,
            id,
        },
        create,
        fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    })
    .into()
}

fn rid(n: u64) -> RecordId {
    RecordId::from_bytes(n.to_be_bytes())
}

async fn apply(node: &TestNode, id: SpaceId, action: ModelAction) {
    node.handle
        .apply(id, action, None)
        .await
        .unwrap_or_else(|e| panic!("{} applies an action: {e}", node.name));
}

async fn model(node: &TestNode, id: SpaceId) -> AgendaView {
    match node.handle.read(id).await.expect("read") {
        ModelView::Agenda(view) => view,
        ModelView::Ledger(_) => panic!("not an agenda"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_follow_up_loop_runs_between_two_bodies_and_survives_a_restart() {
    let fed = Federation::new();
    let mut pinghu = fed.spawn("平湖市政协").await;
    let jinshan = fed.spawn("金山区政协").await;
    connect(&pinghu, &jinshan).await;
    let id = pinghu
        .create_agenda("跨界河道水环境联防联治", &[&jinshan])
        .await;
    wait_has_agenda(&jinshan, id).await;

    let (r, s) = (rid(1).to_string(), rid(2).to_string());
    apply(
        &pinghu,
        id,
        write(
            "round",
            rid(1),
            true,
            &[("number", "1"), ("date", "2026-03-01")],
        ),
    )
    .await;
    apply(
        &pinghu,
        id,
        write(
            "suggestion",
            rid(2),
            true,
            &[
                ("round", &r),
                ("text", "建立交界河道联合河长制"),
                ("proposer", "张委员"),
            ],
        ),
    )
    .await;
    // Jinshan sees the suggestion, and assigns and answers it in its own area.
    eventually("Jinshan holds the suggestion", WAIT, || async {
        ensure(
            model(&jinshan, id).await.record("suggestion", &s).is_some(),
            || "not yet".into(),
        )
    })
    .await;
    apply(
        &jinshan,
        id,
        write(
            "handling",
            rid(3),
            true,
            &[
                ("suggestion", &s),
                ("unit", "金山区生态环境局"),
                ("role", "lead"),
                ("assigned", "2026-03-10"),
                ("due", "2026-06-10"),
            ],
        ),
    )
    .await;
    apply(
        &jinshan,
        id,
        write(
            "feedback",
            rid(4),
            true,
            &[
                ("handling", &rid(3).to_string()),
                ("result", "partly-adopted"),
                ("text", "已建立联合巡河"),
                ("date", "2026-05-30"),
            ],
        ),
    )
    .await;
    // Pinghu assigns its own unit, which runs late.
    apply(
        &pinghu,
        id,
        write(
            "handling",
            rid(5),
            true,
            &[
                ("suggestion", &s),
                ("unit", "平湖市水利局"),
                ("role", "lead"),
                ("assigned", "2026-03-12"),
                ("due", "2026-06-12"),
            ],
        ),
    )
    .await;
    // Pinghu cannot write Jinshan's feedback: the area is Jinshan's.
    let foreign = AgendaAction::Write(RecordWrite {
        key: RecordKey {
            collection: "feedback",
            body: Some(jinshan.body),
            id: rid(6),
        },
        create: true,
        fields: vec![
            ("handling", rid(3).to_string()),
            ("result", "adopted".into()),
            ("text", "x".into()),
            ("date", "2026-06-01".into()),
        ],
    });
    assert!(pinghu.handle.apply(id, foreign.into(), None).await.is_err());

    let as_of = Date::parse("2026-07-01").expect("date");
    let trail = eventually("both sides' handling reach Pinghu", WAIT, || async {
        let view = model(&pinghu, id).await;
        let trail = followup::trail(&view, &s, as_of).ok_or("no trail")?;
        ensure(
            trail.units.len() == 2 && trail.units.iter().any(|u| u.feedback.is_some()),
            || format!("{:?}", trail.units),
        )?;
        Ok::<_, String>(trail)
    })
    .await;
    let answered = trail
        .units
        .iter()
        .find(|u| u.feedback.is_some())
        .expect("answered");
    assert_eq!(
        answered.body,
        jinshan.body.to_string(),
        "Jinshan's unit, in its area"
    );
    assert_eq!(answered.body_name.as_deref(), Some("金山区政协"));
    let late = trail
        .units
        .iter()
        .find(|u| u.feedback.is_none())
        .expect("late");
    assert_eq!(
        (late.unit.as_str(), late.overdue_days),
        ("平湖市水利局", 19)
    );

    // Both nodes compute the same report from the same entries.
    let on_jinshan = eventually("Jinshan holds Pinghu's unit", WAIT, || async {
        let view = model(&jinshan, id).await;
        ensure(view.records("handling").len() == 2, || "not yet".into())?;
        Ok::<_, String>(view)
    })
    .await;
    let on_pinghu = model(&pinghu, id).await;
    let key = id.to_string();
    assert_eq!(
        report::report(&[(key.clone(), &on_pinghu)], 2026, as_of),
        report::report(&[(key.clone(), &on_jinshan)], 2026, as_of)
    );

    // The records are in the redb file: a restarted node shows the same.
    pinghu.shutdown().await;
    pinghu.restart().await;
    assert_eq!(model(&pinghu, id).await, on_pinghu);

    // The ledger is Pinghu's alone: made on first write, never listed as an agenda, never
    // sent to Jinshan.
    assert!(pinghu
        .handle
        .own_space(SpaceKind::Ledger, false)
        .await
        .expect("ask")
        .is_none());
    let ledger = pinghu
        .handle
        .own_space(SpaceKind::Ledger, true)
        .await
        .expect("ledger")
        .expect("made");
    let topic = LedgerAction::Write(RecordWrite {
        key: RecordKey {
            collection: "topic",
            body: None,
            id: rid(7),
        },
        create: true,
        fields: vec![
            ("title", "交界河道治理".into()),
            ("source", "liaison-station".into()),
            ("urgency", "routine".into()),
            ("category", "livelihood".into()),
        ],
    });
    pinghu
        .handle
        .apply(ledger, topic.into(), None)
        .await
        .expect("topic");
    assert_eq!(
        pinghu
            .handle
            .own_space(SpaceKind::Ledger, true)
            .await
            .expect("same"),
        Some(ledger)
    );
    let shown = pinghu.handle.show_ledger().await.expect("ledger view");
    assert_eq!(shown.records("topic").len(), 1);
    let listed = pinghu.handle.list_agendas().await.expect("list");
    assert!(listed.iter().all(|a| a.id != ledger.to_string()));
    pinghu.edit(id, None, Some("让 Jinshan 同步一次")).await;
    wait_for_summary(&jinshan, id, "让 Jinshan 同步一次").await;
    assert!(
        jinshan.space(ledger).await.is_none(),
        "the ledger never reaches a partner"
    );
}

async fn wait_for_summary(node: &TestNode, id: SpaceId, summary: &str) {
    eventually("the summary arrives", WAIT, || async {
        let v = node.try_show(id).await.map_err(|e| e.to_string())?;
        ensure(v.text("summary") == summary, || {
            v.text("summary").to_owned()
        })
    })
    .await;
}
