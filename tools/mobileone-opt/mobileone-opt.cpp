//===- mobileone-opt.cpp - the mobileone optimizer driver -----------------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Dialect/MobileOne/MobileOneDialect.h"
#include "mobileone/Transforms/Passes.h"

#include "mobileone/Support/ToolSupport.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Debug/Counter.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/FileSystem.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  // Inputs are checked for what LLVM 19's parser aborts on.
  for (int i = 1; i < argc; ++i) {
    std::string error;
    if (argv[i][0] != '-' && llvm::sys::fs::is_regular_file(argv[i]) &&
        !mlir::mobileone::checkMLIRInput(argv[i], error)) {
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
  // MLIR's options, registered now (MlirOptMain registers them again, which
  // is a no-op) so that --help can leave out the ones for debugging MLIR
  // itself; --help-hidden still lists them.
  mlir::MlirOptMainConfig::registerCLOptions(registry);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  mlir::tracing::DebugCounter::registerCLOptions();
  for (const char *name :
       {"irdl-file", "load-dialect-plugin", "load-pass-plugin",
        "log-actions-to", "log-mlir-actions-filter", "mlir-debug-counter",
        "mlir-enable-debugger-hook", "mlir-generate-reproducer",
        "mlir-pass-pipeline-crash-reproducer",
        "mlir-pass-pipeline-local-reproducer", "mlir-pass-statistics-display",
        "mlir-pretty-debuginfo", "mlir-print-debug-counter",
        "mlir-print-ir-module-scope", "mlir-print-ir-tree-dir",
        "mlir-print-skip-regions", "mlir-print-stacktrace-on-diagnostic",
        "mlir-print-unique-ssa-ids", "mlir-print-value-users",
        "mlir-timing-display", "mlir-output-format", "profile-actions-to",
        "run-reproducer", "output-split-marker", "verify-roundtrip",
        "emit-bytecode-version", "no-implicit-module",
        "mlir-print-op-on-diagnostic", "elide-resource-data-from-bytecode",
        "mlir-print-local-scope", "mlir-print-ir-after-change",
        "mlir-print-ir-after-failure", "mlir-print-ir-before",
        "mlir-print-ir-after", "dump-pass-pipeline", "mlir-disable-threading",
        "allow-unregistered-dialect", "mlir-pass-statistics",
        "mlir-print-elementsattrs-with-hex-if-larger", "show-dialects",
        "verify-each"}) {
    auto &options = llvm::cl::getRegisteredOptions();
    if (auto it = options.find(name); it != options.end())
      it->second->setHiddenFlag(llvm::cl::Hidden);
  }
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "mobileone optimizer driver\n", registry));
}
