//! A style image's Gram matrices at each style layer, summed over its positions: the style's statistics,
//! computed once and scaled to whatever size (or tile) is optimised.

use crate::error::Result;
use crate::fit::tiling::{Rect, cells_with_halo, crop};
use crate::image_io::Planar;
use crate::losses::LossSettings;
use crate::losses::gram::gram;
use crate::losses::style::StyleTarget;
use crate::network::{Network, Pass};

/// Per style layer (in [`LossSettings::style_layers`] order): the Gram matrix summed over `positions`.
#[derive(Debug, Clone)]
pub struct StyleGrams {
    layers: Vec<LayerGram>,
}

#[derive(Debug, Clone)]
struct LayerGram {
    sum: Vec<f32>,
    channels: usize,
    positions: usize,
}

impl StyleGrams {
    /// From one forward pass over the whole style image.
    pub fn whole(network: &mut Network, settings: &LossSettings, style: &Planar) -> Result<Self> {
        let mut pass = network.pass(style.height, style.width)?;
        pass.load(style)?;
        network.forward(&mut pass)?;
        let layers = settings
            .style_layers
            .iter()
            .map(|(layer, _)| {
                let map = pass.feature(*layer).expect("style layer is a tap");
                let mut sum = vec![0.0; map.channels * map.channels];
                gram(map.values, map.channels, map.positions, &mut sum);
                LayerGram { sum, channels: map.channels, positions: map.positions }
            })
            .collect();
        Ok(StyleGrams { layers })
    }

    /// From tiles of at most `tile` pixels a side (multiple of 16), for style images too large for one pass:
    /// the image is cut into cells, each run with `halo` pixels of context around it, and only the cell's own
    /// positions enter the sum, so every position counts once and mostly sees the context it would see whole.
    pub fn tiled(
        network: &mut Network,
        settings: &LossSettings,
        style: &Planar,
        tile: usize,
        halo: usize,
    ) -> Result<Self> {
        let mut layers: Vec<Option<LayerGram>> = vec![None; settings.style_layers.len()];
        // Most tiles share one size (only the last row and column differ): their buffers are reused.
        let mut pass: Option<Pass> = None;
        for (tile_rect, cell) in cells_with_halo(style.width, style.height, tile, halo) {
            let part = Planar {
                width: tile_rect.width,
                height: tile_rect.height,
                rgb: crop(&style.rgb, 3, style.width, tile_rect),
                alpha: None,
            };
            let pass = match pass.take() {
                Some(reused) if (reused.width(), reused.height()) == (part.width, part.height) => pass.insert(reused),
                _ => pass.insert(network.pass(part.height, part.width)?),
            };
            pass.load(&part)?;
            network.forward(pass)?;
            for (slot, (layer, _)) in layers.iter_mut().zip(&settings.style_layers) {
                let map = pass.feature(*layer).expect("style layer is a tap");
                let level = layer.downsampling();
                let feature_rect = Rect {
                    x: (cell.x - tile_rect.x) >> level,
                    y: (cell.y - tile_rect.y) >> level,
                    width: cell.width >> level,
                    height: cell.height >> level,
                };
                let cell_features = crop(map.values, map.channels, tile_rect.width >> level, feature_rect);
                let positions = feature_rect.width * feature_rect.height;
                let mut part_gram = vec![0.0; map.channels * map.channels];
                gram(&cell_features, map.channels, positions, &mut part_gram);
                let entry = slot.get_or_insert_with(|| LayerGram {
                    sum: vec![0.0; part_gram.len()],
                    channels: map.channels,
                    positions: 0,
                });
                entry.sum.iter_mut().zip(&part_gram).for_each(|(acc, g)| *acc += g);
                entry.positions += positions;
            }
        }
        Ok(StyleGrams { layers: layers.into_iter().map(|l| l.expect("at least one cell")).collect() })
    }

    /// The target of style layer `index` for an output feature map of `output_positions` positions.
    pub fn target(&self, index: usize, output_positions: usize) -> StyleTarget {
        let layer = &self.layers[index];
        StyleTarget::from_gram_sum(layer.sum.clone(), layer.channels, layer.positions, output_positions)
    }
}
