"""The ablation table of docs/training.md from bench/train/results.jsonl:
per configuration, top-1 (mean, spread over seeds), training time, the
training-time and deployed parameter counts, and the deployed latency of
one seed's model (compiled by mobileone-compile, timed by mobileone-run,
configurations interleaved). Writes the plot to docs/training-ablation.png.

    bench/train/report.py [--runs N]
"""
import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, 'build', 'bin')


def config_name(r):
    name = f"k={r['k']}"
    if not r['scale']:
        name += ', no scale branch'
    if not r['skip']:
        name += ', no BN skip'
    return name


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    return out.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--runs', type=int, default=200, help='timed runs per round')
    a = p.parse_args()
    results = [json.loads(line) for line in open(os.path.join(ROOT, 'bench/train/results.jsonl'))
               if line.strip()]
    groups = collections.OrderedDict()
    order = ['k=1', 'k=2', 'k=4', 'k=4, no scale branch', 'k=4, no BN skip']
    for name in order:
        groups[name] = []
    for r in results:
        groups.setdefault(config_name(r), []).append(r)
    # Deployed latency: one model per configuration, rounds interleaved.
    latency = collections.defaultdict(list)
    deployed = {}
    models = {}
    for name, rs in groups.items():
        if not rs:
            continue
        d = rs[0]['dir']
        tflite = os.path.join(d, 'report.tflite')
        out = run([os.path.join(BIN, 'mobileone-compile'), os.path.join(d, 'model.onnx'),
                   '-o', tflite])
        deployed[name] = re.search(r'parameters:\s+[\d.]+ M -> ([\d.]+) M', out).group(1)
        models[name] = tflite
    for _ in range(3):
        for name, tflite in models.items():
            out = run([os.path.join(BIN, 'mobileone-run'), tflite, '--bench', str(a.runs)])
            latency[name].append(float(re.search(r'latency_ms median=([\d.]+)', out).group(1)))
    print('| configuration | seeds | top-1 (mean) | spread (min - max) | training time '
          '(fastest run) | parameters, training -> deployed | deployed latency (1 thread) |')
    print('|---|---|---|---|---|---|---|')
    for name, rs in groups.items():
        if not rs:
            continue
        top = [100 * r['top1'] for r in rs]
        print(f"| {name} | {len(rs)} | {statistics.mean(top):.2f}% | "
              f"{min(top):.2f} - {max(top):.2f}% | {min(r['train_s'] for r in rs):.0f} s | "
              f"{rs[0]['params_train'] / 1e3:.1f} k -> {float(deployed[name]) * 1e3:.1f} k | "
              f"{statistics.median(latency[name]) * 1e3:.0f} us |")
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return
    names = [n for n, rs in groups.items() if rs]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for i, n in enumerate(names):
        top = [100 * r['top1'] for r in groups[n]]
        ax.scatter([i] * len(top), top, color='tab:blue')
        ax.hlines(statistics.mean(top), i - 0.25, i + 0.25, color='tab:red')
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=15, fontsize=8)
    ax.set_ylabel('top-1 (%)')
    ax.set_title('MobileOne on Fashion-MNIST, 3 epochs: each dot a seed, bar the mean',
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(ROOT, 'docs', 'training-ablation.png'), dpi=100)


if __name__ == '__main__':
    main()
