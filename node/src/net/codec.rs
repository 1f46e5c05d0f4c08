//! Length-prefixed byte framing for the `/confer/sync/1` request-response protocol.
//!
//! Every request and response is one frame: a big-endian `u32` length, then exactly that many
//! bytes. Invariant: no frame longer than [`MAX_MESSAGE_BYTES`] is ever written, and a longer
//! length prefix is rejected with [`std::io::ErrorKind::InvalidData`] before any buffer for it
//! is allocated. The buffer for an accepted frame grows only as bytes actually arrive, so a
//! peer cannot make us reserve memory it does not send. A peer that has not proved its body
//! gets a far smaller limit ([`super::gate`]).

use std::io;
use std::sync::Arc;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{PeerId, StreamProtocol};

use super::gate::Gate;

/// The sync protocol's name.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/confer/sync/1");

/// Largest request or response body, in bytes: the protocol's message limit.
pub use confer_protocol::sync::MAX_MESSAGE_BYTES;

/// request-response codec: each message is a u32 big-endian length then that many bytes.
/// Reading a length above the peer's limit ([`MAX_MESSAGE_BYTES`] once it proved its body,
/// [`super::gate::MAX_UNPROVEN_FRAME_BYTES`] before) fails with `io::ErrorKind::InvalidData`
/// before allocating; writing one above [`MAX_MESSAGE_BYTES`] fails too. Request =
/// `Vec<u8>`, Response = `Vec<u8>`.
#[derive(Debug)]
pub struct FrameCodec {
    gate: Arc<Gate>,
    /// The peer of the connection this clone serves (`None` in the behaviour's own copy).
    peer: Option<PeerId>,
}

impl FrameCodec {
    pub fn new(gate: Arc<Gate>) -> FrameCodec {
        FrameCodec { gate, peer: None }
    }

    /// Reads one frame from this codec's peer, within its limit.
    async fn read<T>(&self, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let len = read_prefix(io).await?;
        if !self
            .gate
            .admit_frame(self.peer.as_ref(), len, MAX_MESSAGE_BYTES)
            .await
        {
            let limit = if len > MAX_MESSAGE_BYTES {
                MAX_MESSAGE_BYTES
            } else {
                super::gate::MAX_UNPROVEN_FRAME_BYTES
            };
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("frame of {len} bytes exceeds the limit of {limit} for this peer"),
            ));
        }
        read_body(io, len).await
    }
}

impl Clone for FrameCodec {
    /// A clone made while a connection's handler is built serves that connection's peer;
    /// clones of a connection's codec (one per stream) keep its peer.
    fn clone(&self) -> Self {
        FrameCodec {
            gate: self.gate.clone(),
            peer: self.peer.or_else(|| self.gate.connecting()),
        }
    }
}

/// Reads one frame of at most `limit` bytes.
pub async fn read_frame<T>(io: &mut T, limit: usize) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let len = read_prefix(io).await?;
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the limit of {limit}"),
        ));
    }
    read_body(io, len).await
}

async fn read_prefix<T>(io: &mut T) -> io::Result<usize>
where
    T: AsyncRead + Unpin + Send,
{
    let mut prefix = [0u8; 4];
    io.read_exact(&mut prefix).await?;
    Ok(u32::from_be_bytes(prefix) as usize)
}

/// Reads a frame's `len` bytes (already admitted).
async fn read_body<T>(io: &mut T, len: usize) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    // Grow with the data actually received rather than trusting the prefix up front.
    let mut buf = Vec::with_capacity(len.min(64 * 1024));
    io.take(len as u64).read_to_end(&mut buf).await?;
    if buf.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("frame truncated: got {} of {len} bytes", buf.len()),
        ));
    }
    Ok(buf)
}

/// Writes one frame and flushes.
pub async fn write_frame<T>(io: &mut T, body: &[u8]) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "frame of {} bytes exceeds the limit of {MAX_MESSAGE_BYTES}",
                body.len()
            ),
        ));
    }
    // Checked above: MAX_MESSAGE_BYTES fits in a u32.
    let len = u32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "frame too long"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(body).await?;
    io.flush().await
}

impl libp2p::request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.read(io).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.read(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use futures::io::Cursor;
    use libp2p::request_response::Codec;

    use super::*;

    /// A codec serving a peer that proved its body.
    fn proven() -> FrameCodec {
        let gate = Gate::new();
        let peer = PeerId::random();
        gate.open(peer);
        FrameCodec {
            gate,
            peer: Some(peer),
        }
    }

    #[tokio::test]
    async fn an_unproven_peer_gets_only_small_frames() {
        let gate = Gate::with_proof_wait(std::time::Duration::from_millis(200));
        let peer = PeerId::random();
        let mut codec = FrameCodec {
            gate: gate.clone(),
            peer: Some(peer),
        };
        let mut big = 5000u32.to_be_bytes().to_vec();
        big.extend(vec![0u8; 5000]);
        let mut small = 100u32.to_be_bytes().to_vec();
        small.extend(vec![0u8; 100]);
        // A Hello-sized frame is read from anyone.
        let got = codec
            .read_request(&SYNC_PROTOCOL, &mut Cursor::new(small))
            .await
            .unwrap();
        assert_eq!(got.len(), 100);
        // A larger one is refused if the peer does not prove its body in time.
        let err = codec
            .read_request(&SYNC_PROTOCOL, &mut Cursor::new(big.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // The behaviour's own copy (no peer) reads like an unproven peer: fails closed.
        let mut root = FrameCodec::new(gate.clone());
        assert!(root
            .read_request(&SYNC_PROTOCOL, &mut Cursor::new(big.clone()))
            .await
            .is_err());
        // A frame that arrives before its sender's Hello was handled waits for it.
        let slow = Gate::with_proof_wait(std::time::Duration::from_secs(30));
        let mut waiting = FrameCodec {
            gate: slow.clone(),
            peer: Some(peer),
        };
        let prover = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            slow.open(peer);
        });
        let got = waiting
            .read_request(&SYNC_PROTOCOL, &mut Cursor::new(big.clone()))
            .await
            .unwrap();
        assert_eq!(got.len(), 5000);
        prover.await.unwrap();
        // Once proven, read at once; after the peer is forgotten, refused again.
        gate.open(peer);
        assert!(codec
            .read_request(&SYNC_PROTOCOL, &mut Cursor::new(big.clone()))
            .await
            .is_ok());
        gate.close(&peer);
        assert!(codec
            .read_request(&SYNC_PROTOCOL, &mut Cursor::new(big))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn round_trip() {
        let mut codec = proven();
        let mut out = Cursor::new(Vec::new());
        codec
            .write_request(&SYNC_PROTOCOL, &mut out, b"hello".to_vec())
            .await
            .unwrap();
        codec
            .write_response(&SYNC_PROTOCOL, &mut out, Vec::new())
            .await
            .unwrap();
        let big = vec![7u8; 200_000];
        codec
            .write_request(&SYNC_PROTOCOL, &mut out, big.clone())
            .await
            .unwrap();
        let bytes = out.into_inner();
        assert_eq!(&bytes[..9], b"\0\0\0\x05hello");

        let mut input = Cursor::new(bytes);
        let a = codec
            .read_request(&SYNC_PROTOCOL, &mut input)
            .await
            .unwrap();
        let b = codec
            .read_response(&SYNC_PROTOCOL, &mut input)
            .await
            .unwrap();
        let c = codec
            .read_request(&SYNC_PROTOCOL, &mut input)
            .await
            .unwrap();
        assert_eq!(a, b"hello");
        assert!(b.is_empty());
        assert_eq!(c, big);
        // Nothing left: reading again is an EOF error.
        let err = codec
            .read_request(&SYNC_PROTOCOL, &mut input)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn oversized_length_rejected_before_allocating() {
        let mut codec = proven();
        // Prefix claims u32::MAX bytes; no body follows. If the codec allocated or waited for
        // the body this would fail differently (EOF) or abort.
        let mut input = Cursor::new(u32::MAX.to_be_bytes().to_vec());
        let err = codec
            .read_request(&SYNC_PROTOCOL, &mut input)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);

        let just_over = (MAX_MESSAGE_BYTES as u32 + 1).to_be_bytes().to_vec();
        let err = codec
            .read_response(&SYNC_PROTOCOL, &mut Cursor::new(just_over))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[tokio::test]
    async fn oversized_write_rejected() {
        let mut codec = proven();
        let mut out = Cursor::new(Vec::new());
        let err = codec
            .write_response(&SYNC_PROTOCOL, &mut out, vec![0; MAX_MESSAGE_BYTES + 1])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(out.into_inner().is_empty(), "nothing written");
    }

    #[tokio::test]
    async fn truncated_frame_is_error() {
        let mut codec = proven();
        let mut bytes = 10u32.to_be_bytes().to_vec();
        bytes.extend_from_slice(b"short");
        let err = codec
            .read_request(&SYNC_PROTOCOL, &mut Cursor::new(bytes))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

        // Truncated inside the length prefix.
        let err = codec
            .read_request(&SYNC_PROTOCOL, &mut Cursor::new(vec![0u8, 0]))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
