//! The memory budget: a run's peak is estimated from its working size before anything is allocated, and a
//! run that would not fit is refused with the largest size that would, instead of being killed by the OS.

use nst_onnx::Layer;

use crate::error::{EngineError, Result};
use crate::fit::tiling::MIN_TILE;

/// Memory a run needs whatever its size (both graphs' weights, ONNX Runtime itself), MiB.
const FIXED_MIB: f64 = 400.0;

/// How a run's sessions use memory, which decides its peak per byte of saved activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryMode {
    /// ONNX Runtime's memory arena (the default).
    Arena,
    /// Low-memory sessions with the forward and backward graphs apart (the losses in Rust).
    LowMemorySeparate,
    /// Low-memory sessions with one evaluation graph (the losses in it).
    LowMemoryEvaluation,
}

impl MemoryMode {
    /// Peak memory per byte of saved activations, measured with `nst bench` at 256 to 1024 px
    /// (docs/performance.md), with a margin: at most 3.9 with the arena, 2.6 for separate low-memory graphs
    /// and 0.93 for the low-memory evaluation graph.
    fn per_activation_byte(self) -> f64 {
        match self {
            MemoryMode::Arena => 4.0,
            MemoryMode::LowMemorySeparate => 3.0,
            MemoryMode::LowMemoryEvaluation => 1.2,
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// Bytes of the ReLU outputs through `deepest` for a `width x height` image (f32): what the forward graph
/// keeps for the backward one.
pub fn saved_activations_bytes(deepest: Layer, width: usize, height: usize) -> usize {
    nst_onnx::forward::layers_through(deepest)
        .map(|layer| layer.channels().1 * (width >> layer.downsampling()) * (height >> layer.downsampling()) * 4)
        .sum()
}

/// The estimated peak memory of optimising a `width x height` image through `deepest`, MiB.
pub fn estimated_peak_mib(deepest: Layer, width: usize, height: usize, mode: MemoryMode) -> f64 {
    let per_byte = mode.per_activation_byte();
    // The images themselves: content, style, optimised image, gradient and optimiser history as planar f32.
    let images = 24.0 * 3.0 * 4.0 * (width * height) as f64;
    FIXED_MIB + (per_byte * saved_activations_bytes(deepest, width, height) as f64 + images) / MIB
}

/// Memory the full-size images of a tiled run hold beside the tile's own buffers, MiB: content, result and
/// optimised image as planar f32, the host's input and output, their conversions, with a margin (120 bytes a
/// pixel).
pub fn tiled_images_mib(width: usize, height: usize) -> f64 {
    120.0 * (width * height) as f64 / MIB
}

/// How a `width x height` optimisation fits the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// In one piece.
    Whole,
    /// In square tiles of this side (multiple of 16, at least [`MIN_TILE`]; cut to the image where smaller).
    Tiles(usize),
}

/// Plans a `width x height` optimisation (multiples of 16) through `deepest` under `budget` MiB: whole when
/// its estimate fits, else in the largest tiles that fit beside the full-size images; refused only when not
/// even one [`MIN_TILE`] tile fits, naming the largest long side that would.
pub fn plan(deepest: Layer, width: usize, height: usize, mode: MemoryMode, budget: Option<f64>) -> Result<Fit> {
    let Some(budget) = budget else { return Ok(Fit::Whole) };
    if estimated_peak_mib(deepest, width, height, mode) <= budget {
        return Ok(Fit::Whole);
    }
    let tiled_need = |w: usize, h: usize, tile: usize| {
        estimated_peak_mib(deepest, tile.min(w), tile.min(h), mode) + tiled_images_mib(w, h)
    };
    let long = width.max(height);
    if let Some(tile) =
        (MIN_TILE / 16..long / 16).rev().map(|k| k * 16).find(|&t| tiled_need(width, height, t) <= budget)
    {
        return Ok(Fit::Tiles(tile));
    }
    let fits = |side: usize| {
        let (w, h) = ((width * side / long).max(16), (height * side / long).max(16));
        estimated_peak_mib(deepest, w, h, mode) <= budget || tiled_need(w, h, MIN_TILE) <= budget
    };
    let largest = (1..=long / 16).rev().map(|k| k * 16).find(|&side| fits(side));
    Err(EngineError::OverBudget {
        width,
        height,
        needed_mib: tiled_need(width, height, MIN_TILE),
        budget_mib: budget,
        largest_side: largest,
    })
}

/// The budget a run must fit: the configured one, else a share of what is available now (`None`: no limit
/// known).
pub fn budget_mib(configured: Option<u64>) -> Option<f64> {
    configured.map(|mib| mib as f64).or_else(nst_files::default_budget_mib)
}

/// Refuses a `width x height` optimisation (multiples of 16) whose estimate exceeds `budget` MiB, naming the
/// largest long side that fits at the same aspect.
pub fn check_budget(deepest: Layer, width: usize, height: usize, mode: MemoryMode, budget: Option<f64>) -> Result<()> {
    let Some(budget) = budget else { return Ok(()) };
    let needed = estimated_peak_mib(deepest, width, height, mode);
    if needed <= budget {
        return Ok(());
    }
    let long = width.max(height);
    let fits = |side: usize| {
        let (w, h) = (width * side / long, height * side / long);
        estimated_peak_mib(deepest, w.max(16), h.max(16), mode) <= budget
    };
    let largest = (1..=long / 16).rev().map(|k| k * 16).find(|&side| fits(side));
    Err(EngineError::OverBudget { width, height, needed_mib: needed, budget_mib: budget, largest_side: largest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_covers_the_measured_peaks() {
        let deepest = Layer::from_index(12).expect("relu5_1");
        // Peaks measured by `nst bench` (docs/performance.md), MiB, in each mode.
        let (arena, separate, evaluation) =
            (MemoryMode::Arena, MemoryMode::LowMemorySeparate, MemoryMode::LowMemoryEvaluation);
        for (size, measured, mode) in [(256, 523.0, arena), (512, 1382.0, arena), (1024, 4795.0, arena)]
            .into_iter()
            .chain([(256, 486.0, separate), (512, 1172.0, separate), (1024, 3423.0, separate)])
            .chain([(256, 485.0, evaluation), (512, 556.0, evaluation), (1024, 1480.0, evaluation)])
        {
            let estimate = estimated_peak_mib(deepest, size, size, mode);
            assert!(estimate >= measured, "{size} px: estimate {estimate:.0} below the measured {measured}");
            assert!(estimate <= 1.6 * measured, "{size} px: estimate {estimate:.0} far above the measured {measured}");
        }
    }

    #[test]
    fn an_over_budget_run_is_refused_with_the_largest_size_that_fits() {
        let deepest = Layer::from_index(12).expect("relu5_1");
        assert!(check_budget(deepest, 512, 512, MemoryMode::Arena, Some(1e6)).is_ok());
        assert!(check_budget(deepest, 512, 512, MemoryMode::Arena, None).is_ok());
        let err = check_budget(deepest, 4096, 2048, MemoryMode::Arena, Some(4000.0)).unwrap_err();
        let EngineError::OverBudget { largest_side: Some(side), .. } = err else { panic!("{err}") };
        assert!(check_budget(deepest, side, side / 2, MemoryMode::Arena, Some(4000.0)).is_ok());
        assert!(check_budget(deepest, side + 16, (side + 16) / 2, MemoryMode::Arena, Some(4000.0)).is_err());
        let message = check_budget(deepest, 64, 64, MemoryMode::Arena, Some(10.0)).unwrap_err().to_string();
        assert!(message.contains("not even"), "{message}");
    }

    #[test]
    fn a_large_image_is_tiled_and_refused_only_when_no_tile_fits() {
        let deepest = Layer::from_index(12).expect("relu5_1");
        assert_eq!(plan(deepest, 512, 512, MemoryMode::Arena, Some(1e6)).unwrap(), Fit::Whole);
        let Fit::Tiles(tile) = plan(deepest, 4096, 4096, MemoryMode::Arena, Some(4000.0)).unwrap() else {
            panic!("not tiled")
        };
        let need = |t: usize| estimated_peak_mib(deepest, t, t, MemoryMode::Arena) + tiled_images_mib(4096, 4096);
        assert!(need(tile) <= 4000.0 && need(tile + 16) > 4000.0, "tile {tile}");
        let err = plan(deepest, 8192, 8192, MemoryMode::Arena, Some(4000.0)).unwrap_err();
        let EngineError::OverBudget { largest_side: Some(side), .. } = err else { panic!("{err}") };
        assert!(plan(deepest, side, side, MemoryMode::Arena, Some(4000.0)).is_ok());
        assert!(plan(deepest, side + 16, side + 16, MemoryMode::Arena, Some(4000.0)).is_err());
        let message = plan(deepest, 512, 512, MemoryMode::Arena, Some(64.0)).unwrap_err().to_string();
        assert!(message.contains("not even one 64x64 tile fits"), "{message}");
    }
}
