//! The joint agenda (联动协商议题): a space whose document root holds `kind = "agenda"`,
//! `title` and `summary` — its fields, the action that edits them, their view, and the rule
//! every change to an agenda obeys.
//!
//! Fields are plain strings, last writer wins: concurrent edits of one field keep every
//! value as a visible conflict (automerge picks the same winner on every replica), and each
//! value is attributed to the member key that wrote it — the change's actor — and to the
//! body that key writes for in the space (named in its signed entries).

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, AutomergeError, Change, ReadDoc, ScalarValue, ROOT};

use super::{attribute, Attributed, FieldView, ModelError};
use crate::cert::Certificates;
use crate::space::Space;

/// Longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 1024;
/// Longest summary, in bytes.
pub const MAX_SUMMARY_BYTES: usize = 64 * 1024;

/// The editable fields of an agenda.
pub const AGENDA_FIELDS: [&str; 2] = ["title", "summary"];

/// Checks a change to an agenda: only the root's `kind` ("agenda"), `title` (non-empty)
/// and `summary`, as text within their limits — what [`AgendaEdit::validate`] lets a local
/// edit write, so a remote change cannot write what the local interface would refuse.
pub(super) fn check_agenda_change(change: &Change) -> Result<(), ModelError> {
    for op in change.decode().operations {
        if op.obj != ObjectId::Root {
            return Err(ModelError::OutsideModel("a nested object".into()));
        }
        let Key::Map(key) = &op.key else {
            return Err(ModelError::OutsideModel("a list position".into()));
        };
        let (field, max): (&'static str, usize) = match key.as_str() {
            "kind" => ("kind", 16),
            "title" => ("title", MAX_TITLE_BYTES),
            "summary" => ("summary", MAX_SUMMARY_BYTES),
            other => {
                return Err(ModelError::OutsideModel(format!(
                    "unknown field {}",
                    crate::text::display_line(&other.chars().take(64).collect::<String>())
                )))
            }
        };
        match &op.action {
            // automerge resolves a conflict on a field by deleting the losing values.
            OpType::Delete => {}
            OpType::Put(ScalarValue::Str(text)) => {
                if text.len() > max {
                    return Err(ModelError::TooLong { field, max });
                }
                if field == "title" && text.trim().is_empty() {
                    return Err(ModelError::EmptyTitle);
                }
                if field == "kind" && text.as_str() != "agenda" {
                    return Err(ModelError::OutsideModel("kind is not agenda".into()));
                }
            }
            other => {
                return Err(ModelError::OutsideModel(format!(
                    "{field} written with {}",
                    match other {
                        OpType::Put(_) => "a value that is not text",
                        OpType::Make(_) => "an object",
                        OpType::Delete => "a delete",
                        OpType::Increment(_) => "an increment",
                        OpType::MarkBegin(_) | OpType::MarkEnd(_) => "a mark",
                    }
                )))
            }
        }
    }
    Ok(())
}

/// A requested edit of an agenda; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgendaEdit {
    pub title: Option<String>,
    pub summary: Option<String>,
}

impl AgendaEdit {
    pub fn validate(&self) -> Result<(), ModelError> {
        if let Some(title) = &self.title {
            if title.trim().is_empty() {
                return Err(ModelError::EmptyTitle);
            }
            if title.len() > MAX_TITLE_BYTES {
                return Err(ModelError::TooLong {
                    field: "title",
                    max: MAX_TITLE_BYTES,
                });
            }
        }
        if self
            .summary
            .as_ref()
            .is_some_and(|s| s.len() > MAX_SUMMARY_BYTES)
        {
            return Err(ModelError::TooLong {
                field: "summary",
                max: MAX_SUMMARY_BYTES,
            });
        }
        Ok(())
    }

    /// Writes the edit into a transaction (the first edit also marks the kind).
    pub fn apply(&self, tx: &mut Transaction<'_>) -> Result<(), AutomergeError> {
        if tx.get(ROOT, "kind")?.is_none() {
            tx.put(ROOT, "kind", "agenda")?;
        }
        if let Some(title) = &self.title {
            tx.put(ROOT, "title", title.as_str())?;
        }
        if let Some(summary) = &self.summary {
            tx.put(ROOT, "summary", summary.as_str())?;
        }
        Ok(())
    }
}

/// What can be done to an agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgendaAction {
    /// Sets the fields given (the first edit also marks the document's kind).
    Edit(AgendaEdit),
}

impl AgendaAction {
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Self::Edit(edit) => edit.validate(),
        }
    }

    pub fn apply(&self, tx: &mut Transaction<'_>) -> Result<(), AutomergeError> {
        match self {
            Self::Edit(edit) => edit.apply(tx),
        }
    }
}

/// An agenda as a person sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgendaView {
    pub fields: Vec<FieldView>,
}

impl AgendaView {
    pub fn field(&self, name: &str) -> Option<&FieldView> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The current text of a field ("" if unset).
    pub fn text(&self, name: &str) -> &str {
        self.field(name)
            .and_then(|f| f.current.as_ref())
            .map_or("", |a| a.value.as_str())
    }
}

/// Reads an agenda, attributing each value to its author's body and certificate.
pub fn read_agenda(space: &Space, certs: &Certificates) -> AgendaView {
    let doc: &Automerge = space.doc();
    let fields = AGENDA_FIELDS
        .iter()
        .map(|&name| {
            let mut values: Vec<Attributed> = doc
                .get_all(ROOT, name)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(value, id)| attribute(value, &id, space, certs))
                .collect();
            // get_all lists concurrent values in op order; the winner (what `get` returns)
            // is the last.
            let current = values.pop();
            FieldView {
                name,
                current,
                conflicts: values,
            }
        })
        .collect();
    AgendaView { fields }
}
