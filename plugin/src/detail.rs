//! The content's own fine detail on a result optimised smaller than the output.
//!
//! A result worked at a smaller size and scaled up is soft: the upscale cannot invent what the downscale
//! threw away. That lost part is known, though: it is the content minus the content sent through the same
//! down-and-up round trip. Adding its luminance back gives the result the content's edges at full size while
//! the colours and textures stay the optimised ones.

use crate::colour::luminance_of;
use crate::image_io::Planar;

/// `result` (any size) scaled to `content`'s size, with the luminance detail that a round trip through
/// `result`'s size removes from `content` added back. Alpha comes from `content`.
pub fn upscale_with_content_detail(result: &Planar, content: &Planar) -> Planar {
    let (width, height) = (content.width, content.height);
    let mut upscaled = result.resized(width, height);
    upscaled.alpha = content.alpha.clone();
    if (result.width, result.height) == (width, height) {
        return upscaled;
    }
    let round_trip = content.resized(result.width, result.height).resized(width, height);
    let plane = width * height;
    for i in 0..plane {
        let lost = luminance_of(content, i) - luminance_of(&round_trip, i);
        for c in 0..3 {
            let value = &mut upscaled.rgb[c * plane + i];
            *value = (*value + lost).clamp(0.0, 1.0);
        }
    }
    upscaled
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A content with a sharp checkerboard (detail a quarter-size round trip loses) over a smooth ramp.
    fn checkered(width: usize, height: usize) -> Planar {
        let rgb: Vec<f32> = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .flat_map(|(x, y)| {
                let check = if (x / 2 + y / 2) % 2 == 0 { 0.2 } else { -0.2 };
                let base = 0.3 + 0.4 * x as f32 / width as f32;
                [base + check, base + check, base + check]
            })
            .collect();
        Planar::from_interleaved_rgb(width, height, &rgb, None)
    }

    fn high_frequency_energy(image: &Planar) -> f64 {
        let plane = image.width * image.height;
        let blurred = image.resized(image.width / 4, image.height / 4).resized(image.width, image.height);
        (0..plane).map(|i| (luminance_of(image, i) - luminance_of(&blurred, i)) as f64).map(|d| d * d).sum::<f64>()
            / plane as f64
    }

    #[test]
    fn the_contents_fine_detail_comes_back_where_a_plain_upscale_loses_it() {
        let content = checkered(64, 48);
        let small = content.resized(16, 12);
        let plain = small.resized(64, 48);
        let restored = upscale_with_content_detail(&small, &content);
        let (energy_content, energy_plain, energy_restored) =
            (high_frequency_energy(&content), high_frequency_energy(&plain), high_frequency_energy(&restored));
        assert!(energy_plain < 0.2 * energy_content, "{energy_plain} vs {energy_content}");
        assert!(energy_restored > 0.8 * energy_content, "{energy_restored} vs {energy_content}");
        // The restored image stays close to the content it came from here (the "result" is the content itself).
        assert!(restored.mean_abs_difference(&content) < plain.mean_abs_difference(&content));
    }

    #[test]
    fn a_result_already_at_the_contents_size_is_returned_as_it_is() {
        let content = checkered(32, 32);
        let mut result = content.clone();
        result.rgb.iter_mut().for_each(|v| *v = 0.5);
        result.alpha = None;
        let mut with_alpha = content.clone();
        with_alpha.alpha = Some(vec![0.25; 32 * 32]);
        let out = upscale_with_content_detail(&result, &with_alpha);
        assert!(out.rgb.iter().all(|&v| v == 0.5));
        assert_eq!(out.alpha, with_alpha.alpha);
    }
}
