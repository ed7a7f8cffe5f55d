//===- TfliteRun.cpp - fuzz target: the runtime's loader and kernels ------===//
//
// Any bytes as a .tflite: loaded (validated) on the reference path and on
// the default path (XNNPACK and our kernels); what loads is run once on a
// fixed input. Load errors are expected; a crash, a sanitizer report or a
// wrong-sized write is a bug.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Runtime/Runtime.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace mobileone::runtime;
  for (bool reference : {true, false}) {
    Options options;
    options.reference = reference;
    std::string error;
    std::unique_ptr<Session> session =
        Session::create(std::vector<uint8_t>(data, data + size), options, error);
    if (!session)
      continue;
    // Keep runs short: a valid model with large activations is only loaded.
    if (session->plannedActivationBytes() > (size_t(8) << 20))
      continue;
    std::vector<std::vector<float>> xs, ys;
    std::vector<ConstTensorView> in;
    std::vector<TensorView> out;
    // Each interface tensor in its own dtype (an int8 one: integers).
    for (const TensorInfo &t : session->inputs()) {
      std::vector<float> &x = xs.emplace_back(t.numElements());
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = float(int(i % 7) - 3) * (t.dtype == DType::Int8 ? 1.0f : 0.25f);
      narrowValues(t.dtype, x.data(), x.size());
      in.push_back({x.data(), x.size(), t.dtype});
    }
    for (const TensorInfo &t : session->outputs()) {
      std::vector<float> &y = ys.emplace_back(t.numElements());
      out.push_back({y.data(), y.size(), t.dtype});
    }
    if (!session->run(in, out, error))
      std::abort(); // a model that loads must run
  }
  return 0;
}
