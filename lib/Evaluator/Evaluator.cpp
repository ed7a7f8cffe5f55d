//===- Evaluator.cpp - reference evaluation of mobileone modules ----------===//

#include "mobileone/Evaluator/Evaluator.h"
#include "mobileone/Support/Random.h"
#include "mobileone/Math/Resize.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Indexing.h"
#include "mobileone/Support/Weights.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <chrono>
#include <thread>

using namespace mlir;
using namespace mlir::mobileone;

Tensor::Tensor(ArrayRef<int64_t> shape)
    : shape(shape.begin(), shape.end()), data(numElements(), 0.0f) {}

int64_t Tensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

func::FuncOp mobileone::findEntryFunction(ModuleOp module) {
  func::FuncOp only;
  unsigned count = 0;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    if (func.getSymName() == "main")
      return func;
    only = func;
    ++count;
  }
  if (count == 1)
    return only;
  module.emitError("expected a function @main or exactly one function, found ")
      << count;
  return nullptr;
}

Tensor mobileone::randomTensor(ArrayRef<int64_t> shape, uint64_t seed) {
  Tensor t(shape);
  SplitMix64(seed).fillStandardNormal(t.data.data(), t.data.size());
  return t;
}

namespace {

/// Runs body(i) for i in [0, n) on up to `threads` threads.
template <typename F> void parallelFor(int64_t n, unsigned threads, F body) {
  unsigned workers = std::max(1u, std::min<unsigned>(threads, n));
  if (workers == 1) {
    for (int64_t i = 0; i < n; ++i)
      body(i);
    return;
  }
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back([&, w]() {
      for (int64_t i = w; i < n; i += workers)
        body(i);
    });
  for (std::thread &t : pool)
    t.join();
}

struct ConvParams {
  int64_t strideH, strideW, padTop, padLeft, dilH, dilW, group;
};

/// NCHW convolution, one (batch, output channel) plane per task. The inner
/// loop runs over a contiguous output row range that needs no bounds checks.
Tensor conv2d(const Tensor &in, const Tensor &w, const float *bias,
              ArrayRef<int64_t> outShape, const ConvParams &p,
              unsigned threads) {
  Tensor out(outShape);
  const int64_t n = in.shape[0], c = in.shape[1], h = in.shape[2],
                wd = in.shape[3];
  const int64_t oc = w.shape[0], icg = w.shape[1], kh = w.shape[2],
                kw = w.shape[3];
  const int64_t oh = outShape[2], ow = outShape[3];
  const int64_t ocg = oc / p.group;
  parallelFor(n * oc, threads, [&](int64_t task) {
    const int64_t b = task / oc, o = task % oc, g = o / ocg;
    float *dst = out.data.data() + task * oh * ow;
    std::fill(dst, dst + oh * ow, bias ? bias[o] : 0.0f);
    for (int64_t i = 0; i < icg; ++i) {
      const float *src = in.data.data() + (b * c + g * icg + i) * h * wd;
      for (int64_t y = 0; y < kh; ++y) {
        for (int64_t x = 0; x < kw; ++x) {
          const float wv = w.data[((o * icg + i) * kh + y) * kw + x];
          if (wv == 0.0f)
            continue;
          const int64_t offX = x * p.dilW - p.padLeft;
          // Output columns whose input column lies inside the image.
          int64_t lo = offX >= 0 ? 0 : (-offX + p.strideW - 1) / p.strideW;
          int64_t hi =
              (wd - 1 - offX) < 0
                  ? -1
                  : std::min<int64_t>(ow - 1, (wd - 1 - offX) / p.strideW);
          for (int64_t r = 0; r < oh; ++r) {
            const int64_t iy = r * p.strideH + y * p.dilH - p.padTop;
            if (iy < 0 || iy >= h)
              continue;
            float *d = dst + r * ow;
            const float *s = src + iy * wd + offX;
            if (p.strideW == 1) {
              for (int64_t q = lo; q <= hi; ++q)
                d[q] += wv * s[q];
            } else {
              for (int64_t q = lo; q <= hi; ++q)
                d[q] += wv * s[q * p.strideW];
            }
          }
        }
      }
    }
  });
  return out;
}

/// ONNX ConvTranspose: input pixel (iy, ix) adds w * x to output pixel
/// (iy * s + ky * d - pad); one (batch, output channel) plane per task.
Tensor convTranspose2d(const Tensor &in, const Tensor &w, const float *bias,
                       ArrayRef<int64_t> outShape, const ConvParams &p,
                       unsigned threads) {
  Tensor out(outShape);
  const int64_t n = in.shape[0], c = in.shape[1], h = in.shape[2],
                wd = in.shape[3];
  const int64_t ocg = w.shape[1], kh = w.shape[2], kw = w.shape[3];
  const int64_t oc = ocg * p.group, icg = c / p.group;
  const int64_t oh = outShape[2], ow = outShape[3];
  parallelFor(n * oc, threads, [&](int64_t task) {
    const int64_t b = task / oc, o = task % oc, g = o / ocg, j = o % ocg;
    float *dst = out.data.data() + task * oh * ow;
    std::fill(dst, dst + oh * ow, bias ? bias[o] : 0.0f);
    for (int64_t i = g * icg; i < (g + 1) * icg; ++i) {
      const float *src = in.data.data() + (b * c + i) * h * wd;
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x) {
          const float wv = w.data[((i * ocg + j) * kh + y) * kw + x];
          for (int64_t iy = 0; iy < h; ++iy) {
            const int64_t oy = iy * p.strideH + y * p.dilH - p.padTop;
            if (oy < 0 || oy >= oh)
              continue;
            for (int64_t ix = 0; ix < wd; ++ix) {
              const int64_t ox = ix * p.strideW + x * p.dilW - p.padLeft;
              if (ox >= 0 && ox < ow)
                dst[oy * ow + ox] += wv * src[iy * wd + ix];
            }
          }
        }
    }
  });
  return out;
}

/// ONNX Resize of H and W (math/Resize.h says which source pixels).
Tensor resize2d(const Tensor &in, ArrayRef<int64_t> outShape, ResizeOp op) {
  Tensor out(outShape);
  math::ResizeMode mode = *math::parseResizeMode(op.getMode());
  math::ResizeCoordinates coords =
      *math::parseResizeCoordinates(op.getCoordinateTransformationMode());
  math::NearestRounding rounding =
      *math::parseNearestRounding(op.getNearestMode());
  const int64_t planes = in.shape[0] * in.shape[1], h = in.shape[2],
                wd = in.shape[3], oh = outShape[2], ow = outShape[3];
  // Per output row (column): the two source indices and the weight of the
  // second (nearest: one index, weight 0).
  struct Tap {
    int64_t lo, hi;
    double t;
  };
  auto taps = [&](int64_t inLen, int64_t outLen, double scale) {
    std::vector<Tap> v;
    for (int64_t o = 0; o < outLen; ++o) {
      double src = math::resizeSource(coords, o, inLen, outLen, scale);
      if (mode == math::ResizeMode::Nearest) {
        int64_t i = math::nearestIndex(rounding, src, inLen);
        v.push_back({i, i, 0.0});
        continue;
      }
      src = std::clamp(src, 0.0, double(inLen - 1));
      int64_t lo = int64_t(std::floor(src));
      v.push_back({lo, std::min(lo + 1, inLen - 1), src - double(lo)});
    }
    return v;
  };
  std::vector<Tap> ty = taps(h, oh, op.getScales()[0]),
                   tx = taps(wd, ow, op.getScales()[1]);
  for (int64_t p = 0; p < planes; ++p) {
    const float *src = in.data.data() + p * h * wd;
    float *dst = out.data.data() + p * oh * ow;
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t q = 0; q < ow; ++q) {
        const Tap &a = ty[r], &b = tx[q];
        double top = src[a.lo * wd + b.lo] * (1 - b.t) + src[a.lo * wd + b.hi] * b.t;
        double bottom =
            src[a.hi * wd + b.lo] * (1 - b.t) + src[a.hi * wd + b.hi] * b.t;
        dst[r * ow + q] = float(top * (1 - a.t) + bottom * a.t);
      }
  }
  return out;
}

/// Index of the element of `shape` (broadcast to `outShape`) at `outIndex`.
template <typename F>
Tensor broadcastBinary(const Tensor &a, const Tensor &b,
                       ArrayRef<int64_t> outShape, F fn) {
  Tensor out(outShape);
  const int64_t rank = outShape.size();
  // Strides of a and b in the output's index space (0 where broadcast).
  auto stridesOf = [&](const Tensor &t) {
    SmallVector<int64_t> strides(rank, 0);
    int64_t s = 1;
    for (int64_t i = t.shape.size() - 1, j = rank - 1; i >= 0; --i, --j) {
      strides[j] = t.shape[i] == 1 ? 0 : s;
      s *= t.shape[i];
    }
    return strides;
  };
  SmallVector<int64_t> sa = stridesOf(a), sb = stridesOf(b);
  SmallVector<int64_t> index(rank, 0);
  for (int64_t e = 0, n = out.numElements(); e < n; ++e) {
    int64_t ia = 0, ib = 0;
    for (int64_t d = 0; d < rank; ++d) {
      ia += index[d] * sa[d];
      ib += index[d] * sb[d];
    }
    out.data[e] = fn(a.data[ia], b.data[ib]);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < outShape[d])
        break;
      index[d] = 0;
    }
  }
  return out;
}


/// Splits `shape` around `axis` into (outer, dim, inner) extents.
std::array<int64_t, 3> around(ArrayRef<int64_t> shape, int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); ++i)
    inner *= shape[i];
  return {outer, shape[axis], inner};
}

enum class Reduction { Mean, Sum, Max };

/// Reduces `x` over `axes` (all when empty) into `outShape`.
Tensor reduce(const Tensor &x, ArrayRef<int64_t> axes,
              ArrayRef<int64_t> outShape, Reduction kind) {
  const int64_t rank = x.shape.size();
  // Index the reduced tensor with the reduced dimensions set to 0.
  SmallVector<int64_t> kept(x.shape.begin(), x.shape.end());
  for (int64_t d = 0; d < rank; ++d)
    if (axes.empty() || llvm::is_contained(axes, d))
      kept[d] = 1;
  int64_t n = 1;
  for (int64_t d : kept)
    n *= d;
  std::vector<double> acc(n, kind == Reduction::Max ? -INFINITY : 0.0);
  SmallVector<int64_t> ks = stridesOf(kept);
  forEachIndex(x.shape, [&](ArrayRef<int64_t> idx, int64_t flat) {
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d)
      off += (kept[d] == 1 ? 0 : idx[d]) * ks[d];
    acc[off] = kind == Reduction::Max ? std::max<double>(acc[off], x.data[flat])
                                      : acc[off] + x.data[flat];
  });
  int64_t count = x.numElements() / std::max<int64_t>(1, n);
  Tensor out(outShape);
  for (int64_t i = 0; i < n; ++i)
    out.data[i] = static_cast<float>(kind == Reduction::Mean ? acc[i] / count
                                                             : acc[i]);
  return out;
}

Tensor softmax(const Tensor &x, int64_t axis) {
  Tensor out(x.shape);
  auto [outer, dim, inner] = around(x.shape, axis);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float *src = x.data.data() + o * dim * inner + i;
      float *dst = out.data.data() + o * dim * inner + i;
      float mx = -INFINITY;
      for (int64_t k = 0; k < dim; ++k)
        mx = std::max(mx, src[k * inner]);
      double sum = 0.0;
      for (int64_t k = 0; k < dim; ++k)
        sum += std::exp(static_cast<double>(src[k * inner] - mx));
      for (int64_t k = 0; k < dim; ++k)
        dst[k * inner] = static_cast<float>(
            std::exp(static_cast<double>(src[k * inner] - mx)) / sum);
    }
  return out;
}

/// 2-D max or average pooling, NCHW.
Tensor pool2d(const Tensor &x, ArrayRef<int64_t> outShape,
              ArrayRef<int64_t> k, ArrayRef<int64_t> s, ArrayRef<int64_t> p,
              ArrayRef<int64_t> d, bool isMax, bool countPad) {
  Tensor out(outShape);
  const int64_t h = x.shape[2], w = x.shape[3], oh = outShape[2],
                ow = outShape[3];
  for (int64_t plane = 0; plane < outShape[0] * outShape[1]; ++plane) {
    const float *src = x.data.data() + plane * h * w;
    float *dst = out.data.data() + plane * oh * ow;
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t c = 0; c < ow; ++c) {
        double acc = isMax ? -INFINITY : 0.0;
        int64_t count = 0, padded = 0;
        for (int64_t i = 0; i < k[0]; ++i)
          for (int64_t j = 0; j < k[1]; ++j) {
            int64_t y = r * s[0] + i * d[0] - p[0],
                    xx = c * s[1] + j * d[1] - p[1];
            // Window taps in the explicit padding count when asked; taps past
            // it (ceil_mode) never do.
            if (y >= -p[0] && y < h + p[2] && xx >= -p[1] && xx < w + p[3])
              ++padded;
            if (y < 0 || y >= h || xx < 0 || xx >= w)
              continue;
            float v = src[y * w + xx];
            acc = isMax ? std::max<double>(acc, v) : acc + v;
            ++count;
          }
        dst[r * ow + c] = static_cast<float>(
            isMax ? acc : acc / std::max<int64_t>(1, countPad ? padded : count));
      }
  }
  return out;
}

Tensor matmul(const Tensor &a, const Tensor &b, ArrayRef<int64_t> outShape) {
  Tensor out(outShape);
  const int64_t rank = outShape.size();
  const int64_t m = outShape[rank - 2], n = outShape[rank - 1],
                k = a.shape.back();
  SmallVector<int64_t> batch(outShape.drop_back(2));
  auto offset = [&](const Tensor &t, ArrayRef<int64_t> idx) {
    // Broadcast batch index into t's leading dimensions.
    int64_t off = 0, stride = t.shape[t.shape.size() - 2] * t.shape.back();
    for (int64_t i = static_cast<int64_t>(t.shape.size()) - 3,
                 j = static_cast<int64_t>(idx.size()) - 1;
         i >= 0; --i, --j) {
      if (t.shape[i] != 1)
        off += idx[j] * stride;
      stride *= t.shape[i];
    }
    return off;
  };
  forEachIndex(batch, [&](ArrayRef<int64_t> idx, int64_t flat) {
    const float *pa = a.data.data() + offset(a, idx);
    const float *pb = b.data.data() + offset(b, idx);
    float *pc = out.data.data() + flat * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int64_t q = 0; q < k; ++q)
          acc += static_cast<double>(pa[i * k + q]) * pb[q * n + j];
        pc[i * n + j] = static_cast<float>(acc);
      }
  });
  return out;
}

class Interpreter {
public:
  explicit Interpreter(unsigned threads) : threads(threads) {}

  LogicalResult run(Block &block, SmallVectorImpl<Tensor> &results,
                    std::vector<OpTime> *profile = nullptr) {
    for (Operation &op : block) {
      if (op.hasTrait<OpTrait::IsTerminator>()) {
        for (Value v : op.getOperands()) {
          const Tensor *t = lookup(&op, v);
          if (!t)
            return failure();
          results.push_back(*t);
        }
        return success();
      }
      auto start = std::chrono::steady_clock::now();
      if (failed(execute(op)))
        return failure();
      if (profile)
        profile->push_back(
            {&op, std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count()});
      release(op);
    }
    return success();
  }

  void bind(Value v, Tensor t) {
    remaining[v] = std::distance(v.use_begin(), v.use_end());
    values[v] = std::move(t);
  }

private:
  const Tensor *lookup(Operation *user, Value v) {
    auto it = values.find(v);
    if (it == values.end()) {
      user->emitError("evaluator: operand has no value");
      return nullptr;
    }
    return &it->second;
  }

  /// Frees operands whose every use has been executed.
  void release(Operation &op) {
    for (Value v : op.getOperands()) {
      auto it = remaining.find(v);
      if (it != remaining.end() && --it->second <= 0) {
        values.erase(v);
        remaining.erase(it);
      }
    }
  }

  LogicalResult execute(Operation &op);
  LogicalResult evalBlock(BlockOp block);

  SmallVector<int64_t> shapeOf(Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    return SmallVector<int64_t>(t.getShape());
  }

  unsigned threads;
  llvm::DenseMap<Value, Tensor> values;
  llvm::DenseMap<Value, int64_t> remaining;
};

LogicalResult Interpreter::evalBlock(BlockOp block) {
  Interpreter inner(threads);
  // Captured values (weights defined outside) are looked up in this scope.
  const Tensor *input = lookup(block, block.getInput());
  if (!input)
    return failure();
  inner.bind(block.getBranchInput(), *input);
  for (Operation &op : block.getBody().front())
    for (Value v : op.getOperands())
      if (v.getParentRegion() != &block.getBody() && !inner.values.count(v)) {
        const Tensor *t = lookup(&op, v);
        if (!t)
          return failure();
        inner.bind(v, *t);
      }
  SmallVector<Tensor> branches;
  if (failed(inner.run(block.getBody().front(), branches)))
    return failure();
  Tensor sum = std::move(branches[0]);
  for (size_t i = 1; i < branches.size(); ++i)
    for (size_t j = 0; j < sum.data.size(); ++j)
      sum.data[j] += branches[i].data[j];
  bind(block.getOutput(), std::move(sum));
  return success();
}

LogicalResult Interpreter::execute(Operation &op) {
  if (op.getNumResults() < 1 ||
      llvm::any_of(op.getResultTypes(), [](Type t) {
        auto r = dyn_cast<RankedTensorType>(t);
        return !r || !r.hasStaticShape();
      }))
    return op.emitError("evaluator: expected statically shaped tensor "
                        "results");
  Value result = op.getResult(0);
  SmallVector<const Tensor *> args;
  if (!isa<BlockOp>(op))
    for (Value v : op.getOperands()) {
      const Tensor *t = lookup(&op, v);
      if (!t)
        return failure();
      args.push_back(t);
    }
  SmallVector<int64_t> outShape = shapeOf(result);

  auto binary = [&](auto fn) {
    bind(result, broadcastBinary(*args[0], *args[1], outShape, fn));
    return success();
  };
  auto unary = [&](auto fn) {
    Tensor out = *args[0];
    for (float &v : out.data)
      v = fn(v);
    bind(result, std::move(out));
    return success();
  };

  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](arith::ConstantOp c) -> LogicalResult {
        Tensor t(outShape);
        // Integer constants (gather indices) are held as floats: exact for
        // the small values they hold.
        if (auto ints = dyn_cast<DenseIntElementsAttr>(c.getValue())) {
          for (auto [i, v] : llvm::enumerate(ints.getValues<APInt>()))
            t.data[i] = static_cast<float>(v.getSExtValue());
          bind(result, std::move(t));
          return success();
        }
        SmallVector<float> storage;
        std::optional<ArrayRef<float>> data =
            getElementsF32(c.getValue(), storage);
        if (!data)
          return op.emitError("evaluator: expected an f32 constant");
        std::copy(data->begin(), data->end(), t.data.begin());
        bind(result, std::move(t));
        return success();
      })
      .Case([&](Conv2DOp conv) {
        ArrayRef<int64_t> s = conv.getStrides(), p = conv.getPads(),
                          d = conv.getDilations();
        ConvParams params{
            s[0], s[1], p[0], p[1], d[0], d[1], int64_t(conv.getGroup())};
        const float *bias = conv.getBias() ? args[2]->data.data() : nullptr;
        bind(result,
             conv2d(*args[0], *args[1], bias, outShape, params, threads));
        return success();
      })
      .Case([&](ConvTranspose2DOp ct) {
        ArrayRef<int64_t> s = ct.getStrides(), p = ct.getPads(),
                          d = ct.getDilations();
        ConvParams params{s[0], s[1], p[0], p[1], d[0], d[1], ct.getGroup()};
        const float *bias = ct.getBias() ? args[2]->data.data() : nullptr;
        bind(result, convTranspose2d(*args[0], *args[1], bias, outShape,
                                     params, threads));
        return success();
      })
      .Case([&](ResizeOp r) {
        bind(result, resize2d(*args[0], outShape, r));
        return success();
      })
      .Case([&](ArgMaxOp a) {
        // Indices held as floats, as every integer tensor here (exact to
        // 2^24).
        const Tensor &x = *args[0];
        auto [outer, n, inner] = around(x.shape, a.getAxis());
        Tensor out(outShape);
        const bool last = a.getSelectLastIndex() != 0;
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < inner; ++i) {
            const float *p = x.data.data() + o * n * inner + i;
            int64_t best = 0;
            for (int64_t k = 1; k < n; ++k)
              if (p[k * inner] > p[best * inner] ||
                  (last && p[k * inner] == p[best * inner]))
                best = k;
            out.data[o * inner + i] = float(best);
          }
        bind(result, std::move(out));
        return success();
      })
      .Case([&](BatchNormOp bn) {
        Tensor out = *args[0];
        const int64_t c = out.shape[1],
                      plane = out.shape.size() == 4
                                  ? out.shape[2] * out.shape[3]
                                  : 1;
        const double eps = bn.getEpsilon().convertToDouble();
        for (int64_t b = 0; b < out.shape[0]; ++b)
          for (int64_t ch = 0; ch < c; ++ch) {
            float s = args[1]->data[ch] /
                      std::sqrt(args[4]->data[ch] + static_cast<float>(eps));
            float mean = args[3]->data[ch], beta = args[2]->data[ch];
            float *x = out.data.data() + (b * c + ch) * plane;
            for (int64_t i = 0; i < plane; ++i)
              x[i] = (x[i] - mean) * s + beta;
          }
        bind(result, std::move(out));
        return success();
      })
      .Case([&](ReluOp) {
        return unary([](float v) { return v > 0.0f ? v : 0.0f; });
      })
      .Case([&](SigmoidOp) {
        return unary([](float v) { return 1.0f / (1.0f + std::exp(-v)); });
      })
      .Case([&](SiluOp) {
        return unary(
            [](float v) { return v * (1.0f / (1.0f + std::exp(-v))); });
      })
      .Case([&](AddOp) {
        return binary([](float a, float b) { return a + b; });
      })
      .Case([&](SubOp) {
        return binary([](float a, float b) { return a - b; });
      })
      .Case([&](MulOp) {
        return binary([](float a, float b) { return a * b; });
      })
      .Case([&](DivOp) {
        return binary([](float a, float b) { return a / b; });
      })
      .Case([&](TanhOp) { return unary([](float v) { return std::tanh(v); }); })
      .Case([&](ErfOp) { return unary([](float v) { return std::erf(v); }); })
      .Case([&](SqrtOp) { return unary([](float v) { return std::sqrt(v); }); })
      .Case([&](ExpOp) { return unary([](float v) { return std::exp(v); }); })
      .Case([&](NegOp) { return unary([](float v) { return -v; }); })
      .Case([&](ReciprocalOp) {
        return unary([](float v) { return 1.0f / v; });
      })
      .Case([&](PowOp) {
        return binary([](float a, float b) { return std::pow(a, b); });
      })
      .Case([&](GeluOp g) {
        if (g.getApproximate() == "tanh")
          return unary([](float v) {
            double x = v;
            return static_cast<float>(
                0.5 * x *
                (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))));
          });
        return unary([](float v) {
          double x = v;
          return static_cast<float>(0.5 * x * (1.0 + std::erf(x * M_SQRT1_2)));
        });
      })
      .Case([&](HardSigmoidOp h) {
        float a = h.getAlpha().convertToFloat(),
              b = h.getBeta().convertToFloat();
        return unary([=](float v) {
          return std::max(0.0f, std::min(1.0f, a * v + b));
        });
      })
      .Case([&](HardSwishOp) {
        return unary([](float v) {
          return v * std::max(0.0f, std::min(1.0f, v / 6.0f + 0.5f));
        });
      })
      .Case([&](LeakyReluOp l) {
        float a = l.getAlpha().convertToFloat();
        return unary([=](float v) { return v >= 0.0f ? v : a * v; });
      })
      .Case([&](ClipOp c) {
        float lo = c.getMin().convertToFloat(), hi = c.getMax().convertToFloat();
        return unary([=](float v) { return std::min(std::max(v, lo), hi); });
      })
      .Case([&](SoftmaxOp sm) {
        bind(result, softmax(*args[0], sm.getAxis()));
        return success();
      })
      .Case([&](ConcatOp cat) {
        Tensor out(outShape);
        auto [outer, dim, inner] = around(outShape, cat.getAxis());
        (void)dim;
        int64_t offset = 0;
        for (const Tensor *t : args) {
          int64_t chunk = t->shape[cat.getAxis()] * inner;
          for (int64_t o = 0; o < outer; ++o)
            std::copy_n(t->data.begin() + o * chunk, chunk,
                        out.data.begin() + o * outShape[cat.getAxis()] * inner +
                            offset);
          offset += chunk;
        }
        bind(result, std::move(out));
        return success();
      })
      .Case([&](SplitOp split) {
        const Tensor &x = *args[0];
        int64_t axis = split.getAxis();
        auto [outer, dim, inner] = around(x.shape, axis);
        int64_t offset = 0;
        for (auto [r, size] : llvm::zip(op.getResults(), split.getSplit())) {
          Tensor part(shapeOf(r));
          for (int64_t o = 0; o < outer; ++o)
            std::copy_n(x.data.begin() + (o * dim + offset) * inner,
                        size * inner, part.data.begin() + o * size * inner);
          offset += size;
          bind(r, std::move(part));
        }
        return success();
      })
      .Case([&](SliceOp slice) {
        Tensor out(outShape);
        const Tensor &x = *args[0];
        SmallVector<int64_t> strides = stridesOf(x.shape);
        ArrayRef<int64_t> starts = slice.getStarts(), steps = slice.getSteps();
        forEachIndex(outShape, [&](ArrayRef<int64_t> idx, int64_t flat) {
          int64_t off = 0;
          for (size_t d = 0; d < idx.size(); ++d)
            off += (starts[d] + idx[d] * steps[d]) * strides[d];
          out.data[flat] = x.data[off];
        });
        bind(result, std::move(out));
        return success();
      })
      .Case([&](TransposeOp t) {
        Tensor out(outShape);
        const Tensor &x = *args[0];
        SmallVector<int64_t> strides = stridesOf(x.shape);
        ArrayRef<int64_t> perm = t.getPerm();
        forEachIndex(outShape, [&](ArrayRef<int64_t> idx, int64_t flat) {
          int64_t off = 0;
          for (size_t d = 0; d < idx.size(); ++d)
            off += idx[d] * strides[perm[d]];
          out.data[flat] = x.data[off];
        });
        bind(result, std::move(out));
        return success();
      })
      .Case([&](ExpandOp) {
        Tensor out(outShape);
        const Tensor &x = *args[0];
        forEachIndex(outShape, [&](ArrayRef<int64_t> idx, int64_t flat) {
          out.data[flat] = x.data[broadcastOffset(x.shape, idx)];
        });
        bind(result, std::move(out));
        return success();
      })
      .Case([&](GatherOp g) -> LogicalResult {
        const Tensor &x = *args[0], &indices = *args[1];
        auto [outer, dim, inner] = around(x.shape, g.getAxis());
        Tensor out(outShape);
        int64_t n = indices.numElements();
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t q = 0; q < n; ++q) {
            int64_t k = static_cast<int64_t>(indices.data[q]);
            if (k < 0)
              k += dim;
            if (k < 0 || k >= dim)
              return op.emitError("evaluator: gather index ")
                     << k << " out of range";
            std::copy_n(x.data.begin() + (o * dim + k) * inner, inner,
                        out.data.begin() + (o * n + q) * inner);
          }
        bind(result, std::move(out));
        return success();
      })
      .Case([&](PadOp pad) {
        Tensor out(outShape);
        const Tensor &x = *args[0];
        const int64_t rank = x.shape.size();
        SmallVector<int64_t> strides = stridesOf(x.shape);
        ArrayRef<int64_t> p = pad.getPads();
        StringRef mode = pad.getMode();
        float value = pad.getValue().convertToFloat();
        forEachIndex(outShape, [&](ArrayRef<int64_t> idx, int64_t flat) {
          int64_t off = 0;
          for (int64_t d = 0; d < rank; ++d) {
            int64_t i = idx[d] - p[d], n = x.shape[d];
            if (i < 0 || i >= n) {
              if (mode == "constant") {
                off = -1;
                break;
              }
              if (mode == "edge")
                i = i < 0 ? 0 : n - 1;
              else // reflect
                i = i < 0 ? -i : 2 * (n - 1) - i;
            }
            off += i * strides[d];
          }
          out.data[flat] = off < 0 ? value : x.data[off];
        });
        bind(result, std::move(out));
        return success();
      })
      .Case([&](ReduceMeanOp rm) {
        bind(result, reduce(*args[0], rm.getAxes(), outShape, Reduction::Mean));
        return success();
      })
      .Case([&](ReduceSumOp rs) {
        bind(result, reduce(*args[0], rs.getAxes(), outShape, Reduction::Sum));
        return success();
      })
      .Case([&](ReduceMaxOp rx) {
        bind(result, reduce(*args[0], rx.getAxes(), outShape, Reduction::Max));
        return success();
      })
      .Case([&](MaxPoolOp p) {
        bind(result, pool2d(*args[0], outShape, p.getKernelShape(),
                            p.getStrides(), p.getPads(), p.getDilations(),
                            /*isMax=*/true, false));
        return success();
      })
      .Case([&](AvgPoolOp p) {
        bind(result, pool2d(*args[0], outShape, p.getKernelShape(),
                            p.getStrides(), p.getPads(), p.getDilations(),
                            /*isMax=*/false, p.getCountIncludePad() != 0));
        return success();
      })
      .Case([&](LayerNormOp ln) {
        Tensor out = *args[0];
        int64_t inner = 1;
        for (size_t d = ln.getAxis(); d < out.shape.size(); ++d)
          inner *= out.shape[d];
        const double eps = ln.getEpsilon().convertToDouble();
        const Tensor &scale = *args[1];
        const Tensor *bias = ln.getBias() ? args[2] : nullptr;
        for (int64_t o = 0; o < out.numElements() / inner; ++o) {
          float *x = out.data.data() + o * inner;
          double mean = 0.0, var = 0.0;
          for (int64_t i = 0; i < inner; ++i)
            mean += x[i];
          mean /= inner;
          for (int64_t i = 0; i < inner; ++i)
            var += (x[i] - mean) * (x[i] - mean);
          var /= inner;
          double inv = 1.0 / std::sqrt(var + eps);
          for (int64_t i = 0; i < inner; ++i)
            x[i] = static_cast<float>((x[i] - mean) * inv * scale.data[i] +
                                      (bias ? bias->data[i] : 0.0f));
        }
        bind(result, std::move(out));
        return success();
      })
      .Case([&](MatMulOp) {
        bind(result, matmul(*args[0], *args[1], outShape));
        return success();
      })
      .Case([&](GlobalAvgPoolOp) {
        Tensor out(outShape);
        const Tensor &x = *args[0];
        const int64_t plane = x.shape[2] * x.shape[3];
        for (int64_t i = 0; i < out.numElements(); ++i) {
          double sum = 0.0;
          for (int64_t j = 0; j < plane; ++j)
            sum += x.data[i * plane + j];
          out.data[i] = static_cast<float>(sum / plane);
        }
        bind(result, std::move(out));
        return success();
      })
      .Case([&](ReshapeOp) {
        Tensor out = *args[0];
        out.shape.assign(outShape.begin(), outShape.end());
        bind(result, std::move(out));
        return success();
      })
      .Case([&](LinearOp lin) {
        Tensor out(outShape);
        const Tensor &x = *args[0], &w = *args[1];
        const int64_t n = x.shape[0], k = x.shape[1], m = w.shape[0];
        for (int64_t b = 0; b < n; ++b)
          for (int64_t o = 0; o < m; ++o) {
            float acc = lin.getBias() ? args[2]->data[o] : 0.0f;
            for (int64_t i = 0; i < k; ++i)
              acc += x.data[b * k + i] * w.data[o * k + i];
            out.data[b * m + o] = acc;
          }
        bind(result, std::move(out));
        return success();
      })
      .Case([&](SqueezeExciteOp se) {
        Tensor out = *args[0];
        const int64_t n = out.shape[0], c = out.shape[1],
                      plane = out.shape[2] * out.shape[3];
        const int64_t r = se.getReducedChannels();
        const Tensor &rw = *args[1], &rb = *args[2], &ew = *args[3],
                     &eb = *args[4];
        for (int64_t b = 0; b < n; ++b) {
          float *x = out.data.data() + b * c * plane;
          std::vector<float> pooled(c), hidden(r);
          for (int64_t ch = 0; ch < c; ++ch) {
            double sum = 0.0;
            for (int64_t j = 0; j < plane; ++j)
              sum += x[ch * plane + j];
            pooled[ch] = static_cast<float>(sum / plane);
          }
          for (int64_t j = 0; j < r; ++j) {
            float acc = rb.data[j];
            for (int64_t ch = 0; ch < c; ++ch)
              acc += rw.data[j * c + ch] * pooled[ch];
            hidden[j] = acc > 0.0f ? acc : 0.0f;
          }
          for (int64_t ch = 0; ch < c; ++ch) {
            float acc = eb.data[ch];
            for (int64_t j = 0; j < r; ++j)
              acc += ew.data[ch * r + j] * hidden[j];
            float gate = 1.0f / (1.0f + std::exp(-acc));
            for (int64_t j = 0; j < plane; ++j)
              x[ch * plane + j] *= gate;
          }
        }
        bind(result, std::move(out));
        return success();
      })
      .Case([&](BlockOp block) { return evalBlock(block); })
      .Default([&](Operation *other) {
        return other->emitError("evaluator: unsupported op '")
               << other->getName() << "'";
      });
}

} // namespace

FailureOr<SmallVector<Tensor>> mobileone::evaluate(func::FuncOp func,
                                                   ArrayRef<Tensor> inputs,
                                                   unsigned threads,
                                                   std::vector<OpTime> *profile) {
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  if (func.getNumArguments() != inputs.size())
    return func.emitError("evaluator: expected ")
           << func.getNumArguments() << " inputs, got " << inputs.size();
  Interpreter interp(threads);
  for (auto [arg, input] : llvm::zip(func.getArguments(), inputs)) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || type.getShape() != ArrayRef<int64_t>(input.shape))
      return func.emitError("evaluator: input shape mismatch for argument #")
             << arg.getArgNumber();
    interp.bind(arg, input);
  }
  SmallVector<Tensor> results;
  if (failed(interp.run(func.getBody().front(), results, profile)))
    return failure();
  return results;
}
