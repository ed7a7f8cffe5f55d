"""A network of the int8 operators make_int8_model.py does not reach (non-
global average pooling with and without padding, subtraction, explicit
constant padding, slicing, a clip (MAXIMUM, MINIMUM), leaky ReLU, tanh,
a requantised concatenation), exported by PyTorch 1.13, with seeded calibration samples
and a held-out input.

    make_int8_ops.py OUT_DIR

writes model.onnx, cal.npy (8 samples, NCHW) and x.npy (NCHW), and
softmax.onnx: a convolution then a softmax, which has no int8 form.
"""
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 1, 1)
        self.a = nn.Conv2d(16, 16, 1)
        self.b = nn.Conv2d(16, 16, 3, 1, 1, groups=4)

    def forward(self, x):
        s = F.leaky_relu(self.stem(x), 0.1)
        p = F.avg_pool2d(s, 3, 1, 1, count_include_pad=False)
        d = torch.tanh(self.a(p) - s)
        q = F.avg_pool2d(d, 2, 2)
        e = F.pad(self.b(q), (1, 2, 0, 1))[:, :, 1:9, 2:10]
        t = e[:, :4]
        return torch.cat([t, t, F.hardtanh(e + q[:, :, :8, :8], -0.5, 0.25)], 1)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    net = Net().eval()
    x = torch.randn(1, 3, 20, 20)
    torch.onnx.export(net, x, os.path.join(out, "model.onnx"), opset_version=13,
                      input_names=["image"], output_names=["y"])
    torch.onnx.export(nn.Sequential(nn.Conv2d(3, 4, 3, 1, 1), nn.Softmax(1)).eval(), x,
                      os.path.join(out, "softmax.onnx"), opset_version=13,
                      input_names=["image"], output_names=["y"])
    rng = np.random.default_rng(1)
    np.save(os.path.join(out, "cal.npy"), rng.standard_normal((8, 3, 20, 20)).astype(np.float32))
    np.save(os.path.join(out, "x.npy"), rng.standard_normal((1, 3, 20, 20)).astype(np.float32))


if __name__ == "__main__":
    main()
