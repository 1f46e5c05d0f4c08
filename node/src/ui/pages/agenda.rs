//! The agenda page: rounds, meetings and their minutes, suggestions with each side's
//! handling and feedback, outcomes with each body's signature and a sign button, findings,
//! the member bodies and changes to them, history; and the POST of its forms. Its parts:
//! the cards (`cards`), the suggestion page (`suggestion`), what the forms do (`actions`),
//! meetings (`meetings`) and membership — invite, consent, leave, remove (`membership`).
//! Every write is a model action through [`NodeHandle::apply`] (or a membership command)
//! as the person's member.
//!
//! [`NodeHandle::apply`]: crate::handle::NodeHandle::apply

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

use confer_protocol::model::agenda::followup;
use confer_protocol::model::agenda::outcomes::OutcomeStatus;
use confer_protocol::model::date::Date;
use confer_protocol::model::{AgendaAction, AgendaView, ModelView, RecordView};
use confer_protocol::SpaceId;

use super::labels::{self, label};
use crate::api::workflow::record_write;
use crate::api::WriteRecord;
use crate::handle::NodeError;
use crate::i18n::Lang;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::{html, layout, node_failure, see_other, Shared, Viewer};
use crate::views::BodyView;

mod actions;
mod cards;
mod meetings;
mod membership;
mod suggestion;

pub(crate) use cards::record_byline;
use cards::{history_list, outcome_card, suggestion_card};
pub(crate) use suggestion::show_suggestion;

/// Suggestions shown per page of the agenda: at the workflow issue's size (four handling
/// units a suggestion, most with feedback) a page of 50 stays under 300 KB.
pub(crate) const PER_PAGE: usize = 50;
/// Findings shown on the agenda page (the latest by date); each suggestion's page shows
/// all of its own.
const FINDINGS_SHOWN: usize = 30;
/// Up to this many suggestions, the outcome form offers a checkbox for each; beyond, a
/// field for their numbers.
const CHECKBOXES_UP_TO: usize = 20;
/// History items shown on the agenda page (newest first).
const HISTORY_SHOWN: usize = 60;

/// Writes a record of the agenda as the viewer's member (a new one if `id` is `None`).
pub(crate) async fn save(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    collection: &str,
    id: Option<String>,
    fields: Vec<(&str, String)>,
) -> Result<String, NodeError> {
    let body = WriteRecord {
        collection: collection.to_owned(),
        id,
        fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        as_member: None,
    };
    let write = record_write(&confer_protocol::model::AGENDA_SCHEMA, &body)?;
    let id = write.key.id.to_string();
    state
        .node
        .apply(space, AgendaAction::Write(write).into(), viewer.author())
        .await?;
    Ok(id)
}

/// What an agenda page needs from the node.
pub(crate) struct Loaded {
    pub(crate) space: SpaceId,
    pub(crate) view: AgendaView,
    pub(crate) members: Vec<BodyView>,
}

impl Loaded {
    pub(crate) fn body_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.members
            .iter()
            .find(|b| b.id == id)
            .and_then(|b| b.name.as_deref())
            .unwrap_or(layout::short(id))
    }
}

pub(crate) fn parse_space(lang: Lang, id: &str) -> Result<SpaceId, Response> {
    id.parse::<SpaceId>()
        .map_err(|_| node_failure(lang, &NodeError::UnknownAgenda(id.to_owned())))
}

pub(crate) async fn load(state: &Shared, lang: Lang, space: SpaceId) -> Result<Loaded, Response> {
    let fail = |e: NodeError| node_failure(lang, &e);
    let view = match state.node.read(space).await.map_err(fail)? {
        ModelView::Agenda(view) => view,
        ModelView::Ledger(_) => return Err(fail(NodeError::UnknownAgenda(space.to_string()))),
    };
    let id = space.to_string();
    let members = state
        .node
        .list_agendas()
        .await
        .map_err(fail)?
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| a.members)
        .unwrap_or_default();
    Ok(Loaded {
        space,
        view,
        members,
    })
}

pub(crate) fn today() -> Date {
    Date::from_unix_seconds(crate::runtime::unix_now())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    page: Option<usize>,
}

/// The agenda page, with `form` shown again if a submission had mistakes.
async fn agenda_page(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    page: usize,
    form: Option<&FormState>,
) -> Result<Markup, Response> {
    let lang = viewer.lang;
    let loaded = load(state, lang, space).await?;
    let history = state
        .node
        .history(space, None)
        .await
        .map_err(|e| node_failure(lang, &e))?;
    let bodies = membership::load(state, lang, space).await?;
    let view = &loaded.view;
    let units = followup::units(view, today());
    let my_body = state.body.id.clone();
    let suggestions = view.records("suggestion");
    let pages = suggestions.len().div_ceil(PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let shown = suggestions
        .iter()
        .enumerate()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE);
    let title = view.text("title");
    let sid = space.to_string();
    let suggestion_form = FormState::for_form(form, "suggestion");
    let outcome_form = FormState::for_form(form, "outcome");
    let finding_form = FormState::for_form(form, "finding");
    let sign_form = FormState::for_form(form, "sign");
    let round_form = FormState::for_form(form, "round");
    let host_options: Vec<(String, String)> = loaded
        .members
        .iter()
        .map(|b| {
            (
                b.id.clone(),
                b.name
                    .clone()
                    .unwrap_or_else(|| layout::short(&b.id).to_owned()),
            )
        })
        .collect();
    let outcome_options: Vec<(String, String)> =
        std::iter::once((String::new(), lang.pick("— none —", "— 无 —").to_owned()))
            .chain(
                view.outcomes
                    .iter()
                    .map(|o| (o.id.clone(), o.title.clone())),
            )
            .collect();
    Ok(layout::page(
        viewer,
        &state.body,
        title,
        html! {
            section.card id="agenda-head" data-live data-space=(sid) {
                @if !view.text("summary").is_empty() { p.suggestion-text { (view.text("summary")) } }
                p { (viewer.t("Member bodies: ", "参与机构：")) span.bodies { @for b in &loaded.members { span.badge { (b.name.as_deref().unwrap_or(layout::short(&b.id))) } } } }
                p.muted {
                    (viewer.t("Rounds", "协商轮次")) " " (view.records("round").len()) " · "
                    (viewer.t("Suggestions", "意见建议")) " " (suggestions.len()) " · "
                    (viewer.t("Outcomes", "协商成果")) " " (view.outcomes.len()) " · "
                    (viewer.t("Findings", "监督发现")) " " (view.records("finding").len())
                }
            }
            div.cols {
                div {
                    h2 { (viewer.t("Rounds", "协商轮次")) }
                    section id="rounds" data-live data-space=(sid) {
                        @for r in view.records("round") {
                            article.card {
                                h3 {
                                    (viewer.t("Round ", "第 ")) (r.get("number")) (viewer.t("", " 轮"))
                                    @if !r.get("host").is_empty() { " · " (viewer.t("host: ", "主办方：")) (loaded.body_name(r.get("host"))) }
                                    @if let Some(from) = view.record("outcome", r.get("from_outcome")) {
                                        span.badge { (viewer.t("re-consultation of ", "再协商：")) (from.get("title")) }
                                    }
                                }
                                p.muted {
                                    @if !r.get("form").is_empty() { (label(lang, labels::FORMS, r.get("form"))) " · " }
                                    @if !r.get("date").is_empty() { (r.get("date")) " · " }
                                    @if !r.get("place").is_empty() { (r.get("place")) " · " }
                                    (record_byline(lang, r))
                                }
                                @if !r.get("research").is_empty() { p.suggestion-text { (r.get("research")) } }
                            }
                        }
                    }
                    details.form {
                        summary { (viewer.t("Start a new round (re-consultation)", "开启新一轮协商（再协商）")) }
                        form method="post" action=(format!("/agendas/{sid}/round")) novalidate {
                            (forms::csrf(&viewer.session.csrf))
                            (forms::general(&round_form))
                            (forms::select(&round_form, "host", lang.pick("Host body", "主办方"), &host_options))
                            (forms::select(&round_form, "from_outcome", lang.pick("Continues the outcome", "承接的协商成果"), &outcome_options))
                            (forms::select(&round_form, "form", lang.pick("Form", "协商形式"), &labels::options(lang, labels::FORMS)))
                            (forms::input(&round_form, "date", lang.pick("Date (YYYY-MM-DD)", "日期（YYYY-MM-DD）"), "text", false))
                            (forms::input(&round_form, "place", lang.pick("Place", "地点"), "text", false))
                            button type="submit" { (viewer.t("Start round", "开启")) }
                        }
                    }
                    (meetings::section(viewer, &loaded, form))
                    h2 { (viewer.t("Outcomes", "协商成果")) }
                    (forms::general(&sign_form))
                    section id="outcomes" data-live data-space=(sid) {
                        @if view.outcomes.is_empty() { p.muted { (viewer.t("No outcome yet.", "尚无协商成果。")) } }
                        @for o in &view.outcomes { (outcome_card(viewer, &loaded, &my_body, o)) }
                    }
                    h2 { (viewer.t("Suggestions", "意见建议")) }
                    section id="suggestions" data-live data-space=(sid) {
                        @if suggestions.is_empty() { p.muted { (viewer.t("No suggestion yet.", "尚无意见建议。")) } }
                        @for (i, s) in shown { (suggestion_card(&loaded, lang, &units, i + 1, s)) }
                        @if pages > 1 {
                            nav.pages aria-label=(viewer.t("Pages", "分页")) {
                                @for p in 1..=pages {
                                    @if p == page { strong { (p) } " " } @else { a href=(format!("/agendas/{sid}?page={p}")) { (p) } " " }
                                }
                            }
                        }
                    }
                    h2 { (viewer.t("Findings", "监督发现")) }
                    section id="findings" data-live data-space=(sid) {
                        @if view.records("finding").is_empty() { p.muted { (viewer.t("No finding yet.", "尚无监督发现。")) } }
                        @if view.records("finding").len() > FINDINGS_SHOWN {
                            p.muted { (viewer.t("The latest ", "最近 ")) (FINDINGS_SHOWN) (viewer.t(" of ", " 条，共 ")) (view.records("finding").len()) (viewer.t("; each suggestion's page shows all of its own.", " 条；每条意见建议的页面列出其全部监督发现。")) }
                        }
                        @for f in latest_findings(view) {
                            article.card {
                                p { span.badge { (label(lang, labels::VISITS, f.get("visit"))) } span.badge.warn { (label(lang, labels::SEVERITIES, f.get("severity"))) } " " (f.get("date")) }
                                p.suggestion-text { (f.get("text")) }
                                p { (record_byline(lang, f)) }
                            }
                        }
                    }
                    (super::ledger::experts::agenda_section(lang, &loaded))
                    h2 { (viewer.t("History", "修改记录")) }
                    section id="history" data-live data-space=(sid) {
                        p.muted { (viewer.t("Who changed what, when — read from the signed entries (latest first).", "谁在何时修改了什么——读自已签名的条目（最新在前）。")) }
                        (history_list(lang, &history))
                    }
                }
                aside {
                    section.card {
                        h2 style="margin-top:0" { (viewer.t("Add a suggestion", "添加意见建议")) }
                        form method="post" action=(format!("/agendas/{sid}/suggestion")) novalidate {
                            (forms::csrf(&viewer.session.csrf))
                            (forms::general(&suggestion_form))
                            (forms::textarea(&suggestion_form, "text", lang.pick("Suggestion", "意见建议内容"), true))
                            (forms::input(&suggestion_form, "proposer", lang.pick("Proposed by", "提出人"), "text", false))
                            button type="submit" { (viewer.t("Add suggestion", "添加")) }
                        }
                    }
                    section.card {
                        h2 style="margin-top:0" { (viewer.t("Draft an outcome", "起草协商成果")) }
                        form method="post" action=(format!("/agendas/{sid}/outcome")) novalidate {
                            (forms::csrf(&viewer.session.csrf))
                            (forms::general(&outcome_form))
                            (forms::select(&outcome_form, "kind", lang.pick("Kind", "成果类型"), &labels::options(lang, labels::OUTCOME_KINDS)))
                            (forms::input(&outcome_form, "title", lang.pick("Title", "标题"), "text", true))
                            (forms::textarea(&outcome_form, "text", lang.pick("Text", "正文"), true))
                            @if suggestions.len() > CHECKBOXES_UP_TO {
                                (forms::input(&outcome_form, "numbers", lang.pick("Built from suggestions no. (e.g. 1, 2, 5)", "所依据的意见建议编号（如 1, 2, 5）"), "text", false))
                            } @else if !suggestions.is_empty() {
                                fieldset {
                                    legend { (viewer.t("Built from the suggestions", "所依据的意见建议")) }
                                    @let chosen = outcome_form.values.all("suggestions");
                                    @for (i, s) in suggestions.iter().enumerate() {
                                        @let id = s.id.to_string();
                                        label.check { input type="checkbox" name="suggestions" value=(id) checked[chosen.contains(&id.as_str())]; " " (i + 1) ". " (s.get("text").chars().take(30).collect::<String>()) }
                                    }
                                }
                            }
                            button type="submit" { (viewer.t("Save draft", "保存草稿")) }
                        }
                    }
                    section.card {
                        h2 style="margin-top:0" { (viewer.t("Record a finding", "记录监督发现")) }
                        form method="post" action=(format!("/agendas/{sid}/finding")) novalidate {
                            (forms::csrf(&viewer.session.csrf))
                            (forms::general(&finding_form))
                            (forms::input(&finding_form, "suggestion", lang.pick("About suggestion no. (optional)", "涉及的意见建议编号（可选）"), "text", false))
                            (forms::select(&finding_form, "visit", lang.pick("Visit", "监督方式"), &labels::options(lang, labels::VISITS)))
                            (forms::input(&finding_form, "date", lang.pick("Date (YYYY-MM-DD)", "日期（YYYY-MM-DD）"), "text", false))
                            (forms::select(&finding_form, "severity", lang.pick("Severity", "严重程度"), &labels::options(lang, labels::SEVERITIES)))
                            (forms::textarea(&finding_form, "text", lang.pick("What was found", "发现的问题"), true))
                            button type="submit" { (viewer.t("Save finding", "保存")) }
                        }
                    }
                    (membership::section(viewer, &loaded, &bodies, &my_body, form))
                }
            }
        },
    ))
}

pub(crate) async fn show(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let space = match parse_space(viewer.lang, &id) {
        Ok(space) => space,
        Err(response) => return response,
    };
    match agenda_page(&state, &viewer, space, q.page.unwrap_or(1), None).await {
        Ok(markup) => html(markup),
        Err(response) => response,
    }
}

/// The POST of one of the agenda's forms (`action`: suggestion, outcome, sign, handling,
/// feedback, finding, round, meeting, minutes, invite, consent, leave, remove). A mistake shows the page again with the form and nothing saved.
pub(crate) async fn act(
    State(state): State<Shared>,
    viewer: Viewer,
    Path((id, action)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(refused) = viewer.check_csrf(&fields) {
        return refused;
    }
    let lang = viewer.lang;
    let space = match parse_space(lang, &id) {
        Ok(space) => space,
        Err(response) => return response,
    };
    let mut form = FormState::of(&action, fields.clone());
    let on_suggestion_page = matches!(action.as_str(), "handling" | "feedback");
    let done = match action.as_str() {
        "suggestion" => actions::add_suggestion(&state, &viewer, space, &mut form).await,
        "outcome" => actions::add_outcome(&state, &viewer, space, &mut form).await,
        "sign" => actions::sign(&state, &viewer, space, &mut form).await,
        "handling" => actions::add_handling(&state, &viewer, space, &mut form).await,
        "feedback" => actions::add_feedback(&state, &viewer, space, &mut form).await,
        "finding" => actions::add_finding(&state, &viewer, space, &mut form).await,
        "round" => actions::add_round(&state, &viewer, space, &mut form).await,
        "meeting" => meetings::add_meeting(&state, &viewer, space, &mut form).await,
        "minutes" => meetings::record_minutes(&state, &viewer, space, &mut form).await,
        "invite" | "consent" | "withdraw" | "leave" | "remove" => {
            membership::act(&state, &viewer, space, &mut form).await
        }
        _ => {
            return node_failure(
                lang,
                &NodeError::BadInput(format!("no such form: {action}")),
            );
        }
    };
    if let Some(to) = done {
        return see_other(&to);
    }
    let page = if on_suggestion_page {
        suggestion::suggestion_page(
            &state,
            &viewer,
            space,
            fields.get("suggestion"),
            Some(&form),
        )
        .await
    } else {
        agenda_page(&state, &viewer, space, 1, Some(&form)).await
    };
    match page {
        Ok(markup) => (StatusCode::BAD_REQUEST, html(markup)).into_response(),
        Err(response) => response,
    }
}

/// Outcomes of every agenda that await this body's signature: (agenda id, title, outcome).
pub(crate) fn awaiting(view: &AgendaView, body: &str) -> Vec<OutcomeStatus> {
    view.outcomes
        .iter()
        .filter(|o| o.problem.is_none() && !o.adopted)
        .filter(|o| o.bodies.iter().any(|b| b.body == body && !b.matches))
        .cloned()
        .collect()
}

/// The findings the agenda page shows: the latest `FINDINGS_SHOWN` by date (then id).
fn latest_findings(view: &AgendaView) -> Vec<&RecordView> {
    let mut findings: Vec<&RecordView> = view.records("finding").iter().collect();
    findings.sort_by(|a, b| (b.get("date"), b.id).cmp(&(a.get("date"), a.id)));
    findings.truncate(FINDINGS_SHOWN);
    findings
}
