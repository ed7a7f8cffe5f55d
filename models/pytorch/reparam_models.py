"""PyTorch definitions of the training-time networks the compiler consumes.

MobileOne S0..S4 laid out as in MOBILEONE.md (the structure of Apple's
reference implementation: branch modules `rbr_conv`, `rbr_scale`, `rbr_skip`,
an SE block that pools with avg_pool2d over the whole map and reshapes the
gate with view) and a RepVGG-A0-style network. No re-parameterisation code
lives here: that is the compiler's job.

`randomize_(model, seed)` gives every conv and BN seeded random weights and
running statistics with a gain that keeps activations O(1) through the
network, so that BN folding is really exercised.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k, stride, padding, groups):
    seq = nn.Sequential()
    seq.add_module("conv", nn.Conv2d(cin, cout, k, stride, padding, groups=groups, bias=False))
    seq.add_module("bn", nn.BatchNorm2d(cout))
    return seq


class SEBlock(nn.Module):
    def __init__(self, channels, ratio=0.0625):
        super().__init__()
        self.reduce = nn.Conv2d(channels, int(channels * ratio), 1, bias=True)
        self.expand = nn.Conv2d(int(channels * ratio), channels, 1, bias=True)

    def forward(self, x):
        b, c, h, w = x.size()
        s = F.avg_pool2d(x, kernel_size=[h, w])
        s = torch.sigmoid(self.expand(F.relu(self.reduce(s))))
        return x * s.view(-1, c, 1, 1)


class MobileOneBlock(nn.Module):
    def __init__(self, cin, cout, k, stride, padding, groups, branches, use_se=False):
        super().__init__()
        self.rbr_skip = nn.BatchNorm2d(cin) if cin == cout and stride == 1 else None
        self.rbr_conv = nn.ModuleList(
            [conv_bn(cin, cout, k, stride, padding, groups) for _ in range(branches)])
        self.rbr_scale = conv_bn(cin, cout, 1, stride, 0, groups) if k > 1 else None
        self.se = SEBlock(cout) if use_se else nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x):
        # As the reference implementation writes it: scalar zeros trace to
        # `Add(x, 0)` nodes that the importer must see through.
        identity_out = 0
        if self.rbr_skip is not None:
            identity_out = self.rbr_skip(x)
        scale_out = 0
        if self.rbr_scale is not None:
            scale_out = self.rbr_scale(x)
        out = scale_out + identity_out
        for conv in self.rbr_conv:
            out = out + conv(x)
        return self.act(self.se(out))


VARIANTS = {
    "s0": ((0.75, 1.0, 1.0, 2.0), 4, False),
    "s1": ((1.5, 1.5, 2.0, 2.5), 1, False),
    "s2": ((1.5, 2.0, 2.5, 4.0), 1, False),
    "s3": ((2.0, 2.5, 3.0, 4.0), 1, False),
    "s4": ((3.0, 3.5, 3.5, 4.0), 1, True),
    # Not a published variant: every structure of S0 (k = 2) and S4 (SE) at
    # a few thousand parameters, for tests that run a model many times.
    "tiny": ((0.25, 0.25, 0.25, 0.25), 2, True),
}


class MobileOne(nn.Module):
    def __init__(self, variant="s0", num_classes=1000):
        super().__init__()
        widths, k, se = VARIANTS[variant]
        self.in_planes = min(64, int(64 * widths[0]))
        self.stage0 = MobileOneBlock(3, self.in_planes, 3, 2, 1, 1, 1)
        blocks = [2, 8, 10, 1]
        se_blocks = [0, 0, 5 if se else 0, 1 if se else 0]
        self.stages = nn.ModuleList()
        for i, base in enumerate([64, 128, 256, 512]):
            self.stages.append(self._make_stage(int(base * widths[i]), blocks[i], se_blocks[i], k))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(int(512 * widths[3]), num_classes)

    def _make_stage(self, planes, n, n_se, k):
        layers = []
        for i in range(n):
            stride = 2 if i == 0 else 1
            use_se = i >= n - n_se
            layers.append(MobileOneBlock(self.in_planes, self.in_planes, 3, stride, 1,
                                         self.in_planes, k, use_se))
            layers.append(MobileOneBlock(self.in_planes, planes, 1, 1, 0, 1, k, use_se))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.stage0(x)
        for stage in self.stages:
            x = stage(x)
        x = self.gap(x)
        return self.linear(torch.flatten(x, 1))


class RepVGGBlock(nn.Module):
    """3x3 conv-BN + 1x1 conv-BN + BN identity, summed in one expression."""

    def __init__(self, cin, cout, stride, groups=1):
        super().__init__()
        self.rbr_identity = nn.BatchNorm2d(cin) if cin == cout and stride == 1 else None
        self.rbr_dense = conv_bn(cin, cout, 3, stride, 1, groups)
        self.rbr_1x1 = conv_bn(cin, cout, 1, stride, 0, groups)
        self.act = nn.ReLU()

    def forward(self, x):
        out = self.rbr_dense(x) + self.rbr_1x1(x)
        if self.rbr_identity is not None:
            out = out + self.rbr_identity(x)
        return self.act(out)


class RepVGG(nn.Module):
    """RepVGG-A0 layout: blocks [1, 2, 4, 14, 1], widths 48, 48, 96, 192, 1280."""

    def __init__(self, num_classes=1000, blocks=(2, 4, 14, 1), widths=(48, 96, 192, 1280),
                 groups=1):
        """`groups` > 1: RepVGG-B*g* style, grouped 3x3 and 1x1 in every
        odd-numbered layer (the paper's g2/g4 variants)."""
        super().__init__()
        cin = 3
        layers = [RepVGGBlock(3, min(64, widths[0]), 2)]
        cin = min(64, widths[0])
        for n, w in zip(blocks, widths):
            for i in range(n):
                g = groups if len(layers) % 2 == 1 and cin % groups == 0 else 1
                layers.append(RepVGGBlock(cin, w, 2 if i == 0 else 1, g))
                cin = w
        self.body = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(cin, num_classes)

    def forward(self, x):
        return self.linear(torch.flatten(self.gap(self.body(x)), 1))


class PlainNet(nn.Module):
    """Nothing to re-parameterise: conv(+bias) -> ReLU chain and a head."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(16, 16, 3, 1, 1, groups=16), nn.ReLU(),
            nn.Conv2d(16, 32, 1), nn.ReLU())
        self.linear = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.body(x)
        return self.linear(x.mean(dim=(2, 3)))


def build(name):
    if name in VARIANTS:
        return MobileOne(name)
    if name == "repvgg":
        return RepVGG()
    if name == "repvgg_g4":
        # RepVGG-B1g4's pattern at a test size: 4 groups in odd layers.
        return RepVGG(num_classes=10, blocks=(1, 2, 2, 1), widths=(32, 64, 128, 256),
                      groups=4)
    if name == "repvgg_d2":
        # RepVGG-D2's layout (timm repvgg_d2se without its SE): about 133 M
        # parameters, a 525 MB training-time export; for compile-memory
        # benchmarks.
        return RepVGG(blocks=(8, 14, 24, 1), widths=(160, 320, 640, 2560))
    if name == "plain":
        return PlainNet()
    raise ValueError(f"unknown model {name}")


@torch.no_grad()
def randomize_(model, seed):
    """Seeded weights and BN statistics, scaled so activations stay O(1)."""
    g = torch.Generator().manual_seed(seed)
    for module in model.modules():
        branches = 1
        if isinstance(module, MobileOneBlock):
            branches = len(module.rbr_conv) + (module.rbr_scale is not None) + (module.rbr_skip is not None)
        elif isinstance(module, RepVGGBlock):
            branches = 2 + (module.rbr_identity is not None)
        else:
            continue
        gain = 0.85 / math.sqrt(branches)
        for sub in module.modules():
            if isinstance(sub, SEBlock):
                continue
            if isinstance(sub, nn.Conv2d) and sub.out_channels > 0:
                fan_in = sub.in_channels // sub.groups * sub.kernel_size[0] * sub.kernel_size[1]
                sub.weight.copy_(torch.randn(sub.weight.shape, generator=g) * math.sqrt(2.0 / fan_in))
            elif isinstance(sub, nn.BatchNorm2d):
                c = sub.num_features
                var = torch.rand(c, generator=g) * 1.5 + 0.5
                sub.running_var.copy_(var)
                sub.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                sub.weight.copy_(gain * var.sqrt() * (0.7 + 0.6 * torch.rand(c, generator=g)))
                sub.bias.copy_(torch.randn(c, generator=g) * 0.1)
    for module in model.modules():
        if isinstance(module, SEBlock):
            c = module.reduce.in_channels
            r = module.reduce.out_channels
            module.reduce.weight.copy_(torch.randn(module.reduce.weight.shape, generator=g) * math.sqrt(2.0 / c))
            module.reduce.bias.copy_(torch.randn(r, generator=g) * 0.1)
            module.expand.weight.copy_(torch.randn(module.expand.weight.shape, generator=g) * math.sqrt(1.0 / r))
            module.expand.bias.copy_(2.5 + 0.3 * torch.randn(c, generator=g))
    for module in model.modules():
        if isinstance(module, nn.Linear):
            k = module.in_features
            module.weight.copy_(torch.randn(module.weight.shape, generator=g) * math.sqrt(1.0 / k))
            module.bias.copy_(torch.randn(module.out_features, generator=g) * 0.1)
        if isinstance(module, nn.Conv2d) and isinstance(model, PlainNet):
            fan_in = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            module.weight.copy_(torch.randn(module.weight.shape, generator=g) * math.sqrt(2.0 / fan_in))
            module.bias.copy_(torch.randn(module.out_channels, generator=g) * 0.1)
    return model
