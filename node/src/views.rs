//! What the node shows: plain, serialisable views of its state. The HTTP API sends these
//! as JSON and the CLI reads them back, so both sides share one definition, and the API's
//! OpenAPI document describes them from it (`ToSchema`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct BodyView {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusView {
    pub body: BodyView,
    pub region: String,
    pub member: MemberView,
    pub peer_id: String,
    /// Full multiaddrs, ending in `/p2p/<peer id>`.
    pub listen: Vec<String>,
    pub peers: Vec<PeerView>,
    /// Peers added with `peer add`, kept connected: every address.
    pub remembered: Vec<String>,
    /// Each remembered peer, its addresses and its state.
    #[serde(default)]
    pub remembered_peers: Vec<RememberedPeerView>,
    /// Each partner body a sync exchange completed with since this node started, when
    /// it last did (with any of its nodes), by body id. A body absent here has not synced
    /// since start.
    #[serde(default)]
    pub last_sync: Vec<LastSyncView>,
    pub spaces: Vec<SpaceView>,
    /// Bodies this node trusts (other than its own): they may introduce spaces here.
    #[serde(default)]
    pub trusted: Vec<BodyView>,
    /// Sync protocol traffic since start, by message kind.
    pub traffic: TrafficView,
    /// Certificates this node holds: its own two, those of its trusted bodies' nodes, of
    /// its spaces' creators, and the member certificates of the authors of entries it
    /// accepted or holds waiting for their dependencies. Every one taken from a peer was
    /// stored in the same transaction, so this grows exactly as the store's table does.
    #[serde(default)]
    pub certificates: usize,
    /// Records start-up found damaged in the data file and salvaged (skipped, or a log cut
    /// short to be fetched again from peers), one human-readable line each; empty for a
    /// sound file.
    #[serde(default)]
    pub damaged: Vec<String>,
    /// Entries signed with one of this node's own member keys that this node did not sign
    /// (since start): someone else holds a copy of the key, or this node was restored from
    /// an old backup.
    #[serde(default)]
    pub foreign_use: Vec<ForeignUseView>,
    /// Every equivocation this node holds evidence of, in all its spaces, sorted by
    /// (space, author, seq).
    #[serde(default)]
    pub equivocations: Vec<EquivocationView>,
    /// Restored from a backup: the agendas that take no edits yet, each with the member
    /// bodies it waits for (`confer catch-up`, `docs/backup.md`).
    #[serde(default)]
    pub catch_up: Vec<crate::backup::CatchUpSpace>,
    /// Large pulls from peers since start, the latest per space and peer: how many
    /// entries arrived of how many the peer holds beyond what this node held.
    #[serde(default)]
    pub progress: Vec<ProgressView>,
    /// Durable store commits since start and how long they took (`GET /metrics`).
    #[serde(default)]
    pub store_commits: crate::metrics::CommitLatencyView,
}

/// When this node last completed a sync exchange with a partner body: a pull answered to
/// its end or a push acknowledged, either way, with one of the body's nodes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct LastSyncView {
    pub body: BodyView,
    /// Unix seconds.
    pub at: u64,
    /// The node of that body it was with.
    pub peer: String,
}

impl StatusView {
    /// When this node last synced with `body` (its id), if since start.
    pub fn last_sync_with(&self, body: &str) -> Option<u64> {
        self.last_sync
            .iter()
            .find(|l| l.body.id == body)
            .map(|l| l.at)
    }
}

/// A catch-up: this node receiving a space from a peer that holds more of it, in batches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct ProgressView {
    /// The space, 64 hexadecimal characters.
    pub space: String,
    pub peer_id: String,
    /// The peer's body, once it proved it.
    pub body: Option<BodyView>,
    /// Entries received from this peer in this catch-up.
    pub received: u64,
    /// `received` plus what the peer's vector (its last answer) lists that this node
    /// still lacks; `received == total` when `done`.
    pub total: u64,
    /// `receiving`; `done` (nothing lacking); `stopped` (the peer disconnected, or sent
    /// nothing more that could be applied: the next sync round starts a new catch-up).
    pub state: String,
    /// Seconds since it started (until it ended).
    pub seconds: f64,
}

/// A member key caught signing two different entries at the same (author, seq) of a
/// space. This node keeps both signed entries as evidence (`GET
/// /v1/agendas/{space}/equivocations` serves them) and refuses the key in that space.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct EquivocationView {
    /// The space, 64 hexadecimal characters.
    pub space: String,
    /// The member key that signed both, 64 hexadecimal characters.
    pub author: String,
    /// The body it writes for in that space (the body its first entry there names, or
    /// else the one both entries name), with the body's name if a certificate here gives
    /// it; `None` if the two entries name different bodies and neither is known.
    pub body: Option<BodyView>,
    /// The member's name in that body's certificate for the key, if held here.
    pub member_name: Option<String>,
    /// The sequence number both entries claim.
    pub seq: u64,
    /// The signed entries at that seq (two), sorted by entry hash.
    pub entries: Vec<EvidenceEntryView>,
    /// When this node first stored the evidence, unix seconds; `None` for evidence stored
    /// by a version that did not record it.
    pub detected_at: Option<u64>,
    /// The member certificate the body issued for the key, hex (`Certificate::decode`),
    /// if held here. Only in `GET /v1/agendas/{id}/equivocations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The author's body resolved this fork (`confer member resolve-fork`): the change
    /// hash of the entry that stands; every member node keeps that one.
    #[serde(default)]
    pub resolved: Option<String>,
}

/// One entry of a piece of equivocation evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct EvidenceEntryView {
    /// The automerge change hash, hex: differs between the two entries unless the same
    /// change was signed for two bodies.
    pub change_hash: String,
    /// BLAKE3 of the entry's encoding, hex.
    pub entry_hash: String,
    /// The body the entry is signed for.
    pub body: BodyView,
    /// The entry's full encoding, hex (`Entry::decode`, then `Entry::verify`). Only in
    /// `GET /v1/agendas/{id}/equivocations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
}

/// Sync messages and their bytes (payload plus the 4-byte frame header), by kind.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct TrafficView {
    pub sent: BTreeMap<String, Counter>,
    pub received: BTreeMap<String, Counter>,
    /// Entries received from peers since start, by what became of them.
    #[serde(default)]
    pub entries: EntryCounts,
    /// Requests held back because their peer already has its share in flight (they go as
    /// earlier ones are answered).
    #[serde(default)]
    pub requests_waiting: usize,
    /// Requests to peers since start that got no usable answer (failed, timed out, or the
    /// answer did not decode); each is also logged as a warning.
    #[serde(default)]
    pub requests_failed: u64,
    /// Entries refused since start by kind of reason
    /// (`confer_protocol::space::Rejection::code`: `bad_signature`, `unauthorized`, …).
    #[serde(default)]
    pub rejected_by_reason: BTreeMap<String, u64>,
}

/// What became of the entries peers sent: applied (or waiting for their dependencies),
/// already held, or refused (each refusal is also logged as a warning naming the peer).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct EntryCounts {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Counter {
    pub messages: u64,
    pub bytes: u64,
}

impl TrafficView {
    pub(crate) fn count(map: &mut BTreeMap<String, Counter>, kind: &str, bytes: usize) {
        let c = map.entry(kind.to_owned()).or_default();
        c.messages += 1;
        c.bytes += bytes as u64 + 4;
    }

    /// Total over the given kinds (all kinds if empty), sent and received.
    pub fn total(&self, kinds: &[&str]) -> Counter {
        let mut out = Counter::default();
        for map in [&self.sent, &self.received] {
            for (k, c) in map {
                if kinds.is_empty() || kinds.contains(&k.as_str()) {
                    out.messages += c.messages;
                    out.bytes += c.bytes;
                }
            }
        }
        out
    }
}

/// An entry by one of this node's own member keys that this node did not sign.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ForeignUseView {
    pub space: String,
    pub key: String,
    /// The highest such seq seen.
    pub seq: u64,
    /// The peer it came from.
    pub peer: String,
    /// Unix seconds, when last seen.
    pub at: u64,
}

/// A member key of this body on this node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct MemberView {
    pub key: String,
    pub name: String,
    /// member, staff, secretary-general, chair or vice-chair.
    #[serde(default)]
    pub role: String,
    /// May sign joint outcomes for the body.
    #[serde(default)]
    pub can_sign: bool,
    /// Revoked by the body (or stopped on this node while its revocation is signed).
    #[serde(default)]
    pub revoked: bool,
}

/// How far a member key wrote in each space this body takes part in: what a revocation
/// of it states. The key writes nothing more on this node from the moment this is made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Reach {
    pub body: String,
    pub key: String,
    /// Space id → the key's last seq there (0: it wrote nothing).
    pub spaces: BTreeMap<String, u64>,
    /// Unix seconds when this was made: spaces created later are covered by one more
    /// revocation ("nothing of this key counts in spaces created after").
    pub since: u64,
}

impl Reach {
    /// The unsigned revocations of a key that wrote this far: one per space (its entries
    /// up to the seq stated stay) and one for the spaces created from `since` on. The body
    /// key signs them ([`confer_protocol::revocation::Revocation::sign`]).
    pub fn revocations(&self) -> Result<Vec<confer_protocol::revocation::Revocation>, String> {
        use confer_protocol::revocation::{Revocation, Scope};
        let body: confer_protocol::BodyId = self.body.parse().map_err(|e| format!("{e}"))?;
        let key: confer_protocol::PublicKey = self.key.parse().map_err(|e| format!("{e}"))?;
        let mut out = Vec::with_capacity(self.spaces.len() + 1);
        for (space, up_to) in &self.spaces {
            out.push(Revocation::unsigned(
                body,
                key,
                self.since,
                Scope::Space {
                    space: space.parse()?,
                    up_to: *up_to,
                },
            ));
        }
        out.push(Revocation::unsigned(body, key, self.since, Scope::Later));
        Ok(out)
    }
}

/// A peer added with `peer add`, and what became of dialling it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct RememberedPeerView {
    pub peer_id: String,
    /// Every address it was added with; the node dials them all at once.
    pub addresses: Vec<String>,
    /// `connected`, `dialing`, or `waiting` (for the next dial, after a failure).
    pub state: String,
    /// Unix seconds since when it is connected.
    #[serde(default)]
    pub connected_since: Option<u64>,
    /// The last dial that failed (kept after a later success, as history).
    #[serde(default)]
    pub last_error: Option<DialErrorView>,
    /// Seconds until the next dial, while waiting.
    #[serde(default)]
    pub next_dial_in: Option<u64>,
    /// Unix seconds when a sync exchange with it last completed (since start).
    #[serde(default)]
    pub last_sync: Option<u64>,
}

/// Why dialling a peer failed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DialErrorView {
    /// `wrong_peer_id` (another node answers at that address), `refused` (nothing listens
    /// on that port), `timeout`, `unreachable`, `denied` or `other`.
    pub kind: String,
    /// libp2p's own words (English), one line.
    pub detail: String,
    /// Unix seconds.
    pub at: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PeerView {
    pub peer_id: String,
    /// The address of each open connection to it, as this node sees it: the address
    /// dialled, or where an incoming connection came from. A connection through a relay
    /// ends in `/p2p-circuit/p2p/PEER_ID` when this node dialled it.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Set once the peer proved its body with a node certificate.
    pub body: Option<BodyView>,
    /// Its body is trusted: this node's operator added one of that body's nodes.
    pub trusted: bool,
    /// Its software, as it announced it (`crate::versions`); absent until it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<crate::versions::SoftwareView>,
    /// Unix seconds when a sync exchange with it last completed (since start).
    #[serde(default)]
    pub last_sync: Option<u64>,
    /// Its clock against this machine's, as it said once it proved its body; absent until
    /// then, or if its release does not tell it (`crate::net::clock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockView>,
}

/// A peer's clock reading.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ClockView {
    /// Its clock minus this machine's, in milliseconds (positive: it is ahead).
    pub skew_ms: i64,
    /// The round trip of the question; the skew is off by at most half of it.
    pub round_trip_ms: u64,
}

/// How far a member body holds a space, as this node knows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DeliveryView {
    pub body: BodyView,
    /// `current`: a connected node of that body holds everything this node holds of it;
    /// `behind`: a connected node holds it and is catching up (`missing` entries to go);
    /// `refused`: its node refused it (`reason`, `detail`, `at`); `waiting`: a node of
    /// it is connected and has not said yet; `offline`: none of its nodes is connected —
    /// it gets the space and every change when one connects.
    pub state: String,
    /// Entries this node holds that the body's best-placed connected node lacks.
    #[serde(default)]
    pub missing: u64,
    /// For `refused`: `not_trusted` (that body has not added this node), `not_accepted`
    /// (its operator has not accepted the invitation), `not_member`, `unknown_space`,
    /// `invalid`.
    #[serde(default)]
    pub reason: Option<String>,
    /// For `refused`: the refusing node's own words (English).
    #[serde(default)]
    pub detail: Option<String>,
    /// For `refused`: unix seconds of the last refusal.
    #[serde(default)]
    pub at: Option<u64>,
}

/// What a space's entries are, by writer, for people.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct AuthorCount {
    /// The member key.
    pub author: String,
    /// The body it writes for here, if it wrote anything yet.
    pub body: Option<BodyView>,
    /// Its entries applied here (its highest contiguous seq).
    pub entries: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SpaceView {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub members: Vec<BodyView>,
    /// `{author key → highest contiguous seq}`.
    pub vector: BTreeMap<String, u64>,
    pub entries: usize,
    pub pending: usize,
    /// Member keys caught signing two different entries at one seq.
    pub equivocators: Vec<String>,
    /// The vector by writer, each with its body.
    #[serde(default)]
    pub authors: Vec<AuthorCount>,
    /// Each other member body and how far it holds the space.
    #[serde(default)]
    pub delivery: Vec<DeliveryView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgendaSummary {
    pub id: String,
    pub title: String,
    pub members: Vec<BodyView>,
    pub entries: usize,
    /// An invitation this body's operator has not accepted (`confer agenda accept ID`):
    /// nothing of it is received or sent until then.
    #[serde(default)]
    pub invited: bool,
    /// For an invitation: the member bodies this node does not trust.
    #[serde(default)]
    pub untrusted: Vec<BodyView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ValueView {
    pub value: String,
    pub author: String,
    pub body: Option<BodyView>,
    pub member_name: Option<String>,
    /// The author's body has since revoked its key: this value, signed before, stands;
    /// nothing the key signs later counts.
    #[serde(default)]
    pub author_revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct FieldView {
    pub name: String,
    pub current: Option<ValueView>,
    /// Concurrent values that lost (same on every node).
    pub conflicts: Vec<ValueView>,
}

/// A workflow record of an agenda (a round, a suggestion, a body's feedback, …).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct RecordView {
    pub id: String,
    pub collection: String,
    /// The body whose area holds it; `None`: the shared part.
    pub area: Option<BodyView>,
    /// Who made it (`value` is empty).
    pub created_by: Option<ValueView>,
    /// The fields that have a value.
    pub fields: Vec<FieldView>,
}

impl RecordView {
    /// The current value of a field ("" if unset).
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.current.as_ref())
            .map_or("", |v| v.value.as_str())
    }
}

/// This body's ledger: topics, the annual plan, the expert pool.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct LedgerView {
    /// The ledger's space id (`None` before its first record).
    pub id: Option<String>,
    pub records: BTreeMap<String, Vec<RecordView>>,
}

impl LedgerView {
    pub fn records(&self, collection: &str) -> &[RecordView] {
        self.records.get(collection).map_or(&[], Vec::as_slice)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgendaView {
    pub id: String,
    pub created_by: BodyView,
    pub created_at: u64,
    pub members: Vec<BodyView>,
    pub fields: Vec<FieldView>,
    pub entries: usize,
    /// Signatures checked again just now.
    pub signatures_verified: usize,
    pub signatures_failed: Vec<String>,
    pub all_signatures_verified: bool,
    pub equivocators: Vec<String>,
    pub vector: BTreeMap<String, u64>,
    /// The equivocations this node holds evidence of in this agenda, sorted by (author,
    /// seq).
    #[serde(default)]
    pub equivocations: Vec<EquivocationView>,
    /// Member bodies that left or were removed, and changes waiting for consents.
    #[serde(default)]
    pub membership: MembershipView,
    /// The workflow records, by collection (`round`, `suggestion`, `handling`, …).
    #[serde(default)]
    pub records: BTreeMap<String, Vec<RecordView>>,
    /// How many records each collection holds, whether or not `records` lists them.
    #[serde(default)]
    pub record_counts: BTreeMap<String, usize>,
    /// The collections `records` lists when the request named some (`?records=`); absent:
    /// every collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records_listed: Option<Vec<String>>,
    /// Each other member body and how far it holds the agenda.
    #[serde(default)]
    pub delivery: Vec<DeliveryView>,
    /// Each outcome, whether it is adopted and which bodies signed its current text.
    #[serde(default)]
    pub outcomes: Vec<confer_protocol::model::agenda::outcomes::OutcomeStatus>,
}

impl AgendaView {
    /// The records of one collection.
    pub fn records(&self, collection: &str) -> &[RecordView] {
        // A view asked for some collections only (the CLI's) was asked for this one.
        debug_assert!(
            self.records_listed
                .as_ref()
                .is_none_or(|listed| listed.iter().any(|c| c == collection)),
            "the records of {collection} were not asked for"
        );
        self.records.get(collection).map_or(&[], Vec::as_slice)
    }
}

/// Which records an agenda view lists (`GET /v1/agendas/{id}?records=…`): the CLI asks for
/// what a command needs rather than the whole agenda, which at the workflow's size is
/// thousands of records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Only these collections.
    pub collections: Vec<String>,
    /// Only records whose id starts with this (lowercase hex).
    pub id_prefix: Option<String>,
    /// Only the record with this id and the records that name it in a field (a
    /// suggestion's handling units, submissions, …).
    pub naming: Option<String>,
}

impl RecordFilter {
    /// Whether the view lists `record` of `collection`.
    pub fn keeps(&self, collection: &str, record: &confer_protocol::model::RecordView) -> bool {
        if !self.collections.iter().any(|c| c == collection) {
            return false;
        }
        let id = record.id.to_string();
        if self
            .id_prefix
            .as_deref()
            .is_some_and(|prefix| !id.starts_with(prefix))
        {
            return false;
        }
        match self.naming.as_deref() {
            None => true,
            Some(named) => {
                id == named
                    || record.fields.iter().any(|f| {
                        f.current
                            .as_ref()
                            .is_some_and(|v| v.value.split(',').any(|part| part.trim() == named))
                    })
            }
        }
    }
}

/// A space's member bodies and the changes to them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct MembershipView {
    pub removed: Vec<BodyView>,
    /// Changes on the current state that do not have every consent yet.
    pub pending: Vec<PendingChangeView>,
}

/// A proposed change to a space's member bodies.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct PendingChangeView {
    /// Its id, to consent with (`confer agenda consent ID --change CHANGE`).
    pub id: String,
    /// `add` or `remove`.
    pub op: String,
    pub body: BodyView,
    /// For a removal: each of the body's member keys and the last seq of it that will
    /// count (what consenting agrees to keep).
    #[serde(default)]
    pub cutoffs: Vec<CutoffView>,
    pub consented: Vec<BodyView>,
    pub missing: Vec<BodyView>,
}

/// A member key and the last seq of it that counts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct CutoffView {
    pub key: String,
    pub up_to: u64,
}

impl AgendaView {
    /// The field called `name`, if the view has it.
    pub fn field(&self, name: &str) -> Option<&FieldView> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn text(&self, field: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == field)
            .and_then(|f| f.current.as_ref())
            .map_or("", |v| v.value.as_str())
    }
}

/// Created ids.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::RecordFilter;
    use confer_protocol::model::{Attributed, FieldView, RecordId, RecordView};
    use confer_protocol::SecretKey;

    fn record(collection: &'static str, id: u64, suggestion: &str) -> RecordView {
        let value = |v: &str| Attributed {
            value: v.to_owned(),
            author: SecretKey::from_seed([7; 32]).public(),
            body: None,
            body_name: None,
            member_name: None,
        };
        RecordView {
            id: RecordId::from_bytes(id.to_be_bytes()),
            collection,
            area: None,
            created_by: None,
            fields: vec![FieldView {
                name: "suggestion",
                current: (!suggestion.is_empty()).then(|| value(suggestion)),
                conflicts: Vec::new(),
            }],
        }
    }

    #[test]
    fn a_filter_keeps_its_collections_ids_and_the_records_naming_one() {
        let s = RecordId::from_bytes(0x0a00_0000_0000_0001u64.to_be_bytes()).to_string();
        let suggestion = record("suggestion", 0x0a00_0000_0000_0001, "");
        let unit = record("handling", 0x0b00_0000_0000_0002, &s);
        let other = record("handling", 0x0c00_0000_0000_0003, "0a00000000000009");
        let listing = |c: &[&str], id_prefix: Option<&str>, naming: Option<&str>| RecordFilter {
            collections: c.iter().map(|c| (*c).to_owned()).collect(),
            id_prefix: id_prefix.map(str::to_owned),
            naming: naming.map(str::to_owned),
        };
        let f = listing(&["handling"], None, None);
        assert!(!f.keeps("suggestion", &suggestion));
        assert!(f.keeps("handling", &unit) && f.keeps("handling", &other));
        let f = listing(&["suggestion", "handling"], Some("0a00"), None);
        assert!(f.keeps("suggestion", &suggestion));
        assert!(!f.keeps("handling", &unit));
        let f = listing(&["suggestion", "handling"], None, Some(&s));
        assert!(f.keeps("suggestion", &suggestion) && f.keeps("handling", &unit));
        assert!(!f.keeps("handling", &other), "names another suggestion");
    }
}
