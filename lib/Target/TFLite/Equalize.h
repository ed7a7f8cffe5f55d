//===- Equalize.h - cross-layer equalisation before int8 --------*- C++ -*-===//
//
// int8 activations have one scale per tensor, so the channels of a tensor
// whose ranges differ widely (folded BN scales do that) share a step sized
// for the widest: a channel spanning 1/20 of the range keeps 4 bits. A
// positive per-channel scale commutes with ReLU, so a convolution A whose
// ReLU feeds only convolutions B can compute channel c scaled by 1/s_c
// (A's filter row and bias divided by s_c) while each B reads it with s_c
// folded into its weights: the same function, exactly, in real arithmetic.
// With s_c = (max_c / max)^alpha every channel of A's output spans more of
// the int8 range. Where every B is depthwise (per-channel weights: scaling
// a channel's taps costs them nothing) alpha = 1 equalises fully; a dense B
// pays in weight precision (its per-output-channel step is set by its
// widest column), so alpha = 1/2 splits the difference as Nagel et al.'s
// cross-layer equalisation does for weights.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_LIB_TARGET_TFLITE_EQUALIZE_H
#define MOBILEONE_LIB_TARGET_TFLITE_EQUALIZE_H

#include "mobileone/Target/TFLite.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace mlir::mobileone::tfl {

/// At most this factor of amplification for a channel (a channel nearly
/// silent on the calibration set may not be on other inputs).
constexpr double kMaxEqualizeBoost = 16.0;

/// Equalises every such pair in `func` in place (new weight constants;
/// weight math in double, rounded once). `rangeOf(name)`: the calibrated
/// range of the activated output of the convolution named `name`, or null.
/// Layers in `keepFloat` (and their readers and producers) are left alone.
/// Returns the equalised convolutions A, by name.
std::vector<std::string>
equalizeChannels(func::FuncOp func,
                 const std::function<const TensorRange *(StringRef)> &rangeOf,
                 const std::set<std::string> &keepFloat);

} // namespace mlir::mobileone::tfl

#endif
