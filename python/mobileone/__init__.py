"""mobileone: compile re-parameterisable networks and run what it writes.

    import mobileone, numpy as np
    result = mobileone.compile("model.onnx", "model.tflite")
    print(result.summary)
    session = mobileone.Session("model.tflite", threads=2)
    logits = session.run(x_nhwc)["logits"]          # {output name: array}

`compile` runs `mobileone-compile` (the compiler is an MLIR tool, as
`iree.compiler` runs `iree-compile`): every option of the tool is a keyword,
calibration data may be an array, and a refused model raises CompileError
with the tool's message (naming the file, node or op). No output file is
left behind on failure. `Session` is the runtime in process (the same
library `mobileone-run` links): the loader's checks, NumPy in and out, the
GIL released while it runs.
"""
import os
import shutil
import subprocess
import tempfile

import numpy as np

from . import _runtime

__all__ = ["compile", "CompileError", "CompileResult", "ModelError", "Session", "tool"]

ModelError = _runtime.ModelError
"""A .tflite the runtime refuses (the message names the tensor or operator),
or a run that fails."""


class CompileError(RuntimeError):
    """mobileone-compile refused the model or an option; str() is its
    message."""


class CompileResult:
    """What `compile` wrote: `output` (the path) and `summary` (the text
    mobileone-compile prints: blocks fused, parameters, the interface)."""

    def __init__(self, output, summary):
        self.output, self.summary = output, summary

    def __repr__(self):
        return f"CompileResult(output={self.output!r})"


def tool(name):
    """The path of a mobileone tool: $MOBILEONE_BIN/name, else next to this
    package in a build tree (build/python/mobileone -> build/bin), else on
    PATH."""
    here = os.path.dirname(os.path.abspath(__file__))
    for directory in (os.environ.get("MOBILEONE_BIN"),
                      os.path.join(here, "..", "..", "bin")):
        if directory and os.access(os.path.join(directory, name), os.X_OK):
            return os.path.normpath(os.path.join(directory, name))
    found = shutil.which(name)
    if not found:
        raise CompileError(f"{name} not found: set MOBILEONE_BIN to the directory that holds it")
    return found


def _shape_text(shape):
    return "x".join(str(int(d)) for d in shape)


def compile(model, output, *, precision="fp32", calibration=None, calibration_method=None,
            batch=None, input_shapes=None, tflite_layout=None, target=None, check=False,
            check_input=None, report=None, reparameterize=True):
    """Compiles `model` (an ONNX file) to `output`, whose extension picks the
    format (.tflite, .onnx, .mlir/.mlirbc; `target="tosa"` for TOSA).

    precision: "fp32", "fp16" or "int8" (int8 needs `calibration`: an array
    of samples stacked along dimension 0 in the ONNX model's layout, a dict
    of such arrays by input name, or a path to .npy/.npz/a directory).
    calibration_method: "minmax" or "percentile". batch: fixes a symbolic
    batch. input_shapes: {input name: shape} fixes symbolic dimensions.
    tflite_layout: "nhwc" (default) or "nchw". check: compares the written
    artifact with the training-time model (check_input: its input as an
    array or a path). report: a directory for the HTML report.
    reparameterize=False keeps the branches (for comparisons).
    Returns a CompileResult; raises CompileError."""
    args = [tool("mobileone-compile"), os.fspath(model), "-o", os.fspath(output)]
    with tempfile.TemporaryDirectory(prefix="mobileone-") as tmp:
        def as_file(value, name):
            if isinstance(value, (str, os.PathLike)):
                return os.fspath(value)
            path = os.path.join(tmp, name)
            if isinstance(value, dict):
                np.savez(path + ".npz", **{k: np.asarray(v, np.float32) for k, v in value.items()})
                return path + ".npz"
            np.save(path + ".npy", np.asarray(value, np.float32))
            return path + ".npy"

        if precision != "fp32":
            args += ["--precision", precision]
        if calibration is not None:
            args += ["--calibration", as_file(calibration, "calibration")]
        if calibration_method:
            args += ["--calibration-method", calibration_method]
        if batch is not None:
            args += ["--batch", str(int(batch))]
        for name, shape in (input_shapes or {}).items():
            args += ["--input-shape", f"{name}:{_shape_text(shape)}"]
        if tflite_layout:
            args += ["--tflite-layout", tflite_layout]
        if target:
            args += [f"--target={target}"]
        if check:
            args += ["--check"]
        if check_input is not None:
            args += ["--check-input", as_file(check_input, "check_input")]
        if report:
            args += ["--report", os.fspath(report)]
        if not reparameterize:
            args += ["--no-reparameterize"]
        r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        message = (r.stderr.strip() or r.stdout.strip()).replace("mobileone-compile: ", "", 1)
        raise CompileError(message)
    return CompileResult(os.fspath(output), r.stdout)


class Session:
    """A .tflite loaded by the runtime.

    inputs / outputs: one dict per tensor, in the file's order: name, shape,
    dtype, layout ("NHWC" for a 4-D tensor of a .tflite written with the
    default --tflite-layout, "NCHW" with nchw). run(x) for a model of one
    input, run(a, b) or run({"name": a, ...}) for several: float32 arrays of
    exactly the input's shape (a wrong shape or dtype raises naming the
    tensor and what was expected); returns {output name: array} in the
    model's output order."""

    def __init__(self, path, threads=1, reference=False):
        self._session = _runtime.Session(os.fspath(path), threads, reference)
        self.inputs = self._session.inputs
        self.outputs = self._session.outputs

    @property
    def backend(self):
        """Which kernels run it: "native+xnnpack", "reference", ..."""
        return self._session.backend

    def run(self, *arrays, **named):
        names = [t["name"] for t in self.inputs]
        if len(arrays) == 1 and isinstance(arrays[0], dict):
            named, arrays = dict(arrays[0], **named), ()
        if named:
            if arrays:
                raise ValueError("give the inputs by position or by name, not both")
            unknown = sorted(set(named) - set(names))
            missing = [n for n in names if n not in named]
            if unknown or missing:
                raise ValueError(f"inputs are {names}; "
                                 + (f"unknown {unknown}" if unknown else f"missing {missing}"))
            arrays = [named[n] for n in names]
        arrays = [a if isinstance(a, np.ndarray) else np.asarray(a) for a in arrays]
        results = self._session.run(arrays)
        return {t["name"]: v for t, v in zip(self.outputs, results)}

    def __repr__(self):
        def text(ts):
            return ", ".join(f"{t['name']} {list(t['shape'])} {t['dtype']}" for t in ts)
        return f"<mobileone.Session inputs: {text(self.inputs)}; outputs: {text(self.outputs)}>"
