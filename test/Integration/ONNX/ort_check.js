// Runs an ONNX model with ONNX Runtime (npm onnxruntime-node, CPU) on a raw
// float32 input and compares its first output with expected raw float32
// logits: prints max abs diff and the relative diff max|a-b| / max|b|, exits
// 1 beyond --atol / --rtol.
//   node ort_check.js model.onnx input.bin N,C,H,W expected.bin [--atol A] [--rtol R] [--save out.bin]
// (input and expected may also be .npy files)
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

// Raw little-endian float32, or a .npy file of '<f4' in C order.
function readFloats(path) {
  let buf = fs.readFileSync(path);
  if (path.endsWith('.npy')) {
    const headerLen = buf.readUInt16LE(8);
    const header = buf.toString('latin1', 10, 10 + headerLen);
    if (!header.includes("'<f4'") || header.includes("'fortran_order': True"))
      throw new Error(`${path}: expected a C-order float32 .npy`);
    buf = buf.subarray(10 + headerLen);
    buf = Buffer.from(buf); // aligned copy
  }
  return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
}

async function main() {
  const [model, inputPath, shapeArg, expectedPath, ...rest] = process.argv.slice(2);
  let atol = 1e-4, rtol = 1e-5, save = null;
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] === '--atol') atol = Number(rest[i + 1]);
    else if (rest[i] === '--rtol') rtol = Number(rest[i + 1]);
    else if (rest[i] === '--save') save = rest[i + 1];
  }
  const shape = shapeArg.split(',').map(Number);
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 2, interOpNumThreads: 1});
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', readFloats(inputPath), shape)};
  const out = (await session.run(feeds))[session.outputNames[0]].data;
  if (save) fs.writeFileSync(save, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  const expected = readFloats(expectedPath);
  if (out.length !== expected.length) {
    console.log(`FAIL: output has ${out.length} elements, expected ${expected.length}`);
    process.exit(1);
  }
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < out.length; ++i) {
    const d = Math.abs(out[i] - expected[i]);
    if (!(d <= maxDiff)) maxDiff = d;
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  const rel = maxRef > 0 ? maxDiff / maxRef : maxDiff;
  const pass = maxDiff <= atol && rel <= rtol;
  console.log(`onnxruntime ${ort.env.versions ? ort.env.versions.common || '' : ''} ${model}: max abs diff ${maxDiff.toExponential(3)} (atol ${atol}), relative diff ${rel.toExponential(3)} (rtol ${rtol}), max |logit| ${maxRef.toPrecision(4)}: ${pass ? 'PASS' : 'FAIL'}`);
  await session.release();
  process.exit(pass ? 0 : 1);
}

main().catch((e) => { console.log(`FAIL: ${e.message}`); process.exit(1); });
