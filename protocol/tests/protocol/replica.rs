//! Deterministic `Replica` scenarios, messages passed by hand (through their encoding).

use confer_protocol::model::AgendaEdit;
use confer_protocol::{
    Effects, Event, Limits, Message, PeerKey, Refusal, Replica, SpaceId, SpaceKind,
};

use crate::support;

fn hop(msg: &Message) -> Message {
    Message::decode(&msg.encode()).expect("decodes")
}

fn key(n: u8) -> PeerKey {
    support::node_secret(n).public()
}

/// `x` connects to `y`: hello, ack. Returns what else either side sent.
fn hello(x: &mut Replica, nx: u8, y: &mut Replica, ny: u8) -> Vec<Message> {
    let mut out = Vec::new();
    let fx = x.connected(key(ny));
    for (_, hello) in fx.send {
        let (ack, fy) = y.handle_request(key(nx), hop(&hello));
        out.extend(fy.send.into_iter().map(|(_, m)| m));
        let fx = x.handle_response(key(ny), hop(&ack));
        out.extend(fx.send.into_iter().map(|(_, m)| m));
    }
    out
}

/// Both sides say hello and get the ack; returns what the handshake sent besides.
fn handshake(a: &mut Replica, na: u8, b: &mut Replica, nb: u8) -> Vec<Message> {
    let mut out = hello(a, na, b, nb);
    out.extend(hello(b, nb, a, na));
    out
}

fn rejections(fx: &Effects) -> Vec<&Event> {
    fx.events
        .iter()
        .filter(|e| matches!(e, Event::EntriesRejected { .. }))
        .collect()
}

fn edit(title: &str) -> AgendaEdit {
    AgendaEdit {
        title: Some(title.into()),
        summary: None,
    }
}

/// Space created by node 2 with body 1; node 1 joins through the creation push.
fn joined() -> (Replica, Replica, SpaceId) {
    let mut a = support::replica(1, Limits::default());
    let mut b = support::replica(2, Limits::default());
    assert!(handshake(&mut a, 1, &mut b, 2).is_empty());
    let (space, fx) = b
        .create_space(
            SpaceKind::Agenda,
            &[support::body_id(1)],
            0,
            [5; 16],
            0,
            |tx| edit("开始").apply(tx),
        )
        .expect("create");
    assert_eq!(
        fx.send.len(),
        1,
        "the new space is pushed to the member peer"
    );
    let (to, push) = &fx.send[0];
    assert_eq!(*to, key(1));
    let (ack, fa) = a.handle_request(key(2), hop(push));
    assert!(fa
        .events
        .iter()
        .any(|e| matches!(e, Event::SpaceJoined { .. })));
    assert!(matches!(ack, Message::PushAck { .. }));
    b.handle_response(key(1), hop(&ack));
    assert_eq!(
        a.space(&space).map(|s| s.vector()),
        b.space(&space).map(|s| s.vector())
    );
    (a, b, space)
}

#[test]
fn a_space_is_joined_and_local_changes_are_pushed() {
    let (mut a, mut b, space) = joined();
    let (entry, fx) = a
        .local_change(&space, 1, |tx| edit("第二").apply(tx))
        .expect("edit");
    assert!(entry.is_some());
    assert_eq!(fx.persist.entries.len(), 1);
    let (_, push) = &fx.send[0];
    let (ack, fb) = b.handle_request(key(1), hop(push));
    assert!(rejections(&fb).is_empty());
    assert!(matches!(ack, Message::PushAck { .. }));
    assert_eq!(
        fb.persist.entries.len(),
        1,
        "accepted entries are persisted"
    );
    assert_eq!(
        a.space(&space).map(|s| s.vector()),
        b.space(&space).map(|s| s.vector())
    );
}

/// Two pushes of consecutive entries by a new author, the second overtaking the first (two
/// requests on two streams are not ordered). Certificates go by what the peer confirmed, so
/// the second push carries the author's certificate too and is not rejected.
#[test]
fn a_push_overtaking_the_one_with_the_certificate_is_not_rejected() {
    let (mut a, mut b, space) = joined();
    let (_, fx1) = a
        .local_change(&space, 1, |tx| edit("一").apply(tx))
        .expect("edit");
    let (_, fx2) = a
        .local_change(&space, 2, |tx| edit("二").apply(tx))
        .expect("edit");
    let (Message::Push { certs: c1, .. }, Message::Push { certs: c2, .. }) =
        (&fx1.send[0].1, &fx2.send[0].1)
    else {
        panic!("pushes expected");
    };
    assert_eq!(
        c1.len(),
        1,
        "the first push carries the author's certificate"
    );
    assert_eq!(
        c2.len(),
        1,
        "the second push carries it too: nothing was confirmed yet"
    );
    let (_, fb) = b.handle_request(key(1), hop(&fx2.send[0].1));
    assert!(
        rejections(&fb).is_empty(),
        "an honest peer's entry was rejected: {:?}",
        rejections(&fb)
    );
    let (_, fb) = b.handle_request(key(1), hop(&fx1.send[0].1));
    assert!(rejections(&fb).is_empty());
    assert_eq!(
        a.space(&space).map(|s| s.vector()),
        b.space(&space).map(|s| s.vector()),
        "both entries applied"
    );
}

#[test]
fn a_non_member_never_learns_about_a_space() {
    let (mut a, _b, space) = joined();
    let mut c = support::replica(3, Limits::default());
    let sent = handshake(&mut a, 1, &mut c, 3);
    assert!(
        sent.iter().all(|m| m.space().is_none()),
        "the handshake with a non-member mentions a space: {sent:?}"
    );
    // Even a tick or a local change sends nothing to the non-member.
    let fx = a.tick();
    assert!(fx.send.iter().all(|(peer, _)| *peer != key(3)));
    let (_, fx) = a
        .local_change(&space, 9, |tx| edit("内部").apply(tx))
        .expect("edit");
    assert!(fx.send.iter().all(|(peer, _)| *peer != key(3)));
    // Asking with the genesis (obtained elsewhere) is refused, and reveals nothing.
    let genesis = a.space(&space).expect("space").genesis().clone();
    let ask = Message::SyncRequest {
        space,
        genesis: Some(genesis.clone()),
        vector: Default::default(),
        tips: Default::default(),
    };
    let (reply, _) = a.handle_request(key(3), hop(&ask));
    assert!(
        matches!(
            reply,
            Message::Refused {
                reason: Refusal::NotMember,
                ..
            }
        ),
        "{reply:?}"
    );
    let push = Message::Push {
        space,
        genesis: Some(genesis),
        certs: vec![],
        entries: a.space(&space).expect("space").log().to_vec(),
    };
    let (reply, _) = a.handle_request(key(3), hop(&push));
    assert!(
        matches!(
            reply,
            Message::Refused {
                reason: Refusal::NotMember,
                ..
            }
        ),
        "{reply:?}"
    );
    assert_eq!(
        a.space(&space).expect("space").log().len(),
        2,
        "nothing from the outsider was taken"
    );
    // And a non-member cannot be made to join a space that does not name its body.
    let (reply, fx) = c.handle_request(key(1), hop(&ask_from(&a, space)));
    assert!(
        matches!(
            reply,
            Message::Refused {
                reason: Refusal::NotMember,
                ..
            }
        ),
        "{reply:?}"
    );
    assert!(fx.persist.spaces.is_empty() && c.spaces().next().is_none());
}

fn ask_from(a: &Replica, space: SpaceId) -> Message {
    let s = a.space(&space).expect("space");
    Message::SyncRequest {
        space,
        genesis: Some(s.genesis().clone()),
        vector: s.vector(),
        tips: s.tips(),
    }
}

#[test]
fn an_unidentified_peer_is_asked_to_say_hello() {
    let (a, _b, space) = joined();
    let mut d = support::replica(1, Limits::default());
    // Node 2 never said hello to d.
    let (reply, _) = d.handle_request(key(2), hop(&ask_from(&a, space)));
    assert!(
        matches!(
            reply,
            Message::Refused {
                reason: Refusal::NotIdentified,
                ..
            }
        ),
        "{reply:?}"
    );
    // A hello whose certificate is for another key than the connection's is refused.
    let (reply, _) = d.handle_request(
        key(3),
        Message::Hello {
            node: support::node_cert(2),
            chain: vec![],
        },
    );
    assert!(
        matches!(
            reply,
            Message::Refused {
                reason: Refusal::Invalid,
                ..
            }
        ),
        "{reply:?}"
    );
    // So is a member certificate in place of a node certificate.
    let member_key = support::member_secret(2).public();
    let (reply, _) = d.handle_request(
        member_key,
        Message::Hello {
            node: support::member_cert(2),
            chain: vec![],
        },
    );
    assert!(
        matches!(
            reply,
            Message::Refused {
                reason: Refusal::Invalid,
                ..
            }
        ),
        "{reply:?}"
    );
    assert!(d.peer_body(&key(3)).is_none() && d.peer_body(&member_key).is_none());
}

/// A replica joins a space only if its operator trusts the body that created it: the same
/// push is refused as `Untrusted` by a replica that never added that body, and accepted
/// once it does.
#[test]
fn a_space_from_an_untrusted_body_is_refused_until_trusted() {
    let mut a = support::untrusting_replica(1, Limits::default());
    let mut b = support::replica(2, Limits::default());
    handshake(&mut a, 1, &mut b, 2);
    let (space, fx) = b
        .create_space(
            SpaceKind::Agenda,
            &[support::body_id(1)],
            0,
            [9; 16],
            0,
            |tx| edit("冒名").apply(tx),
        )
        .expect("create");
    let (_, push) = &fx.send[0];
    let (answer, fa) = a.handle_request(key(2), hop(push));
    assert!(
        matches!(
            answer,
            Message::Refused {
                reason: Refusal::Untrusted,
                ..
            }
        ),
        "{answer:?}"
    );
    assert!(
        a.space(&space).is_none(),
        "joined a space from an untrusted body"
    );
    assert!(
        fa.persist.is_empty(),
        "stored something from an untrusted body: {:?}",
        fa.persist
    );
    let fx = a.trust(support::body_id(2));
    assert_eq!(fx.persist.trusted, vec![support::body_id(2)]);
    assert!(
        !fx.persist.certs.is_empty(),
        "the trusted body's node certificate is kept now"
    );
    let (answer, _) = a.handle_request(key(2), hop(push));
    assert!(matches!(answer, Message::PushAck { .. }), "{answer:?}");
    assert!(a.space(&space).is_some());
}

/// Passes every message between two replicas through its encoding until none is left,
/// asserting that each one a replica built is one it would accept (decodes, within the
/// frame limit).
fn run_to_quiet(nodes: &mut [(u8, &mut Replica)], first: Vec<(u8, u8, Message)>) {
    let mut wire = first;
    let mut rounds = 0;
    while let Some((from, to, request)) = wire.pop() {
        rounds += 1;
        assert!(rounds < 10_000, "sync does not quiesce");
        let bytes = request.encode();
        assert!(bytes.len() <= confer_protocol::sync::MAX_MESSAGE_BYTES);
        let request = Message::decode(&bytes).expect("every request built decodes");
        let (i, j) = (
            nodes.iter().position(|(n, _)| *n == to).expect("to"),
            nodes.iter().position(|(n, _)| *n == from).expect("from"),
        );
        let (response, fx) = nodes[i].1.handle_request(key(from), request);
        wire.extend(fx.send.into_iter().map(|(k, m)| (to, peer_n(k), m)));
        let bytes = response.encode();
        assert!(bytes.len() <= confer_protocol::sync::MAX_MESSAGE_BYTES);
        let response = Message::decode(&bytes).expect("every response built decodes");
        let fx = nodes[j].1.handle_response(key(to), response);
        wire.extend(fx.send.into_iter().map(|(k, m)| (from, peer_n(k), m)));
    }
}

fn peer_n(k: PeerKey) -> u8 {
    (1..=8).find(|&n| key(n) == k).expect("a known node")
}

/// A space written by `authors` member keys, alternating between bodies 1 and 2, each key
/// writing one entry; with the certificates for them.
fn many_authors(authors: usize) -> (confer_protocol::Space, Vec<confer_protocol::Certificate>) {
    use automerge::transaction::Transactable;
    let genesis = support::genesis(1, &[2, 3], 9);
    let mut space = confer_protocol::Space::new(genesis);
    let mut certs = Vec::new();
    for i in 0..authors {
        let body = 1 + (i % 2) as u8;
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64 + 1_000).to_be_bytes());
        let author = confer_protocol::SecretKey::from_seed(seed);
        certs.push(
            confer_protocol::Certificate::issue(
                &support::body_secret(body),
                &support::body_name(body),
                author.public(),
                confer_protocol::Subject::member(format!("委员{i}"), confer_protocol::Role::Member),
                0,
            )
            .expect("cert"),
        );
        space
            .local_change(&author, support::body_id(body), i as i64, |tx| {
                tx.put(automerge::ROOT, "summary", format!("委员{i}的意见"))
            })
            .expect("local change")
            .expect("a change");
    }
    (space, certs)
}

/// Review finding: a member certifying more than `MAX_MESSAGE_CERTS` authors made every
/// catch-up response undecodable, so no new member could ever join the space. Responses are
/// now cut so each carries at most that many certificates: a fresh member catches up a
/// space of 1,200 authors (from two bodies: at most 1,024 per body) in several rounds.
#[test]
fn a_fresh_member_catches_up_a_space_whose_authors_need_more_certificates_than_one_message() {
    let authors = confer_protocol::sync::MAX_MESSAGE_CERTS + 176;
    let (space, certs) = many_authors(authors);
    let id = space.id();
    let mut a = support::replica(1, Limits::default());
    for cert in &certs {
        a.add_cert(cert.clone());
    }
    a.insert_space(space);
    let mut c = support::replica(3, Limits::default());
    let mut first: Vec<(u8, u8, Message)> = Vec::new();
    first.extend(a.connected(key(3)).send.into_iter().map(|(_, m)| (1, 3, m)));
    first.extend(c.connected(key(1)).send.into_iter().map(|(_, m)| (3, 1, m)));
    run_to_quiet(&mut [(1, &mut a), (3, &mut c)], first);
    let held = c.space(&id).expect("C joined the space");
    assert_eq!(held.vector().0.len(), authors, "C holds every author");
    assert_eq!(held.vector(), a.space(&id).expect("A's").vector());
    for cert in &certs {
        assert_eq!(
            c.certs().member_cert(&cert.key, &cert.body),
            Some(cert),
            "C learnt every author's certificate"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(6))]
    /// Whatever the batch limits and the number of authors, every message a replica builds
    /// decodes, and a fresh member converges.
    #[test]
    fn every_message_built_decodes(
        authors in 1usize..300,
        batch_entries in 1usize..64,
        batch_bytes in 1usize..20_000,
    ) {
        let (space, certs) = many_authors(authors);
        let id = space.id();
        let limits = Limits { batch_entries, batch_bytes };
        let mut a = support::replica(1, limits);
        for cert in certs {
            a.add_cert(cert);
        }
        a.insert_space(space);
        let mut c = support::replica(3, limits);
        let mut first: Vec<(u8, u8, Message)> = Vec::new();
        first.extend(a.connected(key(3)).send.into_iter().map(|(_, m)| (1, 3, m)));
        first.extend(c.connected(key(1)).send.into_iter().map(|(_, m)| (3, 1, m)));
        run_to_quiet(&mut [(1, &mut a), (3, &mut c)], first);
        proptest::prop_assert_eq!(
            c.space(&id).map(|s| s.vector()),
            a.space(&id).map(|s| s.vector())
        );
    }
}

/// Review finding: a trusted body could create a space with a body this node never
/// trusted, and the node then accepted that body's writes and sent it this body's edits.
/// Now such a space is only an invitation — nothing received, stored or sent — until this
/// body's operator accepts it (or comes to trust every member).
/// Body 2 (`a`, which trusts body 1 but not body 9) and body 1 (`creator`), connected; the
/// creator makes a space with bodies 2 and 9. Returns them, the space and the push of it.
fn invited_with_a_stranger(nonce: u8) -> (Replica, Replica, SpaceId, Message) {
    let mut a = support::untrusting_replica(2, Limits::default());
    let _ = a.trust(support::body_id(1));
    let mut creator = support::replica(1, Limits::default());
    handshake(&mut a, 2, &mut creator, 1);
    let (space, fx) = creator
        .create_space(
            SpaceKind::Agenda,
            &[support::body_id(2), support::body_id(9)],
            0,
            [nonce; 16],
            0,
            |tx| edit("与陌生机构的议题").apply(tx),
        )
        .expect("create");
    let push = fx.send[0].1.clone();
    (a, creator, space, push)
}

#[test]
fn a_space_with_an_untrusted_member_waits_for_acceptance() {
    let (mut a, mut creator, space, push) = invited_with_a_stranger(10);
    let push = &push;
    let (answer, fa) = a.handle_request(key(1), hop(push));
    assert!(
        matches!(
            answer,
            Message::Refused {
                reason: Refusal::NotAccepted,
                ..
            }
        ),
        "{answer:?}"
    );
    assert!(a.space(&space).is_none(), "joined without acceptance");
    assert!(fa.persist.entries.is_empty() && fa.persist.spaces.is_empty());
    assert_eq!(fa.persist.invited.len(), 1, "the invitation is kept");
    assert!(fa.events.iter().any(|e| matches!(
        e,
        Event::SpaceInvited { untrusted, .. } if *untrusted == vec![support::body_id(9)]
    )));
    assert_eq!(a.invitations().count(), 1);
    // Asking again changes nothing.
    let (answer, fa) = a.handle_request(key(1), hop(push));
    assert!(matches!(
        answer,
        Message::Refused {
            reason: Refusal::NotAccepted,
            ..
        }
    ));
    assert!(fa.persist.is_empty());

    // The operator accepts: the space is joined and pulled from the connected member.
    let fx = a.accept(&space).expect("accept");
    assert_eq!(fx.persist.spaces.len(), 1);
    assert!(fx
        .send
        .iter()
        .any(|(to, m)| *to == key(1) && matches!(m, Message::SyncRequest { .. })));
    assert_eq!(a.invitations().count(), 0);
    let (_, request) = &fx.send[0];
    let (response, _) = creator.handle_request(key(2), hop(request));
    a.handle_response(key(1), hop(&response));
    assert_eq!(
        a.space(&space).map(|s| s.vector()),
        creator.space(&space).map(|s| s.vector())
    );
    assert!(a.accept(&space).is_err(), "nothing left to accept");
}

/// An invitation whose untrusted members become trusted needs no acceptance.
#[test]
fn an_invitation_is_joined_once_every_member_is_trusted() {
    let (mut a, _creator, space, push) = invited_with_a_stranger(11);
    a.handle_request(key(1), hop(&push));
    assert!(a.space(&space).is_none());
    let fx = a.trust(support::body_id(9));
    assert_eq!(fx.persist.spaces.len(), 1);
    assert!(a.space(&space).is_some());
}

/// Withdrawing trust: the body introduces no new space, the spaces it shares stay and keep
/// syncing; the node's own body cannot be untrusted.
#[test]
fn an_untrusted_body_introduces_nothing_new_and_shared_spaces_stay() {
    let (mut a, mut b, shared) = joined();
    let fx = a.untrust(&support::body_id(2));
    assert_eq!(fx.persist.untrusted, vec![support::body_id(2)]);
    assert!(a.untrust(&support::body_id(1)).persist.untrusted.is_empty());
    assert!(a.is_trusted(&support::body_id(1)));
    // A new space from body 2 is refused.
    let (_, fx) = b
        .create_space(
            SpaceKind::Agenda,
            &[support::body_id(1)],
            0,
            [12; 16],
            0,
            |tx| edit("不再受信任").apply(tx),
        )
        .expect("create");
    let (answer, fa) = a.handle_request(key(2), hop(&fx.send[0].1));
    assert!(
        matches!(
            answer,
            Message::Refused {
                reason: Refusal::Untrusted,
                ..
            }
        ),
        "{answer:?}"
    );
    assert!(fa.persist.spaces.is_empty());
    // The shared space still syncs.
    let (_, fx) = b
        .local_change(&shared, 5, |tx| edit("仍在同步").apply(tx))
        .expect("edit");
    let (answer, fa) = a.handle_request(key(2), hop(&fx.send[0].1));
    assert!(matches!(answer, Message::PushAck { .. }), "{answer:?}");
    assert_eq!(fa.persist.entries.len(), 1);
}
