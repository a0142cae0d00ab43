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
//! of a sixteenth of the value range. Both points are one scan (each channel's smallest and
//! largest value over every square; the exact point at tolerance 0). Integer comparisons
//! only: every node reaches the same verdict.

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
                let extremes = square_extremes(r, g, side).unwrap_or_default();
                let squares = extremes.first().map_or(0, |(min, _)| min.len());
                for i in 0..squares {
                    if extremes.iter().all(|(min, max)| min[i] == max[i]) {
                        for (min, _) in &extremes {
                            set_ground(&mut mask, min[i]);
                        }
                    }
                }
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
    // One line's window extremes (`len - side + 1` of them, in order) into `out`.
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

/// Per channel of `record` (an image of geometry `g`), the smallest and largest value of
/// every square of side `side` ([`window_extremes`]); `None` when no such square fits.
fn square_extremes(record: &[u8], g: Geometry, side: usize) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let plane = squares_fit(record, g, side)?;
    Some(
        record
            .chunks_exact(plane)
            .map(|p| window_extremes(p, g.height, g.width, side))
            .collect(),
    )
}

/// The plane size of `record` when it is an image of geometry `g` with room for a square of
/// side `side` (at least 2).
fn squares_fit(record: &[u8], g: Geometry, side: usize) -> Option<usize> {
    let plane = g.height * g.width;
    let fits = side >= 2 && side <= g.height && side <= g.width && g.channels > 0;
    (fits && record.len() == g.channels * plane).then_some(plane)
}

/// The first square of side `side` in `record` (an image of geometry `g`), by top-left corner
/// in row-major order, over which every channel's values lie within `tolerance` of each other,
/// not every channel's within `tolerance` of one ground value of `grounds`, as its top-left
/// corner `(row, column)`. Tolerance 0 is the rule's exact point (a block of one value pasted
/// over the image), more its near point (a block with a little texture).
pub(crate) fn flat_patch(
    record: &[u8],
    g: Geometry,
    side: usize,
    tolerance: u32,
    grounds: &[u8; FLAT_GROUND_BYTES],
) -> Option<(u32, u32)> {
    let plane = squares_fit(record, g, side)?;
    // Channel by channel, the squares still within the tolerance: most images have none
    // after their first channel.
    let mut extremes = Vec::with_capacity(g.channels);
    let mut within: Vec<bool> = Vec::new();
    for p in record.chunks_exact(plane) {
        let (min, max) = window_extremes(p, g.height, g.width, side);
        if within.is_empty() {
            within = vec![true; min.len()];
        }
        let mut any = false;
        for (ok, (lo, hi)) in within.iter_mut().zip(min.iter().zip(&max)) {
            *ok &= u32::from(hi - lo) <= tolerance;
            any |= *ok;
        }
        if !any {
            return None;
        }
        extremes.push((min, max));
    }
    let t = i32::try_from(tolerance).unwrap_or(i32::MAX);
    // A ground value in `[max - t, min + t]`: every value of the channel within t of it.
    let near_ground = |lo: u8, hi: u8| {
        let from = (i32::from(hi) - t).max(0);
        let to = (i32::from(lo) + t).min(255);
        (from..=to).any(|v| is_ground(grounds, v as u8))
    };
    let cols = g.width - side + 1;
    (0..(g.height - side + 1) * cols)
        .find(|&i| {
            within[i]
                && !extremes
                    .iter()
                    .all(|(min, max)| near_ground(min[i], max[i]))
        })
        .map(|i| ((i / cols) as u32, (i % cols) as u32))
}

/// The near point's side fitted to `records` (images of geometry `g`) at `tolerance` with the
/// ground values `grounds`: the smallest side from 2 up at which at most
/// [`FLAT_PATCH_FIT_PER_MILLE`] thousandths of the records (rounded down) hold a square
/// [`flat_patch`] finds at `tolerance`; 0, the point off, when no side up to the image's smaller
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
                .filter(|r| flat_patch(r, g, side, tolerance, grounds).is_some())
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
        assert_eq!(flat_patch(&r, g, 3, 0, &grounds), Some((0, 0)));
        grounds[0] = 1;
        assert_eq!(flat_patch(&r, g, 3, 0, &grounds), None);
        // A 3x3 block of (9, 9, 9) in the gradient; a 2x2 one is under the side.
        for c in 0..3 {
            for y in 5..8 {
                for x in 2..5 {
                    r[c * 64 + y * 8 + x] = 9;
                }
            }
        }
        assert_eq!(flat_patch(&r, g, 3, 0, &grounds), Some((5, 2)));
        assert_eq!(flat_patch(&r, g, 4, 0, &grounds), None);
        // One channel off by one in one pixel: not flat.
        r[64 + 6 * 8 + 3] = 10;
        assert_eq!(flat_patch(&r, g, 3, 0, &grounds), None);
        // A colour block is flat when each channel is constant, the channels differing.
        r[64 + 6 * 8 + 3] = 9;
        for y in 5..8 {
            for x in 2..5 {
                r[2 * 64 + y * 8 + x] = 200;
            }
        }
        assert_eq!(flat_patch(&r, g, 3, 0, &grounds), Some((5, 2)));
        // With 9 a ground value but not 200, the colour block still counts.
        grounds[1] |= 1 << 1;
        assert_eq!(flat_patch(&r, g, 3, 0, &grounds), Some((5, 2)));
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

    /// [`flat_patch`] by brute force.
    fn plain(
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
    fn the_scan_finds_what_a_plain_scan_finds() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut found = 0;
        for case in 0..600 {
            let g = geometry(
                1 + case % 3,
                2 + (next() % 11) as usize,
                2 + (next() % 11) as usize,
            );
            // Spreads of 1 to 3 make flat squares of every size; blocks with no texture too.
            let spread = 1 + next() % 40;
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
                    let want = plain(&r, g, side, t, &grounds);
                    assert_eq!(
                        flat_patch(&r, g, side, t, &grounds),
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
        assert_eq!(flat_patch(&r, g, 3, 2, &none), None);
        for c in 0..3 {
            for y in 4..7 {
                for x in 1..4 {
                    r[c * 64 + y * 8 + x] = 99 + ((x + y + c) % 3) as u8;
                }
            }
        }
        // The block's range is 2: found at tolerance 2, not at 1, nor by the exact point.
        assert_eq!(flat_patch(&r, g, 3, 2, &none), Some((4, 1)));
        assert_eq!(flat_patch(&r, g, 3, 1, &none), None);
        assert_eq!(flat_patch(&r, g, 3, 0, &none), None);
        assert_eq!(flat_patch(&r, g, 4, 2, &none), None);
        // A ground value within the tolerance of every value of each channel exempts it; one
        // a level too far does not.
        let mut grounds = [0u8; FLAT_GROUND_BYTES];
        set_ground(&mut grounds, 103);
        assert_eq!(flat_patch(&r, g, 3, 2, &grounds), Some((4, 1)));
        set_ground(&mut grounds, 101);
        assert_eq!(flat_patch(&r, g, 3, 2, &grounds), None);
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
