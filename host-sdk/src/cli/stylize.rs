//! `nst stylize CONTENT --preset NAME|FILE -o OUT`: one image, a progress bar, and a closing summary.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use nst::image_io::{BitDepth, read_image, write_image};
use nst::nst_onnx::Pooling;
use nst::optim::Control;
use nst::preset::{InitSpec, Overrides, load_preset};
use nst::runtime::Provider;
use nst::stylize::{Engine, EngineConfig, Init, ModelChoice};
use nst::{EngineError, Result};

use super::cancel;

#[derive(Clone, Copy, ValueEnum)]
enum PoolingArg {
    Max,
    Average,
}

/// Arguments of `nst stylize`.
#[derive(Args)]
pub struct StylizeArgs {
    /// Content image (PNG, JPEG, WebP or TIFF).
    content: PathBuf,
    /// Bundled preset name (see `nst presets`) or a preset .toml file.
    #[arg(long, short)]
    preset: String,
    /// Output image (.png, .jpg or .tiff); written atomically.
    #[arg(long, short)]
    output: PathBuf,
    /// Long side of the output in pixels (16..=8192).
    #[arg(long)]
    size: Option<usize>,
    /// Optimiser iterations (1..=10000).
    #[arg(long)]
    iterations: Option<usize>,
    /// Style image replacing the preset's (repeat for several, blended equally).
    #[arg(long = "style")]
    styles: Vec<PathBuf>,
    /// Style weight (beta), 0..=1e12.
    #[arg(long)]
    style_weight: Option<f32>,
    /// Seed of the noise start.
    #[arg(long)]
    seed: Option<u64>,
    /// `builtin` (seeded random VGG19) or a VGG19 .onnx file (torchvision features export, model zoo vgg19-7).
    #[arg(long)]
    model: Option<String>,
    /// Seed of the built-in model's weights.
    #[arg(long)]
    model_seed: Option<u64>,
    /// Pooling between VGG blocks.
    #[arg(long, value_enum)]
    pooling: Option<PoolingArg>,
    /// Start from `content`, `noise` or an image file.
    #[arg(long)]
    init: Option<String>,
    /// Execution provider: auto, cpu, cuda or directml.
    #[arg(long, default_value = "auto")]
    provider: String,
    /// Threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Write 16 bits per channel (PNG, TIFF).
    #[arg(long = "16-bit")]
    sixteen_bit: bool,
    /// ONNX Runtime library (default: ORT_DYLIB_PATH, then beside this program).
    #[arg(long)]
    ort: Option<PathBuf>,
    /// Folder of bundled presets.
    #[arg(long)]
    presets_dir: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn overrides(args: &StylizeArgs) -> Overrides {
    let model = args.model.as_deref().map(|m| match m {
        "builtin" => ModelChoice::BuiltIn { seed: args.model_seed.unwrap_or(0) },
        path => ModelChoice::File(PathBuf::from(path)),
    });
    let model = model.or(args.model_seed.map(|seed| ModelChoice::BuiltIn { seed }));
    Overrides {
        size: args.size,
        iterations: args.iterations,
        style_images: args.styles.clone(),
        seed: args.seed,
        model,
        pooling: args.pooling.map(|p| match p {
            PoolingArg::Max => Pooling::Max,
            PoolingArg::Average => Pooling::Average,
        }),
        init: args.init.as_deref().map(|i| match i {
            "content" => InitSpec::Content,
            "noise" => InitSpec::Noise,
            path => InitSpec::Image(PathBuf::from(path)),
        }),
        style_weight: args.style_weight,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Runs `nst stylize`.
pub fn run(args: StylizeArgs) -> Result<()> {
    let mut preset = load_preset(&args.preset, args.presets_dir.as_deref())?;
    overrides(&args).apply(&mut preset)?;
    if same_file(&args.content, &args.output) || preset.styles.iter().any(|(s, _)| same_file(s, &args.output)) {
        return Err(EngineError::InvalidArgument(format!(
            "output {} is one of the inputs; inputs are never overwritten",
            args.output.display()
        )));
    }
    let depth = if args.sixteen_bit { BitDepth::Sixteen } else { BitDepth::Eight };
    let content = read_image(&args.content)?;
    let styles = preset.styles.iter().map(|(path, w)| Ok((read_image(path)?, *w))).collect::<Result<Vec<_>>>()?;
    let mut settings = preset.settings.clone();
    settings.init = match &preset.init {
        InitSpec::Content => Init::Content,
        InitSpec::Noise => Init::Noise,
        InitSpec::Image(path) => Init::Image(read_image(path)?),
    };

    let config = EngineConfig {
        ort_library: args.ort.clone(),
        provider: args.provider.parse::<Provider>()?,
        threads: args.threads,
    };
    let mut engine = Engine::new(&config)?;
    cancel::install();
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(settings.iterations as u64) };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} it  {per_sec}  ETA {eta}  {msg}").expect("valid template"),
    );
    bar.set_message("building graphs");
    let result = engine.stylize(&content, &styles, &settings, &mut |progress| {
        bar.set_position(progress.iteration as u64);
        let terms = progress.terms;
        bar.set_message(format!(
            "loss {:.3e} (content {:.2e}, style {:.2e}, tv {:.2e})",
            terms.total(),
            terms.content,
            terms.style,
            terms.total_variation
        ));
        if cancel::requested() { Control::Cancel } else { Control::Continue }
    });
    bar.finish_and_clear();
    let stylized = result?;
    write_image(&stylized.image, &args.output, depth)?;

    let (w, h) = (stylized.image.width, stylized.image.height);
    println!("wrote {} ({w}x{h}, {}-bit)", args.output.display(), if args.sixteen_bit { 16 } else { 8 });
    println!("preset:    {} ({})", preset.name, preset.description);
    println!("model:     {}", stylized.model);
    println!("provider:  {} (ONNX Runtime at {})", stylized.provider.name(), engine.ort_library().display());
    println!(
        "optimised: {} at {}x{}, {} iterations, {} evaluations",
        settings.optimiser.describe(),
        stylized.working_size.0,
        stylized.working_size.1,
        stylized.iterations,
        stylized.evaluations
    );
    println!(
        "time:      {:.1} s ({:.3} s per evaluation)",
        stylized.seconds,
        stylized.seconds / stylized.evaluations.max(1) as f64
    );
    let terms = stylized.terms;
    println!(
        "losses:    total {:.4e} = content {:.4e} + style {:.4e} + total variation {:.4e}",
        terms.total(),
        terms.content,
        terms.style,
        terms.total_variation
    );
    if matches!(settings.model, ModelChoice::BuiltIn { .. }) {
        println!(
            "note:      the built-in VGG19 has random weights (it transfers colour and texture, not the pretrained \
             network's strokes). For pretrained VGG19: python3 onnx/export_vgg19.py vgg19.onnx (needs torch), \
             then --model vgg19.onnx; the ONNX model zoo vgg19-7.onnx works too."
        );
    }
    Ok(())
}
