//! The consultation model on top of automerge. For now: the joint agenda (联动协商议题), a
//! space whose document root holds `kind = "agenda"`, `title` and `summary`.
//!
//! Fields are plain strings, last writer wins: concurrent edits of one field keep every
//! value as a visible conflict (automerge picks the same winner on every replica), and each
//! value is attributed to the member key that wrote it — the change's actor — and to the
//! body that key writes for in the space (named in its signed entries).

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, AutomergeError, Change, ObjId, ReadDoc, ScalarValue, Value, ROOT};

use crate::cert::{BodyId, Certificates};
use crate::keys::PublicKey;
use crate::space::{Space, SpaceKind};

/// Longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 1024;
/// Longest summary, in bytes.
pub const MAX_SUMMARY_BYTES: usize = 64 * 1024;

/// The editable fields of an agenda.
pub const AGENDA_FIELDS: [&str; 2] = ["title", "summary"];

/// Why an agenda edit was refused before it became a change, or a change was refused
/// before it was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
    #[error("the title must not be empty")]
    EmptyTitle,
    #[error("the change writes outside the agenda's fields ({0})")]
    OutsideModel(String),
}

/// Checks a change against the rules of the document it is for — the same rules a local
/// edit obeys ([`AgendaEdit::validate`]), so a remote change cannot write what the local
/// interface would refuse. Run on every entry, local or remote, before it is applied.
pub fn check_change(kind: SpaceKind, change: &Change) -> Result<(), ModelError> {
    match kind {
        SpaceKind::Agenda => check_agenda_change(change),
    }
}

fn check_agenda_change(change: &Change) -> Result<(), ModelError> {
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

/// One value of a field and who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attributed {
    pub value: String,
    pub author: PublicKey,
    /// The body the author writes for in this space and the names its certificate gives,
    /// if that certificate is known.
    pub body: Option<BodyId>,
    pub body_name: Option<String>,
    pub member_name: Option<String>,
}

/// A field: the value every replica shows, and any concurrent values that lost.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldView {
    pub name: &'static str,
    pub current: Option<Attributed>,
    pub conflicts: Vec<Attributed>,
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

fn attribute(
    value: Value<'_>,
    id: &ObjId,
    space: &Space,
    certs: &Certificates,
) -> Option<Attributed> {
    let text = match value {
        Value::Scalar(s) => match s.as_ref() {
            automerge::ScalarValue::Str(s) => s.to_string(),
            other => other.to_string(),
        },
        Value::Object(_) => return None,
    };
    let ObjId::Id(_, actor, _) = id else {
        return None;
    };
    let key: [u8; 32] = actor.to_bytes().try_into().ok()?;
    let author = PublicKey::from_bytes(key);
    let body = space.author_body(&author);
    let cert = space.author_cert(&author, certs);
    Some(Attributed {
        value: text,
        author,
        body,
        body_name: cert.map(|c| c.body_name.clone()),
        member_name: cert.map(|c| c.subject_name().to_owned()),
    })
}
