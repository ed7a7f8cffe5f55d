//===- ToolSupport.cpp - command line and output files of the tools -------===//

#include "mobileone/Support/ToolSupport.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mobileone/Support/FileKind.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <csignal>
#include <new>

#ifndef MOBILEONE_VERSION
#error "MOBILEONE_VERSION is set by CMake from project(VERSION)"
#endif

using namespace llvm;

const char *mlir::mobileone::projectVersion() { return MOBILEONE_VERSION; }

namespace {
/// The tool's name for the last-resort handlers (set once, before any work).
std::string &toolName() {
  static std::string name;
  return name;
}

/// Prints one line and exits 1 after removing the temporary files registered
/// for removal on a signal (a half-written output never stays behind).
[[noreturn]] void failHard(const char *what) {
  // write(2) only: the heap may be exhausted.
  auto put = [](const char *s) {
    if (::write(STDERR_FILENO, s, std::strlen(s)) < 0)
      return;
  };
  put(toolName().c_str());
  put(": error: ");
  put(what);
  put("\n");
  sys::RunInterruptHandlers();
  ::_exit(1);
}
} // namespace

void mlir::mobileone::setUpCommandLine(
    StringRef tool, ArrayRef<const cl::OptionCategory *> categories) {
  toolName() = tool.str();
  // Last resort: no "LLVM ERROR", stack dump or abort reaches a user.
  // Inputs are checked against the documented limits (Support/Limits.h)
  // before anything is allocated; these catch what slips past.
  install_bad_alloc_error_handler([](void *, const char *, bool) {
    failHard("out of memory (the model or its tensors are too large for "
             "this machine)");
  });
  install_fatal_error_handler([](void *, const char *reason, bool) {
    std::string line = std::string("internal error: ") + reason;
    failHard(line.c_str());
  });
  std::set_new_handler([] {
    failHard("out of memory (the model or its tensors are too large for "
             "this machine)");
  });
  cl::HideUnrelatedOptions(categories);
  std::string name = tool.str();
  cl::SetVersionPrinter([name](raw_ostream &os) {
    os << name << " " << MOBILEONE_VERSION << " (LLVM/MLIR "
       << LLVM_VERSION_STRING << ")\n";
  });
  // Past RLIMIT_FSIZE, write() then fails with EFBIG: a clean error.
  std::signal(SIGXFSZ, SIG_IGN);
}

/// Writes `bytes` to the open `fd`: empty, or why not.
static std::string writeAll(int fd, StringRef bytes) {
  raw_fd_ostream os(fd, /*shouldClose=*/false);
  os << bytes;
  os.flush();
  if (!os.has_error())
    return "";
  std::string reason = os.error().message();
  os.clear_error();
  return reason;
}

/// Writes to an existing device (/dev/null, /dev/stdout) without replacing it.
static bool writeInPlace(StringRef path, StringRef bytes, std::string &error) {
  int fd = -1;
  std::error_code ec = sys::fs::openFileForWrite(
      path, fd, sys::fs::CD_OpenExisting, sys::fs::OF_None);
  std::string reason = ec ? ec.message() : "";
  if (!ec) {
    reason = writeAll(fd, bytes);
    if (::close(fd) != 0 && reason.empty())
      reason = std::strerror(errno);
  }
  if (!reason.empty()) {
    error = "cannot write '" + path.str() + "': " + reason;
    return false;
  }
  return true;
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
  // An existing target that is not a regular file is never replaced: a
  // device is written in place, a directory, FIFO or socket refused.
  sys::fs::file_status st;
  if (!sys::fs::status(path, st) && sys::fs::exists(st)) {
    switch (st.type()) {
    case sys::fs::file_type::regular_file:
      break;
    case sys::fs::file_type::directory_file:
      error = "cannot write '" + path.str() + "': it is a directory";
      return false;
    case sys::fs::file_type::character_file:
    case sys::fs::file_type::block_file:
      return writeInPlace(path, bytes, error);
    default:
      error = "cannot write '" + path.str() +
              "': it is not a regular file (a FIFO or socket); choose "
              "another output path";
      return false;
    }
  }
  // The temporary file is registered for removal on a signal before it is
  // created, so that at no moment does it stand on disk unregistered (a
  // SIGTERM between creating and registering it, as TempFile::create does,
  // left it behind: killed-write.test caught that once in many runs).
  SmallString<256> tmpName;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    sys::fs::createUniquePath(path + ".tmp-%%%%%%", tmpName,
                              /*MakeAbsolute=*/false);
    sys::RemoveFileOnSignal(tmpName);
    std::error_code ec = sys::fs::openFileForWrite(
        tmpName, fd, sys::fs::CD_CreateNew, sys::fs::OF_None, 0666);
    if (!ec)
      break;
    sys::DontRemoveFileOnSignal(tmpName);
    fd = -1;
    if (ec != std::errc::file_exists || attempt == 127) {
      error = "cannot write '" + path.str() + "': " + ec.message();
      return false;
    }
  }
  std::string reason = writeAll(fd, bytes);
  // On disk before the rename makes it visible: a crash of the machine right
  // after must not leave an empty file under the new name.
  if (reason.empty() && ::fsync(fd) != 0)
    reason = std::strerror(errno);
  if (::close(fd) != 0 && reason.empty())
    reason = std::strerror(errno);
  if (reason.empty())
    if (std::error_code ec = sys::fs::rename(tmpName, path))
      reason = ec.message();
  if (!reason.empty()) {
    sys::fs::remove(tmpName);
    sys::DontRemoveFileOnSignal(tmpName);
    error = "cannot write '" + path.str() + "': " + reason +
            " (any earlier file there is unchanged)";
    return false;
  }
  // Renamed: a signal from here would remove a name that no longer exists.
  sys::DontRemoveFileOnSignal(tmpName);
  return true;
}

bool mlir::mobileone::checkMLIRInput(StringRef path, std::string &error) {
  // A FIFO or device would block or stream without end ("-" is stdin).
  sys::fs::file_status st;
  if (path != "-" && !sys::fs::status(path, st) &&
      st.type() != sys::fs::file_type::regular_file &&
      st.type() != sys::fs::file_type::directory_file) {
    error = "'" + path.str() + "' is not a regular file, expected MLIR";
    return false;
  }
  ErrorOr<std::unique_ptr<MemoryBuffer>> file =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!file)
    return true;
  StringRef text = (*file)->getBuffer();
  switch (mlir::mobileone::classifyFileHead(text.data(), text.size())) {
  case mlir::mobileone::FileKind::MLIRBytecode:
    return true;
  case mlir::mobileone::FileKind::Text:
    break;
  case mlir::mobileone::FileKind::TFLite:
    error = (path + ": error: is a TFLite FlatBuffer, expected MLIR text or "
                    "bytecode (mobileone-run runs it)")
                .str();
    return false;
  case mlir::mobileone::FileKind::ONNX:
  case mlir::mobileone::FileKind::Unknown:
    error = (path +
             ": error: is a binary file but not MLIR bytecode, expected MLIR "
             "text or bytecode (an ONNX model: mobileone-compile, or "
             "mobileone-translate --import-onnx)")
                .str();
    return false;
  }
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
               "alignment (4 little-endian bytes), found 0x" +
               hex)
                  .str();
      return false;
    }
  }
  return true;
}

std::string mlir::mobileone::commandLineOf(int argc, char **argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    StringRef a(argv[i]);
    if (i)
      line += ' ';
    if (!a.empty() && a.find_first_not_of(
                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789-_=./:,+@%") == StringRef::npos)
      line += a.str();
    else // single-quoted, a quote inside written '\''
      line += "'" + llvm::join(llvm::split(a, '\''), "'\\''") + "'";
  }
  return line;
}
