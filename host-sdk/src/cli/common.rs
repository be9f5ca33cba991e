//! What `nst stylize` and `nst batch` share: opening the plugin, overrides, reading and sizing images.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use image::{DynamicImage, ImageDecoder, imageops::FilterType};
use nst_host::{Engine, HostError, Overrides, Plugin};
use nst_onnx::store::is_model_name;
use nst_sys::limits;

use super::overwrite::FileRole;

/// Exit reasons of the command.
#[derive(Debug)]
pub enum CliError {
    /// The plugin, or the SDK, failed.
    Host(HostError),
    /// Bad arguments or files, with the message.
    Usage(String),
    /// A batch finished with this many failed images (already reported).
    BatchFailures(usize),
}

impl From<HostError> for CliError {
    fn from(err: HostError) -> Self {
        CliError::Host(err)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Host(err) => write!(f, "{err}"),
            CliError::Usage(message) => write!(f, "{message}"),
            CliError::BatchFailures(count) => write!(f, "{count} image(s) failed"),
        }
    }
}

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
        // SAFETY: the library named by --plugin or NST_PLUGIN, or the one installed beside this program, is
        // taken to be the nst plugin: that is what these settings are for; anything else fails the version check.
        Ok(match &self.plugin {
            Some(path) => unsafe { Plugin::load(path) }?,
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
        MEMORY_BUDGET_MIB.store(self.memory_budget.unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
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

/// The preset's summary from the plugin.
pub struct PresetInfo {
    pub name: String,
    pub description: String,
    pub size: Option<u32>,
    pub styles: Vec<PathBuf>,
}

pub fn preset_info(engine: &Engine, preset: &str) -> Result<PresetInfo, CliError> {
    let json: serde_json::Value = serde_json::from_str(&engine.describe_preset(preset)?)
        .map_err(|e| CliError::Usage(format!("the plugin's preset description is not JSON: {e}")))?;
    Ok(PresetInfo {
        name: json["name"].as_str().unwrap_or_default().to_string(),
        description: json["description"].as_str().unwrap_or_default().to_string(),
        size: json["size"].as_u64().map(|s| s as u32),
        styles: json["styles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["path"].as_str())
            .map(PathBuf::from)
            .collect(),
    })
}

/// Largest side of an input image, in pixels.
const MAX_SIDE: u32 = limits::NST_IMAGE_SIDE_MAX;
/// Largest decoded input image, in bytes (the engine's own reader takes the same).
const MAX_DECODED_BYTES: u64 = nst_files::DECODED_IMAGE_BYTES_MAX;
/// Bytes a pixel of a style image or mask costs beside its decoded pixels: the SDK's copy, then the engine's
/// float planes (RGB and alpha) and their interleaved copy while it resizes them.
const ENGINE_BYTES_PER_PIXEL: u64 = 40;
/// Bytes a pixel of a content costs beside its decoded pixels: the resizing's float rows, with a margin.
const CONTENT_BYTES_PER_PIXEL: u64 = 4;

/// The engine's memory budget in MiB (0: none set). Images are read in several places, all after the engine
/// is opened with it, so it is kept here once rather than passed down each path.
static MEMORY_BUDGET_MIB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Reads a style image or mask in sRGB (see [`read_image_with_profile`]); it goes to the engine at full size.
pub fn read_image(path: &Path) -> Result<DynamicImage, CliError> {
    read_upright_srgb(path, ENGINE_BYTES_PER_PIXEL).map(|(image, _)| image)
}

/// Reads a content upright and in sRGB, with the ICC profile a result can be written back in (its pixels
/// converted from it; `None` for sRGB, and for a profile nst cannot write back, which is then noted).
pub fn read_image_with_profile(path: &Path) -> Result<(DynamicImage, Option<Vec<u8>>), CliError> {
    read_upright_srgb(path, CONTENT_BYTES_PER_PIXEL)
}

/// Reads `path`, refusing before any pixel is decoded an image whose decoded pixels, their converted copy
/// and `bytes_per_pixel` more would not fit the limit, the memory budget, or what the process may allocate.
fn read_upright_srgb(path: &Path, bytes_per_pixel: u64) -> Result<(DynamicImage, Option<Vec<u8>>), CliError> {
    let fail = |reason: String| CliError::Usage(format!("image {}: {reason}", path.display()));
    let cannot_read = |e: std::io::Error| fail(format!("cannot read: {e}"));
    let (mut file, _) = nst_files::open_regular(path, nst_files::FileKind::Image).map_err(cannot_read)?;
    match nst_files::count_frames(&mut file).map_err(cannot_read)? {
        nst_files::Frames::One => {}
        many => return Err(fail(format!("holds {many}: nst takes one picture; export the frame you want"))),
    }
    let reader = image::ImageReader::new(std::io::BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let decode_error = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => fail(format!(
            "too large: more than {MAX_SIDE} pixels a side, {} decoded, or {} of metadata ({e})",
            nst_files::human(MAX_DECODED_BYTES),
            nst_files::human(nst_files::IMAGE_METADATA_BYTES_MAX)
        )),
        other => fail(format!("cannot decode: {other}")),
    };
    let mut decoder = decoder_within_limits(reader).map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_fits(width, height, decoder.total_bytes(), bytes_per_pixel).map_err(fail)?;
    // Upright, as viewers show it; unreadable metadata leaves the pixels as stored.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let profile = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    check_finite(&image).map_err(fail)?;
    image.apply_orientation(orientation);
    match profile {
        Some(icc) => super::colour_profile::to_srgb_for_writing(image, &icc, path),
        None => Ok((image, None)),
    }
}

/// A decoder with the size limits set before the header is read. A PNG's metadata (ICC profile, text) is
/// inflated while its header is read, under a limit of its own, far below the pixels'.
fn decoder_within_limits<R: std::io::BufRead + std::io::Seek + 'static>(
    reader: image::ImageReader<R>,
) -> image::ImageResult<Box<dyn ImageDecoder>> {
    let mut pixels = image::Limits::default();
    pixels.max_image_width = Some(MAX_SIDE);
    pixels.max_image_height = Some(MAX_SIDE);
    pixels.max_alloc = Some(MAX_DECODED_BYTES);
    if reader.format() == Some(image::ImageFormat::Png) {
        let mut metadata = image::Limits::default();
        metadata.max_alloc = Some(nst_files::IMAGE_METADATA_BYTES_MAX);
        let mut decoder = image::codecs::png::PngDecoder::with_limits(reader.into_inner(), metadata)?;
        decoder.set_limits(pixels)?;
        return Ok(Box::new(decoder));
    }
    let mut reader = reader;
    reader.limits(pixels);
    Ok(Box::new(reader.into_decoder()?))
}

/// Refuses a `width x height` image of `decoded` bytes whose reading would not fit (see
/// [`read_upright_srgb`]), naming its size and what it would need.
fn check_fits(width: u32, height: u32, decoded: u64, bytes_per_pixel: u64) -> Result<(), String> {
    let pixels = width as u64 * height as u64;
    let needed = decoded.saturating_mul(2).saturating_add(pixels.saturating_mul(bytes_per_pixel));
    // The engine's budget, else its default share of the memory available, as the engine takes it.
    let budget = match MEMORY_BUDGET_MIB.load(std::sync::atomic::Ordering::Relaxed) {
        0 => nst_files::default_budget_mib(),
        mib => Some(mib as f64),
    };
    nst_files::check_decoding_fits(width, height, decoded, needed, budget)
}

/// Refuses float pixels that are NaN or infinite: they would only surface later as a loss that is not
/// finite, blaming the weights.
fn check_finite(image: &DynamicImage) -> Result<(), String> {
    let floats = match image {
        DynamicImage::ImageRgb32F(pixels) => pixels.as_raw(),
        DynamicImage::ImageRgba32F(pixels) => pixels.as_raw(),
        _ => return Ok(()),
    };
    match floats.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(at) => {
            let channels = image.color().channel_count() as usize;
            let (x, y) = ((at / channels) as u32 % image.width(), (at / channels) as u32 / image.width());
            Err(format!(
                "pixel ({x}, {y}) is {}: float images must hold finite values; fix or re-export it",
                floats[at]
            ))
        }
    }
}

/// The shortest side of an output, in pixels: VGG19's deepest style layer sees the image at 1/16 of its size.
const MIN_SIDE: u32 = 16;

/// Output size: the long side from `size` (or the preset's), aspect kept; the content's size when neither.
/// The long side is in range already (`RunArgs::check`, the preset's own checker); a short side below 16
/// pixels is refused here, before any pixel is resized, with the sizes that would do.
pub fn output_dims(content: &DynamicImage, size: Option<u32>) -> Result<(u32, u32), CliError> {
    let (w, h) = (content.width(), content.height());
    // The engine's own rule: it resizes its result to this size.
    let (out_w, out_h) = nst_sys::sizing::output_size(w as usize, h as usize, size.map(|long| long as usize));
    let dims = (out_w as u32, out_h as u32);
    if dims.0.min(dims.1) < MIN_SIDE {
        let (long, short) = (w.max(h) as u64, w.min(h).max(1) as u64);
        let needed = (MIN_SIDE as u64 * long).div_ceil(short);
        let hint = if needed <= limits::NST_SIZE_MAX as u64 {
            format!("a --size of at least {needed}")
        } else {
            format!("a content whose sides differ less (at most {}:{MIN_SIDE})", limits::NST_SIZE_MAX)
        };
        return Err(CliError::Usage(format!(
            "the output would be {}x{} pixels (content {w}x{h}): each side must be at least {MIN_SIDE} pixels; use \
             {hint}",
            dims.0, dims.1
        )));
    }
    Ok(dims)
}

/// The content at the output size, widened to 16 bits when a 16-bit output is asked for.
pub fn prepare_content(content: &DynamicImage, dims: (u32, u32), sixteen_bit: bool) -> DynamicImage {
    let sized = if (content.width(), content.height()) == dims {
        content.clone()
    } else {
        content.resize_exact(dims.0, dims.1, FilterType::CatmullRom)
    };
    match (sixteen_bit, sized.color().has_alpha()) {
        (true, true) => DynamicImage::ImageRgba16(sized.to_rgba16()),
        (true, false) => DynamicImage::ImageRgb16(sized.to_rgb16()),
        (false, _) => sized,
    }
}
