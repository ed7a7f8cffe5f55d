//===- IdentitySplit.cpp - identity taps kept out of int8 kernels ---------===//

#include "IdentitySplit.h"

#include "mobileone/Support/Weights.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::mobileone;

namespace {

/// A split must buy at least this much weight SQNR to be worth its two
/// operators.
constexpr double kMinGainDb = 3.0;
/// A kernel whose weights keep this much SQNR loses less to them than an
/// int8 activation loses to rounding (a Gaussian tensor's min/max range
/// quantised to 256 levels keeps ~40 dB): nothing to win.
constexpr double kEnoughDb = 40.0;

int64_t elementsOf(Type t) {
  auto ranked = dyn_cast<RankedTensorType>(t);
  return ranked && ranked.hasStaticShape() ? ranked.getNumElements() : 0;
}

/// The estimated int8 time of `op` (seconds) on the folding's roofline:
/// activations one byte per element, read and written once.
double int8Seconds(Operation *op, const Int8Folding &f) {
  double macs = 0.0, bytes = 0.0;
  for (Value v : op->getOperands())
    bytes += double(elementsOf(v.getType()));
  for (Value v : op->getResults())
    bytes += double(elementsOf(v.getType()));
  auto outElems = [&]() { return double(elementsOf(op->getResult(0).getType())); };
  if (auto c = dyn_cast<tosa::Conv2DOp>(op)) {
    auto w = cast<RankedTensorType>(c.getWeight().getType()).getShape();
    macs = outElems() * double(w[1] * w[2] * w[3]);
  } else if (auto c = dyn_cast<tosa::DepthwiseConv2DOp>(op)) {
    auto w = cast<RankedTensorType>(c.getWeight().getType()).getShape();
    macs = outElems() * double(w[0] * w[1]);
  } else if (auto c = dyn_cast<tosa::FullyConnectedOp>(op)) {
    auto w = cast<RankedTensorType>(c.getWeight().getType()).getShape();
    macs = outElems() * double(w[1]);
  } else if (auto m = dyn_cast<tosa::MatMulOp>(op)) {
    auto a = cast<RankedTensorType>(m.getA().getType()).getShape();
    macs = outElems() * double(a[2]);
  }
  return std::max(macs / f.macsPerSecond, bytes / f.bytesPerSecond) +
         f.opSeconds;
}

/// Weight SQNR (dB) of symmetric per-channel int8 rounding of `w`, channel
/// of element e `channelOf(e)`, leaving out the elements `skip(e)`.
template <typename ChannelOf, typename Skip>
double weightSqnr(ArrayRef<float> w, int64_t channels, ChannelOf channelOf,
                  Skip skip) {
  std::vector<double> peak(channels, 0.0);
  std::vector<int64_t> count(channels, 0);
  double signal = 0.0;
  for (int64_t e = 0; e < int64_t(w.size()); ++e) {
    if (skip(e))
      continue;
    int64_t c = channelOf(e);
    peak[c] = std::max(peak[c], std::abs(double(w[e])));
    ++count[c];
    signal += double(w[e]) * double(w[e]);
  }
  double noise = 0.0;
  for (int64_t c = 0; c < channels; ++c) {
    double step = peak[c] / 127.0;
    noise += double(count[c]) * step * step / 12.0;
  }
  if (!(noise > 0.0))
    return 200.0;
  return 10.0 * std::log10(signal / noise);
}

struct Candidate {
  Operation *op;
  tfl::IdentityTaps taps;
  IdentitySplit record;
};

/// `conv` as a candidate: stride 1, odd kernel, "same" padding (the centre
/// tap reads the output pixel's own input pixel), and channel c of the
/// output able to read channel c of the input.
std::optional<Candidate> candidateOf(Operation *conv) {
  bool depthwise = isa<tosa::DepthwiseConv2DOp>(conv);
  Value input = conv->getOperand(0), weight = conv->getOperand(1);
  auto is = cast<RankedTensorType>(input.getType()).getShape();
  auto os = cast<RankedTensorType>(conv->getResult(0).getType()).getShape();
  auto ws = cast<RankedTensorType>(weight.getType()).getShape();
  ArrayRef<int64_t> pad = conv->getAttrOfType<DenseI64ArrayAttr>("pad"),
                    stride = conv->getAttrOfType<DenseI64ArrayAttr>("stride"),
                    dilation =
                        conv->getAttrOfType<DenseI64ArrayAttr>("dilation");
  if (is.size() != 4 || os.size() != 4 || ws.size() != 4 || pad.size() != 4 ||
      stride.size() != 2 || dilation.size() != 2)
    return std::nullopt;
  const int64_t kh = depthwise ? ws[0] : ws[1], kw = depthwise ? ws[1] : ws[2];
  const int64_t channels = depthwise ? ws[2] : ws[0];
  if (stride[0] != 1 || stride[1] != 1 || kh % 2 == 0 || kw % 2 == 0 ||
      pad[0] != dilation[0] * (kh / 2) || pad[1] != pad[0] ||
      pad[2] != dilation[1] * (kw / 2) || pad[3] != pad[2] || is[1] != os[1] ||
      is[2] != os[2] || is[3] != channels || os[3] != channels ||
      (depthwise ? ws[3] != 1 : ws[3] != channels))
    return std::nullopt;
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> w = getConstantF32(weight, storage);
  if (!w)
    return std::nullopt;
  const int64_t centre = (kh / 2) * kw + kw / 2;
  auto tapOf = [&](int64_t c) {
    return depthwise ? centre * channels + c
                     : (c * kh * kw + centre) * channels + c;
  };
  auto channelOf = [&](int64_t e) {
    return depthwise ? e % channels : e / (kh * kw * channels);
  };
  Candidate cand;
  cand.op = conv;
  cand.taps.kernel.assign(w->begin(), w->end());
  for (int64_t c = 0; c < channels; ++c) {
    cand.taps.taps.push_back((*w)[tapOf(c)]);
    cand.taps.kernel[tapOf(c)] = 0.0f;
  }
  auto isTap = [&](int64_t e) {
    int64_t c = channelOf(e);
    return e == tapOf(c);
  };
  cand.record.layer = tfl::opName(conv);
  cand.record.sqnrIn =
      weightSqnr(*w, channels, channelOf, [](int64_t) { return false; });
  cand.record.sqnrOut = weightSqnr(*w, channels, channelOf, isTap);
  if (cand.record.sqnrOut - cand.record.sqnrIn < kMinGainDb ||
      cand.record.sqnrIn >= kEnoughDb)
    return std::nullopt;
  return cand;
}

} // namespace

std::string mlir::mobileone::tfl::opName(Operation *op) {
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    return loc.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(op->getLoc()))
    for (Location l : fused.getLocations())
      if (auto n = dyn_cast<NameLoc>(l))
        return n.getName().str();
  return op->getName().stripDialect().str();
}

llvm::DenseMap<Operation *, tfl::IdentityTaps> mlir::mobileone::tfl::
    chooseIdentitySplits(func::FuncOp func,
                         const llvm::DenseSet<Operation *> &skip,
                         const Int8Folding &folding,
                         std::vector<IdentitySplit> *record,
                         double *estimate) {
  llvm::DenseMap<Operation *, IdentityTaps> chosen;
  double total = 0.0;
  std::vector<Candidate> candidates;
  for (Operation &op : func.getBody().front().without_terminator()) {
    if (op.hasTrait<OpTrait::ConstantLike>() || skip.contains(&op))
      continue;
    total += int8Seconds(&op, folding);
    if (folding.splitIdentity &&
        isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp>(op) &&
        !llvm::is_contained(folding.keepFloat, opName(&op)))
      if (std::optional<Candidate> c = candidateOf(&op))
        candidates.push_back(std::move(*c));
  }
  if (estimate)
    *estimate = total;
  if (!folding.splitIdentity)
    return chosen;
  // The extra operators: a 1x1 depthwise and an ADD over the map. Both are
  // compute-bound in int8 (the ADD requantises each input and the sum):
  // the time of folding.splitMacs multiply-adds per element.
  for (Candidate &c : candidates) {
    double map = double(elementsOf(c.op->getResult(0).getType()));
    double seconds = std::max(map * folding.splitMacs / folding.macsPerSecond,
                              5.0 * map / folding.bytesPerSecond) +
                     2.0 * folding.opSeconds;
    c.record.cost = total > 0.0 ? seconds / total : 0.0;
  }
  // The largest gains first, within the budget.
  std::vector<size_t> order(candidates.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const IdentitySplit &x = candidates[a].record, &y = candidates[b].record;
    return x.sqnrOut - x.sqnrIn > y.sqnrOut - y.sqnrIn;
  });
  double spent = 0.0;
  for (size_t i : order) {
    Candidate &c = candidates[i];
    if (spent + c.record.cost > folding.maxSlowdown + 1e-12) {
      c.record.reason = "over the latency budget";
      continue;
    }
    spent += c.record.cost;
    c.record.chosen = true;
    chosen[c.op] = std::move(c.taps);
  }
  if (record)
    for (Candidate &c : candidates)
      record->push_back(std::move(c.record));
  return chosen;
}
