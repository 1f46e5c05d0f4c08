//! Building the node's libp2p swarm.
//!
//! [`build_swarm`] assembles TCP (Noise + Yamux) and QUIC transports with a [`Behaviour`] made
//! of connection limits (per peer, incoming, pending, and none accepted while the process
//! is near its memory ceiling), the `/confer/sync/1` request-response protocol ([`FrameCodec`]
//! behind the [`super::gate`]), identify (`/confer/id/1`) and ping. Invariants: the node's libp2p identity is always an Ed25519 key
//! (see [`keypair_from_seed`]), so a peer's confer public key can be read straight out of its
//! [`PeerId`] with [`peer_ed25519_key`]; the idle connection timeout is always set explicitly,
//! since libp2p's default closes a connection as soon as no request is in flight.

use std::sync::Arc;
use std::time::Duration;

use libp2p::identity::{Keypair, PublicKey};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    autonat, connection_limits, dcutr, identify, mdns, memory_connection_limits, noise, ping,
    relay, tcp, yamux, PeerId, Swarm, SwarmBuilder,
};

use super::codec::{FrameCodec, SYNC_PROTOCOL};
use super::gate::{Gate, GatedSync};

/// The identify protocol version confer nodes announce.
pub const IDENTIFY_PROTOCOL: &str = "/confer/id/1";

/// Upper bound on concurrent inbound + outbound sync streams per connection.
pub const MAX_CONCURRENT_STREAMS: usize = 32;

/// The node's network behaviour. Field order matters: the limits are asked first, so a
/// connection over a limit is refused before any protocol sets anything up for it.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub admission: super::admission::Admission,
    pub limits: connection_limits::Behaviour,
    pub memory: memory_connection_limits::Behaviour,
    /// Reaching and being reached through a relay (`/p2p-circuit` addresses).
    pub relay_client: relay::client::Behaviour,
    /// Upgrading a relayed connection to a direct one (hole punching).
    pub dcutr: dcutr::Behaviour,
    /// Learning whether this node is reachable from outside.
    pub autonat: autonat::v1::Behaviour,
    /// Finding nodes on the same LAN (off unless enabled).
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    pub sync: GatedSync,
    /// Asking peers their clock, answering theirs (`super::clock`).
    pub clock: request_response::Behaviour<super::clock::TimeCodec>,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
}

/// Network settings.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// How long a connection with no open streams stays up. Default 1 hour.
    pub idle_timeout: Duration,
    /// Timeout for one sync request/response exchange. Default 60 s.
    pub request_timeout: Duration,
    /// Agent string announced via identify, e.g. `confer/0.1.0`.
    pub agent: String,
    /// Most incoming connections being set up at once. Default 32.
    pub max_pending_incoming: u32,
    /// Most established incoming connections. Default 256.
    pub max_established_incoming: u32,
    /// Most connections to one peer. Default 2.
    pub max_per_peer: u32,
    /// No new connection is accepted while the process uses more than this share of the
    /// machine's memory. Default 0.8.
    pub max_memory_fraction: f64,
    /// Announce and discover nodes on the local network with mDNS. Default off.
    pub mdns: bool,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            idle_timeout: Duration::from_secs(60 * 60),
            request_timeout: Duration::from_secs(60),
            agent: format!("confer/{}", env!("CARGO_PKG_VERSION")),
            max_pending_incoming: 32,
            max_established_incoming: 256,
            max_per_peer: 2,
            max_memory_fraction: 0.8,
            mdns: false,
        }
    }
}

/// Errors setting up the network.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The secret key bytes are not a valid Ed25519 secret key.
    #[error("invalid ed25519 secret key: {0}")]
    Key(#[from] libp2p::identity::DecodingError),
    /// The Noise handshake configuration could not be built from the keypair.
    #[error("noise configuration: {0}")]
    Noise(#[from] noise::Error),
    /// The behaviour could not be built (e.g. mDNS found no multicast socket).
    #[error("network behaviour: {0}")]
    Behaviour(String),
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Builds the swarm: TCP + Noise + Yamux and QUIC on tokio, with [`Behaviour`].
/// Must be called inside a tokio runtime. Listening and dialing are left to the caller.
pub fn build_swarm(keypair: Keypair, cfg: &NetConfig) -> Result<Swarm<Behaviour>, NetError> {
    let request_cfg = request_response::Config::default()
        .with_request_timeout(cfg.request_timeout)
        .with_max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    let agent = cfg.agent.clone();
    let idle = cfg.idle_timeout;
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(cfg.max_pending_incoming))
        .with_max_established_incoming(Some(cfg.max_established_incoming))
        .with_max_established_per_peer(Some(cfg.max_per_peer));
    let memory_fraction = cfg.max_memory_fraction;
    let mdns_on = cfg.mdns;
    let gate: Arc<Gate> = Gate::new();
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_quic()
        .with_relay_client(noise::Config::new, yamux::Config::default)?
        .with_behaviour(|key, relay_client| -> Result<Behaviour, BoxError> {
            let local = key.public().to_peer_id();
            let mdns = if mdns_on {
                Some(
                    mdns::tokio::Behaviour::new(mdns::Config::default(), local)
                        .map_err(|e| -> BoxError { format!("mDNS: {e}").into() })?,
                )
            } else {
                None
            };
            Ok(Behaviour {
                admission: super::admission::Admission::default(),
                limits: connection_limits::Behaviour::new(limits),
                memory: memory_connection_limits::Behaviour::with_max_percentage(memory_fraction),
                relay_client,
                dcutr: dcutr::Behaviour::new(local),
                autonat: autonat::v1::Behaviour::new(local, autonat::v1::Config::default()),
                mdns: Toggle::from(mdns),
                sync: GatedSync::new(
                    request_response::Behaviour::with_codec(
                        FrameCodec::new(gate.clone()),
                        [(SYNC_PROTOCOL, ProtocolSupport::Full)],
                        request_cfg,
                    ),
                    gate,
                ),
                clock: request_response::Behaviour::with_codec(
                    super::clock::TimeCodec,
                    [(super::clock::TIME_PROTOCOL, ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(10))
                        .with_max_concurrent_streams(2),
                ),
                identify: identify::Behaviour::new(
                    identify::Config::new(IDENTIFY_PROTOCOL.to_string(), key.public())
                        .with_agent_version(agent),
                ),
                ping: ping::Behaviour::new(ping::Config::new()),
            })
        })
        .map_err(|e| NetError::Behaviour(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build();
    tracing::debug!(peer = %swarm.local_peer_id(), "swarm built");
    Ok(swarm)
}

/// What a relay carries for others: it sees only their encrypted streams. Circuits are
/// long enough for sync (not only for hole punching, libp2p's default of 2 minutes and
/// 128 KiB): one hour and 1 GiB each, at most 256 of them.
fn relay_config() -> relay::Config {
    relay::Config {
        max_reservations: 512,
        max_reservations_per_peer: 4,
        max_circuits: 256,
        max_circuits_per_peer: 16,
        max_circuit_duration: Duration::from_secs(60 * 60),
        max_circuit_bytes: 1024 * 1024 * 1024,
        ..relay::Config::default()
    }
}

/// A relay node's behaviour: connection limits, the relay (v2) service, identify, ping.
#[derive(NetworkBehaviour)]
pub struct RelayBehaviour {
    pub limits: connection_limits::Behaviour,
    pub relay: relay::Behaviour,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
}

/// Builds a relay's swarm (`confer relay`): TCP + Noise + Yamux and QUIC, relaying for any
/// node; it holds no space and proves no body.
pub fn build_relay_swarm(keypair: Keypair) -> Result<Swarm<RelayBehaviour>, NetError> {
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(64))
        .with_max_established_incoming(Some(1024))
        .with_max_established_per_peer(Some(4));
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_quic()
        .with_behaviour(|key| RelayBehaviour {
            limits: connection_limits::Behaviour::new(limits),
            relay: relay::Behaviour::new(key.public().to_peer_id(), relay_config()),
            identify: identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL.to_string(), key.public())
                    .with_agent_version(format!("confer-relay/{}", env!("CARGO_PKG_VERSION"))),
            ),
            ping: ping::Behaviour::new(ping::Config::new()),
        })
        .map_err(|never: std::convert::Infallible| -> NetError { match never {} })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60 * 60)))
        .build();
    Ok(swarm)
}

/// The raw 32-byte Ed25519 public key inside a PeerId, if the peer id is an inlined Ed25519 key
/// (libp2p inlines ed25519 keys: identity multihash of the protobuf-encoded public key).
/// None otherwise.
pub fn peer_ed25519_key(peer: &PeerId) -> Option<[u8; 32]> {
    const IDENTITY_MULTIHASH: u64 = 0x00;
    let mh: &libp2p::multihash::Multihash<64> = peer.as_ref();
    if mh.code() != IDENTITY_MULTIHASH {
        return None;
    }
    let key = PublicKey::try_decode_protobuf(mh.digest()).ok()?;
    Some(key.try_into_ed25519().ok()?.to_bytes())
}

/// A libp2p keypair from a 32-byte Ed25519 secret seed (the node key file holds the seed).
pub fn keypair_from_seed(seed: [u8; 32]) -> Result<Keypair, NetError> {
    let mut seed = seed;
    Ok(Keypair::ed25519_from_bytes(&mut seed)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use futures::StreamExt;
    use libp2p::swarm::SwarmEvent;
    use libp2p::Multiaddr;

    use super::*;

    #[test]
    fn peer_key_matches_seed() {
        let seed = [42u8; 32];
        let kp = keypair_from_seed(seed).unwrap();
        let expected = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        let peer = kp.public().to_peer_id();
        assert_eq!(peer_ed25519_key(&peer), Some(expected));
        // Same seed, same identity.
        assert_eq!(keypair_from_seed(seed).unwrap().public().to_peer_id(), peer);
        // A sha256-hashed peer id (non-inlined) has no extractable key.
        let hashed = PeerId::from_multihash(
            libp2p::multihash::Multihash::<64>::wrap(0x12, &[1u8; 32]).unwrap(),
        )
        .unwrap();
        assert_eq!(peer_ed25519_key(&hashed), None);
    }

    fn test_cfg() -> NetConfig {
        NetConfig {
            request_timeout: Duration::from_secs(10),
            ..NetConfig::default()
        }
    }

    /// B listens on `listen`, A sends a request, B answers, A checks the answer.
    async fn request_response_over(listen: &str) {
        let mut a = build_swarm(keypair_from_seed([1; 32]).unwrap(), &test_cfg()).unwrap();
        let mut b = build_swarm(keypair_from_seed([2; 32]).unwrap(), &test_cfg()).unwrap();
        b.listen_on(listen.parse().unwrap()).unwrap();
        let addr: Multiaddr = loop {
            if let SwarmEvent::NewListenAddr { address, .. } = b.select_next_some().await {
                break address;
            }
        };
        let b_id = *b.local_peer_id();
        // Both have "proved their body" here, so the large response is read.
        a.behaviour().sync.gate().open(b_id);
        b.behaviour().sync.gate().open(*a.local_peer_id());
        let request = b"ping from a".to_vec();
        let big_response: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let sent_id =
            a.behaviour_mut()
                .sync
                .send_request_with_addresses(&b_id, request.clone(), vec![addr]);

        let run = async {
            loop {
                tokio::select! {
                    ev = a.select_next_some() => match ev {
                        SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                            peer,
                            message: request_response::Message::Response { request_id, response },
                            ..
                        })) => {
                            assert_eq!(peer, b_id);
                            assert_eq!(request_id, sent_id);
                            return response;
                        }
                        SwarmEvent::Behaviour(BehaviourEvent::Sync(
                            request_response::Event::OutboundFailure { error, .. },
                        )) => panic!("outbound failure: {error}"),
                        SwarmEvent::OutgoingConnectionError { error, .. } => {
                            panic!("dial failed: {error}")
                        }
                        _ => {}
                    },
                    ev = b.select_next_some() => {
                        if let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                            message: request_response::Message::Request { request: got, channel, .. },
                            ..
                        })) = ev {
                            assert_eq!(got, request);
                            b.behaviour_mut().sync.send_response(channel, big_response.clone()).unwrap();
                        }
                    }
                }
            }
        };
        let response = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .unwrap();
        assert_eq!(response, big_response);
        assert!(a.is_connected(&b_id));
    }

    #[tokio::test]
    async fn request_response_tcp() {
        request_response_over("/ip4/127.0.0.1/tcp/0").await;
    }

    #[tokio::test]
    async fn request_response_quic() {
        request_response_over("/ip4/127.0.0.1/udp/0/quic-v1").await;
    }
}
