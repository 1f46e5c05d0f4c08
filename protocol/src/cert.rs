//! Certificates: a body's key vouching for one of its member keys or node keys.
//!
//! A body (a committee) is identified by its long-lived Ed25519 key, [`BodyId`]. That key
//! signs only certificates. A member certificate lets a person's key sign entries on the
//! body's behalf; a node certificate binds a libp2p node key to the body, so a peer knows
//! which body it talks to before it sends anything.
//!
//! Certificates carry no expiry: acceptance of an entry must not depend on the receiver's
//! clock, or nodes would disagree about old entries. Withdrawing a key is done by a
//! revocation at a sequence number, which every node applies identically
//! ([`crate::revocation`]).
//!
//! A body's identity ([`BodyId`]) is the key it was created with and never changes; the key
//! that *signs* for it may ([`Subject::BodyKey`]: a new body key certified by one already
//! authorised, e.g. when the key moves to a new custodian). Every certificate names its
//! `signer`; [`Certificates`] counts a certificate only once its signer is authorised for
//! its body — the body id itself, or a key reached from it through body-key certificates.

use std::fmt;
use std::str::FromStr;

use crate::keys::{Domain, KeyError, PublicKey, SecretKey, Signature};
use crate::text::is_clean_name;
use crate::wire::{DecodeError, Reader, Writer};

const CERT_DOMAIN: Domain = Domain(b"confer/certificate/v2");
/// 2: a member certificate carries a [`Role`] and whether the key signs for the body.
const CERT_VERSION: u8 = 2;
/// Longest body, member or role name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Longest encoded certificate.
pub const MAX_CERT_BYTES: usize =
    1 + 32 + 32 + 4 + MAX_NAME_BYTES + 32 + 1 + (4 + MAX_NAME_BYTES) + 2 + 8 + 64;

/// A body's identity: its root public key.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct BodyId(pub PublicKey);

impl BodyId {
    pub fn fmt_short(&self) -> String {
        self.0.fmt_short()
    }
}

impl fmt::Display for BodyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for BodyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BodyId({})", self.fmt_short())
    }
}

impl FromStr for BodyId {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(BodyId)
    }
}

/// A member's position in the body (委员, 工作人员, 秘书长, 主席, 副主席).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// 委员: a member of the committee.
    Member,
    /// 工作人员: secretariat staff.
    Staff,
    /// 秘书长.
    SecretaryGeneral,
    /// 主席.
    Chair,
    /// 副主席.
    ViceChair,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Member,
        Role::Staff,
        Role::SecretaryGeneral,
        Role::Chair,
        Role::ViceChair,
    ];

    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Staff => "staff",
            Role::SecretaryGeneral => "secretary-general",
            Role::Chair => "chair",
            Role::ViceChair => "vice-chair",
        }
    }

    fn code(self) -> u8 {
        match self {
            Role::Member => 1,
            Role::Staff => 2,
            Role::SecretaryGeneral => 3,
            Role::Chair => 4,
            Role::ViceChair => 5,
        }
    }

    fn from_code(code: u8) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| format!("not a role: {s}"))
    }
}

/// What the certified key is for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// A person who signs entries for the body. `can_sign`: the key may also sign joint
    /// outcomes (attestations) on the body's behalf.
    Member {
        name: String,
        role: Role,
        can_sign: bool,
    },
    /// A node (libp2p identity) operated by the body.
    Node,
    /// A new key of the body itself: it may sign certificates and revocations for the body
    /// from now on, as the key that certified it could.
    BodyKey,
}

impl Subject {
    /// A member without the right to sign outcomes.
    pub fn member(name: impl Into<String>, role: Role) -> Subject {
        Subject::Member {
            name: name.into(),
            role,
            can_sign: false,
        }
    }
}

/// A certificate signed by a body key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub body: BodyId,
    /// The key that signed: the body id's own key, or a body key certified from it.
    pub signer: PublicKey,
    pub body_name: String,
    pub key: PublicKey,
    pub subject: Subject,
    /// Unix seconds at issue; informational only.
    pub issued_at: u64,
    pub signature: Signature,
}

/// Why a certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("certificate is malformed: {0}")]
    Decode(#[from] DecodeError),
    #[error("certificate signature by body {body} does not verify")]
    BadSignature { body: BodyId },
    #[error("certificate is for a {found}, expected a {expected}")]
    WrongSubject {
        expected: &'static str,
        found: &'static str,
    },
    #[error("name longer than {MAX_NAME_BYTES} bytes")]
    NameTooLong,
    #[error("a name must not be empty, start or end with spaces, or hold control or invisible formatting characters")]
    UncleanName,
}

impl Certificate {
    /// The body signs a certificate for `key`.
    pub fn issue(
        body_secret: &SecretKey,
        body_name: &str,
        key: PublicKey,
        subject: Subject,
        issued_at: u64,
    ) -> Result<Self, CertError> {
        Self::issue_for(
            BodyId(body_secret.public()),
            body_secret,
            body_name,
            key,
            subject,
            issued_at,
        )
    }

    /// The body `body` certifies `key`, signing with `signer` (the body's current key,
    /// which [`Certificates`] must know to be authorised for it).
    pub fn issue_for(
        body: BodyId,
        signer: &SecretKey,
        body_name: &str,
        key: PublicKey,
        subject: Subject,
        issued_at: u64,
    ) -> Result<Self, CertError> {
        let names_ok = body_name.len() <= MAX_NAME_BYTES
            && match &subject {
                Subject::Member { name, .. } => name.len() <= MAX_NAME_BYTES,
                Subject::Node | Subject::BodyKey => true,
            };
        if !names_ok {
            return Err(CertError::NameTooLong);
        }
        let clean = is_clean_name(body_name)
            && match &subject {
                Subject::Member { name, .. } => is_clean_name(name),
                Subject::Node | Subject::BodyKey => true,
            };
        if !clean {
            return Err(CertError::UncleanName);
        }
        let mut cert = Certificate {
            body,
            signer: signer.public(),
            body_name: body_name.to_owned(),
            key,
            subject,
            issued_at,
            signature: Signature([0; 64]),
        };
        cert.signature = signer.sign(CERT_DOMAIN, &cert.signed_bytes());
        Ok(cert)
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(160);
        w.u8(CERT_VERSION)
            .raw(self.body.0.as_bytes())
            .raw(self.signer.as_bytes())
            .str(&self.body_name)
            .raw(self.key.as_bytes());
        match &self.subject {
            Subject::Member {
                name,
                role,
                can_sign,
            } => {
                w.u8(1).str(name).u8(role.code()).u8(u8::from(*can_sign));
            }
            Subject::Node => {
                w.u8(2);
            }
            Subject::BodyKey => {
                w.u8(3);
            }
        }
        w.u64(self.issued_at);
        w.finish()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = self.signed_bytes();
        bytes.extend_from_slice(&self.signature.0);
        bytes
    }

    pub fn encode_into(&self, w: &mut Writer) {
        w.bytes(&self.encode());
    }

    /// Decodes and verifies the body's signature.
    pub fn decode(bytes: &[u8]) -> Result<Self, CertError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != CERT_VERSION {
            return Err(DecodeError::Invalid("unknown certificate version").into());
        }
        let body = BodyId(PublicKey::from_bytes(r.array()?));
        let signer = PublicKey::from_bytes(r.array()?);
        let body_name = r.str("body name", MAX_NAME_BYTES)?.to_owned();
        let key = PublicKey::from_bytes(r.array()?);
        let subject = match r.u8()? {
            1 => Subject::Member {
                name: r.str("member name", MAX_NAME_BYTES)?.to_owned(),
                role: Role::from_code(r.u8()?)
                    .ok_or(DecodeError::Invalid("unknown member role"))?,
                can_sign: r.flag()?,
            },
            2 => Subject::Node,
            3 => Subject::BodyKey,
            _ => return Err(DecodeError::Invalid("unknown certificate subject").into()),
        };
        let issued_at = r.u64()?;
        let signature = Signature(r.array()?);
        r.finish()?;
        // Names are shown to operators next to ids: no escape sequences, carriage returns
        // or invisible formatting that could disguise them.
        let clean = is_clean_name(&body_name)
            && match &subject {
                Subject::Member { name, .. } => is_clean_name(name),
                Subject::Node | Subject::BodyKey => true,
            };
        if !clean {
            return Err(CertError::UncleanName);
        }
        let cert = Certificate {
            body,
            signer,
            body_name,
            key,
            subject,
            issued_at,
            signature,
        };
        cert.verify()?;
        Ok(cert)
    }

    pub fn decode_from(r: &mut Reader<'_>) -> Result<Self, CertError> {
        Self::decode(r.bytes("certificate", MAX_CERT_BYTES)?)
    }

    /// Checks the signer's signature (whether the signer may sign for the body is
    /// [`Certificates::authorised`]'s question).
    pub fn verify(&self) -> Result<(), CertError> {
        self.signer
            .verify(CERT_DOMAIN, &self.signed_bytes(), &self.signature)
            .map_err(|_| CertError::BadSignature { body: self.body })
    }

    /// Whether this certifies a new key of the body.
    pub fn is_body_key(&self) -> bool {
        matches!(self.subject, Subject::BodyKey)
    }

    pub fn is_member(&self) -> bool {
        matches!(self.subject, Subject::Member { .. })
    }

    /// The member's role, for a member certificate.
    pub fn role(&self) -> Option<Role> {
        match self.subject {
            Subject::Member { role, .. } => Some(role),
            Subject::Node | Subject::BodyKey => None,
        }
    }

    /// Whether the key may sign joint outcomes for the body.
    pub fn can_sign(&self) -> bool {
        matches!(self.subject, Subject::Member { can_sign: true, .. })
    }

    /// The member's display name, or `"node"`.
    pub fn subject_name(&self) -> &str {
        match &self.subject {
            Subject::Member { name, .. } => name,
            Subject::Node => "node",
            Subject::BodyKey => "body key",
        }
    }

    pub fn expect_node(&self) -> Result<(), CertError> {
        match self.subject {
            Subject::Node => Ok(()),
            Subject::Member { .. } => Err(CertError::WrongSubject {
                expected: "node",
                found: "member",
            }),
            Subject::BodyKey => Err(CertError::WrongSubject {
                expected: "node",
                found: "body key",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_encode_decode_verify() {
        let body = SecretKey::from_seed([1; 32]);
        let member = SecretKey::from_seed([2; 32]);
        let cert = Certificate::issue(
            &body,
            "平湖市政协",
            member.public(),
            Subject::Member {
                name: "张三".into(),
                role: Role::Member,
                can_sign: true,
            },
            1_700_000_000,
        )
        .unwrap();
        let bytes = cert.encode();
        assert!(bytes.len() <= MAX_CERT_BYTES);
        assert_eq!(Certificate::decode(&bytes).unwrap(), cert);
        for i in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert!(
                Certificate::decode(&bad).is_err(),
                "flipped bit {i} accepted"
            );
        }
        assert!(cert.expect_node().is_err());
    }

    /// Review finding: a body named `"\x1b[2K\r"…` put the escape into its partner's
    /// `confer status`. Such names are refused when issued and when decoded, so they never
    /// reach a view, a terminal or a log.
    #[test]
    fn names_with_control_or_invisible_characters_are_refused() {
        let body = SecretKey::from_seed([1; 32]);
        let member = SecretKey::from_seed([2; 32]).public();
        let staff = |name: &str| Subject::member(name, Role::Staff);
        for bad in [
            "evil\x1b[2K\rname",
            "a\u{202e}b",
            " padded",
            "",
            "zero\u{200b}width",
        ] {
            assert_eq!(
                Certificate::issue(&body, bad, member, staff("x"), 0),
                Err(CertError::UncleanName),
                "{bad:?}"
            );
            assert_eq!(
                Certificate::issue(&body, "平湖市政协", member, staff(bad), 0),
                Err(CertError::UncleanName)
            );
            // Signed by the body all the same (as a hostile body would): decoding refuses.
            let mut cert = Certificate::issue(&body, "平湖市政协", member, staff("x"), 0).unwrap();
            cert.body_name = bad.into();
            cert.signature = body.sign(CERT_DOMAIN, &cert.signed_bytes());
            assert_eq!(
                Certificate::decode(&cert.encode()),
                Err(CertError::UncleanName),
                "{bad:?}"
            );
        }
    }
}

/// The certificates a node knows, by certified key. A key may be claimed by several bodies
/// (a key is public, so any body can sign a certificate naming it); authorisation asks
/// whether *a member body of the space* certified it, so a stranger's claim cannot lock a
/// member out.
#[derive(Debug, Default, Clone)]
pub struct Certificates {
    by_key: std::collections::BTreeMap<PublicKey, std::collections::BTreeMap<BodyId, Certificate>>,
    /// Keys authorised to sign for each body besides its id: those certified as body keys
    /// by a key already authorised.
    body_keys: std::collections::BTreeMap<BodyId, std::collections::BTreeSet<PublicKey>>,
}

impl Certificates {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a verified certificate. For one body and key, the certificate with the latest
    /// `issued_at` wins (ties: the smaller encoding), so every node holding the same
    /// certificates shows the same names whatever order they arrived in. Returns true if
    /// it was kept.
    ///
    /// A certificate whose signer is not (yet) authorised for its body is not kept: it
    /// could otherwise displace the body's own certificate for that key. It counts once
    /// it comes again after the body-key certificate that authorises its signer.
    pub fn insert(&mut self, cert: Certificate) -> bool {
        if !self.authorised(&cert.signer, &cert.body) {
            return false;
        }
        if cert.is_body_key() && cert.key != cert.body.0 {
            self.body_keys
                .entry(cert.body)
                .or_default()
                .insert(cert.key);
        }
        let slot = self.by_key.entry(cert.key).or_default();
        match slot.get(&cert.body) {
            Some(held)
                if (held.issued_at, std::cmp::Reverse(held.encode()))
                    >= (cert.issued_at, std::cmp::Reverse(cert.encode())) =>
            {
                false
            }
            _ => {
                slot.insert(cert.body, cert);
                true
            }
        }
    }

    /// Inserts certificates in whatever order they come, body-key certificates first and
    /// each once its signer is authorised (as a stored set is loaded). Returns those that
    /// no chain authorises.
    pub fn insert_all(&mut self, certs: Vec<Certificate>) -> Vec<Certificate> {
        let (mut chain, rest): (Vec<Certificate>, Vec<Certificate>) =
            certs.into_iter().partition(Certificate::is_body_key);
        loop {
            let before = chain.len();
            chain.retain(|c| {
                if self.authorised(&c.signer, &c.body) {
                    self.insert(c.clone());
                    false
                } else {
                    true
                }
            });
            if chain.len() == before {
                break;
            }
        }
        let mut refused = chain;
        for cert in rest {
            if !self.authorised(&cert.signer, &cert.body) {
                refused.push(cert);
            } else {
                self.insert(cert);
            }
        }
        refused
    }

    /// Whether `signer` may sign for `body`: the body's own key, or a body key certified
    /// from it.
    pub fn authorised(&self, signer: &PublicKey, body: &BodyId) -> bool {
        *signer == body.0 || self.body_keys.get(body).is_some_and(|k| k.contains(signer))
    }

    /// The body-key certificates of `body`, in an order that [`Self::insert`] accepts
    /// (each signer before what it signed): what a node sends with its Hello.
    pub fn body_key_chain(&self, body: &BodyId) -> Vec<Certificate> {
        let mut out: Vec<Certificate> = Vec::new();
        let mut known: std::collections::BTreeSet<PublicKey> = std::iter::once(body.0).collect();
        let mut rest: Vec<&Certificate> = self
            .all()
            .filter(|c| c.body == *body && c.is_body_key())
            .collect();
        while !rest.is_empty() {
            let before = rest.len();
            rest.retain(|c| {
                if known.contains(&c.signer) {
                    known.insert(c.key);
                    out.push((*c).clone());
                    false
                } else {
                    true
                }
            });
            if rest.len() == before {
                break;
            }
        }
        out
    }

    /// The member certificate `body` issued for `key`, if known. Entries name the body they
    /// are written for (signed), so attribution never has to choose between claimants.
    pub fn member_cert(&self, key: &PublicKey, body: &BodyId) -> Option<&Certificate> {
        self.by_key
            .get(key)?
            .get(body)
            .filter(|cert| cert.is_member())
    }

    /// `member_cert` as a yes/no question, the form [`crate::Space::receive`] asks it in.
    pub fn certifies(
        &self,
    ) -> impl Fn(&PublicKey, &BodyId) -> Option<crate::space::Certified> + '_ {
        |key, body| {
            self.member_cert(key, body)
                .map(|cert| crate::space::Certified {
                    can_sign: cert.can_sign(),
                })
        }
    }

    /// Any certificate for `key` (the lowest body id first).
    pub fn any_for(&self, key: &PublicKey) -> Option<&Certificate> {
        self.by_key.get(key)?.values().next()
    }

    /// A name for a body, from any certificate it issued.
    pub fn body_name(&self, body: &BodyId) -> Option<&str> {
        self.by_key
            .values()
            .flat_map(|certs| certs.get(body))
            .map(|cert| cert.body_name.as_str())
            .next()
    }

    pub fn all(&self) -> impl Iterator<Item = &Certificate> {
        self.by_key.values().flat_map(|certs| certs.values())
    }

    pub fn len(&self) -> usize {
        self.by_key.values().map(|c| c.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed([n; 32])
    }

    /// Body 1 rotates its key twice (k1 → k2 → k3); a member certified by k3 counts only
    /// once the chain that authorises k3 is known, in any order of arrival, and a key no
    /// chain reaches cannot certify for the body at all.
    #[test]
    fn certificates_by_a_later_body_key_count_once_its_chain_is_known() {
        let (k1, k2, k3) = (key(1), key(2), key(3));
        let body = BodyId(k1.public());
        let name = "平湖市政协";
        let link2 = Certificate::issue_for(body, &k1, name, k2.public(), Subject::BodyKey, 1)
            .expect("k1 certifies k2");
        let link3 = Certificate::issue_for(body, &k2, name, k3.public(), Subject::BodyKey, 2)
            .expect("k2 certifies k3");
        let member = key(10).public();
        let by_k3 = Certificate::issue_for(
            body,
            &k3,
            name,
            member,
            Subject::member("张三", Role::Member),
            3,
        )
        .expect("k3 certifies a member");
        assert_eq!(Certificate::decode(&by_k3.encode()), Ok(by_k3.clone()));

        let mut certs = Certificates::new();
        assert!(
            !certs.insert(by_k3.clone()),
            "k3 is not known to sign for the body yet"
        );
        assert!(!certs.insert(link3.clone()), "k2 is not known yet either");
        assert!(certs.member_cert(&member, &body).is_none());
        assert!(certs.insert(link2.clone()));
        assert!(certs.insert(link3.clone()));
        assert!(certs.insert(by_k3.clone()));
        assert!(certs.member_cert(&member, &body).is_some());
        assert_eq!(
            certs.body_key_chain(&body),
            vec![link2.clone(), link3.clone()]
        );

        // Loaded from storage in any order, the same holds.
        for order in [
            vec![by_k3.clone(), link3.clone(), link2.clone()],
            vec![link3.clone(), by_k3.clone(), link2.clone()],
        ] {
            let mut loaded = Certificates::new();
            assert!(loaded.insert_all(order).is_empty());
            assert!(loaded.member_cert(&member, &body).is_some());
        }

        // A stranger's key claiming the body, with a valid signature of its own, does not
        // count, and cannot displace the body's own certificate for that key.
        let thief = key(66);
        let forged = Certificate::issue_for(
            body,
            &thief,
            name,
            member,
            Subject::member("冒名", Role::Chair),
            u64::MAX,
        )
        .expect("a self-consistent forgery");
        assert!(forged.verify().is_ok());
        assert!(!certs.authorised(&thief.public(), &body));
        assert!(!certs.insert(forged));
        assert_eq!(
            certs.member_cert(&member, &body).map(|c| c.subject_name()),
            Some("张三")
        );
    }
}
