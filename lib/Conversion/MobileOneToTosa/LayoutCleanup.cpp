//===- LayoutCleanup.cpp - sink and cancel layout transposes ---------------===//
//
// The lowering wraps every op with a layout in transposes (NCHW -> NHWC in,
// NHWC -> NCHW out). These patterns move each transpose down through the
// ops that do not care about layout (element-wise ops, with constants and
// broadcast shapes re-laid out at compile time; concatenation, reduction and
// slicing with their axes renumbered; reshapes that only move unit
// dimensions) until it meets the next one, and compose the two: a chain of
// convolutions, activations, residual adds and SE gates is NHWC throughout.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Layout.h"
#include "mobileone/Support/Weights.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::mobileone;

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// The permutation of a transpose with constant perms.
std::optional<SmallVector<int64_t>> permOf(tosa::TransposeOp t) {
  DenseIntElementsAttr perms;
  if (!matchPattern(t.getPerms(), m_Constant(&perms)))
    return std::nullopt;
  SmallVector<int64_t> p;
  for (const APInt &v : perms.getValues<APInt>())
    p.push_back(v.getSExtValue());
  return p;
}

SmallVector<int64_t> inverse(ArrayRef<int64_t> p) {
  SmallVector<int64_t> inv(p.size());
  for (auto [i, v] : llvm::enumerate(p))
    inv[v] = i;
  return inv;
}

bool isIdentity(ArrayRef<int64_t> p) {
  for (auto [i, v] : llvm::enumerate(p))
    if (int64_t(i) != v)
      return false;
  return true;
}

/// Whether transposing `shape` by `perm` keeps the order of its non-unit
/// dimensions (the transpose is then a reshape).
bool onlyMovesUnitDims(ArrayRef<int64_t> shape, ArrayRef<int64_t> perm) {
  int64_t last = -1;
  for (int64_t src : perm) {
    if (shape[src] == 1)
      continue;
    if (src < last)
      return false;
    last = src;
  }
  return true;
}

Value createTranspose(PatternRewriter &rewriter, Location loc, Value v,
                      ArrayRef<int64_t> perm) {
  auto permType =
      RankedTensorType::get({int64_t(perm.size())}, rewriter.getI32Type());
  SmallVector<int32_t> p(perm.begin(), perm.end());
  Value perms = rewriter.create<tosa::ConstOp>(
      loc, permType, DenseElementsAttr::get(permType, ArrayRef<int32_t>(p)));
  auto type = cast<RankedTensorType>(v.getType());
  return rewriter.create<tosa::TransposeOp>(
      loc, type.clone(permuteShape(type.getShape(), perm)), v, perms);
}

/// `v` transposed by `perm` without a transpose op: the input of a
/// transpose by the inverse, a re-laid-out constant, or a reshape. Null if
/// none applies.
Value relayoutForFree(PatternRewriter &rewriter, Location loc, Value v,
                      ArrayRef<int64_t> perm) {
  if (auto t = v.getDefiningOp<tosa::TransposeOp>())
    if (auto p = permOf(t); p && *p == inverse(perm))
      return t.getInput1();
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape = permuteShape(type.getShape(), perm);
  // A constant first: a reshape of it would be an op at run time (TOSA's
  // reshape folder does not see into resource blobs).
  SmallVector<float> storage;
  if (type.getElementType().isF32() && type.getNumElements() <= (1 << 16))
    if (std::optional<ArrayRef<float>> data = getConstantF32(v, storage))
      return rewriter.create<tosa::ConstOp>(
          loc, type.clone(shape),
          makeWeightAttr(type.clone(shape),
                         transposeElements(*data, type.getShape(), perm),
                         "relayout"));
  if (onlyMovesUnitDims(type.getShape(), perm))
    return rewriter.create<tosa::ReshapeOp>(loc, type.clone(shape), v,
                                            rewriter.getDenseI64ArrayAttr(shape));
  return nullptr;
}

/// transpose(transpose(x)) -> one transpose, or x.
struct ComposeTransposes : OpRewritePattern<tosa::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::TransposeOp outer,
                                PatternRewriter &rewriter) const override {
    std::optional<SmallVector<int64_t>> p2 = permOf(outer);
    if (!p2)
      return failure();
    if (isIdentity(*p2)) {
      rewriter.replaceOp(outer, outer.getInput1());
      return success();
    }
    auto inner = outer.getInput1().getDefiningOp<tosa::TransposeOp>();
    std::optional<SmallVector<int64_t>> p1 =
        inner ? permOf(inner) : std::nullopt;
    if (!p1)
      return failure();
    SmallVector<int64_t> combined;
    for (int64_t i : *p2)
      combined.push_back((*p1)[i]);
    Value x = inner.getInput1();
    rewriter.replaceOp(outer, isIdentity(combined)
                                  ? x
                                  : createTranspose(rewriter, outer.getLoc(),
                                                    x, combined));
    return success();
  }
};

/// transpose(constant) -> constant; transpose that only moves unit
/// dimensions -> reshape.
struct TransposeToReshapeOrConstant : OpRewritePattern<tosa::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::TransposeOp t,
                                PatternRewriter &rewriter) const override {
    std::optional<SmallVector<int64_t>> p = permOf(t);
    if (!p || t.getInput1().getDefiningOp<tosa::TransposeOp>())
      return failure();
    bool isConst = matchPattern(t.getInput1(), m_Constant());
    if (!isConst && !onlyMovesUnitDims(shapeOf(t.getInput1()), *p))
      return failure();
    Value v = relayoutForFree(rewriter, t.getLoc(), t.getInput1(), *p);
    if (!v)
      return failure();
    rewriter.replaceOp(t, v);
    return success();
  }
};

/// Element-wise ops that commute with any transpose.
bool isElementwise(Operation *op) {
  // mobileone ops kept for target=tflite declare it (ODS ElementwiseMap).
  return isa<tosa::ClampOp, tosa::SigmoidOp, tosa::TanhOp, tosa::ErfOp,
             tosa::ExpOp, tosa::NegateOp, tosa::ReciprocalOp, tosa::RsqrtOp,
             tosa::AddOp, tosa::SubOp, tosa::MulOp, tosa::PowOp,
             tosa::MaximumOp, tosa::MinimumOp>(op) ||
         op->hasTrait<OpTrait::MobileOneElementwise>();
}

/// op(transpose(x), ...) -> transpose(op(x, ...)) for element-wise ops, when
/// every other operand can be re-laid out for free.
struct SinkThroughElementwise : RewritePattern {
  SinkThroughElementwise(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isElementwise(op) || op->getNumResults() != 1)
      return failure();
    std::optional<SmallVector<int64_t>> perm;
    for (Value v : op->getOperands())
      if (auto t = v.getDefiningOp<tosa::TransposeOp>())
        if ((perm = permOf(t)))
          break;
    // Sinking a transpose that has users it cannot sink through would add
    // one.
    for (Value v : op->getOperands())
      if (auto t = v.getDefiningOp<tosa::TransposeOp>())
        for (Operation *user : t->getUsers())
          if (!isElementwise(user) && !isa<tosa::TransposeOp>(user))
            return failure();
    if (!perm)
      return failure();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    if (resultType.getRank() != int64_t(perm->size()))
      return failure();
    SmallVector<int64_t> inv = inverse(*perm);
    SmallVector<Value> operands;
    for (Value v : op->getOperands()) {
      if (cast<RankedTensorType>(v.getType()).getRank() != resultType.getRank())
        return failure();
      // Check first, so a failed match creates nothing.
      auto t = v.getDefiningOp<tosa::TransposeOp>();
      bool free = (t && permOf(t) == std::optional(*perm)) ||
                  onlyMovesUnitDims(shapeOf(v), inv) ||
                  (matchPattern(v, m_Constant()) &&
                   cast<RankedTensorType>(v.getType()).getElementType().isF32() &&
                   cast<RankedTensorType>(v.getType()).getNumElements() <=
                       (1 << 16));
      if (!free)
        return failure();
    }
    for (Value v : op->getOperands()) {
      Value moved = relayoutForFree(rewriter, op->getLoc(), v, inv);
      if (!moved)
        return failure();
      operands.push_back(moved);
    }
    Operation *clone = rewriter.clone(*op);
    clone->setOperands(operands);
    clone->getResult(0).setType(
        resultType.clone(permuteShape(resultType.getShape(), inv)));
    rewriter.replaceOp(op, createTranspose(rewriter, op->getLoc(),
                                           clone->getResult(0), *perm));
    return success();
  }
};

/// reshape(transpose(x)) -> reshape(x) when the transpose only moves unit
/// dimensions.
struct ReshapeOfTranspose : OpRewritePattern<tosa::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::ReshapeOp r,
                                PatternRewriter &rewriter) const override {
    auto t = r.getInput1().getDefiningOp<tosa::TransposeOp>();
    std::optional<SmallVector<int64_t>> p = t ? permOf(t) : std::nullopt;
    if (!p || !onlyMovesUnitDims(shapeOf(t.getInput1()), *p))
      return failure();
    rewriter.modifyOpInPlace(r, [&] { r->setOperand(0, t.getInput1()); });
    return success();
  }
};

/// concat(transpose(a), transpose(b), axis) -> transpose(concat(a, b, p[axis])).
struct SinkThroughConcat : OpRewritePattern<tosa::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::ConcatOp c,
                                PatternRewriter &rewriter) const override {
    std::optional<SmallVector<int64_t>> perm;
    SmallVector<Value> inputs;
    for (Value v : c.getInput1()) {
      auto t = v.getDefiningOp<tosa::TransposeOp>();
      std::optional<SmallVector<int64_t>> p = t ? permOf(t) : std::nullopt;
      if (!p || (perm && *p != *perm) || !t->hasOneUse())
        return failure();
      perm = p;
      inputs.push_back(t.getInput1());
    }
    if (!perm)
      return failure();
    auto type = cast<RankedTensorType>(c.getType());
    int64_t axis = (*perm)[c.getAxis()];
    Value inner = rewriter.create<tosa::ConcatOp>(
        c.getLoc(), type.clone(permuteShape(type.getShape(), inverse(*perm))),
        inputs, rewriter.getI32IntegerAttr(axis));
    rewriter.replaceOp(c, createTranspose(rewriter, c.getLoc(), inner, *perm));
    return success();
  }
};

/// reduce(transpose(x), axis) -> transpose(reduce(x, p[axis])).
template <typename ReduceOp>
struct SinkThroughReduce : OpRewritePattern<ReduceOp> {
  using OpRewritePattern<ReduceOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceOp r,
                                PatternRewriter &rewriter) const override {
    auto t = r.getInput().template getDefiningOp<tosa::TransposeOp>();
    std::optional<SmallVector<int64_t>> p = t ? permOf(t) : std::nullopt;
    if (!p || !t->hasOneUse())
      return failure();
    auto type = cast<RankedTensorType>(r.getType());
    Value inner = rewriter.create<ReduceOp>(
        r.getLoc(), type.clone(permuteShape(type.getShape(), inverse(*p))),
        t.getInput1(), rewriter.getI32IntegerAttr((*p)[r.getAxis()]));
    rewriter.replaceOp(r, createTranspose(rewriter, r.getLoc(), inner, *p));
    return success();
  }
};

/// slice(transpose(x)) -> transpose(slice(x)) with start and size permuted.
struct SinkThroughSlice : OpRewritePattern<tosa::SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tosa::SliceOp s,
                                PatternRewriter &rewriter) const override {
    auto t = s.getInput().getDefiningOp<tosa::TransposeOp>();
    std::optional<SmallVector<int64_t>> p = t ? permOf(t) : std::nullopt;
    if (!p || !t->hasOneUse())
      return failure();
    SmallVector<int64_t> inv = inverse(*p);
    auto type = cast<RankedTensorType>(s.getType());
    Value inner = rewriter.create<tosa::SliceOp>(
        s.getLoc(), type.clone(permuteShape(type.getShape(), inv)),
        t.getInput1(), permuteShape(s.getStart(), inv),
        permuteShape(s.getSize(), inv));
    rewriter.replaceOp(s, createTranspose(rewriter, s.getLoc(), inner, *p));
    return success();
  }
};

} // namespace

void mobileone::populateLayoutCleanupPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ComposeTransposes, TransposeToReshapeOrConstant,
               SinkThroughElementwise, ReshapeOfTranspose, SinkThroughConcat,
               SinkThroughReduce<tosa::ReduceSumOp>,
               SinkThroughReduce<tosa::ReduceMaxOp>, SinkThroughSlice>(ctx);
  tosa::ReshapeOp::getCanonicalizationPatterns(patterns, ctx);
}
