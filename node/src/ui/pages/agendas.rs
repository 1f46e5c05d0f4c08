//! 联动议题: the list of joint agendas and the form that makes one (with its first round).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

use confer_protocol::model::{AgendaAction, RecordId};
use confer_protocol::{BodyId, SpaceId};

use crate::handle::NodeError;
use crate::i18n::Lang;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::pages::agenda::save;
use crate::ui::{html, layout, node_failure, see_other, Shared, Viewer};
use crate::views::{AgendaSummary, BodyView};

fn bodies(list: &[BodyView]) -> Markup {
    html! {
        span.bodies {
            @for b in list { span.badge { (b.name.as_deref().unwrap_or(layout::short(&b.id))) } }
        }
    }
}

async fn page(state: &Shared, viewer: &Viewer, form: &FormState) -> Result<Markup, Response> {
    let lang = viewer.lang;
    let agendas: Vec<AgendaSummary> = state
        .node
        .list_agendas()
        .await
        .map_err(|e| node_failure(lang, &e))?;
    let status = state
        .node
        .status()
        .await
        .map_err(|e| node_failure(lang, &e))?;
    Ok(layout::page(
        viewer,
        &state.body,
        viewer.t("Joint agendas", "联动议题"),
        html! {
            div.cols {
                section id="agenda-list" data-live data-space="*" aria-label=(viewer.t("Agendas", "议题列表")) {
                    @if agendas.is_empty() {
                        p.muted { (viewer.t("No joint agenda yet. Start one with a partner committee.", "还没有联动议题。可与合作方政协发起一个。")) }
                    } @else {
                        table {
                            thead { tr {
                                th { (viewer.t("Title", "议题")) }
                                th { (viewer.t("Member bodies", "参与机构")) }
                                th { (viewer.t("Changes", "修改数")) }
                            } }
                            tbody {
                                @for a in &agendas {
                                    tr {
                                        td {
                                            @if a.invited {
                                                (a.title) span.badge.warn { (viewer.t("invitation", "待接受邀请")) }
                                            } @else {
                                                a href=(format!("/agendas/{}", a.id)) { (a.title) }
                                            }
                                        }
                                        td { (bodies(&a.members)) }
                                        td { (a.entries) }
                                    }
                                }
                            }
                        }
                    }
                }
                section.card aria-labelledby="new-agenda" {
                    h2 id="new-agenda" style="margin-top:0" { (viewer.t("New joint agenda", "发起联动议题")) }
                    form method="post" action="/agendas" novalidate {
                        (forms::csrf(&viewer.session.csrf))
                        (forms::general(form))
                        (forms::input(form, "title", lang.pick("Title", "议题名称"), "text", true))
                        (forms::textarea(form, "summary", lang.pick("Summary", "议题简介"), false))
                        (partners_field(viewer, form, &status.trusted))
                        button type="submit" { (viewer.t("Create agenda", "创建议题")) }
                    }
                }
            }
        },
    ))
}

pub(crate) async fn list(State(state): State<Shared>, viewer: Viewer) -> Response {
    match page(&state, &viewer, &FormState::of("new", Fields::default())).await {
        Ok(markup) => html(markup),
        Err(response) => response,
    }
}

pub(crate) async fn create(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(refused) = viewer.check_csrf(&fields) {
        return refused;
    }
    let lang = viewer.lang;
    let mut form = FormState::of("new", fields.clone());
    form.require(lang, "title");
    if fields.get("title").contains('\n') {
        form.error(
            "title",
            lang.pick("The title is one line.", "议题名称只能是一行。"),
        );
    }
    let with = chosen_partners(lang, &mut form);
    if form.ok() {
        let summary = Some(fields.get("summary")).filter(|s| !s.is_empty());
        match make_agenda(&state, &viewer, fields.get("title"), summary, with, None).await {
            Ok(id) => return see_other(&format!("/agendas/{id}")),
            Err(Made::NotCreated(e)) => form.general = Some(crate::i18n::node_error(lang, &e)),
            Err(Made::Incomplete(_, e)) => return node_failure(lang, &e),
        }
    }
    match page(&state, &viewer, &form).await {
        Ok(markup) => (StatusCode::BAD_REQUEST, html(markup)).into_response(),
        Err(response) => response,
    }
}

/// The checkboxes of the trusted partner committees (`with`), with the form's mistake.
pub(crate) fn partners_field(viewer: &Viewer, form: &FormState, trusted: &[BodyView]) -> Markup {
    let chosen = form.values.all("with");
    html! {
        fieldset.field.invalid[form.errors.contains_key("with")] {
            legend { (viewer.t("Partner committees", "合作方政协")) span.req aria-hidden="true" { " *" } }
            @if trusted.is_empty() {
                p.muted { (viewer.t("No partner is trusted yet (confer peer add).", "尚未信任任何合作方（confer peer add）。")) }
            }
            @for b in trusted {
                label.check {
                    input type="checkbox" name="with" value=(b.id) checked[chosen.contains(&b.id.as_str())];
                    " " (b.name.as_deref().unwrap_or(layout::short(&b.id)))
                }
            }
            @if let Some(e) = form.errors.get("with") { p.field-error id=(format!("{}-with-error", form.form)) role="alert" { (e) } }
        }
    }
}

/// The partner committees the form chose; none, or one that is not a body id, is a mistake
/// next to the field.
pub(crate) fn chosen_partners(lang: Lang, form: &mut FormState) -> Vec<BodyId> {
    let mut with = Vec::new();
    let mut bad = false;
    for id in form.values.all("with") {
        match id.parse::<BodyId>() {
            Ok(body) => with.push(body),
            Err(_) => bad = true,
        }
    }
    if bad {
        form.error("with", lang.pick("Not a body id.", "不是有效的机构编号。"));
    }
    if with.is_empty() {
        form.error(
            "with",
            lang.pick(
                "Choose at least one partner committee.",
                "请至少选择一个合作方政协。",
            ),
        );
    }
    with
}

/// Why [`make_agenda`] did not finish.
pub(crate) enum Made {
    /// Nothing was made.
    NotCreated(NodeError),
    /// The agenda exists, but its topic or first round could not be written.
    Incomplete(SpaceId, NodeError),
}

/// Makes a joint agenda as the viewer, as the API's `POST /v1/agendas` does (recording the
/// ledger topic it comes from, if any), with its first round so suggestions have a round
/// to belong to.
pub(crate) async fn make_agenda(
    state: &Shared,
    viewer: &Viewer,
    title: &str,
    summary: Option<&str>,
    with: Vec<BodyId>,
    topic: Option<RecordId>,
) -> Result<SpaceId, Made> {
    let id = state
        .node
        .create_agenda_as(title, summary, with, viewer.author())
        .await
        .map_err(Made::NotCreated)?;
    if let Some(topic) = topic {
        state
            .node
            .apply(id, AgendaAction::LinkTopic(topic).into(), viewer.author())
            .await
            .map_err(|e| Made::Incomplete(id, e))?;
    }
    save(
        state,
        viewer,
        id,
        "round",
        None,
        vec![("number", "1".into())],
    )
    .await
    .map_err(|e| Made::Incomplete(id, e))?;
    Ok(id)
}
