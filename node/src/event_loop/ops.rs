//! The event loop's operations commands: backups of the store (the read transaction is
//! begun here, on the loop, so the archive holds exactly what was committed before; it is
//! read and encoded on a blocking thread; the key files are added by the caller, so `run`
//! never reads the body key) and a restored store's catch-up.

use super::EventLoop;
use crate::backup::{rows, Archive};
use crate::handle::ops::OpsCommand;
use crate::handle::{MembershipCommand, NodeError};
use crate::runtime::{unix_now, NodeFailure};

impl EventLoop {
    pub(super) fn on_ops_command(&mut self, command: OpsCommand) -> Result<(), NodeFailure> {
        match command {
            OpsCommand::Backup(reply) => {
                let txn = match self.store.begin_read() {
                    Ok(txn) => txn,
                    Err(e) => {
                        let _ = reply.send(Err(NodeError::Storage(e.to_string())));
                        return Ok(());
                    }
                };
                // The store only: the node never reads the body key (nor hands any key
                // out through its API); the CLI adds the key files (`backup::with_keys`).
                tokio::task::spawn_blocking(move || {
                    let made = rows::dump(&txn).map(|tables| {
                        drop(txn);
                        Archive {
                            created_at: unix_now(),
                            files: Vec::new(),
                            tables,
                        }
                        .encode()
                    });
                    let _ = reply.send(made.map_err(|e| NodeError::Storage(e.to_string())));
                });
            }
            OpsCommand::SyncExport { body, since, reply } => {
                let _ = reply.send(self.sync_export(body, since));
            }
            OpsCommand::SyncImport { file, reply } => {
                let result = self.sync_import(file)?;
                let _ = reply.send(result);
            }
            OpsCommand::CatchUp { skip, reply } => {
                if skip {
                    self.skip_catch_up()?;
                }
                let _ = reply.send(Ok(self.catch_up_view()));
            }
        }
        Ok(())
    }

    /// The membership command, unless its space waits for catch-up (then it is answered
    /// with the refusal here): a restored node must not consent again on a state where it
    /// may already have consented.
    pub(super) fn membership_allowed(
        &self,
        command: MembershipCommand,
    ) -> Option<MembershipCommand> {
        let space = match &command {
            MembershipCommand::Invite { space, .. }
            | MembershipCommand::Consent { space, .. }
            | MembershipCommand::Leave { space, .. }
            | MembershipCommand::Remove { space, .. } => *space,
        };
        let Err(refused) = self.refuse_while_catching_up(&space) else {
            return Some(command);
        };
        let reply = match command {
            MembershipCommand::Invite { reply, .. }
            | MembershipCommand::Consent { reply, .. }
            | MembershipCommand::Leave { reply, .. }
            | MembershipCommand::Remove { reply, .. } => reply,
        };
        let _ = reply.send(Err(refused));
        None
    }
}
