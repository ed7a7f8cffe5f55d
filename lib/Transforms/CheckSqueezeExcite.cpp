//===- CheckSqueezeExcite.cpp - report and check SE placement -------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Transforms/Passes.h"

#include "llvm/ADT/STLExtras.h"

namespace mlir::mobileone {
#define GEN_PASS_DEF_CHECKSQUEEZEEXCITE
#include "mobileone/Transforms/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {

/// A layer of the network: a block, or a conv2d outside blocks (a block
/// after re-parameterisation).
bool isLayer(Operation *op) {
  if (isa<BlockOp>(op))
    return true;
  return isa<Conv2DOp>(op) && !op->getParentOfType<BlockOp>();
}

int64_t strideOf(Operation *op) {
  if (auto block = dyn_cast<BlockOp>(op))
    return block.getStrides()[0] * block.getStrides()[1];
  auto conv = cast<Conv2DOp>(op);
  return conv.getStrides()[0] * conv.getStrides()[1];
}

struct CheckSqueezeExcitePass
    : public mobileone::impl::CheckSqueezeExciteBase<CheckSqueezeExcitePass> {
  using CheckSqueezeExciteBase::CheckSqueezeExciteBase;

  void runOnOperation() override {
    markAllAnalysesPreserved();
    int64_t layer = -1, stage = -1, count = 0;
    bool violated = false;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isLayer(op)) {
        ++layer;
        if (stage < 0 || strideOf(op) > 1)
          ++stage;
        return;
      }
      auto se = dyn_cast<SqueezeExciteOp>(op);
      if (!se)
        return;
      ++count;
      int64_t seStage = std::max<int64_t>(stage, 0);
      if (report)
        se.emitRemark("squeeze_excite #")
            << count - 1 << " after layer #" << layer << " (stage " << seStage
            << "): " << se.getChannels() << " channels, "
            << se.getReducedChannels() << " reduced";
      auto complain = [&]() {
        violated = true;
        return asErrors ? se.emitError() : se.emitWarning();
      };
      if (maxCount >= 0 && count == maxCount + 1)
        complain() << "more than " << maxCount.getValue()
                   << " squeeze_excite modules (max-count)";
      if (!allowedStages.empty() && !llvm::is_contained(allowedStages, seStage))
        complain() << "squeeze_excite in stage " << seStage
                   << ", allowed only in stages ["
                   << ArrayRef<int64_t>(allowedStages) << "]";
      if (requireAfterSum) {
        Operation *def = se.getInput().getDefiningOp();
        if (!def || !isLayer(def))
          complain() << "squeeze_excite must read a block sum (a "
                        "'mobileone.block' or its merged conv2d), got "
                     << (def ? "'" + def->getName().getStringRef().str() + "'"
                             : std::string("a function argument"));
        for (Operation *user : se->getUsers())
          if (!isa<ReluOp>(user)) {
            complain() << "squeeze_excite must feed the block activation "
                          "'mobileone.relu', got '"
                       << user->getName() << "'";
            break;
          }
      }
    });
    if (violated && asErrors)
      signalPassFailure();
  }
};
} // namespace
