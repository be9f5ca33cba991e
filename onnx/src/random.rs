//! The built-in offline VGG19: seeded random weights.
//!
//! Weights are He-uniform, `U(-sqrt(6 / fan_in), sqrt(6 / fan_in))` with `fan_in = in_channels * 9`, biases zero.
//! He initialisation keeps activation variance roughly constant through the ReLU stack, so every tap carries
//! signal. The generator is SplitMix64 seeded with `seed` and the layer index; uniforms are built from integer bits
//! and only `sqrt` and multiplication (exactly rounded in IEEE 754) touch floats, so the weights are bit-for-bit
//! identical on every machine.

use crate::vgg::{ConvWeights, Layer, Normalisation, Vgg19};

/// SplitMix64 (Steele, Lea & Flood 2014): small, fast, and fully specified; shared by every seeded draw.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1): 24 random bits, exactly representable in f32.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32
    }

    /// Uniform in [-1, 1): 24 random bits, exactly representable in f32.
    pub fn symmetric_unit(&mut self) -> f32 {
        let bits = (self.next_u64() >> 40) as i32; // 0 .. 2^24
        (bits - (1 << 23)) as f32 / (1u32 << 23) as f32
    }
}

/// The built-in VGG19 with He-uniform weights drawn from `seed`.
pub fn random_vgg19(seed: u64) -> Vgg19 {
    random_vgg19_through(seed, Layer::from_index(15).expect("16 layers"))
}

/// The built-in VGG19 with the weights of conv1_1 ..= `deepest` only (each layer draws from its own stream, so
/// these equal the full network's first layers bit for bit); graphs that stop at `deepest` need no more.
pub fn random_vgg19_through(seed: u64, deepest: Layer) -> Vgg19 {
    let convs = Layer::all()
        .take_while(|layer| *layer <= deepest)
        .map(|layer| {
            let (cin, cout) = layer.channels();
            let bound = (6.0f64 / (cin * 9) as f64).sqrt() as f32;
            let mut rng = SplitMix64(seed ^ ((layer.index() as u64 + 1) << 56));
            let weight = (0..cout * cin * 9).map(|_| rng.symmetric_unit() * bound).collect();
            ConvWeights { weight, bias: vec![0.0; cout] }
        })
        .collect();
    Vgg19 {
        convs,
        normalisation: Normalisation::IMAGENET,
        description: format!("built-in random-weight VGG19 (He-uniform, seed {seed}; not pretrained)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(model: &Vgg19) -> u64 {
        model
            .convs
            .iter()
            .flat_map(|conv| conv.weight.iter())
            .fold(0xcbf29ce484222325u64, |hash, w| (hash ^ w.to_bits() as u64).wrapping_mul(0x100000001b3))
    }

    #[test]
    fn same_seed_same_bits_and_the_fingerprint_is_pinned() {
        let a = random_vgg19(7);
        let b = random_vgg19(7);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&random_vgg19(8)));
        // The first weights are fixed forever: a change here changes every user's results.
        let first: Vec<u32> = a.convs[0].weight[..3].iter().map(|w| w.to_bits()).collect();
        assert_eq!(first, PINNED_FIRST_WEIGHTS);
    }

    #[test]
    fn a_truncated_network_has_the_same_first_layers() {
        let full = random_vgg19(9);
        let short = random_vgg19_through(9, Layer::parse("relu2_1").unwrap());
        assert_eq!(short.convs.len(), 3);
        assert_eq!(short.convs[..], full.convs[..3]);
    }

    #[test]
    fn weights_lie_within_the_he_bound_and_have_its_variance() {
        let model = random_vgg19(0);
        for layer in Layer::all() {
            let (cin, _) = layer.channels();
            let bound = (6.0f64 / (cin * 9) as f64).sqrt();
            let weights = &model.conv(layer).weight;
            assert!(weights.iter().all(|w| (*w as f64).abs() <= bound));
            let variance = weights.iter().map(|w| (*w as f64).powi(2)).sum::<f64>() / weights.len() as f64;
            let expected = bound * bound / 3.0;
            assert!(
                (variance / expected - 1.0).abs() < 0.05,
                "{} variance {variance} vs {expected}",
                layer.conv_name()
            );
        }
    }

    const PINNED_FIRST_WEIGHTS: [u32; 3] = [3197827181, 1037445088, 3190026295];
}
