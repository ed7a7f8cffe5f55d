//===- mobileone-opt.cpp - the mobileone optimizer driver -----------------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Dialect/MobileOne/MobileOneDialect.h"
#include "mobileone/Transforms/Passes.h"

#include "mobileone/Support/ToolSupport.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FileSystem.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  // Inputs are checked for what LLVM 19's parser aborts on.
  for (int i = 1; i < argc; ++i) {
    std::string error;
    if (argv[i][0] != '-' && llvm::sys::fs::is_regular_file(argv[i]) &&
        !mlir::mobileone::checkMLIRResources(argv[i], error)) {
      llvm::errs() << "mobileone-opt: " << error << "\n";
      return 1;
    }
  }
  // libLLVM's own options stay out of --help; MlirOptMain adds its options
  // (and our passes) after this.
  mlir::mobileone::setUpCommandLine("mobileone-opt", {});
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
