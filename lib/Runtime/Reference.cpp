//===- Reference.cpp - portable kernels and the activation planner --------===//
//
// NHWC float32 kernels written for clarity, and a static memory plan: each
// activation lives from the op that writes it to the last op that reads it;
// tensors are placed, largest first, at the lowest arena offset that no
// tensor with an overlapping lifetime occupies.
//
//===----------------------------------------------------------------------===//

#include "Executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

using namespace mobileone::runtime;

size_t mobileone::runtime::planActivations(const Model &model,
                                           std::vector<size_t> &offsets,
                                           size_t &unplanned) {
  const size_t n = model.tensors.size();
  const int last = int(model.ops.size());
  std::vector<int> first(n, -2), end(n, -2);
  first[model.input] = -1;
  end[model.input] = -1;
  for (int i = 0; i < last; ++i) {
    const Op &op = model.ops[i];
    first[op.output] = i;
    end[op.output] = std::max(end[op.output], i);
    for (int t : op.inputs)
      if (!model.tensors[t].data)
        end[t] = std::max(end[t], i);
  }
  end[model.output] = last; // read back after the last op
  std::vector<int> order;
  unplanned = 0;
  for (size_t t = 0; t < n; ++t)
    if (!model.tensors[t].data && first[t] != -2) {
      order.push_back(int(t));
      unplanned += model.tensors[t].elements;
    }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return model.tensors[a].elements > model.tensors[b].elements;
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
    size_t size = (size_t(model.tensors[t].elements) + 15) / 16 * 16;
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
            for (int64_t o = 0; o < oc; ++o) {
              const float *f =
                  filter + ((o * op.kernelH + ky) * op.kernelW + kx) * c;
              float acc = 0.0f;
              for (int64_t i = 0; i < c; ++i)
                acc += src[i] * f[i];
              dst[o] += acc;
            }
          }
        }
        for (int64_t o = 0; o < oc; ++o)
          dst[o] = std::min(std::max(dst[o], op.outMin), op.outMax);
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

/// Element index of `t` (broadcast to `out`'s rank) for an output index.
void binary(const Tensor &a, const float *pa, const Tensor &b, const float *pb,
            const Tensor &y, float *out, bool multiply, const Op &op) {
  const size_t rank = y.shape.size();
  auto strides = [&](const Tensor &t) {
    std::vector<int64_t> s(rank, 0);
    int64_t stride = 1;
    for (int64_t i = int64_t(t.shape.size()) - 1, j = rank - 1; i >= 0;
         --i, --j) {
      s[j] = t.shape[i] == 1 ? 0 : stride;
      stride *= t.shape[i];
    }
    return s;
  };
  std::vector<int64_t> sa = strides(a), sb = strides(b), index(rank, 0);
  for (int64_t e = 0; e < y.elements; ++e) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < rank; ++d) {
      ia += index[d] * sa[d];
      ib += index[d] * sb[d];
    }
    float v = multiply ? pa[ia] * pb[ib] : pa[ia] + pb[ib];
    out[e] = std::min(std::max(v, op.outMin), op.outMax);
    for (int64_t d = int64_t(rank) - 1; d >= 0; --d) {
      if (++index[d] < y.shape[d])
        break;
      index[d] = 0;
    }
  }
}

} // namespace

bool ReferenceExecutor::run(const float *input, float *output,
                            std::string &error, std::vector<double> *opMs) {
  if (arena.size() != arenaFloats)
    arena.assign(arenaFloats, 0.0f);
  const Tensor &xin = model.tensors[model.input];
  std::memcpy(buffer(model.input), input, xin.elements * sizeof(float));
  for (const Op &op : model.ops) {
    auto start = std::chrono::steady_clock::now();
    const Tensor &x = model.tensors[op.inputs[0]];
    const Tensor &y = model.tensors[op.output];
    const float *in = value(op.inputs[0]);
    float *out = buffer(op.output);
    switch (op.kind) {
    case OpKind::Conv:
    case OpKind::DepthwiseConv: {
      const float *bias =
          op.inputs.size() > 2 ? model.tensors[op.inputs[2]].f32() : nullptr;
      const Tensor &w = model.tensors[op.inputs[1]];
      if (op.kind == OpKind::Conv)
        conv(x, in, w, bias, op, y, out);
      else
        depthwise(x, in, w, bias, op, y, out);
      break;
    }
    case OpKind::Pad: {
      const int64_t n = x.shape[0], h = x.shape[1], w = x.shape[2],
                    c = x.shape[3], oh = y.shape[1], ow = y.shape[2];
      std::fill(out, out + y.elements, 0.0f);
      for (int64_t b = 0; b < n; ++b)
        for (int64_t r = 0; r < h; ++r)
          std::memcpy(out + ((b * oh + r + op.padTop) * ow + op.padLeft) * c,
                      in + ((b * h + r) * w) * c, w * c * sizeof(float));
      break;
    }
    case OpKind::AveragePool: {
      const int64_t n = x.shape[0], h = x.shape[1], w = x.shape[2],
                    c = x.shape[3], oh = y.shape[1], ow = y.shape[2];
      for (int64_t b = 0; b < n; ++b)
        for (int64_t r = 0; r < oh; ++r)
          for (int64_t q = 0; q < ow; ++q)
            for (int64_t ch = 0; ch < c; ++ch) {
              double sum = 0.0;
              int64_t count = 0; // padding is excluded, as in TFLite
              for (int64_t ky = 0; ky < op.kernelH; ++ky)
                for (int64_t kx = 0; kx < op.kernelW; ++kx) {
                  int64_t iy = r * op.strideH + ky - op.padTop;
                  int64_t ix = q * op.strideW + kx - op.padLeft;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                    continue;
                  sum += in[((b * h + iy) * w + ix) * c + ch];
                  ++count;
                }
              float v = count ? float(sum / count) : 0.0f;
              out[((b * oh + r) * ow + q) * c + ch] =
                  std::min(std::max(v, op.outMin), op.outMax);
            }
      break;
    }
    case OpKind::Mean: {
      const int64_t n = x.shape[0], plane = x.shape[1] * x.shape[2],
                    c = x.shape[3];
      for (int64_t b = 0; b < n; ++b)
        for (int64_t ch = 0; ch < c; ++ch) {
          double sum = 0.0;
          for (int64_t i = 0; i < plane; ++i)
            sum += in[(b * plane + i) * c + ch];
          out[b * c + ch] = float(sum / plane);
        }
      break;
    }
    case OpKind::FullyConnected: {
      const Tensor &w = model.tensors[op.inputs[1]];
      const float *bias =
          op.inputs.size() > 2 ? model.tensors[op.inputs[2]].f32() : nullptr;
      const int64_t m = w.shape[0], k = w.shape[1], rows = x.elements / k;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < m; ++o) {
          float acc = bias ? bias[o] : 0.0f;
          for (int64_t i = 0; i < k; ++i)
            acc += in[r * k + i] * w.f32()[o * k + i];
          out[r * m + o] = std::min(std::max(acc, op.outMin), op.outMax);
        }
      break;
    }
    case OpKind::Add:
    case OpKind::Mul:
      binary(x, in, model.tensors[op.inputs[1]], value(op.inputs[1]), y, out,
             op.kind == OpKind::Mul, op);
      break;
    case OpKind::Logistic:
      for (int64_t i = 0; i < y.elements; ++i)
        out[i] = 1.0f / (1.0f + std::exp(-in[i]));
      break;
    case OpKind::Relu:
      for (int64_t i = 0; i < y.elements; ++i)
        out[i] = std::max(in[i], 0.0f);
      break;
    case OpKind::Relu6:
      for (int64_t i = 0; i < y.elements; ++i)
        out[i] = std::min(std::max(in[i], 0.0f), 6.0f);
      break;
    case OpKind::Reshape:
      std::memmove(out, in, y.elements * sizeof(float));
      break;
    }
    if (opMs)
      opMs->push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
  }
  const Tensor &yout = model.tensors[model.output];
  std::memcpy(output, value(model.output), yout.elements * sizeof(float));
  (void)error;
  return true;
}
