"""Writes a hostile variant of an int8 .tflite: the model goes to JSON and
back with flatc (the schema the runtime is built from), one quantisation
field changed.

    edit_tflite.py SCHEMA IN.tflite OUT_PREFIX MUTATION...

writes OUT_PREFIX-MUTATION.tflite for each mutation.

Mutations: scale-zero, scale-nan, zero-point-range, axis-count, axis-range,
no-quantization, bias-scale, filter-zero-point; for an int8 interface
(--io-dtype int8): input-per-axis (the graph input quantised per channel),
input-float16 (the graph input FLOAT16).
"""
import json
import os
import subprocess
import sys
import tempfile


def main():
    schema, src, prefix = sys.argv[1:4]
    for mutation in sys.argv[4:]:
        edit(schema, src, f'{prefix}-{mutation}.tflite', mutation)


def edit(schema, src, dst, mutation):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(['flatc', '--json', '--strict-json', '--raw-binary',
                        '-o', tmp, schema, '--', src], check=True)
        name = os.path.splitext(os.path.basename(src))[0]
        with open(os.path.join(tmp, name + '.json')) as f:
            model = json.load(f)
        tensors = model['subgraphs'][0]['tensors']
        # flatc writes floats with six decimals: a scale below 5e-7 (a
        # dead channel's) comes back as 0. Restore such scales to a small
        # valid value so that only the intended field is hostile.
        for t in tensors:
            scales = t.get('quantization', {}).get('scale', [])
            for i, v in enumerate(scales):
                if v == 0:
                    scales[i] = 1e-6

        def first(pred):
            return next(t for t in tensors if pred(t))

        def quant(t):
            return t.get('quantization', {})

        activation = first(lambda t: t.get('type') == 'INT8' and
                           'buffer' not in t and quant(t).get('scale'))
        per_axis = first(lambda t: t.get('type') == 'INT8' and
                         len(quant(t).get('scale', [])) > 1)
        bias = first(lambda t: t.get('type') == 'INT32' and
                     quant(t).get('scale'))
        graph_input = tensors[model['subgraphs'][0]['inputs'][0]]
        nan = False
        if mutation == 'input-per-axis':
            q = graph_input['quantization']
            channels = graph_input['shape'][-1]
            q['scale'] = q['scale'] * channels
            q['zero_point'] = q['zero_point'] * channels
            q['quantized_dimension'] = len(graph_input['shape']) - 1
        elif mutation == 'input-float16':
            graph_input['type'] = 'FLOAT16'
            graph_input.pop('quantization', None)
        elif mutation == 'scale-zero':
            activation['quantization']['scale'][0] = 0.0
        elif mutation == 'scale-nan':
            activation['quantization']['scale'][0] = 12345.5
            nan = True
        elif mutation == 'zero-point-range':
            activation['quantization']['zero_point'][0] = 200
        elif mutation == 'axis-count':
            per_axis['quantization']['scale'].pop()
            per_axis['quantization']['zero_point'].pop()
        elif mutation == 'axis-range':
            per_axis['quantization']['quantized_dimension'] = 9
        elif mutation == 'no-quantization':
            del activation['quantization']
        elif mutation == 'bias-scale':
            bias['quantization']['scale'][0] *= 2.0
        elif mutation == 'filter-zero-point':
            per_axis['quantization']['zero_point'][0] = 3
        else:
            sys.exit('unknown mutation ' + mutation)
        text = json.dumps(model)
        if nan:  # flatc's JSON reader takes nan; strict JSON has no NaN
            text = text.replace('12345.5', 'nan')
        edited = os.path.join(tmp, name + '.json')
        with open(edited, 'w') as f:
            f.write(text)
        subprocess.run(['flatc', '-b', '-o', tmp, schema, edited], check=True)
        os.replace(os.path.join(tmp, name + '.tflite'), dst)


if __name__ == '__main__':
    main()
