//! What the node shows: plain, serialisable views of its state. The HTTP API sends these
//! as JSON and the CLI reads them back, so both sides share one definition.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BodyView {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusView {
    pub body: BodyView,
    pub region: String,
    pub member: MemberView,
    pub peer_id: String,
    /// Full multiaddrs, ending in `/p2p/<peer id>`.
    pub listen: Vec<String>,
    pub peers: Vec<PeerView>,
    /// Peers added with `peer add`, kept connected.
    pub remembered: Vec<String>,
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
}

/// Sync messages and their bytes (payload plus the 4-byte frame header), by kind.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrafficView {
    pub sent: BTreeMap<String, Counter>,
    pub received: BTreeMap<String, Counter>,
    /// Entries received from peers since start, by what became of them.
    #[serde(default)]
    pub entries: EntryCounts,
}

/// What became of the entries peers sent: applied (or waiting for their dependencies),
/// already held, or refused (each refusal is also logged as a warning naming the peer).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntryCounts {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberView {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ValueView {
    pub value: String,
    pub author: String,
    pub body: Option<BodyView>,
    pub member_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FieldView {
    pub name: String,
    pub current: Option<ValueView>,
    /// Concurrent values that lost (same on every node).
    pub conflicts: Vec<ValueView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

impl AgendaView {
    pub fn text(&self, field: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == field)
            .and_then(|f| f.current.as_ref())
            .map_or("", |v| v.value.as_str())
    }
}

/// Created ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
}
