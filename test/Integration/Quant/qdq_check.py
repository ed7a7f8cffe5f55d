"""Checks a QDQ ONNX model's run in ONNX Runtime against the float32 model
and against our int8 .tflite of the same quantisation, and what ONNX
Runtime made of it.

    qdq_check.py --float F.npy --ours O.npy --ort R.npy --optimized M.onnx
                 [--min-sqnr DB] [--max-steps N] [--min-fused N]

F and O are NHWC (.tflite interface), R is NCHW (ONNX interface); M is the
model as ONNX Runtime's graph optimisations left it (ORT_OPTIMIZED). Prints
the SQNR of each against float32, how many output steps ONNX Runtime is
from ours, and the op types ONNX Runtime runs; exits 1 if the SQNR is below
--min-sqnr, the distance above --max-steps, fewer than --min-fused QLinear*
ops are left, or a float Conv or Gemm is.
"""
import argparse
import collections
import sys

import numpy as np
import onnx

from compare_int8 import sqnr


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--float', required=True)
    p.add_argument('--ours', required=True)
    p.add_argument('--ort', required=True)
    p.add_argument('--optimized', required=True)
    p.add_argument('--min-sqnr', type=float, default=0.0)
    p.add_argument('--max-steps', type=float, default=1e9)
    p.add_argument('--min-fused', type=int, default=0)
    a = p.parse_args()
    ref = np.load(a.float)
    ours = np.load(a.ours)
    ort = np.load(a.ort)
    if ort.ndim == 4:
        ort = ort.transpose(0, 2, 3, 1)
    ort = ort.reshape(ref.shape)
    levels = np.unique(ours)
    step = float(np.diff(levels).min()) if len(levels) > 1 else 1.0
    steps = float(np.abs(ours.astype(np.float64) - ort).max()) / step
    s_ort, s_ours = sqnr(ref.ravel(), ort.ravel()), sqnr(ref.ravel(), ours.ravel())
    ops = collections.Counter(n.op_type for n in onnx.load(a.optimized).graph.node)
    fused = sum(v for k, v in ops.items() if k.startswith('QLinear'))
    print(f'ONNX Runtime on the QDQ model: SQNR {s_ort:.1f} dB; ours (.tflite) {s_ours:.1f} dB; '
          f'{steps:.2f} output steps apart')
    print('ONNX Runtime runs: ' + ', '.join(f'{k} {v}' for k, v in sorted(ops.items())))
    ok = s_ort >= a.min_sqnr and steps <= a.max_steps and fused >= a.min_fused \
        and ops['Conv'] == 0 and ops['Gemm'] == 0
    print('PASS' if ok else 'FAIL')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
