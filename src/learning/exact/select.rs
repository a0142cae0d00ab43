//! Activations as selections: ReLU and LeakyReLU pick `x` or `+0` (or `x * slope`) by the exact
//! comparison `x > 0`, and their backward passes pick the gradient by the same mask. A select
//! never rounds, and writing ReLU as one (rather than `max(x, 0)`) fixes the sign of its zeros.

use super::host::{new_tensor, tasks, values, SyncSlice};
use super::pool::Pool;
use super::{torch, Exact};
use crate::error::Result;
use std::sync::Arc;
use tch::Tensor;

/// `value(x, mask)` elementwise on the host, with the mask `mask_of(x)` kept as a bool tensor.
fn select_host(
    pool: &Arc<Pool>,
    x: &Tensor,
    mask_of: impl Fn(f32) -> bool + Sync,
    value: impl Fn(f32, bool) -> f32 + Sync,
) -> Result<(Tensor, Tensor)> {
    let x = torch(x.f_contiguous())?;
    let xs = values::<f32>(&x)?;
    let mut mask = None;
    let y = new_tensor::<f32>(pool, &x.size(), |out| {
        mask = Some(new_tensor::<bool>(pool, &x.size(), |masks| {
            let (out, masks) = (SyncSlice::new(out), SyncSlice::new(masks));
            tasks(xs.len(), 1, |_, range| {
                // SAFETY: tasks cover disjoint ranges of both fresh tensors.
                let (out, masks) =
                    unsafe { (out.range(range.clone()), masks.range(range.clone())) };
                for ((o, k), &v) in out.iter_mut().zip(masks.iter_mut()).zip(&xs[range]) {
                    *k = mask_of(v);
                    *o = value(v, *k);
                }
            });
        }));
    })?;
    Ok((
        y,
        mask.unwrap_or_else(|| Err(crate::error::Error::Torch("no mask".into())))?,
    ))
}

/// `mask ? dy : f(dy)` elementwise on the host.
fn by_mask_host(
    pool: &Arc<Pool>,
    dy: &Tensor,
    mask: &Tensor,
    f: impl Fn(f32) -> f32 + Sync,
) -> Result<Tensor> {
    let dy = torch(dy.f_contiguous())?;
    let mask = torch(mask.f_contiguous())?;
    let (ds, ms) = (values::<f32>(&dy)?, values::<bool>(&mask)?);
    new_tensor::<f32>(pool, &dy.size(), |out| {
        let out = SyncSlice::new(out);
        tasks(ds.len(), 1, |_, range| {
            // SAFETY: tasks cover disjoint ranges.
            let out = unsafe { out.range(range.clone()) };
            for ((o, &d), &m) in out.iter_mut().zip(&ds[range.clone()]).zip(&ms[range]) {
                *o = if m { d } else { f(d) };
            }
        });
    })
}

impl Exact {
    /// ReLU, `x > 0 ? x : +0`, and the mask `x > 0` its backward pass needs.
    pub fn relu(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        if self.host() {
            return select_host(&self.pool, x, |v| v > 0.0, |v, m| if m { v } else { 0.0 });
        }
        let mask = torch(x.f_gt(0.0))?;
        let y = torch(x.f_where_self(&mask, &torch(x.f_zeros_like())?))?;
        Ok((y, mask))
    }

    /// ReLU's backward pass: `mask ? dy : +0`.
    pub fn relu_backward(&self, dy: &Tensor, mask: &Tensor) -> Result<Tensor> {
        if self.host() {
            return by_mask_host(&self.pool, dy, mask, |_| 0.0);
        }
        torch(dy.f_where_self(mask, &torch(dy.f_zeros_like())?))
    }

    /// LeakyReLU, `x > 0 ? x : x * slope` (`slope` a float32), and the mask `x > 0`.
    pub fn leaky_relu(&self, x: &Tensor, slope: f32) -> Result<(Tensor, Tensor)> {
        if self.host() {
            return select_host(
                &self.pool,
                x,
                |v| v > 0.0,
                |v, m| if m { v } else { v * slope },
            );
        }
        let mask = torch(x.f_gt(0.0))?;
        let y = torch(x.f_where_self(&mask, &torch(x.f_mul_scalar(f64::from(slope)))?))?;
        Ok((y, mask))
    }

    /// LeakyReLU's backward pass: `mask ? dy : dy * slope`.
    pub fn leaky_relu_backward(&self, dy: &Tensor, mask: &Tensor, slope: f32) -> Result<Tensor> {
        if self.host() {
            return by_mask_host(&self.pool, dy, mask, |d| d * slope);
        }
        torch(dy.f_where_self(mask, &torch(dy.f_mul_scalar(f64::from(slope)))?))
    }
}
