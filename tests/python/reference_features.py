"""Computes every ReLU output of a VGG19 ONNX file with ONNX's own reference evaluator (numpy; independent of
ONNX Runtime and of nst's graphs), for a seeded image of SIZE x SIZE pixels in [0, 1] normalised with the
ImageNet statistics, as nst feeds its networks.

usage: reference_features.py MODEL.onnx OUTDIR SIZE

Writes OUTDIR/image.f32 (RGB planes in [0, 1]) and OUTDIR/relu{K}.f32 (K = 0..15, network order), little-endian
float32.
"""
import sys

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator


def main(model_path, out, size):
    model = onnx.load(model_path)
    relus = [node.output[0] for node in model.graph.node if node.op_type == "Relu"][:16]
    # Only the features are compared: the classifier expects 224 px and is cut off after relu5_4.
    last = next(i for i, node in enumerate(model.graph.node) if node.output[0] == relus[-1])
    kept = list(model.graph.node)[: last + 1]
    del model.graph.node[:]
    model.graph.node.extend(kept)
    del model.graph.output[:]
    model.graph.output.extend(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in relus)
    # The file's input is declared at 224 px; the network itself takes any size.
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_value, dims[3].dim_value = size, size
    image = np.random.default_rng(3).uniform(0, 1, (1, 3, size, size)).astype(np.float32)
    mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
    normalised = ((image - mean) / std).astype(np.float32)
    outputs = ReferenceEvaluator(model).run(None, {model.graph.input[0].name: normalised})
    image.astype("<f4").tofile(f"{out}/image.f32")
    for k, value in enumerate(outputs):
        np.asarray(value, dtype="<f4").tofile(f"{out}/relu{k}.f32")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
