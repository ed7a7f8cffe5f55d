"""Per-operator time of our runtime next to ONNX Runtime's, on the same
deployed model (a MobileOne variant or one of the families of
bench/harness.py, e.g. --variants s3 fastvit_t8): `mobileone-run --profile`
on the FlatBuffer and ONNX Runtime's own node profile (bench/ort_bench.js
--profile) on the deployed ONNX. Convolutions and the classifier are paired in execution order (ONNX
Runtime's Conv/FusedConv nodes with our CONV_2D/DEPTHWISE_CONV_2D by output
shape, up to the channels its NCHWc layout pads; its Gemm with our
FULLY_CONNECTED) and summed by operator, output shape and our kernel (a
depthwise layer our runtime computes inside the 1x1 layer after it is
summed with that layer, kernel "native+dw", ONNX Runtime's two nodes too);
everything else (layout reorders, pooling, activations ONNX Runtime did not
fuse, squeeze-excitation's gate) is summed as "other". Both sides are sums
of per-operator medians, which on a noisy machine come out below a whole
run's median; ONNX Runtime's profiler also adds a few microseconds to each
node, which shows on small inputs, and on two threads its node times sum
to well above its whole run (S3: 22 ms against 19). The last line gives
both runtimes' whole-run medians without profiling, measured right after.

usage: profile.py BUILD_DIR [--variants s3 ...] [--threads 1 2] [--runs 50]
                  [--resolution 224]
"""
import argparse
import collections
import os
import re
import sys
import tempfile

from harness import check_variants, make, ort, ort_median, ours_median, run

PAIRED = {"Conv": ("CONV_2D", "DEPTHWISE_CONV_2D"), "FusedConv": ("CONV_2D", "DEPTHWISE_CONV_2D"),
          "Gemm": ("FULLY_CONNECTED",)}
OURS_LINE = re.compile(r"^\s+\d+ (\S+)\s+\S+\s+\[([\d,]*)\]\s+(\S+)\s+([\d.]+)")


def ours(build, tflite, threads, runs):
    """[(op, NHWC shape, kernel, ms)] in execution order."""
    out = run([os.path.join(build, "bin", "mobileone-run"), tflite, "--threads", str(threads),
               "--bench", str(runs), "--profile"])
    ops = []
    for line in out.splitlines():
        m = OURS_LINE.match(line)
        if m:
            ops.append((m.group(1), [int(d) for d in m.group(2).split(",") if d], m.group(3),
                        float(m.group(4))))
    if not ops:
        sys.exit(f"no per-operator lines in the output of mobileone-run --profile:\n{out}")
    return ops


def onnxruntime(build, onnx, threads, runs, shape):
    """[(op, NHWC shape, ms)] in execution order."""
    result = []
    for n in ort(build, onnx, threads, runs, shape, "--profile"):
        s = n["shape"]
        result.append((n["op"], [s[0]] + s[2:] + [s[1]] if len(s) == 4 else s, n["ms"]))
    return result


def same_shape(a, b):
    """Whether ONNX Runtime's output shape b is our a, allowing for the
    channels its NCHWc layout pads to a whole block of 8 or 16 (a
    squeeze-excitation reduction to 56 channels runs as 64)."""
    return len(a) == len(b) > 0 and a[:-1] == b[:-1] and a[-1] <= b[-1] < a[-1] + 16


def compare(our_ops, ort_ops):
    """Rows {(op, shape, kernel): [n, ours ms, ORT ms]}, how many operators
    paired, the unpaired sums (ours, ORT) and how many convolutions and
    classifiers of each side found no partner (ours, ORT). A depthwise layer ours computes inside the
    1x1 layer after it ("fused", 0 ms of its own) is no row of its own: its
    ONNX Runtime time goes to that 1x1 layer's row, whose kernel reads
    "native+dw"."""
    paired = []  # (our index, ORT ms) in execution order
    ours_other = ort_other = 0.0
    ort_unpaired = 0
    i = 0
    for op, shape, ms in ort_ops:
        kinds = PAIRED.get(op)
        if kinds:
            # Our unpaired operators up to the next of the same kind and shape.
            j = i
            while j < len(our_ops) and not (our_ops[j][0] in kinds and same_shape(our_ops[j][1], shape)):
                j += 1
            if j < len(our_ops):
                for skipped in our_ops[i:j]:
                    ours_other += skipped[3]
                paired.append([j, ms])
                i = j + 1
                continue
            ort_unpaired += 1
        ort_other += ms
    ours_other += sum(o[3] for o in our_ops[i:])
    rows = collections.OrderedDict()
    carried, fused_at = 0.0, None  # a fused depthwise's ORT ms, its index
    for j, ms in paired:
        o = our_ops[j]
        if fused_at is not None and j != fused_at + 1:
            ort_other += carried  # its 1x1 layer found no partner
            carried, fused_at = 0.0, None
        if o[2] == "fused":
            ours_other += o[3]  # 0: its time is the next layer's
            carried, fused_at = ms, j
            continue
        kernel = o[2] + ("+dw" if fused_at is not None else "")
        row = rows.setdefault((o[0], "[" + ",".join(map(str, o[1])) + "]", kernel), [0, 0.0, 0.0])
        row[0] += 1
        row[1] += o[3]
        row[2] += ms + carried
        carried, fused_at = 0.0, None
    ort_other += carried
    kinds = {k for ks in PAIRED.values() for k in ks}
    ours_unpaired = sum(o[0] in kinds for o in our_ops) - len(paired)
    return rows, len(paired), ours_other, ort_other, (ours_unpaired, ort_unpaired)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--variants", nargs="+", default=["s3"])
    p.add_argument("--threads", nargs="+", type=int, default=[1])
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--resolution", type=int, default=224)
    a = p.parse_args()
    check_variants(a.variants)
    with tempfile.TemporaryDirectory(prefix="mobileone-profile-") as work:
        models = make(a.build, a.variants, a.resolution, work)
        for v in a.variants:
            m = models[v]
            shape = m.shape
            for t in a.threads:
                tflite, onnx = m.path("model.tflite"), m.path("deploy.onnx")
                our_ops = ours(a.build, tflite, t, a.runs)
                ort_ops = onnxruntime(a.build, onnx, t, a.runs, shape)
                rows, npaired, ours_other, ort_other, unpaired = compare(our_ops, ort_ops)
                print(f"\n{v}, {t} thread{'s' if t > 1 else ''}: per-operator medians over {a.runs} runs, "
                      f"summed by operator, output shape (NHWC) and our kernel; ms")
                print(f"{'operator':18} {'output':16} {'kernel':9} {'n':>3} {'ours':>8} {'ORT':>8} "
                      f"{'ours-ORT':>9} {'ours/ORT':>8}")
                for (op, s, kernel), (n, x, y) in rows.items():
                    print(f"{op:18} {s:16} {kernel:9} {n:3} {x:8.3f} {y:8.3f} {x - y:+9.3f} {x / y:8.2f}")
                print(f"{'other operators':48} {ours_other:8.3f} {ort_other:8.3f} "
                      f"{ours_other - ort_other:+9.3f}")
                total_ours = sum(r[1] for r in rows.values()) + ours_other
                total_ort = sum(r[2] for r in rows.values()) + ort_other
                print(f"{'total':48} {total_ours:8.3f} {total_ort:8.3f} {total_ours - total_ort:+9.3f} "
                      f"{total_ours / total_ort:8.2f}")
                print(f"paired {npaired} convolutions and classifiers; "
                      f"unpaired: ours {unpaired[0]}, ORT {unpaired[1]}")
                print(f"whole runs without profiling, median of {a.runs}: ours "
                      f"{ours_median(a.build, tflite, t, a.runs):.3f} ms, ORT "
                      f"{ort_median(a.build, onnx, t, a.runs, shape):.3f} ms")


if __name__ == "__main__":
    main()
