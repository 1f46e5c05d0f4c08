//! What [`super::verify`] found: the verdict, each listed body, and every problem, as values
//! a command line or an API shows (in its own language) and serialises as JSON.

use crate::cert::{BodyId, Role};
use crate::keys::PublicKey;
use crate::model::outcome::{AttestationError, OutcomeId, OutcomeKind};
use crate::space::SpaceId;

/// The result of verifying a bundle offline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// The bundle is well-formed and every attestation in it counts (no problem at all).
    pub valid: bool,
    /// Valid, and every body the outcome lists has at least one attestation that counts.
    pub adopted: bool,
    /// The outcome, once its rendering parsed.
    pub outcome: Option<OutcomeSummary>,
    /// One entry per body the rendering lists, in its order (ascending id).
    pub bodies: Vec<BodyReport>,
    /// Every problem found, in the order found (those about a listed body are also under
    /// that body).
    pub problems: Vec<Problem>,
}

/// The outcome the rendering describes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutcomeSummary {
    pub space: SpaceId,
    pub outcome: OutcomeId,
    pub kind: OutcomeKind,
    pub title: String,
    /// The text itself (normalised, as signed).
    pub text: String,
    /// SHA-256 of the rendering, lowercase hex: what every attestation signs.
    pub digest: String,
}

/// One body the outcome lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BodyReport {
    pub body: BodyId,
    /// The name the body's own certificates in the bundle give it (a claim of the body
    /// about itself: compare ids, not names); none if the bundle holds none of them.
    pub name: Option<String>,
    /// At least one attestation for this body counts.
    pub signed: bool,
    /// The signers whose attestations count, in bundle order.
    pub signers: Vec<SignerReport>,
    /// Problems with attestations for this body.
    pub problems: Vec<Problem>,
}

/// A member who signed for a body, as its certificate names them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignerReport {
    pub key: PublicKey,
    pub name: String,
    pub role: Role,
}

/// Something wrong with a bundle. Any problem makes the bundle invalid. Indexes count
/// from 0 within the bundle's `certificates` or `attestations` array.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Problem {
    #[error("the file is larger than {max} bytes, more than any bundle can be")]
    TooLarge { max: usize },
    #[error("not JSON: {detail}")]
    NotJson { detail: String },
    #[error("not a confer outcome bundle (its format is {found})")]
    Format { found: String },
    #[error("bundle version {found} is not supported (this verifier reads version 1)")]
    Version { found: String },
    #[error("malformed bundle: {detail}")]
    Malformed { detail: String },
    #[error("the bundle holds more than {max} {what}")]
    TooMany { what: &'static str, max: usize },
    #[error("the rendering is not a canonical outcome text: {detail}")]
    Rendering { detail: String },
    #[error("certificate {index} is invalid: {detail}")]
    Certificate { index: usize, detail: String },
    #[error("certificate {index} is signed by key {signer}, which no key chain in the bundle authorises for body {body}")]
    UnauthorisedCertificate {
        index: usize,
        body: BodyId,
        signer: PublicKey,
    },
    #[error("attestation {index}: its {field} is not lowercase hex of the right length")]
    AttestationEncoding { index: usize, field: &'static str },
    #[error("attestation {index} repeats an earlier one (body {body}, signer {signer})")]
    DuplicateAttestation {
        index: usize,
        body: BodyId,
        signer: PublicKey,
    },
    #[error("attestation {index} (body {body}, signer {signer}): the signature does not verify over this rendering (it signed something else, or the text was changed)")]
    BadSignature {
        index: usize,
        body: BodyId,
        signer: PublicKey,
    },
    #[error("attestation {index} is for body {body}, which the outcome does not list")]
    BodyNotListed {
        index: usize,
        body: BodyId,
        signer: PublicKey,
    },
    #[error("attestation {index}: key {signer} has no member certificate from body {body} in the bundle (through that body's key chain)")]
    NoMemberCertificate {
        index: usize,
        body: BodyId,
        signer: PublicKey,
    },
    #[error("attestation {index}: {name} (key {signer}) may not sign outcomes for body {body}")]
    CannotSign {
        index: usize,
        body: BodyId,
        signer: PublicKey,
        name: String,
    },
}

impl Problem {
    /// The problem an attestation check found, at `index`.
    pub(super) fn attestation(
        index: usize,
        body: BodyId,
        signer: PublicKey,
        error: AttestationError,
    ) -> Problem {
        match error {
            AttestationError::Encoding(_) => Problem::AttestationEncoding {
                index,
                field: "encoding",
            },
            // A bundle's attestations carry no digest of their own: they are checked
            // against the rendering's, so a signature over another text fails to verify.
            AttestationError::OtherText | AttestationError::BadSignature => Problem::BadSignature {
                index,
                body,
                signer,
            },
            AttestationError::BodyNotListed(_) => Problem::BodyNotListed {
                index,
                body,
                signer,
            },
            AttestationError::NoMemberCertificate { .. } => Problem::NoMemberCertificate {
                index,
                body,
                signer,
            },
            AttestationError::CannotSign { name, .. } => Problem::CannotSign {
                index,
                body,
                signer,
                name,
            },
        }
    }

    /// The listed body this problem is about, if any.
    pub fn body(&self) -> Option<BodyId> {
        match self {
            Problem::DuplicateAttestation { body, .. }
            | Problem::BadSignature { body, .. }
            | Problem::NoMemberCertificate { body, .. }
            | Problem::CannotSign { body, .. } => Some(*body),
            _ => None,
        }
    }
}
