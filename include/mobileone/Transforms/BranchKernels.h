//===- BranchKernels.h - kernels of block branches --------------*- C++ -*-===//
//
// The bridge between IR and the weight math: reads conv weights from
// constants, and writes double-precision kernels back as a conv2d.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_TRANSFORMS_BRANCHKERNELS_H
#define MOBILEONE_TRANSFORMS_BRANCHKERNELS_H

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Math/Reparam.h"

#include "mlir/IR/PatternMatch.h"
#include <optional>

namespace mlir::mobileone {

/// The f32 weight and bias (zeros when absent) of a conv2d, or failure
/// after "<target>: the conv weight/bias must be a constant" on `conv`.
LogicalResult requireConvConstants(Conv2DOp conv, StringRef target,
                                   std::vector<float> &weight,
                                   std::vector<float> &bias);

/// Creates `conv2d(input, k)` with constant weight and bias (rounded once to
/// f32) and the given attributes. The bias is omitted when `withBias` is
/// false.
Conv2DOp createConv(OpBuilder &builder, Location loc, Type resultType,
                    Value input, const math::Kernel &k,
                    ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                    ArrayRef<int64_t> dilations, int64_t group, bool withBias);

/// The op computing the map `m` of `input` (as fitted by
/// BlockOp::composeBody): a conv2d for [N, C, H, W], a linear for [N, C].
Value createMapOp(OpBuilder &builder, Location loc, Type resultType,
                  Value input, const math::LinearMap &m);

/// Erases the defining ops of `values` that became unused (weight constants
/// of rewritten ops).
void eraseDeadDefs(ArrayRef<Value> values);

} // namespace mlir::mobileone

#endif
