"""The models of the latency analysis (docs/analysis.md), exported by
PyTorch (Debian's) to ONNX with seeded weights.

    zoo.py NAME RESOLUTION OUT.onnx

NAME is one of
  s0..s4, repvgg           models/pytorch/reparam_models.py (training-time)
  repghost, repvit, fastvit  models/pytorch/families.py (training-time)
  mnv1-W, mnv2-W, resnet-W   in-house MobileNet-V1 / V2 and ResNet-18 style
                           nets at width multiplier W (e.g. mnv2-0.5)
  act-A                    the paper's 3.2.1 net: 30 3x3 conv layers (32
                           channels at RESOLUTION/2) each followed by A:
                           relu, gelu, silu, hardswish, sigmoid, se-relu
  branches-K               the paper's 3.2.2 net: 6 MobileOne block pairs
                           (depthwise 3x3, pointwise 1x1; 64 channels at
                           RESOLUTION/2) with K conv branches each
Every export keeps BatchNormalization (TrainingMode.PRESERVE) so that the
training-time graph is what ONNX Runtime runs.
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "models", "pytorch"))
import families  # noqa: E402
import reparam_models  # noqa: E402


def conv_bn_act(cin, cout, k, stride, groups=1, act=nn.ReLU):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), act())


def ch(c, w):
    return max(8, int(round(c * w / 8)) * 8)


class MobileNetV1(nn.Module):
    CFG = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
          [(1024, 2), (1024, 1)]

    def __init__(self, w, classes=1000):
        super().__init__()
        layers = [conv_bn_act(3, ch(32, w), 3, 2)]
        cin = ch(32, w)
        for c, s in self.CFG:
            layers += [conv_bn_act(cin, cin, 3, s, groups=cin), conv_bn_act(cin, ch(c, w), 1, 1)]
            cin = ch(c, w)
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = [] if t == 1 else [conv_bn_act(cin, hidden, 1, 1, act=nn.ReLU6)]
        layers += [conv_bn_act(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.skip else y


class MobileNetV2(nn.Module):
    CFG = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
           (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, w, classes=1000):
        super().__init__()
        layers = [conv_bn_act(3, ch(32, w), 3, 2, act=nn.ReLU6)]
        cin = ch(32, w)
        for t, c, n, s in self.CFG:
            for i in range(n):
                layers.append(InvertedResidual(cin, ch(c, w), s if i == 0 else 1, t))
                cin = ch(c, w)
        layers.append(conv_bn_act(cin, 1280, 1, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(1280, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn_act(cin, cout, 3, stride)
        self.b = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.down = None if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        skip = x if self.down is None else self.down(x)
        return F.relu(self.b(self.a(x)) + skip)


class ResNet18(nn.Module):
    def __init__(self, w, classes=1000):
        super().__init__()
        c = [ch(64, w), ch(128, w), ch(256, w), ch(512, w)]
        layers = [conv_bn_act(3, c[0], 7, 2), nn.MaxPool2d(3, 2, 1)]
        cin = c[0]
        for i, cout in enumerate(c):
            layers += [BasicBlock(cin, cout, 1 if i == 0 else 2), BasicBlock(cout, cout, 1)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class SE(nn.Module):
    def __init__(self, c, r=4):
        super().__init__()
        self.reduce = nn.Conv2d(c, c // r, 1)
        self.expand = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.expand(F.relu(self.reduce(s))))


class SEReLU(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.se = SE(c)

    def forward(self, x):
        return F.relu(self.se(x))


ACTIVATIONS = {"relu": lambda c: nn.ReLU(), "gelu": lambda c: nn.GELU(),
               "silu": lambda c: nn.SiLU(), "hardswish": lambda c: nn.Hardswish(),
               "sigmoid": lambda c: nn.Sigmoid(), "se-relu": SEReLU}


class ActivationNet(nn.Module):
    """The paper's 3.2.1: 30 conv layers, one activation after each."""

    def __init__(self, act, width=32, layers=30, classes=10):
        super().__init__()
        mods = [nn.Conv2d(3, width, 3, 2, 1), ACTIVATIONS[act](width)]
        for _ in range(layers - 1):
            mods += [nn.Conv2d(width, width, 3, 1, 1), ACTIVATIONS[act](width)]
        self.features = nn.Sequential(*mods)
        self.fc = nn.Linear(width, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class BranchNet(nn.Module):
    """The paper's 3.2.2: MobileOne block pairs with k conv branches."""

    def __init__(self, k, width=64, pairs=6, classes=10):
        super().__init__()
        Block = reparam_models.MobileOneBlock
        mods = [Block(3, width, 3, 2, 1, 1, k)]
        for _ in range(pairs):
            mods += [Block(width, width, 3, 1, 1, width, k), Block(width, width, 1, 1, 0, 1, k)]
        self.features = nn.Sequential(*mods)
        self.fc = nn.Linear(width, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


@torch.no_grad()
def randomize_(model, seed):
    """Seeded weights, BN statistics that keep activations O(1)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            m.weight.copy_(torch.randn(m.weight.shape, generator=g) * math.sqrt(1.0 / fan_in))
            if m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.5)
            m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return model


def build(name):
    if name in reparam_models.VARIANTS or name == "repvgg":
        return reparam_models.randomize_(reparam_models.build(name), seed=1234)
    if name in ("repghost", "repvit", "fastvit"):
        return families.randomize_(families.build(name), seed=1234)
    kind, _, arg = name.partition("-")
    if kind == "act":
        return randomize_(ActivationNet(arg), 1)
    if kind == "branches":
        return randomize_(BranchNet(int(arg)), 1)
    nets = {"mnv1": MobileNetV1, "mnv2": MobileNetV2, "resnet": ResNet18}
    if kind in nets:
        return randomize_(nets[kind](float(arg)), 1)
    raise SystemExit(f"zoo.py: unknown model '{name}'")


def main():
    name, res, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    torch.manual_seed(0)
    model = build(name).eval()
    x = torch.randn(1, 3, res, res, generator=torch.Generator().manual_seed(42))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, x, out, opset_version=14,
                          training=torch.onnx.TrainingMode.PRESERVE,
                          input_names=["image"], output_names=["logits"],
                          do_constant_folding=True)


if __name__ == "__main__":
    main()
