//! Record helpers shared by the growth modules: bulk reads of a dataset and translations.

use crate::dataset::{Dataset, RECORDS_FILE};
use crate::error::{Error, Result};
use crate::fsutil::read_exact_at;
use std::fs::File;

/// Bytes read at a time by [`for_each_record`].
const CHUNK_BYTES: usize = 4 << 20;

/// Calls `f(index, record)` for every record of `dataset` in index order, reading the records
/// file in large chunks (unchecked against the tree: callers that need it compare leaves).
pub(crate) fn for_each_record(
    dataset: &Dataset,
    mut f: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let size = dataset.record_size();
    if size == 0 {
        return Err(Error::InvalidField {
            what: "record size",
            detail: "zero".into(),
        });
    }
    let path = dataset.dir().join(RECORDS_FILE);
    let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
    let per_chunk = (CHUNK_BYTES / size).max(1) as u64;
    let mut buf = Vec::new();
    let mut first = 0u64;
    while first < dataset.len() {
        let n = per_chunk.min(dataset.len() - first);
        buf.resize(n as usize * size, 0);
        read_exact_at(&file, &mut buf, first * size as u64, &path)?;
        for (k, record) in buf.chunks_exact(size).enumerate() {
            f(first + k as u64, record)?;
        }
        first += n;
    }
    Ok(())
}

/// Image geometry `(channels, height, width)` of records, for translations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl Geometry {
    /// The geometry of shape `[C, H, W]`.
    pub fn of(shape: &[u32]) -> Option<Self> {
        match shape[..] {
            [c, h, w] => Some(Geometry {
                channels: c as usize,
                height: h as usize,
                width: w as usize,
            }),
            _ => None,
        }
    }

    /// The translations `(dx, dy)` with `max(|dx|, |dy|) <= radius`, `(0, 0)` excluded, in the
    /// canonical order (`dy` then `dx`, ascending).
    pub fn shifts(radius: u32) -> Vec<(i8, i8)> {
        let r = radius.min(i8::MAX as u32) as i8;
        let mut out = Vec::new();
        for dy in -r..=r {
            for dx in -r..=r {
                if (dx, dy) != (0, 0) {
                    out.push((dx, dy));
                }
            }
        }
        out
    }

    /// Writes `record` translated by `dx` columns right and `dy` rows down into `out` (same
    /// length as `record`, `C * H * W` one-byte elements); vacated pixels are zero.
    pub fn translate(&self, record: &[u8], dx: i8, dy: i8, out: &mut [u8]) {
        let (h, w) = (self.height as isize, self.width as isize);
        out.fill(0);
        for c in 0..self.channels {
            let plane = c * self.height * self.width;
            for y in 0..h {
                let sy = y - dy as isize;
                if !(0..h).contains(&sy) {
                    continue;
                }
                // Columns x with 0 <= x - dx < w.
                let x0 = (dx as isize).max(0);
                let x1 = (w + dx as isize).min(w);
                if x0 >= x1 {
                    continue;
                }
                let dst = plane + (y * w + x0) as usize;
                let src = plane + (sy * w + x0 - dx as isize) as usize;
                let n = (x1 - x0) as usize;
                out[dst..dst + n].copy_from_slice(&record[src..src + n]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translate_moves_pixels_and_zero_fills() {
        let g = Geometry {
            channels: 1,
            height: 3,
            width: 3,
        };
        let r: Vec<u8> = (1..=9).collect();
        let mut out = vec![0u8; 9];
        g.translate(&r, 1, 0, &mut out);
        assert_eq!(out, [0, 1, 2, 0, 4, 5, 0, 7, 8]);
        g.translate(&r, 0, -1, &mut out);
        assert_eq!(out, [4, 5, 6, 7, 8, 9, 0, 0, 0]);
        g.translate(&r, -2, 2, &mut out);
        assert_eq!(out, [0, 0, 0, 0, 0, 0, 3, 0, 0]);
        g.translate(&r, 3, 0, &mut out);
        assert_eq!(out, [0; 9]);
        assert_eq!(Geometry::shifts(1).len(), 8);
        assert_eq!(Geometry::shifts(2).len(), 24);
    }
}
