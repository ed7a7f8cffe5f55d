"""Exports one training-time model to ONNX with PyTorch's own logits.

usage: make_fixture.py MODEL MODE OPSET RESOLUTION OUTDIR
  MODEL   s0..s4, repvgg, plain
  MODE    eval (BN folded into each branch conv) or preserve (every BN kept)
Writes OUTDIR/model.onnx, input.bin (float32 NCHW, seeded) and logits.bin.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "models", "pytorch"))
import reparam_models  # noqa: E402


def main():
    name, mode, opset, res, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = reparam_models.randomize_(reparam_models.build(name), seed=1234).eval()
    x = torch.randn(1, 3, res, res, generator=torch.Generator().manual_seed(42))
    with torch.no_grad():
        logits = model(x)
    training = torch.onnx.TrainingMode.EVAL if mode == "eval" else torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, x, os.path.join(out, "model.onnx"), opset_version=opset,
                      training=training, input_names=["image"], output_names=["logits"],
                      do_constant_folding=True)
    x.numpy().astype(np.float32).tofile(os.path.join(out, "input.bin"))
    logits.numpy().astype(np.float32).tofile(os.path.join(out, "logits.bin"))


if __name__ == "__main__":
    main()
