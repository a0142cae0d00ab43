//! The reference product: integer matrices multiplied by a plain Rust loop on the host, each
//! entry summed in descending reduction order (BLAS kernels sum in ascending blocks). With the
//! bounds of [`Exact::mm`](super::Exact::mm) both are exact, so both give the same bits.

use super::host::{new_tensor, values, SyncSlice};
use super::pool::Pool;
use super::torch;
use crate::error::Result;
use rayon::prelude::*;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// `a x b` for float64 `[M, K]` and `[K, N]` on any device, computed on the host.
pub(super) fn reference_mm(pool: &Arc<Pool>, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let device = a.device();
    let host = |t: &Tensor| -> Result<Tensor> {
        torch(torch(torch(t.f_to_device(Device::Cpu))?.f_to_kind(Kind::Double))?.f_contiguous())
    };
    let (ha, hb) = (host(a)?, host(b)?);
    let (m, k) = (a.size()[0] as usize, a.size()[1] as usize);
    let n = b.size()[1] as usize;
    let (xa, xb) = (values::<f64>(&ha)?, values::<f64>(&hb)?);
    // Blocks of rows share each fetched row of `b`, blocks of columns keep the accumulators in
    // cache; within a block every entry still sums its terms from the last `k` to the first.
    const ROWS: usize = 32;
    const COLS: usize = 1024;
    let c = new_tensor::<f64>(pool, &[m as i64, n as i64], |out| {
        let out = SyncSlice::new(out);
        let row_blocks: Vec<usize> = (0..m).step_by(ROWS).collect();
        row_blocks.par_iter().for_each(|&i0| {
            let rows = ROWS.min(m - i0);
            // SAFETY: each task owns the disjoint rows `i0 .. i0 + rows`.
            let block = unsafe { out.range(i0 * n..(i0 + rows) * n) };
            block.iter_mut().for_each(|v| *v = 0.0);
            for j0 in (0..n).step_by(COLS) {
                let cols = COLS.min(n - j0);
                for kk in (0..k).rev() {
                    let brow = &xb[kk * n + j0..kk * n + j0 + cols];
                    for i in 0..rows {
                        let aik = xa[(i0 + i) * k + kk];
                        let crow = &mut block[i * n + j0..i * n + j0 + cols];
                        for (v, &bkj) in crow.iter_mut().zip(brow) {
                            *v += aik * bkj;
                        }
                    }
                }
            }
        });
    })?;
    if device == Device::Cpu {
        Ok(c)
    } else {
        torch(c.f_to_device(device))
    }
}
