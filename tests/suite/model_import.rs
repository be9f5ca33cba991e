//! Importing VGG19 from files: the torchvision ONNX layouts (features only, current and legacy exporters, and
//! a whole `vgg19()` export with its classifier), the model zoo layout, torchvision's and timm's safetensors,
//! and torchvision's PyTorch checkpoints (the legacy stream of vgg19-dcbb9e9d.pth and the ZIP archive) give
//! exactly the file's weights, element by element; VGG16, other networks and truncated files
//! are refused with what was found. An imported model's features at every layer equal ONNX's own reference
//! evaluator run on the original file.

use std::path::Path;
use std::sync::Arc;

use crate::support::ort_environment;
use crate::support::python::{TempDir, run_python};
use nst::network::{LossPlacement, Network};
use nst::runtime::{Provider, SessionOptions};
use nst_onnx::import::load_vgg19;
use nst_onnx::{Layer, OnnxError, Pooling};

fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

#[test]
#[cfg_attr(windows, ignore = "needs python3 with the onnx package (scripts/setup) on the host")]
fn vgg19_layouts_are_read_exactly_and_others_refused() {
    let dir = TempDir::new("import");
    run_python("make_vgg_files.py", &[dir.path()]);

    for (file, layout) in [
        ("torchvision_current.onnx", "torchvision features layout"),
        ("torchvision_legacy.onnx", "torchvision features layout"),
        ("torchvision_constants.onnx", "torchvision features layout"),
        ("model_zoo.onnx", "the layers after relu5_4 dropped"),
        ("torchvision_full.onnx", "the layers after relu5_4 dropped"),
        ("timm.safetensors", "torchvision names, safetensors"),
        ("torchvision.safetensors", "torchvision names, safetensors"),
        ("torchvision_legacy.pth", "torchvision names, PyTorch checkpoint"),
        ("torchvision_zip.pth", "torchvision names, PyTorch checkpoint"),
    ] {
        let path = dir.path().join(file);
        let model = load_vgg19(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(model.description.contains(layout), "{file}: {}", model.description);
        // Every element, in order: a flipped or transposed kernel would keep any sum.
        let expected = read_f32(&dir.path().join(format!("{file}.weights")));
        let ours: Vec<f32> = model.convs.iter().flat_map(|c| c.weight.iter().chain(&c.bias).copied()).collect();
        assert_eq!(ours.len(), expected.len(), "{file}: element count");
        let differing = ours.iter().zip(&expected).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        assert_eq!(differing, 0, "{file}: {differing} of {} weights differ", ours.len());
        println!("{file}: accepted, {} weights identical ({})", ours.len(), model.description);
    }

    let refused = |file: &str| -> String {
        let err = load_vgg19(&dir.path().join(file)).expect_err(file);
        println!("{file}: refused: {err}");
        err.to_string()
    };
    let vgg16 = refused("vgg16.onnx");
    assert!(vgg16.contains("found 13 3x3 convolutions") && vgg16.contains("layout of VGG16"), "{vgg16}");
    let resnet = refused("resnet_like.onnx");
    assert!(resnet.contains("feeds 2 nodes") || resnet.contains("Add"), "{resnet}");
    assert!(matches!(load_vgg19(&dir.path().join("truncated.onnx")), Err(OnnxError::Decode { .. })));
    assert!(refused("truncated.onnx").contains("truncated.onnx is not a readable ONNX model"));
    assert!(refused("missing.onnx").contains("cannot read model file"));
}

#[test]
#[cfg_attr(windows, ignore = "needs python3 with the onnx package (scripts/setup) on the host")]
fn an_imported_torchvision_model_computes_the_files_features_at_every_layer() {
    const SIZE: usize = 32;
    let dir = TempDir::new("import-parity");
    run_python("make_vgg_files.py", &[dir.path()]);
    let file = dir.path().join("torchvision_full.onnx");
    let size = SIZE.to_string();
    run_python("reference_features.py", &[&file, dir.path(), Path::new(&size)]);

    let model = Arc::new(load_vgg19(&file).unwrap());
    let layers: Vec<Layer> = Layer::all().collect();
    let options = SessionOptions { provider: Provider::Cpu, threads: 2, low_memory: false, device: None };
    let env = ort_environment();
    let mut network = Network::new(&env, &model, &layers, Pooling::Max, options, LossPlacement::Rust).unwrap();
    let mut pass = network.pass(SIZE, SIZE).unwrap();
    pass.image_mut().copy_from_slice(&read_f32(&dir.path().join("image.f32")));
    network.forward(&mut pass).unwrap();
    for layer in layers {
        let theirs = read_f32(&dir.path().join(format!("relu{}.f32", layer.index())));
        let ours = pass.feature(layer).unwrap().values;
        assert_eq!(ours.len(), theirs.len(), "{}", layer.relu_name());
        let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max) / scale;
        println!("{}: max |difference| / max |feature| = {worst:.2e}", layer.relu_name());
        assert!(worst < 1e-4, "{}: features differ by {worst:.2e} of their range", layer.relu_name());
    }
}
