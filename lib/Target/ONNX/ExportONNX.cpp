//===- ExportONNX.cpp - deploy-time modules to ONNX -----------------------===//
//
// One ONNX node per op (squeeze_excite expands to its six nodes), weights as
// raw-data initializers, the graph interface of the import restored from the
// attributes the importer recorded. The result is checked with
// onnx::checker before anything is written.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Target/ONNX.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cstring>

using namespace mlir;
using namespace mlir::mobileone;

namespace {

class Exporter {
public:
  explicit Exporter(ModuleOp module) : module(module) {}
  LogicalResult run(llvm::raw_ostream &os);

private:
  LogicalResult exportOp(Operation &op);
  std::string uniqueName(StringRef hint);
  std::string nodeName(Operation *op);
  /// The ONNX name of `v`; constants become initializers named after `hint`.
  FailureOr<std::string> nameOf(Value v, StringRef hint);
  onnx::NodeProto *addNode(StringRef opType, StringRef name,
                           ArrayRef<std::string> inputs,
                           ArrayRef<std::string> outputs);
  std::string addInitializer(StringRef hint, ArrayRef<int64_t> shape,
                             ArrayRef<float> data);
  std::string addInt64Initializer(StringRef hint, ArrayRef<int64_t> data);
  void setOutput(Value v, const std::string &name) { names[v] = name; }

  ModuleOp module;
  onnx::ModelProto model;
  onnx::GraphProto *graph = nullptr;
  llvm::DenseMap<Value, std::string> names;
  llvm::StringSet<> used;
};

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

void setTensorType(onnx::ValueInfoProto *info, ArrayRef<int64_t> shape) {
  onnx::TypeProto_Tensor *t = info->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto *s = t->mutable_shape();
  for (int64_t d : shape)
    s->add_dim()->set_dim_value(d);
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
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape)
    t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char *>(data.data()),
                              data.size() * sizeof(float)));
  return name;
}

std::string Exporter::addInt64Initializer(StringRef hint,
                                          ArrayRef<int64_t> data) {
  onnx::TensorProto *t = graph->add_initializer();
  std::string name = uniqueName(hint);
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(data.size());
  for (int64_t v : data)
    t->add_int64_data(v);
  return name;
}

FailureOr<std::string> Exporter::nameOf(Value v, StringRef hint) {
  auto it = names.find(v);
  if (it != names.end())
    return it->second;
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> data = getConstantF32(v, storage);
  if (!data) {
    if (Operation *def = v.getDefiningOp())
      return def->emitError("ONNX export: cannot read this constant "
                            "(expected f32 data)");
    return failure();
  }
  auto type = cast<RankedTensorType>(v.getType());
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

LogicalResult Exporter::exportOp(Operation &op) {
  if (isa<arith::ConstantOp>(op))
    return success(); // initializers are made on first use
  std::string name = uniqueName(nodeName(&op));
  // Names the op's operands; returns false on failure.
  auto operands =
      [&](ArrayRef<StringRef> roles) -> FailureOr<SmallVector<std::string>> {
    SmallVector<std::string> out;
    for (auto [i, v] : llvm::enumerate(op.getOperands())) {
      StringRef role = i < roles.size() ? roles[i] : "in";
      FailureOr<std::string> n = nameOf(v, name + "." + role.str());
      if (failed(n))
        return failure();
      out.push_back(*n);
    }
    return out;
  };
  auto simple = [&](StringRef opType) -> LogicalResult {
    FailureOr<SmallVector<std::string>> in = operands({});
    if (failed(in))
      return failure();
    std::string out = uniqueName(name + "_out");
    addNode(opType, name, *in, {out});
    setOutput(op.getResult(0), out);
    return success();
  };

  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](Conv2DOp conv) -> LogicalResult {
        FailureOr<SmallVector<std::string>> in =
            operands({"x", "weight", "bias"});
        if (failed(in))
          return failure();
        std::string out = uniqueName(name + "_out");
        onnx::NodeProto *node = addNode("Conv", name, *in, {out});
        addInts(node, "dilations", conv.getDilations());
        addInt(node, "group", conv.getGroup());
        addInts(node, "kernel_shape", {conv.getKernelH(), conv.getKernelW()});
        addInts(node, "pads", conv.getPads());
        addInts(node, "strides", conv.getStrides());
        setOutput(conv.getOutput(), out);
        return success();
      })
      .Case([&](BatchNormOp bn) -> LogicalResult {
        FailureOr<SmallVector<std::string>> in =
            operands({"x", "scale", "bias", "mean", "var"});
        if (failed(in))
          return failure();
        std::string out = uniqueName(name + "_out");
        onnx::NodeProto *node = addNode("BatchNormalization", name, *in, {out});
        addFloat(node, "epsilon", bn.getEpsilon().convertToDouble());
        setOutput(bn.getOutput(), out);
        return success();
      })
      .Case([&](ReluOp) { return simple("Relu"); })
      .Case([&](SigmoidOp) { return simple("Sigmoid"); })
      .Case([&](AddOp) { return simple("Add"); })
      .Case([&](MulOp) { return simple("Mul"); })
      .Case([&](GlobalAvgPoolOp) { return simple("GlobalAveragePool"); })
      .Case([&](ReshapeOp reshape) -> LogicalResult {
        FailureOr<std::string> in = nameOf(reshape.getInput(), name + ".in");
        if (failed(in))
          return failure();
        auto type = cast<RankedTensorType>(reshape.getType());
        std::string shape =
            addInt64Initializer(name + ".shape", type.getShape());
        std::string out = uniqueName(name + "_out");
        addNode("Reshape", name, {*in, shape}, {out});
        setOutput(reshape.getOutput(), out);
        return success();
      })
      .Case([&](LinearOp) -> LogicalResult {
        FailureOr<SmallVector<std::string>> in =
            operands({"x", "weight", "bias"});
        if (failed(in))
          return failure();
        std::string out = uniqueName(name + "_out");
        onnx::NodeProto *node = addNode("Gemm", name, *in, {out});
        addInt(node, "transB", 1);
        setOutput(op.getResult(0), out);
        return success();
      })
      .Case([&](SqueezeExciteOp se) -> LogicalResult {
        FailureOr<SmallVector<std::string>> in =
            operands({"x", "reduce.weight", "reduce.bias", "expand.weight",
                      "expand.bias"});
        if (failed(in))
          return failure();
        const SmallVector<std::string> &v = *in;
        std::string pooled = uniqueName(name + ".pool_out"),
                    reduced = uniqueName(name + ".reduce_out"),
                    relu = uniqueName(name + ".relu_out"),
                    expanded = uniqueName(name + ".expand_out"),
                    gate = uniqueName(name + ".sigmoid_out"),
                    out = uniqueName(name + "_out");
        addNode("GlobalAveragePool", name + ".pool", {v[0]}, {pooled});
        for (auto [conv, in, w, b, o] :
             {std::make_tuple("reduce", pooled, v[1], v[2], reduced),
              std::make_tuple("expand", relu, v[3], v[4], expanded)}) {
          onnx::NodeProto *node =
              addNode("Conv", name + "." + conv, {in, w, b}, {o});
          addInts(node, "kernel_shape", {1, 1});
          if (std::string(conv) == "reduce")
            addNode("Relu", name + ".relu", {reduced}, {relu});
        }
        addNode("Sigmoid", name + ".sigmoid", {expanded}, {gate});
        addNode("Mul", name + ".mul", {v[0], gate}, {out});
        setOutput(se.getOutput(), out);
        return success();
      })
      .Case([&](BlockOp) {
        return op.emitError("ONNX export cannot express 'mobileone.block' "
                            "(a training-time multi-branch block); run "
                            "--mobileone-reparameterize first");
      })
      .Default([&](Operation *other) {
        return other->emitError("ONNX export cannot express '")
               << other->getName() << "'";
      });
}

LogicalResult Exporter::run(llvm::raw_ostream &os) {
  func::FuncOp func;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal() && (!func || f.getSymName() == "main"))
      func = f;
  if (!func)
    return module.emitError("ONNX export: the module has no function");

  int64_t opset = 14, irVersion = 8;
  if (auto a = module->getAttrOfType<IntegerAttr>(kONNXOpsetAttr))
    opset = a.getInt();
  if (auto a = module->getAttrOfType<IntegerAttr>(kONNXIRVersionAttr))
    irVersion = a.getInt();
  model.set_ir_version(irVersion);
  model.set_producer_name("mobileone");
  model.set_producer_version("0.1");
  onnx::OperatorSetIdProto *o = model.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  graph = model.mutable_graph();
  graph->set_name(func.getSymName().str());

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
    setTensorType(info, type.getShape());
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
    // output, or add an Identity when the value is an input or initializer.
    std::string outName = *produced;
    if (outName != name && !used.contains(name)) {
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
    setTensorType(info, cast<RankedTensorType>(v.getType()).getShape());
  }

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    return func.emitError("ONNX export produced an invalid model (this is a "
                          "bug): ")
           << e.what();
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return func.emitError("ONNX export: the model is too large to serialise");
  os.write(bytes.data(), bytes.size());
  return success();
}

} // namespace

LogicalResult mobileone::exportONNX(ModuleOp module, llvm::raw_ostream &os) {
  return Exporter(module).run(os);
}
