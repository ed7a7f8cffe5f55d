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
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include <memory>
#include <optional>
#include <string>
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

/// The same with `bytes` (f32, little-endian, aligned) becoming the
/// constant's blob as they are: no copy.
Value createWeightConstant(OpBuilder &builder, Location loc,
                           RankedTensorType type,
                           std::unique_ptr<std::string> bytes,
                           StringRef nameHint);

constexpr int64_t kResourceThreshold = 64;

/// The `dense_resource` weights the ops under `roots` hold, by blob key.
using WeightSet = llvm::StringMap<DenseResourceElementsHandle>;
WeightSet weightsOf(ArrayRef<Operation *> roots);

/// Frees the blobs of `candidates` that no op under `live` holds any more
/// (the weights a pass replaced: resource blobs live as long as the
/// context, not as long as the ops that read them). A freed blob is empty:
/// reading it fails as a non-constant would. `live` must name every module
/// still in use that may share them (clones share blobs). Returns the bytes
/// freed.
size_t releaseWeights(const WeightSet &candidates,
                      ArrayRef<Operation *> live);

/// The f32 elements of constant `value` as a vector, or std::nullopt after
/// emitting "<target>: <what> must be a constant" on `user`.
std::optional<std::vector<float>> requireConstantF32(Value value,
                                                     Operation *user,
                                                     StringRef target,
                                                     StringRef what);

} // namespace mlir::mobileone

#endif
