//===- Calibration.h - calibration data for int8 quantisation ---*- C++ -*-===//
//
// `--calibration` data: samples in the ONNX model's layout (NCHW), stacked
// along dimension 0: a .npy for a model of one input, a .npz with one array
// per input name, or a directory of such files (taken in name order).
// Every sample is checked when read (shape, finite values); the ranges are
// measured by running the float32 .tflite on the runtime's reference
// kernels.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_DRIVER_CALIBRATION_H
#define MOBILEONE_DRIVER_CALIBRATION_H

#include "mobileone/Runtime/Runtime.h"
#include "mobileone/Target/TFLite.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::mobileone {

/// A graph input as the ONNX model has it.
struct InterfaceTensor {
  std::string name;
  std::vector<int64_t> shape;
};

/// How a tensor's calibrated range is chosen from the values it took.
enum class CalibrationMethod {
  /// The smallest and largest value.
  MinMax,
  /// The 0.01st and 99.99th percentiles (outliers clipped).
  Percentile,
  /// The range whose int8 quantisation has the least mean squared error
  /// over the values seen: rounding inside the range, clipping outside.
  Mse,
};

class CalibrationSet {
public:
  /// Reads `path` for a model with `inputs`; errors name the file, the input
  /// and the sample.
  static std::unique_ptr<CalibrationSet>
  read(const std::string &path, const std::vector<InterfaceTensor> &inputs,
       std::string &error);

  size_t samples() const { return data.size(); }

  /// Runs the float32 TFLite `model` (4-D inputs NHWC, the rest as in ONNX)
  /// on every sample and gives each float32 tensor's range, by tensor index.
  bool ranges(ArrayRef<uint8_t> model, CalibrationMethod method,
              std::vector<TensorRange> &out, std::string &error) const;

  /// What quantising cost, tensor by tensor: the SQNR of each tensor of the
  /// int8 model (its real values) against the same tensor of the float32
  /// model, over the first `samples` samples, in the int8 model's order
  /// (graph outputs included, by their names).
  struct TensorError {
    std::string name;
    double sqnr;
    bool output;
  };
  bool errors(ArrayRef<uint8_t> floatModel, ArrayRef<uint8_t> int8Model,
              size_t samples, std::vector<TensorError> &out,
              std::string &error) const;

private:
  /// Sample `k` in the .tflite's layout for a model with inputs `infos`
  /// (4-D ones transposed where the file's interface is NHWC).
  void feed(size_t k, const std::vector<::mobileone::runtime::TensorInfo> &infos,
            bool nhwcInterface,
            std::vector<std::vector<float>> &buffers) const;

  std::vector<InterfaceTensor> inputs;
  /// [sample][input]: one sample's values, ONNX layout.
  std::vector<std::vector<std::vector<float>>> data;
};

/// A layer `--keep-float auto` may leave in float32: how much SQNR it loses
/// (its input tensor's minus its output's, as measured), what running it
/// in float32 costs, as a fraction of the model's estimated int8 time, and
/// the bytes its float16 weights add to the file.
struct KeepFloatCandidate {
  std::string layer;
  double loss = 0.0, cost = 0.0;
  int64_t bytes = 0;
};
/// The int8 layers of `q` by measured loss, largest first: those losing at
/// least `minLoss` dB whose cost fits `budget` on a float32 roofline of
/// `fp32MacsPerSecond` (the int8 one is `folding`'s).
std::vector<KeepFloatCandidate>
rankKeepFloat(const QuantizationSummary &q,
              const std::vector<CalibrationSet::TensorError> &errors,
              const Int8Folding &folding, double fp32MacsPerSecond,
              double budget, double minLoss);

} // namespace mlir::mobileone

#endif
