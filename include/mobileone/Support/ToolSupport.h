//===- ToolSupport.h - what every mobileone tool does the same way -*- C++ -*-//
//
// A clean command line (--help lists the tool's own options, --version the
// project's version) and output files that are written whole or not at all.
// LLVM Support only: the runtime's tools use it too.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_SUPPORT_TOOLSUPPORT_H
#define MOBILEONE_SUPPORT_TOOLSUPPORT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"

#include <optional>
#include <string>

namespace mlir::mobileone {

/// The project version, e.g. "0.2.0".
const char *projectVersion();

/// Before cl::ParseCommandLineOptions: --help shows only the options of
/// `categories` (the rest stay reachable with --help-hidden), --version
/// prints "<tool> <version> (LLVM/MLIR <llvm version>)", and a write past the
/// file-size limit becomes an error instead of a signal.
void setUpCommandLine(llvm::StringRef tool,
                      llvm::ArrayRef<const llvm::cl::OptionCategory *> categories);

/// argv as one line a shell reads back (arguments quoted where needed), as
/// reports record it.
std::string commandLineOf(int argc, char **argv);

/// Writes `bytes` to `path` ("-" is standard output) through a temporary file
/// in the same directory that is renamed over `path` only when complete: a
/// failed write (disk full, file-size limit, a killed process) leaves any
/// earlier file at `path` intact (after SIGKILL the temporary file stays
/// beside it; other signals remove it). The data is synced before the rename.
/// Refuses a `path` that is one of `inputs`.
/// Returns false with a message naming the file and the reason in `error`.
bool writeOutputFile(llvm::StringRef path, llvm::StringRef bytes,
                     llvm::ArrayRef<llvm::StringRef> inputs, std::string &error);

/// Checks an MLIR input for what LLVM 19's MLIR parser does not check, or
/// reports badly, before it allocates: a TFLite FlatBuffer or another
/// binary file that is not MLIR bytecode (an ONNX model) is named as such
/// (the parser would print its bytes as the offending line), and every hex
/// `dialect_resources` blob of an MLIR text file must start with a
/// non-zero, power-of-two alignment (alignment 0 makes the parser throw
/// std::bad_alloc and abort). Bytecode and unreadable files pass: the parser
/// reports those itself. Returns false with a message in `error`.
bool checkMLIRInput(llvm::StringRef path, std::string &error);

/// An option's value if it was given on the command line.
template <typename T>
std::optional<T> given(const llvm::cl::opt<T> &o) {
  return o.getNumOccurrences() ? std::optional<T>(o.getValue()) : std::nullopt;
}

} // namespace mlir::mobileone

#endif
