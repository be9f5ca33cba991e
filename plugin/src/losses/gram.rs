//! Gram matrices `G = F F^T` of `channels x positions` feature maps, and the products the style gradient needs.
//!
//! faer's matrix product runs near this machine's matmul peak; hand-written loops reach a fraction of it, and
//! these products are the largest Rust-side cost of an evaluation.

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, MatMut, MatRef, Par};

/// Parallelism for the products: the global rayon pool.
fn parallelism() -> Par {
    Par::rayon(0)
}

/// Writes `G = F F^T` (`channels x channels`, row-major) for `features` (`channels x positions`, row-major).
///
/// G is symmetric: only its lower triangle is computed (half the multiply-adds), then mirrored.
pub fn gram(features: &[f32], channels: usize, positions: usize, out: &mut [f32]) {
    assert_eq!(features.len(), channels * positions, "feature map size");
    assert_eq!(out.len(), channels * channels, "Gram buffer size");
    let f = MatRef::from_row_major_slice(features, channels, positions);
    let g = MatMut::from_row_major_slice_mut(out, channels, channels);
    triangular::matmul(
        g,
        BlockStructure::TriangularLower,
        Accum::Replace,
        f,
        BlockStructure::Rectangular,
        f.transpose(),
        BlockStructure::Rectangular,
        1.0f32,
        parallelism(),
    );
    for i in 0..channels {
        for j in 0..i {
            out[j * channels + i] = out[i * channels + j];
        }
    }
}

/// Writes (`accumulate` false) or adds (`accumulate` true) `scale * D F` into `out` (`channels x positions`),
/// with `D` a `channels x channels` matrix. Writing spares clearing the buffer first.
pub fn scaled_product(
    matrix: &[f32],
    features: &[f32],
    channels: usize,
    positions: usize,
    scale: f32,
    accumulate: bool,
    out: &mut [f32],
) {
    assert_eq!(matrix.len(), channels * channels, "matrix size");
    assert_eq!(features.len(), channels * positions, "feature map size");
    assert_eq!(out.len(), channels * positions, "gradient buffer size");
    let d = MatRef::from_row_major_slice(matrix, channels, channels);
    let f = MatRef::from_row_major_slice(features, channels, positions);
    let o = MatMut::from_row_major_slice_mut(out, channels, positions);
    matmul(o, if accumulate { Accum::Add } else { Accum::Replace }, d, f, scale, parallelism());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(channels: usize, positions: usize) -> Vec<f32> {
        (0..channels * positions).map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.3).max(0.0)).collect()
    }

    #[test]
    fn gram_matches_f64_reference() {
        for (channels, positions) in [(3, 5), (64, 1024), (130, 77)] {
            let f = features(channels, positions);
            let mut g = vec![0.0; channels * channels];
            gram(&f, channels, positions, &mut g);
            for i in 0..channels {
                for j in 0..channels {
                    let exact: f64 =
                        (0..positions).map(|p| f[i * positions + p] as f64 * f[j * positions + p] as f64).sum();
                    let got = g[i * channels + j] as f64;
                    assert!((got - exact).abs() <= 1e-5 * exact.abs().max(1.0), "G[{i},{j}] {got} vs {exact}");
                }
            }
        }
    }

    #[test]
    fn scaled_product_writes_or_adds() {
        let (channels, positions) = (4, 9);
        let f = features(channels, positions);
        let d: Vec<f32> = (0..channels * channels).map(|i| i as f32 - 5.0).collect();
        let mut out = vec![1.0; channels * positions];
        let mut written = vec![7.0; channels * positions];
        scaled_product(&d, &f, channels, positions, 0.5, true, &mut out);
        scaled_product(&d, &f, channels, positions, 0.5, false, &mut written);
        for i in 0..channels {
            for p in 0..positions {
                let exact: f64 = 1.0
                    + 0.5
                        * (0..channels).map(|k| d[i * channels + k] as f64 * f[k * positions + p] as f64).sum::<f64>();
                assert!((out[i * positions + p] as f64 - exact).abs() < 1e-5 * exact.abs().max(1.0));
                assert!((written[i * positions + p] as f64 - (exact - 1.0)).abs() < 1e-5 * exact.abs().max(1.0));
            }
        }
    }
}
