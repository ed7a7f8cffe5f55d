//===- KernelsInt8Common.h - what the int8 kernel files share ---*- C++ -*-===//
//
// The int8 convolutions of KernelsInt8.cpp (AVX2, int16 pairs) and
// KernelsInt8Vnni.cpp (AVX-512 VNNI, int8 quads): the work split over the
// pool, each channel's starting value, and im2col. Dense convolutions run
// as a GEMM over rows: a 1x1 convolution's rows are the input's pixels, any
// other kernel's the patch of each output pixel, its taps outside the image
// reading the input zero point. Header-only with internal linkage: each
// kernel file compiles it for its own ISA.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_RUNTIME_KERNELSINT8COMMON_H
#define MOBILEONE_RUNTIME_KERNELSINT8COMMON_H

#include "Kernels.h"

#include <pthreadpool.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace mobileone::runtime::kernels {
namespace {

/// f(i) for i in [0, n), on the pool's threads where there is one.
template <class F> void parallel(pthreadpool_t pool, size_t n, F &f) {
  if (!pool || n <= 1) {
    for (size_t i = 0; i < n; ++i)
      f(i);
    return;
  }
  pthreadpool_parallelize_1d(
      pool, [](void *f, size_t i) { (*static_cast<F *>(f))(i); }, &f, n, 0);
}

inline size_t threadsOf(pthreadpool_t pool) {
  return pool ? std::max<size_t>(1, pthreadpool_get_threads_count(pool)) : 1;
}

/// Output channel o's accumulator start: bias - input zero point x the sum
/// of its weights (`weightSum`), in int32 wrapping as the reference's
/// accumulator does (the true result fits int32).
inline int32_t channelStart(const QuantizedConv &c, size_t o,
                            int64_t weightSum) {
  const int64_t sum =
      (c.bias ? int64_t(c.bias[o]) : 0) - int64_t(c.inputZero) * weightSum;
  return int32_t(uint32_t(uint64_t(sum)));
}

/// Row `m` (n, oy, ox of the output) of the GEMM's left operand: the
/// kernelH x kernelW x inC patch of `input` (NHWC) read by output pixel m,
/// `zero` where the patch leaves the image. Writes up to 32 bytes past the
/// patch's row of taps (a stem's taps are copied as one 32-byte block
/// where those 32 bytes lie before `inputEnd`): the destination needs 32
/// spare bytes.
template <class T>
void im2colRow(const ConvShape &s, const T *input, const T *inputEnd, size_t m,
               T zero, T *dst) {
  const size_t C = size_t(s.inC), span = size_t(s.kernelW) * C;
  const size_t ox = m % s.outW, oy = m / s.outW % s.outH,
               n = m / (size_t(s.outW) * s.outH);
  const long ix0 = long(ox) * s.strideW - s.padLeft;
  for (int ky = 0; ky < s.kernelH; ++ky) {
    const long iy = long(oy) * s.strideH + ky * s.dilationH - s.padTop;
    T *d = dst + size_t(ky) * span;
    if (iy < 0 || iy >= s.inH) {
      std::fill(d, d + span, zero);
      continue;
    }
    const T *row = input + (n * s.inH + size_t(iy)) * s.inW * C;
    if (s.dilationW == 1 && span * sizeof(T) <= 32 && ix0 >= 0 &&
        ix0 + s.kernelW <= s.inW &&
        inputEnd - (row + ix0 * long(C)) >= long(32 / sizeof(T))) {
      // A stem's row of taps (3 x 3 channels): one 32-byte copy; what it
      // writes past the span is rewritten by the next span or lands in the
      // spare bytes.
      std::memcpy(d, row + ix0 * long(C), 32);
      continue;
    }
    if (s.dilationW == 1) {
      // The taps inside the image are one contiguous span of the row.
      const long kx0 = std::min<long>(s.kernelW, std::max(0L, -ix0));
      const long kx1 = std::max(kx0, std::min<long>(s.kernelW, s.inW - ix0));
      std::fill(d, d + kx0 * C, zero);
      std::memcpy(d + kx0 * C, row + (ix0 + kx0) * long(C),
                  size_t(kx1 - kx0) * C * sizeof(T));
      std::fill(d + kx1 * C, d + span, zero);
      continue;
    }
    for (int kx = 0; kx < s.kernelW; ++kx) {
      const long ix = ix0 + long(kx) * s.dilationW;
      T *t = d + size_t(kx) * C;
      if (ix < 0 || ix >= s.inW)
        std::fill(t, t + C, zero);
      else
        std::memcpy(t, row + size_t(ix) * C, C * sizeof(T));
    }
  }
}

/// One vector of L output lanes' requantisation (TFLite's single rounding
/// per channel), as the kernels' `requantize` reads it: which channel each
/// lane holds decides the values (a GEMM's lanes are consecutive channels,
/// a depthwise kernel's interleaved).
template <size_t L> struct alignas(4 * L) Lanes {
  int32_t start[L];      ///< bias - input zero point x sum of weights
  int32_t multiplier[L]; ///< Q31
  int64_t shiftEven[L / 2], shiftOdd[L / 2]; ///< 31 - shift, even / odd lanes
  int64_t roundEven[L / 2], roundOdd[L / 2]; ///< 1 << (31 - shift - 1)
  /// Where every lane shifts by t = 31 - shift >= 33 (multipliers below
  /// 1/4, the usual case): the rounding and shift applied to the high 32
  /// bits of the product alone, 2^(t - 33) and t - 32 (see requantize).
  int32_t multiplierOdd[L]; ///< lane 2i + 1's multiplier in lane 2i
  int32_t roundHigh[L], shiftHigh[L];
  bool highOnly = true;
  /// highOnly, and the output zero point folded into roundHigh (the VNNI
  /// kernels' foldZero): requantize adds no zero point.
  bool zeroFolded = false;
};

/// Lane j: starting value start[j], Q31 multiplier[j], right shift
/// total[j] = 31 - shift (in [1, 62]).
template <size_t L>
Lanes<L> makeLanes(const int32_t start[L], const int32_t multiplier[L],
                   const int total[L]) {
  Lanes<L> p;
  for (size_t j = 0; j < L; ++j) {
    p.start[j] = start[j];
    p.multiplier[j] = multiplier[j];
    // Through pointers: GCC's bounds sanitizer misreads (c ? a : b)[i].
    int64_t *shift = j % 2 ? p.shiftOdd : p.shiftEven;
    int64_t *round = j % 2 ? p.roundOdd : p.roundEven;
    shift[j / 2] = total[j];
    round[j / 2] = int64_t(1) << (total[j] - 1);
    p.roundHigh[j] = total[j] >= 33 ? int32_t(1) << (total[j] - 33) : 0;
    p.shiftHigh[j] = total[j] - 32;
    p.highOnly &= total[j] >= 33;
  }
  for (size_t j = 0; j < L; ++j)
    p.multiplierOdd[j] = j % 2 ? 0 : multiplier[j + 1];
  return p;
}

/// The lanes of `c`'s output channels channel(0..L-1) (from C on: padding
/// lanes that compute 0, never stored); `sums` the channels' weight sums.
template <size_t L, class Channel>
Lanes<L> lanesOf(const QuantizedConv &c, const std::vector<int64_t> &sums,
                 Channel &&channel) {
  int32_t start[L], multiplier[L];
  int total[L];
  for (size_t j = 0; j < L; ++j) {
    const size_t o = channel(j);
    start[j] = 0, multiplier[j] = 0, total[j] = 33; // a padding lane: 0
    if (o < sums.size()) {
      const size_t i = c.channels == 1 ? 0 : o;
      start[j] = channelStart(c, o, sums[o]);
      multiplier[j] = c.multiplier[i];
      total[j] = 31 - c.shift[i];
    }
  }
  return makeLanes<L>(start, multiplier, total);
}

/// One multiplier and shift in every lane, no start.
template <size_t L> Lanes<L> uniformLanes(int32_t multiplier, int shift) {
  int32_t start[L] = {}, multipliers[L];
  int total[L];
  std::fill(multipliers, multipliers + L, multiplier);
  std::fill(total, total + L, 31 - shift);
  return makeLanes<L>(start, multipliers, total);
}

/// At most this many taps in a depthwise kernel the int8 kernels take.
constexpr size_t kMaxDepthwiseTaps = 64;

/// The depthwise int8 convolutions' loop (multiplier 1, C = inC = outC):
/// for every output pixel of output rows [row0, row0 + count) (rows of
/// batch x outH) and every group g of G channels, `group(tap, offset, g,
/// dst, width)` computes and stores `width` (G, or fewer for the last
/// group) channels at dst, tap[t] pointing at tap t's input pixel (at
/// `zeroRow`, G x groups bytes of the input zero point, outside the image
/// and for the `taps2` - taps padding taps) and `offset` the group's first
/// channel. The last, partial group reads its channels copied out, so no
/// load reads past the tensor.
template <size_t G, class Group>
void depthwiseRows(const ConvShape &s, size_t taps2, const int8_t *zeroRow,
                   const int8_t *in, int8_t *out, size_t row0, size_t count,
                   Group &&group) {
  const size_t C = size_t(s.outC), taps = size_t(s.kernelH) * s.kernelW;
  const size_t full = C / G, groups = (C + G - 1) / G;
  const int8_t *tap[kMaxDepthwiseTaps], *tailTap[kMaxDepthwiseTaps];
  alignas(64) int8_t tail[kMaxDepthwiseTaps * G];
  // Each tap's offset from the window's top-left pixel, for windows inside
  // the image.
  long offset[kMaxDepthwiseTaps];
  for (size_t t = 0; t < taps2; ++t)
    offset[t] = t < taps ? (long(t / s.kernelW) * s.dilationH * s.inW +
                            long(t % s.kernelW) * s.dilationW) * long(C)
                         : 0;
  const long lastX = long(s.kernelW - 1) * s.dilationW;
  const long lastY = long(s.kernelH - 1) * s.dilationH;
  for (size_t row = row0; row < row0 + count; ++row) {
    const size_t n = row / s.outH, oy = row % s.outH;
    const long iy0 = long(oy) * s.strideH - s.padTop;
    const bool rowInside = iy0 >= 0 && iy0 + lastY < s.inH;
    for (size_t ox = 0; ox < size_t(s.outW); ++ox) {
      const long ix0 = long(ox) * s.strideW - s.padLeft;
      if (rowInside && ix0 >= 0 && ix0 + lastX < s.inW) {
        const int8_t *corner = in + ((n * s.inH + iy0) * s.inW + ix0) * C;
        for (size_t t = 0; t < taps; ++t)
          tap[t] = corner + offset[t];
      } else {
        size_t t = 0;
        for (int ky = 0; ky < s.kernelH; ++ky) {
          const long iy = iy0 + long(ky) * s.dilationH;
          const bool inside = iy >= 0 && iy < s.inH;
          const int8_t *line = in + (n * s.inH + (inside ? iy : 0)) * s.inW * C;
          long ix = ix0;
          for (int kx = 0; kx < s.kernelW; ++kx, ++t, ix += s.dilationW)
            tap[t] = inside && ix >= 0 && ix < s.inW ? line + ix * long(C)
                                                     : zeroRow;
        }
      }
      for (size_t t = taps; t < taps2; ++t)
        tap[t] = zeroRow; // the odd tap's partner (weight 0)
      int8_t *dst = out + (row * s.outW + ox) * C;
      for (size_t g = 0; g < full; ++g)
        group(tap, g * G, g, dst + g * G, G);
      if (full < groups) {
        const size_t g = full, width = C - g * G;
        for (size_t t = 0; t < taps2; ++t) {
          std::memcpy(&tail[t * G], tap[t] + g * G, width);
          tailTap[t] = &tail[t * G];
        }
        group(tailTap, 0, g, dst + g * G, width);
      }
    }
  }
}

/// A depthwise kernel's weights for groups of G channels, two taps per
/// int32 (int16 pairs: tap 2p low, 2p + 1 high; 0 past the taps and the
/// channels), lane j of accumulator `half` of group g holding channel
/// g G + channel(half, j): w[((g pairs + p) 2 + half) G/2 + j]. Returns
/// each channel's weight sum.
template <size_t G, class Channel>
std::vector<int64_t> packDepthwisePairs(const QuantizedConv &c,
                                        Channel &&channel,
                                        std::vector<int32_t> &w) {
  const size_t C = size_t(c.shape.outC),
               taps = size_t(c.shape.kernelH) * c.shape.kernelW,
               pairs = (taps + 1) / 2, groups = (C + G - 1) / G;
  auto weight = [&](size_t t, size_t ch) -> int32_t {
    return t < taps && ch < C ? c.weights[t * C + ch] : 0;
  };
  std::vector<int64_t> sums(C, 0);
  for (size_t t = 0; t < taps; ++t)
    for (size_t ch = 0; ch < C; ++ch)
      sums[ch] += c.weights[t * C + ch];
  w.assign(groups * pairs * G, 0);
  for (size_t g = 0; g < groups; ++g)
    for (size_t half = 0; half < 2; ++half)
      for (size_t j = 0; j < G / 2; ++j) {
        const size_t ch = g * G + channel(half, j);
        for (size_t p = 0; p < pairs; ++p) {
          const uint32_t a = uint16_t(int16_t(weight(2 * p, ch))),
                         b = uint16_t(int16_t(weight(2 * p + 1, ch)));
          w[((g * pairs + p) * 2 + half) * (G / 2) + j] = int32_t(a | b << 16);
        }
      }
  return sums;
}

/// `rows(row0, count)` over the batch x outH output rows of `s`, split
/// into up to 4 tasks per thread of the pool.
template <class Rows>
void depthwiseRun(const ConvShape &s, pthreadpool_t pool, Rows &&rows) {
  const size_t total = size_t(s.batch) * s.outH;
  const size_t tasks = std::min(total, 4 * threadsOf(pool));
  const size_t per = (total + tasks - 1) / tasks;
  auto task = [&](size_t i) {
    const size_t row0 = i * per;
    if (row0 < total)
      rows(row0, std::min(per, total - row0));
  };
  parallel(pool, tasks, task);
}

} // namespace
} // namespace mobileone::runtime::kernels

#endif
