//! Measuring an evaluation against what its convolutions must cost on this machine.
//!
//! The floor is the convolution FLOP count (forward and input-gradient passes) divided by this machine's fp32
//! matrix-product peak, measured in the same run; `ratio_to_floor` says how far an evaluation is from it.

use std::time::Instant;

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use nst_onnx::Vgg19;
use nst_onnx::random::SplitMix64;

use crate::error::Result;
use crate::image_io::Planar;
use crate::objective::{LossSettings, StyleObjective, Targets};
use crate::stylize::{Engine, Settings};

/// One size's measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Benchmark {
    /// Image side in pixels (square).
    pub size: usize,
    /// Median seconds of one evaluation (forward, losses, backward) after warm-up.
    pub seconds_per_evaluation: f64,
    /// Convolution GFLOP of one evaluation (forward + input-gradient).
    pub conv_gflop: f64,
    /// `conv_gflop / seconds_per_evaluation`.
    pub achieved_gflops: f64,
    /// This machine's fp32 matrix-product peak, measured now.
    pub peak_gflops: f64,
    /// Evaluation time over `conv_gflop / peak_gflops`.
    pub ratio_to_floor: f64,
    /// Share of the evaluation spent in Rust (losses, gradients, copies).
    pub rust_share: f64,
    /// The process's peak resident memory so far, MiB.
    pub peak_rss_mb: f64,
    /// Size of the feature maps the forward graph saves for the backward one, MiB.
    pub saved_activations_mb: f64,
}

impl Benchmark {
    /// The measurement as a JSON object with the field names above.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"size\":{},\"seconds_per_evaluation\":{:.6},\"conv_gflop\":{:.3},\"achieved_gflops\":{:.2},\"peak_gflops\":{:.2},\"ratio_to_floor\":{:.4},\"rust_share\":{:.4},\"peak_rss_mb\":{:.1},\"saved_activations_mb\":{:.1}}}",
            self.size,
            self.seconds_per_evaluation,
            self.conv_gflop,
            self.achieved_gflops,
            self.peak_gflops,
            self.ratio_to_floor,
            self.rust_share,
            self.peak_rss_mb,
            self.saved_activations_mb
        )
    }
}

/// The best of several timed fp32 1024^3 matrix products on every core, in GFLOP/s.
pub fn matmul_peak_gflops() -> f64 {
    let n = 1024;
    let a = Mat::<f32>::from_fn(n, n, |i, j| ((i * 31 + j * 17) % 97) as f32 / 97.0);
    let b = Mat::<f32>::from_fn(n, n, |i, j| ((i * 13 + j * 7) % 89) as f32 / 89.0);
    let mut c = Mat::<f32>::zeros(n, n);
    let mut best = f64::INFINITY;
    for _ in 0..6 {
        let start = Instant::now();
        matmul(c.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), 1.0, Par::rayon(0));
        best = best.min(start.elapsed().as_secs_f64());
    }
    2.0 * (n as f64).powi(3) / best / 1e9
}

/// The process's peak resident set size in MiB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

fn noise(size: usize, seed: u64) -> Planar {
    let mut rng = SplitMix64(seed);
    Planar { width: size, height: size, rgb: (0..3 * size * size).map(|_| rng.unit()).collect(), alpha: None }
}

impl Engine {
    /// Times `evaluations` evaluations (after two warm-up ones) of `settings`' objective on `size` x `size` noise
    /// images; `peak_gflops` is measured once by the caller ([`matmul_peak_gflops`]).
    pub fn benchmark(
        &mut self,
        settings: &Settings,
        size: usize,
        evaluations: usize,
        peak_gflops: f64,
    ) -> Result<Benchmark> {
        let size = crate::stylize::working_side(size);
        let losses: LossSettings = settings.losses.clone();
        let deepest = *losses.taps().iter().max().expect("losses have taps");
        self.check_memory(deepest, size, size)?;
        let network = self.network_for(settings)?;
        let mut pass = network.pass(size, size)?;
        let targets = Targets::compute(
            network,
            &mut pass,
            &losses,
            &noise(size, 1),
            &[(noise(size, 2), 1.0)],
            &Default::default(),
        )?;
        let mut objective = StyleObjective::new(network, pass, losses, targets);
        let image = noise(size, 3).rgb;
        let mut gradient = vec![0.0; image.len()];
        for _ in 0..2 {
            objective.evaluate_terms(&image, &mut gradient)?;
        }
        let warm = objective.phase_times();
        let mut times = Vec::with_capacity(evaluations);
        for _ in 0..evaluations.max(1) {
            let start = Instant::now();
            objective.evaluate_terms(&image, &mut gradient)?;
            times.push(start.elapsed().as_secs_f64());
        }
        let phases = objective.phase_times();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let conv_gflop = 2.0 * Vgg19::forward_flops(deepest, size, size) / 1e9;
        let rust = phases.rust - warm.rust;
        let graphs = phases.graphs - warm.graphs;
        Ok(Benchmark {
            size,
            seconds_per_evaluation: median,
            conv_gflop,
            achieved_gflops: conv_gflop / median,
            peak_gflops,
            ratio_to_floor: median / (conv_gflop / peak_gflops),
            rust_share: rust / (rust + graphs),
            peak_rss_mb: peak_rss_mb(),
            saved_activations_mb: crate::memory::saved_activations_bytes(deepest, size, size) as f64
                / (1024.0 * 1024.0),
        })
    }
}
