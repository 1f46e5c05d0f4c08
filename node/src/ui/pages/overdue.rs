//! 督办: every agenda's handling units past their deadline, most overdue first.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use confer_protocol::model::agenda::followup;
use confer_protocol::model::ModelView;

use super::agenda::today;
use super::labels::{self, label};
use crate::ui::{html, layout, node_failure, Shared, Viewer};

pub(crate) async fn show(State(state): State<Shared>, viewer: Viewer) -> Response {
    let lang = viewer.lang;
    let agendas = match state.node.list_agendas().await {
        Ok(list) => list,
        Err(e) => return node_failure(lang, &e),
    };
    let on = today();
    let mut rows = Vec::new();
    for a in agendas.iter().filter(|a| !a.invited) {
        let Ok(space) = a.id.parse() else { continue };
        match state.node.read(space).await {
            Ok(ModelView::Agenda(view)) => {
                for u in followup::overdue(&view, on) {
                    rows.push((a.id.clone(), a.title.clone(), u));
                }
            }
            Ok(ModelView::Ledger(_)) => {}
            Err(e) => return node_failure(lang, &e),
        }
    }
    rows.sort_by_key(|(_, _, u)| std::cmp::Reverse(u.overdue_days));
    html(layout::page(
        &viewer,
        &state.body,
        viewer.t("Overdue handling", "督办：逾期未办结"),
        html! {
            section id="overdue" data-live data-space="*" {
                p.muted { (viewer.t("As of ", "截至 ")) (on) }
                @if rows.is_empty() { p { (viewer.t("Nothing is overdue.", "没有逾期事项。")) } }
                @else {
                    table {
                        thead { tr {
                            th { (viewer.t("Agenda", "议题")) } th { (viewer.t("Body", "机构")) }
                            th { (viewer.t("Unit", "承办单位")) } th { (viewer.t("Due", "期限")) }
                            th { (viewer.t("Overdue", "逾期")) }
                        } }
                        tbody { @for (id, title, u) in &rows {
                            tr {
                                td { a href=(format!("/agendas/{id}/suggestions/{}", u.suggestion)) { (title) } }
                                td { (u.body_name.as_deref().unwrap_or(layout::short(&u.body))) }
                                td { (u.unit) " · " (label(lang, labels::ROLES, &u.role)) }
                                td { (u.due) @if u.extended { " " span.badge { (viewer.t("extended", "已延期")) } } }
                                td { span.badge.bad { (u.overdue_days) (viewer.t(" days", " 天")) } }
                            }
                        } }
                    }
                }
            }
        },
    ))
}
