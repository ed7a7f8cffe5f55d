"""Per-op golden vectors, one table for both of our interpreters.

    golden.py OUT_DIR

Each case is one ONNX node (its attributes; a second operand, weights or
parameters as initializers), a seeded input and the expected output computed
here by NumPy or PyTorch, never by our code or ONNX Runtime. Every case is
compiled twice and run by both of our independent interpreters:

- the evaluator (MLIR level): `mobileone-compile --no-reparameterize -o
  case.mlir`, run by `mobileone-run case.mlir` (lib/Evaluator);
- the runtime's reference kernels (TFLite level): `mobileone-compile -o
  case.tflite --tflite-layout nchw`, run by `mobileone-run --reference`
  (lib/Runtime/Reference.cpp);

so a changed meaning of an op in either is caught against the same numbers.
Prints one line per case and interpreter (max |d| / max |expected|) and a
last line "N cases, M runs: PASS" or FAIL; exits 1 on a failure.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
RNG = np.random.default_rng(20261207)


def rand(*shape, positive=False):
    x = RNG.standard_normal(shape).astype(np.float32)
    return np.abs(x) + 0.1 if positive else x


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


class Case:
    """`refused`: {interpreter: what the compiler must say} for a target
    that cannot express the op (the refusal is checked instead)."""

    def __init__(self, name, op, x, expected, attrs=None, consts=(), tol=1e-5, refused=None,
                 out_type=TensorProto.FLOAT):
        self.name, self.op, self.x = name, op, x
        self.expected = np.asarray(expected, dtype=np.float32)
        self.attrs, self.consts, self.tol = attrs or {}, consts, tol
        self.refused, self.out_type = refused or {}, out_type

    def model(self):
        inputs = ["x"] + [f"c{i}" for i in range(len(self.consts))]
        init = [numpy_helper.from_array(np.asarray(c), f"c{i}") for i, c in enumerate(self.consts)]
        node = helper.make_node(self.op, inputs, ["y"], **self.attrs)
        graph = helper.make_graph(
            [node], self.name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(self.x.shape))],
            [helper.make_tensor_value_info("y", self.out_type, list(self.expected.shape))], init)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        onnx.checker.check_model(m)
        return m


def cases():
    x = rand(1, 6, 7, 9)
    pos = rand(1, 6, 7, 9, positive=True)
    c = []
    # Functions of one input.
    c.append(Case("relu", "Relu", x, np.maximum(x, 0)))
    c.append(Case("sigmoid", "Sigmoid", x, torch.sigmoid(t(x)).numpy()))
    c.append(Case("tanh", "Tanh", x, np.tanh(x.astype(np.float64))))
    c.append(Case("erf", "Erf", x, torch.erf(t(x).double()).numpy(),
                  refused={"runtime": "TFLite target cannot express 'erf' (no TFLite builtin)"}))
    c.append(Case("sqrt", "Sqrt", pos, np.sqrt(pos.astype(np.float64))))
    c.append(Case("exp", "Exp", x, np.exp(x.astype(np.float64))))
    c.append(Case("neg", "Neg", x, -x))
    c.append(Case("reciprocal", "Reciprocal", pos, 1.0 / pos.astype(np.float64)))
    c.append(Case("hard_swish", "HardSwish", 4 * x, F.hardswish(t(4 * x).double()).numpy()))
    hs = np.clip(0.2 * (4 * x).astype(np.float64) + 0.5, 0, 1)
    c.append(Case("hard_sigmoid", "HardSigmoid", 4 * x, hs))
    c.append(Case("leaky_relu", "LeakyRelu", x, np.where(x >= 0, x, 0.1 * x.astype(np.float64)),
                  {"alpha": 0.1}))
    c.append(Case("clip", "Clip", x, np.clip(x, -0.5, 0.7),
                  consts=(np.float32(-0.5), np.float32(0.7))))
    c.append(Case("softmax", "Softmax", x, torch.softmax(t(x).double(), 1).numpy(), {"axis": 1}))
    # Element-wise with a broadcast second operand.
    b = rand(1, 6, 1, 1)
    c.append(Case("add", "Add", x, x.astype(np.float64) + b, consts=(b,)))
    c.append(Case("sub", "Sub", x, x.astype(np.float64) - b, consts=(b,)))
    c.append(Case("mul", "Mul", x, x.astype(np.float64) * b, consts=(b,)))
    c.append(Case("div", "Div", x, x.astype(np.float64) / b, consts=(b,)))
    c.append(Case("pow", "Pow", pos, pos.astype(np.float64) ** 2.0,
                  consts=(np.array([2.0], np.float32),)))
    # Convolutions and normalisation.
    w, bias = rand(8, 3, 3, 3), rand(8)
    ref = F.conv2d(t(x).double(), t(w).double(), t(bias).double(), stride=2, padding=1, groups=2)
    c.append(Case("conv_grouped_stride2", "Conv", x, ref.numpy(),
                  {"strides": [2, 2], "pads": [1, 1, 1, 1], "group": 2}, consts=(w, bias)))
    wd = rand(6, 1, 3, 3)
    ref = F.conv2d(t(x).double(), t(wd).double(), padding=2, dilation=2, groups=6)
    c.append(Case("conv_depthwise_dilated", "Conv", x, ref.numpy(),
                  {"pads": [2, 2, 2, 2], "dilations": [2, 2], "group": 6}, consts=(wd,)))
    wt, bt = rand(6, 4, 3, 3), rand(4)
    ref = F.conv_transpose2d(t(x).double(), t(wt).double(), t(bt).double(), stride=2, padding=1,
                             output_padding=1)
    c.append(Case("conv_transpose", "ConvTranspose", x, ref.numpy(),
                  {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
                  consts=(wt, bt)))
    g, beta, mean, var = rand(6), rand(6), rand(6), rand(6, positive=True)
    bn = ((x.astype(np.float64) - mean.reshape(1, 6, 1, 1)) / np.sqrt(var.reshape(1, 6, 1, 1) + 1e-5)
          * g.reshape(1, 6, 1, 1) + beta.reshape(1, 6, 1, 1))
    c.append(Case("batch_norm", "BatchNormalization", x, bn, {"epsilon": 1e-5},
                  consts=(g, beta, mean, var)))
    xm, wm, bm = rand(2, 12), rand(5, 12), rand(5)
    c.append(Case("gemm", "Gemm", xm, xm.astype(np.float64) @ wm.T.astype(np.float64) + bm,
                  {"transB": 1}, consts=(wm, bm)))
    # Pooling and reductions.
    ref = F.max_pool2d(t(x), 3, 2, 1)
    c.append(Case("max_pool", "MaxPool", x, ref.numpy(),
                  {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}))
    for include in (0, 1):
        ref = F.avg_pool2d(t(x).double(), 3, 1, 1, count_include_pad=bool(include))
        c.append(Case(f"avg_pool_count_pad{include}", "AveragePool", x, ref.numpy(),
                      {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1],
                       "count_include_pad": include}))
    c.append(Case("global_avg_pool", "GlobalAveragePool", x,
                  x.astype(np.float64).mean((2, 3), keepdims=True)))
    c.append(Case("reduce_mean", "ReduceMean", x, x.astype(np.float64).mean((2, 3), keepdims=True),
                  {"axes": [2, 3]}))
    c.append(Case("reduce_max", "ReduceMax", x, x.max(1, keepdims=True), {"axes": [1]}))
    c.append(Case("reduce_sum", "ReduceSum", x, x.astype(np.float64).sum(3, keepdims=True),
                  consts=(np.array([3], np.int64),)))
    c.append(Case("argmax", "ArgMax", x, x.argmax(1)[:, None], {"axis": 1},
                  out_type=TensorProto.INT64))
    ln_g, ln_b = rand(9), rand(9)
    ref = F.layer_norm(t(x).double(), (9,), t(ln_g).double(), t(ln_b).double(), 1e-5)
    c.append(Case("layer_norm", "LayerNormalization", x, ref.numpy(), {"epsilon": 1e-5},
                  consts=(ln_g, ln_b)))
    wmm = rand(9, 4)
    c.append(Case("matmul", "MatMul", x, x.astype(np.float64) @ wmm, consts=(wmm,)))
    # Upsampling.
    ref = F.interpolate(t(x), scale_factor=2, mode="nearest")
    c.append(Case("resize_nearest_2x", "Resize", x, ref.numpy(),
                  {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                   "nearest_mode": "floor"},
                  consts=(np.zeros(0, np.float32), np.array([1, 1, 2, 2], np.float32))))
    # ONNX's default nearest (half_pixel, round_prefer_floor) at 1.5x: TFLite
    # has no such coordinates.
    idx = np.minimum(np.maximum(np.ceil((np.arange(10) + 0.5) / 1.5 - 0.5 - 0.5), 0), 6).astype(int)
    cols = np.minimum(np.maximum(np.ceil((np.arange(13) + 0.5) / 1.5 - 0.5 - 0.5), 0), 8).astype(int)
    c.append(Case("resize_nearest_half_pixel", "Resize", x, x[:, :, idx][:, :, :, cols],
                  {"mode": "nearest"},
                  consts=(np.zeros(0, np.float32), np.array([1, 1, 1.5, 1.5], np.float32)),
                  refused={"runtime": "TFLite target cannot express this resize"}))
    ref = F.interpolate(t(x).double(), size=(14, 18), mode="bilinear", align_corners=False)
    c.append(Case("resize_bilinear_half_pixel", "Resize", x, ref.numpy(),
                  {"mode": "linear", "coordinate_transformation_mode": "half_pixel"},
                  consts=(np.zeros(0, np.float32), np.array([1, 1, 2, 2], np.float32))))
    # Data movement.
    c.append(Case("transpose", "Transpose", x, x.transpose(0, 2, 3, 1), {"perm": [0, 2, 3, 1]}))
    pv = np.float32(0.5)
    c.append(Case("pad_constant", "Pad", x,
                  np.pad(x, ((0, 0), (0, 0), (1, 2), (2, 1)), constant_values=0.5),
                  consts=(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64), pv)))
    c.append(Case("pad_reflect", "Pad", x, np.pad(x, ((0, 0), (0, 0), (2, 1), (1, 2)), mode="reflect"),
                  {"mode": "reflect"}, consts=(np.array([0, 0, 2, 1, 0, 0, 1, 2], np.int64),)))
    c.append(Case("slice", "Slice", x, x[:, 1:5, 2:7, ::1],
                  consts=(np.array([1, 2], np.int64), np.array([5, 7], np.int64),
                          np.array([1, 2], np.int64))))
    c.append(Case("reshape", "Reshape", x, x.reshape(1, 6, 63),
                  consts=(np.array([1, 6, -1], np.int64),)))
    e = rand(1, 6, 1, 9)
    c.append(Case("expand", "Expand", e, np.broadcast_to(e, (1, 6, 7, 9)),
                  consts=(np.array([1, 6, 7, 9], np.int64),)))
    k = rand(1, 2, 7, 9)
    c.append(Case("concat", "Concat", x, np.concatenate([x, k], 1), {"axis": 1}, consts=(k,)))
    return c


def run(args):
    r = subprocess.run(args, capture_output=True, text=True)
    return r.returncode, (r.stderr.strip() or r.stdout.strip()).splitlines()[-1:] or [""]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    ok, runs = True, 0
    table = cases()
    for case in table:
        d = os.path.join(out, case.name)
        os.makedirs(d, exist_ok=True)
        onnx.save(case.model(), os.path.join(d, "model.onnx"))
        np.save(os.path.join(d, "x.npy"), case.x)
        for interpreter, ext, extra in (("evaluator", "mlir", ["--no-reparameterize"]),
                                        ("runtime", "tflite", ["--tflite-layout", "nchw"])):
            model = os.path.join(d, f"model.{ext}")
            got = os.path.join(d, f"{interpreter}.npy")
            code, why = run(["mobileone-compile", os.path.join(d, "model.onnx"), "-o", model,
                             "--quiet"] + extra)
            if interpreter in case.refused:
                runs += 1
                good = code != 0 and case.refused[interpreter] in why[0] and not os.path.exists(model)
                print(f"{case.name} {interpreter}: refused by the compiler, as expected: "
                      f"{'PASS' if good else 'FAIL: ' + why[0]}")
                ok = ok and good
                continue
            if code == 0:
                code, why = run(["mobileone-run", model, "--input", os.path.join(d, "x.npy"),
                                 "--output", got, "--reference"])
            runs += 1
            if code != 0:
                print(f"{case.name} {interpreter}: FAIL: {why[0]}")
                ok = False
                continue
            y = np.load(got).astype(np.float64)
            e = case.expected.astype(np.float64)
            if y.shape != e.shape and y.size == e.size:
                y = y.reshape(e.shape)
            if y.shape != e.shape:
                print(f"{case.name} {interpreter}: FAIL: shape {list(y.shape)}, expected {list(e.shape)}")
                ok = False
                continue
            rel = float(np.max(np.abs(y - e)) / max(np.max(np.abs(e)), 1e-30))
            good = rel <= case.tol
            print(f"{case.name} {interpreter}: max |d| / max |expected| {rel:.2e} "
                  f"(tolerance {case.tol:.0e}): {'PASS' if good else 'FAIL'}")
            ok = ok and good
    print(f"{len(table)} cases, {runs} runs: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
