//! Reading and writing VGG19 weights as safetensors, under torchvision's tensor names
//! ([`super::torchvision`]). The model files this crate stores use the same names and keep their description
//! in the header's metadata.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::torchvision::{FoundTensor, TORCHVISION_CONV_INDICES, convs_by_torchvision_names};
use crate::OnnxError;
use crate::vgg::{Layer, Normalisation, Vgg19};

/// Metadata key of the description a stored model carries.
const DESCRIPTION_KEY: &str = "nst.description";

/// Reads a VGG19 from safetensors bytes; `origin` names them in messages.
pub fn vgg19_from_safetensors_bytes(bytes: &[u8], origin: &str) -> Result<Vgg19, OnnxError> {
    let tensors = SafeTensors::deserialize(bytes).map_err(|err| super::unreadable(origin, "safetensors file", err))?;
    let names: Vec<String> = tensors.names().into_iter().map(str::to_string).collect();
    let convs = convs_by_torchvision_names(origin, &names, |name| {
        let view = tensors.tensor(name).ok()?;
        Some(FoundTensor { shape: view.shape().to_vec(), read: Box::new(move || tensor_f32(&view)) })
    })?;
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

/// The finite float32 values of `view`.
fn tensor_f32(view: &TensorView) -> Result<Vec<f32>, String> {
    if view.dtype() != Dtype::F32 {
        return Err(format!("data type {:?} (only float32 weights are read)", view.dtype()));
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
