"""Writes the hostile Resize and ConvTranspose models of bad-upsampling.test:
scales of 0, negative, NaN and 1e9, scales and sizes both given, sizes that
resize the channels, a cubic Resize, and a ConvTranspose whose output_shape
contradicts its pads or cannot be reached.

usage: make_bad_upsampling.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(name, node, inits, opset=13):
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def resize(scales=None, sizes=None, name="up", **attrs):
    inits, inputs = [], ["x", ""]
    inputs.append("scales" if scales is not None else "")
    if scales is not None:
        inits.append(numpy_helper.from_array(np.array(scales, np.float32), "scales"))
    if sizes is not None:
        inputs.append("sizes")
        inits.append(numpy_helper.from_array(np.array(sizes, np.int64), "sizes"))
    return model(name, helper.make_node("Resize", inputs, ["y"], name=name, **attrs), inits)


def conv_transpose(**attrs):
    w = numpy_helper.from_array(np.ones((4, 2, 3, 3), np.float32), "w")
    return model("deconv", helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="deconv",
                                            **attrs), [w])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = {
        "scale-zero": resize([1, 1, 0, 2]),
        "scale-negative": resize([1, 1, -2, 2]),
        "scale-nan": resize([1, 1, float("nan"), 2]),
        "scale-huge": resize([1, 1, 1e9, 1e9]),
        "scale-and-sizes": resize([1, 1, 2, 2], [1, 4, 16, 16]),
        "sizes-channels": resize(None, [1, 8, 16, 16]),
        "cubic": resize([1, 1, 2, 2], mode="cubic"),
        "deconv-contradiction": conv_transpose(strides=[2, 2], pads=[1, 1, 1, 1],
                                               output_shape=[17, 17]),
        "deconv-unreachable": conv_transpose(strides=[2, 2], output_shape=[30, 30]),
        "deconv-pads-crop-all": conv_transpose(pads=[6, 6, 6, 6]),
    }
    for name, m in cases.items():
        onnx.save(m, os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main()
