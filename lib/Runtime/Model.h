//===- Model.h - a validated, decoded TFLite model (internal) ---*- C++ -*-===//
//
// Everything the executors need, checked once at load time: after
// Model::load succeeds, every index is in range, every constant's buffer
// holds exactly its elements and every operator's shapes are consistent, so
// the executors do no bounds checking of their own.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_LIB_RUNTIME_MODEL_H
#define MOBILEONE_LIB_RUNTIME_MODEL_H

#include "Quantized.h"
#include "mobileone/Runtime/Runtime.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <type_traits>

namespace mobileone::runtime {

/// The element types a model may hold. FLOAT16 only as constants read by a
/// DEQUANTIZE, which the loader folds (its output becomes a float32
/// constant); INT32 as shapes, axes and int8 convolutions' biases; INT8 as
/// quantised activations and weights.
enum class ElementType : uint8_t { Float32, Float16, Int32, Int8 };

/// TFLite's affine quantisation of a tensor: real = scale * (q - zeroPoint),
/// per tensor (one scale) or per slice of `axis`.
struct Quantization {
  std::vector<float> scale;
  std::vector<int32_t> zeroPoint;
  int axis = 0;
  bool perAxis() const { return scale.size() > 1; }
};

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  int64_t elements = 0;
  ElementType type = ElementType::Float32;
  /// INT8 tensors' (and int8 biases') parameters; empty otherwise.
  Quantization quant;
  /// Constant data inside the model bytes (aligned to its element), or null
  /// for an activation.
  const void *data = nullptr;
  bool isFloat32() const { return type == ElementType::Float32; }
  bool isFloat16() const { return type == ElementType::Float16; }
  bool isInt32() const { return type == ElementType::Int32; }
  bool isInt8() const { return type == ElementType::Int8; }
  size_t elementBytes() const {
    return isInt8() ? 1 : isFloat16() ? 2 : 4;
  }
  size_t bytes() const { return size_t(elements) * elementBytes(); }
  /// The activation arena is counted in floats: the floats this tensor
  /// takes there.
  int64_t arenaFloats() const { return int64_t((bytes() + 3) / 4); }
  const float *f32() const { return static_cast<const float *>(data); }
  const int32_t *i32() const { return static_cast<const int32_t *>(data); }
  const int8_t *i8() const { return static_cast<const int8_t *>(data); }
};

/// NumPy broadcasting of two operands (rank <= y's): fn(index into a,
/// index into b, index into y) for every element of y, in order.
template <typename Fn>
void forEachBroadcast(const Tensor &a, const Tensor &b, const Tensor &y, Fn fn) {
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
    fn(ia, ib, e);
    for (int64_t d = int64_t(rank) - 1; d >= 0; --d) {
      if (++index[d] < y.shape[d])
        break;
      index[d] = 0;
    }
  }
}

struct Op;
/// Pooling: for every output element (NHWC), `step(acc, value)` folded over
/// the in-bounds values of its window from `init` (padding is excluded, as
/// in TFLite), then `finish(acc, count)` stored.
template <typename T, typename Acc, typename Step, typename Finish>
void poolWindows(const Tensor &x, const T *in, const Tensor &y, const Op &op,
                 Acc init, Step step, Finish finish, T *out);

/// CONCATENATION of `op`'s inputs `ins` along op.axis into y, each value
/// through `clamp` (the fused activation; nullptr: none, a copy).
template <typename T, typename Clamp>
void concatenate(const Model &model, const Op &op,
                 const std::vector<const T *> &ins, const Tensor &y, T *out,
                 Clamp clamp);

enum class OpKind {
  Conv,
  DepthwiseConv,
  Pad,
  AveragePool,
  FullyConnected,
  Add,
  Mul,
  Logistic,
  Relu,
  Relu6,
  Reshape,
  Mean,
  // Added with the wider op set; the reference kernels run them all, XNNPACK
  // the ones it has (Xnnpack.cpp).
  Sub,
  Div,
  Maximum,
  Minimum,
  Pow,
  Gelu,
  HardSwish,
  LeakyRelu,
  ReluN1To1,
  Tanh,
  Exp,
  Neg,
  Sqrt,
  Rsqrt,
  MaxPool,
  Concatenation,
  Slice,
  Transpose,
  Tile,
  PadV2,
  Sum,
  ReduceMax,
  Softmax,
  BatchMatMul,
  // int8: float32 -> int8 (or int8 -> int8, a requantisation) and back.
  Quantize,
  Dequantize,
  // Upsampling (detection and segmentation necks).
  TransposeConv,
  ResizeNearest,
  ResizeBilinear,
  // Segmentation heads: per-pixel class indices (INT32).
  ArgMax,
};

struct Op {
  OpKind kind;
  std::string opName; ///< the TFLite name, for messages
  std::vector<int> inputs;
  int output = -1;
  // Convolution and pooling.
  int strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
  int kernelH = 1, kernelW = 1, depthMultiplier = 1;
  /// Explicit padding (SAME resolved at load time).
  int padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  /// Fused activation as a clamp.
  float outMin = -std::numeric_limits<float>::infinity();
  float outMax = std::numeric_limits<float>::infinity();
  /// Grouped convolution: groups of input channels.
  int groups = 1;
  /// LEAKY_RELU's slope, PADV2's value.
  float alpha = 0.0f;
  /// CONCATENATION's axis, SUM / REDUCE_MAX's axis (non-negative).
  int axis = 0;
  /// GELU's tanh approximation.
  bool approximate = false;
  /// RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR's coordinate flags.
  bool alignCorners = false, halfPixelCenters = false;
  /// TRANSPOSE's perm, SLICE's begin then size, TILE's multiples, PADV2's
  /// (before, after) pairs.
  std::vector<int64_t> ints;
  /// Reads or writes INT8 tensors: runs on the int8 kernels with `quant`.
  bool quantized = false;
  QuantizedParams quant;
};


struct Model {
  /// The model bytes: owned, a read-only file mapping, or the caller's
  /// (loadView).
  std::vector<uint8_t> owned;
  const uint8_t *data = nullptr;
  size_t size = 0;
  void *mapping = nullptr;

  std::vector<Tensor> tensors;
  /// float32 copies of FLOAT16 weights (DEQUANTIZE folded at load).
  std::vector<std::vector<float>> widened;
  std::vector<Op> ops;
  /// Graph inputs and outputs (tensor indices), in the file's order: every
  /// input an activation, every output computed by an operator, no tensor
  /// twice.
  std::vector<int> inputs, outputs;
  std::vector<TensorInfo> inputInfos, outputInfos;
  /// 4-D interface tensors are NHWC (TFLite's way) unless the description
  /// says the model kept its NCHW interface.
  bool nhwcInterface = true;

  bool isOutput(int tensor) const {
    return std::find(outputs.begin(), outputs.end(), tensor) != outputs.end();
  }

  Model() = default;
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;
  ~Model();

  static std::unique_ptr<Model> load(std::vector<uint8_t> bytes,
                                     std::string &error);
  /// The model in `size` bytes at `data`, which the caller keeps (no copy).
  static std::unique_ptr<Model> loadView(const uint8_t *data, size_t size,
                                         std::string &error);
  /// Maps the file read-only: weight pages are read (by XNNPACK's packing)
  /// only once and can be dropped again (see releasePages).
  static std::unique_ptr<Model> loadFile(const std::string &path,
                                         std::string &error);
  /// Drops the resident pages of a mapped model's constant `tensor` (they
  /// come back from the file if read again). No-op for owned bytes.
  void releasePages(int tensor) const;
};

/// Runs `op` with portable kernels: `in[i]` is operand i's data (a constant
/// or an activation), `out` the output's. Used by the reference executor and
/// for the ops XNNPACK does not take.
void runReferenceOp(const Model &model, const Op &op,
                    const std::vector<const float *> &in, float *out);

template <typename T, typename Acc, typename Step, typename Finish>
void poolWindows(const Tensor &x, const T *in, const Tensor &y, const Op &op,
                 Acc init, Step step, Finish finish, T *out) {
  const int64_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3],
                oh = y.shape[1], ow = y.shape[2];
  // Every channel of a window at once (the channels contiguous): each
  // channel still takes its taps in the same order.
  std::vector<Acc> acc(static_cast<size_t>(c));
  for (int64_t b = 0; b < n; ++b)
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t q = 0; q < ow; ++q) {
        std::fill(acc.begin(), acc.end(), init);
        int64_t count = 0;
        for (int64_t ky = 0; ky < op.kernelH; ++ky)
          for (int64_t kx = 0; kx < op.kernelW; ++kx) {
            int64_t iy = r * op.strideH + ky - op.padTop;
            int64_t ix = q * op.strideW + kx - op.padLeft;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w)
              continue;
            const T *pixel = in + ((b * h + iy) * w + ix) * c;
            for (int64_t ch = 0; ch < c; ++ch)
              acc[ch] = step(acc[ch], pixel[ch]);
            ++count;
          }
        T *dst = out + ((b * oh + r) * ow + q) * c;
        for (int64_t ch = 0; ch < c; ++ch)
          dst[ch] = finish(acc[ch], count);
      }
}

template <typename T, typename Clamp>
void concatenate(const Model &model, const Op &op,
                 const std::vector<const T *> &ins, const Tensor &y, T *out,
                 Clamp clamp) {
  // Outer blocks before the axis; each input contributes its slab.
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < op.axis; ++d)
    outer *= y.shape[d];
  for (size_t d = op.axis + 1; d < y.shape.size(); ++d)
    inner *= y.shape[d];
  T *dst = out;
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      int64_t slab = model.tensors[op.inputs[i]].shape[op.axis] * inner;
      if constexpr (std::is_same_v<Clamp, std::nullptr_t>)
        std::memcpy(dst, ins[i] + o * slab, size_t(slab) * sizeof(T));
      else
        for (int64_t k = 0; k < slab; ++k)
          dst[k] = clamp(ins[i][o * slab + k]);
      dst += slab;
    }
}

/// The element-wise function of one input that `op` is (LOGISTIC, RELU,
/// GELU, ...) applied to `n` floats; false if `op` is not one. The int8
/// kernels tabulate the same functions.
bool elementwiseFunction(const Op &op, const float *in, float *out, int64_t n);

/// Offsets (in floats) of every activation in one arena, so that tensors
/// whose lifetimes overlap never share memory; returns the arena size.
/// Tensors live from the op that writes them to the last op that reads them,
/// or to `readUntil[tensor]` where that is later (a kernel that computes its
/// producer reads the producer's input); a `readUntil` of kNeverStored
/// leaves the tensor out of the arena (that producer's output). Empty: none.
constexpr int kNeverStored = -2;
size_t planActivations(const Model &model, std::vector<size_t> &offsets,
                       size_t &unplanned,
                       const std::vector<int> &readUntil = {});

} // namespace mobileone::runtime

#endif
