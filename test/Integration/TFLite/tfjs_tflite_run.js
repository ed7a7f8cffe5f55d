// Runs a .tflite file with TensorFlow Lite's own interpreter, compiled to
// WASM and published on npm as @tensorflow/tfjs-tflite (0.0.1-alpha.10,
// with its XNNPACK delegate): an oracle independent of our runtime.
//
//   node tfjs_tflite_run.js MODEL.tflite INPUT.npy OUTPUT.npy
//   node tfjs_tflite_run.js MODEL.tflite IN0.npy,IN1.npy OUT0.npy,OUT1.npy,...
//
// Several inputs and outputs are comma-separated lists in the model's order.
// Inputs are float32 or int8 .npy files (an int8 interface); outputs are
// written as float32 (an int8 output's integer values).
//
// The package's loader is written for browsers; in Node it runs when given
// `self`, `self.location`, an `importScripts` that evaluates a local file, a
// `fetch` that serves local files, and no wasm threads (its feature probe
// posts a SharedArrayBuffer on a MessageChannel: that post fails here, so it
// picks the single-threaded SIMD build).
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  const int8 = header.includes("'|i1'");
  if (!int8 && !header.includes("'<f4'"))
    throw new Error(`${file}: expected float32 or int8 data`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',')
      .map(s => s.trim()).filter(s => s.length).map(Number);
  const bytes = buf.buffer.slice(
      buf.byteOffset + 10 + headerLen, buf.byteOffset + buf.byteLength);
  const data = int8 ? new Int8Array(bytes) : new Float32Array(bytes);
  return {shape, data};
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${
      shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - total % 64) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([
    pre, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  ]));
}

async function main() {
  const [modelFile, inputFile, outputFile] = process.argv.slice(2);
  if (!outputFile) {
    console.error('usage: tfjs_tflite_run.js MODEL.tflite INPUT.npy OUTPUT.npy');
    process.exit(2);
  }
  const wasmDir = path.join(
      path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')),
      'wasm') + '/';
  const local = (url) => String(url).replace(/^file:\/\//, '');
  global.self = global;
  global.exports = {}; // some of the loader's scripts also export

  self.location = {href: 'file://' + wasmDir, origin: 'file://'};
  global.importScripts = (url) => vm.runInThisContext(
      fs.readFileSync(local(url), 'utf8'), {filename: local(url)});
  global.fetch = async (url) => new Response(fs.readFileSync(local(url)), {
    status: 200,
    headers: {'Content-Type': 'application/wasm'},
  });
  global.MessageChannel = class {
    constructor() {
      this.port1 = {postMessage() { throw new Error('no wasm threads'); }};
      this.port2 = {};
    }
  };
  importScripts(wasmDir + 'tflite_web_api_client.js');
  self.tfweb.tflite_web_api.setWasmPath(wasmDir);

  const model = fs.readFileSync(modelFile);
  const runner = await self.tfweb.TFLiteWebModelRunner.create(
      model.buffer.slice(model.byteOffset, model.byteOffset + model.byteLength),
      {numThreads: 1, enableProfiling: false});
  const inputFiles = inputFile.split(','), outputFiles = outputFile.split(',');
  const inputs = runner.getInputs();
  if (inputs.length !== inputFiles.length)
    throw new Error(`the model has ${inputs.length} inputs, given ${inputFiles.length}`);
  inputs.forEach((slotTensor, i) => {
    const input = readNpy(inputFiles[i]);
    const slot = slotTensor.data();
    if (slot.length !== input.data.length)
      throw new Error(`input ${i} takes ${slot.length} values, ${inputFiles[i]} has ${
          input.data.length}`);
    slot.set(input.data);
  });
  if (!runner.infer()) throw new Error('TFLite failed to run the model');
  const outputs = runner.getOutputs();
  if (outputs.length !== outputFiles.length)
    throw new Error(`the model has ${outputs.length} outputs, given ${outputFiles.length} files`);
  let values = [];
  outputs.forEach((out, i) => {
    values = Float32Array.from(out.data());
    writeNpy(outputFiles[i], [values.length], values);
  });
  console.log(`tfjs-tflite: ${modelFile}: ${outputs.length} output(s)`);
}

main().catch((e) => {
  console.error(`tfjs-tflite: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
