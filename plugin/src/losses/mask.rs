//! Spatial control (Gatys et al. 2017): masks at each layer's resolution, the guided Gram style loss and
//! the per-position content weight.
//!
//! A guided Gram matrix is the Gram of the features weighted by the mask, `G_m = (F m)(F m)^T`, compared with
//! the style's Gram rescaled to the mask's mass `M_m = sum m^2`:
//! `E = sum (G_m - A M_m / M_s)^2 / (4 N^2 M_m^2)`, so an all-ones mask gives the plain style loss, and
//! `dE/dF = (G_m - A') F m^2 / (N^2 M_m^2)`.

use super::gram::{gram, scaled_product};
use super::style::StyleTarget;

/// Below this mass (`sum m^2`) a mask selects nothing and its guided loss is zero.
pub(crate) const EMPTY_MASS: f64 = 1e-12;

/// A mask's mass `sum m^2`: the number of positions a guided Gram matrix stands for.
pub fn mass(mask: &[f32]) -> f64 {
    mask.iter().map(|m| (*m as f64) * (*m as f64)).sum()
}

/// `mask` (`width x height`, values in [0, 1]) at each pooling level `0..levels`: level `d` is
/// `(width >> d) x (height >> d)`, each value the mean of the 2x2 block below it (sizes are multiples of 16).
pub fn mask_pyramid(mask: &[f32], width: usize, height: usize, levels: usize) -> Vec<Vec<f32>> {
    let mut pyramid = vec![mask.to_vec()];
    let (mut w, mut h) = (width, height);
    for _ in 1..levels {
        let below = pyramid.last().expect("level 0");
        let (nw, nh) = (w / 2, h / 2);
        let level = (0..nh * nw)
            .map(|i| {
                let (y, x) = (2 * (i / nw), 2 * (i % nw));
                0.25 * (below[y * w + x] + below[y * w + x + 1] + below[(y + 1) * w + x] + below[(y + 1) * w + x + 1])
            })
            .collect();
        pyramid.push(level);
        (w, h) = (nw, nh);
    }
    pyramid
}

/// Returns `weight * E` of the guided Gram loss for `features` (`channels x positions`) under `mask`
/// (`positions` values) and adds (`accumulate`) or writes `weight * dE/dF` into `gradient`.
/// `target` is the style's Gram scaled to `positions` (as [`StyleTarget::from_features`] makes it);
/// `masked` is a `channels x positions` buffer and `scratch` a `channels x channels` one, both reused.
#[allow(clippy::too_many_arguments)]
pub fn masked_style_loss(
    features: &[f32],
    positions: usize,
    mask: &[f32],
    target: &StyleTarget,
    weight: f32,
    masked: &mut [f32],
    scratch: &mut [f32],
    accumulate: bool,
    gradient: &mut [f32],
) -> f64 {
    let channels = target.channels;
    let mass = mass(mask);
    if mass <= EMPTY_MASS {
        if !accumulate {
            gradient.fill(0.0);
        }
        return 0.0;
    }
    for (row_out, row_in) in masked.chunks_exact_mut(positions).zip(features.chunks_exact(positions)) {
        for ((out, f), m) in row_out.iter_mut().zip(row_in).zip(mask) {
            *out = f * m;
        }
    }
    gram(masked, channels, positions, scratch);
    let target_scale = (mass / positions as f64) as f32;
    let mut sum = 0.0f64;
    for (g, a) in scratch.iter_mut().zip(&target.gram) {
        *g -= a * target_scale;
        sum += (*g as f64) * (*g as f64);
    }
    // F m becomes F m^2, the factor the gradient needs.
    for row in masked.chunks_exact_mut(positions) {
        for (value, m) in row.iter_mut().zip(mask) {
            *value *= m;
        }
    }
    let nm2 = (channels as f64 * mass).powi(2);
    scaled_product(scratch, masked, channels, positions, (weight as f64 / nm2) as f32, accumulate, gradient);
    weight as f64 * sum / (4.0 * nm2)
}

/// Returns `weight * 1/2 sum_p c_p (F - P)^2` with `c` the per-position content weight, adding its gradient.
pub fn masked_content_loss(features: &[f32], target: &[f32], mask: &[f32], weight: f32, gradient: &mut [f32]) -> f64 {
    let positions = mask.len();
    let mut sum = 0.0f64;
    for ((rows, targets), grads) in
        features.chunks_exact(positions).zip(target.chunks_exact(positions)).zip(gradient.chunks_exact_mut(positions))
    {
        for (((f, p), g), c) in rows.iter().zip(targets).zip(grads.iter_mut()).zip(mask) {
            let diff = f - p;
            sum += (*c as f64) * (diff as f64) * (diff as f64);
            *g += weight * c * diff;
        }
    }
    0.5 * weight as f64 * sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::style::style_loss;

    fn reference(f: &[f64], m: &[f64], a: &[f64], channels: usize, positions: usize) -> f64 {
        let mass: f64 = m.iter().map(|v| v * v).sum();
        let mut sum = 0.0;
        for i in 0..channels {
            for j in 0..channels {
                let g: f64 = (0..positions).map(|p| f[i * positions + p] * f[j * positions + p] * m[p] * m[p]).sum();
                sum += (g - a[i * channels + j] * mass / positions as f64).powi(2);
            }
        }
        sum / (4.0 * (channels as f64 * mass).powi(2))
    }

    #[test]
    fn guided_loss_and_gradient_match_f64_reference() {
        let (channels, positions) = (5, 36);
        let features: Vec<f32> = (0..channels * positions).map(|i| ((i as f32 * 0.53).sin() + 0.3).max(0.0)).collect();
        let mask: Vec<f32> = (0..positions).map(|p| if p % 7 < 4 { 1.0 } else { 0.25 * (p % 3) as f32 }).collect();
        let style: Vec<f32> = (0..channels * 64).map(|i| ((i as f32 * 0.31).cos()).max(0.0)).collect();
        let target = StyleTarget::from_features(&style, channels, 64, positions);
        let (f64s, m64, a64): (Vec<f64>, Vec<f64>, Vec<f64>) = (
            features.iter().map(|v| *v as f64).collect(),
            mask.iter().map(|v| *v as f64).collect(),
            target.gram.iter().map(|v| *v as f64).collect(),
        );
        let (mut masked, mut scratch) = (vec![0.0; features.len()], vec![0.0; channels * channels]);
        let mut gradient = vec![0.0; features.len()];
        let loss = masked_style_loss(
            &features,
            positions,
            &mask,
            &target,
            2.0,
            &mut masked,
            &mut scratch,
            false,
            &mut gradient,
        );
        let exact = 2.0 * reference(&f64s, &m64, &a64, channels, positions);
        assert!((loss - exact).abs() < 1e-5 * exact, "{loss} vs {exact}");
        let eps = 1e-4;
        for i in [0, 9, 77, channels * positions - 1] {
            let mut probe = f64s.clone();
            probe[i] += eps;
            let plus = reference(&probe, &m64, &a64, channels, positions);
            probe[i] -= 2.0 * eps;
            let minus = reference(&probe, &m64, &a64, channels, positions);
            let numeric = 2.0 * (plus - minus) / (2.0 * eps);
            let got = gradient[i] as f64;
            assert!((numeric - got).abs() < 2e-3 * numeric.abs().max(1e-7), "dE/dF[{i}] {got} vs {numeric}");
        }
    }

    #[test]
    fn an_all_ones_mask_is_the_plain_style_loss() {
        let (channels, positions) = (4, 32);
        let features: Vec<f32> = (0..channels * positions).map(|i| (i as f32 * 0.17).sin().abs()).collect();
        let target = StyleTarget::from_features(&features.iter().rev().copied().collect::<Vec<_>>(), channels, 32, 32);
        let (mut g1, mut g2) = (vec![0.0; features.len()], vec![0.0; features.len()]);
        let mut scratch = vec![0.0; channels * channels];
        let plain = style_loss(&features, positions, &target, 1.5, &mut scratch, false, &mut g1);
        let mut masked = vec![0.0; features.len()];
        let ones = vec![1.0; positions];
        let guided =
            masked_style_loss(&features, positions, &ones, &target, 1.5, &mut masked, &mut scratch, false, &mut g2);
        assert!((plain - guided).abs() < 1e-6 * plain, "{plain} vs {guided}");
        assert!(g1.iter().zip(&g2).all(|(a, b)| (a - b).abs() <= 1e-5 * a.abs().max(1e-6)));
    }

    #[test]
    fn the_pyramid_averages_blocks() {
        let mask: Vec<f32> = (0..32 * 16).map(|i| if (i % 32) < 16 { 1.0 } else { 0.0 }).collect();
        let pyramid = mask_pyramid(&mask, 32, 16, 5);
        assert_eq!(pyramid.iter().map(Vec::len).collect::<Vec<_>>(), [512, 128, 32, 8, 2]);
        assert_eq!(pyramid[4], [1.0, 0.0]);
    }

    #[test]
    fn a_zero_content_weight_position_has_no_pull() {
        let features = vec![1.0, 2.0, 3.0, 4.0];
        let target = vec![0.0; 4];
        let mut gradient = vec![0.0; 4];
        let loss = masked_content_loss(&features, &target, &[1.0, 0.0], 2.0, &mut gradient);
        assert_eq!(gradient, [2.0, 0.0, 6.0, 0.0]);
        assert!((loss - (1.0 + 9.0)).abs() < 1e-9);
    }
}
