//! confer's core, without I/O: identities and certificates, the signed entry, spaces and
//! their validation pipeline, the sync protocol as a state machine, and the consultation
//! model on top of automerge.
//!
//! This crate never touches the network, the disk, the clock or the OS random source:
//! time and randomness come in as arguments, and [`replica::Replica`] turns events into
//! effects that the node carries out.
//!
//! Two bodies, a joint agenda, and the messages between them — the transport here is a
//! vector, where the node uses libp2p (and persists each `Effects::persist` durably before
//! it answers or sends):
//!
//! ```
//! use confer_protocol::model::{read_agenda, AgendaEdit};
//! use confer_protocol::{Certificate, Identity, Role, Limits, Message, PeerKey, Replica, SecretKey, SpaceKind, Subject};
//!
//! // A body key certifies a member key (signs entries) and a node key (the transport identity).
//! fn identity(n: u8, body_name: &str) -> Identity {
//!     let body = SecretKey::from_seed([n; 32]);
//!     let member = SecretKey::from_seed([n + 100; 32]);
//!     let node = SecretKey::from_seed([n + 200; 32]);
//!     let staff = Subject::member("秘书处", Role::Staff);
//!     Identity {
//!         member_cert: Certificate::issue(&body, body_name, member.public(), staff, 0).unwrap(),
//!         node_cert: Certificate::issue(&body, body_name, node.public(), Subject::Node, 0).unwrap(),
//!         member,
//!     }
//! }
//! let mut pinghu = Replica::new(identity(1, "平湖市政协"), Limits::default());
//! let mut jinshan = Replica::new(identity(2, "金山区政协"), Limits::default());
//! let (p, j) = (pinghu.identity().node_cert.key, jinshan.identity().node_cert.key);
//! // Each committee's operator has added the other's node: each trusts the other's body.
//! let _ = pinghu.trust(jinshan.identity().body());
//! let _ = jinshan.trust(pinghu.identity().body());
//!
//! // 平湖 creates a joint agenda with 金山, before they are connected.
//! let edit = AgendaEdit { title: Some("跨界河道水环境联防联治".into()), summary: None };
//! let with = [jinshan.identity().body()];
//! let (space, _) = pinghu.create_space(SpaceKind::Agenda, &with, 0, [0; 16], 0, |tx| edit.apply(tx)).unwrap();
//!
//! // They connect: every request goes over the "wire" as bytes and is answered.
//! let mut wire: Vec<(PeerKey, PeerKey, Message)> = Vec::new();
//! wire.extend(pinghu.connected(j).send.into_iter().map(|(to, m)| (p, to, m)));
//! wire.extend(jinshan.connected(p).send.into_iter().map(|(to, m)| (j, to, m)));
//! while let Some((from, to, request)) = wire.pop() {
//!     let (receiver, sender) = if to == p { (&mut pinghu, &mut jinshan) } else { (&mut jinshan, &mut pinghu) };
//!     let (response, fx) = receiver.handle_request(from, Message::decode(&request.encode()).unwrap());
//!     wire.extend(fx.send.into_iter().map(|(t, m)| (to, t, m)));
//!     let fx = sender.handle_response(to, Message::decode(&response.encode()).unwrap());
//!     wire.extend(fx.send.into_iter().map(|(t, m)| (from, t, m)));
//! }
//!
//! // 金山 now holds the agenda, attributed to 平湖's member, with the same state.
//! let view = |r: &Replica| {
//!     let s = r.space(&space).unwrap();
//!     read_agenda(s, r.certs())
//! };
//! assert_eq!(view(&jinshan).text("title"), "跨界河道水环境联防联治");
//! assert_eq!(view(&jinshan).field("title").unwrap().current.as_ref().unwrap().body_name.as_deref(), Some("平湖市政协"));
//! assert_eq!(view(&pinghu), view(&jinshan));
//! ```

pub mod cert;
pub mod chunk;
pub mod entry;
pub mod keys;
pub mod membership;
pub mod model;
pub mod replica;
pub mod revocation;
pub mod space;
pub mod sync;
pub mod text;
pub mod wire;

pub use cert::{BodyId, Certificate, Certificates, Role, Subject};
pub use entry::{Entry, EntryHash};
pub use keys::{PublicKey, SecretKey, Signature};
pub use replica::{
    Effects, Event, Identity, Limits, PeerKey, Persist, Replica, ReplicaError, Sent,
};
pub use space::{Equivocation, Genesis, Space, SpaceId, SpaceKind, Vector};
pub use sync::{Message, Refusal};
