"""Exports one training-time model to ONNX with PyTorch's own logits.

usage: make_fixture.py MODEL MODE OPSET RESOLUTION OUTDIR
  MODEL   s0..s4, repvgg, plain (models/pytorch/reparam_models.py), or a
          family of models/pytorch/families.py: repvit, fastvit, repghost,
          acnet, dbb, yolo
  MODE    eval (BN folded into each branch conv) or preserve (every BN kept)
Writes OUTDIR/model.onnx, input.bin (float32 NCHW, seeded) and logits.bin,
and the same as input.npy, input_nhwc.npy and logits.npy.
For a family, also prints the family's own reparameterize() as the
reference deploy form: `deploy convs: N` and how far the reference deploy
model is from the training-time one (`reference rel diff: ... OK`).
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "models", "pytorch"))
import families  # noqa: E402
import reparam_models  # noqa: E402

FAMILIES = ("repvit", "fastvit", "repghost", "acnet", "dbb", "yolo")


def main():
    name, mode, opset, res, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    module = families if name in FAMILIES else reparam_models
    model = module.randomize_(module.build(name), seed=1234).eval()
    x = torch.randn(1, 3, res, res, generator=torch.Generator().manual_seed(42))
    with torch.no_grad():
        logits = model(x)
        if module is families:
            deployed = families.reparameterize(model)
            rel = float((deployed(x) - logits).abs().max() / logits.abs().max())
            print(f"deploy convs: {families.count_convs(deployed)}")
            print(f"reference rel diff: {rel:.2e} {'OK' if rel < 1e-5 else 'WRONG'}")
    training = torch.onnx.TrainingMode.EVAL if mode == "eval" else torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, x, os.path.join(out, "model.onnx"), opset_version=opset,
                      training=training, input_names=["image"], output_names=["logits"],
                      do_constant_folding=True)
    x.numpy().astype(np.float32).tofile(os.path.join(out, "input.bin"))
    logits.numpy().astype(np.float32).tofile(os.path.join(out, "logits.bin"))
    # The same as .npy, and the input NHWC for TFLite.
    np.save(os.path.join(out, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, "input_nhwc.npy"),
            x.numpy().astype(np.float32).transpose(0, 2, 3, 1).copy())
    np.save(os.path.join(out, "logits.npy"), logits.numpy().astype(np.float32))


if __name__ == "__main__":
    main()
