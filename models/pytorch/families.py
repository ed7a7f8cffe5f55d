"""Small PyTorch definitions of the re-parameterisable families of FAMILIES.md,
each with its own reference `reparameterize()`: what the family's repository
hand-writes, and what the compiler must reproduce from the exported graph.

  repvit    RepViT: RepVggDw token mixer BN(convBN_dw3(x) + conv_dw1(x) + x),
            Conv2d_BN everywhere, GELU channel MLP, SE, BN1d -> Linear
            classifier with an averaged distillation head.
  fastvit   FastViT: ReparamLargeKernelConv (7x7 + 3x3 dw conv-BN), RepMixer
            x + gamma * (mixer(x) - norm(x)), ConvMlp (dw 7x7 conv-BN -> 1x1
            -> GELU -> 1x1) with layer scale.
  repghost  RepGhost: 1x1 conv-BN, dw 3x3 conv-BN + BN-only fusion branch,
            HardSigmoid SE, residual shortcut.
  acnet     ACNet: BN(conv3x3) + BN(conv1x3) + BN(conv3x1).
  dbb       Diverse Branch Block: kxk conv-BN, 1x1 conv-BN, 1x1 -> kxk and
            1x1 -> kxk average pool in sequence (pad-with-bias as DBB does).
  yolo      The blocks of YOLOv6 and YOLOv7 as a small detector: YOLOv7's
            RepConv (3x3 conv-BN + 1x1 conv-BN + BN identity, SiLU written
            x * sigmoid(x)), YOLOv6's QARepVGG v2 (BN after the sum of a 3x3
            conv-BN, a bare 1x1 conv, the identity and a 3x3 average pool),
            MBLA's BottleRep (f(x) + alpha * x), a ConvTranspose -> BN
            upsampling, nearest and bilinear Resize, YOLOv7's implicit
            add/multiply around a 1x1 head, and a rank-5 head reshape.

`build(name)` gives the training-time model; `reparameterize(model)` a deploy
model of plain convs (and one Linear head), computing the same function;
`count_convs(model)` what a deploy graph should contain.
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# Kernel algebra of the reference reparameterize() (PyTorch, double).
# ---------------------------------------------------------------------------


def bn_affine(bn):
    s = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
    return s, bn.bias.double() - bn.running_mean.double() * s


def conv_kernel(conv):
    w = conv.weight.double()
    b = conv.bias.double() if conv.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
    return w, b


def fuse_bn(w, b, bn):
    s, t = bn_affine(bn)
    return w * s.view(-1, 1, 1, 1), b * s + t


def pad_to(w, k):
    """Zero-pads a kh x kw kernel centred into k x k."""
    dh, dw = (k - w.shape[2]) // 2, (k - w.shape[3]) // 2
    return F.pad(w, (dw, k - w.shape[3] - dw, dh, k - w.shape[2] - dh))


def identity_kernel(channels, groups, k):
    w = torch.zeros(channels, channels // groups, k, k, dtype=torch.float64)
    for c in range(channels):
        w[c, c % (channels // groups), k // 2, k // 2] = 1.0
    return w


def dense(w, groups):
    """A grouped kernel [O, I/g, k, k] as a dense one [O, I, k, k]."""
    o, ig = w.shape[0], w.shape[1]
    d = torch.zeros(o, ig * groups, w.shape[2], w.shape[3], dtype=w.dtype)
    for g in range(groups):
        d[g * (o // groups):(g + 1) * (o // groups), g * ig:(g + 1) * ig] = w[g * (o // groups):(g + 1) * (o // groups)]
    return d


def deploy_conv(w, b, ref, groups=None):
    """A Conv2d with the geometry of `ref` (stride, padding) and weights w, b."""
    groups = ref.groups if groups is None else groups
    conv = nn.Conv2d(ref.in_channels, w.shape[0], w.shape[2], ref.stride,
                     w.shape[2] // 2 if ref.padding != (0, 0) or w.shape[2] > 1 else 0,
                     groups=groups, bias=True)
    conv.weight.data.copy_(w.float())
    conv.bias.data.copy_(b.float())
    return conv


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k=1, stride=1, pad=0, groups=1):
        super().__init__()
        self.add_module("c", nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=False))
        self.add_module("bn", nn.BatchNorm2d(cout))

    def kernel(self):
        return fuse_bn(*conv_kernel(self.c), self.bn)

    def deploy(self):
        w, b = self.kernel()
        conv = nn.Conv2d(self.c.in_channels, self.c.out_channels, self.c.kernel_size, self.c.stride,
                         self.c.padding, groups=self.c.groups, bias=True)
        conv.weight.data.copy_(w.float())
        conv.bias.data.copy_(b.float())
        return conv


class SE(nn.Module):
    def __init__(self, c, r=4, gate=torch.sigmoid):
        super().__init__()
        self.reduce = nn.Conv2d(c, max(c // r, 4), 1)
        self.expand = nn.Conv2d(max(c // r, 4), c, 1)
        self.gate = gate

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.expand(F.relu(self.reduce(s))))


# ---------------------------------------------------------------------------
# RepViT
# ---------------------------------------------------------------------------


class RepVggDw(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = ConvBN(c, c, 3, 1, 1, groups=c)
        self.conv1 = nn.Conv2d(c, c, 1, 1, 0, groups=c)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return self.bn(self.conv(x) + self.conv1(x) + x)

    def deploy(self):
        c = self.conv1.in_channels
        w, b = self.conv.kernel()
        w1, b1 = conv_kernel(self.conv1)
        w = w + pad_to(w1, 3) + identity_kernel(c, c, 3)
        w, b = fuse_bn(w, b + b1, self.bn)
        return deploy_conv(w, b, self.conv.c)


class RepViTBlock(nn.Module):
    def __init__(self, cin, cout, stride, se):
        super().__init__()
        if stride == 2:
            self.token = nn.Sequential(ConvBN(cin, cin, 3, 2, 1, groups=cin),
                                       SE(cin) if se else nn.Identity(), ConvBN(cin, cout, 1))
        else:
            self.token = nn.Sequential(RepVggDw(cin), SE(cin) if se else nn.Identity())
        self.mlp = nn.Sequential(ConvBN(cout, 2 * cout, 1), nn.GELU(), ConvBN(2 * cout, cout, 1))

    def forward(self, x):
        x = self.token(x)
        return x + self.mlp(x)


class BNLinear(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.bn = nn.BatchNorm1d(c)
        self.l = nn.Linear(c, classes)

    def forward(self, x):
        return self.l(self.bn(x))

    def kernel(self):
        s, t = bn_affine(self.bn)
        w = self.l.weight.double()
        return w * s.view(1, -1), self.l.bias.double() + w @ t


class RepViT(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 8, 3, 2, 1), nn.GELU(), ConvBN(8, 16, 3, 2, 1))
        self.blocks = nn.Sequential(RepViTBlock(16, 16, 1, True), RepViTBlock(16, 16, 1, False),
                                    RepViTBlock(16, 32, 2, True), RepViTBlock(32, 32, 1, True))
        self.head = BNLinear(32, classes)
        self.head_dist = BNLinear(32, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = x.mean((2, 3))
        return (self.head(x) + self.head_dist(x)) / 2


# ---------------------------------------------------------------------------
# FastViT
# ---------------------------------------------------------------------------


class MobileOneDw(nn.Module):
    """FastViT's MobileOneBlock without activation: kxk conv-BN, 1x1 conv-BN,
    BN skip, all depthwise."""

    def __init__(self, c, k=3):
        super().__init__()
        self.kxk = ConvBN(c, c, k, 1, k // 2, groups=c)
        self.scale = ConvBN(c, c, 1, 1, 0, groups=c)
        self.skip = nn.BatchNorm2d(c)

    def forward(self, x):
        return self.kxk(x) + self.scale(x) + self.skip(x)

    def kernel(self):
        c, k = self.skip.num_features, self.kxk.c.kernel_size[0]
        w, b = self.kxk.kernel()
        w1, b1 = self.scale.kernel()
        wi, bi = fuse_bn(identity_kernel(c, c, k), torch.zeros(c, dtype=torch.float64), self.skip)
        return w + pad_to(w1, k) + wi, b + b1 + bi


class RepMixer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = nn.BatchNorm2d(c)
        self.mixer = MobileOneDw(c)
        self.gamma = nn.Parameter(torch.rand(c, 1, 1) * 0.5 + 0.5)

    def forward(self, x):
        return x + self.gamma * (self.mixer(x) - self.norm(x))

    def deploy(self):
        c = self.norm.num_features
        wm, bm = self.mixer.kernel()
        wn, bn = fuse_bn(identity_kernel(c, c, 3), torch.zeros(c, dtype=torch.float64), self.norm)
        g = self.gamma.double().view(-1)
        w = identity_kernel(c, c, 3) + g.view(-1, 1, 1, 1) * (wm - wn)
        return deploy_conv(w, g * (bm - bn), self.mixer.kxk.c)


class LargeKernel(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.large = ConvBN(cin, cout, 7, stride, 3, groups=cin)
        self.small = ConvBN(cin, cout, 3, stride, 1, groups=cin)

    def forward(self, x):
        return self.large(x) + self.small(x)

    def deploy(self):
        w, b = self.large.kernel()
        ws, bs = self.small.kernel()
        return deploy_conv(w + pad_to(ws, 7), b + bs, self.large.c)


class FastViTBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.mixer = RepMixer(c)
        self.conv = ConvBN(c, c, 7, 1, 3, groups=c)
        self.fc1 = nn.Conv2d(c, 2 * c, 1)
        self.fc2 = nn.Conv2d(2 * c, c, 1)
        self.layer_scale = nn.Parameter(torch.rand(c, 1, 1) * 0.5 + 0.5)

    def forward(self, x):
        x = self.mixer(x)
        return x + self.layer_scale * self.fc2(F.gelu(self.fc1(self.conv(x))))


class FastViT(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 16, 3, 2, 1), nn.GELU())
        self.stage1 = nn.Sequential(FastViTBlock(16), FastViTBlock(16))
        self.embed = nn.Sequential(LargeKernel(16, 32, 2), nn.GELU())
        self.stage2 = nn.Sequential(FastViTBlock(32))
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.stage2(self.embed(self.stage1(self.stem(x))))
        return self.fc(x.mean((2, 3)))


# ---------------------------------------------------------------------------
# RepGhost, ACNet, DBB
# ---------------------------------------------------------------------------


class RepGhostModule(nn.Module):
    def __init__(self, cin, cout, relu=True):
        super().__init__()
        self.primary = ConvBN(cin, cout, 1)
        self.cheap = ConvBN(cout, cout, 3, 1, 1, groups=cout)
        self.fusion = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x):
        y = self.primary(x)
        if self.relu:
            y = F.relu(y)
        y = self.cheap(y) + self.fusion(y)
        return F.relu(y) if self.relu else y

    def deploy_cheap(self):
        c = self.fusion.num_features
        w, b = self.cheap.kernel()
        wf, bf = fuse_bn(identity_kernel(c, c, 3), torch.zeros(c, dtype=torch.float64), self.fusion)
        return deploy_conv(w + wf, b + bf, self.cheap.c)


class RepGhostBottleneck(nn.Module):
    def __init__(self, c, mid):
        super().__init__()
        self.ghost1 = RepGhostModule(c, mid, relu=True)
        self.se = SE(mid, gate=F.hardsigmoid)
        self.ghost2 = RepGhostModule(mid, c, relu=False)

    def forward(self, x):
        return x + self.ghost2(self.se(self.ghost1(x)))


class RepGhost(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 16, 3, 2, 1), nn.ReLU())
        self.blocks = nn.Sequential(RepGhostBottleneck(16, 24), RepGhostBottleneck(16, 32))
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


class ACBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.square = ConvBN(cin, cout, 3, stride, 1)
        self.hor = ConvBN(cin, cout, (1, 3), stride, (0, 1))
        self.ver = ConvBN(cin, cout, (3, 1), stride, (1, 0))

    def forward(self, x):
        return F.relu(self.square(x) + self.hor(x) + self.ver(x))

    def deploy(self):
        w, b = self.square.kernel()
        wh, bh = self.hor.kernel()
        wv, bv = self.ver.kernel()
        return nn.Sequential(deploy_conv(w + pad_to(wh, 3) + pad_to(wv, 3), b + bh + bv, self.square.c), nn.ReLU())


class ACNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.blocks = nn.Sequential(ACBlock(3, 16, 2), ACBlock(16, 16, 1), ACBlock(16, 32, 2), ACBlock(32, 32, 1))
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        return self.fc(self.blocks(x).mean((2, 3)))


class BNAndPad(nn.Module):
    """DBB's BN whose zero border is replaced by the BN bias: written as
    pad(bn(x) - b) + b, which is what DBB's slice assignment computes."""

    def __init__(self, c, pad):
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        self.pad = pad

    def forward(self, x):
        y = self.bn(x)
        b = (self.bn.bias - self.bn.running_mean * self.bn.weight /
             torch.sqrt(self.bn.running_var + self.bn.eps)).view(1, -1, 1, 1)
        return F.pad(y - b, [self.pad] * 4) + b


class DBBlock(nn.Module):
    def __init__(self, cin, cout, stride, k=3):
        super().__init__()
        self.k, self.stride = k, stride
        self.origin = ConvBN(cin, cout, k, stride, k // 2)
        self.one = ConvBN(cin, cout, 1, stride, 0)
        self.idconv1 = nn.Conv2d(cin, cin, 1, bias=False)
        self.bnpad1 = BNAndPad(cin, k // 2)
        self.kxk2 = ConvBN(cin, cout, k, stride, 0)
        self.avg1 = nn.Conv2d(cin, cout, 1, bias=False)
        self.bnpad2 = BNAndPad(cout, k // 2)
        self.avgbn = nn.BatchNorm2d(cout)

    def forward(self, x):
        y = self.origin(x) + self.one(x)
        y = y + self.kxk2(self.bnpad1(self.idconv1(x)))
        y = y + self.avgbn(F.avg_pool2d(self.bnpad2(self.avg1(x)), self.k, self.stride, 0))
        return F.relu(y)

    def deploy(self):
        k = self.k
        w, b = self.origin.kernel()
        w1, b1 = self.one.kernel()
        w, b = w + pad_to(w1, k), b + b1
        # 1x1 -> BN (bias as the border) -> kxk -> BN.
        w1x1, b1x1 = fuse_bn(*conv_kernel(self.idconv1), self.bnpad1.bn)
        w2, b2 = self.kxk2.kernel()
        wseq = torch.einsum("omyx,mi->oiyx", w2, w1x1[:, :, 0, 0])
        bseq = b2 + (w2.sum((2, 3)) * b1x1.view(1, -1)).sum(1)
        # 1x1 -> BN -> avg pool -> BN.
        wa, ba = fuse_bn(*conv_kernel(self.avg1), self.bnpad2.bn)
        s, t = bn_affine(self.avgbn)
        wavg = wa[:, :, 0, 0].unsqueeze(-1).unsqueeze(-1).expand(-1, -1, k, k) / (k * k)
        wavg, bavg = wavg * s.view(-1, 1, 1, 1), ba * s + t
        return nn.Sequential(deploy_conv(w + wseq + wavg, b + bseq + bavg, self.origin.c), nn.ReLU())


class DBBNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.blocks = nn.Sequential(DBBlock(3, 16, 2), DBBlock(16, 16, 1), DBBlock(16, 32, 2))
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        return self.fc(self.blocks(x).mean((2, 3)))


# ---------------------------------------------------------------------------
# reparameterize(), build(), randomize_()
# ---------------------------------------------------------------------------


class Residual(nn.Module):
    def __init__(self, body, scale=None):
        super().__init__()
        self.body, self.scale = body, scale

    def forward(self, x):
        return x + self.body(x)


class Head(nn.Module):
    """The deployed classifier: one Linear after the mean."""

    def __init__(self, linear):
        super().__init__()
        self.l = linear

    def forward(self, x):
        return self.l(x)


def _linear(w, b):
    l = nn.Linear(w.shape[1], w.shape[0])
    l.weight.data.copy_(w.float())
    l.bias.data.copy_(b.float())
    return l


def _scaled(conv, gamma):
    """`gamma * conv(x)`: the layer scale folded into the conv."""
    g = gamma.double().view(-1)
    w, b = conv_kernel(conv)
    out = nn.Conv2d(conv.in_channels, conv.out_channels, 1)
    out.weight.data.copy_((w * g.view(-1, 1, 1, 1)).float())
    out.bias.data.copy_((b * g).float())
    return out


# ---------------------------------------------------------------------------
# YOLO blocks (YOLOv6, YOLOv7).
# ---------------------------------------------------------------------------


class RepConv(nn.Module):
    """YOLOv7's RepConv: SiLU(BN(conv3x3) + BN(conv1x1) [+ BN(x)])."""

    def __init__(self, cin, cout, stride=1, act=F.silu):
        super().__init__()
        self.act = act
        self.dense = ConvBN(cin, cout, 3, stride, 1)
        self.one = ConvBN(cin, cout, 1, stride, 0)
        self.ident = nn.BatchNorm2d(cin) if cin == cout and stride == 1 else None

    def forward(self, x):
        y = self.dense(x) + self.one(x)
        if self.ident is not None:
            y = y + self.ident(x)
        return self.act(y)

    def kernel(self):
        w, b = self.dense.kernel()
        w1, b1 = self.one.kernel()
        w, b = w + pad_to(w1, 3), b + b1
        if self.ident is not None:
            s, t = bn_affine(self.ident)
            w, b = w + identity_kernel(w.shape[0], 1, 3) * s.view(-1, 1, 1, 1), b + t
        return w, b

    def deploy(self):
        act = self.act

        class Deployed(nn.Module):
            def __init__(self, conv):
                super().__init__()
                self.conv = conv

            def forward(self, x):
                return act(self.conv(x))
        return Deployed(deploy_conv(*self.kernel(), self.dense.c))


class QARepVGG(nn.Module):
    """YOLOv6's QARepVGGBlockV2: ReLU(BN(BN(conv3x3) + conv1x1 + x + avgpool3x3(x)))."""

    def __init__(self, c):
        super().__init__()
        self.dense = ConvBN(c, c, 3, 1, 1)
        self.one = nn.Conv2d(c, c, 1, bias=False)
        self.avg = nn.AvgPool2d(3, 1, 1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(self.bn(self.dense(x) + self.one(x) + x + self.avg(x)))

    def deploy(self):
        c = self.one.in_channels
        w, b = self.dense.kernel()
        w = w + pad_to(self.one.weight.double(), 3) + identity_kernel(c, 1, 3)
        avg = torch.zeros(c, c, 3, 3, dtype=torch.float64)
        for i in range(c):
            avg[i, i] = 1.0 / 9.0  # count_include_pad: every window divides by 9
        w, b = fuse_bn(w + avg, b, self.bn)
        return nn.Sequential(deploy_conv(w, b, self.dense.c), nn.ReLU())


class BottleRep(nn.Module):
    """YOLOv6 MBLA's BottleRep: conv2(conv1(x)) + alpha * x."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = RepConv(c, c, act=F.relu)
        self.conv2 = RepConv(c, c, act=F.relu)
        self.alpha = nn.Parameter(torch.tensor(0.7))

    def forward(self, x):
        return self.conv2(self.conv1(x)) + self.alpha * x

    def deploy(self):
        m = copy.deepcopy(self)
        m.conv1, m.conv2 = self.conv1.deploy(), self.conv2.deploy()
        return m


class UpsampleBN(nn.Module):
    """YOLOv6's transposed-conv upsampling, here with a BN after it."""

    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 2, 2, bias=True)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.up(x)))

    def deploy(self):
        s, t = bn_affine(self.bn)
        up = nn.ConvTranspose2d(self.up.in_channels, self.up.out_channels, 2, 2, bias=True)
        up.weight.data.copy_((self.up.weight.double() * s.view(1, -1, 1, 1)).float())
        up.bias.data.copy_((self.up.bias.double() * s + t).float())
        return nn.Sequential(up, nn.ReLU())


class ImplicitHead(nn.Module):
    """YOLOv7's IDetect layer: (conv1x1(x + a)) * m, as [1, anchors * cells, 10]."""

    def __init__(self, c, outputs=10, anchors=3):
        super().__init__()
        self.a = nn.Parameter(torch.randn(1, c, 1, 1) * 0.2)
        self.conv = nn.Conv2d(c, anchors * outputs, 1)
        self.m = nn.Parameter(1.0 + torch.randn(1, anchors * outputs, 1, 1) * 0.2)
        self.outputs, self.anchors = outputs, anchors

    def forward(self, x):
        y = self.conv(x + self.a) * self.m
        n, _, h, w = y.shape
        y = y.view(n, self.anchors, self.outputs, h, w).permute(0, 1, 3, 4, 2)
        return y.reshape(n, -1, self.outputs)

    def deploy(self):
        m = copy.deepcopy(self)
        w, b = conv_kernel(self.conv)
        scale = self.m.double().view(-1)
        b = b + (w.sum((2, 3)) * self.a.double().view(1, -1)).sum(1)
        conv = nn.Conv2d(self.conv.in_channels, self.conv.out_channels, 1)
        conv.weight.data.copy_((w * scale.view(-1, 1, 1, 1)).float())
        conv.bias.data.copy_((b * scale).float())
        m.conv = conv
        m.a.data.zero_()
        m.m.data.fill_(1.0)
        return m


class Yolo(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = RepConv(3, 16, 2)
        self.c3 = QARepVGG(16)
        self.down = RepConv(16, 32, 2)
        self.c4 = BottleRep(32)
        self.up = UpsampleBN(32, 16)
        self.fuse = RepConv(32, 32)
        self.side = RepConv(32, 32, act=F.relu)
        self.head = ImplicitHead(32, classes)

    def forward(self, x):
        p3 = self.c3(self.stem(x))
        p4 = self.c4(self.down(p3))
        y = self.fuse(torch.cat([self.up(p4), p3], 1))
        y = y + F.interpolate(self.side(p4), scale_factor=2, mode="bilinear", align_corners=False)
        y = F.interpolate(y, scale_factor=2, mode="nearest")
        return self.head(y)


def reparameterize(model):
    """The family's own deploy form: plain convs (+ activations, SE), one
    Linear head, computing what `model` computes."""
    m = copy.deepcopy(model).eval()
    if isinstance(m, RepViT):
        m.stem = nn.Sequential(m.stem[0].deploy(), nn.GELU(), m.stem[2].deploy())
        for blk in m.blocks:
            t = blk.token
            if isinstance(t[0], RepVggDw):
                blk.token = nn.Sequential(t[0].deploy(), t[1])
            else:
                blk.token = nn.Sequential(t[0].deploy(), t[1], t[2].deploy())
            blk.mlp = nn.Sequential(blk.mlp[0].deploy(), nn.GELU(), blk.mlp[2].deploy())
        wa, ba = m.head.kernel()
        wd, bd = m.head_dist.kernel()
        head = _linear((wa + wd) / 2, (ba + bd) / 2)

        class Deployed(nn.Module):
            def __init__(self, stem, blocks, head):
                super().__init__()
                self.stem, self.blocks, self.head = stem, blocks, head

            def forward(self, x):
                return self.head(self.blocks(self.stem(x)).mean((2, 3)))

        return Deployed(m.stem, m.blocks, head)
    if isinstance(m, FastViT):
        m.stem = nn.Sequential(m.stem[0].deploy(), nn.GELU())
        m.embed = nn.Sequential(m.embed[0].deploy(), nn.GELU())
        for stage in (m.stage1, m.stage2):
            for i, blk in enumerate(stage):
                mixer = blk.mixer.deploy()
                mlp = nn.Sequential(blk.conv.deploy(), blk.fc1, nn.GELU(), _scaled(blk.fc2, blk.layer_scale))
                stage[i] = nn.Sequential(mixer, Residual(mlp))
        return m
    if isinstance(m, RepGhost):
        m.stem = nn.Sequential(m.stem[0].deploy(), nn.ReLU())
        for blk in m.blocks:
            for g in (blk.ghost1, blk.ghost2):
                relu = g.relu
                layers = [g.primary.deploy()] + ([nn.ReLU()] if relu else []) + [g.deploy_cheap()] + \
                    ([nn.ReLU()] if relu else [])
                setattr(blk, "ghost1" if g is blk.ghost1 else "ghost2", nn.Sequential(*layers))
        return m
    if isinstance(m, Yolo):
        for name in ("stem", "c3", "down", "c4", "up", "fuse", "side", "head"):
            setattr(m, name, getattr(m, name).deploy())
        return m
    if isinstance(m, (ACNet, DBBNet)):
        m.blocks = nn.Sequential(*[b.deploy() for b in m.blocks])
        return m
    raise ValueError(type(model))


def count_convs(model):
    return sum(isinstance(mod, nn.Conv2d) for mod in model.modules())


def build(name, classes=10):
    return {"repvit": RepViT, "fastvit": FastViT, "repghost": RepGhost, "acnet": ACNet,
            "dbb": DBBNet, "yolo": Yolo}[name](classes)


def randomize_(model, seed):
    """Seeded random BN statistics and affine parameters (so that folding is
    exercised) and He-scaled conv weights."""
    g = torch.Generator().manual_seed(seed)
    for mod in model.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.randn(n, generator=g) * 0.2)
            mod.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            mod.weight.data.copy_(torch.rand(n, generator=g) * 0.6 + 0.5)
            mod.bias.data.copy_(torch.randn(n, generator=g) * 0.2)
        elif isinstance(mod, nn.Conv2d):
            fan = mod.weight[0].numel()
            mod.weight.data.copy_(torch.randn(mod.weight.shape, generator=g) * (1.0 / fan) ** 0.5)
            if mod.bias is not None:
                mod.bias.data.copy_(torch.randn(mod.out_channels, generator=g) * 0.1)
    return model
