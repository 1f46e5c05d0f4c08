//! A body's own working space (its only member is the body): the ledger of candidate topics
//! (台账) with their screening, the annual consultation plan (年度协商计划) and the expert
//! pool (第三方专家库). Every record is in the shared part — the body is the space's only
//! member — and follows the same record shape and rules as an agenda's
//! ([`super::schema`]).

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, AutomergeError, Change, ReadDoc, ROOT};

use super::schema::{
    check_records, find_record, read_records, split_list, Author, Collection, Field, FieldType,
    Made, RecordId, RecordKey, RecordView, RecordWrite, Schema, Writers,
};
use super::ModelError;
use crate::cert::Certificates;
use crate::space::Space;

/// Where a candidate topic came from.
pub const SOURCES: &[&str] = &[
    "member",             // 委员
    "liaison-station",    // 委员联络站
    "grassroots-visit",   // 基层走访
    "online",             // 网络征集
    "party-government",   // 党政出题
    "member-recommended", // 委员荐题
];
/// How urgent a topic is: an emergency goes the fast track.
pub const URGENCIES: &[&str] = &["emergency", "routine"];
/// Topic and plan categories.
pub const CATEGORIES: &[&str] = &["planning", "major-decision", "livelihood", "legislation"];
/// The screening's verdict.
pub const SCREENINGS: &[&str] = &["accepted", "rejected"];
/// Why a topic was screened out: 涉法涉诉, 纳入信访, 不具有代表性, other (with text).
pub const SCREENING_REASONS: &[&str] = &["litigation", "petition", "unrepresentative", "other"];

const fn f(name: &'static str, ty: FieldType) -> Field {
    Field { name, ty }
}

const LINE: FieldType = FieldType::Line(1024);
const TEXT: FieldType = FieldType::Text(64 * 1024);

/// The ledger's document.
pub static LEDGER_SCHEMA: Schema = Schema {
    kind: "ledger",
    root: &[f("kind", FieldType::Line(16))],
    collections: &[
        Collection {
            name: "topic",
            writers: Writers::AnyMember,
            whole: false,
            fields: &[
                f("title", LINE),
                f("summary", TEXT),
                f("source", FieldType::Choice(SOURCES)),
                f("source_detail", LINE),
                f("urgency", FieldType::Choice(URGENCIES)),
                f("category", FieldType::Choice(CATEGORIES)),
                f("date", FieldType::Date),
                f("screening", FieldType::Choice(SCREENINGS)),
                f("screening_reason", FieldType::Choice(SCREENING_REASONS)),
                f("screening_text", TEXT),
                f("screened_on", FieldType::Date),
                f("merged_into", FieldType::Id),
                f("agenda", FieldType::Hex(32)),
            ],
        },
        Collection {
            name: "plan_item",
            writers: Writers::AnyMember,
            whole: false,
            fields: &[
                f("year", FieldType::Number),
                f("category", FieldType::Choice(CATEGORIES)),
                f("title", LINE),
                f("topics", FieldType::Ids),
                f("agendas", FieldType::Text(64 * 65)),
                f("note", TEXT),
            ],
        },
        Collection {
            name: "expert",
            writers: Writers::AnyMember,
            whole: false,
            fields: &[
                f("name", LINE),
                f("field", LINE),
                f("affiliation", LINE),
                f("contact", LINE),
                f("note", TEXT),
            ],
        },
    ],
};

/// Checks a change to a ledger against [`LEDGER_SCHEMA`].
pub(crate) fn check_ledger_change(
    doc: &Automerge,
    made: &mut Made,
    author: &Author,
    change: &Change,
) -> Result<(), ModelError> {
    check_records(&LEDGER_SCHEMA, doc, made, author, change, |_, _| Ok(()))
}

/// The fields a record of `collection` must have (when made, and after every edit).
pub fn required(collection: &str) -> &'static [&'static str] {
    match collection {
        "topic" => &["title", "source", "urgency", "category"],
        "plan_item" => &["year", "category", "title"],
        "expert" => &["name"],
        _ => &[],
    }
}

/// The field a topic's screening still lacks, given its verdict, reason and words: a topic
/// screened out needs a reason, and the reason "other" needs words.
pub fn screening_lacks(screening: &str, reason: &str, text: &str) -> Option<&'static str> {
    match (screening, reason) {
        ("rejected", "") => Some("screening_reason"),
        ("rejected", "other") if text.trim().is_empty() => Some("screening_text"),
        _ => None,
    }
}

/// What can be done to a ledger: make or edit a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerAction {
    Write(RecordWrite),
}

impl LedgerAction {
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Self::Write(write) => write.validate(&LEDGER_SCHEMA),
        }
    }

    /// The rules that depend on the ledger as it is: the record exists (edit) or not
    /// (make), required fields, references to topics that exist, a reason for a topic
    /// screened out, a merge into another topic.
    pub fn validate_in(&self, space: &Space) -> Result<(), ModelError> {
        let Self::Write(write) = self;
        let doc = space.doc();
        let exists = |key: &RecordKey| find_record(doc, key).is_some();
        let existing = |name: &str| -> String {
            match find_record(doc, &write.key) {
                Some(obj) => match doc.get(&obj, name) {
                    Ok(Some((automerge::Value::Scalar(s), _))) => match s.as_ref() {
                        automerge::ScalarValue::Str(s) => s.to_string(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                },
                _ => String::new(),
            }
        };
        match (write.create, exists(&write.key)) {
            (true, true) => {
                return Err(ModelError::Exists {
                    what: write.key.collection,
                    id: write.key.id.to_string(),
                })
            }
            (false, false) => {
                return Err(ModelError::Unknown {
                    what: write.key.collection,
                    id: write.key.id.to_string(),
                })
            }
            _ => {}
        }
        let value = |name: &str| -> String {
            write
                .fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| existing(name))
        };
        for name in required(write.key.collection) {
            if value(name).trim().is_empty() {
                return Err(ModelError::MissingField { field: name });
            }
        }
        let topic = |id: &str| -> Result<(), ModelError> {
            let id: RecordId = id.parse()?;
            let key = RecordKey {
                collection: "topic",
                body: None,
                id,
            };
            if exists(&key) {
                Ok(())
            } else {
                Err(ModelError::Unknown {
                    what: "topic",
                    id: id.to_string(),
                })
            }
        };
        for (name, v) in &write.fields {
            match *name {
                "merged_into" if !v.is_empty() => {
                    if *v == write.key.id.to_string() {
                        return Err(ModelError::SelfMerge);
                    }
                    topic(v)?;
                }
                "topics" => split_list(v).into_iter().try_for_each(topic)?,
                "agendas" => {
                    for id in split_list(v) {
                        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return Err(ModelError::BadValue {
                                field: "agendas",
                                why: "must list agenda ids (64 hex characters)".into(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        if write.key.collection == "topic" {
            let lacks = screening_lacks(
                &value("screening"),
                &value("screening_reason"),
                &value("screening_text"),
            );
            if let Some(field) = lacks {
                return Err(ModelError::MissingField { field });
            }
        }
        Ok(())
    }

    pub fn apply(&self, tx: &mut Transaction<'_>) -> Result<(), AutomergeError> {
        let Self::Write(write) = self;
        if tx.get(ROOT, "kind")?.is_none() {
            tx.put(ROOT, "kind", "ledger")?;
        }
        write.apply(tx)
    }
}

/// A ledger as a person sees it: its records by collection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerView {
    pub records: std::collections::BTreeMap<&'static str, Vec<RecordView>>,
}

impl LedgerView {
    pub fn records(&self, collection: &str) -> &[RecordView] {
        self.records.get(collection).map_or(&[], Vec::as_slice)
    }

    /// The topics merged into `id` (their origins stay theirs).
    pub fn merged_into<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a RecordView> + 'a {
        self.records("topic")
            .iter()
            .filter(move |t| t.get("merged_into") == id)
    }
}

/// Reads a ledger.
pub fn read_ledger(space: &Space, certs: &Certificates) -> LedgerView {
    LedgerView {
        records: read_records(&LEDGER_SCHEMA, space, certs),
    }
}
