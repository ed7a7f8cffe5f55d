"""A small network of every operator the int8 path takes, with outputs at
several depths (so each stage is compared, not only the end), exported by
PyTorch 1.13, plus seeded calibration samples and a held-out input.

    make_int8_model.py OUT_DIR

writes model.onnx, cal.npy (8 samples, NCHW), x.npy (NCHW) and x_nhwc.npy.
"""
import os
import sys

import numpy as np
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16),
                                  nn.ReLU())
        self.dw = nn.Conv2d(16, 16, 3, 1, 1, groups=16)
        self.pw = nn.Conv2d(16, 24, 1)
        self.se_reduce = nn.Conv2d(24, 8, 1)
        self.se_expand = nn.Conv2d(8, 24, 1)
        self.branch = nn.Conv2d(24, 24, 3, 1, 1)
        self.down = nn.Conv2d(48, 32, 3, 2, 1, groups=2)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        a = self.stem(x)
        b = torch.relu(self.pw(torch.relu(self.dw(a))))
        # Squeeze-excite: mean, 1x1, ReLU, 1x1, sigmoid, multiply.
        s = b.mean((2, 3), keepdim=True)
        s = torch.sigmoid(self.se_expand(torch.relu(self.se_reduce(s))))
        c = b * s
        # A residual add, a hard-swish, a concatenation, a max pool.
        d = nn.functional.hardswish(c + self.branch(c))
        e = torch.cat([d, c], 1)
        f = nn.functional.max_pool2d(nn.functional.relu6(self.down(e)), 2)
        g = self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(f, 1), 1))
        return b, d, g


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    net = Net()
    # Trained-looking batch-norm statistics.
    with torch.no_grad():
        bn = net.stem[1]
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
    net.eval()
    x = torch.randn(1, 3, 32, 32)
    torch.onnx.export(net, x, os.path.join(out, 'model.onnx'),
                      opset_version=13, input_names=['image'],
                      output_names=['early', 'middle', 'logits'])
    rng = np.random.default_rng(1)
    np.save(os.path.join(out, 'cal.npy'),
            rng.standard_normal((8, 3, 32, 32)).astype(np.float32))
    held = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    np.save(os.path.join(out, 'x.npy'), held)
    np.save(os.path.join(out, 'x_nhwc.npy'), held.transpose(0, 2, 3, 1).copy())


if __name__ == '__main__':
    main()
