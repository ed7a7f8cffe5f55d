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
  // Every block (linear region) becomes one conv, composed in double and
  // rounded once.
  pm.addPass(createMergeBranches({options.releaseWeights}));
}

void mobileone::registerMobileOnePassesAndPipelines() {
  registerMobileOnePasses();
  PassPipelineRegistration<ReparameterizeOptions>(
      "mobileone-reparameterize",
      "Re-parameterise every linear region into one conv2d",
      buildReparameterizePipeline);
}
