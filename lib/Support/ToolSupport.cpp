//===- ToolSupport.cpp - command line and output files of the tools -------===//

#include "mobileone/Support/ToolSupport.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "llvm/Config/llvm-config.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <csignal>

#ifndef MOBILEONE_VERSION
#error "MOBILEONE_VERSION is set by CMake from project(VERSION)"
#endif

using namespace llvm;

const char *mlir::mobileone::projectVersion() { return MOBILEONE_VERSION; }

void mlir::mobileone::setUpCommandLine(StringRef tool,
                                 ArrayRef<const cl::OptionCategory *> categories) {
  cl::HideUnrelatedOptions(categories);
  std::string name = tool.str();
  cl::SetVersionPrinter([name](raw_ostream &os) {
    os << name << " " << MOBILEONE_VERSION << " (LLVM/MLIR "
       << LLVM_VERSION_STRING << ")\n";
  });
  // Past RLIMIT_FSIZE, write() then fails with EFBIG: a clean error.
  std::signal(SIGXFSZ, SIG_IGN);
}

bool mlir::mobileone::writeOutputFile(StringRef path, StringRef bytes,
                                ArrayRef<StringRef> inputs,
                                std::string &error) {
  if (path == "-") {
    outs() << bytes;
    outs().flush();
    if (outs().has_error()) {
      error = "cannot write to standard output: " + outs().error().message();
      outs().clear_error();
      return false;
    }
    return true;
  }
  for (StringRef in : inputs)
    if (!in.empty() && sys::fs::equivalent(in, path)) {
      error = "refusing to write '" + path.str() +
              "': it is the input file (choose another -o)";
      return false;
    }
  if (sys::fs::is_directory(path)) {
    error = "cannot write '" + path.str() + "': it is a directory";
    return false;
  }
  Expected<sys::fs::TempFile> tmp =
      sys::fs::TempFile::create(path + ".tmp-%%%%%%");
  if (!tmp) {
    error = "cannot write '" + path.str() + "': " + toString(tmp.takeError());
    return false;
  }
  std::string reason;
  {
    raw_fd_ostream os(tmp->FD, /*shouldClose=*/false);
    os << bytes;
    os.flush();
    if (os.has_error()) {
      reason = os.error().message();
      os.clear_error();
    }
  }
  // On disk before the rename makes it visible: a crash of the machine right
  // after must not leave an empty file under the new name.
  if (reason.empty() && ::fsync(tmp->FD) != 0)
    reason = std::strerror(errno);
  if (!reason.empty()) {
    consumeError(tmp->discard());
    error = "cannot write '" + path.str() + "': " + reason +
            " (any earlier file there is unchanged)";
    return false;
  }
  if (Error e = tmp->keep(path)) {
    error = "cannot write '" + path.str() + "': " + toString(std::move(e));
    return false;
  }
  return true;
}

bool mlir::mobileone::checkMLIRResources(StringRef path, std::string &error) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> file =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!file)
    return true;
  StringRef text = (*file)->getBuffer();
  if (text.starts_with("ML\xefR"))
    return true;
  size_t section = text.find("{-#");
  if (section == StringRef::npos)
    return true;
  StringRef rest = text.drop_front(section);
  // Every "0x..." string in the resource section is a blob: 4 bytes of
  // little-endian alignment, then the data.
  for (size_t at = rest.find("\"0x"); at != StringRef::npos;
       at = rest.find("\"0x", at + 3)) {
    StringRef hex = rest.substr(at + 3, 8);
    uint64_t align = 0;
    bool ok = hex.size() == 8 && llvm::all_of(hex, llvm::isHexDigit);
    for (int b = 3; ok && b >= 0; --b)
      align = align << 8 | llvm::hexFromNibbles(hex[2 * b], hex[2 * b + 1]);
    if (!ok || align == 0 || !llvm::isPowerOf2_64(align)) {
      size_t line = text.take_front(section + at).count('\n') + 1;
      error = (path + ":" + Twine(line) +
               ": a dialect_resources blob must start with a power-of-two "
               "alignment (4 little-endian bytes), found 0x" + hex)
                  .str();
      return false;
    }
  }
  return true;
}
