//===- mobileone-compile.cpp - ONNX in, deployable model out --------------===//
//
//   mobileone-compile model.onnx -o deploy.onnx     (or .mlir / .mlirbc)
//
// Import, structure recovery, re-parameterisation and export in one process,
// with a short summary of what changed.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Driver/Calibration.h"
#include "mobileone/Driver/Check.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Evaluator/Evaluator.h"
#include "mobileone/Runtime/Npy.h"
#include "mobileone/Support/Diagnostics.h"
#include "mobileone/Support/ToolSupport.h"
#include "mobileone/Target/ONNX.h"
#include "mobileone/Target/TFLite.h"
#include "mobileone/Transforms/Cost.h"
#include "mobileone/Transforms/Passes.h"
#include "mobileone/Transforms/Report.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace llvm;

static cl::OptionCategory toolOptions("mobileone-compile options");

static cl::opt<std::string> inputFilename(cl::Positional, cl::Required,
                                          cl::desc("<model.onnx>"),
                                          cl::cat(toolOptions));
static cl::opt<std::string>
    outputFilename("o", cl::Required,
                   cl::desc("Output: .onnx (re-parameterised ONNX), .tflite "
                            "(TFLite FlatBuffer), .mlir or .mlirbc "
                            "(deploy-time module, see --target)"),
                   cl::value_desc("filename"), cl::cat(toolOptions));
static cl::opt<std::string>
    target("target",
           cl::desc("For .mlir/.mlirbc output: 'mobileone' (the deploy-time "
                    "dialect, default) or 'tosa'"),
           cl::init("mobileone"), cl::cat(toolOptions));
static cl::opt<int64_t>
    batch("batch",
          cl::desc("Fix a symbolic batch dimension to N (default: ONNX output "
                   "keeps it symbolic where the graph allows, other targets "
                   "use 1); an error for a model with a fixed batch"),
          cl::value_desc("N"), cl::init(1), cl::cat(toolOptions));
static cl::opt<bool> quiet("quiet", cl::desc("No summary"),
                           cl::cat(toolOptions));
static cl::opt<bool>
    explain("explain",
            cl::desc("Say for every sum of branches which block it became "
                     "(branches, resulting kernel) or why it stayed unfused"),
            cl::cat(toolOptions));
static cl::opt<bool>
    check("check",
          cl::desc("Run the written file (a .tflite in the runtime, an .onnx "
                   "re-imported from its bytes, a deploy-time .mlir in the "
                   "evaluator) against the training-time model on seeded "
                   "inputs (or --check-input) and fail beyond --check-rtol; "
                   "the model is not written then"),
          cl::cat(toolOptions));
static cl::list<std::string> inputShape(
    "input-shape",
    cl::desc("Fix a graph input's shape, e.g. images:1x3x640x640 (symbolic "
             "height and width; fixed dimensions must agree, the batch with "
             "--batch); repeat for several inputs"),
    cl::value_desc("name:d0xd1x..."), cl::cat(toolOptions));
static cl::opt<std::string> checkInput(
    "check-input",
    cl::desc("Inputs for --check (implied) in the ONNX model's layout: x.npy "
             "for a model of one input, x.npz with one array per input name"),
    cl::value_desc("file"), cl::cat(toolOptions));
static cl::opt<double> checkAtol(
    "check-atol",
    cl::desc("--check (implied) also passes an output whose max |a - b| is "
             "at most this (default 0)"),
    cl::init(0.0), cl::cat(toolOptions));
static cl::opt<std::string>
    reportFile("report",
               cl::desc("Also write one self-contained HTML page: what was "
                        "fused and what not (and why), cost per stage before "
                        "and after, the --check result (run for the report), "
                        "and a drawing of the network before and after"),
               cl::value_desc("report.html"), cl::cat(toolOptions));
static cl::opt<bool> noReparameterize(
    "no-reparameterize",
    cl::desc("Deploy the training-time graph as it is: no structure "
             "recovery, no merging (to measure what re-parameterising "
             "saves)"),
    cl::cat(toolOptions));
static cl::opt<std::string> machineFile(
    "machine",
    cl::desc("Machine description for the summary's latency estimate "
             "(what mobileone-machine prints; default: a generic machine)"),
    cl::value_desc("file"), cl::cat(toolOptions));
static cl::opt<std::string> precision(
    "precision",
    cl::desc("Precision of the written model: fp32 (default); fp16 (.tflite: "
             "FLOAT16 weights widened by DEQUANTIZE, TFLite's float16 "
             "quantisation; .onnx: FLOAT16 initializers widened by Cast; "
             "half the file, float32 interface and arithmetic); int8 "
             "(.tflite: TFLite's int8 scheme, activations calibrated on "
             "--calibration; float32 interface)"),
    cl::value_desc("fp32|fp16|int8"), cl::init("fp32"), cl::cat(toolOptions));
static cl::opt<std::string> tfliteLayout(
    "tflite-layout",
    cl::desc("Layout of a .tflite's 4-D inputs and outputs: nhwc (TFLite's "
             "convention, default) or nchw (the ONNX model's interface kept; "
             "transposes inside the model)"),
    cl::value_desc("nhwc|nchw"), cl::init("nhwc"), cl::cat(toolOptions));
static cl::opt<std::string> calibration(
    "calibration",
    cl::desc("--precision int8: calibration samples in the ONNX model's "
             "layout, stacked along dimension 0: x.npy (one input), x.npz "
             "(one array per input name) or a directory of them"),
    cl::value_desc("file|dir"), cl::cat(toolOptions));
static cl::opt<std::string> calibrationMethod(
    "calibration-method",
    cl::desc("How --precision int8 ranges activations: minmax (default) or "
             "percentile (0.01% clipped at each end)"),
    cl::value_desc("minmax|percentile"), cl::init("minmax"),
    cl::cat(toolOptions));
static cl::opt<double>
    checkRtol("check-rtol",
              cl::desc("Tolerance of --check (implied) on max |a - b| / max "
                       "|b| per output (default by --precision: fp32 1e-4, "
                       "fp16 1e-2, int8 0.25)"),
              cl::init(1e-4), cl::cat(toolOptions));

namespace {

func::FuncOp mainOf(ModuleOp module) {
  func::FuncOp found;
  for (auto f : module.getOps<func::FuncOp>())
    if (!found || f.getSymName() == "main")
      found = f;
  return found;
}

/// The written file's interface, one line per tensor, as the summary and
/// the report show it: a .tflite's 4-D tensors are NHWC (`nhwc`); ONNX,
/// MLIR and TOSA keep the ONNX model's layout. Indices (ArgMax) are int64
/// in ONNX and MLIR, int32 in TFLite.
std::vector<std::string> interfaceLines(func::FuncOp entry, bool nhwc,
                                        bool tflite) {
  std::vector<std::string> lines;
  auto describe = [&](StringRef kind, unsigned i, Type type, StringAttr name) {
    auto ranked = cast<RankedTensorType>(type);
    SmallVector<int64_t> shape(ranked.getShape());
    if (nhwc && shape.size() == 4)
      shape = {shape[0], shape[2], shape[3], shape[1]};
    std::string label = (kind + " '" + (name ? name.str() : std::to_string(i)) +
                         "':").str();
    std::string line;
    llvm::raw_string_ostream os(line);
    os << left_justify(label, 18) << " [";
    llvm::interleaveComma(shape, os);
    os << "] "
       << (ranked.getElementType().isF32() ? "float32"
           : tflite                        ? "int32"
                                           : "int64");
    if (shape.size() == 4)
      os << (!nhwc             ? ", NCHW"
             : kind == "input" ? ", NHWC (from NCHW: x.transpose(0, 2, 3, 1))"
                               : ", NHWC (to NCHW: y.transpose(0, 3, 1, 2))");
    lines.push_back(os.str());
  };
  for (unsigned i = 0; i < entry.getNumArguments(); ++i)
    describe("input", i, entry.getArgumentTypes()[i],
             entry.getArgAttrOfType<StringAttr>(
                 i, mlir::mobileone::kONNXNameAttr));
  for (unsigned i = 0; i < entry.getNumResults(); ++i)
    describe("output", i, entry.getResultTypes()[i],
             entry.getResultAttrOfType<StringAttr>(
                 i, mlir::mobileone::kONNXNameAttr));
  return lines;
}

/// argv as one line a shell reads back (arguments quoted where needed).
std::string commandLineOf(int argc, char **argv) {
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

int64_t opCount(const mlir::mobileone::Cost &c, StringRef op) {
  auto it = c.ops.find(op);
  return it == c.ops.end() ? 0 : it->second;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  mlir::mobileone::setUpCommandLine("mobileone-compile", {&toolOptions});
  const std::string commandLine = commandLineOf(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "mobileone compiler: ONNX in, re-parameterised "
                              "model out\n");
  StringRef ext = sys::path::extension(outputFilename);
  if (ext != ".onnx" && ext != ".tflite" && ext != ".mlir" &&
      ext != ".mlirbc") {
    errs() << "mobileone-compile: unknown output format '" << ext << "' for '"
           << outputFilename
           << "': expected .onnx, .tflite, .mlir or .mlirbc\n";
    return 1;
  }
  if (batch < 1 || batch > (int64_t(1) << 16)) {
    errs() << "mobileone-compile: --batch must be in [1, 65536], got " << batch
           << "\n";
    return 1;
  }
  if (target != "mobileone" && target != "tosa") {
    errs() << "mobileone-compile: unknown --target '" << target
           << "': expected mobileone or tosa\n";
    return 1;
  }
  if (!reportFile.empty() && sys::path::extension(reportFile) != ".html") {
    errs() << "mobileone-compile: --report writes HTML: got '" << reportFile
           << "', expected a name ending in .html\n";
    return 1;
  }
  if (!reportFile.empty()) {
    // Checked before any work: a report that cannot be written leaves no
    // model either.
    SmallString<256> dir(reportFile.getValue());
    sys::path::remove_filename(dir);
    if (!dir.empty() && !sys::fs::is_directory(dir)) {
      errs() << "mobileone-compile: --report " << reportFile << ": no directory '"
             << dir << "'\n";
      return 1;
    }
  }
  if (precision != "fp32" && precision != "fp16" && precision != "int8") {
    errs() << "mobileone-compile: --precision takes fp32, fp16 or int8, got '"
           << precision << "'\n";
    return 1;
  }
  if (tfliteLayout != "nhwc" && tfliteLayout != "nchw") {
    errs() << "mobileone-compile: --tflite-layout takes nhwc or nchw, got '"
           << tfliteLayout << "'\n";
    return 1;
  }
  if (tfliteLayout.getNumOccurrences() && ext != ".tflite") {
    errs() << "mobileone-compile: --tflite-layout is for .tflite output; '"
           << ext << "' keeps the ONNX model's layout\n";
    return 1;
  }
  if (precision == "int8" && ext != ".tflite") {
    errs() << "mobileone-compile: --precision int8 is implemented for "
              ".tflite output (QDQ ONNX and quantised TOSA are not yet); for '"
           << ext << "' use fp32 or fp16\n";
    return 1;
  }
  if (precision == "int8" && calibration.empty()) {
    errs() << "mobileone-compile: --precision int8 needs --calibration "
              "samples (x.npy, x.npz or a directory) to range the "
              "activations\n";
    return 1;
  }
  if (precision != "int8" && !calibration.empty()) {
    errs() << "mobileone-compile: --calibration is for --precision int8\n";
    return 1;
  }
  if (calibrationMethod != "minmax" && calibrationMethod != "percentile") {
    errs() << "mobileone-compile: --calibration-method takes minmax or "
              "percentile, got '"
           << calibrationMethod << "'\n";
    return 1;
  }
  if (precision == "fp16" && ext != ".tflite" && ext != ".onnx") {
    errs() << "mobileone-compile: --precision fp16 is implemented for "
              ".tflite and .onnx output; for '"
           << ext << "' use fp32\n";
    return 1;
  }
  if (target == "tosa" && ext != ".mlir" && ext != ".mlirbc") {
    errs() << "mobileone-compile: --target=tosa writes MLIR: use -o x.mlir "
              "or x.mlirbc\n";
    return 1;
  }

  mlir::mobileone::Machine machine;
  if (!machineFile.empty()) {
    std::string error;
    if (!mlir::mobileone::readMachine(machineFile, machine, error)) {
      errs() << "mobileone-compile: " << error << "\n";
      return 1;
    }
  }

  DialectRegistry registry;
  registry.insert<mlir::mobileone::MobileOneDialect, func::FuncDialect,
                  arith::ArithDialect, tosa::TosaDialect>();
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false); // the message names the op already
  SourceMgr sourceMgr;
  mlir::mobileone::ModelDiagnosticHandler handler(sourceMgr, &context, inputFilename);
  // The report keeps the --explain remarks; they are printed only if asked.
  bool report = !reportFile.empty();
  std::vector<mlir::mobileone::ExplainRemark> remarks;
  context.getDiagEngine().registerHandler([&](Diagnostic &d) {
    if (!report || d.getSeverity() != DiagnosticSeverity::Remark)
      return failure();
    std::string node;
    if (auto name = dyn_cast<NameLoc>(d.getLocation()))
      node = name.getName().str();
    remarks.push_back({node, d.str()});
    return success(!explain);
  });

  mlir::mobileone::ONNXImportOptions options;
  options.batch = batch;
  // An explicit batch fixes a symbolic one; otherwise ONNX output keeps it.
  options.batchRequested = batch.getNumOccurrences() > 0;
  options.keepSymbolicBatch = !options.batchRequested;
  for (const std::string &spec : inputShape) {
    // name:d0xd1x...; the name may itself hold ':' (the last one splits).
    size_t colon = spec.rfind(':');
    std::vector<int64_t> dims;
    bool ok = colon != std::string::npos && colon > 0;
    if (ok)
      for (StringRef d : split(StringRef(spec).substr(colon + 1), 'x')) {
        int64_t v;
        if (d.getAsInteger(10, v) || v < 1 || v > (int64_t(1) << 24)) {
          ok = false;
          break;
        }
        dims.push_back(v);
      }
    if (!ok || dims.empty()) {
      errs() << "mobileone-compile: --input-shape takes name:d0xd1x... with "
                "positive dimensions (e.g. images:1x3x640x640), got '"
             << spec << "'\n";
      return 1;
    }
    if (!options.inputShapes.emplace(spec.substr(0, colon), dims).second) {
      errs() << "mobileone-compile: --input-shape names '"
             << spec.substr(0, colon) << "' twice\n";
      return 1;
    }
    // A fixed shape fixes the batch too.
    options.keepSymbolicBatch = false;
  }
  OwningOpRef<ModuleOp> module =
      mlir::mobileone::importONNXFile(&context, inputFilename, options);
  if (!module)
    return 1;
  // Calibration data is read, and checked against the model's inputs,
  // before any work.
  std::unique_ptr<mlir::mobileone::CalibrationSet> calibrationSet;
  if (precision == "int8") {
    func::FuncOp entry = mainOf(*module);
    std::vector<mlir::mobileone::InterfaceTensor> interface;
    for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
      auto name = entry.getArgAttrOfType<StringAttr>(
          i, mlir::mobileone::kONNXNameAttr);
      auto type = cast<RankedTensorType>(entry.getArgumentTypes()[i]);
      if (!type.hasStaticShape()) {
        errs() << "mobileone-compile: --precision int8 needs static input "
                  "shapes (use --batch)\n";
        return 1;
      }
      interface.push_back({name ? name.str() : std::to_string(i),
                           std::vector<int64_t>(type.getShape().begin(),
                                                type.getShape().end())});
    }
    std::string error;
    calibrationSet =
        mlir::mobileone::CalibrationSet::read(calibration, interface, error);
    if (!calibrationSet) {
      errs() << "mobileone-compile: " << error << "\n";
      return 1;
    }
  }
  mlir::mobileone::Cost before = mlir::mobileone::computeCost(mainOf(*module));
  mlir::mobileone::Estimate estimateBefore =
      mlir::mobileone::estimateFunction(mainOf(*module), machine);
  OwningOpRef<ModuleOp> trainingTime;
  const bool checkAsked = check || !checkInput.empty() ||
                          checkRtol.getNumOccurrences() ||
                          checkAtol.getNumOccurrences();
  bool runCheck = checkAsked || report;
  const double rtol = checkRtol.getNumOccurrences() ? checkRtol.getValue()
                      : precision == "fp16"         ? 1e-2
                      : precision == "int8"         ? 0.25
                                                    : 1e-4;
  if (runCheck)
    trainingTime = module->clone();

  PassManager recover(&context);
  if (noReparameterize && (explain || report)) {
    errs() << "mobileone-compile: --no-reparameterize fuses nothing: "
              "--explain and --report have nothing to say\n";
    return 1;
  }
  mlir::mobileone::RecoverStructureOptions recoverOptions;
  recoverOptions.explain = explain || report;
  recover.addPass(mlir::mobileone::createRecoverStructure(recoverOptions));
  if (!noReparameterize && failed(recover.run(*module)))
    return 1;
  int64_t branches = 0;
  mlir::mobileone::Cost recovered = mlir::mobileone::computeCost(mainOf(*module));
  module->walk(
      [&](mlir::mobileone::BlockOp b) { branches += b.getBranches().size(); });
  OwningOpRef<ModuleOp> recoveredModule;
  if (report)
    recoveredModule = module->clone();

  PassManager pm(&context);
  mlir::mobileone::buildReparameterizePipeline(pm, {});
  if (!noReparameterize && failed(pm.run(*module)))
    return 1;
  mlir::mobileone::Cost after = mlir::mobileone::computeCost(mainOf(*module));
  mlir::mobileone::Estimate estimateAfter =
      mlir::mobileone::estimateFunction(mainOf(*module), machine);
  const std::vector<std::string> interface = interfaceLines(
      mainOf(*module), ext == ".tflite" && tfliteLayout == "nhwc",
      ext == ".tflite");
  const std::string estimateText =
      formatv("{0:f2} ms -> {1:f2} ms on {2}", estimateBefore.totalMs,
              estimateAfter.totalMs, machine.name)
          .str();
  OwningOpRef<ModuleOp> deployed;
  if (runCheck)
    deployed = module->clone();
  if (target == "tosa") {
    PassManager lower(&context);
    lower.addPass(mlir::mobileone::createConvertMobileOneToTosa());
    if (failed(lower.run(*module)))
      return 1;
  }

  // Serialise in memory first: a failure leaves no output file behind.
  std::string bytes;
  raw_string_ostream os(bytes);
  mlir::mobileone::QuantizationSummary quantization;
  std::vector<mlir::mobileone::CalibrationSet::TensorError> int8Errors;
  if (ext == ".onnx") {
    mlir::mobileone::ONNXExportOptions onnxOptions;
    onnxOptions.fp16Weights = precision == "fp16";
    if (failed(mlir::mobileone::exportONNX(*module, os, onnxOptions)))
      return 1;
  } else if (ext == ".tflite") {
    mlir::mobileone::TFLiteOptions tfliteOptions;
    tfliteOptions.nchwInterface = tfliteLayout == "nchw";
    if (precision == "fp16")
      tfliteOptions.weights = mlir::mobileone::WeightPrecision::FP16;
    if (precision == "int8") {
      tfliteOptions.weights = mlir::mobileone::WeightPrecision::INT8;
      tfliteOptions.summary = &quantization;
      tfliteOptions.calibrate =
          [&](ArrayRef<uint8_t> model,
              std::vector<mlir::mobileone::TensorRange> &ranges) {
            std::string error;
            if (calibrationSet->ranges(
                    model,
                    calibrationMethod == "percentile"
                        ? mlir::mobileone::CalibrationMethod::Percentile
                        : mlir::mobileone::CalibrationMethod::MinMax,
                    ranges, error))
              return success();
            errs() << "mobileone-compile: " << error << "\n";
            return failure();
          };
    }
    if (failed(mlir::mobileone::emitTFLite(*module, os, tfliteOptions)))
      return 1;
    if (precision == "int8" && (!quiet || report)) {
      // What quantising cost, tensor by tensor, on a few calibration
      // samples: the calibrated float32 model beside the int8 one.
      auto bytesOf = [](const std::string &s) {
        return ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(s.data()),
                                 s.size());
      };
      std::string error;
      if (!calibrationSet->errors(bytesOf(quantization.floatModel),
                                  bytesOf(os.str()), 2,
                                  int8Errors, error)) {
        errs() << "mobileone-compile: measuring the int8 model: " << error
               << "\n";
        return 1;
      }
    }
  } else if (ext == ".mlirbc") {
    if (failed(writeBytecodeToFile(*module, os)))
      return 1;
  } else {
    module->print(os);
    os << "\n";
  }
  // The deployed module is checked before anything is written.
  std::string checkLine;
  mlir::mobileone::CheckOutcome outcome;
  auto writeReport = [&]() -> bool {
    if (!report)
      return true;
    mlir::mobileone::ReportInput in;
    in.model = inputFilename;
    in.output = outputFilename;
    in.tool = std::string("mobileone-compile ") +
              mlir::mobileone::projectVersion();
    in.commandLine = commandLine;
    in.interface = interface;
    in.estimate = estimateText;
    in.trainingTime = mainOf(*trainingTime);
    in.recovered = mainOf(*recoveredModule);
    in.deployed = mainOf(*deployed);
    in.remarks = std::move(remarks);
    in.check = outcome;
    for (const auto &e : int8Errors)
      in.int8Errors.push_back({e.name, e.sqnr, e.output});
    if (!int8Errors.empty())
      in.int8Note = "SQNR of the int8 model against the float32 one on " +
                    std::to_string(std::min<size_t>(2, calibrationSet->samples())) +
                    " calibration sample(s), per tensor, weakest first";
    std::string error;
    if (!mlir::mobileone::writeOutputFile(reportFile,
                                          mlir::mobileone::renderReport(in),
                                          {inputFilename}, error)) {
      errs() << "mobileone-compile: " << error << "\n";
      return false;
    }
    return true;
  };
  if (runCheck) {
    func::FuncOp train = mainOf(*trainingTime);
    func::FuncOp deploy = mainOf(*deployed);
    SmallVector<mlir::mobileone::Tensor> inputs;
    std::string inputText = "a seeded input";
    if (!checkInput.empty()) {
      std::vector<::mobileone::runtime::TensorInfo> infos;
      for (auto [i, type] : llvm::enumerate(train.getArgumentTypes())) {
        auto name =
            train.getArgAttrOfType<StringAttr>(i, mlir::mobileone::kONNXNameAttr);
        auto shape = cast<RankedTensorType>(type).getShape();
        infos.push_back({name ? name.str() : std::to_string(i),
                         std::vector<int64_t>(shape.begin(), shape.end())});
      }
      std::vector<std::vector<float>> values;
      std::string error;
      if (!::mobileone::runtime::readTensors(checkInput, infos, values,
                                             /*nhwcInterface=*/false, error)) {
        errs() << "mobileone-compile: --check-input: " << error << "\n";
        return 1;
      }
      for (auto [info, v] : llvm::zip(infos, values)) {
        mlir::mobileone::Tensor t(info.shape);
        t.data = std::move(v);
        inputs.push_back(std::move(t));
      }
      inputText = sys::path::filename(checkInput).str();
    } else {
      for (auto [i, type] : llvm::enumerate(train.getArgumentTypes()))
        inputs.push_back(mlir::mobileone::randomTensor(
            cast<RankedTensorType>(type).getShape(), 1 + i));
    }
    FailureOr<SmallVector<mlir::mobileone::Tensor>> a =
        mlir::mobileone::evaluate(train, inputs);
    mlir::mobileone::ArtifactCheck artifact;
    std::string error;
    bool ran = succeeded(a) &&
               succeeded(mlir::mobileone::checkArtifact(
                   outputFilename, os.str(), target == "tosa", deploy, inputs,
                   *a, artifact, error));
    if (!ran) {
      if (!error.empty())
        errs() << "mobileone-compile: --check: " << error << "\n";
      if (checkAsked)
        return 1;
      // --report alone: the page says the check could not run.
      outcome.note = "the check could not run (see the error mobileone-compile "
                     "printed)";
      errs() << "mobileone-compile: warning: --report: the check could not "
                "run; the report says so\n";
    } else if (artifact.outputs.empty()) {
      outcome.note = artifact.note;
      checkLine = "  check:             " + artifact.what + ": " +
                  artifact.note + "\n";
    } else {
      double maxDiff = 0.0, rel = 0.0;
      bool pass = true;
      for (const auto &o : artifact.outputs) {
        if (!(o.maxAbs <= maxDiff) && !std::isnan(maxDiff))
          maxDiff = o.maxAbs;
        if (!(o.relative <= rel) && !std::isnan(rel))
          rel = o.relative;
        pass = pass && (o.relative <= rtol || o.maxAbs <= checkAtol);
      }
      outcome = {true, maxDiff, rel, rtol, pass, ""};
      checkLine = (Twine("  check:             ") + artifact.what +
                   " vs training-time on " + inputText + ": max abs diff " +
                   formatv("{0:e3}", maxDiff).str() + ", relative " +
                   formatv("{0:e3}", rel).str() + " (rtol " +
                   formatv("{0:e1}", rtol).str() + "): " +
                   (pass ? "PASS" : "FAIL") + "\n")
                      .str();
      if (artifact.outputs.size() > 1)
        for (const auto &o : artifact.outputs)
          checkLine += (Twine("    output '") + o.name + "': max abs diff " +
                        formatv("{0:e3}", o.maxAbs).str() + ", relative " +
                        formatv("{0:e3}", o.relative).str() + "\n")
                           .str();
      if (!pass) {
        // The model is not written; the report, if asked, shows why.
        bool wrote = writeReport();
        errs() << "mobileone-compile: --check failed, the model was not "
                  "written"
               << (report && wrote ? " (the report was: " + reportFile + ")"
                                   : std::string())
               << "\n"
               << checkLine;
        return 1;
      }
    }
  }

  // The report first: a report that cannot be written leaves no model.
  if (!writeReport())
    return 1;
  std::string error;
  if (!mlir::mobileone::writeOutputFile(outputFilename, os.str(), {inputFilename},
                                  error)) {
    errs() << "mobileone-compile: " << error << "\n";
    return 1;
  }

  if (quiet)
    return 0;
  outs() << "mobileone-compile: " << inputFilename << " -> " << outputFilename
         << "\n";
  outs() << "  blocks fused:      " << opCount(recovered, "mobileone.block")
         << " (" << branches << " branches)";
  if (int64_t se = opCount(recovered, "mobileone.squeeze_excite"))
    outs() << ", squeeze-excite kept: " << se;
  outs() << "\n";
  outs() << format("  parameters:        %.3f M -> %.3f M\n",
                   before.params / 1e6, after.params / 1e6);
  outs() << format("  multiply-adds:     %.1f M -> %.1f M\n", before.macs / 1e6,
                   after.macs / 1e6);
  outs() << format("  bytes moved:       %.1f MiB -> %.1f MiB (sync points %lld "
                   "-> %lld)\n",
                   before.bytesMoved() / 1048576.0,
                   after.bytesMoved() / 1048576.0,
                   (long long)before.syncPoints, (long long)after.syncPoints);
  outs() << "  estimated latency: " << estimateText << "\n";
  outs() << "  conv2d:            " << opCount(before, "mobileone.conv2d")
         << " -> " << opCount(after, "mobileone.conv2d")
         << "; batch_norm: " << opCount(before, "mobileone.batch_norm")
         << " -> " << opCount(after, "mobileone.batch_norm")
         << "; add: " << opCount(before, "mobileone.add") << " -> "
         << opCount(after, "mobileone.add") << "\n";
  for (const std::string &line : interface)
    outs() << "  " << line << "\n";
  if (precision == "fp16")
    outs() << "  weights:           float16 (half the file; the interface and "
              "arithmetic stay float32)\n";
  if (precision == "int8")
    outs() << "  precision:         int8 weights (per channel) and activations ("
           << calibrationMethod << " over " << calibrationSet->samples()
           << " calibration sample"
           << (calibrationSet->samples() == 1 ? "" : "s")
           << "); the interface stays float32\n";
  if (!int8Errors.empty()) {
    outs() << "  int8 error:        SQNR against float32 on "
           << std::min<size_t>(2, calibrationSet->samples())
           << " calibration sample(s):";
    for (const auto &e : int8Errors)
      if (e.output)
        outs() << " output '" << e.name << "' " << format("%.1f", e.sqnr)
               << " dB;";
    std::vector<mlir::mobileone::CalibrationSet::TensorError> layers;
    for (const auto &e : int8Errors)
      if (!e.output)
        layers.push_back(e);
    llvm::stable_sort(layers,
                      [](const auto &a, const auto &b) { return a.sqnr < b.sqnr; });
    outs() << " lowest layers:";
    for (size_t i = 0; i < std::min<size_t>(3, layers.size()); ++i)
      outs() << (i ? "," : "") << " " << layers[i].name << " "
             << format("%.1f", layers[i].sqnr) << " dB";
    outs() << "\n";
  }
  if (!quantization.foldedChannels.empty()) {
    int channels = 0;
    for (const auto &[layer, n] : quantization.foldedChannels)
      channels += n;
    outs() << "  int8 folding:      " << channels
           << " input channel(s) constant over the calibration set folded "
              "into the bias of "
           << quantization.foldedChannels.size() << " layer(s)";
    for (const auto &[layer, n] : quantization.foldedChannels)
      outs() << (&layer == &quantization.foldedChannels.front().first ? ": "
                                                                        : ", ")
             << layer << " (" << n << ")";
    outs() << "\n";
  }
  outs() << checkLine;
  if (report)
    outs() << "  report:            " << reportFile << "\n";
  return 0;
}
