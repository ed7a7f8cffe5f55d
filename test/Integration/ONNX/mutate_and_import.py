"""Feeds mobileone-compile corrupted variants of valid ONNX models.

usage: mutate_and_import.py MOBILEONE_COMPILE MODEL.onnx WORKDIR [--variants N]
Byte-level mutations (the protobuf may still parse, with damaged fields,
shapes or indices), truncations and structural edits (inputs, outputs and
attributes removed or duplicated, made with the onnx package). Each run must
end with exit status 0 or 1, never a signal or a timeout; no output file may
be left behind by a failed run.
"""
import copy
import os
import random
import subprocess
import sys

import onnx
import onnx.numpy_helper


# Every op type the importer implements, so that mutated nodes reach each
# handler with attributes and inputs meant for another op.
OP_TYPES = [
    "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant",
    "ConstantOfShape", "Conv", "Div", "Dropout", "Equal", "Erf", "Exp", "Expand", "Flatten",
    "Gather", "Gelu", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity",
    "LayerNormalization", "LeakyRelu", "MatMul", "MaxPool", "Mul", "Neg", "Pad", "Pow", "Range",
    "Reciprocal", "ReduceMax", "ReduceMean", "ReduceSum", "Relu", "Reshape", "Shape", "Sigmoid",
    "Size", "Slice", "Softmax", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "Transpose",
    "Unsqueeze", "Where",
]


def structural(model, rng):
    m = copy.deepcopy(model)
    nodes = m.graph.node
    n = nodes[rng.randrange(len(nodes))]
    choice = rng.randrange(10)
    if choice == 0 and len(n.input):
        del n.input[rng.randrange(len(n.input))]
    elif choice == 1 and len(n.output):
        del n.output[rng.randrange(len(n.output))]
    elif choice == 2 and len(n.attribute):
        del n.attribute[rng.randrange(len(n.attribute))]
    elif choice == 3:
        n.input.append(n.input[0] if len(n.input) else "x")
    elif choice == 4 and len(n.input):
        n.input[rng.randrange(len(n.input))] = rng.choice([""] + [o for x in nodes for o in x.output])
    elif choice == 5:
        n.op_type = rng.choice(OP_TYPES)
    elif choice == 6 and len(m.graph.initializer):
        t = m.graph.initializer[rng.randrange(len(m.graph.initializer))]
        if len(t.dims):
            t.dims[rng.randrange(len(t.dims))] = rng.choice([0, 1, 3, -1, 1 << 40])
    elif choice == 7 and len(n.attribute):
        # An attribute of the right name with a hostile value.
        a = n.attribute[rng.randrange(len(n.attribute))]
        if a.type == onnx.AttributeProto.INT:
            a.i = rng.choice([-(1 << 62), -5, -1, 0, 7, 1 << 40])
        elif a.type == onnx.AttributeProto.INTS and len(a.ints):
            a.ints[rng.randrange(len(a.ints))] = rng.choice([-(1 << 62), -9, -1, 0, 99, 1 << 40])
        elif a.type == onnx.AttributeProto.FLOAT:
            a.f = rng.choice([float("nan"), float("inf"), -1.0, 0.0, 1e30])
    elif choice == 8:
        # Shape, axes and index tensors with hostile values.
        ints = [t for t in m.graph.initializer if t.data_type == onnx.TensorProto.INT64]
        if ints:
            t = ints[rng.randrange(len(ints))]
            vals = list(onnx.numpy_helper.to_array(t).ravel())
            if vals:
                vals[rng.randrange(len(vals))] = rng.choice([-(1 << 62), -7, -1, 0, 3, 1 << 40])
                t.CopyFrom(onnx.numpy_helper.from_array(
                    onnx.numpy_helper.to_array(t).ravel().__class__(vals).astype("int64").reshape(
                        tuple(t.dims)), t.name))
    else:
        nodes.insert(0, copy.deepcopy(nodes[-1]))
    return m.SerializeToString()


def main():
    tool, model_path, work = sys.argv[1], sys.argv[2], sys.argv[3]
    variants = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    os.makedirs(work, exist_ok=True)
    good = open(model_path, "rb").read()
    model = onnx.load_from_string(good)
    rng = random.Random(99)
    cases = [(f"truncated-{c}", good[:c]) for c in (1, 10, len(good) // 2, len(good) - 1)]
    for i in range(variants):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.getrandbits(8)
        cases.append((f"bytes-{i}", bytes(data)))
        cases.append((f"structure-{i}", structural(model, rng)))
    counts = {0: 0, 1: 0}
    out = os.path.join(work, "out.onnx")
    for name, data in cases:
        path = os.path.join(work, name + ".onnx")
        with open(path, "wb") as f:
            f.write(data)
        try:
            r = subprocess.run([tool, path, "-o", out, "--quiet"], capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            print(f"FAIL: {name}: timeout")
            sys.exit(1)
        if r.returncode not in (0, 1):
            print(f"FAIL: {name}: exit status {r.returncode}\n{r.stderr.decode()[-3000:]}")
            sys.exit(1)
        if r.returncode == 1 and os.path.exists(out):
            print(f"FAIL: {name}: failed but left {out}")
            sys.exit(1)
        if os.path.exists(out):
            os.remove(out)
        counts[r.returncode] += 1
        os.remove(path)
    print(f"{len(cases)} corrupted models: {counts[1]} clean errors, {counts[0]} compiled, 0 crashes: PASS")


if __name__ == "__main__":
    main()
