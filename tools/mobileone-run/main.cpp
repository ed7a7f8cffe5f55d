//===- main.cpp - mobileone-run: the runtime's command line ---------------===//
//
//   mobileone-run model.tflite ...            the runtime (run-tflite.cpp)
//   mobileone-run a.mlir [--compare b.mlir]   the MLIR evaluator
//
// The runtime does not link MLIR or LLVM, which would cost tens of MB of
// resident memory; MLIR inputs are handed to `mobileone-eval`, installed
// next to this binary, with the same arguments.
//
//===----------------------------------------------------------------------===//

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

int runTFLite(int argc, char **argv);

int main(int argc, char **argv) {
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 ||
                    std::strcmp(argv[1], "-h") == 0))
    return runTFLite(argc, argv);
  for (int i = 1; i < argc; ++i) {
    size_t n = std::strlen(argv[i]);
    if (n >= 7 && std::strcmp(argv[i] + n - 7, ".tflite") == 0)
      return runTFLite(argc, argv);
  }
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) {
    std::fprintf(stderr, "mobileone-run: cannot locate mobileone-eval\n");
    return 1;
  }
  self[len] = '\0';
  std::string eval(self);
  eval = eval.substr(0, eval.rfind('/') + 1) + "mobileone-eval";
  argv[0] = const_cast<char *>("mobileone-run");
  execv(eval.c_str(), argv);
  std::fprintf(stderr, "mobileone-run: cannot run %s: %s\n", eval.c_str(),
               std::strerror(errno));
  return 1;
}
