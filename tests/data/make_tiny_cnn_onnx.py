#!/usr/bin/python3
"""Writes tiny_cnn.onnx and tiny_cnn.safetensors, the frozen CNN of the image encoder's tests.

The model (ONNX opset 11, built with onnx.helper, weights drawn by numpy from a fixed seed):

    pixels [N, 3, H, W]  (N, H and W dynamic; made for 16 x 16)
      -> Conv 3x3, 3 -> 4 channels, padding 1, bias   "conv"       [N, 4, H, W]
      -> Relu                                          "relu"       [N, 4, H, W]
      -> MaxPool 2x2, stride 2                         "pool"       [N, 4, H/2, W/2]   output 1
      -> GlobalAveragePool -> Flatten                  "embedding"  [N, 4]             output 2

Tensor and node names are the same, so they are also OpenCV's layer names ("pool" is the
feature grid; "embedding" is a 2-D output the encoder must refuse). tiny_cnn.safetensors holds
the same weights ("conv.weight" [4, 3, 3, 3], "conv.bias" [4], float32) for the test that
recomputes the network with s2s's own ops. Both files are committed, so the C++ tests need no
Python; run this script (Debian: python3-onnx, python3-numpy) only to regenerate them:

    tests/data/make_tiny_cnn_onnx.py [OUT_DIR]   (default: the script's folder)
"""
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def weights():
    rng = np.random.default_rng(20261127)
    weight = rng.uniform(-0.5, 0.5, size=(4, 3, 3, 3)).astype(np.float32)
    bias = rng.uniform(-0.1, 0.1, size=(4,)).astype(np.float32)
    return weight, bias


def model(weight, bias):
    nodes = [
        helper.make_node("Conv", ["pixels", "conv.weight", "conv.bias"], ["conv"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
        helper.make_node("MaxPool", ["relu"], ["pool"], name="pool", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["pool"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["embedding"], name="embedding", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        inputs=[helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        outputs=[
            helper.make_tensor_value_info("pool", TensorProto.FLOAT, ["N", 4, "H2", "W2"]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 4]),
        ],
        initializer=[numpy_helper.from_array(weight, "conv.weight"),
                     numpy_helper.from_array(bias, "conv.bias")])
    m = helper.make_model(graph, producer_name="s2s tests/data/make_tiny_cnn_onnx.py",
                          opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6  # opset 11's IR version: readable by older runtimes too
    onnx.checker.check_model(m)
    return m


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors:
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    weight, bias = weights()
    onnx.save(model(weight, bias), os.path.join(out, "tiny_cnn.onnx"))
    save_safetensors(os.path.join(out, "tiny_cnn.safetensors"),
                     [("conv.weight", weight), ("conv.bias", bias)])


if __name__ == "__main__":
    main()
