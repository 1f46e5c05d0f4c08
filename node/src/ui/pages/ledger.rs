//! 台账: this body's candidate topics, filtered by source, category, urgency and screening,
//! and the form that adds one — written to the body's own ledger space (made on the first
//! write) with the API's `record_write` and `LedgerAction::Write`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

use confer_protocol::model::{LedgerAction, LEDGER_SCHEMA};
use confer_protocol::SpaceKind;

use super::labels::{self, label};
use crate::api::workflow::record_write;
use crate::api::WriteRecord;
use crate::handle::NodeError;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::{html, layout, node_failure, see_other, Shared, Viewer};

pub(crate) const SOURCES: &[(&str, &str, &str)] = &[
    ("member", "Member", "委员"),
    ("liaison-station", "Liaison station", "委员联络站"),
    ("grassroots-visit", "Grassroots visit", "基层走访"),
    ("online", "Online solicitation", "网络征集"),
    (
        "party-government",
        "Set by party and government",
        "党政出题",
    ),
    ("member-recommended", "Recommended by members", "委员荐题"),
];
pub(crate) const URGENCIES: &[(&str, &str, &str)] = &[
    ("routine", "Routine", "常规"),
    ("emergency", "Emergency (fast track)", "紧急（快速通道）"),
];
pub(crate) const CATEGORIES: &[(&str, &str, &str)] = &[
    ("livelihood", "Livelihood", "民生"),
    ("planning", "Planning", "规划"),
    ("major-decision", "Major decision", "重大决策"),
    ("legislation", "Legislation", "立法"),
];
pub(crate) const SCREENINGS: &[(&str, &str, &str)] = &[
    ("accepted", "Accepted", "已采用"),
    ("rejected", "Screened out", "已筛除"),
];

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    source: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    screening: String,
}

fn filter_select(
    lang: crate::i18n::Lang,
    name: &str,
    text: &str,
    choices: &[(&str, &str, &str)],
    current: &str,
) -> Markup {
    html! {
        div.field style="display:inline-block; min-width: 180px; margin-right: 10px" {
            label for=(format!("filter-{name}")) { (text) }
            select id=(format!("filter-{name}")) name=(name) {
                option value="" { (lang.pick("All", "全部")) }
                @for (v, en, zh) in choices {
                    option value=(v) selected[current == *v] { (lang.pick(en, zh)) }
                }
            }
        }
    }
}

async fn page(
    state: &Shared,
    viewer: &Viewer,
    filter: &Filter,
    form: &FormState,
) -> Result<Markup, Response> {
    let lang = viewer.lang;
    let ledger = state
        .node
        .show_ledger()
        .await
        .map_err(|e| node_failure(lang, &e))?;
    let topics: Vec<_> = ledger
        .records("topic")
        .iter()
        .filter(|t| filter.source.is_empty() || t.get("source") == filter.source)
        .filter(|t| filter.category.is_empty() || t.get("category") == filter.category)
        .filter(|t| filter.urgency.is_empty() || t.get("urgency") == filter.urgency)
        .filter(|t| match filter.screening.as_str() {
            "" => true,
            "pending" => t.get("screening").is_empty(),
            other => t.get("screening") == other,
        })
        .collect();
    let mut screening_filter: Vec<(&str, &str, &str)> = SCREENINGS.to_vec();
    screening_filter.push(("pending", "Not screened yet", "待筛选"));
    Ok(layout::page(
        viewer,
        &state.body,
        viewer.t("Topic ledger", "台账"),
        html! {
            div.cols {
                div {
                    form method="get" action="/ledger" {
                        (filter_select(lang, "source", lang.pick("Source", "来源"), SOURCES, &filter.source))
                        (filter_select(lang, "category", lang.pick("Category", "类别"), CATEGORIES, &filter.category))
                        (filter_select(lang, "urgency", lang.pick("Urgency", "紧急程度"), URGENCIES, &filter.urgency))
                        (filter_select(lang, "screening", lang.pick("Screening", "筛选"), &screening_filter, &filter.screening))
                        button type="submit" { (viewer.t("Filter", "筛选")) }
                    }
                    p.muted { (topics.len()) (viewer.t(" topics", " 个选题")) }
                    table {
                        thead { tr { th { (viewer.t("Topic", "选题")) } th { (viewer.t("Source", "来源")) } th { (viewer.t("Category", "类别")) } th { (viewer.t("Screening", "筛选")) } } }
                        tbody { @for t in &topics {
                            tr {
                                td {
                                    strong { (t.get("title")) }
                                    @if t.get("urgency") == "emergency" { span.badge.bad { (label(lang, URGENCIES, "emergency")) } }
                                    @if !t.get("summary").is_empty() { br; span.muted { (t.get("summary")) } }
                                }
                                td { (label(lang, SOURCES, t.get("source"))) }
                                td { (label(lang, CATEGORIES, t.get("category"))) }
                                td { @if t.get("screening").is_empty() { span.badge { (viewer.t("not screened", "待筛选")) } } @else { (label(lang, SCREENINGS, t.get("screening"))) } }
                            }
                        } }
                    }
                }
                section.card {
                    h2 style="margin-top:0" { (viewer.t("New candidate topic", "新增候选选题")) }
                    form method="post" action="/ledger" novalidate {
                        (forms::csrf(&viewer.session.csrf))
                        (forms::general(form))
                        (forms::input(form, "title", lang.pick("Title", "选题名称"), "text", true))
                        (forms::textarea(form, "summary", lang.pick("Summary", "简介"), false))
                        (forms::select(form, "source", lang.pick("Source", "来源"), &labels::options(lang, SOURCES)))
                        (forms::select(form, "urgency", lang.pick("Urgency", "紧急程度"), &labels::options(lang, URGENCIES)))
                        (forms::select(form, "category", lang.pick("Category", "类别"), &labels::options(lang, CATEGORIES)))
                        button type="submit" { (viewer.t("Add topic", "添加")) }
                    }
                }
            }
        },
    ))
}

pub(crate) async fn show(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(filter): Query<Filter>,
) -> Response {
    match page(
        &state,
        &viewer,
        &filter,
        &FormState::of("topic", Fields::default()),
    )
    .await
    {
        Ok(m) => html(m),
        Err(r) => r,
    }
}

pub(crate) async fn add(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(refused) = viewer.check_csrf(&fields) {
        return refused;
    }
    let lang = viewer.lang;
    let mut form = FormState::of("topic", fields.clone());
    form.require(lang, "title");
    for (name, choices) in [
        ("source", SOURCES),
        ("urgency", URGENCIES),
        ("category", CATEGORIES),
    ] {
        if !labels::valid(choices, form.value(name)) {
            form.error(name, lang.pick("Choose one.", "请选择。"));
        }
    }
    if form.ok() {
        let mut values = std::collections::BTreeMap::new();
        for name in ["title", "summary", "source", "urgency", "category"] {
            if !form.value(name).is_empty() {
                values.insert(name.to_owned(), form.value(name).to_owned());
            }
        }
        let body = WriteRecord {
            collection: "topic".into(),
            id: None,
            fields: values,
            as_member: None,
        };
        let result = async {
            let write = record_write(&LEDGER_SCHEMA, &body)?;
            LedgerAction::Write(write.clone())
                .validate()
                .map_err(|e| NodeError::BadInput(e.to_string()))?;
            let space = state
                .node
                .own_space(SpaceKind::Ledger, true)
                .await?
                .ok_or_else(|| NodeError::Storage("the ledger could not be made".into()))?;
            state
                .node
                .apply(space, LedgerAction::Write(write).into(), viewer.author())
                .await
        }
        .await;
        match result {
            Ok(()) => return see_other("/ledger"),
            Err(e) => form.general = Some(crate::i18n::node_error(lang, &e)),
        }
    }
    match page(&state, &viewer, &Filter::default(), &form).await {
        Ok(m) => (StatusCode::BAD_REQUEST, html(m)).into_response(),
        Err(r) => r,
    }
}
