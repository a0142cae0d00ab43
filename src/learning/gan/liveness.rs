//! The states a step refuses because it would cost less than an honest step there, or change
//! nothing (README "Security argument", *no cheap states*). Every rule is an exact comparison or
//! an integer count over float32 values, so every device refuses the same states; an honest
//! trajectory (weights drawn from N(0, 0.02) and N(1, 0.02), moved by Adam) is nowhere near one.
//!
//! - **Dense weights** (before the step): in every convolution and batch-norm scale of both
//!   networks, the largest magnitude is at least [`MIN_LARGEST`] and at least
//!   [`DENSE_NUMERATOR`]/[`DENSE_DENOMINATOR`] of the entries are within [`DENSE_RANGE_BITS`]
//!   bits of it. Such an entry quantizes to a nonzero integer in every product (products keep at
//!   least 18 bits of each group's largest magnitude), so no layer is all zero (a dead network:
//!   its products, hence its gradients, vanish) and no product is sparse enough for a sparse
//!   kernel to skip most of it (a few huge entries would quantize the rest to zero).
//! - **Every tensor receives a gradient** (during the step): each weight tensor of both networks
//!   has a nonzero gradient entry. This refuses the states whose gradients vanish whatever the
//!   weights: a saturated tanh or logistic (`1 - y^2` or `p - label` exactly zero), a layer
//!   whose every ReLU is off (all the layers before it get nothing), batch norm over a constant
//!   input (zero variance: its normalised output and scale gradient are zero).
//! - **Every tensor moves** (after the step): each weight tensor of both networks differs from
//!   its value before the update in at least one entry, so no step is a no-op (Adam with zero
//!   moments and zero gradients, or updates below the weights' precision).

use super::layout::{Init, Layout};
use crate::error::{Error, Result};
use crate::learning::exact::torch;
use tch::{Kind, Tensor};

/// The smallest largest magnitude a weight tensor may have (2^-30).
pub(crate) const MIN_LARGEST: f32 = 1.0 / (1u64 << 30) as f32;
/// An entry counts as dense when it is within this many bits of its tensor's largest magnitude.
pub(crate) const DENSE_RANGE_BITS: i32 = 12;
/// At least this fraction of a weight tensor's entries must be dense (3/4).
pub(crate) const DENSE_NUMERATOR: i64 = 3;
/// See [`DENSE_NUMERATOR`].
pub(crate) const DENSE_DENOMINATOR: i64 = 4;

fn degenerate(detail: String) -> Error {
    Error::DegenerateState(detail)
}

fn scalar_f64(t: &Tensor) -> Result<f64> {
    torch(t.f_double_value(&[]))
}

fn scalar_i64(t: &Tensor) -> Result<i64> {
    torch(t.f_int64_value(&[]))
}

/// Checks the dense-weights rule on every convolution and batch-norm scale of a network
/// (`weights` in layout order; batch-norm shifts, zero at initialisation, are not checked).
pub(crate) fn check_dense(layout: &Layout, weights: &[Tensor]) -> Result<()> {
    for (spec, w) in layout.tensors.iter().zip(weights) {
        if matches!(spec.init, Init::Zeros) {
            continue;
        }
        let magnitudes = torch(w.f_abs())?;
        let largest = scalar_f64(&torch(magnitudes.f_max())?)? as f32;
        // A NaN compares as not large enough too.
        if largest.is_nan() || largest < MIN_LARGEST {
            return Err(degenerate(format!(
                "{} is all zero or nearly (largest magnitude {largest:e})",
                spec.name
            )));
        }
        // A power-of-two scaling of a float32 at least 2^-30: exact.
        let floor = largest * (-(DENSE_RANGE_BITS as f32)).exp2();
        let dense = scalar_i64(&torch(
            torch(magnitudes.f_ge(f64::from(floor)))?.f_sum(Kind::Int64),
        )?)?;
        let numel = w.numel() as i64;
        if dense * DENSE_DENOMINATOR < numel * DENSE_NUMERATOR {
            return Err(degenerate(format!(
                "{} is sparse: {dense} of {numel} entries within 2^{DENSE_RANGE_BITS} of its largest magnitude",
                spec.name
            )));
        }
    }
    Ok(())
}

/// Checks that every weight tensor of a network (`grads` in layout order) received a nonzero
/// gradient entry.
pub(crate) fn check_gradients(layout: &Layout, grads: &[Tensor]) -> Result<()> {
    for (spec, g) in layout.tensors.iter().zip(grads) {
        let nonzero = scalar_i64(&torch(torch(g.f_ne(0.0))?.f_sum(Kind::Int64))?)?;
        if nonzero == 0 {
            return Err(degenerate(format!("{} received no gradient", spec.name)));
        }
    }
    Ok(())
}

/// Copies of a network's weights, to compare after the update ([`check_moved`]).
pub(crate) fn snapshot(weights: &[Tensor]) -> Result<Vec<Tensor>> {
    weights.iter().map(|w| torch(w.f_detach_copy())).collect()
}

/// Checks that every weight tensor of a network changed in at least one entry.
pub(crate) fn check_moved(layout: &Layout, before: &[Tensor], after: &[Tensor]) -> Result<()> {
    for ((spec, b), a) in layout.tensors.iter().zip(before).zip(after) {
        let changed = scalar_i64(&torch(torch(b.f_ne_tensor(a))?.f_sum(Kind::Int64))?)?;
        if changed == 0 {
            return Err(degenerate(format!(
                "{} did not change in the update",
                spec.name
            )));
        }
    }
    Ok(())
}
