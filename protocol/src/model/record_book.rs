//! A space's records kept as its log grows: [`RecordBook::records`] reads again only the
//! records that the entries appended since its last read wrote, and gives what
//! [`read_records`](super::schema::read_records) gives from scratch.
//!
//! A record's view (its fields, their concurrent values, who made it) depends only on the
//! ops on its own map and on the op that put that map in its shard, so a record no new op
//! names reads as before. The book reads everything again when it cannot be sure of that:
//!
//! - what it read before is no longer the log's beginning (a revocation or a fork's
//!   resolution rewrote the log, or it is another space's);
//! - the new entries do not account for the document's heads (the document holds changes
//!   the log does not show);
//! - a new entry makes a shard (a concurrent second map under a shard's key changes which
//!   version of a record shows) or writes an object the book cannot place;
//! - an author it attributed values to now writes for another body or under other names
//!   (membership or a newer certificate).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{ActorId, ChangeHash, ObjType};

use super::schema::{
    by_collection, find_record, placed_in_doc, read_all, read_record, Placed, RecordKey,
    RecordView, Schema,
};
use super::{Authors, Writer};
use crate::cert::Certificates;
use crate::entry::EntryHash;
use crate::space::{Space, SpaceId};

/// One space's records as last read, and what that read covered.
#[derive(Debug, Default)]
pub struct RecordBook {
    space: Option<SpaceId>,
    /// The schema the records were read with (its kind).
    kind: &'static str,
    /// The hashes of the log entries covered, in log order.
    read: Vec<EntryHash>,
    /// The document's heads when last read, sorted.
    heads: Vec<ChangeHash>,
    /// Every author attributed so far.
    writers: HashMap<ActorId, Option<Writer>>,
    /// What each object the book has placed is, by the op that made it.
    placed: HashMap<String, Placed>,
    records: BTreeMap<RecordKey, RecordView>,
    /// How many reads were from scratch (for tests and benchmarks).
    rebuilds: u64,
}

impl RecordBook {
    /// Every record of `space`'s document, by collection, in (area, id) order: what
    /// [`read_records`](super::schema::read_records) gives, reading only what changed.
    pub fn records(
        &mut self,
        schema: &'static Schema,
        space: &Space,
        certs: &Certificates,
    ) -> BTreeMap<&'static str, Vec<RecordView>> {
        if !self.update(schema, space, certs) {
            self.rebuild(schema, space, certs);
        }
        by_collection(self.records.values().cloned())
    }

    /// The records `keep` keeps, by collection, and how many records each collection holds
    /// in all: [`RecordBook::records`] without copying the records a caller does not want.
    pub fn records_where(
        &mut self,
        schema: &'static Schema,
        space: &Space,
        certs: &Certificates,
        keep: impl Fn(&RecordView) -> bool,
    ) -> (
        BTreeMap<&'static str, Vec<RecordView>>,
        BTreeMap<&'static str, usize>,
    ) {
        if !self.update(schema, space, certs) {
            self.rebuild(schema, space, certs);
        }
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for key in self.records.keys() {
            *counts.entry(key.collection).or_default() += 1;
        }
        let kept = by_collection(self.records.values().filter(|r| keep(r)).cloned());
        (kept, counts)
    }

    /// How many reads so far read every record.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds
    }

    fn rebuild(&mut self, schema: &'static Schema, space: &Space, certs: &Certificates) {
        let mut authors = Authors::new(space, certs);
        let records = read_all(schema, space.doc(), &mut authors);
        *self = RecordBook {
            space: Some(space.id()),
            kind: schema.kind,
            read: space.log().iter().map(|e| e.hash()).collect(),
            heads: sorted_heads(space),
            writers: authors.into_known(),
            placed: HashMap::new(),
            records,
            rebuilds: self.rebuilds + 1,
        };
    }

    /// Reads the records the new entries wrote; `false` if the book must read everything.
    fn update(&mut self, schema: &'static Schema, space: &Space, certs: &Certificates) -> bool {
        if self.space != Some(space.id()) || self.kind != schema.kind {
            return false;
        }
        let log = space.log();
        let prefix_holds =
            log.len() >= self.read.len() && log.iter().zip(&self.read).all(|(e, h)| e.hash() == *h);
        if !prefix_holds {
            return false;
        }
        let authors = Authors::with_known(space, certs, std::mem::take(&mut self.writers));
        if !authors.still_hold() {
            return false;
        }
        let new = &log[self.read.len()..];
        let doc = space.doc();
        // The heads the new changes lead to from the old ones.
        let mut heads: BTreeSet<ChangeHash> = self.heads.iter().copied().collect();
        let mut dirty: BTreeSet<RecordKey> = BTreeSet::new();
        for entry in new {
            let Ok(change) = entry.parse_change() else {
                continue;
            };
            for dep in change.deps() {
                heads.remove(dep);
            }
            heads.insert(change.hash());
            let decoded = change.decode();
            for (i, op) in decoded.operations.iter().enumerate() {
                let Key::Map(prop) = &op.key else {
                    return false;
                };
                match &op.obj {
                    ObjectId::Root => {
                        if matches!(op.action, OpType::Make(_))
                            || !schema.root.iter().any(|f| f.name == prop.as_str())
                        {
                            // A shard made (perhaps a second one under the same key), or
                            // anything else at the root that is not a root field.
                            return false;
                        }
                        // A root field: read with every view, not kept here.
                    }
                    ObjectId::Id(id) => {
                        let name = id.to_string();
                        let placed = match self.placed.get(&name) {
                            Some(placed) => *placed,
                            None => match placed_in_doc(schema, doc, &name) {
                                Some(placed) => {
                                    self.placed.insert(name, placed);
                                    placed
                                }
                                None => return false,
                            },
                        };
                        match placed {
                            Placed::Shard(shard) => {
                                let Some(key) = shard.record(prop) else {
                                    return false;
                                };
                                dirty.insert(key);
                                if matches!(op.action, OpType::Make(ObjType::Map)) {
                                    let made = format!(
                                        "{}@{}",
                                        decoded.start_op.get().saturating_add(i as u64),
                                        decoded.actor_id
                                    );
                                    self.placed.insert(made, Placed::Record(key));
                                }
                            }
                            Placed::Record(key) => {
                                dirty.insert(key);
                            }
                        }
                    }
                }
            }
        }
        let heads: Vec<ChangeHash> = heads.into_iter().collect();
        if heads != sorted_heads(space) {
            return false;
        }
        let mut authors = authors;
        for key in dirty {
            let Some(collection) = schema.collection(key.collection) else {
                return false;
            };
            match find_record(doc, &key) {
                Some(obj) => {
                    let view = read_record(doc, &obj, key, collection, &mut authors);
                    self.records.insert(key, view);
                }
                None => {
                    self.records.remove(&key);
                }
            }
        }
        self.writers = authors.into_known();
        self.read.extend(new.iter().map(|e| e.hash()));
        self.heads = heads;
        true
    }
}

fn sorted_heads(space: &Space) -> Vec<ChangeHash> {
    let mut heads = space.doc().get_heads();
    heads.sort();
    heads.dedup();
    heads
}
