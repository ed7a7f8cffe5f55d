//===- LinearMap.cpp - composing convolution kernels ----------------------===//
//
// The composition rules of linear maps: sum, sequence, zero padding,
// per-channel affine, and fitting into a target conv. Geometry first (what
// the verifier checks), then values in double.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Math/Reparam.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir::mobileone::math;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

std::string pair(const int64_t v[2]) { return str(v[0]) + "x" + str(v[1]); }

/// The output size of a conv axis (ONNX formula), or -1 if empty.
int64_t outputSize(int64_t in, int64_t before, int64_t after, int64_t k,
                   int64_t stride, int64_t dilation) {
  int64_t span = in + before + after - dilation * (k - 1) - 1;
  return span < 0 ? -1 : span / stride + 1;
}

/// `k` (grouped in `from` groups) re-expressed with `to` groups; `to` must
/// divide `from`. The new kernel is zero outside the old groups.
Kernel regroup(const Kernel &k, int64_t inChannels, int64_t from, int64_t to) {
  if (from == to)
    return k;
  const int64_t outPerFrom = k.outChannels / from,
                outPerTo = k.outChannels / to;
  const int64_t inPerFrom = inChannels / from, inPerTo = inChannels / to;
  Kernel r(k.outChannels, inPerTo, k.kh, k.kw);
  r.bias = k.bias;
  for (int64_t o = 0; o < k.outChannels; ++o) {
    const int64_t base =
        (o / outPerFrom) * inPerFrom - (o / outPerTo) * inPerTo;
    for (int64_t i = 0; i < inPerFrom; ++i)
      for (int64_t y = 0; y < k.kh; ++y)
        for (int64_t x = 0; x < k.kw; ++x)
          r.at(o, base + i, y, x) = k.at(o, i, y, x);
  }
  return r;
}

/// The first tap offset (relative to output pixel * stride) of an axis.
int64_t firstTap(const ConvGeometry &g, int axis) { return -g.pads[axis]; }
int64_t lastTap(const ConvGeometry &g, int axis) {
  return -g.pads[axis] + g.dilations[axis] * (g.kernel[axis] - 1);
}

/// `m` with a 1-tap axis given dilation `d` (a 1-tap axis has no dilation
/// of its own).
ConvGeometry withDilation(ConvGeometry g, int axis, int64_t d) {
  if (g.kernel[axis] == 1)
    g.dilations[axis] = d;
  return g;
}

} // namespace

int64_t ConvGeometry::macs() const {
  return outSize[0] * outSize[1] * outChannels * (inChannels / group) *
         kernel[0] * kernel[1];
}

bool ConvGeometry::isPointwise() const {
  return kernel[0] == 1 && kernel[1] == 1 && strides[0] == 1 &&
         strides[1] == 1;
}

bool ConvGeometry::isChannelwise() const {
  return isPointwise() && group == inChannels && inChannels == outChannels &&
         std::all_of(pads, pads + 4, [](int64_t p) { return p == 0; });
}

bool ConvGeometry::operator==(const ConvGeometry &o) const {
  return inChannels == o.inChannels && outChannels == o.outChannels &&
         group == o.group && std::equal(kernel, kernel + 2, o.kernel) &&
         std::equal(strides, strides + 2, o.strides) &&
         std::equal(dilations, dilations + 2, o.dilations) &&
         std::equal(pads, pads + 4, o.pads) &&
         std::equal(inSize, inSize + 2, o.inSize) &&
         std::equal(outSize, outSize + 2, o.outSize);
}

bool LinearMap::biasIsZero() const {
  if (!hasValues)
    return true;
  // Zero at f32 precision of the map's bias terms: a bias that cancels
  // (pad(bn(x) - b) + b) leaves rounding of the largest terms in every
  // channel, however small that channel's own terms.
  double scale = 0.0;
  for (double m : biasMagnitude)
    scale = std::max(scale, m);
  for (double b : kernel.bias)
    if (std::abs(b) > 1e-6 * scale + 1e-30)
      return false;
  return true;
}

LinearMap mlir::mobileone::math::identityMap(int64_t channels, int64_t h,
                                             int64_t w, bool withValues) {
  ConvGeometry g;
  g.inChannels = g.outChannels = g.group = channels;
  g.inSize[0] = g.outSize[0] = h;
  g.inSize[1] = g.outSize[1] = w;
  Kernel k;
  if (withValues) {
    k = Kernel(channels, 1, 1, 1);
    std::fill(k.weight.begin(), k.weight.end(), 1.0);
  }
  LinearMap m = convMap(g, std::move(k), withValues);
  m.isIdentity = true;
  m.sequenceMacs = 0;
  return m;
}

LinearMap mlir::mobileone::math::convMap(const ConvGeometry &geometry,
                                         Kernel kernel, bool withValues) {
  LinearMap m;
  m.geometry = geometry;
  m.hasValues = withValues;
  m.sequenceMacs = geometry.macs();
  if (withValues) {
    m.biasMagnitude.resize(kernel.bias.size());
    for (size_t c = 0; c < kernel.bias.size(); ++c)
      m.biasMagnitude[c] = std::abs(kernel.bias[c]);
    m.kernel = std::move(kernel);
  }
  return m;
}

LinearMap mlir::mobileone::math::zeroMap(const ConvGeometry &g,
                                         bool withValues) {
  Kernel k;
  if (withValues)
    k = Kernel(g.outChannels, g.inChannels / g.group, g.kernel[0],
               g.kernel[1]);
  LinearMap m = convMap(g, std::move(k), withValues);
  m.sequenceMacs = 0;
  return m;
}

LinearMap mlir::mobileone::math::scaleAndShift(
    LinearMap m, const std::vector<double> *scale,
    const std::vector<double> *shift) {
  m.isIdentity = false;
  // A per-channel multiply-add of every output element.
  m.sequenceMacs += m.geometry.outChannels * m.geometry.outSize[0] *
                    m.geometry.outSize[1];
  if (!m.hasValues)
    return m;
  Kernel &k = m.kernel;
  const int64_t perChannel = k.inPerGroup * k.kh * k.kw;
  for (int64_t o = 0; o < k.outChannels; ++o) {
    if (scale) {
      const double s = (*scale)[o];
      for (int64_t j = 0; j < perChannel; ++j)
        k.weight[o * perChannel + j] *= s;
      k.bias[o] *= s;
      m.biasMagnitude[o] *= std::abs(s);
    }
    if (shift) {
      k.bias[o] += (*shift)[o];
      m.biasMagnitude[o] += std::abs((*shift)[o]);
    }
  }
  return m;
}

std::optional<LinearMap> mlir::mobileone::math::sum(const LinearMap &a,
                                                    const LinearMap &b,
                                                    double sign,
                                                    std::string &why) {
  const ConvGeometry &ga = a.geometry, &gb = b.geometry;
  if (ga.inChannels != gb.inChannels || ga.outChannels != gb.outChannels) {
    why = "the summands map " + str(ga.inChannels) + " -> " +
          str(ga.outChannels) + " and " + str(gb.inChannels) + " -> " +
          str(gb.outChannels) + " channels";
    return std::nullopt;
  }
  if (!std::equal(ga.outSize, ga.outSize + 2, gb.outSize) ||
      !std::equal(ga.inSize, ga.inSize + 2, gb.inSize)) {
    why = "the summands have different spatial sizes";
    return std::nullopt;
  }
  if (!std::equal(ga.strides, ga.strides + 2, gb.strides)) {
    why = "the summands have different strides (" + pair(ga.strides) +
          " and " + pair(gb.strides) + ")";
    return std::nullopt;
  }
  LinearMap r;
  ConvGeometry &g = r.geometry;
  g = ga;
  g.group = std::gcd(ga.group, gb.group);
  r.sequenceMacs = a.sequenceMacs + b.sequenceMacs;
  int64_t offset[2][2]; // [summand][axis]: its first row/column in the union
  for (int axis = 0; axis < 2; ++axis) {
    ConvGeometry ea = withDilation(ga, axis, gb.dilations[axis]);
    ConvGeometry eb = withDilation(gb, axis, ea.dilations[axis]);
    const int64_t d = ea.dilations[axis];
    if (eb.dilations[axis] != d) {
      why = "the summands have different dilations (" + pair(ga.dilations) +
            " and " + pair(gb.dilations) + ")";
      return std::nullopt;
    }
    if ((firstTap(ea, axis) - firstTap(eb, axis)) % d != 0) {
      why = "the summands' windows are not on one dilation lattice";
      return std::nullopt;
    }
    const int64_t first = std::min(firstTap(ea, axis), firstTap(eb, axis));
    const int64_t last = std::max(lastTap(ea, axis), lastTap(eb, axis));
    g.dilations[axis] = d;
    g.pads[axis] = -first;
    g.kernel[axis] = (last - first) / d + 1;
    // The end padding that keeps each summand's output size (see docs).
    g.pads[axis + 2] =
        std::max(ea.pads[axis + 2] + last - lastTap(ea, axis),
                 eb.pads[axis + 2] + last - lastTap(eb, axis));
    offset[0][axis] = (firstTap(ea, axis) - first) / d;
    offset[1][axis] = (firstTap(eb, axis) - first) / d;
  }
  r.hasValues = a.hasValues && b.hasValues;
  if (!r.hasValues)
    return r;
  r.kernel = Kernel(g.outChannels, g.inChannels / g.group, g.kernel[0],
                    g.kernel[1]);
  r.biasMagnitude.assign(g.outChannels, 0.0);
  const LinearMap *parts[2] = {&a, &b};
  for (int s = 0; s < 2; ++s) {
    const double f = s == 0 ? 1.0 : sign;
    Kernel k = regroup(parts[s]->kernel, g.inChannels,
                       parts[s]->geometry.group, g.group);
    for (int64_t o = 0; o < k.outChannels; ++o) {
      for (int64_t i = 0; i < k.inPerGroup; ++i)
        for (int64_t y = 0; y < k.kh; ++y)
          for (int64_t x = 0; x < k.kw; ++x)
            r.kernel.at(o, i, y + offset[s][0], x + offset[s][1]) +=
                f * k.at(o, i, y, x);
      r.kernel.bias[o] += f * k.bias[o];
      r.biasMagnitude[o] += parts[s]->biasMagnitude[o];
    }
  }
  return r;
}

std::optional<LinearMap> mlir::mobileone::math::compose(const LinearMap &m,
                                                        const LinearMap &next,
                                                        std::string &why) {
  const ConvGeometry &gm = m.geometry, &gc = next.geometry;
  if (gc.inChannels != gm.outChannels ||
      !std::equal(gc.inSize, gc.inSize + 2, gm.outSize)) {
    why = "the second map does not read the first one's output shape";
    return std::nullopt;
  }
  if (m.isIdentity) {
    LinearMap r = next;
    r.hasValues = m.hasValues && next.hasValues;
    return r;
  }
  if (gc.isChannelwise()) {
    std::vector<double> scale, shift;
    if (next.hasValues && m.hasValues) {
      scale.resize(gc.outChannels);
      for (int64_t c = 0; c < gc.outChannels; ++c)
        scale[c] = next.kernel.weight[c];
      shift = next.kernel.bias;
    }
    LinearMap r = m.hasValues && next.hasValues
                      ? scaleAndShift(m, &scale, &shift)
                      : scaleAndShift(m, nullptr, nullptr);
    r.hasValues = m.hasValues && next.hasValues;
    return r;
  }
  bool padded = std::any_of(gc.pads, gc.pads + 4, [](int64_t p) { return p; });
  if (padded && !gm.isPointwise()) {
    why = "a zero-padded conv follows a " + pair(gm.kernel) + " stride " +
          pair(gm.strides) +
          " map: the composed conv cannot reproduce the zero border";
    return std::nullopt;
  }
  if (padded && !m.biasIsZero()) {
    why = "a zero-padded conv follows a map with a non-zero bias (e.g. a "
          "batch_norm shift): the composed conv would see the bias, not "
          "zeros, at the border";
    return std::nullopt;
  }
  LinearMap r;
  ConvGeometry &g = r.geometry;
  g.inChannels = gm.inChannels;
  g.outChannels = gc.outChannels;
  g.group = std::gcd(gm.group, gc.group);
  int64_t stepM[2], stepC[2]; // tap spacing of each factor in the result
  for (int axis = 0; axis < 2; ++axis) {
    g.inSize[axis] = gm.inSize[axis];
    g.outSize[axis] = gc.outSize[axis];
    g.strides[axis] = gm.strides[axis] * gc.strides[axis];
    const int64_t reach = gc.dilations[axis] * gm.strides[axis];
    int64_t d;
    if (gc.kernel[axis] == 1)
      d = gm.dilations[axis];
    else if (gm.kernel[axis] == 1)
      d = reach;
    else if (reach % gm.dilations[axis] == 0)
      d = gm.dilations[axis];
    else {
      why = "the composed taps are not on one dilation lattice";
      return std::nullopt;
    }
    g.dilations[axis] = d;
    stepM[axis] = gm.kernel[axis] == 1 ? 0 : gm.dilations[axis] / d;
    stepC[axis] = gc.kernel[axis] == 1 ? 0 : reach / d;
    g.kernel[axis] = (gm.kernel[axis] - 1) * stepM[axis] +
                     (gc.kernel[axis] - 1) * stepC[axis] + 1;
    g.pads[axis] = gm.pads[axis] + gc.pads[axis] * gm.strides[axis];
    g.pads[axis + 2] = std::max<int64_t>(
        0, (g.outSize[axis] - 1) * g.strides[axis] + d * (g.kernel[axis] - 1) +
               1 - g.inSize[axis] - g.pads[axis]);
    if (outputSize(g.inSize[axis], g.pads[axis], g.pads[axis + 2],
                   g.kernel[axis], g.strides[axis], d) != g.outSize[axis]) {
      why = "the composed conv's window does not cover the same output";
      return std::nullopt;
    }
  }
  r.sequenceMacs = m.sequenceMacs + next.sequenceMacs;
  r.hasValues = m.hasValues && next.hasValues;
  if (!r.hasValues)
    return r;
  const Kernel &km = m.kernel, &kc = next.kernel;
  Kernel &k = r.kernel;
  k = Kernel(g.outChannels, g.inChannels / g.group, g.kernel[0], g.kernel[1]);
  r.biasMagnitude.assign(g.outChannels, 0.0);
  const int64_t outPerC = gc.outChannels / gc.group, midPerC = kc.inPerGroup;
  const int64_t midPerM = gm.outChannels / gm.group, inPerM = km.inPerGroup;
  const int64_t outPerR = g.outChannels / g.group, inPerR = k.inPerGroup;
  for (int64_t o = 0; o < g.outChannels; ++o) {
    const int64_t rBase = (o / outPerR) * inPerR;
    double bias = kc.bias[o], magnitude = std::abs(kc.bias[o]);
    for (int64_t j = 0; j < midPerC; ++j) {
      const int64_t mid = (o / outPerC) * midPerC + j;
      const int64_t mBase = (mid / midPerM) * inPerM;
      for (int64_t cy = 0; cy < kc.kh; ++cy)
        for (int64_t cx = 0; cx < kc.kw; ++cx) {
          const double wc = kc.at(o, j, cy, cx);
          if (wc == 0.0)
            continue;
          bias += wc * km.bias[mid];
          magnitude += std::abs(wc) * m.biasMagnitude[mid];
          for (int64_t i = 0; i < inPerM; ++i) {
            const int64_t local = mBase + i - rBase;
            for (int64_t my = 0; my < km.kh; ++my)
              for (int64_t mx = 0; mx < km.kw; ++mx)
                k.at(o, local, cy * stepC[0] + my * stepM[0],
                     cx * stepC[1] + mx * stepM[1]) +=
                    wc * km.at(mid, i, my, mx);
          }
        }
    }
    k.bias[o] = bias;
    r.biasMagnitude[o] = magnitude;
  }
  return r;
}

std::optional<LinearMap> mlir::mobileone::math::zeroPad(const LinearMap &m,
                                                        const int64_t pads[4],
                                                        std::string &why) {
  if (!m.geometry.isPointwise()) {
    why = "zero padding follows a " + pair(m.geometry.kernel) + " stride " +
          pair(m.geometry.strides) +
          " map: the composed conv cannot reproduce the zero border";
    return std::nullopt;
  }
  if (!m.biasIsZero()) {
    why = "zero padding follows a map with a non-zero bias: the composed "
          "conv would see the bias, not zeros, at the border";
    return std::nullopt;
  }
  LinearMap r = m;
  r.isIdentity = false;
  for (int i = 0; i < 4; ++i)
    r.geometry.pads[i] += pads[i];
  for (int axis = 0; axis < 2; ++axis)
    r.geometry.outSize[axis] += pads[axis] + pads[axis + 2];
  return r;
}

std::optional<LinearMap>
mlir::mobileone::math::fitInto(const LinearMap &m, const ConvGeometry &target,
                               std::string &why) {
  const ConvGeometry &g = m.geometry;
  if (m.geometry.group % target.group != 0) {
    why = "it needs group " + str(std::gcd(g.group, target.group)) +
          ", the block has group " + str(target.group);
    return std::nullopt;
  }
  std::string sumWhy;
  std::optional<LinearMap> r =
      sum(zeroMap(target, m.hasValues), m, 1.0, sumWhy);
  if (!r) {
    why = sumWhy;
    return std::nullopt;
  }
  if (!(r->geometry == target)) {
    const ConvGeometry &t = target;
    why = "it is a " + pair(g.kernel) + " conv with pads [" + str(g.pads[0]) +
          ", " + str(g.pads[1]) + ", " + str(g.pads[2]) + ", " +
          str(g.pads[3]) + "], which does not fit in the block's " +
          pair(t.kernel) + " kernel with pads [" + str(t.pads[0]) + ", " +
          str(t.pads[1]) + ", " + str(t.pads[2]) + ", " + str(t.pads[3]) +
          "]";
    return std::nullopt;
  }
  return r;
}
