//===- Npy.h - float32 .npy files -------------------------------*- C++ -*-===//

#ifndef MOBILEONE_RUNTIME_NPY_H
#define MOBILEONE_RUNTIME_NPY_H

#include "mobileone/Runtime/Runtime.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mobileone::runtime {

/// Reads a little-endian float32, C-order .npy file (v1.0 to 3.0): exactly
/// the values its shape says, at most 2^28. With `dtype`, int32 and int8
/// files too (their values converted to floats; the file's type there).
bool readNpy(const std::string &path, std::vector<int64_t> &shape,
             std::vector<float> &data, std::string &error,
             DType *dtype = nullptr);

/// One array of a .npz file.
struct NamedArray {
  std::string name; ///< the key, without ".npy"
  std::vector<int64_t> shape;
  std::vector<float> data; ///< the values, whatever the file's type
  DType dtype = DType::Float32; ///< the file's type (written as this)
};
/// Reads a .npz file as numpy.savez writes it (a zip of stored .npy files,
/// ZIP64 too; each array float32 as readNpy requires, CRC checked). A
/// compressed archive (numpy.savez_compressed) is an error that says so.
/// With `integers`, int32 and int8 arrays too.
bool readNpz(const std::string &path, std::vector<NamedArray> &arrays,
             std::string &error, bool integers = false);
/// Writes one (stored entries, loadable by numpy.load) through
/// writeFileWhole.
bool writeNpz(const std::string &path, const std::vector<NamedArray> &arrays,
              std::string &error,
              const std::vector<std::string> &protect = {});

/// The interface tensors `ts` from `path`, as mobileone-run's --input reads
/// them in both modes: one .npy for a model of one input, or a .npz holding
/// exactly one array per tensor name, each of its tensor's dtype (float32;
/// int8 for an int8 interface), its values as floats. Errors name the array
/// and what was expected (with the NCHW -> NHWC hint for an
/// `nhwcInterface`, the quantisation for an int8 tensor).
bool readTensors(const std::string &path, const std::vector<TensorInfo> &ts,
                 std::vector<std::vector<float>> &values, bool nhwcInterface,
                 std::string &error);
/// `values` of the interface tensors `ts` to `path` (--output,
/// --save-input): a .npz of every tensor keyed by name, or a .npy when there
/// is one (else an error naming `option` y.npz); each stored as its
/// tensor's dtype.
bool writeTensors(const std::string &path, const std::vector<TensorInfo> &ts,
                  const std::vector<std::vector<float>> &values,
                  const char *option, const char *what, std::string &error,
                  const std::vector<std::string> &protect = {});

/// "[1, 3, 224, 224]".
std::string shapeText(const std::vector<int64_t> &shape);
/// An int8 tensor's meaning, "real = 0.0305 x (q + 2)"; "" for other dtypes.
std::string quantizationText(const TensorInfo &t);
/// How to make real values `x` an int8 tensor's input: "(real = 0.0305 x
/// (q + 2): q = numpy.clip(numpy.round(x / 0.0305) - 2, -128,
/// 127).astype(numpy.int8))".
std::string quantizeHint(const TensorInfo &t);
/// Writes one through writeFileWhole: `data` holds the values, stored as
/// `dtype`.
bool writeNpy(const std::string &path, const std::vector<int64_t> &shape,
              const float *data, std::string &error,
              const std::vector<std::string> &protect = {},
              DType dtype = DType::Float32);

/// Writes `bytes` to `path` whole or not at all: through a temporary file
/// beside it, synced and renamed over it only when complete, so a failed
/// write (disk full, file-size limit) leaves any earlier file unchanged. An
/// existing device is written in place, never replaced; a directory, FIFO
/// or socket is refused; so is a `path` that is one of the files in
/// `protect` (the model, the inputs). Every failure gives the reason.
bool writeFileWhole(const std::string &path, const std::string &bytes,
                    const std::vector<std::string> &protect,
                    std::string &error);

/// How far `out` is from `ref` (n values each): max |out - ref| (NaN
/// anywhere makes it NaN, which fails every tolerance), max |ref|, and their
/// ratio. The one measure every tool's --compare and --check prints.
struct Difference {
  double maxAbs = 0.0, maxRef = 0.0, relative = 0.0;
};
Difference difference(const float *out, const float *ref, size_t n);

} // namespace mobileone::runtime

#endif
