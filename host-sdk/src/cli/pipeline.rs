//! One image through the engine, as `nst stylize` and every job of `nst batch` run it: read the content (in
//! sRGB, upright) and the style images, size the content to the output, turn the flags into overrides,
//! stylize, and write the result atomically in the content's colour profile.

use std::path::Path;

use image::RgbaImage;
use nst_host::{CancelToken, Engine, Progress, Report};

use super::arguments::RunArgs;
use super::error::CliError;
use super::preset_info::PresetInfo;
use super::reading::{read_image, read_image_with_profile};
use super::save::save_atomically;
use super::sizing::{output_dims, prepare_content};

/// What the run gives, the output's size with it.
pub struct Written {
    /// The output's width and height.
    pub dims: (u32, u32),
    /// The plugin's report.
    pub report: Report,
}

/// Stylizes `content` with `preset` (described by `info`, which the caller has already asked the plugin for) and
/// `run`'s flags into `output`. `preview_at` (with `preview`) asks for an
/// early result: `Some(0)` at the preset's iteration, `Some(n)` after iteration n; `preview` gets the content's
/// colour profile with it, to write the preview in.
#[allow(clippy::too_many_arguments)]
pub fn stylize_file(
    engine: &Engine,
    preset: &str,
    info: &PresetInfo,
    content: &Path,
    output: &Path,
    run: &RunArgs,
    progress: impl FnMut(Progress) -> bool,
    cancel: Option<&CancelToken>,
    preview_at: Option<u32>,
    preview: &mut dyn FnMut(&RgbaImage, Option<&[u8]>),
) -> Result<Written, CliError> {
    let (content, profile) = read_image_with_profile(content)?;
    let styles = run.styles.iter().map(|p| read_image(p)).collect::<Result<Vec<_>, _>>()?;
    let dims = output_dims(&content, run.size.or(info.size))?;
    let content = prepare_content(&content, dims, run.sixteen_bit);
    let mut overrides = run.overrides(dims.0.max(dims.1))?;
    overrides.preview_iteration = preview_at;
    let (image, report) =
        engine.stylize_image_with_preview(preset, &overrides, &content, &styles, progress, cancel, &mut |image| {
            preview(image, profile.as_deref())
        })?;
    save_atomically(&image, output, run.sixteen_bit, profile.as_deref())?;
    Ok(Written { dims, report })
}
