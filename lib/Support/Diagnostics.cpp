//===- Diagnostics.cpp - diagnostics for model files ----------------------===//

#include "mobileone/Support/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::mobileone;

static StringRef severityName(DiagnosticSeverity s) {
  switch (s) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  return "error";
}

ModelDiagnosticHandler::ModelDiagnosticHandler(llvm::SourceMgr &mgr,
                                               MLIRContext *ctx, StringRef file)
    : ModelDiagnosticHandler(mgr, ctx, file, llvm::errs()) {}

ModelDiagnosticHandler::ModelDiagnosticHandler(llvm::SourceMgr &mgr,
                                               MLIRContext *ctx, StringRef file,
                                               llvm::raw_ostream &out)
    : SourceMgrDiagnosticHandler(mgr, ctx, out), modelFile(file.str()) {
  // Replaces the handler the base class registered.
  setHandler([this, &out](Diagnostic &diag) {
    Location loc = diag.getLocation();
    auto fileLoc = dyn_cast<FileLineColLoc>(loc);
    if (fileLoc && fileLoc.getLine() > 0) {
      emitDiagnostic(diag);
      return;
    }
    std::string message = diag.str();
    std::string where;
    if (auto name = dyn_cast<NameLoc>(loc)) {
      std::string node = name.getName().str();
      if (message.find("'" + node + "'") == std::string::npos)
        where = " (at '" + node + "')";
    }
    StringRef file = fileLoc ? fileLoc.getFilename().strref() : modelFile;
    out << file << ": " << severityName(diag.getSeverity()) << ": "
                 << message << where << "\n";
    for (Diagnostic &note : diag.getNotes())
      out << file << ": note: " << note.str() << "\n";
  });
}
