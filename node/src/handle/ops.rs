//! Requests for operating a node: a backup of its store and keys, a restored store's
//! catch-up, and sync through files where there is no network path.

use confer_protocol::BodyId;

use super::{Command, NodeError, NodeHandle, Reply};
use crate::backup::CatchUpView;
use crate::sync_file::{ImportReport, Receipt, SyncFile};

/// What the event loop is asked for operations.
#[derive(Debug)]
pub(crate) enum OpsCommand {
    /// A backup archive (`docs/backup.md`) of the store, as one read transaction sees
    /// it, and of the keys.
    Backup(Reply<Vec<u8>>),
    /// What a restored store still waits for; with `skip`, stop waiting (the operator's
    /// override).
    CatchUp {
        skip: bool,
        reply: Reply<CatchUpView>,
    },
    /// A signed sync file of what `body` lacks beyond `since` (`docs/sync-files.md`).
    SyncExport {
        body: BodyId,
        since: Option<Receipt>,
        reply: Reply<Vec<u8>>,
    },
    /// A verified sync file's messages, taken as from a peer.
    SyncImport {
        file: SyncFile,
        reply: Reply<ImportReport>,
    },
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

    /// A sync file for `body`: what it lacks of the agendas it shares with this body,
    /// beyond what its receipt `since` reports.
    pub async fn sync_export(
        &self,
        body: BodyId,
        since: Option<Receipt>,
    ) -> Result<Vec<u8>, NodeError> {
        self.ask(|reply| Command::Ops(OpsCommand::SyncExport { body, since, reply }))
            .await
    }

    /// Imports a sync file: its signature is checked before anything is read, then its
    /// messages are taken as from a peer. Answers what was taken and the receipt.
    pub async fn sync_import(&self, bytes: Vec<u8>) -> Result<ImportReport, NodeError> {
        let file = tokio::task::spawn_blocking(move || SyncFile::decode(&bytes))
            .await
            .map_err(|_| NodeError::Stopped)?
            .map_err(|e| NodeError::Refused {
                en: format!("{e}; nothing was imported"),
                zh: format!("{}；未导入任何内容", e.zh()),
            })?;
        self.ask(|reply| Command::Ops(OpsCommand::SyncImport { file, reply }))
            .await
    }
}
