//! Gaussian numbers from a SHAKE256 stream, with integer arithmetic only, so every platform and
//! device gets the same bits: each value is an Irwin-Hall sum of twelve 24-bit uniforms, shifted
//! and scaled exactly (mean 0, variance 1, bounded by 6).

use crate::hash::Xof;

/// `n` approximately standard-normal `f32` values from `xof`, times `std`, plus `mean`.
pub fn gaussian(xof: &mut Xof, n: usize, mean: f32, std: f32) -> Vec<f32> {
    let mut out = Vec::with_capacity(n);
    let mut words = [0u8; 36];
    for _ in 0..n {
        xof.fill(&mut words);
        let sum: u64 = words.chunks_exact(3).map(|b| u64::from(b[0]) | u64::from(b[1]) << 8 | u64::from(b[2]) << 16).sum();
        // sum - 12 * (2^24 - 1) / 2, in units of 2^-24: exact in f64.
        let centred = (2 * sum) as f64 - 12.0 * ((1u64 << 24) - 1) as f64;
        let z = centred / (2.0 * (1u64 << 24) as f64);
        out.push((z as f32) * std + mean);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_standard() {
        let v = gaussian(&mut Xof::new("pouw/test", b"x"), 20000, 0.0, 1.0);
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
        assert!(v.iter().all(|x| x.abs() <= 6.0));
    }
}
