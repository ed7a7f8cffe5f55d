//===- Evaluator.h - reference evaluation of mobileone modules -*- C++ -*-===//
//
// A straightforward, multi-threaded interpreter of `func.func` bodies in the
// mobileone dialect (blocks included). It is the numerical reference for the
// equivalence checks: clarity first, but fast enough for MobileOne S4 at 224.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_EVALUATOR_EVALUATOR_H
#define MOBILEONE_EVALUATOR_EVALUATOR_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <vector>

namespace mlir::mobileone {

struct Tensor {
  SmallVector<int64_t, 4> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(ArrayRef<int64_t> shape);
  int64_t numElements() const;
};

/// The function to evaluate: `@main`, or else the only `func.func`. Emits an
/// error on the module and returns null if there is none.
func::FuncOp findEntryFunction(ModuleOp module);

/// Standard-normal values for `type` (static shape), reproducible per seed.
Tensor randomTensor(ArrayRef<int64_t> shape, uint64_t seed);

/// The wall time of one op of the function body (a block's contents count
/// towards the block).
struct OpTime {
  Operation *op;
  double ms;
};

/// Evaluates `func` on `inputs`. On an unsupported op or a mismatch, emits an
/// error located at the op and returns failure. With `profile`, appends the
/// time of every op of the body in program order.
FailureOr<SmallVector<Tensor>> evaluate(func::FuncOp func,
                                        ArrayRef<Tensor> inputs,
                                        unsigned threads = 0,
                                        std::vector<OpTime> *profile = nullptr);

} // namespace mlir::mobileone

#endif
