// Runs many ONNX models with ONNX Runtime in one process (conformance.py):
// reads a JSON list of {name, model, input (.npy, float32), shape, dir} and
// writes dir/out<i>.npy for every output and dir/status.json.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const data = Buffer.from(buf.subarray(10 + headerLen));
  return new Float32Array(data.buffer, data.byteOffset, data.length / 4);
}

function writeNpy(file, array, dims) {
  // float32, or int64 (ArgMax's indices) as they come.
  const descr = array instanceof BigInt64Array ? '<i8' : '<f4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - total % 64) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'),
    Buffer.from(array.buffer, array.byteOffset, array.byteLength)]));
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const c of cases) {
    const status = {};
    try {
      const session = await ort.InferenceSession.create(c.model, {intraOpNumThreads: 1});
      const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', readNpy(c.input), c.shape)};
      const out = await session.run(feeds);
      status.outputs = session.outputNames.length;
      session.outputNames.forEach((n, i) => writeNpy(path.join(c.dir, `out${i}.npy`), out[n].data, out[n].dims));
      await session.release();
    } catch (e) {
      status.error = String(e.message || e).split('\n')[0];
    }
    fs.writeFileSync(path.join(c.dir, 'status.json'), JSON.stringify(status));
  }
}

main().catch((e) => { console.log(`FAIL: ${e.message}`); process.exit(1); });
