//! The event loop's side of sync files (`crate::sync_file`): exporting what a body lacks,
//! and importing a verified file as if its messages came from the exporting node over a
//! connection — through [`confer_protocol::Replica::handle_request`], the path every
//! peer's request takes, so entries, certificates, consents and revocations from a file
//! meet exactly the checks they meet from the network. The file's signature stands in
//! for the connection's authentication: the sender is the node key that signed it, which
//! its `Hello` must certify for its body.
//!
//! What the replica would send back to that "peer" (answers, pulls) goes nowhere;
//! forwards to connected member peers go out as usual. Once imported, the sender is
//! forgotten again unless it is connected for real.

use std::collections::BTreeMap;

use confer_protocol::{BodyId, Event, Message, PeerKey, SpaceId};

use super::EventLoop;
use crate::handle::NodeError;
use crate::runtime::{unix_now, NodeFailure};
use crate::sync_file::{ImportReport, ImportedSpace, Receipt, SyncFile, RECEIPT_FORMAT};

impl EventLoop {
    /// The signed file of what `body` lacks beyond its receipt `since`.
    pub(super) fn sync_export(
        &self,
        body: BodyId,
        since: Option<Receipt>,
    ) -> Result<Vec<u8>, NodeError> {
        let since = match since {
            None => BTreeMap::new(),
            Some(receipt) => {
                if receipt.body != body.to_string() {
                    return Err(NodeError::Refused {
                        en: format!("that receipt was written by body {}, not by {body}: give the receipt that body sent back", receipt.body),
                        zh: format!("该回执由机构 {} 写出，而非 {body}：请使用该机构寄回的回执", receipt.body),
                    });
                }
                receipt.vectors().map_err(|e| NodeError::Refused {
                    en: format!("the receipt does not read: {e}"),
                    zh: "回执无法读取：其中的议题编号或成员密钥有误".into(),
                })?
            }
        };
        let (messages, _) = self.replica.export_for(&body, &since);
        let file = SyncFile {
            created_at: unix_now(),
            from: self.node_key.public(),
            for_body: body,
            messages,
        };
        Ok(file.encode(&self.node_key))
    }

    /// Takes a verified file's messages as from its sender; answers what each space took
    /// and the receipt.
    pub(super) fn sync_import(
        &mut self,
        file: SyncFile,
    ) -> Result<Result<ImportReport, NodeError>, NodeFailure> {
        let own = self.replica.identity().body();
        if file.for_body != own {
            return Ok(Err(NodeError::Refused {
                en: format!(
                    "this file was made for body {}, not for this body ({own}); nothing was imported",
                    file.for_body
                ),
                zh: format!(
                    "该文件是为机构 {} 制作的，而非本机构（{own}）；未导入任何内容",
                    file.for_body
                ),
            }));
        }
        let peer: PeerKey = file.from;
        if peer == self.replica.identity().node_cert.key {
            return Ok(Err(NodeError::Refused {
                en: "this file was exported by this node itself; nothing was imported".into(),
                zh: "该文件由本节点自己导出；未导入任何内容".into(),
            }));
        }
        let connected = self.peer_ids.contains_key(&peer);
        let mut spaces: BTreeMap<SpaceId, ImportedSpace> = BTreeMap::new();
        let mut sender: Option<BodyId> = None;
        for message in file.messages {
            let hello = matches!(message, Message::Hello { .. });
            let space = message.space();
            let (response, mut fx) = self.replica.handle_request(peer, message);
            fx.send.retain(|(to, _)| *to != peer);
            self.claim_own_entries(&mut fx);
            for event in &fx.events {
                note(&mut spaces, peer, event);
            }
            self.carry_out(fx)?;
            if let Message::Refused { detail, .. } = &response {
                if hello {
                    if !connected {
                        self.replica.disconnected(&peer);
                    }
                    return Ok(Err(NodeError::Refused {
                        en: format!("the file's sender could not be identified ({detail}); nothing was imported"),
                        zh: "无法确认该文件的发送方（其节点证书未通过核验，或该节点密钥已被其机构撤销）；未导入任何内容".into(),
                    }));
                }
                if let Some(space) = space {
                    entry(&mut spaces, space).refusals.push(detail.clone());
                }
            } else if let Some(space) = space {
                entry(&mut spaces, space);
            }
            if hello {
                sender = self.replica.peer_body(&peer);
            }
        }
        let Some(from) = sender else {
            return Ok(Err(NodeError::Refused {
                en: "the file's sender was not identified; nothing was imported".into(),
                zh: "无法确认该文件的发送方；未导入任何内容".into(),
            }));
        };
        // The file held everything its sender had of each space it lists beyond our
        // receipt: a restored store counts that as synced with that body.
        let complete: Vec<SpaceId> = spaces
            .iter()
            .filter(|(id, s)| s.refusals.is_empty() && self.replica.space(id).is_some())
            .map(|(id, _)| *id)
            .collect();
        for space in complete {
            self.caught_up_with(space, from)?;
        }
        if !connected {
            self.replica.disconnected(&peer);
        }
        let receipt = Receipt {
            format: RECEIPT_FORMAT.into(),
            body: own.to_string(),
            from: from.to_string(),
            file_created_at: file.created_at,
            spaces: self
                .replica
                .spaces()
                .filter(|s| s.is_member(&from) && s.is_member(&own))
                .map(|s| {
                    let vector = s.vector();
                    let authors = vector
                        .0
                        .iter()
                        .map(|(a, seq)| (a.to_string(), *seq))
                        .collect();
                    (s.id().to_string(), authors)
                })
                .collect(),
        };
        tracing::info!(from = %from.fmt_short(), spaces = spaces.len(), "imported a sync file");
        Ok(Ok(ImportReport {
            from: self.body_view(&from),
            spaces: spaces.into_values().collect(),
            receipt,
        }))
    }
}

fn entry(spaces: &mut BTreeMap<SpaceId, ImportedSpace>, space: SpaceId) -> &mut ImportedSpace {
    spaces.entry(space).or_insert_with(|| ImportedSpace {
        space: space.to_string(),
        ..ImportedSpace::default()
    })
}

/// Counts what the replica reports of the file's messages.
fn note(spaces: &mut BTreeMap<SpaceId, ImportedSpace>, peer: PeerKey, event: &Event) {
    match event {
        Event::Received {
            peer: p,
            space,
            accepted,
            duplicates,
            pending,
        } if *p == peer => {
            let s = entry(spaces, *space);
            s.accepted += accepted;
            s.duplicates += duplicates;
            s.pending = *pending;
        }
        Event::EntriesRejected {
            peer: p,
            space,
            count,
            reason,
            ..
        } if *p == peer => {
            let s = entry(spaces, *space);
            s.rejected += count;
            s.refusals.push(reason.clone());
        }
        _ => {}
    }
}
