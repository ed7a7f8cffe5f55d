"""int8 accuracy table: per model, the output SQNR against the float32
deployed model on held-out inputs, of
  - the baseline: the re-parameterised ONNX quantised as ONNX Runtime's
    quantize_static does it (bench/quant/baseline.py), run in ONNX Runtime;
  - ours: `mobileone-compile --precision int8` (.tflite) run by mobileone-run,
    with minmax (the default), percentile and mse calibration;
  - TensorFlow Lite's interpreter on our minmax .tflite;
  - ONNX Runtime on our QDQ .onnx (`-o int8.onnx --precision int8`, minmax).
Calibration: 8 seeded standard-normal samples; held-out: 4 others.

    bench/quant/sqnr.py [--models s0,s1,...] [--work DIR]

Models: MobileOne s0..s4 and repvgg (models/pytorch, seeded weights),
fastvit_t8 and repghostnet_050 (the shared PyTorch 2.11 exports), and any
ONNX file given as name=path.onnx.
"""
import argparse
import glob
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, 'build')
BIN = os.path.join(BUILD, 'bin')
PY = '/usr/bin/python3'
FIXTURES = {
    'fastvit_t8': ('test/Integration/Torch2/Inputs/timm_fastvit_t8_dynamo.onnx', 128),
    'repghostnet_050': ('test/Integration/Torch2/Inputs/timm_repghostnet_050_dynamo.onnx', 160),
}


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def sqnr(ref, x):
    ref = ref.astype(np.float64).ravel()
    noise = ((ref - x.astype(np.float64).ravel()) ** 2).sum()
    return float('inf') if noise == 0 else 10 * np.log10((ref ** 2).sum() / noise)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--models', default='s0,s1,s2,s3,s4,repvgg,repghostnet_050')
    p.add_argument('--work', default=os.path.join(BUILD, 'bench-quant'))
    a = p.parse_args()
    env = dict(os.environ, NODE_PATH=os.path.join(BUILD, 'node', 'node_modules'))
    rows = []
    for spec in a.models.split(','):
        name, _, path = spec.partition('=')
        d = os.path.join(a.work, name)
        os.makedirs(d, exist_ok=True)
        res = 224
        if path:
            onnx_path = os.path.abspath(path)
            import onnx
            dims = onnx.load(onnx_path).graph.input[0].type.tensor_type.shape.dim
            res = dims[2].dim_value
        elif name in FIXTURES:
            onnx_path, res = os.path.join(ROOT, FIXTURES[name][0]), FIXTURES[name][1]
        else:
            run([PY, os.path.join(ROOT, 'test/Integration/ONNX/make_fixture.py'), name, 'eval',
                 '14', str(res), d])
            onnx_path = os.path.join(d, 'model.onnx')
        import onnx
        channels = onnx.load(onnx_path).graph.input[0].type.tensor_type.shape.dim[1].dim_value
        rng = np.random.default_rng(5)
        cal = rng.standard_normal((8, channels, res, res)).astype(np.float32)
        held = rng.standard_normal((4, channels, res, res)).astype(np.float32)
        np.save(os.path.join(d, 'cal.npy'), cal)
        compile_ = os.path.join(BIN, 'mobileone-compile')
        run([compile_, onnx_path, '-o', os.path.join(d, 'deploy.onnx'), '--quiet'])
        run([compile_, onnx_path, '-o', os.path.join(d, 'f32.tflite'), '--quiet'])
        for method in ('minmax', 'percentile', 'mse'):
            run([compile_, onnx_path, '-o', os.path.join(d, f'{method}.tflite'), '--quiet',
                 '--precision', 'int8', '--calibration', os.path.join(d, 'cal.npy'),
                 '--calibration-method', method])
        run([compile_, onnx_path, '-o', os.path.join(d, 'noeq.tflite'), '--quiet',
             '--precision', 'int8', '--calibration', os.path.join(d, 'cal.npy'),
             '--equalize', 'off'])
        run([compile_, onnx_path, '-o', os.path.join(d, 'int8.onnx'), '--quiet',
             '--precision', 'int8', '--calibration', os.path.join(d, 'cal.npy')])
        run([PY, os.path.join(ROOT, 'bench/quant/baseline.py'), '--model',
             os.path.join(d, 'deploy.onnx'), '--calibration', os.path.join(d, 'cal.npy'),
             '--out', d], env=env)
        input_name = onnx.load(onnx_path).graph.input[0].name
        scores = {k: [] for k in ('baseline', 'minmax', 'percentile', 'mse', 'noeq', 'tflite',
                                  'qdq')}
        for i in range(len(held)):
            x = os.path.join(d, f'x{i}.npy')
            xn = os.path.join(d, f'x{i}_nhwc.npy')
            np.save(x, held[i:i + 1])
            np.save(xn, held[i:i + 1].transpose(0, 2, 3, 1).copy())
            outs = {}
            for k in ('f32', 'minmax', 'percentile', 'mse', 'noeq'):
                y = os.path.join(d, f'{k}{i}.npy')
                run([os.path.join(BIN, 'mobileone-run'), os.path.join(d, f'{k}.tflite'),
                     '--input', xn, '--output', y])
                outs[k] = np.load(y)
            t = os.path.join(d, f'tflite{i}.npy')
            run(['node', os.path.join(ROOT, 'test/Integration/TFLite/tfjs_tflite_run.js'),
                 os.path.join(d, 'minmax.tflite'), xn, t], env=env)
            outs['tflite'] = np.load(t)
            o = os.path.join(d, f'qdq{i}')
            run(['node', os.path.join(ROOT, 'test/Integration/MultiIO/ort_run.js'),
                 os.path.join(d, 'qdq.onnx'), o, f'{input_name}={x}'], env=env)
            outs['baseline'] = np.load(glob.glob(os.path.join(o, '*.npy'))[0])
            o = os.path.join(d, f'ourqdq{i}')
            run(['node', os.path.join(ROOT, 'test/Integration/MultiIO/ort_run.js'),
                 os.path.join(d, 'int8.onnx'), o, f'{input_name}={x}'], env=env)
            outs['qdq'] = np.load(glob.glob(os.path.join(o, '*.npy'))[0])
            for k in scores:
                scores[k].append(sqnr(outs['f32'], outs[k].reshape(outs['f32'].shape)))
        size = os.path.getsize(os.path.join(d, 'minmax.tflite')) / os.path.getsize(
            os.path.join(d, 'f32.tflite'))
        rows.append((name, {k: float(np.mean(v)) for k, v in scores.items()}, size))
        r = rows[-1][1]
        print(f'{name}: baseline {r["baseline"]:.1f} dB, ours minmax {r["minmax"]:.1f}, '
              f'percentile {r["percentile"]:.1f}, mse {r["mse"]:.1f}, '
              f'minmax without equalisation {r["noeq"]:.1f}, TFLite on ours {r["tflite"]:.1f}, '
              f'ORT on our QDQ {r["qdq"]:.1f}, file {size:.2f}x', flush=True)
    print()
    print('| model | baseline (ORT quantize_static style) | ours, minmax (default) | ours, percentile '
          '| ours, mse | ours, minmax, --equalize off | TFLite on ours (minmax) '
          '| ORT on our QDQ .onnx (minmax) | default - baseline | best - baseline '
          '| int8 / fp32 file |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    for name, r, size in rows:
        best = max(r["minmax"], r["percentile"], r["mse"])
        print(f'| {name} | {r["baseline"]:.1f} dB | {r["minmax"]:.1f} dB | {r["percentile"]:.1f} dB '
              f'| {r["mse"]:.1f} dB | {r["noeq"]:.1f} dB | {r["tflite"]:.1f} dB | {r["qdq"]:.1f} dB '
              f'| {r["minmax"] - r["baseline"]:+.1f} dB '
              f'| {best - r["baseline"]:+.1f} dB | {size:.2f}x |')


if __name__ == '__main__':
    main()
