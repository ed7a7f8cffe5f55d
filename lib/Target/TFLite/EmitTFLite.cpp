//===- EmitTFLite.cpp - deploy-time modules as TFLite FlatBuffers ---------===//
//
// TFLite is emitted from the one lowering path: the module is lowered by
// convert-mobileone-to-tosa{target=tflite} (layout resolved, decompositions
// done, transposes cancelled), and each op left maps to one TFLite builtin
// (`Writer::emit`, one entry per op). Tensors have the shapes of the IR;
// the lowering makes 4-D graph inputs and outputs NHWC. Patterns recognised
// on the way:
//  - a conv whose only user is a ReLU/ReLU6 clamp carries it as its fused
//    activation;
//  - padding equal to TFLite's SAME split is SAME, zero is VALID, anything
//    else an explicit PAD (PADV2 with -FLT_MAX before a max pool);
//  - the slice / conv / concat of a grouped convolution is one grouped
//    CONV_2D (filter [OC, KH, KW, IC / groups]).
//
//===----------------------------------------------------------------------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Layout.h"
#include "mobileone/Math/Resize.h"
#include "mobileone/Runtime/Runtime.h"
#include "mobileone/Support/Half.h"
#include "mobileone/Support/Limits.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Target/TFLite.h"
#include "mobileone/Target/TFLite/schema_generated.h"
#include "Graph.h"
#include "Equalize.h"
#include "IdentitySplit.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>
#include <map>

using namespace mlir;
using namespace mlir::mobileone;
namespace fb = flatbuffers;
using tflite::BuiltinOperator;
using tflite::BuiltinOptions;

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

std::optional<SmallVector<int64_t>> intsOf(Value v) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(x.getSExtValue());
  return out;
}

/// Builds the FlatBuffer inside a std::string, so that the finished model
/// is handed over without a copy (the builder's own buffer would be copied
/// into the caller's: 60 MB more at the peak for MobileOne-S4). The builder
/// makes one buffer and grows it; this allocator keeps it.
class StringAllocator : public fb::Allocator {
public:
  uint8_t *allocate(size_t size) override {
    if (ours)
      return new uint8_t[size];
    bytes.assign(size, '\0');
    ours = reinterpret_cast<uint8_t *>(bytes.data());
    return ours;
  }
  void deallocate(uint8_t *p, size_t) override {
    if (p == ours)
      ours = nullptr; // kept in `bytes` until taken
    else
      delete[] p;
  }
  uint8_t *reallocate_downward(uint8_t *old, size_t oldSize, size_t newSize,
                               size_t inUseBack, size_t inUseFront) override {
    if (old != ours)
      return fb::Allocator::reallocate_downward(old, oldSize, newSize,
                                                inUseBack, inUseFront);
    std::string grown(newSize, '\0');
    memcpy(grown.data() + newSize - inUseBack, old + oldSize - inUseBack,
           inUseBack);
    memcpy(grown.data(), old, inUseFront);
    bytes.swap(grown);
    ours = reinterpret_cast<uint8_t *>(bytes.data());
    return ours;
  }
  /// The finished buffer `data`..`data + size` (inside ours), moved to the
  /// front of the string and handed over.
  std::string take(const uint8_t *data, size_t size) {
    size_t offset = data - reinterpret_cast<const uint8_t *>(bytes.data());
    bytes.erase(0, offset);
    bytes.resize(size);
    return std::move(bytes);
  }

private:
  std::string bytes;
  uint8_t *ours = nullptr;
};

/// The bytes a FlatBuffer of the weights of `module` needs, and some room
/// for the rest (the builder grows by half when it is short).
size_t flatBufferEstimate(ModuleOp module, WeightPrecision weights) {
  size_t bytes = 1 << 20;
  const size_t perElement = weights == WeightPrecision::FP16   ? 2
                            : weights == WeightPrecision::INT8 ? 1
                                                               : 4;
  module.walk([&](Operation *op) {
    if (op->hasTrait<OpTrait::ConstantLike>() && op->getNumResults() == 1)
      if (auto t = dyn_cast<RankedTensorType>(op->getResult(0).getType()))
        if (t.hasStaticShape())
          bytes += t.getNumElements() * perElement + 64;
  });
  return bytes;
}

class Writer {
public:
  explicit Writer(const TFLiteOptions &options,
                  const std::vector<TensorRange> *ranges = nullptr,
                  size_t reserve = 1 << 20)
      : fbb(reserve, &allocator), options(options), ranges(ranges) {}
  /// The model as FlatBuffer bytes in `out`.
  LogicalResult run(ModuleOp module, std::string &out);

private:
  LogicalResult emit(Operation &op);
  LogicalResult emitConv(Operation *conv, bool depthwise);
  LogicalResult emitGroupedConv(tosa::ConcatOp concat);
  LogicalResult emitPool(Operation *op, bool max);
  LogicalResult emitTransposeConv(tosa::TransposeConv2DOp conv);
  LogicalResult emitResize(tosa::ResizeOp resize);
  LogicalResult emitClamp(tosa::ClampOp clamp);
  /// An explicit PAD (PADV2 with `value`) of NHWC `x` by TOSA `pad`
  /// [top, bottom, left, right]; the padded tensor.
  int32_t explicitPad(int32_t x, ArrayRef<int64_t> is, ArrayRef<int64_t> pad,
                      StringRef name, std::optional<float> value);
  /// The activation a single-user clamp after `out` fuses into its producer
  /// (`out` becomes the clamp's result), or NONE.
  tflite::ActivationFunctionType fuseActivation(Value &out);

  static std::string nameOf(Operation *op) { return tfl::opName(op); }
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
    tfl::TensorRecord t;
    t.shape.assign(shape.begin(), shape.end());
    t.type = type;
    t.buffer = buffer;
    t.name = unique(name);
    t.origin = name.str();
    graph.tensors.push_back(std::move(t));
    return graph.tensors.size() - 1;
  }
  /// `borrow`: `data` is a weight blob of the module being emitted (what
  /// getConstantF32 returns when it leaves its storage empty), referred to
  /// until serialisation instead of copied.
  int32_t addConstant(ArrayRef<int64_t> shape, ArrayRef<float> data,
                      StringRef name, bool borrow = false) {
    if (options.weights == WeightPrecision::FP16 && data.size() >= 16)
      return addHalfConstant(shape, data, name);
    uint32_t buffer =
        graph.addBuffer(data.data(), data.size() * sizeof(float), borrow);
    return addTensor(shape, name, tflite::TensorType_FLOAT32, buffer);
  }
  /// A FLOAT16 constant and the DEQUANTIZE that widens it: the float32
  /// tensor the reading op takes.
  int32_t addHalfConstant(ArrayRef<int64_t> shape, ArrayRef<float> data,
                          StringRef name) {
    std::vector<uint16_t> half(data.size());
    for (size_t i = 0; i < data.size(); ++i) {
      half[i] = toHalf(data[i]);
      if ((half[i] & 0x7C00u) == 0x7C00u && std::isfinite(data[i]) &&
          halfError.empty())
        halfError = "weight '" + name.str() + "' holds " +
                    std::to_string(data[i]) +
                    ", beyond float16's range (65504): compile it with "
                    "--precision fp32";
    }
    uint32_t buffer =
        graph.addBuffer(half.data(), half.size() * sizeof(uint16_t));
    int32_t stored = addTensor(shape, name.str() + "/fp16",
                               tflite::TensorType_FLOAT16, buffer);
    int32_t widened = addTensor(shape, name);
    addOp(tflite::BuiltinOperator_DEQUANTIZE, {stored}, {widened});
    return widened;
  }
  int32_t addInt32Constant(ArrayRef<int64_t> shape, ArrayRef<int64_t> data,
                           StringRef name) {
    std::vector<int32_t> v(data.begin(), data.end());
    uint32_t buffer = graph.addBuffer(v.data(), v.size() * sizeof(int32_t));
    return addTensor(shape, name, tflite::TensorType_INT32, buffer);
  }
  void addOp(BuiltinOperator op, std::vector<int32_t> inputs,
             std::vector<int32_t> outputs,
             BuiltinOptions optionsType = tflite::BuiltinOptions_NONE,
             fb::Offset<void> options = 0) {
    graph.ops.push_back({op, std::move(inputs), std::move(outputs),
                         optionsType, options});
  }
  /// The graph as a FlatBuffer (tensors no operator or graph interface
  /// refers to, and their buffers, left out).
  LogicalResult serialize(func::FuncOp func, std::string &out);

public:
  /// After run: the graph's tensor index of each tensor in the file.
  std::vector<int32_t> fileIndex;
  size_t graphTensors() const { return graph.tensors.size(); }
  bool isConstant(size_t t) const { return graph.isConstant(int32_t(t)); }
  const std::string &originOf(size_t t) const { return graph.tensors[t].origin; }

private:
  /// The tensor of `v`: an activation already defined, or a constant
  /// written now (once per value).
  FailureOr<int32_t> tensorOf(Value v, Operation *user) {
    auto it = tensorIds.find(v);
    if (it != tensorIds.end())
      return it->second;
    SmallVector<float> storage;
    if (std::optional<ArrayRef<float>> data = getConstantF32(v, storage)) {
      // A dense_resource blob is referred to, not copied (storage stays
      // empty).
      int32_t id = addConstant(shapeOf(v), *data, nameOf(user) + "/const",
                               /*borrow=*/storage.empty());
      tensorIds[v] = id;
      return id;
    }
    auto type = cast<ShapedType>(v.getType());
    if (type.hasStaticShape() && type.getNumElements() > kMaxTensorElements)
      return user->emitError("TFLite target: an operand of '")
             << user->getName() << "' has more than " << kMaxTensorElementsText
             << " elements, the limit per tensor";
    return user->emitError("TFLite target: an operand of '")
           << user->getName() << "' is neither computed nor a constant";
  }
  /// An activation output tensor for `v`; graph outputs keep the name the
  /// import recorded.
  int32_t define(Value v, StringRef name,
                 tflite::TensorType type = tflite::TensorType_FLOAT32) {
    auto it = resultNames.find(v);
    int32_t id = addTensor(
        shapeOf(v), it != resultNames.end() ? StringRef(it->second) : name,
        type);
    // A graph output is named after the interface, but computed by `name`.
    graph.tensors[id].origin = name.str();
    tensorIds[v] = id;
    return id;
  }
  /// The tensors of `op`'s operands.
  FailureOr<std::vector<int32_t>> operandTensors(Operation &op) {
    std::vector<int32_t> inputs;
    for (Value v : op.getOperands()) {
      FailureOr<int32_t> id = tensorOf(v, &op);
      if (failed(id))
        return failure();
      inputs.push_back(*id);
    }
    return inputs;
  }
  /// One TFLite op from the IR op's operands to its single result.
  LogicalResult simple(Operation &op, BuiltinOperator code,
                       BuiltinOptions optionsType = tflite::BuiltinOptions_NONE,
                       fb::Offset<void> options = 0) {
    FailureOr<std::vector<int32_t>> inputs = operandTensors(op);
    if (failed(inputs))
      return failure();
    addOp(code, *inputs, {define(op.getResult(0), nameOf(&op))}, optionsType,
          options);
    return success();
  }
  /// `op` with an extra int32 constant operand (perm, shape, axes, ...).
  LogicalResult withInts(Operation &op, BuiltinOperator code,
                         ArrayRef<int64_t> ints, ArrayRef<int64_t> intsShape,
                         StringRef what, BuiltinOptions optionsType,
                         fb::Offset<void> options) {
    FailureOr<int32_t> x = tensorOf(op.getOperand(0), &op);
    if (failed(x))
      return failure();
    int32_t c =
        addInt32Constant(intsShape, ints, nameOf(&op) + "/" + what.str());
    addOp(code, {*x, c}, {define(op.getResult(0), nameOf(&op))}, optionsType,
          options);
    return success();
  }

  /// Operator options; the whole model at the end.
  StringAllocator allocator;
  fb::FlatBufferBuilder fbb;
  tfl::Graph graph;
  DenseMap<Value, int32_t> tensorIds;
  TFLiteOptions options;
  /// Quantise to int8 with these ranges (by tensor index), or null.
  const std::vector<TensorRange> *ranges;
  /// The first weight --precision fp16 cannot store (reported after writing).
  std::string halfError;
  DenseMap<Value, std::string> resultNames;
  /// Ops emitted as part of another (a fused clamp, a grouped conv's parts).
  llvm::DenseSet<Operation *> absorbed;
  /// Concats that are grouped convolutions (their parts are absorbed).
  llvm::DenseSet<Operation *> groupedConcats;
  /// int8: convolutions whose identity taps stay out of their kernels.
  llvm::DenseMap<Operation *, tfl::IdentityTaps> identitySplits;
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

/// VALID, SAME, or neither (explicit padding needed) for TOSA pads
/// [top, bottom, left, right] of an NHWC window op.
std::optional<tflite::Padding>
paddingOf(ArrayRef<int64_t> in, ArrayRef<int64_t> out, ArrayRef<int64_t> kernel,
          ArrayRef<int64_t> stride, ArrayRef<int64_t> dilation,
          ArrayRef<int64_t> pad) {
  if (llvm::all_of(pad, [](int64_t v) { return v == 0; }))
    return tflite::Padding_VALID;
  auto h = samePads(in[1], kernel[0], stride[0], dilation[0]);
  auto w = samePads(in[2], kernel[1], stride[1], dilation[1]);
  if (h == std::make_pair(pad[0], pad[1]) &&
      w == std::make_pair(pad[2], pad[3]) &&
      out[1] == (in[1] + stride[0] - 1) / stride[0] &&
      out[2] == (in[2] + stride[1] - 1) / stride[1])
    return tflite::Padding_SAME;
  return std::nullopt;
}

/// The fused activation a clamp is, if any.
std::optional<tflite::ActivationFunctionType> activationOf(tosa::ClampOp c) {
  float lo = c.getMinFp().convertToFloat(), hi = c.getMaxFp().convertToFloat();
  if (lo == 0.0f && hi == std::numeric_limits<float>::max())
    return tflite::ActivationFunctionType_RELU;
  if (lo == 0.0f && hi == 6.0f)
    return tflite::ActivationFunctionType_RELU6;
  if (lo == -1.0f && hi == 1.0f)
    return tflite::ActivationFunctionType_RELU_N1_TO_1;
  return std::nullopt;
}

int32_t Writer::explicitPad(int32_t x, ArrayRef<int64_t> is,
                            ArrayRef<int64_t> pad, StringRef name,
                            std::optional<float> value) {
  std::string base = name.str();
  int32_t pads = addInt32Constant(
      {4, 2}, {0, 0, pad[0], pad[1], pad[2], pad[3], 0, 0}, base + "/paddings");
  int32_t padded = addTensor(
      {is[0], is[1] + pad[0] + pad[1], is[2] + pad[2] + pad[3], is[3]},
      base + "/padded");
  if (value)
    addOp(tflite::BuiltinOperator_PADV2,
          {x, pads, addConstant({1}, {*value}, base + "/value")}, {padded},
          tflite::BuiltinOptions_PadV2Options,
          tflite::CreatePadV2Options(fbb).Union());
  else
    addOp(tflite::BuiltinOperator_PAD, {x, pads}, {padded},
          tflite::BuiltinOptions_PadOptions,
          tflite::CreatePadOptions(fbb).Union());
  return padded;
}

tflite::ActivationFunctionType Writer::fuseActivation(Value &out) {
  if (out.hasOneUse())
    if (auto clamp = dyn_cast<tosa::ClampOp>(*out.user_begin()))
      if (std::optional<tflite::ActivationFunctionType> a =
              activationOf(clamp)) {
        absorbed.insert(clamp);
        out = clamp.getOutput();
        return *a;
      }
  return tflite::ActivationFunctionType_NONE;
}

LogicalResult Writer::emitConv(Operation *conv, bool depthwise) {
  Value input = conv->getOperand(0), weight = conv->getOperand(1),
        bias = conv->getOperand(2), out = conv->getResult(0);
  FailureOr<int32_t> x = tensorOf(input, conv);
  if (failed(x))
    return failure();
  const int32_t unpadded = *x;
  std::string name = nameOf(conv);
  ArrayRef<int64_t> pad = conv->getAttrOfType<DenseI64ArrayAttr>("pad"),
                    stride = conv->getAttrOfType<DenseI64ArrayAttr>("stride"),
                    dilation =
                        conv->getAttrOfType<DenseI64ArrayAttr>("dilation");
  ArrayRef<int64_t> ws = shapeOf(weight), is = shapeOf(input);
  SmallVector<int64_t> kernel = depthwise ? SmallVector<int64_t>{ws[0], ws[1]}
                                          : SmallVector<int64_t>{ws[1], ws[2]};
  std::optional<tflite::Padding> padding =
      paddingOf(is, shapeOf(out), kernel, stride, dilation, pad);
  if (!padding) {
    *x = explicitPad(*x, is, pad, name, std::nullopt);
    padding = tflite::Padding_VALID;
  }
  // A ReLU (ReLU6, ReLU_N1_TO_1) that only this conv feeds is fused.
  tflite::ActivationFunctionType activation = fuseActivation(out);
  SmallVector<float> wStorage, bStorage;
  std::optional<ArrayRef<float>> w = getConstantF32(weight, wStorage);
  std::optional<ArrayRef<float>> b = getConstantF32(bias, bStorage);
  if (!w || !b)
    return conv->emitError("TFLite target: the convolution's weights and "
                           "bias must be constants");
  int32_t biasId =
      addConstant(shapeOf(bias), *b, name + "/bias", bStorage.empty());
  int32_t outId = define(out, name);
  if (auto split = identitySplits.find(conv); split != identitySplits.end()) {
    // y = act(conv(x, W - T) + T x): the identity taps T as a 1x1
    // depthwise convolution of the unpadded input, the sum an ADD carrying
    // the activation (IdentitySplit.h).
    const std::vector<float> &taps = split->second.taps;
    const int64_t channels = taps.size();
    ArrayRef<int64_t> os = shapeOf(conv->getResult(0));
    int32_t kernelOut = addTensor(os, name + tfl::kKernelPart);
    int32_t tapsOut = addTensor(os, name + tfl::kIdentityPart);
    if (depthwise)
      addOp(tflite::BuiltinOperator_DEPTHWISE_CONV_2D,
            {*x, addConstant({1, ws[0], ws[1], ws[2] * ws[3]},
                             split->second.kernel, name + "/filter"),
             biasId},
            {kernelOut}, tflite::BuiltinOptions_DepthwiseConv2DOptions,
            tflite::CreateDepthwiseConv2DOptions(
                fbb, *padding, stride[1], stride[0], ws[3],
                tflite::ActivationFunctionType_NONE, dilation[1], dilation[0])
                .Union());
    else
      addOp(tflite::BuiltinOperator_CONV_2D,
            {*x, addConstant(ws, split->second.kernel, name + "/filter"),
             biasId},
            {kernelOut}, tflite::BuiltinOptions_Conv2DOptions,
            tflite::CreateConv2DOptions(fbb, *padding, stride[1], stride[0],
                                        tflite::ActivationFunctionType_NONE,
                                        dilation[1], dilation[0])
                .Union());
    std::vector<float> zeros(channels, 0.0f);
    addOp(tflite::BuiltinOperator_DEPTHWISE_CONV_2D,
          {unpadded,
           addConstant({1, 1, 1, channels}, taps, name + "/identity_taps"),
           addConstant({channels}, zeros, name + "/identity_bias")},
          {tapsOut}, tflite::BuiltinOptions_DepthwiseConv2DOptions,
          tflite::CreateDepthwiseConv2DOptions(
              fbb, tflite::Padding_VALID, 1, 1, 1,
              tflite::ActivationFunctionType_NONE, 1, 1)
              .Union());
    addOp(tflite::BuiltinOperator_ADD, {kernelOut, tapsOut}, {outId},
          tflite::BuiltinOptions_AddOptions,
          tflite::CreateAddOptions(fbb, activation).Union());
    return success();
  }
  if (depthwise) {
    // TOSA HWCM [KH, KW, C, M] is TFLite's [1, KH, KW, C * M] in memory.
    int32_t filterId = addConstant({1, ws[0], ws[1], ws[2] * ws[3]}, *w,
                                   name + "/filter", wStorage.empty());
    addOp(tflite::BuiltinOperator_DEPTHWISE_CONV_2D, {*x, filterId, biasId},
          {outId}, tflite::BuiltinOptions_DepthwiseConv2DOptions,
          tflite::CreateDepthwiseConv2DOptions(fbb, *padding, stride[1],
                                               stride[0], ws[3], activation,
                                               dilation[1], dilation[0])
              .Union());
  } else {
    int32_t filterId =
        addConstant(ws, *w, name + "/filter", wStorage.empty());
    addOp(tflite::BuiltinOperator_CONV_2D, {*x, filterId, biasId}, {outId},
          tflite::BuiltinOptions_Conv2DOptions,
          tflite::CreateConv2DOptions(fbb, *padding, stride[1], stride[0],
                                      activation, dilation[1], dilation[0])
              .Union());
  }
  return success();
}

/// concat(conv(slice(x, g)) for g in groups, axis 3), as the lowering writes
/// a grouped convolution: its convs in order, or empty.
SmallVector<tosa::Conv2DOp> groupedConvParts(tosa::ConcatOp concat) {
  SmallVector<tosa::Conv2DOp> convs;
  Value source;
  int64_t next = 0;
  for (Value part : concat.getInput1()) {
    auto conv = part.getDefiningOp<tosa::Conv2DOp>();
    auto slice =
        conv ? conv.getInput().getDefiningOp<tosa::SliceOp>() : tosa::SliceOp();
    if (!conv || !conv->hasOneUse() || !slice || !slice->hasOneUse() ||
        (source && slice.getInput() != source))
      return {};
    source = slice.getInput();
    ArrayRef<int64_t> start = slice.getStart(), size = slice.getSize();
    ArrayRef<int64_t> ws = shapeOf(conv.getWeight());
    if (start[0] || start[1] || start[2] || start[3] != next ||
        size[3] != ws[3])
      return {};
    if (!convs.empty() && (conv.getPad() != convs[0].getPad() ||
                           conv.getStride() != convs[0].getStride() ||
                           conv.getDilation() != convs[0].getDilation() ||
                           ws != shapeOf(convs[0].getWeight())))
      return {};
    next += size[3];
    convs.push_back(conv);
  }
  if (convs.size() < 2 || next != shapeOf(source)[3] || concat.getAxis() != 3)
    return {};
  return convs;
}

/// One grouped CONV_2D for the parts groupedConvParts found.
LogicalResult Writer::emitGroupedConv(tosa::ConcatOp concat) {
  SmallVector<tosa::Conv2DOp> convs = groupedConvParts(concat);
  Value source = convs[0].getInput().getDefiningOp<tosa::SliceOp>().getInput();
  // All parts are one conv: weights and biases concatenated along OC.
  std::vector<float> w, bias;
  for (tosa::Conv2DOp conv : convs) {
    SmallVector<float> ws, bs;
    std::optional<ArrayRef<float>> wd = getConstantF32(conv.getWeight(), ws);
    std::optional<ArrayRef<float>> bd = getConstantF32(conv.getBias(), bs);
    if (!wd || !bd)
      return concat.emitError("TFLite target: the convolution's weights and "
                              "bias must be constants");
    w.insert(w.end(), wd->begin(), wd->end());
    bias.insert(bias.end(), bd->begin(), bd->end());
  }
  FailureOr<int32_t> x = tensorOf(source, concat);
  if (failed(x))
    return failure();
  tosa::Conv2DOp first = convs[0];
  SmallVector<int64_t> ws(shapeOf(first.getWeight()));
  ws[0] *= convs.size();
  ArrayRef<int64_t> pad = first.getPad(), stride = first.getStride(),
                    dilation = first.getDilation();
  std::string name = nameOf(first);
  std::optional<tflite::Padding> padding =
      paddingOf(shapeOf(source), shapeOf(concat.getOutput()), {ws[1], ws[2]},
                stride, dilation, pad);
  if (!padding) {
    *x = explicitPad(*x, shapeOf(source), pad, name, std::nullopt);
    padding = tflite::Padding_VALID;
  }
  Value out = concat.getOutput();
  tflite::ActivationFunctionType activation = fuseActivation(out);
  int32_t filterId = addConstant(ws, w, name + "/filter");
  int32_t biasId = addConstant({ws[0]}, bias, name + "/bias");
  addOp(tflite::BuiltinOperator_CONV_2D, {*x, filterId, biasId},
        {define(out, name)}, tflite::BuiltinOptions_Conv2DOptions,
        tflite::CreateConv2DOptions(fbb, *padding, stride[1], stride[0],
                                    activation, dilation[1], dilation[0])
            .Union());
  return success();
}

LogicalResult Writer::emitPool(Operation *op, bool max) {
  Value input = op->getOperand(0);
  FailureOr<int32_t> x = tensorOf(input, op);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> kernel = op->getAttrOfType<DenseI64ArrayAttr>("kernel"),
                    stride = op->getAttrOfType<DenseI64ArrayAttr>("stride"),
                    pad = op->getAttrOfType<DenseI64ArrayAttr>("pad");
  ArrayRef<int64_t> is = shapeOf(input);
  std::string name = nameOf(op);
  std::optional<tflite::Padding> padding =
      paddingOf(is, shapeOf(op->getResult(0)), kernel, stride, {1, 1}, pad);
  if (!padding) {
    if (!max)
      return op->emitError("TFLite target cannot express average pooling "
                           "with padding other than SAME that the divisor "
                           "excludes");
    // Max pooling ignores padding: pad with the lowest float.
    *x = explicitPad(*x, is, pad, name, -std::numeric_limits<float>::max());
    padding = tflite::Padding_VALID;
  }
  const bool global = !max && *padding == tflite::Padding_VALID &&
                      kernel[0] == is[1] && kernel[1] == is[2];
  addOp(max ? tflite::BuiltinOperator_MAX_POOL_2D
            : tflite::BuiltinOperator_AVERAGE_POOL_2D,
        {*x}, {define(op->getResult(0), name)},
        tflite::BuiltinOptions_Pool2DOptions,
        tflite::CreatePool2DOptions(fbb, *padding, stride[1], stride[0],
                                    kernel[1], kernel[0])
            .Union());
  graph.ops.back().globalAverage = global;
  return success();
}

/// TRANSPOSE_CONV: VALID (no crop at the start) or SAME where TFLite's split
/// of the padding is TOSA's; otherwise the full output and a SLICE.
LogicalResult Writer::emitTransposeConv(tosa::TransposeConv2DOp conv) {
  FailureOr<int32_t> x = tensorOf(conv.getInput(), conv);
  if (failed(x))
    return failure();
  std::string name = nameOf(conv);
  ArrayRef<int64_t> pad = conv.getOutPad(), stride = conv.getStride();
  ArrayRef<int64_t> is = shapeOf(conv.getInput()),
                    ws = shapeOf(conv.getFilter()),
                    os = shapeOf(conv.getOutput());
  if (pad[0] > 0 || pad[2] > 0)
    return conv.emitError("TFLite target cannot express a transposed "
                          "convolution that pads the start of its output");
  SmallVector<float> wStorage, bStorage;
  std::optional<ArrayRef<float>> w = getConstantF32(conv.getFilter(), wStorage);
  std::optional<ArrayRef<float>> b = getConstantF32(conv.getBias(), bStorage);
  if (!w || !b)
    return conv.emitError("TFLite target: the transposed convolution's "
                          "weights and bias must be constants");
  auto sameStart = [&](int d) {
    int64_t total = std::max<int64_t>(
        (is[1 + d] - 1) * stride[d] + ws[1 + d] - os[1 + d], 0);
    return -pad[2 * d] == total / 2;
  };
  tflite::Padding padding = tflite::Padding_VALID;
  SmallVector<int64_t> full(os);
  if (pad[0] != 0 || pad[2] != 0) {
    if (sameStart(0) && sameStart(1)) {
      padding = tflite::Padding_SAME;
    } else {
      full[1] -= pad[0];
      full[2] -= pad[2];
    }
  }
  int32_t shapeId = addInt32Constant({4}, full, name + "/output_shape");
  int32_t filterId = addConstant(ws, *w, name + "/filter");
  int32_t biasId = addConstant({ws[0]}, *b, name + "/bias");
  bool crop = full != SmallVector<int64_t>(os);
  Value out = conv.getOutput();
  int32_t result = crop ? addTensor(full, name + "/full") : define(out, name);
  addOp(tflite::BuiltinOperator_TRANSPOSE_CONV, {shapeId, filterId, *x, biasId},
        {result}, tflite::BuiltinOptions_TransposeConvOptions,
        tflite::CreateTransposeConvOptions(fbb, padding, stride[1], stride[0])
            .Union());
  if (crop) {
    int32_t begin =
        addInt32Constant({4}, {0, -pad[0], -pad[2], 0}, name + "/begin");
    int32_t size = addInt32Constant({4}, os, name + "/size");
    addOp(tflite::BuiltinOperator_SLICE, {result, begin, size},
          {define(out, name + "/crop")}, tflite::BuiltinOptions_SliceOptions,
          tflite::CreateSliceOptions(fbb).Union());
  }
  return success();
}

/// RESIZE_NEAREST_NEIGHBOR or RESIZE_BILINEAR with the flags whose source
/// pixels are the tosa.resize's on both axes (math/Resize.h), or an error.
LogicalResult Writer::emitResize(tosa::ResizeOp resize) {
  FailureOr<int32_t> x = tensorOf(resize.getInput(), resize);
  if (failed(x))
    return failure();
  using namespace math;
  bool nearest = resize.getMode() == "NEAREST_NEIGHBOR";
  ArrayRef<int64_t> is = shapeOf(resize.getInput()),
                    os = shapeOf(resize.getOutput()),
                    scale = resize.getScale(), offset = resize.getOffset();
  struct Flags {
    bool alignCorners, halfPixel;
    ResizeCoordinates coords;
  };
  // TFLite's three coordinate rules in ONNX's terms; its nearest rounds
  // floor(v) without flags, half up (floor(v + 1/2), round()) with them.
  const Flags candidates[] = {
      {false, false, ResizeCoordinates::Asymmetric},
      {false, true, ResizeCoordinates::HalfPixel},
      {true, false, ResizeCoordinates::AlignCorners},
  };
  for (const Flags &f : candidates) {
    bool all = true;
    for (int d = 0; d < 2 && all; ++d) {
      NearestRounding rounding = f.alignCorners || f.halfPixel
                                     ? NearestRounding::RoundPreferCeil
                                     : NearestRounding::Floor;
      std::optional<RationalResize> want = rationalResize(
          nearest ? ResizeMode::Nearest : ResizeMode::Linear, f.coords,
          rounding, is[1 + d], os[1 + d],
          double(os[1 + d]) / double(is[1 + d]));
      all = want && sameSource(*want, {scale[2 * d], scale[2 * d + 1],
                                       offset[d]});
    }
    if (!all)
      continue;
    std::string name = nameOf(resize);
    int32_t size = addInt32Constant({2}, {os[1], os[2]}, name + "/size");
    int32_t y = define(resize.getOutput(), name);
    if (nearest)
      addOp(tflite::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR, {*x, size}, {y},
            tflite::BuiltinOptions_ResizeNearestNeighborOptions,
            tflite::CreateResizeNearestNeighborOptions(fbb, f.alignCorners,
                                                       f.halfPixel)
                .Union());
    else
      addOp(tflite::BuiltinOperator_RESIZE_BILINEAR, {*x, size}, {y},
            tflite::BuiltinOptions_ResizeBilinearOptions,
            tflite::CreateResizeBilinearOptions(fbb, f.alignCorners,
                                                f.halfPixel)
                .Union());
    return success();
  }
  return resize.emitError(
      "TFLite target cannot express this resize: TFLite derives the scale "
      "from the sizes and knows the asymmetric (nearest: floor), half-pixel "
      "(nearest: round half up) and align-corners (nearest: round) "
      "coordinates only; use mode and coordinate_transformation_mode of one "
      "of those, or the ONNX or TOSA target");
}

LogicalResult Writer::emitClamp(tosa::ClampOp clamp) {
  if (std::optional<tflite::ActivationFunctionType> a = activationOf(clamp)) {
    BuiltinOperator code = *a == tflite::ActivationFunctionType_RELU
                               ? tflite::BuiltinOperator_RELU
                           : *a == tflite::ActivationFunctionType_RELU6
                               ? tflite::BuiltinOperator_RELU6
                               : tflite::BuiltinOperator_RELU_N1_TO_1;
    return simple(*clamp, code);
  }
  // Any other range: MAXIMUM with the low bound, MINIMUM with the high.
  FailureOr<int32_t> x = tensorOf(clamp.getInput(), clamp);
  if (failed(x))
    return failure();
  std::string name = nameOf(clamp);
  float lo = clamp.getMinFp().convertToFloat(),
        hi = clamp.getMaxFp().convertToFloat();
  int32_t low = addTensor(shapeOf(clamp.getInput()), name + "/low");
  addOp(tflite::BuiltinOperator_MAXIMUM,
        {*x, addConstant({1}, {lo}, name + "/min")}, {low},
        tflite::BuiltinOptions_MaximumMinimumOptions,
        tflite::CreateMaximumMinimumOptions(fbb).Union());
  addOp(tflite::BuiltinOperator_MINIMUM,
        {low, addConstant({1}, {hi}, name + "/max")},
        {define(clamp.getOutput(), name)},
        tflite::BuiltinOptions_MaximumMinimumOptions,
        tflite::CreateMaximumMinimumOptions(fbb).Union());
  return success();
}

LogicalResult Writer::emit(Operation &op) {
  if (absorbed.contains(&op) || op.hasTrait<OpTrait::ConstantLike>())
    return success();
  auto ints = [&](Value v, StringRef what) -> FailureOr<SmallVector<int64_t>> {
    std::optional<SmallVector<int64_t>> i = intsOf(v);
    if (!i)
      return op.emitError("TFLite target: the ") << what << " must be constant";
    return *i;
  };
  auto binary = [&](BuiltinOperator code, BuiltinOptions type,
                    fb::Offset<void> options) {
    return simple(op, code, type, options);
  };
  // ADD, SUB, MUL with a ReLU (ReLU6, ReLU_N1_TO_1) that only they feed
  // fused (SE's gate and the block's ReLU in one pass).
  auto arithmetic = [&](BuiltinOperator code, BuiltinOptions type,
                        auto makeOptions) -> LogicalResult {
    FailureOr<std::vector<int32_t>> inputs = operandTensors(op);
    if (failed(inputs))
      return failure();
    Value out = op.getResult(0);
    tflite::ActivationFunctionType activation = fuseActivation(out);
    addOp(code, *inputs, {define(out, nameOf(&op))}, type,
          makeOptions(activation).Union());
    return success();
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](tosa::Conv2DOp c) { return emitConv(c, false); })
      .Case([&](tosa::DepthwiseConv2DOp c) { return emitConv(c, true); })
      .Case([&](tosa::ConcatOp c) -> LogicalResult {
        if (groupedConcats.contains(c))
          return emitGroupedConv(c);
        return simple(
            op, tflite::BuiltinOperator_CONCATENATION,
            tflite::BuiltinOptions_ConcatenationOptions,
            tflite::CreateConcatenationOptions(fbb, c.getAxis()).Union());
      })
      .Case([&](tosa::ClampOp c) { return emitClamp(c); })
      .Case([&](tosa::SigmoidOp) {
        return simple(op, tflite::BuiltinOperator_LOGISTIC);
      })
      .Case([&](tosa::TanhOp) {
        return simple(op, tflite::BuiltinOperator_TANH);
      })
      .Case([&](tosa::ExpOp) {
        return simple(op, tflite::BuiltinOperator_EXP,
                      tflite::BuiltinOptions_ExpOptions,
                      tflite::CreateExpOptions(fbb).Union());
      })
      .Case([&](tosa::NegateOp) {
        return simple(op, tflite::BuiltinOperator_NEG,
                      tflite::BuiltinOptions_NegOptions,
                      tflite::CreateNegOptions(fbb).Union());
      })
      .Case([&](tosa::RsqrtOp) {
        return simple(op, tflite::BuiltinOperator_RSQRT);
      })
      .Case([&](tosa::ReciprocalOp r) -> LogicalResult {
        FailureOr<int32_t> x = tensorOf(r.getInput1(), r);
        if (failed(x))
          return failure();
        int32_t one = addConstant({1}, {1.0f}, nameOf(r) + "/one");
        addOp(tflite::BuiltinOperator_DIV, {one, *x},
              {define(r.getOutput(), nameOf(r))},
              tflite::BuiltinOptions_DivOptions,
              tflite::CreateDivOptions(fbb).Union());
        return success();
      })
      .Case([&](tosa::AddOp) {
        return arithmetic(
            tflite::BuiltinOperator_ADD, tflite::BuiltinOptions_AddOptions,
            [&](auto a) { return tflite::CreateAddOptions(fbb, a); });
      })
      .Case([&](tosa::SubOp) {
        return arithmetic(
            tflite::BuiltinOperator_SUB, tflite::BuiltinOptions_SubOptions,
            [&](auto a) { return tflite::CreateSubOptions(fbb, a); });
      })
      .Case([&](tosa::MulOp) {
        return arithmetic(
            tflite::BuiltinOperator_MUL, tflite::BuiltinOptions_MulOptions,
            [&](auto a) { return tflite::CreateMulOptions(fbb, a); });
      })
      .Case([&](tosa::PowOp) {
        return binary(tflite::BuiltinOperator_POW,
                      tflite::BuiltinOptions_PowOptions,
                      tflite::CreatePowOptions(fbb).Union());
      })
      .Case([&](tosa::MaximumOp) {
        return binary(tflite::BuiltinOperator_MAXIMUM,
                      tflite::BuiltinOptions_MaximumMinimumOptions,
                      tflite::CreateMaximumMinimumOptions(fbb).Union());
      })
      .Case([&](tosa::MinimumOp) {
        return binary(tflite::BuiltinOperator_MINIMUM,
                      tflite::BuiltinOptions_MaximumMinimumOptions,
                      tflite::CreateMaximumMinimumOptions(fbb).Union());
      })
      .Case([&](tosa::TransposeConv2DOp c) { return emitTransposeConv(c); })
      .Case([&](tosa::ResizeOp r) { return emitResize(r); })
      .Case([&](tosa::ArgMaxOp a) -> LogicalResult {
        // ARG_MAX with int32 indices; the cast the lowering adds for ONNX's
        // int64 is absorbed (the TFLite interface says int32).
        FailureOr<int32_t> x = tensorOf(a.getInput(), a);
        if (failed(x))
          return failure();
        std::string name = nameOf(a);
        int32_t axis = addInt32Constant({1}, {int64_t(a.getAxis())},
                                        name + "/axis");
        Value out = a.getOutput();
        if (out.hasOneUse())
          if (auto c = dyn_cast<tosa::CastOp>(*out.user_begin());
              c && c.getType().getElementType().isInteger(64)) {
            absorbed.insert(c);
            out = c.getOutput();
          }
        int32_t y = define(out, name, tflite::TensorType_INT32);
        addOp(tflite::BuiltinOperator_ARG_MAX, {*x, axis}, {y},
              tflite::BuiltinOptions_ArgMaxOptions,
              tflite::CreateArgMaxOptions(fbb, tflite::TensorType_INT32)
                  .Union());
        return success();
      })
      .Case([&](tosa::AvgPool2dOp) { return emitPool(&op, false); })
      .Case([&](tosa::MaxPool2dOp) { return emitPool(&op, true); })
      .Case([&](tosa::FullyConnectedOp) {
        return simple(op, tflite::BuiltinOperator_FULLY_CONNECTED,
                      tflite::BuiltinOptions_FullyConnectedOptions,
                      tflite::CreateFullyConnectedOptions(fbb).Union());
      })
      .Case([&](tosa::MatMulOp) {
        return simple(op, tflite::BuiltinOperator_BATCH_MATMUL,
                      tflite::BuiltinOptions_BatchMatMulOptions,
                      tflite::CreateBatchMatMulOptions(fbb).Union());
      })
      .Case([&](tosa::ReshapeOp r) -> LogicalResult {
        ArrayRef<int64_t> shape = shapeOf(r.getOutput());
        std::vector<int32_t> dims(shape.begin(), shape.end());
        if (failed(withInts(op, tflite::BuiltinOperator_RESHAPE, shape,
                            {int64_t(shape.size())}, "shape",
                            tflite::BuiltinOptions_ReshapeOptions,
                            tflite::CreateReshapeOptionsDirect(fbb, &dims)
                                .Union())))
          return failure();
        // Indices (ARG_MAX's) stay int32 through a reshape.
        graph.tensors[tensorIds[r.getOutput()]].type =
            graph.tensors[tensorIds[r.getInput1()]].type;
        return success();
      })
      .Case([&](tosa::TransposeOp t) -> LogicalResult {
        FailureOr<SmallVector<int64_t>> perm =
            ints(t.getPerms(), "permutation");
        if (failed(perm))
          return failure();
        return withInts(op, tflite::BuiltinOperator_TRANSPOSE, *perm,
                        {int64_t(perm->size())}, "perm",
                        tflite::BuiltinOptions_TransposeOptions,
                        tflite::CreateTransposeOptions(fbb).Union());
      })
      .Case<tosa::ReduceSumOp, tosa::ReduceMaxOp>([&](auto r) {
        bool isMax = isa<tosa::ReduceMaxOp>(op);
        return withInts(op,
                        isMax ? tflite::BuiltinOperator_REDUCE_MAX
                              : tflite::BuiltinOperator_SUM,
                        {int64_t(r.getAxis())}, {1}, "axis",
                        tflite::BuiltinOptions_ReducerOptions,
                        tflite::CreateReducerOptions(fbb, true).Union());
      })
      .Case([&](tosa::SliceOp s) -> LogicalResult {
        FailureOr<int32_t> x = tensorOf(s.getInput(), s);
        if (failed(x))
          return failure();
        int64_t rank = s.getStart().size();
        std::string name = nameOf(s);
        int32_t begin = addInt32Constant({rank}, s.getStart(), name + "/begin");
        int32_t size = addInt32Constant({rank}, s.getSize(), name + "/size");
        addOp(tflite::BuiltinOperator_SLICE, {*x, begin, size},
              {define(s.getOutput(), name)},
              tflite::BuiltinOptions_SliceOptions,
              tflite::CreateSliceOptions(fbb).Union());
        return success();
      })
      .Case([&](tosa::TileOp t) {
        ArrayRef<int64_t> m = t.getMultiples();
        return withInts(op, tflite::BuiltinOperator_TILE, m,
                        {int64_t(m.size())}, "multiples",
                        tflite::BuiltinOptions_TileOptions,
                        tflite::CreateTileOptions(fbb).Union());
      })
      .Case([&](tosa::PadOp p) -> LogicalResult {
        FailureOr<int32_t> x = tensorOf(p.getInput1(), p);
        FailureOr<SmallVector<int64_t>> pads = ints(p.getPadding(), "padding");
        if (failed(x) || failed(pads))
          return failure();
        std::string name = nameOf(p);
        int32_t padsId = addInt32Constant({int64_t(pads->size() / 2), 2}, *pads,
                                          name + "/paddings");
        float value = 0.0f;
        SmallVector<float> storage;
        if (p.getPadConst()) {
          std::optional<ArrayRef<float>> c =
              getConstantF32(p.getPadConst(), storage);
          if (!c || c->size() != 1)
            return p.emitError("TFLite target: the pad value must be a "
                               "constant scalar");
          value = (*c)[0];
        }
        int32_t out = define(p.getOutput(), name);
        if (value == 0.0f)
          addOp(tflite::BuiltinOperator_PAD, {*x, padsId}, {out},
                tflite::BuiltinOptions_PadOptions,
                tflite::CreatePadOptions(fbb).Union());
        else
          addOp(tflite::BuiltinOperator_PADV2,
                {*x, padsId, addConstant({1}, {value}, name + "/value")}, {out},
                tflite::BuiltinOptions_PadV2Options,
                tflite::CreatePadV2Options(fbb).Union());
        return success();
      })
      // Element-wise ops TFLite has, kept by the lowering (target=tflite).
      .Case([&](GeluOp g) {
        return simple(
            op, tflite::BuiltinOperator_GELU,
            tflite::BuiltinOptions_GeluOptions,
            tflite::CreateGeluOptions(fbb, g.getApproximate() == "tanh")
                .Union());
      })
      .Case([&](HardSwishOp) {
        return simple(op, tflite::BuiltinOperator_HARD_SWISH,
                      tflite::BuiltinOptions_HardSwishOptions,
                      tflite::CreateHardSwishOptions(fbb).Union());
      })
      .Case([&](LeakyReluOp l) {
        return simple(
            op, tflite::BuiltinOperator_LEAKY_RELU,
            tflite::BuiltinOptions_LeakyReluOptions,
            tflite::CreateLeakyReluOptions(fbb, l.getAlpha().convertToFloat())
                .Union());
      })
      .Case([&](SqrtOp) { return simple(op, tflite::BuiltinOperator_SQRT); })
      .Case([&](SoftmaxOp) {
        return simple(op, tflite::BuiltinOperator_SOFTMAX,
                      tflite::BuiltinOptions_SoftmaxOptions,
                      tflite::CreateSoftmaxOptions(fbb, 1.0f).Union());
      })
      .Case([&](tosa::ErfOp) {
        return op.emitError("TFLite target cannot express 'erf' (no TFLite "
                            "builtin); GELU written as Erf is recognised, "
                            "other uses are not");
      })
      .Default([&](Operation *other) {
        return other->emitError("TFLite target cannot express '")
               << other->getName() << "'";
      });
}

LogicalResult Writer::run(ModuleOp module, std::string &out) {
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
  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return func.emitError("TFLite target: expected static f32 inputs");
  }

  // The one lowering path, on a copy (the caller's module is left as is)
  // or in place when the caller is done with it: then the weights the
  // lowering replaced (transposed) are freed unless another module holds
  // them.
  OwningOpRef<ModuleOp> copy;
  ModuleOp lowered = module;
  WeightSet before;
  if (options.consumeModule) {
    before = weightsOf({module});
  } else {
    copy = module.clone();
    lowered = *copy;
  }
  {
    PassManager pm(module.getContext());
    ConvertMobileOneToTosaOptions options;
    options.target = "tflite";
    options.interfaceLayout = this->options.nchwInterface ? "nchw" : "nhwc";
    pm.addPass(createConvertMobileOneToTosa(options));
    if (failed(pm.run(lowered)))
      return failure();
  }
  if (options.consumeModule) {
    SmallVector<Operation *> live(options.liveModules);
    live.push_back(lowered);
    releaseWeights(before, live);
  }
  for (auto f : lowered.getOps<func::FuncOp>())
    if (f.getSymName() == func.getSymName())
      func = f;

  std::vector<int32_t> &inputs = graph.inputs, &outputs = graph.outputs;
  Block &body = func.getBody().front();
  Operation *ret = body.getTerminator();
  for (auto [i, v] : llvm::enumerate(ret->getOperands()))
    if (auto n = func.getResultAttrOfType<StringAttr>(i, "mobileone.onnx_name"))
      resultNames.try_emplace(v, n.str());
  // The lowering made 4-D inputs and outputs NHWC. An input keeps its own
  // name even when it is also an output (which gets a copy, below).
  for (BlockArgument arg : func.getArguments()) {
    resultNames.erase(arg);
    std::string name = "input";
    if (auto n = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                   "mobileone.onnx_name"))
      name = n.str();
    inputs.push_back(define(arg, name));
  }
  func.walk([&](tosa::ConcatOp c) {
    for (tosa::Conv2DOp conv : groupedConvParts(c)) {
      absorbed.insert(conv);
      absorbed.insert(conv.getInput().getDefiningOp());
      groupedConcats.insert(c);
    }
  });
  // The quantisation-aware folding's choice, recorded once (the quantising
  // run) for the summary.
  identitySplits = tfl::chooseIdentitySplits(
      func, absorbed, options.folding,
      ranges && options.summary ? &options.summary->identitySplits : nullptr,
      ranges && options.summary ? &options.summary->int8Seconds : nullptr);
  // TFLite tensors have positive dimensions (the runtimes refuse empty ones).
  for (Operation &op : body.without_terminator())
    for (Value r : op.getResults())
      if (auto t = dyn_cast<RankedTensorType>(r.getType()))
        if (llvm::is_contained(t.getShape(), 0) &&
            !t.getElementType().isInteger(32) &&
            !t.getElementType().isInteger(64))
          return op.emitError("TFLite target: an empty tensor ")
                 << t << " (a dimension of size 0) is not supported";
  for (Operation &op : body.without_terminator())
    if (failed(emit(op)))
      return failure();
  for (auto [i, v] : llvm::enumerate(ret->getOperands())) {
    FailureOr<int32_t> id = tensorOf(v, ret);
    if (failed(id))
      return failure();
    // A graph output that is a graph input (an identity model), a constant
    // or another output is copied by a RESHAPE to its own shape: every
    // output is computed by an operator, as runtimes expect.
    if (llvm::is_contained(inputs, *id) || llvm::is_contained(outputs, *id) ||
        !v.getDefiningOp() || matchPattern(v, m_Constant())) {
      ArrayRef<int64_t> shape = shapeOf(v);
      std::vector<int32_t> dims(shape.begin(), shape.end());
      auto n = func.getResultAttrOfType<StringAttr>(i, "mobileone.onnx_name");
      std::string name = n ? n.str() : "output";
      int32_t copy = addTensor(shape, name);
      int32_t shapeId =
          addInt32Constant({int64_t(shape.size())}, SmallVector<int64_t>(shape),
                           name + "/shape");
      addOp(tflite::BuiltinOperator_RESHAPE, {*id, shapeId}, {copy},
            tflite::BuiltinOptions_ReshapeOptions,
            tflite::CreateReshapeOptionsDirect(fbb, &dims).Union());
      id = copy;
    }
    outputs.push_back(*id);
  }

  if (!halfError.empty())
    return func.emitError("TFLite target, --precision fp16: ") << halfError;
  if (ranges) {
    if (ranges->size() != graph.tensors.size())
      return func.emitError("TFLite target: calibration ranges for ")
             << ranges->size() << " tensors, the model has "
             << graph.tensors.size() << " (this is a bug)";
    std::vector<std::string> unmatched;
    std::string interfaceError;
    tfl::quantizeGraph(
        graph, *ranges, [&](const std::string &n) { return unique(n); }, fbb,
        options.summary, options.folding, unmatched, options.int8Interface,
        interfaceError);
    if (!interfaceError.empty())
      return func.emitError("TFLite target, --io-dtype int8: ")
             << interfaceError;
    if (!unmatched.empty()) {
      // The names it could have been: the int8 operators' layers.
      std::string known;
      int shown = 0;
      for (const tfl::OpRecord &op : graph.ops)
        if (op.outputs.size() == 1 && shown < 5 &&
            graph.tensors[op.outputs[0]].type == tflite::TensorType_INT8 &&
            op.code != tflite::BuiltinOperator_QUANTIZE) {
          known += (shown++ ? "', '" : "'") +
                   graph.tensors[op.outputs[0]].origin;
        }
      return func.emitError("TFLite target, --keep-float: no quantised "
                            "layer named '")
             << unmatched.front() << "'"
             << (known.empty() ? std::string()
                               : " (layers are named by their op, e.g. " +
                                     known + "')");
    }
    if (options.summary)
      tfl::collectQuantization(graph, options.summary->int8);
  }
  if (failed(serialize(func, out)))
    return failure();
  // The lowered weights are in `out` now. Those no other module holds are
  // freed: the copy's own (its transposed weights would otherwise stay in
  // the context), or all of a consumed module's.
  SmallVector<Operation *> keep(options.liveModules);
  if (!options.consumeModule)
    keep.push_back(module);
  releaseWeights(weightsOf({lowered}), keep);
  return success();
}

LogicalResult Writer::serialize(func::FuncOp func, std::string &out) {
  // Keep what is referred to, in the original order.
  std::vector<int32_t> newIndex(graph.tensors.size(), -1);
  std::vector<bool> used(graph.tensors.size(), false);
  for (const tfl::OpRecord &op : graph.ops) {
    for (int32_t t : op.inputs)
      if (t >= 0)
        used[t] = true;
    for (int32_t t : op.outputs)
      used[t] = true;
  }
  for (int32_t t : graph.inputs)
    used[t] = true;
  for (int32_t t : graph.outputs)
    used[t] = true;
  std::vector<uint32_t> newBuffer(graph.buffers.size(), 0);
  std::vector<fb::Offset<tflite::Buffer>> buffers = {
      tflite::CreateBuffer(fbb)}; // the empty sentinel
  std::vector<fb::Offset<tflite::Tensor>> tensors;
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    if (!used[t])
      continue;
    const tfl::TensorRecord &r = graph.tensors[t];
    uint32_t buffer = 0;
    if (r.buffer != 0) {
      if (newBuffer[r.buffer] == 0) {
        const tfl::Buffer &bytes = graph.buffers[r.buffer];
        fbb.ForceVectorAlignment(bytes.size(), 1, 16);
        auto vec = fbb.CreateVector(bytes.data(), bytes.size());
        newBuffer[r.buffer] = buffers.size();
        buffers.push_back(tflite::CreateBuffer(fbb, vec));
      }
      buffer = newBuffer[r.buffer];
    }
    fb::Offset<tflite::QuantizationParameters> quant = 0;
    if (!r.quant.scale.empty())
      quant = tflite::CreateQuantizationParametersDirect(
          fbb, nullptr, nullptr, &r.quant.scale, &r.quant.zeroPoint,
          tflite::QuantizationDetails_NONE, 0, r.quant.axis);
    newIndex[t] = tensors.size();
    fileIndex.push_back(t);
    tensors.push_back(tflite::CreateTensorDirect(fbb, &r.shape, r.type, buffer,
                                                 r.name.c_str(), quant));
  }
  auto remap = [&](const std::vector<int32_t> &ids) {
    std::vector<int32_t> out;
    for (int32_t t : ids)
      out.push_back(t < 0 ? t : newIndex[t]);
    return out;
  };
  std::vector<BuiltinOperator> opcodes;
  std::map<BuiltinOperator, uint32_t> opcodeIndex;
  std::vector<fb::Offset<tflite::Operator>> operators;
  for (const tfl::OpRecord &op : graph.ops) {
    auto [it, inserted] = opcodeIndex.try_emplace(op.code, opcodes.size());
    if (inserted)
      opcodes.push_back(op.code);
    std::vector<int32_t> in = remap(op.inputs), out = remap(op.outputs);
    operators.push_back(tflite::CreateOperatorDirect(
        fbb, it->second, &in, &out, op.optionsType, op.options));
  }
  std::vector<int32_t> inputs = remap(graph.inputs),
                       outputs = remap(graph.outputs);
  std::vector<fb::Offset<tflite::OperatorCode>> codes;
  for (BuiltinOperator op : opcodes)
    codes.push_back(tflite::CreateOperatorCode(
        fbb, static_cast<int8_t>(std::min<int32_t>(op, 127)), 0, 1, op));
  std::vector<fb::Offset<tflite::SubGraph>> subgraphs = {
      tflite::CreateSubGraphDirect(fbb, &tensors, &inputs, &outputs, &operators,
                                   func.getSymName().str().c_str())};
  auto model = tflite::CreateModelDirect(
      fbb, 3, &codes, &subgraphs,
      options.nchwInterface ? ::mobileone::runtime::kNCHWInterfaceDescription
                            : "mobileone",
      &buffers);
  tflite::FinishModelBuffer(fbb, model);

  // Check what we wrote, as a loader would.
  fb::Verifier verifier(fbb.GetBufferPointer(), fbb.GetSize(),
                        /*max_depth=*/64, /*max_tables=*/10000000);
  if (!tflite::VerifyModelBuffer(verifier))
    return func.emitError("TFLite target: the emitted FlatBuffer does not "
                          "verify (this is a bug)");
  out = allocator.take(fbb.GetBufferPointer(), fbb.GetSize());
  return success();
}

} // namespace

LogicalResult mlir::mobileone::emitTFLite(ModuleOp module, std::string &out,
                                          const TFLiteOptions &options) {
  if (options.weights != WeightPrecision::INT8)
    return Writer(options, nullptr,
                  flatBufferEstimate(module, options.weights))
        .run(module, out);
  if (!options.calibrate)
    return module.emitError("TFLite target, --precision int8: no "
                            "calibration data");
  // The float32 model, calibrated; then the same graph again, quantised
  // (emission is deterministic: tensor indices agree).
  TFLiteOptions floatOptions = options;
  floatOptions.weights = WeightPrecision::FP32;
  floatOptions.consumeModule = false;
  std::vector<TensorRange> ranges;
  auto calibrated = [&]() -> FailureOr<std::unique_ptr<Writer>> {
    std::string floatBytes;
    auto floatWriter = std::make_unique<Writer>(
        floatOptions, nullptr,
        flatBufferEstimate(module, WeightPrecision::FP32));
    if (failed(floatWriter->run(module, floatBytes)))
      return failure();
    std::vector<TensorRange> fileRanges;
    if (failed(options.calibrate(
            ArrayRef<uint8_t>(
                reinterpret_cast<const uint8_t *>(floatBytes.data()),
                floatBytes.size()),
            fileRanges)))
      return failure();
    if (options.summary)
      options.summary->floatModel = std::move(floatBytes);
    ranges.clear();
    for (size_t f = 0;
         f < floatWriter->fileIndex.size() && f < fileRanges.size(); ++f) {
      int32_t t = floatWriter->fileIndex[f];
      if (size_t(t) >= ranges.size())
        ranges.resize(t + 1);
      ranges[t] = std::move(fileRanges[f]);
    }
    ranges.resize(std::max(ranges.size(), floatWriter->graphTensors()));
    return floatWriter;
  };
  FailureOr<std::unique_ptr<Writer>> floatWriter = calibrated();
  if (failed(floatWriter))
    return failure();
  if (options.folding.equalize) {
    // Cross-layer equalisation (Equalize.h) by the calibrated channel
    // ranges of each convolution's output; then calibrated again.
    std::map<std::string, const TensorRange *> byLayer;
    for (size_t t = 0; t < (*floatWriter)->graphTensors(); ++t)
      if (!(*floatWriter)->isConstant(t) && ranges[t].seen)
        byLayer.emplace((*floatWriter)->originOf(t), &ranges[t]);
    auto rangeOf = [&](StringRef name) -> const TensorRange * {
      auto it = byLayer.find(name.str());
      return it == byLayer.end() ? nullptr : it->second;
    };
    func::FuncOp func;
    module.walk([&](func::FuncOp f) { func = func ? func : f; });
    std::vector<std::string> equalized = tfl::equalizeChannels(
        func, rangeOf,
        {options.folding.keepFloat.begin(), options.folding.keepFloat.end()});
    if (!equalized.empty()) {
      floatWriter = calibrated();
      if (failed(floatWriter))
        return failure();
    }
    if (options.summary)
      options.summary->equalized = std::move(equalized);
  }
  floatOptions.consumeModule = options.consumeModule;
  return Writer(floatOptions, &ranges,
                flatBufferEstimate(module, WeightPrecision::INT8))
      .run(module, out);
}
