//! Adam, with every constant computed once on the host in a fixed way and the update written as
//! separate correctly rounded float32 operations (no `lerp`, `addcmul` or `addcdiv`, whose
//! fused forms differ by device).

use super::host::{tasks, values, values_mut, SyncSlice};
use super::profile::Part;
use super::{torch, Exact};
use crate::error::{Error, Result};
use tch::Tensor;

/// The float32 constants of Adam's update at step `t`:
/// `m = m*b1 + g*(1-b1)`, `v = v*b2 + (g*g)*(1-b2)`,
/// `w = w - (m*step) / (sqrt(v)*c2 + eps)` with `step = lr / (1 - b1^t)` and
/// `c2 = 1 / sqrt(1 - b2^t)` (the bias corrections), both rounded once from float64.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConstants {
    /// `b1`.
    pub beta1: f32,
    /// `1 - b1`, rounded in float32.
    pub one_minus_beta1: f32,
    /// `b2`.
    pub beta2: f32,
    /// `1 - b2`, rounded in float32.
    pub one_minus_beta2: f32,
    /// `lr / (1 - b1^t)`.
    pub step_size: f32,
    /// `1 / sqrt(1 - b2^t)`.
    pub inv_sqrt_bias2: f32,
    /// `eps`.
    pub eps: f32,
}

/// `b^e` by squaring and multiplying in float64 (the same operations on every machine, unlike
/// a library `pow`).
fn pow_u64(b: f64, mut e: u64) -> f64 {
    let (mut result, mut base) = (1.0f64, b);
    while e > 0 {
        if e & 1 == 1 {
            result *= base;
        }
        base *= base;
        e >>= 1;
    }
    result
}

impl AdamConstants {
    /// The constants of step `t >= 1` (any `t` a checkpoint may hold: large ones saturate).
    pub fn new(lr: f32, beta1: f32, beta2: f32, eps: f32, t: u64) -> Result<Self> {
        if t == 0 {
            return Err(Error::InvalidParameters("Adam step 0".into()));
        }
        let bias1 = 1.0 - pow_u64(f64::from(beta1), t);
        let bias2 = 1.0 - pow_u64(f64::from(beta2), t);
        Ok(AdamConstants {
            beta1,
            one_minus_beta1: 1.0 - beta1,
            beta2,
            one_minus_beta2: 1.0 - beta2,
            step_size: (f64::from(lr) / bias1) as f32,
            inv_sqrt_bias2: (1.0 / bias2.sqrt()) as f32,
            eps,
        })
    }

    /// The update of one element: `(w, m, v)` after gradient `g`.
    #[inline(always)]
    fn update(&self, w: f32, m: f32, v: f32, g: f32) -> (f32, f32, f32) {
        let m = m * self.beta1 + g * self.one_minus_beta1;
        let v = v * self.beta2 + (g * g) * self.one_minus_beta2;
        let w = w - (m * self.step_size) / (v.sqrt() * self.inv_sqrt_bias2 + self.eps);
        (w, m, v)
    }
}

impl Exact {
    /// One Adam update of weights `w` and moments `m`, `v` by gradient `g`, in place.
    pub fn adam(
        &self,
        c: &AdamConstants,
        w: &mut Tensor,
        m: &mut Tensor,
        v: &mut Tensor,
        g: &Tensor,
    ) -> Result<()> {
        let _timer = self.time(Part::Adam);
        let n = w.numel();
        if m.numel() != n || v.numel() != n || g.numel() != n {
            return Err(Error::Torch("Adam: tensors of different sizes".into()));
        }
        if self.host()
            && w.is_contiguous()
            && m.is_contiguous()
            && v.is_contiguous()
            && g.is_contiguous()
        {
            let gs = values::<f32>(g)?;
            let (ws, ms, vs) = (values_mut(w)?, values_mut(m)?, values_mut(v)?);
            let (ws, ms, vs) = (SyncSlice::new(ws), SyncSlice::new(ms), SyncSlice::new(vs));
            tasks(gs.len(), 1, |_, range| {
                // SAFETY: tasks cover disjoint ranges of the three slices.
                let (w, m, v) = unsafe {
                    (
                        ws.range(range.clone()),
                        ms.range(range.clone()),
                        vs.range(range.clone()),
                    )
                };
                for (i, &g) in gs[range].iter().enumerate() {
                    (w[i], m[i], v[i]) = c.update(w[i], m[i], v[i], g);
                }
            });
            return Ok(());
        }
        let scalar = f64::from;
        let _ = torch(m.f_mul_scalar_(scalar(c.beta1)))?;
        let _ = torch(m.f_add_(&torch(g.f_mul_scalar(scalar(c.one_minus_beta1)))?))?;
        let _ = torch(v.f_mul_scalar_(scalar(c.beta2)))?;
        let g2 = torch(torch(g.f_mul(g))?.f_mul_scalar(scalar(c.one_minus_beta2)))?;
        let _ = torch(v.f_add_(&g2))?;
        let denom = torch(self.sqrt(v)?.f_mul_scalar(scalar(c.inv_sqrt_bias2)))?;
        let denom = torch(denom.f_add_scalar(scalar(c.eps)))?;
        let delta = torch(torch(m.f_mul_scalar(scalar(c.step_size)))?.f_div(&denom))?;
        let _ = torch(w.f_sub_(&delta))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_corrections_match_the_closed_form() {
        let c = AdamConstants::new(2e-4, 0.5, 0.999, 1e-8, 1).unwrap();
        assert_eq!(c.step_size, (f64::from(2e-4f32) / 0.5) as f32);
        assert_eq!(
            c.inv_sqrt_bias2,
            (1.0 / (1.0 - 0.999f32 as f64).sqrt()) as f32
        );
        let late = AdamConstants::new(2e-4, 0.5, 0.999, 1e-8, u64::MAX).unwrap();
        assert_eq!(late.step_size, 2e-4);
        assert_eq!(late.inv_sqrt_bias2, 1.0);
        assert!(matches!(
            AdamConstants::new(2e-4, 0.5, 0.999, 1e-8, 0),
            Err(crate::Error::InvalidParameters(_))
        ));
        assert_eq!(pow_u64(0.5, 3), 0.125);
        assert_eq!(pow_u64(3.0, 0), 1.0);
    }
}
