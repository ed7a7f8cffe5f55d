//===- BranchKernels.cpp - kernels of block branches ----------------------===//

#include "mobileone/Transforms/BranchKernels.h"
#include "mobileone/Support/Weights.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::mobileone;

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

Value mobileone::createMapOp(OpBuilder &builder, Location loc, Type resultType,
                             Value input, const math::LinearMap &m) {
  const math::ConvGeometry &g = m.geometry;
  if (cast<RankedTensorType>(resultType).getRank() == 4)
    return createConv(builder, loc, resultType, input, m.kernel,
                      ArrayRef<int64_t>(g.strides, 2),
                      ArrayRef<int64_t>(g.pads, 4),
                      ArrayRef<int64_t>(g.dilations, 2), g.group,
                      /*withBias=*/true)
        .getOutput();
  Type f32 = builder.getF32Type();
  Value weight = createWeightConstant(
      builder, loc, RankedTensorType::get({g.outChannels, g.inChannels}, f32),
      math::toF32(m.kernel.weight), "linear_weight");
  Value bias = createWeightConstant(
      builder, loc, RankedTensorType::get({g.outChannels}, f32),
      math::toF32(m.kernel.bias), "linear_bias");
  return builder.create<LinearOp>(loc, resultType, input, weight, bias)
      .getOutput();
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
