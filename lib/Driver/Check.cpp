//===- Check.cpp - --check: the written artifact against the training graph -===//

#include "mobileone/Driver/Check.h"
#include "mobileone/Conversion/Int8ToTosa.h"
#include "mobileone/Conversion/Passes.h"
#include "mobileone/Runtime/Npy.h"
#include "mobileone/Runtime/Runtime.h"
#include "mobileone/Target/ONNX.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <regex>

using namespace mlir;
using namespace mlir::mobileone;
namespace rt = ::mobileone::runtime;

namespace {

/// NCHW <-> NHWC of a 4-D tensor's data.
std::vector<float> transpose4(const std::vector<float> &in,
                              ArrayRef<int64_t> from, bool toNhwc) {
  const int64_t n = from[0], a = from[1], b = from[2], c = from[3];
  std::vector<float> out(in.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t x = 0; x < a; ++x)
      for (int64_t y = 0; y < b; ++y)
        for (int64_t z = 0; z < c; ++z) {
          int64_t src = ((i * a + x) * b + y) * c + z;
          // toNhwc: from = NCHW (a = C, b = H, c = W) -> [n, b, c, a];
          // else: from = NHWC (a = H, b = W, c = C) -> [n, c, a, b].
          int64_t dst = toNhwc ? ((i * b + y) * c + z) * a + x
                               : ((i * c + z) * a + x) * b + y;
          out[dst] = in[src];
        }
  return out;
}

void compare(const std::vector<std::vector<float>> &got,
             const std::vector<std::string> &names, ArrayRef<Tensor> reference,
             ArtifactCheck &out) {
  for (size_t i = 0; i < got.size() && i < reference.size(); ++i) {
    rt::Difference d = rt::difference(got[i].data(), reference[i].data.data(),
                                      got[i].size());
    out.outputs.push_back({names[i], d.maxAbs, d.relative});
  }
}

/// Upstream MLIR 19's CPU path (what scripts/tosa-run.sh runs).
constexpr const char *kMlirOpt = "/usr/bin/mlir-opt-19";
constexpr const char *kCpuRunner = "/usr/bin/mlir-cpu-runner-19";
constexpr const char *kRunnerLibs[] = {
    "/usr/lib/llvm-19/lib/libmlir_runner_utils.so",
    "/usr/lib/llvm-19/lib/libmlir_c_runner_utils.so"};

/// The TOSA module `bytes` (text or bytecode) in mlir-cpu-runner on
/// `inputs` (the ONNX model's layout, which TOSA keeps), each result
/// against `reference`; int8 results (quantised TOSA) as the real values
/// their scale and zero point give. Not run (a note) where upstream MLIR 19
/// is not installed.
LogicalResult runTosa(const std::string &file, StringRef bytes,
                      func::FuncOp deployed, ArrayRef<Tensor> inputs,
                      ArrayRef<Tensor> reference, ArtifactCheck &out,
                      std::string &error) {
  out.what = file + " in mlir-cpu-runner-19";
  for (const char *tool : {kMlirOpt, kCpuRunner, kRunnerLibs[0], kRunnerLibs[1]})
    if (!llvm::sys::fs::exists(tool)) {
      out.note = std::string("not run: ") + tool +
                 " is not installed (Debian mlir-19-tools, libmlir-19)";
      return success();
    }
  MLIRContext *context = deployed->getContext();
  context->loadDialect<tensor::TensorDialect>();
  ParserConfig config(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(bytes, config);
  if (!module) {
    error = "the written TOSA does not parse again";
    return failure();
  }
  // Each result's float meaning, read before the harness renames @main.
  func::FuncOp entry = findEntryFunction(*module);
  if (!entry) {
    error = "the written TOSA has no entry function";
    return failure();
  }
  std::vector<std::optional<std::pair<double, int64_t>>> quant;
  std::vector<std::string> names;
  for (unsigned i = 0; i < entry.getNumResults(); ++i) {
    auto scale = entry.getResultAttrOfType<FloatAttr>(i, kQuantScaleAttr);
    auto zero = entry.getResultAttrOfType<IntegerAttr>(i, kQuantZeroPointAttr);
    quant.push_back(scale && zero ? std::optional(std::make_pair(
                                        scale.getValueAsDouble(),
                                        zero.getInt()))
                                  : std::nullopt);
    auto name = entry.getResultAttrOfType<StringAttr>(i, kONNXNameAttr);
    names.push_back(name ? name.str() : "#" + std::to_string(i));
  }
  std::vector<std::vector<float>> given;
  for (const Tensor &t : inputs)
    given.push_back(t.data);
  if (failed(addRunnerHarness(*module, 0, given))) {
    error = "cannot add a runner harness to the written TOSA";
    return failure();
  }
  SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("mobileone-check-tosa", dir)) {
    error = "cannot create a temporary directory: " + ec.message();
    return failure();
  }
  auto path = [&](StringRef name) {
    SmallString<128> p(dir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  };
  const std::string harness = path("harness.mlirbc"),
                    lowered = path("lowered.mlir"), printed = path("out.txt"),
                    log = path("log.txt");
  auto cleanup = llvm::make_scope_exit([&] {
    for (const std::string &f : {harness, lowered, printed, log})
      llvm::sys::fs::remove(f);
    llvm::sys::fs::remove(dir);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(harness, ec);
    if (ec || failed(writeBytecodeToFile(*module, os))) {
      error = "cannot write " + harness;
      return failure();
    }
  }
  auto run = [&](StringRef tool, ArrayRef<StringRef> args,
                 const std::string &stdoutFile) -> bool {
    std::optional<StringRef> redirects[] = {std::nullopt, StringRef(stdoutFile),
                                            StringRef(log)};
    std::string message;
    int rc = llvm::sys::ExecuteAndWait(tool, args, std::nullopt, redirects,
                                       /*SecondsToWait=*/1800, 0, &message);
    if (rc == 0)
      return true;
    auto text = llvm::MemoryBuffer::getFile(log);
    std::string tail = text ? (*text)->getBuffer().take_back(400).str() : "";
    error = llvm::sys::path::filename(tool).str() + " failed" +
            (message.empty() ? "" : " (" + message + ")") +
            (tail.empty() ? std::string() : ": " + tail);
    return false;
  };
  const std::string pipeline =
      std::string("--pass-pipeline=") + MOBILEONE_TOSA_PIPELINE;
  if (!run(kMlirOpt, {kMlirOpt, pipeline, harness, "-o", lowered}, log))
    return failure();
  const std::string libs = std::string("-shared-libs=") + kRunnerLibs[0] +
                           "," + kRunnerLibs[1];
  if (!run(kCpuRunner,
           {kCpuRunner, "-e", "main", "-entry-point-result=void", libs,
            lowered},
           printed))
    return failure();
  // printMemref's blocks: the values after "data =", in result order.
  auto text = llvm::MemoryBuffer::getFile(printed);
  if (!text) {
    error = "mlir-cpu-runner-19 printed nothing";
    return failure();
  }
  std::string all = (*text)->getBuffer().str();
  std::vector<std::vector<float>> got;
  const std::regex number(R"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|-?inf)");
  for (size_t at = all.find("Unranked Memref"); at != std::string::npos;) {
    size_t next = all.find("Unranked Memref", at + 1);
    size_t data = all.find("data =", at);
    std::string block = all.substr(data + 6, next == std::string::npos
                                                  ? std::string::npos
                                                  : next - data - 6);
    std::vector<float> values;
    for (auto it = std::sregex_iterator(block.begin(), block.end(), number);
         it != std::sregex_iterator(); ++it)
      values.push_back(std::stof(it->str()));
    const size_t i = got.size();
    if (i < quant.size() && quant[i])
      for (float &v : values)
        v = float(quant[i]->first * (double(v) - double(quant[i]->second)));
    got.push_back(std::move(values));
    at = next;
  }
  if (got.size() != reference.size()) {
    error = "mlir-cpu-runner-19 printed " + std::to_string(got.size()) +
            " results; the model has " + std::to_string(reference.size());
    return failure();
  }
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i].size() != reference[i].data.size()) {
      error = "TOSA result #" + std::to_string(i) + " has " +
              std::to_string(got[i].size()) + " values, expected " +
              std::to_string(reference[i].data.size());
      return failure();
    }
  compare(got, names, reference, out);
  return success();
}

} // namespace

LogicalResult mlir::mobileone::checkArtifact(
    StringRef path, StringRef bytes, bool tosa, func::FuncOp deployed,
    ArrayRef<Tensor> inputs, ArrayRef<Tensor> reference, ArtifactCheck &out,
    std::string &error) {
  StringRef ext = llvm::sys::path::extension(path);
  std::string file = llvm::sys::path::filename(path).str();
  out = {};
  if (tosa)
    return runTosa(file, bytes, deployed, inputs, reference, out, error);
  if (ext == ".tflite") {
    std::unique_ptr<rt::Session> session =
        rt::Session::createView(bytes.data(), bytes.size(), {}, error);
    if (!session) {
      error = "the written .tflite does not load: " + error;
      return failure();
    }
    out.what = file + " in the runtime (" + session->backend() + ")";
    const auto &ins = session->inputs();
    const auto &outs = session->outputs();
    if (ins.size() != inputs.size() || outs.size() != reference.size()) {
      error = "the written .tflite has another interface than the model";
      return failure();
    }
    std::vector<std::vector<float>> feed;
    feed.reserve(inputs.size()); // the views point into it
    std::vector<rt::ConstTensorView> views;
    // The interface's layout as the file says it (not guessed from the
    // shapes, which agree when C = H = W).
    const bool nhwcFile = session->nhwcInterface();
    for (size_t i = 0; i < inputs.size(); ++i) {
      bool nhwc = nhwcFile && inputs[i].shape.size() == 4;
      feed.push_back(nhwc ? transpose4(inputs[i].data, inputs[i].shape, true)
                          : inputs[i].data);
      // An int8 interface takes the inputs quantised as QUANTIZE would.
      rt::realToInterface(ins[i], feed.back().data(), feed.back().size());
      views.emplace_back(feed.back().data(), feed.back().size(), ins[i].dtype);
    }
    std::vector<std::vector<float>> got;
    std::vector<rt::TensorView> results;
    std::vector<std::string> names;
    for (const rt::TensorInfo &t : outs) {
      got.emplace_back(size_t(t.numElements()));
      names.push_back(t.name);
    }
    for (size_t i = 0; i < got.size(); ++i)
      results.emplace_back(got[i].data(), got[i].size(), outs[i].dtype);
    if (!session->run(views, results, error))
      return failure();
    for (size_t i = 0; i < got.size(); ++i)
      rt::interfaceToReal(outs[i], got[i].data(), got[i].size());
    for (size_t i = 0; i < got.size(); ++i)
      if (nhwcFile && outs[i].shape.size() == 4)
        got[i] = transpose4(got[i], outs[i].shape, false);
    compare(got, names, reference, out);
    return success();
  }
  func::FuncOp func = deployed;
  OwningOpRef<ModuleOp> reimported;
  if (ext == ".onnx") {
    // The written bytes, imported again as a user would.
    SmallString<128> temp;
    int fd;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "mobileone-check", "onnx", fd, temp)) {
      error = "cannot create a temporary file: " + ec.message();
      return failure();
    }
    {
      llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
      os << bytes;
    }
    ONNXImportOptions options;
    options.batch = inputs.empty() || inputs[0].shape.empty()
                        ? 1
                        : inputs[0].shape[0];
    options.keepSymbolicBatch = false;
    reimported = importONNXFile(deployed->getContext(), temp, options);
    llvm::sys::fs::remove(temp);
    if (!reimported) {
      error = "the written ONNX does not import again (see above)";
      return failure();
    }
    func = findEntryFunction(*reimported);
    if (!func) {
      error = "the written ONNX has no graph";
      return failure();
    }
    out.what = file + " re-imported from its bytes";
  } else {
    out.what = file;
  }
  FailureOr<SmallVector<Tensor>> got = evaluate(func, inputs);
  if (failed(got)) {
    error = "the evaluator could not run " + out.what;
    return failure();
  }
  std::vector<std::vector<float>> values;
  std::vector<std::string> names;
  for (auto [i, t] : llvm::enumerate(*got)) {
    values.push_back(t.data);
    auto name = func.getResultAttrOfType<StringAttr>(i, kONNXNameAttr);
    names.push_back(name ? name.str() : "#" + std::to_string(i));
  }
  compare(values, names, reference, out);
  return success();
}
