//===- Reference.cpp - portable kernels and the activation planner --------===//
//
// NHWC float32 kernels written for clarity, and a static memory plan: each
// activation lives from the op that writes it to the last op that reads it;
// tensors are placed, largest first, at the lowest arena offset that no
// tensor with an overlapping lifetime occupies.
//
//===----------------------------------------------------------------------===//

#include "Executor.h"
#include "Registry.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>

using namespace mobileone::runtime;

namespace {
/// max and min as ONNX, PyTorch and TFLite's reference kernels define them:
/// a NaN in either operand gives NaN (std::max keeps the first operand).
template <typename F> F nanMax(F a, F b) {
  return std::isnan(a) || std::isnan(b) ? a + b : (a < b ? b : a);
}
template <typename F> F nanMin(F a, F b) {
  return std::isnan(a) || std::isnan(b) ? a + b : (b < a ? b : a);
}
} // namespace

size_t mobileone::runtime::planActivations(const Model &model,
                                           std::vector<size_t> &offsets,
                                           size_t &unplanned,
                                           const std::vector<int> &readUntil) {
  const size_t n = model.tensors.size();
  const int last = int(model.ops.size());
  std::vector<int> first(n, -2), end(n, -2);
  for (int t : model.inputs)
    first[t] = end[t] = -1;
  for (int i = 0; i < last; ++i) {
    const Op &op = model.ops[i];
    first[op.output] = i;
    end[op.output] = std::max(end[op.output], i);
    for (int t : op.inputs)
      if (!model.tensors[t].data)
        end[t] = std::max(end[t], i);
  }
  for (int t : model.outputs)
    end[t] = last; // read back after the last op
  for (size_t t = 0; t < readUntil.size() && t < n; ++t)
    end[t] = std::max(end[t], readUntil[t]);
  std::vector<int> order;
  unplanned = 0;
  for (size_t t = 0; t < n; ++t)
    if (!model.tensors[t].data && first[t] != -2 &&
        !(t < readUntil.size() && readUntil[t] == kNeverStored)) {
      order.push_back(int(t));
      unplanned += model.tensors[t].arenaFloats();
    }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return model.tensors[a].arenaFloats() > model.tensors[b].arenaFloats();
  });
  offsets.assign(n, 0);
  struct Placed {
    size_t offset, size;
    int first, end;
  };
  std::vector<Placed> placed;
  size_t total = 0;
  for (int t : order) {
    // Whole 64-byte lines: on a 64-byte aligned arena every tensor starts
    // on a cache line, so a 16-float vector never straddles two.
    size_t size = (size_t(model.tensors[t].arenaFloats()) + 15) / 16 * 16;
    // Live neighbours sorted by offset; take the first gap that fits.
    std::vector<Placed> live;
    for (const Placed &p : placed)
      if (!(p.end < first[t] || end[t] < p.first))
        live.push_back(p);
    std::sort(live.begin(), live.end(), [](const Placed &a, const Placed &b) {
      return a.offset < b.offset;
    });
    // Each op's output starts 1088 bytes further into a 4 KiB page than the
    // previous op's: loads from an input whose address matches a just
    // stored output's in the low 12 bits wait on that store (4K aliasing),
    // which halved a depthwise layer whose tensors are page multiples.
    const size_t skew = size_t((first[t] + 1) * 17 % 64) * 16, page = 1024;
    auto skewed = [&](size_t o) { return o + (skew + page - o % page) % page; };
    size_t offset = skewed(0);
    for (const Placed &p : live) {
      if (offset + size <= p.offset)
        break;
      offset = skewed(std::max(offset, p.offset + p.size));
    }
    offsets[t] = offset;
    placed.push_back({offset, size, first[t], end[t]});
    total = std::max(total, offset + size);
  }
  return total;
}

ReferenceExecutor::ReferenceExecutor(const Model &model) : model(model) {
  arenaFloats = planActivations(model, offsets, unplanned);
}

namespace {

void conv(const Tensor &x, const float *in, const Tensor &w, const float *bias,
          const Op &op, const Tensor &y, float *out) {
  const int64_t n = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  const int64_t oh = y.shape[1], ow = y.shape[2], oc = y.shape[3];
  const float *filter = w.f32();
  // Grouped: output channel o reads the input channels of its group.
  const int64_t icg = w.shape[3], ocg = oc / op.groups;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t q = 0; q < ow; ++q) {
        float *dst = out + ((b * oh + r) * ow + q) * oc;
        for (int64_t o = 0; o < oc; ++o)
          dst[o] = bias ? bias[o] : 0.0f;
        for (int64_t ky = 0; ky < op.kernelH; ++ky) {
          int64_t iy = r * op.strideH + ky * op.dilationH - op.padTop;
          if (iy < 0 || iy >= h)
            continue;
          for (int64_t kx = 0; kx < op.kernelW; ++kx) {
            int64_t ix = q * op.strideW + kx * op.dilationW - op.padLeft;
            if (ix < 0 || ix >= wd)
              continue;
            const float *pixel = in + ((b * h + iy) * wd + ix) * c;
            for (int64_t o = 0; o < oc; ++o) {
              const float *f =
                  filter + ((o * op.kernelH + ky) * op.kernelW + kx) * icg;
              const float *src = pixel + (o / ocg) * icg;
              float acc = 0.0f;
              for (int64_t i = 0; i < icg; ++i)
                acc += src[i] * f[i];
              dst[o] += acc;
            }
          }
        }
        for (int64_t o = 0; o < oc; ++o)
          dst[o] = std::min(std::max(dst[o], op.outMin), op.outMax);
      }
}

/// The elements before `axis`, its extent, and the elements after it.
std::array<int64_t, 3> aroundAxis(const std::vector<int64_t> &shape,
                                  int axis) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d)
    outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  return {outer, shape[axis], inner};
}

/// TFLite's TRANSPOSE_CONV: input pixel (iy, ix) adds to output pixel
/// (iy * stride - padTop + ky, ix * stride - padLeft + kx); filter
/// [OC, KH, KW, C].
void transposeConv(const Tensor &x, const float *in, const Tensor &w,
                   const float *bias, const Op &op, const Tensor &y,
                   float *out) {
  const int64_t n = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  const int64_t oh = y.shape[1], ow = y.shape[2], oc = y.shape[3];
  const float *filter = w.f32();
  std::fill(out, out + y.elements, 0.0f);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t iy = 0; iy < h; ++iy)
      for (int64_t ix = 0; ix < wd; ++ix) {
        const float *pixel = in + ((b * h + iy) * wd + ix) * c;
        for (int64_t ky = 0; ky < op.kernelH; ++ky) {
          int64_t oy = iy * op.strideH - op.padTop + ky;
          if (oy < 0 || oy >= oh)
            continue;
          for (int64_t kx = 0; kx < op.kernelW; ++kx) {
            int64_t ox = ix * op.strideW - op.padLeft + kx;
            if (ox < 0 || ox >= ow)
              continue;
            float *dst = out + ((b * oh + oy) * ow + ox) * oc;
            for (int64_t o = 0; o < oc; ++o) {
              const float *f = filter + ((o * op.kernelH + ky) * op.kernelW + kx) * c;
              float acc = 0.0f;
              for (int64_t i = 0; i < c; ++i)
                acc += pixel[i] * f[i];
              dst[o] += acc;
            }
          }
        }
      }
  for (int64_t i = 0; i < y.elements; ++i)
    out[i] = std::min(std::max(out[i] + (bias ? bias[i % oc] : 0.0f),
                               op.outMin),
                      op.outMax);
}

/// TFLite's RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR (reference
/// semantics, float arithmetic as TFLite computes it).
/// TFLite's resize scale along one axis: input over output length (minus
/// one each with align_corners).
float resizeScale(const Op &op, int64_t inLen, int64_t outLen) {
  return op.alignCorners && outLen > 1 ? float(inLen - 1) / float(outLen - 1)
                                       : float(inLen) / float(outLen);
}

/// RESIZE_NEAREST_NEIGHBOR's source of output index `o` (TFLite's float
/// arithmetic).
int64_t nearestSource(const Op &op, int64_t o, int64_t inLen, float scale) {
  float s = (float(o) + (op.halfPixelCenters ? 0.5f : 0.0f)) * scale;
  int64_t i = std::min<int64_t>(
      op.alignCorners ? int64_t(std::round(s)) : int64_t(std::floor(s)),
      inLen - 1);
  return op.halfPixelCenters ? std::max<int64_t>(i, 0) : i;
}

template <typename T>
void resize(const Tensor &x, const T *in, const Op &op, const Tensor &y,
            T *out) {
  const int64_t n = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  const int64_t oh = y.shape[1], ow = y.shape[2];
  auto scaleOf = [&](int64_t inLen, int64_t outLen) {
    return resizeScale(op, inLen, outLen);
  };
  const float sy = scaleOf(h, oh), sx = scaleOf(wd, ow);
  struct Tap {
    int64_t lo, hi;
    float t;
  };
  auto taps = [&](int64_t outLen, int64_t inLen, float scale) {
    std::vector<Tap> v(outLen);
    for (int64_t o = 0; o < outLen; ++o) {
      if (op.kind == OpKind::ResizeNearest) {
        int64_t i = nearestSource(op, o, inLen, scale);
        v[o] = {i, i, 0.0f};
        continue;
      }
      float s = op.halfPixelCenters ? (float(o) + 0.5f) * scale - 0.5f
                                    : float(o) * scale;
      int64_t lo = std::max<int64_t>(int64_t(std::floor(s)), 0);
      int64_t hi = std::min<int64_t>(int64_t(std::ceil(s)), inLen - 1);
      v[o] = {lo, hi, s - float(lo)};
    }
    return v;
  };
  const std::vector<Tap> ty = taps(oh, h, sy), tx = taps(ow, wd, sx);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t q = 0; q < ow; ++q) {
        T *dst = out + ((b * oh + r) * ow + q) * c;
        const T *p00 = in + ((b * h + ty[r].lo) * wd + tx[q].lo) * c;
        if (op.kind == OpKind::ResizeNearest) {
          std::copy(p00, p00 + c, dst);
          continue;
        }
        const T *p01 = in + ((b * h + ty[r].lo) * wd + tx[q].hi) * c;
        const T *p10 = in + ((b * h + ty[r].hi) * wd + tx[q].lo) * c;
        const T *p11 = in + ((b * h + ty[r].hi) * wd + tx[q].hi) * c;
        const float dy = ty[r].t, dx = tx[q].t;
        for (int64_t ch = 0; ch < c; ++ch)
          dst[ch] = T(p00[ch] * (1 - dy) * (1 - dx) + p10[ch] * dy * (1 - dx) +
                      p01[ch] * (1 - dy) * dx + p11[ch] * dy * dx);
      }
}

void depthwise(const Tensor &x, const float *in, const Tensor &w,
               const float *bias, const Op &op, const Tensor &y, float *out) {
  const int64_t n = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3],
                m = op.depthMultiplier;
  const int64_t oh = y.shape[1], ow = y.shape[2], oc = y.shape[3];
  const float *filter = w.f32(); // [1, KH, KW, C * M]
  for (int64_t b = 0; b < n; ++b)
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t q = 0; q < ow; ++q) {
        float *dst = out + ((b * oh + r) * ow + q) * oc;
        for (int64_t o = 0; o < oc; ++o)
          dst[o] = bias ? bias[o] : 0.0f;
        for (int64_t ky = 0; ky < op.kernelH; ++ky) {
          int64_t iy = r * op.strideH + ky * op.dilationH - op.padTop;
          if (iy < 0 || iy >= h)
            continue;
          for (int64_t kx = 0; kx < op.kernelW; ++kx) {
            int64_t ix = q * op.strideW + kx * op.dilationW - op.padLeft;
            if (ix < 0 || ix >= wd)
              continue;
            const float *src = in + ((b * h + iy) * wd + ix) * c;
            const float *f = filter + (ky * op.kernelW + kx) * oc;
            for (int64_t o = 0; o < oc; ++o)
              dst[o] += src[o / m] * f[o];
          }
        }
        for (int64_t o = 0; o < oc; ++o)
          dst[o] = std::min(std::max(dst[o], op.outMin), op.outMax);
      }
}

/// An element-wise binary op with NumPy broadcasting, then the fused clamp.
template <typename Fn>
void binary(const Tensor &a, const float *pa, const Tensor &b, const float *pb,
            const Tensor &y, float *out, const Op &op, Fn fn) {
  forEachBroadcast(a, b, y, [&](int64_t ia, int64_t ib, int64_t e) {
    out[e] = std::min(std::max(fn(pa[ia], pb[ib]), op.outMin), op.outMax);
  });
}

/// Row-major strides of a shape.
std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/// out[e] = value(index of e) over every output element, in order.
template <typename T, typename Fn>
void gatherElements(const Tensor &y, T *out, Fn value) {
  std::vector<int64_t> index(y.shape.size(), 0);
  for (int64_t e = 0; e < y.elements; ++e) {
    out[e] = value(index);
    for (int64_t d = int64_t(y.shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < y.shape[d])
        break;
      index[d] = 0;
    }
  }
}

/// out = x with `before[d]` elements of `value` ahead of dimension d (and
/// the rest of y's extent after it): filled, then each innermost run of x
/// copied whole (a 56x56x64 map: 0.1 ms, where an index per element had
/// taken 2.6).
template <typename T>
void padInto(const Tensor &x, const T *in, const Tensor &y,
             const std::vector<int64_t> &before, T value, T *out) {
  std::fill(out, out + y.elements, value);
  const size_t rank = x.shape.size();
  if (x.elements == 0)
    return;
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const std::vector<int64_t> ys = stridesOf(y.shape);
  const int64_t run = x.shape[rank - 1];
  std::vector<int64_t> index(rank, 0); // of the run's first element in x
  for (int64_t e = 0; e < x.elements; e += run) {
    int64_t dst = 0;
    for (size_t d = 0; d < rank; ++d)
      dst += (index[d] + before[d]) * ys[d];
    std::memcpy(out + dst, in + e, run * sizeof(T));
    for (int64_t d = int64_t(rank) - 2; d >= 0; --d) {
      if (++index[d] < x.shape[d])
        break;
      index[d] = 0;
    }
  }
}

/// TRANSPOSE: dimensions of size 1 dropped and runs that stay contiguous
/// merged; then either whole rows copied (the innermost dimension stays
/// innermost) or 2-D tiles transposed between the output's innermost
/// dimension and the one the input holds contiguously.
template <typename T>
void transposeTensor(const Tensor &x, const T *in, const Tensor &y,
                     const std::vector<int64_t> &perm, T *out) {
  std::vector<int64_t> xs = stridesOf(x.shape);
  // Output dimensions with their input strides, size-1 dimensions dropped.
  std::vector<int64_t> size, istride;
  for (size_t d = 0; d < perm.size(); ++d)
    if (y.shape[d] != 1) {
      size.push_back(y.shape[d]);
      istride.push_back(xs[perm[d]]);
    }
  // Merge d into d + 1 where the input is contiguous across them too.
  for (int64_t d = int64_t(size.size()) - 2; d >= 0; --d)
    if (istride[d] == istride[d + 1] * size[d + 1]) {
      size[d] *= size[d + 1];
      istride[d] = istride[d + 1];
      size.erase(size.begin() + d + 1);
      istride.erase(istride.begin() + d + 1);
    }
  const auto contiguous =
      std::find(istride.begin(), istride.end(), int64_t(1));
  if (size.empty() || istride.back() == 1 || contiguous == istride.end()) {
    // Rows of the innermost dimension, contiguous (memcpy) or strided.
    const int64_t run = size.empty() ? 1 : size.back();
    const int64_t step = size.empty() ? 1 : istride.back();
    const int64_t rank = int64_t(size.size()) - 1;
    std::vector<int64_t> index(std::max<int64_t>(rank, 0), 0);
    for (int64_t o = 0; o < y.elements; o += run) {
      int64_t src = 0;
      for (int64_t d = 0; d < rank; ++d)
        src += index[d] * istride[d];
      if (step == 1)
        std::memcpy(out + o, in + src, run * sizeof(T));
      else
        for (int64_t j = 0; j < run; ++j)
          out[o + j] = in[src + j * step];
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++index[d] < size[d])
          break;
        index[d] = 0;
      }
    }
    return;
  }
  // k: the output dimension the input holds contiguously; r: the innermost.
  const int64_t rank = size.size(), r = rank - 1;
  const int64_t k = contiguous - istride.begin();
  std::vector<int64_t> ostride(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    ostride[d] = ostride[d + 1] * size[d + 1];
  constexpr int64_t kTile = 16;
  std::vector<int64_t> index(rank, 0); // the other dimensions
  while (true) {
    int64_t src = 0, dst = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (d != k && d != r) {
        src += index[d] * istride[d];
        dst += index[d] * ostride[d];
      }
    for (int64_t a = 0; a < size[k]; a += kTile)
      for (int64_t b = 0; b < size[r]; b += kTile) {
        const int64_t ae = std::min(a + kTile, size[k]),
                      be = std::min(b + kTile, size[r]);
        for (int64_t i = a; i < ae; ++i)
          for (int64_t j = b; j < be; ++j)
            out[dst + i * ostride[k] + j] = in[src + i + j * istride[r]];
      }
    int64_t d = rank - 1;
    for (; d >= 0; --d) {
      if (d == k || d == r)
        continue;
      if (++index[d] < size[d])
        break;
      index[d] = 0;
    }
    if (d < 0)
      break;
  }
}

/// SLICE, TRANSPOSE and TILE: each output element from its input index.
template <typename T>
void gather(const Tensor &x, const T *in, const Tensor &y, const Op &op,
            T *out) {
  if (op.kind == OpKind::Transpose)
    return transposeTensor(x, in, y, op.ints, out);
  std::vector<int64_t> s = stridesOf(x.shape);
  const size_t rank = x.shape.size();
  gatherElements(y, out, [&](const std::vector<int64_t> &index) -> T {
    int64_t e = 0;
    for (size_t d = 0; d < rank; ++d) {
      int64_t i = index[d];
      if (op.kind == OpKind::Slice)
        i += op.ints[d];
      else if (op.kind == OpKind::Tile)
        i %= x.shape[d];
      if (op.kind == OpKind::Transpose)
        e += index[d] * s[op.ints[d]];
      else
        e += i * s[d];
    }
    return in[e];
  });
}

} // namespace

void mobileone::runtime::padInt8(const Tensor &x, const int8_t *in,
                                 const Tensor &y,
                                 const std::vector<int64_t> &before,
                                 int8_t value, int8_t *out) {
  padInto(x, in, y, before, value, out);
}

void mobileone::runtime::resizeNearestInt8(const Tensor &x, const int8_t *in,
                                           const Tensor &y, const Op &op,
                                           int8_t *out) {
  resize(x, in, op, y, out);
}

std::vector<int64_t> mobileone::runtime::nearestSources(const Op &op,
                                                        int64_t inLen,
                                                        int64_t outLen) {
  std::vector<int64_t> sources;
  const float scale = resizeScale(op, inLen, outLen);
  for (int64_t o = 0; o < outLen; ++o)
    sources.push_back(nearestSource(op, o, inLen, scale));
  return sources;
}

void mobileone::runtime::gatherInt8(const Tensor &x, const int8_t *in,
                                    const Tensor &y, const Op &op,
                                    int8_t *out) {
  gather(x, in, y, op, out);
}

bool mobileone::runtime::elementwiseFunction(const Op &op, const float *in,
                                             float *out, int64_t n) {
  const UnaryFn fn = registration(op.kind).unary;
  if (!fn)
    return false;
  for (int64_t i = 0; i < n; ++i)
    out[i] = fn(in[i], op);
  return true;
}

void mobileone::runtime::runReferenceOp(const Model &model, const Op &op,
                                        const std::vector<const float *> &ins,
                                        float *out) {
  const OpRegistration &r = registration(op.kind);
  if (r.reference)
    r.reference(model, op, ins, out);
  else
    elementwiseFunction(op, ins[0], out, model.tensors[op.output].elements);
}

// The rows' float kernels (Registry.h), operand 0 `x` read from ins[0].
namespace {
struct Operands {
  const Tensor &x, &y;
  const float *in;
  Operands(const Model &model, const Op &op,
           const std::vector<const float *> &ins)
      : x(model.tensors[op.inputs[0]]), y(model.tensors[op.output]),
        in(ins[0]) {}
};
const float *floatBias(const Model &model, const Op &op, size_t index) {
  return op.inputs.size() > index ? model.tensors[op.inputs[index]].f32()
                                  : nullptr;
}
float clampTo(const Op &op, float v) {
  return std::min(std::max(v, op.outMin), op.outMax);
}
template <typename Fn>
void binaryOp(const Model &model, const Op &op,
              const std::vector<const float *> &ins, float *out, Fn fn) {
  Operands o(model, op, ins);
  binary(o.x, o.in, model.tensors[op.inputs[1]], ins[1], o.y, out, op, fn);
}
} // namespace

void reference::conv(const Model &model, const Op &op,
                     const std::vector<const float *> &ins, float *out) {
  Operands o(model, op, ins);
  ::conv(o.x, o.in, model.tensors[op.inputs[1]], floatBias(model, op, 2), op,
         o.y, out);
}

void reference::depthwiseConv(const Model &model, const Op &op,
                              const std::vector<const float *> &ins,
                              float *out) {
  Operands o(model, op, ins);
  depthwise(o.x, o.in, model.tensors[op.inputs[1]], floatBias(model, op, 2),
            op, o.y, out);
}

void reference::transposeConv(const Model &model, const Op &op,
                              const std::vector<const float *> &ins,
                              float *out) {
  Operands o(model, op, ins);
  ::transposeConv(o.x, o.in, model.tensors[op.inputs[1]],
                  floatBias(model, op, 2), op, o.y, out);
}

void reference::fullyConnected(const Model &model, const Op &op,
                               const std::vector<const float *> &ins,
                               float *out) {
  Operands o(model, op, ins);
  const Tensor &w = model.tensors[op.inputs[1]];
  const float *bias = floatBias(model, op, 2);
  const int64_t m = w.shape[0], k = w.shape[1], rows = o.x.elements / k;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < m; ++j) {
      float acc = bias ? bias[j] : 0.0f;
      for (int64_t i = 0; i < k; ++i)
        acc += o.in[r * k + i] * w.f32()[j * k + i];
      out[r * m + j] = clampTo(op, acc);
    }
}

void reference::resize(const Model &model, const Op &op,
                       const std::vector<const float *> &ins, float *out) {
  Operands o(model, op, ins);
  ::resize(o.x, o.in, op, o.y, out);
}

void reference::argMax(const Model &model, const Op &op,
                       const std::vector<const float *> &ins, float *out) {
  // int32 indices into the (float-typed) output buffer; a NaN never wins.
  Operands o(model, op, ins);
  auto [outer, n, inner] = aroundAxis(o.x.shape, op.axis);
  int32_t *idx = reinterpret_cast<int32_t *>(out);
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t i = 0; i < inner; ++i) {
      const float *p = o.in + a * n * inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < n; ++k)
        if (p[k * inner] > p[best * inner])
          best = k;
      idx[a * inner + i] = int32_t(best);
    }
}

void reference::pad(const Model &model, const Op &op,
                    const std::vector<const float *> &ins, float *out) {
  Operands o(model, op, ins);
  padInto(o.x, o.in, o.y, {0, op.padTop, op.padLeft, 0}, 0.0f, out);
}

void reference::padV2(const Model &model, const Op &op,
                      const std::vector<const float *> &ins, float *out) {
  Operands o(model, op, ins);
  std::vector<int64_t> before;
  for (size_t d = 0; d < o.x.shape.size(); ++d)
    before.push_back(op.ints[2 * d]);
  padInto(o.x, o.in, o.y, before, op.alpha, out);
}

void reference::averagePool(const Model &model, const Op &op,
                            const std::vector<const float *> &ins,
                            float *out) {
  Operands o(model, op, ins);
  poolWindows(
      o.x, o.in, o.y, op, 0.0, [](double acc, float v) { return acc + v; },
      [&](double acc, int64_t count) {
        return clampTo(op, count ? float(acc / count) : 0.0f);
      },
      out);
}

void reference::maxPool(const Model &model, const Op &op,
                        const std::vector<const float *> &ins, float *out) {
  Operands o(model, op, ins);
  poolWindows(
      o.x, o.in, o.y, op, -std::numeric_limits<double>::infinity(),
      [](double acc, float v) { return nanMax(acc, double(v)); },
      [&](double acc, int64_t) { return clampTo(op, float(acc)); }, out);
}

void reference::mean(const Model &model, const Op &op,
                     const std::vector<const float *> &ins, float *out) {
  Operands o(model, op, ins);
  const int64_t n = o.x.shape[0], plane = o.x.shape[1] * o.x.shape[2],
                c = o.x.shape[3];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      double sum = 0.0;
      for (int64_t i = 0; i < plane; ++i)
        sum += o.in[(b * plane + i) * c + ch];
      out[b * c + ch] = float(sum / plane);
    }
}

void reference::reduce(const Model &model, const Op &op,
                       const std::vector<const float *> &ins, float *out) {
  // SUM or REDUCE_MAX over op.axis.
  Operands o(model, op, ins);
  const bool sum = op.kind == OpKind::Sum;
  auto [outer, n, inner] = aroundAxis(o.x.shape, op.axis);
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = sum ? 0.0 : -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < n; ++k) {
        float v = o.in[(a * n + k) * inner + i];
        acc = sum ? acc + v : nanMax(acc, double(v));
      }
      out[a * inner + i] = float(acc);
    }
}

void reference::add(const Model &model, const Op &op,
                    const std::vector<const float *> &ins, float *out) {
  binaryOp(model, op, ins, out, [](float p, float q) { return p + q; });
}

void reference::sub(const Model &model, const Op &op,
                    const std::vector<const float *> &ins, float *out) {
  binaryOp(model, op, ins, out, [](float p, float q) { return p - q; });
}

void reference::mul(const Model &model, const Op &op,
                    const std::vector<const float *> &ins, float *out) {
  binaryOp(model, op, ins, out, [](float p, float q) { return p * q; });
}

void reference::div(const Model &model, const Op &op,
                    const std::vector<const float *> &ins, float *out) {
  binaryOp(model, op, ins, out, [](float p, float q) { return p / q; });
}

void reference::maximum(const Model &model, const Op &op,
                        const std::vector<const float *> &ins, float *out) {
  binaryOp(model, op, ins, out, [](float p, float q) { return nanMax(p, q); });
}

void reference::minimum(const Model &model, const Op &op,
                        const std::vector<const float *> &ins, float *out) {
  binaryOp(model, op, ins, out, [](float p, float q) { return nanMin(p, q); });
}

void reference::pow(const Model &model, const Op &op,
                    const std::vector<const float *> &ins, float *out) {
  binaryOp(model, op, ins, out,
           [](float p, float q) { return std::pow(p, q); });
}

void reference::softmax(const Model &model, const Op &op,
                        const std::vector<const float *> &ins, float *out) {
  Operands o(model, op, ins);
  const int64_t n = o.x.shape.back(), rows = o.y.elements / n;
  for (int64_t r = 0; r < rows; ++r) {
    const float *src = o.in + r * n;
    float *dst = out + r * n;
    float top = *std::max_element(src, src + n);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i)
      sum += dst[i] = std::exp(src[i] - top);
    for (int64_t i = 0; i < n; ++i)
      dst[i] = float(dst[i] / sum);
  }
}

void reference::concatenation(const Model &model, const Op &op,
                              const std::vector<const float *> &ins,
                              float *out) {
  concatenate(model, op, ins, model.tensors[op.output], out,
              [&](float v) { return clampTo(op, v); });
}

void reference::gather(const Model &model, const Op &op,
                       const std::vector<const float *> &ins, float *out) {
  // SLICE, TRANSPOSE, TILE.
  Operands o(model, op, ins);
  ::gather(o.x, o.in, o.y, op, out);
}

void reference::batchMatMul(const Model &model, const Op &op,
                            const std::vector<const float *> &ins,
                            float *out) {
  Operands o(model, op, ins);
  const Tensor &b = model.tensors[op.inputs[1]];
  const int64_t batches = o.x.shape[0], m = o.x.shape[1], k = o.x.shape[2],
                n = b.shape[2];
  for (int64_t p = 0; p < batches; ++p)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float acc = 0.0f;
        for (int64_t q = 0; q < k; ++q)
          acc += o.in[(p * m + i) * k + q] * ins[1][(p * k + q) * n + j];
        out[(p * m + i) * n + j] = acc;
      }
}

void reference::copy(const Model &model, const Op &op,
                     const std::vector<const float *> &ins, float *out) {
  // RESHAPE: the bytes unchanged (INT32 indices too).
  std::memmove(out, ins[0], model.tensors[op.output].bytes());
}

float reference::logistic(float v, const Op &) {
  return 1.0f / (1.0f + std::exp(-v));
}
float reference::relu(float v, const Op &) { return std::max(v, 0.0f); }
float reference::relu6(float v, const Op &) {
  return std::min(std::max(v, 0.0f), 6.0f);
}
float reference::gelu(float v, const Op &op) {
  if (op.approximate) {
    double u = std::sqrt(2.0 / M_PI) * (v + 0.044715 * double(v) * v * v);
    return float(0.5 * v * (1.0 + std::tanh(u)));
  }
  return 0.5f * v * (1.0f + std::erf(v * float(M_SQRT1_2)));
}
float reference::hardSwish(float v, const Op &) {
  return v * std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f;
}
float reference::leakyRelu(float v, const Op &op) {
  return v >= 0.0f ? v : op.alpha * v;
}
float reference::reluN1To1(float v, const Op &) {
  return std::min(std::max(v, -1.0f), 1.0f);
}
float reference::tanh(float v, const Op &) { return std::tanh(v); }
float reference::exp(float v, const Op &) { return std::exp(v); }
float reference::neg(float v, const Op &) { return -v; }
float reference::sqrt(float v, const Op &) { return std::sqrt(v); }
float reference::rsqrt(float v, const Op &) { return 1.0f / std::sqrt(v); }

bool ReferenceExecutor::run(const std::vector<const float *> &inputs,
                            const std::vector<float *> &outputs,
                            std::string &error, std::vector<double> *opMs) {
  if (arena.size() != arenaFloats)
    arena.assign(arenaFloats, 0.0f);
  for (size_t i = 0; i < inputs.size(); ++i)
    std::memcpy(buffer(model.inputs[i]), inputs[i],
                model.tensors[model.inputs[i]].bytes());
  auto channels = [&](int t) {
    const std::vector<int64_t> &s = model.tensors[t].shape;
    return s.empty() ? int64_t(1) : s.back();
  };
  // An int8 tensor is shown as the values it stands for.
  std::vector<float> real;
  auto observe = [&](int t, const float *values) {
    const Tensor &y = model.tensors[t];
    if (y.isInt8()) {
      real.resize(size_t(y.elements));
      const int8_t *q = reinterpret_cast<const int8_t *>(values);
      for (int64_t i = 0; i < y.elements; ++i)
        real[i] = float(double(y.quant.scale[0]) *
                        double(int32_t(q[i]) - y.quant.zeroPoint[0]));
      values = real.data();
    } else if (!y.isFloat32()) {
      return;
    }
    (*observer)(t, values, y.elements, channels(t));
  };
  if (observer)
    for (int t : model.inputs)
      observe(t, buffer(t));
  for (const Op &op : model.ops) {
    auto start = std::chrono::steady_clock::now();
    float *out = buffer(op.output);
    if (op.quantized) {
      std::vector<const void *> operands;
      for (int t : op.inputs)
        operands.push_back(value(t));
      runQuantizedOp(model, op, operands, out);
    } else {
      std::vector<const float *> operands;
      for (int t : op.inputs)
        operands.push_back(value(t));
      runReferenceOp(model, op, operands, out);
    }
    if (observer)
      observe(op.output, out);
    if (opMs)
      opMs->push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    std::memcpy(outputs[i], value(model.outputs[i]),
                model.tensors[model.outputs[i]].bytes());
  (void)error;
  return true;
}
