"""Exports a network of models/pytorch/op_zoo.py with PyTorch's own logits.

usage: make_op_fixture.py MODEL OPSET RESOLUTION OUTDIR [--no-constant-folding]
                          [--dynamic-batch N]
With --dynamic-batch the input's dimension 0 is symbolic ('batch') and the
saved input and logits have batch N.
Without constant folding, PyTorch 1.13 writes `x.size(0)` and `view(-1, c, 1,
1)` as Shape -> Gather -> Unsqueeze -> Concat -> Reshape subgraphs.
Writes OUTDIR/model.onnx, input.npy (float32 NCHW, seeded) and logits.npy.
BN statistics are randomised so that BN is really exercised.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "models", "pytorch"))
import op_zoo  # noqa: E402


def main():
    name, opset, res, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    folding = "--no-constant-folding" not in sys.argv[5:]
    dynamic = int(sys.argv[sys.argv.index("--dynamic-batch") + 1]) if "--dynamic-batch" in sys.argv else 0
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = op_zoo.build(name)
    g = torch.Generator().manual_seed(1234)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    model.eval()
    x = torch.randn(max(dynamic, 1), 3, res, res, generator=torch.Generator().manual_seed(42))
    with torch.no_grad():
        logits = model(x)
    axes = {"image": {0: "batch"}, "logits": {0: "batch"}} if dynamic else None
    torch.onnx.export(model, x[:1], os.path.join(out, "model.onnx"), opset_version=opset,
                      input_names=["image"], output_names=["logits"],
                      do_constant_folding=folding, dynamic_axes=axes)
    np.save(os.path.join(out, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, "logits.npy"), logits.numpy().astype(np.float32))


if __name__ == "__main__":
    main()
