"""Which layers' int32 biases bias correction changed: two QDQ .onnx files
of one model, with and without --no-bias-correction; prints one line per
Conv / Gemm node: its name, 'corrected' or 'unchanged', and the largest
change in bias steps.

    bias_changes.py CORRECTED.onnx UNCORRECTED.onnx
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def biases(path):
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    producer = {o: n for n in m.graph.node for o in n.output}
    out = {}
    for n in m.graph.node:
        if n.op_type not in ("Conv", "Gemm") or len(n.input) < 3:
            continue
        dq = producer.get(n.input[2])
        if dq is not None and dq.op_type == "DequantizeLinear" and dq.input[0] in init:
            out[n.name] = init[dq.input[0]].astype(np.int64)
    return out


a, b = biases(sys.argv[1]), biases(sys.argv[2])
for name in a:
    if name in b and a[name].shape == b[name].shape:
        d = int(np.max(np.abs(a[name] - b[name]))) if a[name].size else 0
        print(f"{name}: {'corrected' if d else 'unchanged'} (largest change {d} steps)")
