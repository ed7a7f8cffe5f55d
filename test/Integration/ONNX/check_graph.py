"""Checks an exported deploy-time ONNX model against its training-time source.

usage: check_graph.py SOURCE.onnx DEPLOY.onnx MODEL
- onnx.checker passes; same opset, graph input/output names and shapes;
- no BatchNormalization and no Add left;
- Conv count equals the deploy-time conv count of the PyTorch definition:
  one per re-parameterisable block plus two per SE module (plain: every conv).
Prints one summary line; exits 1 on a mismatch.
"""
import os
import sys
from collections import Counter

import onnx
import onnx.numpy_helper
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "models", "pytorch"))
import reparam_models  # noqa: E402


def io(model):
    dims = lambda v: [d.dim_value for d in v.type.tensor_type.shape.dim]
    return ([(i.name, dims(i)) for i in model.graph.input],
            [(o.name, dims(o)) for o in model.graph.output])


def same_convs(source, deploy):
    def convs(m):
        weights = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
        out = []
        for n in m.graph.node:
            if n.op_type == "Conv":
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
                attrs.setdefault("group", 1)
                attrs.setdefault("dilations", [1, 1])
                attrs.setdefault("strides", [1, 1])
                attrs.setdefault("pads", [0, 0, 0, 0])
                out.append((sorted(attrs.items()), [weights[i].tobytes() for i in n.input[1:]]))
        return out
    return [] if convs(source) == convs(deploy) else ["the Conv chain changed (attributes or weights)"]


def main():
    source = onnx.load(sys.argv[1], load_external_data=False)
    deploy = onnx.load(sys.argv[2])
    onnx.checker.check_model(deploy)
    net = reparam_models.build(sys.argv[3])
    modules = list(net.modules())
    blocks = sum(isinstance(m, (reparam_models.MobileOneBlock, reparam_models.RepVGGBlock)) for m in modules)
    se = sum(isinstance(m, reparam_models.SEBlock) for m in modules)
    expected = blocks + 2 * se if blocks else sum(isinstance(m, nn.Conv2d) for m in modules)
    ops = Counter(n.op_type for n in deploy.graph.node)
    problems = []
    if ops["Conv"] != expected:
        problems.append(f"{ops['Conv']} Conv nodes, expected {expected}")
    for op in ("BatchNormalization", "Add", "Sum"):
        if ops[op]:
            problems.append(f"{ops[op]} {op} nodes left")
    opset = lambda m: [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
    if opset(source) != opset(deploy):
        problems.append(f"opset {opset(deploy)}, source has {opset(source)}")
    if io(source) != io(deploy):
        problems.append(f"graph interface {io(deploy)}, source has {io(source)}")
    if not blocks:
        # Nothing to re-parameterise: the conv chain must come back as it was,
        # attributes and weights bit for bit.
        problems += same_convs(source, deploy)
    print(f"{sys.argv[2]}: {dict(ops)}; {'FAIL: ' + '; '.join(problems) if problems else 'OK'}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
