"""Compares two model outputs: max abs diff and max|a-b| / max|b|.

usage: compare_outputs.py ACTUAL EXPECTED [--atol A] [--rtol R] [--label L]
Each file is .npy, raw float32 (.bin), or the text mlir-cpu-runner prints
with printMemrefF32 (anything else: every printed memref in order). Two
.npz files are compared array by array (the same keys; one line each, the
label followed by the key); an .npz against anything else stands for its
arrays concatenated in order. Exits 1 beyond tolerance.

--columns K:W compares only columns K.. of rows of width W (a detector's
[1, anchors, 85] output: its class scores, on their own scale, without the
box coordinates that set the relative tolerance's scale otherwise).
"""
import argparse
import re
import sys

import numpy as np


def load(path):
    if path.endswith(".npy"):
        return np.load(path).astype(np.float64).ravel()
    if path.endswith(".npz"):
        arrays = np.load(path)
        return np.concatenate([arrays[k].astype(np.float64).ravel() for k in arrays.files])
    if path.endswith(".bin"):
        return np.fromfile(path, dtype=np.float32).astype(np.float64)
    text = open(path).read()
    number = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf"
    if "data =" not in text:
        return np.array([float(v) for v in re.findall(number, text)])
    # One block per printed memref: its values follow "data =".
    values = []
    for block in text.split("Unranked Memref")[1:] or [text]:
        values += [float(v) for v in re.findall(number, block.split("data =", 1)[1])]
    return np.array(values)


def compare(x, y, a, label):
    if a.columns and x.size == y.size:
        start, width = (int(v) for v in a.columns.split(":"))
        x, y = x.reshape(-1, width)[:, start:].ravel(), y.reshape(-1, width)[:, start:].ravel()
        label = f"{label} columns {start}:"
    if x.size != y.size:
        print(f"{label}: FAIL: {x.size} values, expected {y.size}")
        return False
    diff = float(np.max(np.abs(x - y))) if x.size else 0.0
    if np.isnan(diff):
        diff = float("inf")
    ref = float(np.max(np.abs(y))) if y.size else 0.0
    rel = diff / ref if ref > 0 else diff
    ok = diff <= a.atol and rel <= a.rtol
    print(f"{label}: max abs diff {diff:.3e} (atol {a.atol:g}), relative diff {rel:.3e} (rtol {a.rtol:g}), "
          f"{x.size} values: {'PASS' if ok else 'FAIL'}")
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("actual")
    p.add_argument("expected")
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--label", default="")
    p.add_argument("--columns", default="")
    a = p.parse_args()
    if a.actual.endswith(".npz") and a.expected.endswith(".npz"):
        xs, ys = np.load(a.actual), np.load(a.expected)
        if xs.files != ys.files:
            print(f"{a.label}: FAIL: arrays {xs.files}, expected {ys.files}")
            sys.exit(1)
        ok = True
        for k in ys.files:
            ok &= compare(xs[k].astype(np.float64).ravel(), ys[k].astype(np.float64).ravel(), a,
                          f"{a.label} {k}".strip())
        sys.exit(0 if ok else 1)
    sys.exit(0 if compare(load(a.actual), load(a.expected), a, a.label) else 1)


if __name__ == "__main__":
    main()
