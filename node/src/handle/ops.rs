//! Requests for operating a node: a backup of its store and keys, a restored store's
//! catch-up, and sync through files where there is no network path.

use super::{Command, NodeError, NodeHandle, Reply};
use crate::backup::CatchUpView;

/// What the event loop is asked for operations.
#[derive(Debug)]
pub(crate) enum OpsCommand {
    /// A backup archive (`docs/backup.md`) of the store, as one read transaction sees
    /// it, and of the keys.
    Backup(Reply<Vec<u8>>),
    /// What a restored store still waits for; with `skip`, stop waiting (the operator's
    /// override).
    CatchUp { skip: bool, reply: Reply<CatchUpView> },
}

impl NodeHandle {
    /// A backup archive of the running node: the store as one read transaction sees it
    /// (every write acknowledged before the call is in it) and the keys.
    pub async fn backup(&self) -> Result<Vec<u8>, NodeError> {
        self.ask(|r| Command::Ops(OpsCommand::Backup(r))).await
    }

    /// What a restored store still waits for before it takes local edits; `skip` stops
    /// waiting for every agenda (at the operator's risk).
    pub async fn catch_up(&self, skip: bool) -> Result<CatchUpView, NodeError> {
        self.ask(|reply| Command::Ops(OpsCommand::CatchUp { skip, reply }))
            .await
    }
}
