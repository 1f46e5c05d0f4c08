//! Admission: how fast one address may open connections.
//!
//! Every accepted connection costs a Noise handshake (key agreement and a signature check)
//! before anything is known of the peer. `connection_limits` bounds how many connections are
//! open; this bounds how fast a single IP address may open new ones, so a host that
//! reconnects in a loop after each refusal cannot keep the node busy with handshakes. A
//! token bucket per IP address is checked when the connection is still pending, before the
//! handshake. Relayed connections are left to the relay's own limits.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// New incoming connections one IP address may open in a burst.
pub const BURST: f64 = 20.0;
/// How often one more is allowed after the burst.
pub const REFILL_EVERY: Duration = Duration::from_secs(2);
/// Buckets kept before full (idle) ones are forgotten.
const MAX_BUCKETS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Refused: too many new connections from one address.
#[derive(Debug, thiserror::Error)]
#[error("too many new connections from {0}; try again later")]
pub struct TooFast(IpAddr);

/// The per-address rate limit on incoming connections.
#[derive(Debug, Default)]
pub struct Admission {
    buckets: HashMap<IpAddr, Bucket>,
}

impl Admission {
    /// Takes one token for `ip` at `now`; false if its bucket is empty.
    pub fn admit(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.buckets.len() >= MAX_BUCKETS {
            self.buckets.retain(|_, b| refilled(*b, now) < BURST);
        }
        let bucket = self.buckets.entry(ip).or_insert(Bucket {
            tokens: BURST,
            at: now,
        });
        let tokens = refilled(*bucket, now);
        if tokens < 1.0 {
            return false;
        }
        *bucket = Bucket {
            tokens: tokens - 1.0,
            at: now,
        };
        true
    }
}

fn refilled(bucket: Bucket, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed / REFILL_EVERY.as_secs_f64()).min(BURST)
}

/// The IP address a connection comes from, unless it is relayed.
fn direct_ip(addr: &Multiaddr) -> Option<IpAddr> {
    if addr.iter().any(|p| matches!(p, Protocol::P2pCircuit)) {
        return None;
    }
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

impl NetworkBehaviour for Admission {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        match direct_ip(remote_addr) {
            Some(ip) if !self.admit(ip, Instant::now()) => {
                tracing::debug!(%ip, "refused a connection: too many from this address");
                Err(ConnectionDenied::new(TooFast(ip)))
            }
            _ => Ok(()),
        }
    }

    fn handle_established_inbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _local_addr: &Multiaddr,
        _remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, _event: FromSwarm) {}

    fn on_connection_handler_event(
        &mut self,
        _peer_id: PeerId,
        _connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(
        &mut self,
        _cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_refill_period_per_address() {
        let mut admission = Admission::default();
        let a: IpAddr = [203, 0, 113, 5].into();
        let b: IpAddr = [198, 51, 100, 7].into();
        let start = Instant::now();
        for _ in 0..BURST as usize {
            assert!(admission.admit(a, start));
        }
        assert!(!admission.admit(a, start), "the burst is spent");
        assert!(
            admission.admit(b, start),
            "another address has its own bucket"
        );
        assert!(!admission.admit(a, start + REFILL_EVERY / 2));
        assert!(admission.admit(a, start + REFILL_EVERY));
        assert!(!admission.admit(a, start + REFILL_EVERY));
    }

    #[test]
    fn relayed_connections_are_left_to_the_relay() {
        let relayed: Multiaddr = "/ip4/203.0.113.5/tcp/4646/p2p/12D3KooWGzBTPFJ7CXC3T6qEsT7FJHgvHRMMPvqXHKiBbVLapxqY/p2p-circuit"
            .parse()
            .expect("addr");
        assert_eq!(direct_ip(&relayed), None);
        let direct: Multiaddr = "/ip4/203.0.113.5/tcp/4646".parse().expect("addr");
        assert_eq!(direct_ip(&direct), Some([203, 0, 113, 5].into()));
    }
}
