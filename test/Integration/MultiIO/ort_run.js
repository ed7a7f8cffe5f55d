// Runs an ONNX model with ONNX Runtime on named inputs and writes every
// output as OUTDIR/<output name>.npy (float32 or float16 as the model has
// them, or int64 indices; its shape). Inputs are float32 or float16 .npy:
//
//   node ort_run.js MODEL.onnx OUTDIR name=input.npy [name=input.npy ...]
//
// With ORT_OPTIMIZED=FILE in the environment, ONNX Runtime also writes the
// model as its graph optimisations left it (which QDQ pairs it fused).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  const half = header.includes("'<f2'");
  if (!half && !header.includes("'<f4'")) throw new Error(`${file}: expected float32 or float16`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',')
      .map(s => s.trim()).filter(s => s.length).map(Number);
  const data = Buffer.from(buf.subarray(10 + headerLen));
  if (half)
    return {shape, type: 'float16', data: new Uint16Array(data.buffer, data.byteOffset, data.length / 2)};
  return {shape, type: 'float32', data: new Float32Array(data.buffer, data.byteOffset, data.length / 4)};
}

function writeNpy(file, data, dims) {
  // float32, float16 (its bits), or int64 (ArgMax's indices) as they come.
  const descr = data instanceof BigInt64Array ? '<i8' : data instanceof Int32Array ? '<i4'
      : data instanceof Uint16Array ? '<f2' : '<f4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - total % 64) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const [model, outDir, ...pairs] = process.argv.slice(2);
  const options = {intraOpNumThreads: 1};
  if (process.env.ORT_OPTIMIZED) options.optimizedModelFilePath = process.env.ORT_OPTIMIZED;
  const session = await ort.InferenceSession.create(model, options);
  const feeds = {};
  for (const p of pairs) {
    const [name, file] = p.split('=');
    const x = readNpy(file);
    feeds[name] = new ort.Tensor(x.type, x.data, x.shape);
  }
  const out = await session.run(feeds);
  fs.mkdirSync(outDir, {recursive: true});
  for (const n of session.outputNames)
    writeNpy(path.join(outDir, `${n}.npy`), out[n].data, out[n].dims);
  console.log(`ort: ${session.outputNames.length} outputs: ${session.outputNames.join(', ')}`);
}

main().catch((e) => { console.error(`ort: ${e.message}`); process.exit(1); });
