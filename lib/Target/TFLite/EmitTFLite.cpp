//===- EmitTFLite.cpp - deploy-time modules as TFLite FlatBuffers ---------===//
//
// Walks the entry function once, in order, appending tensors, buffers and
// operators. Activations are NHWC; weights are re-laid out here: conv
// filters OHWI, depthwise filters [1, KH, KW, C * M]. A conv whose only user
// is a ReLU carries it as its fused activation. PyTorch's symmetric padding
// becomes SAME when it equals TFLite's SAME split, VALID when zero, and an
// explicit PAD op otherwise (stride 2 on even sizes).
//
//===----------------------------------------------------------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Layout.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Target/TFLite.h"
#include "mobileone/Target/TFLite/schema_generated.h"
#include "mobileone/Transforms/BranchKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::mobileone;
namespace fb = flatbuffers;

namespace {

class Writer {
public:
  LogicalResult run(ModuleOp module, llvm::raw_ostream &os);

private:
  LogicalResult emit(Operation &op);
  LogicalResult emitConv(Conv2DOp conv);
  LogicalResult emitBinary(Operation &op, bool multiply);

  /// The source op's name (its ONNX node or module path); tensor names made
  /// from it are uniqued by addTensor.
  static std::string nameOf(Operation *op) {
    if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
      return loc.getName().str();
    return op->getName().stripDialect().str();
  }
  std::string unique(StringRef base) {
    std::string name = base.str();
    for (int i = 1; usedNames.contains(name); ++i)
      name = base.str() + "_" + std::to_string(i);
    usedNames.insert(name);
    return name;
  }
  int32_t addTensor(ArrayRef<int64_t> shape, StringRef name,
                    tflite::TensorType type = tflite::TensorType_FLOAT32,
                    uint32_t buffer = 0) {
    std::vector<int32_t> dims(shape.begin(), shape.end());
    tensors.push_back(tflite::CreateTensorDirect(fbb, &dims, type, buffer,
                                                 unique(name).c_str()));
    return tensors.size() - 1;
  }
  uint32_t addBuffer(const void *data, size_t bytes) {
    fbb.ForceVectorAlignment(bytes, 1, 16);
    auto vec = fbb.CreateVector(static_cast<const uint8_t *>(data), bytes);
    buffers.push_back(tflite::CreateBuffer(fbb, vec));
    return buffers.size() - 1;
  }
  int32_t addConstant(ArrayRef<int64_t> shape, ArrayRef<float> data,
                      StringRef name) {
    uint32_t buffer = addBuffer(data.data(), data.size() * sizeof(float));
    return addTensor(shape, name, tflite::TensorType_FLOAT32, buffer);
  }
  int32_t addInt32Constant(ArrayRef<int64_t> shape, ArrayRef<int32_t> data,
                           StringRef name) {
    uint32_t buffer = addBuffer(data.data(), data.size() * sizeof(int32_t));
    return addTensor(shape, name, tflite::TensorType_INT32, buffer);
  }
  uint32_t opcode(tflite::BuiltinOperator op) {
    auto [it, inserted] = opcodeIndex.try_emplace(op, opcodes.size());
    if (inserted)
      opcodes.push_back(op);
    return it->second;
  }
  void addOp(tflite::BuiltinOperator op, std::vector<int32_t> inputs,
             std::vector<int32_t> outputs,
             tflite::BuiltinOptions optionsType = tflite::BuiltinOptions_NONE,
             fb::Offset<void> options = 0) {
    operators.push_back(tflite::CreateOperatorDirect(
        fbb, opcode(op), &inputs, &outputs, optionsType, options));
  }
  std::optional<std::vector<float>> constantOf(Value v, Operation *user,
                                               StringRef what) {
    return requireConstantF32(v, user, "TFLite target", what);
  }
  /// The tensor holding `v`: an activation, or a constant made now (4-D
  /// constants re-laid out to NHWC, lower ranks lifted as NumPy would).
  FailureOr<int32_t> tensorOf(Value v, Operation *user, int64_t rank) {
    auto it = tensorIds.find(v);
    if (it != tensorIds.end()) {
      // NumPy broadcasting of a lower-rank activation would need a RESHAPE
      // to an NHWC-permuted shape; nothing we emit does this.
      if (static_cast<int64_t>(shapeOf(v).size()) != rank)
        return user->emitError("TFLite target cannot express broadcasting "
                               "a rank-")
               << shapeOf(v).size() << " activation against rank " << rank;
      return it->second;
    }
    auto type = cast<RankedTensorType>(v.getType());
    std::optional<std::vector<float>> data =
        constantOf(v, user,
                   "an element-wise operand that is not an "
                   "activation");
    if (!data)
      return failure();
    SmallVector<int64_t> shape(rank - type.getRank(), 1);
    llvm::append_range(shape, type.getShape());
    int32_t id;
    if (rank == 4)
      id = addConstant(permuteShape(shape, kNCHWToNHWC),
                       transposeElements(*data, shape, kNCHWToNHWC),
                       nameOf(user) + "/const");
    else
      id = addConstant(shape, *data, nameOf(user) + "/const");
    return id;
  }
  /// NHWC shape of a 4-D value, or the shape itself.
  static SmallVector<int64_t, 4> shapeOf(Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getRank() == 4)
      return permuteShape(t.getShape(), kNCHWToNHWC);
    return SmallVector<int64_t, 4>(t.getShape());
  }
  /// An activation output tensor for `v`; graph outputs keep the name the
  /// import recorded.
  int32_t define(Value v, StringRef name) {
    auto it = resultNames.find(v);
    int32_t id = addTensor(
        shapeOf(v), it != resultNames.end() ? StringRef(it->second) : name);
    tensorIds[v] = id;
    return id;
  }

  fb::FlatBufferBuilder fbb{1 << 20};
  std::vector<fb::Offset<tflite::Buffer>> buffers;
  std::vector<fb::Offset<tflite::Tensor>> tensors;
  std::vector<fb::Offset<tflite::Operator>> operators;
  std::vector<tflite::BuiltinOperator> opcodes;
  std::map<tflite::BuiltinOperator, uint32_t> opcodeIndex;
  DenseMap<Value, int32_t> tensorIds;
  DenseMap<Value, std::string> resultNames;
  llvm::StringSet<> usedNames;
};

/// TFLite's SAME split of the padding of one dimension.
std::pair<int64_t, int64_t> samePads(int64_t in, int64_t kernel, int64_t stride,
                                     int64_t dilation) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>(
      (out - 1) * stride + dilation * (kernel - 1) + 1 - in, 0);
  return {total / 2, total - total / 2};
}

LogicalResult Writer::emitConv(Conv2DOp conv) {
  FailureOr<int32_t> x = tensorOf(conv.getInput(), conv, 4);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> ws = conv.getWeight().getType().getShape();
  ArrayRef<int64_t> is = conv.getInput().getType().getShape();
  int64_t group = conv.getGroup(), inChannels = is[1];
  bool depthwise = group > 1 && group == inChannels;
  if (group > 1 && !depthwise)
    return conv.emitError("TFLite target cannot express a grouped "
                          "convolution (group = ")
           << group << " of " << inChannels
           << " channels); only dense and depthwise convolutions";
  std::vector<float> weights, bias;
  if (failed(requireConvConstants(conv, "TFLite target", weights, bias)))
    return failure();
  const std::vector<float> *w = &weights;
  std::string name = nameOf(conv);
  ArrayRef<int64_t> s = conv.getStrides(), d = conv.getDilations(),
                    p = conv.getPads();

  // Padding: VALID, SAME, or an explicit PAD in front of a VALID conv.
  tflite::Padding padding = tflite::Padding_VALID;
  if (llvm::any_of(p, [](int64_t v) { return v != 0; })) {
    auto sameH = samePads(is[2], ws[2], s[0], d[0]);
    auto sameW = samePads(is[3], ws[3], s[1], d[1]);
    ArrayRef<int64_t> os = conv.getType().getShape();
    bool same = sameH == std::make_pair(p[0], p[2]) &&
                sameW == std::make_pair(p[1], p[3]) &&
                os[2] == (is[2] + s[0] - 1) / s[0] &&
                os[3] == (is[3] + s[1] - 1) / s[1];
    if (same) {
      padding = tflite::Padding_SAME;
    } else {
      int32_t pads = addInt32Constant({4, 2},
                                      {0, 0, int32_t(p[0]), int32_t(p[2]),
                                       int32_t(p[1]), int32_t(p[3]), 0, 0},
                                      name + "/paddings");
      int32_t padded =
          addTensor({is[0], is[2] + p[0] + p[2], is[3] + p[1] + p[3], is[1]},
                    name + "/padded");
      addOp(tflite::BuiltinOperator_PAD, {*x, pads}, {padded},
            tflite::BuiltinOptions_PadOptions,
            tflite::CreatePadOptions(fbb).Union());
      *x = padded;
    }
  }

  // A ReLU that only this conv feeds is fused.
  Value out = conv.getOutput();
  auto activation = tflite::ActivationFunctionType_NONE;
  if (out.hasOneUse() && isa<ReluOp>(*out.user_begin())) {
    activation = tflite::ActivationFunctionType_RELU;
    out = out.user_begin()->getResult(0);
  }

  int32_t biasId = addConstant({ws[0]}, bias, name + "/bias");
  if (depthwise) {
    // [C * M, 1, KH, KW] -> [1, KH, KW, C * M]
    std::vector<float> filter = transposeElements(*w, ws, {1, 2, 3, 0});
    int32_t filterId =
        addConstant({1, ws[2], ws[3], ws[0]}, filter, name + "/filter");
    int32_t outId = define(out, name);
    addOp(tflite::BuiltinOperator_DEPTHWISE_CONV_2D, {*x, filterId, biasId},
          {outId}, tflite::BuiltinOptions_DepthwiseConv2DOptions,
          tflite::CreateDepthwiseConv2DOptions(fbb, padding, s[1], s[0],
                                               ws[0] / inChannels, activation,
                                               d[1], d[0])
              .Union());
  } else {
    std::vector<float> filter = transposeElements(*w, ws, kOIHWToOHWI);
    int32_t filterId =
        addConstant(permuteShape(ws, kOIHWToOHWI), filter, name + "/filter");
    int32_t outId = define(out, name);
    addOp(tflite::BuiltinOperator_CONV_2D, {*x, filterId, biasId}, {outId},
          tflite::BuiltinOptions_Conv2DOptions,
          tflite::CreateConv2DOptions(fbb, padding, s[1], s[0], activation,
                                      d[1], d[0])
              .Union());
  }
  return success();
}

LogicalResult Writer::emitBinary(Operation &op, bool multiply) {
  int64_t rank = cast<RankedTensorType>(op.getResult(0).getType()).getRank();
  FailureOr<int32_t> a = tensorOf(op.getOperand(0), &op, rank),
                     b = tensorOf(op.getOperand(1), &op, rank);
  if (failed(a) || failed(b))
    return failure();
  int32_t out = define(op.getResult(0), nameOf(&op));
  if (multiply)
    addOp(tflite::BuiltinOperator_MUL, {*a, *b}, {out},
          tflite::BuiltinOptions_MulOptions,
          tflite::CreateMulOptions(fbb).Union());
  else
    addOp(tflite::BuiltinOperator_ADD, {*a, *b}, {out},
          tflite::BuiltinOptions_AddOptions,
          tflite::CreateAddOptions(fbb).Union());
  return success();
}

LogicalResult Writer::emit(Operation &op) {
  if (isa<arith::ConstantOp>(op))
    return success();
  // A ReLU fused into the conv before it has its tensor already.
  if (isa<ReluOp>(op) && tensorIds.count(op.getResult(0)))
    return success();
  auto pool = [&](int32_t in, ArrayRef<int64_t> nhwc, StringRef name) {
    int32_t out = addTensor({nhwc[0], 1, 1, nhwc[3]}, name);
    addOp(tflite::BuiltinOperator_AVERAGE_POOL_2D, {in}, {out},
          tflite::BuiltinOptions_Pool2DOptions,
          tflite::CreatePool2DOptions(fbb, tflite::Padding_VALID, 1, 1, nhwc[2],
                                      nhwc[1])
              .Union());
    return out;
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](Conv2DOp conv) { return emitConv(conv); })
      .Case([&](ReluOp relu) -> LogicalResult {
        FailureOr<int32_t> x =
            tensorOf(relu.getInput(), &op, shapeOf(relu.getInput()).size());
        if (failed(x))
          return failure();
        addOp(tflite::BuiltinOperator_RELU, {*x},
              {define(op.getResult(0), nameOf(&op))});
        return success();
      })
      .Case([&](SigmoidOp sigmoid) -> LogicalResult {
        FailureOr<int32_t> x = tensorOf(sigmoid.getInput(), &op,
                                        shapeOf(sigmoid.getInput()).size());
        if (failed(x))
          return failure();
        addOp(tflite::BuiltinOperator_LOGISTIC, {*x},
              {define(op.getResult(0), nameOf(&op))});
        return success();
      })
      .Case([&](AddOp) { return emitBinary(op, false); })
      .Case([&](MulOp) { return emitBinary(op, true); })
      .Case([&](BatchNormOp bn) -> LogicalResult {
        FailureOr<int32_t> x = tensorOf(bn.getInput(), bn, 4);
        std::optional<math::BatchNorm> params = readBatchNorm(bn);
        if (!params)
          return bn.emitError("TFLite target: the batch_norm parameters must "
                              "be constants");
        if (failed(x))
          return failure();
        std::vector<double> scale, shift;
        math::batchNormAffine(*params, scale, shift);
        int64_t c = scale.size();
        std::string name = nameOf(bn);
        int32_t scaled = addTensor(shapeOf(bn.getOutput()), name + "/scaled");
        addOp(tflite::BuiltinOperator_MUL,
              {*x, addConstant({c}, math::toF32(scale), name + "/scale")},
              {scaled}, tflite::BuiltinOptions_MulOptions,
              tflite::CreateMulOptions(fbb).Union());
        addOp(tflite::BuiltinOperator_ADD,
              {scaled, addConstant({c}, math::toF32(shift), name + "/shift")},
              {define(bn.getOutput(), name)}, tflite::BuiltinOptions_AddOptions,
              tflite::CreateAddOptions(fbb).Union());
        return success();
      })
      .Case([&](GlobalAvgPoolOp gap) -> LogicalResult {
        FailureOr<int32_t> x = tensorOf(gap.getInput(), gap, 4);
        if (failed(x))
          return failure();
        std::string name = nameOf(gap);
        int32_t out = pool(*x, shapeOf(gap.getInput()), name);
        tensorIds[gap.getOutput()] = out;
        return success();
      })
      .Case([&](ReshapeOp r) -> LogicalResult {
        auto in = cast<RankedTensorType>(r.getInput().getType());
        auto outType = cast<RankedTensorType>(r.getType());
        // NHWC and NCHW agree on element order only when H = W = 1.
        auto spatial = [](RankedTensorType t) {
          return t.getRank() == 4 &&
                 (t.getDimSize(2) != 1 || t.getDimSize(3) != 1);
        };
        if (spatial(in) || spatial(outType))
          return r.emitError("TFLite target cannot express a reshape of a "
                             "spatial map (")
                 << in << " -> " << outType
                 << "): it would need a TRANSPOSE to NCHW order";
        FailureOr<int32_t> x = tensorOf(r.getInput(), r, in.getRank());
        if (failed(x))
          return failure();
        std::string name = nameOf(r);
        SmallVector<int64_t> shape = shapeOf(r.getOutput());
        std::vector<int32_t> dims(shape.begin(), shape.end());
        int32_t shapeId =
            addInt32Constant({int64_t(dims.size())}, dims, name + "/shape");
        addOp(tflite::BuiltinOperator_RESHAPE, {*x, shapeId},
              {define(r.getOutput(), name)},
              tflite::BuiltinOptions_ReshapeOptions,
              tflite::CreateReshapeOptionsDirect(fbb, &dims).Union());
        return success();
      })
      .Case([&](LinearOp lin) -> LogicalResult {
        FailureOr<int32_t> x = tensorOf(lin.getInput(), lin, 2);
        auto w = constantOf(lin.getWeight(), lin, "the linear weight");
        if (failed(x) || !w)
          return failure();
        ArrayRef<int64_t> ws = lin.getWeight().getType().getShape();
        std::vector<float> bias(ws[0], 0.0f);
        if (lin.getBias()) {
          auto b = constantOf(lin.getBias(), lin, "the linear bias");
          if (!b)
            return failure();
          bias = *b;
        }
        std::string name = nameOf(lin);
        int32_t wId = addConstant(ws, *w, name + "/weights");
        int32_t bId = addConstant({ws[0]}, bias, name + "/bias");
        addOp(tflite::BuiltinOperator_FULLY_CONNECTED, {*x, wId, bId},
              {define(lin.getOutput(), name)},
              tflite::BuiltinOptions_FullyConnectedOptions,
              tflite::CreateFullyConnectedOptions(fbb).Union());
        return success();
      })
      .Case([&](SqueezeExciteOp se) -> LogicalResult {
        FailureOr<int32_t> x = tensorOf(se.getInput(), se, 4);
        auto rw = constantOf(se.getReduceWeight(), se, "the SE weights");
        auto rb = constantOf(se.getReduceBias(), se, "the SE biases");
        auto ew = constantOf(se.getExpandWeight(), se, "the SE weights");
        auto eb = constantOf(se.getExpandBias(), se, "the SE biases");
        if (failed(x) || !rw || !rb || !ew || !eb)
          return failure();
        std::string name = nameOf(se);
        SmallVector<int64_t> nhwc = shapeOf(se.getInput());
        int64_t n = nhwc[0], c = se.getChannels(), r = se.getReducedChannels();
        int32_t pooled = pool(*x, nhwc, name + "/pool");
        // [R, C, 1, 1] is already [R, 1, 1, C] in memory.
        int32_t hidden = addTensor({n, 1, 1, r}, name + "/reduce");
        addOp(tflite::BuiltinOperator_CONV_2D,
              {pooled, addConstant({r, 1, 1, c}, *rw, name + "/reduce/filter"),
               addConstant({r}, *rb, name + "/reduce/bias")},
              {hidden}, tflite::BuiltinOptions_Conv2DOptions,
              tflite::CreateConv2DOptions(fbb, tflite::Padding_VALID, 1, 1,
                                          tflite::ActivationFunctionType_RELU)
                  .Union());
        int32_t expanded = addTensor({n, 1, 1, c}, name + "/expand");
        addOp(tflite::BuiltinOperator_CONV_2D,
              {hidden, addConstant({c, 1, 1, r}, *ew, name + "/expand/filter"),
               addConstant({c}, *eb, name + "/expand/bias")},
              {expanded}, tflite::BuiltinOptions_Conv2DOptions,
              tflite::CreateConv2DOptions(fbb, tflite::Padding_VALID, 1, 1)
                  .Union());
        int32_t gate = addTensor({n, 1, 1, c}, name + "/gate");
        addOp(tflite::BuiltinOperator_LOGISTIC, {expanded}, {gate});
        addOp(tflite::BuiltinOperator_MUL, {*x, gate},
              {define(se.getOutput(), name)}, tflite::BuiltinOptions_MulOptions,
              tflite::CreateMulOptions(fbb).Union());
        return success();
      })
      .Case([&](BlockOp) {
        return op.emitError("TFLite target cannot express 'mobileone.block' "
                            "(a training-time multi-branch block); run "
                            "--mobileone-reparameterize first");
      })
      .Default([&](Operation *other) {
        return other->emitError("TFLite target cannot express '")
               << other->getName() << "'";
      });
}

LogicalResult Writer::run(ModuleOp module, llvm::raw_ostream &os) {
  func::FuncOp func;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal() && (!func || f.getSymName() == "main"))
      func = f;
  if (!func)
    return module.emitError("TFLite target: the module has no function");

  // TFLite shapes and paddings are int32.
  WalkResult tooLarge = func.walk([&](Operation *op) {
    SmallVector<Type> types(op->getOperandTypes());
    llvm::append_range(types, op->getResultTypes());
    for (Type t : types)
      if (auto shaped = dyn_cast<RankedTensorType>(t))
        for (int64_t d : shaped.getShape())
          if (d > std::numeric_limits<int32_t>::max()) {
            op->emitError("TFLite target: dimension ")
                << d << " does not fit TFLite's int32 shapes";
            return WalkResult::interrupt();
          }
    if (auto conv = dyn_cast<Conv2DOp>(op)) {
      SmallVector<int64_t> fields(conv.getPads());
      llvm::append_range(fields, conv.getStrides());
      llvm::append_range(fields, conv.getDilations());
      for (int64_t v : fields)
        if (v > std::numeric_limits<int32_t>::max()) {
          op->emitError("TFLite target: a pad, stride or dilation does not "
                        "fit TFLite's int32 fields");
          return WalkResult::interrupt();
        }
    }
    return WalkResult::advance();
  });
  if (tooLarge.wasInterrupted())
    return failure();
  buffers.push_back(tflite::CreateBuffer(fbb)); // the empty sentinel
  std::vector<int32_t> inputs, outputs;
  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return func.emitError("TFLite target: expected static f32 inputs");
    std::string name = "input";
    if (auto n = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                   "mobileone.onnx_name"))
      name = n.str();
    inputs.push_back(define(arg, name));
  }
  Operation *terminator = func.getBody().front().getTerminator();
  for (auto [i, v] : llvm::enumerate(terminator->getOperands()))
    if (auto n = func.getResultAttrOfType<StringAttr>(i, "mobileone.onnx_name"))
      resultNames.try_emplace(v, n.str());
  for (Operation &op : func.getBody().front().without_terminator())
    if (failed(emit(op)))
      return failure();
  Operation *ret = func.getBody().front().getTerminator();
  for (Value v : ret->getOperands()) {
    auto it = tensorIds.find(v);
    if (it == tensorIds.end())
      return ret->emitError("TFLite target: a function result is not "
                            "computed by an op");
    outputs.push_back(it->second);
  }

  std::vector<fb::Offset<tflite::OperatorCode>> codes;
  for (tflite::BuiltinOperator op : opcodes)
    codes.push_back(tflite::CreateOperatorCode(
        fbb, static_cast<int8_t>(std::min<int32_t>(op, 127)), 0, 1, op));
  std::vector<fb::Offset<tflite::SubGraph>> subgraphs = {
      tflite::CreateSubGraphDirect(fbb, &tensors, &inputs, &outputs, &operators,
                                   func.getSymName().str().c_str())};
  auto model = tflite::CreateModelDirect(fbb, 3, &codes, &subgraphs,
                                         "mobileone", &buffers);
  tflite::FinishModelBuffer(fbb, model);

  // Check what we wrote, as a loader would.
  fb::Verifier verifier(fbb.GetBufferPointer(), fbb.GetSize(),
                        /*max_depth=*/64, /*max_tables=*/10000000);
  if (!tflite::VerifyModelBuffer(verifier))
    return func.emitError("TFLite target: the emitted FlatBuffer does not "
                          "verify (this is a bug)");
  os.write(reinterpret_cast<const char *>(fbb.GetBufferPointer()),
           fbb.GetSize());
  return success();
}

} // namespace

LogicalResult mobileone::emitTFLite(ModuleOp module, llvm::raw_ostream &os) {
  return Writer().run(module, os);
}
