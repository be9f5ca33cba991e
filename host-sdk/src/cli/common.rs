//! What `nst stylize` and `nst batch` share: opening the plugin, overrides, sizing, and atomic writing.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use image::{DynamicImage, ImageDecoder, ImageFormat, imageops::FilterType};
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
/// Largest decoded input image, in bytes.
const MAX_DECODED_BYTES: u64 = 800_000_000;

/// Reads an image in sRGB (see [`read_image_with_profile`]).
pub fn read_image(path: &Path) -> Result<DynamicImage, CliError> {
    read_image_with_profile(path).map(|(image, _)| image)
}

/// Reads an image upright and in sRGB, with the ICC profile it carried (its pixels converted from it), so that
/// a result can be written back in it.
pub fn read_image_with_profile(path: &Path) -> Result<(DynamicImage, Option<Vec<u8>>), CliError> {
    let cannot_read = |e: std::io::Error| CliError::Usage(format!("image {}: cannot read: {e}", path.display()));
    let (mut file, _) = nst_files::open_regular(path, nst_files::FileKind::Image).map_err(cannot_read)?;
    match nst_files::count_frames(&mut file).map_err(cannot_read)? {
        nst_files::Frames::One => {}
        many => {
            return Err(CliError::Usage(format!(
                "image {}: holds {many}: nst takes one picture; export the frame you want",
                path.display()
            )));
        }
    }
    let mut reader = image::ImageReader::new(std::io::BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| CliError::Usage(format!("image {}: cannot read: {e}", path.display())))?;
    // The header's size is checked before the pixels are allocated: a small file claiming a huge image is
    // refused at once.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    let mut allowance = limits.clone();
    reader.limits(limits);
    let decode_error = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => CliError::Usage(format!(
            "image {}: too large: more than {MAX_SIDE} pixels a side or {} MB decoded ({e})",
            path.display(),
            MAX_DECODED_BYTES / 1_000_000
        )),
        other => CliError::Usage(format!("image {}: cannot decode: {other}", path.display())),
    };
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    // The decoded size the header claims, against the allocation limit, before any pixel is allocated.
    allowance.reserve(decoder.total_bytes()).map_err(decode_error)?;
    // Upright, as viewers show it; unreadable metadata leaves the pixels as stored.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let profile = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    image.apply_orientation(orientation);
    match profile {
        Some(icc) => Ok((super::colour_profile::to_srgb(image, &icc, path)?, Some(icc))),
        None => Ok((image, None)),
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

fn format_of(path: &Path) -> Result<ImageFormat, CliError> {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase().as_str() {
        "png" => Ok(ImageFormat::Png),
        "jpg" | "jpeg" => Ok(ImageFormat::Jpeg),
        "tif" | "tiff" => Ok(ImageFormat::Tiff),
        other => {
            Err(CliError::Usage(format!("{}: cannot write '.{other}' files: use .png, .jpg or .tiff", path.display())))
        }
    }
}

/// Encodes `image` as `format` with the ICC profile `icc` embedded.
fn write_with_profile(
    image: &DynamicImage,
    writer: &mut std::io::BufWriter<std::fs::File>,
    format: ImageFormat,
    icc: &[u8],
) -> image::ImageResult<()> {
    use image::ImageEncoder;
    let unsupported = |e: image::error::UnsupportedError| image::ImageError::Unsupported(e);
    match format {
        ImageFormat::Jpeg => {
            let mut encoder = image::codecs::jpeg::JpegEncoder::new(writer);
            encoder.set_icc_profile(icc.to_vec()).map_err(unsupported)?;
            image.write_with_encoder(encoder)
        }
        ImageFormat::Tiff => {
            let mut encoder = image::codecs::tiff::TiffEncoder::new(writer);
            encoder.set_icc_profile(icc.to_vec()).map_err(unsupported)?;
            image.write_with_encoder(encoder)
        }
        _ => {
            let mut encoder = image::codecs::png::PngEncoder::new(writer);
            encoder.set_icc_profile(icc.to_vec()).map_err(unsupported)?;
            image.write_with_encoder(encoder)
        }
    }
}

/// The temporary name an output is written under before its rename.
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// Checks the output's name and format before any work.
pub fn check_output_path(path: &Path, sixteen_bit: bool) -> Result<(), CliError> {
    if path.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is a folder: name an image file in it, such as {}",
            path.display(),
            path.join("result.png").display()
        )));
    }
    if path.extension().is_none() {
        return Err(CliError::Usage(format!(
            "{} has no file extension: name the output .png, .jpg or .tiff",
            path.display()
        )));
    }
    let format = format_of(path)?;
    if sixteen_bit && format == ImageFormat::Jpeg {
        return Err(CliError::Usage(format!("{}: JPEG has no 16-bit mode: write .png or .tiff", path.display())));
    }
    Ok(())
}

/// Checks, before any work, that `path` can be written: its folder exists, an existing file there is not
/// read-only, and its temporary file (a longer name) can be created there, which it is, then removed.
pub fn check_writable(path: &Path) -> Result<(), CliError> {
    let fail = |problem: String| Err(CliError::Usage(format!("{}: {problem}", path.display())));
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return fail(format!("cannot write: the folder {} does not exist", folder.display()));
    }
    if std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly()) {
        return fail("is read-only: make it writable, or name another output".into());
    }
    let temporary = partial_path(path);
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary) {
        Ok(_) => {
            let _ = std::fs::remove_file(&temporary);
            Ok(())
        }
        // A leftover temporary file of a killed run is replaced when the result is written.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => fail(format!("cannot write in {}: {e} (trying {})", folder.display(), temporary.display())),
    }
}

/// Writes `image` to a temporary name beside `path`, syncs it, then renames it into place: no partial file is
/// ever visible under the final name. JPEG drops alpha; 16 bits are kept for PNG and TIFF. With a `profile`
/// (ICC), the sRGB `image` is converted to its colours and the profile is embedded.
pub fn save_atomically(
    image: &DynamicImage,
    path: &Path,
    sixteen_bit: bool,
    profile: Option<&[u8]>,
) -> Result<(), CliError> {
    let format = format_of(path)?;
    let image = match (format, sixteen_bit, image.color().has_alpha()) {
        (ImageFormat::Jpeg, _, _) => DynamicImage::ImageRgb8(image.to_rgb8()),
        (_, true, true) => DynamicImage::ImageRgba16(image.to_rgba16()),
        (_, true, false) => DynamicImage::ImageRgb16(image.to_rgb16()),
        (_, false, true) => DynamicImage::ImageRgba8(image.to_rgba8()),
        (_, false, false) => DynamicImage::ImageRgb8(image.to_rgb8()),
    };
    let image = match profile {
        Some(icc) => super::colour_profile::from_srgb(image, icc, path)?,
        None => image,
    };
    let temporary = partial_path(path);
    let fail =
        |what: &str, e: &dyn std::fmt::Display| CliError::Usage(format!("{}: cannot {what}: {e}", path.display()));
    let result = (|| {
        let file = std::fs::File::create(&temporary).map_err(|e| fail("create", &e))?;
        let mut writer = std::io::BufWriter::new(file);
        match profile {
            None => image.write_to(&mut writer, format).map_err(|e| fail("encode", &e))?,
            Some(icc) => write_with_profile(&image, &mut writer, format, icc).map_err(|e| fail("encode", &e))?,
        }
        let file = writer.into_inner().map_err(|e| fail("write", &e))?;
        file.sync_all().map_err(|e| fail("write", &e))?;
        std::fs::rename(&temporary, path).map_err(|e| fail("rename into place", &e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
