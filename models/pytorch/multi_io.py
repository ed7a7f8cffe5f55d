"""A network of two inputs and three outputs, for the multi-tensor path.

`TwoInThreeOut`: RepVGG blocks on each input (a 32x32 image and a 16x16
one), merged; three outputs as detectors have them: class logits [1, 10],
a gated feature map [1, 16, 16, 16] and YOLO-style heads of rank 5
[1, 3, 16, 16, 5] (a 1x1 conv viewed as anchors x (box + score) and
permuted last).
"""
import torch
import torch.nn as nn

from reparam_models import RepVGGBlock


class TwoInThreeOut(nn.Module):
    def __init__(self, classes=10, anchors=3, per_anchor=5):
        super().__init__()
        self.a = nn.Sequential(RepVGGBlock(3, 16, 2), RepVGGBlock(16, 16, 1))
        self.b = nn.Sequential(RepVGGBlock(3, 16, 1), RepVGGBlock(16, 16, 1))
        self.head = nn.Conv2d(16, anchors * per_anchor, 1)
        self.fc = nn.Linear(16, classes)
        self.anchors, self.per_anchor = anchors, per_anchor

    def forward(self, image, crop):
        fa, fb = self.a(image), self.b(crop)
        logits = self.fc((fa + fb).mean(dim=(2, 3)))
        gated = fa * torch.sigmoid(fb)
        n, _, h, w = fa.shape
        heads = self.head(fa).view(n, self.anchors, self.per_anchor, h, w)
        return logits, gated, heads.permute(0, 1, 3, 4, 2)


def build(name):
    return {"two_in_three_out": TwoInThreeOut}[name]()
