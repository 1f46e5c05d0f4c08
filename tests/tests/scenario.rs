//! The Pinghu–Jinshan scenario (`confer demo --scenario pinghu-jinshan`) on three test
//! nodes over libp2p: 平湖市政协 and 金山区政协 consult jointly, 嘉善县政协 is connected to
//! both and must receive nothing. The scenario's own account must hold, and its figures —
//! read on 金山区政协's node — are asserted here, some of them read again from that node
//! independently of the account.

use confer_node::demo::pinghu_jinshan::{self, Narration, Parties, Party};
use confer_node::i18n::Lang;
use confer_protocol::model::agenda::{followup, report};
use confer_protocol::model::date::Date;
use confer_protocol::model::ModelView;

use crate::support::*;

fn party(node: &TestNode) -> Party {
    Party {
        name: node.name.clone(),
        dir: node.dir.clone(),
        handle: node.handle.clone(),
        body: node.body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinghu_jinshan_scenario_reads_what_it_wrote_on_the_partner_node() {
    let fed = Federation::new();
    let pinghu = fed.spawn("平湖市政协").await;
    let jinshan = fed.spawn("金山区政协").await;
    let jiashan = fed.spawn("嘉善县政协").await;
    connect(&pinghu, &jinshan).await;
    connect(&pinghu, &jiashan).await;
    connect(&jinshan, &jiashan).await;
    let parties = Parties {
        pinghu: party(&pinghu),
        jinshan: party(&jinshan),
        jiashan: Some(party(&jiashan)),
    };

    let account = pinghu_jinshan::play(&parties, Lang::En, &mut Narration::quiet())
        .await
        .unwrap_or_else(|e| panic!("the scenario plays: {e}"));
    assert!(
        account.ok,
        "figures that did not hold: {:?}",
        account.failed
    );
    assert!(account.checks.iter().all(|c| c.held));
    assert_eq!(account.read_on, "金山区政协");

    let f = &account.figures;
    assert_eq!(f.suggestions, 43);
    assert_eq!((f.disputed, f.decided), (1, 1));
    assert_eq!(f.host, "平湖市政协");
    assert_eq!(f.preselections.len(), 2, "one per body, each in its area");
    assert!(f.adopted && f.bundle_valid && f.bundle_adopted);
    assert_eq!(f.signatures.len(), 2);
    assert!(
        f.signatures.values().all(|s| s.matches),
        "{:?}",
        f.signatures
    );
    assert_eq!(f.signatures["金山区政协"].signer, "金山区政协主席");
    assert_eq!(f.overdue.len(), 1);
    let late = &f.overdue[0];
    assert_eq!(
        (late.unit.as_str(), late.body.as_str(), late.days),
        ("平湖市经济和信息化局", "平湖市政协", 31)
    );
    let p = &f.bodies["平湖市政协"];
    assert_eq!((p.units, p.answered, p.extended), (7, 6, 1));
    assert_eq!(
        (p.adoption_rate.as_str(), p.completion_rate.as_str()),
        ("66.7%", "85.7%")
    );
    let j = &f.bodies["金山区政协"];
    assert_eq!((j.results["not-adopted"], j.carried), (1, 1));
    assert_eq!(
        (j.adoption_rate.as_str(), j.completion_rate.as_str()),
        ("71.4%", "100.0%")
    );
    assert_eq!(f.findings.values().sum::<usize>(), 3);
    assert_eq!(f.findings_answered, 3);
    assert_eq!((f.round_two.suggestions, f.round_two.continuing), (5, 3));
    assert!(f.round_two.from_outcome);
    assert!(f.ledgers_private && f.report_same_on_both);
    assert_eq!(f.ledgers["平湖市政协"].rejected.get("litigation"), Some(&1));
    assert_eq!(f.third_body_has_agenda, Some(false));
    assert!(account
        .report_markdown
        .contains("| 平湖市政协 | 12 | 3 | 7 | 6 | 66.7% | 85.7% | 1 | 0 |"));

    // The same figures, read from 金山区政协's node again without the account.
    let id: SpaceId = account.agenda.parse().expect("agenda id");
    let ModelView::Agenda(view) = jinshan.handle.read(id).await.expect("read") else {
        panic!("not an agenda");
    };
    let as_of = Date::parse(pinghu_jinshan::AS_OF).expect("date");
    let year = report::report(&[(account.agenda.clone(), &view)], 2025, as_of);
    assert_eq!(year, account.report);
    assert_eq!(year.agendas[0].suggestions, 43);
    assert_eq!(followup::overdue(&view, as_of).len(), 1);
    let outcome = view.outcomes.first().expect("an outcome");
    assert!(outcome.adopted && outcome.bodies.iter().all(|b| b.signed && b.matches));
    assert!(
        jiashan.space(id).await.is_none(),
        "嘉善县政协 holds nothing of it"
    );
}
