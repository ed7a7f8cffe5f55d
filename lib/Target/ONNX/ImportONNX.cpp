//===- ImportONNX.cpp - ONNX models into the mobileone dialect ------------===//
//
// A direct translation, node by node, in graph order (ONNX requires
// topological order). Shapes are computed here from the op semantics rather
// than taken from value_info, so an inconsistent model is caught at the node
// that makes it inconsistent.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Target/ONNX.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <cstring>
#include <functional>

using namespace mlir;
using namespace mlir::mobileone;

namespace {

constexpr int64_t kMinOpset = 11, kMaxOpset = 17;

const char *const kSupportedOps =
    "Add, AveragePool (global), BatchNormalization, Constant, Conv, Dropout, "
    "Flatten, Gemm, GlobalAveragePool, Identity, MatMul, Mul, Pad (feeding a "
    "Conv), ReduceMean (over H and W), Relu, Reshape, Sigmoid, Sum";

/// A graph value: a tensor in the IR, or an int64 constant kept aside for
/// the ops that take shapes and pads as inputs.
struct Entry {
  Value value;
  std::optional<std::vector<int64_t>> ints;
  /// Set when the value is `Pad(source)`: only a Conv may consume it, and
  /// folds the padding into its own.
  std::optional<std::array<int64_t, 4>> pendingPads;
  Location padLoc = UnknownLoc();
};

class Importer {
public:
  Importer(MLIRContext *context, StringRef path,
           const ONNXImportOptions &options)
      : context(context), b(context), path(path.str()), options(options) {}

  OwningOpRef<ModuleOp> run();

private:
  // Reading the model.
  std::unique_ptr<onnx::ModelProto> parse();
  LogicalResult readTensor(const onnx::TensorProto &t, Location loc,
                           std::vector<float> *floats,
                           std::vector<int64_t> *ints);
  LogicalResult readExternalData(const onnx::TensorProto &t, Location loc,
                                 std::string &bytes);
  LogicalResult addInitializer(const onnx::TensorProto &t);

  // Nodes.
  LogicalResult importNode(const onnx::NodeProto &node, int64_t index);
  InFlightDiagnostic nodeError(const onnx::NodeProto &node);
  FailureOr<Value> input(const onnx::NodeProto &node, int i);
  FailureOr<std::vector<int64_t>> intInput(const onnx::NodeProto &node, int i);
  bool hasInput(const onnx::NodeProto &node, int i) {
    return node.input_size() > i && !node.input(i).empty();
  }
  LogicalResult define(const onnx::NodeProto &node, Value v, int output = 0);
  LogicalResult defineEntry(const onnx::NodeProto &node, Entry e,
                            int output = 0);

  Value constant(ArrayRef<int64_t> shape, ArrayRef<float> data,
                 const std::string &name, Location loc);
  std::optional<std::vector<float>> constantData(Value v);
  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  }
  static ArrayRef<int64_t> shapeOf(Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  }

  LogicalResult importConv(const onnx::NodeProto &node, Location loc);
  LogicalResult importBatchNorm(const onnx::NodeProto &node, Location loc);
  LogicalResult importBinary(const onnx::NodeProto &node, Location loc,
                             bool multiply);
  LogicalResult importGemm(const onnx::NodeProto &node, Location loc,
                           bool matmul);
  LogicalResult importPool(const onnx::NodeProto &node, Location loc);
  LogicalResult importReshape(const onnx::NodeProto &node, Location loc);
  LogicalResult importPad(const onnx::NodeProto &node, Location loc);
  LogicalResult importConstant(const onnx::NodeProto &node, Location loc);

  MLIRContext *context;
  OpBuilder b;
  std::string path;
  ONNXImportOptions options;
  int64_t opset = 0;
  std::string currentOp;
  llvm::StringMap<Entry> values;
  Location fileLoc = UnknownLoc();
};

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *findAttr(const onnx::NodeProto &node,
                                     StringRef name) {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t intAttr(const onnx::NodeProto &node, StringRef name, int64_t def) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return a ? a->i() : def;
}

float floatAttr(const onnx::NodeProto &node, StringRef name, float def) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return a ? a->f() : def;
}

std::vector<int64_t> intsAttr(const onnx::NodeProto &node, StringRef name,
                              std::vector<int64_t> def) {
  const onnx::AttributeProto *a = findAttr(node, name);
  if (!a)
    return def;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::string stringAttr(const onnx::NodeProto &node, StringRef name,
                       StringRef def) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return a ? a->s() : def.str();
}

/// Every dimension positive and the element count at most 2^31: bounds
/// that keep all later shape arithmetic far from overflow.
constexpr int64_t kMaxElements = int64_t(1) << 31;
bool validShape(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 1 || d > kMaxElements / n)
      return false;
    n *= d;
  }
  return true;
}

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

std::unique_ptr<onnx::ModelProto> Importer::parse() {
  auto fail = [&](const Twine &msg) {
    emitError(fileLoc) << msg;
    return nullptr;
  };
  if (llvm::sys::fs::is_directory(path))
    return fail("is a directory, expected an ONNX model file");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!file)
    return fail("cannot open the file: " + file.getError().message());
  StringRef bytes = (*file)->getBuffer();
  if (bytes.empty())
    return fail("the file is empty, expected an ONNX model");
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return fail("the file is larger than 2 GiB, the protobuf limit");

  auto model = std::make_unique<onnx::ModelProto>();
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()),
      static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(INT_MAX);
  if (!model->ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return fail("not a valid ONNX model (protobuf parse failed: the file is "
                "truncated, corrupt or not a ModelProto)");
  // Random bytes and other messages can parse as a ModelProto with unknown
  // fields; a real model has an IR version, an opset and a graph.
  if (model->ir_version() <= 0 || !model->has_graph() ||
      model->opset_import_size() == 0)
    return fail("not an ONNX model: it has no ir_version, opset_import or "
                "graph");
  return model;
}

LogicalResult Importer::readExternalData(const onnx::TensorProto &t,
                                         Location loc, std::string &bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const onnx::StringStringEntryProto &kv : t.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset" &&
             !StringRef(kv.value()).getAsInteger(10, offset))
      ;
    else if (kv.key() == "length" &&
             !StringRef(kv.value()).getAsInteger(10, length))
      ;
  }
  if (location.empty())
    return emitError(loc) << "tensor '" << t.name()
                          << "' has external data without a location";
  // External data may only come from the model's own directory tree.
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  SmallString<256> realDir, realFile;
  SmallString<256> file(dir);
  llvm::sys::path::append(file, location);
  if (llvm::sys::path::is_absolute(location) ||
      llvm::sys::fs::real_path(dir, realDir) ||
      llvm::sys::fs::real_path(file, realFile) ||
      !StringRef(realFile).starts_with((realDir + "/").str()))
    return emitError(loc) << "tensor '" << t.name() << "': external data path '"
                          << location
                          << "' is missing or leaves the model's directory "
                             "(only files inside '"
                          << dir << "' are read)";
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buf =
      llvm::MemoryBuffer::getFile(realFile, false, false);
  if (!buf)
    return emitError(loc) << "tensor '" << t.name() << "': cannot read '"
                          << realFile << "': " << buf.getError().message();
  StringRef all = (*buf)->getBuffer();
  if (length < 0)
    length = static_cast<int64_t>(all.size()) - offset;
  const int64_t size = static_cast<int64_t>(all.size());
  if (offset < 0 || length < 0 || offset > size || length > size - offset)
    return emitError(loc) << "tensor '" << t.name() << "': external data "
                          << "range (offset " << offset << ", length " << length
                          << ") exceeds '" << location << "' (" << all.size()
                          << " bytes)";
  bytes.assign(all.data() + offset, length);
  return success();
}

LogicalResult Importer::readTensor(const onnx::TensorProto &t, Location loc,
                                   std::vector<float> *floats,
                                   std::vector<int64_t> *ints) {
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 1 || n > kMaxElements / d)
      return emitError(loc) << "tensor '" << t.name()
                            << "' has an invalid shape (dimensions must be "
                               "positive, at most 2^31 elements)";
    n *= d;
  }
  std::string external;
  const std::string *raw = t.has_raw_data() ? &t.raw_data() : nullptr;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (failed(readExternalData(t, loc, external)))
      return failure();
    raw = &external;
  }
  auto sizeError = [&](size_t got) {
    return emitError(loc) << "tensor '" << t.name() << "' of shape "
                          << formatShape(std::vector<int64_t>(t.dims().begin(),
                                                              t.dims().end()))
                          << " holds " << got << " elements, expected " << n;
  };
  if (t.data_type() == onnx::TensorProto::FLOAT && floats) {
    if (raw) {
      if (raw->size() != static_cast<size_t>(n) * 4)
        return sizeError(raw->size() / 4);
      floats->resize(n);
      std::memcpy(floats->data(), raw->data(), raw->size());
    } else {
      if (t.float_data_size() != n)
        return sizeError(t.float_data_size());
      floats->assign(t.float_data().begin(), t.float_data().end());
    }
    return success();
  }
  if ((t.data_type() == onnx::TensorProto::INT64 ||
       t.data_type() == onnx::TensorProto::INT32) &&
      ints) {
    bool is64 = t.data_type() == onnx::TensorProto::INT64;
    if (raw) {
      size_t width = is64 ? 8 : 4;
      if (raw->size() != static_cast<size_t>(n) * width)
        return sizeError(raw->size() / width);
      ints->resize(n);
      for (int64_t i = 0; i < n; ++i) {
        if (is64) {
          std::memcpy(&(*ints)[i], raw->data() + 8 * i, 8);
        } else {
          int32_t v;
          std::memcpy(&v, raw->data() + 4 * i, 4);
          (*ints)[i] = v;
        }
      }
    } else if (is64) {
      if (t.int64_data_size() != n)
        return sizeError(t.int64_data_size());
      ints->assign(t.int64_data().begin(), t.int64_data().end());
    } else {
      if (t.int32_data_size() != n)
        return sizeError(t.int32_data_size());
      ints->assign(t.int32_data().begin(), t.int32_data().end());
    }
    return success();
  }
  return emitError(loc) << "tensor '" << t.name() << "' has data type "
                        << onnx::TensorProto::DataType_Name(
                               static_cast<onnx::TensorProto::DataType>(
                                   t.data_type()))
                        << "; only FLOAT tensors (and INT64 shapes) are "
                           "supported";
}

Value Importer::constant(ArrayRef<int64_t> shape, ArrayRef<float> data,
                         const std::string &name, Location loc) {
  return createWeightConstant(b, loc, f32(shape), data, name);
}

std::optional<std::vector<float>> Importer::constantData(Value v) {
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> data = getConstantF32(v, storage);
  if (!data)
    return std::nullopt;
  return std::vector<float>(data->begin(), data->end());
}

LogicalResult Importer::addInitializer(const onnx::TensorProto &t) {
  Location loc = NameLoc::get(b.getStringAttr(t.name()));
  Entry e;
  if (t.data_type() == onnx::TensorProto::INT64 ||
      t.data_type() == onnx::TensorProto::INT32) {
    std::vector<int64_t> ints;
    if (failed(readTensor(t, loc, nullptr, &ints)))
      return failure();
    e.ints = std::move(ints);
  } else {
    std::vector<float> data;
    if (failed(readTensor(t, loc, &data, nullptr)))
      return failure();
    std::vector<int64_t> shape(t.dims().begin(), t.dims().end());
    e.value = constant(shape, data, t.name(), loc);
  }
  values[t.name()] = std::move(e);
  return success();
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

InFlightDiagnostic Importer::nodeError(const onnx::NodeProto &node) {
  std::string name = node.name().empty() ? "(unnamed)" : node.name();
  return emitError(NameLoc::get(b.getStringAttr(name)))
         << "node '" << name << "' (" << node.op_type() << "): ";
}

FailureOr<Value> Importer::input(const onnx::NodeProto &node, int i) {
  if (!hasInput(node, i)) {
    nodeError(node) << "missing input #" << i;
    return failure();
  }
  auto it = values.find(node.input(i));
  if (it == values.end()) {
    nodeError(node) << "input '" << node.input(i)
                    << "' is not produced by any node, graph input or "
                       "initializer (missing initializer?)";
    return failure();
  }
  Entry &e = it->second;
  if (e.pendingPads && (node.op_type() != "Conv" || i != 0)) {
    nodeError(node) << "reads the output of a Pad; a Pad is supported only "
                       "as the data input of a Conv";
    return failure();
  }
  if (!e.value) {
    nodeError(node) << "input '" << node.input(i)
                    << "' is an integer tensor, expected FLOAT";
    return failure();
  }
  return e.value;
}

FailureOr<std::vector<int64_t>> Importer::intInput(const onnx::NodeProto &node,
                                                   int i) {
  auto it = hasInput(node, i) ? values.find(node.input(i)) : values.end();
  if (it == values.end() || !it->second.ints) {
    nodeError(node) << "input #" << i
                    << " must be a constant INT64 tensor (an initializer or "
                       "Constant)";
    return failure();
  }
  return *it->second.ints;
}

LogicalResult Importer::define(const onnx::NodeProto &node, Value v,
                               int output) {
  if (node.output_size() <= output) {
    nodeError(node) << "has no output #" << output;
    return failure();
  }
  Entry e;
  e.value = v;
  return defineEntry(node, std::move(e), output);
}

LogicalResult Importer::defineEntry(const onnx::NodeProto &node, Entry e,
                                    int output) {
  const std::string &name = node.output(output);
  if (name.empty())
    return nodeError(node) << "output #" << output << " has no name";
  if (!values.try_emplace(name, std::move(e)).second)
    return nodeError(node) << "value '" << name
                           << "' is defined twice (ONNX requires single "
                              "assignment)";
  return success();
}

LogicalResult Importer::importConv(const onnx::NodeProto &node, Location loc) {
  FailureOr<Value> xv = input(node, 0);
  if (failed(xv))
    return failure();
  Value x = *xv;
  // A Pad in front (constant zeros on H and W) becomes part of the padding.
  std::array<int64_t, 4> extraPads = {0, 0, 0, 0};
  if (const Entry &xe = values[node.input(0)]; xe.pendingPads)
    extraPads = *xe.pendingPads;
  FailureOr<Value> w = input(node, 1);
  if (failed(w))
    return failure();
  Value bias;
  if (hasInput(node, 2)) {
    FailureOr<Value> bv = input(node, 2);
    if (failed(bv))
      return failure();
    bias = *bv;
  }
  ArrayRef<int64_t> xs = shapeOf(x), ws = shapeOf(*w);
  if (xs.size() != 4 || ws.size() != 4)
    return nodeError(node) << "only 2-D convolutions (4-D NCHW input and "
                              "weight) are supported, got input "
                           << formatShape(xs) << " and weight "
                           << formatShape(ws);
  std::vector<int64_t> strides = intsAttr(node, "strides", {1, 1});
  std::vector<int64_t> dilations = intsAttr(node, "dilations", {1, 1});
  std::vector<int64_t> pads = intsAttr(node, "pads", {0, 0, 0, 0});
  std::vector<int64_t> kernel = intsAttr(node, "kernel_shape", {ws[2], ws[3]});
  int64_t group = intAttr(node, "group", 1);
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4 ||
      kernel.size() != 2)
    return nodeError(node) << "expected 2-D strides, dilations, kernel_shape "
                              "and 4 pads";
  auto inRange = [](ArrayRef<int64_t> v, int64_t lo, int64_t hi) {
    return llvm::all_of(v, [&](int64_t x) { return x >= lo && x <= hi; });
  };
  if (!inRange(strides, 1, 1 << 16) || !inRange(dilations, 1, 1 << 16) ||
      !inRange(pads, 0, 1 << 16))
    return nodeError(node) << "strides and dilations must be in [1, 65536] "
                              "and pads in [0, 65536]";
  if (kernel[0] != ws[2] || kernel[1] != ws[3])
    return nodeError(node) << "inconsistent shapes: kernel_shape "
                           << formatShape(kernel) << " but weight "
                           << formatShape(ws);
  std::string autoPad = stringAttr(node, "auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    pads = {0, 0, 0, 0};
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int d = 0; d < 2; ++d) {
      // SAME is relative to the input the conv sees: after a folded Pad.
      int64_t in = xs[2 + d] + extraPads[d] + extraPads[d + 2];
      int64_t out = (in + strides[d] - 1) / strides[d];
      int64_t total = std::max<int64_t>(
          0, (out - 1) * strides[d] + dilations[d] * (kernel[d] - 1) + 1 - in);
      int64_t small = total / 2, large = total - small;
      pads[d] = autoPad == "SAME_UPPER" ? small : large;
      pads[d + 2] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return nodeError(node) << "unsupported auto_pad '" << autoPad << "'";
  }
  for (int i = 0; i < 4; ++i)
    pads[i] += extraPads[i];
  if (group < 1 || xs[1] % group != 0 || ws[0] % group != 0 ||
      ws[1] != xs[1] / group)
    return nodeError(node) << "inconsistent shapes: input " << formatShape(xs)
                           << ", weight " << formatShape(ws) << ", group "
                           << group;
  int64_t oh = (xs[2] + pads[0] + pads[2] - dilations[0] * (ws[2] - 1) - 1),
          ow = (xs[3] + pads[1] + pads[3] - dilations[1] * (ws[3] - 1) - 1);
  if (oh < 0 || ow < 0 || strides[0] < 1 || strides[1] < 1)
    return nodeError(node) << "inconsistent shapes: kernel "
                           << formatShape(kernel) << " does not fit input "
                           << formatShape(xs);
  SmallVector<int64_t> outShape = {xs[0], ws[0], oh / strides[0] + 1,
                                   ow / strides[1] + 1};
  if (!validShape(outShape))
    return nodeError(node) << "output shape " << formatShape(outShape)
                           << " exceeds 2^31 elements";
  auto type = f32(outShape);
  auto conv = b.create<Conv2DOp>(
      loc, type, x, *w, bias, b.getDenseI64ArrayAttr(strides),
      b.getDenseI64ArrayAttr(pads), b.getDenseI64ArrayAttr(dilations),
      b.getI64IntegerAttr(group));
  return define(node, conv);
}

LogicalResult Importer::importBatchNorm(const onnx::NodeProto &node,
                                        Location loc) {
  bool training = intAttr(node, "training_mode", 0) != 0;
  for (int i = 1; i < node.output_size(); ++i)
    training |= !node.output(i).empty();
  if (training)
    return nodeError(node)
           << "BatchNormalization in training mode (training_mode=1 or "
              "running-statistics outputs); export the model in eval mode: "
              "model.eval() and torch.onnx.export(..., "
              "training=torch.onnx.TrainingMode.EVAL or PRESERVE)";
  SmallVector<Value> in;
  for (int i = 0; i < 5; ++i) {
    FailureOr<Value> v = input(node, i);
    if (failed(v))
      return failure();
    in.push_back(*v);
  }
  ArrayRef<int64_t> xs = shapeOf(in[0]);
  if (xs.size() != 4)
    return nodeError(node) << "expected a 4-D NCHW input, got "
                           << formatShape(xs);
  static const char *names[] = {"X", "scale", "B", "mean", "var"};
  for (int i = 1; i < 5; ++i) {
    ArrayRef<int64_t> s = shapeOf(in[i]);
    if (s.size() != 1 || s[0] != xs[1])
      return nodeError(node)
             << "inconsistent shapes: '" << names[i] << "' has shape "
             << formatShape(s) << ", expected [" << xs[1] << "] for input "
             << formatShape(xs);
  }
  double eps = floatAttr(node, "epsilon", 1e-5f);
  auto bn = b.create<BatchNormOp>(loc, in[0].getType(), in[0], in[1], in[2],
                                  in[3], in[4], b.getF64FloatAttr(eps));
  return define(node, bn);
}

/// NumPy broadcast of two shapes, or nullopt.
std::optional<SmallVector<int64_t>> broadcast(ArrayRef<int64_t> a,
                                              ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

LogicalResult Importer::importBinary(const onnx::NodeProto &node, Location loc,
                                     bool multiply) {
  if (node.input_size() < 1)
    return nodeError(node) << "expected inputs";
  FailureOr<Value> acc = input(node, 0);
  if (failed(acc))
    return failure();
  for (int i = 1; i < node.input_size(); ++i) {
    FailureOr<Value> rhs = input(node, i);
    if (failed(rhs))
      return failure();
    std::optional<SmallVector<int64_t>> shape =
        broadcast(shapeOf(*acc), shapeOf(*rhs));
    if (!shape)
      return nodeError(node)
             << "inconsistent shapes: " << formatShape(shapeOf(*acc)) << " and "
             << formatShape(shapeOf(*rhs)) << " do not broadcast";
    // x + 0 (PyTorch traces `0 + conv(x)` in MobileOne blocks): no op.
    auto isZero = [&](Value v) {
      std::optional<std::vector<float>> d = constantData(v);
      return !multiply && d &&
             llvm::all_of(*d, [](float f) { return f == 0.0f; });
    };
    if (isZero(*rhs) && ArrayRef<int64_t>(*shape) == shapeOf(*acc))
      continue;
    if (isZero(*acc) && ArrayRef<int64_t>(*shape) == shapeOf(*rhs)) {
      acc = *rhs;
      continue;
    }
    if (multiply)
      acc = b.create<MulOp>(loc, f32(*shape), *acc, *rhs).getResult();
    else
      acc = b.create<AddOp>(loc, f32(*shape), *acc, *rhs).getResult();
  }
  return define(node, *acc);
}

LogicalResult Importer::importGemm(const onnx::NodeProto &node, Location loc,
                                   bool matmul) {
  FailureOr<Value> a = input(node, 0), w = input(node, 1);
  if (failed(a) || failed(w))
    return failure();
  ArrayRef<int64_t> as = shapeOf(*a), ws = shapeOf(*w);
  float alpha = matmul ? 1.0f : floatAttr(node, "alpha", 1.0f);
  float beta = matmul ? 1.0f : floatAttr(node, "beta", 1.0f);
  bool transA = !matmul && intAttr(node, "transA", 0);
  bool transB = !matmul && intAttr(node, "transB", 0);
  if (as.size() != 2 || ws.size() != 2 || transA)
    return nodeError(node) << "expected A [N, K] (transA = 0) and a 2-D B, got "
                           << formatShape(as) << " and " << formatShape(ws);
  int64_t k = as[1];
  int64_t m = transB ? ws[0] : ws[1];
  if ((transB ? ws[1] : ws[0]) != k)
    return nodeError(node) << "inconsistent shapes: A " << formatShape(as)
                           << ", B " << formatShape(ws)
                           << (transB ? " (transB)" : "");
  Value weight = *w;
  if (!transB || alpha != 1.0f) {
    std::optional<std::vector<float>> data = constantData(*w);
    if (!data)
      return nodeError(node) << "B must be a constant when transB = 0 or "
                                "alpha != 1";
    std::vector<float> out(m * k);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < k; ++j)
        out[i * k + j] =
            alpha * (transB ? (*data)[i * k + j] : (*data)[j * m + i]);
    weight = constant({m, k}, out, node.input(1) + "_t", loc);
  }
  Value bias;
  Value addLater;
  if (hasInput(node, 2)) {
    FailureOr<Value> c = input(node, 2);
    if (failed(c))
      return failure();
    ArrayRef<int64_t> cs = shapeOf(*c);
    std::optional<std::vector<float>> data = constantData(*c);
    int64_t cn = 1;
    for (int64_t d : cs)
      cn *= d;
    if (data && cn == m && (cs.size() == 1 || (cs.size() == 2 && cs[0] == 1))) {
      for (float &v : *data)
        v *= beta;
      bias = constant({m}, *data, node.input(2) + "_b", loc);
    } else if (beta == 1.0f) {
      addLater = *c;
    } else {
      return nodeError(node) << "C must be a constant [M] when beta != 1";
    }
  }
  Value y = b.create<LinearOp>(loc, f32({as[0], m}), *a, weight, bias);
  if (addLater) {
    std::optional<SmallVector<int64_t>> shape =
        broadcast(shapeOf(y), shapeOf(addLater));
    if (!shape)
      return nodeError(node)
             << "inconsistent shapes: C " << formatShape(shapeOf(addLater))
             << " does not broadcast to [" << as[0] << ", " << m << "]";
    y = b.create<AddOp>(loc, f32(*shape), y, addLater);
  }
  return define(node, y);
}

LogicalResult Importer::importPool(const onnx::NodeProto &node, Location loc) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  if (xs.size() != 4)
    return nodeError(node) << "expected a 4-D NCHW input, got "
                           << formatShape(xs);
  bool keepDims = true;
  if (node.op_type() == "ReduceMean") {
    std::vector<int64_t> axes = intsAttr(node, "axes", {});
    for (int64_t &a : axes)
      if (a < 0)
        a += 4;
    llvm::sort(axes);
    if (axes != std::vector<int64_t>{2, 3})
      return nodeError(node) << "only ReduceMean over axes [2, 3] (global "
                                "average pooling) is supported";
    keepDims = intAttr(node, "keepdims", 1) != 0;
  } else if (node.op_type() == "AveragePool") {
    std::vector<int64_t> kernel = intsAttr(node, "kernel_shape", {});
    std::vector<int64_t> pads = intsAttr(node, "pads", {0, 0, 0, 0});
    std::string autoPad = stringAttr(node, "auto_pad", "NOTSET");
    if ((autoPad != "NOTSET" && autoPad != "VALID") ||
        kernel != std::vector<int64_t>{xs[2], xs[3]} ||
        llvm::any_of(pads, [](int64_t p) { return p != 0; }))
      return nodeError(node)
             << "only an AveragePool over the whole "
                "spatial extent (global pooling) is "
                "supported, got kernel_shape "
             << formatShape(kernel) << " on input " << formatShape(xs);
  }
  Value y = b.create<GlobalAvgPoolOp>(loc, f32({xs[0], xs[1], 1, 1}), *x);
  if (!keepDims)
    y = b.create<ReshapeOp>(loc, f32({xs[0], xs[1]}), y);
  return define(node, y);
}

LogicalResult Importer::importReshape(const onnx::NodeProto &node,
                                      Location loc) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  int64_t total = 1;
  for (int64_t d : xs)
    total *= d;
  std::vector<int64_t> shape;
  if (node.op_type() == "Flatten") {
    int64_t axis = intAttr(node, "axis", 1);
    if (axis < 0)
      axis += xs.size();
    if (axis < 0 || axis > static_cast<int64_t>(xs.size()))
      return nodeError(node) << "axis " << axis << " out of range";
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < static_cast<int64_t>(xs.size()); ++i)
      (i < axis ? outer : inner) *= xs[i];
    shape = {outer, inner};
  } else {
    FailureOr<std::vector<int64_t>> s = intInput(node, 1);
    if (failed(s))
      return failure();
    shape = *s;
    int64_t known = 1, inferred = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 0 && i < xs.size())
        shape[i] = xs[i];
      if (shape[i] == -1) {
        if (inferred >= 0)
          return nodeError(node) << "more than one -1 in the target shape";
        inferred = i;
      } else if (shape[i] <= 0 || shape[i] > kMaxElements / known) {
        return nodeError(node) << "invalid target shape " << formatShape(*s);
      } else {
        known *= shape[i];
      }
    }
    if (inferred >= 0)
      shape[inferred] = known > 0 && total % known == 0 ? total / known : -1;
  }
  if (!validShape(shape) || [&] {
        int64_t n = 1;
        for (int64_t d : shape)
          n *= d;
        return n;
      }() != total)
    return nodeError(node) << "inconsistent shapes: cannot reshape "
                           << formatShape(xs) << " to " << formatShape(shape);
  return define(node, b.create<ReshapeOp>(loc, f32(shape), *x));
}

LogicalResult Importer::importPad(const onnx::NodeProto &node, Location loc) {
  if (node.output_size() != 1)
    return nodeError(node) << "expected one output";
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  std::string mode = stringAttr(node, "mode", "constant");
  FailureOr<std::vector<int64_t>> pads =
      opset >= 11 ? intInput(node, 1)
                  : FailureOr<std::vector<int64_t>>(intsAttr(node, "pads", {}));
  if (failed(pads))
    return failure();
  float value = 0.0f;
  if (hasInput(node, 2)) {
    FailureOr<Value> v = input(node, 2);
    if (failed(v))
      return failure();
    std::optional<std::vector<float>> d = constantData(*v);
    if (!d || d->size() != 1)
      return nodeError(node) << "constant_value must be a constant scalar";
    value = (*d)[0];
  }
  const std::vector<int64_t> &p = *pads;
  if (mode != "constant" || value != 0.0f || p.size() != 8 || p[0] || p[1] ||
      p[4] || p[5] || llvm::any_of(p, [](int64_t v) { return v < 0; }))
    return nodeError(node) << "only zero, non-negative constant padding of H "
                              "and W is supported (folded into the Conv "
                              "that follows)";
  Entry e;
  e.value = *x;
  // PyTorch writes an all-zero Pad in front of avg_pool2d: a no-op.
  if (llvm::any_of(p, [](int64_t v) { return v != 0; }))
    e.pendingPads = std::array<int64_t, 4>{p[2], p[3], p[6], p[7]};
  e.padLoc = loc;
  return defineEntry(node, std::move(e));
}

LogicalResult Importer::importConstant(const onnx::NodeProto &node,
                                       Location loc) {
  if (node.output_size() != 1 || node.output(0).empty())
    return nodeError(node) << "expected one output";
  Entry e;
  if (const onnx::AttributeProto *a = findAttr(node, "value")) {
    if (a->t().data_type() == onnx::TensorProto::INT64 ||
        a->t().data_type() == onnx::TensorProto::INT32) {
      std::vector<int64_t> ints;
      if (failed(readTensor(a->t(), loc, nullptr, &ints)))
        return failure();
      e.ints = std::move(ints);
    } else {
      std::vector<float> data;
      if (failed(readTensor(a->t(), loc, &data, nullptr)))
        return failure();
      std::vector<int64_t> shape(a->t().dims().begin(), a->t().dims().end());
      e.value = constant(shape, data, node.output(0), loc);
    }
  } else if (const onnx::AttributeProto *a = findAttr(node, "value_float")) {
    e.value = constant({}, {a->f()}, node.output(0), loc);
  } else if (const onnx::AttributeProto *a = findAttr(node, "value_floats")) {
    std::vector<float> d(a->floats().begin(), a->floats().end());
    e.value =
        constant({static_cast<int64_t>(d.size())}, d, node.output(0), loc);
  } else if (const onnx::AttributeProto *a = findAttr(node, "value_int")) {
    e.ints = std::vector<int64_t>{a->i()};
  } else if (const onnx::AttributeProto *a = findAttr(node, "value_ints")) {
    e.ints = std::vector<int64_t>(a->ints().begin(), a->ints().end());
  } else {
    return nodeError(node) << "unsupported Constant form (expected value, "
                              "value_float(s) or value_int(s))";
  }
  return defineEntry(node, std::move(e));
}

LogicalResult Importer::importNode(const onnx::NodeProto &node, int64_t index) {
  std::string name = node.name();
  if (name.empty())
    name = node.output_size() ? node.op_type() + ":" + node.output(0)
                              : node.op_type() + "_" + std::to_string(index);
  Location loc = NameLoc::get(b.getStringAttr(name));
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return nodeError(node) << "unsupported op domain '" << node.domain()
                           << "' (opset " << opset
                           << "); supported ops (ai.onnx): " << kSupportedOps;
  StringRef op = node.op_type();
  if (op == "Conv")
    return importConv(node, loc);
  if (op == "BatchNormalization")
    return importBatchNorm(node, loc);
  if (op == "Add" || op == "Sum")
    return importBinary(node, loc, /*multiply=*/false);
  if (op == "Mul")
    return importBinary(node, loc, /*multiply=*/true);
  if (op == "Relu" || op == "Sigmoid") {
    FailureOr<Value> x = input(node, 0);
    if (failed(x))
      return failure();
    Value y = op == "Relu" ? b.create<ReluOp>(loc, *x).getResult()
                           : b.create<SigmoidOp>(loc, *x).getResult();
    return define(node, y);
  }
  if (op == "Identity" || op == "Dropout") {
    FailureOr<Value> x = input(node, 0);
    if (failed(x))
      return failure();
    if (op == "Dropout" && node.output_size() > 1 && !node.output(1).empty())
      return nodeError(node) << "Dropout with a mask output (training mode) "
                                "is not supported; export in eval mode";
    return define(node, *x);
  }
  if (op == "GlobalAveragePool" || op == "ReduceMean" || op == "AveragePool")
    return importPool(node, loc);
  if (op == "Flatten" || op == "Reshape")
    return importReshape(node, loc);
  if (op == "Gemm" || op == "MatMul")
    return importGemm(node, loc, op == "MatMul");
  if (op == "Pad")
    return importPad(node, loc);
  if (op == "Constant")
    return importConstant(node, loc);
  return nodeError(node) << "unsupported op '" << op << "' (opset " << opset
                         << "); supported ops: " << kSupportedOps;
}

OwningOpRef<ModuleOp> Importer::run() {
  fileLoc = FileLineColLoc::get(b.getStringAttr(path), 0, 0);
  std::unique_ptr<onnx::ModelProto> model = parse();
  if (!model)
    return nullptr;
  for (const onnx::OperatorSetIdProto &o : model->opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset < kMinOpset || opset > kMaxOpset) {
    emitError(fileLoc) << "the model uses ONNX opset " << opset
                       << "; supported opsets are " << kMinOpset << " to "
                       << kMaxOpset << " (what PyTorch 1.13 exports)";
    return nullptr;
  }
  const onnx::GraphProto &graph = model->graph();

  OwningOpRef<ModuleOp> module =
      ModuleOp::create(NameLoc::get(b.getStringAttr(graph.name())));
  (*module)->setAttr(kONNXOpsetAttr, b.getI64IntegerAttr(opset));
  (*module)->setAttr(kONNXIRVersionAttr,
                     b.getI64IntegerAttr(model->ir_version()));
  if (!model->producer_name().empty())
    (*module)->setAttr(kONNXProducerAttr,
                       b.getStringAttr(model->producer_name()));
  b.setInsertionPointToEnd(module->getBody());
  auto func =
      b.create<func::FuncOp>(fileLoc, "main", b.getFunctionType({}, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);

  for (const onnx::TensorProto &t : graph.initializer())
    if (failed(addInitializer(t)))
      return nullptr;

  SmallVector<Type> inputTypes;
  SmallVector<Attribute> inputNames;
  for (const onnx::ValueInfoProto &in : graph.input()) {
    if (values.count(in.name()))
      continue; // an initializer listed as input (IR version < 4)
    Location loc = NameLoc::get(b.getStringAttr(in.name()));
    const onnx::TypeProto &type = in.type();
    if (!type.has_tensor_type() ||
        type.tensor_type().elem_type() != onnx::TensorProto::FLOAT ||
        !type.tensor_type().has_shape()) {
      emitError(loc) << "graph input '" << in.name()
                     << "' must be a FLOAT tensor with a known shape";
      return nullptr;
    }
    SmallVector<int64_t> shape;
    for (auto [i, d] : llvm::enumerate(type.tensor_type().shape().dim())) {
      if (d.has_dim_value() && d.dim_value() > 0) {
        shape.push_back(d.dim_value());
      } else if (i == 0) {
        shape.push_back(options.batch); // symbolic batch
      } else {
        emitError(loc) << "graph input '" << in.name() << "' has symbolic "
                       << "dimension #" << i << " ('" << d.dim_param()
                       << "'); only the batch dimension may be symbolic";
        return nullptr;
      }
    }
    if (!validShape(shape)) {
      emitError(loc) << "graph input '" << in.name() << "' has shape "
                     << formatShape(shape)
                     << "; dimensions must be positive, at most 2^31 "
                        "elements";
      return nullptr;
    }
    BlockArgument arg = entry->addArgument(f32(shape), loc);
    inputTypes.push_back(arg.getType());
    inputNames.push_back(b.getStringAttr(in.name()));
    Entry e;
    e.value = arg;
    values[in.name()] = e;
  }

  for (auto [i, node] : llvm::enumerate(graph.node()))
    if (failed(importNode(node, i)))
      return nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const onnx::ValueInfoProto &out : graph.output()) {
    auto it = values.find(out.name());
    Location loc = NameLoc::get(b.getStringAttr(out.name()));
    if (it == values.end() || !it->second.value || it->second.pendingPads) {
      emitError(loc) << "graph output '" << out.name()
                     << "' is not produced by any supported node";
      return nullptr;
    }
    Value v = it->second.value;
    ArrayRef<int64_t> shape = shapeOf(v);
    if (out.type().has_tensor_type() && out.type().tensor_type().has_shape()) {
      const auto &dims = out.type().tensor_type().shape().dim();
      bool mismatch = dims.size() != static_cast<int>(shape.size());
      for (int j = 0; !mismatch && j < dims.size(); ++j)
        mismatch = dims[j].has_dim_value() && dims[j].dim_value() != shape[j];
      if (mismatch) {
        std::vector<int64_t> declared;
        for (const auto &d : dims)
          declared.push_back(d.has_dim_value() ? d.dim_value() : -1);
        emitError(loc) << "inconsistent shapes: graph output '" << out.name()
                       << "' is declared " << formatShape(declared)
                       << " but computes to " << formatShape(shape);
        return nullptr;
      }
    }
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  if (results.empty()) {
    emitError(fileLoc) << "the graph has no outputs";
    return nullptr;
  }
  b.create<func::ReturnOp>(fileLoc, results);
  func.setFunctionType(b.getFunctionType(inputTypes, resultTypes));
  for (auto [i, n] : llvm::enumerate(inputNames))
    func.setArgAttr(i, kONNXNameAttr, n);
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, kONNXNameAttr, b.getStringAttr(out.name()));

  // Constants and int64 shapes that no op used.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (isa<arith::ConstantOp>(op) && op.use_empty())
      op.erase();
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

OwningOpRef<ModuleOp>
mobileone::importONNXFile(MLIRContext *context, StringRef path,
                          const ONNXImportOptions &options) {
  context
      ->loadDialect<MobileOneDialect, func::FuncDialect, arith::ArithDialect>();
  return Importer(context, path, options).run();
}
