//! Style loss of one layer: `E = sum (G - A)^2 / (4 N^2 M^2)`, `dE/dF = (G - A) F / (N^2 M^2)`.

use super::gram::{gram, scaled_product};

/// The style target of one layer: the Gram matrix `A` of the style image, rescaled to the output's `M`.
#[derive(Debug, Clone)]
pub struct StyleTarget {
    /// `channels x channels`, row-major.
    pub gram: Vec<f32>,
    /// `N`, the number of channels.
    pub channels: usize,
}

impl StyleTarget {
    /// The target of a style feature map of `positions` positions, for an output feature map of
    /// `output_positions` positions. Gram sums grow with the number of positions, so the style's is rescaled.
    pub fn from_features(features: &[f32], channels: usize, positions: usize, output_positions: usize) -> Self {
        let mut target = vec![0.0; channels * channels];
        gram(features, channels, positions, &mut target);
        Self::from_gram_sum(target, channels, positions, output_positions)
    }

    /// The target from a Gram matrix summed over `positions` positions (possibly over several tiles of the
    /// style image), for an output feature map of `output_positions` positions.
    pub fn from_gram_sum(mut gram: Vec<f32>, channels: usize, positions: usize, output_positions: usize) -> Self {
        let scale = output_positions as f32 / positions as f32;
        gram.iter_mut().for_each(|a| *a *= scale);
        StyleTarget { gram, channels }
    }

    /// Blends several targets of the same layer with weights (normalised to sum 1).
    pub fn blend(targets: &[(StyleTarget, f32)]) -> Option<StyleTarget> {
        let (first, _) = targets.first()?;
        let total: f32 = targets.iter().map(|(_, w)| w).sum();
        let mut gram = vec![0.0; first.gram.len()];
        for (target, weight) in targets {
            for (acc, a) in gram.iter_mut().zip(&target.gram) {
                *acc += a * weight / total;
            }
        }
        Some(StyleTarget { gram, channels: first.channels })
    }
}

/// Returns `weight * E` for `features` (`channels x positions`) and adds `weight * dE/dF` to `gradient`
/// (`accumulate` true) or writes it there (false, sparing the caller a clear).
///
/// `scratch` is a `channels x channels` buffer reused across evaluations (it ends up holding `G - A`).
pub fn style_loss(
    features: &[f32],
    positions: usize,
    target: &StyleTarget,
    weight: f32,
    scratch: &mut [f32],
    accumulate: bool,
    gradient: &mut [f32],
) -> f64 {
    let channels = target.channels;
    gram(features, channels, positions, scratch);
    let mut sum = 0.0f64;
    for (g, a) in scratch.iter_mut().zip(&target.gram) {
        *g -= a;
        sum += (*g as f64) * (*g as f64);
    }
    let nm2 = (channels as f64 * positions as f64).powi(2);
    scaled_product(scratch, features, channels, positions, (weight as f64 / nm2) as f32, accumulate, gradient);
    weight as f64 * sum / (4.0 * nm2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_loss(f: &[f64], a: &[f64], channels: usize, positions: usize) -> f64 {
        let mut sum = 0.0;
        for i in 0..channels {
            for j in 0..channels {
                let g: f64 = (0..positions).map(|p| f[i * positions + p] * f[j * positions + p]).sum();
                sum += (g - a[i * channels + j]).powi(2);
            }
        }
        sum / (4.0 * (channels * positions) as f64 * (channels * positions) as f64)
    }

    #[test]
    fn loss_and_gradient_match_f64_reference() {
        let (channels, positions) = (6, 40);
        let features: Vec<f32> = (0..channels * positions).map(|i| ((i as f32 * 0.71).sin() + 0.2).max(0.0)).collect();
        let style: Vec<f32> = (0..channels * 90).map(|i| ((i as f32 * 0.29).cos()).max(0.0)).collect();
        let target = StyleTarget::from_features(&style, channels, 90, positions);
        let f64s: Vec<f64> = features.iter().map(|v| *v as f64).collect();
        let a64: Vec<f64> = target.gram.iter().map(|v| *v as f64).collect();

        let mut scratch = vec![0.0; channels * channels];
        let mut gradient = vec![0.0; features.len()];
        let loss = style_loss(&features, positions, &target, 3.0, &mut scratch, true, &mut gradient);
        let exact = 3.0 * reference_loss(&f64s, &a64, channels, positions);
        assert!((loss - exact).abs() < 1e-5 * exact, "{loss} vs {exact}");

        let eps = 1e-4;
        for i in [0, 13, 101, channels * positions - 1] {
            let mut probe = f64s.clone();
            probe[i] += eps;
            let plus = reference_loss(&probe, &a64, channels, positions);
            probe[i] -= 2.0 * eps;
            let minus = reference_loss(&probe, &a64, channels, positions);
            let numeric = 3.0 * (plus - minus) / (2.0 * eps);
            let got = gradient[i] as f64;
            assert!((numeric - got).abs() < 1e-3 * numeric.abs().max(1e-9), "dE/dF[{i}] {got} vs {numeric}");
        }
    }

    #[test]
    fn blend_weights_targets() {
        let a = StyleTarget { gram: vec![1.0, 2.0, 3.0, 4.0], channels: 2 };
        let b = StyleTarget { gram: vec![5.0, 6.0, 7.0, 8.0], channels: 2 };
        let blended = StyleTarget::blend(&[(a, 3.0), (b, 1.0)]).unwrap();
        assert_eq!(blended.gram, vec![2.0, 3.0, 4.0, 5.0]);
    }
}
