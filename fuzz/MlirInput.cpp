//===- MlirInput.cpp - fuzz target: MLIR input of mobileone-opt -----------===//
//
// Any bytes as `input.mlir`: the input check the MLIR tools run first
// (checkMLIRInput: file kinds, resource alignments), then, if it passes,
// MLIR's parser with the mobileone dialect (its custom syntax, attribute
// and type constraints) and the verifier (every op's verify()).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/ToolSupport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static std::unique_ptr<mlir::MLIRContext> context;
  static int uses = 0;
  if (!context || ++uses % 500 == 0) {
    mlir::DialectRegistry registry;
    registry.insert<mlir::mobileone::MobileOneDialect, mlir::func::FuncDialect,
                    mlir::arith::ArithDialect>();
    context = std::make_unique<mlir::MLIRContext>(registry);
    context->loadAllAvailableDialects();
    context->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
  }
  std::string path = mobileone::fuzz::writeInput(data, size, "input.mlir");
  std::string error;
  if (!mlir::mobileone::checkMLIRInput(path, error))
    return 0;
  mlir::ParserConfig config(context.get());
  mlir::OwningOpRef<mlir::Operation *> op =
      mlir::parseSourceFile(path, config);
  if (op)
    (void)mlir::verify(*op);
  return 0;
}
