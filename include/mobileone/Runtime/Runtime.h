//===- Runtime.h - run deployable TFLite FlatBuffers ------------*- C++ -*-===//
//
// A small inference runtime for the float32 FlatBuffers the compiler emits
// (and other TFLite files made of the same ops). It depends on neither MLIR
// nor LLVM: an app links this library, FlatBuffers, XNNPACK and
// pthreadpool.
//
//   std::string error;
//   auto session = mobileone::runtime::Session::createFromFile(
//       "model.tflite", {/*threads=*/2}, error);
//   if (!session) { report(error); }
//   std::vector<float> out(session->outputInfo().numElements());
//   if (!session->run(input.data(), out.data(), error)) { report(error); }
//
// A model with several inputs or outputs runs through views, one per graph
// input and output in the model's order (Session::inputs(), outputs()):
//
//   session->run({{a.data(), a.size()}, {b.data(), b.size()}},
//                {{y0.data(), y0.size()}, {y1.data(), y1.size()}}, error);
//
// Loading verifies the buffer with the FlatBuffers verifier and then every
// tensor index, shape, buffer size and operator parameter, so a corrupt or
// hostile file is an error, never a crash or an out-of-bounds read.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_RUNTIME_RUNTIME_H
#define MOBILEONE_RUNTIME_RUNTIME_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mobileone::runtime {

struct Options {
  /// Worker threads (1: the calling thread only).
  int threads = 1;
  /// Use the portable reference kernels even where XNNPACK could run.
  bool reference = false;
  /// Run dense and 3x3 depthwise convolutions on the runtime's own AVX-512
  /// kernels where the CPU has AVX-512F; false leaves them to XNNPACK.
  bool nativeKernels = true;
  /// Use the AVX-512 kernels where the CPU has AVX-512F; false runs what a
  /// CPU with AVX2 + FMA only would (our AVX2 kernels and XNNPACK), to
  /// measure that class of CPU on an AVX-512 machine. XNNPACK itself keeps
  /// its own CPU detection.
  bool avx512 = true;
  /// Fuse a 3x3 depthwise layer into the 1x1 layer that alone reads it (the
  /// GEMM computes its rows block by block; both on our kernels). False
  /// runs them apart (to measure what fusion gains).
  bool fuse = true;
};

/// The FlatBuffer description of a model whose 4-D interface tensors keep
/// the ONNX model's NCHW layout (mobileone-compile --tflite-layout nchw);
/// any other description means TFLite's NHWC.
constexpr const char *kNCHWInterfaceDescription = "mobileone; interface NCHW";

/// Element types of the interface tensors: float32 (the kernels compute in
/// float32), int32 for indices (ARG_MAX's output), int8 for the quantised
/// interface of an int8 model compiled with --io-dtype int8 (each tensor's
/// TensorInfo::scale and zeroPoint say what its values stand for).
enum class DType { Float32, Int32, Int8 };
inline const char *dtypeName(DType t) {
  return t == DType::Int32 ? "int32" : t == DType::Int8 ? "int8" : "float32";
}
inline size_t dtypeBytes(DType t) { return t == DType::Int8 ? 1 : 4; }

/// A caller's buffer for one graph output: `elements` values of `dtype`.
struct TensorView {
  void *data = nullptr;
  int64_t elements = 0;
  DType dtype = DType::Float32;
  TensorView(float *data, size_t elements)
      : data(data), elements(int64_t(elements)) {}
  TensorView(int32_t *data, size_t elements)
      : data(data), elements(int64_t(elements)), dtype(DType::Int32) {}
  TensorView(int8_t *data, size_t elements)
      : data(data), elements(int64_t(elements)), dtype(DType::Int8) {}
  /// `elements` values of `dtype` at `data` (e.g. in a float buffer of
  /// `elements` floats, which holds any dtype: see widenValues).
  TensorView(void *data, size_t elements, DType dtype)
      : data(data), elements(int64_t(elements)), dtype(dtype) {}
};
/// The same for one graph input.
struct ConstTensorView {
  const void *data = nullptr;
  int64_t elements = 0;
  DType dtype = DType::Float32;
  ConstTensorView(const float *data, size_t elements)
      : data(data), elements(int64_t(elements)) {}
  ConstTensorView(const int32_t *data, size_t elements)
      : data(data), elements(int64_t(elements)), dtype(DType::Int32) {}
  ConstTensorView(const int8_t *data, size_t elements)
      : data(data), elements(int64_t(elements)), dtype(DType::Int8) {}
  ConstTensorView(const void *data, size_t elements, DType dtype)
      : data(data), elements(int64_t(elements)), dtype(dtype) {}
};

/// Tools hold every interface tensor as a float buffer of its element
/// count, whatever its dtype. `widenValues` turns the `n` values of `dtype`
/// stored at its start (as a view of that dtype writes them) into float
/// values in place, for comparisons, summaries and .npy files;
/// `narrowValues` does the reverse before a run (int8 and int32 values must
/// be integers in range: they are, from an int8 / int32 .npy or from
/// `quantizeValue`). Float32 data is left alone.
inline void widenValues(DType dtype, float *values, size_t n) {
  if (dtype == DType::Int32) {
    for (size_t i = 0; i < n; ++i) {
      int32_t v;
      __builtin_memcpy(&v, values + i, sizeof v);
      values[i] = float(v);
    }
  } else if (dtype == DType::Int8) {
    // Backwards: value i's 4 bytes cover only bytes already read.
    const int8_t *q = reinterpret_cast<const int8_t *>(values);
    for (size_t i = n; i-- > 0;)
      values[i] = float(q[i]);
  }
}
inline void narrowValues(DType dtype, float *values, size_t n) {
  if (dtype == DType::Int32) {
    for (size_t i = 0; i < n; ++i) {
      int32_t v = int32_t(values[i]);
      __builtin_memcpy(values + i, &v, sizeof v);
    }
  } else if (dtype == DType::Int8) {
    // Forwards: byte i overwrites only values already read.
    int8_t *q = reinterpret_cast<int8_t *>(values);
    for (size_t i = 0; i < n; ++i)
      q[i] = int8_t(values[i]);
  }
}

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape; ///< NHWC for 4-D tensors
  DType dtype = DType::Float32;
  /// An int8 tensor's parameters: real = scale x (q - zeroPoint).
  float scale = 0.0f;
  int32_t zeroPoint = 0;
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  /// An int8 tensor's value for real `x`, as QUANTIZE computes it (float
  /// division, rounded half away from zero, clamped; NaN to the zero
  /// point), and the real value of `q`: how a caller feeds float data to an
  /// int8 interface and reads its outputs. Other dtypes: unchanged.
  float quantize(float x) const {
    if (dtype != DType::Int8)
      return x;
    if (std::isnan(x))
      return float(zeroPoint);
    float q = std::round(x / scale) + float(zeroPoint);
    return q < -128.0f ? -128.0f : q > 127.0f ? 127.0f : q;
  }
  float real(float q) const {
    return dtype != DType::Int8 ? q
                                : float(double(scale) * (double(q) - zeroPoint));
  }
};

/// Time per operator, from Session::profile.
struct OpProfile {
  std::string op;     ///< TFLite operator name, e.g. CONV_2D
  std::string output; ///< the tensor it writes
  std::string shape;  ///< of that tensor
  double ms = 0;      ///< median over the profiled runs
  double flops = 0;   ///< 2 x multiply-adds (0 for data movement)
  std::string kernel; ///< "native", "fused" (into the next op), "xnnpack" or
                      ///< "reference"
};

/// Real values as input `t` takes them, in place in a float buffer of its
/// element count (an int8 one quantised as QUANTIZE does, then narrowed),
/// and an output of `t` as a run wrote it back to real values.
inline void realToInterface(const TensorInfo &t, float *values, size_t n) {
  if (t.dtype == DType::Int8)
    for (size_t i = 0; i < n; ++i)
      values[i] = t.quantize(values[i]);
  narrowValues(t.dtype, values, n);
}
inline void interfaceToReal(const TensorInfo &t, float *values, size_t n) {
  widenValues(t.dtype, values, n);
  if (t.dtype == DType::Int8)
    for (size_t i = 0; i < n; ++i)
      values[i] = t.real(values[i]);
}

struct Model;
class Executor;

class Session {
public:
  static std::unique_ptr<Session> create(std::vector<uint8_t> bytes,
                                         const Options &options,
                                         std::string &error);
  static std::unique_ptr<Session> createFromFile(const std::string &path,
                                                 const Options &options,
                                                 std::string &error);
  /// The model in `size` bytes at `data` without a copy: the caller keeps
  /// them alive and unchanged as long as the session (TFLite's
  /// FlatBufferModel::BuildFromBuffer). A compiler checking the model it
  /// just wrote holds it once.
  static std::unique_ptr<Session> createView(const void *data, size_t size,
                                             const Options &options,
                                             std::string &error);
  ~Session();

  /// The name of tensor `index` of the file.
  const std::string &tensorName(int index) const;

  /// The graph inputs and outputs, in the model's order.
  const std::vector<TensorInfo> &inputs() const;
  /// Whether 4-D interface tensors are NHWC (TFLite's convention; false for
  /// a model written with --tflite-layout nchw).
  bool nhwcInterface() const;
  const std::vector<TensorInfo> &outputs() const;
  /// The first input and output (a model's only ones, usually).
  const TensorInfo &inputInfo() const { return inputs().front(); }
  const TensorInfo &outputInfo() const { return outputs().front(); }

  /// Runs one inference: one view per input and output, in the model's
  /// order, each of its tensor's element count and type (else an error
  /// naming the tensor).
  bool run(const std::vector<ConstTensorView> &inputs,
           const std::vector<TensorView> &outputs, std::string &error);
  /// A model of one input and one output: each holds numElements() floats.
  bool run(const float *input, float *output, std::string &error);

  /// Runs `runs` inferences timing each operator (PAD ops folded into the
  /// convolution they feed are part of it).
  bool profile(const std::vector<ConstTensorView> &inputs,
               const std::vector<TensorView> &outputs, int runs,
               std::vector<OpProfile> &ops, std::string &error);

  /// Sees each activation once per inference: the tensor's index in the
  /// file, its values, their count and the size of the tensor's last
  /// dimension (its channels, NHWC; 1 for a scalar).
  using Observer = std::function<void(int tensor, const float *values,
                                      int64_t count, int64_t channels)>;
  /// One inference on the reference kernels calling `observer` with every
  /// tensor computed (graph inputs included; an int8 tensor as the real
  /// values it stands for): how a compiler calibrates a float model for
  /// quantisation and measures what quantising cost, layer by layer.
  bool observe(const std::vector<ConstTensorView> &inputs,
               const Observer &observer, std::string &error);

  /// "native+xnnpack" (some operators on our own kernels), "xnnpack" or
  /// "reference".
  const char *backend() const;
  /// Why XNNPACK was not used (empty when it is).
  const std::string &fallbackReason() const { return fallback; }
  /// Activation memory of the reference path: planned (buffers whose
  /// lifetimes do not overlap share memory) and without reuse.
  size_t plannedActivationBytes() const;
  size_t unplannedActivationBytes() const;
  /// Bytes of all constant tensors, and the largest sum of an operator's
  /// activation inputs and output (the memory bound's terms).
  size_t weightBytes() const { return weights; }
  size_t largestLivePairBytes() const { return livePair; }

private:
  Session();
  static std::unique_ptr<Session> createImpl(std::unique_ptr<Model> model,
                                             const Options &options,
                                             std::string &error);

  /// The views as the executors take them, after checking them.
  bool bind(const std::vector<ConstTensorView> &inputs,
            const std::vector<TensorView> &outputs,
            std::vector<const float *> &in, std::vector<float *> &out,
            std::string &error) const;

  std::unique_ptr<Model> model;
  std::unique_ptr<Executor> executor;
  std::string fallback;
  size_t planned = 0, unplanned = 0, weights = 0, livePair = 0;
};

} // namespace mobileone::runtime

#endif
