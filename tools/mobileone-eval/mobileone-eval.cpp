//===- mobileone-eval.cpp - evaluate and compare MLIR models --------------===//
//
//   mobileone-run model.mlir [--seed N]
//   mobileone-run train.mlir --compare deploy.mlir [--atol A] [--rtol R]
//
// Reached through `mobileone-run`, which runs .tflite files itself and hands
// MLIR modules to this binary (so the runtime never loads MLIR).
//
//===----------------------------------------------------------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneDialect.h"
#include "mobileone/Evaluator/Evaluator.h"
#include "mobileone/Runtime/Npy.h"
#include "mobileone/Support/ToolSupport.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>

using namespace mlir;
using namespace llvm;

static cl::OptionCategory toolOptions("mobileone-run options (MLIR modules)");

static cl::opt<std::string> inputFilename(cl::Positional, cl::Required,
                                          cl::desc("<model.mlir>"), cl::cat(toolOptions));
static cl::opt<std::string>
    compareFilename("compare",
                    cl::desc("Evaluate this model too and compare outputs"),
                    cl::value_desc("model.mlir"), cl::init(""), cl::cat(toolOptions));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of the random input"),
                              cl::init(1), cl::cat(toolOptions));
static cl::opt<double> absTol("atol",
                              cl::desc("Tolerance on max |a - b| (--compare)"),
                              cl::init(1e-4), cl::cat(toolOptions));
static cl::opt<double>
    relTol("rtol", cl::desc("Tolerance on max |a - b| / max |b| (--compare)"),
           cl::init(1e-5), cl::cat(toolOptions));
static cl::opt<std::string>
    outputFilename("output",
                   cl::desc("Write output #0 of the (first) model as .npy"),
                   cl::value_desc("file.npy"), cl::init(""), cl::cat(toolOptions));
static cl::opt<std::string>
    inputNpy("input",
             cl::desc("Input #0 from a float32 .npy file (NCHW, the model's "
                      "input shape) instead of a seeded random one"),
             cl::value_desc("file.npy"), cl::init(""), cl::cat(toolOptions));
static cl::opt<std::string>
    saveInput("save-input",
              cl::desc("Write the seeded input #0 (NCHW) as .npy"),
              cl::value_desc("file.npy"), cl::init(""), cl::cat(toolOptions));
static cl::opt<unsigned> threads("num-threads",
                                 cl::desc("Worker threads (0: all cores)"),
                                 cl::init(0), cl::cat(toolOptions));

// One option syntax with the TFLite mode: --threads and -o as well.
static cl::alias outputAlias("o", cl::desc("Alias for --output"),
                             cl::aliasopt(outputFilename),
                             cl::cat(toolOptions));

namespace {

struct Loaded {
  OwningOpRef<ModuleOp> module;
  func::FuncOp entry;
};

/// Each file gets its own SourceMgr (a SourceMgr parses only its main
/// buffer); the diagnostic handler finds the file by name.
std::optional<Loaded> load(MLIRContext &context, StringRef filename) {
  std::string error;
  if (!mlir::mobileone::checkMLIRResources(filename, error)) {
    errs() << "mobileone-run: " << error << "\n";
    return std::nullopt;
  }
  Loaded l;
  SourceMgr sourceMgr;
  l.module =
      parseSourceFile<ModuleOp>(filename, sourceMgr, ParserConfig(&context));
  if (!l.module)
    return std::nullopt;
  l.entry = mlir::mobileone::findEntryFunction(*l.module);
  if (!l.entry)
    return std::nullopt;
  return l;
}

std::optional<SmallVector<mlir::mobileone::Tensor>>
runModel(func::FuncOp entry, ArrayRef<mlir::mobileone::Tensor> inputs) {
  FailureOr<SmallVector<mlir::mobileone::Tensor>> outputs =
      mlir::mobileone::evaluate(entry, inputs, threads);
  if (failed(outputs))
    return std::nullopt;
  return std::move(*outputs);
}

/// NumPy .npy v1.0, little-endian float32, C order.
void writeNpy(raw_ostream &os, const mlir::mobileone::Tensor &t) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int64_t d : t.shape)
    header += std::to_string(d) + ", ";
  header += "), }";
  // Magic, version, header length; the header ends with '\n' at a multiple
  // of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  os << "\x93NUMPY" << char(1) << char(0);
  uint16_t len = header.size();
  os << char(len & 0xff) << char(len >> 8) << header;
  os.write(reinterpret_cast<const char *>(t.data.data()),
           t.data.size() * sizeof(float));
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  // libLLVM registers its own --threads (an int): it becomes ours, as in the
  // TFLite mode.
  cl::opt<int> *threadsOpt = nullptr;
  if (auto it = cl::getRegisteredOptions().find("threads");
      it != cl::getRegisteredOptions().end())
    threadsOpt = dynamic_cast<cl::opt<int> *>(it->second);
  if (threadsOpt) {
    threadsOpt->setDescription("Worker threads (as --num-threads)");
    threadsOpt->addCategory(toolOptions);
  }
  mlir::mobileone::setUpCommandLine("mobileone-run", {&toolOptions});
  cl::ParseCommandLineOptions(argc, argv, "mobileone model runner\n");
  if (threadsOpt && threadsOpt->getNumOccurrences()) {
    if (*threadsOpt < 1 || *threadsOpt > 256) {
      errs() << "mobileone-run: --threads takes an integer from 1 to 256\n";
      return 1;
    }
    threads = *threadsOpt;
  }

  DialectRegistry registry;
  registry.insert<mlir::mobileone::MobileOneDialect, func::FuncDialect,
                  arith::ArithDialect>();
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false); // the message names the op already
  SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  std::optional<Loaded> a = load(context, inputFilename);
  if (!a)
    return 1;

  SmallVector<mlir::mobileone::Tensor> inputs;
  for (auto [i, type] : llvm::enumerate(a->entry.getArgumentTypes())) {
    auto ranked = dyn_cast<RankedTensorType>(type);
    if (!ranked || !ranked.hasStaticShape()) {
      a->entry.emitError("expected statically shaped tensor inputs, got ")
          << type;
      return 1;
    }
    inputs.push_back(mlir::mobileone::randomTensor(ranked.getShape(), seed + i));
  }
  if (!inputNpy.empty()) {
    std::vector<int64_t> shape;
    std::vector<float> data;
    std::string error;
    if (!::mobileone::runtime::readNpy(inputNpy, shape, data, error)) {
      errs() << "mobileone-run: " << error << "\n";
      return 1;
    }
    if (inputs.empty() ||
        ArrayRef<int64_t>(shape) != ArrayRef<int64_t>(inputs[0].shape)) {
      auto fmt = [](ArrayRef<int64_t> v) {
        std::string out = "[";
        for (size_t i = 0; i < v.size(); ++i)
          out += (i ? ", " : "") + std::to_string(v[i]);
        return out + "]";
      };
      errs() << "mobileone-run: " << inputNpy << " has shape " << fmt(shape)
             << ", the model's input #0 is "
             << (inputs.empty() ? std::string("absent")
                                : fmt(inputs[0].shape))
             << "\n";
      return 1;
    }
    inputs[0].data = std::move(data);
  }

  std::optional<SmallVector<mlir::mobileone::Tensor>> outA =
      runModel(a->entry, inputs);
  if (!outA)
    return 1;

  for (auto [path, tensor] : {std::pair<StringRef, const mlir::mobileone::Tensor *>{
                                  outputFilename, &outA->front()},
                              {saveInput, &inputs.front()}}) {
    if (path.empty())
      continue;
    std::string error, bytes;
    raw_string_ostream os(bytes);
    writeNpy(os, *tensor);
    if (!mlir::mobileone::writeOutputFile(
            path, os.str(), {inputFilename, compareFilename, inputNpy},
            error)) {
      errs() << "mobileone-run: " << error << "\n";
      return 1;
    }
  }

  if (compareFilename.empty()) {
    for (auto [i, t] : llvm::enumerate(*outA)) {
      float lo = *std::min_element(t.data.begin(), t.data.end());
      float hi = *std::max_element(t.data.begin(), t.data.end());
      outs() << "output #" << i << ": shape [";
      llvm::interleaveComma(t.shape, outs());
      outs() << "], min " << lo << ", max " << hi << ", first:";
      for (size_t j = 0; j < std::min<size_t>(t.data.size(), 5); ++j)
        outs() << " " << t.data[j];
      outs() << "\n";
    }
    return 0;
  }

  std::optional<Loaded> b = load(context, compareFilename);
  if (!b)
    return 1;
  if (b->entry.getFunctionType().getInputs() !=
      a->entry.getFunctionType().getInputs()) {
    b->entry.emitError("input types differ from ")
        << inputFilename << ": " << a->entry.getFunctionType().getInputs();
    return 1;
  }
  std::optional<SmallVector<mlir::mobileone::Tensor>> outB =
      runModel(b->entry, inputs);
  if (!outB)
    return 1;
  if (outA->size() != outB->size()) {
    errs() << "mobileone-run: the models have " << outA->size() << " and "
           << outB->size() << " outputs\n";
    return 1;
  }
  bool ok = true;
  for (size_t i = 0; i < outA->size(); ++i) {
    const mlir::mobileone::Tensor &x = (*outA)[i], &ref = (*outB)[i];
    if (x.shape != ref.shape) {
      errs() << "mobileone-run: output #" << i << " shapes differ\n";
      return 1;
    }
    double maxDiff = 0.0, maxRef = 0.0;
    for (size_t j = 0; j < x.data.size(); ++j) {
      double d = std::fabs(double(x.data[j]) - double(ref.data[j]));
      if (!(d <= maxDiff)) // NaN propagates as a failure
        maxDiff = d;
      maxRef = std::max(maxRef, std::fabs(double(ref.data[j])));
    }
    double rel = maxRef > 0.0 ? maxDiff / maxRef : maxDiff;
    bool pass = maxDiff <= absTol && rel <= relTol;
    ok &= pass;
    outs() << "output #" << i << ": max abs diff " << format("%.3e", maxDiff)
           << " (atol " << format("%.1e", absTol.getValue())
           << "), relative diff " << format("%.3e", rel) << " (rtol "
           << format("%.1e", relTol.getValue()) << "), max |output| "
           << format("%.4g", maxRef) << ": " << (pass ? "PASS" : "FAIL")
           << "\n";
  }
  return ok ? 0 : 1;
}
