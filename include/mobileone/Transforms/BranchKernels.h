//===- BranchKernels.h - kernels of block branches --------------*- C++ -*-===//
//
// The bridge between IR and the weight math: reads conv weights and BN
// parameters from constants into double-precision kernels, and writes
// kernels back as a conv2d.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_TRANSFORMS_BRANCHKERNELS_H
#define MOBILEONE_TRANSFORMS_BRANCHKERNELS_H

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Math/Reparam.h"

#include "mlir/IR/PatternMatch.h"
#include <optional>

namespace mlir::mobileone {

/// The kernel of a conv2d with constant weight (and bias, if any).
std::optional<math::Kernel> readConvKernel(Conv2DOp conv);

/// The f32 weight and bias (zeros when absent) of a conv2d, or failure
/// after "<target>: the conv weight/bias must be a constant" on `conv`.
LogicalResult requireConvConstants(Conv2DOp conv, StringRef target,
                                   std::vector<float> &weight,
                                   std::vector<float> &bias);

/// The parameters of a batch_norm with constant operands.
std::optional<math::BatchNorm> readBatchNorm(BatchNormOp bn);

/// The effective kernel of one branch of `block`, folded and padded to the
/// block kernel, in double. Emits an error on `block` and returns nullopt if
/// a weight is not constant.
std::optional<math::Kernel> computeBranchKernel(BlockOp block, Value branch,
                                                unsigned index);

/// Creates `conv2d(input, k)` with constant weight and bias (rounded once to
/// f32) and the given attributes. The bias is omitted when `withBias` is
/// false.
Conv2DOp createConv(OpBuilder &builder, Location loc, Type resultType,
                    Value input, const math::Kernel &k,
                    ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                    ArrayRef<int64_t> dilations, int64_t group, bool withBias);

/// Erases the defining ops of `values` that became unused (weight constants
/// of rewritten ops).
void eraseDeadDefs(ArrayRef<Value> values);

} // namespace mlir::mobileone

#endif
