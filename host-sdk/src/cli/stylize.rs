//! `nst stylize CONTENT --preset NAME|FILE -o OUT`: one image, a progress bar, and a closing summary.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nst_host::HostError;
use nst_sys::limits;

use super::arguments::{EngineArgs, RunArgs};
use super::cancel;
use super::error::CliError;
use super::output::Shown;
use super::overwrite::{FileRole, check_no_overwrite};
use super::pipeline::{Written, stylize_file};
use super::preset_info::preset_info;
use super::save::{check_output_path, check_writable, save_atomically};

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
    #[command(flatten)]
    run: RunArgs,
    /// Write an early low-resolution preview here (PNG, JPEG or TIFF) while the full result computes.
    #[arg(long)]
    preview: Option<PathBuf>,
    /// The iteration after which the preview is taken, at most the run's last (default: the preset's
    /// `output.preview_at`, or the last iteration if the run is shorter, else a fifth of the iterations).
    #[arg(long)]
    preview_at: Option<u32>,
    #[command(flatten)]
    engine: EngineArgs,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `nst stylize`.
pub fn run(args: StylizeArgs) -> Result<(), CliError> {
    args.run.check(&|field| format!("--{field}"))?;
    if let Some(at) = args.preview_at.filter(|&at| !limits::ITERATIONS.contains(at)) {
        return Err(CliError::Usage(format!("--preview-at {at} is outside {}", limits::ITERATIONS)));
    }
    check_output_path(&args.output, args.run.sixteen_bit)?;
    check_writable(&args.output)?;
    if let Some(path) = &args.preview {
        check_output_path(path, false)?;
        check_writable(path)?;
    }
    let (plugin, engine) = args.engine.open()?;
    let preset = preset_info(&engine, &args.preset)?;
    // Every file written against every file read, before any work.
    let mut reads = vec![FileRole::new(&args.content, "the content")];
    reads.extend(args.run.read_files(""));
    reads.extend(preset.styles.iter().map(|p| FileRole::new(p, "a style image of the preset")));
    if std::path::Path::new(&args.preset).is_file() {
        reads.push(FileRole::new(&args.preset, "the preset"));
    }
    let mut writes = vec![FileRole::new(&args.output, "the output")];
    writes.extend(args.preview.iter().map(|p| FileRole::new(p, "the --preview")));
    check_no_overwrite(&reads, &writes)?;
    let mut preview_error = None;

    cancel::install();
    let bar =
        if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(args.run.iterations.unwrap_or(0) as u64) };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} it  {per_sec}  ETA {eta}  {msg}").expect("valid template"),
    );
    bar.set_message("building graphs");
    // 0 leaves the preview's iteration to the preset's `output.preview_at`, else a fifth of the iterations.
    let preview_at = args.preview.as_ref().map(|_| args.preview_at.unwrap_or(0));
    let Written { dims, report } = stylize_file(
        &engine,
        &args.preset,
        &preset,
        &args.content,
        &args.output,
        &args.run,
        |progress| {
            bar.set_length(progress.total as u64);
            bar.set_position(progress.step as u64);
            bar.set_message(format!("loss {:.4e}", progress.loss));
            true
        },
        Some(cancel::token()),
        preview_at,
        &mut |preview, profile| {
            if let Some(path) = &args.preview {
                let preview = image::DynamicImage::ImageRgba8(preview.clone());
                match save_atomically(&preview, path, false, profile) {
                    Ok(()) => bar.suspend(|| outln!("preview written to {}", path.display())),
                    Err(err) => preview_error = Some(err),
                }
            }
        },
    )?;
    bar.finish_and_clear();
    // The preview is a convenience: failing to write it (a full disk, say) costs the preview, not the result.
    if let Some(err) = preview_error {
        errln!("warning: the preview was not written: {err}");
    }

    let [total, content_loss, style_loss, tv] = report.losses;
    outln!(
        "wrote {} ({}x{}, {}-bit)",
        args.output.display(),
        dims.0,
        dims.1,
        if args.run.sixteen_bit { 16 } else { 8 }
    );
    outln!("preset:    {} ({})", Shown(&preset.name), Shown(&preset.description));
    outln!("model:     {}", report.model);
    outln!("provider:  {} (plugin {} {})", report.provider, plugin.path().display(), plugin.version());
    outln!(
        "optimised: {}x{}, {} iterations, {} evaluations",
        report.working_size.0,
        report.working_size.1,
        report.iterations,
        report.evaluations
    );
    outln!(
        "time:      {:.1} s ({:.3} s per evaluation)",
        report.seconds,
        report.seconds / report.evaluations.max(1) as f64
    );
    outln!(
        "losses:    total {total:.4e} = content {content_loss:.4e} + style {style_loss:.4e} + total variation {tv:.4e}"
    );
    if report.model.contains("random-weight") {
        outln!(
            "note:      the built-in VGG19 has random weights (it transfers colour and texture, not the pretrained \
             network's strokes). For the pretrained VGG19: `nst model fetch` (once, about 550 MB downloaded), \
             then --model vgg19."
        );
    }
    Ok(())
}

/// Whether an error is a cancellation.
pub fn is_cancelled(err: &CliError) -> bool {
    matches!(err, CliError::Host(HostError::Cancelled))
}
