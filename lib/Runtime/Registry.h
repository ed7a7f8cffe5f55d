//===- Registry.h - one registration per operator (internal) ----*- C++ -*-===//
//
// What the runtime knows about an operator, in one row per operator kind
// (Registry.cpp), as TFLite's TfLiteRegistration keeps it per builtin: the
// builtin it is read from, how it is decoded and validated (Decode.cpp),
// its float reference kernel and, for a function of one input, that
// function (Reference.cpp), its int8 preparation and kernel (Quantized.cpp)
// and its XNNPACK node (Xnnpack.cpp). The loader and the executors dispatch
// through `registration(op.kind)`; the lists of supported operators in
// their errors come from the same table. Adding a builtin: an OpKind, the
// functions its row names, the row (docs/adding-an-op.md).
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_LIB_RUNTIME_REGISTRY_H
#define MOBILEONE_LIB_RUNTIME_REGISTRY_H

#include "Model.h"

#include <memory>
#include <string>
#include <vector>

namespace mobileone::runtime {

namespace kernels {
class Kernel;
class KernelInt8;
enum class Isa;
} // namespace kernels

struct Decoder;      // Decode.h: one operator of the file being decoded
struct Int8Preparer; // Quantized.cpp: one int8 operator being prepared
struct XnnNode;      // Xnnpack.cpp: one operator becoming an XNNPACK node

using DecodeFn = bool (*)(Decoder &);
using ReferenceFn = void (*)(const Model &, const Op &,
                             const std::vector<const float *> &, float *);
using UnaryFn = float (*)(float, const Op &);
using PrepareInt8Fn = bool (*)(Int8Preparer &);
using RunInt8Fn = void (*)(const Model &, const Op &,
                           const std::vector<const void *> &, void *);
using XnnDefineFn = bool (*)(XnnNode &);

/// What the executor asks a float operator's native kernel choice.
struct NativeRequest {
  const Model &model;
  const Op &op;
  kernels::Isa isa;
  /// --xnnpack-only: our kernels only where XNNPACK has no node.
  bool xnnpackOnly;
  /// != 1: a LeakyReLU fused into a dense convolution's epilogue.
  float slope;
};
/// Our kernel for the operator, or null (XNNPACK's node or the reference
/// kernel runs it).
using NativeFn = std::unique_ptr<kernels::Kernel> (*)(const NativeRequest &);
using NativeInt8Fn = std::unique_ptr<kernels::KernelInt8> (*)(const Model &,
                                                              const Op &,
                                                              kernels::Isa);

struct OpRegistration {
  OpKind kind;
  /// TFLite's name of the builtin, for messages.
  const char *name;
  /// The tflite::BuiltinOperator read as this kind, or -1 for a kind only
  /// another builtin's decoder produces (PAD of other than H and W).
  int builtin;
  /// Reads the options, checks the operands and the output's shape, fills
  /// the Op (its kind preset to this row's).
  DecodeFn decode;
  /// The float32 kernel (a function of one input: null, `unary` is used).
  ReferenceFn reference;
  /// A function of one float input, element by element; the int8 form is
  /// its table. Null for every other operator.
  UnaryFn unary;
  /// The int8 form: checks the quantisation, fills op.quant; and its
  /// kernel. Null: the operator has no int8 form.
  PrepareInt8Fn prepareInt8;
  RunInt8Fn runInt8;
  /// XNNPACK's node for the float operator; null: the reference kernel
  /// runs it.
  XnnDefineFn xnnpack;
  /// Our own kernels (Kernels.h), chosen over the XNNPACK node where they
  /// run faster: float and int8. Null: none.
  NativeFn native = nullptr;
  NativeInt8Fn nativeInt8 = nullptr;
};

/// The row of `kind` (every kind has one).
const OpRegistration &registration(OpKind kind);
/// The row read from `builtin`, or null if the runtime does not take it.
const OpRegistration *registrationOf(int builtin);
/// "ADD, AVERAGE_POOL_2D, ..." sorted: the builtins read (int8: those with
/// an int8 form).
std::string supportedOperators(bool int8);

// The rows' functions, by the file that defines them.
namespace decode {
bool conv(Decoder &);
bool transposeConv(Decoder &);
bool fullyConnected(Decoder &);
bool resize(Decoder &);
bool argMax(Decoder &);
bool pad(Decoder &);
bool padV2(Decoder &);
bool pool(Decoder &);
bool mean(Decoder &);
bool reduce(Decoder &);
bool quantize(Decoder &);
bool dequantize(Decoder &);
bool reshape(Decoder &);
bool binary(Decoder &);
bool unary(Decoder &);
bool softmax(Decoder &);
bool concatenation(Decoder &);
bool slice(Decoder &);
bool transpose(Decoder &);
bool tile(Decoder &);
bool batchMatMul(Decoder &);
} // namespace decode

namespace reference {
void conv(const Model &, const Op &, const std::vector<const float *> &,
          float *);
void depthwiseConv(const Model &, const Op &,
                   const std::vector<const float *> &, float *);
void transposeConv(const Model &, const Op &,
                   const std::vector<const float *> &, float *);
void fullyConnected(const Model &, const Op &,
                    const std::vector<const float *> &, float *);
void resize(const Model &, const Op &, const std::vector<const float *> &,
            float *);
void argMax(const Model &, const Op &, const std::vector<const float *> &,
            float *);
void pad(const Model &, const Op &, const std::vector<const float *> &,
         float *);
void padV2(const Model &, const Op &, const std::vector<const float *> &,
           float *);
void averagePool(const Model &, const Op &, const std::vector<const float *> &,
                 float *);
void maxPool(const Model &, const Op &, const std::vector<const float *> &,
             float *);
void mean(const Model &, const Op &, const std::vector<const float *> &,
          float *);
void reduce(const Model &, const Op &, const std::vector<const float *> &,
            float *);
void add(const Model &, const Op &, const std::vector<const float *> &,
         float *);
void sub(const Model &, const Op &, const std::vector<const float *> &,
         float *);
void mul(const Model &, const Op &, const std::vector<const float *> &,
         float *);
void div(const Model &, const Op &, const std::vector<const float *> &,
         float *);
void maximum(const Model &, const Op &, const std::vector<const float *> &,
             float *);
void minimum(const Model &, const Op &, const std::vector<const float *> &,
             float *);
void pow(const Model &, const Op &, const std::vector<const float *> &,
         float *);
void softmax(const Model &, const Op &, const std::vector<const float *> &,
             float *);
void concatenation(const Model &, const Op &,
                   const std::vector<const float *> &, float *);
void gather(const Model &, const Op &, const std::vector<const float *> &,
            float *);
void batchMatMul(const Model &, const Op &, const std::vector<const float *> &,
                 float *);
void copy(const Model &, const Op &, const std::vector<const float *> &,
          float *);
float logistic(float, const Op &);
float relu(float, const Op &);
float relu6(float, const Op &);
float gelu(float, const Op &);
float hardSwish(float, const Op &);
float leakyRelu(float, const Op &);
float reluN1To1(float, const Op &);
float tanh(float, const Op &);
float exp(float, const Op &);
float neg(float, const Op &);
float sqrt(float, const Op &);
float rsqrt(float, const Op &);
} // namespace reference

namespace int8 {
bool prepareQuantize(Int8Preparer &);
bool prepareDequantize(Int8Preparer &);
bool prepareConv(Int8Preparer &);
bool prepareAdd(Int8Preparer &);
bool prepareMul(Int8Preparer &);
bool prepareSameScale(Int8Preparer &);
bool preparePool(Int8Preparer &);
bool prepareMean(Int8Preparer &);
bool prepareMove(Int8Preparer &);
bool preparePadV2(Int8Preparer &);
bool prepareConcatenation(Int8Preparer &);
bool prepareTable(Int8Preparer &);
void quantize(const Model &, const Op &, const std::vector<const void *> &,
              void *);
void dequantize(const Model &, const Op &, const std::vector<const void *> &,
                void *);
void conv(const Model &, const Op &, const std::vector<const void *> &, void *);
void fullyConnected(const Model &, const Op &,
                    const std::vector<const void *> &, void *);
void add(const Model &, const Op &, const std::vector<const void *> &, void *);
void mul(const Model &, const Op &, const std::vector<const void *> &, void *);
void maxMin(const Model &, const Op &, const std::vector<const void *> &,
            void *);
void averagePool(const Model &, const Op &, const std::vector<const void *> &,
                 void *);
void maxPool(const Model &, const Op &, const std::vector<const void *> &,
             void *);
void mean(const Model &, const Op &, const std::vector<const void *> &, void *);
void copy(const Model &, const Op &, const std::vector<const void *> &, void *);
void pad(const Model &, const Op &, const std::vector<const void *> &, void *);
void padV2(const Model &, const Op &, const std::vector<const void *> &,
           void *);
void gather(const Model &, const Op &, const std::vector<const void *> &,
            void *);
void resizeNearest(const Model &, const Op &, const std::vector<const void *> &,
                   void *);
void concatenation(const Model &, const Op &, const std::vector<const void *> &,
                   void *);
void table(const Model &, const Op &, const std::vector<const void *> &,
           void *);
} // namespace int8

namespace native {
std::unique_ptr<kernels::Kernel> conv(const NativeRequest &);
std::unique_ptr<kernels::Kernel> gelu(const NativeRequest &);
} // namespace native

namespace xnn {
bool conv(XnnNode &);
bool depthwiseConv(XnnNode &);
bool transposeConv(XnnNode &);
bool fullyConnected(XnnNode &);
bool pad(XnnNode &);
bool averagePool(XnnNode &);
bool maxPool(XnnNode &);
bool mean(XnnNode &);
bool add(XnnNode &);
bool sub(XnnNode &);
bool mul(XnnNode &);
bool div(XnnNode &);
bool maximum(XnnNode &);
bool minimum(XnnNode &);
bool logistic(XnnNode &);
bool relu(XnnNode &);
bool relu6(XnnNode &);
bool reluN1To1(XnnNode &);
bool hardSwish(XnnNode &);
bool leakyRelu(XnnNode &);
bool neg(XnnNode &);
bool sqrt(XnnNode &);
bool softmax(XnnNode &);
} // namespace xnn

} // namespace mobileone::runtime

#endif
