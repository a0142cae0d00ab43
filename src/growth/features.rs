//! The judge's second view of a record: how far the critic's features of it lie from those of
//! the dataset's own records, as a squared Mahalanobis distance under a Ledoit-Wolf shrunk
//! covariance, with the threshold calibrated out of fold on the dataset.
//!
//! Why: a discriminator trained on a small dataset memorises it, so its logit ranks unseen
//! real records below junk; its features still place unseen real records near the dataset and
//! noise, blank images and other kinds of image far from it (out-of-distribution detection by
//! feature-space distance, Lee et al. 2018; shrinkage because a dataset may hold fewer records
//! than there are features).
//!
//! Every quantity is float64 arithmetic in a fixed order (records in dataset order, features in
//! index order, a Cholesky factorisation row by row), so every node computes the same bits.

use crate::error::{Error, Result};

/// Folds of the out-of-fold calibration (fewer when the dataset has fewer records).
pub const CALIBRATION_FOLDS: usize = 10;

/// The dataset's feature distribution: the mean and the lower Cholesky factor of the shrunk
/// covariance.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureModel {
    mean: Vec<f64>,
    /// Lower triangle of `L` (`Sigma = L L^T`), row-major, `dim * dim`.
    factor: Vec<f64>,
}

impl FeatureModel {
    /// Fits the model to `rows` (at least 2, every one of the same length, finite).
    pub fn fit(rows: &[&[f64]]) -> Result<Self> {
        let n = rows.len();
        let d = rows.first().map_or(0, |r| r.len());
        if n < 2
            || d == 0
            || rows
                .iter()
                .any(|r| r.len() != d || r.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::InvalidParameters(format!(
                "a feature model needs 2 or more finite rows of one length ({n} rows)"
            )));
        }
        let nf = n as f64;
        let mut mean = vec![0.0; d];
        for r in rows {
            for (m, v) in mean.iter_mut().zip(r.iter()) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= nf;
        }
        // The empirical covariance (lower triangle) and the sum of each centred row's squared
        // norm, squared (Ledoit-Wolf's beta term).
        let mut cov = vec![0.0; d * d];
        let mut fourth = 0.0;
        let mut c = vec![0.0; d];
        for r in rows {
            for ((ci, v), m) in c.iter_mut().zip(r.iter()).zip(&mean) {
                *ci = v - m;
            }
            let norm2: f64 = c.iter().map(|x| x * x).sum();
            fourth += norm2 * norm2;
            for j in 0..d {
                let cj = c[j];
                for k in 0..=j {
                    cov[j * d + k] += cj * c[k];
                }
            }
        }
        let (mut trace, mut frobenius2) = (0.0, 0.0);
        for j in 0..d {
            for k in 0..=j {
                let s = cov[j * d + k] / nf;
                cov[j * d + k] = s;
                frobenius2 += if j == k { s * s } else { 2.0 * s * s };
            }
            trace += cov[j * d + j];
        }
        let df = d as f64;
        let mu = trace / df;
        let delta = (frobenius2 - 2.0 * mu * trace + df * mu * mu) / df;
        let beta = ((fourth / nf - frobenius2) / (df * nf)).min(delta);
        let shrinkage = if beta <= 0.0 || delta <= 0.0 {
            0.0
        } else {
            beta / delta
        };
        for j in 0..d {
            for k in 0..=j {
                let s = (1.0 - shrinkage) * cov[j * d + k];
                cov[j * d + k] = if j == k { s + shrinkage * mu } else { s };
            }
        }
        cholesky(&mut cov, d)?;
        Ok(FeatureModel { mean, factor: cov })
    }

    /// The number of features.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The squared Mahalanobis distance of `x` (of the model's length) to the mean: `c^T
    /// Sigma^-1 c` with `c = x - mean`, by forward substitution through the factor. NaN for a
    /// vector of another length or with a value that is not finite.
    pub fn distance(&self, x: &[f64]) -> f64 {
        let d = self.dim();
        if x.len() != d || x.iter().any(|v| !v.is_finite()) {
            return f64::NAN;
        }
        let mut y = vec![0.0; d];
        let mut total = 0.0;
        for j in 0..d {
            let row = &self.factor[j * d..j * d + j];
            let mut s = x[j] - self.mean[j];
            for (l, yk) in row.iter().zip(&y[..j]) {
                s -= l * yk;
            }
            y[j] = s / self.factor[j * d + j];
            total += y[j] * y[j];
        }
        total
    }
}

/// In-place Cholesky factorisation of the symmetric positive definite matrix whose lower
/// triangle `a` holds (row-major, `d * d`): afterwards the lower triangle is `L`.
fn cholesky(a: &mut [f64], d: usize) -> Result<()> {
    for j in 0..d {
        for k in 0..=j {
            let mut s = a[j * d + k];
            for i in 0..k {
                s -= a[j * d + i] * a[k * d + i];
            }
            if j == k {
                if !(s > 0.0 && s.is_finite()) {
                    return Err(Error::InvalidParameters(
                        "the dataset's features have a degenerate covariance".into(),
                    ));
                }
                a[j * d + j] = s.sqrt();
            } else {
                a[j * d + k] = s / a[k * d + k];
            }
        }
    }
    Ok(())
}

/// The largest distance a record may have, fitted on `rows` (the dataset's features, in dataset
/// order) so that `reject_per_mille` thousandths of them lie beyond it *out of fold*: row `i`
/// belongs to fold `i % K` (`K` = [`CALIBRATION_FOLDS`], or the row count when smaller), each
/// fold's rows are measured against a model fitted on the other folds, and the threshold is the
/// out-of-fold distance at rank `n - 1 - floor(n * reject_per_mille / 1000)` in ascending
/// order. Out of fold, because a model measures its own rows as nearer than records it never
/// saw.
pub fn calibrate_distance(rows: &[&[f64]], reject_per_mille: u32) -> Result<f64> {
    let n = rows.len();
    if reject_per_mille >= 1000 || n < 3 {
        return Err(Error::InvalidParameters(format!(
            "calibrating a distance on {n} records rejecting {reject_per_mille} per mille"
        )));
    }
    let folds = CALIBRATION_FOLDS.min(n);
    let mut distances = Vec::with_capacity(n);
    for f in 0..folds {
        let train: Vec<&[f64]> = (0..n).filter(|i| i % folds != f).map(|i| rows[i]).collect();
        let model = FeatureModel::fit(&train)?;
        distances.extend(
            (0..n)
                .filter(|i| i % folds == f)
                .map(|i| model.distance(rows[i])),
        );
    }
    distances.sort_by(f64::total_cmp);
    let rank = n - 1 - (n as u64 * u64::from(reject_per_mille) / 1000) as usize;
    let t = distances[rank];
    if !t.is_finite() {
        return Err(Error::InvalidParameters(format!(
            "calibrated distance {t} is not finite"
        )));
    }
    Ok(t)
}
