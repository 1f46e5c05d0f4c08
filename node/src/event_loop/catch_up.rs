//! A restored store's catch-up (`confer restore`): until this node has pulled a space
//! from every other member body, it refuses local writes there.
//!
//! A backup is older than the node it replaces: after it was made, the node may have
//! signed further entries with its member keys, which its partners hold. Writing before
//! those are back would sign the same sequence numbers again with different changes —
//! equivocation, which every partner punishes by refusing the key. So a restored store
//! carries a mark (meta key [`crate::backup::CATCH_UP_KEY`]); at the first start the node
//! lists, per space, the other current member bodies, and strikes a body off once a pull
//! from one of its nodes ended with nothing more to send (a `SyncResponse` with `more`
//! unset) or a file it exported was imported (`sync import`). Entries signed with this
//! node's own keys that come back meanwhile are its own from before the loss: their seqs
//! become the keys' own tips again instead of foreign-use alerts. `confer catch-up --skip`
//! lifts the wait for every space at the operator's risk (a warning is logged).
//!
//! The mark's JSON: `{"restored_at": unix seconds, "spaces": null | {space id: [body id,
//! …]}}`; `null` until the first start computes it, `{}` once every space caught up.

use std::collections::{BTreeMap, BTreeSet};

use confer_protocol::{BodyId, Effects, Event, SpaceId};
use serde::{Deserialize, Serialize};

use super::EventLoop;
use crate::backup::{CatchUpSpace, CatchUpView, CATCH_UP_KEY};
use crate::handle::NodeError;
use crate::runtime::NodeFailure;
use crate::store::{Store, StoreError};

#[derive(Debug, Serialize, Deserialize)]
struct Mark {
    restored_at: u64,
    spaces: Option<BTreeMap<String, Vec<String>>>,
}

/// The mark `confer restore` writes into a restored store.
pub(crate) fn catch_up_mark(restored_at: u64) -> Vec<u8> {
    serde_json::to_vec(&Mark {
        restored_at,
        spaces: None,
    })
    .unwrap_or_default()
}

/// What is still waited for.
#[derive(Debug, Default)]
pub(crate) struct CatchUp {
    /// `None`: this store was never restored.
    restored_at: Option<u64>,
    waiting: BTreeMap<SpaceId, BTreeSet<BodyId>>,
}

impl CatchUp {
    /// Reads the mark; on the first start after a restore, lists what to wait for (the
    /// other current member bodies of every space held) and stores that.
    pub(crate) fn load(
        store: &Store,
        replica: &confer_protocol::Replica,
    ) -> Result<CatchUp, StoreError> {
        let Some(bytes) = store.meta_get(CATCH_UP_KEY)? else {
            return Ok(CatchUp::default());
        };
        let mark: Mark = match serde_json::from_slice(&bytes) {
            Ok(mark) => mark,
            Err(e) => {
                // Never silently write: an unreadable mark waits for every space.
                tracing::warn!(error = %e, "the restored store's catch-up mark does not read; waiting for every space");
                Mark {
                    restored_at: 0,
                    spaces: None,
                }
            }
        };
        let own = replica.identity().body();
        let mut catch_up = CatchUp {
            restored_at: Some(mark.restored_at),
            waiting: BTreeMap::new(),
        };
        match mark.spaces {
            Some(spaces) => {
                for (space, bodies) in spaces {
                    let Ok(space) = space.parse::<SpaceId>() else {
                        continue;
                    };
                    let bodies: BTreeSet<BodyId> =
                        bodies.iter().filter_map(|b| b.parse().ok()).collect();
                    if !bodies.is_empty() {
                        catch_up.waiting.insert(space, bodies);
                    }
                }
            }
            None => {
                for s in replica.spaces() {
                    let others: BTreeSet<BodyId> = s
                        .members()
                        .current
                        .iter()
                        .copied()
                        .filter(|b| *b != own)
                        .collect();
                    if !others.is_empty() {
                        catch_up.waiting.insert(s.id(), others);
                    }
                }
                catch_up.save(store)?;
                tracing::warn!(
                    spaces = catch_up.waiting.len(),
                    "restored from a backup: local edits wait until each agenda has synced with its other member bodies"
                );
            }
        }
        Ok(catch_up)
    }

    fn save(&self, store: &Store) -> Result<(), StoreError> {
        let spaces = self
            .waiting
            .iter()
            .map(|(s, bodies)| {
                (
                    s.to_string(),
                    bodies.iter().map(|b| b.to_string()).collect(),
                )
            })
            .collect();
        let mark = Mark {
            restored_at: self.restored_at.unwrap_or(0),
            spaces: Some(spaces),
        };
        store.meta_put(CATCH_UP_KEY, &serde_json::to_vec(&mark).unwrap_or_default())
    }

    pub(crate) fn waits_in(&self, space: &SpaceId) -> Option<&BTreeSet<BodyId>> {
        self.waiting.get(space)
    }
}

impl EventLoop {
    /// Refuses a local write to `space` while it waits for catch-up.
    pub(super) fn refuse_while_catching_up(&self, space: &SpaceId) -> Result<(), NodeError> {
        let Some(bodies) = self.catch_up.waits_in(space) else {
            return Ok(());
        };
        let names: Vec<String> = bodies
            .iter()
            .map(|b| {
                self.replica
                    .certs()
                    .body_name(b)
                    .map(|name| confer_protocol::text::display_line(name).into_owned())
                    .unwrap_or_else(|| b.fmt_short())
            })
            .collect();
        let short = space.fmt_short();
        Err(NodeError::Refused {
            en: format!(
                "agenda {short} was restored from a backup and has not synced with {} yet: it takes no edits until it has, so that it never signs again what this node signed after the backup; to write anyway (at the risk of being refused by partners as an equivocator), run `confer catch-up --skip`",
                names.join(", ")
            ),
            zh: format!(
                "议题 {short} 从备份恢复，尚未与 {} 完成同步：同步完成前不能修改，以免重复签署本节点在备份之后已签署的内容；如确需立即修改（伙伴可能因此将该密钥视为重复签署而拒绝），请运行 `confer catch-up --skip`",
                names.join("、")
            ),
        })
    }

    /// A pull of `space` from a node of `body` ended with nothing more to send, or a file
    /// `body` exported for this body was imported: strike it off.
    pub(super) fn caught_up_with(
        &mut self,
        space: SpaceId,
        body: BodyId,
    ) -> Result<(), NodeFailure> {
        let Some(bodies) = self.catch_up.waiting.get_mut(&space) else {
            return Ok(());
        };
        if !bodies.remove(&body) {
            return Ok(());
        }
        if bodies.is_empty() {
            self.catch_up.waiting.remove(&space);
            tracing::info!(space = %space.fmt_short(), "restored agenda caught up with every member body; it takes edits again");
        }
        self.catch_up
            .save(&self.store)
            .map_err(NodeFailure::Storage)
    }

    /// Entries signed with this node's own keys that come back while a space waits for
    /// catch-up are its own from before the loss: their seqs become its own tips again,
    /// and no foreign-use alert is raised for them.
    pub(super) fn claim_own_entries(&mut self, fx: &mut Effects) {
        if self.catch_up.waiting.is_empty() {
            return;
        }
        let waiting = &self.catch_up.waiting;
        let mut claimed = Vec::new();
        fx.events.retain(|event| match event {
            Event::ForeignUseOfOwnKey {
                space, key, seq, ..
            } if waiting.contains_key(space) => {
                claimed.push((*space, *key, *seq));
                false
            }
            _ => true,
        });
        for (space, key, seq) in claimed {
            tracing::info!(space = %space.fmt_short(), key = %key, seq, "an entry this node signed before its restore came back");
            self.replica.restore_own_tip(space, key, seq);
            fx.persist.own.push((space, key, seq));
        }
    }

    /// The operator lifts the wait for every space.
    pub(super) fn skip_catch_up(&mut self) -> Result<(), NodeFailure> {
        if self.catch_up.waiting.is_empty() {
            return Ok(());
        }
        tracing::warn!(
            spaces = self.catch_up.waiting.len(),
            "catch-up skipped by the operator: this node writes in restored agendas before it has synced them; partners refuse its keys if it signs a sequence number again"
        );
        self.catch_up.waiting.clear();
        self.catch_up
            .save(&self.store)
            .map_err(NodeFailure::Storage)
    }

    pub(super) fn catch_up_view(&self) -> CatchUpView {
        CatchUpView {
            restored_at: self.catch_up.restored_at,
            waiting: self
                .catch_up
                .waiting
                .iter()
                .map(|(space, bodies)| CatchUpSpace {
                    space: space.to_string(),
                    waiting_for: bodies.iter().map(|b| self.body_view(b)).collect(),
                })
                .collect(),
        }
    }
}
