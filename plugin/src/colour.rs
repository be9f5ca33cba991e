//! Colour control (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer").
//!
//! - Luminance-only transfer: the optimisation sees luminance images only, and the result's luminance is joined
//!   with the content's chroma, so the output keeps the content's colours exactly.
//! - Colour matching: the style image's pixels are mapped so their mean and covariance equal the content's,
//!   so the style brings its texture but the content's palette.

use crate::image_io::Planar;

/// How the colours of the result are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColourControl {
    /// Transfer luminance only and keep the content's chroma.
    pub keep_content_colours: bool,
    /// Map the style images' colour mean and covariance onto the content's before the transfer.
    pub match_style_colours: bool,
}

/// RGB -> YIQ (NTSC), on sRGB-encoded values as in the paper.
const TO_YIQ: [[f32; 3]; 3] =
    [[0.299, 0.587, 0.114], [0.595_716, -0.274_453, -0.321_263], [0.211_456, -0.522_591, 0.311_135]];

fn yiq(rgb: [f32; 3]) -> [f32; 3] {
    TO_YIQ.map(|row| row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2])
}

/// The inverse of `TO_YIQ`, computed once in f64.
fn from_yiq(v: [f32; 3]) -> [f32; 3] {
    let m = inverse3(TO_YIQ.map(|row| row.map(f64::from)));
    m.map(|row| (row[0] * v[0] as f64 + row[1] * v[1] as f64 + row[2] * v[2] as f64) as f32)
}

fn inverse3(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let c = |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    [
        [c(1, 2, 1, 2) / det, -c(0, 2, 1, 2) / det, c(0, 1, 1, 2) / det],
        [-c(1, 2, 0, 2) / det, c(0, 2, 0, 2) / det, -c(0, 1, 0, 2) / det],
        [c(1, 2, 0, 1) / det, -c(0, 2, 0, 1) / det, c(0, 1, 0, 1) / det],
    ]
}

fn pixel(image: &Planar, i: usize) -> [f32; 3] {
    let plane = image.width * image.height;
    [image.rgb[i], image.rgb[plane + i], image.rgb[2 * plane + i]]
}

fn set_pixel(image: &mut Planar, i: usize, rgb: [f32; 3]) {
    let plane = image.width * image.height;
    for (c, v) in rgb.into_iter().enumerate() {
        image.rgb[c * plane + i] = v;
    }
}

/// The luminance (Y of YIQ) of pixel `i`.
pub fn luminance_of(image: &Planar, i: usize) -> f32 {
    yiq(pixel(image, i))[0]
}

/// The image's luminance in all three channels (a grey image the network can read).
pub fn luminance_image(image: &Planar) -> Planar {
    let mut grey = image.clone();
    for i in 0..image.width * image.height {
        let y = yiq(pixel(image, i))[0];
        set_pixel(&mut grey, i, [y, y, y]);
    }
    grey
}

/// The luminance of `result` (mean of its channels, as it was optimised grey) with the chroma of `content`
/// (same size).
pub fn join_luminance_with_chroma(result: &Planar, content: &Planar) -> Planar {
    let mut joined = content.clone();
    for i in 0..content.width * content.height {
        let grey = pixel(result, i);
        let y = (grey[0] + grey[1] + grey[2]) / 3.0;
        let [_, i_chroma, q_chroma] = yiq(pixel(content, i));
        set_pixel(&mut joined, i, from_yiq([y, i_chroma, q_chroma]));
    }
    joined
}

/// The chroma (I, Q) of every pixel, for checks.
pub fn chroma(image: &Planar) -> Vec<[f32; 2]> {
    (0..image.width * image.height)
        .map(|i| {
            let [_, a, b] = yiq(pixel(image, i));
            [a, b]
        })
        .collect()
}

/// Mean and covariance of the RGB values.
pub fn colour_statistics(image: &Planar) -> ([f64; 3], [[f64; 3]; 3]) {
    let n = (image.width * image.height) as f64;
    let mut mean = [0.0; 3];
    for i in 0..image.width * image.height {
        let p = pixel(image, i);
        for c in 0..3 {
            mean[c] += p[c] as f64 / n;
        }
    }
    let mut cov = [[0.0; 3]; 3];
    for i in 0..image.width * image.height {
        let p = pixel(image, i);
        for a in 0..3 {
            for b in 0..3 {
                cov[a][b] += (p[a] as f64 - mean[a]) * (p[b] as f64 - mean[b]) / n;
            }
        }
    }
    (mean, cov)
}

/// Lower Cholesky factor of a symmetric positive (semi-)definite 3x3 matrix, regularised to stay invertible.
fn cholesky(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut l = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                l[i][j] = (m[i][i] + 1e-6 - sum).max(1e-12).sqrt();
            } else {
                l[i][j] = (m[i][j] - sum) / l[j][j];
            }
        }
    }
    l
}

fn multiply(a: [[f64; 3]; 3], b: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            out[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

/// `style` with its colours mapped so their mean and covariance equal `content`'s:
/// `x' = L_c L_s^-1 (x - mu_s) + mu_c` with `L` the Cholesky factors of the covariances. Values are clamped to
/// [0, 1] afterwards, which can move the statistics slightly for extreme palettes.
pub fn match_colours(style: &Planar, content: &Planar) -> Planar {
    let (mu_s, cov_s) = colour_statistics(style);
    let (mu_c, cov_c) = colour_statistics(content);
    let a = multiply(cholesky(cov_c), inverse3(cholesky(cov_s)));
    let mut matched = style.clone();
    for i in 0..style.width * style.height {
        let p = pixel(style, i);
        let centred = [p[0] as f64 - mu_s[0], p[1] as f64 - mu_s[1], p[2] as f64 - mu_s[2]];
        let mapped =
            [0, 1, 2].map(|r| ((0..3).map(|k| a[r][k] * centred[k]).sum::<f64>() + mu_c[r]).clamp(0.0, 1.0) as f32);
        set_pixel(&mut matched, i, mapped);
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: usize, height: usize, tint: [f32; 3]) -> Planar {
        let plane = width * height;
        let mut rgb = vec![0.0; 3 * plane];
        for i in 0..plane {
            let t = (i % width) as f32 / width as f32 * 0.5 + (i / width) as f32 / height as f32 * 0.3;
            for c in 0..3 {
                rgb[c * plane + i] = (0.1 + t * tint[c]).clamp(0.0, 1.0);
            }
        }
        Planar { width, height, rgb, alpha: None }
    }

    #[test]
    fn yiq_round_trips() {
        for rgb in [[0.0, 0.0, 0.0], [1.0, 0.5, 0.25], [0.3, 0.9, 0.1]] {
            let back = from_yiq(yiq(rgb));
            for c in 0..3 {
                assert!((back[c] - rgb[c]).abs() < 1e-5, "{rgb:?} -> {back:?}");
            }
        }
    }

    #[test]
    fn joining_keeps_the_content_chroma_and_the_result_luminance() {
        let content = gradient(8, 6, [1.0, 0.4, 0.2]);
        let result = luminance_image(&gradient(8, 6, [0.2, 0.9, 0.5]));
        let joined = join_luminance_with_chroma(&result, &content);
        for (a, b) in chroma(&joined).iter().zip(chroma(&content)) {
            assert!((a[0] - b[0]).abs() < 1e-5 && (a[1] - b[1]).abs() < 1e-5);
        }
        for i in 0..48 {
            assert!((yiq(pixel(&joined, i))[0] - pixel(&result, i)[0]).abs() < 1e-5);
        }
    }

    #[test]
    fn matching_gives_the_style_the_content_mean_and_covariance() {
        let content = gradient(16, 12, [0.9, 0.5, 0.2]);
        let style = gradient(16, 12, [0.2, 0.6, 1.0]);
        let matched = match_colours(&style, &content);
        let ((mu_m, cov_m), (mu_c, cov_c)) = (colour_statistics(&matched), colour_statistics(&content));
        for a in 0..3 {
            assert!((mu_m[a] - mu_c[a]).abs() < 2e-3, "mean {mu_m:?} vs {mu_c:?}");
            for b in 0..3 {
                assert!((cov_m[a][b] - cov_c[a][b]).abs() < 2e-3, "cov {cov_m:?} vs {cov_c:?}");
            }
        }
    }
}
