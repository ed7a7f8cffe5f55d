//===- mobileone-eval.cpp - evaluate and compare MLIR models --------------===//
//
//   mobileone-run model.mlir [--seed N] [--bench N] [--profile]
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
#include "mobileone/Target/ONNX.h"
#include "mobileone/Transforms/Cost.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <thread>

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
// 0 stands for "not given": all cores. Given, 1 to 256 as in the TFLite mode.
static cl::opt<unsigned> threads("num-threads",
                                 cl::desc("Worker threads, 1 to 256 (default: "
                                          "all cores)"),
                                 cl::init(0), cl::cat(toolOptions));

static cl::opt<unsigned>
    bench("bench",
          cl::desc("Time N evaluations after warm-up; ends with a latency_ms "
                   "line"),
          cl::value_desc("N"), cl::init(0), cl::cat(toolOptions));
static cl::opt<bool> profile("profile",
                             cl::desc("Time every op of the function body"),
                             cl::cat(toolOptions));
static cl::opt<bool> reference(
    "reference",
    cl::desc("Portable kernels: always so for MLIR modules (the evaluator)"),
    cl::cat(toolOptions));
static cl::opt<std::string> isaOption(
    "isa", cl::desc("For .tflite models only: refused here"),
    cl::value_desc("avx2"), cl::cat(toolOptions));
static cl::opt<bool> xnnpackOnly(
    "xnnpack-only", cl::desc("For .tflite models only: refused here"),
    cl::cat(toolOptions));
static cl::opt<bool> noFusion(
    "no-fusion", cl::desc("For .tflite models only: refused here"),
    cl::cat(toolOptions));

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
  if (!mlir::mobileone::checkMLIRInput(filename, error)) {
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

/// An interface tensor's name: the ONNX name the import recorded, else
/// "input<i>" / "output<i>".
std::string interfaceName(func::FuncOp f, unsigned i, bool input) {
  StringAttr name =
      input ? f.getArgAttrOfType<StringAttr>(i, mlir::mobileone::kONNXNameAttr)
            : f.getResultAttrOfType<StringAttr>(
                  i, mlir::mobileone::kONNXNameAttr);
  return name ? name.str() : (input ? "input" : "output") + std::to_string(i);
}

/// The module's interface (the ONNX model's layout) as the runtime's
/// .npy/.npz helpers take it.
std::vector<::mobileone::runtime::TensorInfo>
interfaceOf(func::FuncOp f, ArrayRef<mlir::mobileone::Tensor> tensors,
            bool input) {
  std::vector<::mobileone::runtime::TensorInfo> infos;
  for (auto [i, t] : llvm::enumerate(tensors))
    infos.push_back({interfaceName(f, i, input),
                     std::vector<int64_t>(t.shape.begin(), t.shape.end())});
  return infos;
}

/// printf to standard output through LLVM's stream (kept in order with it).
[[gnu::format(printf, 1, 2)]] void say(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  outs() << buf;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// Per-op wall time, the median of several evaluations, as the TFLite mode's
/// --profile prints it.
LogicalResult printProfile(func::FuncOp entry,
                           ArrayRef<mlir::mobileone::Tensor> inputs) {
  unsigned runs = bench > 0 ? std::min(1000u, unsigned(bench)) : 5;
  std::vector<std::vector<double>> times;
  std::vector<Operation *> ops;
  for (unsigned r = 0; r < runs; ++r) {
    std::vector<mlir::mobileone::OpTime> profile;
    if (failed(mlir::mobileone::evaluate(entry, inputs, threads, &profile)))
      return failure();
    if (times.empty()) {
      times.resize(profile.size());
      for (auto &p : profile)
        ops.push_back(p.op);
    }
    for (size_t i = 0; i < profile.size() && i < times.size(); ++i)
      times[i].push_back(profile[i].ms);
  }
  std::vector<double> ms;
  double total = 0, flops = 0;
  for (size_t i = 0; i < times.size(); ++i) {
    ms.push_back(median(times[i]));
    total += ms.back();
  }
  outs() << "  per-op profile (evaluator, median of " << runs
         << " runs; constants take no time):\n";
  say("  %4s %-24s %-28s %-18s %9s %6s %8s\n", "#", "op",
                   "node or line", "shape", "ms", "%", "GFLOP/s");
  for (size_t i = 0; i < ops.size(); ++i) {
    Operation *op = ops[i];
    if (op->hasTrait<OpTrait::ConstantLike>())
      continue;
    // A block's time includes its contents: so do its flops.
    double f = 0;
    op->walk([&](Operation *inner) {
      mlir::mobileone::Cost c = mlir::mobileone::opCost(inner);
      f += 2.0 * double(c.macs + c.seMacs);
    });
    flops += f;
    std::string node;
    if (auto name = dyn_cast<NameLoc>(op->getLoc()))
      node = name.getName().str();
    else if (auto line = dyn_cast<FileLineColLoc>(op->getLoc()))
      node = "line " + std::to_string(line.getLine());
    if (node.size() > 28)
      node = "..." + node.substr(node.size() - 25);
    std::string shape;
    if (op->getNumResults())
      if (auto t = dyn_cast<RankedTensorType>(op->getResult(0).getType()))
        for (int64_t d : t.getShape())
          shape += (shape.empty() ? "" : "x") + std::to_string(d);
    say("  %4zu %-24s %-28s %-18s %9.4f %5.1f%% %8.2f\n", i,
                     op->getName().getStringRef().str().c_str(), node.c_str(),
                     shape.c_str(), ms[i], total > 0 ? 100 * ms[i] / total : 0.0,
                     ms[i] > 0 ? f / (ms[i] * 1e6) : 0.0);
  }
  say("  %4s %-24s %-28s %-18s %9.3f         %8.2f\n", "",
                   "total", "", "", total,
                   total > 0 ? flops / (total * 1e6) : 0.0);
  return success();
}

/// Latency of whole evaluations, in the TFLite mode's format.
LogicalResult printBench(func::FuncOp entry,
                         ArrayRef<mlir::mobileone::Tensor> inputs) {
  unsigned warmup = std::max(2u, unsigned(bench) / 10);
  std::vector<double> ms;
  for (unsigned i = 0; i < warmup + bench; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (failed(mlir::mobileone::evaluate(entry, inputs, threads)))
      return failure();
    auto t1 = std::chrono::steady_clock::now();
    if (i >= warmup)
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  double med = median(ms), lo = *std::min_element(ms.begin(), ms.end());
  say("  latency over %u runs (after %u warm-up): min %.3f ms, "
                   "median %.3f ms (evaluator)\n",
      unsigned(bench), warmup, lo, med);
  say("latency_ms median=%.3f min=%.3f runs=%u threads=%u\n",
                   med, lo, unsigned(bench),
      threads ? unsigned(threads) : std::max(1u, std::thread::hardware_concurrency()));
  return success();
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
  // One rule for both modes (and both spellings): 1 to 256 threads.
  if (threads.getNumOccurrences() && (threads < 1 || threads > 256)) {
    errs() << "mobileone-run: --threads takes an integer from 1 to 256\n";
    return 1;
  }
  if (xnnpackOnly || noFusion || !isaOption.empty()) {
    errs() << "mobileone-run: "
           << (xnnpackOnly ? "--xnnpack-only"
               : noFusion  ? "--no-fusion"
                           : "--isa")
           << " selects the runtime's kernels "
              "for a .tflite model; an MLIR module runs on the evaluator "
              "(compile it with -o model.tflite to use the runtime)\n";
    return 1;
  }
  if (bench > 1000000) {
    errs() << "mobileone-run: --bench takes a number of runs up to 1000000\n";
    return 1;
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
    std::vector<std::vector<float>> values(inputs.size());
    std::string error;
    if (!::mobileone::runtime::readTensors(inputNpy,
                                           interfaceOf(a->entry, inputs, true),
                                           values, /*nhwcInterface=*/false,
                                           error)) {
      errs() << "mobileone-run: " << error << "\n";
      return 1;
    }
    for (auto [t, v] : llvm::zip(inputs, values))
      t.data = std::move(v);
  }

  std::optional<SmallVector<mlir::mobileone::Tensor>> outA =
      runModel(a->entry, inputs);
  if (!outA)
    return 1;

  // Neither output may replace a model, the input or the other output.
  auto write = [&](const std::string &path, ArrayRef<mlir::mobileone::Tensor> ts,
                   bool input, const char *option, const std::string &other) {
    std::vector<std::vector<float>> values;
    for (const mlir::mobileone::Tensor &t : ts)
      values.push_back(t.data);
    std::string error;
    if (::mobileone::runtime::writeTensors(
            path, interfaceOf(a->entry, ts, input), values, option,
            input ? "inputs" : "outputs", error,
            {inputFilename, compareFilename, inputNpy, other}))
      return true;
    errs() << "mobileone-run: " << error << "\n";
    return false;
  };
  if (!outputFilename.empty() &&
      !write(outputFilename, *outA, false, "--output", saveInput))
    return 1;
  if (!saveInput.empty() &&
      !write(saveInput, inputs, true, "--save-input", outputFilename))
    return 1;

  if (profile && failed(printProfile(a->entry, inputs)))
    return 1;
  if (bench > 0 && failed(printBench(a->entry, inputs)))
    return 1;

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
    ::mobileone::runtime::Difference d = ::mobileone::runtime::difference(
        x.data.data(), ref.data.data(), x.data.size());
    double maxDiff = d.maxAbs, maxRef = d.maxRef, rel = d.relative;
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
