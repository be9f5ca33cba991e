//! Reading a VGG19's weights from a file: ONNX (torchvision exports, the model zoo), safetensors (timm's and
//! torchvision's names, and the model files this crate stores) or a PyTorch checkpoint (torchvision's `.pth`).
//! The format is told by the file's first bytes, not its name.

mod onnx;
mod pth;
mod safetensors;
mod torchvision;

use std::path::Path;

use nst_files::{FileKind, open_regular, read_opened};

pub use onnx::vgg19_from_onnx_bytes;
pub use safetensors::{stored_description, vgg19_from_safetensors_bytes, vgg19_to_safetensors_bytes};
pub use torchvision::TORCHVISION_CONV_INDICES;

use crate::OnnxError;
use crate::vgg::Vgg19;

/// Refuse files beyond this size before reading them: the largest real VGG19 file (with classifier) is ~550 MB.
pub const MAX_MODEL_BYTES: u64 = FileKind::Model.limit();

/// Reads a VGG19 from an ONNX, safetensors or PyTorch checkpoint file.
pub fn load_vgg19(path: &Path) -> Result<Vgg19, OnnxError> {
    let io = |source| OnnxError::Io { path: path.to_path_buf(), source };
    // A FIFO, a device, a folder or a file larger than any VGG19 is refused before anything waits on it.
    let (mut file, size) = open_regular(path, FileKind::Model).map_err(io)?;
    let origin = path.display().to_string();
    if size == 0 {
        return Err(empty(&origin));
    }
    let mut head = [0u8; 512];
    let head_len = std::io::Read::read(&mut file, &mut head).map_err(io)?;
    let head = &head[..head_len];
    if pth::looks_like_pytorch(head) && !looks_like_safetensors(head, size) {
        // Checkpoints are read tensor by tensor from the file, not whole.
        return pth::vgg19_from_pth(path);
    }
    // The same file, from its start: it is not opened (and checked) a second time.
    std::io::Seek::rewind(&mut file).map_err(io)?;
    let bytes = read_opened(file, size, FileKind::Model).map_err(io)?;
    vgg19_from_bytes(&bytes, &origin)
}

/// Reads a VGG19 from the bytes of an ONNX or safetensors file; `origin` names them in messages. (PyTorch
/// checkpoints are read from their file, with [`load_vgg19`].)
pub fn vgg19_from_bytes(bytes: &[u8], origin: &str) -> Result<Vgg19, OnnxError> {
    if bytes.is_empty() {
        Err(empty(origin))
    } else if looks_like_safetensors(bytes, bytes.len() as u64) {
        vgg19_from_safetensors_bytes(bytes, origin)
    } else if pth::looks_like_pytorch(bytes) {
        Err(OnnxError::Decode {
            origin: origin.to_string(),
            reason: "a PyTorch checkpoint is read from its file, not from bytes in memory".into(),
        })
    } else {
        vgg19_from_onnx_bytes(bytes, origin)
    }
}

/// A file that no reader can take: it holds nothing (an interrupted copy or download).
fn empty(origin: &str) -> OnnxError {
    let source = std::io::Error::new(std::io::ErrorKind::InvalidData, "the file is empty (0 bytes)");
    OnnxError::Io { path: origin.into(), source }
}

/// A file that the reader of `format` (which its first bytes chose) refused; the message names that format,
/// not ONNX, which is only tried for files that look like neither of the others.
fn unreadable(origin: &str, format: &str, reason: impl std::fmt::Display) -> OnnxError {
    let why = format!("not a readable {format} (truncated or damaged): {reason}");
    OnnxError::Io { path: origin.into(), source: std::io::Error::new(std::io::ErrorKind::InvalidData, why) }
}

/// Whether a file of `file_len` bytes that starts with `head` is safetensors: its JSON header's length (8
/// bytes, little-endian, within the file), then `{`. An ONNX model starts with a protobuf field tag, a PyTorch
/// checkpoint with a ZIP or pickle header, never with eight such bytes followed by `{`.
fn looks_like_safetensors(head: &[u8], file_len: u64) -> bool {
    let Some((length, rest)) = head.split_first_chunk::<8>() else { return false };
    let length = u64::from_le_bytes(*length);
    length >= 2 && length <= file_len.saturating_sub(8) && rest.first() == Some(&b'{')
}

/// Little-endian float32 values, refused if any is not finite (a damaged or hostile file).
fn finite_f32_from_le(bytes: &[u8]) -> Result<Vec<f32>, String> {
    let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    match values.iter().position(|v| !v.is_finite()) {
        Some(bad) => Err(format!("value {bad} is not finite")),
        None => Ok(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::random_vgg19;

    #[test]
    fn safetensors_whose_header_length_opens_like_a_pickle_are_still_safetensors() {
        // A header length whose low byte is 0x80 starts the file as a pickle stream would.
        let mut model = random_vgg19(2);
        let bytes = (0..256)
            .map(|pad| {
                model.description = format!("model{}", "x".repeat(pad));
                vgg19_to_safetensors_bytes(&model).unwrap()
            })
            .find(|bytes| bytes[0] == 0x80)
            .expect("some description length gives a header length ending in 0x80");
        let path = std::env::temp_dir().join(format!("nst-pickle-like-{}.safetensors", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let read = load_vgg19(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read.unwrap().convs, model.convs);
    }

    #[test]
    fn a_file_that_cannot_be_read_is_named_with_the_format_tried() {
        let dir = std::env::temp_dir().join(format!("nst-unreadable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let stored = vgg19_to_safetensors_bytes(&random_vgg19(3)).unwrap();
        let cases: [(&str, Vec<u8>, &str); 4] = [
            ("empty.onnx", Vec::new(), "the file is empty (0 bytes)"),
            ("cut.safetensors", stored[..stored.len() / 2].to_vec(), "not a readable safetensors file"),
            ("cut.pth", b"\x80\x02\x8a\x0alegacy?".to_vec(), "not a readable PyTorch .pth checkpoint"),
            ("garbage.onnx", b"\xff\xff\xff\xff".to_vec(), "not a readable ONNX model"),
        ];
        for (name, bytes, expected) in cases {
            let path = dir.join(name);
            std::fs::write(&path, &bytes).unwrap();
            let err = load_vgg19(&path).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains(expected), "{name}: {err}");
            if expected != "not a readable ONNX model" {
                assert!(!err.contains("ONNX") && !err.contains("without a graph"), "{name}: {err}");
            }
        }
        let err = vgg19_from_bytes(&[], "memory").unwrap_err().to_string();
        assert!(err.contains("memory") && err.contains("empty"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
