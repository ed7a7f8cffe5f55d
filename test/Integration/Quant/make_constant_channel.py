"""The failure that re-parameterisation brings to int8, in miniature: a
depthwise layer one of whose channels is constant (zero weights, a positive
bias, ReLU), then a MobileOne 1x1 block whose identity BN has learnt that
channel's constant mean and a near-zero variance, as BN does on a channel
that never moves. Folded, the block's kernel multiplies that input channel
by gamma / sqrt(eps) ~ 300: a rounding error of the input becomes a large
constant error of the output channel.

    make_constant_channel.py OUT_DIR

writes model.onnx (BN kept), cal.npy (8 samples, NCHW), x_nhwc.npy.
"""
import os
import sys

import numpy as np
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 1, 1)
        self.dw = nn.Conv2d(16, 16, 3, 1, 1, groups=16)
        self.conv = nn.Sequential(nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.skip = nn.BatchNorm2d(16)
        self.head = nn.Conv2d(16, 8, 1)

    def forward(self, x):
        a = torch.relu(self.dw(torch.relu(self.stem(x))))
        b = torch.relu(self.conv(a) + self.skip(a))
        return self.head(b)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        net.dw.weight[3].zero_()
        net.dw.bias[3] = 0.7  # channel 3 of `a` is 0.7 everywhere
        for bn in (net.conv[1], net.skip):
            bn.running_mean.uniform_(0.0, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
        net.skip.running_mean[3] = 0.7
        net.skip.running_var[3] = 0.0  # eps alone: 1 / sqrt(1e-5) = 316
    net.eval()
    torch.onnx.export(net, torch.randn(1, 3, 16, 16), os.path.join(out, 'model.onnx'),
                      opset_version=13, input_names=['image'], output_names=['y'],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    rng = np.random.default_rng(3)
    np.save(os.path.join(out, 'cal.npy'), rng.standard_normal((8, 3, 16, 16)).astype(np.float32))
    held = rng.standard_normal((1, 3, 16, 16)).astype(np.float32)
    np.save(os.path.join(out, 'x_nhwc.npy'), held.transpose(0, 2, 3, 1).copy())


if __name__ == '__main__':
    main()
