// ONNX Runtime (npm onnxruntime-node) latency of one model: one session,
// `warmup` untimed runs, then `runs` timed runs; prints the sorted times in
// ms as JSON. The process exits afterwards, so one session is alive at a
// time (an idle session's spinning threads would slow the next measurement).
// With --profile, the session runs with ONNX Runtime's profiler on and the
// output is instead each node's median kernel time over the timed runs, in
// execution order: [{name, op, shape, ms}] (the profile file goes to a
// temporary directory that is removed afterwards).
//   node ort_bench.js model.onnx threads runs N,C,H,W [--profile]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
}

// Each node's median kernel time over its events after the first `skip`
// (the warm-up runs), from a profile file of ONNX Runtime.
function nodeTimes(file, skip) {
  const nodes = new Map();
  for (const e of JSON.parse(fs.readFileSync(file, 'utf8'))) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    if (!nodes.has(name)) {
      const out = (e.args.output_type_shape || [])[0] || {};
      nodes.set(name, {name, op: e.args.op_name, shape: Object.values(out)[0] || [], us: []});
    }
    nodes.get(name).us.push(e.dur);
  }
  return [...nodes.values()].map((node) => ({
    name: node.name, op: node.op, shape: node.shape, ms: median(node.us.slice(skip)) / 1000}));
}

async function main() {
  const [model, threads, runs, shape, mode] = process.argv.slice(2);
  const profile = mode === '--profile';
  const dims = shape.split(',').map(Number);
  const dir = profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'mobileone-ortprof-')) : null;
  try {
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: Number(threads), interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all',
      ...(profile ? {enableProfiling: true, profileFilePrefix: path.join(dir, 'profile')} : {})});
    const n = dims.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n);
    for (let i = 0; i < n; ++i) x[i] = Math.sin(i);
    const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', x, dims)};
    const warmup = Math.max(2, Math.floor(runs / 10));
    for (let i = 0; i < warmup; ++i) await session.run(feeds);
    const times = [];
    for (let i = 0; i < Number(runs); ++i) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    if (profile) session.endProfiling();
    await session.release();
    if (!profile) {
      console.log(JSON.stringify(times.sort((a, b) => a - b)));
      return;
    }
    const files = fs.readdirSync(dir);
    if (files.length !== 1)
      throw new Error(`expected one profile file in ${dir}, found ${files.length}`);
    console.log(JSON.stringify(nodeTimes(path.join(dir, files[0]), warmup)));
  } finally {
    if (dir) fs.rmSync(dir, {recursive: true, force: true});
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
