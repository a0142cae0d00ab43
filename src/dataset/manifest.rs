//! The dataset manifest: what the records are, where they came from, and their Merkle root.

use crate::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::ident::{cid_from_bytes, cid_of, Cid};

const MAGIC: &[u8; 4] = b"PWDM";
const FORMAT_VERSION: u32 = 2;
/// The longest binary CID a manifest holds.
const MAX_CID_BYTES: u64 = 64;
/// The largest number of dimensions in a record shape.
pub const MAX_DIMS: u64 = 8;
/// The largest record, in bytes (16 MiB).
pub const MAX_RECORD_SIZE: u64 = 16 << 20;
/// The longest source or licence text, in bytes.
pub const MAX_TEXT: u64 = 4096;
/// The largest encoded manifest, in bytes.
pub const MAX_MANIFEST_BYTES: u64 =
    4 + 4 + 4 + MAX_DIMS * 4 + 1 + 4 + 8 + 8 + 2 * (4 + MAX_TEXT) + 32 + 4 + MAX_CID_BYTES;

/// The element type of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// Unsigned bytes (pixels).
    U8,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            DType::U8 => 1,
        }
    }

    pub(crate) fn code(self) -> u8 {
        match self {
            DType::U8 => 1,
        }
    }

    pub(crate) fn from_code(code: u8) -> Result<Self> {
        match code {
            1 => Ok(DType::U8),
            _ => Err(Error::InvalidField {
                what: "dtype",
                detail: format!("unknown code {code}"),
            }),
        }
    }
}

/// Describes a dataset of fixed-size records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Record shape, outermost first; images are `[channels, height, width]`.
    pub shape: Vec<u32>,
    /// Element type.
    pub dtype: DType,
    /// The largest value an element takes (16 for the UCI digits, 255 for 8-bit images); models
    /// scale elements by it.
    pub value_max: u32,
    /// Number of records.
    pub count: u64,
    /// Bytes per record: the product of the shape times the element size.
    pub record_size: u64,
    /// Where the records came from.
    pub source: String,
    /// The licence they are used under.
    pub licence: String,
    /// Merkle root over the records.
    pub root: Digest,
    /// The UnixFS CID of the records file (`records.bin`): where an IPFS node serves the
    /// records, so that the dataset can be fetched by the manifest's CID alone.
    pub records: Cid,
}

impl Manifest {
    /// The record size a shape and dtype imply, or an error when it is zero or over the limit.
    pub fn record_size_of(shape: &[u32], dtype: DType) -> Result<u64> {
        let elements = shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(u64::from(d)));
        match elements.and_then(|e| e.checked_mul(dtype.size())) {
            Some(size)
                if size > 0
                    && size <= MAX_RECORD_SIZE
                    && !shape.is_empty()
                    && shape.len() as u64 <= MAX_DIMS =>
            {
                Ok(size)
            }
            _ => Err(Error::InvalidField {
                what: "record shape",
                detail: format!("{shape:?} of {dtype:?}"),
            }),
        }
    }

    /// Image geometry `(channels, height, width)` when the shape is `[C, H, W]`.
    pub fn image_dims(&self) -> Option<(u32, u32, u32)> {
        match self.shape[..] {
            [c, h, w] => Some((c, h, w)),
            _ => None,
        }
    }

    /// The canonical encoding, which the manifest's CID names.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC).u32(FORMAT_VERSION).len(self.shape.len());
        for d in &self.shape {
            e.u32(*d);
        }
        e.u8(self.dtype.code())
            .u32(self.value_max)
            .u64(self.count)
            .u64(self.record_size);
        e.str(&self.source).str(&self.licence).digest(&self.root);
        e.bytes(&self.records.to_bytes());
        e.finish()
    }

    /// Decodes and validates a manifest from untrusted bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "manifest")?;
        let version = d.u32("manifest version")?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "manifest",
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let dims = d.count("shape", MAX_DIMS, 4)?;
        let shape = (0..dims)
            .map(|_| d.u32("shape"))
            .collect::<Result<Vec<_>>>()?;
        let dtype = DType::from_code(d.u8("dtype")?)?;
        let value_max = d.u32("value max")?;
        let count = d.u64("record count")?;
        let record_size = d.u64("record size")?;
        let source = d.str("source", MAX_TEXT)?.to_owned();
        let licence = d.str("licence", MAX_TEXT)?.to_owned();
        let root = d.digest("root")?;
        let records = cid_from_bytes(d.bytes("records cid", MAX_CID_BYTES)?)?;
        d.finish()?;
        if Self::record_size_of(&shape, dtype)? != record_size {
            return Err(Error::InvalidField {
                what: "record size",
                detail: format!("{record_size} does not match shape {shape:?}"),
            });
        }
        if value_max == 0 {
            return Err(Error::InvalidField {
                what: "value max",
                detail: "zero".into(),
            });
        }
        Ok(Manifest {
            shape,
            dtype,
            value_max,
            count,
            record_size,
            source,
            licence,
            root,
            records,
        })
    }

    /// The CID of the canonical encoding.
    pub fn cid(&self) -> Cid {
        cid_of(&self.to_bytes())
    }
}
