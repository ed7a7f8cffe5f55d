// ONNX Runtime (npm onnxruntime-node) latency of one model: one session,
// `warmup` untimed runs, then `runs` timed runs; prints the sorted times in
// ms as JSON. The process exits afterwards, so one session is alive at a
// time (an idle session's spinning threads would slow the next measurement).
//   node ort_bench.js model.onnx threads runs N,C,H,W
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const [model, threads, runs, shape] = process.argv.slice(2);
  const dims = shape.split(',').map(Number);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all'});
  const n = dims.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n);
  for (let i = 0; i < n; ++i) x[i] = Math.sin(i);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', x, dims)};
  for (let i = 0; i < Math.max(2, Math.floor(runs / 10)); ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await session.release();
  console.log(JSON.stringify(times.sort((a, b) => a - b)));
}
main().catch((e) => { console.error(e.message); process.exit(1); });
