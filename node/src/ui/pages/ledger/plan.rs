//! 年度计划: the body's annual consultation plan — its `plan_item` records by year and
//! category, each linked to the ledger topics it takes up and the joint agendas it is
//! carried out in — and the form that adds an item.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

use confer_protocol::model::schema::split_list;

use super::{check, made_by, save, title_of, CATEGORIES};
use crate::i18n::Lang;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::pages::labels::{self, label};
use crate::ui::{html, layout, node_failure, see_other, Shared, Viewer};
use crate::views::{AgendaSummary, RecordView};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct YearQuery {
    #[serde(default)]
    year: String,
}

/// The plan's years, latest first.
fn years(items: &[RecordView]) -> Vec<&str> {
    let mut years: Vec<&str> = items.iter().map(|p| p.get("year")).collect();
    years.sort_by_key(|y| std::cmp::Reverse(y.parse::<u32>().unwrap_or(0)));
    years.dedup();
    years
}

fn item_row(
    lang: Lang,
    topics: &[RecordView],
    agendas: &[AgendaSummary],
    p: &RecordView,
) -> Markup {
    html! {
        tr {
            td { (label(lang, CATEGORIES, p.get("category"))) }
            td {
                strong { (p.get("title")) }
                @if !p.get("note").is_empty() { br; span.muted { (p.get("note")) } }
                br; (made_by(lang, p.created_by.as_ref()))
            }
            td { ul.plain { @for t in split_list(p.get("topics")) {
                li { a href=(format!("/ledger/topics/{t}")) { (title_of(topics, t)) } }
            } } }
            td { ul.plain { @for a in split_list(p.get("agendas")) {
                li { a href=(format!("/agendas/{a}")) {
                    (agendas.iter().find(|s| s.id == a).map_or(layout::short(a), |s| s.title.as_str()))
                } }
            } } }
        }
    }
}

async fn page(
    state: &Shared,
    viewer: &Viewer,
    year: &str,
    form: &FormState,
) -> Result<Markup, Response> {
    let lang = viewer.lang;
    let fail = |e| node_failure(lang, &e);
    let ledger = state.node.show_ledger().await.map_err(fail)?;
    let agendas: Vec<AgendaSummary> = state
        .node
        .list_agendas()
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|a| !a.invited)
        .collect();
    let topics = ledger.records("topic");
    let items = ledger.records("plan_item");
    let all_years = years(items);
    // The years shown, each with its items by category.
    let shown: Vec<(&str, Vec<&RecordView>)> = all_years
        .iter()
        .copied()
        .filter(|y| year.is_empty() || *y == year)
        .map(|y| {
            let mut of_year: Vec<&RecordView> =
                items.iter().filter(|p| p.get("year") == y).collect();
            of_year.sort_by_key(|p| {
                CATEGORIES
                    .iter()
                    .position(|(c, _, _)| *c == p.get("category"))
            });
            (y, of_year)
        })
        .collect();
    let chosen_topics = form.values.all("topics");
    let chosen_agendas = form.values.all("agendas");
    let mut form = form.clone();
    if form.value("year").is_empty() && form.values.0.is_empty() {
        let this_year = crate::ui::pages::agenda::today().to_string();
        form.values = Fields(vec![("year".into(), this_year[..4].to_owned())]);
    }
    Ok(layout::page(
        viewer,
        &state.body,
        viewer.t("Annual plan", "年度计划"),
        html! {
            div.cols {
                div {
                    nav.pages aria-label=(viewer.t("Years", "年度")) {
                        @if year.is_empty() { strong { (viewer.t("All years", "全部年度")) } } @else { a href="/plan" { (viewer.t("All years", "全部年度")) } }
                        @for y in &all_years {
                            " "
                            @if *y == year { strong { (y) } } @else { a href=(format!("/plan?year={y}")) { (y) } }
                        }
                    }
                    @if shown.is_empty() {
                        p.muted { (viewer.t("No plan item yet.", "尚无年度计划项。")) }
                    }
                    @for (y, of_year) in &shown {
                        section aria-labelledby=(format!("year-{y}")) {
                            h2 id=(format!("year-{y}")) { (y) (viewer.t(" consultation plan", " 年度协商计划")) }
                            table {
                                thead { tr {
                                    th { (viewer.t("Category", "类别")) }
                                    th { (viewer.t("Item", "计划项")) }
                                    th { (viewer.t("Topics", "台账选题")) }
                                    th { (viewer.t("Joint agendas", "联动议题")) }
                                } }
                                tbody { @for p in of_year { (item_row(lang, topics, &agendas, p)) } }
                            }
                        }
                    }
                }
                section.card aria-labelledby="new-plan" {
                    h2 id="new-plan" style="margin-top:0" { (viewer.t("New plan item", "新增计划项")) }
                    form method="post" action="/plan" novalidate {
                        (forms::csrf(&viewer.session.csrf))
                        (forms::general(&form))
                        (forms::input(&form, "year", lang.pick("Year", "年度"), "text", true))
                        (forms::select(&form, "category", lang.pick("Category", "类别"), &labels::options(lang, CATEGORIES)))
                        (forms::input(&form, "title", lang.pick("Title", "计划项名称"), "text", true))
                        (forms::textarea(&form, "note", lang.pick("Note", "备注"), false))
                        fieldset.field.invalid[form.errors.contains_key("topics")] {
                            legend { (viewer.t("Topics it takes up", "所采用的台账选题")) }
                            @let open: Vec<&RecordView> = topics.iter().filter(|t| t.get("merged_into").is_empty() && t.get("screening") != "rejected").collect();
                            @if open.is_empty() { p.muted { (viewer.t("No open topic in the ledger.", "台账中没有可采用的选题。")) } }
                            @for t in &open {
                                label.check { input type="checkbox" name="topics" value=(t.id) checked[chosen_topics.contains(&t.id.as_str())]; " " (t.get("title")) }
                            }
                            @if let Some(e) = form.errors.get("topics") { p.field-error id="plan-topics-error" role="alert" { (e) } }
                        }
                        fieldset.field.invalid[form.errors.contains_key("agendas")] {
                            legend { (viewer.t("Joint agendas it is carried out in", "所对应的联动议题")) }
                            @if agendas.is_empty() { p.muted { (viewer.t("No joint agenda yet.", "还没有联动议题。")) } }
                            @for a in &agendas {
                                label.check { input type="checkbox" name="agendas" value=(a.id) checked[chosen_agendas.contains(&a.id.as_str())]; " " (a.title) }
                            }
                            @if let Some(e) = form.errors.get("agendas") { p.field-error id="plan-agendas-error" role="alert" { (e) } }
                        }
                        button type="submit" { (viewer.t("Add to the plan", "加入计划")) }
                    }
                }
            }
        },
    ))
}

pub(crate) async fn show(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(q): Query<YearQuery>,
) -> Response {
    match page(
        &state,
        &viewer,
        q.year.trim(),
        &FormState::of("plan", Fields::default()),
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
    let mut form = FormState::of("plan", fields);
    let year = form.value("year");
    let four_digits = year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit());
    if !year.is_empty() && !four_digits {
        form.error(
            "year",
            lang.pick("Enter a year, e.g. 2027.", "请填写四位年份，例如 2027。"),
        );
    }
    form.choice("category", CATEGORIES, lang.pick("Choose one.", "请选择。"));
    let topics: Vec<String> = form
        .values
        .all("topics")
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let agendas: Vec<String> = form
        .values
        .all("agendas")
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let (ledger, held) = match (
        state.node.show_ledger().await,
        state.node.list_agendas().await,
    ) {
        (Ok(l), Ok(a)) => (l, a),
        (Err(e), _) | (_, Err(e)) => return node_failure(lang, &e),
    };
    if !topics
        .iter()
        .all(|t| ledger.records("topic").iter().any(|r| r.id == *t))
    {
        form.error(
            "topics",
            lang.pick("Choose topics of the ledger.", "请选择台账中的选题。"),
        );
    }
    if !agendas
        .iter()
        .all(|a| held.iter().any(|h| h.id == *a && !h.invited))
    {
        form.error(
            "agendas",
            lang.pick(
                "Choose joint agendas this node holds.",
                "请选择本节点已有的联动议题。",
            ),
        );
    }
    let names = ["year", "category", "title", "note"];
    check(&mut form, lang, "plan_item", &names, true);
    if form.ok() {
        let mut values = form.given(&names);
        if !topics.is_empty() {
            values.push(("topics", topics.join(",")));
        }
        if !agendas.is_empty() {
            values.push(("agendas", agendas.join(",")));
        }
        let year = form.value("year").to_owned();
        match save(&state, &viewer, "plan_item", None, values).await {
            Ok(_) => return see_other(&format!("/plan?year={year}")),
            Err(e) => form.general = Some(crate::i18n::node_error(lang, &e)),
        }
    }
    match page(&state, &viewer, "", &form).await {
        Ok(m) => (StatusCode::BAD_REQUEST, html(m)).into_response(),
        Err(r) => r,
    }
}
