//===- IdentitySplit.h - identity taps kept out of int8 kernels -*- C++ -*-===//
//
// Re-parameterisation folds a block's identity (or BN-skip) branch into its
// kernel: the centre tap of output channel c reading input channel c gains
// gamma_c / sqrt(var_c + eps), often the largest weight of the channel by
// far. int8 weights are per output channel, so that one tap sets the step of
// all the others: measured on MobileOne S1..S4, the folded 1x1 kernels keep
// 28-30 dB of weight SQNR, and the model's int8 output no more.
//
// The exact alternative: y = conv(x, W - T) + T x, the identity taps T as a
// DEPTHWISE_CONV_2D 1x1 (per-channel int8 weights: each tap exact) and an
// ADD that carries the conv's fused activation. It costs two operators
// (compute-bound in int8: the ADD requantises each input and the sum); they
// are chosen where they buy the most weight SQNR, within a latency budget.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_LIB_TARGET_TFLITE_IDENTITYSPLIT_H
#define MOBILEONE_LIB_TARGET_TFLITE_IDENTITYSPLIT_H

#include "mobileone/Target/TFLite.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <vector>

namespace mlir::mobileone::tfl {

/// The name the TFLite target gives `op`'s tensors: its NameLoc (the ONNX
/// node), the first one of a fused location, else the op's name.
std::string opName(Operation *op);

/// A convolution's kernel split into the rest and its identity taps.
struct IdentityTaps {
  /// The weights without the taps, in the TOSA op's layout.
  std::vector<float> kernel;
  /// One tap per channel.
  std::vector<float> taps;
};

/// Chooses the TOSA convolutions of `func` (NHWC, weights constant) whose
/// identity taps stay out of the kernel under `folding`; `skip` are not
/// considered. Every candidate, chosen or not, is appended to `record` if
/// set, and the model's estimated int8 time (seconds) to `int8Seconds`.
/// Deterministic: a function of the weights and shapes alone.
llvm::DenseMap<Operation *, IdentityTaps>
chooseIdentitySplits(func::FuncOp func, const llvm::DenseSet<Operation *> &skip,
                     const Int8Folding &folding,
                     std::vector<IdentitySplit> *record,
                     double *int8Seconds = nullptr);

} // namespace mlir::mobileone::tfl

#endif
