//! Criterion benches: Gram matrix and style gradient per VGG19 layer size, one full evaluation (forward graph,
//! Rust losses, backward graph) at 128, 256 and 512 px, one L-BFGS step at 128 px, and the L-BFGS iteration's
//! own work at 1024 px (on an objective that costs one pass, so the optimiser's vector arithmetic is what counts:
//! on a GPU, where an evaluation is milliseconds, it is a large part of a run).
//!
//! Run with `scripts/setup && cargo bench -p nst-benches --bench engine` (ONNX Runtime from `ORT_DYLIB_PATH` or `.ort/`).

use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nst::image_io::Planar;
use nst::losses::LossSettings;
use nst::losses::gram::gram;
use nst::losses::style::{StyleTarget, style_loss};
use nst::objective::StyleObjective;
use nst::optim::{Control, Lbfgs, Optimiser};
use nst::runtime::{Provider, environment};
use nst::stylize::{Engine, EngineConfig};
use nst::targets::Targets;
use nst_onnx::Layer;
use nst_onnx::random::SplitMix64;

fn ort_library() -> PathBuf {
    std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(".ort/libonnxruntime.so.1.31.1")
    })
}

fn values(count: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64(seed);
    (0..count).map(|_| rng.unit()).collect()
}

/// (channels, positions) of relu1_1 .. relu5_1 at 512 px.
const LAYER_SHAPES: [(&str, usize, usize); 5] = [
    ("relu1_1", 64, 512 * 512),
    ("relu2_1", 128, 256 * 256),
    ("relu3_1", 256, 128 * 128),
    ("relu4_1", 512, 64 * 64),
    ("relu5_1", 512, 32 * 32),
];

fn gram_and_style_gradient(c: &mut Criterion) {
    let mut group = c.benchmark_group("gram_512px");
    group.sample_size(10);
    for (name, channels, positions) in LAYER_SHAPES {
        let features = values(channels * positions, 1);
        let mut out = vec![0.0; channels * channels];
        group.throughput(Throughput::Elements((2 * channels * channels * positions) as u64));
        group.bench_with_input(BenchmarkId::new("gram", name), &(), |b, _| {
            b.iter(|| gram(&features, channels, positions, &mut out))
        });
        let target = StyleTarget::from_features(&values(channels * positions, 2), channels, positions, positions);
        let mut gradient = vec![0.0; channels * positions];
        group.throughput(Throughput::Elements((4 * channels * channels * positions) as u64));
        group.bench_with_input(BenchmarkId::new("style_loss_and_gradient", name), &(), |b, _| {
            b.iter(|| style_loss(&features, positions, &target, 1.0, &mut out, false, &mut gradient))
        });
    }
    group.finish();
}

fn settings() -> LossSettings {
    LossSettings {
        content_layer: Layer::parse("relu4_2").unwrap(),
        content_weight: 1.0,
        style_layers: ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
            .iter()
            .map(|n| (Layer::parse(n).unwrap(), 0.2))
            .collect(),
        style_weight: 1e7,
        tv_weight: 1.0,
    }
}

fn preset_settings(losses: LossSettings) -> nst::stylize::Settings {
    let mut preset = nst::preset::load_preset(
        "mosaic",
        Some(&PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("presets")),
    )
    .unwrap();
    preset.settings.losses = losses;
    preset.settings
}

fn noise(size: usize, seed: u64) -> Planar {
    Planar { width: size, height: size, rgb: values(3 * size * size, seed), alpha: None }
}

fn evaluation_and_step(c: &mut Criterion) {
    environment(Some(&ort_library())).expect("ONNX Runtime: run scripts/setup");
    let settings = preset_settings(settings());
    let mut group = c.benchmark_group("evaluation");
    group.sample_size(10);
    // The default mode (Rust losses between a forward and a backward graph) and low-memory mode (the evaluation
    // graph, no arena).
    for (name, low_memory) in [("forward_losses_backward", false), ("evaluation_graph_low_memory", true)] {
        let config = EngineConfig { provider: Provider::Cpu, low_memory, ..EngineConfig::default() };
        let mut engine = Engine::new(&config).unwrap();
        for size in [128usize, 256, 512] {
            let network = engine.network_for(&settings).unwrap();
            let mut pass = network.pass(size, size).unwrap();
            let targets = Targets::compute(
                network,
                &mut pass,
                &settings.losses,
                &noise(size, 1),
                &[(noise(size, 2), 1.0)],
                &Default::default(),
            )
            .unwrap();
            let mut objective = StyleObjective::new(network, pass, settings.losses.clone(), targets).unwrap();
            let image = noise(size, 3).rgb;
            let mut gradient = vec![0.0; image.len()];
            group.bench_with_input(BenchmarkId::new(name, size), &(), |b, _| {
                b.iter(|| objective.evaluate_terms(&image, &mut gradient).unwrap())
            });
            if size == 128 && !low_memory {
                let lbfgs = Optimiser::Lbfgs(Lbfgs { history: 10, line_search: false });
                group.bench_with_input(BenchmarkId::new("lbfgs_step", size), &(), |b, _| {
                    b.iter(|| {
                        let mut x = image.clone();
                        lbfgs.minimise(&mut x, 1, &mut objective, &mut |_, _| Control::Continue).unwrap()
                    })
                });
            }
        }
    }
    group.finish();
}

/// `sum_i c_i (x_i - t_i)^2` over an image-sized vector: one pass per evaluation.
struct Bowl {
    curvature: Vec<f32>,
}

impl nst::optim::Differentiable for Bowl {
    fn evaluate(&mut self, x: &[f32], gradient: &mut [f32]) -> nst::Result<f64> {
        let mut loss = 0.0f64;
        for ((g, xi), c) in gradient.iter_mut().zip(x).zip(&self.curvature) {
            let d = xi - 0.5;
            *g = 2.0 * c * d;
            loss += (c * d * d) as f64;
        }
        Ok(loss)
    }
}

fn optimiser_overhead(c: &mut Criterion) {
    let n = 3 * 1024 * 1024;
    let mut bowl = Bowl { curvature: values(n, 7).iter().map(|v| 0.1 + v).collect() };
    let start = values(n, 8);
    let lbfgs = Optimiser::Lbfgs(Lbfgs { history: 10, line_search: false });
    let mut group = c.benchmark_group("optimiser_1024px");
    group.sample_size(10);
    // 12 iterations: the history fills after 10, so most iterations run the full two-loop recursion.
    group.bench_function("lbfgs_12_iterations", |b| {
        b.iter(|| {
            let mut x = start.clone();
            lbfgs.minimise(&mut x, 12, &mut bowl, &mut |_, _| Control::Continue).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, gram_and_style_gradient, evaluation_and_step, optimiser_overhead);
criterion_main!(benches);
