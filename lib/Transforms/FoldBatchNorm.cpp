//===- FoldBatchNorm.cpp - fold batch_norm into its conv2d ----------------===//

#include "mobileone/Transforms/BranchKernels.h"
#include "mobileone/Transforms/Passes.h"

namespace mlir::mobileone {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "mobileone/Transforms/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {
struct FoldBatchNormPass
    : public mobileone::impl::FoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    SmallVector<BatchNormOp> candidates;
    getOperation()->walk([&](BatchNormOp bn) {
      auto conv = bn.getInput().getDefiningOp<Conv2DOp>();
      if (conv && conv->hasOneUse())
        candidates.push_back(bn);
    });
    for (BatchNormOp bn : candidates) {
      auto conv = bn.getInput().getDefiningOp<Conv2DOp>();
      std::optional<math::Kernel> kernel = readConvKernel(conv);
      std::optional<math::BatchNorm> params = readBatchNorm(bn);
      if (!kernel || !params)
        continue; // Not foldable at compile time; leave it.
      math::Kernel folded = math::foldBatchNorm(*kernel, *params);
      OpBuilder builder(conv);
      Conv2DOp merged =
          createConv(builder, conv.getLoc(), bn.getType(), conv.getInput(),
                     folded, conv.getStrides(), conv.getPads(),
                     conv.getDilations(), conv.getGroup(), /*withBias=*/true);
      SmallVector<Value> oldWeights = {conv.getWeight(), conv.getBias(),
                                       bn.getScale(),    bn.getBias(),
                                       bn.getMean(),     bn.getVariance()};
      bn.replaceAllUsesWith(merged.getOutput());
      bn.erase();
      conv.erase();
      eraseDeadDefs(oldWeights);
    }
  }
};
} // namespace
