//! The exported graphs against an independent f64 oracle, through conv5_1, both poolings.
//!
//! Forward: ONNX Runtime's feature maps match a plain-loop f64 VGG19. Backward: with
//! L(x) = sum over taps t of <u_t, relu_t(x)> for fixed random u_t, the backward graph fed u_t returns dL/dx, checked
//! per coordinate against central differences of the f64 forward (f32 differences drown in rounding noise on a
//! 13-layer network). L is piecewise linear in x, so a central difference is exact unless a ReLU or max-pool kink
//! lies within +-eps; such coordinates show one-sided slopes that disagree and are skipped (and counted).

use crate::support::reference::reference_features;
use crate::support::{TestRng, ort_environment};
use nst::network::{LossPlacement, Network};
use nst::runtime::{Provider, SessionOptions};
use nst_onnx::random::random_vgg19;
use nst_onnx::{Layer, Pooling};

const SIZE: usize = 32;
const EPS: f64 = 1e-4;
const COORDINATES: usize = 16;

fn tap_layers() -> Vec<Layer> {
    ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
        .iter()
        .map(|n| Layer::parse(n).unwrap())
        .collect()
}

fn reference_objective(
    model: &nst_onnx::Vgg19,
    pooling: Pooling,
    image: &[f64],
    upstream: &[(Layer, Vec<f32>)],
) -> f64 {
    let deepest = upstream.iter().map(|(l, _)| *l).max().unwrap();
    let features = reference_features(model, pooling, image, SIZE, SIZE, deepest);
    upstream
        .iter()
        .map(|(layer, u)| features[layer.index()].iter().zip(u).map(|(f, u)| f * *u as f64).sum::<f64>())
        .sum()
}

fn check(pooling: Pooling) {
    let env = ort_environment();
    let model = std::sync::Arc::new(random_vgg19(3));
    let options = SessionOptions { provider: Provider::Cpu, threads: 2, low_memory: false, device: None };
    let mut network = Network::new(&env, &model, &tap_layers(), pooling, options, LossPlacement::Rust).unwrap();
    let mut pass = network.pass(SIZE, SIZE).unwrap();
    let mut rng = TestRng(11);
    let image: Vec<f32> = (0..3 * SIZE * SIZE).map(|_| rng.unit()).collect();
    let image64: Vec<f64> = image.iter().map(|v| *v as f64).collect();

    pass.image_mut().copy_from_slice(&image);
    network.forward(&mut pass).unwrap();

    // Forward graph against the oracle.
    let reference = reference_features(&model, pooling, &image64, SIZE, SIZE, Layer::parse("relu5_1").unwrap());
    for layer in tap_layers() {
        let ours = pass.feature(layer).unwrap().values;
        let theirs = &reference[layer.index()];
        let scale = theirs.iter().map(|v| v * v).sum::<f64>().sqrt();
        let diff = ours.iter().zip(theirs).map(|(a, b)| (*a as f64 - b).powi(2)).sum::<f64>().sqrt();
        println!(
            "forward {} ({} pooling): relative L2 difference {:.2e}",
            layer.relu_name(),
            pooling.name(),
            diff / scale
        );
        assert!(
            diff / scale < 1e-4,
            "{}: forward differs from the f64 reference by {:.2e}",
            layer.relu_name(),
            diff / scale
        );
    }

    // Upstream gradients, scaled so every tap contributes comparably.
    let upstream: Vec<(Layer, Vec<f32>)> = {
        let (features, mut gradients) = pass.taps_and_gradients();
        features
            .iter()
            .zip(gradients.iter_mut())
            .map(|(feature, gradient)| {
                let u: Vec<f32> =
                    (0..feature.values.len()).map(|_| rng.symmetric() / feature.values.len() as f32).collect();
                gradient.copy_from_slice(&u);
                (feature.layer, u)
            })
            .collect()
    };
    network.backward(&mut pass).unwrap();
    let analytic = pass.image_gradient().to_vec();

    let centre = reference_objective(&model, pooling, &image64, &upstream);
    let (mut checked, mut kinks, mut worst) = (0, 0, 0.0f64);
    let mut probe = image64.clone();
    while checked < COORDINATES {
        let i = rng.below(image.len());
        probe[i] = image64[i] + EPS;
        let plus = reference_objective(&model, pooling, &probe, &upstream);
        probe[i] = image64[i] - EPS;
        let minus = reference_objective(&model, pooling, &probe, &upstream);
        probe[i] = image64[i];
        let (right, left) = ((plus - centre) / EPS, (centre - minus) / EPS);
        if (right - left).abs() > 1e-6 * right.abs().max(left.abs()) + 1e-12 {
            kinks += 1;
            assert!(kinks < 50, "too many kinks: the check cannot find smooth coordinates");
            continue;
        }
        let numeric = (plus - minus) / (2.0 * EPS);
        let exact = analytic[i] as f64;
        let relative = (numeric - exact).abs() / numeric.abs().max(exact.abs()).max(1e-12);
        worst = worst.max(relative);
        checked += 1;
    }
    println!(
        "backward graph, {} pooling, through relu5_1 at {SIZE}px: {checked} coordinates, worst relative error {worst:.2e} ({kinks} kinks skipped)",
        pooling.name()
    );
    assert!(worst <= 1e-3, "worst relative error {worst:.3e} > 1e-3");
}

#[test]
fn graphs_match_the_f64_oracle_with_max_pooling() {
    check(Pooling::Max);
}

#[test]
fn graphs_match_the_f64_oracle_with_average_pooling() {
    check(Pooling::Average);
}
