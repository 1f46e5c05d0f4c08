//! 专家库: the body's expert pool (ledger `expert` records), the form that adds an expert,
//! and sharing one into a joint agenda — as `confer expert share`: the agenda gets an
//! `expert` record in this body's area with the name, field and affiliation and the pool
//! id (`pool_id`), never the contact, which stays in the ledger. [`agenda_section`] lists
//! an agenda's shared experts on the agenda page.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

use super::{check, made_by, save};
use crate::i18n::Lang;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::pages::agenda::{self, Loaded};
use crate::ui::{html, layout, node_failure, see_other, Shared, Viewer};
use crate::views::AgendaSummary;

/// The fields of a pool's expert that travel into an agenda (not the contact, nor the note).
const SHARED_FIELDS: [&str; 3] = ["name", "field", "affiliation"];

async fn page(
    state: &Shared,
    viewer: &Viewer,
    form: Option<&FormState>,
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
    let experts = ledger.records("expert");
    let add = FormState::for_form(form, "expert");
    let share = FormState::for_form(form, "share");
    let expert_options: Vec<(String, String)> = experts
        .iter()
        .map(|e| {
            let what = [e.get("name"), e.get("field"), e.get("affiliation")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            (e.id.clone(), what)
        })
        .collect();
    let agenda_options: Vec<(String, String)> = agendas
        .iter()
        .map(|a| (a.id.clone(), a.title.clone()))
        .collect();
    Ok(layout::page(
        viewer,
        &state.body,
        viewer.t("Expert pool", "专家库"),
        html! {
            div.cols {
                div {
                    @if experts.is_empty() {
                        p.muted { (viewer.t("No expert in the pool yet.", "专家库中尚无专家。")) }
                    } @else {
                        p.muted { (experts.len()) (viewer.t(" experts", " 位专家")) }
                        table {
                            thead { tr {
                                th { (viewer.t("Name", "姓名")) }
                                th { (viewer.t("Field", "专业领域")) }
                                th { (viewer.t("Affiliation", "工作单位")) }
                                th { (viewer.t("Contact (not shared)", "联系方式（不共享）")) }
                            } }
                            tbody { @for e in experts {
                                tr id=(format!("e-{}", e.id)) {
                                    td {
                                        strong { (e.get("name")) }
                                        @if !e.get("note").is_empty() { br; span.muted { (e.get("note")) } }
                                        br; (made_by(lang, e.created_by.as_ref()))
                                    }
                                    td { (e.get("field")) }
                                    td { (e.get("affiliation")) }
                                    td { (e.get("contact")) }
                                }
                            } }
                        }
                    }
                }
                aside {
                    section.card aria-labelledby="new-expert" {
                        h2 id="new-expert" style="margin-top:0" { (viewer.t("Add an expert", "新增专家")) }
                        form method="post" action="/experts" novalidate {
                            (forms::csrf(&viewer.session.csrf))
                            (forms::general(&add))
                            (forms::input(&add, "name", lang.pick("Name", "姓名"), "text", true))
                            (forms::input(&add, "field", lang.pick("Field of expertise", "专业领域"), "text", false))
                            (forms::input(&add, "affiliation", lang.pick("Affiliation", "工作单位"), "text", false))
                            (forms::input(&add, "contact", lang.pick("Contact (kept in this body's ledger)", "联系方式（仅存于本机构台账）"), "text", false))
                            (forms::textarea(&add, "note", lang.pick("Note", "备注"), false))
                            button type="submit" { (viewer.t("Add expert", "添加")) }
                        }
                    }
                    section.card aria-labelledby="share-expert" {
                        h2 id="share-expert" style="margin-top:0" { (viewer.t("Share into a joint agenda", "共享到联动议题")) }
                        @if experts.is_empty() || agendas.is_empty() {
                            p.muted { (viewer.t("Needs an expert in the pool and a joint agenda.", "需先有专家和联动议题。")) }
                        } @else {
                            p.muted { (viewer.t("The partners see the name, field and affiliation, not the contact.", "合作方可见姓名、专业领域和工作单位，不含联系方式。")) }
                            form method="post" action="/experts/share" novalidate {
                                (forms::csrf(&viewer.session.csrf))
                                (forms::general(&share))
                                (forms::select(&share, "expert", lang.pick("Expert", "专家"), &expert_options))
                                (forms::select(&share, "agenda", lang.pick("Joint agenda", "联动议题"), &agenda_options))
                                button type="submit" { (viewer.t("Share", "共享")) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn again(page: Result<Markup, Response>) -> Response {
    match page {
        Ok(m) => (StatusCode::BAD_REQUEST, html(m)).into_response(),
        Err(r) => r,
    }
}

pub(crate) async fn show(State(state): State<Shared>, viewer: Viewer) -> Response {
    match page(&state, &viewer, None).await {
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
    let mut form = FormState::of("expert", fields);
    let names = ["name", "field", "affiliation", "contact", "note"];
    check(&mut form, lang, "expert", &names, true);
    if form.ok() {
        match save(&state, &viewer, "expert", None, form.given(&names)).await {
            Ok(id) => return see_other(&format!("/experts#e-{id}")),
            Err(e) => form.general = Some(crate::i18n::node_error(lang, &e)),
        }
    }
    again(page(&state, &viewer, Some(&form)).await)
}

pub(crate) async fn share(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(refused) = viewer.check_csrf(&fields) {
        return refused;
    }
    let lang = viewer.lang;
    let mut form = FormState::of("share", fields);
    form.require(lang, "expert");
    form.require(lang, "agenda");
    let ledger = match state.node.show_ledger().await {
        Ok(l) => l,
        Err(e) => return node_failure(lang, &e),
    };
    let expert = ledger
        .records("expert")
        .iter()
        .find(|e| e.id == form.value("expert"))
        .cloned();
    if expert.is_none() && !form.value("expert").is_empty() {
        form.error(
            "expert",
            lang.pick("Choose an expert of the pool.", "请选择专家库中的专家。"),
        );
    }
    let mut space = None;
    if !form.value("agenda").is_empty() {
        match agenda::parse_space(lang, form.value("agenda")) {
            Ok(id) => space = Some(id),
            Err(_) => form.error(
                "agenda",
                lang.pick("Choose a joint agenda.", "请选择联动议题。"),
            ),
        }
    }
    let (Some(expert), Some(space), true) = (expert, space, form.ok()) else {
        return again(page(&state, &viewer, Some(&form)).await);
    };
    // Shared once per agenda: a second share of the same expert is a mistake.
    let loaded = match agenda::load(&state, lang, space).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let mine = state.body.id.as_str();
    let shared_already =
        loaded.view.records("expert").iter().any(|r| {
            r.area.is_some_and(|a| a.to_string() == mine) && r.get("pool_id") == expert.id
        });
    if shared_already {
        form.error(
            "agenda",
            lang.pick(
                "This expert is shared into that agenda already.",
                "该专家已共享到这个议题。",
            ),
        );
        return again(page(&state, &viewer, Some(&form)).await);
    }
    let mut fields: Vec<(&str, String)> = SHARED_FIELDS
        .into_iter()
        .filter(|n| !expert.get(n).is_empty())
        .map(|n| (n, expert.get(n).to_owned()))
        .collect();
    fields.push(("pool_id", expert.id.clone()));
    match agenda::save(&state, &viewer, space, "expert", None, fields).await {
        Ok(_) => see_other(&format!("/agendas/{space}#experts")),
        Err(e) => {
            form.general = Some(crate::i18n::node_error(lang, &e));
            again(page(&state, &viewer, Some(&form)).await)
        }
    }
}

/// The agenda page's section: the experts each member body shared into the agenda.
pub(crate) fn agenda_section(lang: Lang, loaded: &Loaded) -> Markup {
    let experts = loaded.view.records("expert");
    html! {
        h2 { (lang.pick("Experts", "专家")) }
        section id="experts" data-live data-space=(loaded.space.to_string()) {
            @if experts.is_empty() {
                p.muted { (lang.pick("No expert shared yet.", "尚未共享专家。")) " " a href="/experts" { (lang.pick("Share one from the expert pool →", "从专家库共享 →")) } }
            } @else {
                ul.plain {
                    @for e in experts {
                        li {
                            strong { (e.get("name")) }
                            @for part in [e.get("field"), e.get("affiliation")] {
                                @if !part.is_empty() { " · " (part) }
                            }
                            @if let Some(body) = e.area { " " span.badge { (loaded.body_name(&body.to_string())) } }
                            br; (agenda::record_byline(lang, e))
                        }
                    }
                }
                p { a href="/experts" { (lang.pick("Expert pool →", "专家库 →")) } }
            }
        }
    }
}
