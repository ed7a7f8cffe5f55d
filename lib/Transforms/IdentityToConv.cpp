//===- IdentityToConv.cpp - identity branches become conv2d ---------------===//

#include "mobileone/Transforms/BranchKernels.h"
#include "mobileone/Transforms/Passes.h"

namespace mlir::mobileone {
#define GEN_PASS_DEF_IDENTITYTOCONV
#include "mobileone/Transforms/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {
struct IdentityToConvPass
    : public mobileone::impl::IdentityToConvBase<IdentityToConvPass> {
  void runOnOperation() override {
    getOperation()->walk([](BlockOp block) {
      BlockArgument input = block.getBranchInput();
      ArrayRef<int64_t> kernel = block.getKernel();
      Operation *yield = block.getBody().front().getTerminator();
      for (OpOperand &branch : yield->getOpOperands()) {
        auto bn = branch.get().getDefiningOp<BatchNormOp>();
        bool bnOnly = bn && bn.getInput() == input;
        if (!bnOnly && branch.get() != input)
          continue;
        math::Kernel identity = math::identityKernel(
            input.getType().cast<ShapedType>().getDimSize(1), block.getGroup(),
            kernel[0], kernel[1]);
        OpBuilder builder(bnOnly ? bn.getOperation() : yield);
        Location loc = bnOnly ? bn.getLoc() : block.getLoc();
        Conv2DOp conv = createConv(builder, loc, input.getType(), input,
                                   identity, block.getStrides(),
                                   block.getPads(), block.getDilations(),
                                   block.getGroup(), /*withBias=*/false);
        if (bnOnly)
          bn.getInputMutable().assign(conv.getOutput());
        else
          branch.set(conv.getOutput());
      }
    });
  }
};
} // namespace
