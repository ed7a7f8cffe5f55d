"""Latency of MobileOne S0..S4 at 224x224, of the detectors YOLOv6-n and
YOLOv7-tiny at 320x320 (the fixtures, BN kept), and of the other families (timm
FastViT-T8 at 128x128 and RepGhostNet-0.5 at 160x160 as PyTorch 2.11
exports them, our RepViT at 224x224), batch 1, on 1 and 2 threads (or the
--threads list):
our runtime on the deployed FlatBuffer (also with XNNPACK alone,
--xnnpack-only, and on the AVX2 path, --isa avx2: what a CPU without
AVX-512 runs, against the AVX2 roofline), ONNX Runtime 1.30 on the deployed
and the training-time ONNX, PyTorch eager on both. All measurements are
interleaved over rounds (each round runs every configuration once, in
turn); each latency is the median over rounds of the per-round medians,
each ratio the median over rounds of the per-round ratios (its two
configurations run back to back, so the shared machine's slow swings
cancel). Each round reverses the order of the runners, so neither side of
a ratio always runs first (or right after PyTorch). Next to each ours/ORT
ratio the table prints the range of its middle half of rounds (the
quartiles), which shows how far a cell is from 1.0 in this machine's noise.

With --precision int8, a table of the int8 models instead: our int8
.tflite (`--precision int8`, 8 seeded calibration samples), ONNX Runtime on
QDQ models of the same deployed network quantised the standard way (per-
channel int8 weights, per-tensor uint8 or int8 activations: the faster of
the two is the bar), and our fp32 .tflite, interleaved the same way; with
the int8 roofline (mobileone-machine's peak_int8_gops).

usage: latency.py BUILD_DIR [--variants s0 ... fastvit_t8 ...] [--rounds R] [--runs N]
                  [--torch-runs N] [--resolution 224] [--threads 1 2 ...]
                  [--precision fp32|int8]
"""
import argparse
import json
import os
import re
import statistics
import sys
import tempfile

from harness import (FAMILIES, MOBILEONE, PY, ROOT, check_variants, make, make_int8, ort_median,
                     ours_median, run)


def machine_peak(bin_dir, threads, isa="auto"):
    """The fp32 FMA peak in GFLOP/s that mobileone-machine measures (on the
    widest ISA, or `isa`)."""
    out = run([os.path.join(bin_dir, "mobileone-machine"), "--threads", str(threads),
               "--isa", isa])
    return float(re.search(r"^peak_gflops = ([\d.]+)", out, re.M).group(1))


def machine_int8_peak(bin_dir, threads):
    """The int8 multiply-add peak in GOPS and the instruction it counts
    (mobileone-machine: vpdpbusd with VNNI, else vpmaddwd)."""
    out = run([os.path.join(bin_dir, "mobileone-machine"), "--threads", str(threads)])
    isa = re.search(r"^int8_isa = (\w+)", out, re.M).group(1)
    return float(re.search(r"^peak_int8_gops = ([\d.]+)", out, re.M).group(1)), isa


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--variants", nargs="+", default=MOBILEONE + list(FAMILIES))
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--torch-runs", type=int, default=3)
    p.add_argument("--resolution", type=int, default=224)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                   help="thread counts to measure (up to the machine's cores)")
    p.add_argument("--precision", choices=["fp32", "int8"], default="fp32")
    a = p.parse_args()
    check_variants(a.variants)
    cores = os.cpu_count() or 1
    if any(t < 1 or t > cores for t in a.threads):
        sys.exit(f"latency.py: --threads takes counts from 1 to {cores} (this machine's cores)")
    with tempfile.TemporaryDirectory(prefix="mobileone-bench-") as work:
        models = make(a.build, a.variants, a.resolution, work)
        if a.precision == "int8":
            make_int8(a.build, models)
            int8_table(a, models)
        else:
            table(a, models)


def int8_table(a, models):
    bin_dir = os.path.join(a.build, "bin")
    peak = {t: machine_int8_peak(bin_dir, t) for t in a.threads}
    int8_isa = peak[a.threads[0]][1]

    def measure(runner, v, t):
        m = models[v]
        if runner == "ours-int8":
            return ours_median(a.build, m.path("int8.tflite"), t, a.runs)
        if runner == "ours-int8-avx2":
            return ours_median(a.build, m.path("int8.tflite"), t, a.runs, ["--isa", "avx2"])
        if runner == "ours-int8-all":
            return ours_median(a.build, m.path("int8-all.tflite"), t, a.runs)
        if runner == "ours-fp32":
            return ours_median(a.build, m.path("model.tflite"), t, a.runs)
        return ort_median(a.build, m.path(f"qdq-{runner[4:]}.onnx"), t, a.runs, m.shape)

    runners = ["ours-int8", "ort-uint8", "ort-int8", "ours-fp32", "ours-int8-all"]
    if int8_isa == "vnni":  # the AVX2 kernels beside the VNNI ones
        runners.append("ours-int8-avx2")
    results = {}
    for r in range(a.rounds):
        for t in a.threads:
            for v in a.variants:
                for runner in (runners if r % 2 == 0 else runners[::-1]):
                    results.setdefault((runner, v, t), []).append(measure(runner, v, t))
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    peak = {t: max(p[0], machine_int8_peak(bin_dir, t)[0]) for t, p in peak.items()}
    cell = {k: statistics.median(vals) for k, vals in results.items()}

    def ratios(x, v, t, against):
        return [p / q for p, q in zip(results[(x, v, t)], against)]

    print(f"int8, batch 1; medians over {a.rounds} interleaved rounds ({a.runs} runs per round). "
          f"int8 peak (mobileone-machine, {'vpdpbusd' if int8_isa == 'vnni' else 'vpmaddwd'}): "
          + ", ".join(f"{peak[t]:.0f} GOPS on {t} thread{'s' if t > 1 else ''}" for t in a.threads)
          + ".")
    met = 0
    for t in a.threads:
        print(f"\n{t} thread{'s' if t > 1 else ''} (latency in ms; GOPS = 2 x deployed multiply-adds / latency)")
        print(f"{'model':15} {'input':>5} {'ours int8':>9} {'ORT u8':>8} {'ORT s8':>8} {'ours fp32':>9} "
              f"{'int8/ORT':>9} {'(quartiles)':>11} {'int8/fp32':>9} {'ours GOPS':>16} {'ORT GOPS':>9} "
              f"{'auto/all':>8}" + (f" {'AVX2 int8':>9}" if int8_isa == "vnni" else ""))
        for v in a.variants:
            m = models[v]
            c = lambda r: cell[(r, v, t)]
            # The bar: per round, the faster of ORT's two QDQ models.
            bar = [min(p, q) for p, q in zip(results[("ort-uint8", v, t)], results[("ort-int8", v, t)])]
            vs_ort = ratios("ours-int8", v, t, bar)
            q = statistics.quantiles(vs_ort, n=4) if len(vs_ort) >= 4 else [min(vs_ort), 0, max(vs_ort)]
            vs_fp32 = statistics.median(ratios("ours-int8", v, t, results[("ours-fp32", v, t)]))
            vs_all = statistics.median(ratios("ours-int8", v, t, results[("ours-int8-all", v, t)]))
            gops = lambda ms: 2 * m.macs / (ms * 1e-3) / 1e9
            met += statistics.median(vs_ort) <= 0.9
            print(f"{v:15} {m.resolution:5} {c('ours-int8'):9.2f} {c('ort-uint8'):8.2f} {c('ort-int8'):8.2f} "
                  f"{c('ours-fp32'):9.2f} {statistics.median(vs_ort):9.2f} {q[0]:5.2f}-{q[2]:<5.2f} "
                  f"{vs_fp32:9.2f} {gops(c('ours-int8')):7.1f} ({100 * gops(c('ours-int8')) / peak[t]:3.0f}%) "
                  f"{gops(statistics.median(bar)):9.1f} {vs_all:8.2f}"
                  + (f" {c('ours-int8-avx2'):9.2f}" if int8_isa == "vnni" else ""))
    print(f"\nint8/ORT <= 0.9 on {met} of {len(a.variants) * len(a.threads)} cells.")
    print("int8/ORT: our int8 .tflite's latency over ONNX Runtime's faster QDQ model (per round);")
    print("int8/fp32: over our fp32 .tflite's. auto/all: the default .tflite (identity taps kept")
    print("out where they cost precision, --int8-fold auto) over --int8-fold all's (every branch folded).")
    if int8_isa == "vnni":
        print("AVX2 int8: ours with --isa avx2 (the vpmaddwd kernels), in ms. With VNNI both ORT's and")
        print("our dense int8 kernels use vpdpbusd (u8 x s8 quads, int32 sums, exact).")
    else:
        print("ORT's AVX2 int8 GEMM multiplies u8 x s8 pairs with")
        print("vpmaddubsw, which saturates int16 sums; ours multiplies int16 pairs (vpmaddwd: exact,")
        print("half the multiply-adds per instruction), bit-exact to TFLite's reference kernels.")


def table(a, models):
    bin_dir = os.path.join(a.build, "bin")

    def measure_peak(isa="auto"):
        return {t: machine_peak(bin_dir, t, isa) for t in a.threads}

    def higher(first, isa):  # the higher of two measurements per thread count
        return {t: max(p, q) for (t, p), q in zip(first.items(), measure_peak(isa).values())}
    peak = measure_peak()
    peak2 = measure_peak("avx2")

    def measure(runner, v, t):
        m = models[v]
        if runner.startswith("ours"):
            only = {"ours-xnnpack": ["--xnnpack-only"],
                    "ours-avx2": ["--isa", "avx2"]}.get(runner, [])
            return ours_median(a.build, m.path("model.tflite"), t, a.runs, only)
        if runner.startswith("ort"):
            model = m.path("deploy.onnx") if runner == "ort-deploy" else m.train
            return ort_median(a.build, model, t, a.runs, m.shape)
        kind = ["--onnx", m.path("deploy.onnx")] if runner == "torch-deploy" else ["--model", v]
        times = json.loads(run([PY, os.path.join(ROOT, "bench/torch_bench.py")] + kind +
                               [str(t), str(a.torch_runs), str(m.resolution)]))
        return statistics.median(times)

    runners = ["ours", "ort-deploy", "ours-xnnpack", "ours-avx2", "ort-train", "torch-deploy",
               "torch-train"]
    results = {}
    for r in range(a.rounds):
        for t in a.threads:
            for v in a.variants:
                for runner in (runners if r % 2 == 0 else runners[::-1]):
                    if runner.startswith("torch") and not models[v].mobileone:
                        continue
                    results.setdefault((runner, v, t), []).append(measure(runner, v, t))
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)

    # Measured again at the end: the higher of the two, in case the machine
    # was busy during one of them.
    peak = higher(peak, "auto")
    peak2 = higher(peak2, "avx2")
    cell = {k: statistics.median(vals) for k, vals in results.items()}

    def ratios(a, b, v, t):
        # Paired: each round measures a and b back to back, so their ratio
        # cancels the shared machine's slow swings.
        return [x / y for x, y in zip(results[(a, v, t)], results[(b, v, t)])]

    def ratio(a, b, v, t):
        return statistics.median(ratios(a, b, v, t))

    def quartiles(a, b, v, t):
        r = ratios(a, b, v, t)
        if len(r) < 4:
            return f"{min(r):.2f}-{max(r):.2f}"
        q = statistics.quantiles(r, n=4)
        return f"{q[0]:.2f}-{q[2]:.2f}"
    what = []
    if any(m.mobileone for m in models.values()):
        what.append(f"MobileOne at {a.resolution}x{a.resolution}")
    if not all(m.mobileone for m in models.values()):
        what.append("other families at their input size")
    print(" and ".join(what)
          + f", batch 1; medians over {a.rounds} interleaved rounds "
          f"({a.runs} runs per round; PyTorch {a.torch_runs}). FMA peak (mobileone-machine, widest ISA): "
          + ", ".join(f"{peak[t]:.0f} GFLOP/s on {t} thread{'s' if t > 1 else ''}" for t in a.threads)
          + "; AVX2 peak (--isa avx2): "
          + ", ".join(f"{peak2[t]:.0f} GFLOP/s on {t} thread{'s' if t > 1 else ''}" for t in a.threads)
          + ".")
    for t in a.threads:
        print(f"\n{t} thread{'s' if t > 1 else ''} (latency in ms; GFLOP/s = 2 x deployed multiply-adds / latency)")
        print(f"{'model':15} {'input':>5} {'ours':>8} {'ORT dep':>8} {'ORT train':>9} {'torch dep':>9} "
              f"{'torch train':>11} {'ours/ORT':>9} {'(quartiles)':>11} {'XNNPACK/ORT':>11} {'ours GFLOP/s':>13} "
              f"{'ORT GFLOP/s':>12} {'reparam ORT':>12} {'reparam torch':>13} {'AVX2 ours':>9} {'AVX2/ORT':>8} "
              f"{'AVX2 GFLOP/s':>14}")
        for v in a.variants:
            m = models[v]
            c = lambda r: cell[(r, v, t)]
            gf = lambda ms: 2 * m.macs / (ms * 1e-3) / 1e9
            if m.mobileone:
                torch = (f"{c('torch-deploy'):9.1f} {c('torch-train'):11.1f}",
                         f"{ratio('torch-train', 'torch-deploy', v, t):12.2f}x")
            else:
                torch = (f"{'-':>9} {'-':>11}", f"{'-':>13}")
            print(f"{v:15} {m.resolution:5} {c('ours'):8.2f} {c('ort-deploy'):8.2f} {c('ort-train'):9.2f} "
                  f"{torch[0]} {ratio('ours', 'ort-deploy', v, t):9.2f} "
                  f"{quartiles('ours', 'ort-deploy', v, t):>11} "
                  f"{ratio('ours-xnnpack', 'ort-deploy', v, t):11.2f} "
                  f"{gf(c('ours')):6.1f} ({100 * gf(c('ours')) / peak[t]:3.0f}%) "
                  f"{gf(c('ort-deploy')):5.1f} ({100 * gf(c('ort-deploy')) / peak[t]:3.0f}%) "
                  f"{ratio('ort-train', 'ort-deploy', v, t):11.2f}x {torch[1]} "
                  f"{c('ours-avx2'):9.2f} {ratio('ours-avx2', 'ort-deploy', v, t):8.2f} "
                  f"{gf(c('ours-avx2')):6.1f} ({100 * gf(c('ours-avx2')) / peak2[t]:3.0f}%)")
    cells = [(v, t) for t in a.threads for v in a.variants]
    met = sum(ratio("ours", "ort-deploy", v, t) <= 1.0 for v, t in cells)
    print(f"\nours/ORT <= 1.0 on {met} of {len(cells)} cells.")
    print("Ratios are medians over rounds of each round's ratio (the two measured back to back);")
    print("(quartiles): the first and third quartile of ours/ORT over the rounds.")
    print("ours/ORT: our runtime's latency over ONNX Runtime's on the same deployed model (below 1: faster).")
    print("XNNPACK/ORT: the same with our runtime's own kernels turned off (--xnnpack-only).")
    print("reparam X: training-time latency / deployed latency in runtime X (the speed-up re-parameterisation gives);")
    print("      ORT train runs each model as exported (the families' exports: BN folded by the exporter or kept).")
    print("torch: MobileOne only (models/pytorch/reparam_models.py); -: not measured.")
    print("AVX2: our runtime with --isa avx2 (our AVX2 kernels; XNNPACK keeps its own CPU detection,")
    print("      so its layers still use AVX-512 here); GFLOP/s against the AVX2 FMA peak.")


if __name__ == "__main__":
    main()
