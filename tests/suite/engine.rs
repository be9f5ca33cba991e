//! The engine end to end at small sizes: a run changes the image, repeats bit for bit, cancels, and reports
//! what ran and what is missing.

use std::path::Path;

use crate::support::ort_environment;
use nst::EngineError;
use nst::image_io::Planar;
use nst::optim::Control;
use nst::runtime::{Provider, SessionOptions, locate_onnxruntime};
use nst::stylize::{Engine, EngineConfig, Init, Settings};

fn engine() -> Engine {
    ort_environment();
    Engine::new(&EngineConfig { provider: Provider::Cpu, threads: 2, ..EngineConfig::default() }).unwrap()
}

fn inputs(size: usize, iterations: usize) -> (Planar, Vec<(Planar, f32)>, Settings) {
    crate::support::preset_inputs("mosaic", size, iterations)
}

#[test]
fn a_run_changes_the_image_and_repeats_bit_for_bit() {
    let mut engine = engine();
    let (content, styles, mut settings) = inputs(64, 10);
    settings.init = Init::Noise;
    settings.seed = 3;
    let first = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
    let second = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
    assert_eq!((first.image.width, first.image.height), (64, 64));
    let bits = |p: &Planar| p.rgb.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert!(bits(&first.image) == bits(&second.image), "same inputs and seed gave different pixels");
    assert_eq!(first.terms, second.terms);

    settings.seed = 4;
    let other = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
    assert!(bits(&first.image) != bits(&other.image), "another seed gave the same pixels");

    settings.init = Init::Content;
    let from_content = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
    let difference = from_content.image.mean_abs_difference(&content.resized(64, 64));
    println!("64 px run from the content: mean absolute difference to the content {difference:.4}");
    assert!(difference > 0.02, "the stylized image hardly differs from the content ({difference})");
    assert!(first.model.contains("random-weight") && first.provider == Provider::Cpu);
}

#[test]
fn cancelling_stops_after_the_iteration_that_asked() {
    let mut engine = engine();
    let (content, styles, settings) = inputs(32, 50);
    let mut seen = Vec::new();
    let result = engine.stylize(&content, &styles, &settings, &mut |progress| {
        seen.push(progress.iteration);
        assert_eq!(progress.total, 50);
        assert!(progress.terms.total() > 0.0);
        if progress.iteration == 3 { Control::Cancel } else { Control::Continue }
    });
    assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
    assert_eq!(seen, vec![1, 2, 3]);
}

#[test]
fn an_unavailable_gpu_provider_is_reported_not_silently_replaced() {
    let env = ort_environment();
    let model = std::sync::Arc::new(nst_onnx::random::random_vgg19(0));
    let taps = [nst_onnx::Layer::parse("relu1_1").unwrap()];
    let options = SessionOptions { provider: Provider::Cuda, threads: 1, low_memory: false, device: None };
    let placement = nst::network::LossPlacement::Auto;
    match nst::network::Network::new(&env, &model, &taps, nst_onnx::Pooling::Max, options, placement) {
        Ok(network) => assert_eq!(network.provider(), Provider::Cuda),
        Err(err) => {
            let message = err.to_string();
            println!("{message}");
            assert!(message.contains("'cuda' is not available"), "{message}");
        }
    }
}

/// A smoke test: the probe opens its session, runs, checks its own result and returns a rate. The rate itself
/// depends on the machine and its load, so it is only required to be finite and positive; the measured
/// figures are in docs/performance.md.
#[test]
fn smoke_the_matrix_product_probe_runs_and_returns_a_rate() {
    let env = ort_environment();
    let options = SessionOptions { provider: Provider::Cpu, threads: 1, low_memory: false, device: None };
    let gflops = nst::bench::provider_matmul_peak_gflops(&env, options, 256).unwrap();
    println!("one core, 256^3 fp32 product through ONNX Runtime: {gflops:.1} GFLOP/s");
    assert!(gflops.is_finite() && gflops > 0.0, "{gflops} GFLOP/s");
}

#[test]
fn a_missing_onnxruntime_is_reported_with_where_it_was_looked_for() {
    let err = locate_onnxruntime(Some(Path::new("/nonexistent/libonnxruntime.so.1.31.1"))).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(
            "/nonexistent/libonnxruntime.so.1.31.1 (ort_library in the configuration, or --ort): no such file"
        ),
        "{message}"
    );
    assert!(message.contains("scripts/setup") && message.contains("ORT_DYLIB_PATH"), "{message}");
}

fn mean_chroma_difference(a: &Planar, b: &Planar) -> f64 {
    let (ca, cb) = (nst::colour::chroma(a), nst::colour::chroma(b));
    ca.iter().zip(&cb).map(|(x, y)| ((x[0] - y[0]).abs() + (x[1] - y[1]).abs()) as f64 / 2.0).sum::<f64>()
        / ca.len() as f64
}

#[test]
fn keeping_the_content_colours_keeps_its_chroma_and_matching_moves_the_palette_to_the_content() {
    let mut engine = engine();
    let (content, styles, mut settings) = inputs(64, 12);
    let reference = content.resized(64, 64);
    let plain = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
    settings.colour.keep_content_colours = true;
    let kept = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
    let (plain_shift, kept_shift) =
        (mean_chroma_difference(&plain.image, &reference), mean_chroma_difference(&kept.image, &reference));
    println!("mean chroma difference to the content: plain {plain_shift:.4}, luminance-only {kept_shift:.4}");
    assert!(kept_shift < 0.005, "luminance-only transfer changed the chroma by {kept_shift}");
    assert!(plain_shift > 4.0 * kept_shift.max(0.001), "the plain run should move the chroma ({plain_shift})");
    assert!(kept.image.mean_abs_difference(&reference) > 0.01, "luminance-only transfer changed nothing");

    settings.colour.keep_content_colours = false;
    settings.colour.match_style_colours = true;
    let matched = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
    let mean = |p: &Planar| nst::colour::colour_statistics(p).0;
    let distance = |a: [f64; 3], b: [f64; 3]| (0..3).map(|c| (a[c] - b[c]).abs()).sum::<f64>();
    let (plain_distance, matched_distance) =
        (distance(mean(&plain.image), mean(&reference)), distance(mean(&matched.image), mean(&reference)));
    println!(
        "distance of the mean colour to the content's: plain {plain_distance:.4}, colour-matched style {matched_distance:.4}"
    );
    assert!(matched_distance < plain_distance, "matching the style's colours did not bring the palette closer");
}

#[test]
fn coarse_to_fine_runs_its_schedule_and_warm_starts_each_scale() {
    let mut engine = engine();
    let (content, styles, mut settings) = inputs(128, 40);
    settings.init = Init::Noise;
    let mut single_first = None;
    let single = engine
        .stylize(&content, &styles, &settings, &mut |p| {
            single_first.get_or_insert(p.terms.total());
            Control::Continue
        })
        .unwrap();

    settings.multiscale =
        nst::stylize::Multiscale { scales: 3, factor: std::f32::consts::SQRT_2, iterations: vec![20, 10, 40] };
    let schedule = settings.multiscale.schedule(128, 128, settings.iterations);
    assert_eq!(schedule, vec![(64, 64, 20), (96, 96, 10), (128, 128, 40)]);
    let fine_start: usize = schedule[..2].iter().map(|(_, _, its)| its).sum();
    let mut fine_first = None;
    let multi = engine
        .stylize(&content, &styles, &settings, &mut |p| {
            assert_eq!(p.total, 70);
            if p.iteration > fine_start {
                fine_first.get_or_insert(p.terms.total());
            }
            Control::Continue
        })
        .unwrap();
    assert_eq!((multi.iterations, multi.working_size), (70, (128, 128)));
    let (single_first, fine_first) = (single_first.unwrap(), fine_first.unwrap());
    println!(
        "first full-size loss: from noise {single_first:.4e}, warm-started from the coarse scales {fine_first:.4e}; final: single {:.4e}, coarse-to-fine {:.4e}",
        single.terms.total(),
        multi.terms.total()
    );
    assert!(fine_first < 0.5 * single_first, "the full-size scale did not start from the coarse result");
}
