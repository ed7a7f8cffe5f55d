//===- Canonicalize.cpp - canonicalisation patterns of mobileone ops ------===//
//
// Rewrites that put imported graphs into the one form the passes match:
// a zero Pad in front of a conv becomes the conv's padding, the GELU
// that exporters before opset 20 write as `Div -> Erf -> Add -> Mul -> Mul`
// becomes one `mobileone.gelu`, and `x * sigmoid(x)` one `mobileone.silu`. A batch_norm after a transposed convolution
// folds into it (a per-channel affine map of its output channels), and one
// before layout ops into matrix products (attention's projections).
//
//===----------------------------------------------------------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Math/Reparam.h"
#include "mobileone/Support/Weights.h"

#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::mobileone;

namespace {

/// `conv2d(pad(x))` with zero constant padding of H and W only.
struct FoldPadIntoConv : OpRewritePattern<Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(Conv2DOp conv,
                                PatternRewriter &rewriter) const override {
    auto pad = conv.getInput().getDefiningOp<PadOp>();
    if (!pad || pad.getMode() != "constant" || !pad.getValue().isZero())
      return failure();
    ArrayRef<int64_t> p = pad.getPads(); // [n, c, h, w] begins, then ends
    if (p.size() != 8 || p[0] || p[1] || p[4] || p[5])
      return failure();
    ArrayRef<int64_t> cp = conv.getPads(); // [top, left, bottom, right]
    SmallVector<int64_t> pads = {cp[0] + p[2], cp[1] + p[3], cp[2] + p[6],
                                 cp[3] + p[7]};
    rewriter.replaceOpWithNewOp<Conv2DOp>(
        conv, conv.getType(), pad.getInput(), conv.getWeight(), conv.getBias(),
        conv.getStridesAttr(), rewriter.getDenseI64ArrayAttr(pads),
        conv.getDilationsAttr(), conv.getGroupAttr());
    return success();
  }
};

/// True if `v` is a constant with one element, equal to `expected` up to
/// float rounding of the exporter's literal.
bool isScalar(Value v, double expected) {
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> d = getConstantF32(v, storage);
  return d && d->size() == 1 &&
         std::abs((*d)[0] - expected) <= 1e-6 * std::abs(expected);
}

/// If `mul` multiplies by a scalar constant `c`, returns the other operand.
Value mulByScalar(Operation *op, double c) {
  auto mul = dyn_cast_or_null<MulOp>(op);
  if (!mul)
    return {};
  if (isScalar(mul.getRhs(), c))
    return mul.getLhs();
  if (isScalar(mul.getLhs(), c))
    return mul.getRhs();
  return {};
}

/// `x / sqrt(2)` (as Div or as Mul by 1/sqrt(2)): returns x.
Value scaledBySqrtHalf(Value v) {
  if (auto div = v.getDefiningOp<DivOp>())
    return isScalar(div.getRhs(), M_SQRT2) ? div.getLhs() : Value();
  return mulByScalar(v.getDefiningOp(), M_SQRT1_2);
}

/// `erf(x / sqrt(2)) + 1`: returns x.
Value erfPlusOne(Value v) {
  auto add = v.getDefiningOp<AddOp>();
  if (!add)
    return {};
  for (auto [e, one] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())})
    if (auto erf = e.getDefiningOp<ErfOp>(); erf && isScalar(one, 1.0))
      return scaledBySqrtHalf(erf.getInput());
  return {};
}

/// `x * (erf(x / sqrt(2)) + 1)`, in either operand order: returns x.
Value xTimesErfPlusOne(Value v) {
  auto mul = v.getDefiningOp<MulOp>();
  if (!mul)
    return {};
  if (Value x = erfPlusOne(mul.getRhs()); x && x == mul.getLhs())
    return x;
  if (Value x = erfPlusOne(mul.getLhs()); x && x == mul.getRhs())
    return x;
  return {};
}

/// `0.5 * x * (1 + erf(x / sqrt(2)))`, associated either way.
struct RecognizeGelu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    Value x;
    // (x * (erf(x/sqrt2) + 1)) * 0.5
    if (Value inner = mulByScalar(mul, 0.5))
      x = xTimesErfPlusOne(inner);
    // x * ((erf(x/sqrt2) + 1) * 0.5), either side
    for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()),
                        std::pair(mul.getRhs(), mul.getLhs())}) {
      if (x)
        break;
      if (Value half = mulByScalar(b.getDefiningOp(), 0.5))
        if (Value y = erfPlusOne(half); y && y == a)
          x = y;
    }
    if (!x || x.getType() != mul.getType())
      return failure();
    rewriter.replaceOpWithNewOp<GeluOp>(mul, x,
                                        rewriter.getStringAttr("none"));
    return success();
  }
};

/// The f32 elements of constant `v` in double (the reader batchNormAffine
/// takes), or nullopt.
std::optional<std::vector<double>> readConstant(Value v, StringRef) {
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> d = getConstantF32(v, storage);
  if (!d)
    return std::nullopt;
  return std::vector<double>(d->begin(), d->end());
}

/// `batch_norm(conv_transpose2d(x))` with constant weights and statistics,
/// the transposed convolution used only there: scale the weights of each
/// output channel and shift its bias, in double, rounded once.
struct FoldBatchNormIntoConvTranspose : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    auto ct = bn.getInput().getDefiningOp<ConvTranspose2DOp>();
    if (!ct || !ct->hasOneUse())
      return failure();
    auto read = readConstant;
    std::vector<double> scale, shift;
    std::optional<std::vector<double>> w = read(ct.getWeight(), "weight");
    std::optional<std::vector<double>> b =
        ct.getBias() ? read(ct.getBias(), "bias") : std::nullopt;
    if (!w || (ct.getBias() && !b) || !batchNormAffine(bn, read, scale, shift))
      return failure();
    int64_t oc = ct.getOutChannels();
    if (int64_t(scale.size()) != oc)
      return failure();
    ArrayRef<int64_t> ws = ct.getWeight().getType().getShape();
    // [C, OC / g, KH, KW]: input channel i feeds group i / (C / g).
    int64_t inPerGroup = ws[0] / ct.getGroup(), outPerGroup = ws[1],
            taps = ws[2] * ws[3];
    std::vector<double> weight = *w;
    for (int64_t i = 0; i < ws[0]; ++i)
      for (int64_t j = 0; j < outPerGroup; ++j) {
        double s = scale[(i / inPerGroup) * outPerGroup + j];
        for (int64_t t = 0; t < taps; ++t)
          weight[(i * outPerGroup + j) * taps + t] *= s;
      }
    std::vector<double> bias(oc);
    for (int64_t o = 0; o < oc; ++o)
      bias[o] = (b ? (*b)[o] * scale[o] : 0.0) + shift[o];
    Location loc = ct.getLoc();
    Value newW = createWeightConstant(rewriter, loc, ct.getWeight().getType(),
                                      math::toF32(weight), "conv_transpose.w");
    Value newB = createWeightConstant(
        rewriter, loc, RankedTensorType::get({oc}, rewriter.getF32Type()),
        math::toF32(bias), "conv_transpose.b");
    rewriter.replaceOpWithNewOp<ConvTranspose2DOp>(
        bn, bn.getType(), ct.getInput(), newW, newB, ct.getStridesAttr(),
        ct.getPadsAttr(), ct.getDilationsAttr(), ct.getOutputPaddingAttr(),
        ct.getGroupAttr());
    rewriter.eraseOp(ct);
    return success();
  }
};

/// Where dimension `axis` of `in` goes in a reshape to `out`: the same
/// extent after the same number of elements, or nullopt (split or merged).
std::optional<int64_t> reshapedAxis(ArrayRef<int64_t> in,
                                    ArrayRef<int64_t> out, int64_t axis) {
  int64_t before = 1;
  for (int64_t d = 0; d < axis; ++d)
    before *= in[d];
  int64_t seen = 1;
  for (int64_t d = 0; d < int64_t(out.size()); ++d) {
    if (seen == before && out[d] == in[axis])
      return d;
    seen *= out[d];
  }
  return std::nullopt;
}

/// `matmul(layout(batch_norm(x)), W)` with W a constant [C, D], the layout
/// ops (reshape, transpose) carrying the channel axis to the contracted one,
/// every reader a matmul like that (attention's BN2d -> flatten -> transpose
/// -> q/k/v projections): the BN's scale goes into W's rows and its shift
/// through W into a bias added after each product (merged into an existing
/// constant bias add), in double, rounded once.
struct FoldBatchNormIntoMatMul : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    auto read = readConstant;
    std::vector<double> scale, shift;
    if (!batchNormAffine(bn, read, scale, shift))
      return failure();
    // Follow the channel axis through single-reader layout ops.
    Value v = bn.getResult();
    int64_t axis = 1;
    SmallVector<Operation *> chain;
    while (v.hasOneUse()) {
      Operation *user = *v.user_begin();
      ArrayRef<int64_t> in = cast<RankedTensorType>(v.getType()).getShape();
      std::optional<int64_t> next;
      if (auto r = dyn_cast<ReshapeOp>(user))
        next = reshapedAxis(in, r.getType().getShape(), axis);
      else if (auto t = dyn_cast<TransposeOp>(user))
        next = llvm::find(t.getPerm(), axis) - t.getPerm().begin();
      else
        break;
      if (!next)
        return failure();
      axis = *next;
      chain.push_back(user);
      v = user->getResult(0);
    }
    auto vt = cast<RankedTensorType>(v.getType());
    if (chain.empty() || !vt.hasStaticShape() || axis != vt.getRank() - 1 ||
        v.use_empty())
      return failure();
    const int64_t c = int64_t(scale.size());
    SmallVector<std::pair<MatMulOp, std::vector<double>>> products;
    for (Operation *user : v.getUsers()) {
      auto mm = dyn_cast<MatMulOp>(user);
      std::optional<std::vector<double>> w =
          mm && mm.getLhs() == v ? read(mm.getRhs(), "weight") : std::nullopt;
      if (!w || cast<RankedTensorType>(mm.getRhs().getType()).getRank() != 2 ||
          cast<RankedTensorType>(mm.getRhs().getType()).getDimSize(0) != c)
        return failure();
      products.push_back({mm, std::move(*w)});
    }
    // The layout ops again, on the BN's input.
    Value x = bn.getInput();
    for (Operation *op : chain) {
      rewriter.setInsertionPoint(op);
      Operation *clone = rewriter.clone(*op);
      clone->setOperand(0, x);
      x = clone->getResult(0);
    }
    for (auto &[mm, w] : products) {
      const int64_t d = int64_t(w.size()) / c;
      std::vector<double> bias(d, 0.0);
      for (int64_t i = 0; i < c; ++i)
        for (int64_t j = 0; j < d; ++j) {
          bias[j] += shift[i] * w[i * d + j];
          w[i * d + j] *= scale[i];
        }
      rewriter.setInsertionPoint(mm);
      Location loc = mm.getLoc();
      auto f32 = rewriter.getF32Type();
      Value newW = createWeightConstant(
          rewriter, loc, cast<RankedTensorType>(mm.getRhs().getType()),
          math::toF32(w), "matmul.w");
      auto product = rewriter.create<MatMulOp>(loc, mm.getType(), x, newW);
      // An existing constant bias add takes the shift; else a new add.
      AddOp add = mm->hasOneUse() ? dyn_cast<AddOp>(*mm->user_begin()) : AddOp();
      Value other = add ? (add.getLhs() == mm.getResult() ? add.getRhs()
                                                          : add.getLhs())
                        : Value();
      std::optional<std::vector<double>> existing =
          other ? read(other, "bias") : std::nullopt;
      if (existing && int64_t(existing->size()) == d &&
          add.getType() == mm.getType()) {
        for (int64_t j = 0; j < d; ++j)
          bias[j] += (*existing)[j];
        rewriter.setInsertionPoint(add);
        Value b = createWeightConstant(
            rewriter, add.getLoc(), RankedTensorType::get({d}, f32),
            math::toF32(bias), "matmul.b");
        rewriter.replaceOpWithNewOp<AddOp>(add, add.getType(),
                                           product.getResult(), b);
        rewriter.eraseOp(mm);
        continue;
      }
      Value b = createWeightConstant(rewriter, loc,
                                     RankedTensorType::get({d}, f32),
                                     math::toF32(bias), "matmul.b");
      rewriter.replaceOpWithNewOp<AddOp>(mm, mm.getType(), product.getResult(),
                                         b);
    }
    for (Operation *op : llvm::reverse(chain))
      rewriter.eraseOp(op);
    rewriter.eraseOp(bn);
    return success();
  }
};

/// `x * sigmoid(x)`, in either operand order: SiLU.
struct RecognizeSilu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (auto [x, s] : {std::pair(mul.getLhs(), mul.getRhs()),
                        std::pair(mul.getRhs(), mul.getLhs())})
      if (auto sig = s.getDefiningOp<SigmoidOp>();
          sig && sig.getInput() == x && x.getType() == mul.getType()) {
        rewriter.replaceOpWithNewOp<SiluOp>(mul, x);
        return success();
      }
    return failure();
  }
};

} // namespace

void ConvTranspose2DOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                                    MLIRContext *context) {
  patterns.add<FoldBatchNormIntoConvTranspose>(context);
}

void MatMulOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<FoldBatchNormIntoMatMul>(context);
}

void Conv2DOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<FoldPadIntoConv>(context);
}

void MulOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<RecognizeGelu, RecognizeSilu>(context);
}
