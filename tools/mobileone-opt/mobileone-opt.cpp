//===- mobileone-opt.cpp - the mobileone optimizer driver -----------------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Dialect/MobileOne/MobileOneDialect.h"
#include "mobileone/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::mobileone::MobileOneDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::tosa::TosaDialect>();
  mlir::mobileone::registerMobileOnePassesAndPipelines();
  mlir::mobileone::registerMobileOneConversionPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "mobileone optimizer driver\n", registry));
}
