//! The libp2p transport for confer's sync protocol.
//!
//! [`codec`] frames each request and response as a big-endian `u32` length followed by that
//! many opaque bytes, never more than [`MAX_MESSAGE_BYTES`]. [`swarm`] builds the swarm:
//! TCP (Noise + Yamux) and QUIC transports, the `/confer/sync/1` request-response protocol,
//! identify and ping. Nothing here knows confer's protocol types: messages are bytes.

pub mod admission;
pub mod clock;
pub mod codec;
pub mod gate;
pub mod ports;
pub mod swarm;

pub use codec::*;
pub use gate::{Gate, GatedSync, MAX_UNPROVEN_FRAME_BYTES};
pub use swarm::*;
