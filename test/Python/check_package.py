"""The Python package end to end: compile the shipped trained model to an
fp32 and an int8 .tflite (calibration given as an array), run both in
process, and check against mobileone-run on the same input (bit for bit:
the same runtime) and the labels; then every error path.

    check_package.py SRCROOT WORKDIR
"""
import os
import subprocess
import sys

import numpy as np

import mobileone

src, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
sys.path.insert(0, os.path.join(src, "models", "train"))
import fmnist  # noqa: E402

model = os.path.join(src, "models", "trained", "fashion_mobileone.onnx")
images, labels = fmnist.load("test")
x = images[:200].numpy()                       # NCHW, pixel / 255
x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
labels = labels[:200].numpy()

r = mobileone.compile(model, os.path.join(work, "f32.tflite"), batch=200)
print("summary:", [line.strip() for line in r.summary.splitlines() if "blocks fused" in line][0])
s = mobileone.Session(r.output, threads=2)
print("session:", s)
print("input layout:", s.inputs[0]["layout"], "backend:", s.backend)
logits = s.run(x_nhwc)["logits"]
np.save(os.path.join(work, "x.npy"), x_nhwc)
subprocess.run([mobileone.tool("mobileone-run"), r.output, "--input", os.path.join(work, "x.npy"),
                "--output", os.path.join(work, "cli.npy"), "--threads", "2"],
               check=True, stdout=subprocess.DEVNULL)
cli = np.load(os.path.join(work, "cli.npy"))
print("fp32: same as mobileone-run:", bool(np.array_equal(logits, cli)),
      "top-1 on 200:", f"{(logits.argmax(1) == labels).mean():.2f}")
# By name, as a dict or keywords: the same.
print("by name:", bool(np.array_equal(s.run({"image": x_nhwc})["logits"], logits)),
      bool(np.array_equal(s.run(image=x_nhwc)["logits"], logits)))

cal = fmnist.load("train")[0][:64].numpy()
q = mobileone.compile(model, os.path.join(work, "int8.tflite"), precision="int8",
                      calibration=cal, batch=1)  # 64 samples of [1, 1, 28, 28]
qs = mobileone.Session(q.output)
q_logits = np.concatenate([qs.run(x_nhwc[i:i + 1])["logits"] for i in range(len(x_nhwc))])
agree = (q_logits.argmax(1) == logits.argmax(1)).mean()
print("int8: predictions equal to fp32 on", f"{agree:.2f}", "of 200")

nchw = mobileone.compile(model, os.path.join(work, "nchw.tflite"), batch=200, tflite_layout="nchw")
ns = mobileone.Session(nchw.output)
print("nchw layout:", ns.inputs[0]["layout"], ns.inputs[0]["shape"],
      bool(np.allclose(ns.run(x)["logits"], logits, rtol=0, atol=1e-5)))


def expect(kind, f):
    try:
        f()
        print(kind, "NOT RAISED")
    except Exception as e:  # noqa: BLE001
        print(kind, type(e).__name__ + ":", str(e).splitlines()[0])


expect("missing model:", lambda: mobileone.compile(os.path.join(work, "none.onnx"),
                                                   os.path.join(work, "o.tflite")))
with open(os.path.join(work, "garbage.onnx"), "wb") as f:
    f.write(b"\x08\x07garbage")
expect("garbage model:", lambda: mobileone.compile(os.path.join(work, "garbage.onnx"),
                                                   os.path.join(work, "g.tflite")))
print("no output left:", not os.path.exists(os.path.join(work, "g.tflite")))
expect("int8 without calibration:", lambda: mobileone.compile(
    model, os.path.join(work, "q.tflite"), precision="int8"))
expect("garbage tflite:", lambda: mobileone.Session(os.path.join(work, "garbage.onnx")))
expect("nchw input:", lambda: s.run(x))
expect("float64 input:", lambda: s.run(x_nhwc.astype(np.float64)))
expect("unknown name:", lambda: s.run(images=x_nhwc))
expect("two inputs:", lambda: s.run(x_nhwc, x_nhwc))
expect("threads:", lambda: mobileone.Session(r.output, threads=0))
