"""PyTorch networks that exercise the ONNX front door beyond re-param blocks.

`OpZoo`: every op the importer supports around re-param blocks, in one
small network (GELU, HardSigmoid, HardSwish, ReLU6, LeakyReLU, Tanh,
Sigmoid, broadcast arithmetic, reflect Pad, MaxPool with ceil_mode,
AveragePool with and without count_include_pad, Split, Concat, Slice,
Transpose, LayerNorm, attention-style MatMul + Softmax, ReduceMean,
Squeeze/Unsqueeze, GlobalAveragePool, Flatten, Linear). What ONNX ops each
becomes depends on the opset (e.g. LayerNorm is one op from 17, a
ReduceMean/Pow/Sqrt chain before; HardSwish is an op from 14).

`AppleHead`: conv -> BN -> ReLU with Apple's reference `mobileone.py` SE
(`x.view(-1, c, 1, 1)` with `b, c, h, w = x.size()`) and classifier head
(`x.view(x.size(0), -1)`): exported with a symbolic batch these become
Shape -> Gather -> Unsqueeze -> Concat -> Reshape subgraphs.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class OpZoo(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.norm = nn.LayerNorm(16)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.bn(self.conv(x))
        a = F.gelu(x)
        b = F.hardsigmoid(x)
        c = F.hardswish(x)
        d = F.relu6(x)
        e = F.leaky_relu(x, 0.1)
        f = torch.tanh(x) * torch.sigmoid(x)
        x = a + b - c * d / (2.0 + torch.sigmoid(e)) + f
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")
        x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        x = F.avg_pool2d(x, 3, 1, padding=1, count_include_pad=False) + \
            F.avg_pool2d(x, 3, 1, padding=1, count_include_pad=True)
        p, q = torch.split(x, [6, 10], dim=1)
        x = torch.cat([q, p * 0.5], dim=1)
        x = x[:, :, 1:, :-1]
        t = x.flatten(2).transpose(1, 2)
        t = self.norm(t)
        attn = torch.softmax(torch.matmul(t, t.transpose(1, 2)) / 4.0, dim=-1)
        t = torch.matmul(attn, t)
        t = t.mean(dim=1)
        u = x.mean(dim=(2, 3), keepdim=True).squeeze(3).squeeze(2)
        v = F.adaptive_avg_pool2d(x, 1).flatten(1)
        t = t + u + v.unsqueeze(1).squeeze(1)
        return self.fc(t)


class AppleSE(nn.Module):
    """Squeeze-Excite as Apple's reference mobileone.py writes it."""

    def __init__(self, channels, rd_ratio=0.0625):
        super().__init__()
        self.reduce = nn.Conv2d(channels, int(channels * rd_ratio), 1, bias=True)
        self.expand = nn.Conv2d(int(channels * rd_ratio), channels, 1, bias=True)

    def forward(self, inputs):
        b, c, h, w = inputs.size()
        x = F.avg_pool2d(inputs, kernel_size=[h, w])
        x = self.reduce(x)
        x = F.relu(x)
        x = self.expand(x)
        x = torch.sigmoid(x)
        x = x.view(-1, c, 1, 1)
        return inputs * x


class AppleHead(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(32)
        self.se = AppleSE(32)
        self.gap = nn.AdaptiveAvgPool2d(output_size=1)
        self.linear = nn.Linear(32, classes)

    def forward(self, x):
        x = self.se(F.relu(self.bn(self.conv(x))))
        x = self.gap(x)
        x = x.view(x.size(0), -1)
        return self.linear(x)


class ConvNet(nn.Module):
    """Conv-BN-ReLU blocks (one with a BN-only skip branch), global pooling
    and a linear head: ops every target has, for batch tests."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.skip = nn.BatchNorm2d(16)
        self.linear = nn.Linear(16, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)) + self.skip(x))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class PoolNet(nn.Module):
    """ResNet's stem pattern: a padded max pool after conv-BN-ReLU (the
    runtime folds the PADV2 the compiler writes into the pool), and one
    after a conv without activation (not folded: its input is unbounded)."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.linear = nn.Linear(32, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, padding=1)
        x = F.max_pool2d(self.conv2(x), 3, 2, padding=1)
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build(name):
    return {"opzoo": OpZoo, "applehead": AppleHead, "convnet": ConvNet,
            "poolnet": PoolNet}[name]()
