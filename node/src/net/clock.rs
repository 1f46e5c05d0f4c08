//! `/confer/time/1`: a peer's clock, for `confer doctor`'s skew check. Nothing in sync
//! depends on a clock (an entry counts or not whatever the time), so this is a protocol of
//! its own beside sync, not a sync message: a request is empty, the answer is the
//! answerer's wall clock as 8 bytes, big-endian milliseconds since the Unix epoch. The node
//! asks each peer once it proved its body, and answers only peers that proved theirs. The
//! skew is the peer's reading minus the middle of the round trip here ([`skew_ms`]); it is
//! off by at most half the round trip. A peer on a release without the protocol refuses
//! the stream, and its clock stays unknown.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response;
use libp2p::StreamProtocol;

/// The protocol's name.
pub const TIME_PROTOCOL: StreamProtocol = StreamProtocol::new("/confer/time/1");

/// A skew above this (ten seconds) is logged and makes `confer doctor` warn; NTP keeps
/// clocks well within it.
pub const NOTABLE_SKEW_MS: u64 = 10_000;
/// A skew above this (one hour) is a failure for `confer doctor`: dates this node writes
/// and reads ("today" in Beijing time, deadlines) may differ by a day from its partners'.
pub const FAILING_SKEW_MS: u64 = 60 * 60 * 1000;

/// Request: nothing. Response: the answerer's clock, milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeCodec;

/// The skew of a peer's clock against ours: `their_ms` read between `sent_ms` and
/// `received_ms` here, taken as read at the middle.
pub fn skew_ms(sent_ms: u64, their_ms: u64, received_ms: u64) -> i64 {
    let middle = sent_ms / 2 + received_ms / 2 + (sent_ms % 2 + received_ms % 2) / 2;
    i64::try_from(their_ms).unwrap_or(i64::MAX) - i64::try_from(middle).unwrap_or(i64::MAX)
}

async fn read_exact_or_nothing<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    len: usize,
) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len);
    io.take(len as u64 + 1).read_to_end(&mut buf).await?;
    if buf.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a time message is {len} bytes, not {}", buf.len()),
        ));
    }
    Ok(buf)
}

impl request_response::Codec for TimeCodec {
    type Protocol = StreamProtocol;
    type Request = ();
    type Response = u64;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<()>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_exact_or_nothing(io, 0).await.map(|_| ())
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<u64>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_exact_or_nothing(io, 8).await?;
        let mut be = [0u8; 8];
        be.copy_from_slice(&bytes);
        Ok(u64::from_be_bytes(be))
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, (): ()) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        now_ms: u64,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&now_ms.to_be_bytes()).await?;
        io.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_is_their_reading_against_the_middle_of_the_round_trip() {
        assert_eq!(skew_ms(1_000, 1_010, 1_020), 0);
        assert_eq!(skew_ms(1_000, 61_010, 1_020), 60_000, "a minute ahead");
        assert_eq!(skew_ms(1_000, 0, 1_020), -1_010, "behind");
        assert_eq!(skew_ms(1_001, 2_000, 1_002), 999, "odd ends round down");
    }
}
