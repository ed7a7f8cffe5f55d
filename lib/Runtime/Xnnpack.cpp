//===- Xnnpack.cpp - the model as one XNNPACK subgraph --------------------===//
//
// Constants are handed to XNNPACK as static values (it packs the weights
// once, at runtime creation); activations are internal values, which the
// XNNPACK runtime places in its own planned workspace; the graph input and
// output are the two external values.
//
//===----------------------------------------------------------------------===//

#include "Executor.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <mutex>

using namespace mobileone::runtime;

namespace {

class XnnpackExecutor : public Executor {
public:
  ~XnnpackExecutor() override {
    if (runtime)
      xnn_delete_runtime(runtime);
    if (subgraph)
      xnn_delete_subgraph(subgraph);
    if (pool)
      pthreadpool_destroy(pool);
  }
  bool build(const Model &model, int threads, std::string &whyNot);
  bool run(const float *input, float *output, std::string &error) override {
    xnn_external_value values[2] = {{0, const_cast<float *>(input)},
                                    {1, output}};
    if (xnn_setup_runtime(runtime, 2, values) != xnn_status_success ||
        xnn_invoke_runtime(runtime) != xnn_status_success) {
      error = "XNNPACK failed to run the model";
      return false;
    }
    return true;
  }
  const char *name() const override { return "xnnpack"; }

private:
  xnn_subgraph_t subgraph = nullptr;
  xnn_runtime_t runtime = nullptr;
  pthreadpool_t pool = nullptr;
};

bool XnnpackExecutor::build(const Model &model, int threads,
                            std::string &whyNot) {
  static std::once_flag once;
  static xnn_status initialized;
  std::call_once(once, [] { initialized = xnn_initialize(nullptr); });
  if (initialized != xnn_status_success) {
    whyNot = "xnn_initialize failed (unsupported CPU?)";
    return false;
  }
  if (xnn_create_subgraph(2, 0, &subgraph) != xnn_status_success) {
    whyNot = "xnn_create_subgraph failed";
    return false;
  }
  std::vector<uint32_t> ids(model.tensors.size(), XNN_INVALID_VALUE_ID);
  auto define = [&](int t) -> bool {
    if (ids[t] != XNN_INVALID_VALUE_ID)
      return true;
    const Tensor &tensor = model.tensors[t];
    std::vector<size_t> dims(tensor.shape.begin(), tensor.shape.end());
    uint32_t external = XNN_INVALID_VALUE_ID, flags = 0;
    if (t == model.input) {
      external = 0;
      flags = XNN_VALUE_FLAG_EXTERNAL_INPUT;
    } else if (t == model.output) {
      external = 1;
      flags = XNN_VALUE_FLAG_EXTERNAL_OUTPUT;
    }
    return xnn_define_tensor_value(subgraph, xnn_datatype_fp32, dims.size(),
                                   dims.data(), tensor.data, external, flags,
                                   &ids[t]) == xnn_status_success;
  };
  if (!define(model.input) || !define(model.output) ||
      model.tensors[model.output].data) {
    whyNot = "cannot define the graph input or output";
    return false;
  }
  for (const Op &op : model.ops) {
    for (int t : op.inputs)
      if (!model.tensors[t].isInt32 && !define(t)) {
        whyNot = "cannot define tensor '" + model.tensors[t].name + "'";
        return false;
      }
    if (!define(op.output)) {
      whyNot = "cannot define tensor '" + model.tensors[op.output].name + "'";
      return false;
    }
    const Tensor &x = model.tensors[op.inputs[0]];
    uint32_t in = ids[op.inputs[0]], out = ids[op.output];
    uint32_t bias =
        op.inputs.size() > 2 ? ids[op.inputs[2]] : XNN_INVALID_VALUE_ID;
    xnn_status s = xnn_status_unsupported_parameter;
    switch (op.kind) {
    case OpKind::Conv: {
      const Tensor &w = model.tensors[op.inputs[1]];
      s = xnn_define_convolution_2d(
          subgraph, op.padTop, op.padRight, op.padBottom, op.padLeft,
          op.kernelH, op.kernelW, op.strideH, op.strideW, op.dilationH,
          op.dilationW, /*groups=*/1, x.shape[3], w.shape[0], op.outMin,
          op.outMax, in, ids[op.inputs[1]], bias, out, 0);
      break;
    }
    case OpKind::DepthwiseConv:
      s = xnn_define_depthwise_convolution_2d(
          subgraph, op.padTop, op.padRight, op.padBottom, op.padLeft,
          op.kernelH, op.kernelW, op.strideH, op.strideW, op.dilationH,
          op.dilationW, op.depthMultiplier, x.shape[3], op.outMin, op.outMax,
          in, ids[op.inputs[1]], bias, out, 0);
      break;
    case OpKind::Pad: {
      size_t pre[4] = {0, size_t(op.padTop), size_t(op.padLeft), 0};
      size_t post[4] = {0, size_t(op.padBottom), size_t(op.padRight), 0};
      s = xnn_define_static_constant_pad(subgraph, pre, post, 0.0f, in, out, 0);
      break;
    }
    case OpKind::AveragePool:
      if (op.kernelH == x.shape[1] && op.kernelW == x.shape[2] && !op.padTop &&
          !op.padBottom && !op.padLeft && !op.padRight)
        s = xnn_define_global_average_pooling_2d(subgraph, op.outMin, op.outMax,
                                                 in, out, 0);
      else
        s = xnn_define_average_pooling_2d(subgraph, op.padTop, op.padRight,
                                          op.padBottom, op.padLeft, op.kernelH,
                                          op.kernelW, op.strideH, op.strideW,
                                          op.outMin, op.outMax, in, out, 0);
      break;
    case OpKind::Mean:
      if (model.tensors[op.output].shape.size() == 4)
        s = xnn_define_global_average_pooling_2d(subgraph, op.outMin, op.outMax,
                                                 in, out, 0);
      break;
    case OpKind::FullyConnected:
      s = xnn_define_fully_connected(subgraph, op.outMin, op.outMax, in,
                                     ids[op.inputs[1]], bias, out, 0);
      break;
    case OpKind::Add:
      s = xnn_define_add2(subgraph, op.outMin, op.outMax, in, ids[op.inputs[1]],
                          out, 0);
      break;
    case OpKind::Mul:
      s = xnn_define_multiply2(subgraph, op.outMin, op.outMax, in,
                               ids[op.inputs[1]], out, 0);
      break;
    case OpKind::Logistic:
      s = xnn_define_sigmoid(subgraph, in, out, 0);
      break;
    case OpKind::Relu:
    case OpKind::Relu6:
      s = xnn_define_clamp(subgraph, 0.0f,
                           op.kind == OpKind::Relu6
                               ? 6.0f
                               : std::numeric_limits<float>::infinity(),
                           in, out, 0);
      break;
    case OpKind::Reshape: {
      const Tensor &y = model.tensors[op.output];
      std::vector<size_t> shape(y.shape.begin(), y.shape.end());
      s = xnn_define_static_reshape(subgraph, shape.size(), shape.data(), in,
                                    out, 0);
      break;
    }
    }
    if (s != xnn_status_success) {
      whyNot = "XNNPACK cannot take " + op.opName + " writing '" +
               model.tensors[op.output].name + "'";
      return false;
    }
  }
  if (threads > 1)
    pool = pthreadpool_create(threads);
  if (xnn_create_runtime_v2(subgraph, pool, 0, &runtime) !=
      xnn_status_success) {
    whyNot = "xnn_create_runtime_v2 failed";
    return false;
  }
  return true;
}

} // namespace

std::unique_ptr<Executor>
mobileone::runtime::createXnnpackExecutor(const Model &model, int threads,
                                          std::string &whyNot) {
  auto executor = std::make_unique<XnnpackExecutor>();
  if (!executor->build(model, threads, whyNot))
    return nullptr;
  return executor;
}
