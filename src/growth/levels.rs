//! The levels rule's normal form: a record with its brightness and contrast taken out, so that
//! a copy made brighter, darker, or with more or less contrast, lies as close to its record
//! as a copy with a little noise.
//!
//! Each channel is placed by its own median and spread: its median goes to [`MIDDLE`], and a
//! distance of one mean absolute deviation from the median to [`SCALE`] values from it.
//! Moving every value by the same amount moves the median by it and keeps the deviations,
//! and scaling every distance from a level scales the deviation too: the normal form stays,
//! but for rounding and for the values clipped at the ends of the range. (The interquartile
//! range would not do: in an image of sparse strokes on a blank ground, such as a digit, more
//! than three quarters of the values are 0, the range is empty and every stroke becomes one
//! value, so two different digits of one shape would have one normal form.) Integer
//! arithmetic only: every node computes the same bytes.

/// Where a channel's median goes in the normal form.
const MIDDLE: i128 = 128;
/// How far from [`MIDDLE`] a value one mean absolute deviation from the median goes.
const SCALE: i128 = 16;

/// The number of channels a record of `shape` is normalised in: `C` for an image shape
/// `[C, H, W]`, else 1 (the record as one channel).
pub(crate) fn level_channels(shape: &[u32]) -> usize {
    match shape {
        [c, _, _] if *c > 0 => *c as usize,
        _ => 1,
    }
}

/// Writes the normal form of `record` (`channels` channels of equal length, one after the
/// other; a record that does not divide evenly is taken as one channel) into `out` (same
/// length): per channel of `n` values, with `m` its median (the smallest value with at least
/// half the channel's values at or below it) and `d` the sum of `|v - m|` over them, each
/// value `v` becomes `clamp(128 + floor((v - m) * 16 * n / max(d, 1)), 0, 255)`.
pub(crate) fn normalise_levels(record: &[u8], channels: usize, out: &mut [u8]) {
    let channels = if channels > 0 && record.len().is_multiple_of(channels) {
        channels
    } else {
        1
    };
    let len = (record.len() / channels).max(1);
    for (from, to) in record.chunks(len).zip(out.chunks_mut(len)) {
        let mut counts = [0u64; 256];
        for &v in from {
            counts[usize::from(v)] += 1;
        }
        let n = from.len() as u64;
        let half = n.div_ceil(2).max(1);
        let mut seen = 0u64;
        let median = counts
            .iter()
            .position(|&c| {
                seen += c;
                seen >= half
            })
            .unwrap_or(255) as i128;
        let deviation: i128 = counts
            .iter()
            .enumerate()
            .map(|(v, &c)| (v as i128 - median).abs() * i128::from(c))
            .sum();
        let deviation = deviation.max(1);
        let mut table = [0u8; 256];
        for (v, t) in table.iter_mut().enumerate() {
            let placed =
                MIDDLE + ((v as i128 - median) * SCALE * i128::from(n)).div_euclid(deviation);
            *t = placed.clamp(0, 255) as u8;
        }
        for (o, &v) in to.iter_mut().zip(from) {
            *o = table[usize::from(v)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(record: &[u8], channels: usize) -> Vec<u8> {
        let mut out = vec![0u8; record.len()];
        normalise_levels(record, channels, &mut out);
        out
    }

    #[test]
    fn median_and_deviation_place_each_channel() {
        // Channel 0: median 20, deviations 10, 0, 10, 20 (mean 10); channel 1 constant (no
        // deviation: taken as 1).
        let r = [10, 20, 30, 40, 7, 7, 7, 7];
        assert_eq!(normal(&r, 2), [112, 128, 144, 160, 128, 128, 128, 128]);
        // Below the median, floor rounds away from the middle; values clip at the ends.
        let r = [0, 10, 13, 20, 255];
        // n = 5: median 13, deviations 13, 3, 0, 7, 242 (sum 265): 16 * 5 / 265 per level.
        assert_eq!(normal(&r, 1), [124, 127, 128, 130, 201]);
        // A length the channels do not divide is one channel.
        assert_eq!(normal(&r, 2), normal(&r, 1));
        // A digit's strokes keep their levels where most values are 0 (no empty spread).
        let r = [0, 0, 0, 0, 0, 4, 8, 16];
        assert_eq!(normal(&r, 1), [128, 128, 128, 128, 128, 146, 164, 201]);
    }

    #[test]
    fn brightness_and_contrast_leave_the_normal_form() {
        let r: Vec<u8> = (0..300u32).map(|i| ((i * 37) % 101 + 40) as u8).collect();
        let brighter: Vec<u8> = r.iter().map(|&v| v + 50).collect();
        assert_eq!(normal(&brighter, 3), normal(&r, 3));
        // Twice the contrast (distances from 0 doubled): the same form up to rounding.
        let stretched: Vec<u8> = r.iter().map(|&v| v.saturating_sub(40) * 2).collect();
        let (a, b) = (normal(&stretched, 3), normal(&r, 3));
        assert!(a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1));
    }
}
