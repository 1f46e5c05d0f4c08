//! The joint agenda's document layout ([`AGENDA_SCHEMA`]) and the rules every change to it
//! obeys, whatever node it comes from.

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{Automerge, Change, ScalarValue};

use super::{MAX_SUMMARY_BYTES, MAX_TITLE_BYTES};
use crate::model::schema::{
    check_records, Author, Collection, Field, FieldType, Made, RecordKey, Schema, Writers,
};
use crate::model::ModelError;

/// The forms a consultation meeting takes.
pub const FORMS: &[&str] = &[
    "symposium",    // 座谈会 / 百姓说事会
    "hearing",      // 听证会 / 民主评议会
    "face-to-face", // 面对面协商
    "open-space",   // 开放空间会议
    "online",       // 网络协商
];
/// Outcome kinds.
pub const OUTCOME_KINDS: &[&str] = &[
    "resolution",
    "joint-opinion",
    "joint-report",
    "proposal",
    "supervision-proposal",
];
/// Feedback results.
pub const RESULTS: &[&str] = &[
    "adopted",
    "partly-adopted",
    "planned",
    "for-reference",
    "not-adopted",
];
/// Members' evaluations of how a suggestion was handled.
pub const SATISFACTION: &[&str] = &["satisfied", "basically-satisfied", "unsatisfied"];
/// Finding severities.
pub const SEVERITIES: &[&str] = &["low", "medium", "high"];
/// Kinds of follow-up visit a finding comes from (回头看, 回访督查, 明察暗访).
pub const VISITS: &[&str] = &["look-back", "return-visit", "unannounced"];
/// Handling roles: the lead unit or a co-handling unit.
pub const UNIT_ROLES: &[&str] = &["lead", "co"];
const YES: &[&str] = &["yes", "no"];

const fn f(name: &'static str, ty: FieldType) -> Field {
    Field { name, ty }
}

const LINE: FieldType = FieldType::Line(1024);
const TEXT: FieldType = FieldType::Text(64 * 1024);

/// The joint agenda's document: its root fields, the shared records any member body writes
/// and the records each body keeps in its own area. `ARCHITECTURE.md` has it as a table.
pub static AGENDA_SCHEMA: Schema = Schema {
    kind: "agenda",
    root: &[
        f("kind", FieldType::Line(16)),
        f("title", FieldType::Line(MAX_TITLE_BYTES)),
        f("summary", FieldType::Text(MAX_SUMMARY_BYTES)),
        f("topic", FieldType::Id),
    ],
    collections: &[
        Collection {
            name: "round",
            writers: Writers::AnyMember,
            whole: false,
            fields: &[
                f("number", FieldType::Number),
                f("from_outcome", FieldType::Id),
                f("host", FieldType::Body),
                f("confirmed_on", FieldType::Date),
                f("confirmation", TEXT),
                f("research", TEXT),
                f("participants", TEXT),
                f("form", FieldType::Choice(FORMS)),
                f("date", FieldType::Date),
                f("place", LINE),
                f("notice", TEXT),
            ],
        },
        Collection {
            name: "meeting",
            writers: Writers::AnyMember,
            whole: false,
            fields: &[
                f("round", FieldType::Id),
                f("date", FieldType::Date),
                f("place", LINE),
                f("form", FieldType::Choice(FORMS)),
                f("minutes", FieldType::Text(256 * 1024)),
                f("attendance", TEXT),
            ],
        },
        Collection {
            name: "suggestion",
            writers: Writers::AnyMember,
            whole: false,
            fields: &[
                f("round", FieldType::Id),
                f("meeting", FieldType::Id),
                f("text", FieldType::Text(16 * 1024)),
                f("proposer", LINE),
                f("bodies", FieldType::Bodies),
                f("disputed", FieldType::Choice(YES)),
                f("decision", TEXT),
                f("decided_on", FieldType::Date),
                f("from_suggestion", FieldType::Id),
                f("date", FieldType::Date),
            ],
        },
        Collection {
            name: "outcome",
            writers: Writers::AnyMember,
            whole: false,
            fields: &[
                f("round", FieldType::Id),
                f("kind", FieldType::Choice(OUTCOME_KINDS)),
                f("title", LINE),
                f("text", FieldType::Text(256 * 1024)),
                f("suggestions", FieldType::Ids),
            ],
        },
        Collection {
            name: "finding",
            writers: Writers::AnyMember,
            whole: false,
            fields: &[
                f("suggestion", FieldType::Id),
                f("outcome", FieldType::Id),
                f("visit", FieldType::Choice(VISITS)),
                f("date", FieldType::Date),
                f("text", FieldType::Text(16 * 1024)),
                f("severity", FieldType::Choice(SEVERITIES)),
                f("attachments", FieldType::Ids),
                f("response", TEXT),
            ],
        },
        Collection {
            name: "attachment",
            writers: Writers::AnyMember,
            whole: true,
            fields: &[
                f("name", FieldType::Line(255)),
                f("media_type", FieldType::Line(127)),
                f("sha256", FieldType::Hex(32)),
                f("data", FieldType::Base64(MAX_ATTACHMENT_BYTES)),
            ],
        },
        Collection {
            name: "preselection",
            writers: Writers::OwnBody,
            whole: false,
            fields: &[
                f("round", FieldType::Id),
                f("date", FieldType::Date),
                f("text", TEXT),
            ],
        },
        Collection {
            name: "attestation",
            writers: Writers::OwnSigner,
            whole: true,
            fields: &[
                f("outcome", FieldType::Id),
                f("digest", FieldType::Hex(32)),
                f("signature", FieldType::Hex(64)),
            ],
        },
        Collection {
            name: "submission",
            writers: Writers::OwnBody,
            whole: false,
            fields: &[
                f("suggestion", FieldType::Id),
                f("to", LINE),
                f("date", FieldType::Date),
                f("text", TEXT),
            ],
        },
        Collection {
            name: "instruction",
            writers: Writers::OwnBody,
            whole: false,
            fields: &[
                f("suggestion", FieldType::Id),
                f("leader", LINE),
                f("date", FieldType::Date),
                f("text", TEXT),
                f("copied_to", LINE),
            ],
        },
        Collection {
            name: "handling",
            writers: Writers::OwnBody,
            whole: false,
            fields: &[
                f("suggestion", FieldType::Id),
                f("unit", LINE),
                f("role", FieldType::Choice(UNIT_ROLES)),
                f("assigned", FieldType::Date),
                f("received", FieldType::Date),
                f("due", FieldType::Date),
                f("handed_back", FieldType::Date),
                f("handed_back_reason", TEXT),
                f("extended_to", FieldType::Date),
                f("extension_reason", TEXT),
            ],
        },
        Collection {
            name: "feedback",
            writers: Writers::OwnBody,
            whole: false,
            fields: &[
                f("handling", FieldType::Id),
                f("result", FieldType::Choice(RESULTS)),
                f("text", TEXT),
                f("reason", TEXT),
                f("date", FieldType::Date),
            ],
        },
        Collection {
            name: "evaluation",
            writers: Writers::OwnBody,
            whole: false,
            fields: &[
                f("suggestion", FieldType::Id),
                f("satisfaction", FieldType::Choice(SATISFACTION)),
                f("text", TEXT),
                f("date", FieldType::Date),
            ],
        },
        Collection {
            name: "carry",
            writers: Writers::OwnBody,
            whole: false,
            fields: &[
                f("suggestion", FieldType::Id),
                f("year", FieldType::Number),
                f("note", TEXT),
            ],
        },
        Collection {
            name: "expert",
            writers: Writers::OwnBody,
            whole: false,
            fields: &[
                f("name", LINE),
                f("field", LINE),
                f("affiliation", LINE),
                f("pool_id", FieldType::Id),
            ],
        },
        Collection {
            name: "assessment",
            writers: Writers::OwnBody,
            whole: false,
            fields: &[
                f("outcome", FieldType::Id),
                f("expert", FieldType::Id),
                f("text", TEXT),
                f("rating", FieldType::Choice(SATISFACTION)),
                f("date", FieldType::Date),
            ],
        },
    ],
};

/// Checks a change to an agenda against [`AGENDA_SCHEMA`]: the root's fields (`kind` is
/// "agenda", the title not empty), records in areas the author may write, valid values, and
/// attestations signed by the author over their outcome's digest.
pub(crate) fn check_agenda_change(
    doc: &Automerge,
    made: &mut Made,
    author: &Author,
    change: &Change,
) -> Result<(), ModelError> {
    for op in change.decode().operations {
        if op.obj == ObjectId::Root && op.key == Key::Map("title".into()) {
            if let OpType::Put(ScalarValue::Str(text)) = &op.action {
                if text.trim().is_empty() {
                    return Err(ModelError::EmptyTitle);
                }
            }
        }
    }
    check_records(
        &AGENDA_SCHEMA,
        doc,
        made,
        author,
        change,
        |key, fields| match key.collection {
            "attestation" => check_attestation(key, fields, &author.key),
            _ => check_attachment(key, fields),
        },
    )
}

/// Largest attachment, in bytes: its base64 fits one entry (`MAX_CHANGE_BYTES`) with room
/// to spare.
pub const MAX_ATTACHMENT_BYTES: usize = 512 * 1024;

/// An attachment is whole (name, media type, bytes, their SHA-256) and content-addressed:
/// the digest is of the bytes, and the record's id is the digest's first 8 bytes, so the
/// same file attached twice is one record.
fn check_attachment(
    key: &RecordKey,
    fields: &std::collections::BTreeMap<String, String>,
) -> Result<(), ModelError> {
    use base64::Engine;
    use sha2::Digest;
    let get = |name: &'static str| {
        fields
            .get(name)
            .ok_or(ModelError::MissingField { field: name })
    };
    get("name")?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(get("data")?)
        .map_err(|_| ModelError::BadValue {
            field: "data",
            why: "must be base64".into(),
        })?;
    let digest: [u8; 32] = sha2::Sha256::digest(&data).into();
    if hex::encode(digest) != *get("sha256")? {
        return Err(ModelError::BadValue {
            field: "sha256",
            why: "is not the SHA-256 of the data".into(),
        });
    }
    if key.id.to_string() != hex::encode(&digest[..8]) {
        return Err(ModelError::BadValue {
            field: "id",
            why: "an attachment's id is the first 8 bytes of its SHA-256".into(),
        });
    }
    Ok(())
}

/// An attestation record is whole (outcome, digest, signature) and its signature is the
/// author's over (body, digest).
fn check_attestation(
    key: &RecordKey,
    fields: &std::collections::BTreeMap<String, String>,
    author: &crate::keys::PublicKey,
) -> Result<(), ModelError> {
    let get = |name: &'static str| {
        fields
            .get(name)
            .ok_or(ModelError::MissingField { field: name })
    };
    get("outcome")?;
    let body = key.body.ok_or(ModelError::NotSigner)?;
    let digest = decode_hex::<32>(get("digest")?).ok_or(ModelError::BadSignature)?;
    let signature = decode_hex::<64>(get("signature")?).ok_or(ModelError::BadSignature)?;
    crate::model::outcome::Attestation {
        body,
        signer: *author,
        digest,
        signature: crate::keys::Signature(signature),
    }
    .verify()
    .map_err(|_| ModelError::BadSignature)
}

fn decode_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}
