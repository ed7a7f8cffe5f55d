"""Compares two model outputs: max abs diff and max|a-b| / max|b|.

usage: compare_outputs.py ACTUAL EXPECTED [--atol A] [--rtol R] [--label L]
Each file is .npy, raw float32 (.bin), or the text mlir-cpu-runner prints
with printMemrefF32 (anything else). Exits 1 beyond tolerance.
"""
import argparse
import re
import sys

import numpy as np


def load(path):
    if path.endswith(".npy"):
        return np.load(path).astype(np.float64).ravel()
    if path.endswith(".bin"):
        return np.fromfile(path, dtype=np.float32).astype(np.float64)
    text = open(path).read()
    data = text.split("data =", 1)[1] if "data =" in text else text
    return np.array([float(v) for v in re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf", data)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("actual")
    p.add_argument("expected")
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--label", default="")
    a = p.parse_args()
    x, y = load(a.actual), load(a.expected)
    if x.size != y.size:
        print(f"{a.label}: FAIL: {x.size} values, expected {y.size}")
        sys.exit(1)
    diff = float(np.max(np.abs(x - y))) if x.size else 0.0
    if np.isnan(diff):
        diff = float("inf")
    ref = float(np.max(np.abs(y))) if y.size else 0.0
    rel = diff / ref if ref > 0 else diff
    ok = diff <= a.atol and rel <= a.rtol
    print(f"{a.label}: max abs diff {diff:.3e} (atol {a.atol:g}), relative diff {rel:.3e} (rtol {a.rtol:g}), "
          f"{x.size} values: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
