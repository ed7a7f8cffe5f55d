"""Compares an int8 model's outputs with the float32 model's and with
another runtime's run of the same int8 model.

    compare_int8.py --float F.npz|F.npy --ours O.npz|O.npy
                    [--tflite T0.npy,T1.npy,...] [--min-sqnr DB]
                    [--max-steps N] [--baseline B.npz|B.npy --min-gain DB]

Per output (in the model's order): the SQNR of ours (and of the other
runtime) against float32, 10 log10(sum f^2 / sum (f - q)^2), and how far the
two int8 runs are apart in output quantisation steps (the step is the
smallest gap between two values our output takes). Exits 1 if an SQNR is
below --min-sqnr, a distance above --max-steps, or ours is not --min-gain
dB above another int8 model's run (--baseline) against float32.
"""
import argparse
import sys

import numpy as np


def arrays(path):
    if path.endswith('.npz'):
        z = np.load(path)
        return [(k, z[k]) for k in z.files]
    return [('output', np.load(path))]


def sqnr(ref, x):
    noise = float(((ref.astype(np.float64) - x) ** 2).sum())
    signal = float((ref.astype(np.float64) ** 2).sum())
    return float('inf') if noise == 0 else 10 * np.log10(signal / noise)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--float', required=True)
    p.add_argument('--ours', required=True)
    p.add_argument('--tflite')
    p.add_argument('--min-sqnr', type=float, default=None)
    p.add_argument('--baseline')
    p.add_argument('--min-gain', type=float, default=0.0)
    p.add_argument('--max-steps', default=None,
                   help='N for every output, or name=N,name=N')
    a = p.parse_args()
    ref = arrays(a.float)
    ours = arrays(a.ours)
    other = [np.load(f) for f in a.tflite.split(',')] if a.tflite else None
    base = arrays(a.baseline) if a.baseline else None
    limits = {}
    if a.max_steps is not None and '=' in a.max_steps:
        limits = {k: float(v) for k, v in (x.split('=') for x in a.max_steps.split(','))}
    elif a.max_steps is not None:
        limits = {name: float(a.max_steps) for name, _ in ours}
    ok = True
    for i, ((name, r), (_, q)) in enumerate(zip(ref, ours)):
        r, q = r.ravel(), q.ravel()
        s = sqnr(r, q)
        line = f'{name}: SQNR {s:.1f} dB'
        if a.min_sqnr is not None and not s >= a.min_sqnr:
            ok = False
            line += f' (below {a.min_sqnr})'
        if base is not None:
            b = sqnr(r, base[i][1].ravel())
            line += f'; baseline SQNR {b:.1f} dB, ours {s - b:+.1f} dB'
            if not s - b >= a.min_gain:
                ok = False
                line += f' (less than {a.min_gain:+g})'
        if other is not None:
            t = other[i].ravel()
            levels = np.unique(q)
            step = float(np.diff(levels).min()) if len(levels) > 1 else 1.0
            steps = float(np.abs(q.astype(np.float64) - t).max()) / step
            line += (f'; TensorFlow Lite: SQNR {sqnr(r, t):.1f} dB, '
                     f'{steps:.2f} steps from ours, '
                     f'{int((q != t).sum())} of {q.size} values differ')
            if name in limits and not steps <= limits[name] + 1e-3:
                ok = False
                line += f' (more than {limits[name]:g})'
        print(line)
    print('PASS' if ok else 'FAIL')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
