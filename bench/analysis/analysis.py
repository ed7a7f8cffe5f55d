"""The MobileOne paper's latency analysis (its sections 3.1, 3.2.1 and
3.2.2) on this CPU, with our cost model's estimate next to parameters and
FLOPs. Run by bench/analysis/run.sh; docs/analysis.md shows its output.

usage: analysis.py BUILD_DIR OUT_DIR [--small] [--rounds R] [--runs N]
                   [--threads T]

1. A zoo of models (MobileOne S0..S4, RepVGG, RepGhost, RepViT, FastViT,
   each training-time and deployed; in-house MobileNet-V1/V2 and ResNet-18
   style nets at two widths, deployed): parameters, multiply-adds, bytes
   moved and the estimated latency (--mobileone-cost-report on the machine
   description mobileone-machine measures here), and the latency measured
   in mobileone-run (.tflite; the training-time graph via
   `mobileone-compile --no-reparameterize`) and in ONNX Runtime (.onnx).
   Spearman rank correlation of each metric with each measured latency.
2. 3.2.1: a 30-layer conv net with ReLU, GELU, SiLU, Hardswish, Sigmoid and
   SE-ReLU, latency in both runtimes.
3. 3.2.2: MobileOne block pairs with k = 1..4 conv branches, training-time
   and deployed latency and bytes moved.
Latencies: median over R interleaved rounds of the median of N runs, one
thread (--threads), each runtime in its own process, the runtime that goes
first alternating by round. Writes OUT_DIR/results.json, OUT_DIR/tables.md
and the plots OUT_DIR/*.png (matplotlib); prints the tables.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"

ZOO = [(f"s{i}", 224, True) for i in range(5)] + [
    ("repvgg", 224, True), ("repghost", 224, True), ("repvit", 224, True),
    ("fastvit", 224, True),
    ("mnv1-0.5", 224, False), ("mnv1-1.0", 224, False),
    ("mnv2-0.5", 224, False), ("mnv2-1.0", 224, False),
    ("resnet-0.5", 224, False), ("resnet-1.0", 224, False)]
ACTIVATIONS = ["relu", "gelu", "silu", "hardswish", "sigmoid", "se-relu"]
BRANCHES = [1, 2, 3, 4]
SMALL_ZOO = [("s0", 64, True), ("mnv2-0.5", 64, False)]
SMALL_ACTIVATIONS = ["relu", "gelu"]
SMALL_BRANCHES = [1, 2]


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"analysis: failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


class Lab:
    def __init__(self, build, out, args):
        self.bin = os.path.join(build, "bin")
        self.out = out
        self.args = args
        self.env = dict(os.environ, NODE_PATH=os.path.join(build, "node", "node_modules"))
        self.machine = os.path.join(out, "machine.txt")
        os.makedirs(os.path.join(out, "models"), exist_ok=True)

    def tool(self, name):
        return os.path.join(self.bin, name)

    def measure_machine(self):
        text = run([self.tool("mobileone-machine"), "--threads", str(self.args.threads)]
                   + (["--quick"] if self.args.small else []))
        with open(self.machine, "w") as f:
            f.write(text)
        return dict(re.findall(r"^(\w+) = (.*)$", text, re.M))

    def export(self, name, res):
        """The training-time .onnx of a zoo model, and its deployed forms."""
        d = os.path.join(self.out, "models")
        onnx = os.path.join(d, f"{name}.onnx")
        if not os.path.exists(onnx):
            run([PY, os.path.join(HERE, "zoo.py"), name, str(res), onnx])
        paths = {k: os.path.join(d, f"{name}{suffix}") for k, suffix in
                 [("train-mlir", "-train.mlirbc"), ("train-tflite", "-train.tflite"),
                  ("deploy-mlir", "-deploy.mlirbc"), ("deploy-tflite", "-deploy.tflite"),
                  ("deploy-onnx", "-deploy.onnx")]}
        c = self.tool("mobileone-compile")
        run([self.tool("mobileone-translate"), "--import-onnx", onnx, "--emit-bytecode",
             "-o", paths["train-mlir"]])
        run([c, onnx, "-o", paths["train-tflite"], "--no-reparameterize", "--quiet"])
        run([c, onnx, "-o", paths["deploy-mlir"], "--quiet"])
        run([c, onnx, "-o", paths["deploy-tflite"], "--quiet"])
        run([c, onnx, "-o", paths["deploy-onnx"], "--quiet"])
        paths["train-onnx"] = onnx
        return paths

    def cost(self, mlirbc):
        out = run([self.tool("mobileone-opt"), mlirbc,
                   f"--mobileone-cost-report=machine={self.machine}", "-o", os.devnull])
        se = re.search(r"squeeze-excite [\d.]+ M \((\d+)\)", out)
        return {
            "params": int(re.search(r"parameters [\d.]+ M \((\d+)\)", out).group(1)),
            "macs": int(re.search(r"multiply-adds [\d.]+ M \((\d+)\)", out).group(1))
                    + (int(se.group(1)) if se else 0),
            "bytes": int(re.search(r"bytes moved (\d+)", out).group(1)),
            "sync": int(re.search(r"sync points (\d+)", out).group(1)),
            "estimate_ms": float(re.search(r"estimate: ([\d.]+) ms", out).group(1)),
        }

    def ours(self, tflite):
        out = run([self.tool("mobileone-run"), tflite, "--threads", str(self.args.threads),
                   "--bench", str(self.args.runs)])
        return float(re.search(r"latency_ms median=([\d.]+)", out).group(1))

    def ort(self, onnx, res):
        out = run(["node", os.path.join(ROOT, "bench", "ort_bench.js"), onnx,
                   str(self.args.threads), str(self.args.runs), f"1,3,{res},{res}"], self.env)
        return statistics.median(json.loads(out))

    def latencies(self, entries):
        """{key: {"ours": ms, "ort": ms}} over interleaved rounds."""
        samples = {k: {"ours": [], "ort": []} for k, _ in entries}
        for r in range(self.args.rounds):
            for key, (tflite, onnx, res) in entries:
                order = [("ours", lambda: self.ours(tflite)), ("ort", lambda: self.ort(onnx, res))]
                if r % 2:
                    order.reverse()
                for who, f in order:
                    samples[key][who].append(f())
            print(f"  round {r + 1}/{self.args.rounds} done", file=sys.stderr)
        return {k: {w: statistics.median(v) for w, v in s.items()} for k, s in samples.items()}


def ranks(values):
    """Ranks from 1, ties averaged."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.mean(rx), statistics.mean(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return num / den if den else float("nan")


def plots(out, zoo, acts, branches):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(zoo)
    metrics = [("macs", "multiply-adds", 1e-6, "M"), ("params", "parameters", 1e-6, "M"),
               ("bytes", "bytes moved", 1.0 / 2 ** 20, "MiB"),
               ("estimate_ms", "estimated latency", 1.0, "ms")]
    fig, axes = plt.subplots(1, 4, figsize=(20, 5))
    for ax, (key, label, scale, unit) in zip(axes, metrics):
        for who, color, marker in [("ours", "tab:blue", "o"), ("ort", "tab:orange", "s")]:
            xs = [zoo[n][key] * scale for n in names]
            ys = [zoo[n][who] for n in names]
            rho = spearman(xs, ys)
            ax.scatter(xs, ys, c=color, marker=marker, alpha=0.8,
                       label=f"{'mobileone-run' if who == 'ours' else 'ONNX Runtime'} "
                             f"(Spearman {rho:.2f})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{label} ({unit})")
        ax.set_ylabel("measured latency (ms)")
        ax.set_title(f"latency vs {label}")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "latency-vs-metrics.png"), dpi=80)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = range(len(acts))
    ax.bar([x - 0.2 for x in xs], [acts[a]["ours"] for a in acts], 0.4, label="mobileone-run")
    ax.bar([x + 0.2 for x in xs], [acts[a]["ort"] for a in acts], 0.4, label="ONNX Runtime")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(list(acts))
    ax.set_ylabel("latency (ms)")
    ax.set_title("30-layer conv net by activation (paper 3.2.1)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "activations.png"), dpi=80)
    plt.close(fig)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
    ks = sorted(branches)
    for form, style in [("train", "-"), ("deploy", "--")]:
        for who, color in [("ours", "tab:blue"), ("ort", "tab:orange")]:
            a1.plot(ks, [branches[k][form][who] for k in ks], style, color=color, marker="o",
                    label=f"{'mobileone-run' if who == 'ours' else 'ONNX Runtime'}, {form}")
        a2.plot(ks, [branches[k][form]["bytes"] / 2 ** 20 for k in ks], style, marker="o",
                label=form)
    a1.set_xlabel("conv branches per block (k)")
    a1.set_ylabel("latency (ms)")
    a1.set_title("MobileOne blocks: latency (paper 3.2.2)")
    a1.legend(fontsize=8)
    a2.set_xlabel("conv branches per block (k)")
    a2.set_ylabel("bytes moved (MiB)")
    a2.set_title("MobileOne blocks: bytes moved")
    a2.legend()
    for a in (a1, a2):
        a.set_xticks(ks)
        a.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "branches.png"), dpi=80)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("out")
    p.add_argument("--small", action="store_true", help="3 models, 2 activations, k = 1, 2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    lab = Lab(args.build, args.out, args)
    zoo_spec = SMALL_ZOO if args.small else ZOO
    act_names = SMALL_ACTIVATIONS if args.small else ACTIVATIONS
    ks = SMALL_BRANCHES if args.small else BRANCHES
    small_res = 32 if args.small else 112

    machine = lab.measure_machine()
    print(f"machine: {machine.get('name')}: peak {machine.get('peak_gflops')} GFLOP/s, "
          f"cache {machine.get('cache_bandwidth_gbs')} GB/s up to "
          f"{float(machine.get('cache_bytes', 0)) / 2 ** 20:.1f} MiB, DRAM "
          f"{machine.get('dram_bandwidth_gbs')} GB/s, {machine.get('op_overhead_us')} us per op")

    # Every model and form: its files and costs.
    rows, entries = {}, []
    for name, res, reparam in zoo_spec:
        paths = lab.export(name, res)
        forms = [("train", "deploy")[i] for i in ((0, 1) if reparam else (1,))]
        for form in forms:
            key = f"{name}/{form}" if reparam else name
            rows[key] = dict(lab.cost(paths[f"{form}-mlir"]), res=res)
            entries.append((key, (paths[f"{form}-tflite"], paths[f"{form}-onnx"], res)))
    acts = {}
    for a in act_names:
        paths = lab.export(f"act-{a}", small_res)
        acts[a] = dict(lab.cost(paths["deploy-mlir"]), res=small_res)
        entries.append((f"act-{a}", (paths["deploy-tflite"], paths["deploy-onnx"], small_res)))
    branches = {}
    for k in ks:
        paths = lab.export(f"branches-{k}", small_res)
        branches[k] = {}
        for form in ("train", "deploy"):
            branches[k][form] = dict(lab.cost(paths[f"{form}-mlir"]), res=small_res)
            entries.append((f"branches-{k}/{form}",
                            (paths[f"{form}-tflite"], paths[f"{form}-onnx"], small_res)))

    measured = lab.latencies(entries)
    for key, row in rows.items():
        row.update(measured[key])
    for a in acts:
        acts[a].update(measured[f"act-{a}"])
    for k in ks:
        for form in ("train", "deploy"):
            branches[k][form].update(measured[f"branches-{k}/{form}"])

    lines = []
    say = lambda s="": (print(s), lines.append(s))  # noqa: E731
    say(f"## The zoo ({len(rows)} models, {args.threads} thread"
        f"{'s' if args.threads > 1 else ''}, median of {args.rounds} rounds x {args.runs} runs)")
    say()
    say("| model | res | params (M) | MACs (M) | bytes moved (MiB) | sync | estimate (ms) "
        "| mobileone-run (ms) | ONNX Runtime (ms) |")
    say("|---|---|---|---|---|---|---|---|---|")
    for key, r in rows.items():
        say(f"| {key} | {r['res']} | {r['params'] / 1e6:.2f} | {r['macs'] / 1e6:.1f} | "
            f"{r['bytes'] / 2 ** 20:.1f} | {r['sync']} | {r['estimate_ms']:.2f} | "
            f"{r['ours']:.2f} | {r['ort']:.2f} |")
    say()
    say("### Spearman rank correlation with measured latency")
    say()
    say("| metric | mobileone-run | ONNX Runtime |")
    say("|---|---|---|")
    keys = list(rows)
    corr = {}
    for metric, label in [("params", "parameters"), ("macs", "multiply-adds (FLOPs)"),
                          ("bytes", "bytes moved"), ("estimate_ms", "our estimate")]:
        corr[metric] = {who: spearman([rows[k][metric] for k in keys], [rows[k][who] for k in keys])
                        for who in ("ours", "ort")}
        say(f"| {label} | {corr[metric]['ours']:.3f} | {corr[metric]['ort']:.3f} |")
    say()
    say("## 30-layer conv net by activation (paper 3.2.1)")
    say()
    say("| activation | MACs (M) | bytes moved (MiB) | sync | estimate (ms) | mobileone-run (ms) "
        "| ONNX Runtime (ms) |")
    say("|---|---|---|---|---|---|---|")
    for a, r in acts.items():
        say(f"| {a} | {r['macs'] / 1e6:.1f} | {r['bytes'] / 2 ** 20:.1f} | {r['sync']} | "
            f"{r['estimate_ms']:.2f} | {r['ours']:.2f} | {r['ort']:.2f} |")
    say()
    say("## MobileOne block pairs by branch count (paper 3.2.2)")
    say()
    say("| k | bytes moved train / deploy (MiB) | estimate train / deploy (ms) "
        "| mobileone-run train / deploy (ms) | ONNX Runtime train / deploy (ms) |")
    say("|---|---|---|---|---|")
    for k in ks:
        t, d = branches[k]["train"], branches[k]["deploy"]
        say(f"| {k} | {t['bytes'] / 2 ** 20:.1f} / {d['bytes'] / 2 ** 20:.1f} | "
            f"{t['estimate_ms']:.2f} / {d['estimate_ms']:.2f} | {t['ours']:.2f} / {d['ours']:.2f} | "
            f"{t['ort']:.2f} / {d['ort']:.2f} |")

    with open(os.path.join(args.out, "tables.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"machine": machine, "zoo": rows, "spearman": corr, "activations": acts,
                   "branches": branches}, f, indent=1)
    plots(args.out, rows, acts, branches)
    print(f"\nwrote {args.out}/tables.md, results.json, latency-vs-metrics.png, "
          f"activations.png, branches.png")


if __name__ == "__main__":
    main()
