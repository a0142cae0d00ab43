//! Canonical checkpoint bytes, written and read by this module: the safetensors format with one
//! fixed layout per spec.
//!
//! Layout: the header's length (`u64`, little-endian), the header (JSON, padded with spaces to a
//! multiple of 8 bytes), then the tensors' bytes. The header holds the one metadata entry
//! `{"format":"pouw-gan-checkpoint-v2"}`, then the step counter (`I64`, shape `[]`), then every
//! float32 tensor in byte order of its name, each as
//! `"name":{"dtype":"F32","shape":[..],"data_offsets":[begin,end]}`, with the data in the same
//! order. This is the order and spelling the safetensors library writes (tested), so any
//! safetensors reader loads a checkpoint, and a writer of the library produces the same bytes.
//!
//! Decoding accepts exactly these bytes: the header must equal the one this module writes for
//! the spec (so names, shapes, order, offsets, metadata and padding are all fixed), the data
//! must have the exact length, every float must be finite and the step counter non-negative.
//! Decoding then encoding gives the input back.

use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::learning::seeds::{concat_with_digest, digest_of_pieces};

/// The metadata entry every checkpoint carries.
pub(crate) const FORMAT: (&str, &str) = ("format", "pouw-gan-checkpoint-v2");
/// The tensor holding the step counter (`I64`, shape `[]`).
pub(crate) const STEP_TENSOR: &str = "step";

/// The fixed layout of the checkpoints of one spec.
#[derive(Clone, Debug)]
pub(crate) struct CheckpointLayout {
    /// The 8-byte length prefix and the padded header.
    header: Vec<u8>,
    /// For each tensor in the caller's order: its byte range in the data section.
    ranges: Vec<std::ops::Range<usize>>,
    /// Each tensor's name, in the caller's order.
    names: Vec<String>,
    /// Each tensor's entry in the header (byte range within `header`), in header order.
    entries: Vec<(String, std::ops::Range<usize>)>,
    /// The caller's indices of the tensors in data order.
    order: Vec<usize>,
    /// Bytes of the data section (the step counter's 8 and every tensor's).
    data_len: usize,
}

fn checkpoint_error(detail: String) -> Error {
    Error::InvalidField {
        what: "checkpoint",
        detail,
    }
}

impl CheckpointLayout {
    /// The layout of checkpoints holding `tensors` (name and shape, float32, in any order; names
    /// unique, of letters, digits, `.` and `_`).
    pub(crate) fn new(tensors: &[(String, Vec<usize>)]) -> Result<Self> {
        let mut order: Vec<usize> = (0..tensors.len()).collect();
        order.sort_by(|&a, &b| tensors[a].0.cmp(&tensors[b].0));
        if let Some(w) = order
            .windows(2)
            .find(|w| tensors[w[0]].0 == tensors[w[1]].0)
        {
            return Err(checkpoint_error(format!(
                "tensor {} named twice",
                tensors[w[0]].0
            )));
        }
        let plain = |n: &str| {
            !n.is_empty()
                && n != STEP_TENSOR
                && n.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_')
        };
        if let Some((name, _)) = tensors.iter().find(|(n, _)| !plain(n)) {
            return Err(checkpoint_error(format!("tensor name {name:?}")));
        }
        let mut json = format!(
            "{{\"__metadata__\":{{\"{}\":\"{}\"}},\"{STEP_TENSOR}\":{{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}",
            FORMAT.0, FORMAT.1
        );
        let mut ranges = vec![0..0; tensors.len()];
        let mut entries = Vec::with_capacity(tensors.len());
        let mut offset = 8usize;
        for &i in &order {
            let (name, shape) = &tensors[i];
            let len = shape
                .iter()
                .try_fold(4usize, |acc, &d| acc.checked_mul(d))
                .ok_or_else(|| checkpoint_error(format!("tensor {name} is too large")))?;
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            let entry_start = json.len();
            json.push_str(&format!(
                ",\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
                dims.join(","),
                offset + len
            ));
            entries.push((name.clone(), entry_start + 8..json.len() + 8));
            ranges[i] = offset..offset + len;
            offset += len;
        }
        json.push('}');
        let mut body = json.into_bytes();
        body.resize(body.len().div_ceil(8) * 8, b' ');
        let mut header = (body.len() as u64).to_le_bytes().to_vec();
        header.extend_from_slice(&body);
        Ok(CheckpointLayout {
            header,
            ranges,
            names: tensors.iter().map(|(n, _)| n.clone()).collect(),
            entries,
            order,
            data_len: offset,
        })
    }

    /// The size of every checkpoint of this layout, in bytes.
    pub(crate) fn size(&self) -> usize {
        self.header.len() + self.data_len
    }

    /// Encodes the step counter and each tensor's little-endian float32 bytes (in the order the
    /// layout was made with).
    pub(crate) fn encode(&self, step: u64, tensors: &[&[u8]]) -> Result<Vec<u8>> {
        let step = self.step_bytes(step)?;
        let pieces = self.pieces(&step, tensors)?;
        // Written once, in data order (no zero fill first).
        let mut out = Vec::with_capacity(self.size());
        for p in pieces {
            out.extend_from_slice(p);
        }
        Ok(out)
    }

    /// [`encode`](Self::encode) and the checkpoint digest of the bytes, in one parallel pass
    /// ([`concat_with_digest`]).
    pub(crate) fn encode_with_digest(
        &self,
        step: u64,
        tensors: &[&[u8]],
    ) -> Result<(Vec<u8>, Digest)> {
        let step = self.step_bytes(step)?;
        Ok(concat_with_digest(&self.pieces(&step, tensors)?))
    }

    /// The checkpoint digest of [`encode`](Self::encode)'s bytes, without writing them
    /// ([`digest_of_pieces`]).
    pub(crate) fn digest(&self, step: u64, tensors: &[&[u8]]) -> Result<Digest> {
        let step = self.step_bytes(step)?;
        Ok(digest_of_pieces(&self.pieces(&step, tensors)?))
    }

    /// The step counter's bytes (an I64 tensor).
    fn step_bytes(&self, step: u64) -> Result<[u8; 8]> {
        i64::try_from(step)
            .map(i64::to_le_bytes)
            .map_err(|_| checkpoint_error(format!("step {step} does not fit an I64")))
    }

    /// The checkpoint's bytes in order: the header, the step counter, then each tensor in data
    /// order (checked against the layout's sizes).
    fn pieces<'a>(&'a self, step: &'a [u8; 8], tensors: &[&'a [u8]]) -> Result<Vec<&'a [u8]>> {
        if tensors.len() != self.ranges.len() {
            return Err(checkpoint_error(format!(
                "{} tensors for a layout of {}",
                tensors.len(),
                self.ranges.len()
            )));
        }
        if let Some((bytes, range)) = tensors
            .iter()
            .zip(&self.ranges)
            .find(|(b, r)| b.len() != r.len())
        {
            return Err(checkpoint_error(format!(
                "{} bytes for a tensor of {}",
                bytes.len(),
                range.len()
            )));
        }
        let mut pieces = Vec::with_capacity(tensors.len() + 2);
        pieces.push(&self.header[..]);
        pieces.push(&step[..]);
        pieces.extend(self.order.iter().map(|&i| tensors[i]));
        Ok(pieces)
    }

    /// The error for a header that differs from the canonical one first at byte `at`: the
    /// tensor whose entry it falls in (and the name found there), or the header as a whole.
    fn header_error(&self, found: &[u8], at: usize) -> Error {
        let Some((name, range)) = self.entries.iter().find(|(_, r)| r.contains(&at)) else {
            return checkpoint_error(format!(
                "the header is not the canonical header of this spec (first difference at byte {at})"
            ));
        };
        // An entry starts with `,"name":`: report the name the input has there.
        let there = found
            .get(range.start + 2..)
            .and_then(|rest| rest.split(|&c| c == b'"').next())
            .map(|n| String::from_utf8_lossy(&n[..n.len().min(64)]).into_owned())
            .unwrap_or_default();
        Error::CheckpointTensor {
            name: name.clone(),
            detail: if &there == name {
                format!("its header entry is not the canonical one (byte {at})")
            } else {
                format!("the header has {there:?} where this tensor belongs (byte {at})")
            },
        }
    }

    /// Decodes untrusted bytes: the step counter and each tensor's values (in the order the
    /// layout was made with). Anything but the canonical encoding is an error.
    pub(crate) fn decode(&self, bytes: &[u8]) -> Result<(u64, Vec<Vec<f32>>)> {
        let (step, tensors) = self.decode_bytes(bytes)?;
        Ok((step, tensors.into_iter().map(floats_of).collect()))
    }

    /// [`decode`](Self::decode) without converting the values: the step counter and each
    /// tensor's bytes (little-endian float32, every value checked finite), for a caller that
    /// copies them into its tensors in one pass.
    pub(crate) fn decode_bytes<'a>(&self, bytes: &'a [u8]) -> Result<(u64, Vec<&'a [u8]>)> {
        // The header first, as far as the input reaches: the JSON (its first difference says
        // the most), then the length prefix; then the size.
        let head = &bytes[..bytes.len().min(self.header.len())];
        let differs = |from: usize| {
            head.get(from..)?
                .iter()
                .zip(&self.header[from..])
                .position(|(a, b)| a != b)
                .map(|p| p + from)
        };
        if let Some(at) = differs(8).or_else(|| differs(0)) {
            return Err(self.header_error(head, at));
        }
        if bytes.len() > self.size() {
            return Err(Error::LimitExceeded {
                what: "checkpoint size",
                found: bytes.len() as u64,
                limit: self.size() as u64,
            });
        }
        if bytes.len() < self.size() {
            return Err(Error::Truncated {
                what: "checkpoint",
                needed: (self.size() - bytes.len()) as u64,
                available: bytes.len() as u64,
            });
        }
        let data = &bytes[self.header.len()..];
        let step = i64::from_le_bytes(
            data[..8]
                .try_into()
                .map_err(|_| checkpoint_error("step counter".into()))?,
        );
        let step = u64::try_from(step).map_err(|_| Error::CheckpointTensor {
            name: STEP_TENSOR.into(),
            detail: format!("negative step {step}"),
        })?;
        let mut tensors = Vec::with_capacity(self.ranges.len());
        for (range, name) in self.ranges.iter().zip(&self.names) {
            let raw = &data[range.clone()];
            if let Some(pos) = first_non_finite(raw) {
                return Err(Error::CheckpointTensor {
                    name: name.clone(),
                    detail: format!("non-finite value at {pos}"),
                });
            }
            tensors.push(raw);
        }
        Ok((step, tensors))
    }
}

/// The float32 values of little-endian bytes (a whole number of values).
pub(crate) fn floats_of(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The index of the first float32 in little-endian `bytes` that is not finite (its exponent
/// bits all set: an infinity or a NaN), if any.
fn first_non_finite(bytes: &[u8]) -> Option<usize> {
    const BLOCK: usize = 4096;
    let non_finite =
        |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x7f80_0000 == 0x7f80_0000;
    // Blocks without a branch per value (the compiler vectorises the fold), then the value.
    let (i, block) = bytes
        .chunks(BLOCK)
        .enumerate()
        .find(|(_, c)| c.chunks_exact(4).fold(false, |any, b| any | non_finite(b)))?;
    let at = block.chunks_exact(4).position(non_finite)?;
    Some(i * BLOCK / 4 + at)
}

/// The checkpoint encoding of one [`GanSpec`](super::GanSpec), without libtorch: decodes and
/// encodes checkpoint bytes exactly as the trainer does, so a node can check untrusted
/// checkpoint bytes before loading them (and the fuzzer can drive the decoder).
#[derive(Clone, Debug)]
pub struct CheckpointFormat {
    layout: CheckpointLayout,
}

/// A decoded checkpoint: the step counter and each tensor's values, in the order of
/// [`CheckpointFormat::names`].
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedCheckpoint {
    /// Steps trained.
    pub step: u64,
    /// Each tensor's values (finite float32).
    pub tensors: Vec<Vec<f32>>,
}

impl CheckpointFormat {
    pub(crate) fn new(layout: CheckpointLayout) -> Self {
        CheckpointFormat { layout }
    }

    /// The size of every checkpoint of the spec, in bytes.
    pub fn size(&self) -> usize {
        self.layout.size()
    }

    /// The tensors' names: the generator's weights, the discriminator's, then the Adam moments
    /// of each (first, then second).
    pub fn names(&self) -> &[String] {
        &self.layout.names
    }

    /// How many values each tensor holds, in the order of [`CheckpointFormat::names`].
    pub fn lens(&self) -> Vec<usize> {
        self.layout.ranges.iter().map(|r| r.len() / 4).collect()
    }

    /// Decodes untrusted bytes; anything but the canonical encoding of the spec is an error.
    pub fn decode(&self, bytes: &[u8]) -> Result<DecodedCheckpoint> {
        let (step, tensors) = self.layout.decode(bytes)?;
        Ok(DecodedCheckpoint { step, tensors })
    }

    /// The canonical bytes of a checkpoint (the inverse of [`CheckpointFormat::decode`]).
    pub fn encode(&self, checkpoint: &DecodedCheckpoint) -> Result<Vec<u8>> {
        let bytes: Vec<Vec<u8>> = checkpoint
            .tensors
            .iter()
            .map(|t| t.iter().flat_map(|v| v.to_le_bytes()).collect())
            .collect();
        let refs: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        self.layout.encode(checkpoint.step, &refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> CheckpointLayout {
        CheckpointLayout::new(&[("b.weight".into(), vec![2, 3]), ("a.bias".into(), vec![3])])
            .unwrap()
    }

    fn sample() -> Vec<u8> {
        let b: Vec<u8> = (0..6)
            .flat_map(|i| (i as f32 * 0.5).to_le_bytes())
            .collect();
        let a: Vec<u8> = (0..3).flat_map(|i| (-(i as f32)).to_le_bytes()).collect();
        layout().encode(7, &[&b, &a]).unwrap()
    }

    #[test]
    fn decode_then_encode_is_the_identity() {
        let bytes = sample();
        let (step, values) = layout().decode(&bytes).unwrap();
        assert_eq!(step, 7);
        assert_eq!(values[0], vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
        let b: Vec<u8> = values[0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let a: Vec<u8> = values[1].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(layout().encode(step, &[&b, &a]).unwrap(), bytes);
        assert_eq!(layout().header.len() % 8, 0);
    }

    #[test]
    fn every_other_byte_string_is_rejected() {
        let bytes = sample();
        assert!(matches!(
            layout().decode(&bytes[..bytes.len() - 1]),
            Err(Error::Truncated { needed: 1, .. })
        ));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            layout().decode(&longer),
            Err(Error::LimitExceeded { .. })
        ));
        // A changed header byte names the tensor whose entry it is in, or the header as a whole.
        let l = layout();
        for i in 0..l.header.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x20;
            let r = l.decode(&b);
            let in_entry = l.entries.iter().any(|(_, r)| r.contains(&i));
            assert!(
                if in_entry {
                    matches!(r, Err(Error::CheckpointTensor { .. }))
                } else {
                    matches!(
                        r,
                        Err(Error::InvalidField {
                            what: "checkpoint",
                            ..
                        })
                    )
                },
                "header byte {i}: {:?}",
                r.err()
            );
        }
        let mut nan = bytes.clone();
        let at = layout().header.len() + 8;
        nan[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(matches!(
            layout().decode(&nan),
            Err(Error::CheckpointTensor { .. })
        ));
        let mut negative = bytes.clone();
        let at = layout().header.len();
        negative[at..at + 8].copy_from_slice(&(-1i64).to_le_bytes());
        assert!(matches!(
            layout().decode(&negative),
            Err(Error::CheckpointTensor { .. })
        ));
    }

    #[test]
    fn the_first_non_finite_value_is_found_wherever_it_lies() {
        let bad = [f32::INFINITY, f32::NEG_INFINITY, f32::NAN, -f32::NAN];
        for (len, at) in [(1, 0), (1024, 1023), (1025, 1024), (5000, 4097), (5000, 3)] {
            for (i, b) in bad.iter().enumerate() {
                let mut values = vec![1.5f32; len];
                values[at] = *b;
                // A later one too: the first is reported.
                if at + 1 < len {
                    values[len - 1] = bad[(i + 1) % bad.len()];
                }
                let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                assert_eq!(first_non_finite(&bytes), Some(at), "{len} {at} {b}");
                assert_eq!(values.iter().position(|v| !v.is_finite()), Some(at));
            }
        }
        let finite = [0.0f32, -0.0, f32::MAX, f32::MIN, f32::MIN_POSITIVE, 1e-45];
        let bytes: Vec<u8> = finite.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(first_non_finite(&bytes), None);
        assert_eq!(first_non_finite(&[]), None);
    }

    #[test]
    fn names_are_checked() {
        for names in [["a", "a"], ["a\"b", "c"], ["step", "c"]] {
            let tensors: Vec<(String, Vec<usize>)> =
                names.iter().map(|n| (n.to_string(), vec![1])).collect();
            let r = CheckpointLayout::new(&tensors);
            assert!(
                matches!(
                    r,
                    Err(Error::InvalidField {
                        what: "checkpoint",
                        ..
                    })
                ),
                "{names:?}: {:?}",
                r.err()
            );
        }
    }
}
