//! What every fuzz target checks, one function per target: decode arbitrary bytes with the
//! public decoder, and where the value decodes, check that its canonical encoding gives back
//! exactly the input. Any panic (in the decoder or in an `assert!` here) is a finding.
//! Each returns whether the input decoded, so the replay test can tell a corpus that
//! reaches the canonical checks from one that is refused at the door.
//!
//! The fuzz targets (`fuzz/fuzz_targets/*.rs`) call these functions, and the stable replay
//! test `protocol/tests/protocol/fuzz_corpus.rs` includes this very file with `#[path]`, so
//! the committed corpus and crashers are checked the same way in `cargo test`.
//! Depends on nothing but `confer_protocol` and std.

use confer_protocol::membership::Consent;
use confer_protocol::model::bundle;
use confer_protocol::model::outcome::{self, Attestation};
use confer_protocol::revocation::Revocation;
use confer_protocol::{Certificate, Entry, Genesis, Message};

/// A target's check: panics on a finding, returns whether the input decoded.
pub type Check = fn(&[u8]) -> bool;

/// Every target by name, as used for `fuzz/corpus/<name>/` and `fuzz/artifacts/<name>/`.
pub const TARGETS: [(&str, Check); 9] = [
    ("entry", entry),
    ("message", message),
    ("certificate", certificate),
    ("genesis", genesis),
    ("change_chunk", change_chunk),
    ("revocation", revocation),
    ("consent", consent),
    ("bundle", bundle),
    ("model_change", model_change),
];

/// The model's rules on any change: the bytes, as an automerge change chunk (as
/// [`change_chunk`] wraps them), are checked against an agenda holding a round, a
/// suggestion and a body's handling record, and against a ledger, as a member and as a
/// signer of either body. No panic, whatever the ops point at; returns whether the
/// change decoded.
pub fn model_change(data: &[u8]) -> bool {
    use confer_protocol::model::{
        check_change, AgendaAction, Author, LedgerAction, Made, ModelAction, RecordId, RecordKey,
        RecordWrite,
    };
    use confer_protocol::{BodyId, Certificate, Role, SecretKey, Space, SpaceKind, Subject};
    let Ok(len) = u32::try_from(data.len()) else {
        return false;
    };
    let mut bytes = Vec::with_capacity(1 + 32 + 32 + 4 + data.len() + 64);
    bytes.push(2);
    bytes.extend_from_slice(&[0; 64]);
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(data);
    bytes.extend_from_slice(&[0; 64]);
    let Ok(mut entry) = Entry::decode(bytes) else {
        return false;
    };
    let Ok(change) = entry.take_change() else {
        return false;
    };
    let body_key = |n: u8| SecretKey::from_seed([n; 32]);
    let member = |n: u8| SecretKey::from_seed([n + 64; 32]);
    let body = |n: u8| BodyId(body_key(n).public());
    let cert = |n: u8| {
        Certificate::issue(
            &body_key(n),
            "fuzz",
            member(n).public(),
            Subject::member("m", Role::Member),
            1,
        )
        .expect("fixture certificate")
    };
    let write = |collection: &'static str, own: bool, n: u64, fields: &[(&'static str, &str)]| {
        AgendaAction::Write(RecordWrite {
            key: RecordKey {
                collection,
                body: own.then(|| body(1)),
                id: RecordId::from_bytes(n.to_be_bytes()),
            },
            create: true,
            fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        })
    };
    let Ok(genesis) = Genesis::create(
        SpaceKind::Agenda,
        &[body(2)],
        1,
        [0; 16],
        cert(1),
        &member(1),
    ) else {
        return true;
    };
    let mut agenda = Space::new(genesis);
    let r = RecordId::from_bytes(1u64.to_be_bytes()).to_string();
    let s = RecordId::from_bytes(2u64.to_be_bytes()).to_string();
    for action in [
        write("round", false, 1, &[("number", "1")]),
        write("suggestion", false, 2, &[("round", &r), ("text", "t")]),
        write(
            "handling",
            true,
            3,
            &[
                ("suggestion", &s),
                ("unit", "u"),
                ("role", "lead"),
                ("assigned", "2026-01-01"),
                ("due", "2026-04-01"),
            ],
        ),
    ] {
        let action = ModelAction::Agenda(action);
        let _ = agenda.local_change_signing(&member(1), body(1), false, 1, |tx| action.apply(tx));
    }
    let mut ledger = Genesis::create(SpaceKind::Ledger, &[], 1, [1; 16], cert(1), &member(1))
        .ok()
        .map(Space::new);
    if let Some(ledger) = ledger.as_mut() {
        let topic = ModelAction::Ledger(LedgerAction::Write(RecordWrite {
            key: RecordKey {
                collection: "topic",
                body: None,
                id: RecordId::from_bytes([9; 8]),
            },
            create: true,
            fields: vec![
                ("title", "t".into()),
                ("source", "online".into()),
                ("urgency", "routine".into()),
                ("category", "planning".into()),
            ],
        }));
        let _ = ledger.local_change_signing(&member(1), body(1), false, 1, |tx| topic.apply(tx));
    }
    for n in [1u8, 2] {
        for can_sign in [false, true] {
            let author = Author {
                key: member(n).public(),
                body: body(n),
                can_sign,
            };
            let _ = check_change(
                SpaceKind::Agenda,
                agenda.doc(),
                &mut Made::default(),
                &author,
                &change,
            );
            if let Some(ledger) = &ledger {
                let _ = check_change(
                    SpaceKind::Ledger,
                    ledger.doc(),
                    &mut Made::default(),
                    &author,
                    &change,
                );
            }
        }
    }
    true
}

/// `bundle::verify` (an outcome bundle file, JSON) on any bytes: no panic, and a verdict
/// consistent with its problems. The same bytes as text go through the outcome rendering's
/// parser and the attestation's compact decoder too: what parses renders back to exactly
/// the input. Returns whether the bundle's rendering parsed.
pub fn bundle(data: &[u8]) -> bool {
    let report = bundle::verify(data);
    assert_eq!(
        report.valid,
        report.problems.is_empty() && report.outcome.is_some(),
        "valid means no problem"
    );
    assert_eq!(
        report.adopted,
        report.valid && report.bodies.iter().all(|b| b.signed),
        "adopted means valid and every body signed"
    );
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(parsed) = outcome::parse(text) {
            assert_eq!(
                parsed.render(),
                text,
                "a rendering that parses is canonical"
            );
        }
        if let Ok(attestation) = Attestation::decode(text) {
            assert_eq!(
                attestation.encode(),
                text,
                "attestation re-encodes canonically"
            );
        }
    }
    report.outcome.is_some()
}

/// `Consent::decode` (a membership change and its signer's certificate and signature);
/// re-encodes to the same bytes, and the change's id is stable.
pub fn consent(data: &[u8]) -> bool {
    let Ok(c) = Consent::decode(data) else {
        return false;
    };
    assert_eq!(c.encode(), data, "consent re-encodes canonically");
    assert_eq!(c.change.id(), c.change.clone().id());
    true
}

/// `Revocation::decode` (which verifies the body's signature) and the unverified decoding
/// request files use; both re-encode to the same bytes.
pub fn revocation(data: &[u8]) -> bool {
    if let Ok(r) = Revocation::decode_unverified(data) {
        assert_eq!(r.encode(), data, "revocation re-encodes canonically");
    }
    let Ok(r) = Revocation::decode(data) else {
        return false;
    };
    assert_eq!(
        r.encode(),
        data,
        "verified revocation re-encodes canonically"
    );
    true
}

/// `Entry::decode`. An entry keeps the bytes it was decoded from, so the canonical check is
/// on what it extracted from them: the change it parsed must be exactly the bytes between
/// header and signature, and decoding its own bytes again must give the same entry.
pub fn entry(data: &[u8]) -> bool {
    let Ok(mut entry) = Entry::decode(data.to_vec()) else {
        return false;
    };
    assert_eq!(entry.bytes(), data, "an entry keeps its input bytes");
    assert!(entry.seq() > 0, "decoded an entry with seq 0");
    let again = Entry::decode(entry.bytes().to_vec()).expect("an entry's own bytes decode");
    assert_eq!(again.hash(), entry.hash());
    assert_eq!(again.author(), entry.author());
    assert_eq!(again.seq(), entry.seq());
    assert_eq!(again.change_hash(), entry.change_hash());
    assert_eq!(again.deps(), entry.deps());
    let change = entry
        .take_change()
        .expect("a decoded entry holds its change");
    assert_eq!(
        change.raw_bytes(),
        &data[1 + 32 + 32 + 4..data.len() - 64],
        "the parsed change is exactly the bytes that were signed"
    );
    assert_eq!(change.hash(), entry.change_hash());
    // The signature is almost never valid on fuzzed input; checking it must not panic.
    let _ = entry.verify();
    true
}

/// `Message::decode`; a message that decodes re-encodes to the same bytes.
pub fn message(data: &[u8]) -> bool {
    let Ok(message) = Message::decode(data) else {
        return false;
    };
    assert_eq!(message.encode(), data, "message re-encodes canonically");
    true
}

/// `Certificate::decode` (which verifies the body's signature); re-encodes to the same bytes.
pub fn certificate(data: &[u8]) -> bool {
    let Ok(cert) = Certificate::decode(data) else {
        return false;
    };
    assert_eq!(cert.encode(), data, "certificate re-encodes canonically");
    true
}

/// `Genesis::decode` (which verifies the creator's certificate and signature); re-encodes
/// to the same bytes, and its id is the hash of those bytes.
pub fn genesis(data: &[u8]) -> bool {
    let Ok(genesis) = Genesis::decode(data) else {
        return false;
    };
    assert_eq!(genesis.encode(), data, "genesis re-encodes canonically");
    assert!(genesis.is_member(&genesis.creator.body));
    true
}

/// The automerge change chunk inside an entry: `data` is wrapped in an otherwise fixed
/// entry (version 2, zero space and body ids, length, `data`, zero signature) and decoded, so the
/// fuzzer spends its time on the change parsing (and the chunk pre-check) rather than on
/// the entry header.
pub fn change_chunk(data: &[u8]) -> bool {
    let Ok(len) = u32::try_from(data.len()) else {
        return false;
    };
    let mut bytes = Vec::with_capacity(1 + 32 + 32 + 4 + data.len() + 64);
    bytes.push(2);
    bytes.extend_from_slice(&[0; 64]);
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(data);
    bytes.extend_from_slice(&[0; 64]);
    entry(&bytes)
}
