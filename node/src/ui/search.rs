//! 搜索: an in-memory index over every agenda's title and summary, suggestions, outcomes,
//! feedback and findings, kept current from the node's change notifications.
//!
//! Chinese has no spaces between words, so the index is of character bigrams (and single
//! characters, for one-character queries), lower-cased: a query's bigrams select candidate
//! texts, and a candidate matches when it contains the query itself. A space that changes
//! is read again (`NodeHandle::read`) and its texts replace the old ones; changes arriving
//! while one is being indexed are folded into the next pass.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use confer_protocol::model::{AgendaView, ModelView};
use confer_protocol::SpaceId;

use crate::handle::NodeHandle;

/// One searchable text.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub(crate) space: SpaceId,
    pub(crate) agenda_title: String,
    /// The collection (`suggestion`, `feedback`, …) or `agenda` for the title and summary.
    pub(crate) collection: &'static str,
    /// The record's id ("" for the agenda itself), and the suggestion it belongs to, if any.
    pub(crate) record: String,
    pub(crate) suggestion: String,
    pub(crate) text: String,
    lower: String,
}

#[derive(Debug, Default)]
struct Inner {
    docs: HashMap<u64, Doc>,
    by_space: HashMap<SpaceId, Vec<u64>>,
    grams: HashMap<String, HashSet<u64>>,
    next: u64,
}

/// The index, shared by the UI's handlers and the task that keeps it current.
#[derive(Debug, Clone, Default)]
pub(crate) struct SearchIndex {
    inner: Arc<RwLock<Inner>>,
}

/// The bigrams and single characters of `text` (lower-cased, whitespace skipped).
fn grams(lower: &str) -> BTreeSet<String> {
    let chars: Vec<char> = lower.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out: BTreeSet<String> = chars.iter().map(|c| c.to_string()).collect();
    out.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
    out
}

/// The texts of an agenda worth finding.
fn texts(space: SpaceId, view: &AgendaView) -> Vec<Doc> {
    let title = view.text("title").to_owned();
    let doc = |collection: &'static str, record: String, suggestion: String, text: String| Doc {
        space,
        agenda_title: title.clone(),
        collection,
        record,
        suggestion,
        lower: text.to_lowercase(),
        text,
    };
    let mut out = vec![doc(
        "agenda",
        String::new(),
        String::new(),
        format!("{} {}", view.text("title"), view.text("summary")),
    )];
    for (collection, fields) in [
        ("suggestion", &["text", "proposer"][..]),
        ("outcome", &["title", "text"][..]),
        ("feedback", &["text", "reason"][..]),
        ("finding", &["text", "response"][..]),
    ] {
        for r in view.records(collection) {
            let text: Vec<&str> = fields
                .iter()
                .map(|f| r.get(f))
                .filter(|t| !t.is_empty())
                .collect();
            if text.is_empty() {
                continue;
            }
            let suggestion = match collection {
                "suggestion" => r.id.to_string(),
                "feedback" => view
                    .record("handling", r.get("handling"))
                    .map(|h| h.get("suggestion").to_owned())
                    .unwrap_or_default(),
                _ => r.get("suggestion").to_owned(),
            };
            out.push(doc(
                collection,
                r.id.to_string(),
                suggestion,
                text.join(" "),
            ));
        }
    }
    out
}

impl SearchIndex {
    /// Replaces what the index holds of `space`.
    pub(crate) fn put(&self, space: SpaceId, docs: Vec<Doc>) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = inner.by_space.remove(&space) {
            for id in old {
                if let Some(doc) = inner.docs.remove(&id) {
                    for g in grams(&doc.lower) {
                        if let Some(set) = inner.grams.get_mut(&g) {
                            set.remove(&id);
                            if set.is_empty() {
                                inner.grams.remove(&g);
                            }
                        }
                    }
                }
            }
        }
        let mut ids = Vec::with_capacity(docs.len());
        for doc in docs {
            let id = inner.next;
            inner.next += 1;
            for g in grams(&doc.lower) {
                inner.grams.entry(g).or_default().insert(id);
            }
            inner.docs.insert(id, doc);
            ids.push(id);
        }
        inner.by_space.insert(space, ids);
    }

    /// Texts containing `query` (case-insensitive), at most `limit`, agenda texts first.
    pub(crate) fn find(&self, query: &str, limit: usize) -> Vec<Doc> {
        let lower: String = query.trim().to_lowercase();
        if lower.is_empty() {
            return Vec::new();
        }
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let chars: Vec<char> = lower.chars().filter(|c| !c.is_whitespace()).collect();
        let keys: Vec<String> = if chars.len() == 1 {
            vec![chars[0].to_string()]
        } else {
            chars.windows(2).map(|w| w.iter().collect()).collect()
        };
        let mut candidates: Option<HashSet<u64>> = None;
        for k in &keys {
            let Some(set) = inner.grams.get(k) else {
                return Vec::new();
            };
            candidates = Some(match candidates {
                None => set.clone(),
                Some(c) => c.intersection(set).copied().collect(),
            });
        }
        let mut hits: Vec<&Doc> = candidates
            .unwrap_or_default()
            .iter()
            .filter_map(|id| inner.docs.get(id))
            .filter(|d| d.lower.contains(&lower))
            .collect();
        hits.sort_by_key(|d| {
            (
                d.collection != "agenda",
                d.agenda_title.clone(),
                d.record.clone(),
            )
        });
        hits.into_iter().take(limit).cloned().collect()
    }

    /// Indexes every agenda now, then keeps the index current until the node stops.
    pub(crate) fn keep_current(&self, node: NodeHandle) -> tokio::task::JoinHandle<()> {
        let index = self.clone();
        tokio::spawn(async move {
            let Ok(mut changes) = node.subscribe_changes().await else {
                return;
            };
            let mut todo: BTreeSet<[u8; 32]> = BTreeSet::new();
            let mut all = true;
            loop {
                if all {
                    todo.clear();
                    if let Ok(list) = node.list_agendas().await {
                        for a in list.iter().filter(|a| !a.invited) {
                            if let Ok(space) = a.id.parse::<SpaceId>() {
                                todo.insert(*space.as_bytes());
                            }
                        }
                    }
                    all = false;
                }
                for bytes in std::mem::take(&mut todo) {
                    let space = SpaceId(bytes);
                    if let Ok(ModelView::Agenda(view)) = node.read(space).await {
                        index.put(space, texts(space, &view));
                    }
                }
                match changes.recv().await {
                    Ok(space) => {
                        todo.insert(*space.as_bytes());
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => all = true,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
                // Fold a burst of changes into one pass.
                tokio::time::sleep(Duration::from_millis(200)).await;
                loop {
                    match changes.try_recv() {
                        Ok(space) => {
                            todo.insert(*space.as_bytes());
                        }
                        Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => all = true,
                        Err(_) => break,
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Doc {
        Doc {
            space: SpaceId([7; 32]),
            agenda_title: "跨界河道".into(),
            collection: "suggestion",
            record: text.into(),
            suggestion: String::new(),
            lower: text.to_lowercase(),
            text: text.into(),
        }
    }

    #[test]
    fn chinese_text_is_found_by_any_part_and_only_where_it_occurs() {
        let index = SearchIndex::default();
        index.put(
            SpaceId([7; 32]),
            vec![
                doc("建立跨界河长联合巡河制度"),
                doc("共建水质自动监测站"),
                doc("River Chief patrols"),
            ],
        );
        let found =
            |q: &str| -> Vec<String> { index.find(q, 10).into_iter().map(|d| d.text).collect() };
        assert_eq!(found("巡河"), vec!["建立跨界河长联合巡河制度"]);
        assert_eq!(found("监测"), vec!["共建水质自动监测站"]);
        assert_eq!(found("河").len(), 1, "one character");
        assert!(
            found("河监").is_empty(),
            "bigrams of both texts, but neither contains it"
        );
        assert_eq!(found("river chief"), vec!["River Chief patrols"]);
        assert!(found("   ").is_empty());
        // Replacing a space's texts drops the old ones.
        index.put(SpaceId([7; 32]), vec![doc("水质月报")]);
        assert!(found("巡河").is_empty());
        assert_eq!(found("水质"), vec!["水质月报"]);
    }
}
