//! Coarse-to-fine from the paper's white-noise start reaches the single-scale run's final loss for less work:
//! counted in objective evaluations weighted by their scale's pixel count (an evaluation's cost is its
//! convolutions', proportional to pixels), so the check does not depend on the machine's speed. Wall-clock
//! figures at 512 px are in docs/performance.md (`cargo bench --bench coarse_to_fine`).

use crate::support::{ort_environment, root};
use nst::image_io::read_image;
use nst::optim::Control;
use nst::preset::load_preset;
use nst::runtime::Provider;
use nst::stylize::{Engine, EngineConfig, Init, Multiscale};

const SIZE: usize = 256;
const ITERATIONS: usize = 60;
const COARSE_ITERATIONS: usize = 20;

#[test]
fn coarse_to_fine_reaches_the_single_scale_loss_for_fewer_pixel_weighted_evaluations() {
    ort_environment();
    let mut engine = Engine::new(&EngineConfig { provider: Provider::Cpu, ..EngineConfig::default() }).unwrap();
    let preset = load_preset("mosaic", Some(&root().join("presets"))).unwrap();
    let content = read_image(&root().join("presets/samples/astronaut.png")).unwrap();
    let styles: Vec<_> = preset.styles.iter().map(|(p, w)| (read_image(p).unwrap(), *w)).collect();
    let mut settings = preset.settings;
    settings.size = Some(SIZE);
    settings.iterations = ITERATIONS;
    settings.init = Init::Noise;

    let single = engine.stylize(&content, &styles, &settings, &mut |_| Control::Continue).unwrap();
    let target = single.terms.total();
    let single_cost = single.evaluations as f64;

    settings.multiscale = Multiscale {
        scales: 3,
        iterations: vec![COARSE_ITERATIONS, COARSE_ITERATIONS, 3 * ITERATIONS],
        ..Multiscale::default()
    };
    let schedule = settings.multiscale.schedule(SIZE, SIZE, ITERATIONS);
    let area = |k: usize| (schedule[k].0 * schedule[k].1) as f64 / (SIZE * SIZE) as f64;
    let mut at_scale_end = Vec::new();
    let mut reached = None;
    let outcome = engine.stylize(&content, &styles, &settings, &mut |p| {
        if p.iteration == COARSE_ITERATIONS || p.iteration == 2 * COARSE_ITERATIONS {
            at_scale_end.push(p.evaluations);
        }
        if p.iteration > 2 * COARSE_ITERATIONS && p.terms.total() <= target {
            reached = Some((p.evaluations, p.iteration - 2 * COARSE_ITERATIONS));
            return Control::Cancel;
        }
        Control::Continue
    });
    let (evaluations, full_iterations) =
        reached.unwrap_or_else(|| panic!("target {target:.4e} not reached: {outcome:?}"));
    let cost = at_scale_end[0] as f64 * area(0)
        + (at_scale_end[1] - at_scale_end[0]) as f64 * area(1)
        + (evaluations - at_scale_end[1]) as f64;
    println!(
        "single scale: {single_cost} evaluations at {SIZE} px to {target:.4e}; coarse-to-fine ({}, {}, {} px): {cost:.1} \
         full-size evaluation equivalents, {full_iterations} full-size iterations",
        schedule[0].0, schedule[1].0, schedule[2].0
    );
    assert!(cost < single_cost, "coarse-to-fine cost {cost:.1} against the single scale's {single_cost}");
}
