//! The outcome bundle: an outcome's canonical rendering, the attestations over it and the
//! certificates that show who signed, in one JSON file that a committee hands to a party
//! committee or government office, and that anyone verifies offline ([`verify`]) without
//! a node, a network or trust in whoever passed the file on.
//!
//! ```json
//! {"format": "confer-outcome-bundle", "version": 1, "rendering": "format: confer-outcome\n…",
//!  "attestations": [{"body": HEX, "signer": HEX, "signature": HEX}, …],
//!  "certificates": [HEX of Certificate::encode(), …]}
//! ```
//!
//! The file format and the verification algorithm are specified in
//! `docs/outcome-bundle.md`. [`verify`] never panics, on any input.
//!
//! What offline verification cannot know, and the report therefore does not say:
//! - whether a key was revoked, or its certificate replaced, after it signed — the bundle
//!   carries certificates, not revocations, and a verifier has no clock to judge "after";
//! - whether the listed bodies really are the members of the space, or the bodies the
//!   reader thinks they are: the rendering names bodies by id, and only the bodies'
//!   signatures over that list vouch for it. Names in certificates are what each body says
//!   about itself; a reader compares the body ids with ids known through official channels.

mod report;

use crate::cert::{BodyId, Certificate, Certificates};
use crate::keys::{PublicKey, Signature};
use crate::model::outcome::{self, lower_hex, Attestation, OutcomeText};

pub use report::{BodyReport, OutcomeSummary, Problem, SignerReport, VerifyReport};

/// The `format` field of every bundle.
pub const BUNDLE_FORMAT: &str = "confer-outcome-bundle";
/// The `version` field this code writes and reads.
pub const BUNDLE_VERSION: u64 = 1;
/// Most attestations in a bundle (4 per body for the most bodies an outcome lists).
pub const MAX_BUNDLE_ATTESTATIONS: usize = 4 * crate::space::MAX_MEMBERS;
/// Most certificates in a bundle (for every attestation a member certificate and a key
/// chain of up to 8, with room to spare).
pub const MAX_BUNDLE_CERTIFICATES: usize = 1024;
/// Largest bundle file: room for the longest rendering escaped in JSON three times over
/// and every certificate at its longest.
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;

/// A bundle as it is written: the JSON object's fields. Hex strings stay strings here, so
/// that a malformed one is one problem in the report, not a refusal of the whole file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bundle {
    pub format: String,
    pub version: u64,
    pub rendering: String,
    pub attestations: Vec<BundleAttestation>,
    pub certificates: Vec<String>,
}

/// An attestation in a bundle; its digest is the rendering's, so it is not repeated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BundleAttestation {
    pub body: String,
    pub signer: String,
    pub signature: String,
}

impl Bundle {
    /// The bundle of `text` with those of `attestations` that are over its digest (others
    /// attest another text and are left out), sorted by body and signer without repeats,
    /// and from `certs`, for each of them, the body's key chain and the signer's member
    /// certificate from that body (each certificate once). An attestation whose member
    /// certificate `certs` does not hold is included all the same, and [`verify`] says so.
    pub fn build(text: &OutcomeText, attestations: &[Attestation], certs: &Certificates) -> Bundle {
        let digest = text.digest();
        let mut chosen: Vec<&Attestation> =
            attestations.iter().filter(|a| a.digest == digest).collect();
        chosen.sort_by_key(|a| (a.body, a.signer));
        chosen.dedup_by_key(|a| (a.body, a.signer));
        let mut certificates: Vec<String> = Vec::new();
        let mut add = |cert: &Certificate| {
            let hex = hex::encode(cert.encode());
            if !certificates.contains(&hex) {
                certificates.push(hex);
            }
        };
        for a in &chosen {
            certs.body_key_chain(&a.body).iter().for_each(&mut add);
            if let Some(cert) = certs.member_cert(&a.signer, &a.body) {
                add(cert);
            }
        }
        Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            version: BUNDLE_VERSION,
            rendering: text.render(),
            attestations: chosen
                .iter()
                .map(|a| BundleAttestation {
                    body: a.body.to_string(),
                    signer: a.signer.to_string(),
                    signature: hex::encode(a.signature.0),
                })
                .collect(),
            certificates,
        }
    }

    /// The bundle as pretty-printed JSON (two-space indent, fields in the order above,
    /// non-ASCII characters as they are), without a final line end.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("a bundle holds only strings and integers, which always serialise")
    }
}

/// Verifies a bundle file's bytes offline; see the module documentation for what it cannot
/// know. Never panics.
pub fn verify(bundle_json: &[u8]) -> VerifyReport {
    let mut report = VerifyReport {
        valid: false,
        adopted: false,
        outcome: None,
        bodies: Vec::new(),
        problems: Vec::new(),
    };
    match read(bundle_json) {
        Ok(bundle) => check(&bundle, &mut report),
        Err(problem) => report.problems.push(problem),
    }
    report.valid = report.problems.is_empty() && report.outcome.is_some();
    report.adopted = report.valid && report.bodies.iter().all(|b| b.signed);
    report
}

/// The JSON object, if it is a bundle of this version and shape within the limits.
fn read(bytes: &[u8]) -> Result<Bundle, Problem> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(Problem::TooLarge {
            max: MAX_BUNDLE_BYTES,
        });
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Problem::NotJson {
        detail: e.to_string(),
    })?;
    let format = value.get("format");
    if format.and_then(|f| f.as_str()) != Some(BUNDLE_FORMAT) {
        let found = format.map_or_else(|| "missing".to_owned(), short_json);
        return Err(Problem::Format { found });
    }
    let version = value.get("version");
    if version.and_then(|v| v.as_u64()) != Some(BUNDLE_VERSION) {
        let found = version.map_or_else(|| "missing".to_owned(), short_json);
        return Err(Problem::Version { found });
    }
    // Parsed again into its fields, which refuses a field given twice at any level.
    let bundle: Bundle = serde_json::from_slice(bytes).map_err(|e| Problem::Malformed {
        detail: shorten(e.to_string()),
    })?;
    for (what, count, max) in [
        (
            "attestations",
            bundle.attestations.len(),
            MAX_BUNDLE_ATTESTATIONS,
        ),
        (
            "certificates",
            bundle.certificates.len(),
            MAX_BUNDLE_CERTIFICATES,
        ),
    ] {
        if count > max {
            return Err(Problem::TooMany { what, max });
        }
    }
    Ok(bundle)
}

/// A JSON value for a message: compact, at most 64 characters.
fn short_json(value: &serde_json::Value) -> String {
    cut(value.to_string(), 64)
}

/// A parser's message for a report: it may quote the input, so at most 200 characters.
fn shorten(message: String) -> String {
    cut(message, 200)
}

/// `text` cut to `max` characters, marked with `…` where it was cut.
fn cut(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Checks a bundle that has the right shape: rendering, certificates, then attestations.
fn check(bundle: &Bundle, report: &mut VerifyReport) {
    let text = match outcome::parse(&bundle.rendering) {
        Ok(text) => text,
        Err(e) => {
            report.problems.push(Problem::Rendering {
                detail: e.to_string(),
            });
            return;
        }
    };
    let digest = outcome::digest(&bundle.rendering);
    let certs = certificates(&bundle.certificates, &mut report.problems);
    report.bodies = text
        .bodies()
        .iter()
        .map(|body| BodyReport {
            body: *body,
            name: certs.body_name(body).map(str::to_owned),
            signed: false,
            signers: Vec::new(),
            problems: Vec::new(),
        })
        .collect();
    let mut seen: Vec<(BodyId, PublicKey)> = Vec::new();
    for (index, a) in bundle.attestations.iter().enumerate() {
        let attestation = match attestation(a, digest) {
            Ok(attestation) => attestation,
            Err(field) => {
                report
                    .problems
                    .push(Problem::AttestationEncoding { index, field });
                continue;
            }
        };
        let (body, signer) = (attestation.body, attestation.signer);
        let result = if seen.contains(&(body, signer)) {
            Err(Problem::DuplicateAttestation {
                index,
                body,
                signer,
            })
        } else {
            seen.push((body, signer));
            attestation
                .check_for(text.bodies(), &digest, &certs)
                .map_err(|e| Problem::attestation(index, body, signer, e))
        };
        let entry = report.bodies.iter_mut().find(|b| b.body == body);
        match (result, entry) {
            (Ok(cert), Some(entry)) => {
                entry.signed = true;
                // The signer's certificate names the body as the body signed it.
                entry.name = Some(cert.body_name.clone());
                entry.signers.push(SignerReport {
                    key: signer,
                    name: cert.subject_name().to_owned(),
                    role: cert.role().unwrap_or(crate::cert::Role::Member),
                });
            }
            (Ok(_), None) => {} // `check_for` refuses a body the outcome does not list.
            (Err(problem), entry) => {
                if let Some(entry) = entry.filter(|_| problem.body().is_some()) {
                    entry.problems.push(problem.clone());
                }
                report.problems.push(problem);
            }
        }
    }
    report.outcome = Some(OutcomeSummary {
        space: text.space(),
        outcome: text.outcome(),
        kind: text.kind(),
        title: text.title().to_owned(),
        text: text.text().to_owned(),
        digest: hex::encode(digest),
    });
}

/// The bundle's certificates, each decoded and verified, inserted in any order through
/// the key chains they carry; a problem for each that does not decode or that no chain
/// authorises.
fn certificates(hexes: &[String], out: &mut Vec<Problem>) -> Certificates {
    let mut problems = Vec::new();
    let mut decoded: Vec<(usize, Certificate)> = Vec::new();
    for (index, hex) in hexes.iter().enumerate() {
        let bytes = if hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            hex::decode(hex).ok()
        } else {
            None
        };
        let Some(bytes) = bytes else {
            problems.push(Problem::Certificate {
                index,
                detail: "not an even number of lowercase hex digits".into(),
            });
            continue;
        };
        match Certificate::decode(&bytes) {
            Ok(cert) => decoded.push((index, cert)),
            Err(e) => problems.push(Problem::Certificate {
                index,
                detail: e.to_string(),
            }),
        }
    }
    let mut certs = Certificates::new();
    let refused = certs.insert_all(decoded.iter().map(|(_, c)| c.clone()).collect());
    for cert in refused {
        let index = decoded
            .iter()
            .find(|(_, c)| *c == cert)
            .map_or(0, |(i, _)| *i);
        problems.push(Problem::UnauthorisedCertificate {
            index,
            body: cert.body,
            signer: cert.signer,
        });
    }
    problems.sort_by_key(|p| match p {
        Problem::Certificate { index, .. } | Problem::UnauthorisedCertificate { index, .. } => {
            *index
        }
        _ => usize::MAX,
    });
    out.extend(problems);
    certs
}

/// A bundle attestation's fields, strictly decoded, over `digest`; or the field that is
/// not lowercase hex of its length.
fn attestation(a: &BundleAttestation, digest: [u8; 32]) -> Result<Attestation, &'static str> {
    let body = lower_hex::<32>(&a.body).ok_or("body")?;
    let signer = lower_hex::<32>(&a.signer).ok_or("signer")?;
    let signature = lower_hex::<64>(&a.signature).ok_or("signature")?;
    Ok(Attestation {
        body: BodyId(PublicKey::from_bytes(body)),
        signer: PublicKey::from_bytes(signer),
        digest,
        signature: Signature(signature),
    })
}
