//! The engine's image: planar RGB in [0, 1] (sRGB-encoded, as VGG was trained on), with optional alpha.

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma, Rgb};

/// Planar RGB (`3 x height x width`, values nominally in [0, 1]) with an optional alpha plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Planar {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// R plane, then G, then B.
    pub rgb: Vec<f32>,
    /// Alpha in [0, 1], if the source had one.
    pub alpha: Option<Vec<f32>>,
}

impl Planar {
    /// Builds from interleaved RGB floats.
    pub fn from_interleaved_rgb(width: usize, height: usize, rgb: &[f32], alpha: Option<Vec<f32>>) -> Self {
        let plane = width * height;
        let mut planar = vec![0.0; 3 * plane];
        for (i, pixel) in rgb.chunks_exact(3).enumerate() {
            for c in 0..3 {
                planar[c * plane + i] = pixel[c];
            }
        }
        Planar { width, height, rgb: planar, alpha }
    }

    /// Interleaved RGB floats, clamped to [0, 1].
    pub fn to_interleaved_rgb(&self) -> Vec<f32> {
        let plane = self.width * self.height;
        (0..plane)
            .flat_map(|i| (0..3).map(move |c| (c, i)))
            .map(|(c, i)| self.rgb[c * plane + i].clamp(0.0, 1.0))
            .collect()
    }

    /// A resized copy (Catmull-Rom for colour and alpha). Values are clamped to [0, 1] first.
    pub fn resized(&self, width: usize, height: usize) -> Planar {
        if width == self.width && height == self.height {
            return self.clone();
        }
        let rgb: ImageBuffer<Rgb<f32>, Vec<f32>> =
            ImageBuffer::from_raw(self.width as u32, self.height as u32, self.to_interleaved_rgb())
                .expect("sizes agree");
        let resized = imageops::resize(&rgb, width as u32, height as u32, FilterType::CatmullRom);
        let alpha = self.alpha.as_ref().map(|alpha| {
            let plane: ImageBuffer<Luma<f32>, Vec<f32>> =
                ImageBuffer::from_raw(self.width as u32, self.height as u32, alpha.clone()).expect("sizes agree");
            let out = imageops::resize(&plane, width as u32, height as u32, FilterType::CatmullRom);
            out.into_raw().into_iter().map(|a| a.clamp(0.0, 1.0)).collect()
        });
        Planar::from_interleaved_rgb(width, height, resized.as_raw(), alpha)
    }

    /// Mean absolute difference of the RGB planes (both images must have the same size).
    pub fn mean_abs_difference(&self, other: &Planar) -> f64 {
        assert_eq!((self.width, self.height), (other.width, other.height), "image sizes differ");
        self.rgb.iter().zip(&other.rgb).map(|(a, b)| (a.clamp(0.0, 1.0) - b.clamp(0.0, 1.0)).abs() as f64).sum::<f64>()
            / self.rgb.len() as f64
    }
}
