"""mobileone: compile re-parameterisable networks and run what it writes.

    import mobileone
    result = mobileone.compile("model.onnx", "model.tflite", check=True)
    print(result.summary, result.check)
    runtime = mobileone.Runtime("model.tflite", threads=2)
    outputs = runtime.run({"image": x_nhwc})        # {output name: array}
    result = mobileone.from_torch(module, (x,), "model.tflite")

`compile` runs `mobileone-compile` (the compiler is an MLIR tool, as
`iree.compiler` runs `iree-compile`): every option of the tool is a keyword,
calibration data and check inputs may be arrays, and a refused model raises
CompileError with the tool's message (naming the file, node or op); no
output file is left behind then. `Runtime` is the runtime in process (the
library `mobileone-run` links): the loader's checks, NumPy in and out, the
GIL released while it loads and runs (and while a compile waits for the
tool).
"""
import os
import shutil
import subprocess
import tempfile

import numpy as np

from . import _runtime

__all__ = ["compile", "from_torch", "CompileError", "ModelError", "Result", "Runtime", "tool"]

ModelError = _runtime.ModelError
"""A .tflite the runtime refuses (the message names the tensor or operator),
or a run that fails."""


class CompileError(RuntimeError):
    """mobileone-compile refused the model or an option (str(): its
    message), or from_torch's check failed."""


class Result:
    """What `compile` wrote. `bytes`: the file's contents; `output`: its path
    (None when compile was given no destination); `summary`: the text
    mobileone-compile prints (blocks fused, parameters, the interface);
    `remarks`: the --explain remarks, one string each (explain=True);
    `check`: the --check lines (check=True), else None."""

    def __init__(self, output, data, summary, remarks, check):
        self.output, self.bytes, self.summary = output, data, summary
        self.remarks, self.check = remarks, check

    def __repr__(self):
        return f"Result(output={self.output!r}, {len(self.bytes)} bytes)"


def tool(name):
    """The path of a mobileone tool: $MOBILEONE_BIN/name, else the prefix's
    bin (an installed package: PREFIX/lib/python3/dist-packages/mobileone)
    or the build tree's (build/python/mobileone -> build/bin), else PATH."""
    here = os.path.dirname(os.path.abspath(__file__))
    for directory in (os.environ.get("MOBILEONE_BIN"),
                      os.path.join(here, "..", "..", "bin"),
                      os.path.join(here, "..", "..", "..", "..", "bin")):
        if directory and os.access(os.path.join(directory, name), os.X_OK):
            return os.path.normpath(os.path.join(directory, name))
    found = shutil.which(name)
    if not found:
        raise CompileError(f"{name} not found: set MOBILEONE_BIN to the directory that holds it")
    return found


def _shape_text(shape):
    return "x".join(str(int(d)) for d in shape)


def compile(src, dst=None, *, precision="fp32", calibration=None, calibration_method=None,
            batch=None, input_shapes=None, tflite_layout=None, target=None, check=False,
            check_input=None, check_atol=None, check_rtol=None, report=None, explain=False,
            reparameterize=True, int8_fold=None, max_slowdown=None, qdq_weight_bits=None,
            keep_float=None, bias_correction=True, equalize=None, io_dtype=None):
    """Compiles `src` (an ONNX file) to `dst`, whose extension picks the
    format (.tflite, .onnx, .mlir/.mlirbc; `target="tosa"` for TOSA); dst
    None: a .tflite in memory only (Result.bytes).

    precision: "fp32", "fp16" or "int8" (int8 needs `calibration`: an array
    of samples stacked along dimension 0 in the ONNX model's layout, a dict
    of such arrays by input name, or a path to .npy/.npz/a directory).
    calibration_method: "minmax", "percentile" or "mse"; int8_fold: "auto"
    (identity taps kept out of kernels they cost precision, within
    max_slowdown, a fraction) or "all"; qdq_weight_bits: 8 or 7 for an int8
    .onnx (QDQ; docs/quantization.md); keep_float: layer names left in
    float32 in an int8 model; bias_correction=False keeps the float biases;
    equalize: "auto" (default: cross-layer equalisation where it measurably
    helps), "on" or "off";
    io_dtype: "float32" (default) or "int8" (an int8 model's interface:
    Runtime.quantize / dequantize convert). batch: fixes a symbolic
    batch. input_shapes: {input name: shape} fixes symbolic dimensions.
    tflite_layout: "nhwc" (default) or "nchw". check: compares the written
    artifact with the training-time model (check_input: its input, an array
    or a dict or a path; check_atol / check_rtol). report: a directory for
    the HTML report. explain: Result.remarks. reparameterize=False keeps the
    branches. Returns a Result; raises CompileError."""
    with tempfile.TemporaryDirectory(prefix="mobileone-") as tmp:
        output = os.fspath(dst) if dst is not None else os.path.join(tmp, "model.tflite")
        args = [tool("mobileone-compile"), os.fspath(src), "-o", output]

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
        if int8_fold:
            args += ["--int8-fold", int8_fold]
        if max_slowdown is not None:
            args += ["--max-slowdown", repr(float(max_slowdown))]
        if keep_float:
            names = [keep_float] if isinstance(keep_float, str) else list(keep_float)
            args += ["--keep-float", ",".join(names)]
        if not bias_correction:
            args += ["--no-bias-correction"]
        if equalize:
            args += ["--equalize", equalize]
        if io_dtype:
            args += ["--io-dtype", io_dtype]
        if qdq_weight_bits is not None:
            args += ["--qdq-weight-bits", str(int(qdq_weight_bits))]
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
        if check_atol is not None:
            args += ["--check-atol", repr(float(check_atol))]
        if check_rtol is not None:
            args += ["--check-rtol", repr(float(check_rtol))]
        if report:
            args += ["--report", os.fspath(report)]
        if explain:
            args += ["--explain"]
        if not reparameterize:
            args += ["--no-reparameterize"]
        r = subprocess.run(args, capture_output=True, text=True)  # the GIL is released
        if r.returncode != 0:
            lines = [l for l in r.stderr.splitlines() if ": remark: " not in l]
            message = ("\n".join(lines).strip() or r.stdout.strip())
            raise CompileError(message.replace("mobileone-compile: ", "", 1))
        with open(output, "rb") as f:
            data = f.read()
    checks = [l.strip() for l in r.stdout.splitlines()
              if l.strip().startswith(("check:", "output '")) and "diff" in l]
    remarks = [l.split(": remark: ", 1)[1] for l in r.stderr.splitlines() if ": remark: " in l]
    return Result(os.fspath(dst) if dst is not None else None, data, r.stdout, remarks,
                  "\n".join(checks) if check or check_input is not None else None)


class Runtime:
    """A .tflite loaded by the runtime, from a path or from its bytes
    (Result.bytes).

    input_names / output_names, in the file's order; inputs / outputs: one
    dict per tensor: name, shape, dtype (float32; int32 for ArgMax's
    indices; int8 for an int8 interface, with its scale and zero_point),
    layout ("NHWC" for a 4-D tensor of a .tflite written with the
    default tflite_layout, "NCHW" with "nchw"). run({name: array}) (or
    run(x) for one input, run(a, b) by position): float32 arrays of exactly
    the input's shape, int8 for an int8 input (a wrong shape or dtype raises
    naming the tensor and what was expected); returns {output name: array}
    in the model's order. quantize(name, x) / dequantize(name, q) convert
    between real values and an int8 interface tensor's."""

    def __init__(self, path_or_bytes, threads=1, reference=False):
        source = path_or_bytes if isinstance(path_or_bytes, bytes) else os.fspath(path_or_bytes)
        self._session = _runtime.Session(source, threads, reference)
        self.inputs = self._session.inputs
        self.outputs = self._session.outputs
        self.input_names = [t["name"] for t in self.inputs]
        self.output_names = [t["name"] for t in self.outputs]

    def _info(self, name):
        for t in self.inputs + self.outputs:
            if t["name"] == name:
                return t
        raise ValueError(f"no interface tensor '{name}'; the model has "
                         f"{self.input_names + self.output_names}")

    def quantize(self, name, x):
        """Real values `x` as int8 tensor `name` takes them (as TFLite's
        QUANTIZE rounds: half away from zero, clamped); a float32 tensor's
        unchanged."""
        t = self._info(name)
        x = np.asarray(x, np.float64)
        if t["dtype"] != "int8":
            return x.astype(np.float32)
        q = np.trunc(x / t["scale"] + np.copysign(0.5, x)) + t["zero_point"]
        return np.clip(q, -128, 127).astype(np.int8)

    def dequantize(self, name, q):
        """The real values int8 tensor `name`'s `q` stand for (float32)."""
        t = self._info(name)
        q = np.asarray(q)
        if t["dtype"] != "int8":
            return q.astype(np.float32)
        return (t["scale"] * (q.astype(np.float64) - t["zero_point"])).astype(np.float32)

    @property
    def backend(self):
        """Which kernels run it: "native+xnnpack", "reference", ..."""
        return self._session.backend

    def run(self, *arrays, **named):
        names = self.input_names
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
        return dict(zip(self.output_names, self._session.run(arrays)))

    def __repr__(self):
        def text(ts):
            return ", ".join(f"{t['name']} {list(t['shape'])} {t['dtype']}" for t in ts)
        return f"<mobileone.Runtime inputs: {text(self.inputs)}; outputs: {text(self.outputs)}>"


def from_torch(module, example_inputs, dst, *, rtol=1e-4, opset=13, **options):
    """Exports `module` (in eval mode) with torch.onnx (BatchNormalization
    kept: the compiler folds it), compiles it to `dst` with `options` (as
    compile's) and checks the written .tflite against the module itself on
    `example_inputs` (a tensor or a tuple of tensors, NCHW): the largest
    |difference| over the largest |output| must be at most `rtol`, else
    CompileError. Returns the Result (Result.check: the comparison)."""
    import torch

    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    module = module.eval()
    names = [f"input{i}" for i in range(len(example_inputs))]
    with torch.no_grad():
        expected = module(*example_inputs)
    expected = expected if isinstance(expected, (tuple, list)) else (expected,)
    with tempfile.TemporaryDirectory(prefix="mobileone-") as tmp:
        onnx_path = os.path.join(tmp, "model.onnx")
        torch.onnx.export(module, tuple(example_inputs), onnx_path, opset_version=opset,
                          input_names=names,
                          output_names=[f"output{i}" for i in range(len(expected))],
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
        result = compile(onnx_path, dst, **options)
    if not str(dst).endswith(".tflite"):
        return result
    runtime = Runtime(result.bytes)
    feeds = {}
    for name, x, info in zip(names, example_inputs, runtime.inputs):
        x = x.detach().numpy().astype(np.float32)
        if info["layout"] == "NHWC":
            x = x.transpose(0, 2, 3, 1)
        feeds[name] = np.ascontiguousarray(runtime.quantize(info["name"], x))
    got = {name: runtime.dequantize(name, y) for name, y in runtime.run(feeds).items()}
    lines, worst = [], 0.0
    for (name, y), e, info in zip(got.items(), expected, runtime.outputs):
        e = e.detach().numpy()
        if info["layout"] == "NHWC":
            y = y.transpose(0, 3, 1, 2)
        diff = float(np.max(np.abs(y - e))) if e.size else 0.0
        scale = float(np.max(np.abs(e))) if e.size else 0.0
        rel = diff / scale if scale > 0 else diff
        worst = max(worst, rel)
        lines.append(f"output '{name}': max abs diff {diff:.3e}, relative {rel:.3e} against the module")
    result.check = "\n".join(lines)
    if worst > rtol:
        raise CompileError(f"{dst}: the compiled model differs from the module "
                           f"(relative {worst:.3e} > rtol {rtol:g}):\n" + result.check)
    return result
