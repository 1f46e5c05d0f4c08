//! The node's identity on disk: key files and certificates in the data directory.
//!
//! Layout of `DIR`:
//! - `keys/body.key`, `keys/member.key`, `keys/node.key`: 32-byte Ed25519 seeds, hex, mode
//!   0600 in a 0700 directory. `run` needs only the member and node keys; the body key
//!   signs certificates and can be moved offline after `init`.
//! - `identity.json`: the body's name and region and the two certificates the body issued
//!   at `init` (member and node), hex-encoded.
//!
//! Seeds come from the OS random source; nothing else here uses randomness.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use confer_protocol::{Certificate, Identity, SecretKey, Subject};
use rand::RngExt;

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
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct IdentityFile {
    body_name: String,
    region: String,
    member_cert: String,
    node_cert: String,
}

/// Everything `run` needs to act as this body.
#[derive(Debug, Clone)]
pub struct LocalIdentity {
    pub region: String,
    pub identity: Identity,
    pub node_seed: [u8; 32],
}

pub fn keys_dir(dir: &Path) -> PathBuf {
    dir.join("keys")
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

/// Creates a new body with its first member and a node identity in `dir`.
pub fn init(
    dir: &Path,
    body_name: &str,
    region: &str,
    member_name: &str,
    now: u64,
) -> Result<LocalIdentity, IdentityError> {
    if identity_path(dir).exists() || keys_dir(dir).exists() {
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
    let node_seed: [u8; 32] = rng.random();
    let node = SecretKey::from_seed(node_seed);
    write_key(&keys.join("body.key"), &body)?;
    write_key(&keys.join("member.key"), &member)?;
    write_key(&keys.join("node.key"), &node)?;
    let member_cert = Certificate::issue(
        &body,
        body_name,
        member.public(),
        Subject::Member {
            name: member_name.to_owned(),
            role: "staff".into(),
        },
        now,
    )?;
    let node_cert = Certificate::issue(&body, body_name, node.public(), Subject::Node, now)?;
    let file = IdentityFile {
        body_name: body_name.to_owned(),
        region: region.to_owned(),
        member_cert: hex::encode(member_cert.encode()),
        node_cert: hex::encode(node_cert.encode()),
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
        node_seed,
    })
}

/// Loads the identity `run` needs (member and node keys, certificates).
pub fn load(dir: &Path) -> Result<LocalIdentity, IdentityError> {
    let path = identity_path(dir);
    if !path.exists() {
        return Err(IdentityError::NotInitialised {
            path: dir.to_owned(),
        });
    }
    let bytes = fs::read(&path).map_err(io_err("read", &path))?;
    let file: IdentityFile =
        serde_json::from_slice(&bytes).map_err(|e| IdentityError::Damaged {
            path: path.clone(),
            reason: e.to_string(),
        })?;
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
    Ok(LocalIdentity {
        region: file.region,
        node_seed: node.seed(),
        identity: Identity {
            node_cert,
            member,
            member_cert,
        },
    })
}

fn create_private_dir(dir: &Path) -> Result<(), IdentityError> {
    fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err("restrict", dir))?;
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
    write_private(path, format!("{}\n", hex::encode(key.seed())).as_bytes())
}

fn read_key(path: &Path) -> Result<SecretKey, IdentityError> {
    let text = fs::read_to_string(path).map_err(io_err("read", path))?;
    let raw = hex::decode(text.trim()).map_err(|e| IdentityError::Damaged {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let seed: [u8; 32] = raw.try_into().map_err(|_| IdentityError::Damaged {
        path: path.to_owned(),
        reason: "not a 32-byte key".into(),
    })?;
    Ok(SecretKey::from_seed(seed))
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
}
