//===- run-tflite.cpp - mobileone-run on a deployable FlatBuffer ----------===//
//
//   mobileone-run model.tflite [--input x.npy] [--output y.npy]
//                 [--threads T] [--bench N] [--seed S] [--reference]
//                 [--xnnpack-only] [--no-fusion] [--profile] [--save-input
//                 x.npy]
//                 [--compare other.tflite [--atol A] [--rtol R]]
//
// Uses only the runtime library (no MLIR). --input takes the model's own
// layout: NHWC for a 4-D input (from NCHW: x.transpose(0, 2, 3, 1)).
//
//===----------------------------------------------------------------------===//

#include "mobileone/Runtime/Npy.h"
#include "mobileone/Runtime/Runtime.h"
#include "mobileone/Support/Random.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace mobileone::runtime;

namespace {

int usage(const char *msg) {
  std::fprintf(
      stderr,
      "mobileone-run: %s\nusage: mobileone-run model.tflite "
      "[--input x.npy] [--output y.npy] [--threads T] [--bench N] "
      "[--seed S] [--reference] [--xnnpack-only] [--isa avx2] [--no-fusion] "
      "[--profile] "
      "[--save-input x.npy] [--compare b.tflite [--atol A] "
      "[--rtol R]]\n",
      msg);
  return 2;
}

bool parseDouble(const char *s, double &out) {
  char *end;
  out = std::strtod(s, &end);
  return *s && !*end && out >= 0 && std::isfinite(out);
}

/// Values of interface tensor `t` as real numbers (an int8 tensor's
/// dequantised).
std::vector<float> realValues(const TensorInfo &t, std::vector<float> v) {
  if (t.dtype == DType::Int8)
    for (float &x : v)
      x = t.real(x);
  return v;
}

/// `values` (of `from`'s dtype) as input `to` takes them: real numbers
/// quantised for an int8 input, int8 ones dequantised for a float one.
std::vector<float> convertInput(const TensorInfo &from, const TensorInfo &to,
                                const std::vector<float> &values) {
  std::vector<float> v = realValues(from, values);
  if (to.dtype == DType::Int8)
    for (float &x : v)
      x = to.quantize(x);
  return v;
}

/// Views of `values` packed in place as `ts`' dtypes.
std::vector<ConstTensorView> pack(const std::vector<TensorInfo> &ts,
                                  std::vector<std::vector<float>> &values) {
  std::vector<ConstTensorView> views;
  for (size_t i = 0; i < ts.size(); ++i) {
    narrowValues(ts[i].dtype, values[i].data(), values[i].size());
    views.push_back({values[i].data(), values[i].size(), ts[i].dtype});
  }
  return views;
}

/// "'x' [1, 224, 224, 3]", "... int8 (real = 0.02 x (q - 3))".
std::string interfaceText(const std::vector<TensorInfo> &ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i) {
    s += (i ? ", '" : "'") + ts[i].name + "' " + shapeText(ts[i].shape);
    if (ts[i].dtype == DType::Int8) {
      s += " int8 (" + quantizationText(ts[i]) + ")";
    } else if (ts[i].dtype != DType::Float32) {
      s += std::string(" ") + dtypeName(ts[i].dtype);
    }
  }
  return s;
}

bool parseInt(const char *s, long lo, long hi, long &out) {
  char *end;
  out = std::strtol(s, &end, 10);
  return *s && !*end && out >= lo && out <= hi;
}

} // namespace

int runTFLite(int argc, char **argv) {
  // Past RLIMIT_FSIZE, write() then fails with EFBIG: a clean error.
  std::signal(SIGXFSZ, SIG_IGN);
  std::string model, input, output, saveInput, compare;
  const char *isaEnv = std::getenv("MOBILEONE_ISA");
  std::string isa = isaEnv && *isaEnv ? isaEnv : "auto";
  long threads = 1, bench = 0, seed = 1;
  double atol = 1e-4, rtol = 1e-5;
  bool reference = false, profile = false, xnnpackOnly = false;
  bool noFusion = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *name) -> const char * {
      if (i + 1 >= argc) {
        usage((std::string(name) + " needs a value").c_str());
        return nullptr;
      }
      return argv[++i];
    };
    const char *v = nullptr;
    if (a == "--input" || a == "-input") {
      if (!(v = value("--input")))
        return 2;
      input = v;
    } else if (a == "--output" || a == "-output") {
      if (!(v = value("--output")))
        return 2;
      output = v;
    } else if (a == "--save-input" || a == "-save-input") {
      if (!(v = value("--save-input")))
        return 2;
      saveInput = v;
    } else if (a == "--compare" || a == "-compare") {
      if (!(v = value("--compare")))
        return 2;
      compare = v;
    } else if (a == "--atol" || a == "-atol") {
      if (!(v = value("--atol")) || !parseDouble(v, atol))
        return usage("--atol takes a non-negative number");
    } else if (a == "--rtol" || a == "-rtol") {
      if (!(v = value("--rtol")) || !parseDouble(v, rtol))
        return usage("--rtol takes a non-negative number");
    } else if (a == "--threads" || a == "-threads" || a == "--num-threads" ||
               a == "-num-threads") {
      if (!(v = value("--threads")) || !parseInt(v, 1, 256, threads))
        return usage("--threads takes an integer from 1 to 256");
    } else if (a == "--bench" || a == "-bench") {
      if (!(v = value("--bench")) || !parseInt(v, 1, 1000000, bench))
        return usage("--bench takes a positive number of runs");
    } else if (a == "--seed" || a == "-seed") {
      if (!(v = value("--seed")) || !parseInt(v, 0, 1L << 62, seed))
        return usage("--seed takes a non-negative integer");
    } else if (a == "--isa" || a == "-isa") {
      if (!(v = value("--isa")))
        return 2;
      isa = v;
    } else if (a == "--reference") {
      reference = true;
    } else if (a == "--xnnpack-only") {
      xnnpackOnly = true;
    } else if (a == "--no-fusion") {
      noFusion = true;
    } else if (a == "--profile") {
      profile = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "mobileone-run model.tflite: run a TFLite FlatBuffer (XNNPACK)\n"
          "  --input x.npy    input in the model's layout (NHWC) and dtype "
          "(float32;\n"
          "                   int8 for an int8 interface); x.npz for several, "
          "one array\n"
          "                   per input name\n"
          "  --output y.npy   write the output; y.npz writes every output,\n"
          "                   keyed by name\n"
          "  --threads T      worker threads (default 1)\n"
          "  --bench N        time N runs after warm-up; ends with a "
          "latency_ms line\n"
          "  --profile        time every operator\n"
          "  --seed S         seed of the random input (without --input)\n"
          "  --reference      portable kernels instead of XNNPACK\n"
          "  --save-input x.npy  write the (seeded) input (x.npz: every "
          "input)\n"
          "  --compare b.tflite  run b.tflite on the same input and compare "
          "outputs (an\n"
          "                   int8 interface's values as the real ones they "
          "stand for)\n"
          "  --atol A, --rtol R  tolerances of --compare on max |a - b| and "
          "max |a - b| / max |b|\n"
          "                   (default 1e-4, 1e-5)\n"
          "  --xnnpack-only   XNNPACK for every operator it has (by default "
          "dense and\n"
          "                   depthwise convolutions run on our kernels)\n"
          "  --isa avx2       our kernels as on a CPU without AVX-512 (also "
          "MOBILEONE_ISA=avx2)\n"
          "  --no-fusion      run each depthwise layer apart from the 1x1 "
          "layer it feeds\n"
          "mobileone-run a.mlir [--compare b.mlir]: see mobileone-eval "
          "--help\n");
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return usage(("unknown option " + a).c_str());
    } else if (model.empty()) {
      model = a;
    } else {
      return usage(("unexpected argument " + a).c_str());
    }
  }
  if (model.empty())
    return usage("no model given");

  if (isa != "auto" && isa != "avx2" && isa != "avx512")
    return usage(("--isa (or MOBILEONE_ISA) takes auto, avx2 or avx512, got '" +
                  isa + "'")
                     .c_str());
  __builtin_cpu_init();
  if (isa == "avx512" && !__builtin_cpu_supports("avx512f")) {
    std::fprintf(stderr, "mobileone-run: --isa avx512: this CPU has no "
                         "AVX-512F\n");
    return 1;
  }
  std::string error;
  Options options;
  options.avx512 = isa != "avx2";
  options.threads = int(threads);
  options.reference = reference;
  options.nativeKernels = !xnnpackOnly;
  options.fuse = !noFusion;
  std::unique_ptr<Session> session =
      Session::createFromFile(model, options, error);
  if (!session) {
    std::fprintf(stderr, "mobileone-run: %s: %s\n", model.c_str(),
                 error.c_str());
    return 1;
  }
  const std::vector<TensorInfo> &ins = session->inputs();
  const std::vector<TensorInfo> &outs = session->outputs();
  std::vector<std::vector<float>> xs(ins.size()), ys(outs.size());
  for (size_t i = 0; i < outs.size(); ++i)
    ys[i].resize(outs[i].numElements());
  if (!input.empty() && !readTensors(input, ins, xs, session->nhwcInterface(), error)) {
    std::fprintf(stderr, "mobileone-run: %s\n", error.c_str());
    return 1;
  }
  if (input.empty()) {
    // Seeded standard normal values, one stream over the inputs in order
    // (an int8 input takes them quantised).
    mlir::mobileone::SplitMix64 random(seed);
    for (size_t i = 0; i < ins.size(); ++i) {
      xs[i].resize(ins[i].numElements());
      random.fillStandardNormal(xs[i].data(), xs[i].size());
      if (ins[i].dtype == DType::Int8)
        for (float &x : xs[i])
          x = ins[i].quantize(x);
    }
  }
  std::vector<std::vector<float>> packed = xs;
  std::vector<ConstTensorView> inViews = pack(ins, packed);
  std::vector<TensorView> outViews;
  for (size_t o = 0; o < ys.size(); ++o)
    outViews.push_back({ys[o].data(), ys[o].size(), outs[o].dtype});

  if (!session->run(inViews, outViews, error)) {
    std::fprintf(stderr, "mobileone-run: %s\n", error.c_str());
    return 1;
  }
  for (size_t o = 0; o < ys.size(); ++o)
    widenValues(outs[o].dtype, ys[o].data(), ys[o].size());
  // Neither output may replace the model, an input or the other output.
  if (!output.empty() &&
      !writeTensors(output, outs, ys, "--output", "outputs", error,
                    {model, input, compare, saveInput})) {
    std::fprintf(stderr, "mobileone-run: %s\n", error.c_str());
    return 1;
  }
  if (!saveInput.empty() &&
      !writeTensors(saveInput, ins, xs, "--save-input", "inputs", error,
                    {model, input, compare, output})) {
    std::fprintf(stderr, "mobileone-run: %s\n", error.c_str());
    return 1;
  }
  auto interface = interfaceText;
  std::printf("%s: backend %s, %ld thread%s, input%s %s -> output%s %s\n",
              model.c_str(), session->backend(), threads,
              threads == 1 ? "" : "s", ins.size() > 1 ? "s" : "",
              interface(ins).c_str(), outs.size() > 1 ? "s" : "",
              interface(outs).c_str());
  if (std::any_of(ins.begin(), ins.end(),
                  [](const TensorInfo &t) { return t.shape.size() == 4; }) ||
      std::any_of(outs.begin(), outs.end(),
                  [](const TensorInfo &t) { return t.shape.size() == 4; }))
    std::printf(session->nhwcInterface()
                    ? "  layout: 4-D tensors are NHWC (the .tflite interface; "
                      "from NCHW: x.transpose(0, 2, 3, 1))\n"
                    : "  layout: 4-D tensors are NCHW (the ONNX model's "
                      "interface, kept: --tflite-layout nchw)\n");
  if (isa == "avx2")
    std::printf("  kernels: as on a CPU with AVX2 + FMA only (--isa avx2; "
                "XNNPACK keeps its own CPU detection)\n");
  if (!session->fallbackReason().empty())
    std::printf("  reference path: %s\n", session->fallbackReason().c_str());
  for (size_t o = 0; o < outs.size(); ++o) {
    const std::vector<float> &y = ys[o];
    auto [lo, hi] = std::minmax_element(y.begin(), y.end());
    std::string which =
        outs.size() > 1 ? " '" + outs[o].name + "'" : std::string();
    std::printf("  output%s min %g, max %g, first:", which.c_str(), *lo, *hi);
    for (size_t i = 0; i < std::min<size_t>(5, y.size()); ++i)
      std::printf(" %g", y[i]);
    std::printf("\n");
  }

  if (!compare.empty()) {
    std::unique_ptr<Session> other =
        Session::createFromFile(compare, options, error);
    if (!other) {
      std::fprintf(stderr, "mobileone-run: %s: %s\n", compare.c_str(),
                   error.c_str());
      return 1;
    }
    auto shapes = [](const std::vector<TensorInfo> &ts) {
      std::vector<std::vector<int64_t>> v;
      for (const TensorInfo &t : ts)
        v.push_back(t.shape);
      return v;
    };
    if (shapes(other->inputs()) != shapes(ins) ||
        shapes(other->outputs()) != shapes(outs)) {
      std::fprintf(stderr,
                   "mobileone-run: %s takes %s and gives %s; %s takes %s and "
                   "gives %s: nothing to compare\n",
                   compare.c_str(), interface(other->inputs()).c_str(),
                   interface(other->outputs()).c_str(), model.c_str(),
                   interface(ins).c_str(), interface(outs).c_str());
      return 1;
    }
    // The same inputs (quantised or dequantised where the two interfaces'
    // dtypes differ); outputs compared as the real values they stand for.
    const std::vector<TensorInfo> &otherIns = other->inputs();
    const std::vector<TensorInfo> &otherOuts = other->outputs();
    std::vector<std::vector<float>> otherXs;
    for (size_t i = 0; i < ins.size(); ++i)
      otherXs.push_back(convertInput(ins[i], otherIns[i], xs[i]));
    std::vector<ConstTensorView> otherViews = pack(otherIns, otherXs);
    std::vector<std::vector<float>> refs(outs.size());
    std::vector<TensorView> refViews;
    for (size_t o = 0; o < outs.size(); ++o) {
      refs[o].resize(ys[o].size());
      refViews.push_back({refs[o].data(), refs[o].size(), otherOuts[o].dtype});
    }
    if (!other->run(otherViews, refViews, error)) {
      std::fprintf(stderr, "mobileone-run: %s: %s\n", compare.c_str(),
                   error.c_str());
      return 1;
    }
    bool allPass = true;
    for (size_t o = 0; o < outs.size(); ++o) {
      widenValues(otherOuts[o].dtype, refs[o].data(), refs[o].size());
      refs[o] = realValues(otherOuts[o], std::move(refs[o]));
      std::vector<float> y = realValues(outs[o], ys[o]);
      Difference d = difference(y.data(), refs[o].data(), y.size());
      bool pass = d.maxAbs <= atol && d.relative <= rtol;
      allPass &= pass;
      std::printf("output #%zu: max abs diff %.3e (atol %.1e), relative diff "
                  "%.3e (rtol %.1e), max |output| %.4g: %s\n",
                  o, d.maxAbs, atol, d.relative, rtol, d.maxRef,
                  pass ? "PASS" : "FAIL");
    }
    if (!allPass)
      return 1;
  }

  if (profile) {
    std::vector<OpProfile> ops;
    int runs = bench > 0 ? int(std::min(bench, 1000L)) : 20;
    if (!session->profile(inViews, outViews, runs, ops, error)) {
      std::fprintf(stderr, "mobileone-run: %s\n", error.c_str());
      return 1;
    }
    double total = 0, flops = 0;
    for (const OpProfile &p : ops) {
      total += p.ms;
      flops += p.flops;
    }
    std::printf(
        "  per-operator profile (median of %d runs; a PAD folded "
        "into the conv or max pool it feeds, or a depthwise conv fused into\n"
        "  the 1x1 conv after it, is part of that conv):\n",
        runs);
    std::printf("  %4s %-18s %-28s %-16s %-9s %9s %6s %8s\n", "#", "op",
                "output", "shape", "kernel", "ms", "%", "GFLOP/s");
    std::vector<std::pair<std::string, std::pair<double, double>>> byType;
    for (size_t i = 0; i < ops.size(); ++i) {
      const OpProfile &p = ops[i];
      std::string name = p.output.size() > 28
                             ? "..." + p.output.substr(p.output.size() - 25)
                             : p.output;
      std::printf("  %4zu %-18s %-28s %-16s %-9s %9.4f %5.1f%% %8.1f\n", i,
                  p.op.c_str(), name.c_str(), p.shape.c_str(), p.kernel.c_str(),
                  p.ms, total > 0 ? 100 * p.ms / total : 0.0,
                  p.ms > 0 ? p.flops / (p.ms * 1e6) : 0.0);
      auto it = std::find_if(byType.begin(), byType.end(),
                             [&](const auto &e) { return e.first == p.op; });
      if (it == byType.end())
        byType.push_back({p.op, {p.ms, p.flops}});
      else {
        it->second.first += p.ms;
        it->second.second += p.flops;
      }
    }
    std::printf("  by operator type:\n");
    for (const auto &[op, v] : byType)
      std::printf("    %-18s %9.3f ms %5.1f%%  %8.1f GFLOP/s\n", op.c_str(),
                  v.first, total > 0 ? 100 * v.first / total : 0.0,
                  v.first > 0 ? v.second / (v.first * 1e6) : 0.0);
    std::printf("    %-18s %9.3f ms         %8.1f GFLOP/s\n", "total", total,
                total > 0 ? flops / (total * 1e6) : 0.0);
  }

  if (bench > 0) {
    long warmup = std::max(2L, bench / 10);
    for (long i = 0; i < warmup; ++i)
      session->run(inViews, outViews, error);
    std::vector<double> ms;
    for (long i = 0; i < bench; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      session->run(inViews, outViews, error);
      auto t1 = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms.size() % 2
                        ? ms[ms.size() / 2]
                        : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    std::printf("  latency over %ld runs (after %ld warm-up): min %.3f ms, "
                "median %.3f ms\n",
                bench, warmup, ms.front(), median);
    std::printf("  peak memory (RSS) %.1f MB; weights %.1f MB, largest live "
                "pair %.2f MB; activation plan %.2f MB (%.2f MB without "
                "reuse)\n",
                usage.ru_maxrss / 1024.0, session->weightBytes() / 1048576.0,
                session->largestLivePairBytes() / 1048576.0,
                session->plannedActivationBytes() / 1048576.0,
                session->unplannedActivationBytes() / 1048576.0);
    std::printf("latency_ms median=%.3f min=%.3f runs=%ld threads=%ld\n",
                median, ms.front(), bench, threads);
  }
  return 0;
}
