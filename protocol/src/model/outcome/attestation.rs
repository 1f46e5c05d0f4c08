//! An attestation: a member key's signature, on behalf of one body, over an outcome's
//! digest ([`super::digest`] of its canonical rendering).
//!
//! The signed message is `confer/attestation/v1 ‖ 0x00 ‖ body id (32) ‖ digest (32)`
//! ([`crate::keys`]' domain separation), so a signature says "for this body, I sign this
//! text" and cannot be taken for any other kind of confer signature. The rendering names
//! the space, the outcome and every body that must sign, so the digest binds all of them.
//!
//! Whether the signature *counts* is a further question ([`Attestation::check`]): the body
//! must be one the outcome lists, and the signer must hold a member certificate from that
//! body (reached through the body's key chain) that has `can_sign`.
//!
//! The compact form ([`Attestation::encode`], what the model stores as an automerge string)
//! is lowercase hex of `01 ‖ body ‖ signer ‖ digest ‖ signature` (161 bytes, 322 digits).

use crate::cert::{BodyId, Certificate, Certificates};
use crate::keys::{Domain, PublicKey, SecretKey, Signature};

use super::{lower_hex, OutcomeText};

/// The domain tag of an attestation's signature.
pub const ATTESTATION_DOMAIN: Domain = Domain(b"confer/attestation/v1");
/// The version byte of the compact encoding.
const ATTESTATION_VERSION: u8 = 1;
const ENCODED_LEN: usize = 1 + 32 + 32 + 32 + 64;
/// Length of [`Attestation::encode`]'s output, in hex digits.
pub const ATTESTATION_HEX_LEN: usize = 2 * ENCODED_LEN;

/// A signature for `body` by `signer` over an outcome's `digest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub body: BodyId,
    pub signer: PublicKey,
    pub digest: [u8; 32],
    pub signature: Signature,
}

/// Why an attestation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    #[error("not an attestation: {0}")]
    Encoding(&'static str),
    #[error("it attests another text (its digest is not this outcome's)")]
    OtherText,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("body {0} is not one of the outcome's bodies")]
    BodyNotListed(BodyId),
    #[error(
        "key {signer} has no member certificate from body {body} (through that body's key chain)"
    )]
    NoMemberCertificate { body: BodyId, signer: PublicKey },
    #[error("member {name} of body {body} may not sign outcomes (its certificate lacks can_sign)")]
    CannotSign { body: BodyId, name: String },
}

impl Attestation {
    /// The bytes signed after the domain tag: body id, then digest.
    pub fn payload(body: &BodyId, digest: &[u8; 32]) -> [u8; 64] {
        let mut payload = [0; 64];
        payload[..32].copy_from_slice(body.0.as_bytes());
        payload[32..].copy_from_slice(digest);
        payload
    }

    /// `signer` signs `digest` for `body`. Whether it may is [`Attestation::check`]'s
    /// question.
    pub fn sign(body: BodyId, signer: &SecretKey, digest: [u8; 32]) -> Self {
        Self {
            body,
            signer: signer.public(),
            digest,
            signature: signer.sign(ATTESTATION_DOMAIN, &Self::payload(&body, &digest)),
        }
    }

    /// Strict verification of the signature (nothing about who the signer is).
    pub fn verify(&self) -> Result<(), AttestationError> {
        self.signer
            .verify(
                ATTESTATION_DOMAIN,
                &Self::payload(&self.body, &self.digest),
                &self.signature,
            )
            .map_err(|_| AttestationError::BadSignature)
    }

    /// Whether the attestation counts for `outcome`: see [`Attestation::check_for`].
    pub fn check<'c>(
        &self,
        outcome: &OutcomeText,
        certs: &'c Certificates,
    ) -> Result<&'c Certificate, AttestationError> {
        self.check_for(outcome.bodies(), &outcome.digest(), certs)
    }

    /// Whether the attestation counts for the outcome whose rendering has `digest` and
    /// lists `bodies`: it is over that digest, its signature verifies, its body is listed,
    /// and `certs` hold a member certificate for the signer from that body, with
    /// `can_sign` (returned). `certs` count a certificate only when its signer is
    /// authorised for the body (the body id or its key chain, [`Certificates::insert`]).
    pub fn check_for<'c>(
        &self,
        bodies: &[BodyId],
        digest: &[u8; 32],
        certs: &'c Certificates,
    ) -> Result<&'c Certificate, AttestationError> {
        if self.digest != *digest {
            return Err(AttestationError::OtherText);
        }
        self.verify()?;
        if !bodies.contains(&self.body) {
            return Err(AttestationError::BodyNotListed(self.body));
        }
        let cert = certs.member_cert(&self.signer, &self.body).ok_or(
            AttestationError::NoMemberCertificate {
                body: self.body,
                signer: self.signer,
            },
        )?;
        if !cert.can_sign() {
            return Err(AttestationError::CannotSign {
                body: self.body,
                name: cert.subject_name().to_owned(),
            });
        }
        Ok(cert)
    }

    /// The compact form: lowercase hex of version `01`, body id, signer, digest, signature.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(ENCODED_LEN);
        bytes.push(ATTESTATION_VERSION);
        bytes.extend_from_slice(self.body.0.as_bytes());
        bytes.extend_from_slice(self.signer.as_bytes());
        bytes.extend_from_slice(&self.digest);
        bytes.extend_from_slice(&self.signature.0);
        hex::encode(bytes)
    }

    /// Decodes the compact form (exactly [`ATTESTATION_HEX_LEN`] lowercase hex digits) and
    /// verifies the signature, so a decoded attestation is always self-consistent.
    pub fn decode(s: &str) -> Result<Self, AttestationError> {
        let bytes: [u8; ENCODED_LEN] = lower_hex(s).ok_or(AttestationError::Encoding(
            "expected 322 lowercase hex digits",
        ))?;
        if bytes[0] != ATTESTATION_VERSION {
            return Err(AttestationError::Encoding("unknown attestation version"));
        }
        let key = |at: usize| {
            let mut k = [0; 32];
            k.copy_from_slice(&bytes[at..at + 32]);
            k
        };
        let mut signature = [0; 64];
        signature.copy_from_slice(&bytes[97..]);
        let attestation = Self {
            body: BodyId(PublicKey::from_bytes(key(1))),
            signer: PublicKey::from_bytes(key(33)),
            digest: key(65),
            signature: Signature(signature),
        };
        attestation.verify()?;
        Ok(attestation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{Role, Subject};

    #[test]
    fn compact_form_round_trips_and_refuses_any_change() {
        let member = SecretKey::from_seed([2; 32]);
        let body = BodyId(SecretKey::from_seed([1; 32]).public());
        let a = Attestation::sign(body, &member, [9; 32]);
        let hex = a.encode();
        assert_eq!(hex.len(), ATTESTATION_HEX_LEN);
        assert_eq!(Attestation::decode(&hex), Ok(a.clone()));
        assert!(Attestation::decode(&hex.to_uppercase()).is_err());
        assert!(Attestation::decode(&hex[2..]).is_err());
        for i in 0..hex.len() {
            let mut bad = hex.clone().into_bytes();
            bad[i] = if bad[i] == b'0' { b'1' } else { b'0' };
            let bad = String::from_utf8(bad).unwrap();
            assert!(Attestation::decode(&bad).is_err(), "digit {i} changed");
        }
    }

    #[test]
    fn check_needs_a_listed_body_and_a_signer_it_certified_with_can_sign() {
        let body_key = SecretKey::from_seed([1; 32]);
        let body = BodyId(body_key.public());
        let (signer, plain) = (SecretKey::from_seed([2; 32]), SecretKey::from_seed([3; 32]));
        let mut certs = Certificates::new();
        for (key, can_sign) in [(&signer, true), (&plain, false)] {
            let subject = Subject::Member {
                name: format!("m{can_sign}"),
                role: Role::Chair,
                can_sign,
            };
            let cert = Certificate::issue(&body_key, "平湖市政协", key.public(), subject, 0);
            assert!(certs.insert(cert.unwrap()));
        }
        let d = [5; 32];
        let ok = Attestation::sign(body, &signer, d);
        assert!(ok.check_for(&[body], &d, &certs).is_ok());
        assert_eq!(
            ok.check_for(&[body], &[6; 32], &certs),
            Err(AttestationError::OtherText)
        );
        let other = BodyId(SecretKey::from_seed([4; 32]).public());
        assert_eq!(
            ok.check_for(&[other], &d, &certs),
            Err(AttestationError::BodyNotListed(body))
        );
        assert!(matches!(
            Attestation::sign(body, &plain, d).check_for(&[body], &d, &certs),
            Err(AttestationError::CannotSign { .. })
        ));
        assert!(matches!(
            Attestation::sign(other, &signer, d).check_for(&[other], &d, &certs),
            Err(AttestationError::NoMemberCertificate { .. })
        ));
        let mut forged = ok.clone();
        forged.body = other;
        assert_eq!(
            forged.check_for(&[body, other], &d, &certs),
            Err(AttestationError::BadSignature)
        );
    }
}
