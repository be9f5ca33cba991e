//! The whole run: size the images, build (or reuse) the network, compute targets, optimise, resize back.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use nst_onnx::import::load_vgg19;
use nst_onnx::random::{SplitMix64, random_vgg19_through};
use nst_onnx::{Layer, Pooling, Vgg19};
use ort::environment::Environment;

use crate::cache::Lru;
use crate::colour::{ColourControl, join_luminance_with_chroma, luminance_image, match_colours};
use crate::error::{EngineError, Result};
use crate::image_io::Planar;
use crate::losses::LossSettings;
use crate::losses::LossTerms;
use crate::memory::{Fit, MemoryMode, budget_mib, check_budget, plan};
pub use crate::model::ModelChoice;
use crate::network::{LossPlacement, Network};
use crate::objective::StyleObjective;
use crate::optim::{Control, Optimiser};
use crate::runtime::{Provider, SessionOptions, environment, probe_provider};
use crate::targets::{StyleGrams, Targets, WorkingMasks, check_mask_count};
use crate::tiled_run::{ScaleStep, TiledScale, tiled_iterations};
use crate::tiling::overlap_for;
use nst_sys::limits;

/// Where the optimisation starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// The content image (fastest to converge; keeps the layout).
    Content,
    /// Uniform noise in [0, 1] from the run's seed (the paper's white-noise start).
    Noise,
    /// A given image, resized to the working size.
    Image(Planar),
}

/// Everything that shapes one run, resolved from a preset and its overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Layers and weights of the losses.
    pub losses: LossSettings,
    /// The optimiser.
    pub optimiser: Optimiser,
    /// Optimiser iterations ([`limits::ITERATIONS`]).
    pub iterations: usize,
    /// Long side of the output in pixels ([`limits::SIZE`]); `None` keeps the content's size.
    pub size: Option<usize>,
    /// Style image size relative to the output ([`limits::STYLE_SCALE`]).
    pub style_scale: f32,
    /// Pooling between VGG blocks.
    pub pooling: Pooling,
    /// Starting image.
    pub init: Init,
    /// Seed of the noise start.
    pub seed: u64,
    /// The network's weights.
    pub model: ModelChoice,
    /// Colour control (luminance-only transfer, style colour matching).
    pub colour: ColourControl,
    /// Coarse-to-fine schedule (one scale: off).
    pub multiscale: Multiscale,
    /// Deliver a low-resolution preview of the current result after this iteration (counted over all scales).
    pub preview_iteration: Option<usize>,
    /// A ceiling on the engine's memory budget for this run, MiB (the lower of the two applies): images over it
    /// are optimised in tiles.
    pub memory_budget_mb: Option<u64>,
    /// Where each style applies and how strongly the content holds.
    pub spatial: SpatialControl,
}

/// Spatial control (Gatys et al. 2017): masks over the content image, read as grey (white = 1). They are
/// resized with the content, so any resolution works.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpatialControl {
    /// One mask per style image (where that style applies, by guided Gram matrices), or empty: every style
    /// everywhere, blended.
    pub style_masks: Vec<Planar>,
    /// Per-pixel content weight (white: the full content weight, black: none); `None`: uniform.
    pub content_mask: Option<Planar>,
}

impl SpatialControl {
    /// The masks at the working size, as grey planes in [0, 1].
    fn at(&self, width: usize, height: usize) -> WorkingMasks {
        let grey = |mask: &Planar| -> Vec<f32> {
            let sized = mask.resized(width, height);
            let plane = width * height;
            (0..plane)
                .map(|i| ((sized.rgb[i] + sized.rgb[plane + i] + sized.rgb[2 * plane + i]) / 3.0).clamp(0.0, 1.0))
                .collect()
        };
        WorkingMasks {
            style: self.style_masks.iter().map(grey).collect(),
            content: self.content_mask.as_ref().map(grey),
        }
    }
}

/// Long side of previews, in pixels.
pub(crate) const PREVIEW_SIDE: usize = 256;

/// Coarse-to-fine optimisation: start small, grow by `factor` up to the output size, each scale starting from
/// the previous result upsampled. Coarse scales are cheap and shape the large structures: from a noise start it
/// reaches a given full-size loss sooner than a single scale; from the content start it does not (measured in
/// docs/performance.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Multiscale {
    /// Number of scales ([`limits::SCALES`]); 1 optimises at the output size only.
    pub scales: usize,
    /// Size ratio between neighbouring scales ([`limits::SCALE_FACTOR`]; about sqrt 2 by default).
    pub factor: f32,
    /// Iterations per scale, coarse to fine; missing entries repeat the last; empty: `Settings::iterations` each.
    pub iterations: Vec<usize>,
}

impl Default for Multiscale {
    fn default() -> Self {
        Multiscale { scales: 1, factor: std::f32::consts::SQRT_2, iterations: Vec::new() }
    }
}

impl Multiscale {
    /// (working width, working height, iterations) of each scale, coarse to fine, for an output of `out_w` x
    /// `out_h` optimised with `iterations` when no per-scale list is given.
    pub fn schedule(&self, out_w: usize, out_h: usize, iterations: usize) -> Vec<(usize, usize, usize)> {
        (0..self.scales)
            .map(|k| {
                let shrink = (self.factor as f64).powi((self.scales - 1 - k) as i32);
                let long = ((out_w.max(out_h) as f64 / shrink).round() as usize).max(32);
                let (w, h) = output_size(out_w, out_h, Some(long));
                let its = if self.iterations.is_empty() {
                    iterations
                } else {
                    *self.iterations.get(k).or(self.iterations.last()).expect("not empty")
                };
                (working_side(w), working_side(h), its)
            })
            .collect()
    }
}

/// How the engine is set up (once, for many runs).
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// ONNX Runtime library path; searched for when `None` (see [`crate::runtime::locate_onnxruntime`]).
    pub ort_library: Option<PathBuf>,
    /// Requested execution provider.
    pub provider: Provider,
    /// Threads for ONNX Runtime and the Rust-side products; 0 means every core.
    pub threads: usize,
    /// Turn ONNX Runtime's CPU memory arena and blocked layout off: about half the peak memory, 25-60% slower.
    pub low_memory: bool,
    /// Runs estimated to need more memory (MiB) are refused before any allocation; `None`: 80% of the memory
    /// available when each run starts.
    pub memory_budget_mb: Option<u64>,
    /// Where the losses run (default: as a graph on a GPU, in Rust on the CPU).
    pub losses: LossPlacement,
}

/// Progress of a run, reported after each iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Iterations done (1-based).
    pub iteration: usize,
    /// Iterations in the run.
    pub total: usize,
    /// The loss terms of the latest evaluation.
    pub terms: LossTerms,
    /// Objective evaluations so far.
    pub evaluations: usize,
}

/// The result of a run, with what ran.
#[derive(Debug, Clone)]
pub struct Stylized {
    /// The output at the requested size, alpha carried over from the content.
    pub image: Planar,
    /// The final loss terms.
    pub terms: LossTerms,
    /// The execution provider that ran the graphs.
    pub provider: Provider,
    /// Which model ran.
    pub model: String,
    /// The size the optimisation worked at (multiples of 16).
    pub working_size: (usize, usize),
    /// The tile size when the last scale did not fit the memory budget whole; `None`: optimised whole.
    pub tile: Option<(usize, usize)>,
    /// Iterations and evaluations done.
    pub iterations: usize,
    /// Objective evaluations done.
    pub evaluations: usize,
    /// Wall time of the run in seconds.
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct NetworkKey {
    model: ModelChoice,
    taps: Vec<Layer>,
    pooling: Pooling,
}

impl NetworkKey {
    /// The network `settings` run on.
    fn of(settings: &Settings) -> Self {
        NetworkKey { model: settings.model.clone(), taps: settings.losses.taps(), pooling: settings.pooling }
    }
}

/// Models an engine keeps between runs (weights, about 80 MB each for the whole VGG19).
const CACHED_MODELS: usize = 2;
/// Networks (graph sessions of a model, taps and pooling) an engine keeps between runs.
const CACHED_NETWORKS: usize = 2;

/// The engine: ONNX Runtime loaded once, the models and graph sessions of its recent runs cached (a few, see
/// [`CACHED_NETWORKS`]).
pub struct Engine {
    env: Environment,
    ort_library: PathBuf,
    options: SessionOptions,
    models: Lru<(ModelChoice, Layer), Arc<Vgg19>>,
    networks: Lru<NetworkKey, Network>,
    memory_budget_mb: Option<u64>,
    losses: LossPlacement,
}

/// Rounds to a multiple of 16, at least 16 (the four 2x2 pools before relu5_1 need it).
pub fn working_side(side: usize) -> usize {
    (((side as f64) / 16.0).round() as usize).max(1) * 16
}

/// A style image's working size: its long side `style_scale` times the working image's, its own aspect kept.
fn style_working_size(style: &Planar, work_w: usize, work_h: usize, style_scale: f32) -> (usize, usize) {
    let long = (work_w.max(work_h) as f32 * style_scale).round() as usize;
    let (w, h) = output_size(style.width, style.height, Some(long));
    (working_side(w), working_side(h))
}

/// The output size for a `width x height` content and a requested long side.
pub fn output_size(width: usize, height: usize, long_side: Option<usize>) -> (usize, usize) {
    let Some(long) = long_side else { return (width, height) };
    let scale = long as f64 / width.max(height) as f64;
    (((width as f64 * scale).round() as usize).max(1), ((height as f64 * scale).round() as usize).max(1))
}

impl Engine {
    /// Loads ONNX Runtime (once per process) and prepares the engine.
    pub fn new(config: &EngineConfig) -> Result<Self> {
        let threads = match config.threads {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n if n <= 256 => n,
            n => return Err(EngineError::InvalidArgument(format!("threads {n} is outside 0..=256"))),
        };
        let (env, ort_library) = environment(config.ort_library.as_deref())?;
        let options = SessionOptions { provider: config.provider, threads, low_memory: config.low_memory };
        probe_provider(&env, options)?;
        Ok(Engine {
            env,
            ort_library,
            options,
            models: Lru::new(CACHED_MODELS),
            networks: Lru::new(CACHED_NETWORKS),
            memory_budget_mb: config.memory_budget_mb,
            losses: config.losses,
        })
    }

    /// How a `width x height` optimisation through `deepest` fits the memory budget: whole, in tiles, or not
    /// at all (an error naming the largest size that would). A budget someone set (the engine's or the run's)
    /// also pays for what the caches hold besides `settings`' network; the default one, a share of the memory
    /// available now, has already seen them.
    pub fn plan_memory(&self, deepest: Layer, width: usize, height: usize, settings: &Settings) -> Result<Fit> {
        let mode = self.memory_mode();
        let set = match (self.memory_budget_mb, settings.memory_budget_mb) {
            (Some(engine), Some(run)) => Some(engine.min(run) as f64),
            (engine, run) => engine.or(run).map(|mib| mib as f64),
        };
        let budget = match set {
            Some(mib) => Some((mib - self.cached_mib_besides(settings)).max(0.0)),
            None => budget_mib(None),
        };
        plan(deepest, width, height, mode, budget)
    }

    /// MiB the caches hold for networks other than `settings`' (models held by no cached network included).
    fn cached_mib_besides(&self, settings: &Settings) -> f64 {
        let key = NetworkKey::of(settings);
        let networks: f64 = self.networks.iter().filter(|(k, _)| **k != key).map(|(_, n)| n.resident_mib()).sum();
        let loose_models: f64 = self
            .models
            .iter()
            .filter(|(_, model)| Arc::strong_count(model) == 1)
            .map(|(_, model)| {
                model.convs.iter().map(|c| c.weight.len() + c.bias.len()).sum::<usize>() as f64 * 4.0 / 1048576.0
            })
            .sum();
        networks + loose_models
    }

    /// Drops the cached networks and models `settings` does not use when a budget someone set would otherwise
    /// make its run tile or fail: the caches give way to the work.
    fn yield_caches_to(&mut self, settings: &Settings, deepest: Layer, width: usize, height: usize) {
        if self.memory_budget_mb.or(settings.memory_budget_mb).is_none() || self.cached_mib_besides(settings) == 0.0 {
            return;
        }
        if matches!(self.plan_memory(deepest, width, height, settings), Ok(Fit::Whole)) {
            return;
        }
        let key = NetworkKey::of(settings);
        self.networks.retain(|k| *k == key);
        self.models.retain(|(choice, _)| *choice == settings.model);
    }

    /// Refuses a whole-image `width x height` optimisation through `deepest` that would not fit the budget.
    pub fn check_memory(&self, deepest: Layer, width: usize, height: usize) -> Result<()> {
        check_budget(deepest, width, height, self.memory_mode(), budget_mib(self.memory_budget_mb))
    }

    /// How the sessions use host memory: low-memory mode runs the evaluation graph unless told to keep the
    /// losses in Rust.
    fn memory_mode(&self) -> MemoryMode {
        match (self.options.low_memory, self.losses) {
            (false, _) => MemoryMode::Arena,
            (true, LossPlacement::Rust) => MemoryMode::LowMemorySeparate,
            (true, _) => MemoryMode::LowMemoryEvaluation,
        }
    }

    /// The ONNX Runtime environment sessions are opened in.
    pub(crate) fn environment(&self) -> &Environment {
        &self.env
    }

    /// How this engine opens sessions (provider, threads, memory arena).
    pub(crate) fn session_options(&self) -> SessionOptions {
        self.options
    }

    /// The ONNX Runtime library in use.
    pub fn ort_library(&self) -> &std::path::Path {
        &self.ort_library
    }

    /// The model's weights through `deepest` (built-in weights are only drawn as deep as the graphs go).
    fn model(&mut self, choice: &ModelChoice, deepest: Layer) -> Result<Arc<Vgg19>> {
        let key = (
            choice.clone(),
            if matches!(choice, ModelChoice::File(_)) { Layer::from_index(15).expect("16 layers") } else { deepest },
        );
        if let Some(model) = self.models.get(&key) {
            return Ok(model.clone());
        }
        let model = Arc::new(match choice {
            ModelChoice::BuiltIn { seed } => random_vgg19_through(*seed, deepest),
            ModelChoice::File(path) => load_vgg19(path)?,
        });
        self.models.insert(key, model.clone());
        Ok(model)
    }

    /// Reads `choice`'s weights now, so that a model file that is missing or not a VGG19 is reported when it is
    /// configured rather than at the first run; the weights stay cached for that run.
    pub fn preload(&mut self, choice: &ModelChoice) -> Result<()> {
        match choice {
            ModelChoice::File(_) => self.model(choice, Layer::from_index(15).expect("16 layers")).map(|_| ()),
            ModelChoice::BuiltIn { .. } => Ok(()),
        }
    }

    /// Drops the cached models and sessions: the next run builds its own again.
    pub fn trim(&mut self) {
        self.networks.clear();
        self.models.clear();
    }

    /// The network for `settings`, built on first use and cached.
    pub fn network_for(&mut self, settings: &Settings) -> Result<&mut Network> {
        let key = NetworkKey::of(settings);
        if self.networks.get(&key).is_none() {
            let deepest =
                *key.taps.iter().max().ok_or_else(|| EngineError::InvalidArgument("no loss layers".into()))?;
            let model = self.model(&settings.model, deepest)?;
            let network = Network::new(&self.env, &model, &key.taps, key.pooling, self.options, self.losses)?;
            return Ok(self.networks.insert(key, network));
        }
        Ok(self.networks.get(&key).expect("present"))
    }

    /// Stylizes `content` with `styles` (images with blend weights), calling `observe` after each iteration;
    /// [`Control::Cancel`] ends the run with [`EngineError::Cancelled`].
    pub fn stylize(
        &mut self,
        content: &Planar,
        styles: &[(Planar, f32)],
        settings: &Settings,
        observe: &mut dyn FnMut(&Progress) -> Control,
    ) -> Result<Stylized> {
        self.stylize_with_preview(content, styles, settings, observe, &mut |_| {})
    }

    /// [`Engine::stylize`], also handing `preview` the current result (long side at most [`PREVIEW_SIDE`],
    /// the output's aspect, the content's chroma when keeping colours) after `settings.preview_iteration`.
    pub fn stylize_with_preview(
        &mut self,
        content: &Planar,
        styles: &[(Planar, f32)],
        settings: &Settings,
        observe: &mut dyn FnMut(&Progress) -> Control,
        preview: &mut dyn FnMut(&Planar),
    ) -> Result<Stylized> {
        validate(content, styles, settings)?;
        let started = Instant::now();
        let (out_w, out_h) = output_size(content.width, content.height, settings.size);
        let colour = settings.colour;
        let schedule = settings.multiscale.schedule(out_w, out_h, settings.iterations);
        let deepest = *settings
            .losses
            .taps()
            .iter()
            .max()
            .ok_or_else(|| EngineError::InvalidArgument("no loss layers".into()))?;
        // Every scale and style image is planned against the memory budget before any work.
        if let Some(&(w, h, _)) = schedule.last() {
            self.yield_caches_to(settings, deepest, w, h);
        }
        let mut plans = Vec::with_capacity(schedule.len());
        for &(work_w, work_h, _) in &schedule {
            let fit = self.plan_memory(deepest, work_w, work_h, settings)?;
            let style_fits = styles
                .iter()
                .map(|(style, _)| {
                    let (w, h) = style_working_size(style, work_w, work_h, settings.style_scale);
                    Ok(((w, h), self.plan_memory(deepest, w, h, settings)?))
                })
                .collect::<Result<Vec<_>>>()?;
            plans.push((fit, style_fits));
        }
        let total: usize = schedule
            .iter()
            .zip(&plans)
            .map(|(&(w, h, its), (fit, _))| match fit {
                Fit::Whole => its,
                Fit::Tiles(tile) => tiled_iterations(w, h, *tile, its),
            })
            .sum();
        if let Some(at) = settings.preview_iteration.filter(|&at| at == 0 || at > total) {
            return Err(EngineError::InvalidArgument(format!(
                "preview iteration {at} is outside the run's iterations 1..={total}"
            )));
        }
        let (mut done, mut evaluations) = (0, 0);
        let mut previous: Option<Planar> = None;
        let mut terms = LossTerms::default();
        let (mut provider, mut model) = (Provider::Cpu, String::new());
        for (&(work_w, work_h, scale_iterations), (fit, style_fits)) in schedule.iter().zip(&plans) {
            let content_sized = content.resized(work_w, work_h);
            // Luminance-only transfer optimises a grey image; the content's chroma is joined back at the end.
            let optimised_content =
                if colour.keep_content_colours { luminance_image(&content_sized) } else { content_sized.clone() };
            let mut x = match (&previous, &settings.init) {
                (Some(coarser), _) => coarser.resized(work_w, work_h).rgb,
                (None, Init::Content) => optimised_content.rgb.clone(),
                (None, Init::Noise) => {
                    let mut rng = SplitMix64(settings.seed);
                    (0..3 * work_w * work_h).map(|_| rng.unit()).collect()
                }
                (None, Init::Image(image)) if colour.keep_content_colours => {
                    luminance_image(&image.resized(work_w, work_h)).rgb
                }
                (None, Init::Image(image)) => image.resized(work_w, work_h).rgb,
            };
            let mut style_grams = Vec::with_capacity(styles.len());
            for ((style, weight), &((w, h), style_fit)) in styles.iter().zip(style_fits) {
                let mut sized = style.resized(w, h);
                if colour.match_style_colours {
                    sized = match_colours(&sized, &content_sized);
                }
                if colour.keep_content_colours {
                    sized = luminance_image(&sized);
                }
                let network = self.network_for(settings)?;
                let grams = match style_fit {
                    Fit::Whole => StyleGrams::whole(network, &settings.losses, &sized)?,
                    Fit::Tiles(side) => StyleGrams::tiled(network, &settings.losses, &sized, side, overlap_for(side))?,
                };
                style_grams.push((grams, *weight));
            }

            // The loss terms are per position, so a coarse scale weighs them as the output does.
            let losses = settings.losses.clone();
            let network = self.network_for(settings)?;
            provider = network.provider();
            model = network.model_description().to_string();
            let masks = settings.spatial.at(work_w, work_h);
            let offset = (done, evaluations);
            let mut on_step = |step: &ScaleStep| {
                done = offset.0 + step.iteration;
                if settings.preview_iteration == Some(done) {
                    let mut image = Planar { width: work_w, height: work_h, rgb: step.image.to_vec(), alpha: None };
                    if colour.keep_content_colours {
                        image = join_luminance_with_chroma(&image, &content_sized);
                    }
                    let (w, h) = output_size(out_w, out_h, Some(out_w.max(out_h).min(PREVIEW_SIDE)));
                    preview(&image.resized(w, h));
                }
                observe(&Progress {
                    iteration: done,
                    total,
                    terms: step.terms,
                    evaluations: offset.1 + step.evaluations,
                })
            };
            let (scale_evaluations, scale_terms) = match fit {
                Fit::Whole => {
                    let mut pass = network.pass(work_h, work_w)?;
                    let targets =
                        Targets::from_grams(network, &mut pass, &losses, &optimised_content, &style_grams, &masks)?;
                    let mut objective = StyleObjective::new(network, pass, losses.clone(), targets)?;
                    let latest = objective.latest_terms();
                    let evaluations = settings.optimiser.minimise(
                        &mut x,
                        scale_iterations,
                        &mut objective,
                        &mut |step, current| {
                            on_step(&ScaleStep {
                                iteration: step.iteration,
                                evaluations: step.evaluations,
                                terms: latest.get(),
                                image: current,
                            })
                        },
                    )?;
                    (evaluations, latest.get())
                }
                Fit::Tiles(side) => {
                    let scale = TiledScale {
                        losses: &losses,
                        optimiser: &settings.optimiser,
                        content: &optimised_content,
                        styles: &style_grams,
                        masks: &masks,
                        tile: ((*side).min(work_w), (*side).min(work_h)),
                        iterations: scale_iterations,
                    };
                    scale.optimise(network, &mut x, work_w, work_h, &mut on_step)?
                }
            };
            evaluations += scale_evaluations;
            terms = scale_terms;
            previous = Some(Planar { width: work_w, height: work_h, rgb: x, alpha: None });
        }
        let (work_w, work_h, _) = *schedule.last().expect("at least one scale");
        let tile = match plans.last().expect("one plan per scale").0 {
            Fit::Whole => None,
            Fit::Tiles(side) => Some((side.min(work_w), side.min(work_h))),
        };
        let iterations = done;
        let mut result = previous.expect("at least one scale");
        if colour.keep_content_colours {
            result = join_luminance_with_chroma(&result, &content.resized(work_w, work_h));
        }
        let mut result = result.resized(out_w, out_h);
        result.alpha = content.alpha.as_ref().map(|_| content.resized(out_w, out_h).alpha.expect("has alpha"));
        Ok(Stylized {
            image: result,
            terms,
            provider,
            model,
            working_size: (work_w, work_h),
            tile,
            iterations,
            evaluations,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

fn validate(content: &Planar, styles: &[(Planar, f32)], settings: &Settings) -> Result<()> {
    let invalid = EngineError::InvalidArgument;
    if styles.is_empty() {
        return Err(invalid("no style image given".into()));
    }
    if let Some((_, weight)) = styles.iter().find(|(_, w)| !(w.is_finite() && *w > 0.0)) {
        return Err(invalid(format!("style image weight {weight} must be positive")));
    }
    limits::ITERATIONS.check_count("iterations", settings.iterations).map_err(invalid)?;
    if let Some(size) = settings.size {
        limits::SIZE.check_count("size", size).map_err(invalid)?;
    }
    let multiscale = &settings.multiscale;
    limits::SCALES.check_count("multiscale scales", multiscale.scales).map_err(invalid)?;
    limits::SCALE_FACTOR.check("multiscale factor", multiscale.factor as f64).map_err(invalid)?;
    for &iterations in &multiscale.iterations {
        limits::ITERATIONS.check_count("multiscale iterations", iterations).map_err(invalid)?;
    }
    limits::STYLE_SCALE.check("style scale", settings.style_scale as f64).map_err(invalid)?;
    if content.width == 0 || content.height == 0 {
        return Err(invalid("the content image is empty".into()));
    }
    check_mask_count(settings.spatial.style_masks.len(), styles.len())
}
