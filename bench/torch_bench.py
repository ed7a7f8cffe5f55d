"""PyTorch eager latency of a model: the project's training-time definition
(seeded like the fixtures) or a deployed ONNX graph executed op by op with
torch.nn.functional. Prints the sorted times in ms as JSON.

usage: torch_bench.py (--model s0 | --onnx deploy.onnx) THREADS RUNS RES
"""
import json
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "models", "pytorch"))
import reparam_models  # noqa: E402


class OnnxEager(torch.nn.Module):
    """Runs a deploy-time ONNX graph (Conv, Relu, GlobalAveragePool, Reshape,
    Gemm, Sigmoid, Mul) in PyTorch eager mode."""

    def __init__(self, path):
        super().__init__()
        self.g = onnx.load(path).graph
        self.w = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in self.g.initializer}

    def forward(self, x):
        env = dict(self.w)
        env[self.g.input[0].name] = x
        for n in self.g.node:
            a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
            i = [env[v] for v in n.input]
            if n.op_type == "Conv":
                p = a.get("pads", [0, 0, 0, 0])
                xin = i[0]
                if p[0] != p[2] or p[1] != p[3]:
                    xin = F.pad(xin, (p[1], p[3], p[0], p[2]))
                    p = [0, 0, 0, 0]
                y = F.conv2d(xin, i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]),
                             (p[0], p[1]), a.get("dilations", [1, 1]), a.get("group", 1))
            elif n.op_type == "Relu":
                y = F.relu(i[0])
            elif n.op_type == "Sigmoid":
                y = torch.sigmoid(i[0])
            elif n.op_type == "Mul":
                y = i[0] * i[1]
            elif n.op_type == "Add":
                y = i[0] + i[1]
            elif n.op_type == "GlobalAveragePool":
                y = F.adaptive_avg_pool2d(i[0], 1)
            elif n.op_type == "Reshape":
                y = i[0].reshape([int(d) for d in i[1]])
            elif n.op_type == "Gemm":
                y = F.linear(i[0], i[1] if a.get("transB", 0) else i[1].t(), i[2] if len(i) > 2 else None)
            else:
                raise ValueError(f"unsupported op {n.op_type}")
            env[n.output[0]] = y
        return env[self.g.output[0].name]


def main():
    kind, what, threads, runs, res = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    if kind == "--model":
        model = reparam_models.randomize_(reparam_models.build(what), seed=1234).eval()
    else:
        model = OnnxEager(what).eval()
    x = torch.randn(1, 3, res, res, generator=torch.Generator().manual_seed(0))
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps(sorted(times)))


if __name__ == "__main__":
    main()
