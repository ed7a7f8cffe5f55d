//===- Weights.h - reading and creating weight constants -------*- C++ -*-===//
//
// Weights are `arith.constant` ops holding f32 `dense` or `dense_resource`
// elements. Passes read them through these helpers and never care which.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_SUPPORT_WEIGHTS_H
#define MOBILEONE_SUPPORT_WEIGHTS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>
#include <vector>

namespace mlir::mobileone {

/// Returns the f32 elements of a constant tensor `value`, or std::nullopt if
/// `value` is not defined by a constant with f32 elements. Splats and
/// `dense<...>` are expanded into `storage`; `dense_resource` blobs are
/// returned without copying.
std::optional<ArrayRef<float>> getConstantF32(Value value,
                                              SmallVectorImpl<float> &storage);

/// Same for a constant attribute.
std::optional<ArrayRef<float>> getElementsF32(Attribute attr,
                                              SmallVectorImpl<float> &storage);

/// The attribute `createWeightConstant` uses: `dense_resource` from
/// `kResourceThreshold` elements on, `dense` below.
ElementsAttr makeWeightAttr(RankedTensorType type, ArrayRef<float> data,
                            StringRef nameHint);

/// Creates an `arith.constant` of `type` holding `data`. Tensors with at least
/// `kResourceThreshold` elements become `dense_resource` blobs named after
/// `nameHint` (made unique by the context), smaller ones plain `dense`.
Value createWeightConstant(OpBuilder &builder, Location loc,
                           RankedTensorType type, ArrayRef<float> data,
                           StringRef nameHint);

constexpr int64_t kResourceThreshold = 64;

/// The f32 elements of constant `value` as a vector, or std::nullopt after
/// emitting "<target>: <what> must be a constant" on `user`.
std::optional<std::vector<float>> requireConstantF32(Value value,
                                                     Operation *user,
                                                     StringRef target,
                                                     StringRef what);

} // namespace mlir::mobileone

#endif
