//! Reading and writing VGG19 weights as safetensors, under torchvision's tensor names.
//!
//! torchvision's `vgg19()` and timm's `vgg19.tv_in1k` name the convolutions `features.N.weight` and
//! `features.N.bias`, where N counts every module of the feature stack (convolutions, ReLUs and pools), so the
//! 16 convolutions sit at [`TORCHVISION_CONV_INDICES`]. Any other tensor (the classifier, timm's `pre_logits`
//! and `head`) is ignored. The model files this crate stores use the same names and keep their description in
//! the header's metadata.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::OnnxError;
use crate::vgg::{ConvWeights, Layer, Normalisation, Vgg19};

/// The index N of each convolution (conv1_1 .. conv5_4) in torchvision's `features` sequence.
pub const TORCHVISION_CONV_INDICES: [usize; 16] = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34];

/// Metadata key of the description a stored model carries.
const DESCRIPTION_KEY: &str = "nst.description";

/// Prefixes that wrappers put before torchvision's names (`DataParallel`, training frameworks).
const NAME_PREFIXES: [&str; 3] = ["", "module.", "model."];

/// Reads a VGG19 from safetensors bytes; `origin` names them in messages.
pub fn vgg19_from_safetensors_bytes(bytes: &[u8], origin: &str) -> Result<Vgg19, OnnxError> {
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|err| OnnxError::Decode { origin: origin.to_string(), reason: format!("safetensors: {err}") })?;
    let not_vgg = |found: String| OnnxError::NotVgg19 { origin: origin.to_string(), found };
    let prefix = NAME_PREFIXES
        .iter()
        .find(|prefix| tensors.tensor(&format!("{prefix}features.0.weight")).is_ok())
        .ok_or_else(|| not_vgg(format!("no tensor named features.0.weight among {}", some_names(&tensors))))?;
    let convs = Layer::all()
        .map(|layer| {
            let index = TORCHVISION_CONV_INDICES[layer.index()];
            let (cin, cout) = layer.channels();
            let read = |part: &str, shape: &[usize]| -> Result<Vec<f32>, OnnxError> {
                let name = format!("{prefix}features.{index}.{part}");
                let view = tensors.tensor(&name).map_err(|_| {
                    not_vgg(format!("no tensor '{name}' ({} {part}); VGG19 has 16 convolutions", layer.conv_name()))
                })?;
                tensor_f32(&view, shape).map_err(|why| not_vgg(format!("'{name}' ({}): {why}", layer.conv_name())))
            };
            Ok(ConvWeights { weight: read("weight", &[cout, cin, 3, 3])?, bias: read("bias", &[cout])? })
        })
        .collect::<Result<Vec<_>, OnnxError>>()?;
    let stored_description = SafeTensors::read_metadata(bytes)
        .ok()
        .and_then(|(_, metadata)| metadata.metadata().as_ref().and_then(|m| m.get(DESCRIPTION_KEY).cloned()));
    let description =
        stored_description.unwrap_or_else(|| format!("VGG19 from {origin} (torchvision names, safetensors)"));
    Ok(Vgg19 { convs, normalisation: Normalisation::IMAGENET, description })
}

/// The description a model file stored by this crate carries, read from its header alone (a few kilobytes,
/// not its 80 MB of weights); `None` for any other file.
pub fn stored_description(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    /// Our headers hold 32 tensor entries and a description: far below this.
    const MAX_HEADER: u64 = 1 << 20;
    let mut file = std::fs::File::open(path).ok()?;
    let mut length = [0u8; 8];
    file.read_exact(&mut length).ok()?;
    let length = u64::from_le_bytes(length);
    if length > MAX_HEADER {
        return None;
    }
    let mut header = vec![0u8; length as usize];
    file.read_exact(&mut header).ok()?;
    let header: HashMap<String, serde_json::Value> = serde_json::from_slice(&header).ok()?;
    header.get("__metadata__")?.get(DESCRIPTION_KEY)?.as_str().map(str::to_string)
}

/// The 16 convolutions of `model` as safetensors bytes under torchvision's names, with its description.
pub fn vgg19_to_safetensors_bytes(model: &Vgg19) -> Result<Vec<u8>, OnnxError> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = Layer::all()
        .zip(&model.convs)
        .flat_map(|(layer, conv)| {
            let index = TORCHVISION_CONV_INDICES[layer.index()];
            let (cin, cout) = layer.channels();
            [
                (format!("features.{index}.weight"), le_bytes(&conv.weight), vec![cout, cin, 3, 3]),
                (format!("features.{index}.bias"), le_bytes(&conv.bias), vec![cout]),
            ]
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, data, shape)| Ok((name.as_str(), TensorView::new(Dtype::F32, shape.clone(), data)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(|err| OnnxError::NotVgg19 { origin: model.description.clone(), found: err.to_string() })?;
    let metadata = HashMap::from([(DESCRIPTION_KEY.to_string(), model.description.clone())]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|err| OnnxError::NotVgg19 { origin: model.description.clone(), found: err.to_string() })
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A few tensor names, for a message about a file that is not a VGG19.
fn some_names(tensors: &SafeTensors) -> String {
    let mut names = tensors.names();
    names.sort();
    let shown: Vec<&str> = names.iter().take(4).copied().collect();
    format!("{} tensors ({}{})", names.len(), shown.join(", "), if names.len() > 4 { ", ..." } else { "" })
}

/// The finite float32 values of `view`, which must have `shape`.
fn tensor_f32(view: &TensorView, shape: &[usize]) -> Result<Vec<f32>, String> {
    if view.dtype() != Dtype::F32 {
        return Err(format!("data type {:?} (only float32 weights are read)", view.dtype()));
    }
    if view.shape() != shape {
        return Err(format!("shape {:?}; VGG19's is {shape:?}", view.shape()));
    }
    let values: Vec<f32> = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
        return Err(format!("value {bad} is not finite"));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::random_vgg19;

    #[test]
    fn stored_weights_read_back_exactly_with_their_description() {
        let model = random_vgg19(7);
        let bytes = vgg19_to_safetensors_bytes(&model).unwrap();
        let back = vgg19_from_safetensors_bytes(&bytes, "memory").unwrap();
        assert_eq!(back.convs, model.convs);
        assert_eq!(back.description, model.description);
        let path = std::env::temp_dir().join(format!("nst-stored-description-{}.safetensors", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(stored_description(&path).as_deref(), Some(model.description.as_str()));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_wrong_shape_or_a_missing_layer_is_named() {
        let mut model = random_vgg19(1);
        model.convs[3].bias.pop();
        let err = vgg19_to_safetensors_bytes(&model).unwrap_err().to_string();
        assert!(err.contains("(128)") && err.contains("508 bytes"), "{err}");
        let model = random_vgg19(1);
        let bytes = vgg19_to_safetensors_bytes(&model).unwrap();
        let tensors = SafeTensors::deserialize(&bytes).unwrap();
        let kept: Vec<(String, TensorView)> =
            tensors.tensors().into_iter().filter(|(name, _)| name != "features.30.weight").collect();
        let damaged = safetensors::serialize(kept, None).unwrap();
        let err = vgg19_from_safetensors_bytes(&damaged, "damaged.safetensors").unwrap_err().to_string();
        assert!(err.contains("features.30.weight") && err.contains("conv5_2"), "{err}");
    }
}
