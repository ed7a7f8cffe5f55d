//===- Npy.h - float32 .npy files -------------------------------*- C++ -*-===//

#ifndef MOBILEONE_RUNTIME_NPY_H
#define MOBILEONE_RUNTIME_NPY_H

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

} // namespace mobileone::runtime

#endif
