//! Equivocation evidence as this node shows it. The protocol detects an equivocation (two
//! different entries signed by one key at one (author, seq) of a space) and refuses the
//! key; the store keeps both entries ([`crate::store::tables::EVIDENCE`]) and when this
//! node first stored them. This module keeps what `status` and `agenda show` list — who,
//! where, which seq, the two hashes, when — in memory, without the entries' bytes: those
//! are read from the store only when `GET /v1/agendas/{id}/equivocations` asks for them.

use std::collections::BTreeMap;

use confer_protocol::{BodyId, Entry, Equivocation, PublicKey, Replica, SpaceId};

use crate::store;
use crate::views::{BodyView, EquivocationView, EvidenceEntryView};

/// One signed entry of a piece of evidence, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signed {
    entry_hash: [u8; 32],
    change_hash: String,
    body: BodyId,
}

/// The evidence at one (space, author, seq).
#[derive(Debug, Clone, Default)]
struct Record {
    /// Sorted by entry hash, without repeats.
    entries: Vec<Signed>,
    detected_at: Option<u64>,
}

/// Every equivocation this node holds evidence of.
#[derive(Debug, Default)]
pub(crate) struct EvidenceBook {
    records: BTreeMap<(SpaceId, PublicKey, u64), Record>,
}

impl EvidenceBook {
    /// The book of the stored evidence rows. A row whose bytes do not decode to an entry
    /// at its own (space, author, seq) is left out, with one line saying so in the
    /// returned list (the key stays refused: that is decided from the row's key alone).
    pub(crate) fn restore(rows: &[store::Evidence]) -> (EvidenceBook, Vec<String>) {
        let mut book = EvidenceBook::default();
        let mut damaged = Vec::new();
        for row in rows {
            let space = SpaceId(row.space);
            let author = PublicKey::from_bytes(row.author);
            match Entry::decode(row.bytes.clone()) {
                Ok(entry)
                    if entry.space() == space
                        && entry.author() == author
                        && entry.seq() == row.seq
                        && entry.hash().0 == row.hash =>
                {
                    book.add(space, &entry, row.detected_at);
                }
                Ok(_) => damaged.push(format!(
                    "equivocation evidence in space {} by {} at seq {}: an entry does not match its record and was skipped; the key stays refused",
                    short(&row.space),
                    short(&row.author),
                    row.seq
                )),
                Err(e) => damaged.push(format!(
                    "equivocation evidence in space {} by {} at seq {}: an entry did not decode ({e}) and was skipped; the key stays refused",
                    short(&row.space),
                    short(&row.author),
                    row.seq
                )),
            }
        }
        (book, damaged)
    }

    /// Notes an equivocation just stored, first detected at `now` (unix seconds) unless
    /// already known.
    pub(crate) fn record(&mut self, space: SpaceId, eq: &Equivocation, now: u64) {
        for entry in [&eq.held, &eq.other] {
            self.add(space, entry, Some(now));
        }
    }

    fn add(&mut self, space: SpaceId, entry: &Entry, detected_at: Option<u64>) {
        let record = self
            .records
            .entry((space, entry.author(), entry.seq()))
            .or_default();
        // The first detection stays (as in the store).
        record.detected_at = record.detected_at.or(detected_at);
        let signed = Signed {
            entry_hash: entry.hash().0,
            change_hash: entry.change_hash().to_string(),
            body: entry.body(),
        };
        if let Err(at) = record
            .entries
            .binary_search_by(|s| s.entry_hash.cmp(&signed.entry_hash))
        {
            record.entries.insert(at, signed);
        }
    }

    /// The equivocations of `space` (of every space if `None`), sorted by (space, author,
    /// seq), with names from the replica's certificates.
    pub(crate) fn views(
        &self,
        space: Option<&SpaceId>,
        replica: &Replica,
    ) -> Vec<EquivocationView> {
        self.records
            .iter()
            .filter(|((s, _, _), _)| space.is_none_or(|want| want == s))
            .map(|((s, author, seq), record)| view(replica, s, author, *seq, record))
            .collect()
    }

    /// The evidence of `space` read back from the store, with each entry's bytes and the
    /// author's member certificate: what anyone can check offline.
    pub(crate) fn served(
        rows: &[store::Evidence],
        space: &SpaceId,
        replica: &Replica,
    ) -> Vec<EquivocationView> {
        let rows: Vec<store::Evidence> = rows
            .iter()
            .filter(|r| r.space == *space.as_bytes())
            .cloned()
            .collect();
        let (book, _) = EvidenceBook::restore(&rows);
        let mut views = book.views(Some(space), replica);
        for v in &mut views {
            for e in &mut v.entries {
                e.bytes = rows
                    .iter()
                    .find(|r| hex::encode(r.hash) == e.entry_hash)
                    .map(|r| hex::encode(&r.bytes));
            }
            let author = v.author.parse::<PublicKey>().ok();
            let body = v.body.as_ref().and_then(|b| b.id.parse::<BodyId>().ok());
            if let (Some(author), Some(body)) = (author, body) {
                v.certificate = replica
                    .certs()
                    .member_cert(&author, &body)
                    .map(|c| hex::encode(c.encode()));
            }
        }
        views
    }
}

fn view(
    replica: &Replica,
    space: &SpaceId,
    author: &PublicKey,
    seq: u64,
    record: &Record,
) -> EquivocationView {
    let certs = replica.certs();
    let body_view = |body: &BodyId| BodyView {
        id: body.to_string(),
        name: certs.body_name(body).map(str::to_owned),
    };
    // The body the author writes for here: its first entry's, if held; else the one both
    // entries of the evidence name.
    let named = record
        .entries
        .first()
        .map(|e| e.body)
        .filter(|first| record.entries.iter().all(|e| e.body == *first));
    let body = replica
        .space(space)
        .and_then(|s| s.author_body(author))
        .or(named);
    EquivocationView {
        space: space.to_string(),
        author: author.to_string(),
        body: body.as_ref().map(body_view),
        member_name: body
            .and_then(|b| certs.member_cert(author, &b))
            .map(|c| c.subject_name().to_owned()),
        seq,
        entries: record
            .entries
            .iter()
            .map(|e| EvidenceEntryView {
                change_hash: e.change_hash.clone(),
                entry_hash: hex::encode(e.entry_hash),
                body: body_view(&e.body),
                bytes: None,
            })
            .collect(),
        detected_at: record.detected_at,
        certificate: None,
        resolved: body.and_then(|b| {
            replica
                .revocations()
                .fork_pin(&b, author, space)
                .filter(|(at, _)| *at == seq)
                .map(|(_, stands)| hex::encode(stands))
        }),
    }
}

/// First 16 hex digits of a stored id, for the salvage report.
fn short(id: &[u8; 32]) -> String {
    format!("{}…", hex::encode(&id[..8]))
}

#[cfg(test)]
mod tests {
    use confer_protocol::model::AgendaEdit;
    use confer_protocol::{
        Certificate, Genesis, Identity, Limits, SecretKey, Space, SpaceKind, Subject,
    };

    use super::*;

    /// A body's replica, and an equivocation by its member key: two different first
    /// entries in one space.
    fn fork() -> (Replica, SpaceId, Equivocation) {
        let body = SecretKey::from_seed([1; 32]);
        let member = SecretKey::from_seed([2; 32]);
        let node = SecretKey::from_seed([3; 32]);
        let staff = Subject::member("秘书处", confer_protocol::Role::Staff);
        let member_cert =
            Certificate::issue(&body, "平湖市政协", member.public(), staff, 0).expect("cert");
        let identity = Identity {
            node_cert: Certificate::issue(&body, "平湖市政协", node.public(), Subject::Node, 0)
                .expect("cert"),
            member: member.clone(),
            member_cert: member_cert.clone(),
        };
        let genesis = Genesis::create(SpaceKind::Agenda, &[], 0, [0; 16], member_cert, &member)
            .expect("genesis");
        let id = genesis.id();
        let write = |title: &str| {
            let mut space = Space::new(genesis.clone());
            let edit = AgendaEdit {
                title: Some(title.into()),
                summary: None,
            };
            space
                .local_change(&member, identity.body(), 0, |tx| edit.apply(tx))
                .expect("local change")
                .expect("a change")
        };
        let (held, other) = (write("甲"), write("乙"));
        let eq = Equivocation {
            author: member.public(),
            seq: 1,
            held,
            other,
        };
        (Replica::new(identity, Limits::default()), id, eq)
    }

    fn row(id: &SpaceId, entry: &Entry, at: Option<u64>) -> store::Evidence {
        store::Evidence {
            space: id.0,
            author: *entry.author().as_bytes(),
            seq: entry.seq(),
            hash: entry.hash().0,
            bytes: entry.bytes().to_vec(),
            detected_at: at,
        }
    }

    #[test]
    fn the_first_detection_stays_and_names_come_from_the_certificates() {
        let (replica, id, eq) = fork();
        let mut book = EvidenceBook::default();
        book.record(id, &eq, 100);
        book.record(id, &eq, 200);
        let views = book.views(None, &replica);
        assert_eq!(views.len(), 1);
        let v = &views[0];
        assert_eq!(v.detected_at, Some(100));
        assert_eq!((v.space.as_str(), v.seq), (id.to_string().as_str(), 1));
        assert_eq!(v.author, eq.author.to_string());
        // The replica does not hold the space: the body is the one both entries name.
        let body = v.body.as_ref().expect("body");
        assert_eq!(body.id, replica.identity().body().to_string());
        assert_eq!(body.name.as_deref(), Some("平湖市政协"));
        assert_eq!(v.member_name.as_deref(), Some("秘书处"));
        let mut expected: Vec<([u8; 32], String)> = [&eq.held, &eq.other]
            .iter()
            .map(|e| (e.hash().0, e.change_hash().to_string()))
            .collect();
        expected.sort();
        let hashes: Vec<String> = expected.into_iter().map(|(_, c)| c).collect();
        assert_ne!(hashes[0], hashes[1]);
        let listed: Vec<String> = v.entries.iter().map(|e| e.change_hash.clone()).collect();
        assert_eq!(listed, hashes, "sorted by entry hash");
        assert!(book.views(Some(&SpaceId([9; 32])), &replica).is_empty());
    }

    #[test]
    fn stored_rows_restore_and_serve_and_damaged_ones_are_reported() {
        let (replica, id, eq) = fork();
        let mut garbage = row(&id, &eq.other, Some(5));
        garbage.bytes = b"not an entry".to_vec();
        garbage.hash = [7; 32];
        let mut elsewhere = row(&id, &eq.other, Some(5));
        elsewhere.seq = 2;
        let rows = vec![row(&id, &eq.held, Some(5)), garbage, elsewhere];
        let (book, damaged) = EvidenceBook::restore(&rows);
        assert_eq!(damaged.len(), 2, "{damaged:?}");
        assert!(damaged[0].contains("did not decode"), "{damaged:?}");
        assert!(damaged[1].contains("does not match"), "{damaged:?}");
        let views = book.views(Some(&id), &replica);
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].entries.len(), 1);
        assert_eq!(views[0].detected_at, Some(5));

        let rows = vec![row(&id, &eq.held, None), row(&id, &eq.other, None)];
        let served = EvidenceBook::served(&rows, &id, &replica);
        assert_eq!(served.len(), 1);
        assert_eq!(served[0].detected_at, None);
        for e in &served[0].entries {
            let bytes = hex::decode(e.bytes.as_deref().expect("bytes")).expect("hex");
            let entry = Entry::decode(bytes).expect("decodes");
            entry.verify().expect("verifies");
            assert_eq!(entry.change_hash().to_string(), e.change_hash);
        }
        let cert = Certificate::decode(
            &hex::decode(served[0].certificate.as_deref().expect("certificate")).expect("hex"),
        )
        .expect("certificate decodes");
        assert_eq!(cert.key, eq.author);
    }
}
