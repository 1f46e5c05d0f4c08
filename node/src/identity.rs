//! The node's identity on disk: key files and certificates in the data directory.
//!
//! Layout of `DIR`:
//! - `keys/body.key`, `keys/member.key`, `keys/node.key`: 32-byte Ed25519 seeds, hex, mode
//!   0600 in a directory created 0700.
//! - `keys/body.key.enc`: the body key sealed under a passphrase instead of `body.key`
//!   (`init --encrypt-body-key`, `body-key encrypt`; format in [`keyfile`] and
//!   `docs/keyfile.md`).
//! - `identity.json`: the body's name and region and the two certificates the body issued
//!   at `init` (member and node), hex-encoded.
//!
//! Invariants:
//! - [`load`] (what `run` uses) reads only the member and node keys, never the body key:
//!   the body key signs certificates and may be encrypted or kept on another machine.
//! - [`load`] refuses to start when a key file can be read or written by group or others,
//!   naming the file and the fix; nothing here ever changes the mode of an existing file
//!   or directory. Directories are created 0700; an existing directory the operator pointed
//!   at keeps its mode (a warning is logged when group or others can read it).
//! - Seeds read from files or generated here are held in [`Zeroizing`] buffers, and
//!   [`SecretKey`] wipes its own copy, so secrets are wiped from memory when dropped.
//!   (`LocalIdentity::node_seed` is a plain copy the runtime hands to libp2p, whose key
//!   type wipes itself.)
//!
//! Seeds, salts and nonces come from the OS random source; nothing else here uses
//! randomness.

pub mod keyfile;
pub mod members;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use confer_protocol::{BodyId, Certificate, Identity, Role, SecretKey, Subject};
use rand::RngExt;
use zeroize::Zeroizing;

use keyfile::{KdfParams, KeyFileError, Passphrase};

/// Why the identity could not be created or loaded.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{path} already holds a confer identity")]
    AlreadyInitialised { path: PathBuf },
    #[error("{path} holds no confer identity (run `confer init` first)")]
    NotInitialised { path: PathBuf },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    #[error("{0}")]
    Cert(#[from] confer_protocol::cert::CertError),
    #[error("{path} can be read or written by other users (mode {mode:04o}); a key file must be private to the node's user: run `chmod 600 {path}` and start again")]
    KeyFileTooOpen { path: PathBuf, mode: u32 },
    #[error("the body key is kept offline (there is no keys/body.key or keys/body.key.enc in {dir}); run this on the machine that holds it")]
    BodyKeyOffline { dir: PathBuf },
    #[error("{path} is encrypted: a passphrase is needed")]
    PassphraseNeeded { path: PathBuf },
    #[error("wrong passphrase for {path} (or the file was altered); nothing was changed")]
    WrongPassphrase { path: PathBuf },
    #[error("{path}: {source}")]
    KeyFile { path: PathBuf, source: KeyFileError },
    #[error("{path} already exists: the body key is already encrypted here (if keys/body.key is there too, delete it with `confer body-key remove`); nothing was changed")]
    AlreadyEncrypted { path: PathBuf },
    #[error("there is no plaintext body key at {path}")]
    NoPlainBodyKey { path: PathBuf, encrypted: bool },
    #[error("{path} is the only copy of the body key on this machine; copy it offline (or encrypt it with `confer body-key encrypt`) first, then run `confer body-key remove --confirm`")]
    OnlyCopy { path: PathBuf },
    #[error("this body's key was changed {max} times, the most a node's hello can prove; create a new body instead")]
    TooManyRotations { max: usize },
    #[error("{path} holds the key of body {found}, but identity.json belongs to body {expected}")]
    WrongBodyKey {
        path: PathBuf,
        found: BodyId,
        expected: BodyId,
    },
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct IdentityFile {
    body_name: String,
    region: String,
    member_cert: String,
    node_cert: String,
    /// Body-key certificates (hex), oldest first: each new body key, certified by the one
    /// before (`confer body-key rotate`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    body_chain: Vec<String>,
}

/// Everything `run` needs to act as this body.
#[derive(Clone)]
pub struct LocalIdentity {
    pub region: String,
    pub identity: Identity,
    pub node_seed: [u8; 32],
    /// Further members of the body on this node ([`members`]).
    pub members: Vec<(SecretKey, Certificate)>,
    /// The body's key changes, oldest first.
    pub chain: Vec<Certificate>,
}

/// Shows the public parts only.
impl std::fmt::Debug for LocalIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIdentity")
            .field("region", &self.region)
            .field("body", &self.identity.body())
            .field("member", &self.identity.member_cert.key)
            .field("node", &self.identity.node_cert.key)
            .finish_non_exhaustive()
    }
}

pub fn keys_dir(dir: &Path) -> PathBuf {
    dir.join("keys")
}

/// `DIR/keys/body.key`: the body key in plaintext (hex seed).
pub fn body_key_path(dir: &Path) -> PathBuf {
    keys_dir(dir).join("body.key")
}

/// `DIR/keys/body.key.enc`: the body key sealed under a passphrase.
pub fn body_key_enc_path(dir: &Path) -> PathBuf {
    keys_dir(dir).join("body.key.enc")
}

fn identity_path(dir: &Path) -> PathBuf {
    dir.join("identity.json")
}

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> IdentityError + 'a {
    move |source| IdentityError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Whether `dir` already holds an identity (or the start of one), so `init` would refuse.
pub fn initialised(dir: &Path) -> bool {
    identity_path(dir).exists() || keys_dir(dir).exists()
}

/// How `init` stores the new body key.
#[derive(Debug, Clone, Copy)]
pub enum BodyKeyStorage<'a> {
    /// `keys/body.key`, hex, mode 0600.
    Plain,
    /// `keys/body.key.enc`, sealed under this passphrase.
    Encrypted(&'a Passphrase),
}

/// Creates a new body with its first member and a node identity in `dir`, the body key in
/// plaintext (`keys/body.key`).
pub fn init(
    dir: &Path,
    body_name: &str,
    region: &str,
    member_name: &str,
    now: u64,
) -> Result<LocalIdentity, IdentityError> {
    init_with(
        dir,
        body_name,
        region,
        member_name,
        now,
        BodyKeyStorage::Plain,
    )
}

/// Creates a new body with its first member and a node identity in `dir`, the body key
/// stored as `body_key` says.
pub fn init_with(
    dir: &Path,
    body_name: &str,
    region: &str,
    member_name: &str,
    now: u64,
    body_key: BodyKeyStorage<'_>,
) -> Result<LocalIdentity, IdentityError> {
    if initialised(dir) {
        return Err(IdentityError::AlreadyInitialised {
            path: dir.to_owned(),
        });
    }
    create_private_dir(dir)?;
    let keys = keys_dir(dir);
    create_private_dir(&keys)?;
    let mut rng = rand::rng();
    let body = SecretKey::from_seed(rng.random());
    let member = SecretKey::from_seed(rng.random());
    let node_seed = Zeroizing::new(rng.random::<[u8; 32]>());
    let node = SecretKey::from_seed(*node_seed);
    match body_key {
        BodyKeyStorage::Plain => write_key(&body_key_path(dir), &body)?,
        BodyKeyStorage::Encrypted(passphrase) => write_sealed(dir, &body, passphrase)?,
    }
    write_key(&keys.join("member.key"), &member)?;
    write_key(&keys.join("node.key"), &node)?;
    let member_cert = Certificate::issue(
        &body,
        body_name,
        member.public(),
        Subject::member(member_name.to_owned(), Role::Staff),
        now,
    )?;
    let node_cert = Certificate::issue(&body, body_name, node.public(), Subject::Node, now)?;
    let file = IdentityFile {
        body_name: body_name.to_owned(),
        region: region.to_owned(),
        member_cert: hex::encode(member_cert.encode()),
        node_cert: hex::encode(node_cert.encode()),
        body_chain: Vec::new(),
    };
    let json = serde_json::to_vec_pretty(&file).map_err(|e| IdentityError::Damaged {
        path: identity_path(dir),
        reason: e.to_string(),
    })?;
    write_private(&identity_path(dir), &json)?;
    Ok(LocalIdentity {
        region: region.to_owned(),
        identity: Identity {
            node_cert,
            member,
            member_cert,
        },
        node_seed: *node_seed,
        members: Vec::new(),
        chain: Vec::new(),
    })
}

/// Loads the identity `run` needs (member and node keys, certificates). Never reads the
/// body key. Refuses key files that group or others can read or write
/// ([`check_key_permissions`]).
pub fn load(dir: &Path) -> Result<LocalIdentity, IdentityError> {
    let file = read_identity_file(dir)?;
    let path = identity_path(dir);
    check_key_permissions(dir)?;
    warn_if_open(dir);
    warn_if_open(&keys_dir(dir));
    let cert = |hex_text: &str| -> Result<Certificate, IdentityError> {
        let raw = hex::decode(hex_text).map_err(|e| IdentityError::Damaged {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(Certificate::decode(&raw)?)
    };
    let member_cert = cert(&file.member_cert)?;
    let node_cert = cert(&file.node_cert)?;
    let keys = keys_dir(dir);
    let member = read_key(&keys.join("member.key"))?;
    let node = read_key(&keys.join("node.key"))?;
    if member.public() != member_cert.key
        || node.public() != node_cert.key
        || member_cert.body != node_cert.body
    {
        return Err(IdentityError::Damaged {
            path: keys,
            reason: "keys do not match the certificates in identity.json".into(),
        });
    }
    let members = members::load_members(dir)?;
    let chain = body_chain(dir)?;
    Ok(LocalIdentity {
        region: file.region,
        members,
        chain,
        node_seed: *node.seed(),
        identity: Identity {
            node_cert,
            member,
            member_cert,
        },
    })
}

fn read_identity_file(dir: &Path) -> Result<IdentityFile, IdentityError> {
    let path = identity_path(dir);
    if !path.exists() {
        return Err(IdentityError::NotInitialised {
            path: dir.to_owned(),
        });
    }
    let bytes = fs::read(&path).map_err(io_err("read", &path))?;
    serde_json::from_slice(&bytes).map_err(|e| IdentityError::Damaged {
        path: path.clone(),
        reason: e.to_string(),
    })
}

/// The body's key changes recorded in `identity.json`, oldest first.
pub fn body_chain(dir: &Path) -> Result<Vec<Certificate>, IdentityError> {
    let file = read_identity_file(dir)?;
    let path = identity_path(dir);
    file.body_chain
        .iter()
        .map(|h| {
            let raw = hex::decode(h).map_err(|e| IdentityError::Damaged {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            Ok(Certificate::decode(&raw)?)
        })
        .collect()
}

/// The key that signs for the body now: the last of the chain, or the body id.
pub fn current_body_key(dir: &Path) -> Result<confer_protocol::PublicKey, IdentityError> {
    let body = body_of(dir)?;
    Ok(body_chain(dir)?.last().map_or(body.0, |c| c.key))
}

/// Records a new body key (certified by the current one) in `identity.json`.
pub fn append_body_key(dir: &Path, cert: &Certificate) -> Result<(), IdentityError> {
    let path = identity_path(dir);
    let mut file = read_identity_file(dir)?;
    let current = current_body_key(dir)?;
    let body = body_of(dir)?;
    if cert.body != body || !cert.is_body_key() || cert.signer != current {
        return Err(IdentityError::Damaged {
            path,
            reason: "the body-key certificate is not signed by this body's current key".into(),
        });
    }
    let hex_cert = hex::encode(cert.encode());
    if !file.body_chain.contains(&hex_cert) {
        file.body_chain.push(hex_cert);
    }
    let json = serde_json::to_vec_pretty(&file).map_err(|e| IdentityError::Damaged {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let tmp = dir.join("identity.json.tmp");
    write_private(&tmp, &json)?;
    fs::rename(&tmp, &path).map_err(io_err("rename", &tmp))?;
    sync_dir(dir)
}

/// The body `identity.json` belongs to (the body that certified the member key).
pub fn body_of(dir: &Path) -> Result<BodyId, IdentityError> {
    let file = read_identity_file(dir)?;
    let path = identity_path(dir);
    let raw = hex::decode(&file.member_cert).map_err(|e| IdentityError::Damaged {
        path,
        reason: e.to_string(),
    })?;
    Ok(Certificate::decode(&raw)?.body)
}

/// Creates `dir` (and missing parents) with mode 0700. A directory that already exists is
/// left as it is, whatever its mode: it may be shared with other things the operator keeps
/// there. A warning is logged if group or others can read it.
fn create_private_dir(dir: &Path) -> Result<(), IdentityError> {
    if dir.is_dir() {
        warn_if_open(dir);
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_err("create", dir))
}

/// The permission bits of `path` that group or others hold (0 off Unix).
fn open_bits(metadata: &fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.permissions().mode() & 0o077
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        0
    }
}

fn mode(metadata: &fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        0
    }
}

/// Logs a warning if group or others can read or enter the existing directory `dir`.
fn warn_if_open(dir: &Path) {
    if let Ok(metadata) = fs::metadata(dir) {
        if open_bits(&metadata) & 0o055 != 0 {
            tracing::warn!(
                dir = %dir.display(),
                mode = format!("{:04o}", mode(&metadata)),
                "group or other users can read this directory; confer leaves its mode alone \
                 (consider `chmod 700` if nothing else needs it)"
            );
        }
    }
}

/// Refuses key files in `DIR/keys` (`*.key`, `*.key.enc`) that group or others can read
/// or write. Changes nothing: the operator fixes the mode (`chmod 600 FILE`). A missing
/// keys directory passes (there is nothing to protect yet).
pub fn check_key_permissions(dir: &Path) -> Result<(), IdentityError> {
    let keys = keys_dir(dir);
    let entries = match fs::read_dir(&keys) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("read", &keys)(e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(io_err("read", &keys))?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.is_some_and(|n| n.ends_with(".key") || n.ends_with(".key.enc")) {
            paths.push(path);
        }
    }
    paths.sort();
    for path in paths {
        let metadata = fs::metadata(&path).map_err(io_err("read", &path))?;
        if metadata.is_file() && open_bits(&metadata) & 0o066 != 0 {
            return Err(IdentityError::KeyFileTooOpen {
                mode: mode(&metadata),
                path,
            });
        }
    }
    Ok(())
}

/// Writes a file readable only by its owner (created with mode 0600, never widened).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), IdentityError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_err("create", path))?;
    file.write_all(contents).map_err(io_err("write", path))?;
    file.sync_all().map_err(io_err("sync", path))?;
    Ok(())
}

fn write_key(path: &Path, key: &SecretKey) -> Result<(), IdentityError> {
    let mut text = Zeroizing::new(hex::encode(key.seed()));
    text.push('\n');
    write_private(path, text.as_bytes())
}

fn read_key(path: &Path) -> Result<SecretKey, IdentityError> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io_err("read", path))?);
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), &mut *seed).map_err(|_| IdentityError::Damaged {
        path: path.to_owned(),
        reason: "not a hex-encoded 32-byte key".into(),
    })?;
    Ok(SecretKey::from_seed(*seed))
}

/// Makes sure a rename or unlink in `dir` is on disk.
fn sync_dir(dir: &Path) -> Result<(), IdentityError> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("sync", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Seals `body` under `passphrase` into `keys/body.key.enc` (through a temporary file and
/// a rename), then reads the file back and checks that it opens to the same key. On any
/// failure no `body.key.enc` is left behind.
fn write_sealed(
    dir: &Path,
    body: &SecretKey,
    passphrase: &Passphrase,
) -> Result<(), IdentityError> {
    let path = body_key_enc_path(dir);
    let tmp = keys_dir(dir).join("body.key.enc.tmp");
    // A stale temporary file (from a crash) might have a wider mode than 0600.
    let _ = fs::remove_file(&tmp);
    let mut rng = rand::rng();
    let sealed = keyfile::seal(
        body,
        passphrase,
        KdfParams::DEFAULT,
        rng.random(),
        rng.random(),
    )
    .map_err(|source| IdentityError::KeyFile {
        path: path.clone(),
        source,
    })?;
    write_private(&tmp, &sealed)?;
    fs::rename(&tmp, &path).map_err(io_err("rename", &tmp))?;
    sync_dir(&keys_dir(dir))?;
    let verified = fs::read(&path)
        .map_err(io_err("read", &path))
        .and_then(|bytes| {
            keyfile::open(&bytes, passphrase).map_err(|source| IdentityError::KeyFile {
                path: path.clone(),
                source,
            })
        })
        .and_then(|opened| {
            if *opened.seed() == *body.seed() {
                Ok(())
            } else {
                Err(IdentityError::Damaged {
                    path: path.clone(),
                    reason: "reading it back gave another key".into(),
                })
            }
        });
    if verified.is_err() {
        let _ = fs::remove_file(&path);
    }
    verified
}

/// Overwrites `path` with zeros, then deletes it. The overwrite is best effort (skipped if
/// the file is read-only, and journaling file systems, SSDs and backups may still hold the
/// old bytes); the deletion is not.
fn delete_secret(path: &Path) -> Result<(), IdentityError> {
    let overwrite = || -> std::io::Result<()> {
        let len = fs::metadata(path)?.len();
        let mut file = fs::OpenOptions::new().write(true).open(path)?;
        file.write_all(&vec![0u8; usize::try_from(len).unwrap_or(0).min(1 << 20)])?;
        file.sync_all()
    };
    if let Err(e) = overwrite() {
        tracing::debug!(path = %path.display(), error = %e, "not overwritten before deletion");
    }
    fs::remove_file(path).map_err(io_err("delete", path))?;
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Where a data directory keeps its body key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BodyKeyHere {
    /// `keys/body.key` exists.
    pub plain: bool,
    /// `keys/body.key.enc` exists.
    pub encrypted: bool,
}

impl BodyKeyHere {
    pub fn offline(&self) -> bool {
        !self.plain && !self.encrypted
    }
}

pub fn body_key_here(dir: &Path) -> BodyKeyHere {
    BodyKeyHere {
        plain: body_key_path(dir).exists(),
        encrypted: body_key_enc_path(dir).exists(),
    }
}

/// The body a sealed body key file holds, read from its header (no passphrase needed).
pub fn sealed_body(dir: &Path) -> Result<BodyId, IdentityError> {
    let path = body_key_enc_path(dir);
    let bytes = fs::read(&path).map_err(io_err("read", &path))?;
    keyfile::header(&bytes)
        .map(|h| BodyId(h.public))
        .map_err(|source| IdentityError::KeyFile { path, source })
}

/// Loads the body key, for the commands that sign with it (certifying members and nodes):
/// from `keys/body.key` if present, else from `keys/body.key.enc` with `passphrase`
/// ([`IdentityError::PassphraseNeeded`] without one). Checks that it is the key of the body
/// in `identity.json`. Reads and changes nothing else.
pub fn load_body_key(
    dir: &Path,
    passphrase: Option<&Passphrase>,
) -> Result<SecretKey, IdentityError> {
    let expected = body_of(dir)?;
    let here = body_key_here(dir);
    let (key, path) = if here.plain {
        let path = body_key_path(dir);
        (read_key(&path)?, path)
    } else if here.encrypted {
        let path = body_key_enc_path(dir);
        let Some(passphrase) = passphrase else {
            return Err(IdentityError::PassphraseNeeded { path });
        };
        let bytes = fs::read(&path).map_err(io_err("read", &path))?;
        let key = keyfile::open(&bytes, passphrase).map_err(|source| match source {
            KeyFileError::WrongPassphrase => IdentityError::WrongPassphrase { path: path.clone() },
            source => IdentityError::KeyFile {
                path: path.clone(),
                source,
            },
        })?;
        (key, path)
    } else {
        return Err(IdentityError::BodyKeyOffline {
            dir: dir.to_owned(),
        });
    };
    let current = current_body_key(dir)?;
    let staged = next_path(&path);
    let key = if key.public() != current && staged.exists() {
        // A rotation was recorded but its key not yet moved into place: finish it.
        let next = if here.plain {
            read_key(&staged)?
        } else {
            let bytes = fs::read(&staged).map_err(io_err("read", &staged))?;
            let passphrase = passphrase.ok_or_else(|| IdentityError::PassphraseNeeded {
                path: staged.clone(),
            })?;
            keyfile::open(&bytes, passphrase).map_err(|source| IdentityError::KeyFile {
                path: staged.clone(),
                source,
            })?
        };
        if next.public() == current {
            fs::rename(&staged, &path).map_err(io_err("rename", &staged))?;
            next
        } else {
            key
        }
    } else {
        key
    };
    let found = BodyId(key.public());
    if key.public() != current {
        return Err(IdentityError::WrongBodyKey {
            path,
            found,
            expected,
        });
    }
    Ok(key)
}

/// Checks that `key` is the body key of the identity in `dir`.
pub fn load_body_key_checked(dir: &Path, key: &SecretKey) -> Result<(), IdentityError> {
    let expected = body_of(dir)?;
    let found = BodyId(key.public());
    if key.public() != current_body_key(dir)? {
        return Err(IdentityError::WrongBodyKey {
            path: dir.to_owned(),
            found,
            expected,
        });
    }
    Ok(())
}

/// Replaces the body key with a new one, certified by the current one
/// (`confer body-key rotate`), where the body key is kept: plaintext, or sealed under the
/// same passphrase. Crash-safe: the new key is written beside the old one
/// (`….next`), then recorded in `identity.json`, then moved into place; [`load_body_key`]
/// finishes a rotation a crash interrupted. The old key file is overwritten.
pub fn rotate_body_key(
    dir: &Path,
    passphrase: Option<&Passphrase>,
    now: u64,
) -> Result<Certificate, IdentityError> {
    let current = load_body_key(dir, passphrase)?;
    let file = read_identity_file(dir)?;
    let body = body_of(dir)?;
    if file.body_chain.len() >= confer_protocol::sync::MAX_CHAIN {
        return Err(IdentityError::TooManyRotations {
            max: confer_protocol::sync::MAX_CHAIN,
        });
    }
    let next = SecretKey::from_seed(rand::rng().random());
    let cert = Certificate::issue_for(
        body,
        &current,
        &file.body_name,
        next.public(),
        Subject::BodyKey,
        now,
    )?;
    let here = body_key_here(dir);
    let (path, staged) = if here.plain {
        let path = body_key_path(dir);
        let staged = next_path(&path);
        write_key(&staged, &next)?;
        (path, staged)
    } else {
        let Some(passphrase) = passphrase else {
            return Err(IdentityError::PassphraseNeeded {
                path: body_key_enc_path(dir),
            });
        };
        let path = body_key_enc_path(dir);
        let staged = next_path(&path);
        let mut rng = rand::rng();
        let sealed = keyfile::seal(
            &next,
            passphrase,
            KdfParams::DEFAULT,
            rng.random(),
            rng.random(),
        )
        .map_err(|source| IdentityError::KeyFile {
            path: staged.clone(),
            source,
        })?;
        write_private(&staged, &sealed)?;
        (path, staged)
    };
    sync_dir(&keys_dir(dir))?;
    append_body_key(dir, &cert)?;
    fs::rename(&staged, &path).map_err(io_err("rename", &staged))?;
    sync_dir(&keys_dir(dir))?;
    Ok(cert)
}

fn next_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

/// What `encrypt_body_key` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Encrypted {
    pub body: BodyId,
    /// The sealed file written.
    pub encrypted: PathBuf,
    /// The plaintext file deleted.
    pub removed: PathBuf,
}

/// Encrypts the plaintext body key in place: writes `keys/body.key.enc`, checks that it
/// opens to the same key, then deletes `keys/body.key`. Refuses if `body.key.enc` already
/// exists, and leaves `body.key` untouched on any failure.
pub fn encrypt_body_key(dir: &Path, passphrase: &Passphrase) -> Result<Encrypted, IdentityError> {
    let here = body_key_here(dir);
    if here.encrypted {
        return Err(IdentityError::AlreadyEncrypted {
            path: body_key_enc_path(dir),
        });
    }
    if !here.plain {
        return Err(IdentityError::BodyKeyOffline {
            dir: dir.to_owned(),
        });
    }
    let body = load_body_key(dir, None)?;
    write_sealed(dir, &body, passphrase)?;
    let removed = body_key_path(dir);
    delete_secret(&removed)?;
    Ok(Encrypted {
        body: BodyId(body.public()),
        encrypted: body_key_enc_path(dir),
        removed,
    })
}

/// What `remove_body_key` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Removed {
    pub body: BodyId,
    /// The plaintext file deleted.
    pub removed: PathBuf,
    /// The encrypted copy of the same key still here, if any.
    pub encrypted_copy: Option<PathBuf>,
}

/// Deletes the plaintext `keys/body.key`. Without `confirmed` it refuses unless
/// `keys/body.key.enc` holds the same key (checked from its header, no passphrase needed);
/// `confirmed` means the operator has copied the key offline.
pub fn remove_body_key(dir: &Path, confirmed: bool) -> Result<Removed, IdentityError> {
    let path = body_key_path(dir);
    let here = body_key_here(dir);
    if !here.plain {
        return Err(IdentityError::NoPlainBodyKey {
            path,
            encrypted: here.encrypted,
        });
    }
    let body = BodyId(load_body_key(dir, None)?.public());
    let encrypted_copy = if here.encrypted && sealed_body(dir)? == body {
        Some(body_key_enc_path(dir))
    } else {
        None
    };
    if encrypted_copy.is_none() && !confirmed {
        return Err(IdentityError::OnlyCopy { path });
    }
    delete_secret(&path)?;
    Ok(Removed {
        body,
        removed: path,
        encrypted_copy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_load_and_file_modes() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("node");
        let made = init(&data, "平湖市政协", "浙江省嘉兴市", "秘书处", 1).unwrap();
        let loaded = load(&data).unwrap();
        assert_eq!(made.identity.member_cert, loaded.identity.member_cert);
        assert_eq!(made.node_seed, loaded.node_seed);
        assert!(matches!(
            init(&data, "x", "", "y", 1),
            Err(IdentityError::AlreadyInitialised { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for name in ["body.key", "member.key", "node.key"] {
                let mode = fs::metadata(keys_dir(&data).join(name))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{name}");
            }
        }
        fs::write(keys_dir(&data).join("member.key"), "zz").unwrap();
        assert!(matches!(load(&data), Err(IdentityError::Damaged { .. })));
        assert!(matches!(
            load(dir.path()),
            Err(IdentityError::NotInitialised { .. })
        ));
    }

    fn pass(text: &str) -> Passphrase {
        Passphrase::new(text.to_owned())
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[cfg(unix)]
    fn chmod(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_or_write_stops_start_up_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("node");
        init(&data, "平湖市政协", "", "秘书处", 1).unwrap();
        for (name, mode) in [
            ("node.key", 0o644),
            ("member.key", 0o640),
            ("body.key", 0o604),
            ("node.key", 0o620),
            ("member.key", 0o602),
        ] {
            let path = keys_dir(&data).join(name);
            chmod(&path, mode);
            let err = load(&data).unwrap_err();
            assert!(
                matches!(&err, IdentityError::KeyFileTooOpen { path: p, mode: m } if *p == path && *m == mode),
                "{name} {mode:o}: {err:?}"
            );
            let text = err.to_string();
            assert!(
                text.contains(&format!("chmod 600 {}", path.display())),
                "{text}"
            );
            assert_eq!(mode_of(&path), mode, "not silently changed");
            chmod(&path, 0o600);
        }
        // Owner-only modes other than 0600 are fine, and so is an encrypted body key.
        chmod(&keys_dir(&data).join("node.key"), 0o400);
        load(&data).unwrap();
        encrypt_body_key(&data, &pass("a long passphrase")).unwrap();
        assert_eq!(mode_of(&body_key_enc_path(&data)), 0o600);
        load(&data).unwrap();
        chmod(&body_key_enc_path(&data), 0o644);
        assert!(matches!(
            load(&data),
            Err(IdentityError::KeyFileTooOpen { .. })
        ));
        // Other files in keys/ are not key files.
        chmod(&body_key_enc_path(&data), 0o600);
        fs::write(keys_dir(&data).join("README"), "notes").unwrap();
        chmod(&keys_dir(&data).join("README"), 0o644);
        load(&data).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn init_creates_new_dirs_private_and_leaves_existing_dirs_alone() {
        let dir = tempfile::tempdir().unwrap();
        // A directory the operator made, shared with other things.
        let existing = dir.path().join("shared");
        fs::create_dir(&existing).unwrap();
        chmod(&existing, 0o755);
        init(&existing, "平湖市政协", "", "秘书处", 1).unwrap();
        assert_eq!(mode_of(&existing), 0o755, "existing dir mode unchanged");
        assert_eq!(mode_of(&keys_dir(&existing)) & 0o077, 0, "keys dir private");
        load(&existing).unwrap();
        // New directories, parents included, are created private.
        let fresh = dir.path().join("a/b/node");
        init(&fresh, "金山区政协", "", "秘书处", 1).unwrap();
        for d in [dir.path().join("a"), dir.path().join("a/b"), fresh.clone()] {
            assert_eq!(mode_of(&d) & 0o077, 0, "{}", d.display());
        }
    }

    #[test]
    fn run_never_needs_the_body_key() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("node");
        let made = init(&data, "平湖市政协", "", "秘书处", 1).unwrap();
        remove_body_key(&data, true).unwrap();
        assert!(body_key_here(&data).offline());
        let loaded = load(&data).unwrap();
        assert_eq!(loaded.identity.body(), made.identity.body());
        assert!(matches!(
            load_body_key(&data, None),
            Err(IdentityError::BodyKeyOffline { .. })
        ));
        let text = IdentityError::BodyKeyOffline { dir: data.clone() }.to_string();
        assert!(
            text.contains("run this on the machine that holds it"),
            "{text}"
        );
    }

    #[test]
    fn init_with_an_encrypted_body_key() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("node");
        let p = pass("correct horse battery");
        let made = init_with(
            &data,
            "平湖市政协",
            "",
            "秘书处",
            1,
            BodyKeyStorage::Encrypted(&p),
        )
        .unwrap();
        assert_eq!(
            body_key_here(&data),
            BodyKeyHere {
                plain: false,
                encrypted: true
            }
        );
        assert!(!keys_dir(&data).join("body.key.enc.tmp").exists());
        assert_eq!(sealed_body(&data).unwrap(), made.identity.body());
        load(&data).unwrap();
        let before = fs::read(body_key_enc_path(&data)).unwrap();
        assert!(matches!(
            load_body_key(&data, None),
            Err(IdentityError::PassphraseNeeded { .. })
        ));
        let wrong = load_body_key(&data, Some(&pass("correct horse battery!"))).unwrap_err();
        assert!(
            matches!(wrong, IdentityError::WrongPassphrase { .. }),
            "{wrong:?}"
        );
        assert!(wrong.to_string().contains("nothing was changed"));
        assert_eq!(fs::read(body_key_enc_path(&data)).unwrap(), before);
        let body = load_body_key(&data, Some(&p)).unwrap();
        assert_eq!(BodyId(body.public()), made.identity.body());
        // Nothing plaintext to remove or encrypt.
        assert!(matches!(
            remove_body_key(&data, true),
            Err(IdentityError::NoPlainBodyKey {
                encrypted: true,
                ..
            })
        ));
        assert!(matches!(
            encrypt_body_key(&data, &p),
            Err(IdentityError::AlreadyEncrypted { .. })
        ));
        assert_eq!(fs::read(body_key_enc_path(&data)).unwrap(), before);
    }

    #[test]
    fn encrypt_in_place_then_remove_rules() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("node");
        let made = init(&data, "平湖市政协", "", "秘书处", 1).unwrap();
        let plain_seed = fs::read_to_string(body_key_path(&data)).unwrap();

        // Without an encrypted copy, removing needs --confirm.
        assert!(matches!(
            remove_body_key(&data, false),
            Err(IdentityError::OnlyCopy { .. })
        ));
        assert!(body_key_path(&data).exists());

        // A read-only plaintext key cannot be overwritten, but is still deleted.
        #[cfg(unix)]
        chmod(&body_key_path(&data), 0o400);
        // A stale temporary file with a wide mode does not leak into body.key.enc.
        fs::write(keys_dir(&data).join("body.key.enc.tmp"), "stale").unwrap();
        #[cfg(unix)]
        chmod(&keys_dir(&data).join("body.key.enc.tmp"), 0o644);
        let p = pass("passphrase of the body");
        let done = encrypt_body_key(&data, &p).unwrap();
        #[cfg(unix)]
        assert_eq!(mode_of(&body_key_enc_path(&data)), 0o600);
        assert!(!keys_dir(&data).join("body.key.enc.tmp").exists());
        assert_eq!(done.body, made.identity.body());
        assert!(!body_key_path(&data).exists(), "plaintext deleted");
        let opened = load_body_key(&data, Some(&p)).unwrap();
        assert_eq!(hex::encode(opened.seed()), plain_seed.trim());

        // A plaintext copy put back next to the encrypted one can go without --confirm.
        fs::write(body_key_path(&data), &plain_seed).unwrap();
        let removed = remove_body_key(&data, false).unwrap();
        assert_eq!(removed.encrypted_copy, Some(body_key_enc_path(&data)));
        assert!(!body_key_path(&data).exists());

        // A plaintext key of another body is refused, and not encrypted.
        let other = dir.path().join("other");
        init(&other, "金山区政协", "", "秘书处", 1).unwrap();
        fs::remove_file(body_key_enc_path(&data)).unwrap();
        fs::copy(body_key_path(&other), body_key_path(&data)).unwrap();
        assert!(matches!(
            encrypt_body_key(&data, &p),
            Err(IdentityError::WrongBodyKey { .. })
        ));
        assert!(!body_key_enc_path(&data).exists());
        assert!(body_key_path(&data).exists());
    }

    #[test]
    fn local_identity_debug_shows_no_seed() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("node");
        let made = init(&data, "平湖市政协", "", "秘书处", 1).unwrap();
        let shown = format!("{made:?} {made:#?}");
        let node_hex = hex::encode(made.node_seed);
        let member_hex = fs::read_to_string(keys_dir(&data).join("member.key")).unwrap();
        assert!(!shown.contains(&node_hex[..8]), "{shown}");
        assert!(!shown.contains(&member_hex.trim()[..8]), "{shown}");
        let bytes = format!("{:?}", &made.node_seed[..3]);
        assert!(!shown.contains(bytes.trim_matches(['[', ']'])), "{shown}");
    }
}
