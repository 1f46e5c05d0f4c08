//! Who changed what, when: a space's history read from its signed entries, in log (causal)
//! order. Each item is one entry's writes to one target — a root field or a record — with
//! the author, the body it wrote for, the names its certificate gives and the time the
//! author's node stamped on the change (its own clock: shown, not trusted for ordering).

use std::collections::HashMap;

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::cert::Certificates;
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
    // Op id of each shard ("<area>", the part of a path before the id) and record (its
    // path) made so far.
    let mut shards: HashMap<String, String> = HashMap::new();
    let mut records: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for entry in space.log() {
        let Ok(change) = entry.clone().take_change() else {
            continue;
        };
        let decoded = change.decode();
        let cert = certs.member_cert(&entry.author(), &entry.body());
        let mut items: Vec<HistoryItem> = Vec::new();
        for (i, op) in decoded.operations.iter().enumerate() {
            let Key::Map(key) = &op.key else { continue };
            let made_id = || {
                format!(
                    "{}@{}",
                    decoded.start_op.get().saturating_add(i as u64),
                    decoded.actor_id
                )
            };
            let (target, field, made) = match &op.obj {
                ObjectId::Root => {
                    if matches!(op.action, OpType::Make(_)) {
                        // A shard: `<area>/<first hex digit of its ids>`.
                        let area = key.rsplit_once('/').map_or(key.as_str(), |(a, _)| a);
                        shards.insert(made_id(), area.to_owned());
                        continue;
                    } else if key.as_str() == "kind" {
                        // The document's kind marker, written with its first change.
                        continue;
                    } else {
                        (key.to_string(), Some(key.to_string()), false)
                    }
                }
                ObjectId::Id(id) => {
                    let id = id.to_string();
                    if let Some(area) = shards.get(&id) {
                        if !matches!(op.action, OpType::Make(_)) {
                            continue;
                        }
                        let path = format!("{area}/{key}");
                        records.insert(made_id(), path.clone());
                        (path, None, true)
                    } else {
                        match records.get(&id) {
                            Some(target) => (target.clone(), Some(key.to_string()), false),
                            None => continue,
                        }
                    }
                }
            };
            if record.is_some_and(|r| target.rsplit('/').next() != Some(r) || !target.contains('/'))
            {
                continue;
            }
            let value = match &op.action {
                OpType::Put(ScalarValue::Str(s)) => s.to_string(),
                OpType::Put(other) => other.to_string(),
                _ => String::new(),
            };
            let item = match items.iter_mut().find(|it| it.target == target) {
                Some(item) => item,
                None => {
                    items.push(HistoryItem {
                        time_ms: change.timestamp(),
                        author: entry.author().to_string(),
                        seq: entry.seq(),
                        body: entry.body().to_string(),
                        body_name: cert.map(|c| c.body_name.clone()),
                        member_name: cert.map(|c| c.subject_name().to_owned()),
                        target: target.clone(),
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
        out.extend(items);
    }
    out
}
