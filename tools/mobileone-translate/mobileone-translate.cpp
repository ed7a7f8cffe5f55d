//===- mobileone-translate.cpp - model generation and translations --------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Evaluator/Evaluator.h"
#include "mobileone/Dialect/MobileOne/MobileOneDialect.h"
#include "mobileone/Support/Diagnostics.h"
#include "mobileone/Target/ModelGenerator.h"
#include "mobileone/Support/ToolSupport.h"
#include "mobileone/Target/ONNX.h"
#include "mobileone/Target/TFLite.h"
#include "mobileone/Runtime/Npy.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace llvm;

static cl::OptionCategory toolOptions("mobileone-translate options");

static cl::opt<std::string>
    inputFilename(cl::Positional, cl::desc("<input file>"), cl::init(""),
                  cl::cat(toolOptions));
static cl::opt<bool> importONNX("import-onnx",
                                cl::desc("Import an ONNX model into the "
                                         "mobileone dialect"), cl::cat(toolOptions));
static cl::opt<bool>
    exportONNX("export-onnx", cl::desc("Export a deploy-time module as ONNX"), cl::cat(toolOptions));
static cl::opt<bool> emitTFLiteOpt(
    "emit-tflite",
    cl::desc("Write a deploy-time module as a TFLite FlatBuffer (.tflite)"), cl::cat(toolOptions));
static cl::opt<bool> tosaHarness(
    "tosa-runner-harness",
    cl::desc("Add a @main that runs a TOSA module on the seeded input of "
             "mobileone-run --seed and prints its outputs (mlir-cpu-runner)"), cl::cat(toolOptions));
static cl::opt<std::string> harnessInput(
    "input",
    cl::desc("--tosa-runner-harness: run on this .npy (the first input; "
             "NCHW, f32) or .npz (one array per input name) instead of the "
             "seeded inputs"),
    cl::value_desc("file.npy|file.npz"), cl::cat(toolOptions));
static cl::opt<std::string>
    generate("generate",
             cl::desc("Generate a training-time model: s0, s1, s2, s3, s4 "
                      "(MobileOne) or 'block' (one block, see --block)"),
             cl::value_desc("model"), cl::cat(toolOptions));
static cl::opt<int64_t>
    resolution("resolution", cl::desc("Input height and width"), cl::init(224), cl::cat(toolOptions));
static cl::opt<int64_t>
    batch("batch",
          cl::desc("Batch size (--generate; symbolic batch of --import-onnx)"),
          cl::init(1), cl::cat(toolOptions));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of the random weights"),
                              cl::init(0), cl::cat(toolOptions));
static cl::opt<std::string> blockSpec(
    "block",
    cl::desc("Block for --generate=block: comma-separated key=value among in, "
             "out, kernel, stride, group, branches, scale, identity, size, "
             "batch"),
    cl::init(""), cl::cat(toolOptions));
static cl::opt<std::string> outputFilename("o", cl::desc("Output file"),
                                           cl::value_desc("filename"),
                                           cl::init("-"), cl::cat(toolOptions));
static cl::opt<bool> emitBytecode("emit-bytecode",
                                  cl::desc("Write MLIR bytecode, not text"), cl::cat(toolOptions));

/// --input of --tosa-runner-harness: a .npy for the first input, or a .npz
/// with one array per input, matched by the ONNX name the import recorded.
static bool readHarnessInputs(ModuleOp module, StringRef path,
                              std::vector<std::vector<float>> &inputs) {
  auto fail = [&](const std::string &why) {
    errs() << "mobileone-translate: " << path << ": " << why << "\n";
    return false;
  };
  std::string error;
  if (!path.ends_with(".npz")) {
    std::vector<int64_t> shape;
    inputs.resize(1);
    return ::mobileone::runtime::readNpy(path.str(), shape, inputs[0], error)
               ? true
               : fail(error);
  }
  std::vector<::mobileone::runtime::NamedArray> arrays;
  if (!::mobileone::runtime::readNpz(path.str(), arrays, error))
    return fail(error);
  func::FuncOp entry = mlir::mobileone::findEntryFunction(module);
  if (!entry)
    return false;
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto name =
        entry.getArgAttrOfType<StringAttr>(i, mlir::mobileone::kONNXNameAttr);
    std::string key = name ? name.str() : "input" + std::to_string(i);
    auto it = llvm::find_if(arrays, [&](const auto &a) { return a.name == key; });
    if (it == arrays.end())
      return fail("no array '" + key + "' for input #" + std::to_string(i));
    inputs.push_back(std::move(it->data));
  }
  if (arrays.size() != entry.getNumArguments())
    return fail("holds " + std::to_string(arrays.size()) + " arrays; the " +
                "model has " + std::to_string(entry.getNumArguments()) +
                " inputs");
  return true;
}

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  mlir::mobileone::setUpCommandLine("mobileone-translate", {&toolOptions});
  cl::ParseCommandLineOptions(argc, argv, "mobileone model translator\n");

  DialectRegistry registry;
  registry
      .insert<mlir::mobileone::MobileOneDialect, func::FuncDialect,
              arith::ArithDialect, tosa::TosaDialect, tensor::TensorDialect>();
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false); // the message names the op already
  SourceMgr sourceMgr;
  mlir::mobileone::ModelDiagnosticHandler handler(sourceMgr, &context, inputFilename);
  std::string error;
  OwningOpRef<ModuleOp> module;
  int modes =
      importONNX + exportONNX + emitTFLiteOpt + tosaHarness + !generate.empty();
  if (modes != 1) {
    errs() << "mobileone-translate: nothing to do: pass exactly one of "
              "--generate=<model>, --import-onnx, --export-onnx, "
              "--emit-tflite, --tosa-runner-harness\n";
    return 1;
  }
  if ((importONNX || exportONNX || emitTFLiteOpt || tosaHarness) &&
      inputFilename.empty()) {
    errs() << "mobileone-translate: expected an input file\n";
    return 1;
  }
  if (!importONNX && !inputFilename.empty() &&
      !mlir::mobileone::checkMLIRInput(inputFilename, error)) {
    errs() << "mobileone-translate: " << error << "\n";
    return 1;
  }
  if (importONNX && (batch < 1 || batch > (int64_t(1) << 16))) {
    errs() << "mobileone-translate: --batch must be in [1, 65536], got "
           << batch << "\n";
    return 1;
  }
  if (importONNX) {
    mlir::mobileone::ONNXImportOptions options;
    options.batch = batch;
    options.batchRequested = batch.getNumOccurrences() > 0;
    options.keepSymbolicBatch = !options.batchRequested;
    module = mlir::mobileone::importONNXFile(&context, inputFilename, options);
    if (!module)
      return 1;
  } else if (tosaHarness) {
    module = parseSourceFile<ModuleOp>(inputFilename, sourceMgr,
                                       ParserConfig(&context));
    if (!module)
      return 1;
    std::vector<std::vector<float>> inputs;
    if (!harnessInput.empty() &&
        !readHarnessInputs(*module, harnessInput, inputs))
      return 1;
    if (failed(mlir::mobileone::addRunnerHarness(*module, seed, inputs)))
      return 1;
  } else if (exportONNX || emitTFLiteOpt) {
    module = parseSourceFile<ModuleOp>(inputFilename, sourceMgr,
                                       ParserConfig(&context));
    if (!module)
      return 1;
  } else if (generate == "block") {
    mlir::mobileone::BlockConfig config;
    config.seed = seed;
    error = mlir::mobileone::parseBlockConfig(blockSpec, config);
    if (error.empty())
      module = mlir::mobileone::generateBlock(&context, config, error);
  } else {
    mlir::mobileone::MobileOneConfig config;
    config.variant = generate;
    config.resolution = resolution;
    config.batch = batch;
    config.seed = seed;
    module = mlir::mobileone::generateMobileOne(&context, config, error);
  }
  if (!module) {
    errs() << "mobileone-translate: " << error << "\n";
    return 1;
  }

  // Serialise in memory first: a failed translation leaves no output file.
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (exportONNX || emitTFLiteOpt) {
    if (failed(exportONNX ? mlir::mobileone::exportONNX(*module, bytes)
                          : mlir::mobileone::emitTFLite(*module, bytes)))
      return 1;
  } else if (emitBytecode) {
    if (failed(writeBytecodeToFile(*module, os))) {
      errs() << "mobileone-translate: cannot write bytecode\n";
      return 1;
    }
  } else {
    module->print(os, OpPrintingFlags());
    os << "\n";
  }
  if (!mlir::mobileone::writeOutputFile(outputFilename, os.str(), {inputFilename},
                                  error)) {
    errs() << "mobileone-translate: " << error << "\n";
    return 1;
  }
  return 0;
}
