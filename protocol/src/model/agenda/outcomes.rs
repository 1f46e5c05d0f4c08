//! Outcomes (协商成果) as the agenda holds them: the canonical text of an outcome record
//! ([`crate::model::outcome::OutcomeText`], over the space's member bodies now), each body's
//! attestations (records in its area, checked on every change: a `can_sign` key's signature
//! over body ‖ digest), whether each matches the current text, and whether the outcome is
//! adopted — every member body has signed this very text.

use serde::{Deserialize, Serialize};

use super::AgendaView;
use crate::cert::{BodyId, Certificates};
use crate::keys::{SecretKey, Signature};
use crate::model::outcome::{Attestation, OutcomeId, OutcomeKind, OutcomeText};
use crate::model::schema::{Author, RecordId, RecordKey, RecordView, RecordWrite};
use crate::model::ModelError;

/// One member body's signature on an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BodySignature {
    pub body: String,
    pub body_name: Option<String>,
    /// Some attestation of this body is present.
    pub signed: bool,
    /// One of them is over the current text and its signer may sign for the body.
    pub matches: bool,
    pub signer: Option<String>,
    pub signer_name: Option<String>,
}

/// An outcome and who has signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutcomeStatus {
    pub id: String,
    pub kind: String,
    pub title: String,
    /// SHA-256 of the current canonical rendering (hex), if the text is complete.
    pub digest: Option<String>,
    /// Why there is no canonical text yet (empty text, a hidden character, …).
    pub problem: Option<String>,
    /// Every member body has signed the current text.
    pub adopted: bool,
    pub bodies: Vec<BodySignature>,
}

/// The canonical text of outcome `id` now: its kind, title and text, signed for by the
/// space's member bodies now.
pub fn outcome_text(view: &AgendaView, id: &str) -> Result<OutcomeText, ModelError> {
    let record = view
        .record("outcome", id)
        .ok_or_else(|| ModelError::Unknown {
            what: "outcome",
            id: id.to_owned(),
        })?;
    text_of(view, record)
}

fn text_of(view: &AgendaView, record: &RecordView) -> Result<OutcomeText, ModelError> {
    let kind: OutcomeKind = record
        .get("kind")
        .parse()
        .map_err(|e: crate::model::outcome::OutcomeError| ModelError::OutcomeText(e.to_string()))?;
    let bodies: Vec<BodyId> = view.members.clone();
    let mut id = [0u8; 8];
    hex::decode_to_slice(record.id.to_string(), &mut id)
        .map_err(|_| ModelError::BadId(record.id.to_string()))?;
    OutcomeText::new(
        view.space,
        OutcomeId(id),
        kind,
        record.get("title"),
        record.get("text"),
        bodies,
    )
    .map_err(|e| ModelError::OutcomeText(e.to_string()))
}

/// The attestations the agenda holds for outcome `id`, each decoded from its record: the
/// body whose area holds it, the key that made it, the digest and signature it states.
pub fn attestations(view: &AgendaView, id: &str) -> Vec<Attestation> {
    view.records("attestation")
        .iter()
        .filter(|r| r.get("outcome") == id)
        .filter_map(|r| {
            let body = r.area?;
            let signer = r.created_by.as_ref()?.author;
            let mut digest = [0u8; 32];
            hex::decode_to_slice(r.get("digest"), &mut digest).ok()?;
            let mut signature = [0u8; 64];
            hex::decode_to_slice(r.get("signature"), &mut signature).ok()?;
            Some(Attestation {
                body,
                signer,
                digest,
                signature: Signature(signature),
            })
        })
        .collect()
}

/// Every outcome of the agenda and who has signed it.
pub fn statuses(view: &AgendaView, certs: &Certificates) -> Vec<OutcomeStatus> {
    view.records("outcome")
        .iter()
        .map(|record| {
            let id = record.id.to_string();
            let text = text_of(view, record);
            let digest = text.as_ref().ok().map(OutcomeText::digest);
            let held = attestations(view, &id);
            let bodies: Vec<BodySignature> = view
                .members
                .iter()
                .map(|body| {
                    let mine: Vec<&Attestation> = held.iter().filter(|a| a.body == *body).collect();
                    let good = text.as_ref().ok().and_then(|t| {
                        mine.iter()
                            .find_map(|a| a.check(t, certs).ok().map(|cert| (a, cert)))
                    });
                    let shown = good.map(|(a, _)| *a).or_else(|| mine.first().copied());
                    BodySignature {
                        body: body.to_string(),
                        body_name: certs.body_name(body).map(str::to_owned),
                        signed: !mine.is_empty(),
                        matches: good.is_some(),
                        signer: shown.map(|a| a.signer.to_string()),
                        signer_name: shown
                            .and_then(|a| certs.member_cert(&a.signer, body))
                            .map(|c| c.subject_name().to_owned()),
                    }
                })
                .collect();
            OutcomeStatus {
                id,
                kind: record.get("kind").to_owned(),
                title: record.get("title").to_owned(),
                digest: digest.map(hex::encode),
                problem: text.err().map(|e| e.to_string()),
                adopted: !bodies.is_empty() && bodies.iter().all(|b| b.matches),
                bodies,
            }
        })
        .collect()
}

/// The attestation record `author` (whose secret key is `secret`) writes to sign outcome
/// `outcome` for its body, under the new record id `id`. Refused if the key may not sign,
/// the outcome is unknown or has no complete text, or this body already signed this text.
pub fn sign(
    view: &AgendaView,
    author: &Author,
    secret: &SecretKey,
    outcome: RecordId,
    id: RecordId,
) -> Result<RecordWrite, ModelError> {
    if !author.can_sign {
        return Err(ModelError::NotSigner);
    }
    let text = outcome_text(view, &outcome.to_string())?;
    let digest = text.digest();
    if attestations(view, &outcome.to_string())
        .iter()
        .any(|a| a.body == author.body && a.digest == digest)
    {
        return Err(ModelError::AlreadySigned);
    }
    let attestation = Attestation::sign(author.body, secret, digest);
    Ok(RecordWrite {
        key: RecordKey {
            collection: "attestation",
            body: Some(author.body),
            id,
        },
        create: true,
        fields: vec![
            ("outcome", outcome.to_string()),
            ("digest", hex::encode(digest)),
            ("signature", hex::encode(attestation.signature.0)),
        ],
    })
}
