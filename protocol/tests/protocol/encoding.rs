//! Canonical encodings: round trips, canonical re-encoding, robustness against arbitrary and
//! truncated input, and single-bit flips in signed structures.

use confer_protocol::cert::{CertError, MAX_CERT_BYTES, MAX_NAME_BYTES};
use confer_protocol::entry::EntryError;
use confer_protocol::space::{SpaceError, Tips, TIP_BYTES};
use confer_protocol::sync::MessageError;
use confer_protocol::wire::{DecodeError, Reader, Writer};
use confer_protocol::{
    BodyId, Certificate, Entry, Genesis, Message, PublicKey, Refusal, Role, SecretKey, SpaceId,
    SpaceKind, Subject, Vector,
};
use proptest::prelude::*;

use crate::support::{self, POOL};

fn name() -> impl Strategy<Value = String> {
    // ASCII, any printable text, and Chinese; at most 80 chars keeps Chinese (3 bytes each)
    // under the 256-byte limit.
    prop_oneof![
        "[a-zA-Z0-9 ]{0,40}",
        "\\PC{0,60}",
        "[\u{4e00}-\u{9fa5}]{0,80}",
    ]
    .prop_filter("fits the name limit", |s| s.len() <= MAX_NAME_BYTES)
    .prop_filter("a clean name", |s| confer_protocol::text::is_clean_name(s))
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        (
            name(),
            proptest::sample::select(Role::ALL.to_vec()),
            any::<bool>()
        )
            .prop_map(|(name, role, can_sign)| Subject::Member {
                name,
                role,
                can_sign
            }),
        Just(Subject::Node),
    ]
}

fn certificate() -> impl Strategy<Value = Certificate> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        name(),
        subject(),
        any::<u64>(),
    )
        .prop_map(|(body, key, body_name, subject, at)| {
            Certificate::issue(
                &SecretKey::from_seed(body),
                &body_name,
                SecretKey::from_seed(key).public(),
                subject,
                at,
            )
            .expect("names fit")
        })
}

fn genesis() -> impl Strategy<Value = Genesis> {
    (
        any::<u8>().prop_map(|b| b % 64),
        proptest::collection::vec(any::<[u8; 32]>(), 0..12),
        any::<u64>(),
        any::<[u8; 16]>(),
    )
        .prop_map(|(creator, others, at, nonce)| {
            let members: Vec<BodyId> = others
                .iter()
                .map(|s| BodyId(PublicKey::from_bytes(*s)))
                .collect();
            Genesis::create(
                SpaceKind::Agenda,
                &members,
                at,
                nonce,
                support::member_cert(creator),
                &support::member_secret(creator),
            )
            .expect("genesis")
        })
}

fn vector() -> impl Strategy<Value = Vector> {
    proptest::collection::btree_map(
        any::<[u8; 32]>().prop_map(PublicKey::from_bytes),
        any::<u64>(),
        0..20,
    )
    .prop_map(Vector)
}

/// A vector and tips for some of its authors (tips are sent per author of the vector; an
/// all-zero tip means "none").
fn vector_and_tips() -> impl Strategy<Value = (Vector, Tips)> {
    proptest::collection::btree_map(
        any::<[u8; 32]>().prop_map(PublicKey::from_bytes),
        (any::<u64>(), proptest::option::of(any::<[u8; TIP_BYTES]>())),
        0..20,
    )
    .prop_map(|map| {
        let vector = Vector(map.iter().map(|(a, (s, _))| (*a, *s)).collect());
        let tips = map
            .iter()
            .filter_map(|(a, (_, t))| t.filter(|t| *t != [0; TIP_BYTES]).map(|t| (*a, t)))
            .collect();
        (vector, Tips(tips))
    })
}

fn encode_vector(v: &Vector) -> Vec<u8> {
    let mut w = Writer::new();
    v.encode_into(&mut w);
    w.finish()
}

fn decode_vector(bytes: &[u8]) -> Result<Vector, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = Vector::decode_from(&mut r)?;
    r.finish()?;
    Ok(v)
}

fn refusal() -> impl Strategy<Value = Refusal> {
    prop_oneof![
        Just(Refusal::NotIdentified),
        Just(Refusal::NotMember),
        Just(Refusal::UnknownSpace),
        Just(Refusal::Invalid)
    ]
}

/// A subset of the pool's entries, in pool order.
fn entries() -> impl Strategy<Value = Vec<Entry>> {
    proptest::collection::vec(any::<bool>(), POOL.entries.len()).prop_map(|keep| {
        POOL.entries
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(e, _)| e.clone())
            .collect()
    })
}

fn certs() -> impl Strategy<Value = Vec<Certificate>> {
    proptest::collection::vec(certificate(), 0..4)
}

fn message() -> impl Strategy<Value = Message> {
    let space = any::<[u8; 32]>().prop_map(SpaceId);
    let genesis_and_id = prop_oneof![
        genesis().prop_map(|g| (g.id(), Some(g))),
        any::<[u8; 32]>().prop_map(|id| (SpaceId(id), None)),
    ];
    prop_oneof![
        certificate().prop_map(|node| Message::Hello {
            node,
            chain: vec![]
        }),
        certificate().prop_map(|node| Message::HelloAck {
            node,
            chain: vec![]
        }),
        (genesis_and_id.clone(), vector_and_tips()).prop_map(
            |((space, genesis), (vector, tips))| Message::SyncRequest {
                space,
                genesis,
                vector,
                tips,
            }
        ),
        (
            space.clone(),
            vector_and_tips(),
            certs(),
            entries(),
            any::<bool>()
        )
            .prop_map(|(space, (vector, tips), certs, entries, more)| {
                Message::SyncResponse {
                    space,
                    vector,
                    tips,
                    certs,
                    entries,
                    more,
                }
            }),
        (genesis_and_id, certs(), entries()).prop_map(|((space, genesis), certs, entries)| {
            Message::Push {
                space,
                genesis,
                certs,
                entries,
            }
        }),
        (space.clone(), vector()).prop_map(|(space, vector)| Message::PushAck { space, vector }),
        (proptest::option::of(space), refusal(), "\\PC{0,100}").prop_map(
            |(space, reason, detail)| Message::Refused {
                space,
                reason,
                detail
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn certificate_round_trips(cert in certificate()) {
        let bytes = cert.encode();
        prop_assert!(bytes.len() <= MAX_CERT_BYTES);
        let decoded = Certificate::decode(&bytes).expect("decodes");
        prop_assert_eq!(&decoded, &cert);
        prop_assert_eq!(decoded.encode(), bytes);
    }

    #[test]
    fn genesis_round_trips(genesis in genesis()) {
        let bytes = genesis.encode();
        let decoded = Genesis::decode(&bytes).expect("decodes");
        prop_assert_eq!(&decoded, &genesis);
        prop_assert_eq!(decoded.id(), genesis.id());
        prop_assert_eq!(decoded.encode(), bytes);
        prop_assert!(decoded.members.windows(2).all(|w| w[0] < w[1]), "members sorted and unique");
        prop_assert!(decoded.is_member(&genesis.creator.body));
    }

    #[test]
    fn vector_round_trips(v in vector()) {
        let bytes = encode_vector(&v);
        let decoded = decode_vector(&bytes).expect("decodes");
        prop_assert_eq!(&decoded, &v);
        prop_assert_eq!(encode_vector(&decoded), bytes);
    }

    #[test]
    fn message_round_trips(msg in message()) {
        let bytes = msg.encode();
        let decoded = Message::decode(&bytes).expect("decodes");
        prop_assert_eq!(&decoded, &msg);
        prop_assert_eq!(decoded.encode(), bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Message::decode(&bytes);
        let _ = Entry::decode(bytes.clone());
        let _ = Certificate::decode(&bytes);
        let _ = Genesis::decode(&bytes);
        let _ = decode_vector(&bytes);
    }

    /// Random bytes behind a valid prefix reach deeper into the decoders than pure noise.
    #[test]
    fn arbitrary_bodies_never_panic(kind in 0u8..12, tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = vec![1, kind];
        bytes.extend_from_slice(&tail);
        let _ = Message::decode(&bytes);
        let _ = Entry::decode(bytes.clone());
        let _ = Certificate::decode(&bytes);
        let _ = Genesis::decode(&bytes);
    }

    /// Valid encodings with a few bytes overwritten, inserted or removed.
    #[test]
    fn mutated_encodings_never_panic(
        which in 0usize..64,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6),
    ) {
        let messages = support::sample_messages();
        let mut pool: Vec<Vec<u8>> = messages.iter().map(Message::encode).collect();
        pool.extend(POOL.entries.iter().map(|e| e.bytes().to_vec()));
        pool.push(POOL.genesis.encode());
        pool.push(POOL.certs[0].encode());
        let mut bytes = pool[which % pool.len()].clone();
        for (at, op, byte) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        let _ = Message::decode(&bytes);
        if let Ok(entry) = Entry::decode(bytes.clone()) {
            // If it still decodes it is either the same entry or its signature fails.
            if !POOL.entries.iter().any(|e| e.bytes() == entry.bytes()) {
                prop_assert!(entry.verify().is_err(), "a mutated entry verifies");
            }
        }
        let _ = Certificate::decode(&bytes);
        let _ = Genesis::decode(&bytes);
    }
}

fn entry_incomplete(e: &EntryError) -> bool {
    matches!(e, EntryError::Decode(DecodeError::Incomplete))
}

fn cert_incomplete(e: &CertError) -> bool {
    matches!(e, CertError::Decode(DecodeError::Incomplete))
}

/// True if the message error says "the input ends early", at whatever depth.
fn message_incomplete(e: &MessageError) -> bool {
    match e {
        MessageError::Decode(d) => *d == DecodeError::Incomplete,
        MessageError::Cert(c) => cert_incomplete(c),
        MessageError::Genesis(SpaceError::Decode(d)) => *d == DecodeError::Incomplete,
        MessageError::Genesis(SpaceError::Cert(c)) => cert_incomplete(c),
        MessageError::Entry(e) => entry_incomplete(e),
        _ => false,
    }
}

#[test]
fn every_message_kind_round_trips_canonically() {
    let messages = support::sample_messages();
    let kinds: std::collections::BTreeSet<&str> = messages.iter().map(Message::kind).collect();
    assert_eq!(kinds.len(), 10, "the samples cover every message kind");
    let listed: std::collections::BTreeSet<&str> = Message::KINDS.into_iter().collect();
    assert_eq!(kinds, listed, "Message::KINDS lists every kind");
    for msg in &messages {
        let bytes = msg.encode();
        let decoded = Message::decode(&bytes)
            .unwrap_or_else(|e| panic!("{} does not decode: {e}", msg.kind()));
        assert_eq!(&decoded, msg);
        assert_eq!(
            decoded.encode(),
            bytes,
            "{} re-encodes differently",
            msg.kind()
        );
        assert_eq!(decoded.space(), msg.space());
    }
}

#[test]
fn truncated_messages_are_incomplete() {
    // Every prefix of one message of every kind (cheap since the crypto crates are built
    // optimised in dev profiles, see the root Cargo.toml).
    for msg in support::sample_messages() {
        let bytes = msg.encode();
        assert_eq!(Message::decode(&bytes).as_ref(), Ok(&msg));
        for len in 0..bytes.len() {
            match Message::decode(&bytes[..len]) {
                Ok(_) => panic!(
                    "{} truncated to {len} of {} bytes decodes",
                    msg.kind(),
                    bytes.len()
                ),
                Err(e) => assert!(
                    message_incomplete(&e),
                    "{} truncated to {len} of {} bytes: {e:?} is not 'incomplete'",
                    msg.kind(),
                    bytes.len()
                ),
            }
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(
            Message::decode(&longer).is_err(),
            "{} with a trailing byte decodes",
            msg.kind()
        );
    }
}

#[test]
fn truncated_entries_certificates_and_geneses_are_errors() {
    for entry in &POOL.entries {
        let bytes = entry.bytes();
        for len in 0..bytes.len() {
            let e = Entry::decode(bytes[..len].to_vec()).expect_err("truncated entry decodes");
            assert!(entry_incomplete(&e), "entry truncated to {len}: {e:?}");
        }
    }
    let bytes = POOL.certs[0].encode();
    for len in 0..bytes.len() {
        let e = Certificate::decode(&bytes[..len]).expect_err("truncated certificate decodes");
        assert!(cert_incomplete(&e), "certificate truncated to {len}: {e:?}");
    }
    let bytes = POOL.genesis.encode();
    for len in 0..bytes.len() {
        Genesis::decode(&bytes[..len]).expect_err("truncated genesis decodes");
    }
}

#[test]
fn non_canonical_encodings_are_refused() {
    // A vector whose authors are out of order, or repeated.
    let a = PublicKey::from_bytes([1; 32]);
    let b = PublicKey::from_bytes([2; 32]);
    for authors in [[b, a], [a, a]] {
        let mut w = Writer::new();
        w.u32(2);
        for author in authors {
            w.raw(author.as_bytes()).u64(1);
        }
        assert!(
            decode_vector(&w.finish()).is_err(),
            "unsorted vector accepted"
        );
    }
    // A boolean flag other than 0 or 1.
    let msg = Message::SyncResponse {
        space: POOL.genesis.id(),
        vector: Vector::default(),
        tips: Tips::default(),
        certs: vec![],
        entries: vec![],
        more: true,
    };
    let mut bytes = msg.encode();
    *bytes.last_mut().expect("non-empty") = 2;
    assert!(Message::decode(&bytes).is_err(), "flag 2 accepted");
    // A genesis that does not belong to the space id it is sent for.
    let msg = Message::SyncRequest {
        space: SpaceId([9; 32]),
        genesis: Some(POOL.genesis.clone()),
        vector: Vector::default(),
        tips: Tips::default(),
    };
    assert_eq!(
        Message::decode(&msg.encode()),
        Err(MessageError::GenesisMismatch)
    );
    // Names over the limit cannot be issued.
    let long = "长".repeat(MAX_NAME_BYTES / 3 + 1);
    let err = Certificate::issue(
        &support::body_secret(1),
        &long,
        support::member_secret(1).public(),
        Subject::Node,
        0,
    )
    .expect_err("long name issued");
    assert_eq!(err, CertError::NameTooLong);
    let exact = "a".repeat(MAX_NAME_BYTES);
    let cert = Certificate::issue(
        &support::body_secret(1),
        &exact,
        support::member_secret(1).public(),
        Subject::Member {
            name: exact.clone(),
            role: Role::ViceChair,
            can_sign: true,
        },
        u64::MAX,
    )
    .expect("names at the limit");
    assert_eq!(cert.encode().len(), MAX_CERT_BYTES);
    assert_eq!(Certificate::decode(&cert.encode()), Ok(cert));
}

/// Every single-bit flip of `bytes` must be refused by `accepts` returning false.
fn assert_every_flip_refused(what: &str, bytes: &[u8], accepts: impl Fn(Vec<u8>) -> bool) {
    for bit in 0..bytes.len() * 8 {
        let mut bad = bytes.to_vec();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(
            !accepts(bad),
            "{what}: flipping bit {bit} (byte {}) of {} is accepted",
            bit / 8,
            bytes.len()
        );
    }
}

#[test]
fn flipped_bits_in_an_entry_are_refused() {
    // A small entry: one short field in an otherwise empty document.
    let genesis = support::genesis(4, &[], 1);
    let mut space = confer_protocol::Space::new(genesis);
    let entry = space
        .local_change(&support::member_secret(4), support::body_id(4), 0, |tx| {
            automerge::transaction::Transactable::put(tx, automerge::ROOT, "title", "x")
        })
        .expect("change")
        .expect("not empty");
    assert!(entry.verify().is_ok());
    let original = entry.bytes().to_vec();
    assert_every_flip_refused("entry", &original, |bad| match Entry::decode(bad) {
        Ok(decoded) => decoded.verify().is_ok(),
        Err(_) => false,
    });
}

/// The node certificate (the unit tests in cert.rs flip every bit of a member certificate).
#[test]
fn flipped_bits_in_a_certificate_are_refused() {
    let cert = support::node_cert(5);
    assert_every_flip_refused("certificate", &cert.encode(), |bad| {
        Certificate::decode(&bad).is_ok()
    });
}

/// Every bit outside the embedded creator certificate, and one bit of every byte inside it
/// (the certificate's own bits are covered exhaustively above; each decode that gets as far
/// as the signatures costs two verifications, milliseconds each in a debug build).
#[test]
fn flipped_bits_in_a_genesis_are_refused() {
    let creator = Certificate::issue(
        &support::body_secret(2),
        "b",
        support::member_secret(2).public(),
        Subject::member("m", Role::Staff),
        0,
    )
    .expect("certificate");
    let genesis = Genesis::create(
        SpaceKind::Agenda,
        &[support::body_id(1)],
        0,
        [0; 16],
        creator.clone(),
        &support::member_secret(2),
    )
    .expect("genesis");
    let bytes = genesis.encode();
    assert_eq!(Genesis::decode(&bytes).as_ref(), Ok(&genesis));
    let cert_bytes = creator.encode();
    let cert_at = bytes
        .windows(cert_bytes.len())
        .position(|w| w == cert_bytes.as_slice())
        .expect("certificate inside the genesis");
    let cert_range = cert_at..cert_at + cert_bytes.len();
    let mut flipped = 0;
    for bit in 0..bytes.len() * 8 {
        let byte = bit / 8;
        if cert_range.contains(&byte) && bit % 8 != byte % 8 {
            continue;
        }
        let mut bad = bytes.clone();
        bad[byte] ^= 1 << (bit % 8);
        assert!(
            Genesis::decode(&bad).is_err(),
            "genesis: flipping bit {bit} (byte {byte}) is accepted"
        );
        flipped += 1;
    }
    assert!(flipped > 8 * (bytes.len() - cert_bytes.len()));
}
