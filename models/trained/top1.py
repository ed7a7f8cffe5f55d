"""Top-1 of a Fashion-MNIST model on the full test set, before and after
compiling, and the latency of each.

    models/trained/top1.py MODEL.onnx [--bench-runs N] [--rounds R]
                           [--min-top1 P] [--max-differ D]

MODEL.onnx is a training-time export (input N x 1 x 28 x 28 holding
pixel / 255, e.g. models/trained/fashion_mobileone.onnx). Before: the export
itself in ONNX Runtime. After: `mobileone-compile` to a float32 .tflite run by
`mobileone-run`, and to a re-parameterised .onnx run by ONNX Runtime. Prints
each one's top-1 on the 10000 test images of Debian's dataset-fashion-mnist
and how many images' predicted class differs from the export's; then, with
--bench-runs, the batch-1 latency of the export in ONNX Runtime and of the
.tflite in mobileone-run (one thread, R interleaved rounds, medians).
Exits 1 if top-1 after compiling is below --min-top1 (percent) or more than
--max-differ images differ.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
BUILD = os.environ.get('MOBILEONE_BUILD', os.path.join(ROOT, 'build'))
BIN = os.path.join(BUILD, 'bin')
sys.path.insert(0, os.path.join(ROOT, 'models', 'train'))
import fmnist  # noqa: E402

BATCH = 500


def run(cmd):
    env = dict(os.environ, NODE_PATH=os.path.join(BUILD, 'node', 'node_modules'))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"top1.py: failed: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r.stdout


def ort_logits(model, images, tmp):
    """ONNX Runtime's outputs of `model` on NCHW `images`, BATCH at a time."""
    out = []
    for i in range(0, len(images), BATCH):
        x = os.path.join(tmp, 'x.npy')
        np.save(x, images[i:i + BATCH])
        o = os.path.join(tmp, 'ort')
        run(['node', os.path.join(ROOT, 'test/Integration/MultiIO/ort_run.js'), model, o,
             f'image={x}'])
        out.append(np.load(glob.glob(os.path.join(o, '*.npy'))[0]))
    return np.concatenate(out)


def tflite_logits(model, images, tmp):
    """mobileone-run's outputs of the .tflite `model` (batch BATCH, NHWC) on
    NCHW `images`."""
    out = []
    for i in range(0, len(images), BATCH):
        x = os.path.join(tmp, 'x.npy')
        y = os.path.join(tmp, 'y.npy')
        np.save(x, images[i:i + BATCH].transpose(0, 2, 3, 1).copy())  # NHWC
        run([os.path.join(BIN, 'mobileone-run'), model, '--input', x, '--output', y])
        out.append(np.load(y))
    return np.concatenate(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('model')
    p.add_argument('--bench-runs', type=int, default=0)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--min-top1', type=float, default=0.0)
    p.add_argument('--max-differ', type=int, default=10000)
    a = p.parse_args()
    if not os.path.isfile(a.model):
        sys.exit(f'top1.py: {a.model}: no such file')
    try:
        images, labels = fmnist.load('test')
    except fmnist.DataError as e:
        sys.exit(f'top1.py: {e}')
    images, labels = images.numpy(), labels.numpy()
    compile_ = os.path.join(BIN, 'mobileone-compile')
    with tempfile.TemporaryDirectory() as tmp:
        tflite = os.path.join(tmp, 'model.tflite')
        deploy = os.path.join(tmp, 'deploy.onnx')
        run([compile_, a.model, '-o', tflite, '--batch', str(BATCH), '--quiet'])
        run([compile_, a.model, '-o', deploy, '--quiet'])
        before = ort_logits(a.model, images, tmp).argmax(1)
        rows = [('training-time export, ONNX Runtime', before),
                ('compiled .tflite, mobileone-run', tflite_logits(tflite, images, tmp).argmax(1)),
                ('compiled .onnx, ONNX Runtime', ort_logits(deploy, images, tmp).argmax(1))]
        print(f'    {len(labels)} test images (dataset-fashion-mnist)')
        worst_top1, worst_differ = 100.0, 0
        for label, pred in rows:
            top1 = 100.0 * (pred == labels).mean()
            differ = int((pred != before).sum())
            print(f'    {label:38s} top-1 {top1:6.2f}%   predicted differently from the '
                  f'export: {differ}')
            if pred is not before:
                worst_top1 = min(worst_top1, top1)
                worst_differ = max(worst_differ, differ)
        if a.bench_runs:
            one = os.path.join(tmp, 'one.tflite')
            run([compile_, a.model, '-o', one, '--batch', '1', '--quiet'])
            ours, ort = [], []
            for r in range(a.rounds):
                order = ['ours', 'ort'] if r % 2 == 0 else ['ort', 'ours']
                for who in order:
                    if who == 'ours':
                        text = run([os.path.join(BIN, 'mobileone-run'), one, '--bench',
                                    str(a.bench_runs)])
                        ours.append(float(text.split('latency_ms median=')[1].split()[0]))
                    else:
                        times = json.loads(run(['node', os.path.join(ROOT, 'bench', 'ort_bench.js'),
                                                a.model, '1', str(a.bench_runs), '1,1,28,28']))
                        ort.append(statistics.median(times))
            print(f'    latency, batch 1, one thread ({a.rounds} interleaved rounds of '
                  f'{a.bench_runs} runs, medians):')
            print(f'      training-time export in ONNX Runtime: {statistics.median(ort) * 1000:7.1f} us')
            print(f'      compiled .tflite in mobileone-run:    {statistics.median(ours) * 1000:7.1f} us'
                  f'   ({statistics.median(ort) / statistics.median(ours):.1f}x faster)')
    ok = worst_top1 >= a.min_top1 and worst_differ <= a.max_differ
    if a.min_top1 or a.max_differ < 10000:
        print(f'    {"PASS" if ok else "FAIL"} (top-1 after compiling >= {a.min_top1}%, '
              f'at most {a.max_differ} images differ)')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
