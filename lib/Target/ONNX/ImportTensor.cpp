//===- ImportTensor.cpp - shape, layout and constant ops ------------------===//
//
// Reshape, Flatten, Squeeze, Unsqueeze, Concat, Split, Slice, Transpose, Pad,
// Identity, Dropout, Constant, and the shape-subgraph ops (Shape, Gather,
// Cast, ConstantOfShape, Range, Expand). Inputs that ONNX passes as tensors
// but that fix a result shape (target shapes, axes, pads, slice bounds) must
// be constants once folding has run: `intInput` says which node computes
// them from data otherwise.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "mobileone/Support/Half.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace mlir::mobileone;
using namespace mlir::mobileone::onnx_import;

namespace {

int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// A reshape of `x` to `shape` (validated here: the op's verifier would
/// report the same mismatch without the node's context).
FailureOr<Value> reshapeTo(Importer &im, const onnx::NodeProto &node, Value x,
                           ArrayRef<int64_t> shape) {
  ArrayRef<int64_t> xs = shapeOf(x);
  if (!validShape(shape)) {
    im.nodeError(node) << "target " << invalidShapeReason(shape);
    return failure();
  }
  if (numElements(shape) != numElements(xs)) {
    im.nodeError(node) << "inconsistent shapes: cannot reshape "
                       << formatShape(xs) << " to " << formatShape(shape);
    return failure();
  }
  auto type = RankedTensorType::get(
      shape, cast<ShapedType>(x.getType()).getElementType());
  return im.createTyped<ReshapeOp>(type, x);
}

/// Axes from the attribute (before `inputSince`) or from input #1.
FailureOr<std::vector<int64_t>> axesOf(Importer &im,
                                       const onnx::NodeProto &node,
                                       int64_t inputSince, int inputIndex,
                                       bool *given = nullptr) {
  if (im.opset() < inputSince) {
    if (given)
      *given = im.findAttr(node, "axes", onnx::AttributeProto::INTS) != nullptr;
    return im.intsAttr(node, "axes", {});
  }
  if (given)
    *given = im.hasInput(node, inputIndex);
  if (!im.hasInput(node, inputIndex))
    return std::vector<int64_t>{};
  FailureOr<SmallVector<int64_t>> v = im.intInput(node, inputIndex);
  if (failed(v))
    return failure();
  return std::vector<int64_t>(v->begin(), v->end());
}

/// Normalises `axes` against `rank`: sorted, unique, non-negative.
FailureOr<SmallVector<int64_t>> normalizeAxes(Importer &im,
                                              const onnx::NodeProto &node,
                                              ArrayRef<int64_t> axes,
                                              int64_t rank) {
  SmallVector<int64_t> out;
  for (int64_t a : axes) {
    std::optional<int64_t> n = normalizeAxis(a, rank);
    if (!n || llvm::is_contained(out, *n)) {
      im.nodeError(node) << "invalid axes " << formatShape(axes) << " for rank "
                         << rank;
      return failure();
    }
    out.push_back(*n);
  }
  llvm::sort(out);
  return out;
}

LogicalResult importReshape(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  FailureOr<SmallVector<int64_t>> target = im.intInput(node, 1);
  if (failed(x) || failed(target))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  bool allowZero = im.flagAttr(node, "allowzero", false);
  SmallVector<int64_t> shape = *target;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if (i >= xs.size())
        return im.nodeError(node)
               << "target shape " << formatShape(*target)
               << " copies dimension " << i << " (0), which the input "
               << formatShape(xs) << " does not have";
      shape[i] = xs[i];
    }
    if (shape[i] == -1) {
      if (inferred >= 0)
        return im.nodeError(node) << "more than one -1 in the target shape "
                                  << formatShape(*target);
      inferred = i;
    } else if (shape[i] < 0 ||
               (shape[i] > 0 && known > kMaxTensorElements / shape[i])) {
      return im.nodeError(node)
             << "invalid target shape " << formatShape(*target);
    } else {
      known *= shape[i];
    }
  }
  int64_t total = numElements(xs);
  if (inferred >= 0) {
    if (known == 0 || total % known != 0)
      return im.nodeError(node)
             << "inconsistent shapes: cannot reshape " << formatShape(xs)
             << " to " << formatShape(*target);
    shape[inferred] = total / known;
  }
  FailureOr<Value> y = reshapeTo(im, node, *x, shape);
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importFlatten(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  int64_t rank = xs.size(), axis = im.intAttr(node, "axis", 1);
  if (axis < -rank || axis > rank)
    return im.nodeError(node)
           << "axis " << axis << " out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> shape = {numElements(xs.take_front(axis)),
                                numElements(xs.drop_front(axis))};
  FailureOr<Value> y = reshapeTo(im, node, *x, shape);
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importSqueeze(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  bool given = false;
  FailureOr<std::vector<int64_t>> axes = axesOf(im, node, 13, 1, &given);
  if (failed(x) || failed(axes))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  FailureOr<SmallVector<int64_t>> norm =
      normalizeAxes(im, node, *axes, xs.size());
  if (failed(norm))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < static_cast<int64_t>(xs.size()); ++d) {
    bool listed = llvm::is_contained(*norm, d);
    if (listed && xs[d] != 1)
      return im.nodeError(node)
             << "cannot squeeze dimension " << d << " of " << formatShape(xs)
             << " (size " << xs[d] << ", expected 1)";
    if (!(listed || (!given && xs[d] == 1)))
      shape.push_back(xs[d]);
  }
  FailureOr<Value> y = reshapeTo(im, node, *x, shape);
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importUnsqueeze(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  FailureOr<std::vector<int64_t>> axes = axesOf(im, node, 13, 1);
  if (failed(x) || failed(axes))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  int64_t rank = xs.size() + axes->size();
  FailureOr<SmallVector<int64_t>> norm = normalizeAxes(im, node, *axes, rank);
  if (failed(norm))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t d = 0, j = 0; d < rank; ++d)
    shape.push_back(llvm::is_contained(*norm, d) ? 1 : xs[j++]);
  FailureOr<Value> y = reshapeTo(im, node, *x, shape);
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importConcat(Importer &im, const onnx::NodeProto &node) {
  SmallVector<Value> inputs;
  for (int i = 0; i < node.input_size(); ++i) {
    FailureOr<Value> v = im.input(node, i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  if (inputs.empty())
    return im.nodeError(node) << "expected at least one input";
  std::optional<int64_t> axis =
      normalizeAxis(im.intAttr(node, "axis", 0), shapeOf(inputs[0]).size());
  if (!axis)
    return im.nodeError(node)
           << "axis " << im.intAttr(node, "axis", 0) << " out of range";
  FailureOr<Value> y = im.create1<ConcatOp>(inputs, {im.i64("axis", *axis)});
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importSplit(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  std::optional<int64_t> axis =
      normalizeAxis(im.intAttr(node, "axis", 0), xs.size());
  if (!axis)
    return im.nodeError(node) << "axis out of range for rank " << xs.size();
  SmallVector<int64_t> sizes;
  if (im.opset() < 13) {
    std::vector<int64_t> s = im.intsAttr(node, "split", {});
    sizes.assign(s.begin(), s.end());
  } else if (im.hasInput(node, 1)) {
    FailureOr<SmallVector<int64_t>> s = im.intInput(node, 1);
    if (failed(s))
      return failure();
    sizes = *s;
  }
  if (sizes.empty()) {
    // Equal parts, one per output (opset 18: num_outputs, the last smaller).
    int64_t parts = im.opset() >= 18 && im.findAttr(node, "num_outputs",
                                                    onnx::AttributeProto::INT)
                        ? im.intAttr(node, "num_outputs", 1)
                        : node.output_size();
    int64_t dim = xs[*axis];
    if (parts < 1 || parts > std::max<int64_t>(dim, 1))
      return im.nodeError(node)
             << "cannot split dimension " << *axis << " (size " << dim
             << ") into " << parts << " parts";
    int64_t chunk = (dim + parts - 1) / parts;
    if (im.opset() < 18 && dim % parts != 0)
      return im.nodeError(node) << "dimension " << *axis << " (size " << dim
                                << ") does not split evenly into " << parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::min(chunk, dim - i * chunk));
  }
  if (static_cast<int64_t>(sizes.size()) != node.output_size())
    return im.nodeError(node) << sizes.size() << " part sizes for "
                              << node.output_size() << " outputs";
  FailureOr<SmallVector<Value>> parts = im.create<SplitOp>(
      {*x}, {im.i64("axis", *axis), im.array("split", sizes)});
  if (failed(parts))
    return failure();
  for (auto [i, v] : llvm::enumerate(*parts))
    if (failed(im.define(node, v, i)))
      return failure();
  return success();
}

LogicalResult importSlice(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  FailureOr<SmallVector<int64_t>> starts = im.intInput(node, 1),
                                  ends = im.intInput(node, 2);
  if (failed(x) || failed(starts) || failed(ends))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x);
  int64_t rank = xs.size();
  SmallVector<int64_t> axes, steps;
  if (im.hasInput(node, 3)) {
    FailureOr<SmallVector<int64_t>> a = im.intInput(node, 3);
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(i);
  }
  if (im.hasInput(node, 4)) {
    FailureOr<SmallVector<int64_t>> s = im.intInput(node, 4);
    if (failed(s))
      return failure();
    steps = *s;
  } else {
    steps.assign(starts->size(), 1);
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return im.nodeError(node) << "starts, ends, axes and steps must have the "
                                 "same length";
  SmallVector<int64_t> s(rank, 0), e(xs), st(rank, 1);
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < axes.size(); ++i) {
    std::optional<int64_t> a = normalizeAxis(axes[i], rank);
    if (!a || seen[*a])
      return im.nodeError(node) << "invalid or repeated axis " << axes[i];
    seen[*a] = true;
    int64_t dim = xs[*a], step = steps[i];
    if (step == 0)
      return im.nodeError(node) << "step 0 on axis " << axes[i];
    // ONNX Slice: negative bounds count from the end, then clamp.
    int64_t start = (*starts)[i], end = (*ends)[i];
    if (start < 0)
      start = start < -dim ? (step > 0 ? 0 : -1) : start + dim;
    if (end < 0)
      end = end < -dim ? -1 : end + dim;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
    } else {
      start = std::clamp<int64_t>(start, -1, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
    }
    s[*a] = start;
    e[*a] = end;
    st[*a] = step;
  }
  FailureOr<Value> y =
      im.create1<SliceOp>({*x}, {im.array("starts", s), im.array("ends", e),
                                 im.array("steps", st)});
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importTranspose(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  if (failed(x))
    return failure();
  int64_t rank = shapeOf(*x).size();
  std::vector<int64_t> def;
  for (int64_t i = rank - 1; i >= 0; --i)
    def.push_back(i);
  std::vector<int64_t> perm = im.intsAttr(node, "perm", def);
  FailureOr<Value> y = im.create1<TransposeOp>({*x}, {im.array("perm", perm)});
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importPad(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.floatInput(node, 0);
  FailureOr<SmallVector<int64_t>> pads = im.intInput(node, 1);
  if (failed(x) || failed(pads))
    return failure();
  int64_t rank = shapeOf(*x).size();
  std::string mode = im.stringAttr(node, "mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return im.nodeError(node) << "unsupported mode '" << mode
                              << "' (expected constant, reflect or edge)";
  float value = 0.0f;
  if (im.hasInput(node, 2)) {
    FailureOr<SmallVector<float>> v = im.floatConstantInput(node, 2);
    if (failed(v))
      return failure();
    if (v->size() != 1)
      return im.nodeError(node) << "constant_value must be a scalar";
    value = (*v)[0];
  }
  SmallVector<int64_t> full(2 * rank, 0);
  if (im.hasInput(node, 3)) { // opset 18: pads apply to these axes only
    FailureOr<SmallVector<int64_t>> axes = im.intInput(node, 3);
    if (failed(axes))
      return failure();
    if (pads->size() != 2 * axes->size())
      return im.nodeError(node) << "expected " << 2 * axes->size()
                                << " pads for " << axes->size() << " axes";
    for (auto [i, a] : llvm::enumerate(*axes)) {
      std::optional<int64_t> n = normalizeAxis(a, rank);
      if (!n)
        return im.nodeError(node) << "axis " << a << " out of range";
      full[*n] = (*pads)[i];
      full[*n + rank] = (*pads)[i + axes->size()];
    }
  } else {
    if (static_cast<int64_t>(pads->size()) != 2 * rank)
      return im.nodeError(node)
             << "expected " << 2 * rank << " pads for a "
             << "rank-" << rank << " input, got " << pads->size();
    full = *pads;
  }
  if (llvm::any_of(full, [](int64_t p) { return p < 0; }))
    return im.nodeError(node) << "negative pads (cropping) are not supported: "
                              << formatShape(full);
  FailureOr<Value> y = im.create1<PadOp>(
      {*x}, {im.array("pads", full),
             im.attr("mode", im.builder().getStringAttr(mode)),
             im.f32("value", value)});
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importIdentity(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  return failed(x) ? failure() : im.define(node, *x);
}

LogicalResult importDropout(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  if (failed(x))
    return failure();
  // The ratio (an attribute before opset 12, input #1 since) has no effect
  // at inference.
  if (im.opset() < 12)
    (void)im.floatAttr(node, "ratio", 0.5f);
  else
    (void)im.hasInput(node, 1);
  bool training = false;
  if (im.hasInput(node, 2)) {
    FailureOr<SmallVector<int64_t>> t = im.intInput(node, 2);
    if (failed(t))
      return failure();
    training = !t->empty() && (*t)[0] != 0;
  }
  if (training || (node.output_size() > 1 && !node.output(1).empty()))
    return im.nodeError(node) << "Dropout in training mode (training_mode "
                                 "input or a mask output) is not supported; "
                                 "export in eval mode";
  return im.define(node, *x);
}

LogicalResult importConstant(Importer &im, const onnx::NodeProto &node) {
  if (node.output_size() != 1 || node.output(0).empty())
    return im.nodeError(node) << "expected one output";
  const std::string &name = node.output(0);
  Value v;
  if (const onnx::AttributeProto *a =
          im.findAttr(node, "value", onnx::AttributeProto::TENSOR)) {
    FailureOr<Value> t = im.tensorConstant(a->t(), name);
    if (failed(t))
      return failure();
    v = *t;
  } else if (const onnx::AttributeProto *a = im.findAttr(
                 node, "value_float", onnx::AttributeProto::FLOAT)) {
    v = im.f32Constant({}, {a->f()}, name);
  } else if (const onnx::AttributeProto *a = im.findAttr(
                 node, "value_floats", onnx::AttributeProto::FLOATS)) {
    std::vector<float> d(a->floats().begin(), a->floats().end());
    v = im.f32Constant({static_cast<int64_t>(d.size())}, d, name);
  } else if (const onnx::AttributeProto *a =
                 im.findAttr(node, "value_int", onnx::AttributeProto::INT)) {
    v = im.i64Constant({}, {a->i()});
  } else if (const onnx::AttributeProto *a =
                 im.findAttr(node, "value_ints", onnx::AttributeProto::INTS)) {
    std::vector<int64_t> d(a->ints().begin(), a->ints().end());
    v = im.i64Constant({static_cast<int64_t>(d.size())}, d);
  } else {
    return im.nodeError(node) << "unsupported Constant form (expected value, "
                                 "value_float(s) or value_int(s))";
  }
  return im.define(node, v);
}

//===----------------------------------------------------------------------===//
// Shape subgraphs
//===----------------------------------------------------------------------===//

LogicalResult importShape(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  if (failed(x))
    return failure();
  int64_t rank = shapeOf(*x).size();
  auto clampDim = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t start = clampDim(im.intAttr(node, "start", 0));
  int64_t end = im.findAttr(node, "end", onnx::AttributeProto::INT)
                    ? clampDim(im.intAttr(node, "end", rank))
                    : rank;
  end = std::max(start, end);
  FailureOr<Value> y =
      im.create1<ShapeOp>({*x}, {im.i64("start", start), im.i64("end", end)});
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importSize(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  if (failed(x))
    return failure();
  // Every tensor is statically shaped: the size is a constant.
  return im.define(node, im.i64Constant({}, {numElements(shapeOf(*x))}));
}

LogicalResult importGather(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> data = im.input(node, 0), indices = im.input(node, 1);
  if (failed(data) || failed(indices))
    return failure();
  if (!cast<ShapedType>(indices->getType()).getElementType().isInteger(64))
    return im.nodeError(node) << "indices must be an INT64 or INT32 tensor";
  ArrayRef<int64_t> ds = shapeOf(*data);
  std::optional<int64_t> axis =
      normalizeAxis(im.intAttr(node, "axis", 0), ds.size());
  if (!axis)
    return im.nodeError(node) << "axis out of range for rank " << ds.size();
  // Constant indices must lie in range: checked here, with the node's name.
  if (FailureOr<SmallVector<int64_t>> idx = im.intInput(node, 1);
      succeeded(idx)) {
    for (int64_t i : *idx)
      if (i < -ds[*axis] || i >= ds[*axis])
        return im.nodeError(node)
               << "index " << i << " out of range for "
               << "dimension " << *axis << " (size " << ds[*axis] << ")";
  } else {
    return failure();
  }
  FailureOr<Value> y =
      im.create1<GatherOp>({*data, *indices}, {im.i64("axis", *axis)});
  return failed(y) ? failure() : im.define(node, *y);
}

/// The ONNX data type Cast converts to: `to`, or for CastLike (opset 15)
/// that of its second input.
LogicalResult importCast(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  if (failed(x))
    return failure();
  int64_t to;
  if (node.op_type() == "CastLike") {
    FailureOr<Value> like = im.input(node, 1);
    if (failed(like))
      return failure();
    Type e = cast<ShapedType>(like->getType()).getElementType();
    to = e.isF32()           ? onnx::TensorProto::FLOAT
         : e.isInteger(64)   ? onnx::TensorProto::INT64
         : e.isInteger(1)    ? onnx::TensorProto::BOOL
                             : onnx::TensorProto::UNDEFINED;
  } else {
    to = im.intAttr(node, "to", 0);
  }
  OpBuilder &b = im.builder();
  Type elem;
  switch (to) {
  case onnx::TensorProto::FLOAT:
    elem = b.getF32Type();
    break;
  case onnx::TensorProto::FLOAT16:
    // Float16 values are computed in float32 (as FLOAT16 inputs and
    // weights are): a cast to FLOAT16 keeps the value. A constant is
    // rounded to float16, as the model says.
    if (cast<ShapedType>(x->getType()).getElementType().isF32()) {
      DenseElementsAttr c;
      if (matchPattern(*x, m_Constant(&c))) {
        std::vector<float> v;
        for (APFloat f : c.getValues<APFloat>())
          v.push_back(fromHalf(toHalf(f.convertToFloat())));
        return im.define(node, im.f32Constant(shapeOf(*x), v, node.output(0)));
      }
      return im.define(node, *x);
    }
    return im.nodeError(node) << "cast to FLOAT16 of a non-float tensor is "
                                 "not supported";
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::INT32:
    elem = b.getI64Type();
    break;
  case onnx::TensorProto::BOOL:
    elem = b.getI1Type();
    break;
  case onnx::TensorProto::DOUBLE:
    // DOUBLE constants are held as float32 when exact (tensorConstant):
    // casting one is the identity. Double arithmetic on data is not.
    if (cast<ShapedType>(x->getType()).getElementType().isF32() &&
        matchPattern(*x, m_Constant()))
      return im.define(node, *x);
    return im.nodeError(node) << "cast to DOUBLE is supported for constants "
                                 "only (the compiler computes in float32)";
  default:
    return im.nodeError(node)
           << "cast to "
           << onnx::TensorProto::DataType_Name(
                  static_cast<onnx::TensorProto::DataType>(to))
           << " is not supported (FLOAT, INT64, INT32 and BOOL are)";
  }
  auto type = RankedTensorType::get(shapeOf(*x), elem);
  return im.define(node, im.createTyped<CastOp>(type, *x));
}

LogicalResult importConstantOfShape(Importer &im, const onnx::NodeProto &node) {
  FailureOr<SmallVector<int64_t>> shape = im.intInput(node, 0);
  if (failed(shape))
    return failure();
  if (!validShape(*shape))
    return im.nodeError(node) << invalidShapeReason(*shape);
  int64_t n = numElements(*shape);
  const onnx::AttributeProto *a =
      im.findAttr(node, "value", onnx::AttributeProto::TENSOR);
  if (!a)
    return im.define(node, im.f32Constant(*shape, std::vector<float>(n, 0.0f),
                                          node.output(0)));
  FailureOr<Value> v = im.tensorConstant(a->t(), node.output(0));
  if (failed(v))
    return failure();
  Attribute attr;
  (void)matchPattern(*v, m_Constant(&attr));
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() != 1)
    return im.nodeError(node) << "value must hold one element";
  auto type = RankedTensorType::get(*shape, dense.getElementType());
  Value out = im.builder().create<arith::ConstantOp>(
      im.loc(), type,
      DenseElementsAttr::get(type, *dense.value_begin<Attribute>()));
  return im.define(node, out);
}

LogicalResult importRange(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> first = im.input(node, 0);
  if (failed(first))
    return failure();
  bool isInt =
      cast<ShapedType>(first->getType()).getElementType().isInteger(64);
  if (isInt) {
    FailureOr<SmallVector<int64_t>> s = im.intInput(node, 0),
                                    l = im.intInput(node, 1),
                                    d = im.intInput(node, 2);
    if (failed(s) || failed(l) || failed(d))
      return failure();
    if (s->size() != 1 || l->size() != 1 || d->size() != 1 || (*d)[0] == 0)
      return im.nodeError(node) << "expected scalar start, limit and a "
                                   "non-zero delta";
    int64_t start = (*s)[0], limit = (*l)[0], delta = (*d)[0];
    double count = std::ceil(double(limit - start) / double(delta));
    if (count > double(int64_t(1) << 24))
      return im.nodeError(node) << "range of " << count << " elements";
    SmallVector<int64_t> out;
    for (int64_t i = 0; i < count; ++i)
      out.push_back(start + i * delta);
    return im.define(node, im.i64Constant({int64_t(out.size())}, out));
  }
  FailureOr<SmallVector<float>> s = im.floatConstantInput(node, 0),
                                l = im.floatConstantInput(node, 1),
                                d = im.floatConstantInput(node, 2);
  if (failed(s) || failed(l) || failed(d))
    return failure();
  if (s->size() != 1 || l->size() != 1 || d->size() != 1 || (*d)[0] == 0.0f)
    return im.nodeError(node) << "expected scalar start, limit and a "
                                 "non-zero delta";
  double count = std::ceil(((*l)[0] - (*s)[0]) / (*d)[0]);
  if (!(count < double(int64_t(1) << 24)))
    return im.nodeError(node) << "range too large";
  SmallVector<float> out;
  for (int64_t i = 0; i < count; ++i)
    out.push_back((*s)[0] + i * (*d)[0]);
  return im.define(node,
                   im.f32Constant({int64_t(out.size())}, out, node.output(0)));
}

LogicalResult importExpand(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> x = im.input(node, 0);
  FailureOr<SmallVector<int64_t>> shape = im.intInput(node, 1);
  if (failed(x) || failed(shape))
    return failure();
  std::optional<SmallVector<int64_t>> out =
      broadcastShapes(shapeOf(*x), *shape);
  if (!out)
    return im.nodeError(node) << "cannot broadcast " << formatShape(shapeOf(*x))
                              << " to " << formatShape(*shape);
  if (!validShape(*out))
    return im.nodeError(node) << "output " << invalidShapeReason(*out);
  auto type = RankedTensorType::get(
      *out, cast<ShapedType>(x->getType()).getElementType());
  return im.define(node, im.createTyped<ExpandOp>(type, *x));
}

const OpEntry kOps[] = {
    {"Reshape", 11, importReshape},
    {"Flatten", 11, importFlatten},
    {"Squeeze", 11, importSqueeze},
    {"Unsqueeze", 11, importUnsqueeze},
    {"Concat", 11, importConcat},
    {"Split", 11, importSplit},
    {"Slice", 11, importSlice},
    {"Transpose", 11, importTranspose},
    {"Pad", 11, importPad},
    {"Identity", 11, importIdentity},
    {"Dropout", 11, importDropout},
    {"Constant", 11, importConstant},
    {"Shape", 11, importShape},
    {"Size", 11, importSize},
    {"Gather", 11, importGather},
    {"Cast", 11, importCast},
    {"CastLike", 15, importCast},
    {"ConstantOfShape", 11, importConstantOfShape},
    {"Range", 11, importRange},
    {"Expand", 11, importExpand},
};

} // namespace

ArrayRef<OpEntry> onnx_import::tensorOps() { return kOps; }
