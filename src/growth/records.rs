//! Record helpers shared by the growth modules: bulk reads of a dataset, translations and the
//! copy transforms (quarter turn, upside down, mirror, negative).

use super::request::{
    COPY_FLIPPED, COPY_INVERTED, COPY_MIRRORED, COPY_TRANSFORMS_ALL, COPY_TURNED,
};
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

/// The transforms the copy rules check for the `copy_transforms` bits of a request, each a
/// non-empty set of bits, in the canonical order (ascending: mirrored, inverted, both, upside
/// down, ...).
pub(crate) fn copy_transform_sets(copy_transforms: u32) -> Vec<u32> {
    (1..=COPY_TRANSFORMS_ALL)
        .filter(|t| t & !copy_transforms == 0)
        .collect()
}

/// `copy_transforms` less the transforms records of `geometry` cannot take: the geometric ones
/// for records that are not images, the quarter turn for images that are not square.
pub(crate) fn applicable_transforms(copy_transforms: u32, geometry: Option<Geometry>) -> u32 {
    match geometry {
        None => copy_transforms & !(COPY_MIRRORED | COPY_FLIPPED | COPY_TURNED),
        Some(g) if g.height != g.width => copy_transforms & !COPY_TURNED,
        Some(_) => copy_transforms,
    }
}

/// Writes `record` transformed by `transform` (a set of `COPY_*` bits) into `out` (same length):
/// turned a quarter clockwise (square images only), upside down (the rows of each channel in
/// reverse order), mirrored (each row of each channel reversed), in that order (the geometric
/// steps need `geometry` to be the record's, else they are skipped), then inverted
/// (`value_max - v`, values above `value_max` to 0).
pub(crate) fn transform_record(
    record: &[u8],
    transform: u32,
    geometry: Option<Geometry>,
    value_max: u8,
    out: &mut [u8],
) {
    let g = geometry.filter(|g| g.width > 0 && g.channels * g.height * g.width == out.len());
    let side = g.filter(|g| g.height == g.width).map(|g| g.width);
    match side {
        Some(n) if transform & COPY_TURNED != 0 => {
            // Row y of the turned plane is column y of the plane read bottom to top.
            for (to, from) in out.chunks_exact_mut(n * n).zip(record.chunks_exact(n * n)) {
                for (y, row) in to.chunks_exact_mut(n).enumerate() {
                    for (x, v) in row.iter_mut().enumerate() {
                        *v = from[(n - 1 - x) * n + y];
                    }
                }
            }
        }
        _ => out.copy_from_slice(record),
    }
    if let (true, Some(g)) = (transform & COPY_FLIPPED != 0, g) {
        for plane in out.chunks_exact_mut(g.height * g.width) {
            for y in 0..g.height / 2 {
                let (top, bottom) = plane.split_at_mut((g.height - 1 - y) * g.width);
                top[y * g.width..(y + 1) * g.width].swap_with_slice(&mut bottom[..g.width]);
            }
        }
    }
    if let (true, Some(g)) = (transform & COPY_MIRRORED != 0, g) {
        for row in out.chunks_exact_mut(g.width) {
            row.reverse();
        }
    }
    if transform & COPY_INVERTED != 0 {
        for v in out.iter_mut() {
            *v = value_max.saturating_sub(*v);
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

    #[test]
    fn transforms_mirror_rows_and_invert_values() {
        let g = Geometry {
            channels: 2,
            height: 2,
            width: 3,
        };
        let r: Vec<u8> = (1..=12).collect();
        let mut out = vec![0u8; 12];
        transform_record(&r, COPY_MIRRORED, Some(g), 12, &mut out);
        assert_eq!(out, [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
        transform_record(&r, COPY_INVERTED, Some(g), 12, &mut out);
        assert_eq!(out, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        transform_record(&r, COPY_MIRRORED | COPY_INVERTED, Some(g), 12, &mut out);
        assert_eq!(out, [9, 10, 11, 6, 7, 8, 3, 4, 5, 0, 1, 2]);
        assert_eq!(copy_transform_sets(0), Vec::<u32>::new());
        assert_eq!(copy_transform_sets(COPY_INVERTED), [COPY_INVERTED]);
        assert_eq!(
            copy_transform_sets(COPY_MIRRORED | COPY_INVERTED),
            [1, 2, 3]
        );
        assert_eq!(copy_transform_sets(COPY_TRANSFORMS_ALL).len(), 15);
    }

    #[test]
    fn transforms_turn_and_flip_squares_into_every_symmetry() {
        let g = Geometry {
            channels: 2,
            height: 2,
            width: 2,
        };
        let r: Vec<u8> = (1..=8).collect();
        let mut out = vec![0u8; 8];
        // 1 2 / 3 4 turned clockwise is 3 1 / 4 2; upside down 3 4 / 1 2.
        transform_record(&r, COPY_TURNED, Some(g), 8, &mut out);
        assert_eq!(out, [3, 1, 4, 2, 7, 5, 8, 6]);
        transform_record(&r, COPY_FLIPPED, Some(g), 8, &mut out);
        assert_eq!(out, [3, 4, 1, 2, 7, 8, 5, 6]);
        // Every set of the three geometric bits gives another of the square's 8 symmetries.
        let geometric = COPY_MIRRORED | COPY_FLIPPED | COPY_TURNED;
        let mut images: Vec<Vec<u8>> = (0..=geometric)
            .filter(|t| t & !geometric == 0)
            .map(|t| {
                let mut o = vec![0u8; 8];
                transform_record(&r, t, Some(g), 8, &mut o);
                o
            })
            .collect();
        images.sort();
        images.dedup();
        assert_eq!(images.len(), 8);
        // Odd heights keep the middle row; a turn needs a square.
        let tall = Geometry {
            channels: 1,
            height: 3,
            width: 2,
        };
        let r: Vec<u8> = (1..=6).collect();
        let mut out = vec![0u8; 6];
        transform_record(&r, COPY_FLIPPED, Some(tall), 6, &mut out);
        assert_eq!(out, [5, 6, 3, 4, 1, 2]);
        transform_record(&r, COPY_TURNED, Some(tall), 6, &mut out);
        assert_eq!(out, r);
        assert_eq!(
            applicable_transforms(COPY_TRANSFORMS_ALL, Some(tall)),
            COPY_TRANSFORMS_ALL & !COPY_TURNED
        );
        assert_eq!(
            applicable_transforms(COPY_TRANSFORMS_ALL, None),
            COPY_INVERTED
        );
    }
}
