"""Prints an ONNX model's default-domain opset and its op types, one a line;
with --shapes, also its graph inputs' and outputs' shapes.

usage: check_ops.py MODEL.onnx [--shapes]
"""
import sys

import onnx

m = onnx.load(sys.argv[1], load_external_data=False)
print("opset", [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0])
if "--shapes" in sys.argv:
    for kind, values in (("input", m.graph.input), ("output", m.graph.output)):
        for v in values:
            dims = [d.dim_param or str(d.dim_value) for d in v.type.tensor_type.shape.dim]
            print(f"{kind} {v.name}: [{', '.join(dims)}]")
for op in sorted({n.op_type for n in m.graph.node}):
    print(op)
