//! One topic of the 台账: where it came from, its screening, what was merged into it (each
//! keeping its own origin), and its forms — record the screening (accepted, or screened out
//! with a reason: 涉法涉诉, 纳入信访, 不具有代表性, other in words), merge it into another
//! topic (`merged_into`), and make it a joint agenda with partner committees (as `agenda new
//! --from-topic`: the agenda records the topic, the topic records the agenda).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

use confer_protocol::model::{ledger, RecordId};

use super::{
    check, made_by, save, title_of, topic_state, CATEGORIES, SCREENINGS, SOURCES, URGENCIES,
};
use crate::handle::NodeError;
use crate::i18n::Lang;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::pages::agendas::{chosen_partners, make_agenda, partners_field, Made};
use crate::ui::pages::labels::{self, label};
use crate::ui::{html, layout, node_failure, see_other, Shared, Viewer};
use crate::views::{LedgerView, RecordView};

fn not_found(lang: Lang) -> Response {
    layout::message(
        lang,
        StatusCode::NOT_FOUND,
        lang.pick("No such topic", "没有这个选题"),
        lang.pick(
            "This body's ledger has no topic with that id.",
            "本机构台账中没有该编号的选题。",
        ),
    )
}

/// The topic's origin: source, who or which station, the day it came in.
fn origin(lang: Lang, t: &RecordView) -> Markup {
    html! {
        (label(lang, SOURCES, t.get("source")))
        @if !t.get("source_detail").is_empty() { " · " (t.get("source_detail")) }
        @if !t.get("date").is_empty() { " · " (t.get("date")) }
    }
}

fn facts(
    viewer: &Viewer,
    ledger: &LedgerView,
    t: &RecordView,
    agenda_title: Option<&str>,
) -> Markup {
    let lang = viewer.lang;
    let topics = ledger.records("topic");
    let merged_in: Vec<&RecordView> = topics
        .iter()
        .filter(|m| m.get("merged_into") == t.id)
        .collect();
    html! {
        section.card id="topic" {
            @if !t.get("summary").is_empty() { p.suggestion-text { (t.get("summary")) } }
            dl.facts {
                dt { (viewer.t("Origin", "来源")) } dd { (origin(lang, t)) }
                dt { (viewer.t("Category", "类别")) } dd { (label(lang, CATEGORIES, t.get("category"))) }
                dt { (viewer.t("Urgency", "紧急程度")) } dd { (label(lang, URGENCIES, t.get("urgency"))) }
                dt { (viewer.t("State", "状态")) } dd { (topic_state(lang, topics, t)) }
                @if t.get("screening") == "rejected" {
                    dt { (viewer.t("Screened out because", "不予采用理由")) }
                    dd {
                        (label(lang, labels::SCREENING_REASONS, t.get("screening_reason")))
                        @if !t.get("screening_text").is_empty() { (viewer.t(": ", "：")) (t.get("screening_text")) }
                    }
                }
                @if !t.get("screened_on").is_empty() {
                    dt { (viewer.t("Screened on", "筛选日期")) } dd { (t.get("screened_on")) }
                }
                @if !t.get("merged_into").is_empty() {
                    @let into = t.get("merged_into");
                    dt { (viewer.t("Merged into", "已并入")) }
                    dd {
                        a href=(format!("/ledger/topics/{into}")) { (title_of(topics, into)) }
                        @if let Some(other) = topics.iter().find(|o| o.id == into) {
                            span.muted { " (" (viewer.t("its origin: ", "其来源：")) (origin(lang, other)) ")" }
                        }
                    }
                }
                @if !t.get("agenda").is_empty() {
                    dt { (viewer.t("Joint agenda", "联动议题")) }
                    dd { a href=(format!("/agendas/{}", t.get("agenda"))) { (agenda_title.unwrap_or(layout::short(t.get("agenda")))) } }
                }
            }
            p { (made_by(lang, t.created_by.as_ref())) }
        }
        section aria-labelledby="merged-in" {
            h2 id="merged-in" { (viewer.t("Topics merged into this one", "并入本选题的选题")) }
            @if merged_in.is_empty() {
                p.muted { (viewer.t("None.", "无。")) }
            } @else {
                table {
                    thead { tr { th { (viewer.t("Topic", "选题")) } th { (viewer.t("Its own origin", "其原始来源")) } } }
                    tbody { @for m in &merged_in {
                        tr {
                            td { a href=(format!("/ledger/topics/{}", m.id)) { (m.get("title")) } }
                            td { (origin(lang, m)) }
                        }
                    } }
                }
            }
        }
    }
}

async fn page(
    state: &Shared,
    viewer: &Viewer,
    id: &str,
    form: Option<&FormState>,
) -> Result<Markup, Response> {
    let lang = viewer.lang;
    let fail = |e: NodeError| node_failure(lang, &e);
    let ledger = state.node.show_ledger().await.map_err(fail)?;
    let topics = ledger.records("topic");
    let Some(t) = topics.iter().find(|t| t.id == id) else {
        return Err(not_found(lang));
    };
    let agendas = state.node.list_agendas().await.map_err(fail)?;
    let agenda_title = agendas
        .iter()
        .find(|a| a.id == t.get("agenda"))
        .map(|a| a.title.as_str());
    let trusted = if t.get("agenda").is_empty() {
        state.node.status().await.map_err(fail)?.trusted
    } else {
        Vec::new()
    };
    let mut screen = FormState::for_form(form, "screen");
    if screen.values.0.is_empty() {
        screen.values = Fields(
            ["screening", "screening_reason", "screening_text"]
                .into_iter()
                .map(|n| (n.to_owned(), t.get(n).to_owned()))
                .collect(),
        );
    }
    let merge = FormState::for_form(form, "merge");
    let mut agenda = FormState::for_form(form, "agenda");
    if agenda.values.0.is_empty() {
        agenda.values = Fields(vec![
            ("title".into(), t.get("title").to_owned()),
            ("summary".into(), t.get("summary").to_owned()),
        ]);
    }
    let no_reason = std::iter::once((String::new(), lang.pick("— none —", "— 无 —").to_owned()));
    let reasons: Vec<(String, String)> = no_reason
        .chain(labels::options(lang, labels::SCREENING_REASONS))
        .collect();
    let others: Vec<(String, String)> = topics
        .iter()
        .filter(|o| o.id != t.id && o.get("merged_into").is_empty())
        .map(|o| (o.id.clone(), o.get("title").to_owned()))
        .collect();
    let base = format!("/ledger/topics/{}", t.id);
    Ok(layout::page(
        viewer,
        &state.body,
        t.get("title"),
        html! {
            p { a href="/ledger" { "← " (viewer.t("Topic ledger", "台账")) } }
            div.cols {
                div { (facts(viewer, &ledger, t, agenda_title)) }
                aside {
                    section.card aria-labelledby="screen-h" {
                        h2 id="screen-h" style="margin-top:0" { (viewer.t("Screening", "筛选")) }
                        form method="post" action=(format!("{base}/screen")) novalidate {
                            (forms::csrf(&viewer.session.csrf))
                            (forms::general(&screen))
                            (forms::select(&screen, "screening", lang.pick("Verdict", "筛选结论"), &labels::options(lang, SCREENINGS)))
                            (forms::select(&screen, "screening_reason", lang.pick("Reason (if screened out)", "不予采用的理由"), &reasons))
                            (forms::textarea(&screen, "screening_text", lang.pick("The reason in words (required for “other”)", "理由说明（选“其他”时必填）"), false))
                            button type="submit" { (viewer.t("Record screening", "记录筛选结果")) }
                        }
                    }
                    section.card aria-labelledby="merge-h" {
                        h2 id="merge-h" style="margin-top:0" { (viewer.t("Merge into a similar topic", "并入相近选题")) }
                        @if others.is_empty() {
                            p.muted { (viewer.t("No other topic to merge into.", "没有可并入的其他选题。")) }
                        } @else {
                            p.muted { (viewer.t("Both topics keep their own origin.", "合并后双方各自的来源均保留。")) }
                            form method="post" action=(format!("{base}/merge")) novalidate {
                                (forms::csrf(&viewer.session.csrf))
                                (forms::general(&merge))
                                (forms::select(&merge, "merged_into", lang.pick("Merge into", "并入"), &others))
                                button type="submit" { (viewer.t("Merge", "合并")) }
                            }
                        }
                    }
                    @if t.get("agenda").is_empty() {
                        section.card aria-labelledby="agenda-h" {
                            h2 id="agenda-h" style="margin-top:0" { (viewer.t("Make it a joint agenda", "立为联动议题")) }
                            form method="post" action=(format!("{base}/agenda")) novalidate {
                                (forms::csrf(&viewer.session.csrf))
                                (forms::general(&agenda))
                                (forms::input(&agenda, "title", lang.pick("Title", "议题名称"), "text", true))
                                (forms::textarea(&agenda, "summary", lang.pick("Summary", "议题简介"), false))
                                (partners_field(viewer, &agenda, &trusted))
                                button type="submit" { (viewer.t("Create agenda", "创建议题")) }
                            }
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
) -> Response {
    match page(&state, &viewer, &id, None).await {
        Ok(m) => html(m),
        Err(r) => r,
    }
}

/// The POST of one of the topic's forms (`action`: screen, merge, agenda). A mistake shows
/// the page again with the form and nothing saved.
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
    let ledger = match state.node.show_ledger().await {
        Ok(l) => l,
        Err(e) => return node_failure(lang, &e),
    };
    let Some(topic) = ledger.records("topic").iter().find(|t| t.id == id) else {
        return not_found(lang);
    };
    let mut form = FormState::of(&action, fields);
    let done = match action.as_str() {
        "screen" => screen(&state, &viewer, topic, &mut form).await,
        "merge" => merge(&state, &viewer, topic, &mut form).await,
        "agenda" => agenda(&state, &viewer, topic, &mut form).await,
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
    match page(&state, &viewer, &id, Some(&form)).await {
        Ok(m) => (StatusCode::BAD_REQUEST, html(m)).into_response(),
        Err(r) => r,
    }
}

/// Records the outcome of `result` in `form`: where to go, or the node's refusal.
fn finish(result: Result<String, NodeError>, lang: Lang, form: &mut FormState) -> Option<String> {
    match result {
        Ok(to) => Some(to),
        Err(e) => {
            form.general = Some(crate::i18n::node_error(lang, &e));
            None
        }
    }
}

async fn screen(
    state: &Shared,
    viewer: &Viewer,
    topic: &RecordView,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.choice(
        "screening",
        SCREENINGS,
        lang.pick("Choose a verdict.", "请选择筛选结论。"),
    );
    let rejected = form.value("screening") == "rejected";
    let reason = form.value("screening_reason");
    if rejected && !reason.is_empty() && !labels::valid(labels::SCREENING_REASONS, reason) {
        form.error(
            "screening_reason",
            lang.pick("Choose a reason.", "请选择理由。"),
        );
    }
    let lacks = ledger::screening_lacks(
        form.value("screening"),
        form.value("screening_reason"),
        form.value("screening_text"),
    );
    match lacks {
        Some("screening_reason") => form.error(
            "screening_reason",
            lang.pick(
                "A topic screened out needs a reason.",
                "不予采用须选择理由。",
            ),
        ),
        Some(field) => form.error(
            field,
            lang.pick(
                "Say in words why it is screened out.",
                "请写明不予采用的理由。",
            ),
        ),
        None => {}
    }
    let names: &[&str] = if rejected {
        &["screening", "screening_reason", "screening_text"]
    } else {
        &["screening"]
    };
    check(form, lang, "topic", names, false);
    if !form.ok() {
        return None;
    }
    let mut fields = form.given(names);
    fields.push(("screened_on", crate::ui::pages::agenda::today().to_string()));
    let result = save(state, viewer, "topic", Some(topic.id.clone()), fields).await;
    finish(result.map(|id| format!("/ledger/topics/{id}")), lang, form)
}

async fn merge(
    state: &Shared,
    viewer: &Viewer,
    topic: &RecordView,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.require(lang, "merged_into");
    check(form, lang, "topic", &["merged_into"], false);
    if !form.ok() {
        return None;
    }
    let fields = vec![("merged_into", form.value("merged_into").to_owned())];
    let result = save(state, viewer, "topic", Some(topic.id.clone()), fields).await;
    finish(result.map(|id| format!("/ledger/topics/{id}")), lang, form)
}

async fn agenda(
    state: &Shared,
    viewer: &Viewer,
    topic: &RecordView,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    if !topic.get("agenda").is_empty() {
        form.general = Some(
            lang.pick(
                "This topic is a joint agenda already.",
                "该选题已立为联动议题。",
            )
            .to_owned(),
        );
        return None;
    }
    form.require(lang, "title");
    if form.value("title").contains('\n') {
        form.error(
            "title",
            lang.pick("The title is one line.", "议题名称只能是一行。"),
        );
    }
    let with = chosen_partners(lang, form);
    let Ok(topic_id) = topic.id.parse::<RecordId>() else {
        form.general = Some(lang.pick("No such topic.", "没有这个选题。").to_owned());
        return None;
    };
    if !form.ok() {
        return None;
    }
    let summary = Some(form.value("summary")).filter(|s| !s.is_empty());
    let made = make_agenda(
        state,
        viewer,
        form.value("title"),
        summary,
        with,
        Some(topic_id),
    )
    .await;
    let (space, incomplete) = match made {
        Ok(space) => (space, None),
        Err(Made::NotCreated(e)) => {
            form.general = Some(crate::i18n::node_error(lang, &e));
            return None;
        }
        Err(Made::Incomplete(space, e)) => (space, Some(e)),
    };
    // The topic records its agenda even when the agenda's own writes stopped half-way, so
    // a second try does not make a second agenda.
    let fields = vec![("agenda", space.to_string())];
    let result = save(state, viewer, "topic", Some(topic.id.clone()), fields).await;
    let result = match incomplete {
        Some(e) => Err(e),
        None => result.map(|_| format!("/agendas/{space}")),
    };
    finish(result, lang, form)
}
