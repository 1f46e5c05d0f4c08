//! Who changed what, when: a space's history read from its signed entries, in log (causal)
//! order. Each item is one entry's writes to one target — a root field or a record — with
//! the author, the body it wrote for, the names its certificate gives and the time the
//! author's node stamped on the change (its own clock: shown, not trusted for ordering).

use std::collections::HashMap;

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::cert::{BodyId, Certificates};
use crate::entry::{Entry, EntryHash};
use crate::keys::PublicKey;
use crate::space::Space;

/// One entry's writes to one root field or record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryItem {
    /// Milliseconds since the Unix epoch, as the author's node stamped the change.
    pub time_ms: i64,
    pub author: String,
    pub seq: u64,
    pub body: String,
    pub body_name: Option<String>,
    pub member_name: Option<String>,
    /// What was written: a root field (`title`) or a record's path (`suggestion/<id>`,
    /// `body/<body>/feedback/<id>`).
    pub target: String,
    /// The record was made by this entry.
    pub made: bool,
    /// The fields written and their new values ("" for a value removed).
    pub fields: Vec<(String, String)>,
}

/// The history of `space`, oldest first; with `record`, only the writes to records whose id
/// is `record` (and never root fields).
pub fn history(space: &Space, certs: &Certificates, record: Option<&str>) -> Vec<HistoryItem> {
    let mut book = HistoryBook::default();
    book.update(space);
    book.items(certs, record)
}

/// A space's history kept as its log grows: [`HistoryBook::update`] reads only the entries
/// appended since it last read, and reads the whole log again when what it read before is
/// no longer the log's beginning (a revocation or a fork's resolution rewrote it, or it is
/// another space's). Names come from the certificates when the items are asked for, so a
/// newer certificate shows as it would in a fresh read: [`history`] is this, from empty.
#[derive(Debug, Default)]
pub struct HistoryBook {
    /// The hashes of the entries read, in log order.
    read: Vec<EntryHash>,
    /// The area (the part of a path before the id) of each shard made so far, and the path
    /// of each record, by the op that made it.
    shards: HashMap<OpId, String>,
    records: HashMap<OpId, String>,
    /// The items so far, without names, and whose certificate names them.
    items: Vec<(HistoryItem, PublicKey, BodyId)>,
}

impl HistoryBook {
    /// Reads what `space`'s log holds beyond what was read before.
    pub fn update(&mut self, space: &Space) {
        let log = space.log();
        let prefix_holds =
            log.len() >= self.read.len() && log.iter().zip(&self.read).all(|(e, h)| e.hash() == *h);
        if !prefix_holds {
            *self = HistoryBook::default();
        }
        for entry in &log[self.read.len()..] {
            self.read.push(entry.hash());
            self.read_entry(entry);
        }
    }

    /// The items (only those of records whose id is `record`, if given), oldest first,
    /// named by `certs`.
    pub fn items(&self, certs: &Certificates, record: Option<&str>) -> Vec<HistoryItem> {
        self.items
            .iter()
            .filter(|(item, _, _)| {
                record.is_none_or(|r| {
                    item.target.contains('/') && item.target.rsplit('/').next() == Some(r)
                })
            })
            .map(|(item, author, body)| {
                let cert = certs.member_cert(author, body);
                HistoryItem {
                    body_name: cert.map(|c| c.body_name.clone()),
                    member_name: cert.map(|c| c.subject_name().to_owned()),
                    ..item.clone()
                }
            })
            .collect()
    }

    /// One entry's writes, one item per target.
    fn read_entry(&mut self, entry: &Entry) {
        let Ok(change) = entry.parse_change() else {
            return;
        };
        let decoded = change.decode();
        let mut items: Vec<HistoryItem> = Vec::new();
        for (i, op) in decoded.operations.iter().enumerate() {
            let Key::Map(key) = &op.key else { continue };
            let made_id = || {
                OpId::new(
                    decoded.start_op.get().saturating_add(i as u64),
                    &decoded.actor_id,
                )
            };
            let (target, field, made) = match &op.obj {
                ObjectId::Root => {
                    if matches!(op.action, OpType::Make(_)) {
                        // A shard: `<area>/<first hex digit of its ids>`.
                        let area = key.rsplit_once('/').map_or(key.as_str(), |(a, _)| a);
                        self.shards.insert(made_id(), area.to_owned());
                        continue;
                    } else if key.as_str() == "kind" {
                        // The document's kind marker, written with its first change.
                        continue;
                    } else {
                        (key.to_string(), Some(key.to_string()), false)
                    }
                }
                ObjectId::Id(id) => {
                    if let Some(area) = self.shards.get(id) {
                        if !matches!(op.action, OpType::Make(_)) {
                            continue;
                        }
                        let path = format!("{area}/{key}");
                        self.records.insert(made_id(), path.clone());
                        (path, None, true)
                    } else {
                        match self.records.get(id) {
                            Some(target) => (target.clone(), Some(key.to_string()), false),
                            None => continue,
                        }
                    }
                }
            };
            let value = match &op.action {
                OpType::Put(ScalarValue::Str(s)) => s.to_string(),
                OpType::Put(other) => other.to_string(),
                _ => String::new(),
            };
            let item = match items.iter_mut().position(|it| it.target == target) {
                Some(at) => &mut items[at],
                None => {
                    items.push(HistoryItem {
                        time_ms: change.timestamp(),
                        author: entry.author().to_string(),
                        seq: entry.seq(),
                        body: entry.body().to_string(),
                        body_name: None,
                        member_name: None,
                        target,
                        made: false,
                        fields: Vec::new(),
                    });
                    items.last_mut().expect("just pushed")
                }
            };
            item.made |= made;
            if let Some(field) = field {
                item.fields.push((field, value));
            }
        }
        let (author, body) = (entry.author(), entry.body());
        self.items
            .extend(items.into_iter().map(|item| (item, author, body)));
    }
}
