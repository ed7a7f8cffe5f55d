//===- Calibration.cpp - calibration data for int8 quantisation ----------===//

#include "mobileone/Driver/Calibration.h"
#include "mobileone/Runtime/Npy.h"
#include "mobileone/Runtime/Runtime.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <map>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::mobileone;
namespace rt = ::mobileone::runtime;

namespace {

std::vector<int64_t> nhwcOf(const std::vector<int64_t> &s) {
  return {s[0], s[2], s[3], s[1]};
}

} // namespace

std::unique_ptr<CalibrationSet>
CalibrationSet::read(const std::string &path,
                     const std::vector<InterfaceTensor> &inputs,
                     std::string &error) {
  auto set = std::unique_ptr<CalibrationSet>(new CalibrationSet());
  set->inputs = inputs;
  std::vector<std::string> files;
  if (llvm::sys::fs::is_directory(path)) {
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(path, ec), end; it != end && !ec;
         it.increment(ec)) {
      llvm::StringRef ext = llvm::sys::path::extension(it->path());
      if (ext == ".npy" || ext == ".npz")
        files.push_back(it->path());
    }
    if (ec) {
      error = "calibration directory '" + path + "': " + ec.message();
      return nullptr;
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      error = "calibration directory '" + path + "' holds no .npy or .npz file";
      return nullptr;
    }
  } else {
    files.push_back(path);
  }

  for (const std::string &file : files) {
    std::vector<rt::NamedArray> arrays;
    llvm::StringRef ext = llvm::sys::path::extension(file);
    if (ext == ".npz") {
      if (!rt::readNpz(file, arrays, error))
        return nullptr;
    } else if (ext == ".npy") {
      if (inputs.size() != 1) {
        error = "calibration '" + file + "': the model has " +
                std::to_string(inputs.size()) +
                " inputs; give a .npz with one array per input name";
        return nullptr;
      }
      rt::NamedArray a;
      a.name = inputs[0].name;
      if (!rt::readNpy(file, a.shape, a.data, error))
        return nullptr;
      arrays.push_back(std::move(a));
    } else {
      error = "calibration '" + file + "': expected a .npy or .npz file, or a "
              "directory of them";
      return nullptr;
    }
    // One array per input, each N samples of the input's shape stacked
    // along dimension 0 (N x the model's batch rows).
    int64_t count = -1;
    std::vector<const rt::NamedArray *> byInput;
    for (const InterfaceTensor &in : inputs) {
      auto it = llvm::find_if(
          arrays, [&](const rt::NamedArray &a) { return a.name == in.name; });
      if (it == arrays.end()) {
        error = "calibration '" + file + "' has no array '" + in.name +
                "' (one per model input)";
        return nullptr;
      }
      const std::vector<int64_t> &s = it->shape;
      const std::vector<int64_t> &want = in.shape;
      bool fits = !want.empty() && s.size() == want.size() && want[0] > 0 &&
                  s[0] > 0 && s[0] % want[0] == 0 &&
                  std::equal(s.begin() + 1, s.end(), want.begin() + 1);
      if (!fits) {
        error = "calibration '" + file + "': array '" + in.name +
                "' has shape " + rt::shapeText(s) + "; expected samples of " +
                rt::shapeText(want) +
                " (the ONNX model's input) stacked along dimension 0";
        if (want.size() == 4 && s.size() == 4) {
          std::vector<int64_t> nhwc = nhwcOf(want);
          if (std::equal(s.begin() + 1, s.end(), nhwc.begin() + 1))
            error += "; this looks NHWC: calibration data is in the ONNX "
                     "layout (NCHW), x.transpose(0, 3, 1, 2)";
        }
        return nullptr;
      }
      int64_t n = s[0] / want[0];
      if (count >= 0 && n != count) {
        error = "calibration '" + file + "': array '" + in.name + "' holds " +
                std::to_string(n) + " samples, the others " +
                std::to_string(count);
        return nullptr;
      }
      count = n;
      byInput.push_back(&*it);
    }
    if (arrays.size() != inputs.size()) {
      for (const rt::NamedArray &a : arrays)
        if (!llvm::any_of(inputs, [&](const InterfaceTensor &in) {
              return in.name == a.name;
            })) {
          error = "calibration '" + file + "' has an array '" + a.name +
                  "' that is no input of the model";
          return nullptr;
        }
    }
    for (int64_t k = 0; k < count; ++k) {
      std::vector<std::vector<float>> sample;
      for (size_t i = 0; i < inputs.size(); ++i) {
        const rt::NamedArray &a = *byInput[i];
        const size_t size = a.data.size() / size_t(count);
        const float *begin = a.data.data() + size_t(k) * size;
        for (size_t e = 0; e < size; ++e)
          if (!std::isfinite(begin[e])) {
            error = "calibration '" + file + "': sample " + std::to_string(k) +
                    " of input '" + inputs[i].name + "' holds " +
                    (std::isnan(begin[e]) ? "NaN" : "Inf") + " at element " +
                    std::to_string(e);
            return nullptr;
          }
        sample.emplace_back(begin, begin + size);
      }
      set->data.push_back(std::move(sample));
    }
  }
  if (set->data.empty()) {
    error = "calibration '" + path + "' holds no samples";
    return nullptr;
  }
  return set;
}

void CalibrationSet::feed(size_t k, const std::vector<rt::TensorInfo> &infos,
                          bool nhwcInterface,
                          std::vector<std::vector<float>> &buffers) const {
  const std::vector<std::vector<float>> &sample = data[k];
  buffers.resize(sample.size());
  for (size_t i = 0; i < sample.size(); ++i) {
    const std::vector<int64_t> &s = inputs[i].shape;
    if (!nhwcInterface || s.size() != 4) {
      buffers[i] = sample[i];
      continue;
    }
    const int64_t n = s[0], c = s[1], h = s[2], w = s[3];
    buffers[i].resize(sample[i].size());
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x)
            buffers[i][((b * h + y) * w + x) * c + ch] =
                sample[i][((b * c + ch) * h + y) * w + x];
  }
}

bool CalibrationSet::errors(ArrayRef<uint8_t> floatModel,
                            ArrayRef<uint8_t> int8Model, size_t samples,
                            std::vector<TensorError> &out,
                            std::string &error) const {
  rt::Options options;
  options.reference = true;
  auto load = [&](ArrayRef<uint8_t> bytes) {
    return rt::Session::createView(bytes.data(), bytes.size(), options, error);
  };
  std::unique_ptr<rt::Session> f = load(floatModel), q = load(int8Model);
  if (!f || !q)
    return false;
  std::vector<std::string> outputs;
  for (const rt::TensorInfo &t : q->outputs())
    outputs.push_back(t.name);
  std::vector<std::string> order;
  std::map<std::string, std::pair<double, double>> energy; // signal, noise
  std::vector<std::vector<float>> buffers;
  for (size_t k = 0; k < std::min(samples, data.size()); ++k) {
    feed(k, f->inputs(), f->nhwcInterface(), buffers);
    std::vector<rt::ConstTensorView> views;
    for (const std::vector<float> &b : buffers)
      views.emplace_back(b.data(), b.size());
    // An int8 interface (--io-dtype int8) takes them quantised.
    std::vector<std::vector<float>> quantised;
    std::vector<rt::ConstTensorView> qViews = views;
    for (size_t i = 0; i < buffers.size(); ++i)
      if (const rt::TensorInfo &t = q->inputs()[i]; t.dtype != rt::DType::Float32) {
        if (quantised.empty())
          quantised.reserve(buffers.size()); // qViews point into it
        std::vector<float> &b = quantised.emplace_back(buffers[i]);
        rt::realToInterface(t, b.data(), b.size());
        qViews[i] = {b.data(), b.size(), t.dtype};
      }
    std::map<std::string, std::vector<float>> reference;
    if (!f->observe(views,
                    [&](int t, const float *v, int64_t n, int64_t) {
                      reference[f->tensorName(t)].assign(v, v + n);
                    },
                    error) ||
        !q->observe(qViews,
                    [&](int t, const float *v, int64_t n, int64_t) {
                      std::string name = q->tensorName(t);
                      if (llvm::StringRef(name).ends_with("/int8"))
                        name.resize(name.size() - 5);
                      auto it = reference.find(name);
                      if (it == reference.end() ||
                          int64_t(it->second.size()) != n)
                        return;
                      auto [e, fresh] = energy.try_emplace(name, 0.0, 0.0);
                      if (fresh)
                        order.push_back(name);
                      for (int64_t i = 0; i < n; ++i) {
                        double r = it->second[i], d = r - v[i];
                        e->second.first += r * r;
                        e->second.second += d * d;
                      }
                    },
                    error))
      return false;
  }
  out.clear();
  for (const std::string &name : order) {
    auto [signal, noise] = energy[name];
    // Every quantised tensor, and the outputs (once each: an output is seen
    // as its int8 value and again after DEQUANTIZE).
    bool output = llvm::is_contained(outputs, name);
    if (output && llvm::any_of(out, [&](const TensorError &e) {
          return e.name == name;
        }))
      continue;
    double sqnr = noise == 0.0 ? 200.0 : 10.0 * std::log10(signal / noise);
    out.push_back({name, sqnr, output});
  }
  return true;
}

namespace {

/// The range of a histogram `h` of values in [min, max] that keeps 99.98%
/// of them, clipping 0.01% at each end.
std::pair<float, float> percentileRange(const std::vector<uint64_t> &h,
                                        float min, float max) {
  constexpr double kTail = 1e-4;
  const int bins = h.size();
  uint64_t total = 0;
  for (uint64_t c : h)
    total += c;
  const double width = (double(max) - double(min)) / bins;
  const uint64_t tail = uint64_t(std::floor(double(total) * kTail));
  int lo = 0, hi = bins - 1;
  for (uint64_t below = 0; lo < bins - 1 && below + h[lo] <= tail; ++lo)
    below += h[lo];
  for (uint64_t above = 0; hi > lo && above + h[hi] <= tail; --hi)
    above += h[hi];
  return {float(min + lo * width), float(min + (hi + 1) * width)};
}

/// The range [lo, hi] (lo <= 0 <= hi, on bin edges) of a histogram `h` of
/// values in [min, max] whose int8 quantisation has the least squared
/// error: a value inside rounds to a step (hi - lo) / 255, error step^2 / 12
/// on average; a value outside clips to the nearer end. Every pair of
/// candidate edges (at most 256 per side) is scored in O(1) from prefix
/// sums of count, count x and count x^2 (x a bin's centre).
std::pair<float, float> mseRange(const std::vector<uint64_t> &h, float min,
                                 float max) {
  const int bins = h.size();
  const double width = (double(max) - double(min)) / bins;
  // Prefix sums over bins [0, i).
  std::vector<double> n(bins + 1, 0.0), s(bins + 1, 0.0), q(bins + 1, 0.0);
  for (int i = 0; i < bins; ++i) {
    const double x = double(min) + (i + 0.5) * width, c = double(h[i]);
    n[i + 1] = n[i] + c;
    s[i + 1] = s[i] + c * x;
    q[i + 1] = q[i] + c * x * x;
  }
  auto edge = [&](int i) { return double(min) + i * width; };
  // Candidate edges: bins 0..b for lo and b'..bins for hi, where the
  // range must hold 0 (bin b holds 0).
  const int zero = std::clamp(int(std::floor(-double(min) / width)), 0, bins);
  std::vector<int> los, his;
  const int loStep = std::max(1, zero / 256);
  for (int i = 0; i <= zero; i += loStep)
    los.push_back(i);
  const int hiStep = std::max(1, (bins - zero) / 256);
  for (int i = bins; i >= zero; i -= hiStep)
    his.push_back(i);
  double best = std::numeric_limits<double>::infinity();
  std::pair<int, int> choice = {0, bins};
  for (int l : los)
    for (int u : his) {
      const double a = std::min(edge(l), 0.0), b = std::max(edge(u), 0.0);
      if (!(b > a))
        continue;
      const double step = (b - a) / 255.0;
      // Clipped below: sum over bins < l of c (x - a)^2; above: bins >= u.
      const double below = q[l] - 2.0 * a * s[l] + a * a * n[l];
      const double above = (q[bins] - q[u]) - 2.0 * b * (s[bins] - s[u]) +
                           b * b * (n[bins] - n[u]);
      const double inside = (n[u] - n[l]) * step * step / 12.0;
      const double error = below + above + inside;
      if (error < best) {
        best = error;
        choice = {l, u};
      }
    }
  return {float(edge(choice.first)), float(edge(choice.second))};
}

} // namespace

bool CalibrationSet::ranges(ArrayRef<uint8_t> model, CalibrationMethod method,
                            std::vector<TensorRange> &out,
                            std::string &error) const {
  rt::Options options;
  options.reference = true;
  std::unique_ptr<rt::Session> session =
      rt::Session::createView(model.data(), model.size(), options, error);
  if (!session) {
    error = "calibration: the float32 model does not load: " + error;
    return false;
  }
  const std::vector<rt::TensorInfo> &infos = session->inputs();
  if (infos.size() != inputs.size()) {
    error = "calibration: the model has " + std::to_string(infos.size()) +
            " inputs, the data " + std::to_string(inputs.size());
    return false;
  }
  auto runAll = [&](const rt::Session::Observer &observer) {
    std::vector<std::vector<float>> buffers;
    for (size_t k = 0; k < data.size(); ++k) {
      feed(k, infos, session->nhwcInterface(), buffers);
      std::vector<rt::ConstTensorView> views;
      for (const std::vector<float> &b : buffers)
        views.emplace_back(b.data(), b.size());
      if (!session->observe(views, observer, error))
        return false;
    }
    return true;
  };
  out.clear();
  // Pass 1: min and max of the finite values.
  if (!runAll([&](int t, const float *v, int64_t n, int64_t channels) {
        if (size_t(t) >= out.size())
          out.resize(t + 1);
        TensorRange &r = out[t];
        if (channels < 1 || n % channels != 0)
          channels = 1;
        if (r.channelMin.size() != size_t(channels)) {
          r.channelMin.assign(channels, std::numeric_limits<float>::infinity());
          r.channelMax.assign(channels, -std::numeric_limits<float>::infinity());
          r.channelSum.assign(channels, 0.0);
          r.channelCount = 0;
        }
        for (int64_t i = 0; i < n; ++i) {
          if (!std::isfinite(v[i]))
            continue;
          if (!r.seen) {
            r.min = r.max = v[i];
            r.seen = true;
          }
          r.min = std::min(r.min, v[i]);
          r.max = std::max(r.max, v[i]);
          const int64_t c = i % channels;
          r.channelMin[c] = std::min(r.channelMin[c], v[i]);
          r.channelMax[c] = std::max(r.channelMax[c], v[i]);
          r.channelSum[c] += v[i];
        }
        r.channelCount += n / channels;
      }))
    return false;
  if (method == CalibrationMethod::MinMax)
    return true;

  // Pass 2: a histogram per tensor over its [min, max].
  constexpr int kBins = 4096;
  std::vector<std::vector<uint64_t>> histograms(out.size());
  if (!runAll([&](int t, const float *v, int64_t n, int64_t) {
        const TensorRange &r = out[t];
        if (!r.seen || !(r.max > r.min))
          return;
        std::vector<uint64_t> &h = histograms[t];
        h.resize(kBins, 0);
        const double scale = kBins / (double(r.max) - double(r.min));
        for (int64_t i = 0; i < n; ++i)
          if (std::isfinite(v[i]))
            ++h[std::min<int64_t>(kBins - 1,
                                  int64_t((double(v[i]) - r.min) * scale))];
      }))
    return false;
  for (size_t t = 0; t < out.size(); ++t) {
    const std::vector<uint64_t> &h = histograms[t];
    if (h.empty())
      continue;
    auto [lo, hi] = method == CalibrationMethod::Percentile
                        ? percentileRange(h, out[t].min, out[t].max)
                        : mseRange(h, out[t].min, out[t].max);
    out[t].min = std::max(out[t].min, lo);
    out[t].max = std::min(out[t].max, hi);
  }
  return true;
}

std::vector<KeepFloatCandidate> mlir::mobileone::rankKeepFloat(
    const QuantizationSummary &q,
    const std::vector<CalibrationSet::TensorError> &errors,
    const Int8Folding &folding, double fp32MacsPerSecond, double budget,
    double minLoss) {
  std::map<std::string, double> sqnr;
  for (const CalibrationSet::TensorError &e : errors)
    sqnr.emplace(e.name, e.sqnr);
  std::vector<KeepFloatCandidate> out;
  if (!(q.int8Seconds > 0.0))
    return out;
  // A split kernel's two parts are one layer (kept whole): their sizes add
  // up, the larger loss counts.
  std::vector<std::pair<Int8Layer, double>> layers; // with its loss
  std::map<std::string, size_t> at;
  for (const Int8Layer &l : q.layers) {
    auto in = sqnr.find(l.input), y = sqnr.find(l.output);
    if (in == sqnr.end() || y == sqnr.end() ||
        llvm::is_contained(folding.keepFloat, l.layer))
      continue;
    const double loss = in->second - y->second;
    auto [it, fresh] = at.try_emplace(l.layer, layers.size());
    if (fresh) {
      layers.push_back({l, loss});
      continue;
    }
    auto &[m, mLoss] = layers[it->second];
    mLoss = std::max(mLoss, loss);
    m.macs += l.macs;
    m.weights += l.weights;
    m.inputElements += l.inputElements;
    m.outputElements += l.outputElements;
  }
  for (const auto &[l, loss] : layers) {
    // float32: weights and activations 4 bytes each, on the float
    // roofline at an efficiency that falls with the reduction depth K
    // (K / (K + 64): measured 30% on a 3-channel 3x3 stem, K = 27, and
    // over 90% on deep 1x1 layers); int8: 1 byte, the int8 roofline; plus
    // the DEQUANTIZE and QUANTIZE around it, ~0.35 ns per element each on
    // the reference kernels (measured on MobileOne-S0's stem): the time of
    // kConvertMacs int8 multiply-adds.
    constexpr double kConvertMacs = 16.0;
    const double io = double(l.inputElements + l.outputElements);
    const double bytes = io + double(l.weights);
    const double depth = l.outputElements ? l.macs / l.outputElements : 0.0;
    const double fp32 =
        std::max(l.macs / (fp32MacsPerSecond * depth / (depth + 64.0)),
                 4.0 * bytes / folding.bytesPerSecond);
    const double int8 = std::max(l.macs / folding.macsPerSecond,
                                 bytes / folding.bytesPerSecond);
    const double extra = std::max(0.0, fp32 - int8) +
                         io * kConvertMacs / folding.macsPerSecond +
                         2.0 * folding.opSeconds;
    const double cost = extra / q.int8Seconds;
    if (loss >= minLoss && cost <= budget)
      out.push_back({l.layer, loss, cost, l.weights});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const KeepFloatCandidate &a, const KeepFloatCandidate &b) {
                     return a.loss > b.loss;
                   });
  return out;
}
