//! The test vector in `docs/request-files.md`, rebuilt with confer's own code.
//!
//! The page prints the certificates and revocations a body key signs, field by field, for
//! fixed seeds and values; an independent signer is written from it. This test makes the
//! same structures with `confer_protocol` and requires every hex string the page prints to
//! be what confer makes, so the page and the code cannot drift apart.

use std::path::Path;

use confer_protocol::revocation::{Revocation, Scope};
use confer_protocol::{BodyId, Certificate, Certificates, Role, SecretKey, SpaceId, Subject};

const BODY_NAME: &str = "平湖市政协";

fn docs() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/request-files.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `n` consecutive bytes starting at `first`: the page's `000102…1f` and the like.
fn run(first: u8) -> [u8; 32] {
    std::array::from_fn(|i| first + i as u8)
}

fn be_u32(bytes: &[u8], at: usize) -> usize {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize
}

/// A certificate as the page prints it: one field per line (version, body id, signer, body
/// name, key, subject, then for a member its name, role and can-sign, and for all the
/// issue time and the signature).
fn certificate_lines(bytes: &[u8]) -> String {
    let n = be_u32(bytes, 65);
    let mut cuts = vec![0, 1, 33, 65, 69 + n, 101 + n, 102 + n];
    if bytes[101 + n] == 1 {
        let m = be_u32(bytes, 102 + n);
        cuts.extend([106 + n + m, 108 + n + m, 116 + n + m]);
    } else {
        cuts.push(110 + n);
    }
    cuts.push(bytes.len());
    lines(bytes, &cuts)
}

fn lines(bytes: &[u8], cuts: &[usize]) -> String {
    cuts.windows(2)
        .map(|w| hex::encode(&bytes[w[0]..w[1]]))
        .collect::<Vec<_>>()
        .join("\n")
}

fn signature_hex(bytes: &[u8]) -> String {
    hex::encode(&bytes[bytes.len() - 64..])
}

#[track_caller]
fn assert_in_docs(docs: &str, what: &str, text: &str) {
    assert!(
        docs.contains(text),
        "docs/request-files.md does not print the {what} confer makes:\n{text}"
    );
}

#[test]
fn the_test_vector_in_the_docs_is_what_confer_signs() {
    let docs = docs();
    let body_key = SecretKey::from_seed(run(0x00));
    let body = BodyId(body_key.public());
    let member = SecretKey::from_seed(run(0x20)).public();
    let new_key = SecretKey::from_seed(run(0x80));
    for (what, key) in [
        ("body id", body_key.public()),
        ("member key", member),
        ("new body key", new_key.public()),
    ] {
        assert_in_docs(&docs, what, &format!("`{key}`"));
    }
    let subject = || Subject::Member {
        name: "李四".into(),
        role: Role::SecretaryGeneral,
        can_sign: false,
    };

    // The member certificate, signed by the body id's own key.
    let cert = Certificate::issue_for(body, &body_key, BODY_NAME, member, subject(), 1_800_000_000)
        .expect("issue the member certificate");
    let cert_bytes = cert.encode();
    assert_eq!(cert_bytes.len(), 201);
    assert_eq!(Certificate::decode(&cert_bytes), Ok(cert.clone()));
    assert_in_docs(&docs, "member certificate", &certificate_lines(&cert_bytes));
    assert_in_docs(&docs, "member certificate's length", "(201 bytes;");

    // The revocations of that key: the same 105 bytes first, then scope by scope.
    let agenda = SpaceId(run(0x40));
    let scopes = [
        Scope::Space {
            space: agenda,
            up_to: 3,
        },
        Scope::Later,
        Scope::Fork {
            space: agenda,
            seq: 2,
            stands: run(0x60),
        },
    ];
    let revoke = |scope: Scope, signer: &SecretKey| {
        let bytes = Revocation::unsigned(body, member, 1_800_000_100, scope)
            .sign(signer)
            .expect("sign the revocation")
            .encode();
        let decoded = Revocation::decode(&bytes).expect("a signed revocation decodes");
        assert!(decoded.signer == signer.public() && decoded.encode() == bytes);
        bytes
    };
    for (scope, len) in scopes.into_iter().zip([210, 210, 242]) {
        let bytes = revoke(scope, &body_key);
        assert_eq!(bytes.len(), len);
        assert_in_docs(
            &docs,
            "revocations' first 105 bytes",
            &lines(&bytes, &[0, 1, 33, 65, 97, 105]),
        );
        assert_in_docs(&docs, "revocation signature", &signature_hex(&bytes));
        assert_in_docs(&docs, "revocation length", &format!("| {len} |"));
    }

    // Rotation: the body-key certificate of the new key, and its answer file's field.
    let link = Certificate::issue_for(
        body,
        &body_key,
        BODY_NAME,
        new_key.public(),
        Subject::BodyKey,
        1_800_000_200,
    )
    .expect("issue the body-key certificate");
    let link_bytes = link.encode();
    assert_eq!(link_bytes.len(), 189);
    assert_eq!(Certificate::decode(&link_bytes), Ok(link.clone()));
    assert_in_docs(
        &docs,
        "body-key certificate",
        &certificate_lines(&link_bytes),
    );
    assert_in_docs(&docs, "body-key certificate's length", "(189 bytes.)");
    assert_in_docs(
        &docs,
        "body-key answer",
        &format!(
            "\"kind\": \"body_key\",\n  \"certificate\": \"{}\"",
            hex::encode(&link_bytes)
        ),
    );

    // After it, the new key signs: only the signer field and the signature change.
    let by_new =
        Certificate::issue_for(body, &new_key, BODY_NAME, member, subject(), 1_800_000_000)
            .expect("the new key certifies the member");
    let by_new_bytes = by_new.encode();
    assert_eq!(by_new_bytes.len(), 201);
    assert_eq!(by_new_bytes[..33], cert_bytes[..33]);
    assert_eq!(by_new_bytes[33..65], *new_key.public().as_bytes());
    assert_eq!(by_new_bytes[65..137], cert_bytes[65..137]);
    assert_in_docs(
        &docs,
        "signature by the new key",
        &signature_hex(&by_new_bytes),
    );
    let space_by_new = revoke(scopes[0], &new_key);
    assert_eq!(space_by_new[33..65], *new_key.public().as_bytes());
    assert_in_docs(
        &docs,
        "revocation signature by the new key",
        &signature_hex(&space_by_new),
    );

    // And a node counts what the new key certified once it knows the chain, not before.
    let mut certs = Certificates::new();
    assert!(!certs.insert(by_new.clone()));
    assert!(certs.insert(link));
    assert!(certs.authorised(&new_key.public(), &body));
    assert!(certs.insert(by_new));
    assert!(certs.member_cert(&member, &body).is_some());
}
