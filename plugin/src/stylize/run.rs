//! The run loop: plan every scale against the memory budget, then for each scale the start image, the style
//! statistics and the optimisation, and finally the result at the output size.

use super::settings::{PREVIEW_SIDE, style_working_size, validate};
use super::{Engine, Init, Settings, output_size};
use std::time::Instant;

use nst_onnx::random::SplitMix64;

use crate::colour::{join_luminance_with_chroma, luminance_image, match_colours};
use crate::error::{EngineError, Result};
use crate::fit::memory::Fit;
use crate::fit::tiled_run::{ScaleStep, TiledScale, tiled_iterations};
use crate::fit::tiling::overlap_for;
use crate::image_io::Planar;
use crate::losses::LossTerms;
use crate::network::Network;
use crate::objective::StyleObjective;
use crate::optim::Control;
use crate::runtime::Provider;
use crate::targets::{StyleGrams, Targets};

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

impl Engine {
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
        let plan = self.plan_scales(content, styles, settings)?;
        let (out_w, out_h) = plan.output;
        let colour = settings.colour;
        let (mut done, mut evaluations) = (0, 0);
        let mut previous: Option<Planar> = None;
        let mut terms = LossTerms::default();
        let (mut provider, mut model) = (Provider::Cpu, String::new());
        for scale in &plan.scales {
            let (work_w, work_h) = scale.size;
            let content_sized = content.resized(work_w, work_h);
            // Luminance-only transfer optimises a grey image; the content's chroma is joined back at the end.
            let optimised_content =
                if colour.keep_content_colours { luminance_image(&content_sized) } else { content_sized.clone() };
            let mut image = start_image(settings, previous.as_ref(), &optimised_content, scale.size);
            let style_grams = self.style_statistics(styles, &scale.style_fits, &content_sized, settings)?;
            let network = self.network_for(settings)?;
            provider = network.provider();
            model = network.model_description().to_string();
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
                    total: plan.total,
                    terms: step.terms,
                    evaluations: offset.1 + step.evaluations,
                })
            };
            let (scale_evaluations, scale_terms) =
                optimise_scale(network, settings, scale, &optimised_content, &style_grams, &mut image, &mut on_step)?;
            evaluations += scale_evaluations;
            terms = scale_terms;
            previous = Some(Planar { width: work_w, height: work_h, rgb: image, alpha: None });
        }
        let last = plan.scales.last().expect("at least one scale");
        Ok(Stylized {
            image: finish(previous.expect("at least one scale"), content, settings, last.size, plan.output),
            terms,
            provider,
            model,
            working_size: last.size,
            tile: match last.fit {
                Fit::Whole => None,
                Fit::Tiles(side) => Some((side.min(last.size.0), side.min(last.size.1))),
            },
            iterations: done,
            evaluations,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Plans every scale and style image against the memory budget before any work, and checks the preview
    /// iteration against the iterations they add up to.
    fn plan_scales(&mut self, content: &Planar, styles: &[(Planar, f32)], settings: &Settings) -> Result<RunPlan> {
        let output = output_size(content.width, content.height, settings.size);
        let schedule = settings.multiscale.schedule(output.0, output.1, settings.iterations);
        let deepest = *settings
            .losses
            .taps()
            .iter()
            .max()
            .ok_or_else(|| EngineError::Internal("loss settings without a layer".into()))?;
        if let Some(&(w, h, _)) = schedule.last() {
            self.yield_caches_to(settings, deepest, w, h);
        }
        let mut scales = Vec::with_capacity(schedule.len());
        for (work_w, work_h, iterations) in schedule {
            let fit = self.plan_memory(deepest, work_w, work_h, settings)?;
            let style_fits = styles
                .iter()
                .map(|(style, _)| {
                    let (w, h) = style_working_size(style, work_w, work_h, settings.style_scale);
                    Ok(((w, h), self.plan_memory(deepest, w, h, settings)?))
                })
                .collect::<Result<Vec<_>>>()?;
            scales.push(ScalePlan { size: (work_w, work_h), iterations, fit, style_fits });
        }
        let total: usize = scales
            .iter()
            .map(|scale| match scale.fit {
                Fit::Whole => scale.iterations,
                Fit::Tiles(tile) => tiled_iterations(scale.size.0, scale.size.1, tile, scale.iterations),
            })
            .sum();
        if let Some(at) = settings.preview_iteration.filter(|&at| at == 0 || at > total) {
            return Err(EngineError::InvalidArgument(format!(
                "preview iteration {at} is outside the run's iterations 1..={total}"
            )));
        }
        Ok(RunPlan { output, scales, total })
    }

    /// Each style image's Gram statistics at its working size for this scale, with its blend weight: colours
    /// matched to the content, or reduced to luminance, as the settings ask.
    fn style_statistics(
        &mut self,
        styles: &[(Planar, f32)],
        fits: &[((usize, usize), Fit)],
        content_sized: &Planar,
        settings: &Settings,
    ) -> Result<Vec<(StyleGrams, f32)>> {
        let colour = settings.colour;
        let mut statistics = Vec::with_capacity(styles.len());
        for ((style, weight), &((w, h), fit)) in styles.iter().zip(fits) {
            let mut sized = style.resized(w, h);
            if colour.match_style_colours {
                sized = match_colours(&sized, content_sized);
            }
            if colour.keep_content_colours {
                sized = luminance_image(&sized);
            }
            let network = self.network_for(settings)?;
            let grams = match fit {
                Fit::Whole => StyleGrams::whole(network, &settings.losses, &sized)?,
                Fit::Tiles(side) => StyleGrams::tiled(network, &settings.losses, &sized, side, overlap_for(side))?,
            };
            statistics.push((grams, *weight));
        }
        Ok(statistics)
    }
}

/// One scale of a run, planned before any work.
struct ScalePlan {
    /// Working width and height (multiples of 16).
    size: (usize, usize),
    iterations: usize,
    /// Whole, or in tiles of this side.
    fit: Fit,
    /// Each style image's working size and fit.
    style_fits: Vec<((usize, usize), Fit)>,
}

/// Every scale of a run, coarse to fine, and the iterations they add up to.
struct RunPlan {
    output: (usize, usize),
    scales: Vec<ScalePlan>,
    total: usize,
}

/// Where a scale starts: the coarser scale's result upsampled, else the settings' start (content, seeded noise
/// or an image), in luminance when keeping the content's colours.
fn start_image(settings: &Settings, coarser: Option<&Planar>, content: &Planar, size: (usize, usize)) -> Vec<f32> {
    let (w, h) = size;
    match (coarser, &settings.init) {
        (Some(coarser), _) => coarser.resized(w, h).rgb,
        (None, Init::Content) => content.rgb.clone(),
        (None, Init::Noise) => {
            let mut rng = SplitMix64(settings.seed);
            (0..3 * w * h).map(|_| rng.unit()).collect()
        }
        (None, Init::Image(image)) if settings.colour.keep_content_colours => luminance_image(&image.resized(w, h)).rgb,
        (None, Init::Image(image)) => image.resized(w, h).rgb,
    }
}

/// Optimises `image` at one scale, whole or in tiles; the evaluations done and the last terms.
fn optimise_scale(
    network: &mut Network,
    settings: &Settings,
    scale: &ScalePlan,
    content: &Planar,
    styles: &[(StyleGrams, f32)],
    image: &mut [f32],
    on_step: &mut dyn FnMut(&ScaleStep) -> Control,
) -> Result<(usize, LossTerms)> {
    let (work_w, work_h) = scale.size;
    // The loss terms are per position, so a coarse scale weighs them as the output does.
    let losses = settings.losses.clone();
    let masks = settings.spatial.at(work_w, work_h);
    match scale.fit {
        Fit::Whole => {
            let mut pass = network.pass(work_h, work_w)?;
            let targets = Targets::from_grams(network, &mut pass, &losses, content, styles, &masks)?;
            let mut objective = StyleObjective::new(network, pass, losses, targets)?;
            let latest = objective.latest_terms();
            let evaluations =
                settings.optimiser.minimise(image, scale.iterations, &mut objective, &mut |step, current| {
                    on_step(&ScaleStep {
                        iteration: step.iteration,
                        evaluations: step.evaluations,
                        terms: latest.get(),
                        image: current,
                    })
                })?;
            Ok((evaluations, latest.get()))
        }
        Fit::Tiles(side) => {
            let tiled = TiledScale {
                losses: &losses,
                optimiser: &settings.optimiser,
                content,
                styles,
                masks: &masks,
                tile: (side.min(work_w), side.min(work_h)),
                iterations: scale.iterations,
            };
            tiled.optimise(network, image, work_w, work_h, on_step)
        }
    }
}

/// The last scale's result at the output size: the content's chroma joined back when keeping its colours, and
/// its alpha carried over.
fn finish(
    result: Planar,
    content: &Planar,
    settings: &Settings,
    working: (usize, usize),
    output: (usize, usize),
) -> Planar {
    let mut result = result;
    if settings.colour.keep_content_colours {
        result = join_luminance_with_chroma(&result, &content.resized(working.0, working.1));
    }
    let mut result = result.resized(output.0, output.1);
    result.alpha = content.alpha.as_ref().map(|_| content.resized(output.0, output.1).alpha.expect("has alpha"));
    result
}
