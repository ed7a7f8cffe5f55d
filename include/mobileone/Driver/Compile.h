//===- Compile.h - the whole compile pipeline as one call -------*- C++ -*-===//
//
// import -> recover structure -> re-parameterise -> lower -> emit ->
// (calibrate, quantise) -> check -> report -> write: what
// `mobileone-compile` does, as a library call. The tool parses its options
// into `CompileOptions` and prints `CompileResult::summary`.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_DRIVER_COMPILE_H
#define MOBILEONE_DRIVER_COMPILE_H

#include "mobileone/Transforms/Report.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir::mobileone {

struct CompileOptions {
  /// The training-time ONNX model.
  std::string input;
  /// Where to write; its extension picks the format: .onnx, .tflite, .mlir,
  /// .mlirbc. With `write` false nothing is written (the bytes are in the
  /// result) but the extension still picks the format.
  std::string output;
  bool write = true;
  /// .mlir / .mlirbc: "mobileone" (the deploy-time dialect) or "tosa".
  std::string target = "mobileone";
  /// Fixes a symbolic batch; unset: ONNX output keeps it symbolic, other
  /// targets use 1.
  std::optional<int64_t> batch;
  /// Fixed shapes of graph inputs by name (symbolic height and width).
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// fp32, fp16 or int8.
  std::string precision = "fp32";
  /// .tflite interface layout: nhwc or nchw; unset means nhwc (and is the
  /// only form allowed for the other formats).
  std::optional<std::string> tfliteLayout;
  /// int8: calibration samples (x.npy, x.npz or a directory) and method
  /// (minmax or percentile).
  std::string calibration;
  std::string calibrationMethod = "minmax";
  /// int8: `auto` keeps identity taps out of the kernels where that buys
  /// weight SQNR, within `maxSlowdown` of estimated latency; `all` folds
  /// every branch into its kernel (fastest).
  std::string int8Fold = "auto";
  /// int8: cross-layer equalisation (Int8Folding::equalize): `auto` keeps
  /// it where the weakest output measurably gains, `on` always, `off` never.
  std::string equalize = "auto";
  double maxSlowdown = 0.10;
  /// Layers left in float32 in an int8 model (Int8Folding::keepFloat);
  /// "auto" among them: also those that lose the most measured SQNR, within
  /// `maxSlowdown` and 0.35x of the float32 file, if that measurably helps.
  std::vector<std::string> keepFloat;
  /// int8: each layer's bias absorbs the mean error of its int8 weights on
  /// the calibration data (Int8Folding::biasCorrection).
  bool biasCorrection = true;
  /// int8 .onnx: weight bits, 8 (default: the .tflite's weights exactly)
  /// or 7 (ONNX Runtime's u8 x s8 kernels on x86 without VNNI cannot
  /// saturate, ONNXExportOptions::reduceRange).
  int qdqWeightBits = 8;
  /// The interface's element type, "float32" (or "fp32"), "float16" (or
  /// "fp16": a float .onnx, Casts at its edges) or "int8" (--precision
  /// int8: .tflite, quantised TOSA). Unset: the imported model's float
  /// type for .onnx (float16 stays float16), float32 for .tflite, int8 for
  /// quantised TOSA (its only form). A QDQ .onnx keeps float32 (as ONNX
  /// Runtime's quantiser writes it).
  std::optional<std::string> ioDType;
  /// Checks the written artifact against the training-time model; implied
  /// by `checkInput`, `checkAtol` and `checkRtol`.
  bool check = false;
  std::string checkInput;
  std::optional<double> checkAtol, checkRtol;
  /// Prints every --explain remark as it is made.
  bool explain = false;
  /// An HTML report to write beside the model ("" for none).
  std::string reportFile;
  bool noReparameterize = false;
  /// A machine description (mobileone-machine's output) for the estimate.
  std::string machineFile;
  /// Measure what is only needed for the summary (int8 SQNR per tensor).
  bool summary = true;
  /// How the compiler was invoked, for the report.
  std::string commandLine;
};

struct CompileResult {
  bool ok = false;
  /// The written (or, with `write` false, the would-be) file's contents.
  std::string bytes;
  /// The summary `mobileone-compile` prints: one line per fact.
  std::string summary;
  /// The --explain remarks, when asked for or for the report.
  std::vector<ExplainRemark> remarks;
  /// The --check outcome (`ran` false when not asked).
  CheckOutcome check;
};

/// Runs the whole pipeline. Every error is printed to `diagnostics` (named
/// after the file, the ONNX node or the option) and leaves `ok` false and no
/// file written.
CompileResult compile(const CompileOptions &options,
                      llvm::raw_ostream &diagnostics);

/// Parses `--input-shape` text, name:d0xd1x... (the name may hold ':'; the
/// last one splits), into `shapes`; false with `error` for bad text or a
/// name given twice.
bool addInputShape(const std::string &spec,
                   std::map<std::string, std::vector<int64_t>> &shapes,
                   std::string &error);

/// The check tolerance `precision` implies: fp32 1e-4, fp16 1e-2, int8 0.25.
double defaultCheckRtol(const std::string &precision);

} // namespace mlir::mobileone

#endif
