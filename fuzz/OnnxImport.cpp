//===- OnnxImport.cpp - fuzz target: the ONNX importer --------------------===//
//
// Any bytes as `model.onnx`: parsed, imported (every op handler, constant
// folding, the dialect's verifiers) and verified. Errors are expected; a
// crash, a sanitizer report, a hang or an abort is a bug.
//
//===----------------------------------------------------------------------===//

#include "FuzzContext.h"
#include "FuzzSupport.h"

#include "mobileone/Target/ONNX.h"

#include "mlir/IR/Verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext &context = mobileone::fuzz::fuzzContext();
  std::string path = mobileone::fuzz::writeInput(data, size, "model.onnx");
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::mobileone::importONNXFile(&context, path);
  if (module && failed(mlir::verify(*module)))
    std::abort(); // the importer returned an invalid module
  return 0;
}
