"""Prints an ONNX model's default-domain opset and its op types, one a line;
with --shapes, also its graph inputs' and outputs' shapes; with --counts,
each op type's node count.

usage: check_ops.py MODEL.onnx [--shapes] [--counts]
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
counts = {}
for n in m.graph.node:
    counts[n.op_type] = counts.get(n.op_type, 0) + 1
for op in sorted(counts):
    print(f"{op} {counts[op]}" if "--counts" in sys.argv else op)
