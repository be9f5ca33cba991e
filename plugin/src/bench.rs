//! Measuring an evaluation against what its convolutions must cost on this machine.
//!
//! The floor is the convolution FLOP count (forward and input-gradient passes) divided by the fp32 matrix-product
//! peak of whatever runs the graphs, measured in the same run: faer on every core for the CPU provider, a
//! matrix-product graph on the device for a GPU one. `ratio_to_floor` says how far an evaluation is from it.

use std::time::Instant;

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use nst_onnx::Vgg19;
use nst_onnx::graph::encode;
use nst_onnx::probe::{PROBE_SCALE, PROBE_SUM, matmul_probe};
use nst_onnx::random::SplitMix64;
use ort::environment::Environment;
use ort::value::Tensor;

use crate::error::{EngineError, Result, ort_context};
use crate::image_io::Planar;
use crate::losses::LossSettings;
use crate::objective::StyleObjective;
use crate::runtime::{Provider, SessionOptions, open_session};
use crate::stylize::{Engine, Settings};
use crate::targets::Targets;

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
    /// The fp32 matrix-product peak of what runs the graphs (this machine's cores, or the GPU), measured now.
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

/// The best of several timed fp32 `n x n` matrix products run by ONNX Runtime on `provider`, in GFLOP/s.
///
/// The factors are drawn on the device and only a scalar comes back, so the time is the product's own (the
/// result's read-back is a synchronisation, not a transfer).
pub fn provider_matmul_peak_gflops(env: &Environment, options: SessionOptions, n: usize) -> Result<f64> {
    // A named provider that cannot run is an error from `open_session`, so the probe runs where asked.
    let (mut session, _) = open_session(env, &encode(&matmul_probe(n)), options)?;
    let context = || ort_context("running the matrix-product probe");
    let scale = Tensor::<f32>::from_array(([1usize], vec![1.0f32])).map_err(context())?;
    let mut best = f64::INFINITY;
    for run in 0..8 {
        let start = Instant::now();
        let outputs = session.run(ort::inputs![PROBE_SCALE => &scale]).map_err(context())?;
        let (_, sum) = outputs[PROBE_SUM].try_extract_tensor::<f32>().map_err(context())?;
        // Every entry of the product is positive: a non-finite or non-positive sum means the run went wrong.
        if !(sum[0].is_finite() && sum[0] > 0.0) {
            return Err(EngineError::Internal(format!("the matrix-product probe returned {}", sum[0])));
        }
        // The first runs choose kernels and allocate; they are warm-up.
        if run >= 2 {
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    Ok(2.0 * (n as f64).powi(3) / best / 1e9)
}

/// Side of the GPU probe's matrices: large enough to fill a data-centre GPU, 3 x 256 MiB of device memory.
const DEVICE_PROBE_SIDE: usize = 8192;

fn noise(size: usize, seed: u64) -> Planar {
    let mut rng = SplitMix64(seed);
    Planar { width: size, height: size, rgb: (0..3 * size * size).map(|_| rng.unit()).collect(), alpha: None }
}

impl Engine {
    /// Times `evaluations` evaluations (after two warm-up ones) of `settings`' objective on `size` x `size` noise
    /// images, and measures the peak of the provider the graphs run on ([`matmul_peak_gflops`] on the CPU,
    /// [`provider_matmul_peak_gflops`] on a GPU).
    pub fn benchmark(&mut self, settings: &Settings, size: usize, evaluations: usize) -> Result<Benchmark> {
        let size = crate::stylize::working_side(size);
        let losses: LossSettings = settings.losses.clone();
        let deepest = *losses.taps().iter().max().expect("losses have taps");
        self.check_memory(deepest, size, size)?;
        let provider = self.network_for(settings)?.provider();
        let peak_gflops = match provider {
            Provider::Cpu | Provider::Auto => matmul_peak_gflops(),
            gpu => {
                let options = SessionOptions { provider: gpu, ..self.session_options() };
                provider_matmul_peak_gflops(self.environment(), options, DEVICE_PROBE_SIDE)?
            }
        };
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
        let mut objective = StyleObjective::new(network, pass, losses, targets)?;
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
            peak_rss_mb: crate::platform::peak_resident_mib().unwrap_or(0.0),
            saved_activations_mb: crate::fit::memory::saved_activations_bytes(deepest, size, size) as f64
                / (1024.0 * 1024.0),
        })
    }
}
