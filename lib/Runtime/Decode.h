//===- Decode.h - decoding one TFLite operator (internal) -------*- C++ -*-===//
//
// The context a registration's decoder (Registry.h) reads one operator of
// the file through: its operands (indices already checked), its options,
// and the checks every decoder shares. Errors name the operator:
// "operator #12 (CONV_2D): ...".
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_LIB_RUNTIME_DECODE_H
#define MOBILEONE_LIB_RUNTIME_DECODE_H

#include "Model.h"

#include "mobileone/Target/TFLite/schema_generated.h"

namespace mobileone::runtime {

struct Decoder {
  Model &m;
  const tflite::Operator &op;
  /// The operator being built: inputs, output and kind already set.
  Op &out;
  size_t index;
  std::string &error;
  /// False when the operator folds into a constant (DEQUANTIZE of FLOAT16
  /// weights): no Op is added.
  bool emit = true;

  const Tensor &in(size_t i) const { return m.tensors[out.inputs[i]]; }
  const Tensor &output() const { return m.tensors[out.output]; }

  /// Sets the error "operator #index (NAME): msg"; returns false.
  bool fail(const std::string &msg);
  /// Exactly `n` inputs.
  bool need(size_t n);
  bool expectShape(const Tensor &t, const std::vector<int64_t> &shape,
                   const char *what);
  /// Not an INT32 tensor (a float or int8 activation or constant).
  bool floatActivation(const Tensor &t);
  /// A fused activation as the output clamp.
  bool activation(tflite::ActivationFunctionType a);
  /// NumPy broadcasting of two float operands of rank <= 4.
  bool broadcastShape(const Tensor &a, const Tensor &b,
                      std::vector<int64_t> &shape);
  /// SAME padding resolved to explicit pads (TFLite's rule), the output's
  /// height and width; out.kernel*, stride* and dilation* set first.
  bool resolvePadding(tflite::Padding p, int64_t inH, int64_t inW,
                      int64_t &outH, int64_t &outW);
  /// `v` in [1, 65536].
  bool positive(int v, const char *what);
  /// Operand `i` a constant INT32 tensor of `count` values, appended to
  /// out.ints.
  bool ints(size_t i, int64_t count);
  /// Exactly `operands` inputs, operand 0 a float (or int8) activation of
  /// rank 1 to 6.
  bool rankedInput(size_t operands);
  /// The operands after the first were constants now held in `out`: keeps
  /// operand 0 only and checks the output has `shape`.
  bool readsOnlyData(const std::vector<int64_t> &shape);
};

} // namespace mobileone::runtime

#endif
