"""Checks an fp16 deployment against PyTorch's fp32 logits.

usage: check_fp16.py FP32.tflite FP16.tflite REF.npy OUT.npy [OUT.npy ...]
Prints one line per output file and exits 1 unless: the fp16 file is at
most 0.55x the fp32 one; each output is within 1e-2 of the reference
(max |d| / max |ref|); and its argmax per sample is PyTorch's, or the two
classes' reference logits are a near-tie (within 1e-2 of max |ref|).
"""
import os
import sys

import numpy as np


def main():
    fp32, fp16, ref_path, outs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    ratio = os.path.getsize(fp16) / os.path.getsize(fp32)
    ok = ratio <= 0.55
    print(f"size: fp16 {os.path.getsize(fp16)} bytes / fp32 {os.path.getsize(fp32)} = {ratio:.3f}"
          f" (<= 0.55): {'PASS' if ok else 'FAIL'}")
    ref = np.load(ref_path).astype(np.float64)
    ref = ref.reshape(ref.shape[0], -1)
    scale = float(np.max(np.abs(ref)))
    for path in outs:
        out = np.load(path).astype(np.float64).reshape(ref.shape)
        rel = float(np.max(np.abs(out - ref))) / scale
        same = True
        for o, r in zip(out, ref):
            a, b = int(np.argmax(o)), int(np.argmax(r))
            same &= a == b or abs(r[a] - r[b]) <= 1e-2 * scale
        good = rel <= 1e-2 and same
        ok &= good
        print(f"{os.path.basename(path)}: relative diff {rel:.2e} (<= 1e-2), argmax "
              f"{'same' if same else 'DIFFERENT'}: {'PASS' if good else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
