"""The files the int8 tests' generators write for a small image model:
model.onnx (opset 13, BN kept, symbolic batch, input 'image', output 'y'),
cal.npy (8 samples, NCHW), held.npy (4 others, NCHW) and held_nhwc.npy."""
import os

import numpy as np
import torch


def save_model_and_inputs(net, out, size=16):
    net.eval()
    torch.onnx.export(net, torch.randn(1, 3, size, size), os.path.join(out, 'model.onnx'),
                      opset_version=13, input_names=['image'], output_names=['y'],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      dynamic_axes={'image': {0: 'batch'}, 'y': {0: 'batch'}})
    rng = np.random.default_rng(4)
    np.save(os.path.join(out, 'cal.npy'),
            rng.standard_normal((8, 3, size, size)).astype(np.float32))
    held = rng.standard_normal((4, 3, size, size)).astype(np.float32)
    np.save(os.path.join(out, 'held.npy'), held)
    np.save(os.path.join(out, 'held_nhwc.npy'), held.transpose(0, 2, 3, 1).copy())
