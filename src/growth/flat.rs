//! The flat-patch rule: damage that fills a square of an image with one value (a block pasted
//! over it, a region blanked out), which leaves the rest of the image as it was and so moves
//! the model's features of the whole image too little to be judged by them.
//!
//! A *flat square* of side `k` is a `k`x`k` square of pixels over which every channel holds one
//! value. Real photographs hold small ones (an overexposed or a dark region) and some
//! kinds of image hold large ones of one value everywhere (the blank ground of a digit): the
//! rule is fitted to the dataset, the side the smallest at which hardly any of its records
//! holds a flat square, and the values its records commonly hold flat at that side (their
//! ground) exempt. Integer comparisons only: every node reaches the same verdict.

use super::records::Geometry;

/// Bytes of a ground mask: one bit per value `0..=255` (bit `v % 8` of byte `v / 8`).
pub const FLAT_GROUND_BYTES: usize = 32;

/// The most records of the fit's sample, in thousandths, that may hold a flat square of the
/// fitted side that is not of the ground ([`fit_flat_patch_rule`](super::fit_flat_patch_rule)).
pub const FLAT_PATCH_FIT_PER_MILLE: u32 = 10;

/// The fewest records of the fit's sample, in thousandths, that must hold a flat square of a
/// value for it to be a ground value ([`fit_flat_patch_rule`](super::fit_flat_patch_rule)).
pub const FLAT_GROUND_PER_MILLE: u32 = 100;

/// Whether `value` is set in the value mask `mask` (the grounds' layout).
pub(crate) fn is_ground(mask: &[u8; FLAT_GROUND_BYTES], value: u8) -> bool {
    mask[usize::from(value / 8)] & (1 << (value % 8)) != 0
}

/// Sets `value` in the value mask `mask`.
fn set_ground(mask: &mut [u8; FLAT_GROUND_BYTES], value: u8) {
    mask[usize::from(value / 8)] |= 1 << (value % 8);
}

/// Every flat square of side `side` in `record` (of geometry `g`), in the order of its
/// bottom-right corner (rows, then columns), as its top-left corner `(row, column)`, until
/// `found` returns `true`; returns whether it did. Overlapping squares are each visited.
fn each_flat_square(
    record: &[u8],
    g: Geometry,
    side: usize,
    mut found: impl FnMut(usize, usize) -> bool,
) -> bool {
    let (h, w) = (g.height, g.width);
    let plane = h * w;
    if side < 2 || side > h || side > w || record.len() != g.channels * plane || g.channels == 0 {
        return false;
    }
    let same = |a: usize, b: usize| {
        (0..g.channels).all(|c| record[c * plane + a] == record[c * plane + b])
    };
    // run[x]: pixels equal to (y, x) ending at it along row y; column[x]: rows ending at y
    // in which run is at least `side` at x and (y, x) equals the pixel above.
    let mut run = vec![0usize; w];
    let mut column = vec![0usize; w];
    for y in 0..h {
        for x in 0..w {
            let p = y * w + x;
            run[x] = if x > 0 && same(p, p - 1) {
                run[x - 1] + 1
            } else {
                1
            };
            column[x] = if run[x] < side {
                0
            } else if y > 0 && column[x] > 0 && same(p, p - w) {
                column[x] + 1
            } else {
                1
            };
            if column[x] >= side && found(y + 1 - side, x + 1 - side) {
                return true;
            }
        }
    }
    false
}

/// The first flat square of side `side` in `record` (an image of geometry `g`) whose values
/// are not all ground values of `grounds`, as its top-left corner `(row, column)`.
pub(crate) fn flat_patch(
    record: &[u8],
    g: Geometry,
    side: usize,
    grounds: &[u8; FLAT_GROUND_BYTES],
) -> Option<(u32, u32)> {
    let plane = g.height * g.width;
    let mut at = None;
    each_flat_square(record, g, side, |row, col| {
        let p = row * g.width + col;
        let ground = (0..g.channels).all(|c| is_ground(grounds, record[c * plane + p]));
        if !ground {
            at = Some((row as u32, col as u32));
        }
        !ground
    });
    at
}

/// The flat-patch rule fitted to `records` (images of geometry `g`): `(side, grounds)`, the
/// smallest side from 2 up at which at most [`FLAT_PATCH_FIT_PER_MILLE`] thousandths of the
/// records (rounded down) hold a flat square not of the ground, where a value is of the ground
/// when at least [`FLAT_GROUND_PER_MILLE`] thousandths of the records (rounded up) hold a flat
/// square of that side with that value in one of its channels, and a square is of the ground
/// when each of its channels' values is. `(0, no grounds)`, the rule off, when no side up to the
/// image's smaller dimension does.
pub(crate) fn fit_flat_patch(records: &[Vec<u8>], g: Geometry) -> (u32, [u8; FLAT_GROUND_BYTES]) {
    let off = (0, [0u8; FLAT_GROUND_BYTES]);
    let n = records.len() as u64;
    if n == 0 {
        return off;
    }
    let plane = g.height * g.width;
    let allowed = n * u64::from(FLAT_PATCH_FIT_PER_MILLE) / 1000;
    let ground_count = (n * u64::from(FLAT_GROUND_PER_MILLE)).div_ceil(1000).max(1);
    for side in 2..=g.height.min(g.width) {
        // Per record, the values its flat squares hold in some channel (a mask like the
        // grounds'). A record holds a square off the ground exactly when one of these values
        // is off the ground: each came from a square holding it.
        let held: Vec<[u8; FLAT_GROUND_BYTES]> = records
            .iter()
            .map(|r| {
                let mut mask = [0u8; FLAT_GROUND_BYTES];
                each_flat_square(r, g, side, |row, col| {
                    let p = row * g.width + col;
                    for c in 0..g.channels {
                        set_ground(&mut mask, r[c * plane + p]);
                    }
                    false
                });
                mask
            })
            .collect();
        let mut grounds = [0u8; FLAT_GROUND_BYTES];
        for v in 0..=u8::MAX {
            let holders = held.iter().filter(|mask| is_ground(mask, v)).count() as u64;
            if holders >= ground_count {
                set_ground(&mut grounds, v);
            }
        }
        let outside = held
            .iter()
            .filter(|mask| mask.iter().zip(&grounds).any(|(&m, &g)| m & !g != 0))
            .count() as u64;
        if outside <= allowed {
            return (side as u32, grounds);
        }
    }
    off
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(channels: usize, height: usize, width: usize) -> Geometry {
        Geometry {
            channels,
            height,
            width,
        }
    }

    /// Every flat square by brute force: top-left corners in the order of bottom-right ones.
    fn plain(record: &[u8], g: Geometry, side: usize) -> Vec<(usize, usize)> {
        let plane = g.height * g.width;
        let mut out = Vec::new();
        if side < 2 || side > g.height || side > g.width {
            return out;
        }
        for y in side - 1..g.height {
            for x in side - 1..g.width {
                let (top, left) = (y + 1 - side, x + 1 - side);
                let flat = (0..g.channels).all(|c| {
                    let v = record[c * plane + top * g.width + left];
                    (top..=y).all(|r| (left..=x).all(|q| record[c * plane + r * g.width + q] == v))
                });
                if flat {
                    out.push((top, left));
                }
            }
        }
        out
    }

    #[test]
    fn the_scan_finds_every_flat_square_a_plain_scan_finds() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut squares = 0;
        for case in 0..400 {
            let g = geometry(
                1 + case % 3,
                3 + (next() % 10) as usize,
                3 + (next() % 10) as usize,
            );
            // Few values, and blocks pasted, so that flat squares of every size occur.
            let levels = 1 + next() % 3;
            let mut r: Vec<u8> = (0..g.channels * g.height * g.width)
                .map(|_| (next() % levels) as u8)
                .collect();
            let k = 2 + (next() % 4) as usize;
            if k <= g.height && k <= g.width {
                let (top, left) = (
                    (next() as usize) % (g.height - k + 1),
                    (next() as usize) % (g.width - k + 1),
                );
                for c in 0..g.channels {
                    for y in top..top + k {
                        for x in left..left + k {
                            r[c * g.height * g.width + y * g.width + x] = 7 + c as u8;
                        }
                    }
                }
            }
            for side in 2..=6 {
                let want = plain(&r, g, side);
                let mut got = Vec::new();
                each_flat_square(&r, g, side, |row, col| {
                    got.push((row, col));
                    false
                });
                assert_eq!(got, want, "case {case}, side {side}, {g:?}");
                squares += want.len();
            }
        }
        assert!(squares > 1000, "{squares}");
    }

    #[test]
    fn ground_squares_are_exempt_and_others_are_found() {
        let g = geometry(3, 8, 8);
        // A gray ground (value 0 in every channel) and a gradient elsewhere.
        let mut r = vec![0u8; 3 * 64];
        for (i, v) in r.iter_mut().enumerate() {
            if i % 64 >= 32 {
                *v = (i % 64) as u8;
            }
        }
        let mut grounds = [0u8; FLAT_GROUND_BYTES];
        assert_eq!(flat_patch(&r, g, 3, &grounds), Some((0, 0)));
        grounds[0] = 1;
        assert_eq!(flat_patch(&r, g, 3, &grounds), None);
        // A 3x3 block of (9, 9, 9) in the gradient; a 2x2 one is under the side.
        for c in 0..3 {
            for y in 5..8 {
                for x in 2..5 {
                    r[c * 64 + y * 8 + x] = 9;
                }
            }
        }
        assert_eq!(flat_patch(&r, g, 3, &grounds), Some((5, 2)));
        assert_eq!(flat_patch(&r, g, 4, &grounds), None);
        // One channel off by one in one pixel: not flat.
        r[64 + 6 * 8 + 3] = 10;
        assert_eq!(flat_patch(&r, g, 3, &grounds), None);
        // A colour block is flat when each channel is constant, the channels differing.
        r[64 + 6 * 8 + 3] = 9;
        for y in 5..8 {
            for x in 2..5 {
                r[2 * 64 + y * 8 + x] = 200;
            }
        }
        assert_eq!(flat_patch(&r, g, 3, &grounds), Some((5, 2)));
        // With 9 a ground value but not 200, the colour block still counts.
        grounds[1] |= 1 << 1;
        assert_eq!(flat_patch(&r, g, 3, &grounds), Some((5, 2)));
    }

    #[test]
    fn the_fit_takes_the_smallest_side_most_records_lack_and_their_common_ground() {
        let g = geometry(1, 8, 8);
        // 100 records: a ground of 0 with a 3x3 square of it in every one, a 2x2 square of
        // another value in 40 of them, a 3x3 square of another value in one of them.
        let mut records = Vec::new();
        for i in 0..100u8 {
            // No two neighbours equal (37 apart along a row, 96 down a column).
            let mut r: Vec<u8> = (0..64usize)
                .map(|p| (1 + (p * 37 + usize::from(i) * 11) % 200) as u8)
                .collect();
            for y in 0..3 {
                for x in 0..3 {
                    r[y * 8 + x] = 0;
                }
            }
            if i < 40 {
                for y in 5..7 {
                    for x in 5..7 {
                        r[y * 8 + x] = 100;
                    }
                }
            }
            if i == 99 {
                for y in 4..7 {
                    for x in 4..7 {
                        r[y * 8 + x] = 150;
                    }
                }
            }
            records.push(r);
        }
        // Side 2: 100 (40% of the records) is a ground value too, but the 3x3 square of 150
        // holds 2x2 squares of 150 in one record: 1 record outside the ground, within 1%.
        let (side, grounds) = fit_flat_patch(&records, g);
        assert_eq!(side, 2);
        assert!(is_ground(&grounds, 0) && is_ground(&grounds, 100) && !is_ground(&grounds, 150));
        // With the 2x2 squares of 100 in only 5 records they are no ground: side 2 has 6
        // records outside it, side 3 one.
        for r in &mut records[5..40] {
            for y in 5..7 {
                for x in 5..7 {
                    r[y * 8 + x] = 100 + (y * 8 + x) as u8;
                }
            }
        }
        let (side, grounds) = fit_flat_patch(&records, g);
        assert_eq!(side, 3);
        assert!(is_ground(&grounds, 0) && !is_ground(&grounds, 100));
        // Every record flat everywhere in its own value: no side is rare enough.
        let flat: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; 64]).collect();
        assert_eq!(fit_flat_patch(&flat, g), (0, [0u8; FLAT_GROUND_BYTES]));
    }
}
