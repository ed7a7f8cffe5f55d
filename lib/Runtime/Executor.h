//===- Executor.h - the two ways to run a Model (internal) ------*- C++ -*-===//

#ifndef MOBILEONE_LIB_RUNTIME_EXECUTOR_H
#define MOBILEONE_LIB_RUNTIME_EXECUTOR_H

#include "Model.h"
#include "mobileone/Runtime/Runtime.h"

namespace mobileone::runtime {

class Executor {
public:
  virtual ~Executor() = default;
  /// One inference; with `opMs`, also the time of each of model.ops.
  /// `inputs` and `outputs` follow model.inputs and model.outputs.
  virtual bool run(const std::vector<const float *> &inputs,
                   const std::vector<float *> &outputs, std::string &error,
                   std::vector<double> *opMs = nullptr) = 0;
  virtual const char *name() const = 0;
  /// Which kernels run model.ops[op].
  virtual const char *opKernel(size_t op) const { return name(); }
};

/// Portable kernels over one planned activation arena.
class ReferenceExecutor : public Executor {
public:
  explicit ReferenceExecutor(const Model &model);
  bool run(const std::vector<const float *> &inputs,
           const std::vector<float *> &outputs, std::string &error,
           std::vector<double> *opMs) override;
  const char *name() const override { return "reference"; }
  /// Called with every float32 activation as it is computed (graph inputs
  /// first), by tensor index; null: none.
  const Session::Observer *observer = nullptr;
  size_t plannedBytes() const { return arenaFloats * sizeof(float); }
  size_t unplannedBytes() const { return unplanned * sizeof(float); }

private:
  float *buffer(int tensor) { return arena.data() + offsets[tensor]; }
  const float *value(int tensor) {
    const Tensor &t = model.tensors[tensor];
    return t.data ? t.f32() : buffer(tensor);
  }

  const Model &model;
  std::vector<float> arena; ///< allocated on first run
  size_t arenaFloats = 0;
  std::vector<size_t> offsets; ///< per tensor, in floats
  size_t unplanned = 0;
};

/// Each operator on XNNPACK or, with `options.nativeKernels` and where the
/// CPU and the shape allow, on our own kernels (the AVX-512 ones only with
/// `options.avx512`; depthwise -> 1x1 pairs fused with `options.fuse`), on
/// `options.threads`; or null with the reason.
std::unique_ptr<Executor> createXnnpackExecutor(const Model &model,
                                                const Options &options,
                                                std::string &whyNot);

} // namespace mobileone::runtime

#endif
