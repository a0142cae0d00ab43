//! The DCGAN's layers on exact arithmetic ([`Exact`]): each forward pass and, written out by
//! hand, its backward pass (libtorch's autograd would reduce in device-specific orders).
//!
//! Convolutions are matrix products of quantized operands: windows of the input
//! ([`Exact::quantize_windows`]) or window columns summed back into an image
//! ([`Exact::scatter_windows`], an exact sum of at most four product entries per pixel) around
//! one product with the batch folded into a long side. Scales are chosen per group so that every sum of the product runs
//! within one row group of the left operand and one column group of the right: per output
//! channel or per input channel for weights, per image or per channel for activations and
//! gradients, as each product allows. All tensors are NCHW float32.

use crate::error::Result;
use crate::learning::exact::{torch, Exact, Group, Window};
use tch::Tensor;

/// The stride-2 convolutions' window: kernel 4, padding 1.
const WINDOW: Window = Window {
    kernel: 4,
    stride: 2,
    padding: 1,
};

fn dims4(x: &Tensor) -> Result<(i64, i64, i64, i64)> {
    torch(x.size4())
}

/// A `[n, 1, ...]`-shaped unit tensor as `[n]`.
fn flat(unit: &Tensor) -> Result<Tensor> {
    torch(unit.f_reshape([-1]))
}

/// The generator's first block: the `1x1` latent `z` `[B, L]` to `[B, O, 4, 4]` by `w`
/// `[L, O, 4, 4]` (a transposed convolution of stride 1, no padding).
pub(crate) fn project(ex: &Exact, z: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (l, o) = (w.size()[0], w.size()[1]);
    let b = z.size()[0];
    let bits = ex.bits_for(l as u64);
    let fz = ex.quantize(z, bits, Some(0))?;
    let fw = ex.quantize(&torch(w.f_reshape([l, o * 16]))?, bits, Some(1))?;
    let r = ex.mm(&fz.q, &fw.q, (bits, bits), 1)?;
    torch(
        ex.dequantize(&r, &[&fz.unit, &fw.unit])?
            .f_reshape([b, o, 4, 4]),
    )
}

/// The weight gradient of [`project`] from the output gradient `dy` `[B, O, 4, 4]`.
pub(crate) fn project_weight_grad(ex: &Exact, z: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let (b, l) = (z.size()[0], z.size()[1]);
    let o = dy.size()[1];
    let bits = ex.bits_for(b as u64);
    let fz = ex.quantize(z, bits, Some(1))?;
    let fd = ex.quantize(&torch(dy.f_reshape([b, o * 16]))?, bits, Some(1))?;
    let r = ex.mm(&torch(fz.q.f_tr())?, &fd.q, (bits, bits), 1)?;
    let zu = torch(fz.unit.f_reshape([l, 1]))?;
    torch(ex.dequantize(&r, &[&zu, &fd.unit])?.f_reshape([l, o, 4, 4]))
}

/// A transposed convolution of stride 2 (kernel 4, padding 1) doubling the side: `x`
/// `[B, C, H, W]` by `w` `[C, O, 4, 4]` to `[B, O, 2H, 2W]`. Each input pixel's `4x4`
/// contribution is a window column of one product, summed into place.
pub(crate) fn up(ex: &Exact, x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (_, c, h, wd) = dims4(x)?;
    let o = w.size()[1];
    let bits = ex.bits_for(WINDOW.overlap() * c as u64);
    let fw = ex.quantize(w, bits, Some(1))?; // per output channel: the scatter sums within one
    let fx = ex.quantize_channels_first(x, bits, Group::Image)?; // [C, B*H*W], per image
    let kernel = torch(torch(fw.q.f_reshape([c, o * 16]))?.f_tr())?;
    let r = ex.mm(&kernel, &fx.q, (bits, bits), WINDOW.overlap())?;
    ex.scatter_windows(&r, WINDOW, (2 * h, 2 * wd), &flat(&fw.unit)?, &fx.unit)
}

/// The input gradient of [`up`]: a stride-2 convolution of `dy` `[B, O, 2H, 2W]` by `w`.
pub(crate) fn up_input_grad(ex: &Exact, dy: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (_, o, h2, w2) = dims4(dy)?;
    let c = w.size()[0];
    let bits = ex.bits_for(o as u64 * 16);
    let fw = ex.quantize(w, bits, Some(0))?; // per input channel (a row of the product)
    let fd = ex.quantize_windows(dy, WINDOW, bits, Group::Image)?; // [O*16, B*H*W]
    let r = ex.mm(&torch(fw.q.f_reshape([c, o * 16]))?, &fd.q, (bits, bits), 1)?;
    ex.dequantize_batch_first(&r, &flat(&fw.unit)?, &fd.unit, &[h2 / 2, w2 / 2])
}

/// The weight gradient of [`up`].
pub(crate) fn up_weight_grad(ex: &Exact, x: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let (b, c, h, wd) = dims4(x)?;
    let o = dy.size()[1];
    let bits = ex.bits_for((b * h * wd) as u64);
    let fx = ex.quantize_channels_first(x, bits, Group::Channel)?; // [C, B*H*W]
    let fd = ex.quantize_windows(dy, WINDOW, bits, Group::Channel)?; // [O*16, B*H*W]
    let r = ex.mm(&fx.q, &torch(fd.q.f_tr())?, (bits, bits), 1)?; // [C, O*16]
    let r = torch(r.f_reshape([c, o, 16]))?;
    let xu = torch(fx.unit.f_reshape([c, 1, 1]))?;
    let du = torch(fd.unit.f_reshape([1, o, 1]))?;
    torch(ex.dequantize(&r, &[&xu, &du])?.f_reshape([c, o, 4, 4]))
}

/// A convolution of stride 2 (kernel 4, padding 1) halving the side: `x` `[B, C, H, W]` by `w`
/// `[O, C, 4, 4]` to `[B, O, H/2, W/2]`, as the kernel times the image's `4x4` windows.
pub(crate) fn down(ex: &Exact, x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (_, c, h, wd) = dims4(x)?;
    let o = w.size()[0];
    let bits = ex.bits_for(c as u64 * 16);
    let fx = ex.quantize_windows(x, WINDOW, bits, Group::Image)?; // [C*16, B*H2*W2]
    let fw = ex.quantize(w, bits, Some(0))?; // per output channel
    let r = ex.mm(&torch(fw.q.f_reshape([o, c * 16]))?, &fx.q, (bits, bits), 1)?;
    ex.dequantize_batch_first(&r, &flat(&fw.unit)?, &fx.unit, &[h / 2, wd / 2])
}

/// The input gradient of [`down`]: each window's gradient is a column of one product, summed
/// back into the image.
pub(crate) fn down_input_grad(ex: &Exact, dy: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (_, o, h2, w2) = dims4(dy)?;
    let c = w.size()[1];
    let bits = ex.bits_for(WINDOW.overlap() * o as u64);
    let fw = ex.quantize(w, bits, Some(1))?; // per input channel: the scatter sums within one
    let fd = ex.quantize_channels_first(dy, bits, Group::Image)?; // [O, B*H2*W2]
    let kernel = torch(torch(fw.q.f_reshape([o, c * 16]))?.f_tr())?;
    let r = ex.mm(&kernel, &fd.q, (bits, bits), WINDOW.overlap())?;
    ex.scatter_windows(&r, WINDOW, (2 * h2, 2 * w2), &flat(&fw.unit)?, &fd.unit)
}

/// The weight gradient of [`down`].
pub(crate) fn down_weight_grad(ex: &Exact, x: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let (b, c, _, _) = dims4(x)?;
    let (_, o, h2, w2) = dims4(dy)?;
    let bits = ex.bits_for((b * h2 * w2) as u64);
    let fd = ex.quantize_channels_first(dy, bits, Group::Channel)?; // [O, B*H2*W2]
    let fx = ex.quantize_windows(x, WINDOW, bits, Group::Channel)?; // [C*16, B*H2*W2]
    let r = ex.mm(&fd.q, &torch(fx.q.f_tr())?, (bits, bits), 1)?; // [O, C*16]
    let r = torch(r.f_reshape([o, c, 16]))?;
    let du = torch(fd.unit.f_reshape([o, 1, 1]))?;
    let xu = torch(fx.unit.f_reshape([1, c, 1]))?;
    torch(ex.dequantize(&r, &[&du, &xu])?.f_reshape([o, c, 4, 4]))
}

/// The discriminator's last block: `x` `[B, C, 4, 4]` by `w` `[1, C, 4, 4]` to logits `[B]`.
pub(crate) fn reduce(ex: &Exact, x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, c, _, _) = dims4(x)?;
    let bits = ex.bits_for(c as u64 * 16);
    let fx = ex.quantize(&torch(x.f_reshape([b, c * 16]))?, bits, Some(0))?;
    let fw = ex.quantize(&torch(w.f_reshape([c * 16, 1]))?, bits, None)?;
    let r = ex.mm(&fx.q, &fw.q, (bits, bits), 1)?;
    torch(ex.dequantize(&r, &[&fx.unit, &fw.unit])?.f_reshape([b]))
}

/// The input gradient of [`reduce`]: each entry one product `dl[b] * w[c]`, rounded once.
pub(crate) fn reduce_input_grad(dl: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, c) = (dl.size()[0], w.size()[1]);
    let outer = torch(torch(dl.f_reshape([b, 1]))?.f_mul(&torch(w.f_reshape([1, c * 16]))?))?;
    torch(outer.f_reshape([b, c, 4, 4]))
}

/// The weight gradient of [`reduce`].
pub(crate) fn reduce_weight_grad(ex: &Exact, x: &Tensor, dl: &Tensor) -> Result<Tensor> {
    let (b, c, _, _) = dims4(x)?;
    let bits = ex.bits_for(b as u64);
    let fd = ex.quantize(&torch(dl.f_reshape([1, b]))?, bits, None)?;
    let fx = ex.quantize(&torch(x.f_reshape([b, c * 16]))?, bits, Some(1))?;
    let r = ex.mm(&fd.q, &fx.q, (bits, bits), 1)?;
    torch(
        ex.dequantize(&r, &[&fd.unit, &fx.unit])?
            .f_reshape([1, c, 4, 4]),
    )
}

/// Batch norm's epsilon.
pub(crate) const BN_EPS: f32 = 1e-5;

/// The negative slope of LeakyReLU, as a float32.
pub(crate) const LEAK: f32 = 0.2;

/// tanh's backward pass from its output `y`: `dy * (1 - y * y)`.
pub(crate) fn tanh_backward(dy: &Tensor, y: &Tensor) -> Result<Tensor> {
    let one_minus = torch(torch(torch(y.f_mul(y))?.f_neg())?.f_add_scalar(1.0))?;
    torch(dy.f_mul(&one_minus))
}

/// The gradient of the mean binary cross-entropy with logits `x` against the label (1 real,
/// 0 generated): `(sigmoid(x) - label) / B`, as `-sigmoid(-x) / B` for label 1 (no
/// cancellation) and `sigmoid(x) / B` for label 0.
pub(crate) fn bce_grad(ex: &Exact, x: &Tensor, real: bool) -> Result<Tensor> {
    let inv_b = f64::from((1.0 / x.size()[0] as f64) as f32);
    if real {
        let s = ex.sigmoid(&torch(x.f_neg())?)?;
        torch(s.f_mul_scalar(-inv_b))
    } else {
        torch(ex.sigmoid(x)?.f_mul_scalar(inv_b))
    }
}
