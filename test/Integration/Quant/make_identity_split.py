"""Why re-parameterised networks quantise badly, in miniature: MobileOne
1x1 blocks (conv + BN beside an identity BN) whose identity BNs learnt a
gamma / sqrt(var) of about 1 beside 255 other weights of about 1/30.
Folded, each block's kernel has a diagonal many times its other weights,
and int8's per-channel step, set by the diagonal, is coarse for the rest of
the row, which carries most of the output. One 3x3 depthwise
block the same way.

    make_identity_split.py OUT_DIR

writes model.onnx (BN kept), cal.npy (8 samples, NCHW), held.npy (4
others, NCHW) and held_nhwc.npy.
"""
import os
import sys

import torch
from torch import nn

from fixture_io import save_model_and_inputs

C = 256


class Block(nn.Module):
    def __init__(self, groups=1, k=1):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(C, C, k, 1, k // 2, groups=groups, bias=False),
                                  nn.BatchNorm2d(C))
        self.skip = nn.BatchNorm2d(C)

    def forward(self, x):
        return torch.relu(self.conv(x) + self.skip(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, C, 3, 1, 1)
        self.blocks = nn.Sequential(Block(), Block(), Block(C, 3), Block(), Block())
        self.head = nn.Conv2d(C, 10, 1)

    def forward(self, x):
        return self.head(self.blocks(torch.relu(self.stem(x))))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        for b in net.blocks:
            # gamma / sqrt(var) about 1, each other weight about 1/30 of it
            # (PyTorch's initialisation for 256 inputs): the folded kernel's
            # diagonal is its peak, the rest of the row carries most of its
            # output.
            b.skip.weight.uniform_(0.8, 1.2)
            b.skip.running_var.fill_(1.0)
    save_model_and_inputs(net, out)


if __name__ == '__main__':
    main()
