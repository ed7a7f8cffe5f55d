//===- main.cpp - mobileone-run: the runtime's command line ---------------===//
//
//   mobileone-run model.tflite ...            the runtime (run-tflite.cpp)
//   mobileone-run a.mlir [--compare b.mlir]   the MLIR evaluator
//
// The mode is chosen by the model file's content, not its name: a TFLite
// FlatBuffer (identifier "TFL3"), MLIR bytecode ("ML\xefR") or MLIR text. An
// ONNX model gets a hint to compile it first. Both modes take the same
// option syntax: `--name value`, `--name=value`, `-o file`.
//
// The runtime does not link MLIR or LLVM, which would cost tens of MB of
// resident memory; MLIR inputs are handed to `mobileone-eval`, installed
// next to this binary, with the same arguments.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Support/FileKind.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

int runTFLite(int argc, char **argv);

namespace {

enum class Kind { TFLite, MLIR, ONNX, Missing, Unknown };

/// Options of either mode that take a value (`--name value`).
bool takesValue(const std::string &a) {
  static const char *const names[] = {
      "--input",  "--output", "-o",         "--threads", "--bench",
      "--seed",   "--compare", "--atol",    "--rtol",    "--save-input",
      "--num-threads", "-input", "-output", "-threads",  "-bench",
      "-seed",    "-compare", "-atol",      "-rtol",     "-save-input",
      "-num-threads", "--isa",      "-isa"};
  for (const char *n : names)
    if (a == n)
      return true;
  return false;
}

Kind classify(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return Kind::Missing;
  char head[mlir::mobileone::kFileHeadBytes] = {};
  f.read(head, sizeof(head));
  switch (mlir::mobileone::classifyFileHead(head, size_t(f.gcount()))) {
  case mlir::mobileone::FileKind::TFLite:
    return Kind::TFLite;
  case mlir::mobileone::FileKind::MLIRBytecode:
  case mlir::mobileone::FileKind::Text:
    return Kind::MLIR;
  case mlir::mobileone::FileKind::ONNX:
    return Kind::ONNX;
  case mlir::mobileone::FileKind::Unknown:
    break;
  }
  return Kind::Unknown;
}

} // namespace

int main(int argc, char **argv) {
  // One syntax for both modes: `--name=value` becomes `--name value`, and
  // `-o` is `--output`.
  std::vector<std::string> args = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (a.rfind("-", 0) == 0 && eq != std::string::npos &&
        takesValue(a.substr(0, eq))) {
      args.push_back(a.substr(0, eq));
      args.push_back(a.substr(eq + 1));
    } else {
      args.push_back(a);
    }
  }
  for (std::string &a : args)
    if (a == "-o")
      a = "--output";
  if (args.size() == 2 && args[1] == "--version") {
    std::printf("mobileone-run %s\n", MOBILEONE_VERSION);
    return 0;
  }
  std::vector<char *> cargs;
  for (std::string &a : args)
    cargs.push_back(a.data());
  cargs.push_back(nullptr);
  int cargc = static_cast<int>(args.size());

  // The model: the first argument that is neither an option nor its value.
  std::string model;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].rfind("-", 0) == 0) {
      if (takesValue(args[i]))
        ++i;
      continue;
    }
    model = args[i];
    break;
  }
  if (model.empty())
    return runTFLite(cargc, cargs.data()); // usage, --help
  Kind kind = classify(model);
  // --compare takes a model of the same kind.
  for (size_t i = 1; i + 1 < args.size(); ++i)
    if ((args[i] == "--compare" || args[i] == "-compare") &&
        (kind == Kind::TFLite || kind == Kind::MLIR)) {
      Kind other = classify(args[i + 1]);
      if (other == Kind::ONNX) {
        std::fprintf(stderr,
                     "mobileone-run: --compare %s: an ONNX model; compile "
                     "it first:\n  mobileone-compile %s -o %s\nthen compare "
                     "with that\n",
                     args[i + 1].c_str(), args[i + 1].c_str(),
                     kind == Kind::MLIR ? "model.mlirbc" : "model.tflite");
        return 1;
      }
      if ((other == Kind::TFLite || other == Kind::MLIR) && other != kind) {
        const char *names[] = {"a TFLite FlatBuffer", "an MLIR module"};
        std::fprintf(stderr,
                     "mobileone-run: --compare needs two models of one kind: "
                     "%s is %s, %s is %s (compare their outputs with "
                     "--output/-o and --input instead)\n",
                     model.c_str(), names[kind == Kind::MLIR],
                     args[i + 1].c_str(), names[other == Kind::MLIR]);
        return 1;
      }
    }
  switch (kind) {
  case Kind::TFLite:
    return runTFLite(cargc, cargs.data());
  case Kind::ONNX:
    std::fprintf(stderr,
                 "mobileone-run: %s is an ONNX model; compile it first:\n"
                 "  mobileone-compile %s -o model.tflite\n"
                 "then run model.tflite\n",
                 model.c_str(), model.c_str());
    return 1;
  case Kind::Missing:
    std::fprintf(stderr, "mobileone-run: cannot open '%s': %s\n",
                 model.c_str(), std::strerror(errno));
    return 1;
  case Kind::Unknown:
    // A damaged FlatBuffer: the loader says precisely what is wrong.
    if (model.size() > 7 && model.compare(model.size() - 7, 7, ".tflite") == 0)
      return runTFLite(cargc, cargs.data());
    std::fprintf(stderr,
                 "mobileone-run: '%s' is not a TFLite FlatBuffer, an MLIR "
                 "module or an ONNX model\n",
                 model.c_str());
    return 1;
  case Kind::MLIR:
    break;
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
  cargs[0] = const_cast<char *>("mobileone-run");
  execv(eval.c_str(), cargs.data());
  std::fprintf(stderr, "mobileone-run: cannot run %s: %s\n", eval.c_str(),
               std::strerror(errno));
  return 1;
}
