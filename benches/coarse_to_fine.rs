//! Coarse-to-fine against a single scale: the time each takes to reach the same full-size loss.
//!
//! The single-scale run optimises the output size for `ITERATIONS` L-BFGS iterations from seeded white noise
//! (the paper's start); its final loss is the target. The coarse-to-fine run optimises `SCALES` sizes growing
//! by `FACTOR`, the same iterations at each coarse size, then the output size until its loss reaches the
//! target. Both use the
//! bundled `mosaic` preset on the astronaut sample; losses of coarse scales are not comparable and are not
//! used. Prints one JSON object.
//!
//! Run with `scripts/setup && cargo bench -p nst-benches --bench coarse_to_fine` (environment: NST_SIZE, default 512;
//! NST_ITERATIONS, default 60; NST_SCALES, default 3; NST_COARSE_ITERATIONS, default 20; NST_FACTOR, default
//! sqrt 2; NST_INIT=content starts both runs from the content instead).

use std::path::PathBuf;
use std::time::Instant;

use nst::image_io::read_image;
use nst::optim::Control;
use nst::preset::load_preset;
use nst::runtime::{Provider, environment};
use nst::stylize::{Engine, EngineConfig, Init, Multiscale};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let ort = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".ort/libonnxruntime.so.1.31.1"));
    environment(Some(&ort)).expect("ONNX Runtime: run scripts/setup");
    let (size, iterations, scales) =
        (setting("NST_SIZE", 512), setting("NST_ITERATIONS", 60), setting("NST_SCALES", 3));
    let coarse_iterations = setting("NST_COARSE_ITERATIONS", 20);
    let mut engine = Engine::new(&EngineConfig { provider: Provider::Cpu, ..EngineConfig::default() }).unwrap();
    let preset = load_preset("mosaic", Some(&root.join("presets"))).unwrap();
    let content = read_image(&root.join("presets/samples/astronaut.png")).unwrap();
    let styles: Vec<_> = preset.styles.iter().map(|(p, w)| (read_image(p).unwrap(), *w)).collect();
    let mut settings = preset.settings;
    settings.size = Some(size);
    settings.iterations = iterations;
    if std::env::var("NST_INIT").is_ok_and(|v| v == "content") {
        settings.init = Init::Content;
    } else {
        settings.init = Init::Noise;
    }
    // Warm-up: graphs built and sessions initialised before anything is timed.
    engine
        .stylize(
            &content,
            &styles,
            &{
                let mut s = settings.clone();
                s.iterations = 1;
                s
            },
            &mut |_| Control::Continue,
        )
        .unwrap();

    let started = Instant::now();
    let single = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
    let single_seconds = started.elapsed().as_secs_f64();
    let target = single.terms.total();

    // The last scale may run up to twice the single-scale iterations; it stops once the target is reached.
    let coarse_total = coarse_iterations * (scales - 1);
    let factor = std::env::var("NST_FACTOR").ok().and_then(|v| v.parse().ok()).unwrap_or(std::f32::consts::SQRT_2);
    settings.multiscale =
        Multiscale { scales, factor, iterations: [vec![coarse_iterations; scales - 1], vec![2 * iterations]].concat() };
    let started = Instant::now();
    let mut reached = None;
    let mut last_loss = f64::NAN;
    let result = engine.stylize(&content, &styles, &settings, &mut |p| {
        if p.iteration <= coarse_total {
            return Control::Continue;
        }
        last_loss = p.terms.total();
        if last_loss <= target {
            reached = Some((started.elapsed().as_secs_f64(), p.iteration - coarse_total));
            return Control::Cancel;
        }
        Control::Continue
    });
    let multi_seconds = started.elapsed().as_secs_f64();
    assert!(result.is_ok() || reached.is_some(), "coarse-to-fine failed: {:?}", result.err());
    let (reached_seconds, full_iterations) = match reached {
        Some((seconds, its)) => (format!("{seconds:.2}"), its.to_string()),
        None => ("null".into(), "null".into()),
    };
    let init = if settings.init == Init::Noise { "noise" } else { "content" };
    println!(
        "{{\"size\":{size},\"init\":\"{init}\",\"single_scale_iterations\":{iterations},\"single_scale_seconds\":{single_seconds:.2},\"target_loss\":{target:.6e},\"scales\":{scales},\"coarse_iterations_per_scale\":{coarse_iterations},\"coarse_to_fine_seconds_to_target\":{reached_seconds},\"full_size_iterations_to_target\":{full_iterations},\"coarse_to_fine_seconds\":{multi_seconds:.2},\"coarse_to_fine_final_loss\":{last_loss:.6e}}}"
    );
}
