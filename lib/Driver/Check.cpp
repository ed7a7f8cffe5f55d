//===- Check.cpp - --check: the written artifact against the training graph -===//

#include "mobileone/Driver/Check.h"
#include "mobileone/Runtime/Npy.h"
#include "mobileone/Runtime/Runtime.h"
#include "mobileone/Target/ONNX.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

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

} // namespace

LogicalResult mlir::mobileone::checkArtifact(
    StringRef path, StringRef bytes, bool tosa, func::FuncOp deployed,
    ArrayRef<Tensor> inputs, ArrayRef<Tensor> reference, ArtifactCheck &out,
    std::string &error) {
  StringRef ext = llvm::sys::path::extension(path);
  std::string file = llvm::sys::path::filename(path).str();
  out = {};
  if (tosa) {
    out.what = file + " (TOSA)";
    out.note = "TOSA is not run by --check; run it with mlir-cpu-runner "
               "(mobileone-translate --tosa-runner-harness)";
    return success();
  }
  if (ext == ".tflite") {
    std::unique_ptr<rt::Session> session = rt::Session::create(
        std::vector<uint8_t>(bytes.begin(), bytes.end()), {}, error);
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
    std::vector<rt::ConstTensorView> views;
    // The interface's layout as the file says it (not guessed from the
    // shapes, which agree when C = H = W).
    const bool nhwcFile = session->nhwcInterface();
    for (size_t i = 0; i < inputs.size(); ++i) {
      bool nhwc = nhwcFile && inputs[i].shape.size() == 4;
      feed.push_back(nhwc ? transpose4(inputs[i].data, inputs[i].shape, true)
                          : inputs[i].data);
    }
    for (const std::vector<float> &f : feed)
      views.emplace_back(f.data(), f.size());
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
      rt::widenIndices(outs[i].dtype, got[i].data(), got[i].size());
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
