//===- Diagnostics.h - diagnostics for model files --------------*- C++ -*-===//
//
// Imported models are binary: their ops are located by ONNX node name
// (NameLoc), not by line. This handler prints such diagnostics as
//   model.onnx: error: node 'Conv_3' (Conv): ...
// and defers everything located in a text file to MLIR's SourceMgr printer.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_SUPPORT_DIAGNOSTICS_H
#define MOBILEONE_SUPPORT_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/SourceMgr.h"

namespace mlir::mobileone {

class ModelDiagnosticHandler : public SourceMgrDiagnosticHandler {
public:
  /// `modelFile` names the binary input in messages without a text location.
  /// Messages go to `os` (default: stderr).
  ModelDiagnosticHandler(llvm::SourceMgr &mgr, MLIRContext *ctx,
                         StringRef modelFile);
  ModelDiagnosticHandler(llvm::SourceMgr &mgr, MLIRContext *ctx,
                         StringRef modelFile, llvm::raw_ostream &os);

private:
  std::string modelFile;
};

} // namespace mlir::mobileone

#endif
