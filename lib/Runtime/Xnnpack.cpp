//===- Xnnpack.cpp - operators as XNNPACK subgraphs over one planned arena ===//
//
// Each operator becomes a one-node XNNPACK subgraph whose activations are
// external values pointing into a single arena laid out by planActivations
// (tensors with disjoint lifetimes share memory). Runtimes are set up once,
// at load time, on those fixed addresses, so an inference is one
// xnn_invoke_runtime per operator. Constants are static values: XNNPACK
// packs them while the runtime is created, after which their pages in a
// mapped model file are dropped, so the weights are resident once.
//
// Where the CPU has AVX-512F, dense and 3x3 depthwise convolutions run on
// our own kernels (Kernels.h) instead, on the same arena and thread pool:
// they keep more of the machine's FMA peak on MobileOne's layer shapes.
//
// int8 models: their convolutions run on our int8 kernels (AVX2,
// KernelsInt8.cpp), their other operators on the reference int8 kernels;
// both bit-exact to TFLite's arithmetic (XNNPACK's int8 operators round
// their requantisation differently, so none is used).
//
//===----------------------------------------------------------------------===//

#include "Executor.h"
#include "Kernels.h"
#include "Quantized.h"
#include "Registry.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>

using namespace mobileone::runtime;

/// One float operator becoming a one-node XNNPACK subgraph (Registry.h's
/// xnnpack): its operands' value ids defined, the node's to add.
struct mobileone::runtime::XnnNode {
  const Model &model;
  const Op &op;
  xnn_subgraph_t subgraph;
  const std::vector<uint32_t> &ids;

  const Tensor &x() const { return model.tensors[op.inputs[0]]; }
  const Tensor &y() const { return model.tensors[op.output]; }
  uint32_t in() const { return ids[op.inputs[0]]; }
  uint32_t in2() const { return ids[op.inputs[1]]; }
  uint32_t out() const { return ids[op.output]; }
  uint32_t bias() const {
    return op.inputs.size() > 2 ? ids[op.inputs[2]] : XNN_INVALID_VALUE_ID;
  }
  static bool ok(xnn_status s) { return s == xnn_status_success; }
};

/// GELU: XNNPACK has none, so ours (AVX-512 or AVX2 + FMA, threaded) on
/// every such CPU, with or without --xnnpack-only; the portable kernel
/// elsewhere. (An int8 GELU is a table: the int8 reference kernel.)
std::unique_ptr<kernels::Kernel> native::gelu(const NativeRequest &r) {
  if (r.model.tensors[r.op.inputs[0]].data)
    return nullptr; // a constant input: the reference kernel reads it
  return kernels::createGelu(r.model.tensors[r.op.output].elements,
                             r.op.approximate, r.isa);
}

/// Our kernel for a convolution or fully connected layer whose weights are a
/// well-formed constant, or null to leave the op to XNNPACK (no AVX-512F, or
/// a shape our kernels do not take or would not run faster).
std::unique_ptr<kernels::Kernel> native::conv(const NativeRequest &r) {
  const Model &model = r.model;
  const Op &op = r.op;
  if (r.xnnpackOnly || op.inputs.size() < 2)
    return nullptr;
  const Tensor &w = model.tensors[op.inputs[1]];
  const Tensor &y = model.tensors[op.output];
  const Tensor *b =
      op.inputs.size() > 2 ? &model.tensors[op.inputs[2]] : nullptr;
  kernels::ConvShape shape;
  if (!w.data || !w.isFloat32() || (b && (!b->data || !b->isFloat32())) ||
      !kernels::convShapeOf(model, op, shape))
    return nullptr;
  const float *bias = b ? b->f32() : nullptr;
  shape.outMin = op.outMin;
  shape.outMax = op.outMax;
  shape.slope = r.slope;
  if (r.slope != 1.0f && op.kind != OpKind::Conv)
    return nullptr; // only the dense kernels fuse a LeakyReLU
  const bool dense = op.kind != OpKind::DepthwiseConv;
  if (op.kind != OpKind::FullyConnected && y.elements / y.shape[3] < 16)
    return nullptr;
  if (dense)
    return kernels::convBeatsXnnpack(shape)
               ? kernels::createConv(shape, w.f32(), bias, r.isa)
               : nullptr;
  if (kernels::depthwise3x3BeatsXnnpack(shape))
    if (auto k = kernels::createDepthwiseConv(shape, w.f32(), bias, r.isa))
      return k; // 3x3, stride 1 or 2, multiplier 1
  if (kernels::depthwiseKxKBeatsXnnpack(shape))
    return kernels::createDepthwiseKxK(shape, w.f32(), bias, r.isa);
  return nullptr;
}

bool xnn::conv(XnnNode &n) {
  const Op &op = n.op;
  return n.ok(xnn_define_convolution_2d(
      n.subgraph, op.padTop, op.padRight, op.padBottom, op.padLeft,
      op.kernelH, op.kernelW, op.strideH, op.strideW, op.dilationH,
      op.dilationW, op.groups, n.x().shape[3] / op.groups,
      n.y().shape[3] / op.groups, op.outMin, op.outMax, n.in(), n.in2(),
      n.bias(), n.out(), 0));
}

bool xnn::depthwiseConv(XnnNode &n) {
  const Op &op = n.op;
  return n.ok(xnn_define_depthwise_convolution_2d(
      n.subgraph, op.padTop, op.padRight, op.padBottom, op.padLeft,
      op.kernelH, op.kernelW, op.strideH, op.strideW, op.dilationH,
      op.dilationW, op.depthMultiplier, n.x().shape[3], op.outMin, op.outMax,
      n.in(), n.in2(), n.bias(), n.out(), 0));
}

bool xnn::transposeConv(XnnNode &n) {
  // The output's end: cropped (padding) or extended (adjustment).
  const Op &op = n.op;
  const Tensor &x = n.x(), &y = n.y();
  int64_t crop[2], adjust[2] = {0, 0};
  const int kernel[2] = {op.kernelH, op.kernelW},
            stride[2] = {op.strideH, op.strideW},
            start[2] = {op.padTop, op.padLeft};
  for (int d = 0; d < 2; ++d) {
    crop[d] = (x.shape[1 + d] - 1) * stride[d] + kernel[d] - start[d] -
              y.shape[1 + d];
    if (crop[d] < 0)
      adjust[d] = -crop[d], crop[d] = 0;
  }
  if (adjust[0] >= op.strideH || adjust[1] >= op.strideW)
    return false;
  return n.ok(xnn_define_deconvolution_2d(
      n.subgraph, op.padTop, uint32_t(crop[1]), uint32_t(crop[0]),
      op.padLeft, uint32_t(adjust[0]), uint32_t(adjust[1]), op.kernelH,
      op.kernelW, op.strideH, op.strideW, 1, 1, 1, x.shape[3], y.shape[3],
      op.outMin, op.outMax, n.in(), n.in2(), n.bias(), n.out(), 0));
}

bool xnn::fullyConnected(XnnNode &n) {
  return n.ok(xnn_define_fully_connected(n.subgraph, n.op.outMin,
                                         n.op.outMax, n.in(), n.in2(),
                                         n.bias(), n.out(), 0));
}

bool xnn::pad(XnnNode &n) {
  const Op &op = n.op;
  size_t pre[4] = {0, size_t(op.padTop), size_t(op.padLeft), 0};
  size_t post[4] = {0, size_t(op.padBottom), size_t(op.padRight), 0};
  return n.ok(xnn_define_static_constant_pad(n.subgraph, pre, post, 0.0f,
                                             n.in(), n.out(), 0));
}

bool xnn::averagePool(XnnNode &n) {
  const Op &op = n.op;
  if (op.kernelH == n.x().shape[1] && op.kernelW == n.x().shape[2] &&
      !op.padTop && !op.padBottom && !op.padLeft && !op.padRight)
    return n.ok(xnn_define_global_average_pooling_2d(
        n.subgraph, op.outMin, op.outMax, n.in(), n.out(), 0));
  return n.ok(xnn_define_average_pooling_2d(
      n.subgraph, op.padTop, op.padRight, op.padBottom, op.padLeft,
      op.kernelH, op.kernelW, op.strideH, op.strideW, op.outMin, op.outMax,
      n.in(), n.out(), 0));
}

bool xnn::maxPool(XnnNode &n) {
  const Op &op = n.op;
  return n.ok(xnn_define_max_pooling_2d(
      n.subgraph, op.padTop, op.padRight, op.padBottom, op.padLeft,
      op.kernelH, op.kernelW, op.strideH, op.strideW, 1, 1, op.outMin,
      op.outMax, n.in(), n.out(), 0));
}

bool xnn::mean(XnnNode &n) {
  // Over H and W of NHWC: a global average pool (keep_dims only).
  return n.y().shape.size() == 4 &&
         n.ok(xnn_define_global_average_pooling_2d(
             n.subgraph, n.op.outMin, n.op.outMax, n.in(), n.out(), 0));
}

bool xnn::add(XnnNode &n) {
  return n.ok(xnn_define_add2(n.subgraph, n.op.outMin, n.op.outMax, n.in(),
                              n.in2(), n.out(), 0));
}

bool xnn::sub(XnnNode &n) {
  return n.ok(xnn_define_subtract(n.subgraph, n.op.outMin, n.op.outMax,
                                  n.in(), n.in2(), n.out(), 0));
}

bool xnn::mul(XnnNode &n) {
  return n.ok(xnn_define_multiply2(n.subgraph, n.op.outMin, n.op.outMax,
                                   n.in(), n.in2(), n.out(), 0));
}

bool xnn::div(XnnNode &n) {
  return n.ok(xnn_define_divide(n.subgraph, n.op.outMin, n.op.outMax, n.in(),
                                n.in2(), n.out(), 0));
}

bool xnn::maximum(XnnNode &n) {
  return n.ok(xnn_define_maximum2(n.subgraph, n.in(), n.in2(), n.out(), 0));
}

bool xnn::minimum(XnnNode &n) {
  return n.ok(xnn_define_minimum2(n.subgraph, n.in(), n.in2(), n.out(), 0));
}

bool xnn::logistic(XnnNode &n) {
  return n.ok(xnn_define_sigmoid(n.subgraph, n.in(), n.out(), 0));
}

bool xnn::relu(XnnNode &n) {
  return n.ok(xnn_define_clamp(n.subgraph, 0.0f,
                               std::numeric_limits<float>::infinity(), n.in(),
                               n.out(), 0));
}

bool xnn::relu6(XnnNode &n) {
  return n.ok(xnn_define_clamp(n.subgraph, 0.0f, 6.0f, n.in(), n.out(), 0));
}

bool xnn::reluN1To1(XnnNode &n) {
  return n.ok(xnn_define_clamp(n.subgraph, -1.0f, 1.0f, n.in(), n.out(), 0));
}

bool xnn::hardSwish(XnnNode &n) {
  return n.ok(xnn_define_hardswish(n.subgraph, n.in(), n.out(), 0));
}

bool xnn::leakyRelu(XnnNode &n) {
  return n.ok(
      xnn_define_leaky_relu(n.subgraph, n.op.alpha, n.in(), n.out(), 0));
}

bool xnn::neg(XnnNode &n) {
  return n.ok(xnn_define_negate(n.subgraph, n.in(), n.out(), 0));
}

bool xnn::sqrt(XnnNode &n) {
  return n.ok(xnn_define_square_root(n.subgraph, n.in(), n.out(), 0));
}

bool xnn::softmax(XnnNode &n) {
  return n.ok(xnn_define_softmax(n.subgraph, n.in(), n.out(), 0));
}

namespace {

/// How many operators read each tensor.
std::vector<int> readerCounts(const Model &model) {
  std::vector<int> readers(model.tensors.size(), 0);
  for (const Op &op : model.ops)
    for (int t : op.inputs)
      ++readers[t];
  return readers;
}

class XnnpackExecutor : public Executor {
public:
  XnnpackExecutor(const Model &model, const Options &options)
      : model(model), allowNative(options.nativeKernels),
        allowFusion(options.fuse), isa(kernels::chooseIsa(options.avx512)) {}
  ~XnnpackExecutor() override {
    for (xnn_runtime_t r : runtimes)
      if (r)
        xnn_delete_runtime(r);
    if (pool)
      pthreadpool_destroy(pool);
  }
  bool build(int threads, std::string &whyNot);
  bool run(const std::vector<const float *> &inputs,
           const std::vector<float *> &outputs, std::string &error,
           std::vector<double> *opMs) override;
  const char *name() const override {
    return nativeOps && referenceOps ? "native+xnnpack+reference"
           : nativeOps               ? "native+xnnpack"
           : referenceOps            ? "xnnpack+reference"
                                     : "xnnpack";
  }
  const char *opKernel(size_t op) const override {
    return fused[op]                     ? "fused"
           : native[op] || native8[op]   ? "native"
           : reference[op] ? "reference"
                           : "xnnpack";
  }

private:
  bool buildOp(const Op &op, xnn_runtime_t &runtime, std::string &whyNot);
  std::vector<int> fuseDepthwiseIntoPointwise(int threads);
  /// `slope` != 1: a LeakyReLU fused into a dense convolution's epilogue.
  std::unique_ptr<kernels::Kernel> buildNative(const Op &op,
                                               float slope = 1.0f) const;
  std::unique_ptr<kernels::KernelInt8> buildNativeInt8(const Op &op) const;
  void absorbActivations(const std::vector<bool> &leaky,
                         std::vector<int> &readUntil);
  float *buffer(int tensor) { return arenaBase + offsets[tensor]; }

  const Model &model;
  const bool allowNative;
  const bool allowFusion;
  const kernels::Isa isa; ///< which build of our kernels runs
  std::vector<std::unique_ptr<kernels::Kernel>> native; ///< per op, or null
  /// Per int8 op: our int8 kernel, or null.
  std::vector<std::unique_ptr<kernels::KernelInt8>> native8;
  /// Per op: computed by the next op's kernel (its output is never stored).
  std::vector<bool> fused;
  /// Per op with a native kernel: the tensor it reads (the fused producer's
  /// input where it computes one).
  std::vector<int> nativeInput;
  /// Per op with a native kernel: the tensor it writes (the absorbed
  /// activation's output where it computes one).
  std::vector<int> nativeOutput;
  size_t nativeOps = 0;
  size_t referenceOps = 0;
  std::vector<xnn_runtime_t> runtimes; ///< per op; null for a RESHAPE copy
  /// Per op: XNNPACK cannot take it, our reference kernel runs it.
  std::vector<bool> reference;
  /// Per fallback op: its operands' addresses (constants or the arena).
  std::vector<std::vector<const void *>> operands;
  /// run()'s view of a float fallback op's operands (reused across runs).
  std::vector<const float *> floatOperands;
  std::vector<float> arena;
  float *arenaBase = nullptr; ///< arena.data() rounded up to 64 bytes
  std::vector<size_t> offsets;
  pthreadpool_t pool = nullptr;
};

std::unique_ptr<kernels::Kernel>
XnnpackExecutor::buildNative(const Op &op, float slope) const {
  const NativeFn choose = registration(op.kind).native;
  if (!choose || op.quantized)
    return nullptr;
  return choose({model, op, isa, /*xnnpackOnly=*/!allowNative, slope});
}

std::unique_ptr<kernels::KernelInt8>
XnnpackExecutor::buildNativeInt8(const Op &op) const {
  const NativeInt8Fn choose = registration(op.kind).nativeInt8;
  return allowNative && choose && op.quantized ? choose(model, op, isa)
                                               : nullptr;
}

bool XnnpackExecutor::buildOp(const Op &op, xnn_runtime_t &runtime,
                              std::string &whyNot) {
  // External values: the activation inputs, then the output.
  std::vector<int> externals;
  for (int t : op.inputs)
    if (!model.tensors[t].data && !model.tensors[t].isInt32())
      externals.push_back(t);
  externals.push_back(op.output);
  xnn_subgraph_t subgraph = nullptr;
  if (xnn_create_subgraph(externals.size(), 0, &subgraph) !=
      xnn_status_success) {
    whyNot = "xnn_create_subgraph failed";
    return false;
  }
  std::vector<uint32_t> ids(model.tensors.size(), XNN_INVALID_VALUE_ID);
  bool ok = true;
  auto define = [&](int t) {
    if (ids[t] != XNN_INVALID_VALUE_ID)
      return;
    const Tensor &tensor = model.tensors[t];
    std::vector<size_t> dims(tensor.shape.begin(), tensor.shape.end());
    uint32_t external = XNN_INVALID_VALUE_ID, flags = 0;
    for (size_t e = 0; e < externals.size(); ++e)
      if (externals[e] == t) {
        external = uint32_t(e);
        flags = t == op.output ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT
                               : XNN_VALUE_FLAG_EXTERNAL_INPUT;
      }
    ok &= xnn_define_tensor_value(subgraph, xnn_datatype_fp32, dims.size(),
                                  dims.data(), tensor.data, external, flags,
                                  &ids[t]) == xnn_status_success;
  };
  for (int t : op.inputs)
    if (!model.tensors[t].isInt32())
      define(t);
  define(op.output);
  XnnNode node{model, op, subgraph, ids};
  const XnnDefineFn defineNode = registration(op.kind).xnnpack;
  // No node (an operator XNNPACK (2022) lacks): our reference kernel.
  xnn_status s = xnn_status_unsupported_parameter;
  if (ok && defineNode && defineNode(node))
    s = xnn_status_success;
  if (op.kind == OpKind::Reshape) {
    xnn_delete_subgraph(subgraph);
    runtime = nullptr;
    return true;
  }
  if (s != xnn_status_success ||
      xnn_create_runtime_v2(subgraph, pool, 0, &runtime) !=
          xnn_status_success) {
    xnn_delete_subgraph(subgraph);
    whyNot = "XNNPACK cannot take " + op.opName + " writing '" +
             model.tensors[op.output].name + "'";
    return false;
  }
  xnn_delete_subgraph(subgraph);
  std::vector<xnn_external_value> values;
  for (size_t e = 0; e < externals.size(); ++e)
    values.push_back({uint32_t(e), buffer(externals[e])});
  if (xnn_setup_runtime(runtime, values.size(), values.data()) !=
      xnn_status_success) {
    whyNot = "xnn_setup_runtime failed for " + op.opName;
    return false;
  }
  return true;
}

bool XnnpackExecutor::build(int threads, std::string &whyNot) {
  static std::once_flag once;
  static xnn_status initialized;
  std::call_once(once, [] { initialized = xnn_initialize(nullptr); });
  if (initialized != xnn_status_success) {
    whyNot = "xnn_initialize failed (unsupported CPU?)";
    return false;
  }
  // Our kernels first (they pack their own weights): which pairs fuse
  // decides how long the arena keeps a fused producer's input.
  auto releaseWeights = [&](size_t i) {
    // Packed: the mapped weight pages are not needed any more (released op
    // by op, so the file's weights and the packed copies are not all
    // resident at once).
    for (size_t k = 1; k < model.ops[i].inputs.size(); ++k)
      model.releasePages(model.ops[i].inputs[k]);
  };
  // A LEAKY_RELU right after a dense convolution that alone reads its
  // output runs in that convolution's epilogue (XNNPACK's convolutions take
  // a clamp only): one pass over the activation instead of two.
  std::vector<float> slope(model.ops.size(), 1.0f);
  if (allowFusion) {
    const std::vector<int> readers = readerCounts(model);
    for (size_t i = 0; i + 1 < model.ops.size(); ++i) {
      const Op &conv = model.ops[i], &act = model.ops[i + 1];
      if (conv.kind == OpKind::Conv && act.kind == OpKind::LeakyRelu &&
          !conv.quantized && !act.quantized && !act.inputs.empty() &&
          act.inputs[0] == conv.output && readers[conv.output] == 1 &&
          !model.isOutput(conv.output) && std::isinf(conv.outMin) &&
          std::isinf(conv.outMax) && act.alpha >= 0.0f && act.alpha <= 1.0f)
        slope[i] = act.alpha;
    }
  }
  native.resize(model.ops.size());
  native8.resize(model.ops.size());
  std::vector<bool> leaky(model.ops.size(), false);
  for (size_t i = 0; i < model.ops.size(); ++i) {
    if (slope[i] != 1.0f && (native[i] = buildNative(model.ops[i], slope[i])))
      leaky[i] = true;
    else
      native[i] = buildNative(model.ops[i]);
    native8[i] = buildNativeInt8(model.ops[i]);
    if (native[i] || native8[i])
      releaseWeights(i);
  }
  std::vector<int> readUntil = fuseDepthwiseIntoPointwise(threads);
  absorbActivations(leaky, readUntil);
  size_t unplanned;
  arena.assign(planActivations(model, offsets, unplanned, readUntil) + 16,
               0.0f);
  arenaBase = reinterpret_cast<float *>(
      (reinterpret_cast<uintptr_t>(arena.data()) + 63) & ~uintptr_t(63));
  if (threads > 1)
    pool = pthreadpool_create(threads);
  runtimes.assign(model.ops.size(), nullptr);
  reference.assign(model.ops.size(), false);
  operands.resize(model.ops.size());
  for (size_t i = 0; i < model.ops.size(); ++i) {
    std::string opWhyNot;
    if (fused[i] && !native[i])
      continue; // an activation computed by the convolution before it
    if (native[i] || native8[i])
      ++nativeOps;
    else if (model.ops[i].quantized ||
             !buildOp(model.ops[i], runtimes[i], opWhyNot)) {
      // int8 ops without our kernel run on the reference int8 kernels
      // (bit-exact to ours; XNNPACK's requantisation is not).
      // This op alone falls back (the profile names its kernel).
      if (runtimes[i])
        xnn_delete_runtime(runtimes[i]); // created, but setup failed
      runtimes[i] = nullptr;
      reference[i] = true;
      ++referenceOps;
      for (int t : model.ops[i].inputs)
        operands[i].push_back(model.tensors[t].data ? model.tensors[t].data
                                                    : buffer(t));
      continue; // its constants are read at every run
    }
    // With threads, a depthwise layer whose input our GEMM wrote by channel
    // ranges reads the same ranges per thread (each from its own cache).
    if (native[i] && model.ops[i].kind == OpKind::DepthwiseConv)
      for (size_t j = 0; j < i; ++j)
        if (model.ops[j].output == model.ops[i].inputs[0] && native[j] &&
            native[j]->splitsByChannel())
          native[i]->preferChannelSplit();
    if (!native[i] && !native8[i])
      releaseWeights(i);
  }
  return true;
}

/// MobileOne's deployed blocks are 3x3 depthwise -> 1x1 pairs: where the
/// 1x1 alone reads the depthwise output, right after it, our GEMM computes
/// the depthwise rows per block of its input instead of reading them back
/// from memory. Returns, per tensor, the op until which it must stay in the
/// arena (-1: as it is): a fused producer's input is read by its consumer,
/// and its output is never stored.
std::vector<int> XnnpackExecutor::fuseDepthwiseIntoPointwise(int threads) {
  fused.assign(model.ops.size(), false);
  nativeInput.assign(model.ops.size(), -1);
  std::vector<int> readUntil(model.tensors.size(), -1);
  for (size_t i = 0; i < model.ops.size(); ++i)
    if (native[i] && !model.ops[i].inputs.empty())
      nativeInput[i] = model.ops[i].inputs[0];
  if (!allowFusion)
    return readUntil;
  const std::vector<int> readers = readerCounts(model);
  for (size_t i = 0; i + 1 < model.ops.size(); ++i) {
    const Op &dw = model.ops[i], &pw = model.ops[i + 1];
    if (!native[i] || !native[i + 1] || dw.inputs.empty() ||
        pw.inputs.empty() || pw.inputs[0] != dw.output ||
        model.isOutput(dw.output) || readers[dw.output] != 1)
      continue;
    const kernels::RowProducer *rows = native[i]->asRowProducer();
    if (rows && native[i + 1]->fuseProducer(*rows, threads)) {
      fused[i] = true;
      nativeInput[i + 1] = dw.inputs[0];
      readUntil[dw.inputs[0]] = int(i + 1);
      readUntil[dw.output] = kNeverStored;
    }
  }
  return readUntil;
}

/// The LEAKY_RELUs whose convolution's kernel took their slope: the kernel
/// writes the activation's output, the convolution's own output is never
/// stored, and the kernel's input stays in the arena until the activation's
/// output exists (the two must not share memory).
void XnnpackExecutor::absorbActivations(const std::vector<bool> &leaky,
                                        std::vector<int> &readUntil) {
  nativeOutput.assign(model.ops.size(), -1);
  for (size_t i = 0; i < model.ops.size(); ++i)
    nativeOutput[i] = model.ops[i].output;
  for (size_t i = 0; i + 1 < model.ops.size(); ++i) {
    if (!leaky[i])
      continue;
    fused[i + 1] = true;
    nativeOutput[i] = model.ops[i + 1].output;
    readUntil[model.ops[i].output] = kNeverStored;
    int in = nativeInput[i];
    if (in >= 0 && readUntil[in] != kNeverStored)
      readUntil[in] = std::max(readUntil[in], int(i + 1));
  }
}

bool XnnpackExecutor::run(const std::vector<const float *> &inputs,
                          const std::vector<float *> &outputs,
                          std::string &error, std::vector<double> *opMs) {
  for (size_t i = 0; i < inputs.size(); ++i)
    std::memcpy(buffer(model.inputs[i]), inputs[i],
                model.tensors[model.inputs[i]].bytes());
  for (size_t i = 0; i < model.ops.size(); ++i) {
    auto start = std::chrono::steady_clock::now();
    if (fused[i]) {
      // Computed by the next op's kernel.
    } else if (native[i]) {
      native[i]->run(buffer(nativeInput[i]), buffer(nativeOutput[i]), pool);
    } else if (native8[i]) {
      const Op &op = model.ops[i];
      native8[i]->run(reinterpret_cast<const int8_t *>(buffer(op.inputs[0])),
                      reinterpret_cast<int8_t *>(buffer(op.output)), pool);
    } else if (reference[i] && model.ops[i].quantized) {
      runQuantizedOp(model, model.ops[i], operands[i],
                     buffer(model.ops[i].output));
    } else if (reference[i]) {
      floatOperands.clear(); // reused: no allocation per run
      for (const void *p : operands[i])
        floatOperands.push_back(static_cast<const float *>(p));
      runReferenceOp(model, model.ops[i], floatOperands,
                     buffer(model.ops[i].output));
    } else if (runtimes[i]) {
      if (xnn_invoke_runtime(runtimes[i]) != xnn_status_success) {
        error = "XNNPACK failed to run " + model.ops[i].opName;
        return false;
      }
    } else {
      const Op &op = model.ops[i];
      const Tensor &x = model.tensors[op.inputs[0]];
      std::memmove(buffer(op.output), x.data ? x.f32() : buffer(op.inputs[0]),
                   model.tensors[op.output].elements * sizeof(float));
    }
    if (opMs)
      opMs->push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    std::memcpy(outputs[i], buffer(model.outputs[i]),
                model.tensors[model.outputs[i]].bytes());
  return true;
}

} // namespace

std::unique_ptr<Executor> mobileone::runtime::createXnnpackExecutor(
    const Model &model, const Options &options, std::string &whyNot) {
  auto executor = std::make_unique<XnnpackExecutor>(model, options);
  if (!executor->build(options.threads, whyNot))
    return nullptr;
  return executor;
}
