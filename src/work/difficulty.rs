//! Difficulty in training steps: a 256-bit target, tickets below it win.
//!
//! Each step `i` yields the ticket `t_i = H("pouw/ticket", header hash, d_i)`; a block is found
//! at the first step whose ticket, read as a big-endian integer, is below the target. Tickets
//! are uniform, so the expected number of steps per block is `2^256 / target`.
//!
//! Retargeting scales the target by observed / intended block time, the factor clamped to
//! `[1/4, 4]` per adjustment (so one window can neither collapse nor explode the difficulty).

use crate::hash::{tag, Digest, TaggedHasher};

/// A 256-bit target, big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target(pub [u8; 32]);

/// The largest factor one retarget may change the target by.
pub const MAX_RETARGET_FACTOR: u64 = 4;

/// Little-endian 64-bit limbs.
type Limbs = [u64; 4];

fn to_limbs(b: &[u8; 32]) -> Limbs {
    let mut l = [0u64; 4];
    for (i, limb) in l.iter_mut().enumerate() {
        let at = 32 - 8 * (i + 1);
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[at..at + 8]);
        *limb = u64::from_be_bytes(word);
    }
    l
}

fn from_limbs(l: &Limbs) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, limb) in l.iter().enumerate() {
        let at = 32 - 8 * (i + 1);
        b[at..at + 8].copy_from_slice(&limb.to_be_bytes());
    }
    b
}

/// `l * m`, or `None` on overflow.
fn mul_u64(l: &Limbs, m: u64) -> Option<Limbs> {
    let mut out = [0u64; 4];
    let mut carry = 0u128;
    for i in 0..4 {
        let v = u128::from(l[i]) * u128::from(m) + carry;
        out[i] = v as u64;
        carry = v >> 64;
    }
    (carry == 0).then_some(out)
}

/// `l / d` (d > 0).
fn div_u64(l: &Limbs, d: u64) -> Limbs {
    let mut out = [0u64; 4];
    let mut rem = 0u128;
    for i in (0..4).rev() {
        let v = (rem << 64) | u128::from(l[i]);
        out[i] = (v / u128::from(d)) as u64;
        rem = v % u128::from(d);
    }
    out
}

impl Target {
    /// The easiest target: every ticket but the all-ones one wins.
    pub const MAX: Target = Target([0xff; 32]);

    /// The target that takes `steps` training steps per block on average (`steps >= 1`):
    /// `floor(2^256 / steps) - 1`, whose [`Work`] is exactly `steps`.
    pub fn from_expected_steps(steps: u64) -> Target {
        let steps = steps.max(1);
        // floor(2^256 / s) is floor((2^256 - 1) / s), plus one where s divides 2^256.
        let mut t = div_u64(&to_limbs(&Target::MAX.0), steps);
        if !steps.is_power_of_two() {
            t = sub(&t, &[1, 0, 0, 0]);
        }
        Target(from_limbs(&t))
    }

    /// The average number of steps per block at this target, `2^256 / (target + 1)`.
    pub fn expected_steps(&self) -> f64 {
        let value = self
            .0
            .iter()
            .fold(0f64, |acc, &b| acc * 256.0 + f64::from(b));
        2f64.powi(256) / (value + 1.0)
    }

    /// Whether `ticket` wins against this target.
    pub fn is_met_by(&self, ticket: &Digest) -> bool {
        ticket < &self.0
    }

    /// The next target after a window whose blocks took `observed_secs` where `intended_secs`
    /// was intended: scaled by the ratio, clamped to a factor of [`MAX_RETARGET_FACTOR`] either
    /// way, and never above [`Target::MAX`].
    pub fn retarget(&self, observed_secs: u64, intended_secs: u64) -> Target {
        let intended = intended_secs.max(1);
        let observed = observed_secs.clamp(
            intended.div_ceil(MAX_RETARGET_FACTOR),
            intended.saturating_mul(MAX_RETARGET_FACTOR),
        );
        // target * observed / intended; on overflow divide first (loses only low bits).
        let limbs = to_limbs(&self.0);
        let scaled = match mul_u64(&limbs, observed) {
            Some(product) => div_u64(&product, intended),
            None => {
                mul_u64(&div_u64(&limbs, intended), observed).unwrap_or(to_limbs(&Target::MAX.0))
            }
        };
        Target(from_limbs(&scaled))
    }
}

/// The work a block represents: the expected number of training steps at its target,
/// `floor(2^256 / (target + 1))`, as an exact 256-bit integer (big-endian) that chains sum to
/// pick the heaviest chain (as Bitcoin's chainwork). Ordered as integers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Work(pub [u8; 32]);

impl Work {
    /// No work.
    pub const ZERO: Work = Work([0; 32]);

    /// The work of a block at `target` (saturating at `2^256 - 1` for target 0).
    pub fn of(target: &Target) -> Work {
        let t = to_limbs(&target.0);
        // d = target + 1; the easiest target (2^256 - 1) gives d = 2^256 and work 1.
        let mut d = t;
        let mut carry = true;
        for limb in d.iter_mut() {
            if !carry {
                break;
            }
            let (v, c) = limb.overflowing_add(1);
            *limb = v;
            carry = c;
        }
        if carry {
            return Work::from_u128(1);
        }
        if d == [1, 0, 0, 0] {
            // Target 0 (no ticket wins): 2^256 does not fit; saturate.
            return Work([0xff; 32]);
        }
        // Long division of 2^256 by d, one bit at a time: the remainder stays below d <= 2^256
        // (a 257th bit is carried in `high`).
        let (mut rem, mut quotient) = ([0u64; 4], [0u64; 4]);
        for bit in (0..=256u32).rev() {
            let high = rem[3] >> 63;
            rem = shl1(&rem);
            if bit == 256 {
                rem[0] |= 1;
            }
            if high == 1 || !less(&rem, &d) {
                rem = sub(&rem, &d);
                if bit < 256 {
                    quotient[(bit / 64) as usize] |= 1u64 << (bit % 64);
                }
            }
        }
        Work(from_limbs(&quotient))
    }

    /// Work of `n`.
    pub fn from_u128(n: u128) -> Work {
        Work(from_limbs(&[n as u64, (n >> 64) as u64, 0, 0]))
    }

    /// The work as a `u128`, if it fits.
    pub fn to_u128(&self) -> Option<u128> {
        let l = to_limbs(&self.0);
        (l[2] == 0 && l[3] == 0).then(|| u128::from(l[0]) | (u128::from(l[1]) << 64))
    }

    /// `self + other`, or `None` past `2^256 - 1`.
    pub fn checked_add(&self, other: &Work) -> Option<Work> {
        let (a, b) = (to_limbs(&self.0), to_limbs(&other.0));
        let mut out = [0u64; 4];
        let mut carry = 0u128;
        for i in 0..4 {
            let v = u128::from(a[i]) + u128::from(b[i]) + carry;
            out[i] = v as u64;
            carry = v >> 64;
        }
        (carry == 0).then(|| Work(from_limbs(&out)))
    }

    /// The sum of a chain's block works, or `None` on overflow.
    pub fn sum<'a>(works: impl IntoIterator<Item = &'a Work>) -> Option<Work> {
        works
            .into_iter()
            .try_fold(Work::ZERO, |acc, w| acc.checked_add(w))
    }
}

impl std::fmt::Display for Work {
    /// Decimal.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = to_limbs(&self.0);
        let mut digits = Vec::new();
        loop {
            let mut rem = 0u128;
            for limb in l.iter_mut().rev() {
                let v = (rem << 64) | u128::from(*limb);
                *limb = (v / 10) as u64;
                rem = v % 10;
            }
            digits.push(b'0' + rem as u8);
            if l.iter().all(|&x| x == 0) {
                break;
            }
        }
        digits.reverse();
        f.write_str(std::str::from_utf8(&digits).map_err(|_| std::fmt::Error)?)
    }
}

fn shl1(l: &Limbs) -> Limbs {
    let mut out = [0u64; 4];
    for i in 0..4 {
        out[i] = (l[i] << 1) | if i > 0 { l[i - 1] >> 63 } else { 0 };
    }
    out
}

fn less(a: &Limbs, b: &Limbs) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// `a - b` modulo 2^256.
fn sub(a: &Limbs, b: &Limbs) -> Limbs {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (v, b1) = a[i].overflowing_sub(b[i]);
        let (v, b2) = v.overflowing_sub(u64::from(borrow));
        out[i] = v;
        borrow = b1 || b2;
    }
    out
}

/// `t_i = H("pouw/ticket", header hash, s_i, d_i)` (protocol 5 on): bound to the step's seed
/// `s_i`, hence to the parameters, the header, the miner and every digest before the step, so
/// nothing computed for one block serves another.
pub fn ticket(header_hash: &Digest, step_seed: &Digest, checkpoint_digest: &Digest) -> Digest {
    let mut h = TaggedHasher::new(tag::TICKET);
    h.update(header_hash)
        .update(step_seed)
        .update(checkpoint_digest);
    h.finish()
}

/// The ticket of protocol versions 3 and 4, `H("pouw/ticket", header hash, d_i)`: it binds
/// neither the miner nor the step's seed (kept to verify those versions' blocks).
pub fn ticket_without_seed(header_hash: &Digest, checkpoint_digest: &Digest) -> Digest {
    let mut h = TaggedHasher::new(tag::TICKET);
    h.update(header_hash).update(checkpoint_digest);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_steps_round_trip() {
        for steps in [1u64, 2, 3, 100, 256, 1000, 1 << 40] {
            let t = Target::from_expected_steps(steps);
            let back = t.expected_steps();
            assert!(
                (back / steps as f64 - 1.0).abs() < 1e-9,
                "{steps} -> {back}"
            );
        }
        assert_eq!(Target::from_expected_steps(1), Target::MAX);
        assert_eq!(Target::from_expected_steps(0), Target::MAX);
    }

    #[test]
    fn work_is_the_exact_expected_steps() {
        for steps in [1u64, 2, 3, 7, 100, 512, 1000, 1 << 40, u64::MAX] {
            let w = Work::of(&Target::from_expected_steps(steps));
            assert_eq!(w.to_u128(), Some(u128::from(steps)), "{steps}");
        }
        assert_eq!(Work::of(&Target::MAX), Work::from_u128(1));
        assert_eq!(
            Work::of(&Target([0; 32])).0,
            [0xff; 32],
            "target 0: 2^256 - 1"
        );
        let mut half = [0u8; 32];
        half[0] = 0x7f;
        half[1..].fill(0xff);
        assert_eq!(Work::of(&Target(half)), Work::from_u128(2));
        assert_eq!(Work::from_u128(12345).to_string(), "12345");
        assert_eq!(Work::ZERO.to_string(), "0");
        let big = Work([0xff; 32]);
        assert_eq!(big.checked_add(&Work::from_u128(1)), None);
        assert_eq!(
            Work::sum(&[Work::from_u128(u128::MAX), Work::from_u128(1)])
                .unwrap()
                .to_string(),
            "340282366920938463463374607431768211456"
        );
    }

    #[test]
    fn retarget_scales_and_clamps() {
        let t = Target::from_expected_steps(1000);
        // Blocks twice as slow as intended: twice the target, half the steps.
        assert!((t.retarget(200, 100).expected_steps() - 500.0).abs() < 1e-6);
        assert!((t.retarget(50, 100).expected_steps() - 2000.0).abs() < 1e-6);
        assert!(
            (t.retarget(100_000, 100).expected_steps() - 250.0).abs() < 1e-6,
            "clamped to x4"
        );
        assert!(
            (t.retarget(0, 100).expected_steps() - 4000.0).abs() < 1e-6,
            "clamped to /4"
        );
        assert_eq!(Target::MAX.retarget(400, 100), Target::MAX, "saturates");
        assert_eq!(t.retarget(100, 100), t);
    }

    #[test]
    fn empirical_rate_matches_target() {
        let t = Target::from_expected_steps(16);
        let wins = (0u64..16_000)
            .filter(|i| {
                t.is_met_by(&ticket_without_seed(
                    &[1; 32],
                    &crate::hash::sha3_256(&i.to_le_bytes()),
                ))
            })
            .count();
        assert!(
            (800..1200).contains(&wins),
            "{wins} wins in 16000 tickets at 1/16"
        );
    }
}
