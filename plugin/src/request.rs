//! What a host asks for, resolved into one run: the preset, the per-call overrides and the host's own images
//! become settings and images, under the rules that bind them. Every host (the C ABI, tests, benches) goes
//! through here, so the rules are written once.

use std::path::Path;

use crate::error::{EngineError, Result};
use crate::fit::memory::budget_mib;
use crate::image_io::{Planar, read_image_within};
use crate::preset::{InitSpec, Overrides, Preset, resolve_preset};
use crate::stylize::{Init, ModelChoice, Settings, SpatialControl};

/// When the host wants a preview of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewAt {
    /// After the preset's `output.preview_at` (the last iteration if the run is shorter), else after a fifth
    /// of the iterations.
    PresetOrDefault,
    /// After this iteration, counted over all scales (past the run's last one is refused by the run).
    Iteration(usize),
}

/// One run as a host asks for it.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// A bundled preset name, a preset file path, or preset TOML text.
    pub preset: &'a str,
    /// Per-call changes to the preset.
    pub overrides: Overrides,
    /// Style images with blend weights replacing the preset's; empty: the preset's own.
    pub styles: Vec<(Planar, f32)>,
    /// One mask per style image in use, in order; `None`: the preset's masks when its own style images are
    /// used, and none otherwise.
    pub style_masks: Option<Vec<Planar>>,
    /// The per-pixel content weight; `None`: the preset's `losses.content_mask`, if any.
    pub content_mask: Option<Planar>,
    /// Whether and when the run hands out a preview; `None`: no preview.
    pub preview: Option<PreviewAt>,
}

/// What the engine a request runs on brings to it.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineDefaults<'a> {
    /// Where named presets are found; `None`: the default folder.
    pub presets_dir: Option<&'a Path>,
    /// The model the engine is configured for: it runs unless the request's overrides name one.
    pub model: Option<&'a ModelChoice>,
    /// The engine's memory budget, MiB: the preset's images are read within it and the preset's own, whichever
    /// is lower (neither: the default share of the memory available).
    pub memory_budget_mb: Option<u64>,
}

/// A request resolved: what [`crate::stylize::Engine::stylize_with_preview`] takes.
#[derive(Debug, Clone)]
pub struct ResolvedRun {
    /// The run's settings, masks and start included.
    pub settings: Settings,
    /// The style images with blend weights.
    pub styles: Vec<(Planar, f32)>,
}

/// Resolves `request` on an engine with `engine`'s presets folder, model and memory budget.
pub fn resolve(request: Request<'_>, engine: EngineDefaults<'_>) -> Result<ResolvedRun> {
    let mut preset = resolve_preset(request.preset, engine.presets_dir)?;
    let mut overrides = request.overrides;
    if overrides.model.is_none() {
        overrides.model = engine.model.cloned();
    }
    overrides.apply(&mut preset)?;
    // The preset's images are refused before decoding when their reading alone would not fit the budget.
    let set_budget = match (engine.memory_budget_mb, preset.settings.memory_budget_mb) {
        (Some(engine), Some(run)) => Some(engine.min(run)),
        (engine, run) => engine.or(run),
    };
    let budget = budget_mib(set_budget);
    let read_image = |path: &Path| read_image_within(path, budget);
    let preset_styles = request.styles.is_empty();
    let styles = match preset_styles {
        true => preset.styles.iter().map(|(path, w)| Ok((read_image(path)?, *w))).collect::<Result<Vec<_>>>()?,
        false => request.styles,
    };
    if styles.is_empty() {
        return Err(EngineError::InvalidArgument(
            "no style image: the preset lists none and the call passes none".into(),
        ));
    }
    let mut settings = preset.settings.clone();
    settings.spatial =
        spatial_control(&preset, request.style_masks, request.content_mask, preset_styles, styles.len(), budget)?;
    settings.init = match &preset.init {
        InitSpec::Content => Init::Content,
        InitSpec::Noise => Init::Noise,
        InitSpec::Image(path) => Init::Image(read_image(path)?),
    };
    settings.preview_iteration = request.preview.map(|at| match at {
        PreviewAt::Iteration(n) => n,
        PreviewAt::PresetOrDefault => {
            settings.preview_iteration.unwrap_or((settings.iterations / 5).max(1)).min(settings.iterations)
        }
    });
    Ok(ResolvedRun { settings, styles })
}

/// The run's masks: the host's, else the preset's (its style masks only with its own style images, which
/// they were drawn for).
fn spatial_control(
    preset: &Preset,
    style_masks: Option<Vec<Planar>>,
    content_mask: Option<Planar>,
    preset_styles: bool,
    style_count: usize,
    budget: Option<f64>,
) -> Result<SpatialControl> {
    let read_image = |path: &Path| read_image_within(path, budget);
    let style_masks = match style_masks {
        Some(masks) if masks.len() != style_count => {
            return Err(EngineError::InvalidArgument(format!(
                "{} style masks for the {style_count} style images in use: give one per style image",
                masks.len()
            )));
        }
        Some(masks) => masks,
        None if preset_styles => preset.style_masks.iter().map(|path| read_image(path)).collect::<Result<_>>()?,
        None => Vec::new(),
    };
    let content_mask = match content_mask {
        Some(mask) => Some(mask),
        None => preset.content_mask.as_deref().map(read_image).transpose()?,
    };
    Ok(SpatialControl { style_masks, content_mask })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presets() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../presets")
    }

    fn at(dir: &Path) -> EngineDefaults<'_> {
        EngineDefaults { presets_dir: Some(dir), ..EngineDefaults::default() }
    }

    fn grey(side: usize) -> Planar {
        Planar { width: side, height: side, rgb: vec![0.5; 3 * side * side], alpha: None }
    }

    #[test]
    fn the_presets_styles_and_masks_go_together_and_host_styles_replace_them() {
        let dir = presets();
        let from_preset = resolve(Request { preset: "mosaic", ..Request::default() }, at(&dir)).unwrap();
        assert!(!from_preset.styles.is_empty());
        let host = vec![(grey(32), 2.0), (grey(32), 1.0)];
        let from_host = resolve(Request { preset: "mosaic", styles: host, ..Request::default() }, at(&dir)).unwrap();
        assert_eq!(from_host.styles.iter().map(|(_, w)| *w).collect::<Vec<_>>(), vec![2.0, 1.0]);
        assert!(from_host.settings.spatial.style_masks.is_empty(), "a preset's masks went with host styles");
        let one_mask = Request {
            preset: "mosaic",
            styles: vec![(grey(32), 1.0), (grey(32), 1.0)],
            style_masks: Some(vec![grey(8)]),
            ..Request::default()
        };
        let message = resolve(one_mask, at(&dir)).unwrap_err().to_string();
        assert!(message.contains("1 style masks for the 2 style images in use"), "{message}");
    }

    #[test]
    fn the_engines_model_runs_unless_the_call_names_one_and_previews_follow_the_run() {
        let dir = presets();
        let engine_model = ModelChoice::BuiltIn { seed: 7 };
        let request = Request { preset: "mosaic", preview: Some(PreviewAt::PresetOrDefault), ..Request::default() };
        let run = resolve(request.clone(), EngineDefaults { model: Some(&engine_model), ..at(&dir) }).unwrap();
        assert_eq!(run.settings.model, engine_model);
        let iterations = run.settings.iterations;
        assert_eq!(run.settings.preview_iteration, Some((iterations / 5).max(1)));
        let named = Request {
            overrides: Overrides { model: Some(ModelChoice::BuiltIn { seed: 3 }), ..Overrides::default() },
            preview: Some(PreviewAt::Iteration(2)),
            ..request
        };
        let run = resolve(named, EngineDefaults { model: Some(&engine_model), ..at(&dir) }).unwrap();
        assert_eq!(run.settings.model, ModelChoice::BuiltIn { seed: 3 });
        assert_eq!(run.settings.preview_iteration, Some(2));
    }

    #[test]
    fn the_preset_images_are_read_within_the_engines_budget_when_it_is_the_lower() {
        let dir = presets();
        let request = || Request { preset: "mosaic", ..Request::default() };
        let message =
            resolve(request(), EngineDefaults { memory_budget_mb: Some(1), ..at(&dir) }).unwrap_err().to_string();
        assert!(message.contains("the memory budget is 1 MiB"), "{message}");
        assert!(resolve(request(), EngineDefaults { memory_budget_mb: Some(4096), ..at(&dir) }).is_ok());
    }
}
