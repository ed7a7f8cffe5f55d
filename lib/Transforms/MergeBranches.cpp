//===- MergeBranches.cpp - every block becomes one conv2d -----------------===//

#include "mobileone/Transforms/BranchKernels.h"
#include "mobileone/Transforms/Passes.h"
#include "mobileone/Support/Weights.h"

namespace mlir::mobileone {
#define GEN_PASS_DEF_MERGEBRANCHES
#include "mobileone/Transforms/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {
struct MergeBranchesPass
    : public mobileone::impl::MergeBranchesBase<MergeBranchesPass> {
  using MergeBranchesBase::MergeBranchesBase;
  void runOnOperation() override {
    // Whether a blob is still read is decided over the whole module; nested
    // under it (e.g. per function, in parallel) that is not knowable.
    if (releaseWeights && !isa<ModuleOp>(getOperation())) {
      getOperation()->emitError(
          "mobileone-merge-branches: release-weights needs the pass to run "
          "on a module");
      return signalPassFailure();
    }
    SmallVector<BlockOp> blocks;
    getOperation()->walk([&](BlockOp block) { blocks.push_back(block); });
    bool failedAny = false;
    for (BlockOp block : blocks)
      failedAny |= failed(merge(block));
    if (failedAny)
      signalPassFailure();
  }

  LogicalResult merge(BlockOp block) {
    // The same composition the verifier checked, now with the weights, in
    // double; rounded to f32 once, here.
    std::optional<math::LinearMap> map = block.composeBody(/*withValues=*/true);
    if (!map)
      return failure();
    OpBuilder builder(block);
    Value merged = createMapOp(builder, block.getLoc(), block.getType(),
                               block.getInput(), *map);
    // Weights captured from outside the block die with it.
    SmallVector<Value> captured;
    block.walk([&](Operation *op) {
      for (Value operand : op->getOperands())
        if (operand.getParentRegion() != &block.getBody() &&
            !block.getBody().isAncestor(operand.getParentRegion()))
          captured.push_back(operand);
    });
    WeightSet weights;
    if (releaseWeights) {
      SmallVector<Operation *> holders = {block};
      for (Value v : captured)
        if (Operation *def = v.getDefiningOp())
          holders.push_back(def);
      weights = weightsOf(holders);
    }
    block.replaceAllUsesWith(merged);
    block.erase();
    eraseDeadDefs(captured);
    if (releaseWeights)
      mobileone::releaseWeights(weights, {getOperation()});
    return success();
  }
};
} // namespace
