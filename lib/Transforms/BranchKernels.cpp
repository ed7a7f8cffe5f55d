//===- BranchKernels.cpp - kernels of block branches ----------------------===//

#include "mobileone/Transforms/BranchKernels.h"
#include "mobileone/Support/Weights.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::mobileone;

std::optional<math::Kernel> mobileone::readConvKernel(Conv2DOp conv) {
  RankedTensorType wType = conv.getWeight().getType();
  if (!wType.hasStaticShape())
    return std::nullopt;
  SmallVector<float> wStorage, bStorage;
  std::optional<ArrayRef<float>> w = getConstantF32(conv.getWeight(), wStorage);
  if (!w)
    return std::nullopt;
  std::optional<ArrayRef<float>> b;
  if (conv.getBias()) {
    b = getConstantF32(conv.getBias(), bStorage);
    if (!b)
      return std::nullopt;
  }
  return math::kernelFromF32(wType.getDimSize(0), wType.getDimSize(1),
                             wType.getDimSize(2), wType.getDimSize(3),
                             w->data(), b ? b->data() : nullptr);
}

LogicalResult mobileone::requireConvConstants(Conv2DOp conv, StringRef target,
                                             std::vector<float> &weight,
                                             std::vector<float> &bias) {
  std::optional<std::vector<float>> w =
      requireConstantF32(conv.getWeight(), conv, target, "the conv weight");
  if (!w)
    return failure();
  weight = std::move(*w);
  bias.assign(conv.getOutChannels(), 0.0f);
  if (conv.getBias()) {
    std::optional<std::vector<float>> b =
        requireConstantF32(conv.getBias(), conv, target, "the conv bias");
    if (!b)
      return failure();
    bias = std::move(*b);
  }
  return success();
}

std::optional<math::BatchNorm> mobileone::readBatchNorm(BatchNormOp bn) {
  math::BatchNorm params;
  params.epsilon = bn.getEpsilon().convertToDouble();
  for (auto [value, out] :
       {std::pair<Value, std::vector<double> *>{bn.getScale(), &params.scale},
        {bn.getBias(), &params.bias},
        {bn.getMean(), &params.mean},
        {bn.getVariance(), &params.variance}}) {
    SmallVector<float> storage;
    std::optional<ArrayRef<float>> data = getConstantF32(value, storage);
    if (!data)
      return std::nullopt;
    out->assign(data->begin(), data->end());
  }
  return params;
}

std::optional<math::Kernel>
mobileone::computeBranchKernel(BlockOp block, Value branch, unsigned index) {
  ArrayRef<int64_t> kernel = block.getKernel();
  std::optional<math::BatchNorm> bn;
  Value core = branch;
  if (auto bnOp = core.getDefiningOp<BatchNormOp>()) {
    bn = readBatchNorm(bnOp);
    if (!bn) {
      block.emitOpError("branch #")
          << index << ": batch_norm parameters are not constants";
      return std::nullopt;
    }
    core = bnOp.getInput();
  }

  math::Kernel k;
  if (core == block.getBranchInput()) {
    k = math::identityKernel(block.getInput().getType().getDimSize(1),
                             block.getGroup(), kernel[0], kernel[1]);
  } else {
    auto conv = core.getDefiningOp<Conv2DOp>();
    std::optional<math::Kernel> convKernel = readConvKernel(conv);
    if (!convKernel) {
      block.emitOpError("branch #")
          << index << ": conv2d weights are not constants";
      return std::nullopt;
    }
    k = std::move(*convKernel);
  }
  if (bn)
    k = math::foldBatchNorm(k, *bn);
  if (k.kh != kernel[0] || k.kw != kernel[1])
    k = math::padKernel(k, kernel[0], kernel[1]);
  return k;
}

Conv2DOp mobileone::createConv(OpBuilder &builder, Location loc,
                               Type resultType, Value input,
                               const math::Kernel &k, ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> pads,
                               ArrayRef<int64_t> dilations, int64_t group,
                               bool withBias) {
  Type f32 = builder.getF32Type();
  auto wType =
      RankedTensorType::get({k.outChannels, k.inPerGroup, k.kh, k.kw}, f32);
  Value weight = createWeightConstant(builder, loc, wType,
                                      math::toF32(k.weight), "conv_weight");
  Value bias;
  if (withBias)
    bias = createWeightConstant(builder, loc,
                                RankedTensorType::get({k.outChannels}, f32),
                                math::toF32(k.bias), "conv_bias");
  return builder.create<Conv2DOp>(loc, resultType, input, weight, bias,
                                  builder.getDenseI64ArrayAttr(strides),
                                  builder.getDenseI64ArrayAttr(pads),
                                  builder.getDenseI64ArrayAttr(dilations),
                                  builder.getI64IntegerAttr(group));
}

void mobileone::eraseDeadDefs(ArrayRef<Value> values) {
  // Collect first: one constant may feed several operands.
  llvm::SetVector<Operation *> defs;
  for (Value v : values)
    if (Operation *def = v ? v.getDefiningOp() : nullptr)
      defs.insert(def);
  for (Operation *def : defs)
    if (def->use_empty())
      def->erase();
}
