//! confer's core, without I/O: identities and certificates, the signed entry, spaces and
//! their validation pipeline, the sync protocol as a state machine, and the consultation
//! model on top of automerge.
//!
//! This crate never touches the network, the disk, the clock or the OS random source:
//! time and randomness come in as arguments, and [`replica::Replica`] turns events into
//! effects that the node carries out.

pub mod cert;
pub mod entry;
pub mod keys;
pub mod model;
pub mod replica;
pub mod space;
pub mod sync;
pub mod wire;

pub use cert::{BodyId, Certificate, Certificates, Subject};
pub use entry::{Entry, EntryHash};
pub use keys::{PublicKey, SecretKey, Signature};
pub use replica::{Effects, Event, Identity, Limits, PeerKey, Persist, Replica, ReplicaError};
pub use space::{Equivocation, Genesis, Space, SpaceId, SpaceKind, Vector};
pub use sync::{Message, Refusal};
