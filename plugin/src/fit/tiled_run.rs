//! One scale optimised in tiles, for images whose whole-image run would not fit the memory budget.
//!
//! Every tile pulls toward the same style statistics (the whole style image's Gram matrices, scaled to the
//! tile) and toward its own part of the content. The image is swept several times, the tile grid shifted each
//! sweep; each tile is optimised from the image's current state and faded back in over the overlap.

use crate::error::Result;
use crate::fit::tiling::{Rect, blend_into, crop, feather, sweep_tiles};
use crate::image_io::Planar;
use crate::losses::LossSettings;
use crate::losses::LossTerms;
use crate::network::Network;
use crate::objective::StyleObjective;
use crate::optim::{Control, Optimiser};
use crate::targets::{StyleGrams, Targets, WorkingMasks};

/// Sweeps over the image: each tile's iterations are split across them, so borders move between visits.
pub(crate) const SWEEPS: usize = 3;

/// What a tiled scale optimises.
pub struct TiledScale<'a> {
    /// The losses.
    pub losses: &'a LossSettings,
    /// The optimiser, restarted at each tile visit.
    pub optimiser: &'a Optimiser,
    /// The content at the working size.
    pub content: &'a Planar,
    /// The styles' statistics with blend weights.
    pub styles: &'a [(StyleGrams, f32)],
    /// Spatial control at the working size.
    pub masks: &'a WorkingMasks,
    /// Tile width and height (multiples of 16, at most the image's).
    pub tile: (usize, usize),
    /// Iterations each pixel's tiles get, over all sweeps.
    pub iterations: usize,
}

/// Progress within a tiled (or whole) scale.
pub struct ScaleStep<'a> {
    /// Iterations done in this scale.
    pub iteration: usize,
    /// Evaluations done in this scale.
    pub evaluations: usize,
    /// The latest evaluation's terms (of the current tile when tiled).
    pub terms: LossTerms,
    /// The working image as it stands (when tiled: as of the last tile blended in).
    pub image: &'a [f32],
}

/// Iterations to visit a split into `sweeps` visits, the first ones taking the remainder.
fn visit_iterations(iterations: usize, sweeps: usize, sweep: usize) -> usize {
    iterations / sweeps + usize::from(sweep < iterations % sweeps)
}

/// The sweeps over a `width x height` image in `tile_w x tile_h` tiles: their tiles and each visit's iterations.
fn plan_sweeps(
    width: usize,
    height: usize,
    tile_w: usize,
    tile_h: usize,
    iterations: usize,
) -> Vec<(Vec<Rect>, usize)> {
    let sweeps = iterations.clamp(1, SWEEPS);
    (0..sweeps)
        .map(|sweep| (sweep_tiles(width, height, tile_w, tile_h, sweep), visit_iterations(iterations, sweeps, sweep)))
        .collect()
}

/// Optimiser iterations over all tiles and sweeps (what progress counts) of a `width x height` image in
/// square tiles of `tile` pixels (cut to the image) with `iterations` per pixel.
pub fn tiled_iterations(width: usize, height: usize, tile: usize, iterations: usize) -> usize {
    plan_sweeps(width, height, tile.min(width), tile.min(height), iterations)
        .iter()
        .map(|(tiles, its)| tiles.len() * its)
        .sum()
}

impl TiledScale<'_> {
    /// Optimises `image` (planar RGB, `width x height`) in place. Returns the evaluations done and the last
    /// sweep's terms in whole-image units: each averaged over the tiles (every term is per position).
    pub fn optimise(
        &self,
        network: &mut Network,
        image: &mut [f32],
        width: usize,
        height: usize,
        observe: &mut dyn FnMut(&ScaleStep) -> Control,
    ) -> Result<(usize, LossTerms)> {
        let (tile_w, tile_h) = self.tile;
        // The loss terms are per position: a tile weighs them as the whole image does.
        let losses = self.losses.clone();
        let (mut done, mut evaluations) = (0, 0);
        // All tiles have one size: one set of buffers serves them all.
        let mut tile_pass = network.pass(tile_h, tile_w)?;
        let mut last_sweep = LossTerms::default();
        for (tiles, iterations) in plan_sweeps(width, height, tile_w, tile_h, self.iterations) {
            last_sweep = LossTerms::default();
            let tile_count = tiles.len();
            for rect in tiles {
                let content =
                    Planar { width: tile_w, height: tile_h, rgb: crop(&self.content.rgb, 3, width, rect), alpha: None };
                let masks = self.masks.crop(width, rect);
                let targets = Targets::from_grams(network, &mut tile_pass, &losses, &content, self.styles, &masks)?;
                let mut objective = StyleObjective::new(network, tile_pass, losses.clone(), targets)?;
                let latest = objective.latest_terms();
                let mut tile = crop(image, 3, width, rect);
                let (base_done, base_evaluations) = (done, evaluations);
                let whole: &[f32] = image;
                let outcome = self.optimiser.minimise(&mut tile, iterations, &mut objective, &mut |step, _| {
                    done = base_done + step.iteration;
                    observe(&ScaleStep {
                        iteration: done,
                        evaluations: base_evaluations + step.evaluations,
                        terms: latest.get(),
                        image: whole,
                    })
                });
                tile_pass = objective.into_pass();
                evaluations += outcome?;
                done = base_done + iterations;
                blend_into(image, 3, width, rect, &tile, &feather(rect, width, height));
                let terms = latest.get();
                last_sweep.content += terms.content / tile_count as f64;
                last_sweep.style += terms.style / tile_count as f64;
                last_sweep.total_variation += terms.total_variation / tile_count as f64;
            }
        }
        Ok((evaluations, last_sweep))
    }
}
