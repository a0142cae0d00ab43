//! A reference reward rule by training quality, in integer arithmetic a chain can put in
//! consensus: the block subsidy scaled by the improvement the block made to the network's model,
//! with a bounded, symmetric factor.
//!
//! `reward = subsidy × (10^6 + a) / 10^6`, `a = clamp(Δ × max_adjustment_ppm / full_improvement,
//! ±max_adjustment_ppm)` (the division truncates toward zero), where `Δ` is the start score
//! minus the winning score in [`QualityPoints`], both measured on records the miner could not
//! choose ([`settle`](super::settle)). The factor is linear in `Δ` and odd, so over a run of
//! blocks whose adjustments stay inside the bound the rewards sum (up to rounding) to
//! `n × subsidy` plus a term in the improvements' sum, which telescopes to the run's cumulative
//! improvement where consecutive scores are measured on the same records: making the model
//! worse in one block to improve it in the next earns nothing. Settled scores are measured on
//! each block's own later records, so the sum telescopes only up to that measurement noise
//! (README, "Reward by quality and fork choice", has the manipulation analysis and its
//! measurements).

use crate::error::{Error, Result};
use crate::hash::Digest;
use std::cmp::Ordering;

/// Millionths: the unit of [`RewardRule::max_adjustment_ppm`].
pub const PPM: u64 = 1_000_000;

/// A quality score (lower is better) as an integer: the score times 2^20, rounded to nearest.
/// Scores are deterministic `f64`s (exact-arithmetic samples, a fixed summation order), so every
/// node converts them to the same points; consensus arithmetic uses only the points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualityPoints(pub u64);

impl QualityPoints {
    /// Points per unit of score.
    pub const PER_UNIT: u64 = 1 << 20;
    /// The largest score that converts (2^43: points stay below 2^63).
    pub const MAX_SCORE: f64 = 8_796_093_022_208.0;

    /// The points of `score`: finite, non-negative and at most [`Self::MAX_SCORE`], else
    /// [`Error::InvalidField`].
    pub fn from_score(score: f64) -> Result<QualityPoints> {
        if !score.is_finite() || !(0.0..=Self::MAX_SCORE).contains(&score) {
            return Err(Error::InvalidField {
                what: "quality score",
                detail: format!("{score} is not a finite score in 0..=2^43"),
            });
        }
        // Exact: a power-of-two scale, then round-half-away on a value below 2^63.
        Ok(QualityPoints((score * Self::PER_UNIT as f64).round() as u64))
    }

    /// The score these points stand for (rounded to 2^-20).
    pub fn score(self) -> f64 {
        self.0 as f64 / Self::PER_UNIT as f64
    }
}

/// The parameters of the reward rule: consensus parameters of a chain that adopts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RewardRule {
    /// The largest share of the subsidy added (a block that improves the model) or withheld (one
    /// that makes it worse), in millionths: at most [`PPM`].
    pub max_adjustment_ppm: u32,
    /// The improvement, in points, that earns the whole adjustment; smaller ones earn their
    /// share of it, linearly. At least 1.
    pub full_improvement: QualityPoints,
}

impl RewardRule {
    /// Checks the bounds: [`Error::InvalidParameters`] when the adjustment exceeds the subsidy or
    /// the full improvement is zero.
    pub fn validate(&self) -> Result<()> {
        if u64::from(self.max_adjustment_ppm) > PPM {
            return Err(Error::InvalidParameters(format!(
                "reward adjustment of {} ppm exceeds the subsidy ({PPM} ppm)",
                self.max_adjustment_ppm
            )));
        }
        if self.full_improvement.0 == 0 {
            return Err(Error::InvalidParameters(
                "the improvement earning the full adjustment must be at least 1 point".into(),
            ));
        }
        Ok(())
    }

    /// The adjustment, in millionths of the subsidy, for a block that took the model from
    /// `start` to `end` points: positive when it improved, odd in the improvement, bounded by
    /// `max_adjustment_ppm`.
    pub fn adjustment_ppm(&self, start: QualityPoints, end: QualityPoints) -> Result<i64> {
        self.validate()?;
        let improvement = i128::from(start.0) - i128::from(end.0);
        let max = i128::from(self.max_adjustment_ppm);
        let scaled = improvement * max / i128::from(self.full_improvement.0);
        // Within ±10^6: fits.
        Ok(scaled.clamp(-max, max) as i64)
    }
}

/// The reward of a block: `subsidy` scaled by the rule's adjustment for a model taken from
/// `start` to `end` points (rounded down): at most twice the subsidy, [`Error::InvalidParameters`]
/// where that would not fit in 64 bits.
pub fn reward(
    subsidy: u64,
    start: QualityPoints,
    end: QualityPoints,
    rule: &RewardRule,
) -> Result<u64> {
    let factor = i128::from(PPM) + i128::from(rule.adjustment_ppm(start, end)?);
    // factor in 0..=2×10^6 and subsidy below 2^64: the product fits in i128.
    let paid = i128::from(subsidy) * factor / i128::from(PPM);
    u64::try_from(paid).map_err(|_| Error::InvalidParameters("reward above 2^64".into()))
}

/// One of two valid blocks at the same height, as the tie-break sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contender {
    /// Its winning checkpoint's score on the records both blocks drew
    /// ([`break_tie`](super::break_tie)).
    pub points: QualityPoints,
    /// Its block identity ([`BlockProof::id`](super::BlockProof::id)).
    pub block_id: Digest,
}

/// Which of two contenders a chain keeps: [`Ordering::Less`] when `a` is preferred. The better
/// model (fewer points) wins; equal scores fall back to the smaller block identity, so the
/// answer is the same on every node and in either argument order.
pub fn prefer(a: &Contender, b: &Contender) -> Ordering {
    a.points
        .cmp(&b.points)
        .then_with(|| a.block_id.cmp(&b.block_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: RewardRule = RewardRule {
        max_adjustment_ppm: 200_000,
        full_improvement: QualityPoints(1000),
    };

    #[test]
    fn linear_bounded_and_odd() {
        let r = |s, e| reward(1_000_000, QualityPoints(s), QualityPoints(e), &RULE).unwrap();
        assert_eq!(r(5000, 5000), 1_000_000);
        assert_eq!(r(5000, 4500), 1_100_000);
        assert_eq!(r(4500, 5000), 900_000);
        assert_eq!(r(5000, 4000), 1_200_000);
        assert_eq!(r(5000, 0), 1_200_000);
        assert_eq!(r(0, 5000), 800_000);
        // Odd: the adjustment of -Δ is minus that of Δ, truncation included.
        for d in [1i64, 3, 7, 333, 999, 1001] {
            let up = RULE
                .adjustment_ppm(QualityPoints(10_000), QualityPoints((10_000 - d) as u64))
                .unwrap();
            let down = RULE
                .adjustment_ppm(QualityPoints((10_000 - d) as u64), QualityPoints(10_000))
                .unwrap();
            assert_eq!(up, -down, "{d}");
        }
    }

    /// Inside the bound, a run's rewards depend on its cumulative improvement only: a worse
    /// block followed by a better one pays what two even blocks pay.
    #[test]
    fn rewards_of_a_run_telescope() {
        let pay = |path: &[u64]| -> u64 {
            path.windows(2)
                .map(|w| {
                    reward(1_000_000, QualityPoints(w[0]), QualityPoints(w[1]), &RULE).unwrap()
                })
                .sum()
        };
        assert_eq!(pay(&[5000, 4600, 4400]), pay(&[5000, 5200, 4400]));
        assert_eq!(pay(&[5000, 4600, 4400]), pay(&[5000, 4400, 4400]));
    }

    #[test]
    fn extremes_neither_overflow_nor_exceed_twice_the_subsidy() {
        let full = RewardRule {
            max_adjustment_ppm: PPM as u32,
            full_improvement: QualityPoints(1),
        };
        let most = reward(
            u64::MAX / 2,
            QualityPoints(u64::MAX),
            QualityPoints(0),
            &full,
        )
        .unwrap();
        assert_eq!(most, u64::MAX / 2 * 2);
        assert_eq!(
            reward(u64::MAX, QualityPoints(0), QualityPoints(u64::MAX), &full).unwrap(),
            0
        );
        assert!(reward(u64::MAX, QualityPoints(1), QualityPoints(0), &full).is_err());
    }

    #[test]
    fn rules_out_of_bounds_are_refused() {
        let too_much = RewardRule {
            max_adjustment_ppm: PPM as u32 + 1,
            ..RULE
        };
        assert!(reward(1, QualityPoints(0), QualityPoints(0), &too_much).is_err());
        let zero = RewardRule {
            full_improvement: QualityPoints(0),
            ..RULE
        };
        assert!(reward(1, QualityPoints(0), QualityPoints(0), &zero).is_err());
    }

    #[test]
    fn scores_convert_exactly_and_bad_ones_are_refused() {
        assert_eq!(
            QualityPoints::from_score(1.0).unwrap(),
            QualityPoints(1 << 20)
        );
        assert_eq!(QualityPoints::from_score(0.25).unwrap().score(), 0.25);
        for bad in [f64::NAN, f64::INFINITY, -1e-9, 1e14] {
            assert!(QualityPoints::from_score(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_better_model_wins_a_tie_in_either_order() {
        let a = Contender {
            points: QualityPoints(10),
            block_id: [9; 32],
        };
        let b = Contender {
            points: QualityPoints(11),
            block_id: [1; 32],
        };
        assert_eq!(prefer(&a, &b), Ordering::Less);
        assert_eq!(prefer(&b, &a), Ordering::Greater);
        let b_even = Contender {
            points: QualityPoints(10),
            ..b
        };
        assert_eq!(prefer(&a, &b_even), Ordering::Greater);
        assert_eq!(prefer(&b_even, &a), Ordering::Less);
    }
}
