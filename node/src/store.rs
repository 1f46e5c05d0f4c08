//! The node's durable, byte-level store: one redb file per node.
//!
//! This module knows nothing about confer's protocol types; it stores opaque bytes keyed by
//! fixed 32-byte ids. Every write goes through [`Store::commit`], which applies a whole
//! [`WriteBatch`] in one redb transaction with [`redb::Durability::Immediate`]: when it returns
//! `Ok`, everything in the batch is on disk; when it returns `Err`, nothing from the batch is.
//!
//! Invariants kept by [`Store::commit`] (checked again by [`Store::load`], which leaves out
//! and reports what breaks them instead of failing, so one damaged record does not stop
//! the node; start-up then repairs the file with [`Store::truncate_log`] or
//! [`Store::forget_space`]):
//! - every log entry, piece of evidence and snapshot belongs to a space whose genesis is stored;
//! - a space's genesis never changes once stored;
//! - a space's log occupies the positions `0..log_len` without gaps, and each
//!   `(space, author, seq)` appears in it at most once (see [`tables::ENTRY_INDEX`]);
//! - a snapshot never covers more positions than its space's log holds;
//! - the time evidence at an (author, seq) of a space was first stored never changes;
//! - the file's schema version (meta key [`SCHEMA_VERSION_KEY`]) is never newer than
//!   [`SCHEMA_VERSION`]; a newer file is refused rather than misread, naming the release
//!   that wrote it (meta key [`WRITTEN_BY_KEY`]). An older file from a release is migrated
//!   step by step ([`MIGRATIONS`]) in the same transaction that opens it, so it is either
//!   wholly migrated or left as it was.

use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, WriteTransaction};

/// A 32-byte identifier: a space id, a public key or a hash.
pub type Id32 = [u8; 32];

/// The schema version this code writes and understands. 2: entries name the body they are
/// written for (entry format v2). 3: the file names the release that last opened it
/// ([`WRITTEN_BY_KEY`]) and holds every table below (a schema-2 file may lack
/// `evidence_seen_v1` and `consents_v1`, added without a version). Version 1 files predate
/// any release and are refused.
pub const SCHEMA_VERSION: u64 = 3;

/// The oldest schema a release wrote; files from it on are migrated.
pub const OLDEST_SCHEMA: u64 = 2;

/// Meta key holding the version of the confer release that last opened the file (UTF-8,
/// e.g. `0.1.0`), so that a release too old for the file can say which one wrote it.
/// Reserved, like [`SCHEMA_VERSION_KEY`].
pub const WRITTEN_BY_KEY: &str = "store.written_by";

/// This program's release, as [`WRITTEN_BY_KEY`] records it.
pub const RELEASE: &str = env!("CARGO_PKG_VERSION");

/// One step of a schema migration: from `from` to `from + 1`, inside the transaction that
/// opens the file.
pub struct Migration {
    pub from: u64,
    /// What it changes, for the log.
    pub what: &'static str,
    step: fn(&WriteTransaction) -> Result<(), StoreError>,
}

/// Every migration, in order, from [`OLDEST_SCHEMA`] to [`SCHEMA_VERSION`].
pub const MIGRATIONS: &[Migration] = &[Migration {
    from: 2,
    what: "record the release that writes the file; make sure the tables added after schema 2 exist (evidence_seen_v1, consents_v1)",
    step: migrate_2_to_3,
}];

fn migrate_2_to_3(txn: &WriteTransaction) -> Result<(), StoreError> {
    // A schema-2 file holds evidence without the time it was first seen (the time is shown
    // as unknown) and no consents; both tables start empty. The release is written by
    // every open (`init_schema`).
    txn.open_table(tables::EVIDENCE_SEEN)?;
    txn.open_table(tables::CONSENTS)?;
    Ok(())
}

/// Meta key holding the schema version (8-byte big-endian u64). Reserved: [`Store::meta_put`]
/// refuses it.
pub const SCHEMA_VERSION_KEY: &str = "store.schema_version";

/// Prefix of meta keys reserved for the store itself.
const RESERVED_META_PREFIX: &str = "store.";

/// Table definitions. Names carry a version suffix; a change of layout gets a new name.
pub mod tables {
    use redb::TableDefinition;

    /// Small node settings and the schema version.
    /// Key: setting name. Value: opaque bytes.
    pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta_v1");

    /// Spaces. Key: space id. Value: genesis bytes (never changed once written).
    pub const SPACES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("spaces_v1");

    /// Each space's append-only log.
    /// Key: (space id, position from 0). Value: entry bytes.
    pub const LOG: TableDefinition<(&[u8; 32], u64), &[u8]> = TableDefinition::new("log_v1");

    /// Where each entry sits in its space's log.
    /// Key: (space id, author public key, author seq). Value: log position.
    pub const ENTRY_INDEX: TableDefinition<(&[u8; 32], &[u8; 32], u64), u64> =
        TableDefinition::new("entry_index_v1");

    /// Length of each space's log, i.e. the next free position.
    /// Key: space id. Value: number of entries in the log.
    pub const LOG_LEN: TableDefinition<&[u8; 32], u64> = TableDefinition::new("log_len_v1");

    /// Certificates (member and node). Key: blake3 hash of the subject key and the issuing
    /// body ([`cert_row`]), so a key certified by several bodies keeps one certificate per
    /// body, and a newer certificate for the same key and body overwrites the older (the
    /// registry in memory keeps only the newest too). Value: certificate bytes. (Files
    /// written before this keying may hold rows keyed by the hash of the certificate bytes;
    /// they load like any other and are never added to.)
    pub const CERTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("certs_v1");

    /// Equivocation evidence.
    /// Key: (space id, author public key, author seq, entry hash). Value: entry bytes.
    pub const EVIDENCE: TableDefinition<EvidenceKey, &[u8]> = TableDefinition::new("evidence_v1");

    /// Key of [`EVIDENCE`]: (space id, author public key, author seq, entry hash).
    pub type EvidenceKey = (&'static [u8; 32], &'static [u8; 32], u64, &'static [u8; 32]);

    /// When this node first stored evidence at an (author, seq) of a space.
    /// Key: (space id, author public key, author seq). Value: unix time, seconds. Written
    /// with the first [`EVIDENCE`] rows of that key and never changed. Added after
    /// schema 2 without a new version: a file from before has evidence without rows here
    /// (the time is unknown, and shown so), and a program from before ignores this table.
    pub const EVIDENCE_SEEN: TableDefinition<(&[u8; 32], &[u8; 32], u64), u64> =
        TableDefinition::new("evidence_seen_v1");

    /// One snapshot per space.
    /// Key: space id. Value: 8-byte big-endian entry count, then the document bytes; the
    /// document covers the first `entry count` positions of the space's log.
    pub const SNAPSHOTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("snapshots_v1");

    /// Remembered peers. Key: multiaddr string. Value: unused (0).
    pub const PEERS: TableDefinition<&str, u64> = TableDefinition::new("peers_v1");

    /// Invitations this body's operator has not accepted. Key: space id. Value: genesis
    /// bytes. A space stored in [`SPACES`] is removed from here in the same transaction.
    pub const INVITED: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("invited_v1");

    /// Bodies this node trusts. Key: body id. Value: unused (0). Written in the same
    /// transaction as the certificates that came with the trust.
    pub const TRUSTED: TableDefinition<&[u8; 32], u64> = TableDefinition::new("trusted_v1");

    /// Revocations (signed by a body key). Key: blake3 hash of the revocation bytes.
    /// Value: revocation bytes.
    pub const REVOCATIONS: TableDefinition<&[u8; 32], &[u8]> =
        TableDefinition::new("revocations_v1");

    /// Entries a revocation took out of a space's log (kept as evidence, and so their
    /// authors never re-sign those seqs). Key: (space id, author public key, author seq).
    /// Value: entry bytes.
    pub const WITHDRAWN: TableDefinition<EntryKey, &[u8]> = TableDefinition::new("withdrawn_v1");

    /// The last seq this node signed itself with each of its member keys, per space.
    /// Key: (space id, member public key). Value: seq.
    pub const OWN_TIPS: TableDefinition<(&[u8; 32], &[u8; 32]), u64> =
        TableDefinition::new("own_tips_v1");

    /// Consents to changes of a space's member bodies (also of invitations not yet
    /// accepted). Key: (space id, blake3 of the consent bytes). Value: consent bytes.
    pub const CONSENTS: TableDefinition<(&[u8; 32], &[u8; 32]), &[u8]> =
        TableDefinition::new("consents_v1");

    /// (space id, author public key, author seq).
    pub type EntryKey = (&'static [u8; 32], &'static [u8; 32], u64);
}

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The redb file could not be opened or created.
    #[error("opening the store: {0}")]
    Open(#[from] redb::DatabaseError),
    /// An I/O error outside redb.
    #[error("store i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A transaction could not be started.
    #[error("store transaction: {0}")]
    Transaction(#[from] redb::TransactionError),
    /// A table could not be opened.
    #[error("store table: {0}")]
    Table(#[from] redb::TableError),
    /// The storage layer failed while reading or writing.
    #[error("store storage: {0}")]
    Storage(#[from] redb::StorageError),
    /// The durability level could not be set.
    #[error("store durability: {0}")]
    Durability(#[from] redb::SetDurabilityError),
    /// The transaction could not be committed; nothing from it was written.
    #[error("store commit: {0}")]
    Commit(#[from] redb::CommitError),
    /// The file was written by a newer version of this program (`written_by`: its release,
    /// when the file names it).
    #[error("{}", schema_too_new(*found, *supported, written_by.as_deref()))]
    SchemaTooNew {
        found: u64,
        supported: u64,
        written_by: Option<String>,
    },
    /// The file's contents break one of the store's invariants.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// An entry with this (space, author, seq) is already stored with different bytes.
    /// Nothing from the batch was written; store the differing entry as evidence instead.
    #[error(
        "entry conflict in space {} for author {} seq {seq}: different bytes already stored",
        short(space),
        short(author)
    )]
    Conflict { space: Id32, author: Id32, seq: u64 },
    /// A space is already stored with a different genesis. Nothing from the batch was written.
    #[error("space {} is already stored with a different genesis", short(space))]
    GenesisConflict { space: Id32 },
    /// The batch refers to a space that has no stored genesis (neither before nor in the
    /// batch). Nothing from the batch was written.
    #[error("unknown space {}", short(space))]
    UnknownSpace { space: Id32 },
    /// A snapshot claims to cover more entries than the space's log holds. Nothing from the
    /// batch was written.
    #[error(
        "snapshot of space {} covers {entry_count} entries but the log holds {log_len}",
        short(space)
    )]
    SnapshotBeyondLog {
        space: Id32,
        entry_count: u64,
        log_len: u64,
    },
    /// The meta key is reserved for the store itself (it starts with `store.`).
    #[error("meta key {0:?} is reserved for the store")]
    ReservedKey(String),
}

fn schema_too_new(found: u64, supported: u64, written_by: Option<&str>) -> String {
    let (by, run) = match written_by {
        Some(r) => (format!("confer {r}"), format!("confer {r} or newer")),
        None => (
            "a newer release".to_owned(),
            "that newer release".to_owned(),
        ),
    };
    format!(
        "the store was written by {by} (store schema {found}); this program is confer {RELEASE} and opens store schema {supported} and older: run {run} with this data directory (nothing was changed)"
    )
}

/// The row key of a certificate in [`tables::CERTS`]: blake3 of its subject key and the
/// body that issued it, one row per key and body.
pub fn cert_row(subject: &[u8; 32], body: &[u8; 32]) -> Id32 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(subject);
    hasher.update(body);
    *hasher.finalize().as_bytes()
}

/// First bytes of an id in hex, for messages.
fn short(id: &Id32) -> String {
    hex::encode(&id[..8])
}

/// Everything one [`Store::commit`] writes, atomically.
#[derive(Default, Debug, Clone)]
pub struct WriteBatch {
    /// Space id -> genesis bytes. Inserted; re-inserting identical bytes is a no-op,
    /// different bytes fail with [`StoreError::GenesisConflict`].
    pub spaces: Vec<(Id32, Vec<u8>)>,
    /// [`cert_row`] of the certificate -> certificate bytes. Overwrites.
    pub certificates: Vec<(Id32, Vec<u8>)>,
    /// Appended to their space's log in this order (already-stored identical ones skipped).
    pub entries: Vec<NewEntry>,
    /// Equivocation evidence. Inserted (overwrites the same key); a `detected_at` is
    /// recorded only if none is stored yet for that (space, author, seq).
    pub evidence: Vec<Evidence>,
    /// Each replaces its space's snapshot. Applied after `entries`.
    pub snapshots: Vec<Snapshot>,
    /// Peer multiaddrs to remember. Applied before `peers_removed`.
    pub peers_added: Vec<String>,
    /// Peer multiaddrs to forget.
    pub peers_removed: Vec<String>,
    /// Space id -> genesis bytes of invitations not yet accepted.
    pub invited: Vec<(Id32, Vec<u8>)>,
    /// Bodies to trust. Applied before `untrusted`.
    pub trusted: Vec<Id32>,
    /// Bodies no longer trusted.
    pub untrusted: Vec<Id32>,
    /// Revocations: blake3 of the bytes -> bytes.
    pub revocations: Vec<(Id32, Vec<u8>)>,
    /// Log rewrites by revocations, applied in order after `entries`.
    pub rewrites: Vec<LogRewrite>,
    /// (space, member key, seq) this node signed itself; the highest seq is kept.
    pub own: Vec<(Id32, Id32, u64)>,
    /// (space, hash, consent bytes).
    pub consents: Vec<(Id32, Id32, Vec<u8>)>,
}

/// A revocation took entries out of a space's log: from position `from` on, the log
/// becomes `tail`; `withdrawn` moves to [`tables::WITHDRAWN`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRewrite {
    pub space: Id32,
    pub from: u64,
    pub tail: Vec<NewEntry>,
    pub withdrawn: Vec<NewEntry>,
    /// Withdrawn entries that count again (they are in `tail`): no longer withdrawn.
    pub restored: Vec<NewEntry>,
}

impl WriteBatch {
    /// True if the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.spaces.is_empty()
            && self.invited.is_empty()
            && self.trusted.is_empty()
            && self.untrusted.is_empty()
            && self.certificates.is_empty()
            && self.entries.is_empty()
            && self.evidence.is_empty()
            && self.snapshots.is_empty()
            && self.peers_added.is_empty()
            && self.peers_removed.is_empty()
            && self.revocations.is_empty()
            && self.rewrites.is_empty()
            && self.own.is_empty()
            && self.consents.is_empty()
    }
}

/// An entry to append to a space's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub space: Id32,
    pub author: Id32,
    pub seq: u64,
    pub bytes: Vec<u8>,
}

/// Proof that an author signed two different entries with the same seq: one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub space: Id32,
    pub author: Id32,
    pub seq: u64,
    pub hash: Id32,
    pub bytes: Vec<u8>,
    /// When this node first stored evidence at this (space, author, seq), unix seconds
    /// ([`tables::EVIDENCE_SEEN`]). On load, `None` for evidence stored before the time
    /// was recorded.
    pub detected_at: Option<u64>,
}

/// A space's document state covering the first `entry_count` positions of its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub space: Id32,
    pub entry_count: u64,
    pub doc: Vec<u8>,
}

/// Everything in the store, as read by [`Store::load`].
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every space with a genesis, sorted by id.
    pub spaces: Vec<LoadedSpace>,
    /// Sorted by row key.
    pub certificates: Vec<(Id32, Vec<u8>)>,
    /// Sorted by (space, author, seq, hash).
    pub evidence: Vec<Evidence>,
    /// Sorted.
    pub peers: Vec<String>,
    /// Space id -> genesis bytes of invitations not yet accepted, sorted by id.
    pub invited: Vec<(Id32, Vec<u8>)>,
    /// Trusted body ids.
    pub trusted: Vec<Id32>,
    /// Revocation bytes.
    pub revocations: Vec<Vec<u8>>,
    /// (space, entry bytes) of every withdrawn entry.
    pub withdrawn: Vec<(Id32, Vec<u8>)>,
    /// (space, member key, last seq this node signed).
    pub own_tips: Vec<(Id32, Id32, u64)>,
    /// (space, consent bytes).
    pub consents: Vec<(Id32, Vec<u8>)>,
}

/// One space as read by [`Store::load`].
#[derive(Debug)]
pub struct LoadedSpace {
    pub id: Id32,
    pub genesis: Vec<u8>,
    /// The log, in log order: positions `0..entries.len()`. Ends before the first position
    /// that breaks the store's invariants (see `damage`).
    pub entries: Vec<Vec<u8>>,
    /// `None` if there is none, or if it does not fit `entries` (see `damage`).
    pub snapshot: Option<Snapshot>,
    /// Log positions the file holds for this space: its recorded length, or more if rows lie
    /// beyond it. Equal to `entries.len()` unless `damage` says otherwise.
    pub stored_len: u64,
    /// What in this space's rows breaks the store's invariants and was left out of
    /// `entries` or `snapshot` (a gap, a length that disagrees with the rows, a snapshot
    /// that cannot be read or covers more than the log), one phrase each; empty for a
    /// sound space. [`Store::truncate_log`] at `entries.len()` makes the file agree.
    pub damage: Vec<String>,
}

/// The node's redb file.
pub struct Store {
    db: Database,
    /// What start-up found damaged in the file and salvaged, one line each (shown in
    /// `status`); see [`Store::record_salvage`].
    salvaged: Vec<String>,
    /// How long each durable commit took, since open.
    commit_times: crate::metrics::CommitTimes,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens or creates the file; creates all tables; writes/checks schema version in the meta
    /// table (refuses a newer schema with [`StoreError::SchemaTooNew`]).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Database::create(path)?;
        let mut txn = db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        match init_schema(&txn) {
            Ok(created) => {
                txn.commit()?;
                if created {
                    tracing::info!(path = %path.display(), schema = SCHEMA_VERSION, "created store");
                } else {
                    tracing::debug!(path = %path.display(), "opened store");
                }
                Ok(Store {
                    db,
                    salvaged: Vec::new(),
                    commit_times: Default::default(),
                })
            }
            Err(e) => {
                abort(txn);
                Err(e)
            }
        }
    }

    /// Writes everything in the batch in ONE transaction with `Durability::Immediate`; returns
    /// only after the commit is durable. Entries are appended to their space's log in the order
    /// given. On error nothing from the batch is written.
    pub fn commit(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        match apply(&txn, batch) {
            Ok(appended) => {
                txn.commit()?;
                self.commit_times.record(started.elapsed());
                tracing::debug!(
                    spaces = batch.spaces.len(),
                    certificates = batch.certificates.len(),
                    entries = batch.entries.len(),
                    appended,
                    evidence = batch.evidence.len(),
                    snapshots = batch.snapshots.len(),
                    "store commit"
                );
                Ok(())
            }
            Err(e) => {
                abort(txn);
                Err(e)
            }
        }
    }

    /// The durable commits since open and how long they took.
    pub fn commit_times(&self) -> crate::metrics::CommitLatencyView {
        self.commit_times.view()
    }

    /// Reads everything back (used once at start-up).
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let txn = self.db.begin_read()?;
        let spaces_t = txn.open_table(tables::SPACES)?;
        let log_t = txn.open_table(tables::LOG)?;
        let len_t = txn.open_table(tables::LOG_LEN)?;
        let snaps_t = txn.open_table(tables::SNAPSHOTS)?;

        let mut loaded = Loaded::default();
        for item in spaces_t.iter()? {
            let (k, v) = item?;
            let id: Id32 = *k.value();
            let space = read_space(&log_t, &len_t, &snaps_t, id, v.value().to_vec())?;
            loaded.spaces.push(space);
        }

        let certs_t = txn.open_table(tables::CERTS)?;
        for item in certs_t.iter()? {
            let (k, v) = item?;
            loaded.certificates.push((*k.value(), v.value().to_vec()));
        }

        let ev_t = txn.open_table(tables::EVIDENCE)?;
        let seen_t = txn.open_table(tables::EVIDENCE_SEEN)?;
        loaded.evidence = read_evidence(&seen_t, ev_t.iter()?)?;

        let peers_t = txn.open_table(tables::PEERS)?;
        for item in peers_t.iter()? {
            let (k, _) = item?;
            loaded.peers.push(k.value().to_string());
        }

        let invited_t = txn.open_table(tables::INVITED)?;
        for item in invited_t.iter()? {
            let (k, v) = item?;
            loaded.invited.push((*k.value(), v.value().to_vec()));
        }

        let trusted_t = txn.open_table(tables::TRUSTED)?;
        for item in trusted_t.iter()? {
            let (k, _) = item?;
            loaded.trusted.push(*k.value());
        }

        for item in txn.open_table(tables::REVOCATIONS)?.iter()? {
            let (_, v) = item?;
            loaded.revocations.push(v.value().to_vec());
        }
        for item in txn.open_table(tables::WITHDRAWN)?.iter()? {
            let (k, v) = item?;
            loaded.withdrawn.push((*k.value().0, v.value().to_vec()));
        }
        for item in txn.open_table(tables::CONSENTS)?.iter()? {
            let (k, v) = item?;
            loaded.consents.push((*k.value().0, v.value().to_vec()));
        }
        for item in txn.open_table(tables::OWN_TIPS)?.iter()? {
            let (k, v) = item?;
            let (space, key) = k.value();
            loaded.own_tips.push((*space, *key, v.value()));
        }

        tracing::debug!(
            spaces = loaded.spaces.len(),
            certificates = loaded.certificates.len(),
            evidence = loaded.evidence.len(),
            peers = loaded.peers.len(),
            "store loaded"
        );
        Ok(loaded)
    }

    /// The evidence stored for one space, sorted by (author, seq, hash): what the API
    /// serves for independent checking.
    pub fn evidence(&self, space: &Id32) -> Result<Vec<Evidence>, StoreError> {
        let txn = self.db.begin_read()?;
        let ev_t = txn.open_table(tables::EVIDENCE)?;
        let seen_t = txn.open_table(tables::EVIDENCE_SEEN)?;
        let rows =
            ev_t.range((space, &ID_MIN, 0u64, &ID_MIN)..=(space, &ID_MAX, u64::MAX, &ID_MAX))?;
        read_evidence(&seen_t, rows)
    }

    /// Reads one space back, as [`Store::load`] does (`None` if it has no genesis): what
    /// start-up reads again when a log has to be restored a second time.
    pub fn load_space(&self, space: &Id32) -> Result<Option<LoadedSpace>, StoreError> {
        let txn = self.db.begin_read()?;
        let spaces_t = txn.open_table(tables::SPACES)?;
        let Some(genesis) = spaces_t.get(space)?.map(|g| g.value().to_vec()) else {
            return Ok(None);
        };
        let log_t = txn.open_table(tables::LOG)?;
        let len_t = txn.open_table(tables::LOG_LEN)?;
        let snaps_t = txn.open_table(tables::SNAPSHOTS)?;
        read_space(&log_t, &len_t, &snaps_t, *space, genesis).map(Some)
    }

    /// Cuts a space's log at `from`, in one durable transaction: removes the log positions
    /// `from..`, the [`tables::ENTRY_INDEX`] rows pointing at them, sets the log length to
    /// `from`, and drops the snapshot if it covers more than `from` entries (or cannot be
    /// read). Returns how many log rows were removed. This is how start-up makes the file
    /// agree with the part of a damaged log it could restore; the entries removed come
    /// back from peers through sync.
    ///
    /// Fails with [`StoreError::Corrupt`] (writing nothing) if a position below `from` is
    /// missing: the log would not be gap-free afterwards.
    pub fn truncate_log(&self, space: &Id32, from: u64) -> Result<u64, StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        match truncate_in(&txn, space, from) {
            Ok(removed) => {
                txn.commit()?;
                tracing::debug!(space = %short(space), from, removed, "store log truncated");
                Ok(removed)
            }
            Err(e) => {
                abort(txn);
                Err(e)
            }
        }
    }

    /// Removes everything stored about a space — genesis, log, index, length, snapshot and
    /// evidence — in one durable transaction; returns how many log rows were removed. For
    /// a space whose genesis no longer decodes: its log cannot be interpreted, and a member
    /// peer offers the genesis again (with the log after it) when it next syncs, which the
    /// store could not accept while a different genesis sat under the same id.
    pub fn forget_space(&self, space: &Id32) -> Result<u64, StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let result = truncate_in(&txn, space, 0).and_then(|removed| {
            txn.open_table(tables::SPACES)?.remove(space)?;
            txn.open_table(tables::LOG_LEN)?.remove(space)?;
            txn.open_table(tables::SNAPSHOTS)?.remove(space)?;
            let mut ev_t = txn.open_table(tables::EVIDENCE)?;
            let doomed = ev_t
                .range((space, &ID_MIN, 0u64, &ID_MIN)..=(space, &ID_MAX, u64::MAX, &ID_MAX))?
                .map(|item| {
                    item.map(|(k, _)| {
                        let (_, author, seq, hash) = k.value();
                        (*author, seq, *hash)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut seen_t = txn.open_table(tables::EVIDENCE_SEEN)?;
            for (author, seq, hash) in &doomed {
                ev_t.remove((space, author, *seq, hash))?;
                seen_t.remove((space, author, *seq))?;
            }
            // Times left without evidence (by a program that wrote evidence before this
            // table existed, they cannot be; but nothing of the space may outlive it).
            let orphans = seen_t
                .range((space, &ID_MIN, 0u64)..=(space, &ID_MAX, u64::MAX))?
                .map(|item| {
                    item.map(|(k, _)| {
                        let (_, author, seq) = k.value();
                        (*author, seq)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            for (author, seq) in &orphans {
                seen_t.remove((space, author, *seq))?;
            }
            Ok(removed)
        });
        match result {
            Ok(removed) => {
                txn.commit()?;
                tracing::debug!(space = %short(space), removed, "store space forgotten");
                Ok(removed)
            }
            Err(e) => {
                abort(txn);
                Err(e)
            }
        }
    }

    /// Keeps the lines saying what start-up found damaged in this file and salvaged, for
    /// `status` to show while the node runs.
    pub fn record_salvage(&mut self, lines: Vec<String>) {
        self.salvaged.extend(lines);
    }

    /// What start-up found damaged in this file and salvaged, one line each.
    pub fn salvaged(&self) -> &[String] {
        &self.salvaged
    }

    /// A read transaction: one consistent state of the file, whatever commits follow
    /// (what a backup reads, `crate::backup`).
    pub fn begin_read(&self) -> Result<redb::ReadTransaction, StoreError> {
        Ok(self.db.begin_read()?)
    }

    /// Number of entries in a space's log (0 for an unknown space).
    pub fn entry_count(&self, space: &Id32) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let len_t = txn.open_table(tables::LOG_LEN)?;
        Ok(len_t.get(space)?.map(|g| g.value()).unwrap_or(0))
    }

    /// Reads a key/value from the meta table (for small node settings).
    pub fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(tables::META)?;
        Ok(meta.get(key)?.map(|g| g.value().to_vec()))
    }

    /// Writes a key/value to the meta table, durably. Keys starting with `store.` are reserved
    /// ([`StoreError::ReservedKey`]).
    pub fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if key.starts_with(RESERVED_META_PREFIX) {
            return Err(StoreError::ReservedKey(key.to_string()));
        }
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        {
            let mut meta = txn.open_table(tables::META)?;
            meta.insert(key, value)?;
        }
        txn.commit()?;
        Ok(())
    }
}

/// Aborts a failed write transaction, logging (not returning) an abort failure so the caller
/// sees the original error.
fn abort(txn: WriteTransaction) {
    if let Err(e) = txn.abort() {
        tracing::warn!(error = %e, "aborting store transaction failed");
    }
}

/// Checks or writes the schema version and creates every table. Returns true if the file was
/// new (no schema version yet).
fn init_schema(txn: &WriteTransaction) -> Result<bool, StoreError> {
    let created = {
        let mut meta = txn.open_table(tables::META)?;
        let found = match meta.get(SCHEMA_VERSION_KEY)? {
            Some(g) => {
                let raw: [u8; 8] = g.value().try_into().map_err(|_| {
                    StoreError::Corrupt(format!(
                        "schema version has {} bytes, expected 8",
                        g.value().len()
                    ))
                })?;
                Some(u64::from_be_bytes(raw))
            }
            None => None,
        };
        let written_by = meta
            .get(WRITTEN_BY_KEY)?
            .map(|g| String::from_utf8_lossy(g.value()).into_owned());
        match found {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(StoreError::SchemaTooNew {
                    found: v,
                    supported: SCHEMA_VERSION,
                    written_by,
                })
            }
            Some(v) if v < OLDEST_SCHEMA => {
                return Err(StoreError::Corrupt(format!(
                    "schema version {v} is older than any released version"
                )))
            }
            Some(v) => {
                drop(meta);
                migrate(txn, v)?;
                meta = txn.open_table(tables::META)?;
                if written_by.as_deref() != Some(RELEASE) {
                    meta.insert(WRITTEN_BY_KEY, RELEASE.as_bytes())?;
                }
                false
            }
            None => {
                meta.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION.to_be_bytes().as_slice())?;
                meta.insert(WRITTEN_BY_KEY, RELEASE.as_bytes())?;
                true
            }
        }
    };
    txn.open_table(tables::SPACES)?;
    txn.open_table(tables::LOG)?;
    txn.open_table(tables::ENTRY_INDEX)?;
    txn.open_table(tables::LOG_LEN)?;
    txn.open_table(tables::CERTS)?;
    txn.open_table(tables::EVIDENCE)?;
    txn.open_table(tables::EVIDENCE_SEEN)?;
    txn.open_table(tables::SNAPSHOTS)?;
    txn.open_table(tables::PEERS)?;
    txn.open_table(tables::INVITED)?;
    txn.open_table(tables::TRUSTED)?;
    txn.open_table(tables::REVOCATIONS)?;
    txn.open_table(tables::WITHDRAWN)?;
    txn.open_table(tables::OWN_TIPS)?;
    txn.open_table(tables::CONSENTS)?;
    Ok(created)
}

/// Runs every migration from schema `found` up to [`SCHEMA_VERSION`] and records the new
/// version, all in `txn`.
fn migrate(txn: &WriteTransaction, found: u64) -> Result<(), StoreError> {
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let mut version = found;
    for m in MIGRATIONS.iter().filter(|m| m.from >= found) {
        if m.from != version {
            return Err(StoreError::Corrupt(format!(
                "no migration from schema {version}"
            )));
        }
        (m.step)(txn)?;
        tracing::info!(
            from = m.from,
            to = m.from + 1,
            what = m.what,
            "migrated the store"
        );
        version = m.from + 1;
    }
    if version != SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "no migration from schema {version} to {SCHEMA_VERSION}"
        )));
    }
    let mut meta = txn.open_table(tables::META)?;
    meta.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION.to_be_bytes().as_slice())?;
    Ok(())
}

/// The lowest and highest 32-byte ids, bounds of range scans.
const ID_MIN: Id32 = [0; 32];
const ID_MAX: Id32 = [0xff; 32];

type LogTable = redb::ReadOnlyTable<(&'static [u8; 32], u64), &'static [u8]>;
type LenTable = redb::ReadOnlyTable<&'static [u8; 32], u64>;
type SnapshotTable = redb::ReadOnlyTable<&'static [u8; 32], &'static [u8]>;

/// Reads one space's log and snapshot. Rows that break the store's invariants are left
/// out and described in [`LoadedSpace::damage`]; only a failure of redb itself is an error.
fn read_space(
    log_t: &LogTable,
    len_t: &LenTable,
    snaps_t: &SnapshotTable,
    id: Id32,
    genesis: Vec<u8>,
) -> Result<LoadedSpace, StoreError> {
    let log_len = len_t.get(&id)?.map(|g| g.value()).unwrap_or(0);
    let mut damage = Vec::new();
    let mut entries = Vec::new();
    for item in log_t.range((&id, 0u64)..(&id, log_len))? {
        let (k, v) = item?;
        let (_, pos) = k.value();
        if pos != entries.len() as u64 {
            damage.push(format!("the log has a gap at position {}", entries.len()));
            break;
        }
        entries.push(v.value().to_vec());
    }
    let last = match log_t.range((&id, 0u64)..=(&id, u64::MAX))?.next_back() {
        Some(item) => Some(item?.0.value().1),
        None => None,
    };
    let stored_len = last.map_or(log_len, |last| log_len.max(last.saturating_add(1)));
    if damage.is_empty() && (entries.len() as u64) < log_len {
        damage.push(format!(
            "the log holds {} entries but its recorded length is {log_len}",
            entries.len()
        ));
    }
    if stored_len > log_len {
        damage.push(format!(
            "the log holds entries beyond its recorded length {log_len}"
        ));
    }
    let snapshot = match snaps_t.get(&id)? {
        None => None,
        Some(g) => match decode_snapshot(id, g.value()) {
            Err(e) => {
                damage.push(e.to_string());
                None
            }
            Ok(snap) if snap.entry_count > log_len => {
                damage.push(format!(
                    "the snapshot covers {} entries but the log holds {log_len}",
                    snap.entry_count
                ));
                None
            }
            // Covers part of a log cut short by the damage above: dropped with it.
            Ok(snap) if snap.entry_count > entries.len() as u64 => None,
            Ok(snap) => Some(snap),
        },
    };
    Ok(LoadedSpace {
        id,
        genesis,
        entries,
        snapshot,
        stored_len,
        damage,
    })
}

type SeenTable = redb::ReadOnlyTable<(&'static [u8; 32], &'static [u8; 32], u64), u64>;

/// The evidence rows of `rows`, each with the time its (space, author, seq) was first
/// stored, if recorded.
fn read_evidence(
    seen_t: &SeenTable,
    rows: redb::Range<'_, tables::EvidenceKey, &'static [u8]>,
) -> Result<Vec<Evidence>, StoreError> {
    let mut out = Vec::new();
    for item in rows {
        let (k, v) = item?;
        let (space, author, seq, hash) = k.value();
        let detected_at = seen_t.get((space, author, seq))?.map(|g| g.value());
        out.push(Evidence {
            space: *space,
            author: *author,
            seq,
            hash: *hash,
            bytes: v.value().to_vec(),
            detected_at,
        });
    }
    Ok(out)
}

/// [`Store::truncate_log`] inside `txn`.
/// Cuts the log at `rw.from`, appends `rw.tail` there and moves the withdrawn entries to
/// [`tables::WITHDRAWN`].
fn rewrite_in(txn: &WriteTransaction, rw: &LogRewrite) -> Result<(), StoreError> {
    truncate_in(txn, &rw.space, rw.from)?;
    let mut log_t = txn.open_table(tables::LOG)?;
    let mut index_t = txn.open_table(tables::ENTRY_INDEX)?;
    let mut pos = rw.from;
    for e in &rw.tail {
        log_t.insert((&rw.space, pos), e.bytes.as_slice())?;
        index_t.insert((&rw.space, &e.author, e.seq), pos)?;
        pos += 1;
    }
    txn.open_table(tables::LOG_LEN)?.insert(&rw.space, pos)?;
    let mut gone_t = txn.open_table(tables::WITHDRAWN)?;
    for e in &rw.restored {
        gone_t.remove((&rw.space, &e.author, e.seq))?;
    }
    for e in &rw.withdrawn {
        index_t.remove((&rw.space, &e.author, e.seq))?;
        gone_t.insert((&rw.space, &e.author, e.seq), e.bytes.as_slice())?;
    }
    Ok(())
}

fn truncate_in(txn: &WriteTransaction, space: &Id32, from: u64) -> Result<u64, StoreError> {
    let mut log_t = txn.open_table(tables::LOG)?;
    let mut kept = 0u64;
    for item in log_t.range((space, 0u64)..(space, from))? {
        item?;
        kept += 1;
    }
    if kept != from {
        return Err(StoreError::Corrupt(format!(
            "cannot cut the log of space {} at {from}: only {kept} positions below it are stored",
            short(space)
        )));
    }
    let doomed = log_t
        .range((space, from)..=(space, u64::MAX))?
        .map(|item| item.map(|(k, _)| k.value().1))
        .collect::<Result<Vec<u64>, _>>()?;
    for pos in &doomed {
        log_t.remove((space, *pos))?;
    }
    let mut index_t = txn.open_table(tables::ENTRY_INDEX)?;
    let stale = index_t
        .range((space, &ID_MIN, 0u64)..=(space, &ID_MAX, u64::MAX))?
        .filter_map(|item| match item {
            Ok((k, v)) if v.value() >= from => {
                let (_, author, seq) = k.value();
                Some(Ok((*author, seq)))
            }
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (author, seq) in &stale {
        index_t.remove((space, author, *seq))?;
    }
    txn.open_table(tables::LOG_LEN)?.insert(space, from)?;
    let mut snaps_t = txn.open_table(tables::SNAPSHOTS)?;
    let beyond = match snaps_t.get(space)? {
        Some(g) => decode_snapshot(*space, g.value()).map_or(true, |s| s.entry_count > from),
        None => false,
    };
    if beyond {
        snaps_t.remove(space)?;
    }
    Ok(doomed.len() as u64)
}

/// Applies a batch inside `txn`. Returns the number of entries actually appended.
fn apply(txn: &WriteTransaction, batch: &WriteBatch) -> Result<usize, StoreError> {
    {
        let mut invited_t = txn.open_table(tables::INVITED)?;
        for (id, genesis) in &batch.invited {
            invited_t.insert(id, genesis.as_slice())?;
        }
        for (id, _) in &batch.spaces {
            invited_t.remove(id)?;
        }
        let mut trusted_t = txn.open_table(tables::TRUSTED)?;
        for body in &batch.trusted {
            trusted_t.insert(body, 0u64)?;
        }
        for body in &batch.untrusted {
            trusted_t.remove(body)?;
        }
    }
    let mut spaces_t = txn.open_table(tables::SPACES)?;
    for (id, genesis) in &batch.spaces {
        let existing = spaces_t.get(id)?.map(|g| g.value() == genesis.as_slice());
        match existing {
            Some(true) => {}
            Some(false) => return Err(StoreError::GenesisConflict { space: *id }),
            None => {
                spaces_t.insert(id, genesis.as_slice())?;
            }
        }
    }
    let known = |space: &Id32| -> Result<(), StoreError> {
        match spaces_t.get(space)? {
            Some(_) => Ok(()),
            None => Err(StoreError::UnknownSpace { space: *space }),
        }
    };

    {
        let mut certs_t = txn.open_table(tables::CERTS)?;
        for (subject, cert) in &batch.certificates {
            certs_t.insert(subject, cert.as_slice())?;
        }
    }

    let mut log_t = txn.open_table(tables::LOG)?;
    let mut len_t = txn.open_table(tables::LOG_LEN)?;
    let mut appended = 0usize;
    {
        let mut index_t = txn.open_table(tables::ENTRY_INDEX)?;
        for e in &batch.entries {
            known(&e.space)?;
            let existing = index_t
                .get((&e.space, &e.author, e.seq))?
                .map(|g| g.value());
            if let Some(pos) = existing {
                let same = match log_t.get((&e.space, pos))? {
                    Some(g) => g.value() == e.bytes.as_slice(),
                    None => {
                        return Err(StoreError::Corrupt(format!(
                            "entry index of space {} points at missing position {pos}",
                            short(&e.space)
                        )))
                    }
                };
                if same {
                    tracing::trace!(seq = e.seq, "entry already stored, skipped");
                    continue;
                }
                return Err(StoreError::Conflict {
                    space: e.space,
                    author: e.author,
                    seq: e.seq,
                });
            }
            let pos = len_t.get(&e.space)?.map(|g| g.value()).unwrap_or(0);
            log_t.insert((&e.space, pos), e.bytes.as_slice())?;
            index_t.insert((&e.space, &e.author, e.seq), pos)?;
            len_t.insert(&e.space, pos + 1)?;
            appended += 1;
        }
    }

    drop(log_t);
    drop(len_t);
    for rw in &batch.rewrites {
        known(&rw.space)?;
        rewrite_in(txn, rw)?;
    }
    {
        let mut rev_t = txn.open_table(tables::REVOCATIONS)?;
        for (id, bytes) in &batch.revocations {
            rev_t.insert(id, bytes.as_slice())?;
        }
        let mut consents_t = txn.open_table(tables::CONSENTS)?;
        for (space, hash, bytes) in &batch.consents {
            consents_t.insert((space, hash), bytes.as_slice())?;
        }
        let mut own_t = txn.open_table(tables::OWN_TIPS)?;
        for (space, key, seq) in &batch.own {
            let held = own_t.get((space, key))?.map_or(0, |g| g.value());
            own_t.insert((space, key), held.max(*seq))?;
        }
    }
    let len_t = txn.open_table(tables::LOG_LEN)?;

    {
        let mut ev_t = txn.open_table(tables::EVIDENCE)?;
        let mut seen_t = txn.open_table(tables::EVIDENCE_SEEN)?;
        for ev in &batch.evidence {
            known(&ev.space)?;
            ev_t.insert(
                (&ev.space, &ev.author, ev.seq, &ev.hash),
                ev.bytes.as_slice(),
            )?;
            if let Some(at) = ev.detected_at {
                let key = (&ev.space, &ev.author, ev.seq);
                if seen_t.get(key)?.is_none() {
                    seen_t.insert(key, at)?;
                }
            }
        }
    }

    {
        let mut snaps_t = txn.open_table(tables::SNAPSHOTS)?;
        for s in &batch.snapshots {
            known(&s.space)?;
            let log_len = len_t.get(&s.space)?.map(|g| g.value()).unwrap_or(0);
            if s.entry_count > log_len {
                return Err(StoreError::SnapshotBeyondLog {
                    space: s.space,
                    entry_count: s.entry_count,
                    log_len,
                });
            }
            snaps_t.insert(&s.space, encode_snapshot(s).as_slice())?;
        }
    }

    {
        let mut peers_t = txn.open_table(tables::PEERS)?;
        for p in &batch.peers_added {
            peers_t.insert(p.as_str(), 0u64)?;
        }
        for p in &batch.peers_removed {
            peers_t.remove(p.as_str())?;
        }
    }
    Ok(appended)
}

fn encode_snapshot(s: &Snapshot) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + s.doc.len());
    v.extend_from_slice(&s.entry_count.to_be_bytes());
    v.extend_from_slice(&s.doc);
    v
}

fn decode_snapshot(space: Id32, raw: &[u8]) -> Result<Snapshot, StoreError> {
    let (count, doc) = raw.split_first_chunk::<8>().ok_or_else(|| {
        StoreError::Corrupt(format!(
            "snapshot of space {} is {} bytes, shorter than its 8-byte header",
            short(&space),
            raw.len()
        ))
    })?;
    Ok(Snapshot {
        space,
        entry_count: u64::from_be_bytes(*count),
        doc: doc.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn id(n: u8) -> Id32 {
        [n; 32]
    }

    fn entry(space: u8, author: u8, seq: u64, body: &str) -> NewEntry {
        NewEntry {
            space: id(space),
            author: id(author),
            seq,
            bytes: body.as_bytes().to_vec(),
        }
    }

    fn genesis(space: u8) -> (Id32, Vec<u8>) {
        (id(space), format!("genesis-{space}").into_bytes())
    }

    fn tmp() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.redb");
        (dir, path)
    }

    fn space_entries(loaded: &Loaded, space: u8) -> Vec<String> {
        loaded
            .spaces
            .iter()
            .find(|s| s.id == id(space))
            .map(|s| {
                s.entries
                    .iter()
                    .map(|e| String::from_utf8(e.clone()).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A withdrawn entry that counts again (a removal displaced) goes back into the log
    /// and leaves the withdrawn entries, across a reopen.
    #[test]
    fn a_restored_entry_returns_to_the_log_and_leaves_the_withdrawn() {
        let (_dir, path) = tmp();
        {
            let store = Store::open(&path).unwrap();
            store
                .commit(&WriteBatch {
                    spaces: vec![genesis(1)],
                    entries: vec![entry(1, 7, 1, "a"), entry(1, 7, 2, "b")],
                    ..Default::default()
                })
                .unwrap();
            store
                .commit(&WriteBatch {
                    rewrites: vec![LogRewrite {
                        space: id(1),
                        from: 1,
                        tail: vec![],
                        withdrawn: vec![entry(1, 7, 2, "b")],
                        restored: vec![],
                    }],
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(
                store.load().unwrap().withdrawn,
                vec![(id(1), b"b".to_vec())]
            );
            store
                .commit(&WriteBatch {
                    entries: vec![entry(1, 6, 1, "c")],
                    rewrites: vec![LogRewrite {
                        space: id(1),
                        from: 2,
                        tail: vec![entry(1, 7, 2, "b")],
                        withdrawn: vec![],
                        restored: vec![entry(1, 7, 2, "b")],
                    }],
                    ..Default::default()
                })
                .unwrap();
        }
        let loaded = Store::open(&path).unwrap().load().unwrap();
        assert_eq!(space_entries(&loaded, 1), vec!["a", "c", "b"]);
        assert!(loaded.withdrawn.is_empty(), "{:?}", loaded.withdrawn);
    }

    #[test]
    fn round_trip_every_field_across_reopen() {
        let (_dir, path) = tmp();
        {
            let store = Store::open(&path).unwrap();
            let batch = WriteBatch {
                spaces: vec![genesis(2), genesis(1)],
                certificates: vec![(id(9), b"cert9".to_vec()), (id(8), b"cert8".to_vec())],
                entries: vec![
                    entry(1, 7, 1, "a"),
                    entry(1, 7, 2, "b"),
                    entry(2, 6, 1, "c"),
                ],
                evidence: vec![Evidence {
                    space: id(1),
                    author: id(7),
                    seq: 2,
                    hash: id(0xee),
                    bytes: b"b-prime".to_vec(),
                    detected_at: Some(1_700_000_000),
                }],
                snapshots: vec![Snapshot {
                    space: id(1),
                    entry_count: 2,
                    doc: b"doc".to_vec(),
                }],
                peers_added: vec!["/ip4/1.2.3.4/tcp/1".into(), "/ip4/5.6.7.8/tcp/2".into()],
                peers_removed: vec![],
                invited: vec![
                    (id(4), b"genesis-4".to_vec()),
                    (id(5), b"genesis-5".to_vec()),
                ],
                trusted: vec![id(0x31), id(0x32)],
                untrusted: vec![],
                revocations: vec![(id(0x41), b"revocation".to_vec())],
                rewrites: vec![],
                own: vec![(id(1), id(7), 2), (id(1), id(7), 1)],
                consents: vec![(id(1), id(0x51), b"consent".to_vec())],
            };
            store.commit(&batch).unwrap();
            store
                .commit(&WriteBatch {
                    peers_removed: vec!["/ip4/5.6.7.8/tcp/2".into()],
                    // Accepting an invitation stores the space and drops the invitation.
                    spaces: vec![(id(5), b"genesis-5".to_vec())],
                    untrusted: vec![id(0x32)],
                    ..Default::default()
                })
                .unwrap();
            // A revocation withdraws "b" (position 1) and the log goes on with "d".
            store
                .commit(&WriteBatch {
                    rewrites: vec![LogRewrite {
                        space: id(1),
                        from: 1,
                        tail: vec![entry(1, 8, 1, "d")],
                        withdrawn: vec![entry(1, 7, 2, "b")],
                        restored: vec![],
                    }],
                    ..Default::default()
                })
                .unwrap();
            store.meta_put("node.name", b"alice").unwrap();
        }
        let store = Store::open(&path).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.spaces[0].id, id(1));
        assert_eq!(loaded.spaces[0].genesis, b"genesis-1");
        assert_eq!(loaded.spaces[1].id, id(2));
        assert_eq!(space_entries(&loaded, 1), vec!["a", "d"]);
        assert_eq!(space_entries(&loaded, 2), vec!["c"]);
        assert!(
            loaded.spaces[0].damage.is_empty(),
            "{:?}",
            loaded.spaces[0].damage
        );
        // The snapshot covered the withdrawn position: dropped with it.
        assert_eq!(loaded.spaces[0].snapshot, None);
        assert_eq!(loaded.withdrawn, vec![(id(1), b"b".to_vec())]);
        assert_eq!(loaded.revocations, vec![b"revocation".to_vec()]);
        assert_eq!(
            loaded.own_tips,
            vec![(id(1), id(7), 2)],
            "the highest seq is kept"
        );
        assert_eq!(loaded.consents, vec![(id(1), b"consent".to_vec())]);
        assert_eq!(loaded.spaces[1].snapshot, None);
        assert_eq!(
            loaded.certificates,
            vec![(id(8), b"cert8".to_vec()), (id(9), b"cert9".to_vec())]
        );
        assert_eq!(loaded.evidence.len(), 1);
        assert_eq!(loaded.evidence[0].hash, id(0xee));
        assert_eq!(loaded.evidence[0].bytes, b"b-prime");
        assert_eq!(loaded.evidence[0].detected_at, Some(1_700_000_000));
        assert_eq!(loaded.peers, vec!["/ip4/1.2.3.4/tcp/1".to_string()]);
        assert_eq!(loaded.invited, vec![(id(4), b"genesis-4".to_vec())]);
        assert_eq!(loaded.spaces.len(), 3, "the accepted invitation is a space");
        assert_eq!(loaded.trusted, vec![id(0x31)]);
        assert_eq!(
            store.meta_get("node.name").unwrap(),
            Some(b"alice".to_vec())
        );
        assert_eq!(store.meta_get("missing").unwrap(), None);
        assert_eq!(store.entry_count(&id(1)).unwrap(), 2);
        assert_eq!(store.entry_count(&id(3)).unwrap(), 0);
    }

    #[test]
    fn log_order_preserved_across_commits() {
        let (_dir, path) = tmp();
        let store = Store::open(&path).unwrap();
        store
            .commit(&WriteBatch {
                spaces: vec![genesis(1)],
                entries: vec![entry(1, 5, 3, "x3"), entry(1, 4, 1, "y1")],
                ..Default::default()
            })
            .unwrap();
        store
            .commit(&WriteBatch {
                entries: vec![entry(1, 4, 2, "y2"), entry(1, 5, 1, "x1")],
                ..Default::default()
            })
            .unwrap();
        store
            .commit(&WriteBatch {
                entries: vec![entry(1, 9, 7, "z7")],
                ..Default::default()
            })
            .unwrap();
        drop(store);
        let loaded = Store::open(&path).unwrap().load().unwrap();
        assert_eq!(
            space_entries(&loaded, 1),
            vec!["x3", "y1", "y2", "x1", "z7"]
        );
    }

    #[test]
    fn duplicate_identical_entry_not_appended_twice() {
        let (_dir, path) = tmp();
        let store = Store::open(&path).unwrap();
        store
            .commit(&WriteBatch {
                spaces: vec![genesis(1)],
                entries: vec![entry(1, 5, 1, "a"), entry(1, 5, 1, "a")],
                ..Default::default()
            })
            .unwrap();
        store
            .commit(&WriteBatch {
                spaces: vec![genesis(1)],
                entries: vec![entry(1, 5, 1, "a"), entry(1, 5, 2, "b")],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(store.entry_count(&id(1)).unwrap(), 2);
        assert_eq!(space_entries(&store.load().unwrap(), 1), vec!["a", "b"]);
    }

    #[test]
    fn conflicting_entry_rejects_whole_batch() {
        let (_dir, path) = tmp();
        let store = Store::open(&path).unwrap();
        store
            .commit(&WriteBatch {
                spaces: vec![genesis(1)],
                entries: vec![entry(1, 5, 1, "a")],
                ..Default::default()
            })
            .unwrap();
        let err = store
            .commit(&WriteBatch {
                spaces: vec![genesis(2)],
                certificates: vec![(id(9), b"cert".to_vec())],
                entries: vec![entry(1, 5, 2, "b"), entry(1, 5, 1, "a-prime")],
                peers_added: vec!["/ip4/1.1.1.1/tcp/1".into()],
                ..Default::default()
            })
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { space, author, seq: 1 } if space == id(1) && author == id(5)),
            "{err}"
        );
        drop(store);
        let store = Store::open(&path).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.spaces.len(), 1);
        assert_eq!(space_entries(&loaded, 1), vec!["a"]);
        assert!(loaded.certificates.is_empty());
        assert!(loaded.peers.is_empty());
        assert_eq!(store.entry_count(&id(1)).unwrap(), 1);
        // The store is still usable afterwards.
        store
            .commit(&WriteBatch {
                entries: vec![entry(1, 5, 2, "b")],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(space_entries(&store.load().unwrap(), 1), vec!["a", "b"]);
    }

    #[test]
    fn genesis_conflict_and_unknown_space_rejected() {
        let (_dir, path) = tmp();
        let store = Store::open(&path).unwrap();
        store
            .commit(&WriteBatch {
                spaces: vec![genesis(1)],
                ..Default::default()
            })
            .unwrap();
        let err = store
            .commit(&WriteBatch {
                spaces: vec![(id(1), b"other".to_vec())],
                ..Default::default()
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::GenesisConflict { .. }), "{err}");
        let err = store
            .commit(&WriteBatch {
                entries: vec![entry(3, 5, 1, "a")],
                ..Default::default()
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::UnknownSpace { space } if space == id(3)));
        let err = store
            .commit(&WriteBatch {
                snapshots: vec![Snapshot {
                    space: id(1),
                    entry_count: 1,
                    doc: vec![],
                }],
                ..Default::default()
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::SnapshotBeyondLog { .. }), "{err}");
        assert_eq!(store.load().unwrap().spaces[0].genesis, b"genesis-1");
    }

    #[test]
    fn schema_too_new_refused_naming_both_releases_and_left_alone() {
        let (_dir, path) = tmp();
        {
            let store = Store::open(&path).unwrap();
            let txn = store.db.begin_write().unwrap();
            {
                let mut meta = txn.open_table(tables::META).unwrap();
                meta.insert(
                    SCHEMA_VERSION_KEY,
                    (SCHEMA_VERSION + 1).to_be_bytes().as_slice(),
                )
                .unwrap();
                meta.insert(WRITTEN_BY_KEY, b"9.9.9".as_slice()).unwrap();
            }
            txn.commit().unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(
                &err,
                StoreError::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                    written_by: Some(by),
                } if *found == SCHEMA_VERSION + 1 && by == "9.9.9"
            ),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("confer 9.9.9") && text.contains(&format!("confer {RELEASE}")),
            "{text}"
        );
        // Refused before anything was written: the file still names the newer release.
        let db = Database::create(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(tables::META).unwrap();
        assert_eq!(meta.get(WRITTEN_BY_KEY).unwrap().unwrap().value(), b"9.9.9");
    }

    /// A schema-2 file as releases before schema 3 wrote it: version 2, no release named,
    /// and without the tables added later. It opens migrated, with what it held.
    #[test]
    fn a_schema_2_file_is_migrated_in_place() {
        let (_dir, path) = tmp();
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut meta = txn.open_table(tables::META).unwrap();
                meta.insert(SCHEMA_VERSION_KEY, 2u64.to_be_bytes().as_slice())
                    .unwrap();
                meta.insert("node.setting", b"kept".as_slice()).unwrap();
                txn.open_table(tables::SPACES)
                    .unwrap()
                    .insert(&id(1), b"genesis-1".as_slice())
                    .unwrap();
                txn.open_table(tables::LOG)
                    .unwrap()
                    .insert((&id(1), 0u64), b"entry-0".as_slice())
                    .unwrap();
                txn.open_table(tables::ENTRY_INDEX)
                    .unwrap()
                    .insert((&id(1), &id(9), 1u64), 0u64)
                    .unwrap();
                txn.open_table(tables::LOG_LEN)
                    .unwrap()
                    .insert(&id(1), 1u64)
                    .unwrap();
            }
            txn.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.meta_get(SCHEMA_VERSION_KEY).unwrap(),
            Some(SCHEMA_VERSION.to_be_bytes().to_vec())
        );
        assert_eq!(
            store.meta_get(WRITTEN_BY_KEY).unwrap(),
            Some(RELEASE.as_bytes().to_vec())
        );
        assert_eq!(
            store.meta_get("node.setting").unwrap(),
            Some(b"kept".to_vec())
        );
        let loaded = store.load().unwrap();
        assert_eq!(loaded.spaces.len(), 1);
        assert_eq!(loaded.spaces[0].entries, vec![b"entry-0".to_vec()]);
        assert!(loaded.consents.is_empty());
        drop(store);

        // Schema 1 predates every release: refused, not guessed at.
        let (_dir1, path1) = tmp();
        {
            let db = Database::create(&path1).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(tables::META)
                .unwrap()
                .insert(SCHEMA_VERSION_KEY, 1u64.to_be_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        assert!(matches!(Store::open(&path1), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn reserved_meta_key_refused() {
        let (_dir, path) = tmp();
        let store = Store::open(&path).unwrap();
        assert!(matches!(
            store.meta_put(SCHEMA_VERSION_KEY, b"x"),
            Err(StoreError::ReservedKey(_))
        ));
        assert_eq!(
            store.meta_get(SCHEMA_VERSION_KEY).unwrap(),
            Some(SCHEMA_VERSION.to_be_bytes().to_vec())
        );
    }

    #[test]
    fn snapshot_replaced() {
        let (_dir, path) = tmp();
        let store = Store::open(&path).unwrap();
        store
            .commit(&WriteBatch {
                spaces: vec![genesis(1)],
                entries: vec![entry(1, 5, 1, "a"), entry(1, 5, 2, "b")],
                snapshots: vec![Snapshot {
                    space: id(1),
                    entry_count: 1,
                    doc: b"one".to_vec(),
                }],
                ..Default::default()
            })
            .unwrap();
        store
            .commit(&WriteBatch {
                snapshots: vec![Snapshot {
                    space: id(1),
                    entry_count: 2,
                    doc: b"two".to_vec(),
                }],
                ..Default::default()
            })
            .unwrap();
        drop(store);
        let loaded = Store::open(&path).unwrap().load().unwrap();
        let snap = loaded.spaces[0].snapshot.clone().unwrap();
        assert_eq!(snap.entry_count, 2);
        assert_eq!(snap.doc, b"two");
    }

    /// Writes `n` entries by author 5 (seqs 1..=n) and `m` by author 6 into space 1, a
    /// snapshot covering `snap` of them, and space 2 with one entry.
    fn two_authors(store: &Store, n: u64, m: u64, snap: u64) {
        let mut entries = Vec::new();
        for seq in 1..=n.max(m) {
            if seq <= n {
                entries.push(entry(1, 5, seq, &format!("a{seq}")));
            }
            if seq <= m {
                entries.push(entry(1, 6, seq, &format!("b{seq}")));
            }
        }
        store
            .commit(&WriteBatch {
                spaces: vec![genesis(1), genesis(2)],
                entries: entries
                    .into_iter()
                    .chain([entry(2, 5, 1, "other")])
                    .collect(),
                snapshots: vec![Snapshot {
                    space: id(1),
                    entry_count: snap,
                    doc: b"doc".to_vec(),
                }],
                ..Default::default()
            })
            .unwrap();
    }

    /// Every index row of `space`: (author, seq) -> position.
    fn index_rows(store: &Store, space: u8) -> Vec<(Id32, u64, u64)> {
        let txn = store.db.begin_read().unwrap();
        let index_t = txn.open_table(tables::ENTRY_INDEX).unwrap();
        index_t
            .range((&id(space), &ID_MIN, 0u64)..=(&id(space), &ID_MAX, u64::MAX))
            .unwrap()
            .map(|item| {
                let (k, v) = item.unwrap();
                let (_, author, seq) = k.value();
                (*author, seq, v.value())
            })
            .collect()
    }

    #[test]
    fn truncate_log_cuts_log_index_length_and_snapshot_durably() {
        let (_dir, path) = tmp();
        {
            let store = Store::open(&path).unwrap();
            two_authors(&store, 4, 3, 6);
            // Log: a1 b1 a2 b2 a3 b3 a4; cut at 3 keeps a1 b1 a2.
            assert_eq!(store.truncate_log(&id(1), 3).unwrap(), 4);
        }
        let store = Store::open(&path).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(space_entries(&loaded, 1), vec!["a1", "b1", "a2"]);
        assert!(loaded.spaces[0].damage.is_empty(), "{:?}", loaded.spaces[0]);
        assert_eq!(loaded.spaces[0].stored_len, 3);
        assert_eq!(
            loaded.spaces[0].snapshot, None,
            "the snapshot covered 6 entries, more than the 3 left"
        );
        assert_eq!(store.entry_count(&id(1)).unwrap(), 3);
        assert_eq!(
            index_rows(&store, 1),
            vec![(id(5), 1, 0), (id(5), 2, 2), (id(6), 1, 1)]
        );
        // The other space is untouched.
        assert_eq!(space_entries(&loaded, 2), vec!["other"]);
        assert_eq!(index_rows(&store, 2), vec![(id(5), 1, 0)]);
        // The dropped entries can be stored again (as sync brings them back), at the end.
        store
            .commit(&WriteBatch {
                entries: vec![entry(1, 6, 2, "b2"), entry(1, 5, 3, "a3")],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            space_entries(&store.load().unwrap(), 1),
            vec!["a1", "b1", "a2", "b2", "a3"]
        );
        assert_eq!(store.entry_count(&id(1)).unwrap(), 5);
    }

    #[test]
    fn truncate_log_keeps_a_snapshot_within_the_new_length() {
        let (_dir, path) = tmp();
        let store = Store::open(&path).unwrap();
        two_authors(&store, 2, 2, 2);
        assert_eq!(store.truncate_log(&id(1), 3).unwrap(), 1);
        assert_eq!(store.truncate_log(&id(1), 3).unwrap(), 0, "idempotent");
        let loaded = store.load().unwrap();
        assert_eq!(loaded.spaces[0].snapshot.as_ref().unwrap().entry_count, 2);
        // Cutting at 0 empties the log.
        assert_eq!(store.truncate_log(&id(1), 0).unwrap(), 3);
        let loaded = store.load().unwrap();
        assert!(space_entries(&loaded, 1).is_empty());
        assert_eq!(loaded.spaces[0].snapshot, None);
        assert!(index_rows(&store, 1).is_empty());
        // A cut beyond what is stored would leave a gap: refused, nothing written.
        let err = store.truncate_log(&id(2), 5).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
        assert_eq!(store.entry_count(&id(2)).unwrap(), 1);
    }

    /// Rows that break the invariants are left out and described, not an error; cutting
    /// the log where `load` stopped makes the file sound again.
    #[test]
    fn load_reports_a_gap_and_truncate_log_repairs_it() {
        let (_dir, path) = tmp();
        let store = Store::open(&path).unwrap();
        two_authors(&store, 3, 3, 5);
        {
            let txn = store.db.begin_write().unwrap();
            txn.open_table(tables::LOG)
                .unwrap()
                .remove((&id(1), 2u64))
                .unwrap();
            txn.commit().unwrap();
        }
        let loaded = store.load().unwrap();
        let space = &loaded.spaces[0];
        assert_eq!(space_entries(&loaded, 1), vec!["a1", "b1"]);
        assert_eq!(space.stored_len, 6);
        assert_eq!(space.damage, vec!["the log has a gap at position 2"]);
        assert_eq!(space.snapshot, None, "it covered positions past the gap");
        assert!(loaded.spaces[1].damage.is_empty());
        assert_eq!(store.truncate_log(&id(1), 2).unwrap(), 3);
        let loaded = store.load().unwrap();
        assert!(loaded.spaces[0].damage.is_empty());
        assert_eq!(index_rows(&store, 1).len(), 2);
    }

    #[test]
    fn load_reports_a_length_that_disagrees_and_a_bad_snapshot() {
        let (_dir, path) = tmp();
        let store = Store::open(&path).unwrap();
        two_authors(&store, 2, 1, 1);
        let set = |len: u64, snapshot: &[u8]| {
            let txn = store.db.begin_write().unwrap();
            txn.open_table(tables::LOG_LEN)
                .unwrap()
                .insert(&id(1), len)
                .unwrap();
            txn.open_table(tables::SNAPSHOTS)
                .unwrap()
                .insert(&id(1), snapshot)
                .unwrap();
            txn.commit().unwrap();
        };
        // Length says 2 but three rows are there; the snapshot has no header.
        set(2, b"short");
        let loaded = store.load().unwrap();
        let space = &loaded.spaces[0];
        assert_eq!(space_entries(&loaded, 1), vec!["a1", "b1"]);
        assert_eq!(space.stored_len, 3);
        assert_eq!(space.damage.len(), 2, "{:?}", space.damage);
        assert_eq!(space.snapshot, None);
        assert_eq!(store.truncate_log(&id(1), 2).unwrap(), 1);
        let loaded = store.load().unwrap();
        assert!(loaded.spaces[0].damage.is_empty(), "{:?}", loaded.spaces[0]);
        assert_eq!(
            loaded.spaces[0].snapshot, None,
            "the unreadable one is gone"
        );

        // Length says 5 but two rows are there; the snapshot claims 4.
        let mut snap = 4u64.to_be_bytes().to_vec();
        snap.extend_from_slice(b"doc");
        set(5, &snap);
        let loaded = store.load().unwrap();
        let space = &loaded.spaces[0];
        assert_eq!(space.stored_len, 5);
        assert_eq!(space.damage.len(), 1, "{:?}", space.damage);
        assert_eq!(
            space.snapshot, None,
            "it covers more than the two readable entries"
        );
        assert_eq!(store.truncate_log(&id(1), 2).unwrap(), 0);
        let loaded = store.load().unwrap();
        assert!(loaded.spaces[0].damage.is_empty(), "{:?}", loaded.spaces[0]);
        assert_eq!(loaded.spaces[0].stored_len, 2);
        assert_eq!(loaded.spaces[0].snapshot, None);
    }

    #[test]
    fn forget_space_removes_every_row_of_it_and_it_can_come_back() {
        let (_dir, path) = tmp();
        {
            let store = Store::open(&path).unwrap();
            two_authors(&store, 2, 2, 4);
            store
                .commit(&WriteBatch {
                    evidence: vec![
                        Evidence {
                            space: id(1),
                            author: id(5),
                            seq: 1,
                            hash: id(0xee),
                            bytes: b"a1-prime".to_vec(),
                            detected_at: Some(10),
                        },
                        Evidence {
                            space: id(2),
                            author: id(5),
                            seq: 1,
                            hash: id(0xee),
                            bytes: b"other-prime".to_vec(),
                            detected_at: Some(20),
                        },
                    ],
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(store.forget_space(&id(1)).unwrap(), 4);
        }
        let store = Store::open(&path).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.spaces.len(), 1);
        assert_eq!(loaded.spaces[0].id, id(2));
        assert_eq!(loaded.evidence.len(), 1);
        assert_eq!(loaded.evidence[0].space, id(2));
        assert_eq!(loaded.evidence[0].detected_at, Some(20));
        assert!(store.evidence(&id(1)).unwrap().is_empty());
        assert!(index_rows(&store, 1).is_empty());
        assert_eq!(store.entry_count(&id(1)).unwrap(), 0);
        assert!(store.load_space(&id(1)).unwrap().is_none());
        // A peer offers the space again, with a genesis the old one no longer blocks.
        store
            .commit(&WriteBatch {
                spaces: vec![(id(1), b"genesis-1 again".to_vec())],
                entries: vec![entry(1, 6, 1, "b1")],
                ..Default::default()
            })
            .unwrap();
        let again = store.load_space(&id(1)).unwrap().unwrap();
        assert_eq!(again.genesis, b"genesis-1 again");
        assert_eq!(again.entries, vec![b"b1".to_vec()]);
        assert!(again.damage.is_empty());
    }

    fn evidence(space: u8, author: u8, seq: u64, hash: u8, at: Option<u64>) -> Evidence {
        Evidence {
            space: id(space),
            author: id(author),
            seq,
            hash: id(hash),
            bytes: vec![hash; 3],
            detected_at: at,
        }
    }

    #[test]
    fn evidence_keeps_the_first_detection_time_and_reads_per_space() {
        let (_dir, path) = tmp();
        {
            let store = Store::open(&path).unwrap();
            store
                .commit(&WriteBatch {
                    spaces: vec![genesis(1), genesis(2)],
                    evidence: vec![
                        evidence(1, 7, 3, 0xa1, Some(100)),
                        evidence(1, 7, 3, 0xa2, Some(100)),
                        evidence(2, 7, 3, 0xb1, Some(200)),
                    ],
                    ..Default::default()
                })
                .unwrap();
            // The same pair stored again later (and a third entry at that seq) does not
            // move the time of the first detection.
            store
                .commit(&WriteBatch {
                    evidence: vec![
                        evidence(1, 7, 3, 0xa2, Some(999)),
                        evidence(1, 7, 3, 0xa3, Some(999)),
                    ],
                    ..Default::default()
                })
                .unwrap();
            // Evidence written without a time (as a program from before the time was
            // recorded did) loads with none.
            store
                .commit(&WriteBatch {
                    evidence: vec![evidence(1, 8, 1, 0xc1, None)],
                    ..Default::default()
                })
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let one = store.evidence(&id(1)).unwrap();
        let got: Vec<(u8, u64, u8, Option<u64>)> = one
            .iter()
            .map(|e| (e.author[0], e.seq, e.hash[0], e.detected_at))
            .collect();
        assert_eq!(
            got,
            vec![
                (7, 3, 0xa1, Some(100)),
                (7, 3, 0xa2, Some(100)),
                (7, 3, 0xa3, Some(100)),
                (8, 1, 0xc1, None),
            ]
        );
        assert!(one
            .iter()
            .all(|e| e.space == id(1) && e.bytes == vec![e.hash[0]; 3]));
        let two = store.evidence(&id(2)).unwrap();
        assert_eq!(two.len(), 1);
        assert_eq!(two[0].detected_at, Some(200));
        assert!(store.evidence(&id(3)).unwrap().is_empty());
        let loaded = store.load().unwrap();
        assert_eq!(loaded.evidence.len(), 5);
        assert_eq!(loaded.evidence[..4], one[..]);
        // Evidence for a space without a genesis is refused with the rest of its batch.
        assert!(matches!(
            store.commit(&WriteBatch {
                evidence: vec![evidence(3, 7, 1, 0xd1, Some(1))],
                ..Default::default()
            }),
            Err(StoreError::UnknownSpace { .. })
        ));
    }

    /// After every acknowledged commit, a fresh open of the file sees everything acknowledged
    /// so far, in order.
    #[test]
    fn every_acknowledged_commit_survives_reopen() {
        let (_dir, path) = tmp();
        let mut expected: Vec<String> = Vec::new();
        let mut expected_certs = std::collections::BTreeMap::new();
        for round in 0..20u64 {
            let store = Store::open(&path).unwrap();
            let mut batch = WriteBatch {
                spaces: vec![genesis(1)],
                ..Default::default()
            };
            for i in 0..=(round % 4) {
                let body = format!("r{round}-{i}");
                batch.entries.push(NewEntry {
                    space: id(1),
                    author: id((i % 3) as u8),
                    seq: round * 10 + i,
                    bytes: body.clone().into_bytes(),
                });
                expected.push(body);
            }
            let cert = format!("cert-{round}").into_bytes();
            batch
                .certificates
                .push((id((round % 3) as u8), cert.clone()));
            expected_certs.insert(id((round % 3) as u8), cert);
            store.commit(&batch).unwrap();
            drop(store);

            let reopened = Store::open(&path).unwrap();
            let loaded = reopened.load().unwrap();
            assert_eq!(space_entries(&loaded, 1), expected, "round {round}");
            assert_eq!(
                loaded.certificates,
                expected_certs
                    .iter()
                    .map(|(k, v)| (*k, v.clone()))
                    .collect::<Vec<_>>()
            );
            assert_eq!(reopened.entry_count(&id(1)).unwrap(), expected.len() as u64);
        }
    }
}
