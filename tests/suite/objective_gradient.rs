//! The whole image gradient (Rust losses + backward graph + total variation) against central differences of an
//! independent f64 computation of the same objective (plain-loop VGG19, f64 Gram matrices and losses, in their
//! unit-free form: content `sum (F - P)^2 / sum P^2`, style `sum (G - A)^2 / sum A^2` per layer, total
//! variation per pixel).

use std::sync::Arc;

use crate::support::reference::reference_features;
use crate::support::{TestRng, ort_environment};
use nst::image_io::Planar;
use nst::losses::LossSettings;
use nst::network::{LossPlacement, Network};
use nst::objective::StyleObjective;
use nst::runtime::{Provider, SessionOptions};
use nst::targets::{Targets, WorkingMasks};
use nst_onnx::random::random_vgg19;
use nst_onnx::{Layer, Pooling, Vgg19};

const SIZE: usize = 32;
const EPS: f64 = 1e-4;

fn settings() -> LossSettings {
    LossSettings {
        content_layer: Layer::parse("relu4_2").unwrap(),
        content_weight: 30.0,
        style_layers: ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
            .iter()
            .map(|n| (Layer::parse(n).unwrap(), 0.2))
            .collect(),
        style_weight: 30.0,
        tv_weight: 0.5,
    }
}

fn random_image(rng: &mut TestRng, size: usize) -> Planar {
    Planar { width: size, height: size, rgb: (0..3 * size * size).map(|_| rng.unit()).collect(), alpha: None }
}

fn gram64(features: &[f64], channels: usize) -> Vec<f64> {
    let positions = features.len() / channels;
    let mut gram = vec![0.0; channels * channels];
    for i in 0..channels {
        for j in 0..channels {
            gram[i * channels + j] =
                (0..positions).map(|p| features[i * positions + p] * features[j * positions + p]).sum();
        }
    }
    gram
}

/// The objective in f64, with targets computed in f64 from the same images.
struct Reference<'a> {
    model: &'a Vgg19,
    pooling: Pooling,
    settings: LossSettings,
    content_target: Vec<f64>,
    style_targets: Vec<Vec<f64>>,
}

impl<'a> Reference<'a> {
    fn new(model: &'a Vgg19, pooling: Pooling, settings: LossSettings, content: &Planar, style: &Planar) -> Self {
        let deepest = settings.taps().into_iter().max().unwrap();
        let to64 = |p: &Planar| p.rgb.iter().map(|v| *v as f64).collect::<Vec<_>>();
        let content_features = reference_features(model, pooling, &to64(content), SIZE, SIZE, deepest);
        let style_features = reference_features(model, pooling, &to64(style), SIZE, SIZE, deepest);
        let content_target = content_features[settings.content_layer.index()].clone();
        let style_targets =
            settings.style_layers.iter().map(|(l, _)| gram64(&style_features[l.index()], l.channels().1)).collect();
        Reference { model, pooling, settings, content_target, style_targets }
    }

    fn loss(&self, image: &[f64]) -> f64 {
        let deepest = self.settings.taps().into_iter().max().unwrap();
        let features = reference_features(self.model, self.pooling, image, SIZE, SIZE, deepest);
        let content = &features[self.settings.content_layer.index()];
        let squared = |values: &[f64]| values.iter().map(|v| v * v).sum::<f64>();
        let mut loss = self.settings.content_weight as f64
            * content.iter().zip(&self.content_target).map(|(f, p)| (f - p).powi(2)).sum::<f64>()
            / squared(&self.content_target);
        for ((layer, weight), target) in self.settings.style_layers.iter().zip(&self.style_targets) {
            let channels = layer.channels().1;
            let gram = gram64(&features[layer.index()], channels);
            let sum: f64 = gram.iter().zip(target).map(|(g, a)| (g - a).powi(2)).sum();
            loss += self.settings.style_weight as f64 * *weight as f64 * sum / squared(target);
        }
        let plane = SIZE * SIZE;
        let mut tv = 0.0;
        for c in 0..3 {
            for y in 0..SIZE {
                for x in 0..SIZE {
                    let at = c * plane + y * SIZE + x;
                    if x + 1 < SIZE {
                        tv += (image[at + 1] - image[at]).powi(2);
                    }
                    if y + 1 < SIZE {
                        tv += (image[at + SIZE] - image[at]).powi(2);
                    }
                }
            }
        }
        loss + self.settings.tv_weight as f64 * tv / plane as f64
    }
}

#[test]
fn objective_gradient_matches_finite_differences_of_the_f64_objective() {
    let env = ort_environment();
    let model = Arc::new(random_vgg19(5));
    let pooling = Pooling::Average;
    let settings = settings();
    let mut rng = TestRng(21);
    let (content, style, start) =
        (random_image(&mut rng, SIZE), random_image(&mut rng, SIZE), random_image(&mut rng, SIZE));

    let options = SessionOptions { provider: Provider::Cpu, threads: 2, low_memory: false, device: None };
    let mut network = Network::new(&env, &model, &settings.taps(), pooling, options, LossPlacement::Rust).unwrap();
    let mut pass = network.pass(SIZE, SIZE).unwrap();
    let targets =
        Targets::compute(&mut network, &mut pass, &settings, &content, &[(style.clone(), 1.0)], &Default::default())
            .unwrap();
    let mut objective = StyleObjective::new(&mut network, pass, settings.clone(), targets).unwrap();
    let mut gradient = vec![0.0f32; start.rgb.len()];
    let terms = objective.evaluate_terms(&start.rgb, &mut gradient).unwrap();

    let reference = Reference::new(&model, pooling, settings, &content, &style);
    let x: Vec<f64> = start.rgb.iter().map(|v| *v as f64).collect();
    let centre = reference.loss(&x);
    let relative_loss = (terms.total() - centre).abs() / centre;
    println!(
        "objective {:.6e} = content {:.3e} + style {:.3e} + tv {:.3e} (f32 engine) vs {centre:.6e} (f64): relative difference {relative_loss:.2e}",
        terms.total(),
        terms.content,
        terms.style,
        terms.total_variation
    );
    // Each term must weigh in, or the check would not test it.
    for term in [terms.content, terms.style, terms.total_variation] {
        assert!(term > 0.05 * terms.total(), "unbalanced terms: {terms:?}");
    }
    assert!(relative_loss < 1e-4, "loss differs by {relative_loss:.2e}");

    let (mut checked, mut kinks, mut worst) = (0, 0, 0.0f64);
    let mut probe = x.clone();
    while checked < 12 {
        let i = rng.below(x.len());
        probe[i] = x[i] + EPS;
        let plus = reference.loss(&probe);
        probe[i] = x[i] - EPS;
        let minus = reference.loss(&probe);
        probe[i] = x[i];
        // The objective is smooth except at ReLU / pool kinks, where one-sided slopes jump.
        let (right, left) = ((plus - centre) / EPS, (centre - minus) / EPS);
        let curvature_allowance = 1e-3 * right.abs().max(left.abs());
        if (right - left).abs() > curvature_allowance + 1e-9 {
            kinks += 1;
            assert!(kinks < 60, "too many kinks");
            continue;
        }
        let numeric = (plus - minus) / (2.0 * EPS);
        let exact = gradient[i] as f64;
        let relative = (numeric - exact).abs() / numeric.abs().max(exact.abs()).max(1e-9);
        worst = worst.max(relative);
        checked += 1;
    }
    println!(
        "image gradient at {SIZE}px: {checked} coordinates, worst relative error {worst:.2e} ({kinks} kinks skipped)"
    );
    assert!(worst <= 1e-3, "worst relative error {worst:.3e}");
}

/// Complementary left/right style masks and a content mask fading from top to bottom, at `SIZE`.
fn masks() -> WorkingMasks {
    let left: Vec<f32> = (0..SIZE * SIZE).map(|i| if i % SIZE < SIZE / 2 { 1.0 } else { 0.1 }).collect();
    let right = left.iter().map(|m| 1.1 - m).collect();
    let content = (0..SIZE * SIZE).map(|i| (i / SIZE) as f32 / SIZE as f32).collect();
    WorkingMasks { style: vec![left, right], content: Some(content) }
}

/// The loss-and-backward graph (what a GPU runs) against the Rust losses (the reference), on the CPU provider:
/// same terms, same image gradient, for both poolings, with a layer that is both a content and a style tap, and
/// with style and content masks (guided Gram matrices of two styles, per-position content weights).
#[test]
fn graph_losses_match_the_rust_losses() {
    let env = ort_environment();
    let model = Arc::new(random_vgg19(7));
    let mut rng = TestRng(33);
    let (content, style, start) =
        (random_image(&mut rng, SIZE), random_image(&mut rng, SIZE), random_image(&mut rng, SIZE));
    let second_style = random_image(&mut rng, SIZE);
    let mut shared_tap = settings();
    shared_tap.style_layers.push((Layer::parse("relu4_2").unwrap(), 0.5));
    let cases = [
        (Pooling::Max, settings(), WorkingMasks::default()),
        (Pooling::Average, shared_tap, WorkingMasks::default()),
        (Pooling::Max, settings(), masks()),
    ];
    for (pooling, settings, masks) in cases {
        let styles = match masks.style.len() {
            0 => vec![(style.clone(), 1.0)],
            _ => vec![(style.clone(), 1.0), (second_style.clone(), 2.0)],
        };
        let options = SessionOptions { provider: Provider::Cpu, threads: 2, low_memory: false, device: None };
        let mut results = Vec::new();
        for in_graph in [false, true] {
            let placement = if in_graph { LossPlacement::Graph } else { LossPlacement::Rust };
            let mut network = Network::new(&env, &model, &settings.taps(), pooling, options, placement).unwrap();
            let mut pass = network.pass(SIZE, SIZE).unwrap();
            let targets = Targets::compute(&mut network, &mut pass, &settings, &content, &styles, &masks).unwrap();
            let mut objective = StyleObjective::new(&mut network, pass, settings.clone(), targets).unwrap();
            assert_eq!(objective.losses_in_graph(), in_graph);
            let mut gradient = vec![0.0f32; start.rgb.len()];
            // Two evaluations: the second must see the new image, not a copy bound earlier.
            objective.evaluate_terms(&content.rgb, &mut gradient).unwrap();
            let terms = objective.evaluate_terms(&start.rgb, &mut gradient).unwrap();
            // The pass is released by the objective and serves the next image's targets.
            let mut pass = objective.into_pass();
            assert!(!pass.has_graph_losses());
            Targets::compute(&mut network, &mut pass, &settings, &style, &styles, &Default::default()).unwrap();
            results.push((terms, gradient));
        }
        let ((rust, rust_gradient), (graph, graph_gradient)) = (&results[0], &results[1]);
        let relative = |a: f64, b: f64| (a - b).abs() / a.abs().max(b.abs());
        let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        let difference: Vec<f32> = rust_gradient.iter().zip(graph_gradient).map(|(a, b)| a - b).collect();
        let gradient_error = norm(&difference) / norm(rust_gradient);
        println!(
            "{} pooling, {} style masks: style {:.6e} vs {:.6e}, content {:.6e} vs {:.6e}, gradient error {gradient_error:.2e}",
            pooling.name(),
            masks.style.len(),
            rust.style,
            graph.style,
            rust.content,
            graph.content
        );
        assert!(rust.style > 0.0 && rust.content > 0.0, "{rust:?}");
        assert!(relative(rust.style, graph.style) < 1e-4, "style {} vs {}", rust.style, graph.style);
        assert!(relative(rust.content, graph.content) < 1e-4, "content {} vs {}", rust.content, graph.content);
        assert_eq!(rust.total_variation, graph.total_variation);
        assert!(gradient_error < 1e-4, "gradient differs by {gradient_error:.2e}");
    }
}

/// Low-memory sessions (no arena, no blocked layout) compute the same objective and gradient.
#[test]
fn low_memory_sessions_compute_the_same_objective() {
    let env = ort_environment();
    let model = Arc::new(random_vgg19(9));
    let settings = settings();
    let mut rng = TestRng(45);
    let (content, style, start) =
        (random_image(&mut rng, SIZE), random_image(&mut rng, SIZE), random_image(&mut rng, SIZE));
    let mut results = Vec::new();
    for low_memory in [false, true] {
        let options = SessionOptions { provider: Provider::Cpu, threads: 2, low_memory, device: None };
        let mut network =
            Network::new(&env, &model, &settings.taps(), Pooling::Max, options, LossPlacement::Auto).unwrap();
        let mut pass = network.pass(SIZE, SIZE).unwrap();
        let styles = [(style.clone(), 1.0)];
        let targets =
            Targets::compute(&mut network, &mut pass, &settings, &content, &styles, &Default::default()).unwrap();
        let mut objective = StyleObjective::new(&mut network, pass, settings.clone(), targets).unwrap();
        let mut gradient = vec![0.0f32; start.rgb.len()];
        let terms = objective.evaluate_terms(&start.rgb, &mut gradient).unwrap();
        results.push((terms.total(), gradient));
    }
    let ((total, gradient), (low_total, low_gradient)) = (&results[0], &results[1]);
    let scale = gradient.iter().map(|g| g.abs()).fold(0.0f32, f32::max);
    let worst = gradient.iter().zip(low_gradient).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max) / scale;
    println!("objective {total:.6e} vs {low_total:.6e}, worst gradient difference {worst:.2e} of its largest entry");
    assert!((total - low_total).abs() < 1e-5 * total, "{total} vs {low_total}");
    assert!(worst < 1e-4, "gradients differ by {worst:.2e}");
}
