//! The fused host kernels: the same operations as the tensor forms, bit for bit, in one or two
//! passes over contiguous CPU memory, in parallel blocks for large tensors (every reduction here
//! is a maximum or an integer sum, exact in any order, so the split never shows in the result).
//!
//! A tensor with groups along one dimension is seen as `[outer, n, inner]`: `outer` slabs of
//! `n` groups of `inner` contiguous elements each.

use super::fixed::{pow2, shift_of};
use super::pool::Pool;
use super::{kind_of, torch};
use crate::error::{Error, Result};
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// Elements per parallel task; smaller tensors run on the calling thread.
const BLOCK: usize = 1 << 16;

/// `round(y)` half to even for `|y| < 2^51`, keeping the sign of a zero result (as
/// `torch.round` and IEEE `roundeven` do): the sum with `1.5 * 2^52` lands where the spacing of
/// float64 is 1, so its rounding is the integer rounding; subtracting it back is exact.
#[inline(always)]
pub(super) fn round_even(y: f64) -> f64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    ((y + MAGIC) - MAGIC).copysign(y)
}

/// A contiguous CPU tensor's elements.
pub(super) fn values<T: tch::kind::Element>(t: &Tensor) -> Result<&[T]> {
    let kind = kind_of(t)?;
    if t.device() != Device::Cpu || !t.is_contiguous() || kind != T::KIND {
        return Err(Error::Torch(format!(
            "host kernel needs a contiguous CPU {:?} tensor, got {kind:?} on {:?}",
            T::KIND,
            t.device()
        )));
    }
    let n = t.numel();
    if n == 0 {
        return Ok(&[]);
    }
    // SAFETY: a contiguous CPU tensor of `n` elements of `T` (checked above); the slice borrows
    // `t`, which keeps the storage alive and is not written while the slice lives (the kernels
    // only read their inputs).
    Ok(unsafe { std::slice::from_raw_parts(t.data_ptr() as *const T, n) })
}

/// A contiguous CPU float32 tensor's elements, writable.
///
/// Writing through the slice changes the tensor's storage for every handle that shares it:
/// callers pass tensors whose storage they alone use (the trainer's own state, or a tensor
/// just created).
pub(super) fn values_mut(t: &mut Tensor) -> Result<&mut [f32]> {
    let n = values::<f32>(t)?.len();
    if n == 0 {
        return Ok(&mut []);
    }
    // SAFETY: `values` checked a contiguous CPU float32 tensor of `n` elements, and the
    // exclusive borrow of `t` keeps this handle from being used while the slice lives.
    Ok(unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, n) })
}

/// A new contiguous CPU tensor of `shape` from `pool`, its elements written by `fill`.
pub(super) fn new_tensor<T: tch::kind::Element>(
    pool: &Arc<Pool>,
    shape: &[i64],
    fill: impl FnOnce(&mut [T]),
) -> Result<Tensor> {
    let t = pool.tensor(shape, T::KIND)?;
    let n = t.numel();
    if n > 0 {
        // SAFETY: `t` was just allocated, contiguous, with `n` elements of `T`; nothing else
        // refers to its storage until it is returned.
        let out = unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut T, n) };
        fill(out);
    }
    Ok(t)
}

/// Splits `len` elements into tasks of whole units of `unit` elements (about [`BLOCK`] each)
/// and runs `task(first_unit, range)` on each: in parallel on libtorch's intra-op threads (the
/// threads its matrix products use, so the two never compete for cores) when there is more
/// than one task. Results come back in task order.
pub(super) fn tasks<R: Send>(
    len: usize,
    unit: usize,
    task: impl Fn(usize, std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    let unit = unit.max(1);
    let units = len / unit;
    let per_task = (BLOCK / unit).max(1);
    let count = units.div_ceil(per_task).max(1);
    let run = |t: usize| {
        let first = t * per_task;
        let last = ((t + 1) * per_task).min(units);
        task(first, first * unit..last * unit)
    };
    if count == 1 {
        return vec![run(0)];
    }
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    let slots = SyncSlice::new(&mut results);
    parallel_for(count, &|range: std::ops::Range<usize>| {
        // SAFETY: the pool hands out disjoint ranges of task indices.
        let slots = unsafe { slots.range(range.clone()) };
        for (slot, t) in slots.iter_mut().zip(range) {
            *slot = Some(run(t));
        }
    });
    results.into_iter().flatten().collect()
}

extern "C" {
    /// In `parallel.cpp`: `at::parallel_for` over `[0, n)` calling `body(ctx, begin, end)`.
    fn pouw_parallel_for(
        n: i64,
        ctx: *mut std::ffi::c_void,
        body: extern "C" fn(*mut std::ffi::c_void, i64, i64),
    ) -> i32;
}

/// What the trampoline reaches through `ctx`: the body and whether any call panicked.
struct Job<'a> {
    body: &'a (dyn Fn(std::ops::Range<usize>) + Sync),
    panicked: std::sync::atomic::AtomicBool,
}

extern "C" fn trampoline(ctx: *mut std::ffi::c_void, begin: i64, end: i64) {
    // SAFETY: `ctx` is the `Job` that `parallel_for` passed, alive until it returns.
    let job = unsafe { &*(ctx as *const Job<'_>) };
    let range = begin as usize..end as usize;
    // A panic must not unwind into C++: it is caught here and raised again by `parallel_for`.
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.body)(range))).is_err() {
        job.panicked
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs `body` over disjoint ranges covering `[0, n)` on libtorch's intra-op threads; falls back
/// to one call on this thread if libtorch reports an error.
fn parallel_for(n: usize, body: &(dyn Fn(std::ops::Range<usize>) + Sync)) {
    let job = Job {
        body,
        panicked: std::sync::atomic::AtomicBool::new(false),
    };
    // SAFETY: `job` outlives the call; the trampoline only reads it (the flag is atomic).
    let status = unsafe {
        pouw_parallel_for(
            n as i64,
            &job as *const Job<'_> as *mut std::ffi::c_void,
            trampoline,
        )
    };
    if job.panicked.load(std::sync::atomic::Ordering::Relaxed) {
        // Re-raises, on the calling thread, a panic of `body` itself (a bug in a host kernel,
        // never an input): the same behaviour as running `body` here directly.
        #[allow(clippy::panic)]
        {
            panic!("a host kernel task panicked");
        }
    }
    if status != 0 {
        body(0..n);
    }
}

/// A tensor seen as `[outer, n, inner]` around its group dimension (or `[1, 1, numel]`).
#[derive(Clone, Copy, Debug)]
struct Groups {
    n: usize,
    inner: usize,
}

impl Groups {
    fn of(shape: &[i64], keep: Option<usize>) -> Self {
        let prod = |s: &[i64]| s.iter().product::<i64>().max(1) as usize;
        match keep {
            None => Groups {
                n: 1,
                inner: prod(shape),
            },
            Some(d) => Groups {
                n: shape[d].max(1) as usize,
                inner: prod(&shape[d + 1..]),
            },
        }
    }

    /// Calls `f(group, segment)` for each run of elements of one group in `range` (whole rows
    /// of `inner` elements starting at row `first_row`).
    #[inline(always)]
    fn for_each_row<'a, T>(
        &self,
        xs: &'a [T],
        first_row: usize,
        mut f: impl FnMut(usize, &'a [T]),
    ) {
        let mut g = first_row % self.n;
        for row in xs.chunks_exact(self.inner) {
            f(g, row);
            g += 1;
            if g == self.n {
                g = 0;
            }
        }
    }
}

/// The bits of `|v|`: for non-negative floats (and NaN, above infinity) the order of the bit
/// patterns as integers is the order of the values, so integer maxima (which vectorise) give
/// the largest magnitude, and a NaN anywhere makes the maximum a NaN, as libtorch's `amax`.
#[inline(always)]
fn magnitude_bits(v: f32) -> u32 {
    v.to_bits() & 0x7fff_ffff
}

/// The largest magnitude of `xs` as `|v|` bits (0 for none).
#[inline(always)]
pub(super) fn max_magnitude_bits(xs: &[f32]) -> u32 {
    let mut lanes = [0u32; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l = (*l).max(magnitude_bits(v));
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .map(|&v| magnitude_bits(v))
        .max()
        .unwrap_or(0);
    lanes.into_iter().max().unwrap_or(0).max(tail)
}

/// Whether a maximum of `|v|` bits is finite (below infinity's bits).
fn finite_bits(bits: u32) -> bool {
    bits < 0x7f80_0000
}

/// Each group's largest magnitude, and whether every element was finite.
fn group_maxima(xs: &[f32], g: Groups) -> (Vec<f32>, bool) {
    let partial = if g.inner == 1 {
        // Groups run along the last dimension: each slab of `n` elements updates every group.
        tasks(xs.len(), g.n, |_, range| {
            let mut max = vec![0u32; g.n];
            for slab in xs[range].chunks_exact(g.n) {
                for (m, &v) in max.iter_mut().zip(slab) {
                    *m = (*m).max(magnitude_bits(v));
                }
            }
            max
        })
    } else {
        tasks(xs.len(), g.inner, |first, range| {
            let mut max = vec![0u32; g.n];
            g.for_each_row(&xs[range], first, |group, row| {
                max[group] = max[group].max(max_magnitude_bits(row));
            });
            max
        })
    };
    let bits = partial.into_iter().fold(vec![0u32; g.n], |mut a, b| {
        for (x, y) in a.iter_mut().zip(b) {
            *x = (*x).max(y);
        }
        a
    });
    let finite = bits.iter().all(|&b| finite_bits(b));
    (bits.into_iter().map(f32::from_bits).collect(), finite)
}

/// Whether every element of a contiguous float32 CPU tensor is finite.
pub(super) fn all_finite(x: &Tensor) -> Result<bool> {
    let xs = values::<f32>(x)?;
    Ok(
        tasks(xs.len(), 1, |_, range| max_magnitude_bits(&xs[range]))
            .into_iter()
            .all(finite_bits),
    )
}

/// The sum of `round(v * scale)` over `xs`, exactly (integers whose total stays below 2^53:
/// any order gives the same sum, so eight lanes run side by side).
#[inline(always)]
fn quantized_sum(xs: &[f32], scale: f64) -> f64 {
    let mut lanes = [0f64; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l += round_even(f64::from(v) * scale);
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| round_even(f64::from(v) * scale))
        .sum();
    lanes.iter().sum::<f64>() + tail
}

/// Each group's largest magnitude in a contiguous float32 CPU tensor, and whether every element
/// was finite.
pub(super) fn maxima(x: &Tensor, keep: Option<usize>) -> Result<(Vec<f32>, bool)> {
    let xs = values::<f32>(x)?;
    Ok(group_maxima(xs, Groups::of(&x.size(), keep)))
}

/// Each group's scale `2^shift` and shift for quantizing to `bits`, from the group maxima.
fn scales(max: &[f32], bits: u32) -> (Vec<f64>, Vec<i32>) {
    let shifts: Vec<i32> = max.iter().map(|&m| shift_of(m, bits)).collect();
    (shifts.iter().map(|&s| pow2(s)).collect(), shifts)
}

/// [`Exact::quantize`](super::Exact::quantize) on the host: the integers, each group's shift
/// (`q = round(x * 2^shift)`), and whether every element was finite.
pub(super) fn quantize(
    pool: &Arc<Pool>,
    x: &Tensor,
    bits: u32,
    keep: Option<usize>,
) -> Result<(Tensor, Vec<i32>, bool)> {
    let xs = values::<f32>(x)?;
    let shape = x.size();
    let g = Groups::of(&shape, keep);
    let (max, finite) = group_maxima(xs, g);
    let (scale, shifts) = scales(&max, bits);
    let q = new_tensor::<f64>(pool, &shape, |out| {
        let out = SyncSlice::new(out);
        let unit = if g.inner == 1 { g.n } else { g.inner };
        tasks(xs.len(), unit, |first, range| {
            // SAFETY: tasks cover disjoint ranges.
            let out = unsafe { out.range(range.clone()) };
            let xs = &xs[range];
            if g.inner == 1 {
                for (o, x) in out.chunks_exact_mut(g.n).zip(xs.chunks_exact(g.n)) {
                    for ((o, &v), &s) in o.iter_mut().zip(x).zip(&scale) {
                        *o = round_even(f64::from(v) * s);
                    }
                }
            } else {
                let mut out_rows = out.chunks_exact_mut(g.inner);
                g.for_each_row(xs, first, |group, row| {
                    let s = scale[group];
                    if let Some(o) = out_rows.next() {
                        for (o, &v) in o.iter_mut().zip(row) {
                            *o = round_even(f64::from(v) * s);
                        }
                    }
                });
            }
        });
    })?;
    Ok((q, shifts, finite))
}

/// [`Exact::sum`](super::Exact::sum) on the host: `[n]` float64 sums and whether every term was
/// finite.
pub(super) fn sum(x: &Tensor, bits: u32, keep: usize) -> Result<(Tensor, bool)> {
    let (sums, finite) = sum_values(values::<f32>(x)?, &x.size(), bits, keep);
    Ok((torch(Tensor::f_from_slice(&sums))?, finite))
}

/// Exact sums of `xs` (of `shape`) over every dimension but `keep`, each term quantized to
/// `bits` bits of its group's largest magnitude: the float64 sums (`+0` for zero) and whether
/// every term was finite.
pub(super) fn sum_values(xs: &[f32], shape: &[i64], bits: u32, keep: usize) -> (Vec<f64>, bool) {
    let g = Groups::of(shape, Some(keep));
    let (max, finite) = group_maxima(xs, g);
    let (scale, shifts) = scales(&max, bits);
    // Integers below 2^53 in total: exact in any order.
    let partial = if g.inner == 1 {
        tasks(xs.len(), g.n, |_, range| {
            let mut sums = vec![0f64; g.n];
            for slab in xs[range].chunks_exact(g.n) {
                for ((s, &v), &k) in sums.iter_mut().zip(slab).zip(&scale) {
                    *s += round_even(f64::from(v) * k);
                }
            }
            sums
        })
    } else {
        tasks(xs.len(), g.inner, |first, range| {
            let mut sums = vec![0f64; g.n];
            g.for_each_row(&xs[range], first, |group, row| {
                sums[group] += quantized_sum(row, scale[group]);
            });
            sums
        })
    };
    let sums = partial.into_iter().fold(vec![0f64; g.n], |mut a, b| {
        for (x, y) in a.iter_mut().zip(b) {
            *x += y;
        }
        a
    });
    let out = sums
        .iter()
        .zip(&shifts)
        .map(|(&s, &shift)| s * pow2(-shift) + 0.0)
        .collect();
    (out, finite)
}

/// A unit tensor of a dequantization: its values and the one dimension they run along.
#[derive(Debug)]
pub(super) struct Unit {
    dim: Option<usize>,
    values: Vec<f64>,
}

impl Unit {
    /// Reads a unit tensor broadcastable to a tensor of `ndim` dimensions.
    pub(super) fn of(u: &Tensor, ndim: usize) -> Result<Self> {
        let shape = u.size();
        let big: Vec<usize> = (0..shape.len()).filter(|&d| shape[d] > 1).collect();
        if shape.len() != ndim || big.len() > 1 || kind_of(u)? != Kind::Double {
            return Err(Error::Torch(format!(
                "dequantize: unit of shape {shape:?} for a tensor of {ndim} dimensions"
            )));
        }
        let u = torch(torch(u.f_to_device(Device::Cpu))?.f_contiguous())?;
        Ok(Unit {
            dim: big.first().copied(),
            values: values::<f64>(&u)?.to_vec(),
        })
    }
}

/// [`Exact::dequantize`](super::Exact::dequantize) on the host.
pub(super) fn dequantize(pool: &Arc<Pool>, r: &Tensor, units: &[Unit]) -> Result<Tensor> {
    let rs = values::<f64>(r)?;
    let shape: Vec<usize> = r.size().iter().map(|&d| d as usize).collect();
    // The per-element factor is the product of the units (powers of two whose products stay in
    // range: exact, so equal to multiplying one after another). Units along one dimension fold.
    let mut by_dim: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut constant = 1f64;
    for u in units {
        match u.dim {
            None => constant *= u.values.first().copied().unwrap_or(1.0),
            Some(d) => {
                if u.values.len() != shape[d] {
                    return Err(Error::Torch(format!(
                        "dequantize: {} units along dimension {d} of {shape:?}",
                        u.values.len()
                    )));
                }
                match by_dim.iter_mut().find(|(e, _)| *e == d) {
                    Some((_, v)) => v.iter_mut().zip(&u.values).for_each(|(a, b)| *a *= b),
                    None => by_dim.push((d, u.values.clone())),
                }
            }
        }
    }
    by_dim.sort_by_key(|(d, _)| *d);
    // Seen as [_, n1, b, n2, c] (sizes 1 where a unit is absent); the factor of an element
    // depends on its n1 and n2 indices.
    let prod = |s: &[usize]| s.iter().product::<usize>().max(1);
    let (v1, v2, b, c) = match by_dim.as_slice() {
        [] => (vec![constant], vec![1.0], 1, prod(&shape)),
        [(d, v)] => (
            v.iter().map(|x| x * constant).collect(),
            vec![1.0],
            1,
            prod(&shape[d + 1..]),
        ),
        [(d1, u1), (d2, u2)] => (
            u1.iter().map(|x| x * constant).collect(),
            u2.clone(),
            prod(&shape[d1 + 1..*d2]),
            prod(&shape[d2 + 1..]),
        ),
        _ => {
            return Err(Error::Torch(
                "dequantize: units along more than two dimensions".into(),
            ))
        }
    };
    let (n1, n2) = (v1.len(), v2.len());
    let slab = b * n2 * c; // elements per index of the dimensions up to n1
    new_tensor::<f32>(pool, &r.size(), |out| {
        let out = SyncSlice::new(out);
        tasks(rs.len(), slab, |first, range| {
            // SAFETY: tasks cover disjoint ranges.
            let out = unsafe { out.range(range.clone()) };
            let mut i1 = first % n1;
            for (out, rs) in out.chunks_exact_mut(slab).zip(rs[range].chunks_exact(slab)) {
                let f1 = v1[i1];
                i1 = if i1 + 1 == n1 { 0 } else { i1 + 1 };
                for (out, rs) in out.chunks_exact_mut(n2 * c).zip(rs.chunks_exact(n2 * c)) {
                    if c == 1 {
                        for ((o, &v), &f2) in out.iter_mut().zip(rs).zip(&v2) {
                            *o = (v * (f1 * f2)) as f32 + 0.0;
                        }
                    } else {
                        for ((out, rs), &f2) in
                            out.chunks_exact_mut(c).zip(rs.chunks_exact(c)).zip(&v2)
                        {
                            let f = f1 * f2;
                            for (o, &v) in out.iter_mut().zip(rs) {
                                *o = (v * f) as f32 + 0.0;
                            }
                        }
                    }
                }
            }
        });
    })
}

/// A mutable slice that parallel tasks write in disjoint ranges.
pub(super) struct SyncSlice<T> {
    ptr: *mut T,
    len: usize,
}

// SAFETY: only used to hand disjoint ranges of one slice to parallel tasks (see `range`).
unsafe impl<T: Send> Sync for SyncSlice<T> {}

impl<T> SyncSlice<T> {
    pub(super) fn new(s: &mut [T]) -> Self {
        SyncSlice {
            ptr: s.as_mut_ptr(),
            len: s.len(),
        }
    }

    /// # Safety
    /// Ranges handed out at the same time must not overlap, and the slice `new` took must
    /// outlive them.
    #[allow(clippy::mut_from_ref)]
    pub(super) unsafe fn range(&self, r: std::ops::Range<usize>) -> &mut [T] {
        assert!(
            r.start <= r.end && r.end <= self.len,
            "range within the slice"
        );
        std::slice::from_raw_parts_mut(self.ptr.add(r.start), r.len())
    }
}
