"""A DeepLabV3-style segmentation network on a MobileOne S0 backbone, as the
paper evaluates MobileOne on Pascal VOC (section 4.3), at test size.

The backbone is reparam_models.MobileOne("s0") with its last stage dilated
instead of strided (output stride 16, the DeepLabV3 setting): its 3x3
depthwise branches become dilated 3x3 convolutions, which the compiler must
merge with the 1x1 scale branch and the BN skip like any other. The head is
ASPP (a 1x1 branch, 3x3 branches dilated 2 and 3, and an image-pooling branch
upsampled from 1x1 by bilinear Resize), a 1x1 projection and a 1x1
classifier, bilinear Resize back to the input size (align_corners=False),
and the per-pixel class (ArgMax over the classes) as a second output.

usage: segmentation.py OUTDIR [--resolution R] [--classes C] [--mode preserve|eval]
  writes OUTDIR/model.onnx, input.npy (NCHW), input_nhwc.npy, logits.npy,
  labels.npy (int64), expected.npz (both outputs, the .tflite layout) and
  expected_nchw.npz; prints the deployed conv count and the label map's
  classes.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import reparam_models  # noqa: E402


def conv_bn_relu(cin, cout, k=1, dilation=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


def dilate_last_stage(backbone, dilation=2):
    """Output stride 32 -> 16: the last stage keeps its resolution and its
    3x3 convolutions dilate instead."""
    for block in backbone.stages[3]:
        for m in block.modules():
            if isinstance(m, nn.Conv2d) and m.stride == (2, 2):
                m.stride = (1, 1)
            if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3):
                m.dilation = (dilation, dilation)
                m.padding = (dilation, dilation)


class ASPP(nn.Module):
    def __init__(self, cin, c):
        super().__init__()
        self.b0 = conv_bn_relu(cin, c, 1)
        self.b1 = conv_bn_relu(cin, c, 3, 2)
        self.b2 = conv_bn_relu(cin, c, 3, 3)
        self.pool = conv_bn_relu(cin, c, 1)
        self.project = conv_bn_relu(4 * c, c, 1)

    def forward(self, x):
        h, w = x.shape[2:]
        p = F.interpolate(self.pool(F.adaptive_avg_pool2d(x, 1)), size=(h, w), mode="bilinear",
                          align_corners=False)
        return self.project(torch.cat([self.b0(x), self.b1(x), self.b2(x), p], 1))


class DeepLab(nn.Module):
    def __init__(self, classes=6, width=32):
        super().__init__()
        self.backbone = reparam_models.MobileOne("s0")
        dilate_last_stage(self.backbone)
        self.aspp = ASPP(self.backbone.linear.in_features, width)
        self.classifier = nn.Conv2d(width, classes, 1)

    def forward(self, x):
        f = self.backbone.stage0(x)
        for stage in self.backbone.stages:
            f = stage(f)
        y = self.classifier(self.aspp(f))
        logits = F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=False)
        return logits, logits.argmax(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--classes", type=int, default=6)
    p.add_argument("--mode", default="preserve", choices=["preserve", "eval"])
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    model = DeepLab(a.classes)
    reparam_models.randomize_(model.backbone, seed=1234)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d) and not any(m is b for b in model.backbone.modules()):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 0.01 + 0.01)
        # A classifier whose classes each win somewhere: the label map is
        # a real test of ArgMax, not one class everywhere.
        # Random features share a large mean direction: the classifier is
        # made orthogonal to it, so the classes follow the spatial detail.
        w = model.classifier.weight
        w.copy_(torch.randn(w.shape, generator=g))
        model.classifier.bias.zero_()
    model.eval()
    x = torch.randn(1, 3, a.resolution, a.resolution, generator=torch.Generator().manual_seed(42))
    with torch.no_grad():
        f = model.backbone.stage0(x)
        for stage in model.backbone.stages:
            f = stage(f)
        f = model.aspp(f)
        mu = f.mean((0, 2, 3))
        w2 = w.view(w.shape[0], -1)
        w2 -= torch.outer(w2 @ mu, mu) / (mu @ mu)
        spread = (f - mu.view(1, -1, 1, 1)).std()
        w2 /= float(spread)
    with torch.no_grad():
        logits, labels = model(x)
    training = torch.onnx.TrainingMode.PRESERVE if a.mode == "preserve" else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, os.path.join(a.out, "model.onnx"), opset_version=13, training=training,
                      input_names=["image"], output_names=["logits", "labels"])
    np.save(os.path.join(a.out, "input.npy"), x.numpy())
    np.save(os.path.join(a.out, "input_nhwc.npy"), x.numpy().transpose(0, 2, 3, 1).copy())
    np.save(os.path.join(a.out, "logits.npy"), logits.numpy())
    np.save(os.path.join(a.out, "labels.npy"), labels.numpy())
    np.savez(os.path.join(a.out, "expected.npz"), logits=logits.numpy().transpose(0, 2, 3, 1),
             labels=labels.numpy())
    np.savez(os.path.join(a.out, "expected_nchw.npz"), logits=logits.numpy(), labels=labels.numpy())
    # The deployed form: one conv per MobileOne block, the head's convs.
    blocks = sum(isinstance(m, reparam_models.MobileOneBlock) for m in model.backbone.modules())
    head = sum(isinstance(m, nn.Conv2d) for m in list(model.aspp.modules()) + [model.classifier])
    print(f"deploy convs: {blocks + head}")
    # How far the top two classes are apart at the closest pixel: a label
    # may only differ between targets where they nearly tie.
    top2 = torch.topk(logits, 2, dim=1).values
    print(f"classes in the label map: {len(torch.unique(labels))} of {a.classes}; "
          f"smallest top-2 margin: {float((top2[:, 0] - top2[:, 1]).min()):.3e}")


if __name__ == "__main__":
    main()
