//===- NpyRead.cpp - fuzz target: the .npy reader -------------------------===//
//
// Any bytes as `input.npy` and as `input.npz`, read as mobileone-run reads
// --input (and mobileone-translate --tosa-runner-harness --input).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "mobileone/Runtime/Npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = mobileone::fuzz::writeInput(data, size, "input.npy");
  std::vector<int64_t> shape;
  std::vector<float> values;
  std::string error;
  if (mobileone::runtime::readNpy(path, shape, values, error)) {
    // What was read is consistent with its shape.
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    if (n != static_cast<int64_t>(values.size()))
      std::abort();
  }
  std::string zip = mobileone::fuzz::writeInput(data, size, "input.npz");
  std::vector<mobileone::runtime::NamedArray> arrays;
  if (mobileone::runtime::readNpz(zip, arrays, error))
    for (const mobileone::runtime::NamedArray &a : arrays) {
      int64_t n = 1;
      for (int64_t d : a.shape)
        n *= d;
      if (n != static_cast<int64_t>(a.data.size()))
        std::abort();
    }
  return 0;
}
