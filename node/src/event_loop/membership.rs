//! The event loop's membership commands: invite a body into an agenda, consent to a
//! pending change, leave; and the agenda view's membership part.

use confer_protocol::membership::{Change, Op};
use confer_protocol::Space;

use super::EventLoop;
use crate::handle::{MembershipCommand, NodeError};
use crate::runtime::{unix_now, NodeFailure};
use crate::views::{CutoffView, MembershipView, PendingChangeView};

impl EventLoop {
    pub(super) fn on_membership_command(
        &mut self,
        command: MembershipCommand,
    ) -> Result<(), NodeFailure> {
        let bad = |e: confer_protocol::ReplicaError| NodeError::BadInput(e.to_string());
        match command {
            MembershipCommand::Invite {
                space,
                body,
                author,
                reply,
            } => {
                if !self.replica.is_trusted(&body) {
                    let _ = reply.send(Err(NodeError::UnknownBody(body.to_string())));
                    return Ok(());
                }
                let result = self
                    .replica
                    .propose_add(&space, body, author.as_ref(), unix_now())
                    .map_err(bad);
                self.answer_change(result, reply)?;
            }
            MembershipCommand::Consent {
                space,
                change,
                author,
                withdraw,
                reply,
            } => {
                let prefix = change.trim().to_ascii_lowercase();
                let mut matches: Vec<Change> = self
                    .replica
                    .space(&space)
                    .map(|s| {
                        s.consents()
                            .iter()
                            .map(|c| c.change.clone())
                            .filter(|c| c.withdraws().is_none())
                            .filter(|c| hex::encode(c.id()).starts_with(&prefix))
                            .collect()
                    })
                    .unwrap_or_default();
                matches.sort();
                matches.dedup();
                let found = match matches.len() {
                    1 => matches.remove(0),
                    0 => {
                        let _ = reply.send(Err(NodeError::BadInput(format!(
                            "no proposed change {change} in agenda {space}"
                        ))));
                        return Ok(());
                    }
                    n => {
                        let list: Vec<String> =
                            matches.iter().map(|c| hex::encode(c.id())).collect();
                        let _ = reply.send(Err(NodeError::BadInput(format!(
                            "{n} proposed changes in agenda {space} start with {change}: {}; give more of its id",
                            list.join(", ")
                        ))));
                        return Ok(());
                    }
                };
                let result = if withdraw {
                    tracing::info!(space = %space, change = %hex::encode(found.id()), "the operator withdraws this body's consent to a membership change");
                    self.replica
                        .withdraw_consent(&found, author.as_ref(), unix_now())
                        .map(|(_, fx)| (found, fx))
                        .map_err(bad)
                } else {
                    self.replica
                        .consent(found.clone(), author.as_ref())
                        .map(|fx| (found, fx))
                        .map_err(bad)
                };
                self.answer_change(result, reply)?;
            }
            MembershipCommand::Remove {
                space,
                body,
                author,
                reply,
            } => {
                let result = self
                    .replica
                    .propose_remove(&space, body, author.as_ref(), unix_now())
                    .map_err(bad);
                self.answer_change(result, reply)?;
            }
            MembershipCommand::Leave {
                space,
                author,
                reply,
            } => {
                let result = self
                    .replica
                    .propose_leave(&space, author.as_ref(), unix_now())
                    .map_err(bad);
                self.answer_change(result, reply)?;
            }
        }
        Ok(())
    }

    fn answer_change(
        &mut self,
        result: Result<(Change, confer_protocol::Effects), NodeError>,
        reply: tokio::sync::oneshot::Sender<Result<String, NodeError>>,
    ) -> Result<(), NodeFailure> {
        match result {
            Ok((change, fx)) => {
                self.carry_out(fx)?;
                let _ = reply.send(Ok(hex::encode(change.id())));
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
        Ok(())
    }

    pub(super) fn membership_view(&self, s: &Space) -> MembershipView {
        let members = s.members();
        let mut seen = std::collections::BTreeSet::new();
        let pending = s
            .consents()
            .iter()
            .map(|c| &c.change)
            .filter(|c| c.prev == members.tip && seen.insert(c.id()))
            .filter_map(|change| {
                let body = change.body()?;
                let consented: Vec<_> =
                    confer_protocol::membership::consenting(change, s.consents())
                        .into_iter()
                        .collect();
                Some(PendingChangeView {
                    id: hex::encode(change.id()),
                    op: match change.op {
                        Op::Add(_) => "add".into(),
                        Op::Remove { .. } => "remove".into(),
                        Op::Withdraw(_) => "withdraw".into(),
                    },
                    body: self.body_view(&body),
                    cutoffs: match &change.op {
                        Op::Remove { cutoffs, .. } => cutoffs
                            .iter()
                            .map(|(key, up_to)| CutoffView {
                                key: key.to_string(),
                                up_to: *up_to,
                            })
                            .collect(),
                        Op::Add(_) | Op::Withdraw(_) => Vec::new(),
                    },
                    consented: self.bodies(&consented),
                    missing: self.bodies(&members.missing(change, s.consents())),
                })
            })
            .collect();
        MembershipView {
            removed: self.bodies(&members.removed.keys().copied().collect::<Vec<_>>()),
            pending,
        }
    }
}
