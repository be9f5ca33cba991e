//! Style scale: the style image's size relative to the output sets the size of the texture transferred. A
//! style of vertical stripes is transferred at half and at twice the output's size; the finer style gives
//! the result more horizontal variation from pixel to pixel.

use crate::support::{ort_environment, root};
use nst::image_io::Planar;
use nst::optim::Control;
use nst::preset::load_preset;
use nst::runtime::Provider;
use nst::stylize::{Engine, EngineConfig, Init};

const SIZE: usize = 64;

/// Black and white vertical stripes, `period` pixels wide, on a `SIZE` square.
fn stripes(period: usize) -> Planar {
    let plane: Vec<f32> = (0..SIZE * SIZE).map(|i| if (i % SIZE) % period < period / 2 { 0.9 } else { 0.1 }).collect();
    Planar { width: SIZE, height: SIZE, rgb: [plane.clone(), plane.clone(), plane].concat(), alpha: None }
}

/// Mean absolute difference between horizontal neighbours (all channels).
fn horizontal_variation(image: &Planar) -> f64 {
    let (w, h) = (image.width, image.height);
    let mut sum = 0.0f64;
    for c in 0..3 {
        for y in 0..h {
            for x in 1..w {
                let at = |x: usize| image.rgb[c * w * h + y * w + x].clamp(0.0, 1.0) as f64;
                sum += (at(x) - at(x - 1)).abs();
            }
        }
    }
    sum / (3 * h * (w - 1)) as f64
}

#[test]
fn a_smaller_style_scale_transfers_a_finer_texture() {
    ort_environment();
    let mut engine =
        Engine::new(&EngineConfig { provider: Provider::Cpu, threads: 2, ..EngineConfig::default() }).unwrap();
    let mut settings = load_preset("mosaic", Some(&root().join("presets"))).unwrap().settings;
    settings.size = Some(SIZE);
    settings.iterations = 60;
    settings.init = Init::Noise;
    settings.losses.content_weight = 0.0; // style only: the texture alone decides
    let content = stripes(SIZE); // ignored with no content weight
    let styles = vec![(stripes(8), 1.0)];
    let mut variation = |scale: f32| {
        settings.style_scale = scale;
        let result = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
        horizontal_variation(&result.image)
    };
    let (fine, coarse) = (variation(0.5), variation(2.0));
    println!("horizontal variation: style scale 0.5 -> {fine:.4}, style scale 2 -> {coarse:.4}");
    assert!(fine > 1.3 * coarse, "fine {fine}, coarse {coarse}");
}
