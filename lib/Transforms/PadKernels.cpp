//===- PadKernels.cpp - zero-pad branch kernels to the block kernel -------===//

#include "mobileone/Transforms/BranchKernels.h"
#include "mobileone/Transforms/Passes.h"

namespace mlir::mobileone {
#define GEN_PASS_DEF_PADKERNELS
#include "mobileone/Transforms/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {
struct PadKernelsPass : public mobileone::impl::PadKernelsBase<PadKernelsPass> {
  void runOnOperation() override {
    SmallVector<std::pair<BlockOp, Conv2DOp>> smaller;
    getOperation()->walk([&](BlockOp block) {
      ArrayRef<int64_t> kernel = block.getKernel();
      for (Operation &op : block.getBody().front())
        if (auto conv = dyn_cast<Conv2DOp>(op))
          if (conv.getInput() == block.getBranchInput() &&
              (conv.getKernelH() != kernel[0] ||
               conv.getKernelW() != kernel[1]))
            smaller.push_back({block, conv});
    });
    for (auto [block, conv] : smaller) {
      std::optional<math::Kernel> k = readConvKernel(conv);
      if (!k) {
        conv.emitWarning("kernel is not a constant; left unpadded");
        continue;
      }
      math::Kernel padded =
          math::padKernel(*k, block.getKernel()[0], block.getKernel()[1]);
      OpBuilder builder(conv);
      Conv2DOp replacement = createConv(
          builder, conv.getLoc(), conv.getType(), conv.getInput(), padded,
          conv.getStrides(), block.getPads(), conv.getDilations(),
          conv.getGroup(), /*withBias=*/static_cast<bool>(conv.getBias()));
      SmallVector<Value> oldWeights = {conv.getWeight(), conv.getBias()};
      conv.replaceAllUsesWith(replacement.getOutput());
      conv.erase();
      eraseDeadDefs(oldWeights);
    }
  }
};
} // namespace
