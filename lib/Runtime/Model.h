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

#include "mobileone/Runtime/Runtime.h"

#include <algorithm>
#include <limits>

namespace mobileone::runtime {

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  int64_t elements = 0;
  bool isInt32 = false;
  /// A FLOAT16 constant: read only by a DEQUANTIZE, which the loader folds
  /// (its output becomes a float32 constant).
  bool isFloat16 = false;
  /// Constant data inside the model bytes (4-byte aligned), or null for an
  /// activation.
  const void *data = nullptr;
  const float *f32() const { return static_cast<const float *>(data); }
  const int32_t *i32() const { return static_cast<const int32_t *>(data); }
};

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
  /// TRANSPOSE's perm, SLICE's begin then size, TILE's multiples, PADV2's
  /// (before, after) pairs.
  std::vector<int64_t> ints;
};


struct Model {
  /// The model bytes: owned, or a read-only file mapping.
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

  bool isOutput(int tensor) const {
    return std::find(outputs.begin(), outputs.end(), tensor) != outputs.end();
  }

  Model() = default;
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;
  ~Model();

  static std::unique_ptr<Model> load(std::vector<uint8_t> bytes,
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
