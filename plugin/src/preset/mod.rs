//! Style presets: versioned, strict TOML files naming style images and every artistic setting.
//!
//! Every error names the file, the line and the key, and what was expected (see presets/README.md).

mod locate;
mod overrides;
mod schema;

pub use locate::{bundled_presets, presets_dir};

pub use overrides::Overrides;

use std::path::{Path, PathBuf};

use nst_onnx::{Layer, Pooling};
use toml::Spanned;

use crate::colour::ColourControl;
use crate::error::{EngineError, Result};
use crate::losses::LossSettings;
use crate::optim::{Adam, Lbfgs, Optimiser};
use nst_onnx::store::is_model_name;

use crate::stylize::{ModelChoice, Multiscale, Settings};
use schema::{PresetFile, SCHEMA_VERSION};

use nst_sys::limits::{self, Bounds, NST_STYLE_IMAGES_MAX as MAX_STYLE_IMAGES};

/// How the optimisation starts, before images are loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum InitSpec {
    /// From the content image.
    Content,
    /// From seeded noise.
    Noise,
    /// From an image file.
    Image(PathBuf),
}

/// A preset read and checked: its style images (paths), blend weights and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Name (the file stem).
    pub name: String,
    /// One line for menus.
    pub description: String,
    /// The file it came from (`None` for TOML given as text).
    pub source: Option<PathBuf>,
    /// Style images with blend weights.
    pub styles: Vec<(PathBuf, f32)>,
    /// One mask per style image (where it applies), or empty.
    pub style_masks: Vec<PathBuf>,
    /// Per-pixel content weight mask.
    pub content_mask: Option<PathBuf>,
    /// Run settings (`init` is [`crate::stylize::Init::Content`] here; see `init`).
    pub settings: Settings,
    /// Where the run starts.
    pub init: InitSpec,
}

/// Reads a preset given as a bundled name (`mosaic`) or a path to a `.toml` file.
pub fn load_preset(name_or_path: &str, presets: Option<&Path>) -> Result<Preset> {
    let as_path = Path::new(name_or_path);
    let path = if name_or_path.ends_with(".toml") || as_path.components().count() > 1 {
        as_path.to_path_buf()
    } else {
        let dir = presets_dir(presets)?;
        let candidate = dir.join(format!("{name_or_path}.toml"));
        if !candidate.is_file() {
            let known: Vec<String> = bundled_presets(&dir).into_iter().map(|(name, _)| name).collect();
            return Err(EngineError::Preset(format!(
                "no preset named '{name_or_path}' in {} (bundled: {})",
                dir.display(),
                known.join(", ")
            )));
        }
        candidate
    };
    let text = nst_files::read_text(&path, nst_files::FileKind::Preset)
        .map_err(|e| EngineError::Preset(format!("preset {}: cannot read: {e}", path.display())))?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse_preset(&text, &name, &path.display().to_string(), &base).map(|mut preset| {
        preset.source = Some(path.clone());
        preset
    })
}

/// A preset given as a bundled name, a `.toml` path, or TOML text (recognised by a newline or `=`; its relative
/// paths resolve against the current folder).
pub fn resolve_preset(spec: &str, presets: Option<&Path>) -> Result<Preset> {
    if spec.contains('\n') || spec.contains('=') {
        let base = std::env::current_dir().unwrap_or_default();
        return parse_preset(spec, "inline", "given as text", &base);
    }
    load_preset(spec, presets)
}

/// Parses preset TOML; `origin` names it in errors and relative paths resolve against `base`.
pub fn parse_preset(text: &str, name: &str, origin: &str, base: &Path) -> Result<Preset> {
    let file: PresetFile = toml::from_str(text)
        .map_err(|e| EngineError::Preset(format!("preset {origin}: {}", e.to_string().trim_end())))?;
    let at = |span: std::ops::Range<usize>, key: &str, problem: String| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        EngineError::Preset(format!("preset {origin}, line {line}, key `{key}`: {problem}"))
    };
    let check_range = |value: &Spanned<f64>, key: &str, bounds: Bounds<f64>| -> Result<f32> {
        let v = *value.get_ref();
        if !bounds.contains(v) {
            return Err(at(value.span(), key, format!("{v} is outside {bounds}")));
        }
        Ok(v as f32)
    };
    let check_int = |value: &Spanned<i64>, key: &str, bounds: Bounds<i64>| -> Result<usize> {
        let v = *value.get_ref();
        if !bounds.contains(v) {
            return Err(at(value.span(), key, format!("{v} is outside {bounds}")));
        }
        Ok(v as usize)
    };
    let layer = |value: &Spanned<String>, key: &str| {
        Layer::parse(value.get_ref()).map_err(|_| {
            at(value.span(), key, format!("'{}' is not a VGG19 layer (relu1_1 .. relu5_4)", value.get_ref()))
        })
    };
    let existing_file = |value: &Spanned<String>, key: &str| -> Result<PathBuf> {
        let path = base.join(value.get_ref());
        if !path.is_file() {
            return Err(at(
                value.span(),
                key,
                format!("file '{}' not found (looked at {})", value.get_ref(), path.display()),
            ));
        }
        Ok(path)
    };

    if *file.version.get_ref() != SCHEMA_VERSION {
        return Err(at(
            file.version.span(),
            "version",
            format!("{} is not supported: expected {SCHEMA_VERSION}", file.version.get_ref()),
        ));
    }

    // Style images and their weights.
    // An empty list is allowed: a host may pass the style images itself.
    let style = &file.style;
    // Counted before any file is looked at: each image is read and run through the network.
    if style.images.get_ref().len() > MAX_STYLE_IMAGES {
        return Err(at(
            style.images.span(),
            "style.images",
            format!("{} images; at most {MAX_STYLE_IMAGES}", style.images.get_ref().len()),
        ));
    }
    let weights: Vec<f32> = match &style.weights {
        None => vec![1.0; style.images.get_ref().len()],
        Some(weights) => {
            if weights.get_ref().len() != style.images.get_ref().len() {
                return Err(at(
                    weights.span(),
                    "style.weights",
                    format!("{} weights for {} images", weights.get_ref().len(), style.images.get_ref().len()),
                ));
            }
            weights
                .get_ref()
                .iter()
                .map(|w| check_range(w, "style.weights", Bounds { min: 1e-6, max: limits::NST_STYLE_BLEND_MAX }))
                .collect::<Result<_>>()?
        }
    };
    let styles = style
        .images
        .get_ref()
        .iter()
        .zip(weights)
        .map(|(image, weight)| Ok((existing_file(image, "style.images")?, weight)))
        .collect::<Result<Vec<_>>>()?;
    let style_masks = match &style.masks {
        None => Vec::new(),
        Some(masks) => {
            if masks.get_ref().len() != style.images.get_ref().len() {
                return Err(at(
                    masks.span(),
                    "style.masks",
                    format!(
                        "{} masks for {} images: give one mask per image",
                        masks.get_ref().len(),
                        style.images.get_ref().len()
                    ),
                ));
            }
            masks.get_ref().iter().map(|m| existing_file(m, "style.masks")).collect::<Result<Vec<_>>>()?
        }
    };
    let style_scale =
        style.scale.as_ref().map(|s| check_range(s, "style.scale", limits::STYLE_SCALE)).transpose()?.unwrap_or(1.0);

    // Losses.
    let losses = &file.losses;
    let style_layers: Vec<Layer> = match &losses.style_layers {
        None => ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
            .iter()
            .map(|n| Layer::parse(n).expect("known"))
            .collect(),
        Some(list) => {
            if list.get_ref().is_empty() {
                return Err(at(list.span(), "losses.style_layers", "at least one layer is required".into()));
            }
            list.get_ref().iter().map(|l| layer(l, "losses.style_layers")).collect::<Result<_>>()?
        }
    };
    let layer_weights: Vec<f32> = match &losses.style_layer_weights {
        None => vec![1.0 / style_layers.len() as f32; style_layers.len()],
        Some(list) => {
            if list.get_ref().len() != style_layers.len() {
                return Err(at(
                    list.span(),
                    "losses.style_layer_weights",
                    format!("{} weights for {} style layers", list.get_ref().len(), style_layers.len()),
                ));
            }
            list.get_ref()
                .iter()
                .map(|w| check_range(w, "losses.style_layer_weights", limits::STYLE_LAYER_WEIGHT))
                .collect::<Result<_>>()?
        }
    };
    let loss_settings = LossSettings {
        content_layer: losses
            .content_layer
            .as_ref()
            .map(|l| layer(l, "losses.content_layer"))
            .transpose()?
            .unwrap_or_else(|| Layer::parse("relu4_2").expect("known")),
        content_weight: losses
            .content_weight
            .as_ref()
            .map(|v| check_range(v, "losses.content_weight", limits::CONTENT_WEIGHT))
            .transpose()?
            .unwrap_or(1.0),
        style_layers: style_layers.into_iter().zip(layer_weights).collect(),
        style_weight: losses
            .style_weight
            .as_ref()
            .map(|v| check_range(v, "losses.style_weight", limits::STYLE_WEIGHT))
            .transpose()?
            .unwrap_or(limits::DEFAULT_STYLE_WEIGHT as f32),
        tv_weight: losses
            .tv_weight
            .as_ref()
            .map(|v| check_range(v, "losses.tv_weight", limits::TV_WEIGHT))
            .transpose()?
            .unwrap_or(limits::DEFAULT_TV_WEIGHT as f32),
    };

    // Optimiser.
    let opt = &file.optimiser;
    let iterations = opt
        .iterations
        .as_ref()
        .map(|v| check_int(v, "optimiser.iterations", limits::ITERATIONS.widen()))
        .transpose()?
        .unwrap_or(limits::DEFAULT_ITERATIONS as usize);
    let method = opt.method.as_ref().map(|m| m.get_ref().as_str()).unwrap_or("lbfgs");
    let optimiser = match method {
        "lbfgs" => Optimiser::Lbfgs(Lbfgs {
            history: opt
                .history
                .as_ref()
                .map(|v| check_int(v, "optimiser.history", limits::LBFGS_HISTORY.widen()))
                .transpose()?
                .unwrap_or(10),
            line_search: opt.line_search.as_ref().map(|v| *v.get_ref()).unwrap_or(true),
        }),
        "adam" => Optimiser::Adam(Adam {
            learning_rate: opt
                .learning_rate
                .as_ref()
                .map(|v| check_range(v, "optimiser.learning_rate", limits::LEARNING_RATE))
                .transpose()?
                .unwrap_or(0.02),
        }),
        other => {
            let span = opt.method.as_ref().expect("method given").span();
            return Err(at(span, "optimiser.method", format!("'{other}' is not an optimiser: expected lbfgs or adam")));
        }
    };

    // Output, network and start.
    let size = file.output.size.as_ref().map(|v| check_int(v, "output.size", limits::SIZE.widen())).transpose()?;
    let preview_iteration = file
        .output
        .preview_at
        .as_ref()
        .map(|v| check_int(v, "output.preview_at", limits::ITERATIONS.widen()))
        .transpose()?;
    let memory_budget_mb = file
        .output
        .memory_budget_mb
        .as_ref()
        .map(|v| check_int(v, "output.memory_budget_mb", limits::MEMORY_BUDGET_MIB.widen()))
        .transpose()?
        .map(|mib| mib as u64);
    let network = &file.network;
    let pooling = match network.pooling.as_ref().map(|p| p.get_ref().as_str()).unwrap_or("average") {
        "max" => Pooling::Max,
        "average" => Pooling::Average,
        other => {
            let span = network.pooling.as_ref().expect("given").span();
            return Err(at(span, "network.pooling", format!("'{other}' is not a pooling: expected max or average")));
        }
    };
    let model_seed =
        network.model_seed.as_ref().map(|v| check_int(v, "network.model_seed", limits::SEED)).transpose()?.unwrap_or(0)
            as u64;
    let model = match network.model.as_ref() {
        None => ModelChoice::BuiltIn { seed: model_seed },
        Some(m) if m.get_ref() == "builtin" => ModelChoice::BuiltIn { seed: model_seed },
        Some(m) if is_model_name(m.get_ref()) => ModelChoice::from_reference(m.get_ref(), model_seed, base)
            .map_err(|e| at(m.span(), "network.model", e.to_string()))?,
        Some(m) => ModelChoice::File(existing_file(m, "network.model")?),
    };
    let init = match file.init.from.as_ref() {
        None => InitSpec::Content,
        Some(from) => match from.get_ref().as_str() {
            "content" => InitSpec::Content,
            "noise" => InitSpec::Noise,
            _ => InitSpec::Image(existing_file(from, "init.from")?),
        },
    };
    let multiscale = Multiscale {
        scales: file
            .multiscale
            .scales
            .as_ref()
            .map(|v| check_int(v, "multiscale.scales", limits::SCALES.widen()))
            .transpose()?
            .unwrap_or(1),
        factor: file
            .multiscale
            .factor
            .as_ref()
            .map(|v| check_range(v, "multiscale.factor", limits::SCALE_FACTOR))
            .transpose()?
            .unwrap_or(std::f32::consts::SQRT_2),
        iterations: match &file.multiscale.iterations {
            None => Vec::new(),
            Some(list) => list
                .get_ref()
                .iter()
                .map(|v| check_int(v, "multiscale.iterations", limits::ITERATIONS.widen()))
                .collect::<Result<_>>()?,
        },
    };
    let seed =
        file.init.seed.as_ref().map(|v| check_int(v, "init.seed", limits::SEED)).transpose()?.unwrap_or(0) as u64;

    Ok(Preset {
        name: name.to_string(),
        description: file.description.map(|d| d.into_inner()).unwrap_or_default(),
        source: None,
        styles,
        style_masks,
        content_mask: file.losses.content_mask.as_ref().map(|m| existing_file(m, "losses.content_mask")).transpose()?,
        settings: Settings {
            losses: loss_settings,
            optimiser,
            iterations,
            size,
            style_scale,
            pooling,
            init: crate::stylize::Init::Content,
            seed,
            model,
            multiscale,
            preview_iteration,
            memory_budget_mb,
            spatial: Default::default(),
            colour: ColourControl {
                keep_content_colours: file.colour.keep_content_colours.map(|v| v.into_inner()).unwrap_or(false),
                match_style_colours: file.colour.match_style_colours.map(|v| v.into_inner()).unwrap_or(false),
            },
        },
        init,
    })
}
