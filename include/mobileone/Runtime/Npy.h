//===- Npy.h - float32 .npy files -------------------------------*- C++ -*-===//

#ifndef MOBILEONE_RUNTIME_NPY_H
#define MOBILEONE_RUNTIME_NPY_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mobileone::runtime {

/// Reads a little-endian float32, C-order .npy file (v1.0 to 3.0).
bool readNpy(const std::string &path, std::vector<int64_t> &shape,
             std::vector<float> &data, std::string &error);
/// Writes one; the file is complete or absent.
bool writeNpy(const std::string &path, const std::vector<int64_t> &shape,
              const float *data, std::string &error);

/// How far `out` is from `ref` (n values each): max |out - ref| (NaN
/// anywhere makes it NaN, which fails every tolerance), max |ref|, and their
/// ratio. The one measure every tool's --compare and --check prints.
struct Difference {
  double maxAbs = 0.0, maxRef = 0.0, relative = 0.0;
};
Difference difference(const float *out, const float *ref, size_t n);

} // namespace mobileone::runtime

#endif
