//! The agenda's rules that depend on what the document holds now — references to records
//! that exist, dates in order, feedback only for a unit the body assigned. They are checked
//! when an action is made ([`check_write`]); a change that raced past them concurrently is
//! shown by the views the same way on every node.

use automerge::{ReadDoc, Value};

use crate::cert::BodyId;
use crate::model::date::Date;
use crate::model::schema::{
    find_record, records_in, split_list, Author, RecordId, RecordKey, RecordWrite,
};
use crate::model::ModelError;
use crate::space::Space;

/// The fields a record must have when it is made.
fn required(collection: &str) -> &'static [&'static str] {
    match collection {
        "round" => &["number"],
        "meeting" => &["round", "date"],
        "suggestion" => &["round", "text"],
        "outcome" => &["round", "kind", "title", "text"],
        "finding" => &["text"],
        "preselection" => &["round", "date", "text"],
        "submission" => &["suggestion", "to", "date"],
        "instruction" => &["suggestion", "leader", "date", "text"],
        "handling" => &["suggestion", "unit", "role", "assigned", "due"],
        "feedback" => &["handling", "result", "text", "date"],
        "evaluation" => &["suggestion", "satisfaction"],
        "carry" => &["suggestion", "year"],
        "expert" => &["name"],
        "assessment" => &["outcome", "text", "rating"],
        "attachment" => &["name", "sha256", "data"],
        _ => &[],
    }
}

/// The collection a reference field points to, and whether it lies in the writer's own area.
fn reference(collection: &str, field: &str) -> Option<(&'static str, bool)> {
    Some(match (collection, field) {
        ("round", "from_outcome") => ("outcome", false),
        (_, "round") => ("round", false),
        (_, "meeting") => ("meeting", false),
        (_, "suggestion") | (_, "from_suggestion") => ("suggestion", false),
        (_, "outcome") => ("outcome", false),
        ("feedback", "handling") => ("handling", true),
        ("assessment", "expert") => ("expert", true),
        ("finding", "attachments") => ("attachment", false),
        _ => return None,
    })
}

/// Reads a record's current field values.
pub(crate) struct Records<'a> {
    space: &'a Space,
}

impl<'a> Records<'a> {
    pub(crate) fn new(space: &'a Space) -> Self {
        Self { space }
    }

    fn obj(&self, key: &RecordKey) -> Option<automerge::ObjId> {
        find_record(self.space.doc(), key)
    }

    pub(crate) fn exists(&self, key: &RecordKey) -> bool {
        self.obj(key).is_some()
    }

    /// The current value of a field ("" if unset or the record does not exist).
    pub(super) fn get(&self, key: &RecordKey, field: &str) -> String {
        self.obj(key)
            .and_then(|obj| match self.space.doc().get(&obj, field) {
                Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                    automerge::ScalarValue::Str(s) => Some(s.to_string()),
                    _ => None,
                },
                _ => None,
            })
            .unwrap_or_default()
    }
}

fn shared(collection: &'static str, id: RecordId) -> RecordKey {
    RecordKey {
        collection,
        body: None,
        id,
    }
}

fn unknown(what: &'static str, id: &str) -> ModelError {
    ModelError::Unknown {
        what,
        id: id.to_owned(),
    }
}

/// Checks a record write against the agenda as it is now: the record exists (edit) or not
/// (make), a body's area is written only by that body, references name records that exist,
/// required fields are present, dates are in order.
pub(super) fn check_write(
    space: &Space,
    author: &Author,
    write: &RecordWrite,
) -> Result<(), ModelError> {
    let records = Records::new(space);
    let key = &write.key;
    if key.body.is_some_and(|b| b != author.body) {
        return Err(ModelError::OtherBody {
            collection: key.collection,
        });
    }
    if key.collection == "attestation" {
        return Err(ModelError::SignWithAction);
    }
    match (write.create, records.exists(key)) {
        (true, true) => {
            return Err(ModelError::Exists {
                what: key.collection,
                id: key.id.to_string(),
            })
        }
        (false, false) => return Err(unknown(key.collection, &key.id.to_string())),
        _ => {}
    }
    // The record as it will be: what is written over what is there.
    let value = |name: &str| -> String {
        write
            .fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| records.get(key, name))
    };
    for name in required(key.collection) {
        if value(name).trim().is_empty() {
            return Err(ModelError::MissingField { field: name });
        }
    }
    for (name, v) in &write.fields {
        if v.is_empty() {
            continue;
        }
        if let Some((target, own)) = reference(key.collection, name) {
            for id in split_list(v) {
                let id: RecordId = id.parse()?;
                let at = RecordKey {
                    collection: target,
                    body: own.then_some(author.body),
                    id,
                };
                if !records.exists(&at) {
                    return Err(unknown(target, &id.to_string()));
                }
            }
        }
        if key.collection == "outcome" && *name == "suggestions" {
            for id in split_list(v) {
                if !records.exists(&shared("suggestion", id.parse()?)) {
                    return Err(unknown("suggestion", id));
                }
            }
        }
        if matches!(*name, "host" | "bodies") {
            for body in split_list(v) {
                let body: BodyId = body
                    .parse()
                    .map_err(|_| ModelError::NotABody(body.to_owned()))?;
                if !space.is_member(&body) {
                    return Err(ModelError::NotAMember(body.fmt_short()));
                }
            }
        }
    }
    let not_before = |later: &'static str, earlier: &'static str| -> Result<(), ModelError> {
        let (a, b) = (value(later), value(earlier));
        match (Date::parse(&a), Date::parse(&b)) {
            (Some(x), Some(y)) if x < y => Err(ModelError::DateBefore {
                later,
                later_value: a,
                earlier,
                earlier_value: b,
            }),
            _ => Ok(()),
        }
    };
    match key.collection {
        "handling" => {
            not_before("due", "assigned")?;
            not_before("received", "assigned")?;
            not_before("handed_back", "assigned")?;
            not_before("extended_to", "due")?;
            if !value("extended_to").is_empty() && value("extension_reason").trim().is_empty() {
                return Err(ModelError::MissingField {
                    field: "extension_reason",
                });
            }
            // A deadline before the suggestion was submitted is a typing mistake.
            let suggestion = value("suggestion");
            if let Some(submitted) = submitted_on(space, author.body, &suggestion) {
                let due = value("due");
                if Date::parse(&due).is_some_and(|d| Date::parse(&submitted).is_some_and(|s| d < s))
                {
                    return Err(ModelError::DueBeforeSubmission { due, submitted });
                }
            }
        }
        "feedback" if value("result") == "not-adopted" && value("reason").trim().is_empty() => {
            return Err(ModelError::MissingField { field: "reason" });
        }
        "suggestion" if value("disputed") != "yes" && !value("decision").is_empty() => {
            return Err(ModelError::DecisionNeedsDispute);
        }
        _ => {}
    }
    Ok(())
}

/// The earliest date `body` submitted `suggestion`, if it did.
fn submitted_on(space: &Space, body: BodyId, suggestion: &str) -> Option<String> {
    let doc = space.doc();
    records_in(
        doc,
        &super::schema::AGENDA_SCHEMA,
        &format!("body/{body}/submission"),
    )
    .into_iter()
    .map(|(_, obj)| obj)
    .filter(|obj| scalar(doc, obj, "suggestion").as_deref() == Some(suggestion))
    .filter_map(|obj| scalar(doc, &obj, "date"))
    .filter(|d| Date::parse(d).is_some())
    .min()
}

fn scalar(doc: &automerge::Automerge, obj: &automerge::ObjId, field: &str) -> Option<String> {
    match doc.get(obj, field) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            automerge::ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}
