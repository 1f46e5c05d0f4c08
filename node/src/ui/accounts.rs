//! Web UI accounts: one per person, bound to one of this body's member keys on this node,
//! so what the person does in the browser is signed as that member.
//!
//! Kept in `DIR/ui-accounts.json` (mode 0600, replaced atomically: written to a temporary
//! file beside it, synced, then renamed). Passwords are stored as argon2id hashes (random
//! 16-byte salt, parameters stored with each hash); a new account's password, and one an
//! administrator resets, is a one-time password that must be changed at the next login.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use confer_protocol::PublicKey;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::identity::{members::member_certs, write_private, IdentityError};

/// The file that holds the accounts.
pub fn accounts_path(dir: &Path) -> PathBuf {
    dir.join("ui-accounts.json")
}

/// One person's account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// The member key (hex) the person writes and signs as.
    pub member: String,
    /// May manage accounts.
    #[serde(default)]
    pub admin: bool,
    pub password: PasswordHash,
    /// The password is a one-time password: it must be changed before anything else.
    #[serde(default)]
    pub must_change: bool,
    /// When the person last logged in (unix milliseconds; 0: never).
    #[serde(default)]
    pub last_visit_ms: i64,
}

/// An argon2id hash and its parameters.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PasswordHash {
    pub salt: String,
    pub hash: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

/// OWASP's argon2id minimum: 19 MiB, two passes, one lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;
/// Shortest password a person may choose.
pub const MIN_PASSWORD: usize = 10;
const MAX_PASSWORD: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Io(#[from] IdentityError),
    #[error("{path}: {why}")]
    Damaged { path: String, why: String },
    #[error("an account named {0:?} exists already")]
    Exists(String),
    #[error("no account named {0:?}")]
    Unknown(String),
    #[error("account names are 1–64 characters, without spaces or control characters")]
    BadName,
    #[error("{0} is not a member key of this body on this node (see `confer member list`)")]
    NotAMember(String),
    #[error("the password must have at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD})")]
    WeakPassword,
    #[error("hashing failed: {0}")]
    Hash(String),
}

impl AccountError {
    /// The message in Chinese.
    pub fn zh(&self) -> String {
        match self {
            Self::Io(e) => format!("读写账户文件失败：{e}"),
            Self::Damaged { path, why } => format!("账户文件 {path} 已损坏：{why}"),
            Self::Exists(name) => format!("账户“{name}”已存在"),
            Self::Unknown(name) => format!("没有名为“{name}”的账户"),
            Self::BadName => "账户名须为 1–64 个字符，不含空格或控制字符".into(),
            Self::NotAMember(key) => {
                format!("{key} 不是本机构在本节点上的成员密钥（见 `confer member list`）")
            }
            Self::WeakPassword => {
                format!("密码至少 {MIN_PASSWORD} 个字符（至多 {MAX_PASSWORD} 个）")
            }
            Self::Hash(e) => format!("密码散列失败：{e}"),
        }
    }

    /// The message in `lang`.
    pub fn say(&self, lang: crate::i18n::Lang) -> String {
        match lang {
            crate::i18n::Lang::En => self.to_string(),
            crate::i18n::Lang::Zh => self.zh(),
        }
    }
}

/// Every account (none before the first `confer account add`).
pub fn load(dir: &Path) -> Result<Vec<Account>, AccountError> {
    let path = accounts_path(dir);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(AccountError::Damaged {
                path: path.display().to_string(),
                why: e.to_string(),
            })
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| AccountError::Damaged {
        path: path.display().to_string(),
        why: e.to_string(),
    })
}

/// Reads, edits and replaces the file under an exclusive lock on `ui-accounts.lock`, so a
/// `confer account` command and the running node's UI never write over each other's
/// changes (each reads the file afresh inside the lock).
fn locked<T>(
    dir: &Path,
    edit: impl FnOnce(&mut Vec<Account>) -> Result<T, AccountError>,
) -> Result<T, AccountError> {
    let path = dir.join("ui-accounts.lock");
    let damaged = |e: std::io::Error| AccountError::Damaged {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(damaged)?;
    lock.lock().map_err(damaged)?;
    let mut accounts = load(dir)?;
    let out = edit(&mut accounts)?;
    save(dir, &accounts)?;
    Ok(out)
}

/// Replaces the file: a temporary file beside it (0600, synced), renamed over it.
fn save(dir: &Path, accounts: &[Account]) -> Result<(), AccountError> {
    let path = accounts_path(dir);
    let tmp = dir.join("ui-accounts.json.tmp");
    let json =
        serde_json::to_vec_pretty(accounts).map_err(|e| AccountError::Hash(e.to_string()))?;
    write_private(&tmp, &json)?;
    std::fs::rename(&tmp, &path).map_err(|e| AccountError::Damaged {
        path: path.display().to_string(),
        why: e.to_string(),
    })
}

fn check_name(name: &str) -> Result<(), AccountError> {
    let count = name.chars().count();
    if count == 0
        || count > 64
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || confer_protocol::text::is_hidden(c))
    {
        return Err(AccountError::BadName);
    }
    Ok(())
}

/// A fresh one-time password: 16 characters from an alphabet without look-alikes.
fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn argon2(
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
) -> Result<Argon2<'static>, AccountError> {
    let params = Params::new(memory_kib, iterations, parallelism, Some(32))
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with a fresh salt.
pub fn hash_password(password: &str) -> Result<PasswordHash, AccountError> {
    let salt: [u8; 16] = rand::rng().random();
    let mut out = Zeroizing::new([0u8; 32]);
    argon2(MEMORY_KIB, ITERATIONS, PARALLELISM)?
        .hash_password_into(password.as_bytes(), &salt, out.as_mut())
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(PasswordHash {
        salt: hex::encode(salt),
        hash: hex::encode(out.as_ref()),
        memory_kib: MEMORY_KIB,
        iterations: ITERATIONS,
        parallelism: PARALLELISM,
    })
}

/// Whether `password` is the one hashed (constant-time comparison). A stored hash with
/// parameters out of bounds never matches.
pub fn verify_password(hash: &PasswordHash, password: &str) -> bool {
    if password.len() > MAX_PASSWORD
        || hash.memory_kib > 1024 * 1024
        || hash.iterations > 16
        || hash.parallelism > 16
    {
        return false;
    }
    let (Ok(salt), Ok(expected)) = (hex::decode(&hash.salt), hex::decode(&hash.hash)) else {
        return false;
    };
    if expected.len() != 32 {
        return false;
    }
    let Ok(hasher) = argon2(hash.memory_kib, hash.iterations, hash.parallelism) else {
        return false;
    };
    let mut out = Zeroizing::new([0u8; 32]);
    if hasher
        .hash_password_into(password.as_bytes(), &salt, out.as_mut())
        .is_err()
    {
        return false;
    }
    // Constant time: fold every byte's difference.
    out.iter()
        .zip(expected.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// The member key `input` names among this body's members on this node: its full hex, or a
/// prefix of 8+ characters matching one key.
pub fn find_member(dir: &Path, input: &str) -> Result<PublicKey, AccountError> {
    let input = input.trim().to_ascii_lowercase();
    let certs = member_certs(dir)?;
    let matching: Vec<PublicKey> = certs
        .iter()
        .map(|c| c.key)
        .filter(|k| input.len() >= 8 && k.to_string().starts_with(&input))
        .collect();
    match matching.as_slice() {
        [one] => Ok(*one),
        _ => Err(AccountError::NotAMember(input)),
    }
}

/// Adds an account bound to `member`; answers its one-time password.
pub fn add(dir: &Path, name: &str, member: &str, admin: bool) -> Result<String, AccountError> {
    check_name(name)?;
    let member = find_member(dir, member)?;
    if load(dir)?.iter().any(|a| a.name == name) {
        return Err(AccountError::Exists(name.to_owned()));
    }
    let password = one_time_password();
    let hash = hash_password(&password)?;
    locked(dir, |accounts| {
        if accounts.iter().any(|a| a.name == name) {
            return Err(AccountError::Exists(name.to_owned()));
        }
        accounts.push(Account {
            name: name.to_owned(),
            member: member.to_string(),
            admin,
            password: hash,
            must_change: true,
            last_visit_ms: 0,
        });
        Ok(())
    })?;
    Ok(password)
}

/// Edits one account and saves the file.
fn update(
    dir: &Path,
    name: &str,
    edit: impl FnOnce(&mut Account) -> Result<(), AccountError>,
) -> Result<Account, AccountError> {
    locked(dir, |accounts| {
        let account = accounts
            .iter_mut()
            .find(|a| a.name == name)
            .ok_or_else(|| AccountError::Unknown(name.to_owned()))?;
        edit(account)?;
        Ok(account.clone())
    })
}

/// Sets a password the person chose (no longer one-time); answers the new hash's salt.
pub fn set_password(dir: &Path, name: &str, password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD || password.len() > MAX_PASSWORD {
        return Err(AccountError::WeakPassword);
    }
    let hash = hash_password(password)?;
    let salt = hash.salt.clone();
    update(dir, name, |a| {
        a.password = hash;
        a.must_change = false;
        Ok(())
    })?;
    Ok(salt)
}

/// Gives an account a new one-time password (an administrator's reset); answers it.
pub fn reset(dir: &Path, name: &str) -> Result<String, AccountError> {
    let password = one_time_password();
    let hash = hash_password(&password)?;
    update(dir, name, |a| {
        a.password = hash;
        a.must_change = true;
        Ok(())
    })?;
    Ok(password)
}

/// Removes an account.
pub fn remove(dir: &Path, name: &str) -> Result<(), AccountError> {
    locked(dir, |accounts| {
        let before = accounts.len();
        accounts.retain(|a| a.name != name);
        if accounts.len() == before {
            return Err(AccountError::Unknown(name.to_owned()));
        }
        Ok(())
    })
}

/// Records a login now; answers the previous visit's time (what "new since my last visit"
/// counts from).
pub fn visited(dir: &Path, name: &str, now_ms: i64) -> Result<i64, AccountError> {
    let mut previous = 0;
    update(dir, name, |a| {
        previous = a.last_visit_ms;
        a.last_visit_ms = now_ms;
        Ok(())
    })?;
    Ok(previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_itself() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password(&hash, ""));
        let mut broken = hash.clone();
        broken.hash.truncate(10);
        assert!(!verify_password(&broken, "correct horse battery"));
    }

    #[test]
    fn writers_in_parallel_never_lose_each_others_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hash = hash_password("correct horse battery").expect("hash");
        let account = |name: &str| Account {
            name: name.to_owned(),
            member: "ab".repeat(32),
            admin: false,
            password: hash.clone(),
            must_change: false,
            last_visit_ms: 0,
        };
        save(dir.path(), &[account("zhang"), account("li")]).expect("save");
        // Two writers (the UI recording logins, a CLI command) each update their own
        // account; without the lock one's read-modify-write undid the other's.
        std::thread::scope(|s| {
            for name in ["zhang", "li"] {
                let dir = dir.path();
                s.spawn(move || {
                    for t in 1..=200 {
                        visited(dir, name, t).expect("visited");
                    }
                });
            }
        });
        let all = load(dir.path()).expect("load");
        for name in ["zhang", "li"] {
            let a = all.iter().find(|a| a.name == name).expect("account kept");
            assert_eq!(a.last_visit_ms, 200, "{name}'s last write kept");
        }
    }

    #[test]
    fn names_with_spaces_or_controls_are_refused() {
        assert!(check_name("zhang.san").is_ok());
        assert!(check_name("张三").is_ok());
        for bad in ["", "a b", "a\u{7}", "a\u{200b}b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
