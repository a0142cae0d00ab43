//! The module's own `exp`, `tanh` and `sigmoid` for float32: range reduction and a polynomial,
//! built only from correctly rounded float32 operations in a fixed order, so every device
//! computes the same bits (a platform's `expf` or `tanhf` differs by device and library).

use super::host::{new_tensor, tasks, values, SyncSlice};
use super::pool::Pool;
use super::profile::Part;
use super::{torch, Exact};
use crate::error::Result;
use std::sync::Arc;
use tch::{Kind, Tensor};

/// `log2(e)` rounded to float32.
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// The high part of `ln 2`, with few enough significant bits (9) that `k * LN2_HI` is exact for
/// every `|k| <= 127`.
const LN2_HI: f32 = 0.693_359_4;
/// `ln 2 - LN2_HI`, rounded to float32.
const LN2_LO: f32 = -2.121_944_4e-4;
/// Taylor coefficients of `e^r` from degree 7 down to 0 (`1/n!` rounded to float32): within
/// `|r| <= ln(2)/2` the truncation error is below `6e-9` relative.
const EXP_POLY: [f32; 8] = [
    1.0 / 5040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];
/// The argument range of `exp`, where `2^k` stays a normal float32: below it the result is 0
/// (the true value is below `1.7e-38`), above it arguments are clamped (the models only take
/// `exp` of non-positive arguments).
const EXP_MIN: f32 = -87.0;
const EXP_MAX: f32 = 88.0;

/// `e^x` for one float32, exactly as the tensor form computes it.
#[inline(always)]
pub(super) fn exp_f32(x: f32) -> f32 {
    if x < EXP_MIN {
        return 0.0;
    }
    // `clamp` propagates NaN, as libtorch's does.
    let x = if x.is_nan() {
        x
    } else {
        x.clamp(EXP_MIN, EXP_MAX)
    };
    let k = round_even_f32(x * LOG2E);
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = r * EXP_POLY[0] + EXP_POLY[1];
    for &c in &EXP_POLY[2..] {
        p = p * r + c;
    }
    p * pow2_f32(k)
}

/// `tanh x` for one float32, exactly as the tensor form computes it.
#[inline(always)]
pub(super) fn tanh_f32(x: f32) -> f32 {
    let t = exp_f32(x.abs() * -2.0);
    let th = (1.0 - t) / (1.0 + t);
    if x < 0.0 {
        -th
    } else {
        th
    }
}

/// `1 / (1 + e^-x)` for one float32, exactly as the tensor form computes it.
#[inline(always)]
pub(super) fn sigmoid_f32(x: f32) -> f32 {
    let t = exp_f32(-x.abs());
    let d = 1.0 + t;
    if x >= 0.0 {
        1.0 / d
    } else {
        t / d
    }
}

/// Round half to even for `|y| < 2^22`, keeping the sign of zero (as `torch.round`).
#[inline(always)]
fn round_even_f32(y: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
    if y.is_nan() {
        return y;
    }
    ((y + MAGIC) - MAGIC).copysign(y)
}

/// `2^k` for an integer-valued `k` in `[-126, 127]`, from its exponent bits (NaN for NaN).
#[inline(always)]
fn pow2_f32(k: f32) -> f32 {
    if k.is_nan() {
        return k;
    }
    f32::from_bits(((k as i32 + 127) as u32) << 23)
}

/// Applies `f` to every element of a float32 CPU tensor, in parallel blocks.
fn map_host(pool: &Arc<Pool>, x: &Tensor, f: impl Fn(f32) -> f32 + Sync) -> Result<Tensor> {
    let x = torch(x.f_contiguous())?;
    let xs = values::<f32>(&x)?;
    new_tensor::<f32>(pool, &x.size(), |out| {
        let out = SyncSlice::new(out);
        tasks(xs.len(), 1, |_, range| {
            // SAFETY: tasks cover disjoint ranges.
            let out = unsafe { out.range(range.clone()) };
            out.iter_mut().zip(&xs[range]).for_each(|(o, &v)| *o = f(v));
        });
    })
}

/// The correctly rounded float32 square root from a candidate within one unit in the last place:
/// the candidate moves up when the midpoint above it squares below `x`, down when the midpoint
/// below squares above. Midpoints of float32 values have 25 significant bits, so their squares
/// are exact in float64, and never equal a float32 `x` (no ties).
#[cfg(test)]
fn sqrt_corrected(x: f32, candidate: f32) -> f32 {
    let (x64, r) = (f64::from(x), candidate);
    let up = f32::from_bits(r.to_bits().wrapping_add(1));
    let down = f32::from_bits(r.to_bits().wrapping_sub(1));
    let hi = (f64::from(r) + f64::from(up)) * 0.5;
    let lo = (f64::from(r) + f64::from(down)) * 0.5;
    if hi * hi < x64 {
        up
    } else if lo * lo > x64 {
        down
    } else {
        r
    }
}

impl Exact {
    /// The correctly rounded square root, elementwise (float32, `x >= 0`). libtorch's CPU
    /// `sqrt` is not correctly rounded (it calls MKL's vector library), so the tensor form
    /// rounds a float64 square root to float32 and corrects it exactly (see
    /// `sqrt_corrected`); the host form is Rust's `sqrt`, which is correctly rounded.
    pub fn sqrt(&self, x: &Tensor) -> Result<Tensor> {
        let _timer = self.time(Part::Functions);
        if self.host() {
            return map_host(&self.pool, x, f32::sqrt);
        }
        let x64 = torch(x.f_to_kind(Kind::Double))?;
        let r = torch(torch(x64.f_sqrt())?.f_to_kind(Kind::Float))?;
        let bits = torch(r.f_view_dtype(Kind::Int))?;
        let up = torch(torch(bits.f_add_scalar(1))?.f_view_dtype(Kind::Float))?;
        let down = torch(torch(bits.f_sub_scalar(1))?.f_view_dtype(Kind::Float))?;
        let r64 = torch(r.f_to_kind(Kind::Double))?;
        let midpoint = |n: &Tensor| -> Result<Tensor> {
            let n = torch(n.f_to_kind(Kind::Double))?;
            let m = torch(torch(r64.f_add(&n))?.f_mul_scalar(0.5))?;
            torch(m.f_mul(&m))
        };
        let go_up = torch(midpoint(&up)?.f_lt_tensor(&x64))?;
        let go_down = torch(midpoint(&down)?.f_gt_tensor(&x64))?;
        let r = torch(down.f_where_self(&go_down, &r))?;
        torch(up.f_where_self(&go_up, &r))
    }

    /// `e^x`, elementwise (float32): within 3 units in the last place on `[-87, 88]`, 0 below,
    /// `e^88` above.
    pub fn exp(&self, x: &Tensor) -> Result<Tensor> {
        let _timer = self.time(Part::Functions);
        if self.host() {
            return map_host(&self.pool, x, exp_f32);
        }
        let underflow = torch(x.f_lt(f64::from(EXP_MIN)))?;
        let x = torch(x.f_clamp(f64::from(EXP_MIN), f64::from(EXP_MAX)))?;
        let k = torch(torch(x.f_mul_scalar(f64::from(LOG2E)))?.f_round())?;
        let r = torch(x.f_sub(&torch(k.f_mul_scalar(f64::from(LN2_HI)))?))?;
        let r = torch(r.f_sub(&torch(k.f_mul_scalar(f64::from(LN2_LO)))?))?;
        let mut p = torch(
            torch(r.f_mul_scalar(f64::from(EXP_POLY[0])))?.f_add_scalar(f64::from(EXP_POLY[1])),
        )?;
        for &c in &EXP_POLY[2..] {
            p = torch(torch(p.f_mul(&r))?.f_add_scalar(f64::from(c)))?;
        }
        let biased = torch(torch(k.f_to_kind(Kind::Int))?.f_add_scalar(127))?;
        let two_k =
            torch(torch(biased.f_bitwise_left_shift_tensor_scalar(23))?.f_view_dtype(Kind::Float))?;
        let y = torch(p.f_mul(&two_k))?;
        torch(torch(y.f_zeros_like())?.f_where_self(&underflow, &y))
    }

    /// `tanh x`, elementwise (float32): `(1 - t) / (1 + t)` with `t = exp(-2|x|)`, signed.
    /// Within `4e-7` absolute.
    pub fn tanh(&self, x: &Tensor) -> Result<Tensor> {
        let _timer = self.time(Part::Functions);
        if self.host() {
            return map_host(&self.pool, x, tanh_f32);
        }
        let t = self.exp(&torch(torch(x.f_abs())?.f_mul_scalar(-2.0))?)?;
        let num = torch(torch(t.f_neg())?.f_add_scalar(1.0))?;
        let den = torch(t.f_add_scalar(1.0))?;
        let th = torch(num.f_div(&den))?;
        let negative = torch(x.f_lt(0.0))?;
        torch(torch(th.f_neg())?.f_where_self(&negative, &th))
    }

    /// The logistic function `1 / (1 + e^-x)`, elementwise (float32), without cancellation on
    /// either side: `1 / (1 + t)` for `x >= 0` and `t / (1 + t)` below, `t = exp(-|x|)`. Within
    /// `4e-7` relative (0, off by less than `2e-38`, below -87).
    pub fn sigmoid(&self, x: &Tensor) -> Result<Tensor> {
        let _timer = self.time(Part::Functions);
        if self.host() {
            return map_host(&self.pool, x, sigmoid_f32);
        }
        let t = self.exp(&torch(torch(x.f_abs())?.f_neg())?)?;
        let d = torch(t.f_add_scalar(1.0))?;
        let pos = torch(torch(d.f_ones_like())?.f_div(&d))?;
        let neg = torch(t.f_div(&d))?;
        let nonnegative = torch(x.f_ge(0.0))?;
        torch(pos.f_where_self(&nonnegative, &neg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_three_ulp_of_the_float64_value() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x <= 88.0 {
            let got = f64::from(exp_f32(x));
            let want = f64::from(x).exp();
            let ulp = f64::from(f32::EPSILON) * want.abs().max(f64::from(f32::MIN_POSITIVE));
            worst = worst.max((got - want).abs() / ulp);
            x += 0.00731;
        }
        assert!(worst <= 3.0, "worst error {worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-1000.0), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
    }

    #[test]
    fn corrected_square_roots_are_correctly_rounded() {
        // Inputs where a candidate one unit off must move, and every class of value.
        let mut x = 1e-40f32;
        while x < 1e30 {
            let want = x.sqrt();
            for candidate in [
                want,
                f32::from_bits(want.to_bits() + 1),
                f32::from_bits(want.to_bits() - 1),
            ] {
                assert_eq!(
                    sqrt_corrected(x, candidate),
                    want,
                    "sqrt {x} from {candidate}"
                );
            }
            x *= 1.0173;
        }
        assert_eq!(sqrt_corrected(87473.05, 295.75842), 87473.05f32.sqrt());
        assert_eq!(sqrt_corrected(0.0, 0.0), 0.0);
        assert_eq!(sqrt_corrected(f32::INFINITY, f32::INFINITY), f32::INFINITY);
    }

    #[test]
    fn tanh_and_sigmoid_are_accurate_and_symmetric() {
        let mut x = -20.0f32;
        while x <= 20.0 {
            let (t, s) = (f64::from(tanh_f32(x)), f64::from(sigmoid_f32(x)));
            assert!((t - f64::from(x).tanh()).abs() < 4e-7, "tanh {x}");
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            assert!(
                (s - exact).abs() <= 4e-7 * exact,
                "sigmoid {x}: {s} vs {exact}"
            );
            assert_eq!(tanh_f32(-x), -tanh_f32(x));
            x += 0.0137;
        }
        assert_eq!(tanh_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(sigmoid_f32(0.0), 0.5);
    }
}
