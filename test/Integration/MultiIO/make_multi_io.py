"""Exports models/pytorch/multi_io.py's TwoInThreeOut with PyTorch 1.13, BN
kept (training=PRESERVE) or folded (eval, constant folding), with seeded
inputs and PyTorch's outputs.

usage: make_multi_io.py OUTDIR
Writes OUTDIR/preserve.onnx, eval.onnx; inputs.npz (NCHW, keys image and
crop), inputs_nhwc.npz (the .tflite interface), image.npy, crop.npy,
image_nhwc.npy, crop_nhwc.npy; outputs.npz (PyTorch, keys logits, gated,
heads) and outputs_nhwc.npz (4-D outputs NHWC, the others as they are).
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "models", "pytorch"))
import multi_io  # noqa: E402
from reparam_models import randomize_  # noqa: E402


def nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)) if a.ndim == 4 else a


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = multi_io.build("two_in_three_out")
    randomize_(model, 7)
    model.eval()
    g = torch.Generator().manual_seed(42)
    image, crop = torch.randn(1, 3, 32, 32, generator=g), torch.randn(1, 3, 16, 16, generator=g)
    with torch.no_grad():
        outputs = [o.numpy().astype(np.float32) for o in model(image, crop)]
    names = dict(input_names=["image", "crop"], output_names=["logits", "gated", "heads"])
    torch.onnx.export(model, (image, crop), os.path.join(out, "eval.onnx"), opset_version=13, **names)
    torch.onnx.export(model, (image, crop), os.path.join(out, "preserve.onnx"), opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, **names)
    ins = {"image": image.numpy(), "crop": crop.numpy()}
    np.savez(os.path.join(out, "inputs.npz"), **ins)
    np.savez(os.path.join(out, "inputs_nhwc.npz"), **{k: nhwc(v) for k, v in ins.items()})
    for k, v in ins.items():
        np.save(os.path.join(out, k + ".npy"), v)
        np.save(os.path.join(out, k + "_nhwc.npy"), nhwc(v))
    outs = dict(zip(["logits", "gated", "heads"], outputs))
    np.savez(os.path.join(out, "outputs.npz"), **outs)
    np.savez(os.path.join(out, "outputs_nhwc.npz"), **{k: nhwc(v) for k, v in outs.items()})
    for k, v in outs.items():
        np.save(os.path.join(out, k + ".npy"), v)
        np.save(os.path.join(out, k + "_nhwc.npy"), nhwc(v))


if __name__ == "__main__":
    main()
