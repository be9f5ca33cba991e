//! The ranges and defaults of every value people type: the preset checker, the per-run overrides, the run's own
//! validation, `nst_describe` and the hosts all read them here. The `NST_` constants also appear in `nst.h`.

use std::fmt::Display;

/// Shortest long side of the working image, in pixels.
pub const NST_SIZE_MIN: u32 = 16;
/// Longest long side of the working image, in pixels.
pub const NST_SIZE_MAX: u32 = 8192;
/// Fewest optimiser iterations of a run.
pub const NST_ITERATIONS_MIN: u32 = 1;
/// Most optimiser iterations of a run.
pub const NST_ITERATIONS_MAX: u32 = 10_000;
/// Most coarse-to-fine scales (1 optimises at the output size only).
pub const NST_SCALES_MAX: u32 = 8;
/// Smallest style image size relative to the output.
pub const NST_STYLE_SCALE_MIN: f64 = 0.1;
/// Largest style image size relative to the output.
pub const NST_STYLE_SCALE_MAX: f64 = 4.0;
/// Largest style weight (beta); the smallest is 0.
pub const NST_STYLE_WEIGHT_MAX: f64 = 1e12;
/// Smallest strength: the factor a host's slider applies to the style weight in use.
pub const NST_STRENGTH_MIN: f64 = 0.01;
/// Largest strength.
pub const NST_STRENGTH_MAX: f64 = 100.0;
/// Largest blend weight of one style image; blend weights are positive.
pub const NST_STYLE_BLEND_MAX: f64 = 1e6;
/// Most style images of one run.
pub const NST_STYLE_IMAGES_MAX: usize = 64;
/// Longest side of an image a host passes, in pixels.
pub const NST_IMAGE_SIDE_MAX: u32 = 65_535;
/// Most pixels of an image a host passes.
pub const NST_IMAGE_PIXELS_MAX: u64 = 100_000_000;
/// Largest seed (noise start, built-in model); seeds are at least 0.
pub const NST_SEED_MAX: i64 = i64::MAX;

/// An inclusive range of a typed value, with the message that names a value outside it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds<T> {
    /// Smallest value accepted.
    pub min: T,
    /// Largest value accepted.
    pub max: T,
}

impl<T: PartialOrd + Copy + Display> Bounds<T> {
    /// Whether `value` is inside; NaN never is.
    pub fn contains(&self, value: T) -> bool {
        self.min <= value && value <= self.max
    }

    /// `value` when inside, else "`what` `value` is outside `min`..=`max`".
    pub fn check(&self, what: &str, value: T) -> Result<T, String> {
        if self.contains(value) { Ok(value) } else { Err(format!("{what} {value} is outside {self}")) }
    }
}

impl Bounds<u32> {
    /// `count` when inside, else "`what` `count` is outside `min`..=`max`" (a count too large for `u32` too).
    pub fn check_count(&self, what: &str, count: usize) -> Result<usize, String> {
        match u32::try_from(count) {
            Ok(value) if self.contains(value) => Ok(count),
            _ => Err(format!("{what} {count} is outside {self}")),
        }
    }

    /// The same range as signed 64-bit integers, which TOML integers are read as.
    pub const fn widen(self) -> Bounds<i64> {
        Bounds { min: self.min as i64, max: self.max as i64 }
    }
}

impl Bounds<u64> {
    /// The same range as signed 64-bit integers, which TOML integers are read as.
    pub const fn widen(self) -> Bounds<i64> {
        Bounds { min: self.min as i64, max: self.max as i64 }
    }
}

impl<T: Display> Display for Bounds<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..={}", self.min, self.max)
    }
}

/// Long side of the working image.
pub const SIZE: Bounds<u32> = Bounds { min: NST_SIZE_MIN, max: NST_SIZE_MAX };
/// Optimiser iterations, of a run or of one scale.
pub const ITERATIONS: Bounds<u32> = Bounds { min: NST_ITERATIONS_MIN, max: NST_ITERATIONS_MAX };
/// Coarse-to-fine scales.
pub const SCALES: Bounds<u32> = Bounds { min: 1, max: NST_SCALES_MAX };
/// Growth from one scale to the next.
pub const SCALE_FACTOR: Bounds<f64> = Bounds { min: 1.1, max: 4.0 };
/// Style image size relative to the output.
pub const STYLE_SCALE: Bounds<f64> = Bounds { min: NST_STYLE_SCALE_MIN, max: NST_STYLE_SCALE_MAX };
/// Style weight (beta).
pub const STYLE_WEIGHT: Bounds<f64> = Bounds { min: 0.0, max: NST_STYLE_WEIGHT_MAX };
/// Strength: multiplies the style weight in use.
pub const STRENGTH: Bounds<f64> = Bounds { min: NST_STRENGTH_MIN, max: NST_STRENGTH_MAX };
/// Content weight (alpha).
pub const CONTENT_WEIGHT: Bounds<f64> = Bounds { min: 0.0, max: 1e12 };
/// Total-variation weight.
pub const TV_WEIGHT: Bounds<f64> = Bounds { min: 0.0, max: 1e9 };
/// Relative weight of one style layer.
pub const STYLE_LAYER_WEIGHT: Bounds<f64> = Bounds { min: 0.0, max: 1e6 };
/// Seeds of the noise start and of the built-in model.
pub const SEED: Bounds<i64> = Bounds { min: 0, max: NST_SEED_MAX };
/// L-BFGS history length.
pub const LBFGS_HISTORY: Bounds<u32> = Bounds { min: 1, max: 100 };
/// Adam learning rate.
pub const LEARNING_RATE: Bounds<f64> = Bounds { min: 1e-4, max: 1.0 };
/// A run's memory budget in MiB.
pub const MEMORY_BUDGET_MIB: Bounds<u64> = Bounds { min: 64, max: 16_777_216 };

/// Optimiser iterations when a preset gives none.
pub const DEFAULT_ITERATIONS: u32 = 100;
/// Style weight when a preset gives none (unit-free losses: see presets/README.md).
pub const DEFAULT_STYLE_WEIGHT: f64 = 30.0;
/// Total-variation weight when a preset gives none.
pub const DEFAULT_TV_WEIGHT: f64 = 2.0;

/// Whether `weight` may blend a style image: positive, finite and at most [`NST_STYLE_BLEND_MAX`].
pub fn is_blend_weight(weight: f64) -> bool {
    weight.is_finite() && weight > 0.0 && weight <= NST_STYLE_BLEND_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_refuse_values_outside_and_nan_and_name_the_range() {
        assert!(SIZE.contains(16) && SIZE.contains(8192) && !SIZE.contains(15) && !SIZE.contains(8193));
        assert!(!STYLE_SCALE.contains(f64::NAN));
        assert!(!STYLE_WEIGHT.contains(f64::INFINITY) && !STYLE_WEIGHT.contains(-1.0));
        assert_eq!(ITERATIONS.check("iterations", 0).unwrap_err(), "iterations 0 is outside 1..=10000");
        assert_eq!(STYLE_SCALE.check("style scale", 4.0), Ok(4.0));
    }

    #[test]
    fn blend_weights_are_positive_finite_and_bounded() {
        assert!(is_blend_weight(1e-3) && is_blend_weight(NST_STYLE_BLEND_MAX));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e6] {
            assert!(!is_blend_weight(bad), "{bad}");
        }
    }
}
