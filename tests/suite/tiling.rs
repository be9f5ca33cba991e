//! Images beyond the memory budget: a budget too small for the whole image makes the engine optimise it in
//! overlapping tiles, with style statistics from the whole style image, and the result shows no seams.

use crate::support::{ort_environment, root};
use nst::fit::memory::{MemoryMode, estimated_peak_mib, tiled_images_mib};
use nst::fit::tiling::{overlap_for, sweep_tiles};
use nst::image_io::{Planar, read_image};
use nst::losses::LossSettings;
use nst::optim::Control;
use nst::preset::load_preset;
use nst::runtime::Provider;
use nst::stylize::{Engine, EngineConfig, Settings};
use nst::targets::StyleGrams;
use nst_onnx::Layer;

const SIZE: usize = 256;
const TILE: usize = 128;

fn mosaic() -> (Settings, Planar) {
    let preset = load_preset("mosaic", Some(&root().join("presets"))).unwrap();
    let style = read_image(&preset.styles[0].0).unwrap();
    (preset.settings, style)
}

fn deepest(losses: &LossSettings) -> Layer {
    *losses.taps().iter().max().unwrap()
}

/// A budget that fits `TILE`-pixel tiles of a `SIZE` image, but not the whole image nor larger tiles.
fn tile_budget(losses: &LossSettings) -> u64 {
    let need = estimated_peak_mib(deepest(losses), TILE, TILE, MemoryMode::Arena) + tiled_images_mib(SIZE, SIZE);
    need.ceil() as u64 + 1
}

/// Mean absolute step between each column and the previous one (index 0 unused), over rows and channels.
fn column_steps(image: &Planar) -> Vec<f64> {
    let (w, h) = (image.width, image.height);
    let mut steps = vec![0.0; w];
    for plane in image.rgb.chunks(w * h) {
        for row in plane.chunks(w) {
            for x in 1..w {
                steps[x] += (row[x] - row[x - 1]).abs() as f64;
            }
        }
    }
    steps.iter().map(|s| s / (3 * h) as f64).collect()
}

/// How much each column's step stands out from its neighbours' (3 on each side): a seam is a step the
/// columns around it do not have.
fn seam_scores(steps: &[f64]) -> Vec<(usize, f64)> {
    (4..steps.len() - 3)
        .map(|x| {
            let around: f64 = (1..=3).map(|d| steps[x - d] + steps[x + d]).sum::<f64>() / 6.0;
            (x, steps[x] / around.max(1e-6))
        })
        .collect()
}

fn transposed(image: &Planar) -> Planar {
    let (w, h) = (image.width, image.height);
    let rgb = image.rgb.chunks(w * h).flat_map(|plane| (0..w * h).map(move |i| plane[(i % h) * w + i / h])).collect();
    Planar { width: h, height: w, rgb, alpha: None }
}

/// Mean seam score on tile-border columns, and the mean elsewhere.
fn border_scores(image: &Planar, borders: &[usize]) -> (f64, f64) {
    let scores = seam_scores(&column_steps(image));
    let mean = |values: Vec<f64>| values.iter().sum::<f64>() / values.len() as f64;
    let on = mean(scores.iter().filter(|(x, _)| borders.contains(x)).map(|(_, s)| *s).collect());
    let off = mean(scores.iter().filter(|(x, _)| !borders.contains(x)).map(|(_, s)| *s).collect());
    (on, off)
}

/// `image` with every column from each edge on offset by `step`, alternately up and down: hard-pasted tiles.
fn with_steps(image: &Planar, edges: &[usize], step: f32) -> Planar {
    let mut pasted = image.clone();
    for plane in pasted.rgb.chunks_mut(image.width * image.height) {
        for row in plane.chunks_mut(image.width) {
            for (x, v) in row.iter_mut().enumerate() {
                let crossed = edges.iter().filter(|e| **e <= x).count();
                *v = (*v + if crossed % 2 == 1 { step } else { 0.0 }).clamp(0.0, 1.0);
            }
        }
    }
    pasted
}

/// Every inner tile edge of every sweep, along one axis.
fn inner_edges(iterations: usize) -> Vec<usize> {
    let mut edges: Vec<usize> = (0..iterations.min(3))
        .flat_map(|sweep| sweep_tiles(SIZE, SIZE, TILE, TILE, sweep))
        .flat_map(|t| [t.x, t.x + t.width])
        .filter(|&x| x > 0 && x < SIZE)
        .collect();
    edges.sort();
    edges.dedup();
    edges
}

#[test]
fn an_image_over_the_budget_is_optimised_in_tiles_without_seams() {
    ort_environment();
    let (mut settings, style) = mosaic();
    settings.size = Some(SIZE);
    settings.iterations = 12;
    // The preset's ceiling (`output.memory_budget_mb`) lowers the engine's budget for this run only.
    let budget = tile_budget(&settings.losses);
    let mut tiled_settings = settings.clone();
    tiled_settings.memory_budget_mb = Some(budget);
    let mut engine = Engine::new(&EngineConfig { provider: Provider::Cpu, ..EngineConfig::default() }).unwrap();
    let content = read_image(&root().join("presets/samples/astronaut.png")).unwrap();
    let mut progress = Vec::new();
    let result = engine
        .stylize(&content, &[(style, 1.0)], &tiled_settings, &mut |p| {
            progress.push((p.iteration, p.total));
            Control::Continue
        })
        .unwrap();
    assert_eq!(result.tile, Some((TILE, TILE)), "budget {budget} MiB");
    assert_eq!((result.image.width, result.image.height), (SIZE, SIZE));
    let (last, total) = *progress.last().unwrap();
    assert_eq!(last, total, "progress reaches its total");
    assert!(total >= 9 * 12, "every tile of every sweep counts: {total}");

    // Tiles weigh the content as the whole image does, so they stylize about as strongly as a whole run.
    let whole = engine.stylize(&content, &[(mosaic().1, 1.0)], &settings, &mut |_| Control::Continue).unwrap();
    assert_eq!(whole.tile, None);
    let sized = content.resized(SIZE, SIZE);
    let (tiled_change, whole_change) =
        (result.image.mean_abs_difference(&sized), whole.image.mean_abs_difference(&sized));
    println!("mean change from the content: tiled {tiled_change:.4}, whole {whole_change:.4}");
    assert!(tiled_change > 0.03, "the tiles were hardly optimised: {tiled_change}");
    assert!(
        (0.75..=1.33).contains(&(tiled_change / whole_change)),
        "tiled change {tiled_change:.4} against whole {whole_change:.4}"
    );

    let edges = inner_edges(settings.iterations);
    for (axis, image) in [("columns", result.image.clone()), ("rows", transposed(&result.image))] {
        let (on, off) = border_scores(&image, &edges);
        println!("{axis}: mean seam score {on:.3} on tile borders, {off:.3} elsewhere");
        assert!(on < off + SEAM_MARGIN, "{axis}: tile borders step {on:.3}x their neighbours, elsewhere {off:.3}x");
    }
}

/// How much more than elsewhere a tile border may stand out before it counts as a seam.
const SEAM_MARGIN: f64 = 0.1;

#[test]
fn the_seam_score_finds_hard_pasted_tiles() {
    let content = read_image(&root().join("presets/samples/astronaut.png")).unwrap().resized(SIZE, SIZE);
    let edges = inner_edges(12);
    for step in [0.0, 0.005, 0.01, 0.02, 0.03] {
        let (on, off) = border_scores(&with_steps(&content, &edges, step), &edges);
        println!("step {step}: {on:.3} on borders, {off:.3} elsewhere");
    }
    let (on, off) = border_scores(&with_steps(&content, &edges, 0.02), &edges);
    assert!(on >= off + SEAM_MARGIN, "steps of 0.02 at the tile borders score {on:.3}, elsewhere {off:.3}");
}

#[test]
fn tiled_style_statistics_match_the_whole_image() {
    ort_environment();
    let (settings, style) = mosaic();
    let style = style.resized(SIZE, SIZE);
    let mut engine = Engine::new(&EngineConfig { provider: Provider::Cpu, ..EngineConfig::default() }).unwrap();
    let network = engine.network_for(&settings).unwrap();
    let whole = StyleGrams::whole(network, &settings.losses, &style).unwrap();
    let tiled = StyleGrams::tiled(network, &settings.losses, &style, TILE, overlap_for(TILE)).unwrap();
    for (i, (layer, _)) in settings.losses.style_layers.iter().enumerate() {
        let (a, b) = (whole.target(i, 1000).gram, tiled.target(i, 1000).gram);
        let norm = a.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
        let diff = a.iter().zip(&b).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>().sqrt();
        println!("{}: relative difference {:.4}", layer.relu_name(), diff / norm);
        assert!(diff / norm < 0.1, "{}: tiled Gram differs by {:.3}", layer.relu_name(), diff / norm);
    }
}
