//===- ExportONNX.cpp - deploy-time modules to ONNX -----------------------===//
//
// One ONNX node per op (squeeze_excite expands to its six nodes), weights as
// raw-data initializers, the graph interface of the import restored from the
// attributes the importer recorded. The result is checked with
// onnx::checker before anything is written.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Half.h"
#include "mobileone/Support/Limits.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Target/ONNX.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cstring>

using namespace mlir;
using namespace mlir::mobileone;

namespace {

constexpr int64_t kCheckerMaxIRVersion = 8, kCheckerMaxOpset = 17;

/// Internal to this file: the op table's entries use its helpers.
struct Exporter {
  Exporter(ModuleOp module, const ONNXExportOptions &options)
      : module(module), options(options) {}
  LogicalResult run(std::string &out);

  LogicalResult exportOp(Operation &op);
  std::string uniqueName(StringRef hint);
  std::string nodeName(Operation *op);
  /// The ONNX name of `v`; constants become initializers named after `hint`.
  FailureOr<std::string> nameOf(Value v, StringRef hint);
  /// A Cast of `from` to ONNX data type `type`, named `to`.
  void castTo(int32_t type, const std::string &from, const std::string &to);
  onnx::NodeProto *addNode(StringRef opType, StringRef name,
                           ArrayRef<std::string> inputs,
                           ArrayRef<std::string> outputs);
  std::string addInitializer(StringRef hint, ArrayRef<int64_t> shape,
                             ArrayRef<float> data);
  std::string
  addInt64Initializer(StringRef hint, ArrayRef<int64_t> data,
                      std::optional<ArrayRef<int64_t>> shape = std::nullopt);
  void setOutput(Value v, const std::string &name) { names[v] = name; }

  // int8 QDQ (options.int8).
  /// A typed initializer from raw bytes.
  std::string addRawInitializer(StringRef hint, ArrayRef<int64_t> shape,
                                int32_t type, const void *data, size_t bytes);
  /// QuantizeLinear -> DequantizeLinear of `name` with `p`: the name every
  /// reader then uses.
  std::string qdq(const std::string &name, const QdqParams &p);
  /// `data` (`type`, `elementBytes` each) through a DequantizeLinear along
  /// axis 0 with `scales` and zero points 0.
  std::string dequantizeLinear(StringRef hint, ArrayRef<int64_t> shape,
                               int32_t type, const void *data,
                               size_t elementBytes, ArrayRef<float> scales);
  /// int8 weights (or int32 bias) through a per-channel DequantizeLinear.
  std::string dequantizedWeights(StringRef hint, const QdqWeights &w);
  std::string dequantizedBias(StringRef hint, const QdqWeights &w);
  /// The int8 form of `op`'s result, if the quantisation has one: after
  /// the op, or after the ReLU / Clip the TFLite target fused into it.
  void quantizeResult(Operation &op);
  /// The quantised layer `op` is (a conv2d or linear whose weights the
  /// quantisation holds in the op's shape), or null.
  const QdqLayer *quantizedLayer(Operation &op);
  LogicalResult exportQuantizedLayer(Operation &op, const QdqLayer &layer);
  llvm::DenseMap<Operation *, QdqParams> fusedInto;
  /// Op names that more than one op has: their tensors are not matched.
  llvm::StringSet<> ambiguous;

  ModuleOp module;
  ONNXExportOptions options;
  /// The first weight that does not fit float16 (reported after export).
  std::string halfError;
  onnx::ModelProto model;
  onnx::GraphProto *graph = nullptr;
  llvm::DenseMap<Value, std::string> names;
  llvm::StringSet<> used;
  int64_t opset = 14;
  /// Values whose dimension 0 is the symbolic batch (empty: a static batch).
  llvm::DenseSet<Value> batched;
  std::string batchName;
};

//===----------------------------------------------------------------------===//
// A symbolic batch. The module is computed at one batch size; the ONNX model
// may keep dimension 0 symbolic when every op that reads a batched value
// keeps dimension 0 as its batch and never mixes it with other dimensions.
//===----------------------------------------------------------------------===//

/// Whether `op`, which reads at least one batched value, keeps dimension 0
/// of its results as the batch.
bool keepsBatch(Operation *op, const llvm::DenseSet<Value> &batched) {
  auto rankOf = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getRank();
  };
  auto dim0 = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getDimSize(0);
  };
  auto onlyFirstBatched = [&] {
    return llvm::none_of(op->getOperands().drop_front(),
                         [&](Value v) { return batched.contains(v); });
  };
  for (Value r : op->getResults())
    if (rankOf(r) < 1)
      return false;
  // Broadcasting ops: a batched operand has the result's rank; any other
  // broadcasts along dimension 0.
  auto broadcasting = [&] {
    int64_t rank = rankOf(op->getResult(0));
    return llvm::all_of(op->getOperands(), [&](Value v) {
      return batched.contains(v) ? rankOf(v) == rank
                                 : rankOf(v) < rank || dim0(v) == 1;
    });
  };
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case<AddOp, SubOp, MulOp, DivOp, PowOp, EqualOp, WhereOp>(
          [&](Operation *) { return broadcasting(); })
      .Case<ReluOp, SigmoidOp, TanhOp, ErfOp, SqrtOp, ExpOp, NegOp,
            ReciprocalOp, GeluOp, HardSigmoidOp, HardSwishOp, LeakyReluOp,
            SiluOp,
            ClipOp, CastOp>([&](Operation *) { return true; })
      .Case<Conv2DOp, BatchNormOp, GlobalAvgPoolOp, MaxPoolOp, AvgPoolOp,
            SqueezeExciteOp, LinearOp, ConvTranspose2DOp, ResizeOp>(
          [&](Operation *) { return onlyFirstBatched(); })
      .Case([&](SoftmaxOp o) { return o.getAxis() != 0; })
      .Case([&](ArgMaxOp o) { return o.getAxis() != 0; })
      .Case(
          [&](LayerNormOp o) { return o.getAxis() != 0 && onlyFirstBatched(); })
      .Case<ReduceMeanOp, ReduceSumOp, ReduceMaxOp>([&](Operation *o) {
        auto axes = o->getAttrOfType<DenseI64ArrayAttr>("axes").asArrayRef();
        return !axes.empty() && !llvm::is_contained(axes, 0);
      })
      .Case([&](ReshapeOp o) {
        return rankOf(o.getInput()) >= 1 && dim0(o.getInput()) == dim0(o);
      })
      .Case([&](ExpandOp o) {
        return rankOf(o.getInput()) == rankOf(o) &&
               dim0(o.getInput()) == dim0(o);
      })
      .Case([&](TransposeOp o) { return o.getPerm()[0] == 0; })
      .Case([&](ConcatOp o) {
        return o.getAxis() != 0 && llvm::all_of(o.getInputs(), [&](Value v) {
                 return batched.contains(v);
               });
      })
      .Case([&](SplitOp o) { return o.getAxis() != 0; })
      .Case([&](SliceOp o) {
        return o.getStarts()[0] == 0 && o.getSteps()[0] == 1 &&
               o.getEnds()[0] == dim0(o.getInput());
      })
      .Case([&](PadOp o) {
        int64_t rank = rankOf(o.getInput());
        return o.getPads()[0] == 0 && o.getPads()[rank] == 0;
      })
      .Case([&](GatherOp o) {
        return o.getAxis() != 0 && !batched.contains(o.getIndices());
      })
      .Case([&](MatMulOp o) {
        bool l = batched.contains(o.getLhs()), r = batched.contains(o.getRhs());
        int64_t lr = rankOf(o.getLhs()), rr = rankOf(o.getRhs());
        if (l && r)
          return lr == rr && lr >= 3;
        if (l) // rows of a matrix, or a batch dimension the weight broadcasts
          return lr == 2 ? true : (rr < lr || dim0(o.getRhs()) == 1);
        return false; // a batched right-hand side: the batch is K or a column
      })
      .Default([](Operation *) { return false; });
}

/// Marks the values that carry the symbolic batch of `func`'s arguments.
/// Returns the first op that does not keep it (the batch then stays
/// static), or null.
Operation *analyseBatch(func::FuncOp func, llvm::DenseSet<Value> &batched) {
  for (BlockArgument arg : func.getArguments())
    if (func.getArgAttr(arg.getArgNumber(), kONNXBatchAttr))
      batched.insert(arg);
  if (batched.empty())
    return nullptr;
  for (Operation &op : func.getBody().front().without_terminator()) {
    if (llvm::none_of(op.getOperands(),
                      [&](Value v) { return batched.contains(v); }))
      continue;
    if (!keepsBatch(&op, batched))
      return &op;
    for (Value r : op.getResults())
      batched.insert(r);
  }
  return nullptr;
}

void addInts(onnx::NodeProto *node, StringRef name, ArrayRef<int64_t> values) {
  onnx::AttributeProto *a = node->add_attribute();
  a->set_name(name.str());
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values)
    a->add_ints(v);
}

void addInt(onnx::NodeProto *node, StringRef name, int64_t value) {
  onnx::AttributeProto *a = node->add_attribute();
  a->set_name(name.str());
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void addFloat(onnx::NodeProto *node, StringRef name, float value) {
  onnx::AttributeProto *a = node->add_attribute();
  a->set_name(name.str());
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void addString(onnx::NodeProto *node, StringRef name, StringRef value) {
  onnx::AttributeProto *a = node->add_attribute();
  a->set_name(name.str());
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value.str());
}

/// A float (or, `integer`, int64; `half`, float16) tensor type;
/// `batchName` makes dimension 0 symbolic.
void setTensorType(onnx::ValueInfoProto *info, ArrayRef<int64_t> shape,
                   StringRef batchName = "", bool integer = false,
                   bool half = false) {
  onnx::TypeProto_Tensor *t = info->mutable_type()->mutable_tensor_type();
  t->set_elem_type(integer ? onnx::TensorProto::INT64
                   : half  ? onnx::TensorProto::FLOAT16
                           : onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto *s = t->mutable_shape();
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i == 0 && !batchName.empty())
      s->add_dim()->set_dim_param(batchName.str());
    else
      s->add_dim()->set_dim_value(d);
  }
}

bool isHalf(StringAttr onnxType) {
  return onnxType && onnxType.getValue() == "float16";
}

void Exporter::castTo(int32_t type, const std::string &from,
                      const std::string &to) {
  onnx::NodeProto *cast = addNode("Cast", to + "_cast", {from}, {to});
  onnx::AttributeProto *a = cast->add_attribute();
  a->set_name("to");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(type);
}

std::string Exporter::uniqueName(StringRef hint) {
  std::string base = hint.empty() ? "v" : hint.str();
  std::string name = base;
  for (int i = 1; used.contains(name); ++i)
    name = base + "_" + std::to_string(i);
  used.insert(name);
  return name;
}

std::string Exporter::nodeName(Operation *op) {
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    return loc.getName().str();
  return op->getName().stripDialect().str();
}

std::string Exporter::addInitializer(StringRef hint, ArrayRef<int64_t> shape,
                                     ArrayRef<float> data) {
  onnx::TensorProto *t = graph->add_initializer();
  std::string name = uniqueName(hint);
  for (int64_t d : shape)
    t->add_dims(d);
  if (options.fp16Weights && data.size() >= 16) {
    std::string stored = uniqueName(name + "_fp16");
    t->set_name(stored);
    t->set_data_type(onnx::TensorProto::FLOAT16);
    std::string raw(data.size() * 2, '\0');
    for (size_t i = 0; i < data.size(); ++i) {
      uint16_t h = toHalf(data[i]);
      if ((h & 0x7C00u) == 0x7C00u && std::isfinite(data[i]) &&
          halfError.empty())
        halfError = "weight '" + name + "' holds " + std::to_string(data[i]) +
                    ", beyond float16's range (65504): compile it with "
                    "--precision fp32";
      std::memcpy(&raw[2 * i], &h, 2);
    }
    t->set_raw_data(raw);
    castTo(onnx::TensorProto::FLOAT, stored, name);
    return name;
  }
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->set_raw_data(std::string(reinterpret_cast<const char *>(data.data()),
                              data.size() * sizeof(float)));
  return name;
}

std::string
Exporter::addInt64Initializer(StringRef hint, ArrayRef<int64_t> data,
                              std::optional<ArrayRef<int64_t>> shape) {
  onnx::TensorProto *t = graph->add_initializer();
  std::string name = uniqueName(hint);
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  if (shape)
    for (int64_t d : *shape)
      t->add_dims(d);
  else
    t->add_dims(data.size());
  for (int64_t v : data)
    t->add_int64_data(v);
  return name;
}

FailureOr<std::string> Exporter::nameOf(Value v, StringRef hint) {
  auto it = names.find(v);
  if (it != names.end())
    return it->second;
  auto type = cast<RankedTensorType>(v.getType());
  Attribute attr;
  if (type.getElementType().isInteger(64) &&
      matchPattern(v, m_Constant(&attr)) && isa<DenseIntElementsAttr>(attr)) {
    SmallVector<int64_t> ints;
    for (const APInt &x : cast<DenseIntElementsAttr>(attr).getValues<APInt>())
      ints.push_back(x.getSExtValue());
    std::string name = addInt64Initializer(hint, ints, type.getShape());
    names[v] = name;
    return name;
  }
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> data = getConstantF32(v, storage);
  if (!data) {
    if (Operation *def = v.getDefiningOp()) {
      if (type.hasStaticShape() && type.getNumElements() > kMaxTensorElements)
        return def->emitError("ONNX export: this constant has more than ")
               << kMaxTensorElementsText << " elements, the limit per tensor";
      return def->emitError("ONNX export: cannot read this constant "
                            "(expected f32 data)");
    }
    return failure();
  }
  std::string name = addInitializer(hint, type.getShape(), *data);
  names[v] = name;
  return name;
}

onnx::NodeProto *Exporter::addNode(StringRef opType, StringRef name,
                                   ArrayRef<std::string> inputs,
                                   ArrayRef<std::string> outputs) {
  onnx::NodeProto *node = graph->add_node();
  node->set_op_type(opType.str());
  node->set_name(name.str());
  for (const std::string &i : inputs)
    node->add_input(i);
  for (const std::string &o : outputs)
    node->add_output(o);
  return node;
}

//===----------------------------------------------------------------------===//
// The op table: one entry per op. Most ops map to one ONNX node whose
// attributes have the op's attribute names (`generic`); the entries below
// it handle the ops whose ONNX form takes attributes as inputs or changed
// between opsets.
//===----------------------------------------------------------------------===//

/// What an op's entry sees: the exporter, the op, its node name, and the
/// ONNX names of its operands (constants become initializers).
struct ExportContext {
  Exporter &ex;
  Operation *op;
  std::string name;
  int64_t opset;
  SmallVector<std::string> in;

  FailureOr<SmallVector<std::string>> operands() {
    SmallVector<std::string> out;
    for (auto [i, v] : llvm::enumerate(op->getOperands())) {
      FailureOr<std::string> n = ex.nameOf(v, name + ".in" + std::to_string(i));
      if (failed(n))
        return failure();
      out.push_back(*n);
    }
    return out;
  }
  std::string output(int i = 0) {
    std::string out = ex.uniqueName(
        name + (i ? "_out" + std::to_string(i) : std::string("_out")));
    ex.setOutput(op->getResult(i), out);
    return out;
  }
  std::string temp(StringRef what) {
    return ex.uniqueName(name + "." + what.str());
  }
  onnx::NodeProto *node(StringRef type, ArrayRef<std::string> in,
                        ArrayRef<std::string> out, StringRef suffix = "") {
    return ex.addNode(type, suffix.empty() ? name : temp(suffix), in, out);
  }
  std::string ints(StringRef what, ArrayRef<int64_t> v) {
    return ex.addInt64Initializer(name + "." + what.str(), v);
  }
  std::string scalar(StringRef what, float v) {
    return ex.addInitializer(name + "." + what.str(), {}, {v});
  }
};

using ExportFn = LogicalResult (*)(ExportContext &);

/// The op's attributes as ONNX attributes of the same names.
void copyAttributes(Operation *op, onnx::NodeProto *node,
                    ArrayRef<StringRef> skip = {}) {
  for (NamedAttribute a : op->getAttrs()) {
    StringRef name = a.getName().strref();
    if (llvm::is_contained(skip, name))
      continue;
    if (auto arr = dyn_cast<DenseI64ArrayAttr>(a.getValue()))
      addInts(node, name, arr.asArrayRef());
    else if (auto i = dyn_cast<IntegerAttr>(a.getValue()))
      addInt(node, name, i.getInt());
    else if (auto f = dyn_cast<FloatAttr>(a.getValue()))
      addFloat(node, name, static_cast<float>(f.getValueAsDouble()));
    else if (auto s = dyn_cast<StringAttr>(a.getValue()))
      addString(node, name, s.getValue());
  }
}

/// One ONNX node of type `Type`, operands and attributes as they are.
template <const char *Type> LogicalResult generic(ExportContext &c) {
  SmallVector<std::string> outs;
  for (unsigned i = 0; i < c.op->getNumResults(); ++i)
    outs.push_back(c.output(i));
  copyAttributes(c.op, c.node(Type, c.in, outs));
  return success();
}

#define ONNX_TYPE(name) constexpr char k##name[] = #name;
ONNX_TYPE(Relu)
ONNX_TYPE(Sigmoid)
ONNX_TYPE(Tanh)
ONNX_TYPE(Erf)
ONNX_TYPE(Sqrt)
ONNX_TYPE(Exp)
ONNX_TYPE(Neg)
ONNX_TYPE(Reciprocal)
ONNX_TYPE(Pow)
ONNX_TYPE(HardSigmoid)
ONNX_TYPE(LeakyRelu)
ONNX_TYPE(Add)
ONNX_TYPE(Sub)
ONNX_TYPE(Mul)
ONNX_TYPE(Div)
ONNX_TYPE(GlobalAveragePool)
ONNX_TYPE(Concat)
ONNX_TYPE(Transpose)
ONNX_TYPE(MatMul)
ONNX_TYPE(MaxPool)
ONNX_TYPE(Gather)
ONNX_TYPE(BatchNormalization)
ONNX_TYPE(LayerNormalization)
ONNX_TYPE(Reshape)
ONNX_TYPE(Expand)
ONNX_TYPE(ReduceMean)
ONNX_TYPE(ReduceSum)
ONNX_TYPE(ReduceMax)
ONNX_TYPE(ArgMax)
#undef ONNX_TYPE

LogicalResult exportConv(ExportContext &c) {
  auto conv = cast<Conv2DOp>(c.op);
  onnx::NodeProto *node = c.node("Conv", c.in, {c.output()});
  copyAttributes(c.op, node);
  addInts(node, "kernel_shape", {conv.getKernelH(), conv.getKernelW()});
  return success();
}

LogicalResult exportConvTranspose(ExportContext &c) {
  auto ct = cast<ConvTranspose2DOp>(c.op);
  onnx::NodeProto *node = c.node("ConvTranspose", c.in, {c.output()});
  copyAttributes(c.op, node);
  ArrayRef<int64_t> ws = ct.getWeight().getType().getShape();
  addInts(node, "kernel_shape", {ws[2], ws[3]});
  return success();
}

/// Resize: `sizes` where the scale is out / in (ONNX then derives the same
/// scale), else the scales themselves (out = floor(in * scale), which the
/// verifier checks); scales too for a symbolic batch.
LogicalResult exportResize(ExportContext &c) {
  auto r = cast<ResizeOp>(c.op);
  ArrayRef<int64_t> in = r.getInput().getType().getShape(),
                    out = r.getType().getShape();
  ArrayRef<double> sc = r.getScales();
  bool bySize = !c.ex.batched.contains(c.op->getOperand(0));
  for (int d = 0; d < 2; ++d)
    bySize &= float(double(out[2 + d]) / double(in[2 + d])) == float(sc[d]);
  std::string empty = c.opset < 13 ? c.ex.addInitializer(c.name + ".empty",
                                                         {0}, {})
                                   : std::string();
  SmallVector<std::string> ins = {c.in[0], empty};
  if (bySize) {
    ins.push_back(empty);
    ins.push_back(c.ints("sizes", out));
  } else {
    ins.push_back(c.ex.addInitializer(c.name + ".scales", {4},
                                      {1.0f, 1.0f, float(sc[0]), float(sc[1])}));
  }
  onnx::NodeProto *node = c.node("Resize", ins, {c.output()});
  copyAttributes(c.op, node, {"scales"});
  return success();
}

/// Reshape and Expand: the result shape as an int64 input. With a symbolic
/// batch, dimension 0 is `batchDim` (Reshape's 0 copies the input's, and
/// Expand's 1 keeps it).
template <const char *Type, int64_t batchDim>
LogicalResult exportToShape(ExportContext &c) {
  auto type = cast<RankedTensorType>(c.op->getResult(0).getType());
  SmallVector<int64_t> shape(type.getShape());
  if (c.ex.batched.contains(c.op->getOperand(0)))
    shape[0] = batchDim;
  c.node(Type, {c.in[0], c.ints("shape", shape)}, {c.output()});
  return success();
}

LogicalResult exportLinear(ExportContext &c) {
  addInt(c.node("Gemm", c.in, {c.output()}), "transB", 1);
  return success();
}

LogicalResult exportClip(ExportContext &c) {
  auto clip = cast<ClipOp>(c.op);
  c.node("Clip",
         {c.in[0], c.scalar("min", clip.getMin().convertToFloat()),
          c.scalar("max", clip.getMax().convertToFloat())},
         {c.output()});
  return success();
}

LogicalResult exportHardSwish(ExportContext &c) {
  if (c.opset >= 14) {
    c.node("HardSwish", c.in, {c.output()});
    return success();
  }
  // Before opset 14: x * HardSigmoid(x; 1/6, 1/2).
  std::string gate = c.temp("gate");
  onnx::NodeProto *hs = c.node("HardSigmoid", {c.in[0]}, {gate}, "hsig");
  addFloat(hs, "alpha", 1.0f / 6.0f);
  addFloat(hs, "beta", 0.5f);
  c.node("Mul", {c.in[0], gate}, {c.output()});
  return success();
}

LogicalResult exportGelu(ExportContext &c) {
  auto gelu = cast<GeluOp>(c.op);
  if (c.opset >= 20) {
    addString(c.node("Gelu", c.in, {c.output()}), "approximate",
              gelu.getApproximate());
    return success();
  }
  const std::string &x = c.in[0];
  std::string inner = c.temp("inner"), t = c.temp("t"), onePlus = c.temp("p1"),
              half = c.temp("half");
  if (gelu.getApproximate() == "tanh") {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    std::string x2 = c.temp("x2"), x3 = c.temp("x3"), cx3 = c.temp("cx3"),
                sum = c.temp("sum");
    c.node("Mul", {x, x}, {x2}, "sq");
    c.node("Mul", {x2, x}, {x3}, "cube");
    c.node("Mul", {x3, c.scalar("c", 0.044715f)}, {cx3}, "mulc");
    c.node("Add", {x, cx3}, {sum}, "add");
    c.node("Mul", {sum, c.scalar("k", 0.7978845608028654f)}, {inner}, "mulk");
    c.node("Tanh", {inner}, {t}, "tanh");
  } else {
    // 0.5 x (1 + erf(x / sqrt 2)), as exporters before opset 20 write it
    c.node("Div", {x, c.scalar("sqrt2", 1.4142135623730951f)}, {inner}, "div");
    c.node("Erf", {inner}, {t}, "erf");
  }
  c.node("Add", {t, c.scalar("one", 1.0f)}, {onePlus}, "add1");
  c.node("Mul", {x, onePlus}, {half}, "mulx");
  c.node("Mul", {half, c.scalar("half", 0.5f)}, {c.output()});
  return success();
}

LogicalResult exportSoftmax(ExportContext &c) {
  auto sm = cast<SoftmaxOp>(c.op);
  int64_t rank = cast<RankedTensorType>(sm.getType()).getRank();
  int64_t axis = sm.getAxis();
  if (c.opset >= 13 || axis == rank - 1) {
    addInt(c.node("Softmax", c.in, {c.output()}), "axis", axis);
    return success();
  }
  // Before opset 13 Softmax flattens from `axis` on: move the axis last.
  SmallVector<int64_t> perm;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis)
      perm.push_back(d);
  perm.push_back(axis);
  SmallVector<int64_t> inverse(rank);
  for (int64_t d = 0; d < rank; ++d)
    inverse[perm[d]] = d;
  std::string moved = c.temp("moved"), soft = c.temp("softmax");
  addInts(c.node("Transpose", c.in, {moved}, "to_last"), "perm", perm);
  addInt(c.node("Softmax", {moved}, {soft}, "softmax"), "axis", rank - 1);
  addInts(c.node("Transpose", {soft}, {c.output()}), "perm", inverse);
  return success();
}

/// SiLU as PyTorch writes it: Sigmoid, then Mul by the input.
LogicalResult exportSilu(ExportContext &c) {
  std::string gate = c.temp("sigmoid");
  c.node("Sigmoid", c.in, {gate}, "sigmoid");
  c.node("Mul", {c.in[0], gate}, {c.output()});
  return success();
}

LogicalResult exportSplit(ExportContext &c) {
  auto split = cast<SplitOp>(c.op);
  SmallVector<std::string> outs;
  for (unsigned i = 0; i < c.op->getNumResults(); ++i)
    outs.push_back(c.output(i));
  SmallVector<std::string> inputs = {c.in[0]};
  if (c.opset >= 13)
    inputs.push_back(c.ints("split", split.getSplit()));
  onnx::NodeProto *node = c.node("Split", inputs, outs);
  addInt(node, "axis", split.getAxis());
  if (c.opset < 13)
    addInts(node, "split", split.getSplit());
  return success();
}

LogicalResult exportSlice(ExportContext &c) {
  auto slice = cast<SliceOp>(c.op);
  ArrayRef<int64_t> shape =
      cast<RankedTensorType>(slice.getInput().getType()).getShape();
  SmallVector<int64_t> starts(slice.getStarts()), ends(slice.getEnds());
  // Our -1 ("before index 0" for a negative step) would mean dim - 1 in
  // ONNX; -(dim + 1) clamps to it.
  for (size_t d = 0; d < shape.size(); ++d) {
    if (starts[d] == -1)
      starts[d] = -(shape[d] + 1);
    if (ends[d] == -1)
      ends[d] = -(shape[d] + 1);
  }
  if (c.ex.batched.contains(slice.getInput()))
    ends[0] = INT64_MAX; // the whole (symbolic) batch
  SmallVector<int64_t> axes;
  for (size_t d = 0; d < shape.size(); ++d)
    axes.push_back(d);
  c.node("Slice",
         {c.in[0], c.ints("starts", starts), c.ints("ends", ends),
          c.ints("axes", axes), c.ints("steps", slice.getSteps())},
         {c.output()});
  return success();
}

LogicalResult exportPad(ExportContext &c) {
  auto pad = cast<PadOp>(c.op);
  onnx::NodeProto *node =
      c.node("Pad",
             {c.in[0], c.ints("pads", pad.getPads()),
              c.scalar("value", pad.getValue().convertToFloat())},
             {c.output()});
  addString(node, "mode", pad.getMode());
  return success();
}

/// ReduceMean, ReduceSum, ReduceMax: axes as an attribute before
/// `axesInputSince`, as an input from then on.
template <typename ReduceOp, const char *Type, int64_t axesInputSince>
LogicalResult exportReduce(ExportContext &c) {
  auto op = cast<ReduceOp>(c.op);
  SmallVector<int64_t> axes(op.getAxes());
  if (axes.empty()) // ours: every dimension
    for (int64_t d = 0,
                 e = cast<RankedTensorType>(op.getInput().getType()).getRank();
         d < e; ++d)
      axes.push_back(d);
  SmallVector<std::string> inputs = {c.in[0]};
  if (c.opset >= axesInputSince)
    inputs.push_back(c.ints("axes", axes));
  onnx::NodeProto *node = c.node(Type, inputs, {c.output()});
  if (c.opset < axesInputSince)
    addInts(node, "axes", axes);
  addInt(node, "keepdims", op.getKeepdims());
  return success();
}

LogicalResult exportAvgPool(ExportContext &c) {
  auto pool = cast<AvgPoolOp>(c.op);
  bool dilated =
      llvm::any_of(pool.getDilations(), [](int64_t d) { return d != 1; });
  if (dilated && c.opset < 19)
    return c.op->emitError("ONNX export: a dilated AveragePool needs opset "
                           "19, the model has ")
           << c.opset;
  copyAttributes(c.op, c.node("AveragePool", c.in, {c.output()}),
                 c.opset < 19 ? ArrayRef<StringRef>{"dilations"}
                              : ArrayRef<StringRef>{});
  return success();
}

LogicalResult exportLayerNorm(ExportContext &c) {
  if (c.opset < 17)
    return c.op->emitError("ONNX export: LayerNormalization needs opset 17, "
                           "the model has ")
           << c.opset;
  return generic<kLayerNormalization>(c);
}

LogicalResult exportSqueezeExcite(ExportContext &c) {
  const SmallVector<std::string> &v = c.in;
  std::string pooled = c.temp("pool_out"), reduced = c.temp("reduce_out"),
              relu = c.temp("relu_out"), expanded = c.temp("expand_out"),
              gate = c.temp("sigmoid_out");
  c.node("GlobalAveragePool", {v[0]}, {pooled}, "pool");
  addInts(c.node("Conv", {pooled, v[1], v[2]}, {reduced}, "reduce"),
          "kernel_shape", {1, 1});
  c.node("Relu", {reduced}, {relu}, "relu");
  addInts(c.node("Conv", {relu, v[3], v[4]}, {expanded}, "expand"),
          "kernel_shape", {1, 1});
  c.node("Sigmoid", {expanded}, {gate}, "sigmoid");
  c.node("Mul", {v[0], gate}, {c.output()}, "mul");
  return success();
}

const llvm::StringMap<ExportFn> &exportTable() {
  static const llvm::StringMap<ExportFn> table = {
      {Conv2DOp::getOperationName(), exportConv},
      {ConvTranspose2DOp::getOperationName(), exportConvTranspose},
      {ResizeOp::getOperationName(), exportResize},
      {ArgMaxOp::getOperationName(), generic<kArgMax>},
      {BatchNormOp::getOperationName(), generic<kBatchNormalization>},
      {ReluOp::getOperationName(), generic<kRelu>},
      {SigmoidOp::getOperationName(), generic<kSigmoid>},
      {TanhOp::getOperationName(), generic<kTanh>},
      {ErfOp::getOperationName(), generic<kErf>},
      {SqrtOp::getOperationName(), generic<kSqrt>},
      {ExpOp::getOperationName(), generic<kExp>},
      {NegOp::getOperationName(), generic<kNeg>},
      {ReciprocalOp::getOperationName(), generic<kReciprocal>},
      {PowOp::getOperationName(), generic<kPow>},
      {HardSigmoidOp::getOperationName(), generic<kHardSigmoid>},
      {LeakyReluOp::getOperationName(), generic<kLeakyRelu>},
      {HardSwishOp::getOperationName(), exportHardSwish},
      {SiluOp::getOperationName(), exportSilu},
      {GeluOp::getOperationName(), exportGelu},
      {ClipOp::getOperationName(), exportClip},
      {SoftmaxOp::getOperationName(), exportSoftmax},
      {AddOp::getOperationName(), generic<kAdd>},
      {SubOp::getOperationName(), generic<kSub>},
      {MulOp::getOperationName(), generic<kMul>},
      {DivOp::getOperationName(), generic<kDiv>},
      {GlobalAvgPoolOp::getOperationName(), generic<kGlobalAveragePool>},
      {ReshapeOp::getOperationName(), exportToShape<kReshape, 0>},
      {ExpandOp::getOperationName(), exportToShape<kExpand, 1>},
      {LinearOp::getOperationName(), exportLinear},
      {SqueezeExciteOp::getOperationName(), exportSqueezeExcite},
      {ConcatOp::getOperationName(), generic<kConcat>},
      {SplitOp::getOperationName(), exportSplit},
      {SliceOp::getOperationName(), exportSlice},
      {TransposeOp::getOperationName(), generic<kTranspose>},
      {PadOp::getOperationName(), exportPad},
      {GatherOp::getOperationName(), generic<kGather>},
      {ReduceMeanOp::getOperationName(),
       exportReduce<ReduceMeanOp, kReduceMean, 18>},
      {ReduceSumOp::getOperationName(),
       exportReduce<ReduceSumOp, kReduceSum, 13>},
      {ReduceMaxOp::getOperationName(),
       exportReduce<ReduceMaxOp, kReduceMax, 18>},
      {MaxPoolOp::getOperationName(), generic<kMaxPool>},
      {AvgPoolOp::getOperationName(), exportAvgPool},
      {LayerNormOp::getOperationName(), exportLayerNorm},
      {MatMulOp::getOperationName(), generic<kMatMul>},
  };
  return table;
}

LogicalResult Exporter::exportOp(Operation &op) {
  if (isa<arith::ConstantOp>(op))
    return success(); // initializers are made on first use
  if (isa<BlockOp>(op))
    return op.emitError("ONNX export cannot express 'mobileone.block' (a "
                        "training-time multi-branch block); run "
                        "--mobileone-reparameterize first");
  auto it = exportTable().find(op.getName().getStringRef());
  if (it == exportTable().end())
    return op.emitError("ONNX export cannot express '") << op.getName() << "'";
  if (const QdqLayer *layer = quantizedLayer(op)) {
    if (failed(exportQuantizedLayer(op, *layer)))
      return failure();
    quantizeResult(op);
    return success();
  }
  ExportContext c{*this, &op, uniqueName(nodeName(&op)), opset, {}};
  FailureOr<SmallVector<std::string>> in = c.operands();
  if (failed(in))
    return failure();
  c.in = std::move(*in);
  if (failed(it->second(c)))
    return failure();
  quantizeResult(op);
  return success();
}

//===----------------------------------------------------------------------===//
// int8 QDQ: the quantisation of the int8 .tflite (Target/Quantization.h) as
// ONNX Runtime's static quantiser writes it: a QuantizeLinear ->
// DequantizeLinear pair after every int8 activation (as uint8, zero point
// + 128: the same values), int8 weights and int32 biases through
// DequantizeLinear. ONNX Runtime fuses DQ -> Conv -> Q into
// QLinearConv (and Add, GlobalAveragePool, ...), and drops a ReLU before a
// Q whose zero point is the int8 minimum.
//===----------------------------------------------------------------------===//

std::string Exporter::addRawInitializer(StringRef hint, ArrayRef<int64_t> shape,
                                        int32_t type, const void *data,
                                        size_t bytes) {
  onnx::TensorProto *t = graph->add_initializer();
  std::string name = uniqueName(hint);
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : shape)
    t->add_dims(d);
  t->set_raw_data(std::string(static_cast<const char *>(data), bytes));
  return name;
}

std::string Exporter::qdq(const std::string &name, const QdqParams &p) {
  std::string scale = addRawInitializer(name + "_scale", {},
                                        onnx::TensorProto::FLOAT, &p.scale, 4);
  // uint8 with the zero point moved by 128: the same real values as the
  // .tflite's int8, in the form ONNX Runtime's quantiser writes by default
  // and fuses on every CPU (its int8 activations need VNNI or Arm to fuse
  // where a tensor has several readers).
  uint8_t z = uint8_t(p.zeroPoint + 128);
  std::string zero = addRawInitializer(name + "_zero_point", {},
                                       onnx::TensorProto::UINT8, &z, 1);
  std::string q = uniqueName(name + "_quantized");
  std::string dq = uniqueName(name + "_dequantized");
  addNode("QuantizeLinear", uniqueName(name + "_QuantizeLinear"),
          {name, scale, zero}, {q});
  addNode("DequantizeLinear", uniqueName(name + "_DequantizeLinear"),
          {q, scale, zero}, {dq});
  return dq;
}

/// `w` with 7-bit weights at twice the scale (ONNXExportOptions::reduceRange).
static QdqWeights reducedRange(const QdqWeights &w) {
  QdqWeights r = w;
  for (int8_t &q : r.weights)
    q = int8_t(q >= 0 ? (q + 1) / 2 : -((-q + 1) / 2));
  for (float &s : r.weightScales)
    s *= 2.0f;
  for (size_t c = 0; c < r.bias.size(); ++c) {
    r.biasScales[c] *= 2.0f;
    int64_t b = r.bias[c];
    r.bias[c] = int32_t(b >= 0 ? (b + 1) / 2 : -((-b + 1) / 2));
  }
  return r;
}

std::string Exporter::dequantizeLinear(StringRef hint, ArrayRef<int64_t> shape,
                                       int32_t type, const void *data,
                                       size_t elementBytes,
                                       ArrayRef<float> scales) {
  const int64_t channels = scales.size();
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::string values = addRawInitializer(hint.str() + "_quantized", shape, type,
                                         data, n * elementBytes);
  std::string scale =
      addRawInitializer(hint.str() + "_scale", {channels},
                        onnx::TensorProto::FLOAT, scales.data(), channels * 4);
  std::vector<uint8_t> zeros(channels * elementBytes, 0);
  std::string zero = addRawInitializer(hint.str() + "_zero_point", {channels},
                                       type, zeros.data(), zeros.size());
  std::string out = uniqueName(hint.str() + "_dequantized");
  addInt(addNode("DequantizeLinear",
                 uniqueName(hint.str() + "_DequantizeLinear"),
                 {values, scale, zero}, {out}),
         "axis", 0);
  return out;
}

std::string Exporter::dequantizedWeights(StringRef hint, const QdqWeights &w) {
  return dequantizeLinear(hint, w.shape, onnx::TensorProto::INT8,
                          w.weights.data(), 1, w.weightScales);
}

std::string Exporter::dequantizedBias(StringRef hint, const QdqWeights &w) {
  return dequantizeLinear(hint, {int64_t(w.bias.size())},
                          onnx::TensorProto::INT32, w.bias.data(), 4,
                          w.biasScales);
}

void Exporter::quantizeResult(Operation &op) {
  if (!options.int8 || op.getNumResults() != 1)
    return;
  Value v = op.getResult(0);
  if (auto it = fusedInto.find(&op); it != fusedInto.end()) {
    names[v] = qdq(names[v], it->second);
    return;
  }
  std::string name = nodeName(&op);
  if (ambiguous.contains(name))
    return;
  auto found = options.int8->activations.find(name);
  if (found == options.int8->activations.end())
    return;
  if (v.hasOneUse()) {
    Operation *user = *v.user_begin();
    if (isa<ReluOp, ClipOp>(user) &&
        !options.int8->activations.count(nodeName(user))) {
      fusedInto[user] = found->second;
      return;
    }
  }
  names[v] = qdq(names[v], found->second);
}

/// Whether `w` holds weights and (if any) a bias for a layer of weight
/// shape `shape` and `channels` outputs.
static bool fits(const QdqWeights &w, ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return ArrayRef<int64_t>(w.shape) == shape && int64_t(w.weights.size()) == n &&
         int64_t(w.weightScales.size()) == shape[0] &&
         (w.bias.empty() || (int64_t(w.bias.size()) == shape[0] &&
                             w.biasScales.size() == w.bias.size()));
}

const QdqLayer *Exporter::quantizedLayer(Operation &op) {
  if (!options.int8 || !isa<Conv2DOp, LinearOp>(op))
    return nullptr;
  std::string name = nodeName(&op);
  auto it = options.int8->layers.find(name);
  if (it == options.int8->layers.end() || ambiguous.contains(name) ||
      !names.count(op.getOperand(0)))
    return nullptr;
  auto shape = cast<RankedTensorType>(op.getOperand(1).getType()).getShape();
  const QdqLayer &layer = it->second;
  if (!fits(layer.kernel, shape) || layer.kernel.bias.empty())
    return nullptr;
  if (layer.taps) {
    auto conv = dyn_cast<Conv2DOp>(op);
    if (!conv || !fits(*layer.taps, {shape[0], 1, 1, 1}) ||
        layer.taps->bias.empty())
      return nullptr;
  }
  return &layer;
}

LogicalResult Exporter::exportQuantizedLayer(Operation &op,
                                             const QdqLayer &given) {
  QdqLayer reduced;
  if (options.reduceRange) {
    reduced = given;
    reduced.kernel = reducedRange(given.kernel);
    if (given.taps)
      reduced.taps = reducedRange(*given.taps);
  }
  const QdqLayer &layer = options.reduceRange ? reduced : given;
  std::string name = uniqueName(nodeName(&op));
  std::string x = names[op.getOperand(0)];
  std::string w = dequantizedWeights(name + ".weight", layer.kernel);
  std::string b = dequantizedBias(name + ".bias", layer.kernel);
  std::string out = uniqueName(name + "_out");
  if (isa<LinearOp>(op)) {
    addInt(addNode("Gemm", name, {x, w, b}, {out}), "transB", 1);
    names[op.getResult(0)] = out;
    return success();
  }
  auto conv = cast<Conv2DOp>(op);
  auto attributes = [&](onnx::NodeProto *node) {
    copyAttributes(&op, node);
    addInts(node, "kernel_shape", {conv.getKernelH(), conv.getKernelW()});
  };
  if (!layer.taps) {
    attributes(addNode("Conv", name, {x, w, b}, {out}));
    names[op.getResult(0)] = out;
    return success();
  }
  // y = conv(x, W - T) + T x (IdentitySplit.h), each term int8.
  std::string kernel = uniqueName(name + "_kernel");
  attributes(addNode("Conv", uniqueName(name + ".kernel"), {x, w, b}, {kernel}));
  std::string taps = uniqueName(name + "_identity");
  onnx::NodeProto *dw = addNode(
      "Conv", uniqueName(name + ".identity"),
      {x, dequantizedWeights(name + ".identity_weight", *layer.taps),
       dequantizedBias(name + ".identity_bias", *layer.taps)},
      {taps});
  addInt(dw, "group", layer.taps->shape[0]);
  addInts(dw, "kernel_shape", {1, 1});
  addNode("Add", name, {qdq(kernel, layer.kernelOutput), qdq(taps, layer.tapsOutput)},
          {out});
  names[op.getResult(0)] = out;
  return success();
}

LogicalResult Exporter::run(std::string &out) {
  func::FuncOp func;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal() && (!func || f.getSymName() == "main"))
      func = f;
  if (!func)
    return module.emitError("ONNX export: the module has no function");

  // The opset of the import; for a module from elsewhere, 14 (what PyTorch
  // 1.13 writes by default), or 17 when it holds a layer norm.
  int64_t irVersion = 8;
  opset = 14;
  if (auto a = module->getAttrOfType<IntegerAttr>(kONNXOpsetAttr))
    opset = a.getInt();
  else if (!func.getOps<LayerNormOp>().empty())
    opset = 17;
  if (auto a = module->getAttrOfType<IntegerAttr>(kONNXIRVersionAttr))
    irVersion = a.getInt();
  // Per-axis DequantizeLinear (int8 weights per output channel) is opset 13.
  if (options.int8)
    opset = std::max<int64_t>(opset, 13);
  model.set_ir_version(irVersion);
  model.set_producer_name("mobileone");
  model.set_producer_version("0.1");
  onnx::OperatorSetIdProto *o = model.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  graph = model.mutable_graph();
  graph->set_name(func.getSymName().str());

  if (Operation *breaker = analyseBatch(func, batched)) {
    breaker->emitWarning("ONNX export: the batch dimension stays fixed at ")
        << cast<RankedTensorType>(func.getArgument(0).getType()).getDimSize(0)
        << ": this op does not keep dimension 0 as the batch";
    batched.clear();
  }
  if (options.int8) {
    // An op name two ops share cannot say which tensor is whose.
    llvm::StringSet<> seen;
    // (Constants become initializers, not nodes: a merged kernel's
    // weights carry its conv's name.)
    for (Operation &op : func.getBody().front().without_terminator())
      if (!op.hasTrait<OpTrait::ConstantLike>() &&
          !seen.insert(nodeName(&op)).second)
        ambiguous.insert(nodeName(&op));
  }
  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return func.emitError("ONNX export: expected static f32 tensor inputs");
    std::string name = "input";
    if (auto n = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                   kONNXNameAttr))
      name = n.str();
    name = uniqueName(name);
    names[arg] = name;
    onnx::ValueInfoProto *info = graph->add_input();
    info->set_name(name);
    StringRef batch;
    if (batched.contains(arg)) {
      batch =
          func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kONNXBatchAttr)
              .getValue();
      batchName = batch.str();
    }
    // A FLOAT16 input of the imported model stays one: cast to float32 at
    // the start (the deployed model computes in float32).
    const bool half = isHalf(func.getArgAttrOfType<StringAttr>(
        arg.getArgNumber(), kONNXTypeAttr));
    setTensorType(info, type.getShape(), batch, false, half);
    if (half) {
      names[arg] = uniqueName(name + "_float");
      castTo(onnx::TensorProto::FLOAT, name, names[arg]);
    }
    if (options.int8)
      if (auto q = options.int8->activations.find(name);
          q != options.int8->activations.end())
        names[arg] = qdq(name, q->second);
  }

  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator())
    if (failed(exportOp(op)))
      return failure();

  Operation *ret = body.getTerminator();
  for (auto [i, v] : llvm::enumerate(ret->getOperands())) {
    std::string name = "output";
    if (auto n = func.getResultAttrOfType<StringAttr>(i, kONNXNameAttr))
      name = n.str();
    FailureOr<std::string> produced = nameOf(v, name);
    if (failed(produced))
      return failure();
    // The graph output keeps its imported name: rename the producing node's
    // output, or add an Identity when the value is an input or initializer;
    // a FLOAT16 output of the imported model is cast back to float16.
    std::string outName = *produced;
    const bool half =
        isHalf(func.getResultAttrOfType<StringAttr>(i, kONNXTypeAttr));
    if (half) {
      outName = used.contains(name) ? uniqueName(name + "_half") : name;
      used.insert(outName);
      castTo(onnx::TensorProto::FLOAT16, *produced, outName);
    } else if (outName != name && !used.contains(name)) {
      onnx::NodeProto *producer = nullptr;
      for (onnx::NodeProto &node : *graph->mutable_node())
        for (const std::string &o : node.output())
          if (o == outName)
            producer = &node;
      used.insert(name);
      if (producer) {
        for (onnx::NodeProto &node : *graph->mutable_node()) {
          for (std::string &o : *node.mutable_output())
            if (o == outName)
              o = name;
          for (std::string &in : *node.mutable_input())
            if (in == outName)
              in = name;
        }
        names[v] = name;
      } else {
        addNode("Identity", uniqueName(name + ".identity"), {outName}, {name});
      }
      outName = name;
    }
    onnx::ValueInfoProto *info = graph->add_output();
    info->set_name(outName);
    auto type = cast<RankedTensorType>(v.getType());
    setTensorType(info, type.getShape(),
                  batched.contains(v) ? StringRef(batchName) : StringRef(),
                  type.getElementType().isInteger(64), half);
  }

  if (!halfError.empty())
    return func.emitError("ONNX export, --precision fp16: ") << halfError;
  // Debian's ONNX library (1.12) knows IR version 8 and opsets up to 17;
  // its checker rejects anything newer, so newer models skip it (the test
  // suite runs them in ONNX Runtime instead).
  try {
    if (irVersion <= kCheckerMaxIRVersion && opset <= kCheckerMaxOpset)
      onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    return func.emitError("ONNX export produced an invalid model (this is a "
                          "bug): ")
           << e.what();
  }
  // The model holds its own copy of every weight now.
  if (options.consumeModule)
    releaseWeights(weightsOf({module}), options.liveModules);
  if (!model.SerializeToString(&out))
    return func.emitError("ONNX export: the model is too large to serialise");
  return success();
}

} // namespace

LogicalResult mobileone::exportONNX(ModuleOp module, std::string &out,
                                   const ONNXExportOptions &options) {
  return Exporter(module, options).run(out);
}
