//===- Quantize.cpp - the emitted float32 graph to TFLite's int8 scheme ---===//
//
// TFLite's quantisation spec (https://www.tensorflow.org/lite/performance/
// quantization_spec): activations int8 per tensor, asymmetric, from the
// calibrated [min, max] widened to hold 0; convolution and fully connected
// weights int8 symmetric (zero point 0), per output channel (CONV_2D and
// FULLY_CONNECTED dimension 0, DEPTHWISE_CONV_2D dimension 3); biases int32
// at input scale x weight scale. A global average pool becomes MEAN, which
// may rescale. Operators
// that do not rescale (RESHAPE, PAD, pooling, SLICE, TRANSPOSE, TILE,
// MAXIMUM, MINIMUM, RESIZE_NEAREST_NEIGHBOR) give their output the input's
// parameters; LOGISTIC
// writes scale 1/256 and zero point -128, TANH 1/128 and 0, as TFLite
// requires; CONCATENATION's inputs are requantised onto the output's
// parameters where they differ. Operators without an int8 form stay float32
// between a DEQUANTIZE and a QUANTIZE, and the graph's inputs and outputs
// stay float32.
//
//===----------------------------------------------------------------------===//

#include "Graph.h"

#include "mobileone/Support/Half.h"

#include "llvm/ADT/StringRef.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>

using namespace mlir::mobileone;
using namespace mlir::mobileone::tfl;
using tflite::BuiltinOperator;

namespace {

/// How an int8 operator's output parameters are chosen.
enum class OutputRule { OwnRange, SameAsInput, Logistic, Tanh };

/// The int8 form of `code`, if TFLite has one that the runtimes run.
std::optional<OutputRule> int8Rule(BuiltinOperator code) {
  switch (code) {
  case tflite::BuiltinOperator_CONV_2D:
  case tflite::BuiltinOperator_DEPTHWISE_CONV_2D:
  case tflite::BuiltinOperator_FULLY_CONNECTED:
  case tflite::BuiltinOperator_ADD:
  case tflite::BuiltinOperator_SUB:
  case tflite::BuiltinOperator_MUL:
  case tflite::BuiltinOperator_MEAN:
  case tflite::BuiltinOperator_CONCATENATION:
  case tflite::BuiltinOperator_RELU:
  case tflite::BuiltinOperator_RELU6:
  case tflite::BuiltinOperator_RELU_N1_TO_1:
  case tflite::BuiltinOperator_HARD_SWISH:
  case tflite::BuiltinOperator_GELU:
  case tflite::BuiltinOperator_LEAKY_RELU:
    return OutputRule::OwnRange;
  case tflite::BuiltinOperator_RESHAPE:
  case tflite::BuiltinOperator_PAD:
  case tflite::BuiltinOperator_PADV2:
  case tflite::BuiltinOperator_AVERAGE_POOL_2D:
  case tflite::BuiltinOperator_MAX_POOL_2D:
  case tflite::BuiltinOperator_SLICE:
  case tflite::BuiltinOperator_TRANSPOSE:
  case tflite::BuiltinOperator_TILE:
  case tflite::BuiltinOperator_MAXIMUM:
  case tflite::BuiltinOperator_MINIMUM:
  case tflite::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR:
    return OutputRule::SameAsInput;
  case tflite::BuiltinOperator_LOGISTIC:
    return OutputRule::Logistic;
  case tflite::BuiltinOperator_TANH:
    return OutputRule::Tanh;
  default:
    return std::nullopt;
  }
}

/// Asymmetric int8 parameters for values in [lo, hi] (widened to hold 0,
/// so that zero padding is exact). A range of one point (an activation
/// constant over the calibration set, e.g. a ReLU that never fires) gets
/// scale 1 and zero point 0, as ONNX Runtime's quantiser does.
Quantization asymmetric(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  Quantization q;
  if (!(hi - lo > 1e-30) || !std::isfinite(hi - lo)) {
    q.scale = {1.0f};
    q.zeroPoint = {0};
    return q;
  }
  // The runtimes' multipliers need scales in a sane range.
  double scale = std::max((hi - lo) / 255.0, 0x1p-30);
  double zero = std::round(-128.0 - lo / scale);
  q.scale = {float(scale)};
  q.zeroPoint = {int64_t(std::min(127.0, std::max(-128.0, zero)))};
  return q;
}

int8_t quantizeValue(double v, float scale, int64_t zero) {
  double q = std::round(v / double(scale)) + double(zero);
  if (std::isnan(q))
    return int8_t(zero);
  return int8_t(std::min(127.0, std::max(-128.0, q)));
}

class Quantizer {
public:
  Quantizer(Graph &g, const std::vector<TensorRange> &ranges,
            const std::function<std::string(const std::string &)> &unique,
            flatbuffers::FlatBufferBuilder &fbb, QuantizationSummary *summary,
            const Int8Folding &folding)
      : g(g), ranges(ranges), unique(unique), fbb(fbb), summary(summary),
        keepFloat(folding.keepFloat.begin(), folding.keepFloat.end()),
        halfWeights(folding.halfWeights.begin(), folding.halfWeights.end()),
        biasCorrection(folding.biasCorrection) {}
  void run();
  /// --io-dtype int8, after run(): every float32 graph input and output
  /// becomes the int8 tensor its QUANTIZE writes or its DEQUANTIZE reads
  /// (those operators dropped), under the interface's name; one computed in
  /// float32 gets a QUANTIZE with its calibrated range. False with `error`
  /// where a tensor has no range to quantise it with.
  bool useInt8Interface(std::string &error);
  /// The --keep-float names that matched an operator.
  std::set<std::string> keptFloat;
  std::set<std::string> keepFloat;
  /// Kept layers whose weights are stored float16 (Int8Folding::halfWeights).
  std::set<std::string> halfWeights;
  bool biasCorrection;
  /// Layers kept because a tensor of theirs was named: layer -> that name.
  std::map<std::string, std::string> aliases;
  /// The input of the PAD computing each tensor, or -1.
  std::vector<int32_t> padSource;
  /// PADs read only by layers kept in float32: float32 too, so that the
  /// runtime folds each into the convolution after it.
  std::set<int32_t> floatPads;

private:
  bool eligible(const OpRecord &op);
  bool isActivation(int32_t t) const { return t >= 0 && !g.isConstant(t); }
  bool observed(int32_t t) const {
    return size_t(t) < ranges.size() && ranges[t].seen;
  }
  Quantization rangeParams(int32_t t) const {
    return asymmetric(ranges[t].min, ranges[t].max);
  }
  /// The int8 / float32 form of activation `t`, converting (once) if need be.
  int32_t int8Of(int32_t t);
  int32_t floatOf(int32_t t);
  /// A new activation like `like` with `type` and `name`.
  int32_t newTensor(int32_t like, tflite::TensorType type,
                    const std::string &name, const Quantization &q) {
    TensorRecord r;
    r.shape = g.tensors[like].shape;
    r.type = type;
    r.name = unique(name);
    r.quant = q;
    r.origin = g.tensors[like].origin;
    g.tensors.push_back(std::move(r));
    int8Form.push_back(-1);
    floatForm.push_back(-1);
    return g.tensors.size() - 1;
  }
  int32_t newConstant(const std::vector<int32_t> &shape, tflite::TensorType type,
                      const std::string &name, const void *data, size_t bytes,
                      const Quantization &q) {
    TensorRecord r;
    r.shape = shape;
    r.type = type;
    r.name = unique(name);
    r.buffer = g.addBuffer(data, bytes);
    r.quant = q;
    g.tensors.push_back(std::move(r));
    int8Form.push_back(-1);
    floatForm.push_back(-1);
    return g.tensors.size() - 1;
  }
  /// A float32 constant as int8 with `q` (one scale) or with its own range.
  int32_t quantizeConstant(int32_t t, std::optional<Quantization> q);
  /// Weights symmetric per slice of `axis` (the output channels), each
  /// slice's scale large enough that `bias` (or -1) at input scale x
  /// weight scale fits int32; and the bias at that scale.
  int32_t quantizeWeights(int32_t w, int axis, float inputScale, int32_t bias);
  int32_t quantizeBias(int32_t b, int32_t input, int32_t weights);
  /// Bias correction: the float bias of `op` (reading the float activation
  /// `x`) minus the mean error its int8 `weights` make on the calibration
  /// set's input channel means; `op`'s bias if there is nothing to correct.
  int32_t correctBias(const OpRecord &op, int32_t x, int32_t weights);
  /// Folds the input channels of a 1x1 convolution or fully connected
  /// layer that were constant over the calibration set (to within
  /// kConstantSpread of a step of the input's quantisation) into its bias: weights `w` and bias
  /// `b` replaced by float copies. Returns the channels folded.
  int foldConstantChannels(OpRecord &op, int32_t x, float step,
                           float outputStep);

  Graph &g;
  const std::vector<TensorRange> &ranges;
  const std::function<std::string(const std::string &)> &unique;
  flatbuffers::FlatBufferBuilder &fbb;
  QuantizationSummary *summary;
  std::vector<int32_t> int8Form, floatForm;
  /// The float graph's types (tensors are retyped in place as it goes).
  std::vector<tflite::TensorType> originalType;
  std::vector<OpRecord> out;
};

/// `origin` without an identity split's part suffix `part`, if it ends in
/// it.
std::optional<std::string> withoutPart(const std::string &origin,
                                       llvm::StringRef part) {
  llvm::StringRef o(origin);
  if (o.size() <= part.size() || !o.consume_back(part))
    return std::nullopt;
  return o.str();
}

/// The layer an operator's output belongs to: its origin without an
/// identity split's part suffix.
std::string layerOf(const std::string &origin) {
  for (const char *part : {kKernelPart, kIdentityPart})
    if (std::optional<std::string> layer = withoutPart(origin, part))
      return *layer;
  return origin;
}

bool Quantizer::eligible(const OpRecord &op) {
  std::optional<OutputRule> rule = int8Rule(op.code);
  if (!rule || op.outputs.size() != 1 || op.inputs.empty() ||
      floatPads.count(op.outputs[0]))
    return false;
  if (!keepFloat.empty()) {
    // By layer (the op's name) or by tensor (as the int8 error lists name
    // them).
    const TensorRecord &out = g.tensors[op.outputs[0]];
    for (const std::string &name : {layerOf(out.origin), out.name})
      if (keepFloat.count(name)) {
        auto alias = aliases.find(name);
        keptFloat.insert(alias != aliases.end() ? alias->second : name);
        return false;
      }
  }
  // A tensor needs a calibrated range where its parameters come from it:
  // not where they follow another's (a PAD the runtime folded into the
  // convolution after it was never computed, so never observed).
  const int32_t y = op.outputs[0];
  if (originalType[y] != tflite::TensorType_FLOAT32 ||
      (*rule == OutputRule::OwnRange && !observed(y)) ||
      !isActivation(op.inputs[0]))
    return false;
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    int32_t t = op.inputs[i];
    if (t < 0)
      continue;
    if (isActivation(t) &&
        (originalType[t] != tflite::TensorType_FLOAT32 ||
         (int8Form[t] < 0 && !observed(t))))
      return false;
  }
  auto floatConstant = [&](size_t i) {
    return i < op.inputs.size() && op.inputs[i] >= 0 &&
           g.isConstant(op.inputs[i]) &&
           g.tensors[op.inputs[i]].type == tflite::TensorType_FLOAT32;
  };
  switch (op.code) {
  case tflite::BuiltinOperator_CONV_2D:
  case tflite::BuiltinOperator_DEPTHWISE_CONV_2D:
  case tflite::BuiltinOperator_FULLY_CONNECTED:
    return floatConstant(1) && (op.inputs.size() < 3 || op.inputs[2] < 0 ||
                                floatConstant(2));
  case tflite::BuiltinOperator_MAXIMUM:
  case tflite::BuiltinOperator_MINIMUM:
    return floatConstant(1) && g.elements(op.inputs[1]) == 1;
  case tflite::BuiltinOperator_PADV2:
    return floatConstant(2);
  case tflite::BuiltinOperator_ADD:
  case tflite::BuiltinOperator_SUB:
  case tflite::BuiltinOperator_MUL:
    return isActivation(op.inputs[1]) || floatConstant(1);
  case tflite::BuiltinOperator_CONCATENATION:
    return std::all_of(op.inputs.begin(), op.inputs.end(),
                       [&](int32_t t) { return isActivation(t); });
  default:
    return true;
  }
}

int32_t Quantizer::int8Of(int32_t t) {
  if (int8Form[t] >= 0)
    return int8Form[t];
  int32_t q = newTensor(t, tflite::TensorType_INT8,
                        g.tensors[t].name + "/int8", rangeParams(t));
  out.push_back({tflite::BuiltinOperator_QUANTIZE, {floatForm[t]}, {q}});
  int8Form[t] = q;
  return q;
}

int32_t Quantizer::floatOf(int32_t t) {
  if (floatForm[t] >= 0)
    return floatForm[t];
  int32_t f = newTensor(t, tflite::TensorType_FLOAT32,
                        g.tensors[t].name + "/float", {});
  out.push_back({tflite::BuiltinOperator_DEQUANTIZE, {int8Form[t]}, {f}});
  floatForm[t] = f;
  return f;
}

int32_t Quantizer::quantizeConstant(int32_t t, std::optional<Quantization> q) {
  const int64_t n = g.elements(t);
  const float *v = g.floats(t);
  if (!q) {
    double lo = 0.0, hi = 0.0;
    for (int64_t i = 0; i < n; ++i)
      if (std::isfinite(v[i])) {
        lo = std::min(lo, double(v[i]));
        hi = std::max(hi, double(v[i]));
      }
    q = asymmetric(lo, hi);
  }
  std::vector<int8_t> data(n);
  for (int64_t i = 0; i < n; ++i)
    data[i] = quantizeValue(v[i], q->scale[0], q->zeroPoint[0]);
  return newConstant(g.tensors[t].shape, tflite::TensorType_INT8,
                     g.tensors[t].name + "/int8", data.data(), data.size(), *q);
}

int32_t Quantizer::quantizeWeights(int32_t w, int axis, float inputScale,
                                   int32_t bias) {
  const std::vector<int32_t> &shape = g.tensors[w].shape;
  const int64_t n = g.elements(w);
  const float *v = g.floats(w);
  const int64_t channels = shape[axis];
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  auto channelOf = [&](int64_t e) { return (e / inner) % channels; };
  std::vector<double> peak(channels, 0.0);
  for (int64_t e = 0; e < n; ++e)
    peak[channelOf(e)] = std::max(peak[channelOf(e)], std::abs(double(v[e])));
  // A slice's scale must also carry its bias: input scale x weight scale
  // is the bias's step, and a nearly dead channel (weights ~1e-7 after
  // weight decay) with a bias of 2 would overflow int32 (and clamp: a
  // constant error of the whole channel). Its weights then get a coarser
  // step, which they do not need.
  std::vector<double> biasPeak(channels, 0.0);
  if (bias >= 0) {
    const float *b = g.floats(bias);
    for (int64_t c = 0; c < g.elements(bias); ++c)
      biasPeak[c] = std::abs(double(b[c]));
  }
  Quantization q;
  q.axis = axis;
  for (int64_t c = 0; c < channels; ++c) {
    // An all-zero channel (every input folded away, or dead): any scale
    // represents its weights, so the one that gives its bias 30 bits (an SE
    // whose input was zero over the calibration set has input scale 1: a
    // weight scale of 1 would round its bias to integers).
    double scale = peak[c] > 0.0 ? std::max(peak[c] / 127.0, 0x1p-30)
                   : biasPeak[c] > 0.0
                       ? biasPeak[c] / (double(inputScale) * 0x1p30)
                       : 1.0;
    scale = std::max(scale, biasPeak[c] / (double(inputScale) * 0x1p30));
    q.scale.push_back(float(scale));
    q.zeroPoint.push_back(0);
  }
  std::vector<int8_t> data(n);
  for (int64_t e = 0; e < n; ++e) {
    double r = std::round(double(v[e]) / double(q.scale[channelOf(e)]));
    data[e] = int8_t(std::min(127.0, std::max(-127.0, r)));
  }
  return newConstant(shape, tflite::TensorType_INT8,
                     g.tensors[w].name + "/int8", data.data(), data.size(), q);
}

int32_t Quantizer::correctBias(const OpRecord &op, int32_t x,
                               int32_t weights) {
  // (x may be replaced by the input of the PAD that computes it.)
  const int32_t b = op.inputs[2], w = op.inputs[1];
  // A PAD the runtime folds into the convolution is never observed: its
  // input's channel means stand for it (the border's zeros are not
  // modelled, as for the convolution's own padding).
  if (size_t(x) < padSource.size() && padSource[x] >= 0 &&
      (size_t(x) >= ranges.size() || ranges[x].channelCount == 0))
    x = padSource[x];
  if (size_t(x) >= ranges.size())
    return b;
  const TensorRange &r = ranges[x];
  const std::vector<int32_t> &ws = g.tensors[w].shape;
  const bool depthwise = op.code == tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
  const int64_t n = g.elements(w), out = g.elements(b);
  const int64_t channels = int64_t(r.channelSum.size());
  // Input channels per group (a grouped CONV_2D's filter holds one group's).
  const int64_t in = depthwise ? channels : ws.back();
  if (r.channelCount == 0 || in == 0 || out == 0 || channels % in != 0 ||
      (depthwise && out % in != 0) || out % (channels / in) != 0)
    return b;
  const int64_t perGroup = out / (channels / in);
  // Output o's expected error: sum over its weights of (dequantised -
  // float weight) x the mean of the input channel the weight reads.
  const float *v = g.floats(w);
  const int8_t *q =
      reinterpret_cast<const int8_t *>(g.buffers[g.tensors[weights].buffer].data());
  const std::vector<float> &scale = g.tensors[weights].quant.scale;
  std::vector<double> shift(out, 0.0);
  for (int64_t e = 0; e < n; ++e) {
    const int64_t o = depthwise ? e % out : e / (n / out);
    const int64_t i = depthwise ? o / (out / in) : (o / perGroup) * in + e % in;
    const double error = double(q[e]) * double(scale[o % scale.size()]) - v[e];
    shift[o] += error * (r.channelSum[i] / double(r.channelCount));
  }
  std::vector<float> bias(g.floats(b), g.floats(b) + out);
  for (int64_t o = 0; o < out; ++o)
    bias[o] = float(double(bias[o]) - shift[o]);
  return newConstant(g.tensors[b].shape, tflite::TensorType_FLOAT32,
                     g.tensors[b].name + "/corrected", bias.data(),
                     bias.size() * sizeof(float), {});
}

int32_t Quantizer::quantizeBias(int32_t b, int32_t input, int32_t weights) {
  const int64_t n = g.elements(b);
  const float *v = g.floats(b);
  const Quantization &wq = g.tensors[weights].quant;
  const float inputScale = g.tensors[input].quant.scale[0];
  Quantization q;
  std::vector<int32_t> data(n);
  for (int64_t c = 0; c < n; ++c) {
    q.scale.push_back(float(double(inputScale) * double(wq.scale[c])));
    q.zeroPoint.push_back(0);
    double r = std::round(double(v[c]) / double(q.scale.back()));
    data[c] = int32_t(std::min(2147483647.0, std::max(-2147483648.0, r)));
  }
  return newConstant(g.tensors[b].shape, tflite::TensorType_INT32,
                     g.tensors[b].name + "/int32", data.data(),
                     data.size() * sizeof(int32_t), q);
}

/// A channel is constant if the calibration set moved it by at most this
/// fraction of its quantisation step: rounding puts it on one level, a
/// constant offset error, which folding its mean removes. It is folded only
/// where that offset matters: where a weight of the layer multiplies half an
/// input step into more than an output step (the folded identity BN of a
/// near-constant channel). Calibration is not proof that a channel never
/// moves: on MobileOne-S0 with 8 random samples, 1307 ReLU channels were
/// zero on all of them but not on held-out inputs, and folding them all cost
/// 0.4 dB; none of them had such a weight.
constexpr float kConstantSpread = 1.0f / 16.0f;

int Quantizer::foldConstantChannels(OpRecord &op, int32_t x, float step,
                                    float outputStep) {
  if (op.inputs.size() < 3 || op.inputs[2] < 0 || size_t(x) >= ranges.size())
    return 0;
  const int32_t w = op.inputs[1], b = op.inputs[2];
  const std::vector<int32_t> &ws = g.tensors[w].shape;
  const TensorRange &r = ranges[x];
  // A 1x1 convolution (no padding can reach it), a 1x1 depthwise one (an
  // identity tap kept out of a kernel, IdentitySplit.h) or a fully
  // connected layer, reading all of x's channels.
  const bool depthwise = op.code == tflite::BuiltinOperator_DEPTHWISE_CONV_2D &&
                         ws.size() == 4 && ws[0] == 1 && ws[1] == 1 &&
                         ws[2] == 1;
  const bool oneByOne = op.code == tflite::BuiltinOperator_CONV_2D &&
                        ws.size() == 4 && ws[1] == 1 && ws[2] == 1;
  const int64_t in = ws.back(), out = depthwise ? ws.back() : ws[0];
  if ((!oneByOne && !depthwise &&
       op.code != tflite::BuiltinOperator_FULLY_CONNECTED) ||
      r.channelCount == 0 || int64_t(r.channelMin.size()) != in)
    return 0;
  // Where output i's weight for input j is, if it has one.
  auto weightOf = [&](int64_t i, int64_t j) -> std::optional<int64_t> {
    if (depthwise)
      return i == j ? std::optional<int64_t>(j) : std::nullopt;
    return i * in + j;
  };
  const float *wv = g.floats(w);
  std::vector<int64_t> constant;
  for (int64_t j = 0; j < in; ++j) {
    if (!(r.channelMax[j] - r.channelMin[j] <= kConstantSpread * step))
      continue;
    double largest = 0.0;
    for (int64_t i = 0; i < out; ++i)
      if (std::optional<int64_t> e = weightOf(i, j))
        largest = std::max(largest, std::abs(double(wv[*e])));
    if (largest * 0.5 * step > outputStep)
      constant.push_back(j);
  }
  if (constant.empty())
    return 0;
  std::vector<float> weights(g.floats(w), g.floats(w) + g.elements(w));
  std::vector<float> bias(g.floats(b), g.floats(b) + g.elements(b));
  for (int64_t i = 0; i < out; ++i) {
    double sum = bias[i];
    for (int64_t j : constant)
      if (std::optional<int64_t> e = weightOf(i, j)) {
        sum += double(weights[*e]) * (r.channelSum[j] / r.channelCount);
        weights[*e] = 0.0f;
      }
    bias[i] = float(sum);
  }
  op.inputs[1] = newConstant(ws, tflite::TensorType_FLOAT32,
                             g.tensors[w].name + "/folded", weights.data(),
                             weights.size() * sizeof(float), {});
  op.inputs[2] = newConstant(g.tensors[b].shape, tflite::TensorType_FLOAT32,
                             g.tensors[b].name + "/folded", bias.data(),
                             bias.size() * sizeof(float), {});
  return int(constant.size());
}

bool Quantizer::useInt8Interface(std::string &error) {
  auto readers = [&](int32_t t) {
    int n = 0;
    for (const OpRecord &op : g.ops)
      n += int(std::count(op.inputs.begin(), op.inputs.end(), t));
    return n;
  };
  // The interface keeps its names; the float32 tensor left inside (if any)
  // is renamed.
  auto takeName = [&](int32_t q, int32_t f) {
    std::string name = g.tensors[f].name;
    g.tensors[f].name = unique(name + "/float");
    g.tensors[q].name = name;
  };
  auto needRange = [&](int32_t t, const char *what) {
    if (observed(t))
      return true;
    error = std::string(what) + " '" + g.tensors[t].name +
            "' has no calibrated range to quantise it with";
    return false;
  };
  std::vector<OpRecord> front;
  for (int32_t &t : g.inputs) {
    if (g.tensors[t].type != tflite::TensorType_FLOAT32)
      continue;
    int32_t q = size_t(t) < int8Form.size() ? int8Form[t] : -1;
    if (q < 0) {
      if (!needRange(t, "input"))
        return false;
      q = newTensor(t, tflite::TensorType_INT8, g.tensors[t].name + "/int8",
                    rangeParams(t));
    }
    auto it = std::find_if(g.ops.begin(), g.ops.end(), [&](const OpRecord &op) {
      return op.code == tflite::BuiltinOperator_QUANTIZE &&
             op.inputs == std::vector<int32_t>{t} &&
             op.outputs == std::vector<int32_t>{q};
    });
    if (it != g.ops.end())
      g.ops.erase(it);
    // Operators kept in float32 read it through a DEQUANTIZE.
    if (readers(t))
      front.push_back({tflite::BuiltinOperator_DEQUANTIZE, {q}, {t}});
    takeName(q, t);
    t = q;
  }
  g.ops.insert(g.ops.begin(), front.begin(), front.end());
  for (int32_t &y : g.outputs) {
    if (g.tensors[y].type != tflite::TensorType_FLOAT32)
      continue; // int32 indices stay
    auto it = std::find_if(g.ops.begin(), g.ops.end(), [&](const OpRecord &op) {
      return op.outputs == std::vector<int32_t>{y};
    });
    int32_t q;
    if (it != g.ops.end() && it->code == tflite::BuiltinOperator_DEQUANTIZE &&
        g.tensors[it->inputs[0]].type == tflite::TensorType_INT8) {
      q = it->inputs[0];
      if (!readers(y))
        g.ops.erase(it);
    } else {
      if (!needRange(y, "output"))
        return false;
      q = newTensor(y, tflite::TensorType_INT8, g.tensors[y].name + "/int8",
                    rangeParams(y));
      g.ops.push_back({tflite::BuiltinOperator_QUANTIZE, {y}, {q}});
    }
    takeName(q, y);
    y = q;
  }
  return true;
}

void Quantizer::run() {
  const size_t original = g.tensors.size();
  int8Form.assign(original, -1);
  floatForm.assign(original, -1);
  std::vector<bool> isOutput(original, false);
  for (int32_t t : g.outputs)
    isOutput[t] = true;
  for (int32_t t : g.inputs)
    floatForm[t] = t;
  for (const TensorRecord &t : g.tensors)
    originalType.push_back(t.type);
  padSource.assign(original, -1);
  for (const OpRecord &op : g.ops) {
    if ((op.code == tflite::BuiltinOperator_PAD ||
         op.code == tflite::BuiltinOperator_PADV2) &&
        !op.inputs.empty() && op.outputs.size() == 1)
      padSource[op.outputs[0]] = op.inputs[0];
    // A layer named by one of its tensors (as the int8 error lists name
    // them) is kept whole: every operator of that layer (an identity
    // split's /kernel and /identity too) stays float32.
    if (!keepFloat.empty() && op.outputs.size() == 1 &&
        keepFloat.count(g.tensors[op.outputs[0]].name)) {
      const std::string layer = layerOf(g.tensors[op.outputs[0]].origin);
      if (!layer.empty() && !keepFloat.count(layer)) {
        keepFloat.insert(layer);
        aliases[layer] = g.tensors[op.outputs[0]].name;
      }
    }
  }
  if (!keepFloat.empty()) {
    auto kept = [&](const OpRecord &op) {
      if (op.outputs.size() != 1)
        return false;
      const TensorRecord &y = g.tensors[op.outputs[0]];
      return keepFloat.count(layerOf(y.origin)) || keepFloat.count(y.name);
    };
    std::map<int32_t, bool> onlyKept; // PAD output -> all readers kept
    for (const OpRecord &op : g.ops)
      for (int32_t t : op.inputs)
        if (t >= 0 && size_t(t) < original && padSource[t] >= 0) {
          auto [it, fresh] = onlyKept.try_emplace(t, true);
          it->second = it->second && kept(op);
        }
    for (const auto &[pad, all] : onlyKept)
      if (all)
        floatPads.insert(pad);
  }
  std::vector<OpRecord> ops = std::move(g.ops);
  for (OpRecord &op : ops) {
    if (!eligible(op)) {
      for (int32_t &t : op.inputs)
        if (isActivation(t) && size_t(t) < original && floatForm[t] != t)
          t = floatOf(t);
      // A kept layer whose weights are stored float16 (half the float32
      // file's bytes for them; int8 weights would lose what keeping the
      // layer gains): widened by a DEQUANTIZE, as --precision fp16 does.
      const bool weighted =
          op.code == tflite::BuiltinOperator_CONV_2D ||
          op.code == tflite::BuiltinOperator_DEPTHWISE_CONV_2D ||
          op.code == tflite::BuiltinOperator_FULLY_CONNECTED;
      if (weighted && op.outputs.size() == 1 && op.inputs.size() > 1 &&
          op.inputs[1] >= 0 && g.isConstant(op.inputs[1]) &&
          g.tensors[op.inputs[1]].type == tflite::TensorType_FLOAT32 &&
          halfWeights.count(layerOf(g.tensors[op.outputs[0]].origin))) {
        const int32_t w = op.inputs[1];
        std::vector<uint16_t> half(size_t(g.elements(w)));
        const float *v = g.floats(w);
        for (size_t i = 0; i < half.size(); ++i)
          half[i] = toHalf(v[i]);
        const int32_t h = newConstant(g.tensors[w].shape,
                                      tflite::TensorType_FLOAT16,
                                      g.tensors[w].name + "/fp16", half.data(),
                                      half.size() * sizeof(uint16_t), {});
        const int32_t f = newTensor(w, tflite::TensorType_FLOAT32,
                                    g.tensors[w].name + "/widened", {});
        out.push_back({tflite::BuiltinOperator_DEQUANTIZE, {h}, {f}});
        op.inputs[1] = f;
      }
      for (int32_t t : op.outputs)
        floatForm[t] = t;
      out.push_back(std::move(op));
      continue;
    }
    const int32_t x = op.inputs[0], y = op.outputs[0];
    const int32_t xq = int8Of(x);
    if (op.globalAverage && observed(y)) {
      // A global average in int8 as MEAN, which may rescale: the average's
      // range is far narrower than the map's (AVERAGE_POOL_2D must keep
      // its input's parameters). 1.3 dB of output SQNR on MobileOne-S0.
      const int32_t axes[2] = {1, 2};
      int32_t axesId = newConstant({2}, tflite::TensorType_INT32,
                                   g.tensors[y].name + "/axes", axes,
                                   sizeof axes, {});
      op = {tflite::BuiltinOperator_MEAN, {x, axesId}, op.outputs,
            tflite::BuiltinOptions_ReducerOptions,
            tflite::CreateReducerOptions(fbb, /*keep_dims=*/true).Union()};
    }
    // The output's parameters.
    Quantization yq;
    switch (*int8Rule(op.code)) {
    case OutputRule::OwnRange:
      yq = rangeParams(y);
      break;
    case OutputRule::SameAsInput:
      yq = g.tensors[xq].quant;
      break;
    case OutputRule::Logistic:
      yq.scale = {1.0f / 256.0f};
      yq.zeroPoint = {-128};
      break;
    case OutputRule::Tanh:
      yq.scale = {1.0f / 128.0f};
      yq.zeroPoint = {0};
      break;
    }
    // Operands.
    std::vector<int32_t> inputs = op.inputs;
    inputs[0] = xq;
    switch (op.code) {
    case tflite::BuiltinOperator_CONV_2D:
    case tflite::BuiltinOperator_DEPTHWISE_CONV_2D:
    case tflite::BuiltinOperator_FULLY_CONNECTED: {
      // Per output channel: dimension 0 of CONV_2D's [OC, KH, KW, IC] and
      // FULLY_CONNECTED's [OC, IC], 3 of DEPTHWISE_CONV_2D's [1, KH, KW, OC]
      // (per-channel FULLY_CONNECTED: 1.2 dB on MobileOne-S0's 1000-class
      // head; TensorFlow Lite's interpreter runs it bit-equal to ours).
      int axis = op.code == tflite::BuiltinOperator_DEPTHWISE_CONV_2D ? 3 : 0;
      // A channel of x that the calibration set never moved by a sixteenth
      // of a step is a constant int8 cannot carry: rounded to a step, then multiplied
      // by a folded kernel's weight (an identity BN of a near-constant
      // channel gives it 1/sqrt(eps) ~ 300), its error dominates the
      // layer. Its mean goes into the bias instead.
      if (int folded = foldConstantChannels(
              op, x, g.tensors[xq].quant.scale[0], yq.scale[0]);
          folded && summary)
        summary->foldedChannels.push_back({g.tensors[y].name, folded});
      if (summary) {
        const std::vector<int32_t> &ws = g.tensors[op.inputs[1]].shape;
        const int64_t out = g.elements(y);
        Int8Layer layer;
        layer.layer = layerOf(g.tensors[y].origin);
        // A PAD the runtime folds into the convolution is never computed:
        // its input is what is measured.
        layer.input = g.tensors[padSource[x] >= 0 ? padSource[x] : x].name;
        layer.output = g.tensors[y].name;
        layer.weights = g.elements(op.inputs[1]);
        layer.inputElements = g.elements(x);
        layer.outputElements = out;
        layer.macs = double(out) * double(axis == 3 ? ws[1] * ws[2]
                                          : layer.weights / ws[0]);
        summary->layers.push_back(std::move(layer));
      }
      const int32_t b =
          op.inputs.size() > 2 && op.inputs[2] >= 0 ? op.inputs[2] : -1;
      inputs[1] =
          quantizeWeights(op.inputs[1], axis, g.tensors[xq].quant.scale[0], b);
      if (inputs.size() > 2 && inputs[2] >= 0)
        inputs[2] = quantizeBias(
            biasCorrection ? correctBias(op, x, inputs[1]) : op.inputs[2], xq,
            inputs[1]);
      break;
    }
    case tflite::BuiltinOperator_MAXIMUM:
    case tflite::BuiltinOperator_MINIMUM:
      inputs[1] = quantizeConstant(op.inputs[1], g.tensors[xq].quant);
      break;
    case tflite::BuiltinOperator_PADV2:
      inputs[2] = quantizeConstant(op.inputs[2], g.tensors[xq].quant);
      break;
    case tflite::BuiltinOperator_ADD:
    case tflite::BuiltinOperator_SUB:
    case tflite::BuiltinOperator_MUL:
      inputs[1] = isActivation(op.inputs[1])
                      ? int8Of(op.inputs[1])
                      : quantizeConstant(op.inputs[1], std::nullopt);
      break;
    case tflite::BuiltinOperator_CONCATENATION:
      for (size_t i = 0; i < inputs.size(); ++i) {
        int32_t q = int8Of(op.inputs[i]);
        const Quantization &p = g.tensors[q].quant;
        if (p.scale != yq.scale || p.zeroPoint != yq.zeroPoint) {
          int32_t r = newTensor(q, tflite::TensorType_INT8,
                                g.tensors[op.inputs[i]].name + "/requantized",
                                yq);
          out.push_back({tflite::BuiltinOperator_QUANTIZE, {q}, {r}});
          q = r;
        }
        inputs[i] = q;
      }
      break;
    default:
      break;
    }
    op.inputs = inputs;
    // The output: int8 in place, or, for a graph output (float32 at the
    // interface), a new int8 tensor and a DEQUANTIZE into the output.
    if (isOutput[y]) {
      int32_t yi = newTensor(y, tflite::TensorType_INT8,
                             g.tensors[y].name + "/int8", yq);
      op.outputs = {yi};
      out.push_back(std::move(op));
      out.push_back({tflite::BuiltinOperator_DEQUANTIZE, {yi}, {y}});
      int8Form[y] = yi;
      floatForm[y] = y;
    } else {
      g.tensors[y].type = tflite::TensorType_INT8;
      g.tensors[y].quant = yq;
      out.push_back(std::move(op));
      int8Form[y] = y;
    }
  }
  g.ops = std::move(out);
}

} // namespace

void mlir::mobileone::tfl::quantizeGraph(
    Graph &g, const std::vector<TensorRange> &ranges,
    const std::function<std::string(const std::string &)> &unique,
    flatbuffers::FlatBufferBuilder &fbb, QuantizationSummary *summary,
    const Int8Folding &folding, std::vector<std::string> &unmatched,
    bool int8Interface, std::string &interfaceError) {
  const std::vector<std::string> &keepFloat = folding.keepFloat;
  Quantizer q(g, ranges, unique, fbb, summary, folding);
  q.run();
  if (int8Interface && !q.useInt8Interface(interfaceError))
    return;
  for (const std::string &name : keepFloat)
    if (!q.keptFloat.count(name))
      unmatched.push_back(name);
  if (summary)
    for (const std::string &name : keepFloat)
      if (q.keptFloat.count(name))
        summary->keptFloat.push_back(name);
}

void mlir::mobileone::tfl::collectQuantization(const Graph &g,
                                               Int8Quantization &out) {
  auto params = [&](int32_t t) {
    return QdqParams{g.tensors[t].quant.scale[0],
                     int32_t(g.tensors[t].quant.zeroPoint[0])};
  };
  auto isInt8 = [&](int32_t t) {
    return t >= 0 && g.tensors[t].type == tflite::TensorType_INT8 &&
           g.tensors[t].quant.scale.size() == 1;
  };
  for (const OpRecord &op : g.ops) {
    for (int32_t t : op.outputs)
      if (isInt8(t) && !g.tensors[t].origin.empty()) {
        out.activations[g.tensors[t].origin] = params(t);
        llvm::StringRef name = g.tensors[t].name;
        name.consume_back("/int8");
        out.tensors[g.tensors[t].origin] = name.str();
      }
    const bool depthwise = op.code == tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
    if ((op.code != tflite::BuiltinOperator_CONV_2D && !depthwise &&
         op.code != tflite::BuiltinOperator_FULLY_CONNECTED) ||
        op.inputs.size() < 2 || op.outputs.size() != 1 ||
        !isInt8(op.outputs[0]))
      continue;
    const int32_t w = op.inputs[1];
    const int32_t b = op.inputs.size() > 2 ? op.inputs[2] : -1;
    const TensorRecord &wr = g.tensors[w];
    if (wr.type != tflite::TensorType_INT8 || !g.isConstant(w))
      continue;
    // TFLite's [OC, KH, KW, IC] / [1, KH, KW, OC] / [OC, IC] to ONNX's
    // [OC, IC, KH, KW] / [OC, 1, KH, KW] / [OC, IC].
    const std::vector<int32_t> &s = wr.shape;
    const int8_t *data =
        reinterpret_cast<const int8_t *>(g.buffers[wr.buffer].data());
    QdqWeights q;
    if (s.size() == 4) {
      const int64_t oc = depthwise ? s[3] : s[0], kh = s[1], kw = s[2],
                    ic = depthwise ? 1 : s[3];
      q.shape = {oc, ic, kh, kw};
      q.weights.resize(oc * ic * kh * kw);
      for (int64_t o = 0; o < oc; ++o)
        for (int64_t i = 0; i < ic; ++i)
          for (int64_t y = 0; y < kh; ++y)
            for (int64_t x = 0; x < kw; ++x)
              q.weights[((o * ic + i) * kh + y) * kw + x] =
                  depthwise ? data[(y * kw + x) * oc + o]
                            : data[((o * kh + y) * kw + x) * ic + i];
    } else if (s.size() == 2) {
      q.shape = {s[0], s[1]};
      q.weights.assign(data, data + int64_t(s[0]) * s[1]);
    } else {
      continue;
    }
    q.depthwise = depthwise;
    q.weightScales = wr.quant.scale;
    if (q.weightScales.size() == 1)
      q.weightScales.assign(q.shape[0], q.weightScales[0]);
    if (b >= 0 && g.tensors[b].type == tflite::TensorType_INT32 &&
        g.isConstant(b)) {
      const int32_t *bias =
          reinterpret_cast<const int32_t *>(g.buffers[g.tensors[b].buffer].data());
      q.bias.assign(bias, bias + g.elements(b));
      q.biasScales = g.tensors[b].quant.scale;
    }
    const std::string &origin = g.tensors[op.outputs[0]].origin;
    if (std::optional<std::string> name = withoutPart(origin, kKernelPart)) {
      QdqLayer &layer = out.layers[*name];
      layer.kernel = std::move(q);
      layer.kernelOutput = params(op.outputs[0]);
    } else if (std::optional<std::string> name =
                   withoutPart(origin, kIdentityPart)) {
      QdqLayer &layer = out.layers[*name];
      layer.taps = std::move(q);
      layer.tapsOutput = params(op.outputs[0]);
    } else {
      out.layers[origin].kernel = std::move(q);
    }
  }
}