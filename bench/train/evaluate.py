"""Top-1 of a trained Fashion-MNIST model (models/train/fmnist.py) on the
full test set, per deployment target, and how many test images' predicted
class differs from PyTorch's.

    bench/train/evaluate.py RUN_DIR [--calibration N]

Targets: the training-time export (BN kept) compiled to a float32 .tflite,
to a re-parameterised ONNX (run by ONNX Runtime), to TOSA (lowered and run
by upstream MLIR 19: scripts/tosa-run.sh), to a float16 .tflite and to an
int8 .tflite (minmax, percentile and mse calibration, and minmax with every
branch folded, on the first N training
images); PyTorch's BN-folded export compiled to a float32 .tflite. Prints a
markdown table.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, 'build')
BIN = os.path.join(BUILD, 'bin')
sys.path.insert(0, os.path.join(ROOT, 'models', 'train'))
import fmnist  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, 'test', 'Integration'))
import compare_outputs  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, 'models', 'trained'))
from top1 import BATCH, ort_logits, tflite_logits  # noqa: E402



def run(cmd):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def tosa_logits(model, images, tmp):
    """The TOSA module (batch BATCH) on every batch of images: lowered and
    run by mlir-opt-19 and mlir-cpu-runner-19 (scripts/tosa-run.sh)."""
    out = []
    for i in range(0, len(images), BATCH):
        x = os.path.join(tmp, 'x.npy')
        np.save(x, images[i:i + BATCH])
        text = os.path.join(tmp, 'tosa.txt')
        with open(text, 'w') as f:
            f.write(run([os.path.join(ROOT, 'scripts', 'tosa-run.sh'), model, '--input', x]))
        out.append(compare_outputs.load(text).reshape(-1, 10))
    return np.concatenate(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('run_dir')
    p.add_argument('--calibration', type=int, default=1000)
    a = p.parse_args()
    d = a.run_dir
    images = np.load(os.path.join(d, 'test_images.npy'))
    labels = np.load(os.path.join(d, 'test_labels.npy'))
    torch_pred = np.load(os.path.join(d, 'torch_logits.npy')).argmax(1)
    train_images, _ = fmnist.load('train')
    np.save(os.path.join(d, 'cal.npy'), train_images[:a.calibration].numpy())
    compile_ = os.path.join(BIN, 'mobileone-compile')
    rows = [('PyTorch (training-time, EMA weights)', torch_pred)]
    with tempfile.TemporaryDirectory() as tmp:
        targets = [
            ('float32 .tflite', 'model.onnx', 'f32.tflite', []),
            ('float32 .tflite from the BN-folded export', 'model_folded.onnx', 'folded.tflite', []),
            ('float16 .tflite', 'model.onnx', 'f16.tflite', ['--precision', 'fp16']),
            ('int8 .tflite, minmax', 'model.onnx', 'int8.tflite',
             ['--precision', 'int8', '--calibration', os.path.join(d, 'cal.npy')]),
            ('int8 .tflite, percentile', 'model.onnx', 'int8p.tflite',
             ['--precision', 'int8', '--calibration', os.path.join(d, 'cal.npy'),
              '--calibration-method', 'percentile']),
            ('int8 .tflite, mse', 'model.onnx', 'int8m.tflite',
             ['--precision', 'int8', '--calibration', os.path.join(d, 'cal.npy'),
              '--calibration-method', 'mse']),
            ('int8 .tflite, minmax, every branch folded (--int8-fold all)', 'model.onnx',
             'int8a.tflite', ['--precision', 'int8', '--calibration', os.path.join(d, 'cal.npy'),
                              '--int8-fold', 'all']),
        ]
        for label, src, out, extra in targets:
            path = os.path.join(d, out)
            run([compile_, os.path.join(d, src), '-o', path, '--batch', str(BATCH), '--quiet',
                 *extra])
            rows.append((label, tflite_logits(path, images, tmp).argmax(1)))
        deploy = os.path.join(d, 'deploy.onnx')
        run([compile_, os.path.join(d, 'model.onnx'), '-o', deploy, '--quiet'])
        rows.insert(2, ('re-parameterised ONNX in ONNX Runtime',
                        ort_logits(deploy, images, tmp).argmax(1)))
        tosa = os.path.join(d, 'tosa.mlirbc')
        run([compile_, os.path.join(d, 'model.onnx'), '--target=tosa', '-o', tosa,
             '--batch', str(BATCH), '--quiet'])
        rows.insert(3, ('TOSA in upstream MLIR (mlir-cpu-runner-19)',
                        tosa_logits(tosa, images, tmp).argmax(1)))
    print(f'{d}: {len(labels)} test images')
    print()
    print('| target | top-1 | images predicted differently from PyTorch |')
    print('|---|---|---|')
    for label, pred in rows:
        print(f'| {label} | {100.0 * (pred == labels).mean():.2f}% | '
              f'{int((pred != torch_pred).sum())} |')


if __name__ == '__main__':
    main()
