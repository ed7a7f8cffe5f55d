//===- Indexing.h - row-major index helpers ---------------------*- C++ -*-===//
//
// Shared by the folders of the tensor ops and the reference evaluator.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_SUPPORT_INDEXING_H
#define MOBILEONE_SUPPORT_INDEXING_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>

namespace mlir::mobileone {

/// Row-major strides of `shape`.
inline llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Calls `fn(index, flat)` for every element of `shape` in row-major order.
template <typename F> void forEachIndex(llvm::ArrayRef<int64_t> shape, F fn) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  llvm::SmallVector<int64_t> index(shape.size(), 0);
  for (int64_t e = 0; e < n; ++e) {
    fn(llvm::ArrayRef<int64_t>(index), e);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
}

/// Offset of `index` (of a broadcast result) in a tensor of shape `in`
/// broadcast to it (NumPy rules: trailing dimensions align, size-1 repeats).
inline int64_t broadcastOffset(llvm::ArrayRef<int64_t> in,
                               llvm::ArrayRef<int64_t> index) {
  int64_t offset = 0, stride = 1;
  for (int64_t i = static_cast<int64_t>(in.size()) - 1,
               j = static_cast<int64_t>(index.size()) - 1;
       i >= 0; --i, --j) {
    if (in[i] != 1)
      offset += index[j] * stride;
    stride *= in[i];
  }
  return offset;
}

} // namespace mlir::mobileone

#endif
