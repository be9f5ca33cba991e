"""Writes small test models with the structures of real VGG19 ONNX files, with random weights.

No pretrained file can be downloaded in the test environment, so these stand in for:
- torchvision `vgg19().features` exported by the current exporter (weights as initialisers, opset 18),
- the legacy exporter (weights reaching Conv through Identity and Constant nodes, opset 17),
- the ONNX model zoo vgg19-7.onnx (Conv/Relu/MaxPool chain, then Flatten/Gemm/Relu/Dropout classifier,
  initialisers also listed as graph inputs, opset 7),
and for what must be refused: VGG16, a ResNet-like block, a truncated file.

usage: make_vgg_files.py OUTDIR [DIVISOR]

DIVISOR (default 1) divides every channel count: with 32 the files are a few kilobytes, the same structures with
the wrong widths, which the importer must refuse; they seed the model importer's fuzz corpus.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VGG19 = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
rng = np.random.default_rng(5)


def conv_weights(cin, cout):
    bound = np.sqrt(6.0 / (cin * 9))
    return (rng.uniform(-bound, bound, (cout, cin, 3, 3)).astype(np.float32),
            rng.uniform(-0.1, 0.1, (cout,)).astype(np.float32))


DIVISOR = 1


def features(config, style, classifier=False):
    """Builds the feature chain; style is 'initializer', 'identity' or 'constant'."""
    nodes, inits, x, cin, index = [], [], "input", 3, 0
    for item in config:
        item = item if item == "M" else max(1, item // DIVISOR)
        if item == "M":
            nodes.append(helper.make_node("MaxPool", [x], [f"pool{index}"], kernel_shape=[2, 2], strides=[2, 2]))
            x = f"pool{index}"
        else:
            w, b = conv_weights(cin, item)
            wname, bname = f"features.{index}.weight", f"features.{index}.bias"
            if style == "initializer":
                inits += [numpy_helper.from_array(w, wname), numpy_helper.from_array(b, bname)]
                win, bin_ = wname, bname
            elif style == "identity":
                inits += [numpy_helper.from_array(w, wname), numpy_helper.from_array(b, bname)]
                nodes.append(helper.make_node("Identity", [wname], [f"onnx::Conv_{index}w"]))
                nodes.append(helper.make_node("Identity", [bname], [f"onnx::Conv_{index}b"]))
                win, bin_ = f"onnx::Conv_{index}w", f"onnx::Conv_{index}b"
            else:
                nodes.append(helper.make_node("Constant", [], [f"const_w{index}"], value=numpy_helper.from_array(w)))
                nodes.append(helper.make_node("Constant", [], [f"const_b{index}"], value=numpy_helper.from_array(b)))
                win, bin_ = f"const_w{index}", f"const_b{index}"
            nodes.append(helper.make_node("Conv", [x, win, bin_], [f"conv{index}"], kernel_shape=[3, 3],
                                          pads=[1, 1, 1, 1], strides=[1, 1]))
            nodes.append(helper.make_node("Relu", [f"conv{index}"], [f"relu{index}"]))
            x, cin = f"relu{index}", item
        index += 1
    if classifier:
        w = rng.standard_normal((10, cin * 7 * 7)).astype(np.float32) * 0.01
        inits.append(numpy_helper.from_array(w, "fc.weight"))
        nodes += [helper.make_node("Flatten", [x], ["flat"], axis=1),
                  helper.make_node("Gemm", ["flat", "fc.weight"], ["fc"], transB=1),
                  helper.make_node("Relu", ["fc"], ["fc_relu"]),
                  helper.make_node("Dropout", ["fc_relu"], ["logits"])]
        x = "logits"
    return nodes, inits, x


def save(path, nodes, inits, output, opset, inits_as_inputs=False):
    write_sums(path, nodes, inits)
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])]
    if inits_as_inputs:
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits]
    graph = helper.make_graph(nodes, "vgg", inputs, [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="test")
    model.ir_version = 8 if opset >= 17 else 3
    onnx.save(model, path)


def write_sums(path, nodes, inits):
    """Sidecar PATH.sums: one line per conv, 'sum(weight) sum(bias)', for checking what the importer read."""
    tensors = {t.name: numpy_helper.to_array(t) for t in inits}
    for node in nodes:
        if node.op_type == "Constant":
            tensors[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    aliases = {n.output[0]: n.input[0] for n in nodes if n.op_type == "Identity"}
    resolve = lambda name: tensors[aliases.get(name, name)]
    with open(path + ".sums", "w") as out:
        for node in nodes:
            if node.op_type == "Conv":
                out.write("%r %r\n" % (float(resolve(node.input[1]).astype(np.float64).sum()),
                                        float(resolve(node.input[2]).astype(np.float64).sum())))


def main(out):
    os.makedirs(out, exist_ok=True)
    save(f"{out}/torchvision_current.onnx", *features(VGG19, "initializer"), opset=18)
    save(f"{out}/torchvision_legacy.onnx", *features(VGG19, "identity"), opset=17)
    save(f"{out}/torchvision_constants.onnx", *features(VGG19, "constant"), opset=20)
    save(f"{out}/model_zoo.onnx", *features(VGG19, "initializer", classifier=True), opset=7, inits_as_inputs=True)
    save(f"{out}/vgg16.onnx", *features(VGG16, "initializer"), opset=17)
    nodes, inits, x = features(VGG19[:2], "initializer")
    nodes += [helper.make_node("Add", [x, "relu0"], ["residual"])]
    save(f"{out}/resnet_like.onnx", nodes, inits, "residual", opset=17)
    with open(f"{out}/torchvision_current.onnx", "rb") as src:
        data = src.read()
    with open(f"{out}/truncated.onnx", "wb") as dst:
        dst.write(data[: len(data) // 3])


if __name__ == "__main__":
    if len(sys.argv) > 2:
        DIVISOR = int(sys.argv[2])
    main(sys.argv[1])
