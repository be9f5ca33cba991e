//! Total variation `sum (x[i+1, j] - x[i, j])^2 + (x[i, j+1] - x[i, j])^2` over each channel of the image,
//! which suppresses the high-frequency noise the other losses leave.

use rayon::prelude::*;

/// Image rows per parallel task (about 16 K values): each task owns its rows of the gradient.
const VALUES_PER_TASK: usize = 1 << 14;

/// Returns `weight * TV(image)` and adds its gradient to `gradient`; `image` is planar, `channels` planes of
/// `height x width`.
///
/// Each pixel's gradient is gathered from its four neighbours, so rows are independent and run on every core;
/// the rows' sums are added in order, so the result does not depend on the number of threads.
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
    if weight == 0.0 || image.is_empty() {
        return 0.0;
    }
    let rows_per_task = (VALUES_PER_TASK / width).max(1);
    let partials: Vec<f64> = gradient
        .par_chunks_mut(rows_per_task * width)
        .enumerate()
        .map(|(task, rows)| {
            rows.chunks_mut(width)
                .enumerate()
                .map(|(i, row_gradient)| {
                    let r = task * rows_per_task + i;
                    row_total_variation(image, r / height, r % height, height, width, weight, row_gradient)
                })
                .sum()
        })
        .collect();
    weight as f64 * partials.iter().sum::<f64>()
}

/// The squared differences to the right of and below each pixel of row `y` of plane `c`, adding the row's
/// gradient (`2 weight` times the pixel's differences to its four neighbours) to `gradient`.
fn row_total_variation(
    image: &[f32],
    c: usize,
    y: usize,
    height: usize,
    width: usize,
    weight: f32,
    gradient: &mut [f32],
) -> f64 {
    let plane = &image[c * height * width..(c + 1) * height * width];
    let row = &plane[y * width..(y + 1) * width];
    let up = (y > 0).then(|| &plane[(y - 1) * width..y * width]);
    let down = (y + 1 < height).then(|| &plane[(y + 1) * width..(y + 2) * width]);
    let two_weight = 2.0 * weight;
    let mut sum = 0.0f64;
    for x in 0..width {
        let mut pull = 0.0f32;
        if x > 0 {
            pull += row[x] - row[x - 1];
        }
        if x + 1 < width {
            let d = row[x + 1] - row[x];
            sum += (d as f64) * (d as f64);
            pull -= d;
        }
        if let Some(up) = up {
            pull += row[x] - up[x];
        }
        if let Some(down) = down {
            let d = down[x] - row[x];
            sum += (d as f64) * (d as f64);
            pull -= d;
        }
        gradient[x] += two_weight * pull;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, pair by pair.
    fn reference(image: &[f32], c: usize, h: usize, w: usize, weight: f32, gradient: &mut [f32]) -> f64 {
        let mut sum = 0.0f64;
        for plane in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let at = plane * h * w + y * w + x;
                    for (next, inside) in [(at + 1, x + 1 < w), (at + w, y + 1 < h)] {
                        if inside {
                            let d = image[next] - image[at];
                            sum += (d as f64) * (d as f64);
                            gradient[next] += 2.0 * weight * d;
                            gradient[at] -= 2.0 * weight * d;
                        }
                    }
                }
            }
        }
        weight as f64 * sum
    }

    #[test]
    fn matches_the_pairwise_definition_across_many_tasks() {
        let (c, h, w) = (3, 301, 173);
        let image: Vec<f32> = (0..c * h * w).map(|i| ((i as f32) * 0.37).sin()).collect();
        let (mut got, mut expected) = (vec![0.25; image.len()], vec![0.25; image.len()]);
        let loss = total_variation(&image, c, h, w, 0.7, &mut got);
        let exact = reference(&image, c, h, w, 0.7, &mut expected);
        assert!((loss - exact).abs() < 1e-9 * exact, "{loss} vs {exact}");
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!((g - e).abs() < 1e-5 * e.abs().max(1.0), "gradient[{i}] {g} vs {e}");
        }
    }

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
