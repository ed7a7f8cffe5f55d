//===- FuzzContext.h - the MLIR context of the MLIR fuzz targets -*- C++ -*-===//

#ifndef MOBILEONE_FUZZ_FUZZCONTEXT_H
#define MOBILEONE_FUZZ_FUZZCONTEXT_H

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>

namespace mobileone::fuzz {

/// The dialects a module may hold, diagnostics swallowed (errors are the
/// expected outcome). A context is costly to make; a fresh one every 500
/// inputs bounds what uniquing accumulates over a long run.
inline mlir::MLIRContext &fuzzContext() {
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
  return *context;
}

} // namespace mobileone::fuzz

#endif
