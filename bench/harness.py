"""What bench/latency.py and bench/profile.py share: the models (MobileOne
variants exported by PyTorch in eval mode, opset 14, and the other
families' exports, each compiled by `mobileone-compile` to the deployed
`.tflite` and `.onnx`) and the whole-run latency of our runtime and of ONNX
Runtime."""
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


# The other families, each at its own input size: the shared PyTorch 2.11
# dynamo exports of timm's FastViT-T8 and RepGhostNet-0.5, and our RepViT
# fixture (models/pytorch/families.py, exported by PyTorch 1.13).
FAMILIES = {
    "fastvit_t8": ("test/Integration/Torch2/Inputs/timm_fastvit_t8_dynamo.onnx", 128),
    "repghostnet_050": ("test/Integration/Torch2/Inputs/timm_repghostnet_050_dynamo.onnx", 160),
    "repvit": (None, 224),
    "repvgg": (None, 224),
    "yolov6n": ("test/Integration/Detection/Inputs/yolov6n_preserve.onnx", 320),
    "yolov7_tiny": ("test/Integration/Detection/Inputs/yolov7_tiny_preserve.onnx", 320),
}
MOBILEONE = ["s0", "s1", "s2", "s3", "s4"]


class Model:
    """A model's directory (deploy.onnx and model.tflite, compiled by
    mobileone-compile), its training-time ONNX as exported, deployed
    multiply-adds, input size, and whether it is a MobileOne variant
    (which PyTorch builds: models/pytorch/reparam_models.py)."""

    def __init__(self, directory, train, macs, resolution, mobileone):
        self.dir, self.train, self.macs = directory, train, macs
        self.resolution, self.mobileone = resolution, mobileone

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def shape(self):
        return f"1,3,{self.resolution},{self.resolution}"


def make(build, variants, resolution, work):
    """{variant: Model}: MobileOne variants (s0..s4) exported by PyTorch in
    eval mode at `resolution`, or the FAMILIES at their own size."""
    compile_ = os.path.join(build, "bin", "mobileone-compile")
    models = {}
    for v in variants:
        d = os.path.join(work, v)
        os.makedirs(d, exist_ok=True)
        source, res = FAMILIES.get(v, (None, resolution))
        onnx = os.path.join(d, "model.onnx")
        if source:
            onnx = os.path.join(ROOT, source)
        else:
            run([PY, os.path.join(ROOT, "test/Integration/ONNX/make_fixture.py"), v, "eval",
                 "13" if v in FAMILIES else "14", str(res), d])
        summary = run([compile_, onnx, "-o", os.path.join(d, "deploy.onnx")])
        run([compile_, onnx, "-o", os.path.join(d, "model.tflite"), "--quiet"])
        macs = float(re.search(r"multiply-adds:\s+[\d.]+ M -> ([\d.]+) M", summary).group(1)) * 1e6
        models[v] = Model(d, onnx, macs, res, v in MOBILEONE)
    return models


def make_int8(build, models):
    """Per model: cal.npy (8 seeded standard-normal samples), our int8
    .tflite (`--precision int8`, minmax; and with `--int8-fold all`), and
    ONNX Runtime's QDQ models of
    the deployed ONNX quantised the standard way (bench/quant/baseline.py:
    per-channel int8 weights, per-tensor uint8 or int8 activations)."""
    import numpy as np
    compile_ = os.path.join(build, "bin", "mobileone-compile")
    for m in models.values():
        cal = m.path("cal.npy")
        shape = [8] + [int(d) for d in m.shape.split(",")[1:]]
        np.save(cal, np.random.default_rng(5).standard_normal(shape).astype(np.float32))
        run([compile_, m.train, "-o", m.path("int8.tflite"), "--precision", "int8",
             "--calibration", cal, "--quiet"])
        run([compile_, m.train, "-o", m.path("int8-all.tflite"), "--precision", "int8",
             "--calibration", cal, "--quiet", "--int8-fold", "all"])
        for act in ("uint8", "int8"):
            run([PY, os.path.join(ROOT, "bench/quant/baseline.py"), "--model", m.path("deploy.onnx"),
                 "--calibration", cal, "--out", m.dir, "--activations", act,
                 "--name", f"qdq-{act}.onnx"], node_env(build))


def check_variants(variants):
    """Exits naming what is unknown."""
    unknown = [v for v in variants if v not in MOBILEONE and v not in FAMILIES]
    if unknown:
        sys.exit(f"unknown variant {', '.join(unknown)}: expected "
                 f"{', '.join(MOBILEONE + list(FAMILIES))}")


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
