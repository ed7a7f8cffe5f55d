//===- UpsampleOps.cpp - resize and transposed convolution ----------------===//
//
// Verifiers of the ops that make a feature map larger. What a resize reads
// is defined once, in math/Resize.h; the transposed convolution's shape rule
// in convTransposeOutputSize, which the importer uses too.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Math/Resize.h"
#include "mobileone/Support/Diagnostics.h"

#include <cmath>

using namespace mlir;
using namespace mlir::mobileone;

LogicalResult ResizeOp::verify() {
  if (!math::parseResizeMode(getMode()))
    return emitOpError("expected mode 'nearest' or 'linear', got '")
           << getMode() << "'";
  if (!math::parseResizeCoordinates(getCoordinateTransformationMode()))
    return emitOpError("expected coordinate_transformation_mode "
                       "'asymmetric', 'half_pixel', 'pytorch_half_pixel' or "
                       "'align_corners', got '")
           << getCoordinateTransformationMode() << "'";
  if (!math::parseNearestRounding(getNearestMode()))
    return emitOpError("expected nearest_mode 'round_prefer_floor', "
                       "'round_prefer_ceil', 'floor' or 'ceil', got '")
           << getNearestMode() << "'";
  ArrayRef<double> scales = getScales();
  if (scales.size() != 2)
    return emitOpError("expected 2 scales [h, w], got ") << scales.size();
  RankedTensorType in = getInput().getType(), out = getOutput().getType();
  for (int d = 0; d < 2; ++d)
    if (in.getDimSize(d) != out.getDimSize(d))
      return emitOpError("expected N and C to be kept, got ")
             << formatDims(in.getShape()) << " -> "
             << formatDims(out.getShape());
  for (int d = 0; d < 2; ++d) {
    double s = scales[d];
    if (!std::isfinite(s) || !(s > 0))
      return emitOpError("expected positive finite scales, got ") << s;
    int64_t i = in.getDimSize(2 + d), o = out.getDimSize(2 + d);
    if (ShapedType::isDynamic(i) || ShapedType::isDynamic(o))
      return emitOpError("expected static H and W");
    // Scales given: out = floor(in * scale) (in float, as ONNX computes it);
    // sizes given: scale = out / in.
    bool fromScale = o == int64_t(std::floor(float(i) * float(s))) ||
                     o == int64_t(std::floor(double(i) * s));
    bool fromSize = float(double(o) / double(i)) == float(s);
    if (i < 1 || o < 1 || (!fromScale && !fromSize))
      return emitOpError("output size ")
             << o << " of dimension " << 2 + d << " is neither floor(" << i
             << " * " << s << ") nor a size whose ratio is the scale";
  }
  return success();
}

LogicalResult ConvTranspose2DOp::verify() {
  auto positive = [](ArrayRef<int64_t> v, size_t n, int64_t lo) {
    return v.size() == n && llvm::all_of(v, [&](int64_t x) {
             return x >= lo && x <= (int64_t(1) << 16);
           });
  };
  if (!positive(getStrides(), 2, 1) || !positive(getDilations(), 2, 1))
    return emitOpError("expected two strides and dilations in [1, 65536]");
  if (!positive(getPads(), 4, 0))
    return emitOpError("expected four pads [top, left, bottom, right] in "
                       "[0, 65536]");
  if (!positive(getOutputPadding(), 2, 0))
    return emitOpError("expected two output_padding entries in [0, 65536]");
  int64_t group = getGroup();
  RankedTensorType in = getInput().getType(), w = getWeight().getType(),
                   out = getOutput().getType();
  if (!w.hasStaticShape())
    return emitOpError("expected a statically shaped weight");
  int64_t c = in.getDimSize(1);
  if (group < 1 || (!ShapedType::isDynamic(c) && c % group != 0))
    return emitOpError("input channels (")
           << c << ") are not divisible by group (" << group << ")";
  if (!ShapedType::isDynamic(c) && w.getDimSize(0) != c)
    return emitOpError("expected weight dimension 0 to be the input "
                       "channels ")
           << c << ", got " << w.getDimSize(0);
  int64_t oc = getOutChannels();
  if (getBias() &&
      cast<RankedTensorType>(getBias().getType()).getDimSize(0) != oc)
    return emitOpError("expected a bias of ") << oc << " entries";
  ArrayRef<int64_t> s = getStrides(), p = getPads(), dl = getDilations(),
                    op = getOutputPadding();
  for (int d = 0; d < 2; ++d)
    if (op[d] >= s[d] && op[d] >= dl[d])
      return emitOpError("output_padding ")
             << op[d] << " must be smaller than the stride or the dilation";
  SmallVector<int64_t> expected = {in.getDimSize(0), oc};
  for (int d = 0; d < 2; ++d) {
    int64_t i = in.getDimSize(2 + d);
    int64_t o = convTransposeOutputSize(i, w.getDimSize(2 + d), s[d], p[d],
                                        p[d + 2], dl[d], op[d]);
    if (!ShapedType::isDynamic(i) && o < 1)
      return emitOpError("pads ")
             << formatDims(p) << " crop the whole output of input "
             << formatDims(in.getShape());
    expected.push_back(o);
  }
  for (auto [e, r] : llvm::zip(expected, out.getShape()))
    if (!ShapedType::isDynamic(e) && !ShapedType::isDynamic(r) && e != r)
      return emitOpError("expected result shape ")
             << formatDims(expected) << ", got "
             << formatDims(out.getShape());
  return success();
}

int64_t mlir::mobileone::convTransposeOutputSize(int64_t in, int64_t kernel,
                                                 int64_t stride,
                                                 int64_t padBegin,
                                                 int64_t padEnd,
                                                 int64_t dilation,
                                                 int64_t outputPadding) {
  if (ShapedType::isDynamic(in))
    return ShapedType::kDynamic;
  return stride * (in - 1) + outputPadding + dilation * (kernel - 1) + 1 -
         padBegin - padEnd;
}
