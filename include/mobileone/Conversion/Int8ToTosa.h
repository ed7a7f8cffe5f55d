//===- Int8ToTosa.h - an int8 .tflite as TOSA integer arithmetic -*- C++ -*-===//
//
// `mobileone-compile --precision int8 --target=tosa` quantises once, as for
// the int8 .tflite, and writes that model's integer arithmetic as TOSA
// (tosa.rescale with TFLite's rounding, int8 convolutions with zero points,
// int32 accumulators and biases, tosa.table for functions of one input)
// that upstream mlir-opt lowers and mlir-cpu-runner runs. The function's
// interface is int8: each argument and result carries its float meaning as
// `mobileone.scale` and `mobileone.zero_point` (real = scale x (q - zero
// point)); the .tflite's QUANTIZE of a float input and DEQUANTIZE of an
// output are the caller's (the runner harness does both).
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_CONVERSION_INT8TOTOSA_H
#define MOBILEONE_CONVERSION_INT8TOTOSA_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <string>

namespace mlir::mobileone {

/// The float meaning of an int8 interface tensor of a quantised TOSA module.
constexpr const char kQuantScaleAttr[] = "mobileone.scale";
constexpr const char kQuantZeroPointAttr[] = "mobileone.zero_point";

/// The int8 .tflite `bytes` (as `--precision int8` writes it) as a module
/// with one TOSA function @main of int8 tensors, the .tflite's shapes and
/// layout. Every operator must run in int8 (a float32 island is refused);
/// on failure, null and `error` names the operator and what was expected.
OwningOpRef<ModuleOp> lowerInt8TFLiteToTosa(MLIRContext *context,
                                            ArrayRef<uint8_t> bytes,
                                            std::string &error);

} // namespace mlir::mobileone

#endif
