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

// The rows' function types (declared below by the file defining them).
using DecodeFunction = bool(Decoder &);
using ReferenceKernel = void(const Model &, const Op &,
                             const std::vector<const float *> &, float *);
using UnaryFunction = float(float, const Op &);
using PrepareInt8Function = bool(Int8Preparer &);
using Int8Kernel = void(const Model &, const Op &,
                        const std::vector<const void *> &, void *);
using XnnDefineFunction = bool(XnnNode &);
using DecodeFn = DecodeFunction *;
using ReferenceFn = ReferenceKernel *;
using UnaryFn = UnaryFunction *;
using PrepareInt8Fn = PrepareInt8Function *;
using RunInt8Fn = Int8Kernel *;
using XnnDefineFn = XnnDefineFunction *;

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
  /// The tflite::BuiltinOperator read as this kind (PAD's decoder may
  /// make a PadV2 too).
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
DecodeFunction conv, transposeConv, fullyConnected, resize, argMax, pad, padV2,
    pool, mean, reduce, quantize, dequantize, reshape, binary, unary, softmax,
    concatenation, slice, transpose, tile, batchMatMul;
} // namespace decode

namespace reference {
ReferenceKernel conv, depthwiseConv, transposeConv, fullyConnected, resize,
    argMax, pad, padV2, averagePool, maxPool, mean, reduce, add, sub, mul, div,
    maximum, minimum, pow, softmax, concatenation, gather, batchMatMul, copy;
UnaryFunction logistic, relu, relu6, gelu, hardSwish, leakyRelu, reluN1To1,
    tanh, exp, neg, sqrt, rsqrt;
} // namespace reference

namespace int8 {
PrepareInt8Function prepareQuantize, prepareDequantize, prepareConv,
    prepareAdd, prepareMul, prepareSameScale, preparePool, prepareMean,
    prepareMove, preparePadV2, prepareConcatenation, prepareTable;
Int8Kernel quantize, dequantize, conv, fullyConnected, add, mul, maxMin,
    averagePool, maxPool, mean, copy, pad, padV2, gather, resizeNearest,
    concatenation, table;
} // namespace int8

namespace native {
std::unique_ptr<kernels::Kernel> conv(const NativeRequest &);
std::unique_ptr<kernels::Kernel> gelu(const NativeRequest &);
} // namespace native

namespace xnn {
XnnDefineFunction conv, depthwiseConv, transposeConv, fullyConnected, pad,
    averagePool, maxPool, mean, add, sub, mul, div, maximum, minimum, logistic,
    relu, relu6, reluN1To1, hardSwish, leakyRelu, neg, sqrt, softmax;
} // namespace xnn

} // namespace mobileone::runtime

#endif
