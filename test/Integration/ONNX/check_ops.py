"""Prints an ONNX model's default-domain opset and its op types, one a line.

usage: check_ops.py MODEL.onnx
"""
import sys

import onnx

m = onnx.load(sys.argv[1], load_external_data=False)
print("opset", [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0])
for op in sorted({n.op_type for n in m.graph.node}):
    print(op)
