//===- Layout.cpp - NCHW / NHWC shapes and weight relayout ----------------===//

#include "mobileone/Support/Layout.h"

using namespace mlir::mobileone;

llvm::SmallVector<int64_t, 4>
mlir::mobileone::permuteShape(llvm::ArrayRef<int64_t> shape,
                              llvm::ArrayRef<int64_t> perm) {
  llvm::SmallVector<int64_t, 4> out;
  for (int64_t p : perm)
    out.push_back(shape[p]);
  return out;
}

std::vector<float>
mlir::mobileone::transposeElements(llvm::ArrayRef<float> data,
                                   llvm::ArrayRef<int64_t> shape,
                                   llvm::ArrayRef<int64_t> perm) {
  const int64_t rank = shape.size();
  llvm::SmallVector<int64_t, 4> outShape = permuteShape(shape, perm);
  llvm::SmallVector<int64_t, 4> inStrides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    inStrides[i] = inStrides[i + 1] * shape[i + 1];
  std::vector<float> out(data.size());
  llvm::SmallVector<int64_t, 4> index(rank, 0);
  for (size_t e = 0; e < out.size(); ++e) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += index[d] * inStrides[perm[d]];
    out[e] = data[src];
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < outShape[d])
        break;
      index[d] = 0;
    }
  }
  return out;
}
