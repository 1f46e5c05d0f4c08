//! Outcomes and their bundles: the canonical rendering (round trips both ways, by property),
//! and offline verification of bundles — adopted, not adopted, and every way an
//! attestation or a bundle can be wrong — never panicking on any input.

use confer_protocol::model::bundle::{self, Bundle, BundleAttestation, Problem, VerifyReport};
use confer_protocol::model::outcome::{
    self, Attestation, OutcomeId, OutcomeKind, OutcomeText, MAX_OUTCOME_TITLE_BYTES,
};
use confer_protocol::{BodyId, Certificate, Certificates, Role, SecretKey, SpaceId, Subject};
use proptest::prelude::*;

// ---- fixtures -------------------------------------------------------------------------

/// Body `n`'s id key is `[n; 32]`; its member `m` is `[n * 16 + m; 32]` (n < 16).
fn body_key(n: u8) -> SecretKey {
    SecretKey::from_seed([n; 32])
}

fn body(n: u8) -> BodyId {
    BodyId(body_key(n).public())
}

fn member_key(n: u8, m: u8) -> SecretKey {
    SecretKey::from_seed([n * 16 + m; 32])
}

fn body_name(n: u8) -> String {
    ["平湖市政协", "金山区政协", "嘉善县政协", "吴江区政协"][usize::from(n) % 4].to_owned()
}

/// Body `n` certifies its member `m`, signing with `signer` (the body's key or a later one).
fn member_cert_by(n: u8, signer: &SecretKey, m: u8, can_sign: bool) -> Certificate {
    let subject = Subject::Member {
        name: format!("委员{n}-{m}"),
        role: if can_sign { Role::Chair } else { Role::Member },
        can_sign,
    };
    Certificate::issue_for(
        body(n),
        signer,
        &body_name(n),
        member_key(n, m).public(),
        subject,
        1_800_000_000,
    )
    .expect("member certificate")
}

fn member_cert(n: u8, m: u8, can_sign: bool) -> Certificate {
    member_cert_by(n, &body_key(n), m, can_sign)
}

/// Bodies 1 and 2 (and 3, not listed): member 1 of each may sign, member 2 may not.
fn certs() -> Certificates {
    let mut certs = Certificates::new();
    for n in 1..=3 {
        assert!(certs.insert(member_cert(n, 1, true)));
        assert!(certs.insert(member_cert(n, 2, false)));
    }
    certs
}

fn text(bodies: &[u8]) -> OutcomeText {
    OutcomeText::new(
        SpaceId([0x5a; 32]),
        OutcomeId([0, 1, 2, 3, 4, 5, 6, 7]),
        OutcomeKind::JointOpinion,
        "关于跨界河道水环境联防联治的联合协商意见",
        "一、建立跨界联合监测机制。\n二、开展联合执法。\n三、共同参与新建项目评审。",
        bodies.iter().map(|&n| body(n)),
    )
    .expect("outcome text")
}

/// Member `m` of body `n` attests `text` for body `n`.
fn attest(text: &OutcomeText, n: u8, m: u8) -> Attestation {
    Attestation::sign(body(n), &member_key(n, m), text.digest())
}

fn verify(bundle: &Bundle) -> VerifyReport {
    let report = bundle::verify(bundle.to_json().as_bytes());
    assert_invariants(&report);
    report
}

fn assert_invariants(report: &VerifyReport) {
    assert_eq!(
        report.valid,
        report.problems.is_empty() && report.outcome.is_some()
    );
    assert_eq!(
        report.adopted,
        report.valid && report.bodies.iter().all(|b| b.signed)
    );
    for b in &report.bodies {
        assert_eq!(b.signed, !b.signers.is_empty());
        for p in &b.problems {
            assert!(report.problems.contains(p));
        }
    }
}

fn problems(report: &VerifyReport) -> Vec<&'static str> {
    report
        .problems
        .iter()
        .map(|p| match p {
            Problem::TooLarge { .. } => "too-large",
            Problem::NotJson { .. } => "not-json",
            Problem::Format { .. } => "format",
            Problem::Version { .. } => "version",
            Problem::Malformed { .. } => "malformed",
            Problem::TooMany { .. } => "too-many",
            Problem::Rendering { .. } => "rendering",
            Problem::Certificate { .. } => "certificate",
            Problem::UnauthorisedCertificate { .. } => "unauthorised-certificate",
            Problem::AttestationEncoding { .. } => "attestation-encoding",
            Problem::DuplicateAttestation { .. } => "duplicate-attestation",
            Problem::BadSignature { .. } => "bad-signature",
            Problem::BodyNotListed { .. } => "body-not-listed",
            Problem::NoMemberCertificate { .. } => "no-member-certificate",
            Problem::CannotSign { .. } => "cannot-sign",
        })
        .collect()
}

// ---- verification ---------------------------------------------------------------------

#[test]
fn every_body_signed_is_adopted_and_says_who() {
    let (text, certs) = (text(&[1, 2]), certs());
    let bundle = Bundle::build(&text, &[attest(&text, 2, 1), attest(&text, 1, 1)], &certs);
    assert_eq!(bundle.attestations.len(), 2);
    let first = body(1).min(body(2));
    assert_eq!(bundle.attestations[0].body, first.to_string(), "sorted");
    assert_eq!(bundle.certificates.len(), 2, "one member certificate each");
    let report = verify(&bundle);
    assert!(report.valid && report.adopted, "{report:#?}");
    let summary = report.outcome.as_ref().expect("outcome");
    assert_eq!(summary.kind, OutcomeKind::JointOpinion);
    assert_eq!(summary.digest, hex::encode(text.digest()));
    assert_eq!(summary.text, text.text());
    let mut expected = vec![body(1), body(2)];
    expected.sort();
    assert_eq!(
        report.bodies.iter().map(|b| b.body).collect::<Vec<_>>(),
        expected
    );
    for b in &report.bodies {
        let n = if b.body == body(1) { 1 } else { 2 };
        assert_eq!(b.name.as_deref(), Some(body_name(n).as_str()));
        assert_eq!(b.signers.len(), 1);
        assert_eq!(b.signers[0].name, format!("委员{n}-1"));
        assert_eq!(b.signers[0].role, Role::Chair);
        assert_eq!(b.signers[0].key, member_key(n, 1).public());
    }
}

#[test]
fn a_missing_signature_is_valid_but_not_adopted() {
    let (text, certs) = (text(&[1, 2]), certs());
    let report = verify(&Bundle::build(&text, &[attest(&text, 1, 1)], &certs));
    assert!(report.valid && !report.adopted, "{report:#?}");
    let unsigned = report.bodies.iter().find(|b| b.body == body(2)).unwrap();
    assert!(!unsigned.signed && unsigned.problems.is_empty());
    // No certificate of body 2 is in the bundle: it is shown by id only.
    assert_eq!(unsigned.name, None);
}

#[test]
fn a_tampered_rendering_fails_every_signature() {
    let (text, certs) = (text(&[1, 2]), certs());
    let mut bundle = Bundle::build(&text, &[attest(&text, 1, 1), attest(&text, 2, 1)], &certs);
    bundle.rendering = bundle.rendering.replace("联合执法", "单方执法");
    let report = verify(&bundle);
    assert!(!report.valid && !report.adopted);
    assert_eq!(problems(&report), ["bad-signature", "bad-signature"]);
    assert!(report
        .bodies
        .iter()
        .all(|b| !b.signed && b.problems.len() == 1));
    // The body list is part of what is signed too.
    let mut bundle = Bundle::build(&text, &[attest(&text, 1, 1), attest(&text, 2, 1)], &certs);
    let third = format!("body: {}\n", body(3));
    let at = bundle.rendering.find("title: ").unwrap();
    let mut lines: Vec<String> = bundle.rendering[..at]
        .lines()
        .map(|l| format!("{l}\n"))
        .collect();
    lines.push(third);
    lines[5..].sort();
    bundle.rendering = format!("{}{}", lines.concat(), &bundle.rendering[at..]);
    assert!(outcome::parse(&bundle.rendering).is_ok());
    assert_eq!(
        problems(&verify(&bundle)),
        ["bad-signature", "bad-signature"]
    );
}

#[test]
fn a_member_without_the_right_to_sign_does_not_count() {
    let (text, certs) = (text(&[1, 2]), certs());
    let bundle = Bundle::build(&text, &[attest(&text, 1, 2), attest(&text, 2, 1)], &certs);
    let report = verify(&bundle);
    assert!(!report.valid && !report.adopted);
    assert_eq!(problems(&report), ["cannot-sign"]);
    let b1 = report.bodies.iter().find(|b| b.body == body(1)).unwrap();
    assert!(!b1.signed);
    assert!(matches!(&b1.problems[..], [Problem::CannotSign { name, .. }] if name == "委员1-2"));
}

#[test]
fn a_key_certified_by_another_body_does_not_sign_for_this_one() {
    let (text, certs) = (text(&[1, 2]), certs());
    // Body 3's signer claims to sign for body 1; the bundle carries its body-3 certificate.
    let forged = Attestation::sign(body(1), &member_key(3, 1), text.digest());
    let mut bundle = Bundle::build(&text, &[forged, attest(&text, 2, 1)], &certs);
    bundle
        .certificates
        .push(hex::encode(member_cert(3, 1, true).encode()));
    let report = verify(&bundle);
    assert_eq!(problems(&report), ["no-member-certificate"]);
    assert!(!report.valid);
}

#[test]
fn a_body_the_outcome_does_not_list_makes_the_bundle_invalid() {
    let (text, certs) = (text(&[1, 2]), certs());
    let bundle = Bundle::build(
        &text,
        &[
            attest(&text, 1, 1),
            attest(&text, 2, 1),
            attest(&text, 3, 1),
        ],
        &certs,
    );
    let report = verify(&bundle);
    assert_eq!(problems(&report), ["body-not-listed"]);
    assert!(!report.valid && !report.adopted);
    assert!(
        report.bodies.iter().all(|b| b.signed),
        "the listed bodies did sign"
    );
}

#[test]
fn a_rotated_body_key_counts_through_its_chain_and_not_without_it() {
    let text = text(&[1, 2]);
    let (k2, k3) = (
        SecretKey::from_seed([0xe2; 32]),
        SecretKey::from_seed([0xe3; 32]),
    );
    let link = |signer: &SecretKey, key: &SecretKey, at: u64| {
        Certificate::issue_for(
            body(2),
            signer,
            &body_name(2),
            key.public(),
            Subject::BodyKey,
            at,
        )
        .expect("body-key certificate")
    };
    let mut certs = certs();
    assert!(certs.insert(link(&body_key(2), &k2, 1)));
    assert!(certs.insert(link(&k2, &k3, 2)));
    // Member 5 of body 2, certified by the body's third key.
    assert!(certs.insert(member_cert_by(2, &k3, 5, true)));
    let attestations = [attest(&text, 1, 1), attest(&text, 2, 5)];
    let bundle = Bundle::build(&text, &attestations, &certs);
    assert_eq!(
        bundle.certificates.len(),
        4,
        "1's member; 2's two links and member"
    );
    let report = verify(&bundle);
    assert!(report.adopted, "{report:#?}");

    // In any order.
    let mut shuffled = bundle.clone();
    shuffled.certificates.reverse();
    assert!(verify(&shuffled).adopted);

    // Without the chain, body 2's member certificate is signed by a key nothing authorises.
    let mut broken = bundle.clone();
    let link2 = hex::encode(link(&body_key(2), &k2, 1).encode());
    broken.certificates.retain(|c| *c != link2);
    let report = verify(&broken);
    assert_eq!(
        problems(&report),
        [
            "unauthorised-certificate",
            "unauthorised-certificate",
            "no-member-certificate"
        ]
    );
    assert!(!report.valid);
}

#[test]
fn duplicate_attestations_are_refused_but_two_signers_of_one_body_both_count() {
    let (text, mut certs) = (text(&[1, 2]), certs());
    let a = attest(&text, 1, 1);
    let mut bundle = Bundle::build(&text, &[a.clone(), attest(&text, 2, 1)], &certs);
    let repeated = bundle.attestations[0].clone();
    bundle.attestations.push(repeated);
    let report = verify(&bundle);
    assert_eq!(problems(&report), ["duplicate-attestation"]);
    assert!(!report.valid);
    let repeated = report
        .bodies
        .iter()
        .find(|b| b.body.to_string() == bundle.attestations[0].body)
        .unwrap();
    assert!(repeated.signed && repeated.problems.len() == 1);

    // `build` drops the repeat; a second signer of body 1 counts as well.
    assert!(certs.insert(member_cert(1, 3, true)));
    let both = [a.clone(), a, attest(&text, 1, 3), attest(&text, 2, 1)];
    let report = verify(&Bundle::build(&text, &both, &certs));
    assert!(report.adopted, "{report:#?}");
    let b1 = report.bodies.iter().find(|b| b.body == body(1)).unwrap();
    assert_eq!(b1.signers.len(), 2);
}

#[test]
fn build_leaves_out_attestations_of_another_text() {
    let (text, certs) = (text(&[1, 2]), certs());
    let old = OutcomeText::new(
        text.space(),
        text.outcome(),
        text.kind(),
        text.title(),
        "旧稿",
        text.bodies().iter().copied(),
    )
    .unwrap();
    let bundle = Bundle::build(&text, &[attest(&old, 1, 1), attest(&text, 2, 1)], &certs);
    assert_eq!(bundle.attestations.len(), 1);
    let report = verify(&bundle);
    assert!(report.valid && !report.adopted);
}

#[test]
fn a_signature_over_another_text_fails() {
    let (text, certs) = (text(&[1, 2]), certs());
    let mut bundle = Bundle::build(&text, &[attest(&text, 1, 1), attest(&text, 2, 1)], &certs);
    let other = OutcomeText::new(
        text.space(),
        OutcomeId([9; 8]),
        text.kind(),
        text.title(),
        text.text(),
        text.bodies().iter().copied(),
    )
    .unwrap();
    bundle.attestations[0].signature = hex::encode(attest(&other, 1, 1).signature.0);
    assert_eq!(problems(&verify(&bundle)), ["bad-signature"]);
}

#[test]
fn malformed_bundles_say_what_is_wrong() {
    let (text, certs) = (text(&[1, 2]), certs());
    let good = Bundle::build(&text, &[attest(&text, 1, 1), attest(&text, 2, 1)], &certs);
    let json = good.to_json();
    let check = |input: &[u8], expected: &[&str]| {
        let report = bundle::verify(input);
        assert_invariants(&report);
        assert!(!report.valid && !report.adopted);
        assert_eq!(
            problems(&report),
            expected,
            "{}",
            String::from_utf8_lossy(input)
        );
    };
    check(b"", &["not-json"]);
    check(b"\xff\xfe{", &["not-json"]);
    check(b"[1,2,3]", &["format"]);
    check(b"{\"format\":\"confer-outcome-bundle\"}", &["version"]);
    check(
        &json
            .replace("\"version\": 1", "\"version\": 2")
            .into_bytes(),
        &["version"],
    );
    check(
        &json
            .replace("\"version\": 1", "\"version\": \"1\"")
            .into_bytes(),
        &["version"],
    );
    check(
        &json.replace("confer-outcome-bundle", "other").into_bytes(),
        &["format"],
    );
    check(
        &json.replace("\"certificates\"", "\"certs\"").into_bytes(),
        &["malformed"],
    );
    check(
        &json
            .replace("\"rendering\": \"format", "\"rendering\": \"formal")
            .into_bytes(),
        &["rendering"],
    );
    check(&vec![b' '; bundle::MAX_BUNDLE_BYTES + 1], &["too-large"]);
    let twice = json.replacen("\"version\": 1,", "\"version\": 1, \"version\": 1,", 1);
    check(twice.as_bytes(), &["malformed"]);
    let attestation_twice = json.replacen("\"body\": ", "\"body\": \"00\", \"body\": ", 1);
    check(attestation_twice.as_bytes(), &["malformed"]);
    check(format!("\u{feff}{json}").as_bytes(), &["not-json"]);
    check(format!("{json} {{}}").as_bytes(), &["not-json"]);
    check(
        &json
            .replace("\"version\": 1", "\"version\": 1.0")
            .into_bytes(),
        &["version"],
    );
    // A parser's message may quote the input: it is cut short.
    let huge = format!("\"certificates\": \"{}\", \"x\": [", "长".repeat(10_000));
    let long = json.replacen("\"certificates\": [", &huge, 1);
    let report = bundle::verify(long.as_bytes());
    assert!(
        matches!(&report.problems[..], [Problem::Malformed { detail }] if detail.chars().count() <= 201),
        "{:?}",
        report.problems
    );
    check(&json.as_bytes()[..json.len() / 2], &["not-json"]);

    let mut bad = good.clone();
    bad.certificates[0].make_ascii_uppercase();
    bad.certificates[1].truncate(20);
    let report = verify(&bad);
    assert_eq!(
        problems(&report),
        [
            "certificate",
            "certificate",
            "no-member-certificate",
            "no-member-certificate"
        ]
    );
    let mut bad = good.clone();
    bad.attestations[0].signer.make_ascii_uppercase();
    bad.attestations[1].signature.pop();
    assert_eq!(
        problems(&verify(&bad)),
        ["attestation-encoding", "attestation-encoding"]
    );
    let mut bad = good.clone();
    bad.attestations = vec![
        BundleAttestation {
            body: body(1).to_string(),
            signer: "00".repeat(32),
            signature: "00".repeat(64),
        };
        bundle::MAX_BUNDLE_ATTESTATIONS + 1
    ];
    assert_eq!(problems(&verify(&bad)), ["too-many"]);
    // A signer that is not a valid curve point is a bad signature, not a panic.
    let mut bad = good;
    bad.attestations[0].signer = "ff".repeat(32);
    assert_eq!(problems(&verify(&bad)), ["bad-signature"]);
}

// ---- properties -----------------------------------------------------------------------

fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{1,40}",
        "\\PC{1,60}",
        "[\u{4e00}-\u{9fa5}]{1,80}"
    ]
    .prop_filter("a clean title", |s| {
        confer_protocol::text::is_clean_name(s) && s.len() <= MAX_OUTCOME_TITLE_BYTES
    })
}

fn body_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z \n\r\t]{0,80}",
        "(\\PC|\n|\r\n|\r|\t){1,200}",
        "[\u{4e00}-\u{9fa5}，。\n ]{1,120}",
    ]
}

prop_compose! {
    fn outcome_text()(
        space in any::<[u8; 32]>(),
        id in any::<[u8; 8]>(),
        kind in proptest::sample::select(OutcomeKind::ALL.to_vec()),
        title in title(),
        text in body_text(),
        bodies in proptest::collection::vec(any::<[u8; 32]>(), 1..8),
    ) -> Result<OutcomeText, outcome::OutcomeError> {
        OutcomeText::new(
            SpaceId(space),
            OutcomeId(id),
            kind,
            title,
            &text,
            bodies.into_iter().map(|b| BodyId(confer_protocol::PublicKey::from_bytes(b))),
        )
    }
}

proptest! {
    #[test]
    fn parse_of_render_gives_the_outcome_back(t in outcome_text()) {
        if let Ok(t) = t {
            let rendering = t.render();
            prop_assert_eq!(outcome::parse(&rendering), Ok(t.clone()));
            prop_assert_eq!(outcome::normalise_text(t.text()), t.text());
        }
    }

    /// Whatever an edit of a rendering turns it into, it parses only if it is canonical.
    #[test]
    fn render_of_parse_gives_the_rendering_back(
        t in outcome_text(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..4,
        insert in prop_oneof!["", "\n", "\r", " ", "\n\n", "body: ", "0", "a", "题"],
    ) {
        if let Ok(t) = t {
            let rendering = t.render();
            let mut at = at.index(rendering.len() + 1);
            while !rendering.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + cut).min(rendering.len());
            while !rendering.is_char_boundary(end) {
                end += 1;
            }
            let edited = format!("{}{insert}{}", &rendering[..at], &rendering[end..]);
            if let Ok(parsed) = outcome::parse(&edited) {
                prop_assert_eq!(parsed.render(), edited);
            }
        }
    }

    /// Arbitrary bytes, and bytes of a real bundle with a few changed, never panic the
    /// verifier and keep its verdicts consistent.
    #[test]
    fn verify_never_panics(
        junk in proptest::collection::vec(any::<u8>(), 0..512),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        assert_invariants(&bundle::verify(&junk));
        let t = text(&[1, 2]);
        let mut bytes = Bundle::build(&t, &[attest(&t, 1, 1), attest(&t, 2, 1)], &certs())
            .to_json()
            .into_bytes();
        for (i, b) in flips {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        assert_invariants(&bundle::verify(&bytes));
    }
}
