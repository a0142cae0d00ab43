//! Fixed-point forms of float32 tensors: quantization to integers with power-of-two scales,
//! scaling back with one rounding, and exact sums.

use super::profile::Part;
use super::{host, kind_of, product_bits, sum_bits, torch, Exact, MAX_BITS};
use crate::error::{Error, Result};
use tch::{Kind, Tensor};

/// A quantized tensor: integers `q` (float64, `|q| <= 2^bits`) and the power of two `unit` of
/// each group, so that `x ≈ q * unit`. `unit` has the shape of `q` with every dimension but the
/// group dimension (if any) of size 1, so it broadcasts against `q`.
#[derive(Debug)]
pub struct Fixed {
    /// The integers, in a float64 tensor of the input's shape.
    pub q: Tensor,
    /// Each group's power of two (float64).
    pub unit: Tensor,
    /// Bits of magnitude: every `|q| <= 2^bits`.
    pub bits: u32,
}

/// The shift of a group whose largest magnitude is `max`: `q = round(x * 2^shift)` then lies in
/// `[-2^bits, 2^bits]`, with `max` mapped into `[2^(bits-1), 2^bits)`. Built from the exponent
/// bits of `max` (a zero or subnormal maximum counts as exponent -126).
pub(super) fn shift_of(max: f32, bits: u32) -> i32 {
    let biased = ((max.to_bits() >> 23) & 0xff).max(1) as i32;
    bits as i32 + 126 - biased
}

/// `2^e` as a float64, from its exponent bits (`-1022 <= e <= 1023`).
pub(super) fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

/// `2^e` for each entry of an integer tensor, as float64 (built from the exponent bits, which
/// is exact on every device, unlike `ldexp` or `pow`).
fn pow2_tensor(e: &Tensor) -> Result<Tensor> {
    let biased = torch(torch(e.f_to_kind(Kind::Int64))?.f_add_scalar(1023))?;
    let bits = torch(biased.f_bitwise_left_shift_tensor_scalar(52))?;
    torch(bits.f_view_dtype(Kind::Double))
}

/// Shape with every dimension but `keep` set to 1.
fn group_shape(shape: &[i64], keep: Option<usize>) -> Vec<i64> {
    shape
        .iter()
        .enumerate()
        .map(|(d, &n)| if Some(d) == keep { n } else { 1 })
        .collect()
}

impl Exact {
    /// Quantizes a float32 tensor to integers of `bits` bits of magnitude, one scale per index
    /// of dimension `keep` (or one for the whole tensor).
    pub fn quantize(&self, x: &Tensor, bits: u32, keep: Option<usize>) -> Result<Fixed> {
        let _timer = self.time(Part::Quantize);
        let kind = kind_of(x)?;
        if bits == 0 || bits > 52 || kind != Kind::Float {
            return Err(Error::Torch(format!("quantize of {kind:?} to {bits} bits")));
        }
        let shape = x.size();
        if keep.is_some_and(|d| d >= shape.len()) {
            return Err(Error::Torch(format!(
                "quantize: no dimension {keep:?} in {shape:?}"
            )));
        }
        if self.host() {
            let x = torch(x.f_contiguous())?;
            let (q, shifts, finite) = host::quantize(&self.pool, &x, bits, keep)?;
            self.note_finite(finite);
            let units: Vec<f64> = shifts.iter().map(|&s| pow2(-s)).collect();
            let unit =
                torch(torch(Tensor::f_from_slice(&units))?.f_reshape(group_shape(&shape, keep)))?;
            return Ok(Fixed { q, unit, bits });
        }
        let magnitude = torch(x.f_abs())?;
        let reduce: Vec<i64> = (0..shape.len() as i64)
            .filter(|&d| Some(d as usize) != keep)
            .collect();
        let max = if reduce.is_empty() {
            magnitude
        } else {
            torch(magnitude.f_amax(reduce.as_slice(), true))?
        };
        self.note_finite_tensor(&max)?;
        // shift = bits + 126 - max(biased exponent, 1), as in `shift_of`.
        let biased = torch(
            torch(torch(max.f_contiguous())?.f_view_dtype(Kind::Int))?
                .f_bitwise_right_shift_tensor_scalar(23),
        )?;
        let biased = torch(torch(biased.f_bitwise_and(0xff))?.f_clamp_min(1))?;
        let shift = torch(torch(biased.f_neg())?.f_add_scalar(i64::from(bits) + 126))?;
        let scale = pow2_tensor(&shift)?;
        let unit = pow2_tensor(&torch(shift.f_neg())?)?;
        let q = torch(torch(x.f_to_kind(Kind::Double))?.f_mul(&scale))?;
        let q = torch(q.f_round())?;
        Ok(Fixed { q, unit, bits })
    }

    /// Scales integer results back and rounds once to float32: `r * u_1 * u_2 ...` for the
    /// units of the operands (each broadcastable to `r`, with at most one dimension over 1),
    /// then `+ 0.0` so that a zero is always `+0` whatever order produced it.
    pub fn dequantize(&self, r: &Tensor, units: &[&Tensor]) -> Result<Tensor> {
        let _timer = self.time(Part::Rescale);
        if self.host() {
            let r = torch(r.f_contiguous())?;
            let units = units
                .iter()
                .map(|u| host::Unit::of(u, r.dim()))
                .collect::<Result<Vec<_>>>()?;
            return host::dequantize(&self.pool, &r, &units);
        }
        let mut v = r.shallow_clone();
        for u in units {
            v = torch(v.f_mul(u))?;
        }
        torch(torch(v.f_to_kind(Kind::Float))?.f_add_scalar(0.0))
    }

    /// Exact sums of a float32 tensor over every dimension but `keep`: each group's terms are
    /// quantized to [`sum_bits`] bits of its largest magnitude and summed as integers. Returns
    /// the sums as float64, `[n]` for the `n` indices of `keep` (the sum of the quantized terms,
    /// exactly; `+0` for zero).
    pub fn sum(&self, x: &Tensor, keep: usize) -> Result<Tensor> {
        let _timer = self.time(Part::Quantize);
        let shape = x.size();
        let n = *shape
            .get(keep)
            .ok_or_else(|| Error::Torch(format!("sum: no dimension {keep} in {shape:?}")))?;
        let terms = (x.numel() as u64) / (n.max(1) as u64);
        let bits = sum_bits(terms);
        if self.host() {
            let x = torch(x.f_contiguous())?;
            let (sums, finite) = host::sum(&x, bits, keep)?;
            self.note_finite(finite);
            return Ok(sums);
        }
        let fixed = self.quantize(x, bits, Some(keep))?;
        let reduce: Vec<i64> = (0..shape.len() as i64)
            .filter(|&d| d as usize != keep)
            .collect();
        let total = if reduce.is_empty() {
            fixed.q
        } else {
            torch(
                fixed
                    .q
                    .f_sum_dim_intlist(reduce.as_slice(), false, Kind::Double),
            )?
        };
        let total = torch(total.f_mul(&torch(fixed.unit.f_reshape([n]))?))?;
        torch(total.f_add_scalar(0.0))
    }

    /// The product `a x b` of two integer matrices (float64, `[M, K]` and `[K, N]`) quantized to
    /// `bits.0` and `bits.1` bits, whose entries will later be summed `fan_in` at a time (1 when
    /// not): errors unless every partial sum stays below `2^53`, so the result is exact.
    pub fn mm(&self, a: &Tensor, b: &Tensor, bits: (u32, u32), fan_in: u64) -> Result<Tensor> {
        let _timer = self.time(Part::Products);
        let (sa, sb) = (a.size(), b.size());
        if sa.len() != 2 || sb.len() != 2 || sa[1] != sb[0] {
            return Err(Error::Torch(format!("mm of {sa:?} and {sb:?}")));
        }
        let k = (sa[1].max(1) as u64).saturating_mul(fan_in.max(1));
        if bits.0 + bits.1 + super::ceil_log2(k) > 53 {
            return Err(Error::Torch(format!(
                "exact product bound: {} + {} bits over {k} terms exceed 53",
                bits.0, bits.1
            )));
        }
        match self.products {
            super::Products::Blas if self.host() => self.pool.mm(a, b),
            super::Products::Blas => torch(a.f_mm(b)),
            super::Products::Reference => super::product::reference_mm(&self.pool, a, b),
        }
    }

    /// Bits for both operands of a product whose exact sums run over `k_eff` terms.
    pub fn bits_for(&self, k_eff: u64) -> u32 {
        product_bits(k_eff).min(MAX_BITS)
    }
}
