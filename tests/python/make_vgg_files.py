"""Writes small test models with the structures of real VGG19 ONNX files, with random weights.

No pretrained file can be downloaded in the test environment, so these stand in for:
- torchvision `vgg19().features` exported by the current exporter (weights as initialisers, opset 18),
- the legacy exporter (weights reaching Conv through Identity and Constant nodes, opset 17),
- the ONNX model zoo vgg19-7.onnx (Conv/Relu/MaxPool chain, then Flatten/Gemm/Relu/Dropout classifier,
  initialisers also listed as graph inputs, opset 7),
- a whole torchvision `vgg19()` export (features, the adaptive average pool as a 1x1 AveragePool, classifier),
- torchvision's and timm's safetensors files (`features.N.*` with the classifier's or timm's head tensors),
- torchvision's PyTorch checkpoints: the legacy pickle stream of vgg19-dcbb9e9d.pth (PyTorch 0.1.10 to 1.5) and
  the ZIP archive of later `torch.save` calls, written here without torch (see `save_pth`),
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


def features(config, style, classifier=False, adaptive_pool=False):
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
    if adaptive_pool:
        # torchvision's AdaptiveAvgPool2d((7, 7)) on a 7x7 map, as torch.onnx.export writes it at 224 px.
        nodes.append(helper.make_node("AveragePool", [x], ["avgpool"], kernel_shape=[1, 1], strides=[1, 1]))
        x = "avgpool"
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


def conv_tensors(nodes, inits):
    """The (weight, bias) arrays of each Conv, in order."""
    tensors = {t.name: numpy_helper.to_array(t) for t in inits}
    for node in nodes:
        if node.op_type == "Constant":
            tensors[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    aliases = {n.output[0]: n.input[0] for n in nodes if n.op_type == "Identity"}
    resolve = lambda name: tensors[aliases.get(name, name)]
    return [(resolve(n.input[1]), resolve(n.input[2])) for n in nodes if n.op_type == "Conv"]


def write_weights(path, convs):
    """Sidecar PATH.weights: every conv's weight then bias as little-endian float32, for an element-wise check."""
    with open(path + ".weights", "wb") as out:
        for w, b in convs:
            out.write(w.astype("<f4").tobytes() + b.astype("<f4").tobytes())


def write_sums(path, nodes, inits):
    write_weights(path, conv_tensors(nodes, inits))


def save_safetensors(path, tensors):
    """The safetensors format: an 8-byte header length, a JSON header with offsets, then the raw data."""
    import json
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as out:
        out.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def fake_torch():
    """Stand-ins for the two torch globals a checkpoint's pickle names (torch.FloatStorage and
    torch._utils._rebuild_tensor_v2): pickle writes classes and functions by module and name, and checks that
    they can be found there, so they only need to exist under those names."""
    import types
    if "torch" in sys.modules:
        return sys.modules["torch"]
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("only written, never called")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    torch.FloatStorage, utils._rebuild_tensor_v2, torch._utils = FloatStorage, _rebuild_tensor_v2, utils
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    return torch


def save_pth(path, tensors, legacy):
    """A state dict as torch.save writes it: a pickle whose tensors are `_rebuild_tensor_v2(storage, offset,
    shape, stride, requires_grad, hooks)` calls on storages named by persistent ids, and the storages' bytes. The
    legacy stream (`legacy`) is: pickles of the magic number, the protocol version 1001 and the system info, the
    state dict, the list of storage keys, then each storage as an 8-byte element count and its bytes. The ZIP
    archive holds `archive/data.pkl` and each storage in `archive/data/KEY`."""
    import collections
    import io
    import pickle
    import zipfile
    torch = fake_torch()

    class Storage:
        def __init__(self, key, array):
            self.key, self.array = key, array

    class Tensor:
        def __init__(self, storage, shape):
            self.storage, self.shape = storage, shape

        def __reduce__(self):
            stride = tuple(int(np.prod(self.shape[i + 1:])) for i in range(len(self.shape)))
            return (torch._utils._rebuild_tensor_v2,
                    (self.storage, 0, tuple(self.shape), stride, False, collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                ident = ("storage", torch.FloatStorage, obj.key, "cpu", obj.array.size)
                return ident + (None,) if legacy else ident
            return None

    storages, state = [], collections.OrderedDict()
    for index, (name, array) in enumerate(tensors.items()):
        storage = Storage(str(index), np.ascontiguousarray(array, dtype="<f4"))
        storages.append(storage)
        state[name] = Tensor(storage, array.shape)
    body = io.BytesIO()
    Pickler(body, protocol=2).dump(state)
    if legacy:
        with open(path, "wb") as out:
            for header in (0x1950a86a20f9469cfc6c, 1001,
                           {"protocol_version": 1001, "little_endian": True,
                            "type_sizes": {"short": 2, "int": 4, "long": 4}}):
                pickle.dump(header, out, protocol=2)
            out.write(body.getvalue())
            pickle.dump([s.key for s in storages], out, protocol=2)
            for s in storages:
                out.write(int(s.array.size).to_bytes(8, "little") + s.array.tobytes())
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("archive/data.pkl", body.getvalue())
            archive.writestr("archive/byteorder", "little")
            for s in storages:
                archive.writestr(f"archive/data/{s.key}", s.array.tobytes())
            archive.writestr("archive/version", "3\n")


def safetensors_files(out):
    nodes, inits, _ = features(VGG19, "initializer")
    convs = conv_tensors(nodes, inits)
    # torchvision's module indices count the ReLUs and pools too.
    indices = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    base = {}
    for index, (w, b) in zip(indices, convs):
        base[f"features.{index}.weight"], base[f"features.{index}.bias"] = w, b
    timm = dict(base, **{"pre_logits.fc1.weight": np.zeros((4, 3, 2, 2), np.float32),
                         "head.fc.weight": np.zeros((10, 4), np.float32)})
    save_safetensors(f"{out}/timm.safetensors", timm)
    write_weights(f"{out}/timm.safetensors", convs)
    torchvision = dict(base, **{"classifier.0.weight": np.zeros((8, 6), np.float32),
                                "classifier.6.bias": np.zeros((10,), np.float32)})
    save_safetensors(f"{out}/torchvision.safetensors", torchvision)
    write_weights(f"{out}/torchvision.safetensors", convs)
    save_pth(f"{out}/torchvision_legacy.pth", torchvision, legacy=True)
    write_weights(f"{out}/torchvision_legacy.pth", convs)
    save_pth(f"{out}/torchvision_zip.pth", torchvision, legacy=False)
    write_weights(f"{out}/torchvision_zip.pth", convs)


def main(out):
    os.makedirs(out, exist_ok=True)
    save(f"{out}/torchvision_current.onnx", *features(VGG19, "initializer"), opset=18)
    save(f"{out}/torchvision_legacy.onnx", *features(VGG19, "identity"), opset=17)
    save(f"{out}/torchvision_constants.onnx", *features(VGG19, "constant"), opset=20)
    save(f"{out}/model_zoo.onnx", *features(VGG19, "initializer", classifier=True), opset=7, inits_as_inputs=True)
    save(f"{out}/torchvision_full.onnx", *features(VGG19, "initializer", classifier=True, adaptive_pool=True), opset=17)
    safetensors_files(out)
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
