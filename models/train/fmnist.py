"""A MobileOne trained on Fashion-MNIST with the paper's recipe (section 3.4).

    fmnist.py --k 4 --seed 0 --epochs 3 --out DIR [--no-scale] [--no-skip]
              [--subset N] [--results results.jsonl]

The network: a MobileOne stem (3x3, stride 2) and five MobileOne blocks
(each a 3x3 depthwise block and a 1x1 pointwise block, every block k
conv+BN branches, the depthwise one a 1x1 scale branch, a BN skip where the
shapes allow; ReLU after each), global average pooling, a linear classifier.
Training: SGD with momentum, cosine learning-rate decay, weight decay
annealed by cosine from 1e-4 to 1e-5 (the paper's ratio), an EMA of the
weights (decay from the run length), progressive input resolution
20 -> 24 -> 28, seeded. Data: the IDX files of Debian's dataset-fashion-mnist,
parsed here.

Writes DIR/model.onnx (BatchNormalization kept), DIR/model_folded.onnx
(PyTorch's own constant folding of BN into conv), DIR/test_images.npy (the
10000 test images, NCHW float32, pixel / 255: the model normalises inside),
DIR/test_labels.npy, DIR/torch_logits.npy (the trained model's logits on
them) and appends one JSON line of results to --results.
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Debian's dataset-fashion-mnist; FASHION_MNIST_DIR points elsewhere.
DATA = os.environ.get('FASHION_MNIST_DIR', '/usr/share/datasets/fashion-mnist')
MEAN, STD = 0.2860, 0.3530


class DataError(Exception):
    pass


def read_idx(path):
    """An IDX file (gzip): unsigned bytes of the shape its header gives."""
    package = 'Debian package dataset-fashion-mnist (scripts/setup.sh installs it)'
    try:
        with gzip.open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        raise DataError(f'{path}: no such file; it comes with the {package}')
    except (OSError, EOFError) as e:
        raise DataError(f'{path}: not a complete gzip file ({e}); reinstall the {package}')
    if len(data) < 4:
        raise DataError(f'{path}: {len(data)} bytes, shorter than an IDX header')
    zero, dtype, dims = struct.unpack('>HBB', data[:4])
    if zero != 0 or dtype != 0x08 or len(data) < 4 + 4 * dims:
        raise DataError(f'{path}: not an IDX file of unsigned bytes')
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise DataError(f'{path}: {body.size} bytes of data where the header gives shape '
                        f'{list(shape)} ({int(np.prod(shape))} bytes): truncated? Reinstall the {package}')
    return body.reshape(shape)


def load(split):
    prefix = 'train' if split == 'train' else 't10k'
    images = read_idx(os.path.join(DATA, f'{prefix}-images-idx3-ubyte.gz'))
    labels = read_idx(os.path.join(DATA, f'{prefix}-labels-idx1-ubyte.gz'))
    if labels.shape[0] != images.shape[0]:
        raise DataError(f'{DATA}/{prefix}: {images.shape[0]} images but {labels.shape[0]} labels')
    x = images.astype(np.float32) / 255.0
    return torch.from_numpy(x[:, None]), torch.from_numpy(labels.astype(np.int64))


def conv_bn(cin, cout, k, stride, groups):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout))


class Block(nn.Module):
    """One MobileOne block: k conv+BN branches, a 1x1 conv+BN scale branch
    (3x3 blocks), a BN skip (stride 1, same channels), summed, then ReLU."""

    def __init__(self, cin, cout, k, stride, groups, branches, scale, skip):
        super().__init__()
        self.convs = nn.ModuleList(
            conv_bn(cin, cout, k, stride, groups) for _ in range(branches))
        self.scale = conv_bn(cin, cout, 1, stride, groups) if scale and k > 1 else None
        self.skip = nn.BatchNorm2d(cout) if skip and stride == 1 and cin == cout else None

    def forward(self, x):
        y = sum(c(x) for c in self.convs)
        if self.scale is not None:
            y = y + self.scale(x)
        if self.skip is not None:
            y = y + self.skip(x)
        return F.relu(y)


class MobileOne(nn.Module):
    WIDTHS = ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1))

    def __init__(self, k=4, scale=True, skip=True, stem=32, classes=10):
        super().__init__()
        layers = [Block(1, stem, 3, 2, 1, k, scale, skip)]
        cin = stem
        for cout, stride in self.WIDTHS:
            layers.append(Block(cin, cin, 3, stride, cin, k, scale, skip))
            layers.append(Block(cin, cout, 1, 1, 1, k, scale, skip))
            cin = cout
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        # The input is pixel / 255; the normalisation is part of the model.
        x = (x - MEAN) / STD
        return self.head(self.body(x).mean((2, 3)))


def augment(x, g):
    """Random crop (padding 2) and horizontal flip, per batch."""
    n = x.shape[0]
    x = F.pad(x, (2, 2, 2, 2), value=0.0)
    dy, dx = torch.randint(0, 5, (2,), generator=g).tolist()
    x = x[:, :, dy:dy + 28, dx:dx + 28]
    flip = torch.rand(n, generator=g) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct, logits = 0, []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i:i + batch])
            logits.append(out)
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x), torch.cat(logits)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--k', type=int, default=4)
    p.add_argument('--no-scale', action='store_true')
    p.add_argument('--no-skip', action='store_true')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--subset', type=int, default=0,
                   help='train on the first N images only (0: all 60000)')
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--lr', type=float, default=0.1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out', required=True)
    p.add_argument('--results')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)

    try:
        xtr, ytr = load('train')
        xte, yte = load('test')
    except DataError as e:
        sys.exit(f'fmnist.py: {e}')
    if a.subset:
        xtr, ytr = xtr[:a.subset], ytr[:a.subset]
    model = MobileOne(a.k, not a.no_scale, not a.no_skip)
    ema = MobileOne(a.k, not a.no_scale, not a.no_skip)
    ema.load_state_dict(model.state_dict())
    for q in ema.parameters():
        q.requires_grad_(False)
    decay_params = [q for n, q in model.named_parameters() if q.dim() > 1]
    other_params = [q for n, q in model.named_parameters() if q.dim() <= 1]
    opt = torch.optim.SGD([{'params': decay_params}, {'params': other_params, 'weight_decay': 0.0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = math.ceil(len(xtr) / a.batch)
    total = steps_per_epoch * a.epochs
    # EMA decay scaled to the run: an average over about a tenth of it.
    ema_decay = 1.0 - 1.0 / max(10.0, 0.1 * total)
    # Progressive resolution: the first third at 20, the second at 24.
    sizes = [20, 24, 28]
    step = 0
    start = time.time()
    for epoch in range(a.epochs):
        model.train()
        size = sizes[min(2, epoch * 3 // a.epochs)]
        order = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(xtr), a.batch):
            idx = order[i:i + a.batch]
            x = augment(xtr[idx], g)
            if size != 28:
                x = F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False)
            t = step / total
            cos = 0.5 * (1 + math.cos(math.pi * t))
            opt.param_groups[0]['lr'] = opt.param_groups[1]['lr'] = a.lr * cos
            opt.param_groups[0]['weight_decay'] = 1e-5 + (1e-4 - 1e-5) * cos
            loss = F.cross_entropy(model(x), ytr[idx], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            with torch.no_grad():
                d = min(ema_decay, (1 + step) / (10 + step))
                for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
                    if e.dtype.is_floating_point:
                        e.mul_(d).add_(m.detach(), alpha=1 - d)
                    else:
                        e.copy_(m)
        print(f'epoch {epoch + 1}/{a.epochs} at {size}x{size}: loss {loss.item():.3f}, '
              f'{time.time() - start:.0f} s', flush=True)
    train_s = time.time() - start
    top1, logits = evaluate(ema, xte, yte)
    top1_raw, _ = evaluate(model, xte, yte)
    print(f'top-1 {top1 * 100:.2f}% (EMA), {top1_raw * 100:.2f}% (last weights)')

    ema.eval()
    x = torch.zeros(1, 1, 28, 28)
    dynamic = {'image': {0: 'batch'}, 'logits': {0: 'batch'}}
    torch.onnx.export(ema, x, os.path.join(a.out, 'model.onnx'), opset_version=13,
                      input_names=['image'], output_names=['logits'], dynamic_axes=dynamic,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    torch.onnx.export(ema, x, os.path.join(a.out, 'model_folded.onnx'), opset_version=13,
                      input_names=['image'], output_names=['logits'], dynamic_axes=dynamic)
    np.save(os.path.join(a.out, 'test_images.npy'), xte.numpy())
    np.save(os.path.join(a.out, 'test_labels.npy'), yte.numpy())
    np.save(os.path.join(a.out, 'torch_logits.npy'), logits.numpy())
    result = {'k': a.k, 'scale': not a.no_scale, 'skip': not a.no_skip, 'seed': a.seed,
              'epochs': a.epochs, 'subset': a.subset or len(xtr), 'top1': top1,
              'top1_last': top1_raw, 'train_s': round(train_s, 1),
              'params_train': sum(q.numel() for q in model.parameters()), 'dir': a.out}
    if a.results:
        with open(a.results, 'a') as f:
            f.write(json.dumps(result) + '\n')
    print(json.dumps(result))


if __name__ == '__main__':
    main()
