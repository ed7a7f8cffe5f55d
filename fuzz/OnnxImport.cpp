//===- OnnxImport.cpp - fuzz target: the ONNX importer --------------------===//
//
// Any bytes as `model.onnx`: parsed, imported (every op handler, constant
// folding, the dialect's verifiers) and verified. Errors are expected; a
// crash, a sanitizer report, a hang or an abort is a bug.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Target/ONNX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A context is costly to make; a fresh one now and then bounds what
  // uniquing accumulates over a long run.
  static std::unique_ptr<mlir::MLIRContext> context;
  static int uses = 0;
  if (!context || ++uses % 500 == 0) {
    mlir::DialectRegistry registry;
    registry.insert<mlir::mobileone::MobileOneDialect, mlir::func::FuncDialect,
                    mlir::arith::ArithDialect>();
    context = std::make_unique<mlir::MLIRContext>(registry);
    context->loadAllAvailableDialects();
    // Diagnostics are the expected outcome: swallow them.
    context->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
  }
  std::string path = mobileone::fuzz::writeInput(data, size, "model.onnx");
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::mobileone::importONNXFile(context.get(), path);
  if (module && failed(mlir::verify(*module)))
    std::abort(); // the importer returned an invalid module
  return 0;
}
