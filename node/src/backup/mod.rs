//! Backup archives of a node's data directory (`confer backup`, `confer restore`): the
//! store's every table as one read transaction saw it, made by the running node, plus the
//! keys and the identity, which the CLI adds from the data directory ([`with_keys`]): the
//! node never reads the body key, and its API hands out no key. Format: `docs/backup.md`.
//!
//! Invariants:
//! - An archive is made from one redb read transaction ([`rows::dump`]): it holds exactly
//!   what some commit left, so every write acknowledged before the backup began is in it.
//! - [`restore`] writes only into an absent or empty directory, and only after the whole
//!   archive checked out (its BLAKE3 checksum, every path, every row's shape, a schema
//!   this program can open): it builds the directory beside the target and renames it
//!   into place, so a failed restore leaves nothing behind.
//! - A restored store is marked *awaiting catch-up* (meta key [`CATCH_UP_KEY`]): the node
//!   refuses local edits in each space until it has pulled that space from every other
//!   member body (`event_loop/catch_up.rs`), so a restored member key never re-signs a
//!   sequence number it had already used after the backup.

pub mod rows;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use redb::{Database, Durability, TableHandle};

use crate::i18n::Lang;
use crate::store::{self, Store, StoreError};
use rows::TableRows;

/// The archive's first bytes.
pub const MAGIC: &[u8; 14] = b"confer-backup\n";
/// The archive format this program writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Meta key marking a restored store whose spaces wait for catch-up (JSON, see
/// `event_loop/catch_up.rs`).
pub const CATCH_UP_KEY: &str = "node.catch_up";

const TAG_END: u8 = 0;
const TAG_FILE: u8 = 1;
const TAG_TABLE: u8 = 2;

/// Files of the data directory an archive carries besides the store: the identity and
/// every key (the body key too, if it is kept here).
const FILES: &[&str] = &["identity.json", "members.json"];
const KEY_DIR: &str = "keys";

/// Why a backup or restore failed. Nothing was written in either case.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not empty: restore only into an empty or absent data directory")]
    NotEmpty { path: PathBuf },
    #[error("the file is not a confer backup")]
    NotABackup,
    #[error("backup format {found} is newer than this program reads ({supported})")]
    FormatTooNew { found: u32, supported: u32 },
    #[error("the backup is damaged or altered (its checksum does not match)")]
    Checksum,
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error("the backup's store has schema version {found}; this program (confer {program}) opens schema {supported} and older: restore it with a newer release")]
    SchemaTooNew {
        found: u64,
        supported: u64,
        program: &'static str,
    },
    #[error("{0}")]
    Rows(#[from] rows::RowsError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl BackupError {
    /// The error in `lang`.
    pub fn explain(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (BackupError::Io { path, source }, Lang::Zh) => {
                format!("{}：{}", path.display(), io_zh(source))
            }
            (BackupError::NotEmpty { path }, Lang::Zh) => {
                format!("{} 不是空目录：只能恢复到空目录或尚不存在的数据目录", path.display())
            }
            (BackupError::NotABackup, Lang::Zh) => "该文件不是 confer 备份文件".into(),
            (BackupError::FormatTooNew { found, supported }, Lang::Zh) => {
                format!("备份格式版本 {found} 比本程序能读取的版本（{supported}）新")
            }
            (BackupError::Checksum, Lang::Zh) => "备份文件已损坏或被改动（校验和不符）".into(),
            (BackupError::Damaged(_), Lang::Zh) => "备份文件已损坏，无法解析".into(),
            (
                BackupError::SchemaTooNew {
                    found,
                    supported,
                    program,
                },
                Lang::Zh,
            ) => format!(
                "备份中的数据库格式版本为 {found}；本程序（confer {program}）只能打开 {supported} 及更早的版本：请用更新的版本恢复"
            ),
            (BackupError::Rows(rows::RowsError::UnknownTable(name)), Lang::Zh) => {
                format!("备份中的数据表 {name} 不为本程序所知（备份由更新的版本制作）")
            }
            (BackupError::Rows(_), Lang::Zh) => "备份文件已损坏：有数据行的格式不符".into(),
            (BackupError::Store(_), Lang::Zh) => {
                "数据库读写失败（以 LANG=C 重新运行可看到详细原因）".into()
            }
        }
    }
}

/// What went wrong with a file, in Chinese (the system's own text is English).
pub fn io_zh(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "文件或目录不存在",
        std::io::ErrorKind::PermissionDenied => "没有访问权限",
        std::io::ErrorKind::AlreadyExists => "文件已存在",
        std::io::ErrorKind::StorageFull => "磁盘空间不足",
        _ => "读写失败（以 LANG=C 重新运行可看到详细原因）",
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One file of the data directory: its path relative to it, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// What an archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    /// When it was made, unix seconds.
    pub created_at: u64,
    pub files: Vec<ArchiveFile>,
    pub tables: Vec<TableRows>,
}

/// What a restored store still waits for before it takes local edits (`confer catch-up`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CatchUpView {
    /// When the backup it was restored from was made (unix seconds); absent if this store
    /// was never restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_at: Option<u64>,
    /// The agendas that take no local edits yet, and the member bodies each waits for.
    pub waiting: Vec<CatchUpSpace>,
}

/// One agenda waiting for catch-up.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CatchUpSpace {
    pub space: String,
    pub waiting_for: Vec<crate::views::BodyView>,
}

/// What a backup or restore covered, for the operator.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BackupSummary {
    pub created_at: u64,
    pub bytes: u64,
    pub files: usize,
    pub tables: usize,
    pub rows: u64,
    /// Entries in the spaces' logs.
    pub entries: u64,
}

impl Archive {
    /// The archive of the data directory `dir` with the store's rows `tables`.
    pub fn of(dir: &Path, tables: Vec<TableRows>, now: u64) -> Result<Archive, BackupError> {
        let mut files = Vec::new();
        for name in FILES {
            let path = dir.join(name);
            match fs::read(&path) {
                Ok(bytes) => files.push(ArchiveFile {
                    path: (*name).to_owned(),
                    bytes,
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        collect_dir(dir, Path::new(KEY_DIR), &mut files)?;
        Ok(Archive {
            created_at: now,
            files,
            tables,
        })
    }

    pub fn summary(&self, bytes: usize) -> BackupSummary {
        let log = store::tables::LOG.name();
        BackupSummary {
            created_at: self.created_at,
            bytes: bytes as u64,
            files: self.files.len(),
            tables: self.tables.len(),
            rows: self.tables.iter().map(|t| t.rows.len() as u64).sum(),
            entries: self
                .tables
                .iter()
                .filter(|t| t.name == log)
                .map(|t| t.rows.len() as u64)
                .sum(),
        }
    }

    /// The archive's bytes (`docs/backup.md`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        out.extend_from_slice(&self.created_at.to_be_bytes());
        for file in &self.files {
            out.push(TAG_FILE);
            put_bytes(&mut out, file.path.as_bytes());
            put_bytes(&mut out, &file.bytes);
        }
        for table in &self.tables {
            out.push(TAG_TABLE);
            put_bytes(&mut out, table.name.as_bytes());
            out.extend_from_slice(&(table.rows.len() as u64).to_be_bytes());
            for (k, v) in &table.rows {
                put_bytes(&mut out, k);
                put_bytes(&mut out, v);
            }
        }
        out.push(TAG_END);
        let sum = blake3::hash(&out);
        out.extend_from_slice(sum.as_bytes());
        out
    }

    /// Reads an archive, checking its checksum before anything else.
    pub fn decode(bytes: &[u8]) -> Result<Archive, BackupError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(BackupError::NotABackup);
        }
        let mut r = Reader {
            bytes: &bytes[MAGIC.len()..],
        };
        let version = u32::from_be_bytes(r.array()?);
        if version > FORMAT_VERSION {
            return Err(BackupError::FormatTooNew {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if version != FORMAT_VERSION {
            return Err(BackupError::Damaged(format!("unknown format {version}")));
        }
        let Some(body_len) = bytes.len().checked_sub(32) else {
            return Err(BackupError::Checksum);
        };
        let (body, sum) = bytes.split_at(body_len);
        if blake3::hash(body).as_bytes() != sum {
            return Err(BackupError::Checksum);
        }
        let mut r = Reader {
            bytes: &body[MAGIC.len() + 4..],
        };
        let created_at = u64::from_be_bytes(r.array()?);
        let mut files = Vec::new();
        let mut tables = Vec::new();
        loop {
            match r.array::<1>()?[0] {
                TAG_END => break,
                TAG_FILE => {
                    let path = r.text()?;
                    check_path(&path)?;
                    files.push(ArchiveFile {
                        path,
                        bytes: r.bytes()?.to_vec(),
                    });
                }
                TAG_TABLE => {
                    let name = r.text()?;
                    let count = u64::from_be_bytes(r.array()?);
                    let mut rows = Vec::new();
                    for _ in 0..count {
                        let k = r.bytes()?.to_vec();
                        let v = r.bytes()?.to_vec();
                        rows.push((k, v));
                    }
                    tables.push(TableRows { name, rows });
                }
                tag => return Err(BackupError::Damaged(format!("unknown section {tag}"))),
            }
        }
        if !r.bytes.is_empty() {
            return Err(BackupError::Damaged("bytes after the end".into()));
        }
        Ok(Archive {
            created_at,
            files,
            tables,
        })
    }

    /// The schema version the archive's store was written with.
    fn schema_version(&self) -> Result<Option<u64>, BackupError> {
        let meta = self
            .tables
            .iter()
            .find(|t| t.name == store::tables::META.name());
        let Some(meta) = meta else { return Ok(None) };
        let Some((_, v)) = meta
            .rows
            .iter()
            .find(|(k, _)| k == store::SCHEMA_VERSION_KEY.as_bytes())
        else {
            return Ok(None);
        };
        let raw: [u8; 8] = v
            .as_slice()
            .try_into()
            .map_err(|_| BackupError::Damaged("the schema version is not 8 bytes".into()))?;
        Ok(Some(u64::from_be_bytes(raw)))
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BackupError> {
        if self.bytes.len() < n {
            return Err(BackupError::Damaged("it ends too early".into()));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BackupError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn bytes(&mut self) -> Result<&'a [u8], BackupError> {
        let len = u64::from_be_bytes(self.array()?);
        let len = usize::try_from(len)
            .map_err(|_| BackupError::Damaged("a length does not fit in memory".into()))?;
        self.take(len)
    }

    fn text(&mut self) -> Result<String, BackupError> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| BackupError::Damaged("a name is not UTF-8".into()))
    }
}

/// Only the files an archive may carry, as plain relative paths.
fn check_path(path: &str) -> Result<(), BackupError> {
    let p = Path::new(path);
    let plain = p.components().all(|c| matches!(c, Component::Normal(_)));
    let allowed = FILES.contains(&path) || p.starts_with(KEY_DIR);
    if plain && allowed && !path.contains('\\') {
        Ok(())
    } else {
        Err(BackupError::Damaged(format!(
            "it names a file outside the data directory's keys and identity: {path:?}"
        )))
    }
}

fn collect_dir(root: &Path, rel: &Path, files: &mut Vec<ArchiveFile>) -> Result<(), BackupError> {
    let dir = root.join(rel);
    let list = match fs::read_dir(&dir) {
        Ok(list) => list,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(&dir)(e)),
    };
    let mut names: Vec<_> = list
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(io(&dir))?;
    names.sort();
    for name in names {
        let rel = rel.join(&name);
        let path = root.join(&rel);
        let kind = fs::symlink_metadata(&path).map_err(io(&path))?;
        if kind.is_dir() {
            collect_dir(root, &rel, files)?;
        } else if kind.is_file() {
            let Some(text) = rel.to_str() else { continue };
            files.push(ArchiveFile {
                path: text.to_owned(),
                bytes: fs::read(&path).map_err(io(&path))?,
            });
        }
    }
    Ok(())
}

/// A complete archive: the node's store archive (`GET /v1/backup`, which holds no
/// files) with the identity and key files of the data directory `dir` added, read here,
/// in the caller's process: the running node never reads the body key.
pub fn with_keys(store_archive: &[u8], dir: &Path) -> Result<Vec<u8>, BackupError> {
    let archive = Archive::decode(store_archive)?;
    if !archive.files.is_empty() {
        return Err(BackupError::Damaged(
            "the node's archive already holds files".into(),
        ));
    }
    Ok(Archive::of(dir, archive.tables, archive.created_at)?.encode())
}

/// Writes `bytes` to `path` readable by its owner only (0600), refusing to overwrite.
pub fn write_private_new(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// Restores `bytes` (an archive) into `dir`, which must be absent or empty. The store is
/// marked awaiting catch-up. Returns what was restored.
pub fn restore(bytes: &[u8], dir: &Path) -> Result<BackupSummary, BackupError> {
    let archive = Archive::decode(bytes)?;
    if let Some(found) = archive.schema_version()? {
        if found > store::SCHEMA_VERSION {
            return Err(BackupError::SchemaTooNew {
                found,
                supported: store::SCHEMA_VERSION,
                program: env!("CARGO_PKG_VERSION"),
            });
        }
    }
    match fs::read_dir(dir) {
        Ok(mut list) => {
            if list.next().is_some() {
                return Err(BackupError::NotEmpty {
                    path: dir.to_owned(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(dir)(e)),
    }
    let name = dir
        .file_name()
        .ok_or_else(|| BackupError::NotEmpty {
            path: dir.to_owned(),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let staging = parent.join(format!(".{name}.restoring-{}", std::process::id()));
    let result = build(&archive, &staging).and_then(|()| {
        // Replaces an empty directory, or makes the absent one: all at once.
        fs::rename(&staging, dir).map_err(io(dir))
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result?;
    Ok(archive.summary(bytes.len()))
}

fn private_dir(path: &Path) -> Result<(), BackupError> {
    fs::create_dir_all(path).map_err(io(path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(io(path))
}

fn build(archive: &Archive, staging: &Path) -> Result<(), BackupError> {
    if staging.exists() {
        fs::remove_dir_all(staging).map_err(io(staging))?;
    }
    private_dir(staging)?;
    for file in &archive.files {
        let path = staging.join(&file.path);
        if let Some(parent) = path.parent() {
            private_dir(parent)?;
        }
        write_private_new(&path, &file.bytes)?;
    }
    let store_path = staging.join("confer.redb");
    {
        let db = Database::create(&store_path).map_err(StoreError::from)?;
        let mut txn = db.begin_write().map_err(StoreError::from)?;
        txn.set_durability(Durability::Immediate)
            .map_err(StoreError::from)?;
        rows::load(&txn, &archive.tables)?;
        {
            let mut meta = txn
                .open_table(store::tables::META)
                .map_err(StoreError::from)?;
            let mark = crate::event_loop::catch_up_mark(archive.created_at);
            meta.insert(CATCH_UP_KEY, mark.as_slice())
                .map_err(StoreError::from)?;
        }
        txn.commit().map_err(StoreError::from)?;
    }
    // Opening checks the schema and migrates an older one, before anything is in place.
    Store::open(&store_path)?;
    fs::set_permissions(&store_path, fs::Permissions::from_mode(0o600)).map_err(io(&store_path))?;
    Ok(())
}
