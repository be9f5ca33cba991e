//! A matrix-product probe: the graph that measures a provider's fp32 peak where faer cannot (on a GPU).

use crate::graph::{Dim, GraphBuilder, int, ints};
use crate::proto::ModelProto;

/// The probe's one input: a scalar the first factor is multiplied by, so no part of the graph is constant.
pub const PROBE_SCALE: &str = "scale";
/// The probe's output: the sum of the product's entries (a scalar, so nothing large crosses to the host).
pub const PROBE_SUM: &str = "sum";

/// `sum((scale * A) @ B)` for two `n x n` uniform random factors drawn inside the graph, on the device that runs
/// it: one run costs `2 n^3` FLOP in the product and `O(n^2)` elsewhere.
pub fn matmul_probe(n: usize) -> ModelProto {
    let n = n as i64;
    let mut graph = GraphBuilder::new("matmul_probe");
    graph.input(PROBE_SCALE, &[Dim::Fixed(1)]);
    let a = graph.op("RandomUniform", &[], vec![ints("shape", &[n, n])]);
    let b = graph.op("RandomUniform", &[], vec![ints("shape", &[n, n])]);
    let scaled = graph.op("Mul", &[&a, PROBE_SCALE], vec![]);
    let product = graph.op("MatMul", &[&scaled, &b], vec![]);
    graph.op_into("ReduceSum", &[&product], PROBE_SUM, vec![int("keepdims", 0)]);
    graph.output(PROBE_SUM, &[]);
    graph.into_model("fp32 matrix-product probe")
}
