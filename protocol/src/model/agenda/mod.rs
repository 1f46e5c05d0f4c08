//! The joint agenda (联动协商议题): a space whose document root holds `kind = "agenda"`,
//! `title` and `summary` — its fields, the action that edits them, their view, and the rule
//! every change to an agenda obeys.
//!
//! Fields are plain strings, last writer wins: concurrent edits of one field keep every
//! value as a visible conflict (automerge picks the same winner on every replica), and each
//! value is attributed to the member key that wrote it — the change's actor — and to the
//! body that key writes for in the space (named in its signed entries).

use automerge::transaction::{Transactable, Transaction};
use automerge::{AutomergeError, ReadDoc, ROOT};

pub mod followup;
pub mod outcomes;
pub mod report;
mod rules;
mod schema;

pub(crate) use schema::check_agenda_change;
pub use schema::{
    AGENDA_SCHEMA, FORMS, MAX_ATTACHMENT_BYTES, OUTCOME_KINDS, RESULTS, SATISFACTION, SEVERITIES,
    UNIT_ROLES, VISITS,
};

use std::collections::BTreeMap;

use super::schema::{read_records, Author, RecordId, RecordKey, RecordView, RecordWrite};
use super::{Attributed, Authors, FieldView, ModelError};
use crate::cert::Certificates;
use crate::space::Space;

/// Longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 1024;
/// Longest summary, in bytes.
pub const MAX_SUMMARY_BYTES: usize = 64 * 1024;

/// The editable fields of an agenda.
pub const AGENDA_FIELDS: [&str; 2] = ["title", "summary"];

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
    /// Makes or edits one of the agenda's records (rounds, meetings, suggestions, outcomes,
    /// findings, and each body's own records).
    Write(RecordWrite),
    /// Signs outcome `outcome`'s current text for the author's body, as the attestation
    /// record `id`. The signature needs the author's key: [`AgendaAction::resolve`] turns
    /// this into the attestation's [`RecordWrite`] before it is applied.
    Sign { outcome: RecordId, id: RecordId },
    /// Records the ledger topic (of the creating body) the agenda came from.
    LinkTopic(RecordId),
}

impl AgendaAction {
    /// Checks the action on its own.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Self::Edit(edit) => edit.validate(),
            Self::Write(write) => write.validate(&AGENDA_SCHEMA),
            Self::Sign { .. } | Self::LinkTopic(_) => Ok(()),
        }
    }

    /// The action as it is written: a signature made with `secret` (the author's key) for a
    /// [`AgendaAction::Sign`], any other action as it is.
    pub fn resolve(
        self,
        space: &Space,
        certs: &Certificates,
        author: &Author,
        secret: &crate::keys::SecretKey,
    ) -> Result<Self, ModelError> {
        match self {
            Self::Sign { outcome, id } => {
                let view = read_agenda(space, certs);
                outcomes::sign(&view, author, secret, outcome, id).map(Self::Write)
            }
            other => Ok(other),
        }
    }

    /// Checks the action against the agenda as it is now, made by `author`.
    pub fn validate_in(&self, space: &Space, author: &Author) -> Result<(), ModelError> {
        match self {
            Self::Edit(_) | Self::LinkTopic(_) => Ok(()),
            Self::Write(write) => rules::check_write(space, author, write),
            Self::Sign { outcome, .. } => {
                if !author.can_sign {
                    return Err(ModelError::NotSigner);
                }
                let key = RecordKey {
                    collection: "outcome",
                    body: None,
                    id: *outcome,
                };
                if rules::Records::new(space).exists(&key) {
                    Ok(())
                } else {
                    Err(ModelError::Unknown {
                        what: "outcome",
                        id: outcome.to_string(),
                    })
                }
            }
        }
    }

    pub fn apply(&self, tx: &mut Transaction<'_>) -> Result<(), AutomergeError> {
        match self {
            Self::Edit(edit) => edit.apply(tx),
            Self::Write(write) => {
                if tx.get(ROOT, "kind")?.is_none() {
                    tx.put(ROOT, "kind", "agenda")?;
                }
                write.apply(tx)
            }
            // Never reached through `Replica::apply_as`, which resolves it first; unresolved,
            // it writes nothing.
            Self::Sign { .. } => Ok(()),
            Self::LinkTopic(topic) => {
                tx.put(ROOT, "topic", topic.to_string())?;
                Ok(())
            }
        }
    }
}

/// An agenda as a person sees it: its root fields, and its records by collection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgendaView {
    pub fields: Vec<FieldView>,
    pub records: BTreeMap<&'static str, Vec<RecordView>>,
    /// Each outcome and which member bodies have signed its current text.
    pub outcomes: Vec<outcomes::OutcomeStatus>,
    /// The space and its member bodies now (what an outcome's text is signed for).
    #[serde(skip)]
    pub space: crate::space::SpaceId,
    #[serde(skip)]
    pub members: Vec<crate::cert::BodyId>,
}

impl AgendaView {
    /// The records of one collection (shared and every body's), in id order.
    pub fn records(&self, collection: &str) -> &[RecordView] {
        self.records.get(collection).map_or(&[], Vec::as_slice)
    }

    /// A record by collection and id (in any area).
    pub fn record(&self, collection: &str, id: &str) -> Option<&RecordView> {
        // Pages look records up by the hundred: compare ids, not their hex.
        let id: RecordId = id.parse().ok()?;
        self.records(collection).iter().find(|r| r.id == id)
    }

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

/// One root field of an agenda, each value attributed.
fn read_field(space: &Space, certs: &Certificates, name: &'static str) -> FieldView {
    let mut authors = Authors::new(space, certs);
    let mut values: Vec<Attributed> = space
        .doc()
        .get_all(ROOT, name)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(value, id)| authors.attribute(value, &id))
        .collect();
    // get_all lists concurrent values in op order; the winner (what `get` returns) is the
    // last.
    let current = values.pop();
    FieldView {
        name,
        current,
        conflicts: values,
    }
}

/// An agenda's title alone ("" if unset), as [`AgendaView::text`] shows it, without
/// reading its records: what lists of agendas need.
pub fn read_title(space: &Space, certs: &Certificates) -> String {
    read_field(space, certs, "title")
        .current
        .map(|a| a.value)
        .unwrap_or_default()
}

/// Reads an agenda, attributing each value to its author's body and certificate.
pub fn read_agenda(space: &Space, certs: &Certificates) -> AgendaView {
    agenda_with(space, certs, read_records(&AGENDA_SCHEMA, space, certs))
}

/// An agenda with its records as read (by [`read_records`] or a
/// [`RecordBook`](crate::model::record_book::RecordBook)).
pub(crate) fn agenda_with(
    space: &Space,
    certs: &Certificates,
    records: BTreeMap<&'static str, Vec<RecordView>>,
) -> AgendaView {
    let fields = AGENDA_FIELDS
        .iter()
        .map(|&name| read_field(space, certs, name))
        .collect();
    let mut view = AgendaView {
        fields,
        records,
        outcomes: Vec::new(),
        space: space.id(),
        members: space.members().current.iter().copied().collect(),
    };
    view.outcomes = outcomes::statuses(&view, certs);
    view
}
