"""Writes attention blocks whose BatchNorm2d sits before the flatten and the
transpose into the q/k/v projections (as LeViT-style and FastViT-style
attention writes it), exported by PyTorch 1.13 with the BN kept
(preserve.onnx) and folded by the exporter where it can (eval.onnx), and a
variant whose normalised tokens also feed the output directly (mixed.onnx:
the BN must stay there). Saves the input (NCHW and NHWC) and PyTorch's
outputs.

usage: make_attention_bn.py OUTDIR
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, c=16, d=24, mixed=False):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, 2, 1)
        self.bn = nn.BatchNorm2d(c)
        self.q, self.k, self.v = nn.Linear(c, d), nn.Linear(c, d), nn.Linear(c, d, bias=False)
        self.mixed = mixed

    def forward(self, x):
        y = self.bn(torch.relu(self.conv(x)))
        n, c, h, w = y.shape
        t = y.reshape(n, c, h * w).transpose(1, 2)
        a = torch.softmax(self.q(t) @ self.k(t).transpose(1, 2) / 4.0, -1)
        out = a @ self.v(t)
        return torch.cat([out, t], -1) if self.mixed else out


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    np.save(os.path.join(out, "x.npy"), x.numpy())
    np.save(os.path.join(out, "x_nhwc.npy"), x.numpy().transpose(0, 2, 3, 1).copy())
    for name, mixed in (("attention", False), ("mixed", True)):
        m = Attention(mixed=mixed).eval()
        with torch.no_grad():
            m.bn.running_mean.uniform_(-0.5, 0.5)
            m.bn.running_var.uniform_(0.5, 1.5)
            m.bn.weight.uniform_(0.5, 1.5)
            m.bn.bias.uniform_(-0.3, 0.3)
            np.save(os.path.join(out, f"{name}_y.npy"), m(x).numpy())
        for mode, tm in (("preserve", torch.onnx.TrainingMode.PRESERVE),
                         ("eval", torch.onnx.TrainingMode.EVAL)):
            torch.onnx.export(m, x, os.path.join(out, f"{name}_{mode}.onnx"), opset_version=13,
                              training=tm, input_names=["x"], output_names=["y"])


if __name__ == "__main__":
    main()
