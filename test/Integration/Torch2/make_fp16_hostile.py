"""Inputs of fp16.test's error cases.

usage: make_fp16_hostile.py OUTDIR
         writes big-weight.onnx (a Conv weight of 1e5: beyond float16) and
         small.onnx (an ordinary Conv);
       make_fp16_hostile.py OUTDIR --poison IN.tflite OUT.tflite
         copies an fp16 .tflite with its first FLOAT16 weight set to NaN.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_model(w):
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 8
    return m


def main():
    out = sys.argv[1]
    if "--poison" in sys.argv:
        src, dst = sys.argv[sys.argv.index("--poison") + 1:][:2]
        data = bytearray(open(src, "rb").read())
        # The fp16 weight buffer is the model's largest run of bytes that
        # are halves of the weights: find the first weight's half and patch it.
        w = np.random.default_rng(0).standard_normal((8, 4, 3, 3)).astype(np.float32)
        # TFLite filters are OHWI: the buffer starts with w[0, :, 0, 0].
        first = w[0, :, 0, 0].astype(np.float16).tobytes()
        at = bytes(data).find(first)
        if at < 0:
            sys.exit("no FLOAT16 weight found")
        data[at:at + 2] = np.array([np.nan], np.float16).tobytes()
        open(dst, "wb").write(bytes(data))
        return
    w = np.random.default_rng(0).standard_normal((8, 4, 3, 3)).astype(np.float32)
    onnx.save(conv_model(w), f"{out}/small.onnx")
    w[0, 0, 0, 0] = 1e5
    onnx.save(conv_model(w), f"{out}/big-weight.onnx")


if __name__ == "__main__":
    main()
