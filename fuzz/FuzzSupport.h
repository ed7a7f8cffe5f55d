//===- FuzzSupport.h - what the fuzz targets share ----------------*- C++ -*-===//
//
// Each target defines LLVMFuzzerTestOneInput. The front doors it exercises
// read files by path (as the tools do: external data, the file-kind checks),
// so the input is written to a file in a private directory first.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_FUZZ_FUZZSUPPORT_H
#define MOBILEONE_FUZZ_FUZZSUPPORT_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace mobileone::fuzz {

/// A private directory for this process's input files (removed at exit).
inline const std::string &workDir() {
  static const std::string dir = [] {
    const char *base = std::getenv("TMPDIR");
    std::string t = std::string(base && *base ? base : "/tmp") +
                    "/mobileone-fuzz-XXXXXX";
    if (!::mkdtemp(t.data()))
      std::abort();
    static std::string keep = t;
    std::atexit([] {
      std::string cmd = "rm -rf '" + keep + "'";
      if (std::system(cmd.c_str()) != 0)
        return;
    });
    return t;
  }();
  return dir;
}

/// Writes the input to `<workDir>/<name>` and returns that path.
inline std::string writeInput(const uint8_t *data, size_t size,
                              const char *name) {
  std::string path = workDir() + "/" + name;
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f))
    std::abort();
  return path;
}

} // namespace mobileone::fuzz

#endif
