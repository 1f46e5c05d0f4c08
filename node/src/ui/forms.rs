//! Form input and the widgets that render it: labelled fields, each with its error next to
//! it, and the hidden CSRF field every form carries.

use std::collections::BTreeMap;

use maud::{html, Markup};

use crate::i18n::Lang;

/// A submitted form (`application/x-www-form-urlencoded`), repeated names kept.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(transparent)]
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed ("" if absent).
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every non-empty value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }
}

/// A form being shown again: what was typed and what is wrong with it.
#[derive(Debug, Default, Clone)]
pub(crate) struct FormState {
    /// Which form (its `_form` name) these belong to.
    pub(crate) form: String,
    pub(crate) values: Fields,
    /// Field name → the mistake, in the person's language.
    pub(crate) errors: BTreeMap<String, String>,
    /// A mistake not about one field (the node refused the action).
    pub(crate) general: Option<String>,
}

impl FormState {
    pub(crate) fn of(form: &str, values: Fields) -> FormState {
        FormState {
            form: form.to_owned(),
            values,
            ..FormState::default()
        }
    }

    /// The state for form `form` (empty if the mistakes belong to another form).
    pub(crate) fn for_form(state: Option<&FormState>, form: &str) -> FormState {
        match state {
            Some(s) if s.form == form => s.clone(),
            _ => FormState::of(form, Fields::default()),
        }
    }

    pub(crate) fn value(&self, name: &str) -> &str {
        self.values.get(name)
    }

    /// The values of `names`, as a record's fields.
    pub(crate) fn fields<'a>(&self, names: &[&'a str]) -> Vec<(&'a str, String)> {
        names
            .iter()
            .map(|n| (*n, self.value(n).to_owned()))
            .collect()
    }

    /// The values of `names` the person filled in, as a record's fields.
    pub(crate) fn given<'a>(&self, names: &[&'a str]) -> Vec<(&'a str, String)> {
        names
            .iter()
            .filter(|n| !self.value(n).is_empty())
            .map(|n| (*n, self.value(n).to_owned()))
            .collect()
    }

    /// Refuses `field` with `message` unless its value is one of `choices` (a label
    /// table: value, English, Chinese).
    pub(crate) fn choice(&mut self, field: &str, choices: &[(&str, &str, &str)], message: &str) {
        if !crate::ui::pages::labels::valid(choices, self.value(field)) {
            self.error(field, message);
        }
    }

    pub(crate) fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_insert(message.into());
    }

    pub(crate) fn ok(&self) -> bool {
        self.errors.is_empty() && self.general.is_none()
    }

    /// A required field left blank is a mistake.
    pub(crate) fn require(&mut self, lang: Lang, field: &str) {
        if self.values.get(field).is_empty() {
            self.error(
                field,
                lang.pick("This field is required.", "此项为必填项。"),
            );
        }
    }

    /// A date field must be YYYY-MM-DD (blank allowed unless required).
    pub(crate) fn date(&mut self, lang: Lang, field: &str) {
        let v = self.values.get(field);
        if !v.is_empty() && confer_protocol::model::date::Date::parse(v).is_none() {
            self.error(
                field,
                lang.pick(
                    "Enter a date as YYYY-MM-DD, e.g. 2026-03-15.",
                    "请按 YYYY-MM-DD 格式填写日期，例如 2026-03-15。",
                ),
            );
        }
    }
}

pub(crate) fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="_csrf" value=(token); }
}

fn id_of(form: &str, name: &str) -> String {
    format!("{form}-{name}")
}

/// The error below a field, if any.
fn error_line(state: &FormState, name: &str) -> Markup {
    html! {
        @if let Some(e) = state.errors.get(name) {
            p.field-error id=(format!("{}-error", id_of(&state.form, name))) role="alert" { (e) }
        }
    }
}

/// A labelled one-line input.
pub(crate) fn input(
    state: &FormState,
    name: &str,
    label: &str,
    kind: &str,
    required: bool,
) -> Markup {
    let id = id_of(&state.form, name);
    let invalid = state.errors.contains_key(name);
    html! {
        div.field.invalid[invalid] {
            label for=(id) { (label) @if required { span.req aria-hidden="true" { " *" } } }
            input id=(id) name=(name) type=(kind) value=(state.value(name))
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=[invalid.then(|| format!("{id}-error"))];
            (error_line(state, name))
        }
    }
}

/// A labelled text area.
pub(crate) fn textarea(state: &FormState, name: &str, label: &str, required: bool) -> Markup {
    let id = id_of(&state.form, name);
    let invalid = state.errors.contains_key(name);
    html! {
        div.field.invalid[invalid] {
            label for=(id) { (label) @if required { span.req aria-hidden="true" { " *" } } }
            textarea id=(id) name=(name) rows="4"
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=[invalid.then(|| format!("{id}-error"))] { (state.value(name)) }
            (error_line(state, name))
        }
    }
}

/// A labelled choice among `options` (value, label).
pub(crate) fn select(
    state: &FormState,
    name: &str,
    label: &str,
    options: &[(String, String)],
) -> Markup {
    let id = id_of(&state.form, name);
    let invalid = state.errors.contains_key(name);
    let current = state.value(name);
    html! {
        div.field.invalid[invalid] {
            label for=(id) { (label) }
            select id=(id) name=(name) aria-invalid=[invalid.then_some("true")] {
                @for (value, text) in options {
                    option value=(value) selected[current == value] { (text) }
                }
            }
            (error_line(state, name))
        }
    }
}

/// A labelled checkbox (value `yes` when ticked).
pub(crate) fn checkbox(state: &FormState, name: &str, label: &str) -> Markup {
    let id = id_of(&state.form, name);
    let invalid = state.errors.contains_key(name);
    html! {
        div.field.invalid[invalid] {
            label.check for=(id) {
                input id=(id) name=(name) type="checkbox" value="yes" checked[state.value(name) == "yes"]
                    aria-invalid=[invalid.then_some("true")]
                    aria-describedby=[invalid.then(|| format!("{id}-error"))];
                " " (label)
            }
            (error_line(state, name))
        }
    }
}

/// A form-level mistake.
pub(crate) fn general(state: &FormState) -> Markup {
    html! {
        @if let Some(e) = &state.general {
            p.form-error role="alert" { (e) }
        }
    }
}
