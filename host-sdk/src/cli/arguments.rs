//! The arguments `nst stylize` and `nst batch` share: where the plugin is and how the engine runs, and what
//! each run changes of its preset.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use nst_host::{Engine, Overrides, Plugin};
use nst_onnx::store::is_model_name;
use nst_sys::limits;

use super::error::CliError;
use super::overwrite::FileRole;
use super::reading::read_image;

/// Where the plugin and ONNX Runtime are, and how the engine runs.
#[derive(Args, Clone)]
pub struct EngineArgs {
    /// The plugin library (default: NST_PLUGIN, then the plugin beside this program: libnst.so, nst.dll).
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// ONNX Runtime library (default: ORT_DYLIB_PATH, then beside the plugin).
    #[arg(long)]
    pub ort: Option<PathBuf>,
    /// Execution provider: auto, cpu, cuda or directml.
    #[arg(long, default_value = "auto")]
    pub provider: String,
    /// Threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: u32,
    /// Folder of bundled presets.
    #[arg(long)]
    pub presets_dir: Option<PathBuf>,
    /// Far less peak memory, somewhat slower: one evaluation graph that releases each feature map after its last use, ONNX Runtime's memory arena and blocked layout off.
    #[arg(long)]
    pub low_memory: bool,
    /// Memory budget in MiB: an image estimated to need more is optimised in overlapping tiles that fit, and
    /// refused before it starts only when not even one tile fits (default: 80% of the memory available when the
    /// run starts).
    #[arg(long, value_name = "MIB")]
    pub memory_budget: Option<u64>,
    /// Where the losses run: auto (in the evaluation graph on a GPU or with --low-memory, else in Rust), rust or graph.
    #[arg(long, default_value = "auto")]
    pub losses: String,
    /// The GPU by index: CUDA's device id, or DirectML's adapter in DXGI's order (default: CUDA's device 0, and
    /// for DirectML the high-performance GPU).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=255))]
    pub device: Option<u32>,
}

fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

impl EngineArgs {
    /// Loads the plugin and creates its engine.
    /// The plugin library (`--plugin`, else `NST_PLUGIN`, else beside this program).
    pub fn plugin(&self) -> Result<Plugin, CliError> {
        // The library named by --plugin or NST_PLUGIN, or the one installed beside this program, is taken to be
        // the nst plugin: that is what these settings are for; anything else fails the version check.
        Ok(match &self.plugin {
            // SAFETY: as said above.
            Some(path) => unsafe { Plugin::load(path) }?,
            // SAFETY: as said above.
            None => unsafe { Plugin::load_default() }?,
        })
    }

    pub fn open(&self) -> Result<(Plugin, Engine), CliError> {
        let plugin = self.plugin()?;
        let mut config = format!(
            "provider = {}\nthreads = {}\nlow_memory = {}\nlosses = {}\n",
            toml_string(&self.provider),
            self.threads,
            self.low_memory,
            toml_string(&self.losses)
        );
        if let Some(device) = self.device {
            config += &format!("device = {device}\n");
        }
        if let Some(ort) = &self.ort {
            let absolute = std::path::absolute(ort).unwrap_or_else(|_| ort.clone());
            config += &format!("ort_library = {}\n", toml_string(&absolute.display().to_string()));
        }
        if let Some(dir) = &self.presets_dir {
            config += &format!("presets_dir = {}\n", toml_string(&dir.display().to_string()));
        }
        if let Some(budget) = self.memory_budget {
            config += &format!("memory_budget_mb = {budget}\n");
        }
        super::reading::set_memory_budget(self.memory_budget);
        let engine = Engine::new(&plugin, &config)?;
        Ok((plugin, engine))
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PoolingArg {
    Max,
    Average,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum InitArg {
    Content,
    Noise,
}

/// Settings that override the preset's.
#[derive(Args, Clone, Default)]
pub struct RunArgs {
    /// Long side of the output in pixels (16..=8192; default: the preset's, else the content's).
    #[arg(long, allow_negative_numbers = true)]
    pub size: Option<u32>,
    /// Optimiser iterations (1..=10000).
    #[arg(long, allow_negative_numbers = true)]
    pub iterations: Option<u32>,
    /// Style image replacing the preset's (repeat for several, blended equally).
    #[arg(long = "style")]
    pub styles: Vec<PathBuf>,
    /// Style weight (beta), 0..=1e12.
    #[arg(long, allow_negative_numbers = true)]
    pub style_weight: Option<f64>,
    /// Strength: multiplies the style weight in use, the preset's or --style-weight's (0.01..=100).
    #[arg(long, allow_negative_numbers = true)]
    pub strength: Option<f64>,
    /// Seed of the noise start.
    #[arg(long)]
    pub seed: Option<u64>,
    /// `builtin` (seeded random VGG19), an installed model's name (`vgg19` after `nst model fetch`), or a VGG19
    /// file: .onnx (torchvision export, model zoo vgg19-7) or .safetensors (torchvision or timm names).
    #[arg(long)]
    pub model: Option<String>,
    /// Seed of the built-in model's weights.
    #[arg(long)]
    pub model_seed: Option<u64>,
    /// Pooling between VGG blocks.
    #[arg(long, value_enum)]
    pub pooling: Option<PoolingArg>,
    /// Start from the content or from noise.
    #[arg(long, value_enum)]
    pub init: Option<InitArg>,
    /// Write 16 bits per channel (PNG, TIFF).
    #[arg(long = "16-bit")]
    pub sixteen_bit: bool,
    /// Keep the content's colours: transfer luminance only.
    #[arg(long)]
    pub keep_colours: bool,
    /// Map the style's colour mean and covariance onto the content's first.
    #[arg(long)]
    pub match_colours: bool,
    /// Coarse-to-fine: optimise at N sizes growing by about sqrt 2 up to the output (1..=8; 1: output size only).
    #[arg(long, allow_negative_numbers = true)]
    pub scales: Option<u32>,
    /// Blend weights of the --style images, comma-separated, one each (e.g. 0.7,0.3).
    #[arg(long, value_delimiter = ',')]
    pub style_blend: Vec<f32>,
    /// Style image size relative to the output (0.1..=4).
    #[arg(long, allow_negative_numbers = true)]
    pub style_scale: Option<f64>,
    /// Spatial control: a grey mask over the content per style image, in order (white: that style applies).
    /// Repeat once per style image in use.
    #[arg(long = "style-mask", value_name = "MASK")]
    pub style_masks: Vec<PathBuf>,
    /// Per-pixel content strength over the content: white keeps the content fully, black lets the style take
    /// over.
    #[arg(long, value_name = "MASK")]
    pub content_mask: Option<PathBuf>,
}

impl RunArgs {
    /// Refuses, before any work, a value outside the range its documentation gives (`nst_sys::limits`):
    /// the plugin reads 0 or -1 as "the preset's", so they must not get that far. `name` says how a message
    /// names a field: "--iterations", or "jobs file F, job 3 (line 9): iterations".
    pub fn check(&self, name: &dyn Fn(&str) -> String) -> Result<(), CliError> {
        let outside = |field: &str, value: &dyn std::fmt::Display, range: &dyn std::fmt::Display| {
            Err(CliError::Usage(format!("{} {value} is outside {range}", name(field))))
        };
        if let Some(size) = self.size.filter(|&v| !limits::SIZE.contains(v)) {
            return outside("size", &size, &limits::SIZE);
        }
        if let Some(iterations) = self.iterations.filter(|&v| !limits::ITERATIONS.contains(v)) {
            return outside("iterations", &iterations, &limits::ITERATIONS);
        }
        if let Some(weight) = self.style_weight.filter(|&v| !limits::STYLE_WEIGHT.contains(v)) {
            return outside("style-weight", &weight, &limits::STYLE_WEIGHT);
        }
        if let Some(strength) = self.strength.filter(|&v| !limits::STRENGTH.contains(v)) {
            return outside("strength", &strength, &limits::STRENGTH);
        }
        for (field, seed) in [("seed", self.seed), ("model-seed", self.model_seed)] {
            if let Some(seed) = seed.filter(|&v| i64::try_from(v).map_or(true, |v| !limits::SEED.contains(v))) {
                return outside(field, &seed, &limits::SEED);
            }
        }
        if let Some(scales) = self.scales.filter(|&v| !limits::SCALES.contains(v)) {
            return outside("scales", &scales, &limits::SCALES);
        }
        if let Some(scale) = self.style_scale.filter(|&v| !limits::STYLE_SCALE.contains(v)) {
            return outside("style-scale", &scale, &limits::STYLE_SCALE);
        }
        if let Some(weight) = self.style_blend.iter().find(|&&w| !limits::is_blend_weight(w as f64)) {
            return outside("style-blend", weight, &format_args!("(0, {}]", limits::NST_STYLE_BLEND_MAX));
        }
        Ok(())
    }

    /// The files these flags make a run read (`owner` starts each role: "" or "job 3's "): style images, masks,
    /// and a model given as a file.
    pub fn read_files(&self, owner: &str) -> Vec<FileRole> {
        let mut files: Vec<FileRole> =
            self.styles.iter().map(|p| FileRole::new(p, format!("{owner}--style image"))).collect();
        files.extend(self.style_masks.iter().map(|p| FileRole::new(p, format!("{owner}--style-mask"))));
        files.extend(self.content_mask.iter().map(|p| FileRole::new(p, format!("{owner}--content-mask"))));
        if let Some(model) = self.model.as_deref().filter(|m| *m != "builtin" && !is_model_name(m)) {
            files.push(FileRole::new(model, format!("{owner}--model file")));
        }
        files
    }

    /// The SDK overrides for these flags (mask files read); `size` is the working long side.
    pub fn overrides(&self, working_long_side: u32) -> Result<Overrides, CliError> {
        let (model_path, model_seed) = match self.model.as_deref() {
            None => (None, self.model_seed),
            Some("builtin") => (None, Some(self.model_seed.unwrap_or(0))),
            Some(path) => (Some(PathBuf::from(path)), None),
        };
        let grey = |path: &PathBuf| read_image(path).map(|image| image.to_luma8());
        Ok(Overrides {
            size: Some(working_long_side),
            iterations: self.iterations,
            seed: self.seed,
            style_weight: self.style_weight,
            strength: self.strength,
            model_seed,
            model_path,
            max_pooling: self.pooling.map(|p| matches!(p, PoolingArg::Max)),
            noise_init: self.init.map(|i| matches!(i, InitArg::Noise)),
            keep_colours: self.keep_colours.then_some(true),
            match_colours: self.match_colours.then_some(true),
            scales: self.scales,
            // The command writes the working size itself: nothing is scaled up.
            keep_detail: None,
            style_scale: self.style_scale,
            style_weights: self.style_blend.clone(),
            preview_iteration: None,
            style_masks: self.style_masks.iter().map(grey).collect::<Result<_, _>>()?,
            content_mask: self.content_mask.as_ref().map(grey).transpose()?,
        })
    }
}
