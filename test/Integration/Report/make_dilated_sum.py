"""A network with one sum the compiler has no rule to compose (a 3x3 conv of
dilation 2 plus a 3x3 conv of dilation 1 on the same input) and one
residual join through a ReLU, exported by PyTorch 1.13.

    make_dilated_sum.py OUT.onnx
"""
import sys

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(8, 8, 3, 1, 1)
        self.dilated = nn.Conv2d(8, 8, 3, 1, 2, dilation=2)
        self.plain = nn.Conv2d(8, 8, 3, 1, 1)

    def forward(self, x):
        y = torch.relu(self.stem(x))
        return torch.relu(self.dilated(y) + self.plain(y)) + y


torch.manual_seed(0)
torch.onnx.export(Net().eval(), torch.randn(1, 8, 16, 16), sys.argv[1], opset_version=13)
