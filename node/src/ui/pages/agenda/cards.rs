//! The agenda page's cards: who wrote a record, each side's handling units and feedback
//! side by side, a suggestion, an outcome with each body's signature and the sign button,
//! and the history list.

use maud::{html, Markup};

use confer_protocol::model::agenda::followup::UnitStatus;
use confer_protocol::model::agenda::outcomes::OutcomeStatus;
use confer_protocol::model::history::HistoryItem;
use confer_protocol::model::{AgendaView, RecordView};

use super::super::labels::{self, label};
use super::{Loaded, HISTORY_SHOWN};
use crate::cli::render_workflow;
use crate::i18n::Lang;
use crate::ui::forms;
use crate::ui::{layout, Viewer};

pub(crate) fn record_byline(lang: Lang, r: &RecordView) -> Markup {
    match &r.created_by {
        Some(a) => layout::byline(
            lang,
            a.body_name.as_deref(),
            a.member_name.as_deref(),
            &a.author.to_string(),
        ),
        None => html! {},
    }
}

/// The units of `body` for `suggestion`.
pub(super) fn units_of<'a>(
    units: &'a [UnitStatus],
    suggestion: &str,
    body: &str,
) -> Vec<&'a UnitStatus> {
    units
        .iter()
        .filter(|u| u.suggestion == suggestion && u.body == body)
        .collect()
}

fn unit_line(lang: Lang, view: &AgendaView, u: &UnitStatus) -> Markup {
    html! {
        li {
            strong { (u.unit) } " · " (label(lang, labels::ROLES, &u.role))
            " · " (lang.pick("due ", "期限 ")) (u.due)
            @if u.overdue_days > 0 { span.badge.bad { (lang.pick("overdue ", "逾期 ")) (u.overdue_days) (lang.pick(" d", " 天")) } }
            @if let Some(r) = view.record("handling", &u.id) { br; (record_byline(lang, r)) }
            @match &u.feedback {
                Some(f) => {
                    br;
                    span.badge.ok { (label(lang, labels::RESULTS, &f.result)) }
                    " " (f.text)
                    @if !f.reason.is_empty() { " (" (f.reason) ")" }
                    @if let Some(r) = view.record("feedback", &f.id) { br; (record_byline(lang, r)) }
                }
                None => { @if u.overdue_days == 0 { span.badge { (lang.pick("in progress", "办理中")) } } }
            }
        }
    }
}

/// Each member body's handling of a suggestion, side by side.
pub(super) fn sides(loaded: &Loaded, lang: Lang, units: &[UnitStatus], suggestion: &str) -> Markup {
    html! {
        div.sides {
            @for b in &loaded.members {
                div.side {
                    h4 { (b.name.as_deref().unwrap_or(layout::short(&b.id))) }
                    @let mine = units_of(units, suggestion, &b.id);
                    @if mine.is_empty() {
                        span.muted { (lang.pick("No handling unit yet", "尚未交办")) }
                    } @else {
                        ul { @for u in mine { (unit_line(lang, &loaded.view, u)) } }
                    }
                }
            }
        }
    }
}

pub(super) fn suggestion_card(
    loaded: &Loaded,
    lang: Lang,
    units: &[UnitStatus],
    n: usize,
    s: &RecordView,
) -> Markup {
    let id = s.id.to_string();
    html! {
        article.card id=(format!("s-{id}")) {
            h3 { (lang.pick("Suggestion ", "意见建议 ")) (n) }
            p.suggestion-text { (s.get("text")) }
            p.byline {
                @if !s.get("proposer").is_empty() { (lang.pick("Proposed by ", "提出人：")) (s.get("proposer")) " · " }
                (record_byline(lang, s))
            }
            (sides(loaded, lang, units, &id))
            p { a href=(format!("/agendas/{}/suggestions/{id}", loaded.space)) { (lang.pick("Handling and feedback →", "办理与反馈 →")) } }
        }
    }
}

pub(super) fn outcome_card(
    viewer: &Viewer,
    loaded: &Loaded,
    my_body: &str,
    o: &OutcomeStatus,
) -> Markup {
    let lang = viewer.lang;
    let record = loaded.view.record("outcome", &o.id);
    let mine = o.bodies.iter().find(|b| b.body == my_body);
    let can_sign =
        viewer.member.can_sign && o.problem.is_none() && !mine.is_some_and(|b| b.matches);
    html! {
        article.card id=(format!("o-{}", o.id)) {
            h3 {
                (label(lang, labels::OUTCOME_KINDS, &o.kind)) (lang.pick(": ", "：")) (o.title)
                @if o.adopted { span.badge.adopted data-adopted="yes" { (lang.pick("Adopted", "已通过")) } }
                @else { span.badge.warn { (lang.pick("Awaiting signatures", "待签署")) } }
            }
            @if let Some(r) = record {
                p.outcome-text { (r.get("text")) }
                p { (record_byline(lang, r)) }
            }
            @if let Some(p) = &o.problem { p.alert { (p) } }
            ul.sigs {
                @for b in &o.bodies {
                    li data-body=(b.body) {
                        strong { (b.body_name.as_deref().unwrap_or(loaded.body_name(&b.body))) } (lang.pick(": ", "："))
                        @if b.matches {
                            span.badge.ok { (lang.pick("signed", "已签署")) }
                            " " (b.signer_name.as_deref().unwrap_or("")) " "
                            span.verified { "✓ " (lang.pick("signature verified", "签名已验证")) }
                        } @else if b.signed {
                            span.badge.bad { (lang.pick("signed an earlier text", "所签为旧文本")) }
                        } @else {
                            span.badge { (lang.pick("not signed yet", "尚未签署")) }
                        }
                    }
                }
            }
            @if can_sign {
                form method="post" action=(format!("/agendas/{}/sign", loaded.space)) {
                    (forms::csrf(&viewer.session.csrf))
                    input type="hidden" name="outcome" value=(o.id);
                    button type="submit" { (lang.pick("Sign for ", "代表")) (loaded.body_name(my_body)) (lang.pick("", "签署")) }
                }
            }
        }
    }
}

pub(super) fn history_list(lang: Lang, items: &[HistoryItem]) -> Markup {
    html! {
        ol.history reversed {
            @for item in items.iter().rev().take(HISTORY_SHOWN) {
                li {
                    span.muted { (layout::beijing_time(item.time_ms)) } " "
                    (layout::byline(lang, item.body_name.as_deref(), item.member_name.as_deref(), &item.author))
                    " — "
                    @if item.made { (lang.pick("made ", "新建 ")) } @else { (lang.pick("changed ", "修改 ")) }
                    strong { (labels::target(lang, &item.target)) }
                    " "
                    span.muted { (item.fields.iter().map(|(k, _)| render_workflow::field(lang, k)).collect::<Vec<_>>().join(lang.pick(", ", "、"))) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_names_fields_in_the_readers_language() {
        let item = HistoryItem {
            time_ms: 0,
            author: "ab".repeat(32),
            seq: 1,
            body: "cd".repeat(32),
            body_name: Some("平湖市政协".into()),
            member_name: Some("李主席".into()),
            target: "meeting/0123456789abcdef".into(),
            made: true,
            fields: vec![
                ("date".into(), "2026-03-01".into()),
                ("place".into(), "嘉兴".into()),
                ("summary".into(), String::new()),
            ],
        };
        let zh = history_list(Lang::Zh, std::slice::from_ref(&item)).into_string();
        assert!(zh.contains("日期、地点、简介"), "{zh}");
        assert!(
            !zh.contains("place"),
            "no English field name in Chinese: {zh}"
        );
        let en = history_list(Lang::En, &[item]).into_string();
        assert!(en.contains("date, place, summary"), "{en}");
    }
}
