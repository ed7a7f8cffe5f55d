//===- Cost.h - parameters and multiply-adds --------------------*- C++ -*-===//

#ifndef MOBILEONE_TRANSFORMS_COST_H
#define MOBILEONE_TRANSFORMS_COST_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::mobileone {

struct Cost {
  int64_t params = 0;
  int64_t macs = 0;   ///< convolutions and linear layers
  int64_t seMacs = 0; ///< the two 1x1 convs of squeeze-excite modules
  /// Bytes of the feature maps the ops write (every result once; constants
  /// excluded): the activations a training-time graph's branches add.
  int64_t activationBytes = 0;
  /// Ops by name, in order of first appearance (constants, blocks and their
  /// contents included; terminators excluded).
  llvm::MapVector<StringRef, int64_t> ops;
};

/// Counts `func`, blocks included. See --mobileone-cost-report.
Cost computeCost(func::FuncOp func);

/// The cost of one op alone (a block's contents not included); `ops` empty.
Cost opCost(Operation *op);

} // namespace mlir::mobileone

#endif
