//! Sync without a connection: what a file for another body holds.
//!
//! [`Replica::export_for`] lists, as the messages a member peer would have been sent, what
//! `body` lacks of every space both bodies are members of now: this node's `Hello` (its
//! node certificate and body-key chain, so the file says who sent it), the revocations of
//! scope `Later` it holds (`Revocations`, as sent on a connection), then per space a
//! `Push` carrying the genesis and the entries beyond the vector the body last reported
//! (in log order, cut into batches a peer accepts, each with the member certificates of
//! authors the body has not seen), the space's membership consents and the revocations
//! that decide something in it. Nothing of a space the body is not a member of now is
//! listed. The importing node takes these messages through [`Replica::handle_request`] as
//! it would from a peer, so they meet exactly the checks entries from the network meet.

use std::collections::BTreeMap;

use super::{batches, certs_for, Replica};
use crate::cert::BodyId;
use crate::revocation::Revocation;
use crate::space::{SpaceId, Vector};
use crate::sync::{Message, MAX_MESSAGE_CONSENTS, MAX_MESSAGE_REVOCATIONS};

impl Replica {
    /// The messages that bring `body` what it lacks, beyond `since` (what it reported it
    /// holds, per space; a space it did not report is sent whole). The spaces listed are
    /// those whose `Push` the messages hold, in order.
    pub fn export_for(
        &self,
        body: &BodyId,
        since: &BTreeMap<SpaceId, Vector>,
    ) -> (Vec<Message>, Vec<SpaceId>) {
        let own = self.identity.body();
        let mut out = vec![Message::Hello {
            node: self.identity.node_cert.clone(),
            chain: self.own_chain(),
        }];
        let mut listed = Vec::new();
        if *body == own {
            return (out, listed);
        }
        // Revocations that hold everywhere (a stolen node key's), as on a connection.
        let lasting: Vec<Revocation> = self.lasting_revocations().cloned().collect();
        for batch in lasting.chunks(MAX_MESSAGE_REVOCATIONS) {
            out.push(Message::Revocations {
                revocations: batch.to_vec(),
            });
        }
        for s in self.spaces.values() {
            if !s.is_member(body) || !s.is_member(&own) {
                continue;
            }
            let space = s.id();
            let theirs = since.get(&space).cloned().unwrap_or_default();
            let (missing, _) = s.missing_for(&theirs, usize::MAX, usize::MAX);
            let missing: Vec<_> = missing.into_iter().cloned().collect();
            let mut batches = batches(&missing, self.limits);
            if batches.is_empty() {
                // The genesis alone: the body learns the space even when nothing is new.
                batches.push(Vec::new());
            }
            let mut known = theirs;
            for (i, entries) in batches.into_iter().enumerate() {
                let certs = certs_for(&self.certs, s, &entries, &known);
                for e in &entries {
                    let seq = known.0.entry(e.author()).or_insert(0);
                    *seq = (*seq).max(e.seq());
                }
                out.push(Message::Push {
                    space,
                    genesis: (i == 0).then(|| s.genesis().clone()),
                    certs,
                    entries,
                });
            }
            for batch in s.consents().chunks(MAX_MESSAGE_CONSENTS) {
                out.push(Message::Membership {
                    space,
                    genesis: Some(s.genesis().clone()),
                    consents: batch.to_vec(),
                });
            }
            let bodies = s.all_bodies();
            let revocations: Vec<Revocation> = self
                .revocations
                .for_space(&bodies, &space, s.genesis().created_at)
                .cloned()
                .collect();
            for batch in revocations.chunks(MAX_MESSAGE_REVOCATIONS) {
                out.push(Message::Revoke {
                    space,
                    revocations: batch.to_vec(),
                });
            }
            listed.push(space);
        }
        (out, listed)
    }
}
