//! What a node tells its peers about its software, and what it makes of theirs.
//!
//! The identify protocol's agent string carries it: `confer/<release> sync/<message
//! version> store/<store schema>`, e.g. `confer/0.1.0 sync/1 store/3`. It travels outside
//! the sync protocol, so adding it changed no message: a node from before sends
//! `confer/<release>` alone and is read as such (its sync version unknown). `status`
//! shows each connected peer's software and says when it differs from this node's: a
//! peer on another sync message version cannot sync with this node (each refuses the
//! other's messages as `unknown message version`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use confer_protocol::sync::MESSAGE_VERSION;

/// The agent string this node announces.
pub fn agent() -> String {
    format!(
        "confer/{} sync/{MESSAGE_VERSION} store/{}",
        crate::store::RELEASE,
        crate::store::SCHEMA_VERSION
    )
}

/// A peer's software, as its agent string says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SoftwareView {
    /// The agent string as the peer sent it (shown escaped).
    pub agent: String,
    /// Its confer release, if the string names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Its sync message version (absent: a release from before it was announced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<u8>,
    /// Its store schema version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<u64>,
    /// It runs another release than this node.
    pub differs: bool,
    /// Its sync message version is known and differs from this node's: they cannot sync.
    pub incompatible: bool,
}

/// What `agent` (a peer's identify agent string) says.
pub fn software(agent: &str) -> SoftwareView {
    let agent: String = agent.chars().take(256).collect();
    let mut release = None;
    let mut sync = None;
    let mut store = None;
    for part in agent.split_whitespace() {
        if let Some(v) = part.strip_prefix("confer/") {
            release = Some(v.to_owned());
        } else if let Some(v) = part.strip_prefix("sync/") {
            sync = v.parse().ok();
        } else if let Some(v) = part.strip_prefix("store/") {
            store = v.parse().ok();
        }
    }
    SoftwareView {
        differs: release.as_deref() != Some(crate::store::RELEASE),
        incompatible: sync.is_some_and(|v| v != MESSAGE_VERSION),
        agent,
        release,
        sync,
        store,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_nodes_agent_reads_as_the_same_software() {
        let me = software(&agent());
        assert_eq!(me.release.as_deref(), Some(crate::store::RELEASE));
        assert_eq!(me.sync, Some(MESSAGE_VERSION));
        assert!(!me.differs && !me.incompatible);
    }

    #[test]
    fn older_and_newer_peers_are_told_apart() {
        let old = software("confer/0.0.9");
        assert!(old.differs && !old.incompatible && old.sync.is_none());
        let newer = software(&format!(
            "confer/99.0.0 sync/{} store/9",
            MESSAGE_VERSION + 1
        ));
        assert!(newer.differs && newer.incompatible);
        assert_eq!(newer.store, Some(9));
        let junk = software("rust-libp2p/0.1");
        assert!(junk.release.is_none() && junk.differs && !junk.incompatible);
    }
}
