"""Compares a quantised TOSA module's int8 outputs with the int8 .tflite's.

usage: compare_tosa_int8.py --summary S --tosa T --ours O

S: what `mobileone-compile --target=tosa --precision int8` printed (its
interface lines give each output's scale and zero point: "output 'y': [...]
int8 (real = S x (q - Z))"); T: what mlir-cpu-runner printed for the
runner harness (each int8 output as integers, in order); O: the .npz that
`mobileone-run` wrote for the .tflite (float32 after its DEQUANTIZE, one
array per output). Each float is turned back into its integer,
round(y / scale) + zero point (exact: |q - Z| <= 255 and the scale is
printed to 6 digits), and the integers must be equal. One line per output;
exits 1 on any difference.
"""
import argparse
import re
import sys

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--summary", required=True)
    p.add_argument("--tosa", required=True)
    p.add_argument("--ours", required=True)
    a = p.parse_args()

    quant = []
    for line in open(a.summary):
        m = re.search(r"output '([^']+)':.* int8 \(real = ([0-9.eE+-]+) x \(q ([+-]) (\d+)\)\)", line)
        if m:
            zero = int(m.group(4)) * (1 if m.group(3) == "-" else -1)
            quant.append((m.group(1), float(m.group(2)), zero))
    text = open(a.tosa).read()
    blocks = [re.findall(r"-?\d+", b.split("data =", 1)[1]) for b in text.split("Unranked Memref")[1:]]
    ours = np.load(a.ours)
    if not quant or len(blocks) != len(quant) or len(ours.files) != len(quant):
        print(f"FAIL: {len(quant)} int8 outputs in the summary, {len(blocks)} printed by TOSA, "
              f"{len(ours.files)} in {a.ours}")
        return 1
    ok = True
    for (name, scale, zero), block, key in zip(quant, blocks, ours.files):
        tosa = np.array([int(v) for v in block], dtype=np.int64)
        mine = np.round(ours[key].astype(np.float64).ravel() / scale).astype(np.int64) + zero
        if tosa.size != mine.size or key != name:
            print(f"{name}: FAIL: {tosa.size} TOSA values, {mine.size} in '{key}'")
            ok = False
            continue
        differ = int(np.count_nonzero(tosa != mine))
        steps = int(np.max(np.abs(tosa - mine))) if tosa.size else 0
        print(f"{name}: {differ} of {tosa.size} int8 values differ (at most {steps} steps): "
              f"{'PASS' if differ == 0 else 'FAIL'}")
        ok = ok and differ == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
