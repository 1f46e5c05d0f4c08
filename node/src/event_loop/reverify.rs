//! Which entries of each space have had their signatures checked since start, so each
//! `agenda show` verifies only what has not been: the entries loaded from the store are
//! checked again (in the background after start, or by the show that comes first), and
//! an entry accepted or signed while the node runs counts as checked when it is stored —
//! its signature was verified on arrival (or made here), on the bytes the node holds.

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

    /// Counts entries as checked: those this running node verified on arrival or signed
    /// itself, as it stores them.
    pub(crate) fn verified_here(&self, entries: &[Entry]) {
        if entries.is_empty() {
            return;
        }
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for e in entries {
            map.entry(e.space()).or_default().insert(key(e));
        }
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
