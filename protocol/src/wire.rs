//! The canonical byte layout shared by every signed or sent structure.
//!
//! Integers are big-endian and fixed width; byte strings and UTF-8 strings carry a `u32`
//! length prefix and are checked against a caller-given limit *before* anything is
//! allocated. There is exactly one encoding of every value, so re-encoding a decoded value
//! gives back the same bytes (signatures are computed over these bytes).
//!
//! Decoding tells "incomplete" (more bytes could make it valid) from "invalid" (no suffix
//! can), the way a streaming frame decoder needs.

/// Why a byte string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before the value did.
    #[error("input ends early")]
    Incomplete,
    /// The input can never be a valid value.
    #[error("invalid: {0}")]
    Invalid(&'static str),
    /// A length field is larger than the limit for that field.
    #[error("{what} of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
}

/// Appends canonical encodings to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.buf.push(value);
        self
    }

    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Raw bytes with no length prefix (fixed-size fields).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// A length-prefixed byte string. Lengths above `u32::MAX` cannot occur: every caller
    /// bounds its fields far below that.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.u32(len);
        self.buf.extend_from_slice(&bytes[..len as usize]);
        self
    }

    pub fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads canonical encodings from a byte slice.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn raw(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < len {
            return Err(DecodeError::Incomplete);
        }
        let out = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.raw(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.raw(1)?[0])
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A boolean or presence flag: exactly 0 or 1.
    pub fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid("flag is not 0 or 1")),
        }
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::TooLarge { what, len, max });
        }
        self.raw(len)
    }

    /// A length-prefixed UTF-8 string of at most `max` bytes.
    pub fn str(&mut self, what: &'static str, max: usize) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes(what, max)?)
            .map_err(|_| DecodeError::Invalid("text is not UTF-8"))
    }

    /// A count of items that follow, each at least `min_item_len` bytes, at most `max` items.
    /// Rejects counts that the remaining input cannot hold, so a forged count never makes
    /// the caller reserve memory.
    pub fn count(
        &mut self,
        what: &'static str,
        max: usize,
        min_item_len: usize,
    ) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(DecodeError::TooLarge { what, len: n, max });
        }
        if n.saturating_mul(min_item_len) > self.remaining() {
            return Err(DecodeError::Incomplete);
        }
        Ok(n)
    }

    /// Fails unless every byte was consumed: trailing bytes would make two encodings of
    /// one value.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(DecodeError::Invalid("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let mut w = Writer::new();
        w.u8(7).u32(9).u64(u64::MAX).str("平湖").bytes(&[1, 2, 3]);
        let bytes = w.finish();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8(), Ok(7));
        assert_eq!(r.u32(), Ok(9));
        assert_eq!(r.u64(), Ok(u64::MAX));
        assert_eq!(r.str("name", 16), Ok("平湖"));
        assert_eq!(r.bytes("blob", 3), Ok(&[1u8, 2, 3][..]));
        assert_eq!(r.finish(), Ok(()));

        let mut r = Reader::new(&bytes[..bytes.len() - 1]);
        r.raw(13).unwrap();
        r.str("name", 16).unwrap();
        assert_eq!(r.bytes("blob", 3), Err(DecodeError::Incomplete));

        let mut r = Reader::new(&bytes[13..]);
        assert!(matches!(
            r.str("name", 2),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn forged_count_is_refused_without_allocation() {
        let mut w = Writer::new();
        w.u32(1_000_000);
        let bytes = w.finish();
        assert_eq!(
            Reader::new(&bytes).count("items", 10, 1),
            Err(DecodeError::TooLarge {
                what: "items",
                len: 1_000_000,
                max: 10
            })
        );
        assert_eq!(
            Reader::new(&bytes).count("items", 2_000_000, 1),
            Err(DecodeError::Incomplete)
        );
    }
}
