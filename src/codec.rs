//! The canonical binary encoding shared by every wire and file format of the crate.
//!
//! Integers are fixed-width little-endian; byte strings and lists carry a `u32` length; every
//! value has exactly one encoding. [`Decoder`] reads untrusted bytes: every length is checked
//! against a caller-given limit *and* against the bytes that remain before anything is allocated,
//! so a decoder never allocates more than its input justifies.

use crate::error::{Error, Result};
use crate::hash::Digest;

/// Builds an encoding.
#[derive(Default, Debug, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends raw bytes (a fixed-size field or magic).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// Appends a `u8`.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }

    /// Appends an `f64` by its IEEE-754 bits.
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.u64(v.to_bits())
    }

    /// Appends a digest.
    pub fn digest(&mut self, d: &Digest) -> &mut Self {
        self.raw(d)
    }

    /// Appends a length (`u32`); panics if it does not fit, which encoders of bounded values
    /// never reach.
    pub fn len(&mut self, n: usize) -> &mut Self {
        // Every encoded value is bounded far below 4 GiB by its own type's limits (the decoders
        // enforce the same limits), so this is unreachable from any input.
        #[allow(clippy::expect_used)]
        self.u32(u32::try_from(n).expect("encoded length over u32::MAX"))
    }

    /// Appends a length-prefixed byte string.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.len(b.len()).raw(b)
    }

    /// Appends a length-prefixed UTF-8 string.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// The encoding.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads an encoding from untrusted bytes.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    rest: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// Starts reading `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Decoder { rest: bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Reads `n` raw bytes.
    pub fn raw(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(Error::Truncated {
                what,
                needed: n as u64,
                available: self.rest.len() as u64,
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.raw(N, what)?);
        Ok(out)
    }

    /// Checks fixed magic bytes.
    pub fn magic(&mut self, magic: &[u8], what: &'static str) -> Result<()> {
        if self.raw(magic.len(), what)? != magic {
            return Err(Error::BadMagic { what });
        }
        Ok(())
    }

    /// Reads a `u8`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// Reads a `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Reads an `f64` (any bit pattern but NaN).
    pub fn f64(&mut self, what: &'static str) -> Result<f64> {
        let v = f64::from_bits(self.u64(what)?);
        if v.is_nan() {
            return Err(Error::InvalidField {
                what,
                detail: "NaN".into(),
            });
        }
        Ok(v)
    }

    /// Reads a digest.
    pub fn digest(&mut self, what: &'static str) -> Result<Digest> {
        self.array(what)
    }

    /// Reads a count of items of `item_size` bytes each, at most `limit`, and checks that the
    /// items can still be present in the input before the caller allocates for them.
    pub fn count(&mut self, what: &'static str, limit: u64, item_size: usize) -> Result<usize> {
        let n = u64::from(self.u32(what)?);
        if n > limit {
            return Err(Error::LimitExceeded {
                what,
                found: n,
                limit,
            });
        }
        let need = n.saturating_mul(item_size as u64);
        if need > self.rest.len() as u64 {
            return Err(Error::Truncated {
                what,
                needed: need,
                available: self.rest.len() as u64,
            });
        }
        Ok(n as usize)
    }

    /// Reads a length-prefixed byte string of at most `limit` bytes.
    pub fn bytes(&mut self, what: &'static str, limit: u64) -> Result<&'a [u8]> {
        let n = self.count(what, limit, 1)?;
        self.raw(n, what)
    }

    /// Reads a length-prefixed UTF-8 string of at most `limit` bytes.
    pub fn str(&mut self, what: &'static str, limit: u64) -> Result<&'a str> {
        std::str::from_utf8(self.bytes(what, limit)?).map_err(|_| Error::InvalidField {
            what,
            detail: "not UTF-8".into(),
        })
    }

    /// Ends decoding: fails if bytes remain.
    pub fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingBytes(self.rest.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let mut e = Encoder::new();
        e.raw(b"MG")
            .u8(7)
            .u32(9)
            .u64(u64::MAX)
            .bytes(b"abc")
            .str("hé");
        let bytes = e.finish();
        let mut d = Decoder::new(&bytes);
        d.magic(b"MG", "magic").unwrap();
        assert_eq!(d.u8("a").unwrap(), 7);
        assert_eq!(d.u32("b").unwrap(), 9);
        assert_eq!(d.u64("c").unwrap(), u64::MAX);
        assert_eq!(d.bytes("d", 3).unwrap(), b"abc");
        assert_eq!(d.str("e", 10).unwrap(), "hé");
        d.finish().unwrap();

        let mut long = bytes.clone();
        long.push(0);
        let mut d = Decoder::new(&long[long.len() - 1..]);
        d.u8("x").unwrap();
        assert!(d.finish().is_ok());
        let mut d = Decoder::new(&long);
        d.raw(bytes.len(), "all").unwrap();
        assert!(matches!(d.finish(), Err(Error::TrailingBytes(1))));
    }

    #[test]
    fn count_refuses_before_allocating() {
        // Claims 2^32-1 items of 32 bytes with 4 bytes of input.
        let bytes = u32::MAX.to_le_bytes();
        assert!(matches!(
            Decoder::new(&bytes).count("n", u64::MAX, 32),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(
            Decoder::new(&bytes).count("n", 10, 32),
            Err(Error::LimitExceeded { .. })
        ));
    }
}
