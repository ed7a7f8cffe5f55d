//===- mobileone-compile.cpp - ONNX in, deployable model out --------------===//
//
// `mobileone-compile model.onnx -o deploy.tflite`: option parsing over one
// driver call (lib/Driver/Compile.cpp), then the driver's summary.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Driver/Compile.h"
#include "mobileone/Support/ToolSupport.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using mlir::mobileone::given;

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
static cl::opt<std::string> target(
    "target", cl::init("mobileone"), cl::cat(toolOptions),
    cl::desc("For .mlir/.mlirbc output: 'mobileone' (the deploy-time dialect, "
             "default) or 'tosa'"));
static cl::opt<int64_t>
    batch("batch",
          cl::desc("Fix a symbolic batch dimension to N (default: ONNX output "
                   "keeps it symbolic where the graph allows, other targets "
                   "use 1); an error for a model with a fixed batch"),
          cl::value_desc("N"), cl::init(1), cl::cat(toolOptions));
static cl::opt<bool> quiet("quiet", cl::desc("No summary"), cl::cat(toolOptions));
static cl::opt<bool> explain(
    "explain", cl::desc("Say for every sum of branches which block it became "
                        "(branches, kernel) or why it stayed unfused"),
    cl::cat(toolOptions));
static cl::opt<bool>
    check("check",
          cl::desc("Run the written file (.tflite: the runtime; .onnx: "
                   "re-imported; .mlir: the evaluator; TOSA: mlir-cpu-runner-19) "
                   "against the training-time model on seeded inputs (or "
                   "--check-input); beyond --check-rtol nothing is written"),
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
    "check-atol", cl::init(0.0), cl::cat(toolOptions),
    cl::desc("--check (implied) also passes an output whose max |a - b| is at "
             "most this (default 0)"));
static cl::opt<std::string> reportFile(
    "report", cl::value_desc("report.html"), cl::cat(toolOptions),
    cl::desc("Also write one self-contained HTML page: what was fused and "
             "what not (and why), costs, the --check result and a drawing of "
             "the network before and after"));
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
    cl::desc("Precision of the written model: fp32 (default), fp16 (float16 "
             "weights: half the file, float32 arithmetic) or int8 (TFLite's "
             "int8 scheme; QDQ for .onnx; integer TOSA with --target=tosa)"),
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
    cl::desc("How --precision int8 ranges activations: minmax (default), "
             "percentile (0.01% clipped at each end) or mse (the range of "
             "least int8 error over the values seen)"),
    cl::value_desc("minmax|percentile|mse"), cl::init("minmax"),
    cl::cat(toolOptions));
static cl::opt<std::string> int8Fold(
    "int8-fold",
    cl::desc("How --precision int8 folds: auto (default: a kernel whose "
             "identity tap costs its weights precision keeps the tap out, as "
             "a 1x1 depthwise + ADD, within --max-slowdown) or all (every "
             "branch in its kernel, fastest)"),
    cl::value_desc("auto|all"), cl::init("auto"), cl::cat(toolOptions));
static cl::opt<int> qdqWeightBits(
    "qdq-weight-bits",
    cl::desc("int8 .onnx: weight bits, 8 (default: the .tflite's weights "
             "exactly) or 7 (ONNX Runtime's u8 x s8 kernels on x86 without "
             "VNNI add pairs of products in saturating int16; 7-bit weights "
             "cannot overflow it)"),
    cl::value_desc("7|8"), cl::init(8), cl::cat(toolOptions));
static cl::list<std::string> keepFloat(
    "keep-float", cl::CommaSeparated, cl::value_desc("layer,..."),
    cl::desc("--precision int8: leave these layers (op names, as the summary "
             "and --report name them) in float32; auto: those losing the most "
             "measured SQNR, within --max-slowdown, if that helps"),
    cl::cat(toolOptions));
static cl::opt<std::string> equalize("equalize", cl::init("auto"),
    cl::desc("--precision int8: cross-layer equalisation (auto: where the "
             "measured output gains)"), cl::cat(toolOptions));
static cl::opt<bool> noBiasCorrection(
    "no-bias-correction",
    cl::desc("--precision int8: keep the float biases (by default each int8 "
             "layer's bias absorbs the mean error its int8 weights make on "
             "the calibration data)"),
    cl::cat(toolOptions));
static cl::opt<double> maxSlowdown(
    "max-slowdown",
    cl::desc("Latency --int8-fold auto may add, as a fraction of the "
             "estimated int8 time (default 0.1; --machine for the estimate)"),
    cl::value_desc("fraction"), cl::init(0.1), cl::cat(toolOptions));
static cl::opt<double> checkRtol(
    "check-rtol", cl::init(1e-4), cl::cat(toolOptions),
    cl::desc("Tolerance of --check (implied) on max |a - b| / max |b| per "
             "output (default by --precision: fp32 1e-4, fp16 1e-2, int8 0.25)"));
static cl::opt<std::string> ioDType(
    "io-dtype", cl::value_desc("float32|float16|int8"), cl::cat(toolOptions),
    cl::desc("The interface's type: float32 (default), float16 (a float "
             ".onnx, Casts at its edges; a float16 model's own) or int8 "
             "(--precision int8: each input and output with its scale and zero "
             "point; quantised TOSA's only form)"));

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  mlir::mobileone::setUpCommandLine("mobileone-compile", {&toolOptions});
  mlir::mobileone::CompileOptions options;
  options.commandLine = mlir::mobileone::commandLineOf(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "mobileone compiler: ONNX in, re-parameterised "
                              "model out\n");
  options.input = inputFilename;
  options.output = outputFilename;
  options.target = target;
  options.batch = given(batch);
  for (const std::string &spec : inputShape) {
    std::string error;
    if (!mlir::mobileone::addInputShape(spec, options.inputShapes, error)) {
      errs() << "mobileone-compile: " << error << "\n";
      return 1;
    }
  }
  options.precision = precision;
  options.tfliteLayout = given(tfliteLayout);
  options.calibration = calibration;
  options.calibrationMethod = calibrationMethod;
  options.int8Fold = int8Fold;
  options.equalize = equalize;
  options.maxSlowdown = maxSlowdown;
  options.keepFloat.assign(keepFloat.begin(), keepFloat.end());
  options.biasCorrection = !noBiasCorrection;
  options.qdqWeightBits = qdqWeightBits;
  options.ioDType = given(ioDType);
  options.check = check;
  options.checkInput = checkInput;
  options.checkAtol = given(checkAtol);
  options.checkRtol = given(checkRtol);
  options.explain = explain;
  options.reportFile = reportFile;
  options.noReparameterize = noReparameterize;
  options.machineFile = machineFile;
  options.summary = !quiet;

  mlir::mobileone::CompileResult result =
      mlir::mobileone::compile(options, errs());
  if (!result.ok)
    return 1;
  if (!quiet)
    outs() << result.summary;
  return 0;
}
