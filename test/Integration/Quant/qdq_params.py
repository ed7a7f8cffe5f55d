"""Checks that a QDQ ONNX model and an int8 .tflite are one quantisation:
the graph input's QuantizeLinear parameters are those of the .tflite's
QUANTIZE (a uint8 zero point 128 above the int8 one), and every int8 weight tensor of the ONNX model equals the
.tflite's filter of the same layer (TFLite's [OC, KH, KW, IC] or
[1, KH, KW, C] read back to ONNX's [OC, IC, KH, KW]).

    qdq_params.py SCHEMA model.onnx model.tflite

SCHEMA is TFLite's schema.fbs (flatc reads the .tflite to JSON with it).
Prints PASS or what differs.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper


def tflite_json(schema, path):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(['flatc', '--json', '--strict-json', '--raw-binary', '-o', tmp, schema,
                        '--', path], check=True)
        name = os.path.splitext(os.path.basename(path))[0]
        with open(os.path.join(tmp, name + '.json')) as f:
            return json.load(f)


def main():
    schema, onnx_path, tflite_path = sys.argv[1:4]
    model = onnx.load(onnx_path)
    tfl = tflite_json(schema, tflite_path)
    tensors = {t['name']: t for t in tfl['subgraphs'][0]['tensors']}
    buffers = tfl['buffers']
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    problems = []
    # The input's parameters.
    for inp in model.graph.input:
        q = next(n for n in model.graph.node if n.op_type == 'QuantizeLinear' and n.input[0] == inp.name)
        scale, zero = float(inits[q.input[1]]), int(inits[q.input[2]])
        if inits[q.input[2]].dtype == np.uint8:
            zero -= 128  # uint8 activations: the same values as int8's
        t = tensors[inp.name + '/int8']['quantization']
        if abs(scale - t['scale'][0]) > 1e-5 * abs(scale) or zero != t['zero_point'][0]:
            problems.append(f"input {inp.name}: ONNX {scale}, {zero}; .tflite {t['scale'][0]}, "
                            f"{t['zero_point'][0]}")
    # Every int8 weight.
    matched = 0
    for name, w in inits.items():
        if w.dtype != np.int8 or w.ndim < 2 or not name.endswith('_quantized'):
            continue
        base = name[:-len('_quantized')]
        if base.endswith('.identity_weight'):
            tname = base[:-len('.identity_weight')] + '/identity_taps/int8'
        elif base.endswith('.weight'):
            tname = base[:-len('.weight')] + '/filter/int8'
        else:
            continue
        if tname not in tensors:
            problems.append(f'{name}: no .tflite tensor {tname}')
            continue
        t = tensors[tname]
        data = np.array(buffers[t['buffer']].get('data', []), np.uint8).view(np.int8)
        data = data.reshape(t['shape'])
        if data.ndim == 4 and w.ndim == 4:
            data = data.transpose(3, 0, 1, 2) if t['shape'][0] == 1 and w.shape[1] == 1 \
                and w.shape[0] != 1 else data.transpose(0, 3, 1, 2)
        if data.shape != w.shape or not np.array_equal(data, w):
            problems.append(f'{name}: differs from {tname}')
        matched += 1
    if matched == 0:
        problems.append('no int8 weights matched')
    print(f'{matched} int8 weight tensors equal the .tflite\'s')
    print('\n'.join(problems) if problems else 'PASS')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
