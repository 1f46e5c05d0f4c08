//! Sync files, for partners with no network path between them (`confer sync export`,
//! `confer sync import`), and the receipts carried back. Format: `docs/sync-files.md`.
//!
//! A sync file is the sync messages a member peer would have been sent
//! ([`confer_protocol::Replica::export_for`]), signed as a whole by the exporting node's
//! key, the key its `Hello` (the first message) certifies for its body. Invariants:
//! - [`SyncFile::decode`] checks the signature over every byte before it decodes a single
//!   message, so a file altered anywhere is refused whole and changes nothing;
//! - it names the body it was made for, and a node imports only files made for its body;
//! - every message is decoded by the sync protocol's own decoder with its limits, and a
//!   file holds at most [`MAX_MESSAGES`] messages of at most [`MAX_MESSAGE_BYTES`] each.

use std::collections::BTreeMap;

use confer_protocol::keys::Domain;
use confer_protocol::{BodyId, Message, PublicKey, SecretKey, Signature, SpaceId, Vector};
use serde::{Deserialize, Serialize};

/// The file's first bytes.
pub const MAGIC: &[u8; 12] = b"confer-sync\n";
/// The format this program writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// What the node key signs: this domain, then every byte of the file before the signature.
pub const DOMAIN: Domain = Domain(b"confer/sync-file/v1");
/// Most messages one file holds.
pub const MAX_MESSAGES: usize = 1_000_000;
/// Largest message in a file: what the network's frame codec takes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// The receipt's `format` value.
pub const RECEIPT_FORMAT: &str = "confer-sync-receipt/1";

/// Why a sync file was refused. Nothing of it was imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncFileError {
    #[error("the file is not a confer sync file")]
    NotASyncFile,
    #[error("sync file format {0} is not one this program reads (it reads {FORMAT_VERSION})")]
    Format(u32),
    #[error("the file was altered or damaged: its signature does not verify")]
    Signature,
    #[error("the file is damaged: {0}")]
    Damaged(String),
}

impl SyncFileError {
    /// The error in Chinese.
    pub fn zh(&self) -> String {
        match self {
            SyncFileError::NotASyncFile => "该文件不是 confer 同步文件".into(),
            SyncFileError::Format(v) => {
                format!(
                    "同步文件格式 {v} 不是本程序能读取的格式（本程序读取格式 {FORMAT_VERSION}）"
                )
            }
            SyncFileError::Signature => "文件已被改动或损坏：签名验证不通过".into(),
            SyncFileError::Damaged(what) => format!("文件已损坏：{what}"),
        }
    }
}

/// A decoded, verified sync file.
#[derive(Debug, Clone)]
pub struct SyncFile {
    pub created_at: u64,
    /// The exporting node's key (its `Hello` certifies it for its body).
    pub from: PublicKey,
    /// The body it was made for.
    pub for_body: BodyId,
    /// The messages, `Hello` first.
    pub messages: Vec<Message>,
}

impl SyncFile {
    /// The signed file.
    pub fn encode(&self, node_key: &SecretKey) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        out.extend_from_slice(&self.created_at.to_be_bytes());
        out.extend_from_slice(node_key.public().as_bytes());
        out.extend_from_slice(self.for_body.0.as_bytes());
        out.extend_from_slice(&(self.messages.len() as u64).to_be_bytes());
        for m in &self.messages {
            let bytes = m.encode();
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(&bytes);
        }
        let signature = node_key.sign(DOMAIN, &out);
        out.extend_from_slice(&signature.0);
        out
    }

    /// Checks the signature, then decodes; refuses the whole file on any fault.
    pub fn decode(bytes: &[u8]) -> Result<SyncFile, SyncFileError> {
        let header = MAGIC.len() + 4 + 8 + 32 + 32 + 8;
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(SyncFileError::NotASyncFile);
        }
        if bytes.len() < header + 64 {
            return Err(SyncFileError::Damaged("it ends too early".into()));
        }
        let mut r = Reader {
            bytes: &bytes[MAGIC.len()..],
        };
        let version = u32::from_be_bytes(r.array()?);
        if version != FORMAT_VERSION {
            return Err(SyncFileError::Format(version));
        }
        let (signed, signature) = bytes.split_at(bytes.len() - 64);
        let created_at = u64::from_be_bytes(r.array()?);
        let from = PublicKey::from_bytes(r.array()?);
        let mut sig = [0u8; 64];
        sig.copy_from_slice(signature);
        from.verify(DOMAIN, signed, &Signature(sig))
            .map_err(|_| SyncFileError::Signature)?;
        let for_body = BodyId(PublicKey::from_bytes(r.array()?));
        let count = u64::from_be_bytes(r.array()?);
        let count = usize::try_from(count)
            .ok()
            .filter(|n| *n <= MAX_MESSAGES)
            .ok_or_else(|| SyncFileError::Damaged(format!("it claims {count} messages")))?;
        let mut r = Reader {
            bytes: &signed[header..],
        };
        let mut messages = Vec::with_capacity(count.min(1024));
        for i in 0..count {
            let len = u64::from_be_bytes(r.array()?);
            let len = usize::try_from(len)
                .ok()
                .filter(|n| *n <= MAX_MESSAGE_BYTES)
                .ok_or_else(|| SyncFileError::Damaged(format!("message {i} claims {len} bytes")))?;
            let m = Message::decode(r.take(len)?)
                .map_err(|e| SyncFileError::Damaged(format!("message {i}: {e}")))?;
            messages.push(m);
        }
        if !r.bytes.is_empty() {
            return Err(SyncFileError::Damaged(
                "bytes after the last message".into(),
            ));
        }
        if !matches!(messages.first(), Some(Message::Hello { .. })) {
            return Err(SyncFileError::Damaged(
                "it does not begin with its sender's hello".into(),
            ));
        }
        Ok(SyncFile {
            created_at,
            from,
            for_body,
            messages,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SyncFileError> {
        if self.bytes.len() < n {
            return Err(SyncFileError::Damaged("it ends too early".into()));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SyncFileError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

/// What an importing node holds of the spaces it shares with the exporting body, carried
/// back so the next export holds only the difference (`--since`). JSON; not signed: a
/// wrong receipt makes the next file larger or leaves out what the other side then pulls
/// with a later receipt, and changes nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`].
    pub format: String,
    /// The body that imported and holds this (the one the next export is for).
    pub body: String,
    /// The body whose file was imported.
    pub from: String,
    /// When the imported file was made (unix seconds).
    pub file_created_at: u64,
    /// Per space id: per author key, the last seq held.
    pub spaces: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Receipt {
    /// The vectors it reports, checked; an error names what does not read.
    pub fn vectors(&self) -> Result<BTreeMap<SpaceId, Vector>, String> {
        if self.format != RECEIPT_FORMAT {
            return Err(format!("not a receipt of format {RECEIPT_FORMAT}"));
        }
        let mut out = BTreeMap::new();
        for (space, authors) in &self.spaces {
            let id: SpaceId = space
                .parse()
                .map_err(|_| format!("{space} is not an agenda id"))?;
            let mut v = Vector::default();
            for (author, seq) in authors {
                let key: PublicKey = author
                    .parse()
                    .map_err(|_| format!("{author} is not a member key"))?;
                v.0.insert(key, *seq);
            }
            out.insert(id, v);
        }
        Ok(out)
    }
}

/// What one import did, per space.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportedSpace {
    pub space: String,
    pub accepted: usize,
    pub duplicates: usize,
    /// Entries waiting for others they depend on.
    pub pending: usize,
    /// Entries refused, and why (the same checks as entries from a peer).
    pub rejected: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<String>,
}

/// What `sync import` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// The body that made the file.
    pub from: crate::views::BodyView,
    pub spaces: Vec<ImportedSpace>,
    /// The receipt to carry back to that body.
    pub receipt: Receipt,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed([n; 32])
    }

    #[test]
    fn any_altered_byte_is_refused_before_decoding() {
        let node = key(1);
        let file = SyncFile {
            created_at: 7,
            from: node.public(),
            for_body: BodyId(key(2).public()),
            messages: vec![Message::PushAck {
                space: SpaceId([3; 32]),
                vector: Vector::default(),
            }],
        };
        let bytes = file.encode(&node);
        // Not beginning with a hello: refused, but only after the signature held.
        assert!(matches!(
            SyncFile::decode(&bytes),
            Err(SyncFileError::Damaged(_))
        ));
        for at in MAGIC.len() + 4..bytes.len() {
            let mut altered = bytes.clone();
            altered[at] ^= 0x40;
            assert_eq!(
                SyncFile::decode(&altered).unwrap_err(),
                SyncFileError::Signature,
                "byte {at}"
            );
        }
        assert_eq!(
            SyncFile::decode(b"junk").unwrap_err(),
            SyncFileError::NotASyncFile
        );
    }
}
