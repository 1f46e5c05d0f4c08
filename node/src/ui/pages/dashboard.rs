//! 工作台: what needs me — outcomes awaiting my body's signature, overdue handling of my
//! body, and what partner bodies wrote since my last visit.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use confer_protocol::model::agenda::followup;
use confer_protocol::model::ModelView;

use super::agenda::{awaiting, today};
use super::labels::{self, label};
use crate::ui::{html, layout, node_failure, Shared, Viewer};

/// Partner writes listed at most.
const NEW_SHOWN: usize = 30;

pub(crate) async fn show(State(state): State<Shared>, viewer: Viewer) -> Response {
    let lang = viewer.lang;
    let agendas = match state.node.list_agendas().await {
        Ok(list) => list,
        Err(e) => return node_failure(lang, &e),
    };
    let my_body = state.body.id.clone();
    let on = today();
    let mut to_sign = Vec::new();
    let mut overdue = Vec::new();
    let mut news = Vec::new();
    let mut invitations = Vec::new();
    for a in &agendas {
        if a.invited {
            invitations.push(a.clone());
            continue;
        }
        let Ok(space) = a.id.parse() else { continue };
        let view = match state.node.read(space).await {
            Ok(ModelView::Agenda(view)) => view,
            Ok(ModelView::Ledger(_)) => continue,
            Err(e) => return node_failure(lang, &e),
        };
        for o in awaiting(&view, &my_body) {
            to_sign.push((a.id.clone(), a.title.clone(), o));
        }
        for u in followup::overdue(&view, on) {
            if u.body == my_body {
                overdue.push((a.id.clone(), a.title.clone(), u));
            }
        }
        match state.node.history(space, None).await {
            Ok(items) => news.extend(
                items
                    .into_iter()
                    .filter(|i| i.body != my_body && i.time_ms > viewer.session.since_ms && i.made)
                    .map(|i| (a.id.clone(), a.title.clone(), i)),
            ),
            Err(e) => return node_failure(lang, &e),
        }
    }
    news.sort_by_key(|(_, _, i)| std::cmp::Reverse(i.time_ms));
    overdue.sort_by_key(|(_, _, u)| std::cmp::Reverse(u.overdue_days));
    let markup = layout::page(
        &viewer,
        &state.body,
        viewer.t("Dashboard", "工作台"),
        html! {
            section id="dashboard" data-live data-space="*" {
                div.stats {
                    div.stat { b { (to_sign.len()) } span { (viewer.t("awaiting our signature", "待本机构签署")) } }
                    div.stat { b { (overdue.len()) } span { (viewer.t("handling overdue", "逾期未办结")) } }
                    div.stat { b { (news.len()) } span { (viewer.t("new from partners since my last visit", "上次访问以来合作方的新内容")) } }
                }
                @if !invitations.is_empty() {
                    div.notice {
                        (viewer.t("Invitations waiting for the operator (confer agenda accept): ", "待运维人员接受的邀请（confer agenda accept）："))
                        @for a in &invitations { strong { (a.title) } " " }
                    }
                }
                div.grid {
                    section.card {
                        h2 style="margin-top:0" { (viewer.t("Awaiting our signature", "待本机构签署")) }
                        @if to_sign.is_empty() { p.muted { (viewer.t("Nothing to sign.", "暂无待签署事项。")) } }
                        ul { @for (id, title, o) in &to_sign {
                            li { a href=(format!("/agendas/{id}#o-{}", o.id)) { (label(lang, labels::OUTCOME_KINDS, &o.kind)) (lang.pick(": ", "：")) (o.title) } br; span.muted { (title) } }
                        } }
                    }
                    section.card {
                        h2 style="margin-top:0" { (viewer.t("Overdue handling", "逾期办理")) }
                        @if overdue.is_empty() { p.muted { (viewer.t("Nothing overdue.", "没有逾期事项。")) } }
                        ul { @for (id, title, u) in overdue.iter().take(NEW_SHOWN) {
                            li { a href=(format!("/agendas/{id}/suggestions/{}", u.suggestion)) { (u.unit) } " " span.badge.bad { (u.overdue_days) (viewer.t(" days", " 天")) } br; span.muted { (title) } }
                        } }
                    }
                    section.card {
                        h2 style="margin-top:0" { (viewer.t("New from partners", "合作方新内容")) }
                        @if news.is_empty() { p.muted { (viewer.t("Nothing new since your last visit.", "自上次访问以来没有新内容。")) } }
                        ul { @for (id, title, i) in news.iter().take(NEW_SHOWN) {
                            li {
                                a href=(format!("/agendas/{id}")) { (title) } " — "
                                (labels::target(lang, &i.target)) br;
                                (layout::byline(lang, i.body_name.as_deref(), i.member_name.as_deref(), &i.author))
                                " " span.muted { (layout::beijing_time(i.time_ms)) }
                            }
                        } }
                    }
                }
            }
        },
    );
    html(markup)
}
