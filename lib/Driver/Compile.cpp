//===- Compile.cpp - the whole compile pipeline as one call ---------------===//

#include "mobileone/Driver/Compile.h"

#include "mobileone/Conversion/Int8ToTosa.h"
#include "mobileone/Conversion/Passes.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Driver/Calibration.h"
#include "mobileone/Driver/Check.h"
#include "mobileone/Evaluator/Evaluator.h"
#include "mobileone/Runtime/Npy.h"
#include "mobileone/Support/Diagnostics.h"
#include "mobileone/Support/ToolSupport.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Target/ONNX.h"
#include "mobileone/Target/TFLite.h"
#include "mobileone/Transforms/Cost.h"
#include "mobileone/Transforms/Passes.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <limits>

using namespace mlir;
using namespace mlir::mobileone;
using namespace llvm;

bool mlir::mobileone::addInputShape(
    const std::string &spec,
    std::map<std::string, std::vector<int64_t>> &shapes, std::string &error) {
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
    error = "--input-shape takes name:d0xd1x... with positive dimensions "
            "(e.g. images:1x3x640x640), got '" +
            spec + "'";
    return false;
  }
  if (!shapes.emplace(spec.substr(0, colon), dims).second) {
    error = "--input-shape names '" + spec.substr(0, colon) + "' twice";
    return false;
  }
  return true;
}

double mlir::mobileone::defaultCheckRtol(const std::string &precision) {
  return precision == "fp16" ? 1e-2 : precision == "int8" ? 0.25 : 1e-4;
}

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
                                        bool tflite, bool onnx = false) {
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
    // A FLOAT16 tensor of the ONNX model: float16 again in an .onnx,
    // float32 elsewhere (computed in float32 either way).
    auto attrs = kind == "input" ? entry.getArgAttrDict(i)
                                 : entry.getResultAttrDict(i);
    auto onnxType = attrs ? attrs.getAs<StringAttr>(kONNXTypeAttr) : nullptr;
    const bool half = onnxType && onnxType.getValue() == "float16";
    os << "] "
       << (half && onnx                          ? "float16"
           : ranked.getElementType().isF32()       ? "float32"
           : ranked.getElementType().isInteger(8) ? "int8"
           : tflite                              ? "int32"
                                                 : "int64");
    if (half)
      os << (onnx ? " (computed in float32)"
                  : " (float16 in the ONNX model)");
    auto scale = attrs ? attrs.getAs<FloatAttr>(kQuantScaleAttr) : FloatAttr();
    auto zero =
        attrs ? attrs.getAs<IntegerAttr>(kQuantZeroPointAttr) : IntegerAttr();
    if (scale && zero)
      os << " (real = " << format("%.6g", scale.getValueAsDouble())
         << " x (q " << (zero.getInt() < 0 ? "+ " : "- ")
         << std::abs(zero.getInt()) << "))";
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

/// The same lines for the int8 interface of a written .tflite (its
/// tensors' scales and zero points are only there).
std::vector<std::string> tfliteInterfaceLines(const std::string &bytes) {
  namespace rt = ::mobileone::runtime;
  rt::Options options;
  options.reference = true;
  std::string error;
  std::unique_ptr<rt::Session> session =
      rt::Session::createView(bytes.data(), bytes.size(), options, error);
  if (!session)
    return {"(the written .tflite does not load: " + error + ")"};
  std::vector<std::string> lines;
  for (bool input : {true, false})
    for (const rt::TensorInfo &t :
         input ? session->inputs() : session->outputs()) {
      std::string line;
      llvm::raw_string_ostream os(line);
      os << left_justify((Twine(input ? "input" : "output") + " '" + t.name +
                          "':").str(),
                         18)
         << " [";
      llvm::interleaveComma(t.shape, os);
      os << "] " << rt::dtypeName(t.dtype);
      if (t.dtype == rt::DType::Int8)
        os << " (" << rt::quantizationText(t) << ")";
      if (t.shape.size() == 4)
        os << (!session->nhwcInterface() ? ", NCHW"
               : input ? ", NHWC (from NCHW: x.transpose(0, 2, 3, 1))"
                       : ", NHWC (to NCHW: y.transpose(0, 3, 1, 2))");
      lines.push_back(os.str());
    }
  return lines;
}

/// --io-dtype with its aliases (fp32, fp16) spelled out; "" when not given.
std::string ioDTypeOf(const CompileOptions &o) {
  if (!o.ioDType)
    return "";
  return *o.ioDType == "fp32" ? "float32"
         : *o.ioDType == "fp16" ? "float16"
                                : *o.ioDType;
}

/// Whether --keep-float auto runs.
/// Cross-layer equalisation (--equalize auto) is kept when the weakest
/// output measured on the calibration samples gains more than this.
constexpr double kMinEqualizeGainDb = 0.2;

bool autoKeepFloatOn(const CompileOptions &o) {
  return o.precision == "int8" && llvm::is_contained(o.keepFloat, "auto");
}

int64_t opCount(const mlir::mobileone::Cost &c, StringRef op) {
  auto it = c.ops.find(op);
  return it == c.ops.end() ? 0 : it->second;
}

/// The modules of `modules` that exist, as roots for releaseWeights.
template <typename... Modules>
SmallVector<Operation *> liveModules(const Modules &...modules) {
  SmallVector<Operation *> live;
  (
      [&](const OwningOpRef<ModuleOp> &m) {
        if (m)
          live.push_back(m.get().getOperation());
      }(modules),
      ...);
  return live;
}

/// The options' own consistency, checked before any work.
bool validate(const CompileOptions &options, raw_ostream &diag) {
  auto fail = [&]() -> raw_ostream & { return diag << "mobileone-compile: "; };
  StringRef ext = sys::path::extension(options.output);
  const std::string layout = options.tfliteLayout.value_or("nhwc");
  if (ext != ".onnx" && ext != ".tflite" && ext != ".mlir" &&
      ext != ".mlirbc") {
    fail() << "unknown output format '" << ext << "' for '" << options.output
           << "': expected .onnx, .tflite, .mlir or .mlirbc\n";
    return false;
  }
  if (options.batch && (*options.batch < 1 || *options.batch > (1 << 16))) {
    fail() << "--batch must be in [1, 65536], got " << *options.batch << "\n";
    return false;
  }
  for (const auto &[name, dims] : options.inputShapes)
    for (int64_t d : dims)
      if (d < 1 || d > (int64_t(1) << 24)) {
        fail() << "--input-shape " << name << ": dimension " << d
               << " is not in [1, 16777216]\n";
        return false;
      }
  if (options.target != "mobileone" && options.target != "tosa") {
    fail() << "unknown --target '" << options.target
           << "': expected mobileone or tosa\n";
    return false;
  }
  if (!options.reportFile.empty()) {
    if (sys::path::extension(options.reportFile) != ".html") {
      fail() << "--report writes HTML: got '" << options.reportFile
             << "', expected a name ending in .html\n";
      return false;
    }
    // Checked before any work: a report that cannot be written leaves no
    // model either.
    SmallString<256> dir(options.reportFile);
    sys::path::remove_filename(dir);
    if (!dir.empty() && !sys::fs::is_directory(dir)) {
      fail() << "--report " << options.reportFile << ": no directory '" << dir
             << "'\n";
      return false;
    }
  }
  const std::string &precision = options.precision;
  if (precision != "fp32" && precision != "fp16" && precision != "int8") {
    fail() << "--precision takes fp32, fp16 or int8, got '" << precision
           << "'\n";
    return false;
  }
  if (layout != "nhwc" && layout != "nchw") {
    fail() << "--tflite-layout takes nhwc or nchw, got '" << layout << "'\n";
    return false;
  }
  if (options.tfliteLayout && ext != ".tflite") {
    fail() << "--tflite-layout is for .tflite output; '" << ext
           << "' keeps the ONNX model's layout\n";
    return false;
  }
  if (precision == "int8" && ext != ".tflite" && ext != ".onnx" &&
      options.target != "tosa") {
    fail() << "--precision int8 writes .tflite, QDQ .onnx or quantised TOSA "
              "(--target=tosa); for '"
           << ext << "' use fp32 or fp16\n";
    return false;
  }
  if (precision == "int8" && options.calibration.empty()) {
    fail() << "--precision int8 needs --calibration samples (x.npy, x.npz or "
              "a directory) to range the activations\n";
    return false;
  }
  if (precision != "int8" && !options.calibration.empty()) {
    fail() << "--calibration is for --precision int8\n";
    return false;
  }
  if (options.calibrationMethod != "minmax" &&
      options.calibrationMethod != "percentile" &&
      options.calibrationMethod != "mse") {
    fail() << "--calibration-method takes minmax, percentile or mse, got '"
           << options.calibrationMethod << "'\n";
    return false;
  }
  if (options.qdqWeightBits != 7 && options.qdqWeightBits != 8) {
    fail() << "--qdq-weight-bits takes 7 or 8, got " << options.qdqWeightBits
           << "\n";
    return false;
  }
  if (options.ioDType) {
    const std::string io = ioDTypeOf(options);
    if (io != "float32" && io != "float16" && io != "int8") {
      fail() << "--io-dtype takes float32 (fp32), float16 (fp16) or int8, got '"
             << *options.ioDType << "'\n";
      return false;
    }
    if (io == "float16" && (ext != ".onnx" || precision == "int8")) {
      fail() << "--io-dtype float16 is for a float .onnx (Casts at its "
                "edges); "
             << (ext == ".tflite" ? "a .tflite keeps a float32 interface "
                                    "(TFLite's float16 weights are widened "
                                    "inside)"
                 : precision == "int8"
                     ? "an int8 model's interface is float32 or int8"
                     : "MLIR output keeps the module's float32 interface")
             << "\n";
      return false;
    }
    if (io == "int8" && precision != "int8") {
      fail() << "--io-dtype int8 is for --precision int8 (a " << precision
             << " model's interface is float32 or float16)\n";
      return false;
    }
    if (io == "int8" && ext == ".onnx") {
      fail() << "--io-dtype int8: a QDQ .onnx keeps float32 inputs and "
                "outputs (QuantizeLinear / DequantizeLinear inside, as ONNX "
                "Runtime's quantiser writes it); int8 interfaces are for "
                ".tflite and quantised TOSA\n";
      return false;
    }
    if (io == "float32" && options.target == "tosa" && precision == "int8") {
      fail() << "--io-dtype float32: quantised TOSA's interface is int8 (each "
                "tensor carries mobileone.scale and mobileone.zero_point; "
                "its runner harness quantises float inputs)\n";
      return false;
    }
  }
  if (!options.biasCorrection && precision != "int8") {
    fail() << "--no-bias-correction is for --precision int8\n";
    return false;
  }
  if (!options.keepFloat.empty() && options.target == "tosa") {
    fail() << "--keep-float leaves layers in float32, and quantised TOSA "
              "lowers int8 operators only: use .tflite or .onnx output\n";
    return false;
  }
  if (!options.keepFloat.empty() && precision != "int8") {
    fail() << "--keep-float is for --precision int8\n";
    return false;
  }
  if (options.equalize != "auto" && options.equalize != "on" &&
      options.equalize != "off") {
    fail() << "--equalize takes auto, on or off, got '" << options.equalize
           << "'\n";
    return false;
  }
  if (options.int8Fold != "auto" && options.int8Fold != "all") {
    fail() << "--int8-fold takes auto or all, got '" << options.int8Fold
           << "'\n";
    return false;
  }
  if (!(options.maxSlowdown >= 0.0 && options.maxSlowdown <= 10.0)) {
    fail() << "--max-slowdown must be a fraction in [0, 10] (0.1 is 10%), "
              "got "
           << options.maxSlowdown << "\n";
    return false;
  }
  if (precision == "fp16" && ext != ".tflite" && ext != ".onnx") {
    fail() << "--precision fp16 is implemented for .tflite and .onnx output; "
              "for '"
           << ext << "' use fp32\n";
    return false;
  }
  if (options.target == "tosa" && ext != ".mlir" && ext != ".mlirbc") {
    fail() << "--target=tosa writes MLIR: use -o x.mlir or x.mlirbc\n";
    return false;
  }
  if (options.noReparameterize &&
      (options.explain || !options.reportFile.empty())) {
    fail() << "--no-reparameterize fuses nothing: --explain and --report "
              "have nothing to say\n";
    return false;
  }
  return true;
}

} // namespace

CompileResult mlir::mobileone::compile(const CompileOptions &options,
                                       raw_ostream &diag) {
  CompileResult result;
  if (!validate(options, diag))
    return result;
  raw_string_ostream summary(result.summary);
  StringRef ext = sys::path::extension(options.output);
  const std::string layout = options.tfliteLayout.value_or("nhwc");

  Machine machine;
  if (!options.machineFile.empty()) {
    std::string error;
    if (!readMachine(options.machineFile, machine, error)) {
      diag << "mobileone-compile: " << error << "\n";
      return result;
    }
  }

  DialectRegistry registry;
  registry.insert<MobileOneDialect, func::FuncDialect,
                  arith::ArithDialect, tosa::TosaDialect>();
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false); // the message names the op already
  SourceMgr sourceMgr;
  ModelDiagnosticHandler handler(sourceMgr, &context, options.input, diag);
  // The report keeps the --explain remarks; they are printed only if asked.
  const bool report = !options.reportFile.empty();
  std::vector<ExplainRemark> &remarks = result.remarks;
  context.getDiagEngine().registerHandler([&](Diagnostic &d) {
    if (!report || d.getSeverity() != DiagnosticSeverity::Remark)
      return failure();
    std::string node;
    if (auto name = dyn_cast<NameLoc>(d.getLocation()))
      node = name.getName().str();
    remarks.push_back({node, d.str()});
    return success(!options.explain);
  });

  ONNXImportOptions importOptions;
  importOptions.batch = options.batch.value_or(1);
  // An explicit batch fixes a symbolic one; otherwise ONNX output keeps it,
  // and so does a fixed input shape.
  importOptions.batchRequested = options.batch.has_value();
  importOptions.keepSymbolicBatch =
      !importOptions.batchRequested && options.inputShapes.empty();
  importOptions.inputShapes = options.inputShapes;
  OwningOpRef<ModuleOp> module =
      importONNXFile(&context, options.input, importOptions);
  if (!module)
    return result;
  // Calibration data is read, and checked against the model's inputs,
  // before any work.
  std::unique_ptr<CalibrationSet> calibrationSet;
  if (options.precision == "int8") {
    func::FuncOp entry = mainOf(*module);
    std::vector<InterfaceTensor> interface;
    for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
      auto name = entry.getArgAttrOfType<StringAttr>(
          i, kONNXNameAttr);
      auto type = cast<RankedTensorType>(entry.getArgumentTypes()[i]);
      if (!type.hasStaticShape()) {
        diag << "mobileone-compile: --precision int8 needs static input "
                  "shapes (use --batch)\n";
        return result;
      }
      interface.push_back({name ? name.str() : std::to_string(i),
                           std::vector<int64_t>(type.getShape().begin(),
                                                type.getShape().end())});
    }
    std::string error;
    calibrationSet =
        CalibrationSet::read(options.calibration, interface, error);
    if (!calibrationSet) {
      diag << "mobileone-compile: " << error << "\n";
      return result;
    }
  }
  Cost before = computeCost(mainOf(*module));
  Estimate estimateBefore =
      estimateFunction(mainOf(*module), machine);
  OwningOpRef<ModuleOp> trainingTime;
  const bool checkAsked = options.check || !options.checkInput.empty() ||
                          options.checkRtol || options.checkAtol;
  bool runCheck = checkAsked || report;
  const double rtol =
      options.checkRtol.value_or(defaultCheckRtol(options.precision));
  if (runCheck)
    trainingTime = module->clone();

  // What recovery and re-parameterisation replace is freed after them.
  WeightSet imported = weightsOf({*module});
  PassManager recover(&context);
  RecoverStructureOptions recoverOptions;
  recoverOptions.explain = options.explain || report;
  recover.addPass(createRecoverStructure(recoverOptions));
  if (!options.noReparameterize && failed(recover.run(*module)))
    return result;
  int64_t branches = 0;
  Cost recovered = computeCost(mainOf(*module));
  module->walk(
      [&](BlockOp b) { branches += b.getBranches().size(); });
  OwningOpRef<ModuleOp> recoveredModule;
  if (report)
    recoveredModule = module->clone();

  PassManager pm(&context);
  ReparameterizeOptions reparamOptions;
  // Without copies of the model (kept for a check or the report), each
  // block's training-time weights are freed as it is merged.
  reparamOptions.releaseWeights = !trainingTime && !recoveredModule;
  buildReparameterizePipeline(pm, reparamOptions);
  if (!options.noReparameterize && failed(pm.run(*module)))
    return result;
  // The training-time weights the deployed model no longer reads are freed
  // (unless a check or the report still needs that model).
  releaseWeights(imported, liveModules(module, trainingTime, recoveredModule));
  Cost after = computeCost(mainOf(*module));
  Estimate estimateAfter =
      estimateFunction(mainOf(*module), machine);
  std::vector<std::string> interface = interfaceLines(
      mainOf(*module), ext == ".tflite" && layout == "nhwc",
      ext == ".tflite", ext == ".onnx");
  const std::string estimateText =
      formatv("{0:f2} ms -> {1:f2} ms on {2}", estimateBefore.totalMs,
              estimateAfter.totalMs, machine.name)
          .str();
  OwningOpRef<ModuleOp> deployed;
  if (runCheck)
    deployed = module->clone();
  // The copies kept for the check and the report: their weights stay when
  // `module`'s are freed.
  const SmallVector<Operation *> copies =
      liveModules(trainingTime, recoveredModule, deployed);
  // int8 TOSA is lowered from the int8 .tflite below (one quantisation).
  const bool int8Tosa = options.target == "tosa" && options.precision == "int8";
  if (options.target == "tosa" && !int8Tosa) {
    PassManager lower(&context);
    lower.addPass(createConvertMobileOneToTosa());
    WeightSet untransposed = weightsOf({*module});
    if (failed(lower.run(*module)))
      return result;
    SmallVector<Operation *> live(copies);
    live.push_back(*module);
    releaseWeights(untransposed, live);
  }

  // Serialise in memory first: a failure leaves no output file behind.
  std::string bytes;
  raw_string_ostream os(bytes);
  QuantizationSummary quantization;
  std::vector<CalibrationSet::TensorError> int8Errors;
  // What --keep-float auto measured and chose (the weakest output's SQNR).
  struct {
    double before = 0.0, after = 0.0, cost = 0.0;
    std::vector<KeepFloatCandidate> chosen;
    std::vector<std::pair<std::vector<KeepFloatCandidate>, double>> tried;
  } autoKeepFloat;
  // What cross-layer equalisation measured (the weakest output's SQNR).
  struct {
    bool tried = false, kept = false;
    size_t layers = 0;
    double before = 0.0, after = 0.0;
  } equalization;
  // int8: the int8 .tflite, written as it is or as the quantisation behind
  // a QDQ .onnx (one quantisation for both formats).
  std::string int8Tflite;
  if (options.precision == "int8") {
    TFLiteOptions tfliteOptions;
    // TOSA keeps the ONNX model's layout.
    tfliteOptions.nchwInterface = layout == "nchw" || int8Tosa;
    tfliteOptions.weights = WeightPrecision::INT8;
    tfliteOptions.summary = &quantization;
    // The folding's latency budget on the machine's int8 roofline: its
    // measured int8 peak (peak_int8_gops) or, not measured, the exact
    // int16-pair path's ~1.5 int8 multiply-adds per fp32 FMA; the int8
    // kernels reach ~55% of it on MobileOne (measured, docs/benchmarks.md).
    tfliteOptions.folding.splitIdentity = options.int8Fold == "auto";
    tfliteOptions.folding.maxSlowdown = options.maxSlowdown;
    // --keep-float auto: the named layers, and those the measurement picks.
    const bool autoKeep = autoKeepFloatOn(options);
    for (const std::string &name : options.keepFloat)
      if (name != "auto")
        tfliteOptions.folding.keepFloat.push_back(name);
    tfliteOptions.folding.biasCorrection = options.biasCorrection;
    // Quantised TOSA makes its own int8 interface from the float32 one.
    tfliteOptions.int8Interface =
        !int8Tosa && ioDTypeOf(options) == "int8";
    tfliteOptions.folding.macsPerSecond =
        (machine.peakInt8Gops > 0 ? machine.peakInt8Gops
                                  : machine.peakGflops * 1.5) *
        1e9 / 2 * 0.55;
    tfliteOptions.folding.splitMacs = machine.int8Vnni ? 180.0 : 64.0;
    tfliteOptions.folding.bytesPerSecond = machine.cacheBandwidthGBs * 1e9;
    tfliteOptions.folding.opSeconds = machine.opOverheadUs * 1e-6;
    const CalibrationMethod method =
        options.calibrationMethod == "percentile" ? CalibrationMethod::Percentile
        : options.calibrationMethod == "mse"      ? CalibrationMethod::Mse
                                                  : CalibrationMethod::MinMax;
    tfliteOptions.calibrate = [&](ArrayRef<uint8_t> model,
                                  std::vector<TensorRange> &ranges) {
      std::string error;
      if (calibrationSet->ranges(model, method, ranges, error))
        return success();
      diag << "mobileone-compile: " << error << "\n";
      return failure();
    };
    // A QDQ .onnx is written from `module` next, and --keep-float auto may
    // emit it again; otherwise nothing reads it after this.
    tfliteOptions.consumeModule = ext != ".onnx" && !autoKeep;
    tfliteOptions.liveModules = copies;
    // Cross-layer equalisation is tried on a copy of the module (sharing
    // its weights until it rescales them), emitted before the module is.
    OwningOpRef<ModuleOp> equalizedModule;
    SmallVector<Operation *> liveWithTrial(copies);
    if (options.equalize != "off") {
      equalizedModule = module->clone();
      liveWithTrial.push_back(*equalizedModule);
      tfliteOptions.liveModules = liveWithTrial;
    }
    // One int8 emission and (`measure`) what quantising cost, tensor by
    // tensor, on a few calibration samples: the calibrated float32 model
    // beside the int8 one.
    auto emitInt8 = [&](TFLiteOptions &o, std::string &out,
                        QuantizationSummary &q,
                        std::vector<CalibrationSet::TensorError> &errors,
                        bool measure, ModuleOp from) {
      o.summary = &q;
      if (failed(emitTFLite(from, out, o)))
        return false;
      auto bytesOf = [](const std::string &s) {
        return ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(s.data()),
                                 s.size());
      };
      std::string error;
      if (measure && !calibrationSet->errors(bytesOf(q.floatModel),
                                             bytesOf(out), 2, errors, error)) {
        diag << "mobileone-compile: measuring the int8 model: " << error
             << "\n";
        return false;
      }
      return true;
    };
    auto weakestOutput = [](const std::vector<CalibrationSet::TensorError> &e) {
      double w = std::numeric_limits<double>::infinity();
      for (const CalibrationSet::TensorError &t : e)
        if (t.output)
          w = std::min(w, t.sqnr);
      return w;
    };
    QuantizationSummary equalizedQuantization;
    std::string equalizedTflite;
    std::vector<CalibrationSet::TensorError> equalizedErrors;
    if (equalizedModule) {
      TFLiteOptions o = tfliteOptions;
      o.folding.equalize = true;
      o.consumeModule = false;
      SmallVector<Operation *> trialLive(copies);
      trialLive.push_back(*module);
      o.liveModules = trialLive;
      if (!emitInt8(o, equalizedTflite, equalizedQuantization,
                    equalizedErrors, true, *equalizedModule))
        return result;
    }
    if (!emitInt8(tfliteOptions, int8Tflite, quantization, int8Errors,
                  options.summary || report || autoKeep || equalizedModule,
                  *module))
      return result;
    tfliteOptions.liveModules = copies;
    if (equalizedModule) {
      // auto: kept when the weakest output gains (on the calibration
      // samples measured); on: always.
      equalization.tried = true;
      equalization.layers = equalizedQuantization.equalized.size();
      equalization.before = weakestOutput(int8Errors);
      equalization.after = weakestOutput(equalizedErrors);
      equalization.kept =
          equalization.layers > 0 &&
          (options.equalize == "on" ||
           equalization.after > equalization.before + kMinEqualizeGainDb);
      if (equalization.kept) {
        module = std::move(equalizedModule);
        quantization = std::move(equalizedQuantization);
        int8Tflite = std::move(equalizedTflite);
        int8Errors = std::move(equalizedErrors);
      }
      equalizedModule = nullptr;
    }
    if (autoKeep) {
      // The layers losing most SQNR (at least 1 dB) whose float32 cost fits
      // the budget and whose float16 weights keep the file within 0.35x of
      // the float32 one: the top three together, else the top one alone;
      // kept when the weakest output gains at least 0.5 dB. The identity
      // splits get what is left of the budget.
      const double fp32MacsPerSecond = machine.peakGflops * 1e9 / 2 * 0.9;
      std::vector<KeepFloatCandidate> ranked =
          rankKeepFloat(quantization, int8Errors, tfliteOptions.folding,
                        fp32MacsPerSecond, options.maxSlowdown, 1.0);
      std::vector<std::vector<KeepFloatCandidate>> trials;
      std::vector<KeepFloatCandidate> together;
      double cost = 0.0;
      int64_t spare = int64_t(0.35 * double(quantization.floatModel.size())) -
                      int64_t(int8Tflite.size());
      for (const KeepFloatCandidate &c : ranked)
        if (together.size() < 3 && cost + c.cost <= options.maxSlowdown &&
            c.bytes <= spare) {
          together.push_back(c);
          cost += c.cost;
          spare -= c.bytes;
        }
      if (!together.empty())
        trials.push_back(together);
      if (together.size() > 1)
        trials.push_back({together.front()});
      autoKeepFloat.before = weakestOutput(int8Errors);
      for (const std::vector<KeepFloatCandidate> &trial : trials) {
        TFLiteOptions o = tfliteOptions;
        double spent = 0.0;
        for (const KeepFloatCandidate &c : trial) {
          o.folding.keepFloat.push_back(c.layer);
          o.folding.halfWeights.push_back(c.layer);
          spent += c.cost;
        }
        o.folding.maxSlowdown = std::max(0.0, options.maxSlowdown - spent);
        QuantizationSummary q;
        std::string out;
        std::vector<CalibrationSet::TensorError> errors;
        if (!emitInt8(o, out, q, errors, true, *module))
          return result;
        const double after = weakestOutput(errors);
        autoKeepFloat.tried.push_back({trial, after});
        if (after >= autoKeepFloat.before + 0.5) {
          autoKeepFloat.chosen = trial;
          autoKeepFloat.after = after;
          autoKeepFloat.cost = spent;
          quantization = std::move(q);
          int8Tflite = std::move(out);
          int8Errors = std::move(errors);
          break;
        }
      }
    }
  }
  if (ext == ".onnx" && options.ioDType) {
    // --io-dtype float16 / float32: the .onnx interface's float type
    // (float16: Casts at the edges), whatever the imported model had.
    const bool half = ioDTypeOf(options) == "float16";
    auto name = StringAttr::get(&context, kONNXTypeAttr);
    auto float16 = StringAttr::get(&context, "float16");
    func::FuncOp entry = mainOf(*module);
    auto isFloat = [](Type t) {
      return cast<RankedTensorType>(t).getElementType().isF32();
    };
    for (unsigned i = 0; i < entry.getNumArguments(); ++i)
      if (isFloat(entry.getArgumentTypes()[i]))
        half ? entry.setArgAttr(i, name, float16)
             : void(entry.removeArgAttr(i, name));
    for (unsigned i = 0; i < entry.getNumResults(); ++i)
      if (isFloat(entry.getResultTypes()[i]))
        half ? entry.setResultAttr(i, name, float16)
             : void(entry.removeResultAttr(i, name));
    interface = interfaceLines(entry, false, false, true);
  }
  if (ext == ".onnx") {
    ONNXExportOptions onnxOptions;
    onnxOptions.fp16Weights = options.precision == "fp16";
    if (options.precision == "int8")
      onnxOptions.int8 = &quantization.int8;
    onnxOptions.reduceRange = options.qdqWeightBits == 7;
    // Nothing reads `module` after this.
    onnxOptions.consumeModule = true;
    onnxOptions.liveModules = copies;
    if (failed(exportONNX(*module, bytes, onnxOptions)))
      return result;
  } else if (ext == ".tflite" && options.precision == "int8") {
    bytes = std::move(int8Tflite);
    if (ioDTypeOf(options) == "int8")
      interface = tfliteInterfaceLines(bytes);
  } else if (int8Tosa) {
    std::string error;
    OwningOpRef<ModuleOp> tosa = lowerInt8TFLiteToTosa(
        &context,
        ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(int8Tflite.data()),
                          int8Tflite.size()),
        error);
    if (!tosa) {
      diag << "mobileone-compile: quantised TOSA: " << error << "\n";
      return result;
    }
    interface = interfaceLines(*tosa->getOps<func::FuncOp>().begin(),
                               /*nhwc=*/false, /*tflite=*/false);
    if (ext == ".mlirbc") {
      if (failed(writeBytecodeToFile(*tosa, os)))
        return result;
    } else {
      tosa->print(os);
      os << "\n";
    }
  } else if (ext == ".tflite") {
    TFLiteOptions tfliteOptions;
    tfliteOptions.nchwInterface = layout == "nchw";
    if (options.precision == "fp16")
      tfliteOptions.weights = WeightPrecision::FP16;
    // Nothing reads `module` after this.
    tfliteOptions.consumeModule = true;
    tfliteOptions.liveModules = copies;
    if (failed(emitTFLite(*module, bytes, tfliteOptions)))
      return result;
  } else if (ext == ".mlirbc") {
    if (failed(writeBytecodeToFile(*module, os)))
      return result;
  } else {
    module->print(os);
    os << "\n";
  }
  // The deployed module is checked before anything is written.
  // QDQ ONNX is checked through the int8 .tflite of the same quantisation
  // (nothing here runs it).
  const bool qdqOnnx = ext == ".onnx" && options.precision == "int8";
  std::string checkLine;
  CheckOutcome outcome;
  auto writeReport = [&]() -> bool {
    if (!report)
      return true;
    ReportInput in;
    in.model = options.input;
    in.output = options.output;
    in.tool = std::string("mobileone-compile ") +
              projectVersion();
    in.commandLine = options.commandLine;
    in.interface = interface;
    in.estimate = estimateText;
    in.trainingTime = mainOf(*trainingTime);
    in.recovered = mainOf(*recoveredModule);
    in.deployed = mainOf(*deployed);
    in.remarks = remarks;
    in.check = outcome;
    for (const auto &e : int8Errors)
      in.int8Errors.push_back({e.name, e.sqnr, e.output});
    for (const IdentitySplit &f : quantization.identitySplits)
      in.int8Folds.push_back(
          {f.layer, f.sqnrIn, f.sqnrOut, f.cost, f.chosen, f.reason});
    in.int8ConstantChannels = quantization.foldedChannels;
    if (options.precision == "int8") {
      in.int8 = &quantization.int8;
      in.int8Method = options.calibrationMethod + " over " +
                      std::to_string(calibrationSet->samples()) +
                      " calibration sample(s)";
      in.int8KeptFloat = quantization.keptFloat;
    }
    if (!int8Errors.empty())
      in.int8Note = "SQNR of the int8 model against the float32 one on " +
                    std::to_string(std::min<size_t>(2, calibrationSet->samples())) +
                    " calibration sample(s), per tensor, weakest first";
    std::string error;
    if (!writeOutputFile(options.reportFile,
                                          renderReport(in),
                                          {options.input}, error)) {
      diag << "mobileone-compile: " << error << "\n";
      return false;
    }
    return true;
  };
  if (runCheck) {
    func::FuncOp train = mainOf(*trainingTime);
    func::FuncOp deploy = mainOf(*deployed);
    SmallVector<Tensor> inputs;
    std::string inputText = "a seeded input";
    if (!options.checkInput.empty()) {
      std::vector<::mobileone::runtime::TensorInfo> infos;
      for (auto [i, type] : llvm::enumerate(train.getArgumentTypes())) {
        auto name =
            train.getArgAttrOfType<StringAttr>(i, kONNXNameAttr);
        auto shape = cast<RankedTensorType>(type).getShape();
        infos.push_back({name ? name.str() : std::to_string(i),
                         std::vector<int64_t>(shape.begin(), shape.end())});
      }
      std::vector<std::vector<float>> values;
      std::string error;
      if (!::mobileone::runtime::readTensors(options.checkInput, infos, values,
                                             /*nhwcInterface=*/false, error)) {
        diag << "mobileone-compile: --check-input: " << error << "\n";
        return result;
      }
      for (auto [info, v] : llvm::zip(infos, values)) {
        Tensor t(info.shape);
        t.data = std::move(v);
        inputs.push_back(std::move(t));
      }
      inputText = sys::path::filename(options.checkInput).str();
    } else {
      for (auto [i, type] : llvm::enumerate(train.getArgumentTypes()))
        inputs.push_back(randomTensor(
            cast<RankedTensorType>(type).getShape(), 1 + i));
    }
    FailureOr<SmallVector<Tensor>> a =
        evaluate(train, inputs);
    ArtifactCheck artifact;
    std::string error;
    bool ran = succeeded(a) &&
               succeeded(checkArtifact(
                   qdqOnnx ? options.output + ".int8.tflite" : options.output,
                   qdqOnnx ? StringRef(int8Tflite) : StringRef(os.str()),
                   options.target == "tosa", deploy, inputs, *a, artifact,
                   error));
    if (ran && qdqOnnx)
      // Nothing here runs QDQ ONNX; the .tflite of the same quantisation
      // stands in for it.
      artifact.what = "the int8 .tflite of the same quantisation (the QDQ "
                      "model itself runs in ONNX Runtime)";
    if (!ran) {
      if (!error.empty())
        diag << "mobileone-compile: --check: " << error << "\n";
      if (checkAsked)
        return result;
      // --report alone: the page says the check could not run.
      outcome.note = "the check could not run (see the error mobileone-compile "
                     "printed)";
      diag << "mobileone-compile: warning: --report: the check could not "
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
        pass = pass && (o.relative <= rtol || o.maxAbs <= options.checkAtol.value_or(0.0));
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
        diag << "mobileone-compile: --check failed, the model was not "
                  "written"
               << (report && wrote ? " (the report was: " + options.reportFile + ")"
                                   : std::string())
               << "\n"
               << checkLine;
        return result;
      }
    }
  }

  // The report first: a report that cannot be written leaves no model.
  if (!writeReport())
    return result;
  std::string error;
  if (options.write &&
      !writeOutputFile(options.output, os.str(), {options.input}, error)) {
    diag << "mobileone-compile: " << error << "\n";
    return result;
  }
  result.bytes = std::move(bytes);
  result.check = outcome;

  summary << "mobileone-compile: " << options.input << " -> " << options.output
         << "\n";
  summary << "  blocks fused:      " << opCount(recovered, "mobileone.block")
         << " (" << branches << " branches)";
  if (int64_t se = opCount(recovered, "mobileone.squeeze_excite"))
    summary << ", squeeze-excite kept: " << se;
  summary << "\n";
  summary << format("  parameters:        %.3f M -> %.3f M\n",
                   before.params / 1e6, after.params / 1e6);
  summary << format("  multiply-adds:     %.1f M -> %.1f M\n", before.macs / 1e6,
                   after.macs / 1e6);
  summary << format("  bytes moved:       %.1f MiB -> %.1f MiB (sync points %lld "
                   "-> %lld)\n",
                   before.bytesMoved() / 1048576.0,
                   after.bytesMoved() / 1048576.0,
                   (long long)before.syncPoints, (long long)after.syncPoints);
  summary << "  estimated latency: " << estimateText << "\n";
  summary << "  conv2d:            " << opCount(before, "mobileone.conv2d")
         << " -> " << opCount(after, "mobileone.conv2d")
         << "; batch_norm: " << opCount(before, "mobileone.batch_norm")
         << " -> " << opCount(after, "mobileone.batch_norm")
         << "; add: " << opCount(before, "mobileone.add") << " -> "
         << opCount(after, "mobileone.add") << "\n";
  for (const std::string &line : interface)
    summary << "  " << line << "\n";
  if (options.precision == "fp16")
    summary << "  weights:           float16 (half the file; the interface and "
              "arithmetic stay float32)\n";
  if (options.precision == "int8")
    summary << "  precision:         int8 weights (per channel) and activations ("
           << options.calibrationMethod << " over " << calibrationSet->samples()
           << " calibration sample"
           << (calibrationSet->samples() == 1 ? "" : "s")
           << (int8Tosa ? "); the TOSA function's interface is int8 "
                          "(quantise inputs, dequantise outputs as below)"
               : ioDTypeOf(options) == "int8"
                   ? "); the interface is int8 (--io-dtype int8: quantise "
                     "inputs, dequantise outputs as above)"
                   : "); the interface stays float32")
           << (options.biasCorrection
                   ? "; biases corrected for the int8 weights' mean error\n"
                   : "; biases not corrected (--no-bias-correction)\n");
  if (!int8Errors.empty()) {
    summary << "  int8 error:        SQNR against float32 on "
           << std::min<size_t>(2, calibrationSet->samples())
           << " calibration sample(s):";
    for (const auto &e : int8Errors)
      if (e.output)
        summary << " output '" << e.name << "' " << format("%.1f", e.sqnr)
               << " dB;";
    std::vector<CalibrationSet::TensorError> layers;
    for (const auto &e : int8Errors)
      if (!e.output)
        layers.push_back(e);
    llvm::stable_sort(layers,
                      [](const auto &a, const auto &b) { return a.sqnr < b.sqnr; });
    summary << " lowest layers:";
    for (size_t i = 0; i < std::min<size_t>(3, layers.size()); ++i)
      summary << (i ? "," : "") << " " << layers[i].name << " "
             << format("%.1f", layers[i].sqnr) << " dB";
    summary << "\n";
  }
  if (options.precision == "int8") {
    // What the quantisation-aware folding chose (IdentitySplit.h).
    const auto &splits = quantization.identitySplits;
    int chosen = 0;
    double cost = 0.0, worst = 200.0, worstAfter = 200.0;
    for (const IdentitySplit &s : splits) {
      worst = std::min(worst, s.sqnrIn);
      worstAfter = std::min(worstAfter, s.chosen ? s.sqnrOut : s.sqnrIn);
      if (s.chosen) {
        ++chosen;
        cost += s.cost;
      }
    }
    summary << "  int8 folding:      ";
    if (options.int8Fold == "all")
      summary << "every branch folded into its kernel (--int8-fold all)\n";
    else if (splits.empty())
      summary << "every branch folded: no kernel's identity tap costs its "
                 "weights precision\n";
    else
      summary << "identity taps kept out of " << chosen << " of "
              << splits.size()
              << " kernel(s) they dominate (a 1x1 depthwise + ADD each): "
                 "lowest weight SQNR "
              << format("%.1f", worst) << " -> " << format("%.1f", worstAfter)
              << " dB, estimated latency +" << format("%.1f", 100.0 * cost)
              << "% (budget " << format("%.0f", 100.0 * options.maxSlowdown)
              << "%, --max-slowdown)\n";
  }
  if (!quantization.keptFloat.empty()) {
    summary << "  kept float32:      " << quantization.keptFloat.size()
            << " layer(s) between a DEQUANTIZE and a QUANTIZE (--keep-float):";
    for (const std::string &name : quantization.keptFloat)
      summary << " " << name;
    summary << "\n";
  }
  if (equalization.tried) {
    summary << "  equalisation:      ";
    if (!equalization.layers)
      summary << "no convolution whose ReLU feeds only convolutions to "
                 "rescale\n";
    else
      summary << equalization.layers
              << " convolution(s) rescaled (cross-layer equalisation): "
                 "weakest output "
              << format("%.1f", equalization.before) << " -> "
              << format("%.1f", equalization.after) << " dB, "
              << (equalization.kept ? "kept" : "not kept")
              << (options.equalize == "on" ? " (--equalize on)" : "") << "\n";
  }
  if (autoKeepFloatOn(options)) {
    auto names = [](const std::vector<KeepFloatCandidate> &cs) {
      std::string s;
      for (const KeepFloatCandidate &c : cs)
        s += (s.empty() ? "" : ", ") + c.layer + " (" +
             formatv("{0:F1}", c.loss).str() + " dB lost)";
      return s;
    };
    summary << "  keep-float auto:   ";
    if (!autoKeepFloat.chosen.empty())
      summary << names(autoKeepFloat.chosen) << " kept float32: weakest output "
              << format("%.1f", autoKeepFloat.before) << " -> "
              << format("%.1f", autoKeepFloat.after)
              << " dB, estimated latency +"
              << format("%.1f", 100.0 * autoKeepFloat.cost) << "%\n";
    else if (autoKeepFloat.tried.empty())
      summary << "none kept: no layer loses 1 dB or more within the latency "
                 "budget and 0.35x of the float32 file\n";
    else
      summary << "none kept: " << names(autoKeepFloat.tried.front().first)
              << " in float32 gave the weakest output "
              << format("%.1f", autoKeepFloat.tried.front().second)
              << " dB (int8: " << format("%.1f", autoKeepFloat.before)
              << "), not 0.5 dB more\n";
  }
  if (!quantization.foldedChannels.empty()) {
    int channels = 0;
    for (const auto &[layer, n] : quantization.foldedChannels)
      channels += n;
    summary << "  constant channels: " << channels
           << " input channel(s) constant over the calibration set folded "
              "into the bias of "
           << quantization.foldedChannels.size() << " layer(s)";
    for (const auto &[layer, n] : quantization.foldedChannels)
      summary << (&layer == &quantization.foldedChannels.front().first ? ": "
                                                                        : ", ")
             << layer << " (" << n << ")";
    summary << "\n";
  }
  summary << checkLine;
  if (report)
    summary << "  report:            " << options.reportFile << "\n";
  result.ok = true;
  return result;
}
