//===- Equalize.cpp - cross-layer equalisation before int8 ----------------===//

#include "Equalize.h"
#include "IdentitySplit.h"

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Weights.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::mobileone;

namespace {

/// `conv`'s weights (OIHW) and bias, or false if they are not constants.
bool constants(Conv2DOp conv, SmallVectorImpl<float> &wStorage,
               ArrayRef<float> &w, SmallVectorImpl<float> &bStorage,
               ArrayRef<float> &b) {
  std::optional<ArrayRef<float>> weights =
      getConstantF32(conv.getWeight(), wStorage);
  std::optional<ArrayRef<float>> bias =
      conv.getBias() ? getConstantF32(conv.getBias(), bStorage) : std::nullopt;
  if (!weights || !bias)
    return false;
  w = *weights;
  b = *bias;
  return true;
}

/// Replaces operand `index` of `op` with a constant of `data`.
void replaceConstant(Operation *op, unsigned index, ArrayRef<float> data) {
  Value old = op->getOperand(index);
  OpBuilder builder(op);
  Value fresh = createWeightConstant(builder, old.getLoc(),
                                     cast<RankedTensorType>(old.getType()),
                                     data, "equalized");
  op->setOperand(index, fresh);
  if (Operation *def = old.getDefiningOp(); def && def->use_empty())
    def->erase();
}

} // namespace

std::vector<std::string> mlir::mobileone::tfl::equalizeChannels(
    func::FuncOp func,
    const std::function<const TensorRange *(StringRef)> &rangeOf,
    const std::set<std::string> &keepFloat) {
  std::vector<std::string> done;
  SmallVector<Conv2DOp> producers;
  func.walk([&](Conv2DOp conv) { producers.push_back(conv); });
  for (Conv2DOp a : producers) {
    // A -> ReLU -> only convolutions reading it as their input.
    if (!a->hasOneUse())
      continue;
    auto relu = dyn_cast<ReluOp>(*a->user_begin());
    if (!relu)
      continue;
    SmallVector<Conv2DOp> readers;
    bool onlyConvs = !relu->use_empty();
    for (OpOperand &use : relu->getUses()) {
      auto b = dyn_cast<Conv2DOp>(use.getOwner());
      onlyConvs &= b && use.getOperandNumber() == 0;
      if (b)
        readers.push_back(b);
    }
    const std::string name = opName(a);
    if (!onlyConvs || keepFloat.count(name) || keepFloat.count(opName(relu)))
      continue;
    if (llvm::any_of(readers,
                     [&](Conv2DOp b) { return keepFloat.count(opName(b)); }))
      continue;
    const int64_t channels = a.getOutChannels();
    const TensorRange *range = rangeOf(name);
    if (!range || int64_t(range->channelMax.size()) != channels)
      continue;
    // Every B depthwise (one input channel per group): full equalisation.
    const bool depthwiseOnly = llvm::all_of(readers, [&](Conv2DOp b) {
      return b.getWeight().getType().getDimSize(1) == 1 &&
             b.getGroup() == channels;
    });
    const double alpha = depthwiseOnly ? 1.0 : 0.5;
    double widest = 0.0;
    for (float m : range->channelMax)
      widest = std::max(widest, double(m));
    if (!(widest > 0.0) || !std::isfinite(widest))
      continue;
    std::vector<double> scale(channels, 1.0);
    bool changes = false;
    for (int64_t c = 0; c < channels; ++c) {
      const double m = range->channelMax[c];
      if (!(m > 0.0))
        continue; // silent on the calibration set: left as it is
      scale[c] = std::max(std::pow(m / widest, alpha), 1.0 / kMaxEqualizeBoost);
      changes |= scale[c] < 0.999;
    }
    if (!changes)
      continue;
    SmallVector<float> wStorage, bStorage;
    ArrayRef<float> w, b;
    if (!constants(a, wStorage, w, bStorage, b))
      continue;
    struct Reader {
      Conv2DOp conv;
      SmallVector<float> storage;
      ArrayRef<float> weights;
    };
    SmallVector<Reader> fromReaders;
    for (Conv2DOp r : readers) {
      Reader reader{r, {}, {}};
      std::optional<ArrayRef<float>> rw =
          getConstantF32(r.getWeight(), reader.storage);
      if (!rw)
        break;
      reader.weights = *rw;
      fromReaders.push_back(std::move(reader));
    }
    if (fromReaders.size() != readers.size())
      continue;
    // A: output channel c divided by s_c.
    const int64_t perRow = int64_t(w.size()) / channels;
    std::vector<float> aw(w.size()), ab(b.size());
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t i = 0; i < perRow; ++i)
        aw[c * perRow + i] = float(double(w[c * perRow + i]) / scale[c]);
      ab[c] = float(double(b[c]) / scale[c]);
    }
    // Each B: input channel c multiplied by s_c. OIHW with groups: output
    // row o reads channels group(o) * perGroup + j.
    std::vector<std::vector<float>> bw;
    for (Reader &r : fromReaders) {
      auto type = r.conv.getWeight().getType();
      const int64_t outs = type.getDimSize(0), perGroup = type.getDimSize(1),
                    taps = type.getDimSize(2) * type.getDimSize(3),
                    outsPerGroup = outs / r.conv.getGroup();
      std::vector<float> scaled(r.weights.size());
      for (int64_t o = 0; o < outs; ++o)
        for (int64_t j = 0; j < perGroup; ++j) {
          const double s = scale[(o / outsPerGroup) * perGroup + j];
          for (int64_t k = 0; k < taps; ++k) {
            const int64_t e = (o * perGroup + j) * taps + k;
            scaled[e] = float(double(r.weights[e]) * s);
          }
        }
      bw.push_back(std::move(scaled));
    }
    replaceConstant(a, 1, aw);
    replaceConstant(a, 2, ab);
    for (auto [r, scaled] : llvm::zip(fromReaders, bw))
      replaceConstant(r.conv, 1, scaled);
    done.push_back(name);
  }
  return done;
}
