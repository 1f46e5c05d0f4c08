//! The agenda page (rounds, suggestions with each side's handling and feedback, outcomes
//! with each body's signature and a sign button, findings, history), the suggestion page
//! (提与落, with the forms for this body's handling and feedback), and the forms' actions.
//! Every write is a model action through [`NodeHandle::apply`] as the person's member.
//!
//! [`NodeHandle::apply`]: crate::handle::NodeHandle::apply

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

use confer_protocol::model::agenda::followup::{self, UnitStatus};
use confer_protocol::model::agenda::outcomes::OutcomeStatus;
use confer_protocol::model::date::Date;
use confer_protocol::model::history::HistoryItem;
use confer_protocol::model::{AgendaAction, AgendaView, ModelView, RecordId, RecordView};
use confer_protocol::SpaceId;
use rand::RngExt;

use super::labels::{self, label};
use crate::api::workflow::record_write;
use crate::api::WriteRecord;
use crate::handle::NodeError;
use crate::i18n::Lang;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::{html, layout, node_failure, see_other, Shared, Viewer};
use crate::views::BodyView;

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

fn record_byline(lang: Lang, r: &RecordView) -> Markup {
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
fn units_of<'a>(units: &'a [UnitStatus], suggestion: &str, body: &str) -> Vec<&'a UnitStatus> {
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
fn sides(loaded: &Loaded, lang: Lang, units: &[UnitStatus], suggestion: &str) -> Markup {
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

fn suggestion_card(
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

fn outcome_card(viewer: &Viewer, loaded: &Loaded, my_body: &str, o: &OutcomeStatus) -> Markup {
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

/// The findings the agenda page shows: the latest `FINDINGS_SHOWN` by date (then id).
fn latest_findings(view: &AgendaView) -> Vec<&RecordView> {
    let mut findings: Vec<&RecordView> = view.records("finding").iter().collect();
    findings.sort_by(|a, b| (b.get("date"), b.id).cmp(&(a.get("date"), a.id)));
    findings.truncate(FINDINGS_SHOWN);
    findings
}

fn history_list(lang: Lang, items: &[HistoryItem]) -> Markup {
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
                    span.muted { (item.fields.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")) }
                }
            }
        }
    }
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

/// 提与落: one suggestion, each side's handling and feedback, and this body's forms.
async fn suggestion_page(
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

/// A node refusal shown with the form.
fn refused(lang: Lang, form: &mut FormState, e: &NodeError) {
    form.general = Some(crate::i18n::node_error(lang, e));
}

/// The POST of one of the agenda's forms (`action`: suggestion, outcome, sign, handling,
/// feedback, finding). A mistake shows the page again with the form and nothing saved.
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
        "suggestion" => add_suggestion(&state, &viewer, space, &mut form).await,
        "outcome" => add_outcome(&state, &viewer, space, &mut form).await,
        "sign" => sign(&state, &viewer, space, &mut form).await,
        "handling" => add_handling(&state, &viewer, space, &mut form).await,
        "feedback" => add_feedback(&state, &viewer, space, &mut form).await,
        "finding" => add_finding(&state, &viewer, space, &mut form).await,
        "round" => add_round(&state, &viewer, space, &mut form).await,
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
        suggestion_page(
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

/// The latest round's id (the agenda page makes the first one with the agenda).
async fn current_round(state: &Shared, space: SpaceId) -> Result<Option<String>, NodeError> {
    let ModelView::Agenda(view) = state.node.read(space).await? else {
        return Err(NodeError::UnknownAgenda(space.to_string()));
    };
    Ok(view
        .records("round")
        .iter()
        .max_by_key(|r| r.get("number").parse::<u64>().unwrap_or(0))
        .map(|r| r.id.to_string()))
}

async fn ensure_round(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
) -> Result<String, NodeError> {
    match current_round(state, space).await? {
        Some(id) => Ok(id),
        None => {
            save(
                state,
                viewer,
                space,
                "round",
                None,
                vec![("number", "1".into())],
            )
            .await
        }
    }
}

/// Saves and answers where to go, or records the refusal in `form`.
async fn finish(
    result: Result<String, NodeError>,
    lang: Lang,
    form: &mut FormState,
    to: impl FnOnce(&str) -> String,
) -> Option<String> {
    match result {
        Ok(id) => Some(to(&id)),
        Err(e) => {
            refused(lang, form, &e);
            None
        }
    }
}

async fn add_suggestion(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.require(lang, "text");
    if !form.ok() {
        return None;
    }
    let result = async {
        let round = ensure_round(state, viewer, space).await?;
        let loaded_members: Vec<String> = match state.node.read(space).await? {
            ModelView::Agenda(view) => view.members.iter().map(ToString::to_string).collect(),
            ModelView::Ledger(_) => Vec::new(),
        };
        let mut fields = vec![
            ("round", round),
            ("text", form.value("text").to_owned()),
            ("bodies", loaded_members.join(",")),
            ("date", today().to_string()),
        ];
        if !form.value("proposer").is_empty() {
            fields.push(("proposer", form.value("proposer").to_owned()));
        }
        save(state, viewer, space, "suggestion", None, fields).await
    }
    .await;
    finish(result, lang, form, |id| format!("/agendas/{space}#s-{id}")).await
}

async fn add_outcome(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.require(lang, "title");
    form.require(lang, "text");
    if !labels::valid(labels::OUTCOME_KINDS, form.value("kind")) {
        form.error("kind", lang.pick("Choose a kind.", "请选择成果类型。"));
    }
    let mut chosen: Vec<String> = form
        .values
        .all("suggestions")
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    match by_numbers(state, space, form.value("numbers")).await {
        Ok(ids) => chosen.extend(ids),
        Err(()) => form.error(
            "numbers",
            lang.pick(
                "Give suggestion numbers from the list, separated by commas.",
                "请填写列表中的意见建议编号，以逗号分隔。",
            ),
        ),
    }
    if !form.ok() {
        return None;
    }
    let result = async {
        let round = ensure_round(state, viewer, space).await?;
        let mut fields = vec![
            ("round", round),
            ("kind", form.value("kind").to_owned()),
            ("title", form.value("title").to_owned()),
            ("text", form.value("text").to_owned()),
        ];
        if !chosen.is_empty() {
            fields.push(("suggestions", chosen.join(",")));
        }
        save(state, viewer, space, "outcome", None, fields).await
    }
    .await;
    finish(result, lang, form, |id| format!("/agendas/{space}#o-{id}")).await
}

async fn sign(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    let outcome: Result<RecordId, _> = form.value("outcome").parse();
    let Ok(outcome) = outcome else {
        form.general = Some(
            lang.pick("No such outcome.", "没有这项协商成果。")
                .to_owned(),
        );
        return None;
    };
    let id = RecordId::from_bytes(rand::rng().random());
    let result = state
        .node
        .apply(
            space,
            AgendaAction::Sign { outcome, id }.into(),
            viewer.author(),
        )
        .await
        .map(|()| outcome.to_string());
    finish(result, lang, form, |o| format!("/agendas/{space}#o-{o}")).await
}

async fn add_handling(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    for f in ["unit", "assigned", "due"] {
        form.require(lang, f);
    }
    form.date(lang, "assigned");
    form.date(lang, "due");
    if !labels::valid(labels::ROLES, form.value("role")) {
        form.error(
            "role",
            lang.pick("Choose lead or co-handling.", "请选择主办或协办。"),
        );
    }
    if let (Some(a), Some(d)) = (
        Date::parse(form.value("assigned")),
        Date::parse(form.value("due")),
    ) {
        if d < a {
            form.error(
                "due",
                lang.pick(
                    "The deadline is before the assignment.",
                    "办理期限早于交办日期。",
                ),
            );
        }
    }
    if !form.ok() {
        return None;
    }
    let suggestion = form.value("suggestion").to_owned();
    let fields = ["suggestion", "unit", "role", "assigned", "due"]
        .into_iter()
        .map(|f| (f, form.value(f).to_owned()))
        .collect();
    let result = save(state, viewer, space, "handling", None, fields).await;
    finish(result, lang, form, |_| {
        format!("/agendas/{space}/suggestions/{suggestion}")
    })
    .await
}

async fn add_feedback(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    for f in ["handling", "text", "date"] {
        form.require(lang, f);
    }
    form.date(lang, "date");
    if !labels::valid(labels::RESULTS, form.value("result")) {
        form.error("result", lang.pick("Choose a result.", "请选择办理结果。"));
    }
    if form.value("result") == "not-adopted" && form.value("reason").is_empty() {
        form.error(
            "reason",
            lang.pick("Say why it was not adopted.", "未采纳须说明理由。"),
        );
    }
    if !form.ok() {
        return None;
    }
    let suggestion = form.value("suggestion").to_owned();
    let mut fields: Vec<(&str, String)> = ["handling", "result", "text", "date"]
        .into_iter()
        .map(|f| (f, form.value(f).to_owned()))
        .collect();
    if !form.value("reason").is_empty() {
        fields.push(("reason", form.value("reason").to_owned()));
    }
    let result = save(state, viewer, space, "feedback", None, fields).await;
    finish(result, lang, form, |_| {
        format!("/agendas/{space}/suggestions/{suggestion}")
    })
    .await
}

async fn add_finding(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.require(lang, "text");
    form.date(lang, "date");
    if !labels::valid(labels::VISITS, form.value("visit")) {
        form.error(
            "visit",
            lang.pick("Choose a kind of visit.", "请选择监督方式。"),
        );
    }
    if !labels::valid(labels::SEVERITIES, form.value("severity")) {
        form.error(
            "severity",
            lang.pick("Choose a severity.", "请选择严重程度。"),
        );
    }
    let about = match by_numbers(state, space, form.value("suggestion")).await {
        Ok(ids) if ids.len() <= 1 => ids.into_iter().next(),
        _ => {
            form.error(
                "suggestion",
                lang.pick(
                    "Give one suggestion number from the list.",
                    "请填写列表中的一个意见建议编号。",
                ),
            );
            None
        }
    };
    if !form.ok() {
        return None;
    }
    let date = if form.value("date").is_empty() {
        today().to_string()
    } else {
        form.value("date").to_owned()
    };
    let mut fields: Vec<(&str, String)> = vec![
        ("visit", form.value("visit").to_owned()),
        ("severity", form.value("severity").to_owned()),
        ("text", form.value("text").to_owned()),
        ("date", date),
    ];
    if let Some(id) = about {
        fields.push(("suggestion", id));
    }
    let result = save(state, viewer, space, "finding", None, fields).await;
    finish(result, lang, form, |_| format!("/agendas/{space}#findings")).await
}

async fn add_round(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.date(lang, "date");
    if !labels::valid(labels::FORMS, form.value("form")) {
        form.error("form", lang.pick("Choose a form.", "请选择协商形式。"));
    }
    if !form.ok() {
        return None;
    }
    let result = async {
        let ModelView::Agenda(view) = state.node.read(space).await? else {
            return Err(NodeError::UnknownAgenda(space.to_string()));
        };
        let number = view
            .records("round")
            .iter()
            .filter_map(|r| r.get("number").parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let mut fields = vec![
            ("number", number.to_string()),
            ("form", form.value("form").to_owned()),
        ];
        for name in ["host", "from_outcome", "date", "place"] {
            if !form.value(name).is_empty() {
                fields.push((name, form.value(name).to_owned()));
            }
        }
        save(state, viewer, space, "round", None, fields).await
    }
    .await;
    finish(result, lang, form, |_| format!("/agendas/{space}#rounds")).await
}

/// The ids of the suggestions numbered (1-based, as the page lists them) in `numbers`
/// ("1, 2，5"); an empty field is none. A number not in the list is a mistake.
async fn by_numbers(state: &Shared, space: SpaceId, numbers: &str) -> Result<Vec<String>, ()> {
    let numbers: Vec<&str> = numbers
        .split([',', '，', '、', ' '])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let Ok(ModelView::Agenda(view)) = state.node.read(space).await else {
        return Err(());
    };
    let all = view.records("suggestion");
    numbers
        .iter()
        .map(|n| {
            n.parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| all.get(i))
                .map(|r| r.id.to_string())
                .ok_or(())
        })
        .collect()
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
