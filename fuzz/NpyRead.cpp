//===- NpyRead.cpp - fuzz target: the .npy reader -------------------------===//
//
// Any bytes as `input.npy` and as `input.npz`, read as mobileone-run reads
// --input (any interface dtype) and as the compiler reads calibration data
// (float32 only).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "mobileone/Runtime/Npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = mobileone::fuzz::writeInput(data, size, "input.npy");
  std::vector<int64_t> shape;
  std::vector<float> values;
  std::string error;
  // Float32 only, then (as --input reads it) int8 and int32 too.
  mobileone::runtime::DType dtype;
  for (bool integers : {false, true})
    if (mobileone::runtime::readNpy(path, shape, values, error,
                                    integers ? &dtype : nullptr)) {
      // What was read is consistent with its shape.
      int64_t n = 1;
      for (int64_t d : shape)
        n *= d;
      if (n != static_cast<int64_t>(values.size()))
        std::abort();
    }
  std::string zip = mobileone::fuzz::writeInput(data, size, "input.npz");
  std::vector<mobileone::runtime::NamedArray> arrays;
  if (mobileone::runtime::readNpz(zip, arrays, error, /*integers=*/true))
    for (const mobileone::runtime::NamedArray &a : arrays) {
      int64_t n = 1;
      for (int64_t d : a.shape)
        n *= d;
      if (n != static_cast<int64_t>(a.data.size()))
        std::abort();
    }
  return 0;
}
