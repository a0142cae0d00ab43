//! The exact arithmetic on its own (`pouw::learning::exact`): every operation meets the error
//! bound it claims against a float64 reference, products are exact (BLAS, the reference loop
//! and 128-bit integer arithmetic agree), and the fused host kernels give the same bits as the
//! libtorch tensor operations CUDA runs. Inputs reach zeros, subnormals, huge values and
//! reduction lengths at the bound.
#![cfg(feature = "torch")]

use pouw::learning::exact::{
    product_bits, sum_bits, AdamConstants, Exact, Group, Kernels, Products, Window,
};
use proptest::prelude::*;
use tch::{Device, Kind, Tensor};

fn host() -> Exact {
    Exact::with(Device::Cpu, Kernels::Host, Products::Blas)
}

fn tensor_ops() -> Exact {
    Exact::with(Device::Cpu, Kernels::Tensor, Products::Blas)
}

fn reference() -> Exact {
    Exact::with(Device::Cpu, Kernels::Host, Products::Reference)
}

/// Deterministic float32 values: random significands, exponents spread `±spread` around 1,
/// and every `every`-th value a special one (zero, negative zero, subnormal, tiny, huge).
fn values(n: usize, seed: u64, spread: u32, every: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let special = [0.0f32, -0.0, 1e-40, -3e-39, 1e-30, 3e29];
    (0..n)
        .map(|i| {
            let r = next();
            if every > 0 && i % every == every - 1 {
                return special[(r % special.len() as u64) as usize];
            }
            let exponent = 127 + (r >> 32) as i64 % i64::from(2 * spread + 1) - i64::from(spread);
            let bits =
                ((r & 1) << 31) as u32 | ((exponent as u32) << 23) | (r >> 9) as u32 & 0x7f_ffff;
            f32::from_bits(bits)
        })
        .collect()
}

fn tensor(v: &[f32], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).reshape(shape)
}

fn to_f32(t: &Tensor) -> Vec<f32> {
    let t = t.to_kind(Kind::Float).contiguous();
    let mut out = vec![0f32; t.numel()];
    t.copy_data(&mut out, t.numel());
    out
}

fn to_f64(t: &Tensor) -> Vec<f64> {
    let t = t.to_kind(Kind::Double).contiguous();
    let mut out = vec![0f64; t.numel()];
    t.copy_data(&mut out, t.numel());
    out
}

fn bits(t: &Tensor) -> Vec<u64> {
    match t.kind() {
        Kind::Double => to_f64(t).iter().map(|v| v.to_bits()).collect(),
        Kind::Bool => to_f32(&t.to_kind(Kind::Float))
            .iter()
            .map(|v| u64::from(v.to_bits()))
            .collect(),
        _ => to_f32(t).iter().map(|v| u64::from(v.to_bits())).collect(),
    }
}

fn same_bits(a: &Tensor, b: &Tensor, what: &str) {
    assert_eq!(a.size(), b.size(), "{what}: shapes");
    let (x, y) = (bits(a), bits(b));
    if let Some(i) = x.iter().zip(&y).position(|(p, q)| p != q) {
        panic!("{what}: element {i} differs: {:#x} vs {:#x}", x[i], y[i]);
    }
}

/// The largest magnitude of `v` in each group along `dim` of `shape` (or of all).
fn group_max(v: &[f32], shape: &[usize], dim: Option<usize>) -> Vec<f64> {
    let n = dim.map_or(1, |d| shape[d]);
    let inner: usize = dim.map_or(1, |d| shape[d + 1..].iter().product());
    let mut max = vec![0f64; n];
    for (i, &x) in v.iter().enumerate() {
        let g = if dim.is_some() { (i / inner) % n } else { 0 };
        max[g] = max[g].max(f64::from(x).abs());
    }
    max
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Every quantized element is within `max(m, 2^-126) * 2^-P` of its value (`m` the group's
    /// largest magnitude), every integer within `2^P`, and host and tensor kernels agree bit for
    /// bit.
    #[test]
    fn quantization_meets_its_bound(
        rows in 1usize..40, cols in 1usize..40, bits_ in 2u32..=25, seed: u64,
        spread in 0u32..60, every in 0usize..7, dim in 0usize..3,
    ) {
        let v = values(rows * cols, seed, spread, every);
        let x = tensor(&v, &[rows as i64, cols as i64]);
        let keep = [None, Some(0), Some(1)][dim];
        let f = host().quantize(&x, bits_, keep).unwrap();
        let g = tensor_ops().quantize(&x, bits_, keep).unwrap();
        same_bits(&f.q, &g.q, "integers");
        same_bits(&f.unit, &g.unit, "units");
        let q = to_f64(&f.q);
        let unit = to_f64(&f.unit.expand_as(&f.q).contiguous());
        let max = group_max(&v, &[rows, cols], keep);
        for (i, (&x, (&q, &u))) in v.iter().zip(q.iter().zip(&unit)).enumerate() {
            let g = match keep { None => 0, Some(0) => i / cols, _ => i % cols };
            prop_assert!(q.abs() <= f64::from(1u32 << bits_) && q.fract() == 0.0);
            // A subnormal maximum counts as 2^-126: the grid never gets finer than that.
            let bound = max[g].max(2f64.powi(-126)) * 2f64.powi(-(bits_ as i32));
            prop_assert!((q * u - f64::from(x)).abs() <= bound, "{x} as {q} * {u}, bound {bound}");
        }
    }

    /// Products of quantized operands at the bound are exact: BLAS, the reference loop and
    /// 128-bit integers agree; the result is within the claimed bound of the float64 product.
    #[test]
    fn products_are_exact_and_within_their_bound(
        m in 1usize..24, n in 1usize..24, log_k in 0u32..13, seed: u64, spread in 0u32..20,
    ) {
        let k = 1usize << log_k;
        let (a, b) = (values(m * k, seed, spread, 0), values(k * n, seed ^ 1, spread, 0));
        let (ta, tb) = (tensor(&a, &[m as i64, k as i64]), tensor(&b, &[k as i64, n as i64]));
        let p = product_bits(k as u64);
        let ex = host();
        let (fa, fb) = (ex.quantize(&ta, p, Some(0)).unwrap(), ex.quantize(&tb, p, Some(1)).unwrap());
        let blas = ex.mm(&fa.q, &fb.q, (p, p), 1).unwrap();
        let reference = reference().mm(&fa.q, &fb.q, (p, p), 1).unwrap();
        same_bits(&blas, &reference, "BLAS and reference products");
        let (qa, qb, r) = (to_f64(&fa.q), to_f64(&fb.q), to_f64(&blas));
        for i in 0..m {
            for j in 0..n {
                let exact: i128 = (0..k).map(|t| qa[i * k + t] as i128 * qb[t * n + j] as i128).sum();
                prop_assert_eq!(exact as f64, r[i * n + j]);
                prop_assert!(exact.unsigned_abs() <= 1u128 << 53);
            }
        }
        let c = ex.dequantize(&blas, &[&fa.unit, &fb.unit]).unwrap();
        same_bits(&c, &tensor_ops().dequantize(&blas, &[&fa.unit, &fb.unit]).unwrap(), "dequantize");
        let (ma, mb) = (group_max(&a, &[m, k], Some(0)), group_max(&b, &[k, n], Some(1)));
        let c = to_f32(&c);
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k).map(|t| f64::from(a[i * k + t]) * f64::from(b[t * n + j])).sum();
                let got = f64::from(c[i * n + j]);
                let bound = k as f64 * ma[i] * mb[j] * 2f64.powi(-(p as i32)) * (2.0 + 2f64.powi(-(p as i32)))
                    + got.abs() * 2f64.powi(-24)
                    + want.abs() * 1e-12 + f64::from(f32::from_bits(1));
                prop_assert!((got - want).abs() <= bound, "{got} vs {want}, bound {bound}");
            }
        }
    }

    /// Exact sums are within `N * m * 2^-P` of the float64 sum, and host and tensor agree.
    #[test]
    fn sums_meet_their_bound(
        b in 1usize..9, c in 1usize..9, hw in 1usize..300, seed: u64, spread in 0u32..40, every in 0usize..5,
    ) {
        let v = values(b * c * hw, seed, spread, every);
        let x = tensor(&v, &[b as i64, c as i64, hw as i64]);
        let s = host().sum(&x, 1).unwrap();
        same_bits(&s, &tensor_ops().sum(&x, 1).unwrap(), "sums");
        let got = to_f64(&s);
        let n = b * hw;
        let p = sum_bits(n as u64);
        let max = group_max(&v, &[b, c, hw], Some(1));
        for ch in 0..c {
            let want: f64 = (0..b).flat_map(|i| (0..hw).map(move |j| (i, j)))
                .map(|(i, j)| f64::from(v[(i * c + ch) * hw + j])).sum();
            let bound = n as f64 * max[ch] * 2f64.powi(-(p as i32)) + want.abs() * 1e-15;
            prop_assert!((got[ch] - want).abs() <= bound, "{} vs {want}", got[ch]);
        }
    }

    /// The transcendental functions and the square root: host and tensor forms agree bit for
    /// bit, `exp` within 3 units in the last place (0 below -87), `tanh` within 4e-7,
    /// `sigmoid` within 4e-7 relative (2e-38 absolute below -87), `sqrt` correctly rounded.
    #[test]
    fn functions_meet_their_bounds(seed: u64, spread in 0u32..8) {
        let v = values(4096, seed, spread, 11);
        let x = tensor(&v, &[4096]);
        let (h, t) = (host(), tensor_ops());
        let e = h.exp(&x).unwrap();
        same_bits(&e, &t.exp(&x).unwrap(), "exp");
        let th = h.tanh(&x).unwrap();
        same_bits(&th, &t.tanh(&x).unwrap(), "tanh");
        let sg = h.sigmoid(&x).unwrap();
        same_bits(&sg, &t.sigmoid(&x).unwrap(), "sigmoid");
        let ax = x.abs();
        let sq = h.sqrt(&ax).unwrap();
        same_bits(&sq, &t.sqrt(&ax).unwrap(), "sqrt");
        for (i, &x) in v.iter().enumerate() {
            let x64 = f64::from(x);
            let want = if x64 < -87.0 { 0.0 } else { x64.min(88.0).exp() };
            let got = f64::from(to_f32(&e)[i]);
            let ulp = f64::from(f32::EPSILON) * want.max(f64::from(f32::MIN_POSITIVE));
            prop_assert!((got - want).abs() <= 3.0 * ulp, "exp({x}) = {got}, not {want}");
            prop_assert!((f64::from(to_f32(&th)[i]) - x64.tanh()).abs() <= 4e-7, "tanh({x})");
            let s = 1.0 / (1.0 + (-x64).exp());
            // Below -87, exp is 0 and so is sigmoid: off by less than 2e-38.
            prop_assert!((f64::from(to_f32(&sg)[i]) - s).abs() <= 4e-7 * s + 2e-38, "sigmoid({x})");
            prop_assert_eq!(to_f32(&sq)[i].to_bits(), x.abs().sqrt().to_bits());
        }
    }
}

/// Beyond the bound a float64 sum of integers depends on its order: the bound is needed.
#[test]
fn past_the_bound_the_order_of_a_sum_shows() {
    let terms = [(1u64 << 53) as f64, 1.0, 1.0];
    let forward = (terms[0] + terms[1]) + terms[2];
    let backward = terms[0] + (terms[1] + terms[2]);
    assert_ne!(forward, backward);
    let r = Exact::with(Device::Cpu, Kernels::Host, Products::Blas).mm(
        &Tensor::ones([1, 2], (Kind::Double, Device::Cpu)),
        &Tensor::ones([2, 1], (Kind::Double, Device::Cpu)),
        (26, 27),
        1,
    );
    assert!(
        matches!(r, Err(pouw::Error::Torch(_))),
        "{:?}",
        r.map(|_| ())
    );
}

/// The convolution layouts, batch norm, the selections and Adam: host and tensor forms agree
/// bit for bit on every shape the models use, including the generator's odd sides.
#[test]
fn host_and_tensor_kernels_agree_on_the_layers() {
    let (h, t) = (host(), tensor_ops());
    let window = Window {
        kernel: 4,
        stride: 2,
        padding: 1,
    };
    for (b, c, side) in [(2i64, 3i64, 8i64), (3, 5, 4), (4, 2, 16), (1, 1, 2)] {
        let v = values((b * c * side * side) as usize, (b * c * side) as u64, 6, 13);
        let x = tensor(&v, &[b, c, side, side]);
        for group in [Group::Image, Group::Channel] {
            let (fh, ft) = (
                h.quantize_windows(&x, window, 20, group).unwrap(),
                t.quantize_windows(&x, window, 20, group).unwrap(),
            );
            same_bits(&fh.q, &ft.q, "windows");
            same_bits(&fh.unit, &ft.unit, "window units");
            let (fh, ft) = (
                h.quantize_channels_first(&x, 20, group).unwrap(),
                t.quantize_channels_first(&x, 20, group).unwrap(),
            );
            same_bits(&fh.q, &ft.q, "channels first");
        }
        // A product of window columns scattered back, and one laid out batch first.
        let f = h.quantize_windows(&x, window, 20, Group::Image).unwrap();
        let w = tensor(&values((c * 16 * 7) as usize, 5, 3, 0), &[7, c * 16]);
        let fw = h.quantize(&w, 20, Some(0)).unwrap();
        let r = h.mm(&fw.q, &f.q, (20, 20), 1).unwrap(); // [7, B*L]
        let unit7 = fw.unit.reshape([-1]);
        let half = side / 2;
        same_bits(
            &h.dequantize_batch_first(&r, &unit7, &f.unit, &[half, half])
                .unwrap(),
            &t.dequantize_batch_first(&r, &unit7, &f.unit, &[half, half])
                .unwrap(),
            "batch first",
        );
        let cols = tensor(
            &values((c * 16 * b * half * half) as usize, 9, 3, 0),
            &[c * 16, b * half * half],
        );
        let fc = h.quantize(&cols, 20, None).unwrap();
        let units_c = Tensor::ones([c], (Kind::Double, Device::Cpu));
        let units_b = Tensor::ones([b], (Kind::Double, Device::Cpu));
        same_bits(
            &h.scatter_windows(&fc.q, window, (side, side), &units_c, &units_b)
                .unwrap(),
            &t.scatter_windows(&fc.q, window, (side, side), &units_c, &units_b)
                .unwrap(),
            "scatter",
        );
        // Batch norm both ways, the selections, Adam.
        let scale = tensor(&values(c as usize, 3, 1, 0), &[c]);
        let shift = tensor(&values(c as usize, 4, 1, 0), &[c]);
        let (yh, ch) = h.batch_norm(&x, &scale, &shift, 1e-5).unwrap();
        let (yt, ct) = t.batch_norm(&x, &scale, &shift, 1e-5).unwrap();
        same_bits(&yh, &yt, "batch norm");
        let dy = tensor(&values(v.len(), 8, 4, 9), &[b, c, side, side]);
        for grads in [false, true] {
            let (dh, gh) = h.batch_norm_backward(&dy, &ch, &scale, grads).unwrap();
            let (dt, gt) = t.batch_norm_backward(&dy, &ct, &scale, grads).unwrap();
            same_bits(&dh, &dt, "batch norm backward");
            if let (Some((a, b)), Some((c, d))) = (gh, gt) {
                same_bits(&a, &c, "scale gradient");
                same_bits(&b, &d, "shift gradient");
            }
        }
        let ((rh, mh), (rt, mt)) = (h.relu(&x).unwrap(), t.relu(&x).unwrap());
        same_bits(&rh, &rt, "relu");
        same_bits(&mh, &mt, "relu mask");
        same_bits(
            &h.relu_backward(&dy, &mh).unwrap(),
            &t.relu_backward(&dy, &mt).unwrap(),
            "relu backward",
        );
        let ((lh, mh), (lt, mt)) = (
            h.leaky_relu(&x, 0.2).unwrap(),
            t.leaky_relu(&x, 0.2).unwrap(),
        );
        same_bits(&lh, &lt, "leaky relu");
        same_bits(
            &h.leaky_relu_backward(&dy, &mh, 0.2).unwrap(),
            &t.leaky_relu_backward(&dy, &mt, 0.2).unwrap(),
            "leaky relu backward",
        );
        let adam = AdamConstants::new(2e-4, 0.5, 0.999, 1e-8, 7).unwrap();
        let g = dy.shallow_clone();
        let (mut w1, mut m1, mut v1) = (x.copy(), dy.copy(), dy.abs().copy());
        let (mut w2, mut m2, mut v2) = (x.copy(), dy.copy(), dy.abs().copy());
        h.adam(&adam, &mut w1, &mut m1, &mut v1, &g).unwrap();
        t.adam(&adam, &mut w2, &mut m2, &mut v2, &g).unwrap();
        same_bits(&w1, &w2, "adam weights");
        same_bits(&m1, &m2, "adam mean");
        same_bits(&v1, &v2, "adam variance");
    }
}

/// A non-finite input is recorded and reported, on both forms.
#[test]
fn non_finite_values_are_reported() {
    for ex in [host(), tensor_ops()] {
        let x = tensor(&[1.0, f32::INFINITY, 2.0, f32::NAN], &[2, 2]);
        ex.quantize(&x, 20, Some(0)).unwrap();
        assert!(matches!(ex.check_finite(), Err(pouw::Error::NonFinite)));
        ex.quantize(&tensor(&[1.0, 2.0], &[2]), 20, None).unwrap();
        ex.check_finite().unwrap();
    }
}

/// The device self-test passes on this CPU.
#[test]
fn the_cpu_passes_the_self_test() {
    Exact::self_test(Device::Cpu).unwrap();
}
