//! The account: [`Figures`] read on the partner's node (金山区政协's views — the agenda
//! through [`NodeHandle::read`](crate::handle::NodeHandle::read) and the pure views
//! `followup`, `report` and `outcomes`; each body's ledger on its own node, since a ledger
//! never leaves it), compared with the figures the script wrote ([`compare`]), and told in
//! the reader's language ([`lines`]).

use std::collections::BTreeMap;

use confer_protocol::model::agenda::report::{self, Report};
use confer_protocol::model::agenda::{followup, outcomes};
use confer_protocol::model::bundle::{verify, Bundle};
use confer_protocol::model::date::Date;
use confer_protocol::model::schema::split_list;
use confer_protocol::model::{AgendaView, LedgerView, ModelView};
use confer_protocol::{BodyId, Certificates, SpaceId};
use serde::Serialize;
use serde_json::Value;

use super::script::Written;
use super::{Parties, Party, AS_OF, REPORT_YEAR};
use crate::handle::NodeError;
use crate::i18n::Lang;

/// What the account shows. The script fills one from what it wrote; [`read`] fills one
/// from the partner's views; the two must be equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Each body's ledger, by body name, read on its own node.
    pub ledgers: BTreeMap<String, LedgerFigures>,
    /// Neither body's node holds the other's ledger.
    pub ledgers_private: bool,
    /// Chair meetings' preselections, by the body whose area holds them.
    pub preselections: BTreeMap<String, usize>,
    /// Round 1: the host body, the joint secretaries-general meeting's date, the form.
    pub host: String,
    pub confirmed_on: String,
    pub form: String,
    /// Meetings and suggestions of the report's year.
    pub meetings: usize,
    pub suggestions: usize,
    pub disputed: usize,
    /// Disputed suggestions with the joint chairs' meeting's decision and its date.
    pub decided: usize,
    pub outcome_kind: String,
    pub outcome_suggestions: usize,
    /// Every member body's signature matches the outcome's current text.
    pub adopted: bool,
    /// Per member body: who signed and whether it matches the current text.
    pub signatures: BTreeMap<String, SignatureFigure>,
    /// The exported bundle, verified offline.
    pub bundle_valid: bool,
    pub bundle_adopted: bool,
    /// How each body handled the year's suggestions, by body name.
    pub bodies: BTreeMap<String, BodyFigures>,
    /// Units past their deadline without feedback, as of the report's date.
    pub overdue: Vec<OverdueFigure>,
    /// The year's findings by severity, and how many have a response.
    pub findings: BTreeMap<String, usize>,
    pub findings_answered: usize,
    pub round_two: RoundTwoFigures,
    /// The report computed on 平湖's node equals the one computed on 金山's.
    pub report_same_on_both: bool,
    /// Whether the third body received the agenda (none without a third body).
    pub third_body_has_agenda: Option<bool>,
}

/// A body's ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerFigures {
    pub topics: usize,
    pub accepted: usize,
    /// Topics screened out, by reason.
    pub rejected: BTreeMap<String, usize>,
    pub merged: usize,
    pub linked_to_agenda: usize,
    pub plan_items: usize,
}

/// One body's signature on the outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SignatureFigure {
    pub signer: String,
    pub matches: bool,
}

/// How one body handled the suggestions (its own area's records).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BodyFigures {
    pub submitted: usize,
    pub instructions: usize,
    pub units: usize,
    pub received: usize,
    pub extended: usize,
    pub answered: usize,
    pub results: BTreeMap<String, usize>,
    pub overdue: usize,
    pub carried: usize,
    pub evaluations: usize,
    pub adoption_rate: String,
    pub completion_rate: String,
}

/// A unit past its deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OverdueFigure {
    pub unit: String,
    pub body: String,
    pub due: String,
    pub days: i64,
}

/// The re-consultation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoundTwoFigures {
    pub host: String,
    /// Round 2 names the first round's outcome.
    pub from_outcome: bool,
    pub meetings: usize,
    pub suggestions: usize,
    /// Its suggestions that continue one of round 1.
    pub continuing: usize,
}

/// One figure: what the script wrote, what the partner's views show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub figure: String,
    pub wrote: Value,
    pub read: Value,
    pub held: bool,
}

/// A share in per cent with one decimal, rounded as the report rounds it ("—" of nothing);
/// computed here, not by the report, so that it checks the report.
pub(super) fn pct(part: usize, whole: usize) -> String {
    rate((whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0))
}

fn rate(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.1}%"))
}

/// The figures as read on the nodes, and the first year's report as the partner computes it.
pub(super) struct Read {
    pub(super) figures: Figures,
    pub(super) report: Report,
}

async fn agenda_view(party: &Party, space: SpaceId) -> Result<AgendaView, String> {
    match party.handle.read(space).await {
        Ok(ModelView::Agenda(view)) => Ok(view),
        Ok(ModelView::Ledger(_)) => Err(format!("{}: the agenda reads as a ledger", party.name)),
        Err(e) => Err(format!("{}: {e}", party.name)),
    }
}

/// `party`'s node holds no space `space` (it answers "unknown", not any other error).
async fn unknown(party: &Party, space: SpaceId) -> bool {
    matches!(
        party.handle.read(space).await,
        Err(NodeError::UnknownAgenda(_))
    )
}

async fn ledger_figures(
    party: &Party,
    space: SpaceId,
    agenda: SpaceId,
) -> Result<LedgerFigures, String> {
    let view: LedgerView = match party.handle.read(space).await {
        Ok(ModelView::Ledger(view)) => view,
        Ok(ModelView::Agenda(_)) => {
            return Err(format!("{}: its ledger reads as an agenda", party.name))
        }
        Err(e) => return Err(format!("{}: {e}", party.name)),
    };
    let topics = view.records("topic");
    let mut rejected = BTreeMap::new();
    for t in topics.iter().filter(|t| t.get("screening") == "rejected") {
        *rejected
            .entry(t.get("screening_reason").to_owned())
            .or_default() += 1;
    }
    Ok(LedgerFigures {
        topics: topics.len(),
        accepted: topics
            .iter()
            .filter(|t| t.get("screening") == "accepted")
            .count(),
        rejected,
        merged: topics
            .iter()
            .filter(|t| !t.get("merged_into").is_empty())
            .count(),
        linked_to_agenda: topics
            .iter()
            .filter(|t| t.get("agenda") == agenda.to_string())
            .count(),
        plan_items: view.records("plan_item").len(),
    })
}

/// Reads every figure on the nodes: the agenda on 金山区政协's, the ledgers on their own.
pub(super) async fn read(parties: &Parties, w: &Written) -> Result<Read, String> {
    let (p, j) = (&parties.pinghu, &parties.jinshan);
    let view = agenda_view(j, w.agenda).await?;
    let certs: Certificates = j
        .handle
        .certificates()
        .await
        .map_err(|e| format!("{}: {e}", j.name))?;
    let name_of = |id: &str| -> String {
        id.parse::<BodyId>()
            .ok()
            .and_then(|b| certs.body_name(&b).map(str::to_owned))
            .unwrap_or_else(|| id.to_owned())
    };
    let as_of = Date::parse(AS_OF).ok_or("the report's date does not parse")?;
    let agenda = w.agenda.to_string();
    let report = report::report(&[(agenda.clone(), &view)], REPORT_YEAR, as_of);
    let on_pinghu = report::report(
        &[(agenda.clone(), &agenda_view(p, w.agenda).await?)],
        REPORT_YEAR,
        as_of,
    );
    let year = report.agendas.first().cloned().unwrap_or_default();

    let mut f = Figures {
        ledgers_private: unknown(p, w.ledgers[1]).await && unknown(j, w.ledgers[0]).await,
        meetings: year.meetings,
        suggestions: year.suggestions,
        findings: year.findings.clone(),
        report_same_on_both: on_pinghu == report,
        ..Figures::default()
    };
    for (party, space) in [(p, w.ledgers[0]), (j, w.ledgers[1])] {
        let ledger = ledger_figures(party, space, w.agenda).await?;
        f.ledgers.insert(party.name.clone(), ledger);
    }
    for r in view.records("preselection") {
        let body = r.area.map(|b| name_of(&b.to_string())).unwrap_or_default();
        *f.preselections.entry(body).or_default() += 1;
    }
    let r1 = w.round_one.to_string();
    if let Some(round) = view.record("round", &r1) {
        f.host = name_of(round.get("host"));
        f.confirmed_on = round.get("confirmed_on").to_owned();
        f.form = round.get("form").to_owned();
    }
    let first: Vec<_> = view
        .records("suggestion")
        .iter()
        .filter(|s| s.get("round") == r1)
        .collect();
    f.disputed = first.iter().filter(|s| s.get("disputed") == "yes").count();
    f.decided = first
        .iter()
        .filter(|s| s.get("disputed") == "yes")
        .filter(|s| !s.get("decision").is_empty() && Date::parse(s.get("decided_on")).is_some())
        .count();

    let oid = w.outcome.to_string();
    if let Some(o) = view.record("outcome", &oid) {
        f.outcome_kind = o.get("kind").to_owned();
        f.outcome_suggestions = split_list(o.get("suggestions")).len();
    }
    if let Some(status) = view.outcomes.iter().find(|s| s.id == oid) {
        f.adopted = status.adopted;
        for b in &status.bodies {
            let body = b.body_name.clone().unwrap_or_else(|| b.body.clone());
            let signer = b.signer_name.clone().unwrap_or_default();
            let matches = b.matches;
            f.signatures
                .insert(body, SignatureFigure { signer, matches });
        }
    }
    let text = outcomes::outcome_text(&view, &oid).map_err(|e| e.to_string())?;
    let bundle = Bundle::build(&text, &outcomes::attestations(&view, &oid), &certs);
    let verified = verify(bundle.to_json().as_bytes());
    f.bundle_valid = verified.valid;
    f.bundle_adopted = verified.adopted;

    let units = followup::units(&view, as_of);
    for (id, b) in &year.bodies {
        let mine = || units.iter().filter(|u| u.body == *id);
        f.bodies.insert(
            name_of(id),
            BodyFigures {
                submitted: b.submitted,
                instructions: b.instructions,
                units: b.units,
                received: mine()
                    .filter(|u| Date::parse(&u.received).is_some())
                    .count(),
                extended: mine().filter(|u| u.extended).count(),
                answered: b.answered,
                results: b.results.clone(),
                overdue: b.overdue,
                carried: b.carried,
                evaluations: b.evaluations.values().sum(),
                adoption_rate: rate(b.adoption_rate()),
                completion_rate: rate(b.completion_rate()),
            },
        );
    }
    f.overdue = followup::overdue(&view, as_of)
        .into_iter()
        .map(|u| OverdueFigure {
            body: name_of(&u.body),
            unit: u.unit,
            due: u.due,
            days: u.overdue_days,
        })
        .collect();
    f.findings_answered = view
        .records("finding")
        .iter()
        .filter(|x| Date::parse(x.get("date")).is_some_and(|d| d.year == REPORT_YEAR))
        .filter(|x| view.record("suggestion", x.get("suggestion")).is_some())
        .filter(|x| !x.get("response").trim().is_empty())
        .count();

    let r2 = w.round_two.to_string();
    if let Some(round) = view.record("round", &r2) {
        let second: Vec<_> = view
            .records("suggestion")
            .iter()
            .filter(|s| s.get("round") == r2)
            .collect();
        f.round_two = RoundTwoFigures {
            host: name_of(round.get("host")),
            from_outcome: round.get("from_outcome") == oid,
            meetings: view
                .records("meeting")
                .iter()
                .filter(|m| m.get("round") == r2)
                .count(),
            suggestions: second.len(),
            continuing: second
                .iter()
                .filter_map(|s| view.record("suggestion", s.get("from_suggestion")))
                .filter(|earlier| earlier.get("round") == r1)
                .count(),
        };
    }
    if let Some(third) = &parties.jiashan {
        let listed = third
            .handle
            .status()
            .await
            .map_err(|e| format!("{}: {e}", third.name))?
            .spaces
            .iter()
            .any(|s| s.id == agenda);
        f.third_body_has_agenda = Some(listed || third.handle.show_agenda(w.agenda).await.is_ok());
    }
    Ok(Read { figures: f, report })
}

/// One check per figure, and a line for each value that differs, named by its path.
pub(super) fn compare(wrote: &Figures, read: &Figures) -> (Vec<Check>, Vec<String>) {
    let (Ok(Value::Object(w)), Ok(Value::Object(r))) =
        (serde_json::to_value(wrote), serde_json::to_value(read))
    else {
        return (
            Vec::new(),
            vec!["the figures could not be compared".to_owned()],
        );
    };
    let mut checks = Vec::new();
    let mut failed = Vec::new();
    for (name, wrote) in &w {
        let read = r.get(name).cloned().unwrap_or(Value::Null);
        diff(name, wrote, &read, &mut failed);
        checks.push(Check {
            figure: name.clone(),
            held: *wrote == read,
            wrote: wrote.clone(),
            read,
        });
    }
    (checks, failed)
}

fn diff(path: &str, wrote: &Value, read: &Value, out: &mut Vec<String>) {
    match (wrote, read) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let (x, y) = (a.get(k), b.get(k));
                diff(
                    &format!("{path}.{k}"),
                    x.unwrap_or(&Value::Null),
                    y.unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if wrote != read => out.push(format!("{path}: wrote {wrote}, read {read}")),
        _ => {}
    }
}

/// The word for a model value in the reader's language.
fn word(lang: Lang, value: &str) -> String {
    let zh = match value {
        "adopted" => "采纳",
        "partly-adopted" => "部分采纳",
        "planned" => "列入计划",
        "for-reference" => "留作参考",
        "not-adopted" => "未采纳",
        "high" => "高",
        "medium" => "中",
        "low" => "低",
        "litigation" => "涉法涉诉",
        "petition" => "纳入信访",
        "unrepresentative" => "不具代表性",
        "hearing" => "民主评议会",
        "symposium" => "座谈会",
        "joint-opinion" => "联合协商意见",
        other => other,
    };
    lang.pick(value, zh).to_owned()
}

/// The order values are told in: results and severities as the model lists them.
const ORDER: [&str; 8] = [
    "adopted",
    "partly-adopted",
    "planned",
    "for-reference",
    "not-adopted",
    "high",
    "medium",
    "low",
];

fn counts(lang: Lang, map: &BTreeMap<String, usize>) -> String {
    let mut items: Vec<(&String, &usize)> = map.iter().collect();
    items.sort_by_key(|(k, _)| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    items
        .into_iter()
        .map(|(k, v)| format!("{} {v}", word(lang, k)))
        .collect::<Vec<_>>()
        .join(lang.pick(", ", "，"))
}

fn yes(lang: Lang, b: bool) -> &'static str {
    match (lang, b) {
        (Lang::En, true) => "yes",
        (Lang::En, false) => "no",
        (Lang::Zh, true) => "是",
        (Lang::Zh, false) => "否",
    }
}

/// One indented line: a label and its value (a space after the label in English only).
fn said(lang: Lang, en: &str, zh: &str, value: &str) -> String {
    match lang {
        Lang::En => format!("  {en} {value}"),
        Lang::Zh => format!("  {zh}{value}"),
    }
}

/// The figures as the account tells them, read on `partner`'s node.
pub(super) fn lines(f: &Figures, partner: &str, lang: Lang) -> Vec<String> {
    let zh = lang == Lang::Zh;
    let mut out = vec![if zh {
        format!("在{partner}节点上读到的数字（逐项与本场景写入的内容核对）：")
    } else {
        format!("Figures read on {partner}'s node (each checked against what the scenario wrote):")
    }];
    for (body, l) in &f.ledgers {
        out.push(if zh {
            format!(
                "  台账（{body}，仅存于本方节点）：候选议题 {}，通过筛选 {}，筛除 {}，合并 {}，关联本议题 {}，年度计划事项 {}",
                l.topics, l.accepted, counts(lang, &l.rejected), l.merged, l.linked_to_agenda, l.plan_items
            )
        } else {
            format!(
                "  Ledger of {body} (on its own node only): topics {}, accepted {}, screened out: {}, merged {}, linked to the agenda {}, plan items {}",
                l.topics, l.accepted, counts(lang, &l.rejected), l.merged, l.linked_to_agenda, l.plan_items
            )
        });
    }
    out.push(said(
        lang,
        "Neither ledger reached the partner:",
        "双方台账均未发送给对方：",
        yes(lang, f.ledgers_private),
    ));
    out.push(if zh {
        format!(
            "  选题：主席会议预选 {}；秘书长工作会议确认于 {}；第一轮承办方 {}，形式 {}",
            counts(lang, &f.preselections),
            f.confirmed_on,
            f.host,
            word(lang, &f.form)
        )
    } else {
        format!(
            "  Selection: chair meetings' preselections {}; confirmed {}; round 1 hosted by {}, form {}",
            counts(lang, &f.preselections),
            f.confirmed_on,
            f.host,
            f.form
        )
    });
    out.push(if zh {
        format!(
            "  {REPORT_YEAR} 年协商会议 {}，意见建议 {} 条，其中有争议 {} 条、经主席联席会议决定 {} 条",
            f.meetings, f.suggestions, f.disputed, f.decided
        )
    } else {
        format!(
            "  {REPORT_YEAR}: meetings {}, suggestions {}, disputed {}, decided by the joint chairs' meeting {}",
            f.meetings, f.suggestions, f.disputed, f.decided
        )
    });
    let signed: Vec<String> = f
        .signatures
        .iter()
        .map(|(body, s)| {
            if zh {
                format!(
                    "{body}由{}签署，{}",
                    s.signer,
                    if s.matches {
                        "与现行文本一致"
                    } else {
                        "与现行文本不一致"
                    }
                )
            } else {
                format!(
                    "{body} signed by {}, {}",
                    s.signer,
                    if s.matches {
                        "matches the current text"
                    } else {
                        "does NOT match the current text"
                    }
                )
            }
        })
        .collect();
    out.push(if zh {
        format!(
            "  成果（{}，汇总建议 {} 条）：{}；{}",
            word(lang, &f.outcome_kind),
            f.outcome_suggestions,
            if f.adopted { "已通过" } else { "未通过" },
            signed.join("；")
        )
    } else {
        format!(
            "  Outcome ({}, {} suggestions): {}; {}",
            f.outcome_kind,
            f.outcome_suggestions,
            if f.adopted { "adopted" } else { "not adopted" },
            signed.join("; ")
        )
    });
    out.push(said(
        lang,
        "Exported bundle verified offline — valid / adopted:",
        "导出的成果文件离线核验——有效 / 已通过：",
        &format!(
            "{} / {}",
            yes(lang, f.bundle_valid),
            yes(lang, f.bundle_adopted)
        ),
    ));
    for (body, b) in &f.bodies {
        out.push(if zh {
            format!(
                "  {body}：报送 {}，批示 {}，交办单位 {}（签收 {}，延期 {}），已反馈 {}（{}），采纳率 {}，办结率 {}，逾期 {}，转入下年 {}，委员评价 {}",
                b.submitted, b.instructions, b.units, b.received, b.extended, b.answered,
                counts(lang, &b.results), b.adoption_rate, b.completion_rate, b.overdue, b.carried, b.evaluations
            )
        } else {
            format!(
                "  {body}: submitted {}, instructions {}, units {} ({} received, {} extended), answered {} ({}), adoption rate {}, completion rate {}, overdue {}, carried over {}, evaluations {}",
                b.submitted, b.instructions, b.units, b.received, b.extended, b.answered,
                counts(lang, &b.results), b.adoption_rate, b.completion_rate, b.overdue, b.carried, b.evaluations
            )
        });
    }
    for u in &f.overdue {
        out.push(if zh {
            format!(
                "  截至 {AS_OF} 逾期：{}（{}），时限 {}，已逾期 {} 天",
                u.unit, u.body, u.due, u.days
            )
        } else {
            format!(
                "  Overdue as of {AS_OF}: {} ({}), due {}, {} days late",
                u.unit, u.body, u.due, u.days
            )
        });
    }
    out.push(if zh {
        format!(
            "  监督发现：{}；已回应 {}",
            counts(lang, &f.findings),
            f.findings_answered
        )
    } else {
        format!(
            "  Findings: {}; {} answered",
            counts(lang, &f.findings),
            f.findings_answered
        )
    });
    let r = &f.round_two;
    out.push(if zh {
        format!(
            "  再协商（第二轮，承办方 {}，以第一轮成果为基础：{}）：会议 {}，建议 {} 条，其中延续上一轮 {} 条",
            r.host, yes(lang, r.from_outcome), r.meetings, r.suggestions, r.continuing
        )
    } else {
        format!(
            "  Re-consultation (round 2, hosted by {}, from the first outcome: {}): meetings {}, suggestions {}, continuing round 1 {}",
            r.host, yes(lang, r.from_outcome), r.meetings, r.suggestions, r.continuing
        )
    });
    out.push(said(
        lang,
        "The same year-end report on both nodes:",
        "两个节点生成的年终通报相同：",
        yes(lang, f.report_same_on_both),
    ));
    if let Some(has) = f.third_body_has_agenda {
        out.push(said(
            lang,
            "嘉善县政协 (connected, not a member) received the agenda:",
            "嘉善县政协（已连接、非参与方）收到该议题：",
            yes(lang, has),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_that_differs_is_named_by_its_path() {
        let wrote = Figures {
            suggestions: 43,
            bodies: BTreeMap::from([(
                "平湖市政协".to_owned(),
                BodyFigures {
                    overdue: 1,
                    ..BodyFigures::default()
                },
            )]),
            ..Figures::default()
        };
        let (checks, failed) = compare(&wrote, &wrote);
        assert!(failed.is_empty() && checks.iter().all(|c| c.held));
        let mut read = wrote.clone();
        read.suggestions = 42;
        if let Some(b) = read.bodies.get_mut("平湖市政协") {
            b.overdue = 0;
        }
        let (checks, failed) = compare(&wrote, &read);
        assert_eq!(
            failed,
            [
                "bodies.平湖市政协.overdue: wrote 1, read 0",
                "suggestions: wrote 43, read 42"
            ]
        );
        assert_eq!(checks.iter().filter(|c| !c.held).count(), 2);
    }

    #[test]
    fn rates_round_to_one_decimal_like_the_report() {
        assert_eq!(pct(4, 6), "66.7%");
        assert_eq!(pct(6, 6), "100.0%");
        assert_eq!(pct(0, 0), "—");
    }
}
