"""Latency of the other re-param families, deployed: our runtime on the
.tflite against ONNX Runtime on the re-parameterised .onnx (issue 13).

usage: families.py BUILD_DIR [--rounds R] [--runs N]

Models: timm FastViT-T8 and RepGhostNet-0.5 (the shared PyTorch 2.11 dynamo
exports) and our RepViT fixture (models/pytorch/families.py, PyTorch 1.13,
224x224). Each round times both runtimes back to back on 1 and 2 threads
(median of N runs each, one process per measurement); the table gives the
medians over rounds and the median over rounds of each round's ratio.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "test", "Integration", "Torch2", "Inputs")


def run(cmd, env=None):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def main():
    build = sys.argv[1]
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 30
    bin_dir = os.path.join(build, "bin")
    env = dict(os.environ, NODE_PATH=os.path.join(build, "node", "node_modules"))
    work = tempfile.mkdtemp(prefix="mobileone-families-")
    models = {
        "fastvit_t8": (os.path.join(SHARED, "timm_fastvit_t8_dynamo.onnx"), "1,3,128,128"),
        "repghostnet_050": (os.path.join(SHARED, "timm_repghostnet_050_dynamo.onnx"), "1,3,160,160"),
    }
    repvit = os.path.join(work, "repvit")
    run([sys.executable, os.path.join(ROOT, "test", "Integration", "ONNX", "make_fixture.py"),
         "repvit", "eval", "13", "224", repvit])
    models["repvit (ours)"] = (os.path.join(repvit, "model.onnx"), "1,3,224,224")

    rows = []
    for name, (onnx, shape) in models.items():
        base = os.path.join(work, name.split()[0])
        run([os.path.join(bin_dir, "mobileone-compile"), onnx, "-o", base + ".onnx", "--quiet"])
        run([os.path.join(bin_dir, "mobileone-compile"), onnx, "-o", base + ".tflite", "--quiet"])
        for threads in (1, 2):
            ours, ort, ratios = [], [], []
            for r in range(rounds):
                def measure_ours():
                    out = run([os.path.join(bin_dir, "mobileone-run"), base + ".tflite",
                               "--threads", str(threads), "--bench", str(runs)])
                    line = [l for l in out.splitlines() if l.startswith("latency_ms")][0]
                    return float(line.split("median=")[1].split()[0])

                def measure_ort():
                    times = json.loads(run(["node", os.path.join(ROOT, "bench", "ort_bench.js"),
                                            base + ".onnx", str(threads), str(runs), shape], env))
                    return statistics.median(times)

                # The runner that goes first alternates.
                if r % 2 == 0:
                    a = measure_ours()
                    b = measure_ort()
                else:
                    b = measure_ort()
                    a = measure_ours()
                ours.append(a)
                ort.append(b)
                ratios.append(a / b)
            rows.append((name, threads, statistics.median(ours), statistics.median(ort),
                         statistics.median(ratios), min(ratios), max(ratios)))

    print(f"Deployed families, batch 1; medians over {rounds} interleaved rounds of {runs} runs.")
    print(f"{'model':<18}{'threads':>8}{'ours ms':>10}{'ORT ms':>10}{'ours/ORT':>10}  (min-max)")
    for name, threads, a, b, ratio, lo, hi in rows:
        print(f"{name:<18}{threads:>8}{a:>10.3f}{b:>10.3f}{ratio:>10.2f}  ({lo:.2f}-{hi:.2f})")
    print("ours/ORT: our runtime's latency on the .tflite over ONNX Runtime's on the "
          "re-parameterised .onnx (below 1: faster).")


if __name__ == "__main__":
    main()
