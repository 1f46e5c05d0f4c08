//! This body's further members on this node, and the request files that let the body key
//! certify (or revoke) them from another machine.
//!
//! Layout of `DIR`, besides what [`super`] describes:
//! - `keys/members/<key hex>.key`: each further member's seed (hex, mode 0600). Written
//!   when the key is made, before it is certified: a request file carries only the public
//!   key, so the secret never leaves this machine.
//! - `members.json`: `{"members": [certificate hex, …]}`, the certificates of the further
//!   members, in the order they were added.
//!
//! Invariants: every certificate in `members.json` is a member certificate of this body
//! for a key whose seed is in `keys/members/`; member names are unique within the body
//! (the first member's included), so `--as NAME` is never ambiguous.

use std::fs;
use std::path::{Path, PathBuf};

use confer_protocol::revocation::Revocation;
use confer_protocol::{BodyId, Certificate, PublicKey, Role, SecretKey, Subject};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{
    io_err, keys_dir, load_body_key_checked, read_identity_file, read_key, write_key,
    write_private, IdentityError,
};

#[derive(Debug, Default, Serialize, Deserialize)]
struct MembersFile {
    members: Vec<String>,
}

fn members_path(dir: &Path) -> PathBuf {
    dir.join("members.json")
}

fn member_keys_dir(dir: &Path) -> PathBuf {
    keys_dir(dir).join("members")
}

fn member_key_path(dir: &Path, key: &PublicKey) -> PathBuf {
    member_keys_dir(dir).join(format!("{key}.key"))
}

/// What was asked for the key: the imported certificate must say exactly that.
fn member_request_path(dir: &Path, key: &PublicKey) -> PathBuf {
    member_keys_dir(dir).join(format!("{key}.request.json"))
}

fn damaged(path: &Path, reason: impl ToString) -> IdentityError {
    IdentityError::Damaged {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

fn read_members_file(dir: &Path) -> Result<Vec<Certificate>, IdentityError> {
    let path = members_path(dir);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let bytes = fs::read(&path).map_err(io_err("read", &path))?;
    let file: MembersFile = serde_json::from_slice(&bytes).map_err(|e| damaged(&path, e))?;
    file.members
        .iter()
        .map(|h| {
            let raw = hex::decode(h).map_err(|e| damaged(&path, e))?;
            Ok(Certificate::decode(&raw)?)
        })
        .collect()
}

fn write_members_file(dir: &Path, certs: &[Certificate]) -> Result<(), IdentityError> {
    let file = MembersFile {
        members: certs.iter().map(|c| hex::encode(c.encode())).collect(),
    };
    let path = members_path(dir);
    let json = serde_json::to_vec_pretty(&file).map_err(|e| damaged(&path, e))?;
    // Written whole to a temporary file and renamed, so a crash leaves the old list or the
    // new one.
    let tmp = dir.join("members.json.tmp");
    write_private(&tmp, &json)?;
    fs::rename(&tmp, &path).map_err(io_err("rename", &tmp))?;
    super::sync_dir(dir)
}

/// The first member's certificate (from `identity.json`).
fn first_member(dir: &Path) -> Result<Certificate, IdentityError> {
    let file = read_identity_file(dir)?;
    let raw = hex::decode(&file.member_cert).map_err(|e| damaged(&super::identity_path(dir), e))?;
    Ok(Certificate::decode(&raw)?)
}

/// Every member certificate of this body on this node: the first member, then the others
/// in the order they were added.
pub fn member_certs(dir: &Path) -> Result<Vec<Certificate>, IdentityError> {
    let mut all = vec![first_member(dir)?];
    all.extend(read_members_file(dir)?);
    Ok(all)
}

/// The further members' keys and certificates, for `run`.
pub fn load_members(dir: &Path) -> Result<Vec<(SecretKey, Certificate)>, IdentityError> {
    read_members_file(dir)?
        .into_iter()
        .map(|cert| {
            let key = read_key(&member_key_path(dir, &cert.key))?;
            if key.public() != cert.key {
                return Err(damaged(
                    &member_key_path(dir, &cert.key),
                    "the key does not match its certificate in members.json",
                ));
            }
            Ok((key, cert))
        })
        .collect()
}

/// What the body key signs to certify a member: everything but the signature. Also the
/// content of a member request file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRequest {
    pub body: BodyId,
    pub body_name: String,
    pub key: PublicKey,
    pub name: String,
    pub role: Role,
    pub can_sign: bool,
    pub issued_at: u64,
}

impl MemberRequest {
    /// Signs the certificate with the body's current key (the node that installs it checks
    /// that this key is authorised for the body).
    pub fn certify(&self, body_secret: &SecretKey) -> Result<Certificate, IdentityError> {
        Ok(Certificate::issue_for(
            self.body,
            body_secret,
            &self.body_name,
            self.key,
            Subject::Member {
                name: self.name.clone(),
                role: self.role,
                can_sign: self.can_sign,
            },
            self.issued_at,
        )?)
    }
}

/// Why a member could not be added.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error("a member named {0} already exists in this body; names must be unique")]
    NameTaken(String),
    #[error("the certificate is not for this body, or not a member certificate")]
    NotOurs,
    #[error("this body already has {0} member keys on this node, the most one body may write with in a space (revoked keys count too)")]
    TooMany(usize),
    #[error("the certificate does not say what was asked for this key (name, role, signing right or body name differ); nothing was installed")]
    NotAsked,
    #[error("no key for {0} was made on this node (run `confer member add --request` here first)")]
    NoPendingKey(PublicKey),
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// Makes a new member key on this node (its seed in `keys/members/`) and returns what the
/// body key must sign. Nothing is certified yet.
pub fn new_member_request(
    dir: &Path,
    name: &str,
    role: Role,
    can_sign: bool,
    now: u64,
) -> Result<MemberRequest, MemberError> {
    let existing = member_certs(dir)?;
    if existing.iter().any(|c| c.subject_name() == name) {
        return Err(MemberError::NameTaken(name.to_owned()));
    }
    // Every member key may write in every space of the body: past this, partners would
    // refuse some of them (`confer_protocol::space::MAX_AUTHORS_PER_BODY`).
    if existing.len() >= confer_protocol::space::MAX_AUTHORS_PER_BODY {
        return Err(MemberError::TooMany(
            confer_protocol::space::MAX_AUTHORS_PER_BODY,
        ));
    }
    let first = &existing[0];
    super::create_private_dir(&member_keys_dir(dir))?;
    let secret = SecretKey::from_seed(rand::rng().random());
    write_key(&member_key_path(dir, &secret.public()), &secret)?;
    let request = MemberRequest {
        body: first.body,
        body_name: first.body_name.clone(),
        key: secret.public(),
        name: name.to_owned(),
        role,
        can_sign,
        issued_at: now,
    };
    let path = member_request_path(dir, &request.key);
    let json = serde_json::to_vec_pretty(&request).map_err(|e| damaged(&path, e))?;
    write_private(&path, &json)?;
    Ok(request)
}

/// Installs a member certificate signed for a key made here by [`new_member_request`].
pub fn install_member(dir: &Path, cert: Certificate) -> Result<(), MemberError> {
    let mut others = read_members_file(dir)?;
    let first = first_member(dir)?;
    let authorised = std::iter::once(first.body.0)
        .chain(super::body_chain(dir)?.iter().map(|c| c.key))
        .any(|k| k == cert.signer);
    if cert.body != first.body || !cert.is_member() || !authorised || cert.verify().is_err() {
        return Err(MemberError::NotOurs);
    }
    if others.iter().any(|c| c.key == cert.key) {
        return Ok(());
    }
    let taken = std::iter::once(&first)
        .chain(&others)
        .any(|c| c.subject_name() == cert.subject_name());
    if taken {
        return Err(MemberError::NameTaken(cert.subject_name().to_owned()));
    }
    let path = member_key_path(dir, &cert.key);
    if !path.exists() {
        return Err(MemberError::NoPendingKey(cert.key));
    }
    if read_key(&path)?.public() != cert.key {
        return Err(damaged(&path, "the key does not match the certificate").into());
    }
    // The certificate must say what was asked: name, role, signing right, body name.
    let asked_path = member_request_path(dir, &cert.key);
    let asked: MemberRequest =
        serde_json::from_slice(&fs::read(&asked_path).map_err(io_err("read", &asked_path))?)
            .map_err(|e| damaged(&asked_path, e))?;
    let granted = (
        cert.subject_name(),
        cert.role(),
        cert.can_sign(),
        cert.body_name.as_str(),
    );
    let wanted = (
        asked.name.as_str(),
        Some(asked.role),
        asked.can_sign,
        asked.body_name.as_str(),
    );
    if granted != wanted {
        return Err(MemberError::NotAsked);
    }
    others.push(cert);
    write_members_file(dir, &others)?;
    Ok(())
}

/// `member add` with the body key on this machine: makes the key and certifies it.
pub fn add_member(
    dir: &Path,
    body_secret: &SecretKey,
    name: &str,
    role: Role,
    can_sign: bool,
    now: u64,
) -> Result<Certificate, MemberError> {
    load_body_key_checked(dir, body_secret)?;
    let request = new_member_request(dir, name, role, can_sign, now)?;
    let cert = request.certify(body_secret)?;
    install_member(dir, cert.clone())?;
    Ok(cert)
}

/// A request file: what the body key must sign, made where the body key is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    /// Certify a new member key.
    Member(MemberRequest),
    /// Revoke a member key: one unsigned revocation per scope (hex).
    Revocation {
        body: BodyId,
        key: PublicKey,
        revocations: Vec<String>,
    },
}

/// The body key's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signed {
    /// The member certificate (hex).
    Member { certificate: String },
    /// The signed revocations (hex).
    Revocation { revocations: Vec<String> },
    /// A new body key, certified by the one before (`confer body-key rotate --out`).
    BodyKey { certificate: String },
}

/// The envelope of request and answer files: `{"confer": "request"|"signed", "version": 1, …}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestFile {
    pub confer: String,
    pub version: u32,
    #[serde(flatten)]
    pub request: Request,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedFile {
    pub confer: String,
    pub version: u32,
    #[serde(flatten)]
    pub signed: Signed,
}

/// Signs a request with the body key (on the machine that holds it).
pub fn sign_request(request: &Request, body_secret: &SecretKey) -> Result<Signed, String> {
    match request {
        Request::Member(m) => {
            let cert = m.certify(body_secret).map_err(|e| e.to_string())?;
            Ok(Signed::Member {
                certificate: hex::encode(cert.encode()),
            })
        }
        Request::Revocation {
            body,
            key,
            revocations,
        } => {
            let signed = revocations
                .iter()
                .map(|h| {
                    let raw = hex::decode(h).map_err(|e| e.to_string())?;
                    let r = Revocation::decode_unverified(&raw).map_err(|e| e.to_string())?;
                    if r.body != *body || r.key != *key {
                        return Err(
                            "a revocation in the request is for another key or body".to_owned()
                        );
                    }
                    let r = r.sign(body_secret).map_err(|e| e.to_string())?;
                    Ok(hex::encode(r.encode()))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Signed::Revocation {
                revocations: signed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate that does not say what was asked for the key (another role, a
    /// signing right nobody asked for) is not installed; the one asked for is.
    #[test]
    fn import_installs_only_what_was_asked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("d");
        crate::identity::init(&data, "平湖市政协", "", "秘书处", 1).expect("init");
        let body = crate::identity::load_body_key(&data, None).expect("body key");
        let asked = new_member_request(&data, "李四", Role::Member, false, 2).expect("request");
        let mut grander = asked.clone();
        grander.role = Role::Chair;
        grander.can_sign = true;
        let wrong = grander.certify(&body).expect("certify");
        assert!(matches!(
            install_member(&data, wrong),
            Err(MemberError::NotAsked)
        ));
        assert_eq!(member_certs(&data).expect("certs").len(), 1);
        let right = asked.certify(&body).expect("certify");
        install_member(&data, right).expect("install");
        let certs = member_certs(&data).expect("certs");
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[1].role(), Some(Role::Member));
        assert!(!certs[1].can_sign());
        // A second member with the same name is refused before any key is made.
        assert!(matches!(
            new_member_request(&data, "李四", Role::Staff, false, 3),
            Err(MemberError::NameTaken(_))
        ));
    }
}
