// ONNX Runtime's own per-node profile of one model: one session with
// profiling on, `runs` runs (the first tenth dropped as warm-up), then the
// median kernel time of each node in execution order, as JSON
// [{name, op, shape, ms}]. The profile file goes to a temporary directory
// that is removed afterwards.
//   node ort_profile.js model.onnx threads runs N,C,H,W
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
}

async function main() {
  const [model, threads, runs, shape] = process.argv.slice(2);
  const dims = shape.split(',').map(Number);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mobileone-ortprof-'));
  try {
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: Number(threads), interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all',
      enableProfiling: true, profileFilePrefix: path.join(dir, 'profile')});
    const n = dims.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n);
    for (let i = 0; i < n; ++i) x[i] = Math.sin(i);
    const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', x, dims)};
    for (let i = 0; i < Number(runs); ++i) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const files = fs.readdirSync(dir);
    if (files.length !== 1)
      throw new Error(`expected one profile file in ${dir}, found ${files.length}`);
    const events = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
    const nodes = new Map();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const name = e.name.slice(0, -'_kernel_time'.length);
      if (!nodes.has(name)) {
        const out = (e.args.output_type_shape || [])[0] || {};
        nodes.set(name, {name, op: e.args.op_name, shape: Object.values(out)[0] || [], us: []});
      }
      nodes.get(name).us.push(e.dur);
    }
    const result = [...nodes.values()].map((node) => ({
      name: node.name, op: node.op, shape: node.shape,
      ms: median(node.us.slice(Math.floor(node.us.length / 10))) / 1000}));
    console.log(JSON.stringify(result));
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
