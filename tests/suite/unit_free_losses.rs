//! The loss terms have no units, so one preset means the same on any VGG19 and at any size:
//! - a VGG19 whose convolutions are rescaled by positive factors per layer (which scales every later feature
//!   map) gives the same result with the same preset as the original: bit for bit with powers of two (exact in
//!   floating point), and within float rounding with arbitrary factors;
//! - the same preset at twice the output size gives the same look: the terms keep their balance.

use std::path::PathBuf;
use std::sync::Arc;

use crate::support::python::TempDir;
use crate::support::{TestRng, ort_environment, preset_inputs};
use nst::image_io::Planar;
use nst::model::ModelChoice;
use nst::network::{LossPlacement, Network};
use nst::objective::StyleObjective;
use nst::optim::Control;
use nst::runtime::{Provider, SessionOptions};
use nst::stylize::{Engine, EngineConfig, Settings, Stylized};
use nst::targets::{Targets, WorkingMasks};
use nst_onnx::Vgg19;
use nst_onnx::import::vgg19_to_safetensors_bytes;
use nst_onnx::random::random_vgg19;

fn engine() -> Engine {
    ort_environment();
    Engine::new(&EngineConfig { provider: Provider::Cpu, threads: 2, ..EngineConfig::default() }).unwrap()
}

fn run(engine: &mut Engine, content: &Planar, styles: &[(Planar, f32)], settings: &Settings) -> Stylized {
    engine.stylize(content, styles, settings, &mut |_| Control::Continue).unwrap()
}

/// A VGG19 with random biases (so that a rescaling has to carry them along), and the same network with layer
/// k's weights times `factors[k]` and its bias times `C_k = factors[0] ... factors[k]`: every ReLU output k is
/// then `C_k` times the original's (ReLU and both poolings are positively homogeneous).
fn original_and_rescaled(factors: [f32; 16]) -> (Vgg19, Vgg19) {
    let mut original = random_vgg19(4);
    let mut rng = TestRng(9);
    for conv in &mut original.convs {
        conv.bias.iter_mut().for_each(|b| *b = 0.05 * rng.symmetric());
    }
    let mut rescaled = original.clone();
    let mut cumulative = 1.0f32;
    for (conv, factor) in rescaled.convs.iter_mut().zip(factors) {
        cumulative *= factor;
        conv.weight.iter_mut().for_each(|w| *w *= factor);
        conv.bias.iter_mut().for_each(|b| *b *= cumulative);
    }
    (original, rescaled)
}

/// Both networks written as model files.
fn model_files(dir: &TempDir, models: [&Vgg19; 2]) -> Vec<PathBuf> {
    models
        .iter()
        .enumerate()
        .map(|(index, model)| {
            let path = dir.path().join(format!("model{index}.safetensors"));
            std::fs::write(&path, vgg19_to_safetensors_bytes(model).unwrap()).unwrap();
            path
        })
        .collect()
}

#[test]
fn power_of_two_rescaling_gives_the_same_result_bit_for_bit() {
    // Powers of two scale every value exactly, so nothing but the losses' units could tell the networks apart.
    let factors = [0.25f32, 8.0, 0.5, 4.0, 0.125, 16.0, 0.25, 2.0, 0.5, 8.0, 0.5, 4.0, 0.25, 4.0, 2.0, 0.5];
    let (original, rescaled) = original_and_rescaled(factors);
    let dir = TempDir::new("rescaled-vgg-exact");
    let files = model_files(&dir, [&original, &rescaled]);
    let (content, styles, mut settings) = preset_inputs("mosaic", 48, 15);
    let mut engine = engine();
    let results: Vec<Stylized> = files
        .iter()
        .map(|file| {
            settings.model = ModelChoice::File(file.clone());
            run(&mut engine, &content, &styles, &settings)
        })
        .collect();
    let changed = results[0].image.mean_abs_difference(&content.resized(48, 48));
    let differing = results[0].image.rgb.iter().zip(&results[1].image.rgb).filter(|(a, b)| a != b).count();
    println!("changed the content by {changed:.4}; {differing} values differ; terms {:?}", results[0].terms);
    assert!(changed > 0.05, "the run hardly changed the image ({changed})");
    assert_eq!(differing, 0, "the rescaled network gave another image");
    assert_eq!(results[0].terms, results[1].terms);
}

#[test]
fn rescaling_the_networks_layers_leaves_the_result_unchanged() {
    let factors = [0.2f32, 7.0, 0.5, 3.0, 0.1, 10.0, 0.25, 2.0, 0.3, 6.0, 0.5, 4.0, 0.2, 5.0, 1.5, 0.7];
    let (original, rescaled) = original_and_rescaled(factors);
    let dir = TempDir::new("rescaled-vgg");
    let files = model_files(&dir, [&original, &rescaled]);
    let mut rng = TestRng(9);

    // The objective itself: the same terms and image gradient at the same image.
    let (content, styles, mut settings) = preset_inputs("mosaic", 64, 30);
    let (width, height) = (64, 64);
    let content_sized = content.resized(width, height);
    let style_sized = styles[0].0.resized(width, height);
    let start = Planar {
        width,
        height,
        rgb: content_sized.rgb.iter().map(|v| (v + 0.1 * rng.symmetric()).clamp(0.0, 1.0)).collect(),
        alpha: None,
    };
    let env = ort_environment();
    let mut evaluations = Vec::new();
    for model in [&original, &rescaled] {
        let options = SessionOptions { provider: Provider::Cpu, threads: 2, low_memory: false, device: None };
        let losses = &settings.losses;
        let model = Arc::new(model.clone());
        let mut network =
            Network::new(&env, &model, &losses.taps(), settings.pooling, options, LossPlacement::Rust).unwrap();
        let mut pass = network.pass(height, width).unwrap();
        let masks = WorkingMasks::default();
        let styles = [(style_sized.clone(), 1.0)];
        let targets = Targets::compute(&mut network, &mut pass, losses, &content_sized, &styles, &masks).unwrap();
        let mut objective = StyleObjective::new(&mut network, pass, losses.clone(), targets).unwrap();
        let mut gradient = vec![0.0f32; start.rgb.len()];
        let terms = objective.evaluate_terms(&start.rgb, &mut gradient).unwrap();
        evaluations.push((terms, gradient));
    }
    let ((a, ga), (b, gb)) = (&evaluations[0], &evaluations[1]);
    let largest = ga.iter().fold(0f32, |m, g| m.max(g.abs()));
    let gradient_error = ga.iter().zip(gb).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max) / largest;
    println!(
        "objective: original {a:?}\n           rescaled {b:?}\n gradient: worst difference {gradient_error:.2e} of its largest entry"
    );
    for (x, y) in [(a.content, b.content), (a.style, b.style), (a.total_variation, b.total_variation)] {
        assert!((x - y).abs() <= 1e-4 * x.abs().max(y.abs()), "terms differ: {a:?} / {b:?}");
    }
    // The rescaled weights are rounded to f32, and ONNX Runtime's kernels differ by processor: the worst entry
    // was measured below 1e-4 of the largest on some machines and at 1.3e-4 on an AMD EPYC. A gradient that
    // depended on the layers' units would be off by a large fraction, as the factors run from 0.1 to 10.
    assert!(gradient_error < 1e-3, "image gradients differ by {gradient_error:.2e} of their largest entry");

    // Whole runs: the rescaled network's result is closer to the original's than a run whose only change is a
    // style weight 20% higher (L-BFGS amplifies float rounding a little over the iterations, so not bit for bit).
    let mut engine = engine();
    let beta = settings.losses.style_weight;
    let mut run_with = |file: &std::path::Path, style_weight: f32| {
        settings.model = ModelChoice::File(file.to_path_buf());
        settings.losses.style_weight = style_weight;
        run(&mut engine, &content, &styles, &settings)
    };
    let (first, second, control) =
        (run_with(&files[0], beta), run_with(&files[1], beta), run_with(&files[0], 1.2 * beta));
    let changed = first.image.mean_abs_difference(&content.resized(64, 64));
    let difference = first.image.mean_abs_difference(&second.image);
    let control_difference = first.image.mean_abs_difference(&control.image);
    println!(
        "runs: the original changed the content by {changed:.4}; the rescaled network's result differs from it by \
         {difference:.4}, a style weight 20% higher by {control_difference:.4}"
    );
    assert!(changed > 0.05, "the run hardly changed the image ({changed})");
    assert!(difference < control_difference, "{difference:.4} is not below {control_difference:.4}");
}

#[test]
fn twice_the_size_keeps_the_balance_of_the_terms() {
    let mut engine = engine();
    let (content, styles, mut settings) = preset_inputs("mosaic", 64, 40);
    let small = run(&mut engine, &content, &styles, &settings);
    settings.size = Some(128);
    let large = run(&mut engine, &content, &styles, &settings);
    let change = |result: &Stylized| {
        let start = content.resized(result.image.width, result.image.height);
        result.image.mean_abs_difference(&start)
    };
    let (small_change, large_change) = (change(&small), change(&large));
    let ratio = |a: f64, b: f64| b / a;
    let style_over_content = |s: &Stylized| s.terms.style / s.terms.content;
    println!(
        "64 px: {:?}, changed by {small_change:.4}\n128 px: {:?}, changed by {large_change:.4}\nstyle/content \
         {:.3} vs {:.3}",
        small.terms,
        large.terms,
        style_over_content(&small),
        style_over_content(&large)
    );
    // The paper's content term grows with the pixel count (4x here) while its style term does not: the balance
    // would move by 4x. Unit-free terms keep it within the spread of two optimisations of different sizes.
    for (what, a, b) in [
        ("content", small.terms.content, large.terms.content),
        ("style", small.terms.style, large.terms.style),
        ("total variation", small.terms.total_variation, large.terms.total_variation),
        ("change from the content", small_change, large_change),
    ] {
        let r = ratio(a, b);
        assert!((0.5..=2.0).contains(&r), "{what}: 128 px over 64 px is {r:.3}");
    }
}
