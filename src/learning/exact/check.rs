//! The start-up check that a device computes as the contract assumes: the tensor kernels on the
//! device must give, bit for bit, what the host kernels and plain Rust give, on inputs that
//! reach subnormals, rounding ties, signed zeros, every parallel code path and every operation
//! the module and its models use. A device that flushes subnormals to zero, rounds a division
//! or a conversion otherwise, or fuses a multiply and an add fails it.

use super::host::values;
use super::{kind_of, product_bits, torch, AdamConstants, Exact, Kernels, Products};
use crate::error::{Error, Result};
use std::sync::Mutex;
use tch::{Device, Kind, Tensor};

/// Inputs per check: large enough that libtorch splits the CPU kernels across threads.
const N: usize = 1 << 16;

/// Devices checked in this process, with the outcome.
static CHECKED: Mutex<Vec<(Device, std::result::Result<(), String>)>> = Mutex::new(Vec::new());

/// Deterministic test values: every class of float32 the arithmetic meets.
fn inputs(salt: u32) -> Vec<f32> {
    let mut state = 0x9e37_79b9u32 ^ salt.wrapping_mul(0x85eb_ca6b);
    let special = [
        0.0f32,
        -0.0,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-40,
        -3e-42,
        1.0,
        -1.0,
        0.5,
        1.5,
        2.5,
        -2.5,
        1.0 + f32::EPSILON / 2.0,
        1e30,
        -1e30,
        87.5,
        -87.5,
        100.0,
        -100.0,
    ];
    (0..N)
        .map(|i| {
            if i < special.len() {
                return special[i];
            }
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            // Sign, an exponent over a wide range around 1, and random significand bits.
            let exponent = 127 - 40 + (state >> 24) % 60;
            let bits =
                (state & 0x8000_0000) | (exponent << 23) | (state.rotate_left(7) & 0x7f_ffff);
            f32::from_bits(bits)
        })
        .collect()
}

fn tensor(values: &[f32], shape: &[i64], device: Device) -> Result<Tensor> {
    torch(torch(torch(Tensor::f_from_slice(values))?.f_reshape(shape))?.f_to_device(device))
}

/// The bits of a tensor's values, every NaN as one value: devices differ in the NaN they
/// produce (`0/0`), which is why a training state with a NaN is rejected, never hashed.
fn host_bits(t: &Tensor) -> Result<Vec<u64>> {
    let t = torch(torch(t.f_to_device(Device::Cpu))?.f_contiguous())?;
    Ok(match kind_of(&t)? {
        Kind::Float => values::<f32>(&t)?.iter().map(|&v| f32_bits(v)).collect(),
        Kind::Double => values::<f64>(&t)?
            .iter()
            .map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() })
            .collect(),
        k => return Err(Error::Torch(format!("self-test of a {k:?} tensor"))),
    })
}

fn f32_bits(v: f32) -> u64 {
    if v.is_nan() {
        u64::MAX
    } else {
        u64::from(v.to_bits())
    }
}

/// Every checked computation of one context, as named result tensors.
fn battery(exact: &Exact) -> Result<Vec<(&'static str, Tensor)>> {
    let device = exact.device();
    let (a, b) = (inputs(1), inputs(2));
    let x = tensor(&a, &[256, 256], device)?;
    let y = tensor(&b, &[256, 256], device)?;
    let mut out = Vec::new();
    for (name, keep) in [
        ("quantize", None),
        ("quantize rows", Some(0)),
        ("quantize columns", Some(1)),
    ] {
        let f = exact.quantize(&x, 20, keep)?;
        out.push((name, exact.dequantize(&f.q, &[&f.unit])?));
        out.push((name, f.q));
    }
    out.push(("sum", exact.sum(&x, 1)?));
    out.push(("sum rows", exact.sum(&y, 0)?));
    let bits = product_bits(256);
    let (fa, fb) = (
        exact.quantize(&x, bits, Some(0))?,
        exact.quantize(&y, bits, Some(1))?,
    );
    let r = exact.mm(&fa.q, &fb.q, (bits, bits), 1)?;
    out.push(("product", exact.dequantize(&r, &[&fa.unit, &fb.unit])?));
    let small = torch(x.f_mul_scalar(1e-3))?;
    out.push(("exp", exact.exp(&small)?));
    out.push(("exp wide", exact.exp(&x)?));
    out.push(("tanh", exact.tanh(&small)?));
    out.push(("sigmoid", exact.sigmoid(&small)?));
    // The element-wise operations models apply with plain tensor kernels.
    let tiny = torch(x.f_mul_scalar(1e-19))?;
    out.push(("multiply into subnormals", torch(tiny.f_mul(&tiny))?));
    out.push(("multiply", torch(x.f_mul(&y))?));
    out.push(("add", torch(x.f_add(&y))?));
    out.push(("subtract", torch(x.f_sub(&y))?));
    out.push(("divide", torch(x.f_div(&y))?));
    out.push(("square root", exact.sqrt(&torch(x.f_abs())?)?));
    out.push(("negate", torch(x.f_neg())?));
    out.push(("absolute value", torch(x.f_abs())?));
    out.push(("scale", torch(x.f_mul_scalar(0.2f32 as f64))?));
    let wide = torch(torch(x.f_to_kind(Kind::Double))?.f_mul(&torch(y.f_to_kind(Kind::Double))?))?;
    out.push(("round to float32", torch(wide.f_to_kind(Kind::Float))?));
    let c = AdamConstants::new(2e-4, 0.5, 0.999, 1e-8, 3)?;
    let (mut w, mut m, mut v) = (
        torch(x.f_mul_scalar(1e-2))?,
        torch(y.f_mul_scalar(1e-3))?,
        torch(torch(y.f_mul(&y))?.f_mul_scalar(1e-6))?,
    );
    let g = torch(x.f_mul_scalar(1e-4))?;
    exact.adam(&c, &mut w, &mut m, &mut v, &g)?;
    out.extend([("adam weights", w), ("adam mean", m), ("adam variance", v)]);
    exact.check_finite().or_else(|e| match e {
        // The inputs include huge values on purpose; finiteness is not what is checked here.
        Error::NonFinite => Ok(()),
        e => Err(e),
    })?;
    Ok(out)
}

/// Plain Rust for the element-wise part of the battery, where the host kernels are libtorch's.
fn scalar_reference(name: &str, a: &[f32], b: &[f32]) -> Option<Vec<u64>> {
    let f = |op: fn(f32, f32) -> f32| {
        Some(a.iter().zip(b).map(|(&x, &y)| f32_bits(op(x, y))).collect())
    };
    match name {
        "multiply into subnormals" => f(|x, _| (x * 1e-19) * (x * 1e-19)),
        "multiply" => f(|x, y| x * y),
        "add" => f(|x, y| x + y),
        "subtract" => f(|x, y| x - y),
        "divide" => f(|x, y| x / y),
        "square root" => f(|x, _| x.abs().sqrt()),
        "negate" => f(|x, _| -x),
        "absolute value" => f(|x, _| x.abs()),
        "scale" => f(|x, _| x * 0.2),
        "round to float32" => f(|x, y| (f64::from(x) * f64::from(y)) as f32),
        _ => None,
    }
}

fn run_check(device: Device) -> std::result::Result<(), String> {
    let fail = |e: Error| format!("{e}");
    let on_device = battery(&Exact::with(device, Kernels::Tensor, Products::Blas)).map_err(fail)?;
    let on_host = battery(&Exact::with(
        Device::Cpu,
        Kernels::Host,
        Products::Reference,
    ))
    .map_err(fail)?;
    let (a, b) = (inputs(1), inputs(2));
    for ((name, d), (_, h)) in on_device.iter().zip(&on_host) {
        let got = host_bits(d).map_err(fail)?;
        let want = match scalar_reference(name, &a, &b) {
            Some(reference) => reference,
            None => host_bits(h).map_err(fail)?,
        };
        if let Some(i) = got.iter().zip(&want).position(|(g, w)| g != w) {
            return Err(format!(
                "{name} differs at element {i}: {:#x} on {device:?}, {:#x} expected",
                got[i], want[i]
            ));
        }
        if got.len() != want.len() {
            return Err(format!(
                "{name}: {} values, {} expected",
                got.len(),
                want.len()
            ));
        }
    }
    Ok(())
}

impl Exact {
    /// Checks, once per process and device, that `device` computes as the contract assumes
    /// (see the module documentation); errors with what differed otherwise.
    pub fn self_test(device: Device) -> Result<()> {
        let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = match checked.iter().find(|(d, _)| *d == device) {
            Some((_, outcome)) => outcome.clone(),
            None => {
                let outcome = run_check(device);
                checked.push((device, outcome.clone()));
                outcome
            }
        };
        outcome.map_err(|detail| Error::DeviceArithmetic {
            device: format!("{device:?}"),
            detail,
        })
    }
}
