//! Records: the one shape every workflow object takes in a document, and the rule engine that
//! holds every change to it.
//!
//! A record is a map with string fields. Records of one collection in one area are grouped in
//! sixteen *shards*: maps at the document root keyed `<collection>/<c>` in the shared part of
//! the space, which any member body's members may write, or `body/<body id>/<collection>/<c>`
//! in a body's own area, which only that body's members may write, where `<c>` is the first
//! hex character of the record's id; inside its shard a record is keyed by its id. A
//! record's fields are last writer wins, each attributed to the member key that wrote it.
//! Ids are 16 lowercase hex characters chosen by the writer (random), so the same on every
//! node. A record's *path*, `<collection>/<id>` or `body/<body id>/<collection>/<id>`, names
//! it in views and history.
//!
//! Records and shards never move (automerge objects keep the place the op that made them
//! gave them), so "whose area does this op write" follows from the change and its causal
//! history alone: every node reaches the same verdict whatever order entries arrive in.
//! Applying a remote change costs what walking the objects it touches costs
//! (`../shared/CRATES.md`): a record edit touches one small record, a new record one shard
//! (a sixteenth of its collection in that area), a new shard the root, which holds at most
//! sixteen keys per collection and area. So the cost stays flat however long an agenda's
//! history grows. Two members may make the same shard concurrently: automerge keeps both
//! maps under the one key, and readers look in every one of them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, AutomergeError, Change, ObjType, Prop, ReadDoc, ScalarValue, ROOT};

use super::{Attributed, Authors, FieldView, ModelError};
use crate::cert::{BodyId, Certificates};
use crate::keys::PublicKey;
use crate::space::Space;

/// Length of a record id in hex characters.
pub const ID_HEX_LEN: usize = 16;
/// Most ids one field may list.
pub const MAX_IDS: usize = 512;

/// A record id: 16 lowercase hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct RecordId([u8; 8]);

impl RecordId {
    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl From<RecordId> for String {
    fn from(id: RecordId) -> Self {
        id.to_string()
    }
}

impl std::str::FromStr for RecordId {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != ID_HEX_LEN || !is_lower_hex(s) {
            return Err(ModelError::BadId(
                crate::text::display_line(&s.chars().take(40).collect::<String>()).into_owned(),
            ));
        }
        let mut out = [0u8; 8];
        hex::decode_to_slice(s, &mut out).map_err(|_| ModelError::BadId(s.to_owned()))?;
        Ok(Self(out))
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What a field may hold. Every value is a string in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Free text, newlines allowed, at most this many bytes.
    Text(usize),
    /// One line of text (no control characters), at most this many bytes.
    Line(usize),
    /// One of these values.
    Choice(&'static [&'static str]),
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A whole number, 0..=1,000,000.
    Number,
    /// A record id.
    Id,
    /// Record ids, comma-separated, at most [`MAX_IDS`].
    Ids,
    /// A body id (64 hex characters).
    Body,
    /// Body ids, comma-separated, at most 64.
    Bodies,
    /// Lowercase hex of exactly this many bytes.
    Hex(usize),
    /// Standard base64 (with padding) of at most this many bytes.
    Base64(usize),
}

/// A field of a collection.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
}

/// Who writes a collection's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writers {
    /// The members of any member body of the space (the shared part).
    AnyMember,
    /// Only the members of the body whose area holds the record.
    OwnBody,
    /// Only keys of the body whose area holds the record that may sign joint documents
    /// (`can_sign`).
    OwnSigner,
}

/// A kind of record.
#[derive(Debug)]
pub struct Collection {
    pub name: &'static str,
    pub writers: Writers,
    /// Records are written whole, in the change that makes them, and never edited (a
    /// signature, an attachment's bytes): the schema's `check_whole` checks them.
    pub whole: bool,
    pub fields: &'static [Field],
}

impl Collection {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether records live in a body's area.
    pub fn in_body_area(&self) -> bool {
        self.writers != Writers::AnyMember
    }
}

/// The layout of one kind of document: the scalar fields at its root and its collections.
#[derive(Debug)]
pub struct Schema {
    /// The value of the root's `kind` field.
    pub kind: &'static str,
    pub root: &'static [Field],
    pub collections: &'static [Collection],
}

impl Schema {
    pub fn collection(&self, name: &str) -> Option<&'static Collection> {
        self.collections.iter().find(|c| c.name == name)
    }
}

/// Where a record lives: its collection, its id and, for a body's area, the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKey {
    pub collection: &'static str,
    pub body: Option<BodyId>,
    pub id: RecordId,
}

impl RecordKey {
    /// The record's path: how views and history name it.
    pub fn path(&self) -> String {
        match &self.body {
            None => format!("{}/{}", self.collection, self.id),
            Some(body) => format!("body/{}/{}/{}", body, self.collection, self.id),
        }
    }

    /// The shard holding the record.
    pub fn shard(&self) -> ShardKey {
        ShardKey {
            collection: self.collection,
            body: self.body,
            nibble: self.id.0[0] >> 4,
        }
    }

    /// The record's key inside its shard: its id.
    pub fn id_key(&self) -> String {
        self.id.to_string()
    }

    /// Parses a record's path against a schema: `None` if it is not one of its records'.
    pub fn parse(schema: &Schema, path: &str) -> Option<(RecordKey, &'static Collection)> {
        let (prefix, id) = path.rsplit_once('/')?;
        let (collection, body) = parse_area(schema, prefix)?;
        let id = id.parse().ok()?;
        Some((
            RecordKey {
                collection: collection.name,
                body,
                id,
            },
            collection,
        ))
    }
}

/// One of the sixteen maps at the root that hold a collection's records in one area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardKey {
    pub collection: &'static str,
    pub body: Option<BodyId>,
    /// The first hex digit of the ids it holds, 0..16.
    pub nibble: u8,
}

impl ShardKey {
    /// The shard's key at the document root.
    pub fn root_key(&self) -> String {
        format!("{}/{:x}", self.area(), self.nibble)
    }

    /// `<collection>` or `body/<body>/<collection>`: the part of a path before the id.
    pub fn area(&self) -> String {
        match &self.body {
            None => self.collection.to_owned(),
            Some(body) => format!("body/{}/{}", body, self.collection),
        }
    }

    /// Parses a root key against a schema: `None` if it is not one of its shards.
    pub fn parse(schema: &Schema, key: &str) -> Option<(ShardKey, &'static Collection)> {
        let (prefix, digit) = key.rsplit_once('/')?;
        let [d] = digit.as_bytes() else {
            return None;
        };
        let nibble = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        let (collection, body) = parse_area(schema, prefix)?;
        Some((
            ShardKey {
                collection: collection.name,
                body,
                nibble,
            },
            collection,
        ))
    }

    /// The record `id` would be in this shard, if it belongs here.
    pub(crate) fn record(&self, id: &str) -> Option<RecordKey> {
        let id: RecordId = id.parse().ok()?;
        (id.0[0] >> 4 == self.nibble).then_some(RecordKey {
            collection: self.collection,
            body: self.body,
            id,
        })
    }
}

/// `<collection>` or `body/<body>/<collection>`, checked against the schema (a body-area
/// collection only in a body's area, a shared one only outside).
fn parse_area(schema: &Schema, prefix: &str) -> Option<(&'static Collection, Option<BodyId>)> {
    let parts: Vec<&str> = prefix.split('/').collect();
    let (body, name) = match parts.as_slice() {
        [name] => (None, *name),
        ["body", body, name] => {
            if body.len() != 64 || !is_lower_hex(body) {
                return None;
            }
            (Some(body.parse::<BodyId>().ok()?), *name)
        }
        _ => return None,
    };
    let collection = schema.collection(name)?;
    (collection.in_body_area() == body.is_some()).then_some((collection, body))
}

/// The map of the record at `key`, if the document has it: looked for in every map made
/// under its shard's key (two made concurrently are both kept), the one automerge shows
/// first.
pub fn find_record(doc: &impl ReadDoc, key: &RecordKey) -> Option<automerge::ObjId> {
    let shards = doc.get_all(ROOT, key.shard().root_key()).ok()?;
    let id = key.id_key();
    shards
        .into_iter()
        .rev()
        .filter(|(value, _)| matches!(value, automerge::Value::Object(ObjType::Map)))
        .find_map(|(_, shard)| match doc.get(&shard, id.as_str()) {
            Ok(Some((automerge::Value::Object(ObjType::Map), obj))) => Some(obj),
            _ => None,
        })
}

/// Every record map in the area `<collection>` or `body/<body>/<collection>`, with its key.
pub fn records_in(
    doc: &impl ReadDoc,
    schema: &Schema,
    area: &str,
) -> Vec<(RecordKey, automerge::ObjId)> {
    // Root keys are sorted: an area's shards are one range of them ('0' follows '/').
    let start = format!("{area}/");
    let end = format!("{area}0");
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for item in doc.map_range(ROOT, start..end) {
        let Some((shard, _)) = ShardKey::parse(schema, &item.key) else {
            continue;
        };
        for obj in shard_objects(doc, &item) {
            for rec in doc.map_range(&obj, ..) {
                if rec.value != automerge::ValueRef::Object(ObjType::Map) {
                    continue;
                }
                if let Some(key) = shard.record(&rec.key) {
                    if seen.insert(key) {
                        out.push((key, rec.id()));
                    }
                }
            }
        }
    }
    out
}

/// The maps under one shard key, the one automerge shows first.
fn shard_objects(
    doc: &impl ReadDoc,
    item: &automerge::iter::MapRangeItem<'_>,
) -> Vec<automerge::ObjId> {
    if item.value != automerge::ValueRef::Object(ObjType::Map) {
        return Vec::new();
    }
    if !item.conflict {
        return vec![item.id()];
    }
    doc.get_all(ROOT, item.key.as_ref())
        .unwrap_or_default()
        .into_iter()
        .rev()
        .filter(|(value, _)| matches!(value, automerge::Value::Object(ObjType::Map)))
        .map(|(_, obj)| obj)
        .collect()
}

/// Checks a value against its field's type.
pub fn check_value(field: &Field, value: &str) -> Result<(), ModelError> {
    let bad = |why: &str| ModelError::BadValue {
        field: field.name,
        why: why.to_owned(),
    };
    match field.ty {
        FieldType::Text(max) | FieldType::Line(max) if value.len() > max => {
            Err(ModelError::TooLong {
                field: field.name,
                max,
            })
        }
        FieldType::Text(_) => Ok(()),
        FieldType::Line(_) => {
            if value.chars().any(char::is_control) {
                Err(bad("must be one line"))
            } else {
                Ok(())
            }
        }
        FieldType::Choice(values) => {
            if values.contains(&value) {
                Ok(())
            } else {
                Err(bad(&format!("must be one of {}", values.join(", "))))
            }
        }
        FieldType::Date => super::date::Date::parse(value)
            .map(|_| ())
            .ok_or_else(|| bad("must be a date YYYY-MM-DD")),
        FieldType::Number => match value.parse::<u32>() {
            Ok(n) if n <= 1_000_000 && !value.starts_with('+') => Ok(()),
            _ => Err(bad("must be a whole number")),
        },
        FieldType::Id => value.parse::<RecordId>().map(|_| ()),
        FieldType::Ids => {
            let ids = split_list(value);
            if ids.len() > MAX_IDS {
                return Err(bad("lists too many ids"));
            }
            ids.iter()
                .try_for_each(|id| id.parse::<RecordId>().map(|_| ()))
        }
        FieldType::Body => check_body_hex(value).ok_or_else(|| bad("must be a body id")),
        FieldType::Bodies => {
            let bodies = split_list(value);
            if bodies.len() > 64 {
                return Err(bad("lists too many bodies"));
            }
            bodies
                .iter()
                .try_for_each(|b| check_body_hex(b).ok_or_else(|| bad("must list body ids")))
        }
        FieldType::Base64(max) => {
            use base64::Engine;
            // Checked before decoding: the encoded length bounds the decoded one.
            if value.len() > max.div_ceil(3) * 4 {
                return Err(ModelError::TooLong {
                    field: field.name,
                    max,
                });
            }
            match base64::engine::general_purpose::STANDARD.decode(value) {
                Ok(bytes) if bytes.len() <= max => Ok(()),
                Ok(_) => Err(ModelError::TooLong {
                    field: field.name,
                    max,
                }),
                Err(_) => Err(bad("must be base64")),
            }
        }
        FieldType::Hex(len) => {
            if value.len() == 2 * len && is_lower_hex(value) {
                Ok(())
            } else {
                Err(bad(&format!("must be {len} bytes of lowercase hex")))
            }
        }
    }
}

fn check_body_hex(value: &str) -> Option<()> {
    (value.len() == 64 && is_lower_hex(value) && value.parse::<BodyId>().is_ok()).then_some(())
}

/// The items of a comma-separated list ("" is the empty list).
pub fn split_list(value: &str) -> Vec<&str> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(',').collect()
    }
}

/// Who wrote a change, as its rules need to know.
#[derive(Debug, Clone, Copy)]
pub struct Author {
    pub key: PublicKey,
    /// The body the entry is written for (signed in the entry).
    pub body: BodyId,
    /// Whether the key's certificate from that body lets it sign joint documents.
    pub can_sign: bool,
}

/// Shards and records made by changes checked earlier in the same batch (not yet in the
/// document), by the id of the op that made them.
#[derive(Debug, Default)]
pub struct Made(HashMap<String, Placed>);

/// What an object of the document is, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Placed {
    Shard(ShardKey),
    Record(RecordKey),
}

/// Where an op writes.
enum Target {
    Root,
    Shard(ShardKey, &'static Collection),
    Record(RecordKey, &'static Collection),
}

/// Checks a change against a schema: every op writes a root field, makes a record in an
/// area its author may write, or writes a field of such a record, with a valid value.
/// `doc` is the document the change applies to (its causal history), `made` the records
/// made earlier in the same batch (updated with this change's).
///
/// A record of a `whole` collection is written whole in the change that makes it and never
/// touched again; `check_whole` checks its fields (a signature, a content hash).
pub fn check_records(
    schema: &Schema,
    doc: &Automerge,
    made: &mut Made,
    author: &Author,
    change: &Change,
    check_whole: impl Fn(&RecordKey, &BTreeMap<String, String>) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    let decoded = change.decode();
    let mut here: HashMap<String, Placed> = HashMap::new();
    let mut signed: BTreeMap<RecordKey, BTreeMap<String, String>> = BTreeMap::new();
    for (i, op) in decoded.operations.iter().enumerate() {
        let target = match &op.obj {
            ObjectId::Root => Target::Root,
            ObjectId::Id(id) => {
                let name = id.to_string();
                let placed = here
                    .get(&name)
                    .or_else(|| made.0.get(&name))
                    .copied()
                    .or_else(|| placed_in_doc(schema, doc, &name))
                    .ok_or_else(|| outside("an object that is not a record"))?;
                match placed {
                    Placed::Shard(shard) => Target::Shard(
                        shard,
                        schema
                            .collection(shard.collection)
                            .ok_or_else(|| outside("an unknown shard"))?,
                    ),
                    Placed::Record(key) => Target::Record(
                        key,
                        schema
                            .collection(key.collection)
                            .ok_or_else(|| outside("an unknown record"))?,
                    ),
                }
            }
        };
        let Key::Map(prop) = &op.key else {
            return Err(outside("a list position"));
        };
        let made_id = || {
            format!(
                "{}@{}",
                decoded.start_op.get().saturating_add(i as u64),
                decoded.actor_id
            )
        };
        match target {
            Target::Root => {
                if let Some(field) = schema.root.iter().find(|f| f.name == prop.as_str()) {
                    check_put(field, &op.action)?;
                    if field.name == "kind" {
                        if let OpType::Put(ScalarValue::Str(kind)) = &op.action {
                            if kind.as_str() != schema.kind {
                                return Err(outside("a different kind"));
                            }
                        }
                    }
                    continue;
                }
                let (shard, collection) = ShardKey::parse(schema, prop).ok_or_else(|| {
                    ModelError::OutsideModel(format!(
                        "unknown field {}",
                        crate::text::display_line(&prop.chars().take(64).collect::<String>())
                    ))
                })?;
                may_write(shard.body.as_ref(), collection, author)?;
                if !matches!(op.action, OpType::Make(ObjType::Map)) {
                    return Err(outside("a shard that is not a map"));
                }
                let id = made_id();
                here.insert(id.clone(), Placed::Shard(shard));
                made.0.insert(id, Placed::Shard(shard));
            }
            Target::Shard(shard, collection) => {
                let key = shard.record(prop).ok_or_else(|| {
                    ModelError::OutsideModel(format!(
                        "a record id {} that does not belong in its shard",
                        crate::text::display_line(&prop.chars().take(40).collect::<String>())
                    ))
                })?;
                may_write(key.body.as_ref(), collection, author)?;
                if !matches!(op.action, OpType::Make(ObjType::Map)) {
                    return Err(outside("a record that is not a map"));
                }
                let id = made_id();
                here.insert(id.clone(), Placed::Record(key));
                made.0.insert(id, Placed::Record(key));
                if collection.whole {
                    signed.insert(key, BTreeMap::new());
                }
            }
            Target::Record(key, collection) => {
                may_write(key.body.as_ref(), collection, author)?;
                let field = collection
                    .field(prop)
                    .ok_or_else(|| ModelError::OutsideModel(format!("unknown field {prop:?}")))?;
                check_put(field, &op.action)?;
                if collection.whole {
                    let fields = signed
                        .get_mut(&key)
                        .ok_or_else(|| outside("an edit of a record written once"))?;
                    if let OpType::Put(ScalarValue::Str(v)) = &op.action {
                        fields.insert(prop.to_string(), v.to_string());
                    } else {
                        return Err(outside("a deletion in a record written once"));
                    }
                }
            }
        }
    }
    for (key, fields) in &signed {
        check_whole(key, fields)?;
    }
    Ok(())
}

fn outside(what: &str) -> ModelError {
    ModelError::OutsideModel(what.to_owned())
}

/// Whether `author` may write in the area of `body` (`None`: the shared part) a record of
/// `collection`.
fn may_write(
    body: Option<&BodyId>,
    collection: &Collection,
    author: &Author,
) -> Result<(), ModelError> {
    if let Some(body) = body {
        if *body != author.body {
            return Err(ModelError::OtherBody {
                collection: collection.name,
            });
        }
    }
    if collection.writers == Writers::OwnSigner && !author.can_sign {
        return Err(ModelError::NotSigner);
    }
    Ok(())
}

/// A field write: a string valid for the field, or the deletion automerge makes when a
/// value is cleared.
fn check_put(field: &Field, action: &OpType) -> Result<(), ModelError> {
    match action {
        OpType::Delete => Ok(()),
        OpType::Put(ScalarValue::Str(text)) => check_value(field, text),
        _ => Err(ModelError::OutsideModel(format!(
            "{} written with something that is not text",
            field.name
        ))),
    }
}

/// What an existing object of the document is, found by its parents: a shard sits at the
/// root under its key, a record in a shard under its id.
pub(crate) fn placed_in_doc(schema: &Schema, doc: &Automerge, op_id: &str) -> Option<Placed> {
    let obj = doc.import_obj(op_id).ok()?;
    let mut parents = doc.parents(&obj).ok()?;
    let first = parents.next()?;
    let Prop::Map(key) = first.prop else {
        return None;
    };
    if first.obj == ROOT {
        return ShardKey::parse(schema, &key).map(|(shard, _)| Placed::Shard(shard));
    }
    let second = parents.next()?;
    if second.obj != ROOT {
        return None;
    }
    let Prop::Map(shard_key) = second.prop else {
        return None;
    };
    let (shard, _) = ShardKey::parse(schema, &shard_key)?;
    shard.record(&key).map(Placed::Record)
}

/// A write of one record: make it (`create`) or edit it, setting the fields given ("" clears
/// a field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordWrite {
    pub key: RecordKey,
    pub create: bool,
    pub fields: Vec<(&'static str, String)>,
}

impl RecordWrite {
    /// Puts a write to a body-area collection that names no body into `body`'s area.
    pub fn place(&mut self, schema: &Schema, body: &BodyId) {
        if self.key.body.is_none()
            && schema
                .collection(self.key.collection)
                .is_some_and(Collection::in_body_area)
        {
            self.key.body = Some(*body);
        }
    }

    /// Checks the write against the schema on its own: a known collection in the right
    /// kind of area, known fields with valid values, and something to write.
    pub fn validate(&self, schema: &Schema) -> Result<(), ModelError> {
        let collection = schema
            .collection(self.key.collection)
            .ok_or_else(|| outside("an unknown collection"))?;
        if collection.in_body_area() != self.key.body.is_some() {
            return Err(outside("a record in the wrong area"));
        }
        if !self.create && collection.whole {
            return Err(outside("an edit of a record written once"));
        }
        if self.fields.is_empty() && !self.create {
            return Err(ModelError::NothingToWrite);
        }
        for (name, value) in &self.fields {
            let field = collection
                .field(name)
                .ok_or_else(|| ModelError::OutsideModel(format!("unknown field {name}")))?;
            if !value.is_empty() || collection.whole {
                check_value(field, value)?;
            }
        }
        Ok(())
    }

    /// Writes the record into a transaction (making its shard first if there is none).
    pub fn apply(&self, tx: &mut Transaction<'_>) -> Result<(), AutomergeError> {
        let obj = if self.create {
            let shard_key = self.key.shard().root_key();
            let shard = match tx.get(ROOT, shard_key.as_str())? {
                Some((automerge::Value::Object(ObjType::Map), obj)) => obj,
                _ => tx.put_object(ROOT, shard_key.as_str(), ObjType::Map)?,
            };
            tx.put_object(&shard, self.key.id_key().as_str(), ObjType::Map)?
        } else {
            find_record(tx, &self.key)
                .ok_or_else(|| AutomergeError::InvalidObjId(self.key.path()))?
        };
        for (name, value) in &self.fields {
            if value.is_empty() {
                if tx.get(&obj, *name)?.is_some() {
                    tx.delete(&obj, *name)?;
                }
            } else {
                tx.put(&obj, *name, value.as_str())?;
            }
        }
        Ok(())
    }
}

/// A record as a person sees it: who made it, and each field's value and who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordView {
    pub id: RecordId,
    pub collection: &'static str,
    /// The body whose area holds the record (`None`: the shared part).
    pub area: Option<BodyId>,
    /// Who made the record.
    pub created_by: Option<Attributed>,
    pub fields: Vec<FieldView>,
}

impl RecordView {
    /// The current value of a field ("" if unset).
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.current.as_ref())
            .map_or("", |a| a.value.as_str())
    }

    /// The field's current value and who wrote it.
    pub fn field(&self, name: &str) -> Option<&FieldView> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The body of the member who made the record.
    pub fn creator_body(&self) -> Option<BodyId> {
        self.created_by.as_ref().and_then(|a| a.body)
    }

    pub fn key(&self) -> RecordKey {
        RecordKey {
            collection: self.collection,
            body: self.area,
            id: self.id,
        }
    }
}

/// Every record of a document, by collection, in id order. A record made concurrently twice
/// under one key (only a writer reusing an id can do that) shows the version automerge
/// keeps on every replica.
pub fn read_records(
    schema: &Schema,
    space: &Space,
    certs: &Certificates,
) -> BTreeMap<&'static str, Vec<RecordView>> {
    let mut authors = Authors::new(space, certs);
    by_collection(read_all(schema, space.doc(), &mut authors).into_values())
}

/// Records in key order grouped by collection, each collection's in (area, id) order.
pub(crate) fn by_collection(
    records: impl IntoIterator<Item = RecordView>,
) -> BTreeMap<&'static str, Vec<RecordView>> {
    let mut out: BTreeMap<&'static str, Vec<RecordView>> = BTreeMap::new();
    for record in records {
        out.entry(record.collection).or_default().push(record);
    }
    out
}

/// Every record of a document by its key (which orders by collection, area and id).
pub(crate) fn read_all(
    schema: &Schema,
    doc: &Automerge,
    authors: &mut Authors<'_>,
) -> BTreeMap<RecordKey, RecordView> {
    let mut out = BTreeMap::new();
    // One pass over the root, each shard and each record: a lookup by key per record or
    // field would cost a search of a map's ops each time.
    for item in doc.map_range(ROOT, ..) {
        let Some((shard, collection)) = ShardKey::parse(schema, &item.key) else {
            continue;
        };
        for shard_obj in shard_objects(doc, &item) {
            for rec in doc.map_range(&shard_obj, ..) {
                if rec.value != automerge::ValueRef::Object(ObjType::Map) {
                    continue;
                }
                let Some(record) = shard.record(&rec.key) else {
                    continue;
                };
                // A record made in two concurrent shards (only a writer reusing an id can do
                // that) shows the version in the shard automerge shows first.
                if out.contains_key(&record) {
                    continue;
                }
                let view = read_record(doc, &rec.id(), record, collection, authors);
                out.insert(record, view);
            }
        }
    }
    out
}

/// One record's fields, each attributed.
pub(crate) fn read_record(
    doc: &Automerge,
    obj: &automerge::ObjId,
    record: RecordKey,
    collection: &'static Collection,
    authors: &mut Authors<'_>,
) -> RecordView {
    let created_by = attribute_object(obj, authors);
    let mut written: BTreeMap<String, (Vec<Attributed>, bool)> = BTreeMap::new();
    for field in doc.map_range(obj, ..) {
        let value = field.value.clone().into_value();
        let current: Vec<Attributed> = authors.attribute(value, &field.id()).into_iter().collect();
        written.insert(field.key.to_string(), (current, field.conflict));
    }
    let fields = collection
        .fields
        .iter()
        .map(|field| {
            let mut values: Vec<Attributed> = match written.remove(field.name) {
                None => Vec::new(),
                Some((current, false)) => current,
                // Concurrent values: all of them, the winner last.
                Some((_, true)) => doc
                    .get_all(obj, field.name)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(value, id)| authors.attribute(value, &id))
                    .collect(),
            };
            let current = values.pop();
            FieldView {
                name: field.name,
                current,
                conflicts: values,
            }
        })
        .collect();
    RecordView {
        id: record.id,
        collection: collection.name,
        area: record.body,
        created_by,
        fields,
    }
}

/// Who made an object: the author of the op that made it.
fn attribute_object(obj: &automerge::ObjId, authors: &mut Authors<'_>) -> Option<Attributed> {
    authors.attribute(
        automerge::Value::Scalar(std::borrow::Cow::Owned(ScalarValue::Str("".into()))),
        obj,
    )
}
