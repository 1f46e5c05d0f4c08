//! A space's root fields and records as people see them (`views::FieldView`,
//! `views::RecordView`): every value with its author's key in hex, the body it writes for
//! and whether its body has since revoked the key. An agenda at the workflow issue's size
//! holds about 15,000 values written by a handful of keys, so each author's hex, each
//! body's view (its name looked up once in the certificates, not per record) and each
//! revocation check are worked out once per view built, not per value.

use std::collections::{BTreeMap, HashMap};

use confer_protocol::model::{self, Attributed};
use confer_protocol::{BodyId, Certificates, PublicKey, Space};

use crate::views::{BodyView, FieldView, RecordView, ValueView};

/// What one view build has worked out about authors and bodies so far.
pub(super) struct Attributions<'a> {
    space: &'a Space,
    certs: &'a Certificates,
    /// Author → its hex.
    authors: HashMap<PublicKey, String>,
    /// (author, body) → the body's id in hex and whether the body revoked the author.
    writers: HashMap<(PublicKey, BodyId), (String, bool)>,
    /// Body → its view, named by the certificates.
    bodies: HashMap<BodyId, BodyView>,
}

impl<'a> Attributions<'a> {
    pub(super) fn new(space: &'a Space, certs: &'a Certificates) -> Self {
        Attributions {
            space,
            certs,
            authors: HashMap::new(),
            writers: HashMap::new(),
            bodies: HashMap::new(),
        }
    }

    /// A body as views show it, named by any certificate this node holds for it.
    pub(super) fn body(&mut self, body: &BodyId) -> BodyView {
        let certs = self.certs;
        self.bodies
            .entry(*body)
            .or_insert_with(|| BodyView {
                id: body.to_string(),
                name: certs.body_name(body).map(str::to_owned),
            })
            .clone()
    }

    /// One value and who wrote it (its texts moved, not copied).
    pub(super) fn value(&mut self, a: Attributed) -> ValueView {
        let author = self
            .authors
            .entry(a.author)
            .or_insert_with(|| a.author.to_string())
            .clone();
        let (body, author_revoked) = match a.body {
            Some(b) => {
                let space = self.space;
                let (id, revoked) = self.writers.entry((a.author, b)).or_insert_with(|| {
                    (b.to_string(), space.cutoffs().contains_key(&(a.author, b)))
                });
                (
                    Some(BodyView {
                        id: id.clone(),
                        name: a.body_name,
                    }),
                    *revoked,
                )
            }
            None => (None, false),
        };
        ValueView {
            value: a.value,
            author,
            body,
            member_name: a.member_name,
            author_revoked,
        }
    }

    /// A field with its current value and the concurrent ones that lost.
    pub(super) fn field(&mut self, f: model::FieldView) -> FieldView {
        FieldView {
            name: f.name.to_owned(),
            current: f.current.map(|a| self.value(a)),
            conflicts: f.conflicts.into_iter().map(|a| self.value(a)).collect(),
        }
    }

    /// Every record, by collection; a record shows only the fields that have a value.
    pub(super) fn records(
        &mut self,
        records: BTreeMap<&'static str, Vec<model::RecordView>>,
    ) -> BTreeMap<String, Vec<RecordView>> {
        records
            .into_iter()
            .map(|(collection, records)| {
                let records = records
                    .into_iter()
                    .map(|r| RecordView {
                        id: r.id.to_string(),
                        collection: collection.to_owned(),
                        area: r.area.map(|b| self.body(&b)),
                        created_by: r.created_by.map(|a| self.value(a)),
                        fields: r
                            .fields
                            .into_iter()
                            .filter(|f| f.current.is_some() || !f.conflicts.is_empty())
                            .map(|f| self.field(f))
                            .collect(),
                    })
                    .collect();
                (collection.to_owned(), records)
            })
            .collect()
    }
}
