//! The event loop's member commands: list and reload this body's member keys, stop one
//! (before its revocation is signed) and take revocations in.

use confer_protocol::{Certificate, PublicKey};

use super::EventLoop;
use crate::handle::{MemberCommand, NodeError};
use crate::runtime::NodeFailure;
use crate::store::{Store, StoreError};
use crate::views::{MemberView, Reach};

/// Meta key: member keys this node stopped writing with (32-byte keys, concatenated).
const FROZEN_KEY: &str = "node.frozen_members";

/// The member keys this node stopped writing with.
pub(crate) fn frozen_members(store: &Store) -> Result<Vec<PublicKey>, StoreError> {
    let raw = store.meta_get(FROZEN_KEY)?.unwrap_or_default();
    Ok(raw
        .chunks_exact(32)
        .filter_map(|c| <[u8; 32]>::try_from(c).ok())
        .map(PublicKey::from_bytes)
        .collect())
}

impl EventLoop {
    pub(super) fn member_view(&self, cert: &Certificate) -> MemberView {
        MemberView {
            key: cert.key.to_string(),
            name: cert.subject_name().to_owned(),
            role: cert
                .role()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            can_sign: cert.can_sign(),
            revoked: self.replica.revocations().is_revoked(&cert.body, &cert.key)
                || self.replica.is_frozen(&cert.key),
        }
    }

    fn member_views(&self) -> Vec<MemberView> {
        self.replica
            .members()
            .map(|c| self.member_view(c))
            .collect()
    }

    pub(super) fn on_member_command(&mut self, command: MemberCommand) -> Result<(), NodeFailure> {
        match command {
            MemberCommand::List(reply) => {
                let _ = reply.send(Ok(self.member_views()));
            }
            MemberCommand::Reload(reply) => {
                let result = crate::identity::members::load_members(&self.config.data_dir)
                    .map_err(|e| NodeError::BadInput(e.to_string()))
                    .and_then(|members| {
                        for (secret, cert) in members {
                            self.replica
                                .add_member(secret, cert)
                                .map_err(|e| NodeError::BadInput(e.to_string()))?;
                        }
                        Ok(self.member_views())
                    });
                let _ = reply.send(result);
            }
            MemberCommand::Freeze(key, reply) => {
                if !self.replica.members().any(|c| c.key == key) {
                    let _ = reply.send(Err(NodeError::BadInput(format!(
                        "no member key {key} of this body on this node"
                    ))));
                    return Ok(());
                }
                if !self.replica.is_frozen(&key) {
                    let mut frozen = frozen_members(&self.store)?;
                    frozen.push(key);
                    let raw: Vec<u8> = frozen.iter().flat_map(|k| *k.as_bytes()).collect();
                    self.store.meta_put(FROZEN_KEY, &raw)?;
                    self.replica.freeze_member(key);
                    tracing::info!(key = %key.fmt_short(), "member key stopped; waiting for its revocation");
                }
                let reach = Reach {
                    body: self.replica.identity().body().to_string(),
                    key: key.to_string(),
                    spaces: self
                        .replica
                        .reach_of(&key)
                        .into_iter()
                        .map(|(space, seq)| (space.to_string(), seq))
                        .collect(),
                    since: crate::runtime::unix_now(),
                };
                let _ = reply.send(Ok(reach));
            }
            MemberCommand::ReloadChain(reply) => {
                match crate::identity::body_chain(&self.config.data_dir) {
                    Ok(chain) => {
                        for cert in chain {
                            let fx = self.replica.add_own_body_key(cert);
                            self.carry_out(fx)?;
                        }
                        let _ = reply.send(Ok(()));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(NodeError::BadInput(e.to_string())));
                    }
                }
            }
            MemberCommand::Revoke(revocations, reply) => {
                let mut fxs = Vec::new();
                let mut refused = None;
                for r in revocations {
                    match self.replica.add_revocation(r) {
                        Ok(fx) => fxs.push(fx),
                        Err(e) => refused = Some(e.to_string()),
                    }
                }
                for fx in fxs {
                    self.carry_out(fx)?;
                }
                let _ = reply.send(match refused {
                    Some(e) => Err(NodeError::BadInput(e)),
                    None => Ok(()),
                });
            }
        }
        Ok(())
    }
}
