//! The gate: how much a node reads from a peer.
//!
//! Any host can reach a node's port, and anyone can make a body key and certify a node with
//! it. So the gate opens only for a peer that proved a body (a node certificate in `Hello`
//! whose key is the connection's key) *this node deals with*: a body its operator trusts or
//! a member of a space it holds. Until then the frame codec reads at most
//! [`MAX_UNPROVEN_FRAME_BYTES`] from the peer — a `Hello`, or a small request to be refused —
//! so a stranger cannot make the node buffer, decode or verify anything large. The event
//! loop opens the gate ([`Gate::open`]) and it closes when the last connection to the peer
//! closes.
//!
//! The frame codec is cloned by libp2p for every connection (and again for every stream
//! of it), without being told the peer. [`GatedSync`] wraps the request-response behaviour
//! and names the peer of the connection being set up ([`Gate::set_connecting`]) just before
//! the inner behaviour clones the codec for it; the clone takes that peer
//! (`FrameCodec::clone`). A codec that never learned its peer reads like one for an
//! unproven peer, so a change in libp2p that breaks this fails closed (and the sync tests
//! fail loudly), never open.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::request_response;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

use super::codec::FrameCodec;

/// Largest frame read from a peer that has not proved its body: a `Hello` carries one node
/// certificate (at most ~1 KiB), so 4 KiB leaves room and nothing else.
pub const MAX_UNPROVEN_FRAME_BYTES: usize = 4 * 1024;

/// How long a large frame from a peer waits for the peer's gate to open. Zero: a node sends
/// nothing but `Hello` before its `Hello` was answered, and the gate opens before that
/// answer leaves, so an honest large frame never finds the gate closed; a stranger's frame is
/// refused at once, its stream buffers freed (measured by `cargo bench --bench flood`).
pub const PROOF_WAIT: Duration = Duration::ZERO;

/// Which peers have proved their body, shared by the event loop and every codec clone.
#[derive(Debug)]
pub struct Gate {
    proven: Mutex<HashSet<PeerId>>,
    connecting: Mutex<Option<PeerId>>,
    /// Bumped whenever a peer is proven, to wake frames waiting for it.
    changed: tokio::sync::watch::Sender<u64>,
    proof_wait: Duration,
}

impl Gate {
    pub fn new() -> Arc<Gate> {
        Gate::with_proof_wait(PROOF_WAIT)
    }

    /// A gate whose large frames wait `proof_wait` for their peer's proof (tests).
    pub fn with_proof_wait(proof_wait: Duration) -> Arc<Gate> {
        Arc::new(Gate {
            proven: Mutex::default(),
            connecting: Mutex::default(),
            changed: tokio::sync::watch::Sender::new(0),
            proof_wait,
        })
    }

    /// The peer proved a body this node deals with: read its frames at full size.
    pub fn open(&self, peer: PeerId) {
        let fresh = self
            .proven
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(peer);
        if fresh {
            self.changed.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Waits up to the proof wait ([`PROOF_WAIT`] by default) for `peer` to be proven; true
    /// if it is.
    pub async fn wait_open(&self, peer: &PeerId) -> bool {
        let mut changes = self.changed.subscribe();
        let wait = async {
            loop {
                if self.is_open(peer) {
                    return true;
                }
                if changes.changed().await.is_err() {
                    return false;
                }
            }
        };
        tokio::time::timeout(self.proof_wait, wait)
            .await
            .unwrap_or(false)
    }

    /// The last connection to the peer closed (or its body is no longer trusted).
    pub fn close(&self, peer: &PeerId) {
        self.proven
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(peer);
    }

    pub fn is_open(&self, peer: &PeerId) -> bool {
        self.proven
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(peer)
    }

    /// Names the peer of the connection whose handler is being built (see the module docs).
    fn set_connecting(&self, peer: Option<PeerId>) {
        *self
            .connecting
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = peer;
    }

    pub(crate) fn connecting(&self) -> Option<PeerId> {
        *self
            .connecting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a frame of `len` bytes may be read from `peer` (`full` being the limit for a
    /// proven peer): at once if small enough, else if the gate is open (waiting up to the
    /// proof wait, [`PROOF_WAIT`] by default, for it to open).
    pub async fn admit_frame(&self, peer: Option<&PeerId>, len: usize, full: usize) -> bool {
        if len > full {
            return false;
        }
        if len <= MAX_UNPROVEN_FRAME_BYTES {
            return true;
        }
        match peer {
            Some(peer) => self.wait_open(peer).await,
            None => false,
        }
    }
}

type Inner = request_response::Behaviour<FrameCodec>;

/// The sync request-response behaviour, with each connection's codec told its peer.
pub struct GatedSync {
    inner: Inner,
    gate: Arc<Gate>,
}

impl GatedSync {
    pub fn new(inner: Inner, gate: Arc<Gate>) -> GatedSync {
        GatedSync { inner, gate }
    }

    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }
}

impl std::ops::Deref for GatedSync {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl std::ops::DerefMut for GatedSync {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.inner
    }
}

impl NetworkBehaviour for GatedSync {
    type ConnectionHandler = <Inner as NetworkBehaviour>::ConnectionHandler;
    type ToSwarm = <Inner as NetworkBehaviour>::ToSwarm;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.inner
            .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.gate.set_connecting(Some(peer));
        let handler = self.inner.handle_established_inbound_connection(
            connection_id,
            peer,
            local_addr,
            remote_addr,
        );
        self.gate.set_connecting(None);
        handler
    }

    fn handle_pending_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        maybe_peer: Option<PeerId>,
        addresses: &[Multiaddr],
        effective_role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        self.inner.handle_pending_outbound_connection(
            connection_id,
            maybe_peer,
            addresses,
            effective_role,
        )
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.gate.set_connecting(Some(peer));
        let handler = self.inner.handle_established_outbound_connection(
            connection_id,
            peer,
            addr,
            role_override,
            port_use,
        );
        self.gate.set_connecting(None);
        handler
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event);
    }

    fn on_connection_handler_event(
        &mut self,
        peer_id: PeerId,
        connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.inner
            .on_connection_handler_event(peer_id, connection_id, event);
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        self.inner.poll(cx)
    }
}
