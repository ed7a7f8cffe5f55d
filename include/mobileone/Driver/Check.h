//===- Check.h - --check: the written artifact against the training graph -===//
//
// `mobileone-compile --check` runs the file it is about to write, not the
// compiler's internal module: a .tflite in the runtime (its XNNPACK and
// native kernels, as deployed), an .onnx re-imported from its own bytes and
// evaluated, a deploy-time .mlir / .mlirbc evaluated, TOSA (float or
// quantised) lowered by upstream mlir-opt-19 and run by mlir-cpu-runner-19
// (a note says so where those are not installed). Inputs are in the ONNX
// model's layout.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_DRIVER_CHECK_H
#define MOBILEONE_DRIVER_CHECK_H

#include "mobileone/Evaluator/Evaluator.h"

#include <string>
#include <vector>

namespace mlir::mobileone {

struct OutputDifference {
  std::string name;
  double maxAbs = 0.0, relative = 0.0;
};

struct ArtifactCheck {
  /// What ran, e.g. "m.tflite in the runtime (native+xnnpack)".
  std::string what;
  /// Per graph output, in order; empty if nothing ran (see `note`).
  std::vector<OutputDifference> outputs;
  std::string note;
};

/// Runs `bytes`, the file `path` about to be written (its format by
/// extension; `tosa` for TOSA MLIR), on `inputs` and compares each output
/// with `reference`. `deployed` is the deploy-time function (what .mlir
/// holds). Fails with `error` if the artifact cannot run.
LogicalResult checkArtifact(StringRef path, StringRef bytes, bool tosa,
                            func::FuncOp deployed, ArrayRef<Tensor> inputs,
                            ArrayRef<Tensor> reference, ArtifactCheck &out,
                            std::string &error);

} // namespace mlir::mobileone

#endif
