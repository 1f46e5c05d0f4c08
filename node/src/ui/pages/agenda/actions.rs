//! What the agenda's forms do: each checks its fields (a mistake is put next to the field,
//! in the person's language, and nothing is saved), then writes one record, or signs, as
//! the person's member, and answers where to go next.

use confer_protocol::model::date::Date;
use confer_protocol::model::{AgendaAction, ModelView, RecordId};
use confer_protocol::SpaceId;
use rand::RngExt;

use super::super::labels;
use super::{save, today};
use crate::handle::NodeError;
use crate::i18n::Lang;
use crate::ui::forms::FormState;
use crate::ui::{Shared, Viewer};

/// A node refusal shown with the form.
fn refused(lang: Lang, form: &mut FormState, e: &NodeError) {
    form.general = Some(crate::i18n::node_error(lang, e));
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

pub(super) async fn ensure_round(
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
pub(super) async fn finish(
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

pub(super) async fn add_suggestion(
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
        fields.extend(form.given(&["proposer"]));
        save(state, viewer, space, "suggestion", None, fields).await
    }
    .await;
    finish(result, lang, form, |id| format!("/agendas/{space}#s-{id}")).await
}

pub(super) async fn add_outcome(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.require(lang, "title");
    form.require(lang, "text");
    form.choice(
        "kind",
        labels::OUTCOME_KINDS,
        lang.pick("Choose a kind.", "请选择成果类型。"),
    );
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

pub(super) async fn sign(
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

pub(super) async fn add_handling(
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
    form.choice(
        "role",
        labels::ROLES,
        lang.pick("Choose lead or co-handling.", "请选择主办或协办。"),
    );
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
    let fields = form.fields(&["suggestion", "unit", "role", "assigned", "due"]);
    let result = save(state, viewer, space, "handling", None, fields).await;
    finish(result, lang, form, |_| {
        format!("/agendas/{space}/suggestions/{suggestion}")
    })
    .await
}

pub(super) async fn add_feedback(
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
    form.choice(
        "result",
        labels::RESULTS,
        lang.pick("Choose a result.", "请选择办理结果。"),
    );
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
    let mut fields = form.fields(&["handling", "result", "text", "date"]);
    fields.extend(form.given(&["reason"]));
    let result = save(state, viewer, space, "feedback", None, fields).await;
    finish(result, lang, form, |_| {
        format!("/agendas/{space}/suggestions/{suggestion}")
    })
    .await
}

pub(super) async fn add_finding(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.require(lang, "text");
    form.date(lang, "date");
    form.choice(
        "visit",
        labels::VISITS,
        lang.pick("Choose a kind of visit.", "请选择监督方式。"),
    );
    form.choice(
        "severity",
        labels::SEVERITIES,
        lang.pick("Choose a severity.", "请选择严重程度。"),
    );
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

pub(super) async fn add_round(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.date(lang, "date");
    form.choice(
        "form",
        labels::FORMS,
        lang.pick("Choose a form.", "请选择协商形式。"),
    );
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
        fields.extend(form.given(&["host", "from_outcome", "date", "place"]));
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
