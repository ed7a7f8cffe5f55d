//===- Reparameterize.cpp - the re-parameterisation pipeline --------------===//

#include "mobileone/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void mobileone::buildReparameterizePipeline(
    OpPassManager &pm, const ReparameterizeOptions &options) {
  // Imported graphs are flat: form the blocks (and SE) first.
  pm.addPass(createRecoverStructure());
  if (options.checkSe)
    pm.addPass(createCheckSqueezeExcite());
  // Merging derives every branch kernel (BN fold, identity, padding) in double
  // and rounds once; the separate step passes would round after each step.
  pm.addPass(createMergeBranches());
  // Whatever conv -> batch_norm pairs remain outside blocks.
  pm.addPass(createFoldBatchNorm());
}

void mobileone::registerMobileOnePassesAndPipelines() {
  registerMobileOnePasses();
  PassPipelineRegistration<ReparameterizeOptions>(
      "mobileone-reparameterize",
      "Re-parameterise every block into one conv2d and fold remaining BNs",
      buildReparameterizePipeline);
}
