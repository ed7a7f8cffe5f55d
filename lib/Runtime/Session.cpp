//===- Session.cpp - the public runtime API -------------------------------===//

#include "Executor.h"

#include <algorithm>
#include <new>

using namespace mobileone::runtime;

Session::Session() = default;
Session::~Session() = default;

// The library is built with exceptions so that running out of memory is an
// error for the caller, not a terminate.
std::unique_ptr<Session> Session::create(std::vector<uint8_t> bytes,
                                         const Options &options,
                                         std::string &error) {
  try {
    std::unique_ptr<Model> model = Model::load(std::move(bytes), error);
    return model ? createImpl(std::move(model), options, error) : nullptr;
  } catch (const std::bad_alloc &) {
    error = "out of memory while loading the model";
    return nullptr;
  }
}

std::unique_ptr<Session> Session::createView(const void *data, size_t size,
                                             const Options &options,
                                             std::string &error) {
  try {
    std::unique_ptr<Model> model = Model::loadView(
        static_cast<const uint8_t *>(data), size, error);
    return model ? createImpl(std::move(model), options, error) : nullptr;
  } catch (const std::bad_alloc &) {
    error = "out of memory while loading the model";
    return nullptr;
  }
}

std::unique_ptr<Session> Session::createFromFile(const std::string &path,
                                                 const Options &options,
                                                 std::string &error) {
  try {
    std::unique_ptr<Model> model = Model::loadFile(path, error);
    return model ? createImpl(std::move(model), options, error) : nullptr;
  } catch (const std::bad_alloc &) {
    error = "out of memory while loading the model";
    return nullptr;
  }
}

std::unique_ptr<Session> Session::createImpl(std::unique_ptr<Model> model,
                                             const Options &options,
                                             std::string &error) {
  if (options.threads < 1 || options.threads > 256) {
    error = "threads must be between 1 and 256";
    return nullptr;
  }
  std::unique_ptr<Session> s(new Session());
  s->model = std::move(model);
  for (const Tensor &t : s->model->tensors)
    if (t.data)
      s->weights += t.bytes();
  for (const Op &op : s->model->ops) {
    size_t pair = s->model->tensors[op.output].bytes();
    for (int t : op.inputs)
      if (!s->model->tensors[t].data)
        pair += s->model->tensors[t].bytes();
    s->livePair = std::max(s->livePair, pair);
  }
  auto reference = std::make_unique<ReferenceExecutor>(*s->model);
  s->planned = reference->plannedBytes();
  s->unplanned = reference->unplannedBytes();
  if (options.reference) {
    s->fallback = "reference kernels requested";
  } else {
    s->executor =
        createXnnpackExecutor(*s->model, options, s->fallback);
    if (s->executor)
      return s;
  }
  s->executor = std::move(reference);
  return s;
}


bool Session::observe(const std::vector<ConstTensorView> &inputs,
                      const Observer &observer, std::string &error) {
  std::vector<const float *> in;
  std::vector<float *> out;
  std::vector<std::vector<float>> outputs;
  std::vector<TensorView> views;
  for (const TensorInfo &t : model->outputInfos) {
    outputs.emplace_back(size_t(t.numElements()));
    views.emplace_back(outputs.back().data(), outputs.back().size(), t.dtype);
  }
  if (!bind(inputs, views, in, out, error))
    return false;
  try {
    ReferenceExecutor reference(*model);
    reference.observer = &observer;
    return reference.run(in, out, error, nullptr);
  } catch (const std::bad_alloc &) {
    error = "out of memory while running the model";
    return false;
  }
}

const std::string &Session::tensorName(int index) const {
  return model->tensors.at(size_t(index)).name;
}

const std::vector<TensorInfo> &Session::inputs() const {
  return model->inputInfos;
}
const std::vector<TensorInfo> &Session::outputs() const {
  return model->outputInfos;
}
bool Session::nhwcInterface() const { return model->nhwcInterface; }
const char *Session::backend() const { return executor->name(); }
size_t Session::plannedActivationBytes() const { return planned; }
size_t Session::unplannedActivationBytes() const { return unplanned; }

bool Session::bind(const std::vector<ConstTensorView> &inputs,
                   const std::vector<TensorView> &outputs,
                   std::vector<const float *> &in, std::vector<float *> &out,
                   std::string &error) const {
  if (inputs.size() != model->inputs.size() ||
      outputs.size() != model->outputs.size()) {
    error = "the model has " + std::to_string(model->inputs.size()) +
            " input(s) and " + std::to_string(model->outputs.size()) +
            " output(s); given " + std::to_string(inputs.size()) + " and " +
            std::to_string(outputs.size());
    return false;
  }
  auto check = [&](const TensorInfo &t, int64_t elements, DType dtype,
                   const void *data, const char *what) {
    if (!data || elements != t.numElements() || dtype != t.dtype) {
      error = std::string(what) + " '" + t.name + "' needs " +
              std::to_string(t.numElements()) + " " + dtypeName(t.dtype) +
              " values, given " +
              (data ? std::to_string(elements) + " " + dtypeName(dtype)
                    : std::string("none"));
      return false;
    }
    return true;
  };
  in.clear();
  out.clear();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!check(model->inputInfos[i], inputs[i].elements, inputs[i].dtype,
               inputs[i].data, "input"))
      return false;
    in.push_back(static_cast<const float *>(inputs[i].data));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!check(model->outputInfos[i], outputs[i].elements, outputs[i].dtype,
               outputs[i].data, "output"))
      return false;
    out.push_back(static_cast<float *>(outputs[i].data));
  }
  return true;
}

bool Session::run(const std::vector<ConstTensorView> &inputs,
                  const std::vector<TensorView> &outputs, std::string &error) {
  std::vector<const float *> in;
  std::vector<float *> out;
  if (!bind(inputs, outputs, in, out, error))
    return false;
  try {
    return executor->run(in, out, error, nullptr);
  } catch (const std::bad_alloc &) {
    error = "out of memory while running the model";
    return false;
  }
}

bool Session::run(const float *input, float *output, std::string &error) {
  return run({{input, size_t(inputInfo().numElements())}},
             {{output, size_t(outputInfo().numElements())}}, error);
}

bool Session::profile(const std::vector<ConstTensorView> &inputs,
                      const std::vector<TensorView> &outputs, int runs,
                      std::vector<OpProfile> &ops, std::string &error) {
  std::vector<const float *> in;
  std::vector<float *> out;
  if (!bind(inputs, outputs, in, out, error))
    return false;
  std::vector<std::vector<double>> times(model->ops.size());
  try {
    for (int r = 0; r < runs; ++r) {
      std::vector<double> ms;
      if (!executor->run(in, out, error, &ms))
        return false;
      for (size_t i = 0; i < ms.size() && i < times.size(); ++i)
        times[i].push_back(ms[i]);
    }
  } catch (const std::bad_alloc &) {
    error = "out of memory while running the model";
    return false;
  }
  ops.clear();
  for (size_t i = 0; i < model->ops.size(); ++i) {
    const Op &op = model->ops[i];
    const Tensor &y = model->tensors[op.output];
    OpProfile p;
    p.op = op.opName;
    p.kernel = executor->opKernel(i);
    p.output = y.name;
    p.shape = "[";
    for (size_t d = 0; d < y.shape.size(); ++d)
      p.shape += (d ? "," : "") + std::to_string(y.shape[d]);
    p.shape += "]";
    std::vector<double> &t = times[i];
    std::sort(t.begin(), t.end());
    p.ms = t.empty() ? 0.0 : t[t.size() / 2];
    const Tensor &x = model->tensors[op.inputs[0]];
    if (op.kind == OpKind::Conv)
      p.flops = 2.0 * y.elements * op.kernelH * op.kernelW * x.shape[3];
    else if (op.kind == OpKind::DepthwiseConv)
      p.flops = 2.0 * y.elements * op.kernelH * op.kernelW;
    else if (op.kind == OpKind::FullyConnected)
      p.flops = 2.0 * y.elements * model->tensors[op.inputs[1]].shape[1];
    ops.push_back(std::move(p));
  }
  // A fused op's time is the next op's: so are its flops.
  for (size_t i = 0; i + 1 < ops.size(); ++i)
    if (ops[i].kernel == std::string("fused")) {
      ops[i + 1].flops += ops[i].flops;
      ops[i].flops = 0;
      ops[i].ms = 0;
    }
  return true;
}
