"""What cross-layer equalisation is for, in miniature: a MobileOne-style
chain (3x3 stem, then 3x3 depthwise and 1x1 blocks, each conv + BN + ReLU)
whose BNs learnt per-channel scales spread over two decades, as trained BNs
do. Folded, each layer's output channels span ranges 1/100 to 1 of each
other, and one int8 scale per tensor leaves the narrow channels a few
levels. The 3x3 depthwise layers read those tensors (full equalisation is
free for them); the 1x1 layers too (half of it, their weights pay the rest).

    make_equalize.py OUT_DIR

writes model.onnx (BN kept), cal.npy (8 samples, NCHW), held.npy (4
others, NCHW) and held_nhwc.npy.
"""
import os
import sys

import torch
from torch import nn

from fixture_io import save_model_and_inputs

C = 64


def conv_bn(cin, cout, k, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, 1, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, C, 3)
        self.blocks = nn.Sequential(conv_bn(C, C, 3, C), conv_bn(C, C, 1),
                                    conv_bn(C, C, 3, C), conv_bn(C, C, 1))
        self.head = nn.Conv2d(C, 10, 1)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                # gamma log-uniform over [0.01, 1]: channel ranges two
                # decades apart.
                m.weight.copy_(10.0 ** torch.empty(C).uniform_(-2.0, 0.0))
                m.bias.uniform_(-0.05, 0.05)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    save_model_and_inputs(net, out)


if __name__ == '__main__':
    main()
