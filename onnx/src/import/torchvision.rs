//! The 16 convolutions of a VGG19 found by torchvision's tensor names, whatever the file format.
//!
//! torchvision's `vgg19()` and timm's `vgg19.tv_in1k` name the convolutions `features.N.weight` and
//! `features.N.bias`, where N counts every module of the feature stack (convolutions, ReLUs and pools), so the
//! 16 convolutions sit at [`TORCHVISION_CONV_INDICES`]. Any other tensor (the classifier, timm's `pre_logits`
//! and `head`) is ignored.

use crate::OnnxError;
use crate::vgg::{ConvWeights, Layer};

/// The index N of each convolution (conv1_1 .. conv5_4) in torchvision's `features` sequence.
pub const TORCHVISION_CONV_INDICES: [usize; 16] = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34];

/// Prefixes that wrappers put before torchvision's names (`DataParallel`, training frameworks).
const NAME_PREFIXES: [&str; 3] = ["", "module.", "model."];

/// A tensor of the file: its shape, and how to read its values (only once the shape is known to be right).
pub(super) struct FoundTensor<'f> {
    pub shape: Vec<usize>,
    pub read: Box<dyn FnOnce() -> Result<Vec<f32>, String> + 'f>,
}

/// The convolutions of the file whose tensors `lookup` finds by name; `names` (a few of the file's tensor
/// names) go into the message when none of torchvision's is there.
pub(super) fn convs_by_torchvision_names<'f>(
    origin: &str,
    names: &[String],
    lookup: impl Fn(&str) -> Option<FoundTensor<'f>>,
) -> Result<Vec<ConvWeights>, OnnxError> {
    let not_vgg = |found: String| OnnxError::NotVgg19 { origin: origin.to_string(), found };
    let prefix = NAME_PREFIXES
        .iter()
        .find(|prefix| lookup(&format!("{prefix}features.0.weight")).is_some())
        .ok_or_else(|| not_vgg(format!("no tensor named features.0.weight among {}", some_names(names))))?;
    Layer::all()
        .map(|layer| {
            let index = TORCHVISION_CONV_INDICES[layer.index()];
            let (cin, cout) = layer.channels();
            let read = |part: &str, shape: &[usize]| -> Result<Vec<f32>, OnnxError> {
                let name = format!("{prefix}features.{index}.{part}");
                let found = lookup(&name).ok_or_else(|| {
                    not_vgg(format!("no tensor '{name}' ({} {part}); VGG19 has 16 convolutions", layer.conv_name()))
                })?;
                if found.shape != shape {
                    let why = format!("shape {:?}; VGG19's is {shape:?}", found.shape);
                    return Err(not_vgg(format!("'{name}' ({}): {why}", layer.conv_name())));
                }
                (found.read)().map_err(|why| not_vgg(format!("'{name}' ({}): {why}", layer.conv_name())))
            };
            Ok(ConvWeights { weight: read("weight", &[cout, cin, 3, 3])?, bias: read("bias", &[cout])? })
        })
        .collect()
}

/// A few tensor names, for a message about a file that is not a VGG19.
fn some_names(names: &[String]) -> String {
    let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
    sorted.sort();
    let shown: Vec<&str> = sorted.iter().take(4).copied().collect();
    format!("{} tensors ({}{})", sorted.len(), shown.join(", "), if sorted.len() > 4 { ", ..." } else { "" })
}
