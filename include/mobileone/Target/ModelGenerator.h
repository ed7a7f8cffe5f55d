//===- ModelGenerator.h - training-time models in the dialect --*- C++ -*-===//
//
// Builds MobileOne S0..S4 and single random blocks in the mobileone dialect,
// with seeded random weights and non-trivial BN statistics so that every
// folding step is exercised.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_TARGET_MODELGENERATOR_H
#define MOBILEONE_TARGET_MODELGENERATOR_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir::mobileone {

struct MobileOneConfig {
  std::string variant = "s0"; ///< s0 .. s4
  int64_t resolution = 224;
  int64_t batch = 1;
  int64_t numClasses = 1000;
  uint64_t seed = 0;
};

/// One re-parameterisable block with explicit branch structure.
struct BlockConfig {
  int64_t inChannels = 8;
  int64_t outChannels = 8;
  int64_t kernel = 3;
  int64_t stride = 1;
  int64_t group = 1;
  int64_t convBranches = 1; ///< k parallel conv + BN branches
  bool scale = false;       ///< 1x1 conv + BN branch (kernel > 1 only)
  bool identity = false;    ///< BN-only skip branch
  int64_t size = 16;        ///< input height and width
  int64_t batch = 1;
  uint64_t seed = 0;
};

/// Parses "key=value,..." (keys as the BlockConfig fields: in, out, kernel,
/// stride, group, branches, scale, identity, size, batch). Returns an error
/// message, empty on success.
std::string parseBlockConfig(llvm::StringRef spec, BlockConfig &config);

/// Returns null and sets `error` on an invalid configuration.
OwningOpRef<ModuleOp> generateMobileOne(MLIRContext *context,
                                        const MobileOneConfig &config,
                                        std::string &error);
OwningOpRef<ModuleOp> generateBlock(MLIRContext *context,
                                    const BlockConfig &config,
                                    std::string &error);

} // namespace mlir::mobileone

#endif
