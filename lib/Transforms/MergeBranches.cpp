//===- MergeBranches.cpp - sum block branches into one conv2d -------------===//

#include "mobileone/Transforms/BranchKernels.h"
#include "mobileone/Transforms/Passes.h"

namespace mlir::mobileone {
#define GEN_PASS_DEF_MERGEBRANCHES
#include "mobileone/Transforms/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {
struct MergeBranchesPass
    : public mobileone::impl::MergeBranchesBase<MergeBranchesPass> {
  void runOnOperation() override {
    SmallVector<BlockOp> blocks;
    getOperation()->walk([&](BlockOp block) { blocks.push_back(block); });
    bool failedAny = false;
    for (BlockOp block : blocks)
      failedAny |= failed(merge(block));
    if (failedAny)
      signalPassFailure();
  }

  LogicalResult merge(BlockOp block) {
    std::optional<math::Kernel> sum;
    for (auto [index, branch] : llvm::enumerate(block.getBranches())) {
      std::optional<math::Kernel> k = computeBranchKernel(block, branch, index);
      if (!k)
        return failure();
      if (!sum)
        sum = std::move(*k);
      else
        math::accumulate(*sum, *k);
    }
    OpBuilder builder(block);
    Conv2DOp conv =
        createConv(builder, block.getLoc(), block.getType(), block.getInput(),
                   *sum, block.getStrides(), block.getPads(),
                   block.getDilations(), block.getGroup(), /*withBias=*/true);
    // Weights captured from outside the block die with it.
    SmallVector<Value> captured;
    block.walk([&](Operation *op) {
      for (Value operand : op->getOperands())
        if (operand.getParentRegion() != &block.getBody() &&
            !block.getBody().isAncestor(operand.getParentRegion()))
          captured.push_back(operand);
    });
    block.replaceAllUsesWith(conv.getOutput());
    block.erase();
    eraseDeadDefs(captured);
    return success();
  }
};
} // namespace
