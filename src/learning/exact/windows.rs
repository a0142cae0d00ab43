//! Convolution layouts of fixed-point tensors, fused with quantization and dequantization.
//!
//! A convolution's product runs between a weight matrix and the *windows* of an NCHW tensor: the
//! window matrix `[C * k * k, B * L]` holds, for each input channel and kernel offset (a row),
//! the pixel under that offset of every window of every image (a column; `L` windows per
//! image), zero where the window overhangs the padding (`im2col`, batch folded into the
//! columns). The reverse, [`Exact::scatter_windows`], sums a product's window columns back into
//! an image (`col2im`): an exact sum of integers, then one rounding per pixel.
//!
//! Each operation has the tensor form (quantize, `im2col`, permute; permute, `col2im`,
//! dequantize: what CUDA runs) and a fused host form that reads and writes each element once.

use super::fixed::{pow2, shift_of};
use super::host::{new_tensor, tasks, values, SyncSlice};
use super::profile::Part;
use super::{torch, Exact, Fixed};
use crate::error::{Error, Result};
use tch::{Kind, Tensor};

/// A square convolution window: kernel side, stride and zero padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Kernel side.
    pub kernel: i64,
    /// Stride.
    pub stride: i64,
    /// Zero padding on every side.
    pub padding: i64,
}

impl Window {
    /// Windows along a side of `n` pixels.
    pub fn count(&self, n: i64) -> i64 {
        (n + 2 * self.padding - self.kernel) / self.stride + 1
    }

    fn args(&self) -> ([i64; 2], [i64; 2], [i64; 2], [i64; 2]) {
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        ([k, k], [1, 1], [p, p], [s, s])
    }

    /// The most windows covering one pixel: `ceil(k / s)^2`.
    pub fn overlap(&self) -> u64 {
        let per_side = (self.kernel + self.stride - 1) / self.stride;
        (per_side * per_side) as u64
    }
}

/// Which elements of an NCHW tensor share a scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// One scale per image (dimension 0).
    Image,
    /// One scale per channel (dimension 1).
    Channel,
}

impl Group {
    fn dim(self) -> usize {
        match self {
            Group::Image => 0,
            Group::Channel => 1,
        }
    }
}

fn dims4(x: &Tensor) -> Result<(i64, i64, i64, i64)> {
    torch(x.size4())
}

/// Quantizes on the host by group: the shifts and float64 scales of each group, and finiteness.
fn host_scales(x: &Tensor, bits: u32, group: Group) -> Result<(Vec<i32>, Vec<f64>, bool)> {
    let (max, finite) = super::host::maxima(x, Some(group.dim()))?;
    let shifts: Vec<i32> = max.iter().map(|&m| shift_of(m, bits)).collect();
    let scales = shifts.iter().map(|&s| pow2(s)).collect();
    Ok((shifts, scales, finite))
}

fn unit_tensor(shifts: &[i32]) -> Result<Tensor> {
    let units: Vec<f64> = shifts.iter().map(|&s| pow2(-s)).collect();
    torch(Tensor::f_from_slice(&units))
}

impl Exact {
    /// Quantizes an NCHW float32 tensor by `group` and lays it out channels first:
    /// `[C, B * H * W]`. The unit is `[B]` or `[C]`.
    pub fn quantize_channels_first(&self, x: &Tensor, bits: u32, group: Group) -> Result<Fixed> {
        let _timer = self.time(Part::Quantize);
        let (b, c, h, w) = dims4(x)?;
        if !self.host() {
            let f = self.quantize(x, bits, Some(group.dim()))?;
            let q = torch(torch(f.q.f_permute([1, 0, 2, 3]))?.f_reshape([c, b * h * w]))?;
            let unit = torch(f.unit.f_reshape([-1]))?;
            return Ok(Fixed { q, unit, bits });
        }
        let x = torch(x.f_contiguous())?;
        let (shifts, scales, finite) = host_scales(&x, bits, group)?;
        self.note_finite(finite);
        let xs = values::<f32>(&x)?;
        let (b, c, hw) = (b as usize, c as usize, (h * w) as usize);
        let q = new_tensor::<f64>(&self.pool, &[c as i64, (b * hw) as i64], |out| {
            let out = SyncSlice::new(out);
            tasks(c * b * hw, b * hw, |first, range| {
                // SAFETY: tasks cover disjoint ranges.
                let out = unsafe { out.range(range) };
                for (i, row) in out.chunks_exact_mut(b * hw).enumerate() {
                    let ci = first + i;
                    for (bi, dst) in row.chunks_exact_mut(hw).enumerate() {
                        let s = scales[if group == Group::Image { bi } else { ci }];
                        let src = &xs[(bi * c + ci) * hw..(bi * c + ci + 1) * hw];
                        for (o, &v) in dst.iter_mut().zip(src) {
                            *o = super::host::round_even(f64::from(v) * s);
                        }
                    }
                }
            });
        })?;
        Ok(Fixed {
            q,
            unit: unit_tensor(&shifts)?,
            bits,
        })
    }

    /// Quantizes an NCHW float32 tensor by `group` and lays out its windows: `[C * k * k,
    /// B * L]` (see the module documentation). The unit is `[B]` or `[C]`.
    pub fn quantize_windows(
        &self,
        x: &Tensor,
        window: Window,
        bits: u32,
        group: Group,
    ) -> Result<Fixed> {
        let _timer = self.time(Part::Quantize);
        let (b, c, h, w) = dims4(x)?;
        let (lh, lw) = (window.count(h), window.count(w));
        let kk = window.kernel * window.kernel;
        if !self.host() {
            let f = self.quantize(x, bits, Some(group.dim()))?;
            let (k, d, p, s) = window.args();
            let cols = torch(f.q.f_im2col(k, d, p, s))?; // [B, C*k*k, L]
            let q = torch(torch(cols.f_permute([1, 0, 2]))?.f_reshape([c * kk, b * lh * lw]))?;
            let unit = torch(f.unit.f_reshape([-1]))?;
            return Ok(Fixed { q, unit, bits });
        }
        let x = torch(x.f_contiguous())?;
        let (shifts, scales, finite) = host_scales(&x, bits, group)?;
        self.note_finite(finite);
        let xs = values::<f32>(&x)?;
        let (b, c, h, w) = (b as usize, c as usize, h as usize, w as usize);
        let (lh, lw, k) = (lh as usize, lw as usize, window.kernel as usize);
        let (stride, pad) = (window.stride as usize, window.padding as usize);
        let row_len = b * lh * lw;
        let (ph, pw) = (h + 2 * pad, w + 2 * pad);
        let q = new_tensor::<f64>(&self.pool, &[(c * k * k) as i64, row_len as i64], |out| {
            let out = SyncSlice::new(out);
            // One task unit per channel and image, channel-major: each image's plane is
            // quantized once into a zero-padded copy, from which its `k * k` window rows'
            // stretches are gathered (consecutive units write consecutive stretches of the same
            // rows).
            let unit = k * k * lh * lw;
            tasks(c * b * unit, unit, |first, range| {
                let mut padded = vec![0f64; ph * pw];
                for p in first..first + range.len() / unit {
                    let (ci, bi) = (p / b, p % b);
                    let s = scales[if group == Group::Image { bi } else { ci }];
                    let plane = &xs[(bi * c + ci) * h * w..(bi * c + ci + 1) * h * w];
                    for (dst, src) in padded[pad * pw..]
                        .chunks_exact_mut(pw)
                        .zip(plane.chunks_exact(w))
                    {
                        for (o, &v) in dst[pad..pad + w].iter_mut().zip(src) {
                            *o = super::host::round_even(f64::from(v) * s);
                        }
                    }
                    for kh in 0..k {
                        for kw in 0..k {
                            let at = (ci * k * k + kh * k + kw) * row_len + bi * lh * lw;
                            // SAFETY: each unit `p` is one task's, and its stretches of the
                            // rows are its own.
                            let dst = unsafe { out.range(at..at + lh * lw) };
                            for (oy, dst) in dst.chunks_exact_mut(lw).enumerate() {
                                let src = &padded[(oy * stride + kh) * pw + kw..];
                                for (o, &v) in dst.iter_mut().zip(src.iter().step_by(stride)) {
                                    *o = v;
                                }
                            }
                        }
                    }
                }
            });
        })?;
        Ok(Fixed {
            q,
            unit: unit_tensor(&shifts)?,
            bits,
        })
    }

    /// Sums the window columns of an integer product `r` `[R * k * k, B * L]` back into images
    /// `[B, R, H, W]` (exactly: at most [`Window::overlap`] entries per pixel) and scales them
    /// by `row_unit` `[R]` and `image_unit` `[B]` into float32, once rounded.
    pub fn scatter_windows(
        &self,
        r: &Tensor,
        window: Window,
        side: (i64, i64),
        row_unit: &Tensor,
        image_unit: &Tensor,
    ) -> Result<Tensor> {
        let _timer = self.time(Part::Rescale);
        let (h, w) = side;
        let (lh, lw) = (window.count(h), window.count(w));
        let kk = window.kernel * window.kernel;
        let (rows, cols) = (r.size()[0], r.size()[1]);
        let (nr, b) = (row_unit.size()[0], image_unit.size()[0]);
        if rows != nr * kk || cols != b * lh * lw {
            return Err(Error::Torch(format!(
                "scatter of {:?} into {b} images of {nr} channels, {h}x{w}",
                r.size()
            )));
        }
        if !self.host() {
            let cols = torch(torch(r.f_reshape([rows, b, lh * lw]))?.f_permute([1, 0, 2]))?;
            let (k, d, p, s) = window.args();
            let sums = torch(torch(cols.f_contiguous())?.f_col2im([h, w], k, d, p, s))?;
            let ru = torch(row_unit.f_reshape([1, nr, 1, 1]))?;
            let iu = torch(image_unit.f_reshape([b, 1, 1, 1]))?;
            return self.dequantize(&sums, &[&ru, &iu]);
        }
        let r = torch(r.f_contiguous())?;
        let rs = values::<f64>(&r)?;
        let (ru, iu) = (host_f64(row_unit)?, host_f64(image_unit)?);
        let (b, nr, h, w) = (b as usize, nr as usize, h as usize, w as usize);
        let (lh, lw, k) = (lh as usize, lw as usize, window.kernel as usize);
        let (stride, pad) = (window.stride, window.padding);
        let row_len = b * lh * lw;
        new_tensor::<f32>(
            &self.pool,
            &[b as i64, nr as i64, h as i64, w as i64],
            |out| {
                let out = SyncSlice::new(out);
                // Planes in channel-major order (channel, then image), so that consecutive
                // planes read consecutive stretches of the same `k * k` rows of `r`: each row
                // is read as a stream instead of a stretch per row per plane.
                tasks(nr * b * h * w, h * w, |first, range| {
                    let mut acc = vec![0f64; h * w];
                    for p in first..first + range.len() / (h * w) {
                        let (ci, bi) = (p / b, p % b);
                        let at = (bi * nr + ci) * h * w;
                        // SAFETY: each plane index `p` is one task's, and maps to its own plane.
                        let plane = unsafe { out.range(at..at + h * w) };
                        acc.iter_mut().for_each(|a| *a = 0.0);
                        // Each kernel offset's windows add into the pixels under them: integers
                        // below 2^53, exact in any order.
                        for kh in 0..k {
                            for kw in 0..k {
                                let row = (ci * k + kh) * k + kw;
                                let src = &rs[row * row_len + bi * lh * lw..][..lh * lw];
                                for oy in 0..lh {
                                    let y = (oy as i64 * stride + kh as i64 - pad) as usize;
                                    if y >= h {
                                        continue;
                                    }
                                    let acc = &mut acc[y * w..(y + 1) * w];
                                    for (ox, &v) in src[oy * lw..(oy + 1) * lw].iter().enumerate() {
                                        let x = (ox as i64 * stride + kw as i64 - pad) as usize;
                                        if x < w {
                                            acc[x] += v;
                                        }
                                    }
                                }
                            }
                        }
                        let f = ru[ci] * iu[bi];
                        for (o, &v) in plane.iter_mut().zip(&acc) {
                            *o = (v * f) as f32 + 0.0;
                        }
                    }
                });
            },
        )
    }

    /// Scales an integer product `r` `[R, B * L]` by `row_unit` `[R]` and `image_unit` `[B]`
    /// into float32 images `[B, R, shape...]` (`shape` multiplies to `L`).
    pub fn dequantize_batch_first(
        &self,
        r: &Tensor,
        row_unit: &Tensor,
        image_unit: &Tensor,
        shape: &[i64],
    ) -> Result<Tensor> {
        let _timer = self.time(Part::Rescale);
        let (nr, b) = (row_unit.size()[0], image_unit.size()[0]);
        let l: i64 = shape.iter().product();
        if r.size() != [nr, b * l] {
            return Err(Error::Torch(format!(
                "dequantize of {:?} into {b} images of {nr} rows of {l}",
                r.size()
            )));
        }
        let mut out_shape = vec![b, nr];
        out_shape.extend_from_slice(shape);
        if !self.host() {
            let ru = torch(row_unit.f_reshape([nr, 1, 1]))?;
            let iu = torch(image_unit.f_reshape([1, b, 1]))?;
            let y = self.dequantize(&torch(r.f_reshape([nr, b, l]))?, &[&ru, &iu])?;
            let y = torch(torch(y.f_permute([1, 0, 2]))?.f_contiguous())?;
            return torch(y.f_reshape(out_shape.as_slice()));
        }
        let r = torch(r.f_contiguous())?;
        let rs = values::<f64>(&r)?;
        let (ru, iu) = (host_f64(row_unit)?, host_f64(image_unit)?);
        let (nr, b, l) = (nr as usize, b as usize, l as usize);
        new_tensor::<f32>(&self.pool, &out_shape, |out| {
            let out = SyncSlice::new(out);
            tasks(b * nr * l, l, |first, range| {
                // SAFETY: tasks cover disjoint ranges.
                let out = unsafe { out.range(range) };
                for (i, dst) in out.chunks_exact_mut(l).enumerate() {
                    let (bi, ri) = ((first + i) / nr, (first + i) % nr);
                    let f = ru[ri] * iu[bi];
                    let src = &rs[(ri * b + bi) * l..(ri * b + bi + 1) * l];
                    for (o, &v) in dst.iter_mut().zip(src) {
                        *o = (v * f) as f32 + 0.0;
                    }
                }
            });
        })
    }
}

fn host_f64(t: &Tensor) -> Result<Vec<f64>> {
    let t = torch(torch(t.f_to_kind(Kind::Double))?.f_contiguous())?;
    Ok(values::<f64>(&t)?.to_vec())
}
