//! Content loss `1/2 sum (F - P)^2` between the image's features `F` and the content image's `P`.

/// Returns `weight * 1/2 sum (F - P)^2` and adds `weight * (F - P)` to `gradient`.
pub fn content_loss(features: &[f32], target: &[f32], weight: f32, gradient: &mut [f32]) -> f64 {
    assert_eq!(features.len(), target.len(), "content target size");
    assert_eq!(features.len(), gradient.len(), "content gradient size");
    let mut sum = 0.0f64;
    for ((f, p), g) in features.iter().zip(target).zip(gradient.iter_mut()) {
        let diff = f - p;
        sum += (diff as f64) * (diff as f64);
        *g += weight * diff;
    }
    0.5 * weight as f64 * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_f64_reference_and_finite_differences() {
        let features: Vec<f32> = (0..50).map(|i| (i as f32 * 0.37).sin()).collect();
        let target: Vec<f32> = (0..50).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut gradient = vec![0.0; 50];
        let loss = content_loss(&features, &target, 2.0, &mut gradient);
        let exact: f64 = features.iter().zip(&target).map(|(f, p)| (*f as f64 - *p as f64).powi(2)).sum::<f64>();
        assert!((loss - exact).abs() < 1e-6 * exact, "{loss} vs {exact}");
        let eps = 1e-3f32;
        for i in [0, 17, 49] {
            let mut probe = features.clone();
            probe[i] += eps;
            let plus = content_loss(&probe, &target, 2.0, &mut [0.0; 50]);
            probe[i] -= 2.0 * eps;
            let minus = content_loss(&probe, &target, 2.0, &mut [0.0; 50]);
            let numeric = (plus - minus) / (2.0 * eps as f64);
            assert!((numeric - gradient[i] as f64).abs() < 1e-3 * numeric.abs().max(1.0));
        }
    }
}
