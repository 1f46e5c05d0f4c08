//! 提与落: one suggestion's page — each side's handling and feedback, and the forms for
//! this body's handling units and their feedback.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};

use confer_protocol::model::agenda::followup;
use confer_protocol::SpaceId;

use super::super::labels::{self, label};
use super::cards::{record_byline, sides, units_of};
use super::{load, parse_space, today};
use crate::handle::NodeError;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::{html, layout, node_failure, Shared, Viewer};

/// 提与落: one suggestion, each side's handling and feedback, and this body's forms.
pub(super) async fn suggestion_page(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    suggestion: &str,
    form: Option<&FormState>,
) -> Result<Markup, Response> {
    let lang = viewer.lang;
    let loaded = load(state, lang, space).await?;
    let view = &loaded.view;
    let Some(s) = view.record("suggestion", suggestion) else {
        return Err(node_failure(
            lang,
            &NodeError::BadInput(format!("no suggestion {suggestion} in this agenda")),
        ));
    };
    let units = followup::units(view, today());
    let my_body = state.body.id.clone();
    let mine = units_of(&units, suggestion, &my_body);
    let sid = space.to_string();
    let n = view
        .records("suggestion")
        .iter()
        .position(|r| r.id == s.id)
        .map_or(0, |i| i + 1);
    let mut handling_form = FormState::for_form(form, "handling");
    if handling_form.values.0.is_empty() {
        let day = today();
        handling_form.values = Fields(vec![
            ("assigned".into(), day.to_string()),
            ("due".into(), day.add_months(3).to_string()),
        ]);
    }
    let mut feedback_form = FormState::for_form(form, "feedback");
    if feedback_form.values.0.is_empty() {
        feedback_form.values = Fields(vec![("date".into(), today().to_string())]);
    }
    let unit_options: Vec<(String, String)> = mine
        .iter()
        .map(|u| {
            (
                u.id.clone(),
                format!("{} · {}", u.unit, label(lang, labels::ROLES, &u.role)),
            )
        })
        .collect();
    let title = format!("{}{n}", lang.pick("Suggestion ", "意见建议 "));
    Ok(layout::page(
        viewer,
        &state.body,
        &title,
        html! {
            p { a href=(format!("/agendas/{sid}#s-{suggestion}")) { "← " (view.text("title")) } }
            section.card id="trail" data-live data-space=(sid) {
                p.suggestion-text { (s.get("text")) }
                p.byline { (record_byline(lang, s)) }
                (sides(&loaded, lang, &units, suggestion))
            }
            div.grid {
                section.card {
                    h2 style="margin-top:0" { (viewer.t("Assign a handling unit", "交办承办单位")) }
                    form method="post" action=(format!("/agendas/{sid}/handling")) novalidate {
                        (forms::csrf(&viewer.session.csrf))
                        input type="hidden" name="suggestion" value=(suggestion);
                        (forms::general(&handling_form))
                        (forms::input(&handling_form, "unit", lang.pick("Unit", "承办单位"), "text", true))
                        (forms::select(&handling_form, "role", lang.pick("Role", "承办方式"), &labels::options(lang, labels::ROLES)))
                        (forms::input(&handling_form, "assigned", lang.pick("Assigned on (YYYY-MM-DD)", "交办日期（YYYY-MM-DD）"), "text", true))
                        (forms::input(&handling_form, "due", lang.pick("Due (YYYY-MM-DD)", "办理期限（YYYY-MM-DD）"), "text", true))
                        button type="submit" { (viewer.t("Assign", "交办")) }
                    }
                }
                section.card {
                    h2 style="margin-top:0" { (viewer.t("Record feedback", "登记办理反馈")) }
                    @if unit_options.is_empty() {
                        p.muted { (viewer.t("Assign a handling unit of this committee first.", "请先为本机构交办承办单位。")) }
                    } @else {
                        form method="post" action=(format!("/agendas/{sid}/feedback")) novalidate {
                            (forms::csrf(&viewer.session.csrf))
                            input type="hidden" name="suggestion" value=(suggestion);
                            (forms::general(&feedback_form))
                            (forms::select(&feedback_form, "handling", lang.pick("Unit", "承办单位"), &unit_options))
                            (forms::select(&feedback_form, "result", lang.pick("Result", "办理结果"), &labels::options(lang, labels::RESULTS)))
                            (forms::textarea(&feedback_form, "text", lang.pick("Feedback", "反馈内容"), true))
                            (forms::input(&feedback_form, "reason", lang.pick("Reason (required if not adopted)", "理由（未采纳时必填）"), "text", false))
                            (forms::input(&feedback_form, "date", lang.pick("Date (YYYY-MM-DD)", "日期（YYYY-MM-DD）"), "text", true))
                            button type="submit" { (viewer.t("Save feedback", "保存反馈")) }
                        }
                    }
                }
            }
        },
    ))
}

pub(crate) async fn show_suggestion(
    State(state): State<Shared>,
    viewer: Viewer,
    Path((id, suggestion)): Path<(String, String)>,
) -> Response {
    let space = match parse_space(viewer.lang, &id) {
        Ok(space) => space,
        Err(response) => return response,
    };
    match suggestion_page(&state, &viewer, space, &suggestion, None).await {
        Ok(markup) => html(markup),
        Err(response) => response,
    }
}
