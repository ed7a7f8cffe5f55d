//===- TensorOps.cpp - shape inference and folding of tensor ops ----------===//
//
// The ops that carry no weights: shape, gather, cast, concat, slice, expand,
// equal, where, transpose, split, pad, reduce_mean, pooling and matmul. Each
// infers its result type from its operands and attributes (one rule, used by
// the builders the importer calls and by the verifier), and the integer ones
// fold on constants so that shape subgraphs become constants.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Indexing.h"
#include "mobileone/Support/Limits.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::mobileone;

namespace {

/// Bound on slice steps and pad widths: keeps the arithmetic far from
/// overflow. Element counts are bounded by kMaxTensorElements.
constexpr int64_t kMaxElements = int64_t(1) << 31;
/// The largest result concat and expand fold: shapes and small tables
/// (anchor grids), never weights.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 16;

RankedTensorType ranked(Value v) {
  return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

LogicalResult fail(std::optional<Location> loc, const Twine &msg) {
  return emitOptionalError(loc, msg);
}

/// The elements of an integer constant, or nullopt.
std::optional<SmallVector<int64_t>> intValues(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  SmallVector<int64_t> out;
  out.reserve(dense.getNumElements());
  for (const APInt &v : dense.getValues<APInt>())
    out.push_back(dense.getElementType().isInteger(1) ? v.getZExtValue()
                                                      : v.getSExtValue());
  return out;
}

/// An integer constant of `type` (i64 or i1) holding `values`.
Attribute intAttr(ShapedType type, ArrayRef<int64_t> values) {
  if (type.getElementType().isInteger(1)) {
    SmallVector<bool> bits(values.begin(), values.end());
    return DenseElementsAttr::get(type, ArrayRef<bool>(bits));
  }
  return DenseElementsAttr::get(type, values);
}

bool validShape(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && n > kMaxTensorElements / d))
      return false;
    n *= d;
  }
  return true;
}

} // namespace

/// NumPy broadcast of two shapes; nullopt when they do not broadcast.
std::optional<SmallVector<int64_t>>
mobileone::broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

/// Folds a broadcasting integer binary op on constants.
OpFoldResult mobileone::foldIntBinary(
    Type resultType, Attribute lhs, Attribute rhs,
    function_ref<std::optional<int64_t>(int64_t, int64_t)> fn) {
  auto type = dyn_cast<RankedTensorType>(resultType);
  auto l = dyn_cast_or_null<DenseIntElementsAttr>(lhs);
  auto r = dyn_cast_or_null<DenseIntElementsAttr>(rhs);
  if (!type || !type.hasStaticShape() || !l || !r ||
      !type.getElementType().isInteger(64))
    return {};
  std::optional<SmallVector<int64_t>> a = intValues(l), b = intValues(r);
  SmallVector<int64_t> out;
  ArrayRef<int64_t> ls = l.getType().getShape(), rs = r.getType().getShape();
  bool ok = true;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> idx, int64_t) {
    std::optional<int64_t> v =
        fn((*a)[broadcastOffset(ls, idx)], (*b)[broadcastOffset(rs, idx)]);
    ok &= v.has_value();
    out.push_back(v.value_or(0));
  });
  if (!ok)
    return {};
  return intAttr(type, out);
}

//===----------------------------------------------------------------------===//
// shape
//===----------------------------------------------------------------------===//

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType in = ranked(adaptor.getInput());
  if (!in)
    return fail(loc, "expected a ranked input");
  int64_t start = adaptor.getStart(), end = adaptor.getEnd();
  if (start < 0 || end < start || end > in.getRank())
    return fail(loc, "expected 0 <= start <= end <= rank (" +
                         Twine(in.getRank()) + "), got start " + Twine(start) +
                         ", end " + Twine(end));
  types.push_back(
      RankedTensorType::get({end - start}, IntegerType::get(ctx, 64)));
  return success();
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto in = cast<RankedTensorType>(getInput().getType());
  if (!in.hasStaticShape())
    return {};
  ArrayRef<int64_t> dims =
      in.getShape().slice(getStart(), getEnd() - getStart());
  return intAttr(getType(), dims);
}

//===----------------------------------------------------------------------===//
// gather
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  RankedTensorType data = ranked(adaptor.getData());
  RankedTensorType indices = ranked(adaptor.getIndices());
  if (!data || !indices)
    return fail(loc, "expected ranked operands");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= data.getRank())
    return fail(loc, "axis " + Twine(axis) + " is out of range for rank " +
                         Twine(data.getRank()));
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  types.push_back(RankedTensorType::get(shape, data.getElementType()));
  return success();
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  std::optional<SmallVector<int64_t>> data = intValues(adaptor.getData());
  std::optional<SmallVector<int64_t>> indices = intValues(adaptor.getIndices());
  auto dataType = cast<RankedTensorType>(getData().getType());
  if (!data || !indices || !dataType.hasStaticShape())
    return {};
  ArrayRef<int64_t> ds = dataType.getShape();
  int64_t axis = getAxis(), dim = ds[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= ds[i];
  for (size_t i = axis + 1; i < ds.size(); ++i)
    inner *= ds[i];
  SmallVector<int64_t> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t idx : *indices) {
      if (idx < -dim || idx >= dim)
        return {}; // out of range: left for the verifier of the consumer
      int64_t k = idx < 0 ? idx + dim : idx;
      for (int64_t i = 0; i < inner; ++i)
        out.push_back((*data)[(o * dim + k) * inner + i]);
    }
  return intAttr(cast<ShapedType>(getType()), out);
}

//===----------------------------------------------------------------------===//
// cast
//===----------------------------------------------------------------------===//

LogicalResult CastOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (in.getShape() != out.getShape())
    return emitOpError("expected the result shape to equal the input shape");
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  auto out = cast<ShapedType>(getType());
  if (getInput().getType() == out)
    return getInput();
  if (!out.hasStaticShape())
    return {};
  Type elem = out.getElementType();
  if (std::optional<SmallVector<int64_t>> ints =
          intValues(adaptor.getInput())) {
    if (elem.isInteger(64) || elem.isInteger(1)) {
      if (elem.isInteger(1))
        for (int64_t &v : *ints)
          v = v != 0;
      return intAttr(out, *ints);
    }
    if (elem.isF32()) {
      SmallVector<float> f(ints->begin(), ints->end());
      return DenseElementsAttr::get(out, ArrayRef<float>(f));
    }
  }
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(adaptor.getInput());
  if (dense && elem.isInteger(64)) {
    SmallVector<int64_t> ints;
    for (float v : dense.getValues<float>()) {
      if (!(std::abs(v) < 9.2e18f))
        return {};
      ints.push_back(static_cast<int64_t>(v));
    }
    return intAttr(out, ints);
  }
  return {};
}

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return fail(loc, "expected at least one input");
  RankedTensorType first = ranked(inputs[0]);
  if (!first)
    return fail(loc, "expected ranked inputs");
  int64_t axis = adaptor.getAxis(), rank = first.getRank();
  if (axis < 0 || axis >= rank)
    return fail(loc, "axis " + Twine(axis) + " is out of range for rank " +
                         Twine(rank));
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value v : inputs) {
    RankedTensorType t = ranked(v);
    if (!t || t.getElementType() != first.getElementType() ||
        t.getRank() != rank)
      return fail(loc, "expected inputs of one element type and rank " +
                           Twine(rank));
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && t.getDimSize(d) != first.getDimSize(d))
        return fail(loc, "input shapes " + shapeString(first.getShape()) +
                             " and " + shapeString(t.getShape()) +
                             " differ outside axis " + Twine(axis));
    shape[axis] += t.getDimSize(axis);
  }
  types.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  auto type = cast<RankedTensorType>(getType());
  // Shape arithmetic and small float tables (anchor grids); weights stay.
  if (!type.hasStaticShape() || type.getNumElements() > kMaxFoldedElements)
    return {};
  int64_t axis = getAxis();
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= type.getDimSize(i);
  SmallVector<SmallVector<Attribute>> parts;
  SmallVector<int64_t> chunk;
  for (Attribute attr : adaptor.getInputs()) {
    auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
    if (!dense)
      return {};
    auto vals = llvm::to_vector(dense.getValues<Attribute>());
    chunk.push_back(outer ? static_cast<int64_t>(vals.size()) / outer : 0);
    parts.push_back(std::move(vals));
  }
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (auto [p, c] : llvm::zip(parts, chunk))
      out.append(p.begin() + o * c, p.begin() + (o + 1) * c);
  return DenseElementsAttr::get(type, out);
}

//===----------------------------------------------------------------------===//
// slice
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType in = ranked(adaptor.getInput());
  if (!in)
    return fail(loc, "expected a ranked input");
  ArrayRef<int64_t> starts = adaptor.getStarts(), ends = adaptor.getEnds(),
                    steps = adaptor.getSteps();
  int64_t rank = in.getRank();
  if (static_cast<int64_t>(starts.size()) != rank ||
      static_cast<int64_t>(ends.size()) != rank ||
      static_cast<int64_t>(steps.size()) != rank)
    return fail(loc, "expected one start, end and step per dimension (" +
                         Twine(rank) + ")");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = in.getDimSize(d), s = starts[d], e = ends[d], st = steps[d];
    bool ok = st > 0 ? (s >= 0 && s <= dim && e >= 0 && e <= dim)
                     : (st < 0 && s >= -1 && s < dim && e >= -1 && e < dim);
    if (!ok || st < -kMaxElements || st > kMaxElements)
      return fail(loc, "slice of dimension " + Twine(d) + " (size " +
                           Twine(dim) + "): start " + Twine(s) + ", end " +
                           Twine(e) + ", step " + Twine(st) +
                           " are not normalised");
    int64_t n = st > 0 ? (e - s + st - 1) / st : (s - e + (-st) - 1) / (-st);
    shape.push_back(std::max<int64_t>(0, n));
  }
  types.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() &&
      llvm::all_of(getSteps(), [](int64_t s) { return s == 1; }))
    return getInput();
  std::optional<SmallVector<int64_t>> in = intValues(adaptor.getInput());
  auto inType = cast<RankedTensorType>(getInput().getType());
  auto type = cast<RankedTensorType>(getType());
  if (!in || !type.hasStaticShape())
    return {};
  SmallVector<int64_t> strides = stridesOf(inType.getShape()), out;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> idx, int64_t) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      off += (getStarts()[d] + idx[d] * getSteps()[d]) * strides[d];
    out.push_back((*in)[off]);
  });
  return intAttr(type, out);
}

//===----------------------------------------------------------------------===//
// expand
//===----------------------------------------------------------------------===//

LogicalResult ExpandOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getOutput().getType());
  std::optional<SmallVector<int64_t>> b =
      broadcastShapes(in.getShape(), out.getShape());
  if (in.getElementType() != out.getElementType() || !b ||
      ArrayRef<int64_t>(*b) != out.getShape())
    return emitOpError("cannot broadcast ")
           << in << " to " << out << " (expected the result type to be the "
           << "broadcast of the input to the target shape)";
  return success();
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  auto type = cast<RankedTensorType>(getType());
  if (!dense || !type.hasStaticShape() ||
      type.getNumElements() > kMaxFoldedElements)
    return {};
  ArrayRef<int64_t> is =
      cast<RankedTensorType>(getInput().getType()).getShape();
  auto in = llvm::to_vector(dense.getValues<Attribute>());
  SmallVector<Attribute> out;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> idx, int64_t) {
    out.push_back(in[broadcastOffset(is, idx)]);
  });
  return DenseElementsAttr::get(type, out);
}

//===----------------------------------------------------------------------===//
// equal, where
//===----------------------------------------------------------------------===//

LogicalResult EqualOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType l = ranked(adaptor.getLhs()), r = ranked(adaptor.getRhs());
  if (!l || !r || l.getElementType() != r.getElementType())
    return fail(loc, "expected ranked operands of one element type");
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(l.getShape(), r.getShape());
  if (!shape)
    return fail(loc, "operand shapes " + shapeString(l.getShape()) + " and " +
                         shapeString(r.getShape()) + " do not broadcast");
  types.push_back(RankedTensorType::get(*shape, IntegerType::get(ctx, 1)));
  return success();
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getType());
  std::optional<SmallVector<int64_t>> a = intValues(adaptor.getLhs()),
                                      b = intValues(adaptor.getRhs());
  if (!a || !b || !type.hasStaticShape())
    return {};
  ArrayRef<int64_t> ls = cast<RankedTensorType>(getLhs().getType()).getShape(),
                    rs = cast<RankedTensorType>(getRhs().getType()).getShape();
  SmallVector<int64_t> out;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> idx, int64_t) {
    out.push_back((*a)[broadcastOffset(ls, idx)] ==
                  (*b)[broadcastOffset(rs, idx)]);
  });
  return intAttr(type, out);
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType c = ranked(adaptor.getCondition()),
                   l = ranked(adaptor.getLhs()), r = ranked(adaptor.getRhs());
  if (!c || !l || !r || l.getElementType() != r.getElementType())
    return fail(loc, "expected ranked operands, both branches of one "
                     "element type");
  std::optional<SmallVector<int64_t>> s =
      broadcastShapes(l.getShape(), r.getShape());
  if (s)
    s = broadcastShapes(c.getShape(), *s);
  if (!s)
    return fail(loc, "operand shapes do not broadcast");
  types.push_back(RankedTensorType::get(*s, l.getElementType()));
  return success();
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getType());
  std::optional<SmallVector<int64_t>> c = intValues(adaptor.getCondition()),
                                      a = intValues(adaptor.getLhs()),
                                      b = intValues(adaptor.getRhs());
  if (!c || !a || !b || !type.hasStaticShape())
    return {};
  auto shape = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  SmallVector<int64_t> out;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> idx, int64_t) {
    out.push_back((*c)[broadcastOffset(shape(getCondition()), idx)]
                      ? (*a)[broadcastOffset(shape(getLhs()), idx)]
                      : (*b)[broadcastOffset(shape(getRhs()), idx)]);
  });
  return intAttr(type, out);
}

//===----------------------------------------------------------------------===//
// transpose, split, pad
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  RankedTensorType in = ranked(adaptor.getInput());
  if (!in)
    return fail(loc, "expected a ranked input");
  ArrayRef<int64_t> perm = adaptor.getPerm();
  SmallVector<bool> seen(in.getRank(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || seen[p] ||
        static_cast<int64_t>(perm.size()) != in.getRank())
      return fail(loc, "perm " + shapeString(perm) +
                           " is not a permutation of the " +
                           Twine(in.getRank()) + " dimensions");
    seen[p] = true;
    shape.push_back(in.getDimSize(p));
  }
  types.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  bool identity = true;
  for (auto [i, p] : llvm::enumerate(perm))
    identity &= static_cast<int64_t>(i) == p;
  if (identity)
    return getInput();
  std::optional<SmallVector<int64_t>> in = intValues(adaptor.getInput());
  auto type = cast<RankedTensorType>(getType());
  if (!in || !type.hasStaticShape())
    return {};
  SmallVector<int64_t> strides =
      stridesOf(cast<RankedTensorType>(getInput().getType()).getShape());
  SmallVector<int64_t> out;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> idx, int64_t) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      off += idx[d] * strides[perm[d]];
    out.push_back((*in)[off]);
  });
  return intAttr(type, out);
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType in = ranked(adaptor.getInput());
  if (!in)
    return fail(loc, "expected a ranked input");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= in.getRank())
    return fail(loc, "axis " + Twine(axis) + " is out of range for rank " +
                         Twine(in.getRank()));
  int64_t total = 0;
  for (int64_t s : adaptor.getSplit()) {
    if (s < 0 || s > in.getDimSize(axis))
      return fail(loc, "invalid part size " + Twine(s));
    total += s;
  }
  if (adaptor.getSplit().empty() || total != in.getDimSize(axis))
    return fail(loc, "part sizes " + shapeString(adaptor.getSplit()) +
                         " do not sum to dimension " + Twine(axis) + " (" +
                         Twine(in.getDimSize(axis)) + ")");
  for (int64_t s : adaptor.getSplit()) {
    SmallVector<int64_t> shape(in.getShape());
    shape[axis] = s;
    types.push_back(RankedTensorType::get(shape, in.getElementType()));
  }
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  RankedTensorType in = ranked(adaptor.getInput());
  if (!in)
    return fail(loc, "expected a ranked input");
  ArrayRef<int64_t> pads = adaptor.getPads();
  int64_t rank = in.getRank();
  StringRef mode = adaptor.getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return fail(loc, "unsupported pad mode '" + mode +
                         "' (expected constant, reflect or edge)");
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return fail(loc, "expected " + Twine(2 * rank) + " pads, got " +
                         Twine(pads.size()));
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t b = pads[d], e = pads[d + rank], dim = in.getDimSize(d);
    if (b < 0 || e < 0 || b > kMaxElements || e > kMaxElements)
      return fail(loc, "expected non-negative pads, got " + shapeString(pads));
    if (mode == "reflect" && (b >= dim || e >= dim))
      return fail(loc, "reflect padding of dimension " + Twine(d) +
                           " must be smaller than its size " + Twine(dim));
    if (mode == "edge" && dim == 0 && (b || e))
      return fail(loc, "edge padding of an empty dimension");
    shape.push_back(dim + b + e);
  }
  if (!validShape(shape))
    return fail(loc, "padded shape " + shapeString(shape) + " is too large");
  types.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

OpFoldResult PadOp::fold(FoldAdaptor) {
  // PyTorch writes an all-zero Pad in front of avg_pool2d.
  if (llvm::all_of(getPads(), [](int64_t p) { return p == 0; }))
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// reduce_mean, pooling, matmul
//===----------------------------------------------------------------------===//

template <typename Adaptor>
static LogicalResult inferReduce(std::optional<Location> loc, Adaptor adaptor,
                                 SmallVectorImpl<Type> &types) {
  RankedTensorType in = ranked(adaptor.getInput());
  if (!in)
    return fail(loc, "expected a ranked input");
  ArrayRef<int64_t> axes = adaptor.getAxes();
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] < 0 || axes[i] >= in.getRank() || (i && axes[i] <= axes[i - 1]))
      return fail(loc, "axes " + shapeString(axes) +
                           " must be sorted, unique and within rank " +
                           Twine(in.getRank()));
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    bool reduced = axes.empty() || llvm::is_contained(axes, d);
    if (!reduced)
      shape.push_back(in.getDimSize(d));
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  types.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

#define MOBILEONE_REDUCE_INFERENCE(Op)                                         \
  LogicalResult Op::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &types) {                                          \
    return inferReduce(loc, adaptor, types);                                   \
  }
MOBILEONE_REDUCE_INFERENCE(ReduceMeanOp)
MOBILEONE_REDUCE_INFERENCE(ReduceSumOp)
MOBILEONE_REDUCE_INFERENCE(ReduceMaxOp)
#undef MOBILEONE_REDUCE_INFERENCE

/// Output extent of a pooling window along one dimension, or -1.
static int64_t poolOutputSize(int64_t in, int64_t k, int64_t padBegin,
                              int64_t padEnd, int64_t stride, int64_t dilation,
                              bool ceil) {
  int64_t span = dilation * (k - 1) + 1;
  int64_t room = in + padBegin + padEnd - span;
  if (room < 0)
    return -1;
  int64_t out = (ceil ? (room + stride - 1) / stride : room / stride) + 1;
  // A window must start inside the input or the begin padding.
  if (ceil && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

template <typename Adaptor>
static LogicalResult inferPool(std::optional<Location> loc, Adaptor adaptor,
                               SmallVectorImpl<Type> &types) {
  RankedTensorType in = ranked(adaptor.getInput());
  if (!in || in.getRank() != 4)
    return fail(loc, "expected a 4-D NCHW input");
  ArrayRef<int64_t> k = adaptor.getKernelShape(), s = adaptor.getStrides(),
                    p = adaptor.getPads(), d = adaptor.getDilations();
  auto within = [](ArrayRef<int64_t> v, size_t n, int64_t lo) {
    return v.size() == n && llvm::all_of(v, [&](int64_t x) {
             return x >= lo && x <= (int64_t(1) << 16);
           });
  };
  if (!within(k, 2, 1) || !within(s, 2, 1) || !within(d, 2, 1) ||
      !within(p, 4, 0))
    return fail(loc, "expected 2 kernel sizes, strides and dilations in "
                     "[1, 65536] and 4 pads in [0, 65536]");
  if (p[0] >= d[0] * (k[0] - 1) + 1 || p[2] >= d[0] * (k[0] - 1) + 1 ||
      p[1] >= d[1] * (k[1] - 1) + 1 || p[3] >= d[1] * (k[1] - 1) + 1)
    return fail(loc, "pads " + shapeString(p) +
                         " must be smaller than the kernel " + shapeString(k));
  bool ceil = adaptor.getCeilMode() != 0;
  int64_t oh = poolOutputSize(in.getDimSize(2), k[0], p[0], p[2], s[0], d[0],
                              ceil),
          ow = poolOutputSize(in.getDimSize(3), k[1], p[1], p[3], s[1], d[1],
                              ceil);
  if (oh < 1 || ow < 1)
    return fail(loc, "kernel " + shapeString(k) +
                         " does not fit the padded input " +
                         shapeString(in.getShape()));
  types.push_back(RankedTensorType::get(
      {in.getDimSize(0), in.getDimSize(1), oh, ow}, in.getElementType()));
  return success();
}

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferPool(loc, adaptor, types);
}

LogicalResult AvgPoolOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferPool(loc, adaptor, types);
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  RankedTensorType l = ranked(adaptor.getLhs()), r = ranked(adaptor.getRhs());
  if (!l || !r || l.getRank() < 2 || r.getRank() < 2)
    return fail(loc, "expected operands of rank >= 2");
  int64_t m = l.getDimSize(l.getRank() - 2), k = l.getDimSize(l.getRank() - 1);
  int64_t k2 = r.getDimSize(r.getRank() - 2), n = r.getDimSize(r.getRank() - 1);
  if (k != k2)
    return fail(loc, "inner dimensions differ: " + shapeString(l.getShape()) +
                         " x " + shapeString(r.getShape()));
  std::optional<SmallVector<int64_t>> batch =
      broadcastShapes(l.getShape().drop_back(2), r.getShape().drop_back(2));
  if (!batch)
    return fail(loc, "batch dimensions of " + shapeString(l.getShape()) +
                         " and " + shapeString(r.getShape()) +
                         " do not broadcast");
  batch->push_back(m);
  batch->push_back(n);
  if (!validShape(*batch))
    return fail(loc, "result shape is too large");
  types.push_back(RankedTensorType::get(*batch, l.getElementType()));
  return success();
}

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  RankedTensorType in = ranked(adaptor.getInput());
  if (!in || in.getRank() < 1)
    return fail(loc, "expected a ranked input of rank >= 1");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= in.getRank())
    return fail(loc, "axis " + Twine(axis) + " is out of range for rank " +
                         Twine(in.getRank()));
  if (in.getDimSize(axis) == 0)
    return fail(loc, "the reduced dimension is empty");
  SmallVector<int64_t> shape(in.getShape());
  if (adaptor.getKeepdims())
    shape[axis] = 1;
  else
    shape.erase(shape.begin() + axis);
  types.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}
