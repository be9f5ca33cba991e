//! Reading a VGG19 from a PyTorch checkpoint (`.pth`): torchvision's `vgg19-dcbb9e9d.pth` (the legacy pickle
//! stream of PyTorch 0.1.10 to 1.5) or any later `torch.save` of a state dict (a ZIP archive), with
//! torchvision's tensor names. The pickle is parsed by `pytorch-reader`, which interprets no code: it only
//! rebuilds dictionaries and tensors.

use std::path::Path;

use pytorch_reader::{DType, PytorchReader};

use super::torchvision::{FoundTensor, convs_by_torchvision_names};
use crate::OnnxError;
use crate::vgg::{Normalisation, Vgg19};

/// Whether `bytes` (a file's first bytes) open a PyTorch checkpoint: a ZIP archive, a pickle stream (protocol
/// 2 and up, as every legacy checkpoint), or the TAR archive of the earliest versions.
pub(super) fn looks_like_pytorch(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.first() == Some(&0x80) || bytes.get(257..262) == Some(b"ustar")
}

/// Reads the VGG19 of the checkpoint at `path`.
pub(super) fn vgg19_from_pth(path: &Path) -> Result<Vgg19, OnnxError> {
    let origin = path.display().to_string();
    let reader = PytorchReader::new(path).map_err(|err| super::unreadable(&origin, "PyTorch .pth checkpoint", err))?;
    let names = reader.keys();
    let convs = convs_by_torchvision_names(&origin, &names, |name| {
        let tensor = reader.get(name)?;
        Some(FoundTensor {
            shape: tensor.shape().to_vec(),
            read: Box::new(move || {
                if tensor.dtype() != DType::F32 {
                    return Err(format!("data type {:?} (only float32 weights are read)", tensor.dtype()));
                }
                let bytes = tensor.read().map_err(|err| err.to_string())?;
                // The reader hands back native-endian bytes.
                let values: Vec<f32> =
                    bytes.chunks_exact(4).map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect();
                match values.iter().position(|v| !v.is_finite()) {
                    Some(bad) => Err(format!("value {bad} is not finite")),
                    None => Ok(values),
                }
            }),
        })
    })?;
    Ok(Vgg19 {
        convs,
        normalisation: Normalisation::IMAGENET,
        description: format!("VGG19 from {origin} (torchvision names, PyTorch checkpoint)"),
    })
}
