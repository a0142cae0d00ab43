//! Exact arithmetic: training computations whose result bits depend on nothing but their inputs:
//! not on the device (CPU or CUDA), the BLAS, the thread count, the CPU vendor or its
//! instruction set. Any model can use it; the GAN is the first.
//!
//! # The contract
//!
//! Values live in IEEE float32 tensors. Every operation is one of three kinds, each exact or
//! correctly rounded by construction, so no kernel choice can change a bit:
//!
//! - **Products and reductions run on integers.** An operand is *quantized*
//!   ([`Exact::quantize`]): one power-of-two scale per group (the whole tensor, or each index of
//!   one dimension) maps the group's largest magnitude into `[2^(P-1), 2^P)`, and every element
//!   rounds (half to even) to an integer `|q| <= 2^P`, held in a float64 tensor. The largest
//!   magnitude is a maximum (exact in any order) and the scale is built from its exponent bits.
//!   A product of two such matrices with reduction length `K` only ever forms integers below
//!   `K * 2^(Pa + Pb)`; with `Pa + Pb + ceil(log2 K) <= 53` ([`product_bits`]) every partial sum
//!   is an integer below `2^53`, represented exactly in float64, so the result is the same
//!   integer in any summation order, blocking or thread split: any BLAS, on any device, gives
//!   the same bits. Sums ([`Exact::sum`]) work the same way with `P + ceil(log2 N) <= 53`.
//!   Scaling back multiplies by powers of two (exact), then rounds once to float32
//!   ([`Exact::dequantize`]).
//! - **Element-wise work uses only correctly rounded IEEE operations**: `+ - * /` and `sqrt` of
//!   float32 values, each its own kernel (no fused multiply-add, no `addcmul`, `lerp`, scalar
//!   divisions that a device may turn into reciprocal products), plus exact ones (comparisons,
//!   selections, `abs`, rounding, conversions, bit manipulation).
//! - **Transcendental functions are this module's own** ([`Exact::exp`], [`Exact::tanh`],
//!   [`Exact::sigmoid`]): range reduction and a polynomial built from those operations, never a
//!   platform's `exp` or `tanh`.
//!
//! What it assumes of a device: IEEE binary32 and binary64 arithmetic with round-to-nearest-even
//! and subnormals (no flush to zero), correctly rounded `/` and `sqrt`. [`Exact::self_test`]
//! checks this on the device before a trainer uses it.
//!
//! # Precision
//!
//! A quantized element `x` is off by at most `max(m, 2^-126) * 2^-P` where `m` is its group's
//! largest magnitude (half a unit in the last place of the integer grid). A product entry therefore
//! differs from the float64 product of the float32 inputs by at most
//! `K * ma * mb * 2^-P * (2 + 2^-P)` before its one float32 rounding (`ma`, `mb`: the largest
//! magnitudes of the row and column groups involved, at least `2^-126`); [`product_bits`] gives `P` from 25 bits
//! (short reductions) down to 18 (`K = 65536`). Sums keep `53 - ceil(log2 N)` bits of each
//! group's largest magnitude. `exp` is within 3 units in the last place of float32 on
//! `[-87, 88]` (0 below), `tanh` within `4e-7`, the logistic function within `4e-7` relative
//! (`2e-38` absolute below -87), and `sqrt` correctly rounded.
//!
//! # Implementations
//!
//! Each operation has two implementations that produce the same bits: libtorch tensor
//! operations, which run on any device ([`Kernels::Tensor`], what CUDA uses), and fused Rust
//! loops over host memory ([`Kernels::Host`], what the CPU uses: one pass where the tensor form
//! takes several). Products go to the device's BLAS, or to a plain Rust loop that sums in the
//! opposite order ([`Products::Reference`], for tests). Tests run whole training steps under
//! every combination and compare digests.

mod adam;
mod check;
#[doc(hidden)]
#[cfg(feature = "fault-injection")]
pub mod fault;
mod fixed;
mod func;
mod host;
mod norm;
mod pool;
mod product;
mod profile;
mod select;
mod windows;

pub use adam::AdamConstants;
pub use fixed::Fixed;
pub use norm::NormCache;
pub use profile::StepProfile;
pub use windows::{Group, Window};

use crate::error::{Error, Result};
use std::cell::{Cell, RefCell};
use tch::{Device, Kind, Tensor};

/// The widest integer grid an operand is quantized to, in bits of magnitude. A float32 value has
/// 24 significant bits, so 25 keeps every element within a factor two of its group's largest
/// magnitude exact.
pub const MAX_BITS: u32 = 25;

/// Bits of magnitude each operand of a product keeps when its reduction sums `k_eff` terms
/// (including any later exact sum of product entries, such as `col2im`'s overlapping windows):
/// the largest `P <= MAX_BITS` with `2P + ceil(log2 k_eff) <= 53`.
pub fn product_bits(k_eff: u64) -> u32 {
    ((53 - ceil_log2(k_eff).min(51)) / 2).min(MAX_BITS)
}

/// Bits of magnitude each term of an exact sum of `n` terms keeps: `53 - ceil(log2 n)`, at most
/// 51 (so every scaled term stays below `2^51`, where rounding to an integer is exact).
pub fn sum_bits(n: u64) -> u32 {
    (53 - ceil_log2(n).min(52)).min(51)
}

/// `ceil(log2 n)` (0 for `n <= 1`).
pub fn ceil_log2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    }
}

/// Where element-wise kernels run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    /// libtorch tensor operations, on the tensors' device.
    Tensor,
    /// Fused Rust loops over host memory (CPU tensors only).
    Host,
}

/// Who multiplies the integer matrices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Products {
    /// The device's BLAS (libtorch `mm`: MKL or OpenBLAS on the CPU, cuBLAS on CUDA).
    Blas,
    /// A plain Rust loop on the host, summing each entry in descending reduction order: an
    /// independent reference for tests (slow).
    Reference,
}

/// The exact-arithmetic context of one device: which implementations run, and a record of
/// whether every quantized group was finite.
///
/// Not `Sync`: one context per training state, used from one thread at a time.
#[derive(Debug)]
pub struct Exact {
    device: Device,
    kernels: Kernels,
    products: Products,
    /// Host-checked: false once a non-finite group maximum was seen.
    finite: Cell<bool>,
    /// Device-side checks not yet read back (tensor kernels; read by [`Exact::check_finite`]).
    pending: RefCell<Vec<Tensor>>,
    /// Host memory reused between steps (host kernels).
    pool: std::sync::Arc<pool::Pool>,
    /// Time by kind of operation, when profiling ([`Exact::set_profiling`]).
    profile: RefCell<Option<StepProfile>>,
    /// Whether a timed operation is running (inner ones are not counted again).
    profile_busy: Cell<bool>,
}

impl Exact {
    /// The default context for `device`: host kernels on the CPU, tensor kernels elsewhere,
    /// products on the BLAS.
    pub fn new(device: Device) -> Self {
        let kernels = if device == Device::Cpu {
            Kernels::Host
        } else {
            Kernels::Tensor
        };
        Self::with(device, kernels, Products::Blas)
    }

    /// A context with the given implementations ([`Kernels::Host`] needs the CPU).
    pub fn with(device: Device, kernels: Kernels, products: Products) -> Self {
        let kernels = if device == Device::Cpu {
            kernels
        } else {
            Kernels::Tensor
        };
        Exact {
            device,
            kernels,
            products,
            finite: Cell::new(true),
            pending: RefCell::new(Vec::new()),
            pool: Default::default(),
            profile: RefCell::new(None),
            profile_busy: Cell::new(false),
        }
    }

    /// Takes over `other`'s reusable host memory (its pool of freed blocks, shared from now on),
    /// so that a context made for a new state does not allocate its step's temporaries afresh.
    pub fn share_memory_of(&mut self, other: &Exact) {
        self.pool = std::sync::Arc::clone(&other.pool);
    }

    /// The device.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The element-wise implementation in use.
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The product implementation in use.
    pub fn products(&self) -> Products {
        self.products
    }

    fn host(&self) -> bool {
        self.kernels == Kernels::Host
    }

    /// Records whether a group maximum was finite (host kernels).
    fn note_finite(&self, finite: bool) {
        if !finite {
            self.finite.set(false);
        }
    }

    /// Records a device-side finiteness check of group maxima (tensor kernels).
    fn note_finite_tensor(&self, maxima: &Tensor) -> Result<()> {
        let all = torch(maxima.f_isfinite())?;
        let all = torch(all.f_all())?;
        self.pending.borrow_mut().push(all);
        Ok(())
    }

    /// Records whether every element of `tensors` (float32) is finite, for
    /// [`Exact::check_finite`].
    pub fn note_tensors_finite(&self, tensors: &[&Tensor]) -> Result<()> {
        for t in tensors {
            if self.host() && t.device() == Device::Cpu && t.is_contiguous() {
                self.note_finite(host::all_finite(t)?);
            } else {
                self.note_finite_tensor(t)?;
            }
        }
        Ok(())
    }

    /// Errors if any value quantized or summed since the last call was infinite or NaN (one
    /// device synchronisation), and resets the record. A computation that met a non-finite
    /// value is rejected the same way on every device, whatever its other bits.
    pub fn check_finite(&self) -> Result<()> {
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        let mut finite = self.finite.replace(true);
        if !pending.is_empty() {
            let all = torch(Tensor::f_stack(&pending, 0))?;
            let all = torch(torch(all.f_all())?.f_to_device(Device::Cpu))?;
            finite &= torch(all.f_int64_value(&[]))? != 0;
        }
        if finite {
            Ok(())
        } else {
            Err(Error::NonFinite)
        }
    }
}

/// A tensor's element type (libtorch reports an error for types tch does not know).
pub(crate) fn kind_of(t: &Tensor) -> Result<Kind> {
    torch(t.f_kind())
}

/// Maps libtorch's errors to the crate's.
pub(crate) fn torch<T>(r: std::result::Result<T, tch::TchError>) -> Result<T> {
    #[cfg(feature = "fault-injection")]
    let r = fault::intercept(r);
    r.map_err(|e| Error::Torch(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_keep_every_partial_sum_below_2_pow_53() {
        for k in [
            1u64,
            2,
            3,
            16,
            100,
            640,
            1600,
            5120,
            16384,
            65536,
            1 << 20,
            u64::MAX,
        ] {
            let p = product_bits(k);
            assert!(2 * p + ceil_log2(k) <= 53 || p == 1, "k={k} p={p}");
            assert!(p <= MAX_BITS);
            let s = sum_bits(k);
            assert!(s + ceil_log2(k) <= 53 || s == 1, "k={k} s={s}");
        }
        assert_eq!(product_bits(1600), 21);
        assert_eq!(product_bits(65536), 18);
        assert_eq!(product_bits(16), 24);
        assert_eq!(sum_bits(65536), 37);
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(2), 1);
        assert_eq!(ceil_log2(3), 2);
        assert_eq!(ceil_log2(1024), 10);
        assert_eq!(ceil_log2(1025), 11);
    }
}
