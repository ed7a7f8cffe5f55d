//===- ImportONNX.cpp - ONNX models into the mobileone dialect ------------===//
//
// Reads the model (external data included), checks up front that every node
// is one the registry implements at the model's opset (listing every
// unsupported op at once), then imports node by node in graph order through
// the registry. Ops infer their result types and fold on constants as they
// are built, so shape subgraphs (`Shape -> Gather -> Concat -> Reshape`)
// become constants; a shape that depends on data is an error at the node
// that needs it. The module is canonicalised at the end (zero pads into
// convolutions, decomposed GELUs recognised, dead shape computations gone).
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "mobileone/Support/FileKind.h"
#include "mobileone/Support/Half.h"
#include "mobileone/Support/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <unistd.h>
#include <onnx/defs/schema.h>
#include <onnx/version_converter/convert.h>

#include <climits>
#include <cstring>

using namespace mlir;
using namespace mlir::mobileone;
using namespace mlir::mobileone::onnx_import;

namespace {

/// The registry: every op type the importer implements.
const llvm::StringMap<OpEntry> &registry() {
  static const llvm::StringMap<OpEntry> map = [] {
    llvm::StringMap<OpEntry> m;
    for (ArrayRef<OpEntry> family : {nnOps(), elementwiseOps(), tensorOps()})
      for (const OpEntry &e : family)
        m.try_emplace(e.opType, e);
    return m;
  }();
  return map;
}

std::string supportedOpsList(int64_t opset) {
  SmallVector<std::string> names;
  for (const auto &kv : registry())
    if (kv.second.sinceOpset <= opset)
      names.push_back(kv.first().str());
  llvm::sort(names);
  return llvm::join(names, ", ");
}
} // namespace

//===----------------------------------------------------------------------===//
// Helpers shared by the handlers
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Attributes, read strictly
//===----------------------------------------------------------------------===//

static const char *attrTypeName(int t) {
  switch (t) {
  case onnx::AttributeProto::FLOAT:
    return "FLOAT";
  case onnx::AttributeProto::INT:
    return "INT";
  case onnx::AttributeProto::STRING:
    return "STRING";
  case onnx::AttributeProto::TENSOR:
    return "TENSOR";
  case onnx::AttributeProto::GRAPH:
    return "GRAPH";
  case onnx::AttributeProto::FLOATS:
    return "FLOATS";
  case onnx::AttributeProto::INTS:
    return "INTS";
  case onnx::AttributeProto::STRINGS:
    return "STRINGS";
  case onnx::AttributeProto::TENSORS:
    return "TENSORS";
  case onnx::AttributeProto::GRAPHS:
    return "GRAPHS";
  case onnx::AttributeProto::SPARSE_TENSOR:
    return "SPARSE_TENSOR";
  case onnx::AttributeProto::SPARSE_TENSORS:
    return "SPARSE_TENSORS";
  case onnx::AttributeProto::TYPE_PROTO:
    return "TYPE_PROTO";
  case onnx::AttributeProto::TYPE_PROTOS:
    return "TYPE_PROTOS";
  default:
    return "UNDEFINED (no type)";
  }
}

const onnx::AttributeProto *
Importer::findAttr(const onnx::NodeProto &node, StringRef name,
                   onnx::AttributeProto::AttributeType expected) {
  for (int i = 0, e = node.attribute_size(); i < e; ++i) {
    const onnx::AttributeProto &a = node.attribute(i);
    if (a.name() != name)
      continue;
    if (i < static_cast<int>(attrsRead.size()))
      attrsRead[i] = true;
    if (a.type() != expected) {
      nodeError(node) << "attribute '" << name << "' must be of type "
                      << attrTypeName(expected) << ", found "
                      << attrTypeName(a.type());
      attrError = true;
      return nullptr;
    }
    return &a;
  }
  return nullptr;
}

int64_t Importer::intAttr(const onnx::NodeProto &node, StringRef name,
                          int64_t def) {
  const onnx::AttributeProto *a =
      findAttr(node, name, onnx::AttributeProto::INT);
  return a ? a->i() : def;
}

bool Importer::flagAttr(const onnx::NodeProto &node, StringRef name, bool def) {
  const onnx::AttributeProto *a =
      findAttr(node, name, onnx::AttributeProto::INT);
  if (!a)
    return def;
  if (a->i() != 0 && a->i() != 1) {
    nodeError(node) << "attribute '" << name << "' must be 0 or 1, found "
                    << a->i();
    attrError = true;
    return def;
  }
  return a->i() != 0;
}

float Importer::floatAttr(const onnx::NodeProto &node, StringRef name,
                          float def) {
  const onnx::AttributeProto *a =
      findAttr(node, name, onnx::AttributeProto::FLOAT);
  return a ? a->f() : def;
}

std::vector<int64_t> Importer::intsAttr(const onnx::NodeProto &node,
                                        StringRef name,
                                        std::vector<int64_t> def) {
  const onnx::AttributeProto *a =
      findAttr(node, name, onnx::AttributeProto::INTS);
  if (!a)
    return def;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::string Importer::stringAttr(const onnx::NodeProto &node, StringRef name,
                                 StringRef def) {
  const onnx::AttributeProto *a =
      findAttr(node, name, onnx::AttributeProto::STRING);
  return a ? a->s() : def.str();
}

LogicalResult Importer::checkDuplicateAttributes(const onnx::NodeProto &node) {
  llvm::StringSet<> seen;
  for (const onnx::AttributeProto &a : node.attribute())
    if (!seen.insert(a.name()).second)
      return nodeError(node)
             << "attribute '" << a.name() << "' is given more than once";
  return success();
}

/// An attribute's value as the spec writes it, for messages.
static std::string formatAttr(const onnx::AttributeProto &a) {
  auto str = [](auto v) {
    std::string s;
    llvm::raw_string_ostream(s) << v;
    return s;
  };
  auto list = [&](const auto &values) {
    std::string s = "[";
    for (int i = 0; i < values.size(); ++i)
      s += (i ? ", " : "") + str(values[i]);
    return s + "]";
  };
  switch (a.type()) {
  case onnx::AttributeProto::INT:
    return std::to_string(a.i());
  case onnx::AttributeProto::FLOAT:
    return str(a.f());
  case onnx::AttributeProto::STRING:
    return "'" + a.s() + "'";
  case onnx::AttributeProto::INTS:
    return list(a.ints());
  case onnx::AttributeProto::FLOATS:
    return list(a.floats());
  default:
    return std::string("a ") + attrTypeName(a.type());
  }
}

/// Whether `a` holds the same value as the schema's default `d`.
static bool isDefaultValue(const onnx::AttributeProto &a,
                           const onnx::AttributeProto &d) {
  if (a.type() != d.type())
    return false;
  switch (a.type()) {
  case onnx::AttributeProto::INT:
    return a.i() == d.i();
  case onnx::AttributeProto::FLOAT:
    return a.f() == d.f();
  case onnx::AttributeProto::STRING:
    return a.s() == d.s();
  case onnx::AttributeProto::INTS:
    return llvm::equal(a.ints(), d.ints());
  case onnx::AttributeProto::FLOATS:
    return llvm::equal(a.floats(), d.floats());
  default:
    return false;
  }
}

/// Attributes that do not change what a node computes at inference, so any
/// value is accepted unread.
static bool noEffectAtInference(StringRef opType, StringRef name) {
  return (opType == "BatchNormalization" && name == "momentum") ||
         (opType == "Dropout" && name == "seed");
}

LogicalResult
Importer::checkUnreadInputsAndAttributes(const onnx::NodeProto &node) {
  for (int i = 0, e = node.input_size(); i < e; ++i) {
    if (node.input(i).empty() || (i < 64 && (inputsSeen >> i & 1)))
      continue;
    return nodeError(node) << "unexpected input #" << i << " '" << node.input(i)
                           << "': " << node.op_type() << " at opset "
                           << opsetVersion
                           << " has no such input, or not one this importer "
                              "implements";
  }
  const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(
      node.op_type(), static_cast<int>(opsetVersion), "");
  for (int i = 0, e = node.attribute_size(); i < e; ++i) {
    if (attrsRead[i])
      continue;
    const onnx::AttributeProto &a = node.attribute(i);
    if (noEffectAtInference(node.op_type(), a.name()))
      continue;
    auto known = schema ? schema->attributes().find(a.name())
                        : std::map<std::string,
                                   onnx::OpSchema::Attribute>::const_iterator();
    if (!schema || known == schema->attributes().end())
      return nodeError(node)
             << "unexpected attribute '" << a.name() << "': " << node.op_type()
             << " at opset " << opsetVersion
             << " has no such attribute, or not one this importer implements";
    const onnx::AttributeProto &def = known->second.default_value;
    if (!isDefaultValue(a, def)) {
      InFlightDiagnostic d = nodeError(node);
      d << "attribute '" << a.name() << "' = " << formatAttr(a)
        << " is not supported";
      if (def.type() != onnx::AttributeProto::UNDEFINED)
        d << " (only its default, " << formatAttr(def) << ")";
      return d;
    }
  }
  return success();
}

std::string onnx_import::formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

ArrayRef<int64_t> onnx_import::shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

bool onnx_import::validShape(ArrayRef<int64_t> shape) {
  return invalidShapeReason(shape).empty();
}

std::string onnx_import::invalidShapeReason(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  bool overLimit = false;
  for (int64_t d : shape) {
    if (d < 0)
      return "shape " + formatShape(shape) + " has a negative dimension";
    if (d > 0 && n > kMaxTensorElements / d)
      overLimit = true;
    else
      n *= std::max<int64_t>(d, 1);
  }
  if (!overLimit)
    return "";
  return "shape " + formatShape(shape) + " has more than " +
         kMaxTensorElementsText + " elements, the limit per tensor";
}

std::optional<int64_t> onnx_import::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

Importer::Importer(MLIRContext *context, StringRef path,
                   const ONNXImportOptions &options)
    : b(context), path(path.str()), options(options),
      nodeLoc(UnknownLoc::get(context)), fileLoc(UnknownLoc::get(context)) {}

InFlightDiagnostic Importer::nodeError(const onnx::NodeProto &node) {
  std::string name = node.name().empty() ? "(unnamed)" : node.name();
  return emitError(nodeLoc)
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
  return it->second;
}

FailureOr<Value> Importer::floatInput(const onnx::NodeProto &node, int i) {
  FailureOr<Value> v = input(node, i);
  if (failed(v))
    return failure();
  Type elem = cast<ShapedType>(v->getType()).getElementType();
  if (!elem.isF32()) {
    nodeError(node) << "input '" << node.input(i) << "' is a tensor of " << elem
                    << ", expected FLOAT";
    return failure();
  }
  return v;
}

/// ArgMax's indices, possibly reshaped: the one integer tensor computed
/// from data that the importer keeps (a graph output).
static bool isIndices(Value v) {
  while (auto r = v.getDefiningOp<ReshapeOp>())
    v = r.getInput();
  return bool(v.getDefiningOp<ArgMaxOp>());
}

/// Names the node that computes `v`, for "depends on data" errors.
static std::string producerName(Value v) {
  if (Operation *def = v.getDefiningOp())
    if (auto name = dyn_cast<NameLoc>(def->getLoc()))
      return "node '" + name.getName().str() + "'";
  return "a graph input";
}

FailureOr<SmallVector<int64_t>> Importer::intInput(const onnx::NodeProto &node,
                                                   int i) {
  FailureOr<Value> v = input(node, i);
  if (failed(v))
    return failure();
  Attribute attr;
  auto ints = matchPattern(*v, m_Constant(&attr))
                  ? dyn_cast<DenseIntElementsAttr>(attr)
                  : DenseIntElementsAttr();
  if (!ints) {
    if (!cast<ShapedType>(v->getType()).getElementType().isInteger(64)) {
      nodeError(node) << "input '" << node.input(i)
                      << "' must be an INT64 tensor, got "
                      << cast<ShapedType>(v->getType()).getElementType();
      return failure();
    }
    nodeError(node) << "input '" << node.input(i)
                    << "' must be a constant, but it depends on data "
                       "(computed by "
                    << producerName(*v)
                    << "); only shapes that are constant for the model's "
                       "static input shape are supported";
    return failure();
  }
  SmallVector<int64_t> out;
  for (const APInt &x : ints.getValues<APInt>())
    out.push_back(x.getSExtValue());
  return out;
}

FailureOr<SmallVector<float>>
Importer::floatConstantInput(const onnx::NodeProto &node, int i) {
  FailureOr<Value> v = floatInput(node, i);
  if (failed(v))
    return failure();
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> d = getConstantF32(*v, storage);
  if (!d) {
    nodeError(node) << "input '" << node.input(i)
                    << "' must be a constant (an initializer or Constant)";
    return failure();
  }
  return SmallVector<float>(d->begin(), d->end());
}

LogicalResult Importer::define(const onnx::NodeProto &node, Value v,
                               int output) {
  if (node.output_size() <= output) {
    nodeError(node) << "has no output #" << output;
    return failure();
  }
  const std::string &name = node.output(output);
  if (name.empty())
    return success(); // an optional output nobody reads
  if (!values.try_emplace(name, v).second)
    return nodeError(node) << "value '" << name
                           << "' is defined twice (ONNX requires single "
                              "assignment)";
  return success();
}

SmallVector<Value> Importer::foldOp(Operation *op) {
  SmallVector<Value> results;
  if (succeeded(b.tryFold(op, results)) && !results.empty()) {
    op->erase();
    return results;
  }
  return SmallVector<Value>(op->getResults());
}

Value Importer::f32Constant(ArrayRef<int64_t> shape, ArrayRef<float> data,
                            StringRef name) {
  return createWeightConstant(
      b, nodeLoc, RankedTensorType::get(shape, b.getF32Type()), data, name);
}

Value Importer::i64Constant(ArrayRef<int64_t> shape, ArrayRef<int64_t> data) {
  auto type = RankedTensorType::get(shape, b.getI64Type());
  return b.create<arith::ConstantOp>(nodeLoc, type,
                                     DenseElementsAttr::get(type, data));
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
  // A FIFO or device would block or stream without end.
  llvm::sys::fs::file_status status;
  if (!llvm::sys::fs::status(path, status) &&
      status.type() != llvm::sys::fs::file_type::regular_file)
    return fail("is not a regular file, expected an ONNX model file");
  // Streamed, not mapped: the parsed model holds the weights once (a
  // mapped file would be a second copy in memory while parsing).
  int fd = -1;
  if (std::error_code ec = llvm::sys::fs::openFileForRead(path, fd))
    return fail("cannot open the file: " + ec.message());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  llvm::sys::fs::file_status opened;
  if (std::error_code ec = llvm::sys::fs::status(fd, opened))
    return fail("cannot read the file: " + ec.message());
  const uint64_t size = opened.getSize();
  if (size == 0)
    return fail("the file is empty, expected an ONNX model");
  if (size > static_cast<uint64_t>(INT_MAX))
    return fail("the file is larger than 2 GiB, the protobuf limit");
  char head[kFileHeadBytes] = {};
  const ssize_t headBytes = ::pread(fd, head, sizeof(head), 0);

  auto model = std::make_unique<onnx::ModelProto>();
  google::protobuf::io::FileInputStream input(fd, 1 << 20);
  bool parsed;
  {
    google::protobuf::io::CodedInputStream stream(&input);
    stream.SetTotalBytesLimit(INT_MAX);
    parsed =
        model->ParseFromCodedStream(&stream) && stream.ConsumedEntireMessage();
  }
  if (input.GetErrno() != 0)
    return fail(std::string("cannot read the file: ") +
                std::strerror(input.GetErrno()));
  // Random bytes and other messages can parse as a ModelProto with unknown
  // fields; a real model has an IR version, an opset and a graph.
  bool complete = parsed && model->ir_version() > 0 && model->has_graph() &&
                  model->opset_import_size() > 0;
  if (!complete) {
    // The other formats this project reads and writes, named rather than
    // reported as a corrupt protobuf.
    switch (classifyFileHead(head, headBytes > 0 ? size_t(headBytes) : 0)) {
    case FileKind::TFLite:
      return fail("is a TFLite FlatBuffer (a deployed model: run it with "
                  "mobileone-run), expected an ONNX model");
    case FileKind::MLIRBytecode:
      return fail("is MLIR bytecode, expected an ONNX model (mobileone-opt "
                  "reads MLIR)");
    case FileKind::Text:
      return fail("is a text file (MLIR?), expected a binary ONNX model "
                  "(mobileone-opt reads MLIR)");
    case FileKind::ONNX:
    case FileKind::Unknown:
      break;
    }
  }
  if (!parsed)
    return fail("not a valid ONNX model (protobuf parse failed: the file is "
                "truncated, corrupt or not a ModelProto)");
  if (!complete)
    return fail("not an ONNX model: it has no ir_version, opset_import or "
                "graph");
  return model;
}

LogicalResult Importer::readExternalData(const onnx::TensorProto &t,
                                         Location loc, StringRef &bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const onnx::StringStringEntryProto &kv : t.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
      continue;
    }
    if (kv.key() == "checksum")
      continue; // a SHA-1 digest; not verified
    if (kv.key() != "offset" && kv.key() != "length")
      return emitError(loc) << "tensor '" << t.name()
                            << "': unknown external data key '" << kv.key()
                            << "' (expected location, offset, length, "
                               "checksum)";
    // A decimal integer in [0, 2^63): "1e3", "abc" and 2^64 are refused, not
    // read as 0.
    int64_t &field = kv.key() == "offset" ? offset : length;
    StringRef text(kv.value());
    if (text.empty() || !llvm::all_of(text, llvm::isDigit) ||
        text.getAsInteger(10, field))
      return emitError(loc) << "tensor '" << t.name() << "': external data "
                            << kv.key() << " '" << kv.value()
                            << "' is not a non-negative decimal integer "
                               "below 2^63";
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
  // Each data file is checked and mapped once, however many tensors it holds.
  auto cached = externalFiles.find(location);
  if (cached != externalFiles.end()) {
    StringRef all = cached->second->getBuffer();
    return sliceExternal(t, loc, location, all, offset, length, bytes);
  }
  if (llvm::sys::path::is_absolute(location) ||
      llvm::sys::fs::real_path(dir, realDir) ||
      llvm::sys::fs::real_path(file, realFile) ||
      !StringRef(realFile).starts_with((realDir + "/").str()))
    return emitError(loc) << "tensor '" << t.name() << "': external data path '"
                          << location
                          << "' is missing or leaves the model's directory "
                             "(only files inside '"
                          << dir << "' are read)";
  // Only a regular file: a FIFO would block the compiler forever, a device
  // would stream without end.
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(realFile, status))
    return emitError(loc) << "tensor '" << t.name() << "': cannot read '"
                          << realFile << "': " << ec.message();
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return emitError(loc) << "tensor '" << t.name() << "': external data '"
                          << location << "' is not a regular file";
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buf =
      llvm::MemoryBuffer::getFile(realFile, false, false);
  if (!buf)
    return emitError(loc) << "tensor '" << t.name() << "': cannot read '"
                          << realFile << "': " << buf.getError().message();
  StringRef all = (*buf)->getBuffer();
  externalFiles[location] = std::move(*buf);
  return sliceExternal(t, loc, location, all, offset, length, bytes);
}

LogicalResult Importer::sliceExternal(const onnx::TensorProto &t, Location loc,
                                      StringRef location, StringRef all,
                                      int64_t offset, int64_t length,
                                      StringRef &bytes) {
  if (length < 0)
    length = static_cast<int64_t>(all.size()) - offset;
  const int64_t size = static_cast<int64_t>(all.size());
  if (offset < 0 || length < 0 || offset > size || length > size - offset)
    return emitError(loc) << "tensor '" << t.name() << "': external data "
                          << "range (offset " << offset << ", length " << length
                          << ") exceeds '" << location << "' (" << all.size()
                          << " bytes)";
  bytes = all.substr(offset, length);
  return success();
}

FailureOr<Value> Importer::tensorConstant(const onnx::TensorProto &t,
                                          StringRef name,
                                          onnx::TensorProto *adoptable) {
  Location loc = nodeLoc;
  std::vector<int64_t> shape(t.dims().begin(), t.dims().end());
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && n > kMaxTensorElements / d)) {
      emitError(loc) << "tensor '" << t.name()
                     << "' has an invalid shape (dimensions must be "
                        "non-negative, at most "
                     << kMaxTensorElementsText << " elements)";
      return failure();
    }
    n *= d;
  }
  StringRef external;
  std::optional<StringRef> raw;
  if (t.has_raw_data())
    raw = StringRef(t.raw_data());
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (failed(readExternalData(t, loc, external)))
      return failure();
    raw = external;
  }
  auto sizeError = [&](size_t got) {
    emitError(loc) << "tensor '" << t.name() << "' of shape "
                   << formatShape(shape) << " holds " << got
                   << " elements, expected " << n;
    return failure();
  };
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT: {
    std::vector<float> data;
    if (raw) {
      if (raw->size() != static_cast<size_t>(n) * 4)
        return sizeError(raw->size() / 4);
      // Aligned little-endian bytes are the floats: taken over from the
      // proto where it lets go of them (inline data), else copied once.
      if (reinterpret_cast<uintptr_t>(raw->data()) % alignof(float) == 0) {
        if (adoptable && t.has_raw_data() &&
            t.data_location() != onnx::TensorProto::EXTERNAL)
          return Value(createWeightConstant(
              b, nodeLoc, RankedTensorType::get(shape, b.getF32Type()),
              std::unique_ptr<std::string>(adoptable->release_raw_data()),
              name));
        return f32Constant(
            shape,
            ArrayRef<float>(reinterpret_cast<const float *>(raw->data()), n),
            name);
      }
      data.resize(n);
      if (n)
        std::memcpy(data.data(), raw->data(), raw->size());
    } else {
      if (t.float_data_size() != n)
        return sizeError(t.float_data_size());
      data.assign(t.float_data().begin(), t.float_data().end());
    }
    return f32Constant(shape, data, name);
  }
  case onnx::TensorProto::FLOAT16: {
    // Widened exactly to float32 (the dialect computes in float32): an fp16
    // weight read through a Cast to FLOAT, as fp16-weight exports write it,
    // means the same.
    std::vector<float> data(n);
    if (raw) {
      if (raw->size() != static_cast<size_t>(n) * 2)
        return sizeError(raw->size() / 2);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, raw->data() + 2 * i, 2);
        data[i] = fromHalf(h);
      }
    } else {
      // FLOAT16 values live in int32_data, one per element (low 16 bits).
      if (t.int32_data_size() != n)
        return sizeError(t.int32_data_size());
      for (int64_t i = 0; i < n; ++i)
        data[i] = fromHalf(uint16_t(t.int32_data(i)));
    }
    return f32Constant(shape, data, name);
  }
  case onnx::TensorProto::DOUBLE: {
    // Exporters write DOUBLE constants for anchor grids and the like, cast to
    // FLOAT before use: held as float32 when every value is exactly a float
    // (the model then computes the same), refused otherwise.
    std::vector<float> data(n);
    if (raw && raw->size() != static_cast<size_t>(n) * 8)
      return sizeError(raw->size() / 8);
    if (!raw && t.double_data_size() != n)
      return sizeError(t.double_data_size());
    for (int64_t i = 0; i < n; ++i) {
      double v;
      if (raw)
        std::memcpy(&v, raw->data() + 8 * i, 8);
      else
        v = t.double_data(i);
      data[i] = float(v);
      if (double(data[i]) != v && !std::isnan(v)) {
        emitError(loc) << "DOUBLE tensor '" << t.name() << "' holds " << v
                       << " (element " << i
                       << "), which float32 cannot represent exactly; only "
                          "DOUBLE constants of float32 values are supported";
        return failure();
      }
    }
    return f32Constant(shape, data, name);
  }
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT64:
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL: {
    // Integer tensors are shapes, axes, indices and exponents: held as i64.
    const auto type = t.data_type();
    bool isSigned =
        type == onnx::TensorProto::INT64 || type == onnx::TensorProto::INT32 ||
        type == onnx::TensorProto::INT16 || type == onnx::TensorProto::INT8;
    size_t width = 1;
    switch (type) {
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT64:
      width = 8;
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::UINT32:
      width = 4;
      break;
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16:
      width = 2;
      break;
    default:
      break;
    }
    std::vector<int64_t> ints(n);
    if (raw) {
      if (raw->size() != static_cast<size_t>(n) * width)
        return sizeError(raw->size() / width);
      for (int64_t i = 0; i < n; ++i) {
        uint64_t bits = 0;
        std::memcpy(&bits, raw->data() + width * i, width); // little-endian
        if (isSigned && width < 8 && (bits >> (8 * width - 1)) & 1)
          bits |= ~uint64_t(0) << (8 * width); // sign-extend
        if (!isSigned && width == 8 && bits > uint64_t(INT64_MAX)) {
          emitError(loc) << "tensor '" << t.name() << "' holds the UINT64 "
                         << bits << ", beyond the INT64 range";
          return failure();
        }
        ints[i] = static_cast<int64_t>(bits);
      }
    } else if (type == onnx::TensorProto::INT64) {
      if (t.int64_data_size() != n)
        return sizeError(t.int64_data_size());
      ints.assign(t.int64_data().begin(), t.int64_data().end());
    } else if (type == onnx::TensorProto::UINT64 ||
               type == onnx::TensorProto::UINT32) {
      if (t.uint64_data_size() != n)
        return sizeError(t.uint64_data_size());
      for (int64_t i = 0; i < n; ++i) {
        if (t.uint64_data(i) > uint64_t(INT64_MAX)) {
          emitError(loc) << "tensor '" << t.name()
                         << "' holds a value beyond the INT64 range";
          return failure();
        }
        ints[i] = static_cast<int64_t>(t.uint64_data(i));
      }
    } else {
      if (t.int32_data_size() != n)
        return sizeError(t.int32_data_size());
      ints.assign(t.int32_data().begin(), t.int32_data().end());
    }
    if (type == onnx::TensorProto::BOOL) {
      auto bt = RankedTensorType::get(shape, b.getI1Type());
      SmallVector<bool> bits(ints.begin(), ints.end());
      return b
          .create<arith::ConstantOp>(
              loc, bt, DenseElementsAttr::get(bt, ArrayRef<bool>(bits)))
          .getResult();
    }
    return i64Constant(shape, ints);
  }
  default:
    emitError(loc) << "tensor '" << t.name() << "' has data type "
                   << onnx::TensorProto::DataType_Name(
                          static_cast<onnx::TensorProto::DataType>(
                              t.data_type()))
                   << "; only FLOAT and FLOAT16 tensors (and integer or "
                      "BOOL shapes, axes and indices) are supported";
    return failure();
  }
}

//===----------------------------------------------------------------------===//
// The graph
//===----------------------------------------------------------------------===//

LogicalResult Importer::checkOpsSupported(const onnx::GraphProto &graph) {
  struct Unsupported {
    int64_t count = 0;
    std::string firstNode, reason;
  };
  std::vector<std::pair<std::string, Unsupported>> missing;
  for (auto [i, node] : llvm::enumerate(graph.node())) {
    std::string key = node.op_type(), reason;
    if (!node.domain().empty() && node.domain() != "ai.onnx") {
      key = node.domain() + "::" + node.op_type();
      reason = "domain '" + node.domain() + "' is not supported";
    } else if (auto it = registry().find(node.op_type());
               it == registry().end()) {
      reason = "not implemented";
    } else if (it->second.sinceOpset > opsetVersion) {
      reason =
          "implemented from opset " + std::to_string(it->second.sinceOpset);
    } else {
      continue;
    }
    auto it = llvm::find_if(missing, [&](auto &m) { return m.first == key; });
    if (it == missing.end())
      it = missing.insert(missing.end(), {key, Unsupported()});
    Unsupported &u = it->second;
    if (u.count++ == 0) {
      u.firstNode = node.name().empty() ? "#" + std::to_string(i) : node.name();
      u.reason = reason;
    }
  }
  if (missing.empty())
    return success();
  InFlightDiagnostic diag = emitError(fileLoc);
  diag << missing.size() << " unsupported op type"
       << (missing.size() == 1 ? "" : "s") << " at opset " << opsetVersion
       << ":";
  for (auto &[op, u] : missing)
    diag << "\n  " << op << " x" << u.count << " (first: node '" << u.firstNode
         << "'; " << u.reason << ")";
  diag << "\nsupported ops at opset " << opsetVersion << ": "
       << supportedOpsList(opsetVersion);
  return failure();
}

LogicalResult Importer::importNode(const onnx::NodeProto &node, int64_t index) {
  std::string name = node.name();
  if (name.empty())
    name = node.output_size() ? node.op_type() + ":" + node.output(0)
                              : node.op_type() + "_" + std::to_string(index);
  nodeLoc = NameLoc::get(b.getStringAttr(name));
  currentNode = &node;
  inputsSeen = 0;
  attrsRead.assign(node.attribute_size(), false);
  attrError = false;
  if (failed(checkDuplicateAttributes(node)))
    return failure();
  // checkOpsSupported ran first: the entry exists.
  if (failed(registry().find(node.op_type())->second.handler(*this, node)) ||
      attrError)
    return failure();
  return checkUnreadInputsAndAttributes(node);
}

OwningOpRef<ModuleOp> Importer::run() {
  fileLoc = FileLineColLoc::get(b.getStringAttr(path), 0, 0);
  nodeLoc = fileLoc;
  std::unique_ptr<onnx::ModelProto> model = parse();
  if (!model)
    return nullptr;
  bool defaultDomain = false;
  for (const onnx::OperatorSetIdProto &o : model->opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      opsetVersion = o.version();
      defaultDomain = true;
    }
  if (!defaultDomain) {
    emitError(fileLoc) << "the model imports no opset of the default ONNX "
                          "domain (ai.onnx); only default-domain ops are "
                          "supported";
    return nullptr;
  }
  if (opsetVersion >= 7 && opsetVersion < kMinOpset) {
    // Old exports: ONNX's own version converter rewrites the graph to the
    // oldest opset the registry implements, and the user is told so.
    try {
      // The converter expects every initializer among the graph inputs, as
      // IR versions before 4 required: list them for it, then drop them.
      onnx::GraphProto *g = model->mutable_graph();
      llvm::StringSet<> listed, added;
      for (const onnx::ValueInfoProto &v : g->input())
        listed.insert(v.name());
      for (const onnx::TensorProto &t : g->initializer()) {
        if (listed.contains(t.name()) || !added.insert(t.name()).second)
          continue;
        onnx::ValueInfoProto *v = g->add_input();
        v->set_name(t.name());
        auto *tt = v->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(t.data_type());
        for (int64_t d : t.dims())
          tt->mutable_shape()->add_dim()->set_dim_value(d);
      }
      onnx::ModelProto upgraded =
          onnx::version_conversion::ConvertVersion(*model, int(kMinOpset));
      auto *inputs = upgraded.mutable_graph()->mutable_input();
      for (int i = inputs->size() - 1; i >= 0; --i)
        if (added.contains(inputs->Get(i).name()))
          inputs->DeleteSubrange(i, 1);
      // Opset 11 came with IR version 6 (initializers need not be inputs).
      if (upgraded.ir_version() < 6)
        upgraded.set_ir_version(6);
      *model = std::move(upgraded);
    } catch (const std::exception &e) {
      emitError(fileLoc) << "the model uses ONNX opset " << opsetVersion
                         << "; ONNX's version converter could not upgrade it "
                            "to opset "
                         << kMinOpset << ": " << e.what();
      return nullptr;
    }
    emitWarning(fileLoc) << "the model uses ONNX opset " << opsetVersion
                         << "; upgraded to opset " << kMinOpset
                         << " by ONNX's version converter";
    opsetVersion = kMinOpset;
  }
  if (opsetVersion < kMinOpset || opsetVersion > kMaxOpset) {
    emitError(fileLoc) << "the model uses ONNX opset " << opsetVersion
                       << "; supported opsets are " << kMinOpset << " to "
                       << kMaxOpset
                       << (opsetVersion > kMaxOpset
                               ? " (export with opset_version=" +
                                     std::to_string(kMaxOpset) + " or older)"
                               : std::string(" (7 to 10 are upgraded by "
                                             "ONNX's version converter)"));
    return nullptr;
  }
  const onnx::GraphProto &graph = model->graph();
  if (failed(checkOpsSupported(graph)))
    return nullptr;

  OwningOpRef<ModuleOp> module =
      ModuleOp::create(NameLoc::get(b.getStringAttr(graph.name())));
  (*module)->setAttr(kONNXOpsetAttr, b.getI64IntegerAttr(opsetVersion));
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

  for (onnx::TensorProto &t : *model->mutable_graph()->mutable_initializer()) {
    nodeLoc = NameLoc::get(b.getStringAttr(t.name()));
    FailureOr<Value> v = tensorConstant(t, t.name(), &t);
    if (failed(v))
      return nullptr;
    values[t.name()] = *v;
  }

  SmallVector<Type> inputTypes;
  SmallVector<Attribute> inputNames;
  SmallVector<bool> halfInputs; // FLOAT16 in the ONNX model
  SmallVector<std::string> batchNames;
  for (const auto &[name, dims] : options.inputShapes) {
    bool known = llvm::any_of(graph.input(), [&](const auto &in) {
      return in.name() == name && !values.count(in.name());
    });
    if (!known) {
      std::string names;
      for (const onnx::ValueInfoProto &in : graph.input())
        if (!values.count(in.name()))
          names += (names.empty() ? "'" : ", '") + in.name() + "'";
      emitError(UnknownLoc::get(b.getContext()))
          << "--input-shape " << name << ": the model has no graph input '"
          << name << "' (its inputs: " << names << ")";
      return nullptr;
    }
  }
  for (const onnx::ValueInfoProto &in : graph.input()) {
    if (values.count(in.name()))
      continue; // an initializer listed as input (IR version < 4)
    Location loc = NameLoc::get(b.getStringAttr(in.name()));
    const onnx::TypeProto &type = in.type();
    // FLOAT16 (a `model.half()` export) is computed in float32, as its
    // weights are: the deployed model is at least as precise.
    if (!type.has_tensor_type() ||
        (type.tensor_type().elem_type() != onnx::TensorProto::FLOAT &&
         type.tensor_type().elem_type() != onnx::TensorProto::FLOAT16) ||
        !type.tensor_type().has_shape()) {
      emitError(loc) << "graph input '" << in.name()
                     << "' must be a FLOAT or FLOAT16 tensor with a known "
                        "shape";
      return nullptr;
    }
    halfInputs.push_back(type.tensor_type().elem_type() ==
                         onnx::TensorProto::FLOAT16);
    SmallVector<int64_t> shape;
    std::string batchName;
    const std::vector<int64_t> *given = nullptr;
    if (auto it = options.inputShapes.find(in.name());
        it != options.inputShapes.end()) {
      given = &it->second;
      int rank = type.tensor_type().shape().dim_size();
      if (int(given->size()) != rank) {
        emitError(loc) << "--input-shape " << in.name() << ": "
                       << given->size() << " dimensions given, the graph "
                       << "input has " << rank;
        return nullptr;
      }
      if (options.batchRequested && !given->empty() &&
          (*given)[0] != options.batch) {
        emitError(loc) << "--batch " << options.batch << " and --input-shape "
                       << in.name() << " (batch " << (*given)[0]
                       << ") disagree";
        return nullptr;
      }
    }
    for (auto [i, d] : llvm::enumerate(type.tensor_type().shape().dim())) {
      if (given) {
        int64_t want = (*given)[i];
        if (d.has_dim_value() && d.dim_value() > 0 && d.dim_value() != want) {
          emitError(loc) << "--input-shape " << in.name() << ": dimension #"
                         << i << " is fixed at " << d.dim_value()
                         << " in the model, " << want << " given";
          return nullptr;
        }
        shape.push_back(want);
        continue;
      }
      if (d.has_dim_value() && d.dim_value() == 0) {
        emitError(loc) << "graph input '" << in.name() << "' has an empty "
                       << "dimension #" << i
                       << " (size 0); empty tensors are not supported";
        return nullptr;
      }
      if (i == 0 && d.has_dim_value() && options.batchRequested &&
          d.dim_value() != options.batch) {
        emitError(loc) << "batch " << options.batch << " requested, but graph "
                       << "input '" << in.name() << "' has a fixed batch of "
                       << d.dim_value()
                       << " (export the model with a symbolic batch, e.g. "
                          "torch.onnx.export(..., dynamic_axes={'"
                       << in.name() << "': {0: 'batch'}}))";
        return nullptr;
      }
      if (d.has_dim_value() && d.dim_value() > 0) {
        shape.push_back(d.dim_value());
      } else if (i == 0) {
        shape.push_back(options.batch); // symbolic batch
        batchName = d.dim_param().empty() ? "batch" : d.dim_param();
      } else {
        emitError(loc) << "graph input '" << in.name() << "' has symbolic "
                       << "dimension #" << i << " ('" << d.dim_param()
                       << "'); fix it with --input-shape " << in.name()
                       << ":" << "<d0>x<d1>x... (only a symbolic batch is "
                       << "taken as it is)";
        return nullptr;
      }
    }
    if (!validShape(shape) || llvm::is_contained(shape, 0)) {
      emitError(loc) << "graph input '" << in.name() << "' has shape "
                     << formatShape(shape)
                     << "; dimensions must be positive, at most "
                     << kMaxTensorElementsText << " elements";
      return nullptr;
    }
    BlockArgument arg =
        entry->addArgument(RankedTensorType::get(shape, b.getF32Type()), loc);
    inputTypes.push_back(arg.getType());
    inputNames.push_back(b.getStringAttr(in.name()));
    batchNames.push_back(batchName);
    values[in.name()] = arg;
  }

  for (auto [i, node] : llvm::enumerate(graph.node()))
    if (failed(importNode(node, i)))
      return nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const onnx::ValueInfoProto &out : graph.output()) {
    auto it = values.find(out.name());
    Location loc = NameLoc::get(b.getStringAttr(out.name()));
    if (it == values.end()) {
      emitError(loc) << "graph output '" << out.name()
                     << "' is not produced by any node";
      return nullptr;
    }
    Value v = it->second;
    auto vt = cast<RankedTensorType>(v.getType());
    if (!vt.getElementType().isF32() && !isIndices(v)) {
      emitError(loc) << "graph output '" << out.name() << "' is a tensor of "
                     << vt.getElementType() << "; only FLOAT outputs (and "
                     << "ArgMax indices) are supported";
      return nullptr;
    }
    ArrayRef<int64_t> shape = vt.getShape();
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
  for (auto [i, n] : llvm::enumerate(inputNames)) {
    func.setArgAttr(i, kONNXNameAttr, n);
    if (halfInputs[i])
      func.setArgAttr(i, kONNXTypeAttr, b.getStringAttr("float16"));
    if (!batchNames[i].empty() && options.keepSymbolicBatch)
      func.setArgAttr(i, kONNXBatchAttr, b.getStringAttr(batchNames[i]));
  }
  for (auto [i, out] : llvm::enumerate(graph.output())) {
    func.setResultAttr(i, kONNXNameAttr, b.getStringAttr(out.name()));
    if (out.type().tensor_type().elem_type() == onnx::TensorProto::FLOAT16)
      func.setResultAttr(i, kONNXTypeAttr, b.getStringAttr("float16"));
  }

  if (failed(verify(*module)))
    return nullptr;
  // Canonical form: folded shapes, pads in convs, GELUs recognised, no dead
  // ops. Only this dialect's patterns: weights are never folded here.
  RewritePatternSet patterns(context());
  for (RegisteredOperationName op : context()->getRegisteredOperations())
    if (op.getDialectNamespace() == MobileOneDialect::getDialectNamespace())
      op.getCanonicalizationPatterns(patterns, context());
  GreedyRewriteConfig config;
  config.useTopDownTraversal = true;
  (void)applyPatternsAndFoldGreedily(func.getBody(), std::move(patterns),
                                     config);
  // Integer values left are computed from data, and nothing reads them but
  // the graph outputs that are ArgMax indices (and their reshapes).
  for (Operation &op : *entry)
    for (Value r : op.getResults())
      if (!cast<ShapedType>(r.getType()).getElementType().isF32() &&
          !isa<arith::ConstantOp>(op) && !isIndices(r)) {
        op.emitError("computes a ")
            << r.getType()
            << " from data; integer tensors are supported only as shapes "
               "that fold to constants";
        return nullptr;
      }
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp>
mobileone::importONNXFile(MLIRContext *context, StringRef path,
                          const ONNXImportOptions &options) {
  context
      ->loadDialect<MobileOneDialect, func::FuncDialect, arith::ArithDialect>();
  return Importer(context, path, options).run();
}
