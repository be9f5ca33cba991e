//! The VGG19 feature stack: 16 3x3 convolutions in 5 blocks, a ReLU after each, a 2x2 pool after each block.

use crate::OnnxError;

/// Input and output channels of conv1_1 .. conv5_4, in order.
pub const CONV_CHANNELS: [(usize, usize); 16] = [
    (3, 64),
    (64, 64),
    (64, 128),
    (128, 128),
    (128, 256),
    (256, 256),
    (256, 256),
    (256, 256),
    (256, 512),
    (512, 512),
    (512, 512),
    (512, 512),
    (512, 512),
    (512, 512),
    (512, 512),
    (512, 512),
];

/// Block (1..=5) and position in the block (1..=4) of each convolution.
const BLOCK_POSITION: [(usize, usize); 16] = [
    (1, 1),
    (1, 2),
    (2, 1),
    (2, 2),
    (3, 1),
    (3, 2),
    (3, 3),
    (3, 4),
    (4, 1),
    (4, 2),
    (4, 3),
    (4, 4),
    (5, 1),
    (5, 2),
    (5, 3),
    (5, 4),
];

/// One convolution + ReLU of VGG19, by index 0..16 (conv1_1 = 0, conv5_4 = 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Layer(usize);

impl Layer {
    /// Every layer, in network order.
    pub fn all() -> impl Iterator<Item = Layer> {
        (0..16).map(Layer)
    }

    /// The layer at `index` (0..16).
    pub fn from_index(index: usize) -> Option<Layer> {
        (index < 16).then_some(Layer(index))
    }

    /// Parses `relu4_2` (or `conv4_2`, `4_2`).
    pub fn parse(name: &str) -> Result<Layer, OnnxError> {
        let suffix = name.strip_prefix("relu").or_else(|| name.strip_prefix("conv")).unwrap_or(name);
        Layer::all()
            .find(|layer| {
                let (block, position) = layer.block_position();
                suffix == format!("{block}_{position}")
            })
            .ok_or_else(|| OnnxError::UnknownLayer(name.to_string()))
    }

    /// Index 0..16 in network order.
    pub fn index(self) -> usize {
        self.0
    }

    /// (block 1..=5, position 1..=4).
    pub fn block_position(self) -> (usize, usize) {
        BLOCK_POSITION[self.0]
    }

    /// The tap name of this layer's ReLU output, e.g. `relu4_2`.
    pub fn relu_name(self) -> String {
        let (block, position) = self.block_position();
        format!("relu{block}_{position}")
    }

    /// The convolution's name, e.g. `conv4_2`.
    pub fn conv_name(self) -> String {
        let (block, position) = self.block_position();
        format!("conv{block}_{position}")
    }

    /// Input and output channels of the convolution.
    pub fn channels(self) -> (usize, usize) {
        CONV_CHANNELS[self.0]
    }

    /// Whether a 2x2 pool sits between the previous layer and this one (first conv of blocks 2..5).
    pub fn pooled_input(self) -> bool {
        let (block, position) = self.block_position();
        block > 1 && position == 1
    }

    /// How many times the image has been halved before this layer (0 for block 1).
    pub fn downsampling(self) -> usize {
        self.block_position().0 - 1
    }
}

/// The 2x2 pooling between blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pooling {
    /// VGG's own max pooling.
    Max,
    /// Average pooling, which Gatys et al. found gives smoother results.
    Average,
}

impl Pooling {
    /// `max` or `average`.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Max => "max",
            Pooling::Average => "average",
        }
    }
}

/// Per-channel input normalisation `(x - mean) / std` applied to RGB in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalisation {
    /// Channel means (R, G, B).
    pub mean: [f32; 3],
    /// Channel standard deviations (R, G, B).
    pub std: [f32; 3],
}

impl Normalisation {
    /// ImageNet statistics, used by torchvision and by the ONNX model zoo VGG19 (inputs in [0, 1]).
    pub const IMAGENET: Normalisation = Normalisation { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
}

/// Weights of one convolution: `weight` is `[out, in, 3, 3]` row-major, `bias` is `[out]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvWeights {
    /// `[out, in, 3, 3]`, row-major.
    pub weight: Vec<f32>,
    /// `[out]`.
    pub bias: Vec<f32>,
}

/// A VGG19 feature stack: its 16 convolutions, its input normalisation and where it came from.
#[derive(Debug, Clone)]
pub struct Vgg19 {
    /// conv1_1 .. conv5_4.
    pub convs: Vec<ConvWeights>,
    /// What the network expects of its input.
    pub normalisation: Normalisation,
    /// Human-readable origin, shown to users (e.g. "built-in random VGG19 (seed 0)").
    pub description: String,
}

impl Vgg19 {
    /// Weights of `layer`.
    pub fn conv(&self, layer: Layer) -> &ConvWeights {
        &self.convs[layer.index()]
    }

    /// Bytes its weights and biases take as f32: what each copy of the network (the weights themselves, a
    /// session's initialisers) holds in memory.
    pub fn weight_bytes(&self) -> usize {
        self.convs.iter().map(|c| (c.weight.len() + c.bias.len()) * 4).sum()
    }

    /// Multiply-add FLOPs (2 per MAC) of the convolutions up to and including `deepest`, for an image of
    /// `height` x `width` pixels (multiples of 16).
    pub fn forward_flops(deepest: Layer, height: usize, width: usize) -> f64 {
        Layer::all()
            .take_while(|layer| *layer <= deepest)
            .map(|layer| {
                let (cin, cout) = layer.channels();
                let scale = 1usize << layer.downsampling();
                let pixels = (height / scale) * (width / scale);
                2.0 * (cin * cout * 9 * pixels) as f64
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for layer in Layer::all() {
            assert_eq!(Layer::parse(&layer.relu_name()).unwrap(), layer);
            assert_eq!(Layer::parse(&layer.conv_name()).unwrap(), layer);
        }
        assert!(Layer::parse("relu6_1").is_err());
        assert_eq!(Layer::parse("relu4_2").unwrap().index(), 9);
    }

    #[test]
    fn flops_match_the_known_vgg19_count() {
        // conv1_1..conv5_1 at 512 px: 189.4 GFLOP (2 FLOP per multiply-add).
        let gflop = Vgg19::forward_flops(Layer::parse("relu5_1").unwrap(), 512, 512) / 1e9;
        assert!((gflop - 189.4).abs() < 0.5, "{gflop}");
    }
}
