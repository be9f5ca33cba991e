//! Importing VGG19 from ONNX files: torchvision layouts (current and legacy exporters) and the model zoo layout
//! are read with the right weights; VGG16, other networks and truncated files are refused with what was found.

mod support;

use std::path::Path;

use nst_onnx::OnnxError;
use nst_onnx::import::load_vgg19;
use support::python::{TempDir, run_python};

fn expected_sums(path: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(format!("{}.sums", path.display())).unwrap();
    text.lines()
        .map(|line| {
            let mut parts = line.split_whitespace().map(|v| v.parse::<f64>().unwrap());
            (parts.next().unwrap(), parts.next().unwrap())
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn vgg19_layouts_are_read_and_others_refused() {
    let dir = TempDir::new("import");
    run_python("make_vgg_files.py", &[dir.path()]);

    for (file, layout) in [
        ("torchvision_current.onnx", "torchvision features layout"),
        ("torchvision_legacy.onnx", "torchvision features layout"),
        ("torchvision_constants.onnx", "torchvision features layout"),
        ("model_zoo.onnx", "ONNX model zoo layout, classifier dropped"),
    ] {
        let path = dir.path().join(file);
        let model = load_vgg19(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(model.description.contains(layout), "{file}: {}", model.description);
        let sums = expected_sums(&path);
        assert_eq!(sums.len(), 16);
        for (index, (conv, (weight_sum, bias_sum))) in model.convs.iter().zip(sums).enumerate() {
            let ours_w: f64 = conv.weight.iter().map(|v| *v as f64).sum();
            let ours_b: f64 = conv.bias.iter().map(|v| *v as f64).sum();
            assert!(close(ours_w, weight_sum) && close(ours_b, bias_sum), "{file} conv {index}: weights differ");
        }
        println!("{file}: accepted ({})", model.description);
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
