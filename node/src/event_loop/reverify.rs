//! Which entries of each space `agenda show` has checked again since start, so each show
//! verifies only what arrived since the last (every entry was verified when it was accepted;
//! the check again covers the bytes held now, e.g. after a restart from the store).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use automerge::ChangeHash;
use confer_protocol::{Entry, PublicKey, SpaceId};

/// An entry as the cache knows it.
type EntryKey = (PublicKey, u64, ChangeHash);

fn key(e: &Entry) -> EntryKey {
    (e.author(), e.seq(), e.change_hash())
}

/// The entries checked again, per space; shared with the blocking threads that check.
#[derive(Clone, Default)]
pub(crate) struct Reverified(Arc<Mutex<HashMap<SpaceId, HashSet<EntryKey>>>>);

impl Reverified {
    /// The entries of `log` not checked again yet.
    pub(crate) fn unchecked(&self, space: SpaceId, log: &[Entry]) -> Vec<Entry> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let done = map.get(&space);
        log.iter()
            .filter(|e| done.is_none_or(|d| !d.contains(&key(e))))
            .cloned()
            .collect()
    }

    /// Checks `entries` (on the calling thread: a blocking one) and remembers those that
    /// verified; returns the ones that did not, as (author, seq).
    pub(crate) fn check(&self, space: SpaceId, entries: &[Entry]) -> Vec<(PublicKey, u64)> {
        let (_, failed) = confer_protocol::space::reverify(entries);
        let bad: HashSet<(PublicKey, u64)> = failed.iter().copied().collect();
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let done = map.entry(space).or_default();
        for e in entries {
            if !bad.contains(&(e.author(), e.seq())) {
                done.insert(key(e));
            }
        }
        failed
    }
}
