"""What bench/latency.py and bench/profile.py share: the fixtures (MobileOne
variants exported by PyTorch in eval mode, opset 14, and compiled by
`mobileone-compile` to the deployed `.tflite` and `.onnx`) and the
whole-run latency of our runtime and of ONNX Runtime."""
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"


def run(cmd, env=None):
    """stdout of `cmd`; exits with its output when it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def node_env(build):
    """The environment in which `node` finds the npm onnxruntime-node."""
    return dict(os.environ, NODE_PATH=os.path.join(build, "node", "node_modules"))


def make(build, variants, resolution, work):
    """{variant: (directory, deployed multiply-adds)}; each directory holds
    model.onnx (training-time), deploy.onnx and model.tflite."""
    compile_ = os.path.join(build, "bin", "mobileone-compile")
    models = {}
    for v in variants:
        d = os.path.join(work, v)
        run([PY, os.path.join(ROOT, "test/Integration/ONNX/make_fixture.py"), v, "eval", "14",
             str(resolution), d])
        summary = run([compile_, os.path.join(d, "model.onnx"), "-o", os.path.join(d, "deploy.onnx")])
        run([compile_, os.path.join(d, "model.onnx"), "-o", os.path.join(d, "model.tflite"), "--quiet"])
        macs = float(re.search(r"multiply-adds:\s+[\d.]+ M -> ([\d.]+) M", summary).group(1)) * 1e6
        models[v] = (d, macs)
    return models


def ours_median(build, tflite, threads, runs, extra=()):
    """Median latency in ms of `mobileone-run --bench runs`."""
    out = run([os.path.join(build, "bin", "mobileone-run"), tflite, "--threads", str(threads),
               "--bench", str(runs), *extra])
    return float(re.search(r"latency_ms median=([\d.]+)", out).group(1))


def ort(build, onnx, threads, runs, shape, *mode):
    """The JSON that bench/ort_bench.js prints (`mode`: "--profile" or none)."""
    return json.loads(run(["node", os.path.join(ROOT, "bench/ort_bench.js"), onnx, str(threads),
                           str(runs), shape, *mode], node_env(build)))


def ort_median(build, onnx, threads, runs, shape):
    """Median latency in ms of ONNX Runtime over `runs` runs."""
    return statistics.median(ort(build, onnx, threads, runs, shape))
