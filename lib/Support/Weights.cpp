//===- Weights.cpp - reading and creating weight constants ----------------===//

#include "mobileone/Support/Weights.h"
#include "mobileone/Support/Limits.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringExtras.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

using namespace mlir;

std::optional<ArrayRef<float>>
mobileone::getElementsF32(Attribute attr, SmallVectorImpl<float> &storage) {
  if (auto resource = dyn_cast_or_null<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data)
      return std::nullopt;
    // A blob shorter than its type would be read out of bounds later.
    if (static_cast<int64_t>(data->size()) != resource.getNumElements())
      return std::nullopt;
    return data;
  }
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  // A splat expands here: past the limit it is refused, not allocated.
  if (!dense || !dense.getElementType().isF32() ||
      dense.getNumElements() > kMaxTensorElements)
    return std::nullopt;
  storage.clear();
  storage.reserve(dense.getNumElements());
  for (float v : dense.getValues<float>())
    storage.push_back(v);
  return ArrayRef<float>(storage);
}

std::optional<ArrayRef<float>>
mobileone::getConstantF32(Value value, SmallVectorImpl<float> &storage) {
  Attribute attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  return getElementsF32(attr, storage);
}

/// Resource keys print bare, so they must be identifiers: ONNX names such as
/// "onnx::Conv_12" or "/stage0/Add" are not.
static std::string resourceKey(StringRef name) {
  std::string key;
  for (char c : name)
    key += (llvm::isAlnum(c) || c == '_' || c == '.') ? c : '_';
  if (key.empty() || !(llvm::isAlpha(key[0]) || key[0] == '_'))
    key = "w_" + key;
  return key;
}

ElementsAttr mobileone::makeWeightAttr(RankedTensorType type,
                                       ArrayRef<float> data,
                                       StringRef nameHint) {
  if (type.getNumElements() >= kResourceThreshold)
    return cast<ElementsAttr>(Attribute(DenseF32ResourceElementsAttr::get(
        type, resourceKey(nameHint),
        HeapAsmResourceBlob::allocateAndCopyInferAlign(data))));
  return cast<ElementsAttr>(DenseElementsAttr::get(type, data));
}

Value mobileone::createWeightConstant(OpBuilder &builder, Location loc,
                                      RankedTensorType type,
                                      ArrayRef<float> data,
                                      StringRef nameHint) {
  return builder.create<arith::ConstantOp>(
      loc, cast<TypedAttr>(makeWeightAttr(type, data, nameHint)));
}

Value mobileone::createWeightConstant(OpBuilder &builder, Location loc,
                                      RankedTensorType type,
                                      std::unique_ptr<std::string> bytes,
                                      StringRef nameHint) {
  ArrayRef<float> data(reinterpret_cast<const float *>(bytes->data()),
                       bytes->size() / sizeof(float));
  if (type.getNumElements() < kResourceThreshold)
    return createWeightConstant(builder, loc, type, data, nameHint);
  std::string *owned = bytes.release();
  AsmResourceBlob blob(
      ArrayRef<char>(owned->data(), owned->size()), alignof(float),
      [owned](void *, size_t, size_t) { delete owned; },
      /*dataIsMutable=*/true);
  return builder.create<arith::ConstantOp>(
      loc, cast<TypedAttr>(Attribute(DenseF32ResourceElementsAttr::get(
               type, resourceKey(nameHint), std::move(blob)))));
}

std::optional<std::vector<float>>
mobileone::requireConstantF32(Value value, Operation *user, StringRef target,
                              StringRef what) {
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> data = getConstantF32(value, storage);
  if (!data) {
    auto type = dyn_cast_or_null<ShapedType>(value ? value.getType() : Type());
    if (type && type.hasStaticShape() &&
        type.getNumElements() > kMaxTensorElements) {
      user->emitError(target)
          << ": " << what << " has more than " << kMaxTensorElementsText
          << " elements, the limit per tensor";
      return std::nullopt;
    }
    user->emitError(target) << ": " << what << " must be a constant";
    return std::nullopt;
  }
  return std::vector<float>(data->begin(), data->end());
}

mobileone::WeightSet mobileone::weightsOf(ArrayRef<Operation *> roots) {
  WeightSet weights;
  for (Operation *root : roots)
    root->walk([&](Operation *op) {
      for (NamedAttribute a : op->getAttrs())
        a.getValue().walk([&](DenseResourceElementsAttr r) {
          DenseResourceElementsHandle h = r.getRawHandle();
          weights.try_emplace(h.getKey(), h);
        });
    });
  return weights;
}

size_t mobileone::releaseWeights(const WeightSet &candidates,
                                 ArrayRef<Operation *> live) {
  WeightSet kept = weightsOf(live);
  size_t freed = 0;
  for (const auto &entry : candidates) {
    if (kept.count(entry.getKey()))
      continue;
    DenseResourceElementsHandle h = entry.getValue();
    if (AsmResourceBlob *blob = h.getBlob()) {
      freed += blob->getData().size();
      h.getResource()->setBlob(AsmResourceBlob());
    }
  }
#ifdef __GLIBC__
  // Blobs below malloc's mmap threshold go back to its free lists, which
  // keep them from the system: give the pages back (they are what the
  // next step, e.g. the output buffer, needs).
  if (freed >= (16u << 20))
    malloc_trim(0);
#endif
  return freed;
}
