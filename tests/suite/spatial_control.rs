//! Spatial control through the engine: style masks (guided Gram matrices) put each style where its mask is
//! white, and a content mask holds the content where it is white and lets the style take over where black.

use crate::support::{TestRng, ort_environment, root};
use nst::image_io::{Planar, read_image};
use nst::optim::Control;
use nst::preset::load_preset;
use nst::runtime::Provider;
use nst::stylize::{Engine, EngineConfig, Settings, SpatialControl};

const SIZE: usize = 64;

fn engine() -> Engine {
    ort_environment();
    Engine::new(&EngineConfig { provider: Provider::Cpu, threads: 2, ..EngineConfig::default() }).unwrap()
}

/// A noisy texture around a colour.
fn texture(colour: [f32; 3], seed: u64) -> Planar {
    let mut rng = TestRng(seed);
    let plane = SIZE * SIZE;
    let mut rgb = vec![0.0; 3 * plane];
    for (c, base) in colour.iter().enumerate() {
        for v in &mut rgb[c * plane..(c + 1) * plane] {
            *v = (base + 0.3 * (rng.unit() - 0.5)).clamp(0.0, 1.0);
        }
    }
    Planar { width: SIZE, height: SIZE, rgb, alpha: None }
}

/// White on the left half (or the right), black elsewhere.
fn half_mask(left: bool) -> Planar {
    let value = |x: usize| if (x < SIZE / 2) == left { 1.0 } else { 0.0 };
    let plane: Vec<f32> = (0..SIZE * SIZE).map(|i| value(i % SIZE)).collect();
    Planar { width: SIZE, height: SIZE, rgb: [plane.clone(), plane.clone(), plane].concat(), alpha: None }
}

/// Mean of `f(pixel)` over the left or right half.
fn half_mean(image: &Planar, left: bool, f: impl Fn([f32; 3]) -> f32) -> f32 {
    let plane = image.width * image.height;
    let values: Vec<f32> = (0..plane)
        .filter(|i| (i % image.width < image.width / 2) == left)
        .map(|i| f([image.rgb[i], image.rgb[plane + i], image.rgb[2 * plane + i]]))
        .collect();
    values.iter().sum::<f32>() / values.len() as f32
}

fn settings(iterations: usize) -> Settings {
    let mut settings = load_preset("mosaic", Some(&root().join("presets"))).unwrap().settings;
    settings.size = Some(SIZE);
    settings.iterations = iterations;
    settings
}

#[test]
fn style_masks_put_each_style_where_its_mask_is_white() {
    let mut engine = engine();
    let content = read_image(&root().join("presets/samples/chelsea.png")).unwrap().resized(SIZE, SIZE);
    let styles = vec![(texture([0.9, 0.15, 0.1], 1), 1.0), (texture([0.1, 0.2, 0.9], 2), 1.0)];
    let red_minus_blue = |p: [f32; 3]| p[0] - p[2];
    let mut run = |spatial: SpatialControl| {
        let mut settings = settings(40);
        settings.spatial = spatial;
        let result = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap().image;
        (half_mean(&result, true, red_minus_blue), half_mean(&result, false, red_minus_blue))
    };
    let blended = run(SpatialControl::default());
    let masked = run(SpatialControl { style_masks: vec![half_mask(true), half_mask(false)], content_mask: None });
    let reversed = run(SpatialControl { style_masks: vec![half_mask(false), half_mask(true)], content_mask: None });
    println!("red minus blue (left, right): blended {blended:?}, masked {masked:?}, masks swapped {reversed:?}");
    // The red style's mask is white on the left: the left half turns redder than the right, by far more than
    // in the unmasked blend, and swapping the masks swaps the sides.
    assert!(masked.0 - masked.1 > 0.2, "masked: {masked:?}");
    assert!(reversed.1 - reversed.0 > 0.2, "swapped: {reversed:?}");
    // The photo's own colours differ between its halves (the blend starts from them); the masks move each
    // half further toward its own style.
    assert!(masked.0 > blended.0 + 0.1 && masked.1 < blended.1 - 0.1, "masked {masked:?}, blended {blended:?}");
}

#[test]
fn a_content_mask_holds_the_content_only_where_it_is_white() {
    let mut engine = engine();
    let content = read_image(&root().join("presets/samples/chelsea.png")).unwrap().resized(SIZE, SIZE);
    let styles = vec![(texture([0.9, 0.15, 0.1], 1), 1.0)];
    let mut settings = settings(40);
    // A style weight at which content and style both matter.
    settings.losses.style_weight = 3.0;
    settings.spatial.content_mask = Some(half_mask(true));
    let result = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap().image;
    let change = |left: bool| {
        let plane = SIZE * SIZE;
        let diffs: Vec<f32> = (0..plane)
            .filter(|i| (i % SIZE < SIZE / 2) == left)
            .flat_map(|i| (0..3).map(move |c| c * plane + i))
            .map(|i| (result.rgb[i].clamp(0.0, 1.0) - content.rgb[i]).abs())
            .collect();
        diffs.iter().sum::<f32>() / diffs.len() as f32
    };
    let (held, free) = (change(true), change(false));
    println!("mean change: content held (left) {held:.4}, content free (right) {free:.4}");
    assert!(free > 2.0 * held, "held {held}, free {free}");
}

#[test]
fn a_mask_count_that_differs_from_the_styles_is_refused() {
    let mut engine = engine();
    let content = texture([0.5, 0.5, 0.5], 3);
    let styles = vec![(texture([0.9, 0.1, 0.1], 1), 1.0), (texture([0.1, 0.1, 0.9], 2), 1.0)];
    let mut settings = settings(2);
    settings.spatial.style_masks = vec![half_mask(true)];
    let err = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap_err().to_string();
    assert!(err.contains("1 style masks for 2 style images"), "{err}");
}
