"""The int8 baseline a user gets today, reproduced: the re-parameterised
ONNX model quantised the way ONNX Runtime's `quantize_static` does it (QDQ
format, per-channel symmetric int8 weights, per-tensor asymmetric uint8
activations, min/max calibration, every Conv/Gemm input and output
quantised, a ReLU after a Conv folded into the Conv output's range) and run
in ONNX Runtime (npm onnxruntime-node, which fuses the QDQ pairs into
QLinearConv).

    baseline.py --model deploy.onnx --calibration cal.npy --out DIR
                [--activations uint8|int8] [--name qdq.onnx]

writes DIR/qdq.onnx (or --name). --activations int8: per-tensor asymmetric
int8 activations instead (quantize_static's QInt8 activation type). The calibration samples (NCHW, stacked along
dimension 0) are run through ONNX Runtime with every quantised tensor as an
extra output to find the ranges.
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ORT_RUN = os.path.join(ROOT, 'test/Integration/MultiIO/ort_run.js')


def ort_run(model_path, inputs, out_dir, env):
    os.makedirs(out_dir, exist_ok=True)
    args = [f'{name}={path}' for name, path in inputs.items()]
    subprocess.run(['node', ORT_RUN, model_path, out_dir, *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True)
    p.add_argument('--calibration', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--activations', choices=['uint8', 'int8'], default='uint8')
    p.add_argument('--name', default='qdq.onnx')
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ)
    model = onnx.load(a.model)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    consumers = {}
    for n in graph.node:
        for t in n.input:
            consumers.setdefault(t, []).append(n)
    # The activations to quantise: Conv/Gemm inputs, and their outputs
    # unless a ReLU / Clip alone reads them (then its output instead).
    targets = []
    for n in graph.node:
        if n.op_type not in ('Conv', 'Gemm'):
            continue
        if n.input[0] not in inits and n.input[0] not in targets:
            targets.append(n.input[0])
        out = n.output[0]
        readers = consumers.get(out, [])
        if len(readers) == 1 and readers[0].op_type in ('Relu', 'Clip'):
            out = readers[0].output[0]
        if out not in targets:
            targets.append(out)

    # Ranges over the calibration set.
    probe = onnx.load(a.model)
    for i, t in enumerate(targets):
        probe.graph.node.append(helper.make_node('Identity', [t], [f'q{i}']))
        probe.graph.output.append(helper.make_tensor_value_info(f'q{i}', TensorProto.FLOAT, None))
    cal = np.load(a.calibration)
    batch = graph.input[0].type.tensor_type.shape.dim[0].dim_value or 1
    lo = np.full(len(targets), np.inf)
    hi = np.full(len(targets), -np.inf)
    with tempfile.TemporaryDirectory() as tmp:
        probe_path = os.path.join(tmp, 'probe.onnx')
        onnx.save(probe, probe_path)
        for s in range(0, len(cal), batch):
            x = os.path.join(tmp, 'x.npy')
            np.save(x, cal[s:s + batch])
            ort_run(probe_path, {graph.input[0].name: x}, os.path.join(tmp, 'o'), env)
            for i in range(len(targets)):
                v = np.load(os.path.join(tmp, 'o', f'q{i}.npy'))
                lo[i] = min(lo[i], float(v.min()))
                hi[i] = max(hi[i], float(v.max()))

    def activation_params(rmin, rmax):
        rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
        scale = (rmax - rmin) / 255.0 if rmax > rmin else 1.0
        qmin = 0 if a.activations == 'uint8' else -128
        zero = int(np.clip(qmin + round(-rmin / scale), qmin, qmin + 255))
        return np.float32(scale), (np.uint8 if qmin == 0 else np.int8)(zero)

    new_inits, qparams = [], {}
    for i, t in enumerate(targets):
        scale, zero = activation_params(lo[i], hi[i])
        qparams[t] = float(scale)
        new_inits += [numpy_helper.from_array(np.array(scale, np.float32), f'{t}_scale'),
                      numpy_helper.from_array(np.array(zero), f'{t}_zero')]

    def qdq(t):
        """The Q -> DQ pair through which every reader sees target t."""
        return [helper.make_node('QuantizeLinear', [t, f'{t}_scale', f'{t}_zero'], [t + '_q']),
                helper.make_node('DequantizeLinear', [t + '_q', f'{t}_scale', f'{t}_zero'],
                                 [t + '_dq'])]

    def weights(w, axis, input_scale, key):
        """int8 per-channel symmetric weights (and the int32 bias's scale),
        named after `key` (the node's index: a constant may be shared, by
        convolutions of different input scales)."""
        wt = numpy_helper.to_array(inits[w]).astype(np.float64)
        peak = np.abs(np.moveaxis(wt, axis, 0).reshape(wt.shape[axis], -1)).max(1)
        wscale = np.where(peak > 0, peak / 127.0, 1.0)
        shape = [1] * wt.ndim
        shape[axis] = -1
        q = np.clip(np.round(wt / wscale.reshape(shape)), -127, 127).astype(np.int8)
        w = f'{w}_{key}'
        new_inits.extend([numpy_helper.from_array(q, w + '_q'),
                          numpy_helper.from_array(wscale.astype(np.float32), w + '_scale'),
                          numpy_helper.from_array(np.zeros(len(wscale), np.int8), w + '_zero')])
        return helper.make_node('DequantizeLinear', [w + '_q', w + '_scale', w + '_zero'],
                                [w + '_dq'], axis=axis), wscale

    def bias(b, bscale, key):
        bt = numpy_helper.to_array(inits[b]).astype(np.float64)
        bscale = bscale.astype(np.float32)
        b = f'{b}_{key}'
        new_inits.extend([numpy_helper.from_array(np.round(bt / bscale).astype(np.int32), b + '_q'),
                          numpy_helper.from_array(bscale, b + '_scale'),
                          numpy_helper.from_array(np.zeros(len(bscale), np.int32), b + '_zero')])
        return helper.make_node('DequantizeLinear', [b + '_q', b + '_scale', b + '_zero'],
                                [b + '_dq'], axis=0)

    nodes = []
    for i in graph.input:
        if i.name in qparams:
            nodes += qdq(i.name)
    for index, n in enumerate(graph.node):
        inputs = [t + '_dq' if t in qparams else t for t in n.input]
        if n.op_type in ('Conv', 'Gemm'):
            axis = 0
            if n.op_type == 'Gemm':
                axis = 0 if next((at.i for at in n.attribute if at.name == 'transB'), 0) else 1
            dq, wscale = weights(n.input[1], axis, qparams[n.input[0]], index)
            nodes.append(dq)
            inputs[1] = f'{n.input[1]}_{index}_dq'
            if len(n.input) > 2 and n.input[2]:
                nodes.append(bias(n.input[2], qparams[n.input[0]] * wscale, index))
                inputs[2] = f'{n.input[2]}_{index}_dq'
        m = helper.make_node(n.op_type, inputs, list(n.output), name=n.name)
        m.attribute.extend(n.attribute)
        nodes.append(m)
        for t in n.output:
            if t in qparams:
                nodes += qdq(t)
    del graph.node[:]
    graph.node.extend(nodes)
    for o in graph.output:
        if o.name in qparams:
            o.name = o.name + '_dq'
    used = {t for n in graph.node for t in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept + [i for i in new_inits if i.name in used])
    # (Debian's onnx 1.12 checker refuses the IR versions PyTorch 2.x
    # writes; ONNX Runtime loads the model and is the check.)
    onnx.save(model, os.path.join(a.out, a.name))
    print(f'{len(targets)} activations quantised; wrote {os.path.join(a.out, a.name)}')


if __name__ == '__main__':
    main()
