//===- machine.cpp - mobileone-machine: the machine description ------------===//
//
// Measures what the cost model's roofline needs (see
// --mobileone-cost-report, include/mobileone/Transforms/Cost.h) and prints
// it as `key=value` lines that `--mobileone-cost-report=machine=FILE` reads:
//
//   peak_gflops          fp32 FMA peak on T threads, widest vector ISA
//                        (AVX-512 where the CPU has it, else AVX2 + FMA);
//                        12 independent chains per thread, best of 20
//   peak_int8_gops       int8 multiply-add peak on T threads as our int8
//                        GEMM computes it: with AVX-512 VNNI (and the
//                        AVX-512 ISA chosen) vpdpbusd on zmm (64 u8 x s8
//                        multiply-adds = 128 ops each), otherwise vpmaddwd
//                        on int16 pairs, then vpaddd (exact, never
//                        saturating; 32 ops per vpmaddwd); 12 chains per
//                        thread, best of 20
//   int8_isa             which of the two: vnni or vpmaddwd
//   cache_bandwidth_gbs  STREAM triad a = b + s * c (bytes counted as STREAM
//                        does), best over working sets of 384 KiB and up
//   dram_bandwidth_gbs   the same triad on a 192 MiB working set
//   cache_bytes          the largest working set whose triad is still
//                        closer to the cache's bandwidth than to DRAM's
//   bandwidth_curve      the triad at every working set measured, as
//                        "MiB:GB/s" pairs (the cost model uses it when given)
//   conv_gflops          what the runtime's dense kernels reach: one 1x1
//                        conv 256 -> 256 on 28x28 through the runtime library
//                        (the compute ceiling of multiply-add ops)
//   op_overhead_us       what one more op costs in mobileone-run: a chain of
//                        129 tiny 1x1 convs (2x2x16) minus a chain of 1,
//                        divided by 128
//
//   usage: mobileone-machine [--threads T] [--isa auto|avx2|avx512]
//                            [--quick]
//
// --isa avx2 (or MOBILEONE_ISA=avx2) measures the AVX2 roofline on an
// AVX-512 machine. --quick takes fewer repetitions (for tests).
//
//===----------------------------------------------------------------------===//

#include "mobileone/Runtime/Runtime.h"
#include "mobileone/Target/TFLite/schema_generated.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

__attribute__((target("avx2,fma"))) float chainsAvx2(long iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, sum);
  return out[0];
}

__attribute__((target("avx512f"))) float chainsAvx512(long iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2"))) int chainsInt8(long iterations) {
  // Twelve chains in ymm0-11, each multiplying its own value (no two
  // vpmaddwd are the same, as a GEMM's accumulators each take their own
  // product), in assembly: from intrinsics GCC spills chains to the stack.
#define MOBILEONE_STEP(i)                                                      \
  "vpmaddwd %%ymm12, %%ymm" #i ", %%ymm13\n\t"                                  \
  "vpaddd %%ymm13, %%ymm" #i ", %%ymm" #i "\n\t"
  int out[8];
  asm volatile(
      "vpcmpeqd %%ymm12, %%ymm12, %%ymm12\n\t"
      "vpabsw %%ymm12, %%ymm12\n\t" // 1 in every int16 lane
      "vmovdqa %%ymm12, %%ymm0\n\t"
      "vmovdqa %%ymm12, %%ymm1\n\t"
      "vmovdqa %%ymm12, %%ymm2\n\t"
      "vmovdqa %%ymm12, %%ymm3\n\t"
      "vmovdqa %%ymm12, %%ymm4\n\t"
      "vmovdqa %%ymm12, %%ymm5\n\t"
      "vmovdqa %%ymm12, %%ymm6\n\t"
      "vmovdqa %%ymm12, %%ymm7\n\t"
      "vmovdqa %%ymm12, %%ymm8\n\t"
      "vmovdqa %%ymm12, %%ymm9\n\t"
      "vmovdqa %%ymm12, %%ymm10\n\t"
      "vmovdqa %%ymm12, %%ymm11\n\t"
      "1:\n\t" MOBILEONE_STEP(0) MOBILEONE_STEP(1) MOBILEONE_STEP(2)
          MOBILEONE_STEP(3) MOBILEONE_STEP(4) MOBILEONE_STEP(5)
              MOBILEONE_STEP(6) MOBILEONE_STEP(7) MOBILEONE_STEP(8)
                  MOBILEONE_STEP(9) MOBILEONE_STEP(10) MOBILEONE_STEP(11)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%ymm1, %%ymm0, %%ymm0\n\t"
      "vmovdqu %%ymm0, (%[out])\n\t"
      : [n] "+r"(iterations)
      : [out] "r"(out)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "cc", "memory");
#undef MOBILEONE_STEP
  return out[0];
}

__attribute__((target("avx512f,avx512vnni"))) int chainsVnni(long iterations) {
  // Twelve vpdpbusd chains in zmm0-11 (each accumulating its own products).
#define MOBILEONE_STEP(i) "vpdpbusd %%zmm12, %%zmm13, %%zmm" #i "\n\t"
  alignas(64) int out[16];
  asm volatile(
      "vpternlogd $0xff, %%zmm12, %%zmm12, %%zmm12\n\t"
      "vpabsb %%zmm12, %%zmm13\n\t" // bytes of 1
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
      "vmovdqa64 %%zmm0, %%zmm1\n\t"
      "vmovdqa64 %%zmm0, %%zmm2\n\t"
      "vmovdqa64 %%zmm0, %%zmm3\n\t"
      "vmovdqa64 %%zmm0, %%zmm4\n\t"
      "vmovdqa64 %%zmm0, %%zmm5\n\t"
      "vmovdqa64 %%zmm0, %%zmm6\n\t"
      "vmovdqa64 %%zmm0, %%zmm7\n\t"
      "vmovdqa64 %%zmm0, %%zmm8\n\t"
      "vmovdqa64 %%zmm0, %%zmm9\n\t"
      "vmovdqa64 %%zmm0, %%zmm10\n\t"
      "vmovdqa64 %%zmm0, %%zmm11\n\t"
      "1:\n\t" MOBILEONE_STEP(0) MOBILEONE_STEP(1) MOBILEONE_STEP(2)
          MOBILEONE_STEP(3) MOBILEONE_STEP(4) MOBILEONE_STEP(5)
              MOBILEONE_STEP(6) MOBILEONE_STEP(7) MOBILEONE_STEP(8)
                  MOBILEONE_STEP(9) MOBILEONE_STEP(10) MOBILEONE_STEP(11)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%zmm1, %%zmm0, %%zmm0\n\t"
      "vmovdqu32 %%zmm0, (%[out])\n\t"
      : [n] "+r"(iterations)
      : [out] "r"(out)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "cc", "memory");
#undef MOBILEONE_STEP
  return out[0];
}

/// Runs `work(t)` on `threads` threads at once; returns the wall seconds.
template <typename F> double parallel(int threads, F work) {
  std::vector<std::thread> pool;
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { work(t); });
  for (auto &t : pool)
    t.join();
  return seconds(t0);
}

double peakGflops(int threads, bool avx512, int reps) {
  const long iterations = 200000000 / 12;
  int lanes = avx512 ? 16 : 8;
  double best = 0.0;
  std::vector<float> sink(threads);
  for (int rep = 0; rep < reps; ++rep) {
    double s = parallel(threads, [&](int t) {
      sink[t] = avx512 ? chainsAvx512(iterations) : chainsAvx2(iterations);
    });
    best = std::max(best, 2.0 * lanes * 12 * double(iterations) * threads /
                              s / 1e9);
  }
  if (sink[0] == 12345.0f)
    std::printf("#\n");
  return best;
}

double peakInt8Gops(int threads, bool vnni, int reps) {
  const long iterations = (vnni ? 100000000 : 200000000) / 12;
  double best = 0.0;
  std::vector<int> sink(threads);
  for (int rep = 0; rep < reps; ++rep) {
    double s = parallel(threads, [&](int t) {
      sink[t] = vnni ? chainsVnni(iterations) : chainsInt8(iterations);
    });
    best = std::max(best, (vnni ? 128.0 : 32.0) * 12 * double(iterations) *
                              threads / s / 1e9);
  }
  if (sink[0] == 12345)
    std::printf("#\n");
  return best;
}

/// STREAM triad over `elements` floats per array, split among threads;
/// GB/s counting 12 bytes per element (two reads, one write), best of reps.
double triadGBs(size_t elements, int threads, int reps) {
  std::vector<float> a(elements), b(elements, 1.0f), c(elements, 2.0f);
  size_t chunk = (elements + threads - 1) / threads;
  // Each pass should take ~20 ms at least, so small arrays are repeated.
  size_t passes = std::max<size_t>(1, size_t(4e7) / elements);
  double best = 0.0;
  for (int rep = 0; rep < reps; ++rep) {
    double s = parallel(threads, [&](int t) {
      size_t lo = t * chunk, hi = std::min(elements, lo + chunk);
      for (size_t p = 0; p < passes; ++p) {
        float scale = 0.5f + float(p & 1);
        for (size_t i = lo; i < hi; ++i)
          a[i] = b[i] + scale * c[i];
        asm volatile("" : : "r"(a.data()) : "memory");
      }
    });
    best = std::max(best, 12.0 * double(elements) * passes / s / 1e9);
  }
  return best;
}

/// The triad's bandwidth by working set (3 arrays), from 384 KiB to 192 MiB:
/// the cache's bandwidth is the best of the small sets, DRAM's the largest
/// set's, and the cache size the largest working set still closer to the
/// cache's bandwidth than to DRAM's. Measured, because what the OS reports
/// for a VM (sysfs absent, a whole socket's L3 in sysconf) is often wrong.
struct MemoryFacts {
  double cacheBytes, cacheGBs, dramGBs;
  std::vector<std::pair<double, double>> curve;
};

MemoryFacts measureMemory(int threads, int reps) {
  std::vector<std::pair<double, double>> curve; // (working-set bytes, GB/s)
  for (size_t elements = 32768; elements <= (size_t(16) << 20); elements *= 2)
    curve.push_back({12.0 * elements, triadGBs(elements, threads, reps)});
  MemoryFacts m;
  m.curve = curve;
  m.dramGBs = curve.back().second;
  m.cacheGBs = 0;
  for (auto &[bytes, gbs] : curve)
    m.cacheGBs = std::max(m.cacheGBs, gbs);
  m.cacheBytes = curve.front().first;
  for (auto &[bytes, gbs] : curve)
    if (gbs >= (m.cacheGBs + m.dramGBs) / 2)
      m.cacheBytes = bytes;
  return m;
}

/// A TFLite model: a chain of `ops` 1x1 convolutions (c -> c, bias, each
/// with its own weights) on a [1, h, w, c] tensor.
std::vector<uint8_t> convChain(int ops, int h, int w, int c) {
  using namespace tflite;
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<Buffer>> buffers = {CreateBuffer(fbb)};
  std::vector<flatbuffers::Offset<Tensor>> tensors;
  auto tensor = [&](std::vector<int> shape, uint32_t buffer, std::string name) {
    tensors.push_back(CreateTensor(fbb, fbb.CreateVector(shape),
                                   TensorType_FLOAT32, buffer,
                                   fbb.CreateString(name)));
    return int(tensors.size() - 1);
  };
  auto constant = [&](std::vector<int> shape, float value, std::string name) {
    size_t n = 1;
    for (int d : shape)
      n *= size_t(d);
    std::vector<float> data(n, value);
    fbb.ForceVectorAlignment(n * sizeof(float), 1, 16);
    auto bytes = fbb.CreateVector(reinterpret_cast<const uint8_t *>(data.data()),
                                  n * sizeof(float));
    buffers.push_back(CreateBuffer(fbb, bytes));
    return tensor(shape, uint32_t(buffers.size() - 1), name);
  };
  int x = tensor({1, h, w, c}, 0, "x0");
  const int input = x;
  std::vector<flatbuffers::Offset<Operator>> operators;
  for (int i = 0; i < ops; ++i) {
    int weights = constant({c, 1, 1, c}, 1.0f / float(c), "w" + std::to_string(i));
    int bias = constant({c}, 0.01f, "b" + std::to_string(i));
    int y = tensor({1, h, w, c}, 0, "x" + std::to_string(i + 1));
    std::vector<int> in = {x, weights, bias}, out = {y};
    auto options = CreateConv2DOptions(fbb, Padding_VALID, 1, 1,
                                       ActivationFunctionType_NONE);
    operators.push_back(CreateOperator(
        fbb, 0, fbb.CreateVector(in), fbb.CreateVector(out),
        BuiltinOptions_Conv2DOptions, options.Union()));
    x = y;
  }
  std::vector<int> inputs = {input}, outputs = {x};
  auto subgraph = CreateSubGraph(
      fbb, fbb.CreateVector(tensors), fbb.CreateVector(inputs),
      fbb.CreateVector(outputs), fbb.CreateVector(operators),
      fbb.CreateString("main"));
  std::vector<flatbuffers::Offset<OperatorCode>> codes = {CreateOperatorCode(
      fbb, int8_t(BuiltinOperator_CONV_2D), 0, 1, BuiltinOperator_CONV_2D)};
  std::vector<flatbuffers::Offset<SubGraph>> subgraphs = {subgraph};
  auto model = CreateModel(fbb, 3, fbb.CreateVector(codes),
                           fbb.CreateVector(subgraphs),
                           fbb.CreateString("mobileone-machine conv chain"),
                           fbb.CreateVector(buffers));
  FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(),
                              fbb.GetBufferPointer() + fbb.GetSize());
}

/// Median microseconds of one run of `model`, or < 0 on error.
double modelUs(std::vector<uint8_t> model, size_t inputs, int threads,
               bool avx512, int runs) {
  std::string error;
  mobileone::runtime::Options options;
  options.threads = threads;
  options.avx512 = avx512;
  auto session =
      mobileone::runtime::Session::create(std::move(model), options, error);
  if (!session) {
    std::fprintf(stderr, "mobileone-machine: %s\n", error.c_str());
    return -1;
  }
  std::vector<float> x(inputs, 0.5f), y(session->outputInfo().numElements());
  for (int i = 0; i < std::max(5, runs / 20); ++i)
    session->run(x.data(), y.data(), error);
  std::vector<double> us;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    session->run(x.data(), y.data(), error);
    us.push_back(seconds(t0) * 1e6);
  }
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

int usage(const char *msg) {
  std::fprintf(stderr,
               "mobileone-machine: %s\nusage: mobileone-machine [--threads "
               "T] [--isa auto|avx2|avx512] [--quick]\n",
               msg);
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  int threads = 1;
  bool quick = false;
  const char *isaEnv = std::getenv("MOBILEONE_ISA");
  std::string isa = isaEnv && *isaEnv ? isaEnv : "auto";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string v;
    if (a.rfind("--threads=", 0) == 0 || a.rfind("--isa=", 0) == 0) {
      v = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
    } else if ((a == "--threads" || a == "--isa") && i + 1 < argc) {
      v = argv[++i];
    }
    if (a == "--threads") {
      char *end;
      long t = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || t < 1 || t > 256)
        return usage("--threads takes an integer from 1 to 256");
      threads = int(t);
    } else if (a == "--isa") {
      isa = v;
    } else if (a == "--quick") {
      quick = true;
    } else if (a == "--help" || a == "-h") {
      return usage("the machine description of the cost model"), 0;
    } else {
      return usage(("unknown argument " + a).c_str());
    }
  }
  __builtin_cpu_init();
  bool hasAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool hasAvx512 = __builtin_cpu_supports("avx512f");
  if (isa != "auto" && isa != "avx2" && isa != "avx512")
    return usage(("--isa takes auto, avx2 or avx512, got '" + isa + "'").c_str());
  if (!hasAvx2)
    return usage("this CPU has no AVX2 + FMA");
  if (isa == "avx512" && !hasAvx512)
    return usage("--isa avx512: this CPU has no AVX-512");
  bool avx512 = isa == "avx512" || (isa == "auto" && hasAvx512);
  // As the runtime's int8 GEMM chooses (kernels::createConvInt8).
  bool vnni = avx512 && __builtin_cpu_supports("avx512vnni") &&
              __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512vl");

  int reps = quick ? 3 : 20;
  MemoryFacts memory = measureMemory(threads, quick ? 2 : 5);
  std::printf("# mobileone-machine: the cost model's machine description\n");
  std::printf("name = %s, %d thread%s\n", avx512 ? "AVX-512" : "AVX2",
              threads, threads == 1 ? "" : "s");
  std::printf("isa = %s\n", avx512 ? "avx512" : "avx2");
  std::printf("threads = %d\n", threads);
  std::printf("peak_gflops = %.1f\n", peakGflops(threads, avx512, reps));
  std::printf("peak_int8_gops = %.1f\n", peakInt8Gops(threads, vnni, reps));
  std::printf("int8_isa = %s\n", vnni ? "vnni" : "vpmaddwd");
  std::printf("bandwidth_curve =");
  for (auto &[bytes, gbs] : memory.curve)
    std::printf(" %g:%.1f", bytes / 1048576.0, gbs);
  std::printf("\n");
  std::printf("cache_bytes = %.0f\n", memory.cacheBytes);
  std::printf("cache_bandwidth_gbs = %.1f\n", memory.cacheGBs);
  std::printf("dram_bandwidth_gbs = %.1f\n", memory.dramGBs);
  // What the runtime's dense kernels reach: a 1x1 conv 256 -> 256 on a
  // 28x28 map (102.8 MFLOP, the GEMM that carries most multiply-adds).
  double convUs = modelUs(convChain(1, 28, 28, 256), 28 * 28 * 256, threads,
                          avx512, quick ? 5 : 30);
  // What one more op costs: 129 tiny 1x1 convs (2x2x16) against 1.
  int runs = quick ? 100 : 1000;
  double one = modelUs(convChain(1, 2, 2, 16), 64, threads, avx512, runs);
  double many = modelUs(convChain(129, 2, 2, 16), 64, threads, avx512, runs);
  if (convUs <= 0 || one < 0 || many < 0)
    return 1;
  std::printf("conv_gflops = %.1f\n", 2.0 * 28 * 28 * 256 * 256 / (convUs * 1e3));
  std::printf("op_overhead_us = %.3f\n", std::max(0.0, (many - one) / 128));
  return 0;
}
