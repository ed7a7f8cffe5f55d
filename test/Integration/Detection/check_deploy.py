"""Checks a deployed detector against its fixture's models.json: the number of
Conv nodes equals the model's own deploy conversion, no BatchNormalization
is left; and writes the fixture input in NHWC and the expected outputs as
one .npz (for the .tflite interface).

usage: check_deploy.py MODELS.json NAME DEPLOYED.onnx OUTDIR
"""
import json
import os
import sys

import numpy as np
import onnx

models, name, deployed, outdir = sys.argv[1:5]
info = json.load(open(models))["models"][name]
inputs = os.path.dirname(models)
m = onnx.load(deployed, load_external_data=False)
counts = {}
for n in m.graph.node:
    counts[n.op_type] = counts.get(n.op_type, 0) + 1
want = info["conv_after_own_deploy_conversion"]
conv, bn = counts.get("Conv", 0), counts.get("BatchNormalization", 0)
ok = conv == want and bn == 0
print(f"{name}: Conv {conv} (own deploy conversion {want}), "
      f"BatchNormalization {bn}, ConvTranspose {counts.get('ConvTranspose', 0)}, "
      f"Resize {counts.get('Resize', 0)}: {'PASS' if ok else 'FAIL'}")
os.makedirs(outdir, exist_ok=True)
x = np.load(os.path.join(inputs, info["input"]["file"]))
np.save(os.path.join(outdir, "input_nhwc.npy"), np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
np.savez(os.path.join(outdir, "expected.npz"),
         **{o["name"]: np.load(os.path.join(inputs, o["file"])) for o in info["outputs"]})
sys.exit(0 if ok else 1)
