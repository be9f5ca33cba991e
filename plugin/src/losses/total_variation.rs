//! Total variation `sum (x[i+1, j] - x[i, j])^2 + (x[i, j+1] - x[i, j])^2` over each channel of the image,
//! which suppresses the high-frequency noise the other losses leave.

/// Returns `weight * TV(image)` and adds its gradient to `gradient`; `image` is planar, `channels` planes of
/// `height x width`.
pub fn total_variation(
    image: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    weight: f32,
    gradient: &mut [f32],
) -> f64 {
    assert_eq!(image.len(), channels * height * width, "image size");
    assert_eq!(gradient.len(), image.len(), "gradient size");
    if weight == 0.0 {
        return 0.0;
    }
    let mut sum = 0.0f64;
    for c in 0..channels {
        let plane = &image[c * height * width..(c + 1) * height * width];
        let grad = &mut gradient[c * height * width..(c + 1) * height * width];
        for y in 0..height {
            for x in 0..width {
                let at = y * width + x;
                if x + 1 < width {
                    let d = plane[at + 1] - plane[at];
                    sum += (d as f64) * (d as f64);
                    grad[at + 1] += 2.0 * weight * d;
                    grad[at] -= 2.0 * weight * d;
                }
                if y + 1 < height {
                    let d = plane[at + width] - plane[at];
                    sum += (d as f64) * (d as f64);
                    grad[at + width] += 2.0 * weight * d;
                    grad[at] -= 2.0 * weight * d;
                }
            }
        }
    }
    weight as f64 * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let (c, h, w) = (2, 5, 7);
        let image: Vec<f32> = (0..c * h * w).map(|i| ((i as f32) * 0.61).sin()).collect();
        let mut gradient = vec![0.0; image.len()];
        let loss = total_variation(&image, c, h, w, 0.5, &mut gradient);
        assert!(loss > 0.0);
        let eps = 1e-3f32;
        for i in 0..image.len() {
            let mut probe = image.clone();
            probe[i] += eps;
            let plus = total_variation(&probe, c, h, w, 0.5, &mut vec![0.0; image.len()]);
            probe[i] -= 2.0 * eps;
            let minus = total_variation(&probe, c, h, w, 0.5, &mut vec![0.0; image.len()]);
            let numeric = (plus - minus) / (2.0 * eps as f64);
            assert!((numeric - gradient[i] as f64).abs() < 1e-3 * numeric.abs().max(1.0), "{i}");
        }
    }
}
