//===- ImportNN.cpp - convolution, normalisation, pooling, products -------===//

#include "Importer.h"

#include "mobileone/Math/Resize.h"
#include "mobileone/Support/Weights.h"

#include <cmath>

using namespace mlir;
using namespace mlir::mobileone;
using namespace mlir::mobileone::onnx_import;

namespace {

RankedTensorType f32Type(Importer &im, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, im.builder().getF32Type());
}

/// Explicit pads of a 2-D window op from `pads` or `auto_pad`.
FailureOr<std::vector<int64_t>>
windowPads(Importer &im, const onnx::NodeProto &node, ArrayRef<int64_t> in,
           ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
           ArrayRef<int64_t> dilations,
           std::optional<std::vector<int64_t>> given = std::nullopt) {
  std::vector<int64_t> pads =
      given ? *given : im.intsAttr(node, "pads", {0, 0, 0, 0});
  std::string autoPad = im.stringAttr(node, "auto_pad", "NOTSET");
  if (autoPad == "VALID")
    return std::vector<int64_t>{0, 0, 0, 0};
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int d = 0; d < 2; ++d) {
      int64_t out = (in[d] + strides[d] - 1) / strides[d];
      int64_t total =
          std::max<int64_t>(0, (out - 1) * strides[d] +
                                   dilations[d] * (kernel[d] - 1) + 1 - in[d]);
      int64_t small = total / 2, large = total - small;
      pads[d] = autoPad == "SAME_UPPER" ? small : large;
      pads[d + 2] = autoPad == "SAME_UPPER" ? large : small;
    }
    return pads;
  }
  if (autoPad != "NOTSET") {
    im.nodeError(node) << "unsupported auto_pad '" << autoPad << "'";
    return failure();
  }
  if (pads.size() != 4) {
    im.nodeError(node) << "expected 4 pads for a 2-D window, got "
                       << pads.size();
    return failure();
  }
  return pads;
}

bool inRange(ArrayRef<int64_t> v, int64_t lo, int64_t hi) {
  return llvm::all_of(v, [&](int64_t x) { return x >= lo && x <= hi; });
}

LogicalResult importConv(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0), w = im.floatInput(node, 1);
  if (failed(x) || failed(w))
    return failure();
  FailureOr<Value> optionalBias = im.optionalFloatInput(node, 2);
  if (failed(optionalBias))
    return failure();
  Value bias = *optionalBias;
  ArrayRef<int64_t> xs = shapeOf(*x), ws = shapeOf(*w);
  if (xs.size() != 4 || ws.size() != 4)
    return im.nodeError(node)
           << "only 2-D convolutions (4-D NCHW input and "
              "weight) are supported, got input "
           << formatShape(xs) << " and weight " << formatShape(ws);
  std::vector<int64_t> strides = im.intsAttr(node, "strides", {1, 1});
  std::vector<int64_t> dilations = im.intsAttr(node, "dilations", {1, 1});
  std::vector<int64_t> kernel =
      im.intsAttr(node, "kernel_shape", {ws[2], ws[3]});
  int64_t group = im.intAttr(node, "group", 1);
  if (strides.size() != 2 || dilations.size() != 2 || kernel.size() != 2)
    return im.nodeError(node) << "expected 2-D strides, dilations, "
                                 "kernel_shape and 4 pads";
  if (!inRange(strides, 1, 1 << 16) || !inRange(dilations, 1, 1 << 16))
    return im.nodeError(node) << "strides and dilations must be in [1, 65536] "
                                 "and pads in [0, 65536]";
  if (kernel[0] != ws[2] || kernel[1] != ws[3])
    return im.nodeError(node)
           << "inconsistent shapes: kernel_shape " << formatShape(kernel)
           << " but weight " << formatShape(ws);
  FailureOr<std::vector<int64_t>> pads =
      windowPads(im, node, xs.drop_front(2), kernel, strides, dilations);
  if (failed(pads))
    return failure();
  if (!inRange(*pads, 0, 1 << 16))
    return im.nodeError(node) << "strides and dilations must be in [1, 65536] "
                                 "and pads in [0, 65536]";
  const std::vector<int64_t> &p = *pads;
  if (group < 1 || xs[1] % group != 0 || ws[0] % group != 0 ||
      ws[1] != xs[1] / group)
    return im.nodeError(node)
           << "inconsistent shapes: input " << formatShape(xs) << ", weight "
           << formatShape(ws) << ", group " << group;
  int64_t oh = (xs[2] + p[0] + p[2] - dilations[0] * (ws[2] - 1) - 1),
          ow = (xs[3] + p[1] + p[3] - dilations[1] * (ws[3] - 1) - 1);
  if (oh < 0 || ow < 0)
    return im.nodeError(node)
           << "inconsistent shapes: kernel " << formatShape(kernel)
           << " does not fit input " << formatShape(xs);
  SmallVector<int64_t> outShape = {xs[0], ws[0], oh / strides[0] + 1,
                                   ow / strides[1] + 1};
  if (!validShape(outShape))
    return im.nodeError(node) << "output " << invalidShapeReason(outShape);
  OpBuilder &b = im.builder();
  Value y = im.createTyped<Conv2DOp>(
      f32Type(im, outShape), *x, *w, bias, b.getDenseI64ArrayAttr(strides),
      b.getDenseI64ArrayAttr(p), b.getDenseI64ArrayAttr(dilations),
      b.getI64IntegerAttr(group));
  return im.define(node, y);
}

/// Reshapes `x` to `shape` (same element count, f32).
Value reshape(Importer &im, Value x, ArrayRef<int64_t> shape) {
  return im.createTyped<ReshapeOp>(f32Type(im, shape), x);
}

LogicalResult importBatchNorm(Importer &im, const onnx::NodeProto &node) {
  bool training = im.flagAttr(node, "training_mode", false);
  for (int i = 1; i < node.output_size(); ++i)
    training |= !node.output(i).empty();
  if (training)
    return im.nodeError(node)
           << "BatchNormalization in training mode (training_mode=1 or "
              "running-statistics outputs); export the model in eval mode: "
              "model.eval() and torch.onnx.export(..., "
              "training=torch.onnx.TrainingMode.EVAL or PRESERVE)";
  SmallVector<Value> in;
  for (int i = 0; i < 5; ++i) {
    FailureOr<Value> v = im.floatInput(node, i);
    if (failed(v))
      return failure();
    in.push_back(*v);
  }
  ArrayRef<int64_t> xs = shapeOf(in[0]);
  if (xs.size() < 2 || xs.size() > 4)
    return im.nodeError(node) << "expected an input of rank 2 to 4 (N, C, "
                                 "...), got "
                              << formatShape(xs);
  static const char *names[] = {"X", "scale", "B", "mean", "var"};
  for (int i = 1; i < 5; ++i) {
    ArrayRef<int64_t> s = shapeOf(in[i]);
    if (s.size() != 1 || s[0] != xs[1])
      return im.nodeError(node)
             << "inconsistent shapes: '" << names[i] << "' has shape "
             << formatShape(s) << ", expected [" << xs[1] << "] for input "
             << formatShape(xs);
  }
  // BatchNorm1d on [N, C] is a batch_norm of its own (it folds into a
  // neighbouring linear layer); on [N, C, L], the same per-channel affine map
  // on an NCHW view.
  SmallVector<int64_t> nchw(xs);
  nchw.resize(4, 1);
  bool view = xs.size() == 3;
  Value x = view ? reshape(im, in[0], nchw) : in[0];
  double eps = im.floatAttr(node, "epsilon", 1e-5f);
  Value y =
      im.createTyped<BatchNormOp>(x.getType(), x, in[1], in[2], in[3], in[4],
                                  im.builder().getF64FloatAttr(eps));
  if (view)
    y = reshape(im, y, xs);
  return im.define(node, y);
}

/// A [rows, cols] constant transposed (and scaled).
Value transposedConstant(Importer &im, ArrayRef<float> data, int64_t rows,
                         int64_t cols, float scale, StringRef name) {
  std::vector<float> out(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      out[j * rows + i] = scale * data[i * cols + j];
  return im.f32Constant({cols, rows}, out, name);
}

FailureOr<Value> transpose2D(Importer &im, Value v) {
  return im.create1<TransposeOp>({v}, {im.array("perm", {1, 0})});
}

/// `y * s` for a scalar s (no op when s == 1).
FailureOr<Value> scaleBy(Importer &im, Value y, float s) {
  if (s == 1.0f)
    return y;
  Value c = im.f32Constant({}, {s}, "scale");
  return im.createTyped<MulOp>(y.getType(), y, c);
}

LogicalResult importGemm(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> a = im.floatInput(node, 0), w = im.floatInput(node, 1);
  if (failed(a) || failed(w))
    return failure();
  float alpha = im.floatAttr(node, "alpha", 1.0f);
  float beta = im.floatAttr(node, "beta", 1.0f);
  bool transA = im.flagAttr(node, "transA", false),
       transB = im.flagAttr(node, "transB", false);
  ArrayRef<int64_t> as = shapeOf(*a), ws = shapeOf(*w);
  if (as.size() != 2 || ws.size() != 2)
    return im.nodeError(node) << "expected 2-D A and B, got " << formatShape(as)
                              << " and " << formatShape(ws);
  Value x = *a;
  if (transA) {
    FailureOr<Value> t = transpose2D(im, x);
    if (failed(t))
      return failure();
    x = *t;
  }
  int64_t n = shapeOf(x)[0], k = shapeOf(x)[1];
  int64_t m = transB ? ws[0] : ws[1];
  if ((transB ? ws[1] : ws[0]) != k)
    return im.nodeError(node) << "inconsistent shapes: A " << formatShape(as)
                              << (transA ? " (transA)" : "") << ", B "
                              << formatShape(ws) << (transB ? " (transB)" : "");
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> wdata = getConstantF32(*w, storage);
  Value y;
  // A constant B: a linear layer with weight [M, K].
  if (wdata) {
    Value weight = *w;
    if (!transB) {
      weight =
          transposedConstant(im, *wdata, k, m, alpha, node.input(1) + "_t");
    } else if (alpha != 1.0f) {
      std::vector<float> scaled(wdata->begin(), wdata->end());
      for (float &v : scaled)
        v *= alpha;
      weight = im.f32Constant({m, k}, scaled, node.input(1) + "_scaled");
    }
    Value bias;
    if (im.hasInput(node, 2)) {
      FailureOr<Value> c = im.floatInput(node, 2);
      if (failed(c))
        return failure();
      SmallVector<float> cs;
      std::optional<ArrayRef<float>> cdata = getConstantF32(*c, cs);
      ArrayRef<int64_t> cshape = shapeOf(*c);
      if (cdata && static_cast<int64_t>(cdata->size()) == m &&
          (cshape.size() == 1 || (cshape.size() == 2 && cshape[0] == 1))) {
        std::vector<float> bdata(cdata->begin(), cdata->end());
        for (float &v : bdata)
          v *= beta;
        bias = im.f32Constant({m}, bdata, node.input(2) + "_b");
      }
    }
    y = im.createTyped<LinearOp>(f32Type(im, {n, m}), x, weight, bias);
    if (bias || !im.hasInput(node, 2))
      return im.define(node, y);
  } else {
    Value b = *w;
    if (transB) {
      FailureOr<Value> t = transpose2D(im, b);
      if (failed(t))
        return failure();
      b = *t;
    }
    FailureOr<Value> prod = im.create1<MatMulOp>({x, b});
    if (failed(prod))
      return failure();
    FailureOr<Value> scaled = scaleBy(im, *prod, alpha);
    if (failed(scaled))
      return failure();
    y = *scaled;
    if (!im.hasInput(node, 2))
      return im.define(node, y);
  }
  // A C that is not a constant [M] bias: added with broadcasting.
  FailureOr<Value> c = im.floatInput(node, 2);
  if (failed(c))
    return failure();
  FailureOr<Value> cs = scaleBy(im, *c, beta);
  if (failed(cs))
    return failure();
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(shapeOf(y), shapeOf(*cs));
  if (!shape || ArrayRef<int64_t>(*shape) != shapeOf(y))
    return im.nodeError(node)
           << "inconsistent shapes: C " << formatShape(shapeOf(*c))
           << " does not broadcast to [" << n << ", " << m << "]";
  return im.define(node, im.createTyped<AddOp>(y.getType(), y, *cs));
}

LogicalResult importMatMul(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> a = im.floatInput(node, 0), b = im.floatInput(node, 1);
  if (failed(a) || failed(b))
    return failure();
  ArrayRef<int64_t> as = shapeOf(*a), bs = shapeOf(*b);
  if (as.empty() || bs.empty())
    return im.nodeError(node) << "operands must have rank >= 1";
  // [N, K] x constant [K, M]: a linear layer, as the passes expect.
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> bdata = getConstantF32(*b, storage);
  if (as.size() == 2 && bs.size() == 2 && bdata && as[1] == bs[0]) {
    Value weight = transposedConstant(im, *bdata, bs[0], bs[1], 1.0f,
                                      node.input(1) + "_t");
    return im.define(node, im.createTyped<LinearOp>(f32Type(im, {as[0], bs[1]}),
                                                    *a, weight, Value()));
  }
  // NumPy promotes 1-D operands to matrices and drops the added dimension.
  Value l = *a, r = *b;
  if (as.size() == 1)
    l = reshape(im, l, {1, as[0]});
  if (bs.size() == 1)
    r = reshape(im, r, {bs[0], 1});
  FailureOr<Value> y = im.create1<MatMulOp>({l, r});
  if (failed(y))
    return failure();
  if (as.size() == 1 || bs.size() == 1) {
    SmallVector<int64_t> shape(shapeOf(*y));
    if (bs.size() == 1)
      shape.erase(shape.end() - 1);
    if (as.size() == 1)
      shape.erase(shape.end() - (bs.size() == 1 ? 1 : 2));
    return im.define(node, reshape(im, *y, shape));
  }
  return im.define(node, *y);
}

//===----------------------------------------------------------------------===//
// Pooling and reductions
//===----------------------------------------------------------------------===//

/// Global average pooling of a 4-D tensor, keeping or dropping H and W.
Value globalAvgPool(Importer &im, Value x, bool keepDims) {
  ArrayRef<int64_t> xs = shapeOf(x);
  Value y =
      im.createTyped<GlobalAvgPoolOp>(f32Type(im, {xs[0], xs[1], 1, 1}), x);
  return keepDims ? y : reshape(im, y, {xs[0], xs[1]});
}

FailureOr<Value> reduceMean(Importer &im, Value x, ArrayRef<int64_t> axes,
                            bool keepDims) {
  if (shapeOf(x).size() == 4 && axes == ArrayRef<int64_t>{2, 3})
    return globalAvgPool(im, x, keepDims);
  return im.create1<ReduceMeanOp>(
      {x}, {im.array("axes", axes), im.i64("keepdims", keepDims)});
}

LogicalResult importGlobalAveragePool(Importer &im,
                                      const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0);
  if (failed(x))
    return failure();
  int64_t rank = shapeOf(*x).size();
  if (rank < 3)
    return im.nodeError(node) << "expected an input of rank >= 3 (N, C, ...)";
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  FailureOr<Value> y = reduceMean(im, *x, axes, true);
  return failed(y) ? failure() : im.define(node, *y);
}

/// ReduceMean, ReduceSum, ReduceMax: axes are an attribute before
/// `axesInputSince` and an optional input from then on.
template <typename ReduceOp, int64_t axesInputSince>
LogicalResult importReduce(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0);
  if (failed(x))
    return failure();
  int64_t rank = shapeOf(*x).size();
  std::vector<int64_t> axes;
  if (im.opset() < axesInputSince) {
    axes = im.intsAttr(node, "axes", {});
  } else if (im.hasInput(node, 1)) {
    FailureOr<SmallVector<int64_t>> a = im.intInput(node, 1);
    if (failed(a))
      return failure();
    axes.assign(a->begin(), a->end());
  }
  bool noopWithEmptyAxes = im.opset() >= axesInputSince &&
                           im.flagAttr(node, "noop_with_empty_axes", false);
  if (axes.empty() && noopWithEmptyAxes)
    return im.define(node, *x);
  SmallVector<int64_t> norm;
  for (int64_t a : axes) {
    std::optional<int64_t> n = normalizeAxis(a, rank);
    if (!n || llvm::is_contained(norm, *n))
      return im.nodeError(node)
             << "invalid axes " << formatShape(axes) << " for rank " << rank;
    norm.push_back(*n);
  }
  llvm::sort(norm);
  if (norm.empty())
    for (int64_t d = 0; d < rank; ++d)
      norm.push_back(d);
  bool keepDims = im.flagAttr(node, "keepdims", true);
  FailureOr<Value> y =
      std::is_same_v<ReduceOp, ReduceMeanOp>
          ? reduceMean(im, *x, norm, keepDims)
          : im.create1<ReduceOp>(
                {*x}, {im.array("axes", norm), im.i64("keepdims", keepDims)});
  return failed(y) ? failure() : im.define(node, *y);
}

template <typename PoolOp>
LogicalResult importPool(Importer &im, const onnx::NodeProto &node) {
  constexpr bool isAvg = std::is_same_v<PoolOp, AvgPoolOp>;
  FailureOr<Value> x = im.floatInput(node, 0);
  if (failed(x))
    return failure();
  if (node.output_size() > 1 && !node.output(1).empty())
    return im.nodeError(node) << "the Indices output is not supported";
  ArrayRef<int64_t> xs = shapeOf(*x);
  if (xs.size() != 4 && xs.size() != 3)
    return im.nodeError(node) << "only 1-D and 2-D pooling (a 3-D NCL or 4-D "
                                 "NCHW input) is supported, got "
                              << formatShape(xs);
  std::vector<int64_t> kernel = im.intsAttr(node, "kernel_shape", {});
  std::vector<int64_t> strides = im.intsAttr(node, "strides", {});
  std::vector<int64_t> dilations = im.intsAttr(node, "dilations", {});
  std::vector<int64_t> explicitPads = im.intsAttr(node, "pads", {});
  // 1-D pooling is 2-D pooling of an [N, C, 1, L] view.
  bool oneD = xs.size() == 3;
  Value input = *x;
  if (oneD) {
    if (kernel.size() != 1 || strides.size() > 1 || dilations.size() > 1 ||
        (!explicitPads.empty() && explicitPads.size() != 2))
      return im.nodeError(node) << "expected one kernel size, stride and "
                                   "dilation and two pads for 1-D pooling";
    kernel.insert(kernel.begin(), 1);
    if (!strides.empty())
      strides.insert(strides.begin(), 1);
    if (!dilations.empty())
      dilations.insert(dilations.begin(), 1);
    input = reshape(im, *x, {xs[0], xs[1], 1, xs[2]});
  }
  if (strides.empty())
    strides = {1, 1};
  if (dilations.empty())
    dilations = {1, 1};
  if (kernel.size() != 2 || strides.size() != 2 || dilations.size() != 2 ||
      !inRange(kernel, 1, 1 << 16) || !inRange(strides, 1, 1 << 16) ||
      !inRange(dilations, 1, 1 << 16))
    return im.nodeError(node) << "expected 2-D kernel_shape, strides and "
                                 "dilations in [1, 65536]";
  SmallVector<int64_t> spatial(shapeOf(input).drop_front(2));
  FailureOr<std::vector<int64_t>> pads =
      windowPads(im, node, spatial, kernel, strides, dilations,
                 oneD && !explicitPads.empty()
                     ? std::optional<std::vector<int64_t>>(
                           {0, explicitPads[0], 0, explicitPads[1]})
                     : std::nullopt);
  if (failed(pads))
    return failure();
  int64_t ceil = im.flagAttr(node, "ceil_mode", false);
  int64_t countPad = im.flagAttr(node, "count_include_pad", false);
  // A window over the whole map: global pooling, as the passes expect.
  if (!oneD && isAvg && kernel[0] == xs[2] && kernel[1] == xs[3] &&
      llvm::all_of(*pads, [](int64_t p) { return p == 0; }) &&
      dilations == std::vector<int64_t>{1, 1})
    return im.define(node, globalAvgPool(im, *x, true));
  SmallVector<NamedAttribute> attrs = {
      im.array("kernel_shape", kernel), im.array("strides", strides),
      im.array("pads", *pads), im.array("dilations", dilations),
      im.i64("ceil_mode", ceil)};
  if (isAvg)
    attrs.push_back(im.i64("count_include_pad", countPad));
  FailureOr<Value> y = im.create1<PoolOp>({input}, attrs);
  if (failed(y))
    return failure();
  if (oneD) {
    ArrayRef<int64_t> ys = shapeOf(*y);
    return im.define(node, reshape(im, *y, {ys[0], ys[1], ys[3]}));
  }
  return im.define(node, *y);
}

//===----------------------------------------------------------------------===//
// Softmax, LayerNormalization
//===----------------------------------------------------------------------===//

LogicalResult importSoftmax(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  int64_t rank = xs.size();
  std::optional<int64_t> axis =
      normalizeAxis(im.intAttr(node, "axis", im.opset() < 13 ? 1 : -1), rank);
  if (!axis)
    return im.nodeError(node) << "axis out of range for rank " << rank;
  OpBuilder &b = im.builder();
  if (im.opset() >= 13 || *axis == rank - 1) {
    Value y = b.create<SoftmaxOp>(im.loc(), x->getType(), *x,
                                  b.getI64IntegerAttr(*axis));
    return im.define(node, y);
  }
  // Before opset 13: softmax over the flattened dimensions axis..rank-1.
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < *axis ? outer : inner) *= xs[d];
  Value flat = reshape(im, *x, {outer, inner});
  Value y = b.create<SoftmaxOp>(im.loc(), flat.getType(), flat,
                                b.getI64IntegerAttr(1));
  return im.define(node, reshape(im, y, xs));
}

/// LayerNormalization's optional outputs: the mean and 1 / sqrt(var + eps)
/// over axes [axis, rank), reduced dimensions kept.
LogicalResult defineLayerNormStats(Importer &im, const onnx::NodeProto &node,
                                   Value x, int64_t axis, float eps) {
  SmallVector<int64_t> axes;
  for (int64_t d = axis; d < static_cast<int64_t>(shapeOf(x).size()); ++d)
    axes.push_back(d);
  SmallVector<NamedAttribute> attrs = {im.array("axes", axes),
                                       im.i64("keepdims", 1)};
  FailureOr<Value> mean = im.create1<ReduceMeanOp>({x}, attrs);
  if (failed(mean))
    return failure();
  Type meanType = mean->getType();
  Value centred = im.createTyped<SubOp>(x.getType(), x, *mean);
  Value squared = im.createTyped<MulOp>(x.getType(), centred, centred);
  FailureOr<Value> var = im.create1<ReduceMeanOp>({squared}, attrs);
  if (failed(var))
    return failure();
  Value shifted = im.createTyped<AddOp>(meanType, *var,
                                        im.f32Constant({}, {eps}, "epsilon"));
  Value root = im.builder().create<SqrtOp>(im.loc(), meanType, shifted);
  Value inv = im.builder().create<ReciprocalOp>(im.loc(), meanType, root);
  if (node.output_size() > 1 && failed(im.define(node, *mean, 1)))
    return failure();
  if (node.output_size() > 2 && failed(im.define(node, inv, 2)))
    return failure();
  return success();
}

LogicalResult importLayerNorm(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0), scale = im.floatInput(node, 1);
  if (failed(x) || failed(scale))
    return failure();
  FailureOr<Value> optionalBias = im.optionalFloatInput(node, 2);
  if (failed(optionalBias))
    return failure();
  Value bias = *optionalBias;
  ArrayRef<int64_t> xs = shapeOf(*x);
  std::optional<int64_t> axis =
      normalizeAxis(im.intAttr(node, "axis", -1), xs.size());
  if (!axis)
    return im.nodeError(node) << "axis out of range for rank " << xs.size();
  if (im.intAttr(node, "stash_type", 1) != 1)
    return im.nodeError(node) << "only stash_type = 1 (float) is supported";
  ArrayRef<int64_t> normalized = xs.drop_front(*axis);
  // Scale and bias may be given with leading 1s (broadcastable).
  auto fit = [&](Value v) -> Value {
    ArrayRef<int64_t> s = shapeOf(v);
    if (s == normalized)
      return v;
    int64_t n = 1;
    for (int64_t d : s)
      n *= d;
    int64_t m = 1;
    for (int64_t d : normalized)
      m *= d;
    if (n != m || s.size() < normalized.size() ||
        llvm::any_of(s.drop_back(normalized.size()),
                     [](int64_t d) { return d != 1; }))
      return Value();
    return reshape(im, v, normalized);
  };
  Value s = fit(*scale), bb = bias ? fit(bias) : Value();
  if (!s || (bias && !bb))
    return im.nodeError(node) << "scale and bias must have the normalised "
                                 "shape "
                              << formatShape(normalized);
  float eps = im.floatAttr(node, "epsilon", 1e-5f);
  if (!(eps > 0.0f))
    return im.nodeError(node) << "epsilon must be positive, got " << eps;
  Value y = im.builder().create<LayerNormOp>(
      im.loc(), x->getType(), *x, s, bb, im.builder().getI64IntegerAttr(*axis),
      im.builder().getF64FloatAttr(eps));
  if (failed(im.define(node, y)))
    return failure();
  bool stats = false;
  for (int i = 1; i < node.output_size(); ++i)
    stats |= !node.output(i).empty();
  return stats ? defineLayerNormStats(im, node, *x, *axis, eps) : success();
}


//===----------------------------------------------------------------------===//
// Upsampling
//===----------------------------------------------------------------------===//

/// ConvTranspose (opsets 11+): pads from `pads`, `auto_pad` or
/// `output_shape`, which must agree with explicit pads when both are given.
LogicalResult importConvTranspose(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0), w = im.floatInput(node, 1);
  if (failed(x) || failed(w))
    return failure();
  FailureOr<Value> bias = im.optionalFloatInput(node, 2);
  if (failed(bias))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x), ws = shapeOf(*w);
  if (xs.size() != 4 || ws.size() != 4)
    return im.nodeError(node)
           << "only 2-D transposed convolutions (4-D NCHW input and weight) "
              "are supported, got input "
           << formatShape(xs) << " and weight " << formatShape(ws);
  int64_t group = im.intAttr(node, "group", 1);
  std::vector<int64_t> strides = im.intsAttr(node, "strides", {1, 1});
  std::vector<int64_t> dilations = im.intsAttr(node, "dilations", {1, 1});
  std::vector<int64_t> kernel =
      im.intsAttr(node, "kernel_shape", {ws[2], ws[3]});
  std::vector<int64_t> outPad = im.intsAttr(node, "output_padding", {0, 0});
  std::vector<int64_t> outShape = im.intsAttr(node, "output_shape", {});
  const onnx::AttributeProto *padsAttr =
      im.findAttr(node, "pads", onnx::AttributeProto::INTS);
  std::vector<int64_t> pads = im.intsAttr(node, "pads", {0, 0, 0, 0});
  std::string autoPad = im.stringAttr(node, "auto_pad", "NOTSET");
  if (strides.size() != 2 || dilations.size() != 2 || kernel.size() != 2 ||
      outPad.size() != 2 || pads.size() != 4)
    return im.nodeError(node) << "expected 2-D strides, dilations, "
                                 "kernel_shape, output_padding and 4 pads";
  if (!inRange(strides, 1, 1 << 16) || !inRange(dilations, 1, 1 << 16) ||
      !inRange(pads, 0, 1 << 16) || !inRange(outPad, 0, 1 << 16))
    return im.nodeError(node) << "strides and dilations must be in [1, 65536] "
                                 "and pads and output_padding in [0, 65536]";
  if (kernel[0] != ws[2] || kernel[1] != ws[3])
    return im.nodeError(node)
           << "inconsistent shapes: kernel_shape " << formatShape(kernel)
           << " but weight " << formatShape(ws);
  if (group < 1 || ws[0] != xs[1] || xs[1] % group != 0)
    return im.nodeError(node)
           << "inconsistent shapes: input " << formatShape(xs) << ", weight "
           << formatShape(ws) << " (expected [C, OC / group, KH, KW]), group "
           << group;
  for (int d = 0; d < 2; ++d)
    if (outPad[d] >= strides[d] && outPad[d] >= dilations[d])
      return im.nodeError(node)
             << "output_padding " << formatShape(outPad)
             << " must be smaller than the stride or the dilation";
  if (autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER")
    return im.nodeError(node) << "unsupported auto_pad '" << autoPad << "'";
  // The full output before cropping, per dimension.
  int64_t full[2];
  for (int d = 0; d < 2; ++d)
    full[d] = strides[d] * (xs[2 + d] - 1) + outPad[d] +
              dilations[d] * (kernel[d] - 1) + 1;
  if (!outShape.empty() || autoPad == "SAME_UPPER" ||
      autoPad == "SAME_LOWER") {
    // The requested size: output_shape (its last two entries), or
    // input * stride for SAME; the total padding crops the difference.
    if (!outShape.empty() && outShape.size() != 2 && outShape.size() != 4)
      return im.nodeError(node) << "expected output_shape of 2 (H, W) or 4 "
                                   "entries, got "
                                << formatShape(outShape);
    std::vector<int64_t> derived(4);
    for (int d = 0; d < 2; ++d) {
      int64_t want = outShape.empty() ? xs[2 + d] * strides[d]
                                      : outShape[outShape.size() - 2 + d];
      int64_t total = full[d] - want;
      if (total < 0 && want >= 1) {
        // Larger than the full output: the extra rows come at the end, as
        // output_padding would add them (bias only).
        outPad[d] -= total;
        full[d] -= total;
        total = 0;
        if (outPad[d] >= strides[d] && outPad[d] >= dilations[d])
          return im.nodeError(node)
                 << "output_shape " << formatShape(outShape)
                 << " is not reachable: dimension " << 2 + d
                 << " needs output padding " << outPad[d]
                 << ", which must be smaller than the stride or the dilation";
      }
      if (want < 1)
        return im.nodeError(node) << "output_shape " << formatShape(outShape)
                                  << " must be positive";
      // ONNX: SAME_UPPER puts the larger half at the end.
      int64_t small = total / 2, large = total - small;
      derived[d] = autoPad == "SAME_UPPER" ? small : large;
      derived[d + 2] = autoPad == "SAME_UPPER" ? large : small;
    }
    if (padsAttr && autoPad == "NOTSET" && pads != derived &&
        llvm::any_of(pads, [](int64_t p) { return p != 0; }))
      return im.nodeError(node)
             << "output_shape " << formatShape(outShape)
             << " contradicts pads " << formatShape(pads)
             << " (they give the pads " << formatShape(derived) << ")";
    pads = derived;
  } else if (autoPad == "VALID") {
    pads = {0, 0, 0, 0};
  }
  SmallVector<int64_t> shape = {xs[0], ws[1] * group};
  for (int d = 0; d < 2; ++d)
    shape.push_back(full[d] - pads[d] - pads[d + 2]);
  if (shape[2] < 1 || shape[3] < 1)
    return im.nodeError(node) << "pads " << formatShape(pads)
                              << " crop the whole output";
  if (!validShape(shape))
    return im.nodeError(node) << "output " << invalidShapeReason(shape);
  OpBuilder &b = im.builder();
  Value y = im.createTyped<ConvTranspose2DOp>(
      f32Type(im, shape), *x, *w, *bias, b.getDenseI64ArrayAttr(strides),
      b.getDenseI64ArrayAttr(pads), b.getDenseI64ArrayAttr(dilations),
      b.getDenseI64ArrayAttr(outPad), b.getI64IntegerAttr(group));
  return im.define(node, y);
}

/// Resize (opsets 11+) of H and W of an NCHW tensor, nearest or linear, from
/// constant scales or sizes.
LogicalResult importResize(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  std::string mode = im.stringAttr(node, "mode", "nearest");
  std::string coords =
      im.stringAttr(node, "coordinate_transformation_mode", "half_pixel");
  std::string nearest =
      im.stringAttr(node, "nearest_mode", "round_prefer_floor");
  // Read, and meaningful only for modes refused below.
  (void)im.floatAttr(node, "cubic_coeff_a", -0.75f);
  (void)im.floatAttr(node, "extrapolation_value", 0.0f);
  if (im.intAttr(node, "exclude_outside", 0) != 0)
    return im.nodeError(node) << "exclude_outside = 1 is only meaningful for "
                                 "cubic mode, which is not supported";
  if (im.opset() >= 18) {
    if (im.intAttr(node, "antialias", 0) != 0)
      return im.nodeError(node) << "antialias = 1 is not supported";
    if (im.stringAttr(node, "keep_aspect_ratio_policy", "stretch") !=
        "stretch")
      return im.nodeError(node) << "only keep_aspect_ratio_policy 'stretch' "
                                   "is supported";
  }
  if (!math::parseResizeMode(mode))
    return im.nodeError(node) << "mode '" << mode
                              << "' is not supported (nearest, linear)";
  if (!math::parseResizeCoordinates(coords))
    return im.nodeError(node)
           << "coordinate_transformation_mode '" << coords
           << "' is not supported (asymmetric, half_pixel, "
              "pytorch_half_pixel, align_corners)";
  if (!math::parseNearestRounding(nearest))
    return im.nodeError(node) << "unknown nearest_mode '" << nearest << "'";
  if (xs.size() != 4)
    return im.nodeError(node) << "only resizing the H and W of a 4-D NCHW "
                                 "tensor is supported, got "
                              << formatShape(xs);
  // axes (opset 18): the scales or sizes then cover only those dimensions.
  std::vector<int64_t> axes = {0, 1, 2, 3};
  if (im.opset() >= 18)
    axes = im.intsAttr(node, "axes", axes);
  for (int64_t &a : axes) {
    std::optional<int64_t> n = normalizeAxis(a, 4);
    if (!n)
      return im.nodeError(node) << "axes " << formatShape(axes)
                                << " out of range for rank 4";
    a = *n;
  }
  (void)im.hasInput(node, 1); // roi: only tf_crop_and_resize reads it
  bool hasScales = im.hasInput(node, 2), hasSizes = im.hasInput(node, 3);
  SmallVector<float> scales;
  SmallVector<int64_t> sizes;
  if (hasScales) {
    FailureOr<SmallVector<float>> s = im.floatConstantInput(node, 2);
    if (failed(s))
      return failure();
    scales = *s;
  }
  if (hasSizes) {
    FailureOr<SmallVector<int64_t>> s = im.intInput(node, 3);
    if (failed(s))
      return failure();
    sizes = *s;
  }
  if (scales.empty() == sizes.empty())
    return im.nodeError(node) << "expected exactly one of scales and sizes "
                                 "(a non-empty tensor), got "
                              << (scales.empty() ? "neither" : "both");
  size_t given = scales.empty() ? sizes.size() : scales.size();
  if (given != axes.size())
    return im.nodeError(node)
           << "expected " << axes.size() << " " << (scales.empty() ? "sizes" : "scales")
           << " (one per resized axis), got " << given;
  // Per dimension: the scale and the output size.
  SmallVector<double> scale(4, 1.0);
  SmallVector<int64_t> out(xs.begin(), xs.end());
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t d = axes[i], in = xs[d];
    if (!scales.empty()) {
      float s = scales[i];
      if (!std::isfinite(s) || !(s > 0) || s > float(kMaxTensorElements))
        return im.nodeError(node)
               << "scale " << s << " of dimension " << d
               << " must be positive and finite";
      scale[d] = s;
      if (!ShapedType::isDynamic(in)) {
        double o = std::floor(double(in) * double(s));
        if (o < 1 || o > double(kMaxTensorElements))
          return im.nodeError(node)
                 << "scale " << s << " gives dimension " << d << " of size "
                 << o << " from " << in;
        out[d] = int64_t(o);
      }
    } else {
      int64_t o = sizes[i];
      if (o < 1 || o > kMaxTensorElements)
        return im.nodeError(node) << "size " << o << " of dimension " << d
                                  << " must be positive";
      if (ShapedType::isDynamic(in)) {
        out[d] = in; // the symbolic batch
        continue;
      }
      out[d] = o;
      scale[d] = double(o) / double(in);
    }
  }
  if (out[1] != xs[1] || scale[1] != 1.0 ||
      (!ShapedType::isDynamic(xs[0]) && out[0] != xs[0]) || scale[0] != 1.0)
    return im.nodeError(node) << "only H and W may be resized, got "
                              << formatShape(xs) << " -> "
                              << formatShape(out);
  if (!validShape(out))
    return im.nodeError(node) << "output " << invalidShapeReason(out);
  if (out == SmallVector<int64_t>(xs) && scale[2] == 1.0 && scale[3] == 1.0)
    return im.define(node, *x); // the identity
  OpBuilder &b = im.builder();
  Value y = im.createTyped<ResizeOp>(
      f32Type(im, out), *x, b.getStringAttr(mode), b.getStringAttr(coords),
      b.getStringAttr(nearest), b.getDenseF64ArrayAttr({scale[2], scale[3]}));
  return im.define(node, y);
}

/// ArgMax (opsets 11+; select_last_index from 12): int64 indices.
LogicalResult importArgMax(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0);
  if (failed(x))
    return failure();
  int64_t rank = shapeOf(*x).size();
  std::optional<int64_t> axis =
      normalizeAxis(im.intAttr(node, "axis", 0), rank);
  if (!axis)
    return im.nodeError(node) << "axis out of range for rank " << rank;
  bool keepDims = im.flagAttr(node, "keepdims", true);
  bool last = im.opset() >= 12 && im.flagAttr(node, "select_last_index", false);
  FailureOr<Value> y = im.create1<ArgMaxOp>(
      {*x}, {im.i64("axis", *axis), im.i64("keepdims", keepDims),
             im.i64("select_last_index", last)});
  return failed(y) ? failure() : im.define(node, *y);
}

const OpEntry kOps[] = {
    {"Conv", 11, importConv},
    {"ConvTranspose", 11, importConvTranspose},
    {"Resize", 11, importResize},
    {"BatchNormalization", 11, importBatchNorm},
    {"Gemm", 11, importGemm},
    {"MatMul", 11, importMatMul},
    {"GlobalAveragePool", 11, importGlobalAveragePool},
    {"ReduceMean", 11, importReduce<ReduceMeanOp, 18>},
    {"ReduceSum", 11, importReduce<ReduceSumOp, 13>},
    {"ReduceMax", 11, importReduce<ReduceMaxOp, 18>},
    {"AveragePool", 11, importPool<AvgPoolOp>},
    {"MaxPool", 11, importPool<MaxPoolOp>},
    {"Softmax", 11, importSoftmax},
    {"ArgMax", 11, importArgMax},
    {"LayerNormalization", 17, importLayerNorm},
};

} // namespace

ArrayRef<OpEntry> onnx_import::nnOps() { return kOps; }
