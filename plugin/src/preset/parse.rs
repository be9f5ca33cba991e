//! Reading a preset's TOML: one function per table, all checking through one [`Checker`] that names the file,
//! the line and the key of whatever it refuses.

use std::ops::Range;
use std::path::{Path, PathBuf};

use nst_onnx::store::is_model_name;
use nst_onnx::{Layer, Pooling};
use nst_sys::limits::{self, Bounds, NST_STYLE_IMAGES_MAX as MAX_STYLE_IMAGES};
use toml::Spanned;

use super::locate::not_a_file;
use super::schema::{
    ColourSection, InitSection, LossesSection, MultiscaleSection, NetworkSection, OptimiserSection, OutputSection,
    PresetFile, SCHEMA_VERSION, StyleSection,
};
use super::{InitSpec, Preset};
use crate::colour::ColourControl;
use crate::error::{EngineError, Result};
use crate::losses::LossSettings;
use crate::optim::{Adam, Lbfgs, Optimiser};
use crate::stylize::{Init, ModelChoice, Multiscale, Settings};

/// Checks values of one preset's text, naming the file, line and key of any it refuses.
struct Checker<'a> {
    text: &'a str,
    origin: &'a str,
    /// Relative paths resolve against this folder.
    base: &'a Path,
}

impl Checker<'_> {
    /// An error at `span` of the text, about `key`.
    fn at(&self, span: Range<usize>, key: &str, problem: String) -> EngineError {
        let line = self.line_of(span);
        EngineError::Preset(format!("preset {}, line {line}, key `{key}`: {problem}", self.origin))
    }

    fn line_of(&self, span: Range<usize>) -> usize {
        self.text[..span.start.min(self.text.len())].matches('\n').count() + 1
    }

    fn real(&self, value: &Spanned<f64>, key: &str, bounds: Bounds<f64>) -> Result<f32> {
        let v = *value.get_ref();
        if !bounds.contains(v) {
            return Err(self.at(value.span(), key, format!("{v} is outside {bounds}")));
        }
        Ok(v as f32)
    }

    fn integer(&self, value: &Spanned<i64>, key: &str, bounds: Bounds<i64>) -> Result<usize> {
        let v = *value.get_ref();
        if !bounds.contains(v) {
            return Err(self.at(value.span(), key, format!("{v} is outside {bounds}")));
        }
        Ok(v as usize)
    }

    fn layer(&self, value: &Spanned<String>, key: &str) -> Result<Layer> {
        Layer::parse(value.get_ref()).map_err(|_| {
            self.at(value.span(), key, format!("'{}' is not a VGG19 layer (relu1_1 .. relu5_4)", value.get_ref()))
        })
    }

    fn file(&self, value: &Spanned<String>, key: &str) -> Result<PathBuf> {
        let path = self.base.join(value.get_ref());
        match not_a_file(&path, value.get_ref()) {
            None => Ok(path),
            Some(problem) => Err(self.at(value.span(), key, format!("{problem} (looked at {})", path.display()))),
        }
    }

    /// A list of layers, each named once: every entry is a Gram matrix computed at every evaluation, so a
    /// repeated one only costs time (25000 copies fit in a preset).
    fn distinct_layers(&self, list: &Spanned<Vec<Spanned<String>>>, key: &str) -> Result<Vec<Layer>> {
        let mut layers: Vec<(Layer, &Spanned<String>)> = Vec::new();
        for entry in list.get_ref() {
            let layer = self.layer(entry, key)?;
            if let Some((_, first)) = layers.iter().find(|(seen, _)| *seen == layer) {
                let first_line = self.line_of(first.span());
                let problem =
                    format!("'{}' is named twice (first on line {first_line}): name each layer once", entry.get_ref());
                return Err(self.at(entry.span(), key, problem));
            }
            layers.push((layer, entry));
        }
        Ok(layers.into_iter().map(|(layer, _)| layer).collect())
    }

    /// A list that must have one entry per item of another (`count` of them).
    fn one_each<T>(&self, list: &Spanned<Vec<T>>, key: &str, count: usize, problem: String) -> Result<()> {
        match list.get_ref().len() == count {
            true => Ok(()),
            false => Err(self.at(list.span(), key, problem)),
        }
    }
}

/// Parses preset TOML; `origin` names it in errors and relative paths resolve against `base`.
pub fn parse_preset(text: &str, name: &str, origin: &str, base: &Path) -> Result<Preset> {
    let file: PresetFile = toml::from_str(text)
        .map_err(|e| EngineError::Preset(format!("preset {origin}: {}", e.to_string().trim_end())))?;
    let checker = Checker { text, origin, base };
    if *file.version.get_ref() != SCHEMA_VERSION {
        return Err(checker.at(
            file.version.span(),
            "version",
            format!("{} is not supported: expected {SCHEMA_VERSION}", file.version.get_ref()),
        ));
    }
    let style = style_table(&checker, &file.style)?;
    let (losses, content_mask) = losses_table(&checker, &file.losses)?;
    let (optimiser, iterations) = optimiser_table(&checker, &file.optimiser)?;
    let output = output_table(&checker, &file.output)?;
    let (pooling, model) = network_table(&checker, &file.network)?;
    let (init, seed) = init_table(&checker, &file.init)?;
    Ok(Preset {
        name: name.to_string(),
        description: file.description.map(|d| d.into_inner()).unwrap_or_default(),
        source: None,
        styles: style.images,
        style_masks: style.masks,
        content_mask,
        settings: Settings {
            losses,
            optimiser,
            iterations,
            size: output.size,
            style_scale: style.scale,
            pooling,
            init: Init::Content,
            seed,
            model,
            multiscale: multiscale_table(&checker, &file.multiscale)?,
            preview_iteration: output.preview_at,
            memory_budget_mb: output.memory_budget_mb,
            spatial: Default::default(),
            content_detail: false,
            colour: colour_table(&file.colour),
        },
        init,
    })
}

/// `[style]`, read.
struct StyleTable {
    images: Vec<(PathBuf, f32)>,
    masks: Vec<PathBuf>,
    scale: f32,
}

/// `[style]`: images (an empty list is allowed: a host may pass its own), their blend weights and masks, and
/// their size relative to the output.
fn style_table(c: &Checker, style: &StyleSection) -> Result<StyleTable> {
    let count = style.images.get_ref().len();
    // Counted before any file is looked at: each image is read and run through the network.
    if count > MAX_STYLE_IMAGES {
        return Err(c.at(style.images.span(), "style.images", format!("{count} images; at most {MAX_STYLE_IMAGES}")));
    }
    let weights: Vec<f32> = match &style.weights {
        None => vec![1.0; count],
        Some(weights) => {
            let given = weights.get_ref().len();
            c.one_each(weights, "style.weights", count, format!("{given} weights for {count} images"))?;
            let bounds = Bounds { min: 1e-6, max: limits::NST_STYLE_BLEND_MAX };
            weights.get_ref().iter().map(|w| c.real(w, "style.weights", bounds)).collect::<Result<_>>()?
        }
    };
    let images = style
        .images
        .get_ref()
        .iter()
        .zip(weights)
        .map(|(image, weight)| Ok((c.file(image, "style.images")?, weight)))
        .collect::<Result<Vec<_>>>()?;
    let masks = match &style.masks {
        None => Vec::new(),
        Some(masks) => {
            let given = masks.get_ref().len();
            let problem = format!("{given} masks for {count} images: give one mask per image");
            c.one_each(masks, "style.masks", count, problem)?;
            masks.get_ref().iter().map(|m| c.file(m, "style.masks")).collect::<Result<Vec<_>>>()?
        }
    };
    let scale = style.scale.as_ref().map(|s| c.real(s, "style.scale", limits::STYLE_SCALE)).transpose()?.unwrap_or(1.0);
    Ok(StyleTable { images, masks, scale })
}

/// `[losses]`: the layers, their weights, and the content mask's file.
fn losses_table(c: &Checker, losses: &LossesSection) -> Result<(LossSettings, Option<PathBuf>)> {
    let style_layers: Vec<Layer> = match &losses.style_layers {
        None => ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
            .iter()
            .map(|n| Layer::parse(n).expect("known"))
            .collect(),
        Some(list) => {
            if list.get_ref().is_empty() {
                return Err(c.at(list.span(), "losses.style_layers", "at least one layer is required".into()));
            }
            c.distinct_layers(list, "losses.style_layers")?
        }
    };
    let layers = style_layers.len();
    let layer_weights: Vec<f32> = match &losses.style_layer_weights {
        None => vec![1.0 / layers as f32; layers],
        Some(list) => {
            let given = list.get_ref().len();
            c.one_each(
                list,
                "losses.style_layer_weights",
                layers,
                format!("{given} weights for {layers} style layers"),
            )?;
            let key = "losses.style_layer_weights";
            list.get_ref().iter().map(|w| c.real(w, key, limits::STYLE_LAYER_WEIGHT)).collect::<Result<_>>()?
        }
    };
    let weight = |value: &Option<Spanned<f64>>, key: &str, bounds: Bounds<f64>, default: f32| {
        value.as_ref().map(|v| c.real(v, key, bounds)).transpose().map(|v| v.unwrap_or(default))
    };
    let settings = LossSettings {
        content_layer: losses
            .content_layer
            .as_ref()
            .map(|l| c.layer(l, "losses.content_layer"))
            .transpose()?
            .unwrap_or_else(|| Layer::parse("relu4_2").expect("known")),
        content_weight: weight(&losses.content_weight, "losses.content_weight", limits::CONTENT_WEIGHT, 1.0)?,
        style_layers: style_layers.into_iter().zip(layer_weights).collect(),
        style_weight: weight(
            &losses.style_weight,
            "losses.style_weight",
            limits::STYLE_WEIGHT,
            limits::DEFAULT_STYLE_WEIGHT as f32,
        )?,
        tv_weight: weight(&losses.tv_weight, "losses.tv_weight", limits::TV_WEIGHT, limits::DEFAULT_TV_WEIGHT as f32)?,
    };
    let content_mask = losses.content_mask.as_ref().map(|m| c.file(m, "losses.content_mask")).transpose()?;
    Ok((settings, content_mask))
}

/// `[optimiser]`: the method with its own settings, and the iterations.
fn optimiser_table(c: &Checker, opt: &OptimiserSection) -> Result<(Optimiser, usize)> {
    let iterations = opt
        .iterations
        .as_ref()
        .map(|v| c.integer(v, "optimiser.iterations", limits::ITERATIONS.widen()))
        .transpose()?
        .unwrap_or(limits::DEFAULT_ITERATIONS as usize);
    let optimiser = match opt.method.as_ref().map(|m| m.get_ref().as_str()).unwrap_or("lbfgs") {
        "lbfgs" => Optimiser::Lbfgs(Lbfgs {
            history: opt
                .history
                .as_ref()
                .map(|v| c.integer(v, "optimiser.history", limits::LBFGS_HISTORY.widen()))
                .transpose()?
                .unwrap_or(10),
            line_search: opt.line_search.as_ref().map(|v| *v.get_ref()).unwrap_or(true),
        }),
        "adam" => Optimiser::Adam(Adam {
            learning_rate: opt
                .learning_rate
                .as_ref()
                .map(|v| c.real(v, "optimiser.learning_rate", limits::LEARNING_RATE))
                .transpose()?
                .unwrap_or(0.02),
        }),
        other => {
            let span = opt.method.as_ref().expect("method given").span();
            let problem = format!("'{other}' is not an optimiser: expected lbfgs or adam");
            return Err(c.at(span, "optimiser.method", problem));
        }
    };
    Ok((optimiser, iterations))
}

/// `[output]`, read.
struct OutputTable {
    size: Option<usize>,
    preview_at: Option<usize>,
    memory_budget_mb: Option<u64>,
}

/// `[output]`: the long side, the preview's iteration and a memory budget.
fn output_table(c: &Checker, output: &OutputSection) -> Result<OutputTable> {
    let integer = |value: &Option<Spanned<i64>>, key: &str, bounds: Bounds<i64>| {
        value.as_ref().map(|v| c.integer(v, key, bounds)).transpose()
    };
    Ok(OutputTable {
        size: integer(&output.size, "output.size", limits::SIZE.widen())?,
        preview_at: integer(&output.preview_at, "output.preview_at", limits::ITERATIONS.widen())?,
        memory_budget_mb: integer(
            &output.memory_budget_mb,
            "output.memory_budget_mb",
            limits::MEMORY_BUDGET_MIB.widen(),
        )?
        .map(|mib| mib as u64),
    })
}

/// `[network]`: pooling and the model (built-in with a seed, an installed model's name, or a file).
fn network_table(c: &Checker, network: &NetworkSection) -> Result<(Pooling, ModelChoice)> {
    let pooling = match network.pooling.as_ref().map(|p| p.get_ref().as_str()).unwrap_or("average") {
        "max" => Pooling::Max,
        "average" => Pooling::Average,
        other => {
            let span = network.pooling.as_ref().expect("given").span();
            return Err(c.at(span, "network.pooling", format!("'{other}' is not a pooling: expected max or average")));
        }
    };
    let seed =
        network.model_seed.as_ref().map(|v| c.integer(v, "network.model_seed", limits::SEED)).transpose()?.unwrap_or(0)
            as u64;
    let model = match network.model.as_ref() {
        None => ModelChoice::BuiltIn { seed },
        Some(m) if m.get_ref() == "builtin" => ModelChoice::BuiltIn { seed },
        Some(m) if is_model_name(m.get_ref()) => ModelChoice::from_reference(m.get_ref(), seed, c.base)
            .map_err(|e| c.at(m.span(), "network.model", e.to_string()))?,
        Some(m) => ModelChoice::File(c.file(m, "network.model")?),
    };
    Ok((pooling, model))
}

/// `[init]`: where the run starts, and the noise's seed.
fn init_table(c: &Checker, init: &InitSection) -> Result<(InitSpec, u64)> {
    let start = match init.from.as_ref() {
        None => InitSpec::Content,
        Some(from) => match from.get_ref().as_str() {
            "content" => InitSpec::Content,
            "noise" => InitSpec::Noise,
            _ => InitSpec::Image(c.file(from, "init.from")?),
        },
    };
    let seed = init.seed.as_ref().map(|v| c.integer(v, "init.seed", limits::SEED)).transpose()?.unwrap_or(0) as u64;
    Ok((start, seed))
}

/// `[multiscale]`: coarse-to-fine scales, their ratio and their iterations.
fn multiscale_table(c: &Checker, multiscale: &MultiscaleSection) -> Result<Multiscale> {
    Ok(Multiscale {
        scales: multiscale
            .scales
            .as_ref()
            .map(|v| c.integer(v, "multiscale.scales", limits::SCALES.widen()))
            .transpose()?
            .unwrap_or(1),
        factor: multiscale
            .factor
            .as_ref()
            .map(|v| c.real(v, "multiscale.factor", limits::SCALE_FACTOR))
            .transpose()?
            .unwrap_or(std::f32::consts::SQRT_2),
        iterations: match &multiscale.iterations {
            None => Vec::new(),
            // One entry per scale at most: entries past the last scale would be read and never used.
            Some(list) if list.get_ref().len() > limits::NST_SCALES_MAX as usize => {
                let problem =
                    format!("{} entries; at most {} (one per scale)", list.get_ref().len(), limits::NST_SCALES_MAX);
                return Err(c.at(list.span(), "multiscale.iterations", problem));
            }
            Some(list) => list
                .get_ref()
                .iter()
                .map(|v| c.integer(v, "multiscale.iterations", limits::ITERATIONS.widen()))
                .collect::<Result<_>>()?,
        },
    })
}

/// `[colour]`: two switches, off unless given.
fn colour_table(colour: &ColourSection) -> ColourControl {
    ColourControl {
        keep_content_colours: colour.keep_content_colours.as_ref().map(|v| *v.get_ref()).unwrap_or(false),
        match_style_colours: colour.match_style_colours.as_ref().map(|v| *v.get_ref()).unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nst-preset-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn refusal(text: &str, base: &Path) -> String {
        let message = parse_preset(text, "test", "test.toml", base).expect_err("must be refused").to_string();
        println!("{message}");
        message
    }

    #[test]
    fn a_style_layer_named_twice_is_refused_with_its_line() {
        let text = "version = 1\n[style]\nimages = []\n[losses]\nstyle_layers = [\n  \"relu1_1\",\n  \"relu2_1\",\n  \"relu1_1\",\n]\n";
        let message = refusal(text, Path::new("."));
        assert!(message.contains("preset test.toml, line 8, key `losses.style_layers`"), "{message}");
        assert!(message.contains("'relu1_1' is named twice (first on line 6)"), "{message}");
        // The 25000 copies that fit in a preset file stop at the second.
        let copies = vec!["\"relu1_1\""; 25_000].join(", ");
        let message = refusal(
            &format!("version = 1\n[style]\nimages = []\n[losses]\nstyle_layers = [{copies}]\n"),
            Path::new("."),
        );
        assert!(message.contains("'relu1_1' is named twice"), "{message}");
    }

    #[test]
    fn more_iterations_than_scales_can_use_are_refused() {
        let list = ["10"; 9].join(", ");
        let text = format!("version = 1\n[style]\nimages = []\n[multiscale]\nscales = 2\niterations = [{list}]\n");
        let message = refusal(&text, Path::new("."));
        assert!(message.contains("key `multiscale.iterations`: 9 entries; at most 8"), "{message}");
    }

    #[test]
    fn a_style_image_that_is_no_regular_file_is_named_for_what_it_is() {
        let dir = scratch("kinds");
        std::fs::create_dir_all(dir.join("folder.png")).unwrap();
        let refused = |name: &str| refusal(&format!("version = 1\n[style]\nimages = [\"{name}\"]\n"), &dir);
        let message = refused("folder.png");
        assert!(message.contains("test.toml, line 3, key `style.images`: 'folder.png' is a folder"), "{message}");
        assert!(refused("gone.png").contains("file 'gone.png' not found"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("loop.png"), dir.join("loop.png")).unwrap();
            let message = refused("loop.png");
            assert!(message.contains("key `style.images`: 'loop.png' is a symbolic link that cannot be followed"));
            assert!(message.contains("os error"), "{message}");
            let message = refused("loop.png/inside.png");
            assert!(message.contains("'loop.png/inside.png' cannot be resolved"), "{message}");
            let fifo = std::ffi::CString::new(dir.join("pipe.png").to_str().unwrap()).unwrap();
            // SAFETY: a NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
            assert!(refused("pipe.png").contains("'pipe.png' is a FIFO (named pipe), not a regular file"));
            assert!(refused("/dev/null").contains("'/dev/null' is a device, not a regular file"));
            // Standard input is a terminal, a pipe, /dev/null or closed here, unless a file was redirected to it.
            if !std::fs::metadata("/dev/stdin").is_ok_and(|m| m.is_file()) {
                let message = refused("/dev/stdin");
                assert!(message.contains("'/dev/stdin' is a") && !message.contains("not found"), "{message}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
