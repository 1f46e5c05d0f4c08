//! 台账 and the body's other own records, each page written to the body's ledger space (made
//! on the first write) through the API's own [`write_ledger`]: this module holds the topic
//! list filtered by source, category, urgency and screening, and the form that adds a topic;
//! [`topic`] one topic's page (screening, merging, a joint agenda from it); [`plan`] the
//! annual plan (年度计划); [`experts`] the expert pool (专家库) and its sharing into agendas.
//! Forms are checked first against the model's own rules ([`ledger::required`], the
//! schema's value checks) so mistakes sit next to their fields; the model checks again.

pub(crate) mod experts;
pub(crate) mod plan;
pub(crate) mod topic;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

use confer_protocol::model::schema::check_value;
use confer_protocol::model::{ledger, LEDGER_SCHEMA};

use super::labels::{self, label};
use crate::api::ledger::write_ledger;
use crate::api::WriteRecord;
use crate::handle::NodeError;
use crate::i18n::Lang;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::{html, layout, node_failure, see_other, Shared, Viewer};
use crate::views::{RecordView, ValueView};

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
    ("rejected", "Screened out", "不予采用"),
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
    let ledger_topics = ledger.records("topic");
    let topics: Vec<_> = ledger_topics
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
                                    a href=(format!("/ledger/topics/{}", t.id)) { strong { (t.get("title")) } }
                                    @if t.get("urgency") == "emergency" { span.badge.bad { (label(lang, URGENCIES, "emergency")) } }
                                    @if !t.get("summary").is_empty() { br; span.muted { (t.get("summary")) } }
                                }
                                td { (label(lang, SOURCES, t.get("source"))) }
                                td { (label(lang, CATEGORIES, t.get("category"))) }
                                td { (topic_state(lang, ledger_topics, t)) }
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
    let mut form = FormState::of("topic", fields);
    for (name, choices) in [
        ("source", SOURCES),
        ("urgency", URGENCIES),
        ("category", CATEGORIES),
    ] {
        form.choice(name, choices, lang.pick("Choose one.", "请选择。"));
    }
    let names = ["title", "summary", "source", "urgency", "category"];
    check(&mut form, lang, "topic", &names, true);
    if form.ok() {
        let mut values = form.given(&names);
        values.push(("date", super::agenda::today().to_string()));
        match save(&state, &viewer, "topic", None, values).await {
            Ok(_) => return see_other("/ledger"),
            Err(e) => form.general = Some(crate::i18n::node_error(lang, &e)),
        }
    }
    match page(&state, &viewer, &Filter::default(), &form).await {
        Ok(m) => (StatusCode::BAD_REQUEST, html(m)).into_response(),
        Err(r) => r,
    }
}

/// A topic's state for the list and its page: merged into another, screened, or waiting.
pub(crate) fn topic_state(lang: Lang, topics: &[RecordView], t: &RecordView) -> Markup {
    let merged = t.get("merged_into");
    html! {
        @if !merged.is_empty() {
            span.badge { (lang.pick("merged into ", "已并入：")) }
            " "
            a href=(format!("/ledger/topics/{merged}")) { (title_of(topics, merged)) }
        } @else if t.get("screening") == "rejected" {
            span.badge.bad { (label(lang, SCREENINGS, "rejected")) }
            " " (label(lang, labels::SCREENING_REASONS, t.get("screening_reason")))
        } @else if t.get("screening").is_empty() {
            span.badge { (lang.pick("not screened", "待筛选")) }
        } @else {
            span.badge.ok { (label(lang, SCREENINGS, t.get("screening"))) }
        }
        @if !t.get("agenda").is_empty() {
            " " a.badge.sign href=(format!("/agendas/{}", t.get("agenda"))) { (lang.pick("joint agenda", "已立联动议题")) }
        }
    }
}

/// The title of topic `id` (its short id if it is not in the ledger).
pub(crate) fn title_of<'a>(topics: &'a [RecordView], id: &'a str) -> &'a str {
    topics
        .iter()
        .find(|t| t.id == id)
        .map_or(layout::short(id), |t| t.get("title"))
}

/// "written by BODY · PERSON ✓" for a ledger record's maker.
pub(crate) fn made_by(lang: Lang, made: Option<&ValueView>) -> Markup {
    match made {
        Some(v) => layout::byline(
            lang,
            v.body.as_ref().and_then(|b| b.name.as_deref()),
            v.member_name.as_deref(),
            &v.author,
        ),
        None => html! {},
    }
}

/// Checks the form's `names` as the model will check a `collection` record: the model's
/// required fields (for a new record), then each value given against the ledger's schema.
/// Each mistake goes next to its field, in the person's language.
pub(crate) fn check(form: &mut FormState, lang: Lang, collection: &str, names: &[&str], new: bool) {
    if new {
        for name in ledger::required(collection) {
            form.require(lang, name);
        }
    }
    let Some(schema) = LEDGER_SCHEMA.collection(collection) else {
        return;
    };
    for name in names {
        let value = form.value(name).to_owned();
        let Some(field) = schema.field(name) else {
            continue;
        };
        if value.is_empty() || form.errors.contains_key(*name) {
            continue;
        }
        if let Err(e) = check_value(field, &value) {
            let said = match lang {
                Lang::En => e.to_string(),
                Lang::Zh => e.zh(|n| crate::cli::field_label(Lang::Zh, n)),
            };
            form.error(name, said);
        }
    }
}

/// Writes a record of this body's ledger as the viewer's member (a new one if `id` is
/// `None`) and answers its id.
pub(crate) async fn save(
    state: &Shared,
    viewer: &Viewer,
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
    let (_, id) = write_ledger(&state.node, &body, viewer.author()).await?;
    Ok(id.to_string())
}
