//! The exported graphs (forward, backward and evaluation graphs in both poolings, and the matrix-product probe) pass ONNX's own
//! checker with full shape inference.

use crate::support::python::{TempDir, run_python};
use nst_onnx::backward::backward_graph;
use nst_onnx::forward::forward_graph;
use nst_onnx::graph::encode;
use nst_onnx::random::random_vgg19;
use nst_onnx::{Layer, Pooling};

#[test]
#[cfg_attr(windows, ignore = "needs python3 with the onnx package (scripts/setup) on the host")]
fn exported_graphs_pass_onnx_full_check() {
    let dir = TempDir::new("checker");
    let model = random_vgg19(0);
    let taps: Vec<Layer> = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
        .iter()
        .map(|n| Layer::parse(n).unwrap())
        .collect();
    let mut paths = Vec::new();
    for pooling in [Pooling::Max, Pooling::Average] {
        let forward = dir.path().join(format!("forward_{}.onnx", pooling.name()));
        let backward = dir.path().join(format!("backward_{}.onnx", pooling.name()));
        std::fs::write(&forward, encode(&forward_graph(&model, Layer::parse("relu5_1").unwrap(), pooling))).unwrap();
        std::fs::write(&backward, encode(&backward_graph(&model, &taps, pooling).unwrap())).unwrap();
        paths.extend([forward, backward]);
    }
    let content = Layer::parse("relu4_2").unwrap();
    // Every kind of term: plain and masked style terms (two on one layer), a masked content term.
    let mut style_terms: Vec<(Layer, bool)> = taps.iter().filter(|l| **l != content).map(|l| (*l, false)).collect();
    style_terms.extend([(taps[0], true), (taps[2], true)]);
    let layout = nst_onnx::loss::LossLayout { content_layer: content, content_masked: true, style_terms };
    for pooling in [Pooling::Max, Pooling::Average] {
        let evaluation = dir.path().join(format!("evaluation_{}.onnx", pooling.name()));
        std::fs::write(&evaluation, encode(&nst_onnx::evaluation::evaluation_graph(&model, &layout, pooling))).unwrap();
        paths.push(evaluation);
    }
    let probe = dir.path().join("matmul_probe.onnx");
    std::fs::write(&probe, encode(&nst_onnx::probe::matmul_probe(64))).unwrap();
    paths.push(probe);
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    let report = run_python("check_models.py", &refs);
    assert_eq!(report.lines().filter(|l| l.starts_with("checked")).count(), 7, "{report}");
}
