//===- Passes.h - mobileone passes ------------------------------*- C++ -*-===//

#ifndef MOBILEONE_TRANSFORMS_PASSES_H
#define MOBILEONE_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::mobileone {

#define GEN_PASS_DECL
#include "mobileone/Transforms/Passes.h.inc"

/// Options of the `mobileone-reparameterize` pipeline.
struct ReparameterizeOptions
    : public PassPipelineOptions<ReparameterizeOptions> {
  PassOptions::Option<bool> checkSe{
      *this, "check-se",
      llvm::cl::desc("Run --mobileone-check-se (report only) first"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> releaseWeights{
      *this, "release-weights",
      llvm::cl::desc("Free each merged block's weight blobs as it goes (no "
                     "other module may share them)"),
      llvm::cl::init(false)};
};

/// Adds the whole re-parameterisation to `pm`.
void buildReparameterizePipeline(OpPassManager &pm,
                                 const ReparameterizeOptions &options);

/// Registers every pass and the `mobileone-reparameterize` pipeline.
void registerMobileOnePassesAndPipelines();

#define GEN_PASS_REGISTRATION
#include "mobileone/Transforms/Passes.h.inc"

} // namespace mlir::mobileone

#endif
