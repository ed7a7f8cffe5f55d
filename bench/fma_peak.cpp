//===- fma_peak.cpp - the machine's fp32 FMA peak -------------------------===//
//
// 12 independent chains of 256-bit fused multiply-adds per thread (enough to
// cover the FMA latency on Zen 4 and recent Intel cores), on T threads.
// Prints the best of 20 repetitions in GFLOP/s, counting a multiply-add as
// 2 flops (on a shared machine a repetition can lose a core for a while).
//   usage: mobileone-fma-peak [threads]
//
//===----------------------------------------------------------------------===//

#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

static float chains(long iterations) {
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

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256) {
    std::fprintf(stderr, "usage: mobileone-fma-peak [threads]\n");
    return 2;
  }
  const long iterations = 200000000 / 12;
  double best = 0.0;
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<std::thread> pool;
    std::vector<float> sink(threads);
    auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sink[t] = chains(iterations); });
    for (auto &t : pool)
      t.join();
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    double gflops = 2.0 * 8 * 12 * double(iterations) * threads / s / 1e9;
    if (gflops > best)
      best = gflops;
    if (sink[0] == 12345.0f)
      std::printf(" ");
  }
  std::printf("%.1f\n", best);
  return 0;
}
