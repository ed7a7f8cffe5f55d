//===- MlirInput.cpp - fuzz target: MLIR input of mobileone-opt -----------===//
//
// Any bytes as `input.mlir`: the input check the MLIR tools run first
// (checkMLIRInput: file kinds, resource alignments), then, if it passes,
// MLIR's parser with the mobileone dialect (its custom syntax, attribute
// and type constraints) and the verifier (every op's verify()).
//
//===----------------------------------------------------------------------===//

#include "FuzzContext.h"
#include "FuzzSupport.h"

#include "mobileone/Support/ToolSupport.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext &context = mobileone::fuzz::fuzzContext();
  std::string path = mobileone::fuzz::writeInput(data, size, "input.mlir");
  std::string error;
  if (!mlir::mobileone::checkMLIRInput(path, error))
    return 0;
  mlir::ParserConfig config(&context);
  mlir::OwningOpRef<mlir::Operation *> op =
      mlir::parseSourceFile(path, config);
  if (op)
    (void)mlir::verify(*op);
  return 0;
}
