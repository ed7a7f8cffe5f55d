"""Checks a deployed ONNX model against the model's entry in models.json:
as many Conv nodes as the model's own reparameterize() leaves
(`deploy_convs`), and no BatchNormalization.

usage: check_deploy.py DEPLOY.onnx MODELS.json MODEL
Prints one line; exits 1 on a mismatch.
"""
import json
import sys

import onnx

deploy, models, name = sys.argv[1], sys.argv[2], sys.argv[3]
m = onnx.load(deploy, load_external_data=False)
ops = [n.op_type for n in m.graph.node]
expected = json.load(open(models))[name]["deploy_convs"]
convs, bns = ops.count("Conv"), ops.count("BatchNormalization")
ok = convs == expected and bns == 0
print(f"{name}: Conv {convs} (deploy_convs {expected}), BatchNormalization {bns}: {'OK' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
