//===- Layout.h - NCHW / NHWC shapes and weight relayout --------*- C++ -*-===//

#ifndef MOBILEONE_SUPPORT_LAYOUT_H
#define MOBILEONE_SUPPORT_LAYOUT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <vector>

namespace mlir::mobileone {

/// Permutations as "output dimension i is input dimension perm[i]".
constexpr int64_t kNCHWToNHWC[4] = {0, 2, 3, 1};
constexpr int64_t kNHWCToNCHW[4] = {0, 3, 1, 2};
/// Conv weights OIHW -> OHWI (TOSA conv2d, TFLite CONV_2D).
constexpr int64_t kOIHWToOHWI[4] = {0, 2, 3, 1};

llvm::SmallVector<int64_t, 4> permuteShape(llvm::ArrayRef<int64_t> shape,
                                           llvm::ArrayRef<int64_t> perm);

/// Row-major `data` of `shape`, transposed by `perm`.
std::vector<float> transposeElements(llvm::ArrayRef<float> data,
                                     llvm::ArrayRef<int64_t> shape,
                                     llvm::ArrayRef<int64_t> perm);

} // namespace mlir::mobileone

#endif
