//! The limits hosts show in their UI, as `nst.h` macros. cbindgen writes only this crate's constants, so each
//! is spelled out here and checked at compile time against its home, `nst_sys::limits`.

use nst_sys::limits as home;

/// Shortest long side of the working image, in pixels (`NstOverrides.size`).
pub const NST_SIZE_MIN: u32 = 16;
/// Longest long side of the working image, in pixels.
pub const NST_SIZE_MAX: u32 = 8192;
/// Fewest optimiser iterations (`NstOverrides.iterations`).
pub const NST_ITERATIONS_MIN: u32 = 1;
/// Most optimiser iterations.
pub const NST_ITERATIONS_MAX: u32 = 10_000;
/// Most coarse-to-fine scales (`NstOverrides.scales`).
pub const NST_SCALES_MAX: u32 = 8;
/// Smallest style size relative to the output (`NstOverrides.style_scale`).
pub const NST_STYLE_SCALE_MIN: f64 = 0.1;
/// Largest style size relative to the output.
pub const NST_STYLE_SCALE_MAX: f64 = 4.0;
/// Largest style weight, beta (`NstOverrides.style_weight`); the smallest is 0.
pub const NST_STYLE_WEIGHT_MAX: f64 = 1e12;
/// Style weight of a preset that gives none: a host's "strength" 1 multiplies this.
pub const NST_DEFAULT_STYLE_WEIGHT: f64 = 30.0;
/// Smallest strength (`NstOverrides.style_weight_scale`), the factor on the style weight in use.
pub const NST_STRENGTH_MIN: f64 = 0.01;
/// Largest strength.
pub const NST_STRENGTH_MAX: f64 = 100.0;
/// Largest blend weight of one style image (`NstOverrides.style_weights`); blend weights are positive.
pub const NST_STYLE_BLEND_MAX: f64 = 1e6;
/// Most style images of one run (`style_count`).
pub const NST_STYLE_IMAGES_MAX: usize = 64;
/// Longest side of an `NstImage`, in pixels.
pub const NST_IMAGE_SIDE_MAX: u32 = 65_535;
/// Most pixels (width x height) of an `NstImage`.
pub const NST_IMAGE_PIXELS_MAX: u64 = 100_000_000;
/// Largest seed (`NstOverrides.seed`, `NstOverrides.model_seed`); -1 means "the preset's".
pub const NST_SEED_MAX: i64 = i64::MAX;

const _: () = {
    assert!(NST_SIZE_MIN == home::NST_SIZE_MIN && NST_SIZE_MAX == home::NST_SIZE_MAX);
    assert!(NST_ITERATIONS_MIN == home::NST_ITERATIONS_MIN && NST_ITERATIONS_MAX == home::NST_ITERATIONS_MAX);
    assert!(NST_SCALES_MAX == home::NST_SCALES_MAX);
    assert!(NST_STYLE_SCALE_MIN == home::NST_STYLE_SCALE_MIN && NST_STYLE_SCALE_MAX == home::NST_STYLE_SCALE_MAX);
    assert!(NST_STYLE_WEIGHT_MAX == home::NST_STYLE_WEIGHT_MAX);
    assert!(NST_DEFAULT_STYLE_WEIGHT == home::DEFAULT_STYLE_WEIGHT);
    assert!(NST_STYLE_BLEND_MAX == home::NST_STYLE_BLEND_MAX);
    assert!(NST_STRENGTH_MIN == home::NST_STRENGTH_MIN && NST_STRENGTH_MAX == home::NST_STRENGTH_MAX);
    assert!(NST_STYLE_IMAGES_MAX == home::NST_STYLE_IMAGES_MAX);
    assert!(NST_IMAGE_SIDE_MAX == home::NST_IMAGE_SIDE_MAX && NST_IMAGE_PIXELS_MAX == home::NST_IMAGE_PIXELS_MAX);
    assert!(NST_SEED_MAX == home::NST_SEED_MAX);
};
