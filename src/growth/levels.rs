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
    LevelTables::of(record, channels).apply(record, out);
}

/// The per-channel maps of a record's values to its normal form ([`normalise_levels`]). A
/// channel's map depends only on how many of each value it holds, so it also gives the normal
/// form of any reordering of the values within each channel: the record turned, flipped or
/// mirrored.
pub(crate) struct LevelTables {
    tables: Vec<[u8; 256]>,
    channel_len: usize,
}

impl LevelTables {
    /// The maps of `record` with `channels` channels (as [`normalise_levels`] splits it).
    pub(crate) fn of(record: &[u8], channels: usize) -> Self {
        let channels = if channels > 0 && record.len().is_multiple_of(channels) {
            channels
        } else {
            1
        };
        let channel_len = (record.len() / channels).max(1);
        let tables = record.chunks(channel_len).map(channel_table).collect();
        LevelTables {
            tables,
            channel_len,
        }
    }

    /// Writes the normal form of `form` (the record these maps are of, or a reordering of
    /// its values within each channel) into `out` (same length).
    pub(crate) fn apply(&self, form: &[u8], out: &mut [u8]) {
        for ((from, to), table) in form
            .chunks(self.channel_len)
            .zip(out.chunks_mut(self.channel_len))
            .zip(&self.tables)
        {
            for (o, &v) in to.iter_mut().zip(from) {
                *o = table[usize::from(v)];
            }
        }
    }
}

/// One channel's map (entries for the values the channel holds; the others 0).
fn channel_table(channel: &[u8]) -> [u8; 256] {
    let mut counts = [0u64; 256];
    for &v in channel {
        counts[usize::from(v)] += 1;
    }
    let n = channel.len() as u64;
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
    let scale = SCALE * i128::from(n);
    let mut table = [0u8; 256];
    for (v, t) in table.iter_mut().enumerate() {
        if counts[v] == 0 {
            continue;
        }
        let placed = MIDDLE + ((v as i128 - median) * scale).div_euclid(deviation);
        *t = placed.clamp(0, 255) as u8;
    }
    table
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
    fn the_maps_of_a_record_give_the_normal_form_of_its_reorderings() {
        let r: Vec<u8> = (0..48u32).map(|i| ((i * 53) % 97) as u8).collect();
        let tables = LevelTables::of(&r, 3);
        // Each channel's values reversed (a mirror of one-row planes).
        let reordered: Vec<u8> = r.chunks(16).flat_map(|c| c.iter().rev().copied()).collect();
        let mut out = vec![0u8; 48];
        tables.apply(&reordered, &mut out);
        assert_eq!(out, normal(&reordered, 3));
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
