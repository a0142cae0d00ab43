//! Batch normalisation of NCHW tensors with batch statistics, on exact sums: per channel,
//! `mean = S(x) / N` and `var = S((x - mean)^2) / N` (exact sums of `N = B * H * W` terms,
//! scaled in float64 and rounded once to float32), then
//! `((x - mean) * (1 / sqrt(var + eps))) * scale + shift`, each operation correctly rounded.
//! The backward pass, with `g = dy * scale`, is
//! `dx = ((g - S(g)/N) - normalised * (S(g * normalised)/N)) * inv_std`.

use super::host::{new_tensor, tasks, values, values_mut, SyncSlice};
use super::pool::Pool;
use super::profile::Part;
use super::{sum_bits, torch, Exact};
use crate::error::Result;
use std::sync::Arc;
use tch::{Kind, Tensor};

/// What the backward pass needs.
#[derive(Debug)]
pub struct NormCache {
    /// The normalised input `(x - mean) * inv_std`.
    normalised: Tensor,
    /// `1 / sqrt(var + eps)` per channel (float32 `[C]`).
    inv_std: Tensor,
}

/// `(B, C, H * W)` of an NCHW tensor.
fn planes(x: &Tensor) -> Result<(usize, usize, usize)> {
    let (b, c, h, w) = torch(x.size4())?;
    Ok((b as usize, c as usize, (h * w) as usize))
}

/// `1 / (B * H * W)` as a float64.
fn inv_count(b: usize, hw: usize) -> f64 {
    1.0 / (b * hw) as f64
}

fn host_f32(t: &Tensor) -> Result<Vec<f32>> {
    let t = torch(
        torch(torch(t.f_to_device(tch::Device::Cpu))?.f_to_kind(Kind::Float))?.f_contiguous(),
    )?;
    Ok(values::<f32>(&t)?.to_vec())
}

/// Host: exact per-channel sums of the terms `fill` writes for each `H * W` plane (given the
/// plane's index `b * C + c` and channel `c`), times `factor` in float64, rounded to float32;
/// and whether every term was finite.
fn channel_sums(
    pool: &Arc<Pool>,
    (b, c, hw): (usize, usize, usize),
    factor: f64,
    fill: impl Fn(usize, usize, &mut [f32]) + Sync,
) -> Result<(Vec<f32>, bool)> {
    let terms = new_tensor::<f32>(pool, &[b as i64, c as i64, hw as i64], |out| {
        let out = SyncSlice::new(out);
        tasks(b * c * hw, hw, |first, range| {
            // SAFETY: tasks cover disjoint ranges.
            let out = unsafe { out.range(range) };
            for (i, plane) in out.chunks_exact_mut(hw).enumerate() {
                fill(first + i, (first + i) % c, plane);
            }
        });
    })?;
    let bits = sum_bits((b * hw) as u64);
    let (sums, finite) = super::host::sum_values(values::<f32>(&terms)?, &terms.size(), bits, 1);
    Ok((sums.iter().map(|&s| (s * factor) as f32).collect(), finite))
}

impl Exact {
    /// Exact per-channel sums of an NCHW float32 tensor times `factor` (float64), rounded to
    /// float32 `[C]`.
    fn channel_sums_tensor(&self, x: &Tensor, factor: f64) -> Result<Tensor> {
        let sums = torch(self.sum(x, 1)?.f_mul_scalar(factor))?;
        torch(sums.f_to_kind(Kind::Float))
    }

    /// Batch norm with batch statistics (training mode) of `x` `[B, C, H, W]` by `scale` and
    /// `shift` `[C]` (see the module documentation); `eps` a float32.
    pub fn batch_norm(
        &self,
        x: &Tensor,
        scale: &Tensor,
        shift: &Tensor,
        eps: f32,
    ) -> Result<(Tensor, NormCache)> {
        let _timer = self.time(Part::BatchNorm);
        let dims = planes(x)?;
        let (b, c, hw) = dims;
        let inv_n = inv_count(b, hw);
        if !self.host() {
            let mean = torch(
                self.channel_sums_tensor(x, inv_n)?
                    .f_reshape([1, c as i64, 1, 1]),
            )?;
            let centred = torch(x.f_sub(&mean))?;
            let var = self.channel_sums_tensor(&torch(centred.f_mul(&centred))?, inv_n)?;
            let std = self.sqrt(&torch(var.f_add_scalar(f64::from(eps)))?)?;
            let inv_std = torch(torch(std.f_ones_like())?.f_div(&std))?;
            let inv4 = torch(inv_std.f_reshape([1, c as i64, 1, 1]))?;
            let normalised = torch(centred.f_mul(&inv4))?;
            let y = torch(normalised.f_mul(&torch(scale.f_reshape([1, c as i64, 1, 1]))?))?;
            let y = torch(y.f_add(&torch(shift.f_reshape([1, c as i64, 1, 1]))?))?;
            return Ok((
                y,
                NormCache {
                    normalised,
                    inv_std,
                },
            ));
        }
        let x = torch(x.f_contiguous())?;
        let xs = values::<f32>(&x)?;
        let (scale, shift) = (host_f32(scale)?, host_f32(shift)?);
        let plane = |p: usize| &xs[p * hw..(p + 1) * hw];
        let (mean, finite) = channel_sums(&self.pool, dims, inv_n, |p, _, out| {
            out.copy_from_slice(plane(p))
        })?;
        self.note_finite(finite);
        let (var, finite) = channel_sums(&self.pool, dims, inv_n, |p, ch, out| {
            let m = mean[ch];
            for (o, &v) in out.iter_mut().zip(plane(p)) {
                let d = v - m;
                *o = d * d;
            }
        })?;
        self.note_finite(finite);
        let inv_std: Vec<f32> = var.iter().map(|&v| 1.0 / (v + eps).sqrt()).collect();
        let mut normalised = new_tensor::<f32>(&self.pool, &x.size(), |_| ())?;
        let norm = SyncSlice::new(values_mut(&mut normalised)?);
        let y = new_tensor::<f32>(&self.pool, &x.size(), |out| {
            let out = SyncSlice::new(out);
            tasks(xs.len(), hw, |first, range| {
                // SAFETY: tasks cover disjoint ranges of both fresh tensors.
                let (out, norm) = unsafe { (out.range(range.clone()), norm.range(range.clone())) };
                let src = &xs[range];
                for (p, ((o, n), s)) in out
                    .chunks_exact_mut(hw)
                    .zip(norm.chunks_exact_mut(hw))
                    .zip(src.chunks_exact(hw))
                    .enumerate()
                {
                    let ch = (first + p) % c;
                    let (m, inv, sc, sh) = (mean[ch], inv_std[ch], scale[ch], shift[ch]);
                    for ((o, n), &v) in o.iter_mut().zip(n.iter_mut()).zip(s) {
                        *n = (v - m) * inv;
                        *o = *n * sc + sh;
                    }
                }
            });
        })?;
        Ok((
            y,
            NormCache {
                normalised,
                inv_std: torch(Tensor::f_from_slice(&inv_std))?,
            },
        ))
    }

    /// Batch norm's backward pass: the input gradient and, when asked, the gradients of scale
    /// and shift (`S(dy * normalised)` and `S(dy)`).
    pub fn batch_norm_backward(
        &self,
        dy: &Tensor,
        cache: &NormCache,
        scale: &Tensor,
        parameter_grads: bool,
    ) -> Result<(Tensor, Option<(Tensor, Tensor)>)> {
        let _timer = self.time(Part::BatchNorm);
        let dims = planes(dy)?;
        let (b, c, hw) = dims;
        let inv_n = inv_count(b, hw);
        let xh = &cache.normalised;
        if !self.host() {
            let grads = if parameter_grads {
                let dscale = self.channel_sums_tensor(&torch(dy.f_mul(xh))?, 1.0)?;
                let dshift = self.channel_sums_tensor(dy, 1.0)?;
                Some((dscale, dshift))
            } else {
                None
            };
            let c4 = |t: &Tensor| torch(t.f_reshape([1, c as i64, 1, 1]));
            let g = torch(dy.f_mul(&c4(scale)?))?;
            let mean_g = c4(&self.channel_sums_tensor(&g, inv_n)?)?;
            let mean_gx = c4(&self.channel_sums_tensor(&torch(g.f_mul(xh))?, inv_n)?)?;
            let dx = torch(g.f_sub(&mean_g))?;
            let dx = torch(dx.f_sub(&torch(xh.f_mul(&mean_gx))?))?;
            return Ok((torch(dx.f_mul(&c4(&cache.inv_std)?))?, grads));
        }
        let dy = torch(dy.f_contiguous())?;
        let (ds, xs) = (values::<f32>(&dy)?, values::<f32>(xh)?);
        let (scale, inv_std) = (host_f32(scale)?, host_f32(&cache.inv_std)?);
        let d_plane = |p: usize| &ds[p * hw..(p + 1) * hw];
        let x_plane = |p: usize| &xs[p * hw..(p + 1) * hw];
        let pool = &self.pool;
        let grads = if parameter_grads {
            let (dscale, f1) = channel_sums(pool, dims, 1.0, |p, _, out| {
                for ((o, &d), &x) in out.iter_mut().zip(d_plane(p)).zip(x_plane(p)) {
                    *o = d * x;
                }
            })?;
            let (dshift, f2) =
                channel_sums(pool, dims, 1.0, |p, _, out| out.copy_from_slice(d_plane(p)))?;
            self.note_finite(f1 && f2);
            Some((
                torch(Tensor::f_from_slice(&dscale))?,
                torch(Tensor::f_from_slice(&dshift))?,
            ))
        } else {
            None
        };
        let (mean_g, f1) = channel_sums(pool, dims, inv_n, |p, ch, out| {
            let sc = scale[ch];
            for (o, &d) in out.iter_mut().zip(d_plane(p)) {
                *o = d * sc;
            }
        })?;
        let (mean_gx, f2) = channel_sums(pool, dims, inv_n, |p, ch, out| {
            let sc = scale[ch];
            for ((o, &d), &x) in out.iter_mut().zip(d_plane(p)).zip(x_plane(p)) {
                *o = (d * sc) * x;
            }
        })?;
        self.note_finite(f1 && f2);
        let dx = new_tensor::<f32>(&self.pool, &dy.size(), |out| {
            let out = SyncSlice::new(out);
            tasks(ds.len(), hw, |first, range| {
                // SAFETY: tasks cover disjoint ranges.
                let out = unsafe { out.range(range.clone()) };
                for (p, ((o, d), x)) in out
                    .chunks_exact_mut(hw)
                    .zip(ds[range.clone()].chunks_exact(hw))
                    .zip(xs[range].chunks_exact(hw))
                    .enumerate()
                {
                    let ch = (first + p) % c;
                    let (sc, mg, mgx, inv) = (scale[ch], mean_g[ch], mean_gx[ch], inv_std[ch]);
                    for ((o, &d), &x) in o.iter_mut().zip(d).zip(x) {
                        let g = d * sc;
                        *o = ((g - mg) - x * mgx) * inv;
                    }
                }
            });
        })?;
        Ok((dx, grads))
    }
}
