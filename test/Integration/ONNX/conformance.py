"""ONNX's own backend node tests (Debian's libonnx-testdata, ONNX 1.12) for the
ops of the front door, through mobileone-compile and ONNX Runtime.

usage: conformance.py WORKDIR [--data DIR] [--compile PATH] [--node NODE]
                        [--run PATH]

Each float32 test case is frozen: its first input stays a graph input and
the others become initializers holding the test's values (a re-param
compiler needs constant weights). The frozen model is compiled with
`mobileone-compile -o out.onnx`, ONNX Runtime runs the result on the test's
first input, and every output must equal the test's expected output
(max |d| <= 1e-4 + 1e-4 * max |ref|, ONNX's own backend tolerance is 1e-3).

With `--run mobileone-run`, every case the compiler accepts is also compiled
to .tflite and run by our runtime, on its default path and on `--reference`,
against the same expected outputs (4-D tensors in the .tflite's NHWC
interface): the compiler never writes a file the runtime cannot run.

Prints one line per case (PASS, REFUSED with the compiler's first error line,
or WRONG) and a summary. Exits 1 on any WRONG case, or on a REFUSED case
that is not listed in EXPECTED_REFUSALS with its reason.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np
import onnx
import onnx.defs
from onnx import numpy_helper

# The ops of the front door (issue: "the ops around re-param blocks"), as
# test-name prefixes of the ONNX backend node tests.
OPS = [
    "add", "averagepool", "batchnorm", "clip", "concat", "constant", "conv",
    "div", "dropout", "erf", "flatten", "gemm", "globalaveragepool",
    "hardsigmoid", "hardswish", "identity", "layer_normalization",
    "leakyrelu", "matmul", "maxpool", "mul", "pad", "reduce_mean", "relu",
    "reshape", "sigmoid", "slice", "softmax", "split", "squeeze", "sub",
    "tanh", "transpose", "unsqueeze", "gelu", "edge_pad", "reflect_pad",
    "constant_pad", "sqrt", "pow", "resize", "convtranspose", "castlike", "argmax",
]

# Cases that stay refused, each with the reason it cannot occur in a
# static-shape float model. Matched as regular expressions on the name.
EXPECTED_REFUSALS = {
    r"test_batchnorm_.*_training_mode": "training-mode BatchNormalization "
                                        "(a deployed model is in eval mode)",
    r"test_(averagepool|maxpool)_3d_.*": "3-D (volumetric) pooling: not "
                                         "implemented, no re-param family uses it",
    r"test_pow_types_int.*": "integer data (Pow of an int tensor): the "
                             "compiler takes float models",
    r"test_reshape_allowzero_reordered": "an empty (size-0) tensor",
    r"test_split_zero_size_splits": "empty (size-0) tensors",
    r"test_resize_.*cubic.*": "cubic interpolation: not implemented, no "
                              "detector or segmenter we target uses it",
    r"test_resize_tf_crop_and_resize": "tf_crop_and_resize (a region of "
                                       "interest): TensorFlow-only models",
    r"test_resize_.*_tf_half_pixel_for_nn": "tf_half_pixel_for_nn: "
                                            "TensorFlow-only models",
    r"test_convtranspose_(1d|3d)": "1-D and 3-D transposed convolutions: "
                                   "not implemented, no target family uses them",
}

# Cases where ONNX Runtime itself disagrees with the test's expected output:
# our compiled model must then give what ONNX Runtime gives on the original.
ORT_DEVIATIONS = {
    "test_resize_downsample_scales_linear_align_corners":
        "ONNX Runtime divides by the rounded output length in align_corners, "
        "the ONNX reference by in * scale (ours follows the reference)",
}


def is_float_case(model, inputs, outputs):
    """A float32 input; float32 outputs, or int64 indices (ArgMax)."""
    return inputs[0].dtype == np.float32 and all(
        o.dtype == np.float32 or (o.dtype == np.int64 and any(n.op_type == "ArgMax" for n in model.graph.node))
        for o in outputs)


def load_case(case_dir):
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    data = os.path.join(case_dir, "test_data_set_0")
    def read(prefix):
        out = []
        i = 0
        while os.path.exists(os.path.join(data, f"{prefix}_{i}.pb")):
            t = onnx.TensorProto()
            with open(os.path.join(data, f"{prefix}_{i}.pb"), "rb") as f:
                t.ParseFromString(f.read())
            out.append(numpy_helper.to_array(t))
            i += 1
        return out
    return model, read("input"), read("output")


def lift_opset(model, minimum=11):
    """A test written at an opset older than `minimum` runs at `minimum`
    when none of its ops changed in between (e.g. GlobalAveragePool-1,
    HardSigmoid-6): the same case as far as the op's semantics go."""
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx") and o.version < minimum:
            for n in model.graph.node:
                if onnx.defs.get_schema(n.op_type, minimum, "").since_version > o.version:
                    return False
            o.version = minimum
    return True


def freeze(model, inputs):
    """Inputs after the first become initializers with the test's values."""
    lift_opset(model)
    graph = model.graph
    init_names = {t.name for t in graph.initializer}
    real = [i for i in graph.input if i.name not in init_names]
    for info, value in zip(real[1:], inputs[1:]):
        graph.initializer.append(numpy_helper.from_array(value, info.name))
    keep = real[:1]
    del graph.input[:]
    graph.input.extend(keep)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir")
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    ap.add_argument("--compile", default="mobileone-compile")
    ap.add_argument("--node", default="node")
    ap.add_argument("--run", help="mobileone-run: also check the .tflite")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)

    names = sorted(n for n in os.listdir(args.data)
                   if any(re.fullmatch(f"test_{op}(_.*)?", n) for op in OPS))
    cases, results = [], {}
    for name in names:
        try:
            model, inputs, outputs = load_case(os.path.join(args.data, name))
        except ValueError:
            continue  # sequence or optional data: not a tensor case
        if not inputs or not outputs or not is_float_case(model, inputs, outputs):
            continue  # not a float32 case: outside this compiler's scope
        work = os.path.join(args.workdir, name)
        os.makedirs(work, exist_ok=True)
        onnx.save(freeze(model, inputs), os.path.join(work, "frozen.onnx"))
        out = os.path.join(work, "out.onnx")
        if os.path.exists(out):
            os.remove(out)
        r = subprocess.run([args.compile, os.path.join(work, "frozen.onnx"), "-o", out, "--quiet"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            first = next((l for l in r.stderr.splitlines() if "error" in l), r.stderr.strip())
            results[name] = ("REFUSED", first.split("error: ", 1)[-1])
            continue
        np.save(os.path.join(work, "input.npy"), inputs[0].astype(np.float32))
        cases.append({"name": name, "model": out, "input": os.path.join(work, "input.npy"),
                      "shape": list(inputs[0].shape), "outputs": len(outputs),
                      "dir": work, "expected": outputs})

    # One ONNX Runtime process for all compiled cases (and the originals of
    # the cases where ONNX Runtime deviates from the test).
    spec = [{k: c[k] for k in ("name", "model", "input", "shape", "dir")} for c in cases]
    for c in cases:
        if c["name"] in ORT_DEVIATIONS:
            orig = os.path.join(c["dir"], "original")
            os.makedirs(orig, exist_ok=True)
            spec.append({"name": c["name"] + " (original)", "model": os.path.join(c["dir"], "frozen.onnx"),
                         "input": c["input"], "shape": c["shape"], "dir": orig})
            c["ort_reference"] = True
    spec_path = os.path.join(args.workdir, "cases.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    runner = os.path.join(os.path.dirname(__file__), "ort_run_many.js")
    subprocess.run([args.node, runner, spec_path], check=True)
    for c in cases:
        status = json.load(open(os.path.join(c["dir"], "status.json")))
        if status.get("error"):
            results[c["name"]] = ("WRONG", "ONNX Runtime: " + status["error"])
            continue
        worst = 0.0
        ok = status["outputs"] == c["outputs"]
        expected = c["expected"]
        if c.get("ort_reference"):  # ONNX Runtime on the original is the reference
            orig = os.path.join(c["dir"], "original")
            expected = [np.load(os.path.join(orig, f"out{i}.npy")) for i in range(c["outputs"])]
        for i, ref in enumerate(expected):
            if not ok:
                break
            got = np.load(os.path.join(c["dir"], f"out{i}.npy"))
            if got.size != ref.size:
                ok = False
                break
            d = np.max(np.abs(got.ravel() - ref.ravel().astype(np.float32))) if ref.size else 0.0
            bound = 1e-4 + 1e-4 * (np.max(np.abs(ref)) if ref.size else 0.0)
            worst = max(worst, float(d))
            ok &= bool(d <= bound)
        note = f" [ONNX Runtime's own result: {ORT_DEVIATIONS[c['name']]}]" if c["name"] in ORT_DEVIATIONS else ""
        results[c["name"]] = ("PASS", f"max |d| {worst:.2e}{note}") if ok else ("WRONG", f"max |d| {worst:.2e}{note}")

    tflite_failed = 0
    if args.run:
        tflite_failed = check_tflite(args, cases)

    unexpected = 0
    for name in sorted(results):
        status, detail = results[name]
        reason = ""
        if status == "REFUSED":
            known = [why for pat, why in EXPECTED_REFUSALS.items() if re.fullmatch(pat, name) and why]
            if known:
                reason = f" [expected: {known[0]}]"
            else:
                unexpected += 1
        print(f"{status}: {name}: {detail}{reason}")
    counts = {s: sum(1 for v in results.values() if v[0] == s) for s in ("PASS", "REFUSED", "WRONG")}
    print(f"conformance: {len(results)} float32 cases: {counts['PASS']} passed, "
          f"{counts['REFUSED']} refused ({unexpected} unexpected), {counts['WRONG']} wrong")
    sys.exit(1 if counts["WRONG"] or unexpected or tflite_failed else 0)


def nhwc(a):
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a


def check_tflite(args, cases):
    """Each accepted case as .tflite on our runtime, default and reference
    kernels. Returns the number of failures; prints one line per case."""
    passed = failed = 0
    for c in cases:
        work, name = c["dir"], c["name"]
        model = os.path.join(work, "model.tflite")
        r = subprocess.run([args.compile, os.path.join(work, "frozen.onnx"), "-o", model, "--quiet"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            # Refusing to write what the runtime cannot run is allowed, with
            # a reason; writing it is not.
            first = next((l for l in r.stderr.splitlines() if "error" in l), r.stderr.strip())
            print(f"TFLITE-REFUSED: {name}: {first.split('error: ', 1)[-1]}")
            passed += 1
            continue
        x = np.load(c["input"])
        np.save(os.path.join(work, "input_nhwc.npy"), np.ascontiguousarray(nhwc(x)))
        problems = []
        for mode in ([], ["--reference"]):
            kind = "reference" if mode else "default"
            out = os.path.join(work, "tflite_%s.npz" % kind)
            r = subprocess.run([args.run, model, "--input", os.path.join(work, "input_nhwc.npy"),
                                "-o", out] + mode, capture_output=True, text=True)
            if r.returncode != 0:
                problems.append("%s: %s" % (kind, (r.stderr.strip().splitlines() or
                                                   ["exit %d" % r.returncode])[-1]))
                continue
            got_all = np.load(out)
            if len(got_all.files) != len(c["expected"]):
                problems.append(f"{kind}: {len(got_all.files)} outputs, expected {len(c['expected'])}")
                continue
            # The .npz keeps the model's output order.
            for name, expected in zip(got_all.files, c["expected"]):
                got = got_all[name]
                ref = nhwc(expected.astype(np.float32))
                if got.shape != ref.shape:
                    problems.append(f"{kind} '{name}': shape {list(got.shape)}, expected {list(ref.shape)}")
                    continue
                d = float(np.max(np.abs(got - ref))) if ref.size else 0.0
                bound = 1e-4 + 1e-4 * (float(np.nanmax(np.abs(ref))) if ref.size else 0.0)
                if not (d <= bound or np.allclose(got, ref, rtol=1e-4, atol=1e-4, equal_nan=True)):
                    problems.append(f"{kind} '{name}': max |d| {d:.2e}")
        if problems:
            failed += 1
            print(f"TFLITE-WRONG: {name}: " + "; ".join(problems))
        else:
            passed += 1
            print(f"TFLITE-PASS: {name}")
    print(f"tflite: {passed + failed} compiled cases: {passed} run equal or "
          f"refused by the compiler, {failed} wrong or not runnable")
    return failed


if __name__ == "__main__":
    main()
