//! The flat-patch rule: damage that fills a square of an image with one value (a block pasted
//! over it, a region blanked out), which leaves the rest of the image as it was and so moves
//! the model's features of the whole image too little to be judged by them.
//!
//! A *flat square* of side `k` is a `k`x`k` square of pixels over which every channel holds one
//! value. Real photographs hold small ones (an overexposed or a dark region) and some
//! kinds of image hold large ones of one value everywhere (the blank ground of a digit): the
//! rule is fitted to the dataset, the side the smallest at which hardly any of its records
//! holds a flat square, and the values its records commonly hold flat at that side (their
//! ground) exempt.
//!
//! Its *near point* takes a block given a little texture, which the exact point misses: a
//! square over which every channel's values lie within a tolerance of each other, unless each
//! channel's lie within it of one ground value; its side fitted the same way at a tolerance
//! of a sixteenth of the value range. Integer comparisons only: every node reaches the same
//! verdict.

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

/// The tolerance of the flat-patch rule's near point for values `0..=value_max`
/// ([`fit_near_flat_rule`](super::fit_near_flat_rule)): a sixteenth of the range, and at
/// least [`NEAR_FLAT_MIN_TOLERANCE`] (one level of noise either way spans 2); `None` (the point
/// off) where that leaves no value range a square can exceed.
pub(crate) fn near_flat_tolerance(value_max: u32) -> Option<u32> {
    let t = (value_max / NEAR_FLAT_TOLERANCE_DIVISOR).max(NEAR_FLAT_MIN_TOLERANCE);
    (t < value_max).then_some(t)
}

/// The near point's tolerance is the value range over this divisor.
pub const NEAR_FLAT_TOLERANCE_DIVISOR: u32 = 16;

/// The near point's smallest fitted tolerance.
pub const NEAR_FLAT_MIN_TOLERANCE: u32 = 2;

/// Per window of `side` x `side` pixels of a `height` x `width` plane, the smallest and the
/// largest value, windows by top-left corner in row-major order (`(height - side + 1) *
/// (width - side + 1)` of each): running extremes over blocks of `side` from either end (van
/// Herk, Gil and Werman), along rows, then along columns, linear in the pixels whatever the
/// side.
fn window_extremes(plane: &[u8], height: usize, width: usize, side: usize) -> (Vec<u8>, Vec<u8>) {
    // One line's window extremes into `out` (`len - side + 1` values, `step` apart in `line`).
    fn line(
        values: impl Fn(usize) -> (u8, u8),
        len: usize,
        side: usize,
        prefix: &mut [(u8, u8)],
        suffix: &mut [(u8, u8)],
        mut out: impl FnMut(usize, (u8, u8)),
    ) {
        let both = |a: (u8, u8), b: (u8, u8)| (a.0.min(b.0), a.1.max(b.1));
        for i in 0..len {
            let v = values(i);
            prefix[i] = if i % side == 0 {
                v
            } else {
                both(prefix[i - 1], v)
            };
        }
        for i in (0..len).rev() {
            let v = values(i);
            suffix[i] = if i % side == side - 1 || i == len - 1 {
                v
            } else {
                both(suffix[i + 1], v)
            };
        }
        for i in 0..=len - side {
            out(i, both(suffix[i], prefix[i + side - 1]));
        }
    }
    let cols = width - side + 1;
    let rows = height - side + 1;
    let mut prefix = vec![(0u8, 0u8); height.max(width)];
    let mut suffix = prefix.clone();
    // Along rows: extremes of `side` pixels to the right of each (row, column < cols).
    let mut across = vec![(0u8, 0u8); height * cols];
    for y in 0..height {
        let row = &plane[y * width..(y + 1) * width];
        line(
            |i| (row[i], row[i]),
            width,
            side,
            &mut prefix,
            &mut suffix,
            |i, e| {
                across[y * cols + i] = e;
            },
        );
    }
    let mut min = vec![0u8; rows * cols];
    let mut max = vec![0u8; rows * cols];
    for x in 0..cols {
        line(
            |i| across[i * cols + x],
            height,
            side,
            &mut prefix,
            &mut suffix,
            |i, e| {
                min[i * cols + x] = e.0;
                max[i * cols + x] = e.1;
            },
        );
    }
    (min, max)
}

/// The first square of side `side` in `record` (an image of geometry `g`), by top-left corner
/// in row-major order, over which every channel's values lie within `tolerance` of each other,
/// not every channel's within `tolerance` of one ground value of `grounds` (a block with a
/// little texture pasted over the image), as its top-left corner `(row, column)`.
pub(crate) fn near_flat_patch(
    record: &[u8],
    g: Geometry,
    side: usize,
    tolerance: u32,
    grounds: &[u8; FLAT_GROUND_BYTES],
) -> Option<(u32, u32)> {
    let (h, w) = (g.height, g.width);
    let plane = h * w;
    if side < 2 || side > h || side > w || g.channels == 0 || record.len() != g.channels * plane {
        return None;
    }
    let extremes: Vec<(Vec<u8>, Vec<u8>)> = record
        .chunks_exact(plane)
        .map(|p| window_extremes(p, h, w, side))
        .collect();
    let t = i32::try_from(tolerance).unwrap_or(i32::MAX);
    // A ground value in `[max - t, min + t]`: every value of the channel within t of it.
    let near_ground = |lo: u8, hi: u8| {
        let from = (i32::from(hi) - t).max(0);
        let to = (i32::from(lo) + t).min(255);
        (from..=to).any(|v| is_ground(grounds, v as u8))
    };
    let cols = w - side + 1;
    (0..(h - side + 1) * cols)
        .find(|&i| {
            extremes
                .iter()
                .all(|(min, max)| u32::from(max[i] - min[i]) <= tolerance)
                && !extremes
                    .iter()
                    .all(|(min, max)| near_ground(min[i], max[i]))
        })
        .map(|i| ((i / cols) as u32, (i % cols) as u32))
}

/// The near point's side fitted to `records` (images of geometry `g`) at `tolerance` with the
/// ground values `grounds`: the smallest side from 2 up at which at most
/// [`FLAT_PATCH_FIT_PER_MILLE`] thousandths of the records (rounded down) hold a square
/// [`near_flat_patch`] finds; 0, the point off, when no side up to the image's smaller
/// dimension does.
pub(crate) fn fit_near_flat_side(
    records: &[Vec<u8>],
    g: Geometry,
    tolerance: u32,
    grounds: &[u8; FLAT_GROUND_BYTES],
) -> u32 {
    let n = records.len() as u64;
    if n == 0 {
        return 0;
    }
    let allowed = n * u64::from(FLAT_PATCH_FIT_PER_MILLE) / 1000;
    (2..=g.height.min(g.width))
        .find(|&side| {
            let holders = records
                .iter()
                .filter(|r| near_flat_patch(r, g, side, tolerance, grounds).is_some())
                .count() as u64;
            holders <= allowed
        })
        .map_or(0, |side| side as u32)
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

    /// A xorshift generator from `state` (not zero): test images without a dependency.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    #[test]
    fn the_scan_finds_every_flat_square_a_plain_scan_finds() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
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

    /// [`near_flat_patch`] by brute force.
    fn plain_near(
        record: &[u8],
        g: Geometry,
        side: usize,
        t: u32,
        grounds: &[u8; FLAT_GROUND_BYTES],
    ) -> Option<(u32, u32)> {
        let plane = g.height * g.width;
        if side < 2 || side > g.height || side > g.width {
            return None;
        }
        for top in 0..=g.height - side {
            for left in 0..=g.width - side {
                let extremes: Vec<(u8, u8)> = (0..g.channels)
                    .map(|c| {
                        let values = (top..top + side).flat_map(|y| {
                            (left..left + side).map(move |x| record[c * plane + y * g.width + x])
                        });
                        let v: Vec<u8> = values.collect();
                        (*v.iter().min().unwrap(), *v.iter().max().unwrap())
                    })
                    .collect();
                let near = extremes.iter().all(|&(lo, hi)| u32::from(hi - lo) <= t);
                let ground = extremes.iter().all(|&(lo, hi)| {
                    (0..=255u8).any(|v| {
                        is_ground(grounds, v)
                            && u32::from(v.abs_diff(lo)) <= t
                            && u32::from(v.abs_diff(hi)) <= t
                    })
                });
                if near && !ground {
                    return Some((top as u32, left as u32));
                }
            }
        }
        None
    }

    #[test]
    fn the_near_scan_finds_what_a_plain_scan_finds() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut found = 0;
        for case in 0..600 {
            let g = geometry(
                1 + case % 3,
                2 + (next() % 11) as usize,
                2 + (next() % 11) as usize,
            );
            let spread = 2 + next() % 40;
            let mut r: Vec<u8> = (0..g.channels * g.height * g.width)
                .map(|_| (next() % spread) as u8)
                .collect();
            // A block with up to 3 levels of texture.
            let k = 2 + (next() % 5) as usize;
            if k <= g.height && k <= g.width {
                let (top, left) = (
                    (next() as usize) % (g.height - k + 1),
                    (next() as usize) % (g.width - k + 1),
                );
                let level = (next() % 250) as u8;
                let texture = next() % 4;
                for c in 0..g.channels {
                    for y in top..top + k {
                        for x in left..left + k {
                            r[c * g.height * g.width + y * g.width + x] =
                                level + (next() % (texture + 1)) as u8;
                        }
                    }
                }
            }
            let mut grounds = [0u8; FLAT_GROUND_BYTES];
            for _ in 0..next() % 4 {
                set_ground(&mut grounds, (next() % 50) as u8);
            }
            for side in 2..=7 {
                for t in 0..4 {
                    let want = plain_near(&r, g, side, t, &grounds);
                    assert_eq!(
                        near_flat_patch(&r, g, side, t, &grounds),
                        want,
                        "case {case}, side {side}, tolerance {t}, {g:?}"
                    );
                    found += usize::from(want.is_some());
                }
            }
        }
        assert!(found > 1000, "{found}");
    }

    #[test]
    fn textured_blocks_are_near_flat_and_near_ground_ones_exempt() {
        let g = geometry(3, 8, 8);
        // A gradient (neighbours 1 apart along a row, 8 down a column) with a 3x3 block of
        // 100 +-1 in its lower rows.
        let mut r: Vec<u8> = (0..3 * 64).map(|i| (i % 64 * 3) as u8).collect();
        let none = [0u8; FLAT_GROUND_BYTES];
        assert_eq!(near_flat_patch(&r, g, 3, 2, &none), None);
        for c in 0..3 {
            for y in 4..7 {
                for x in 1..4 {
                    r[c * 64 + y * 8 + x] = 99 + ((x + y + c) % 3) as u8;
                }
            }
        }
        // The block's range is 2: found at tolerance 2, not at 1, nor by the exact point.
        assert_eq!(near_flat_patch(&r, g, 3, 2, &none), Some((4, 1)));
        assert_eq!(near_flat_patch(&r, g, 3, 1, &none), None);
        assert_eq!(flat_patch(&r, g, 3, &none), None);
        assert_eq!(near_flat_patch(&r, g, 4, 2, &none), None);
        // A ground value within the tolerance of every value of each channel exempts it; one
        // a level too far does not.
        let mut grounds = [0u8; FLAT_GROUND_BYTES];
        set_ground(&mut grounds, 103);
        assert_eq!(near_flat_patch(&r, g, 3, 2, &grounds), Some((4, 1)));
        set_ground(&mut grounds, 101);
        assert_eq!(near_flat_patch(&r, g, 3, 2, &grounds), None);
    }

    #[test]
    fn the_near_fit_takes_the_smallest_side_the_records_lack() {
        let g = geometry(1, 8, 8);
        // A gradient with no two neighbours within 3 of each other, and in 20 of 100 records
        // a 2x2 square of 50 +-1, in one a 3x3 one.
        let mut records: Vec<Vec<u8>> = (0..100usize)
            .map(|i| {
                (0..64usize)
                    .map(|p| ((p % 8) * 4 + (p / 8) * 32 + i % 2) as u8)
                    .collect()
            })
            .collect();
        for (i, r) in records.iter_mut().enumerate().take(20) {
            let k = if i == 0 { 3 } else { 2 };
            for y in 0..k {
                for x in 0..k {
                    r[y * 8 + x] = 50 + ((x + y) % 2) as u8;
                }
            }
        }
        let none = [0u8; FLAT_GROUND_BYTES];
        assert_eq!(fit_near_flat_side(&records, g, 1, &none), 3);
        // Exempting the square's values as ground: side 2.
        let mut grounds = [0u8; FLAT_GROUND_BYTES];
        set_ground(&mut grounds, 50);
        assert_eq!(fit_near_flat_side(&records, g, 1, &grounds), 2);
        // At the whole range every square is near flat: no side is rare enough.
        assert_eq!(fit_near_flat_side(&records, g, 255, &none), 0);
        assert_eq!(near_flat_tolerance(16), Some(2));
        assert_eq!(near_flat_tolerance(255), Some(15));
        assert_eq!(near_flat_tolerance(2), None);
    }
}
