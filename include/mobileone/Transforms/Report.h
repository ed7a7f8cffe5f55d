//===- Report.h - a compilation as one self-contained HTML page -*- C++ -*-===//
//
// `mobileone-compile --report report.html`: the tool, its version and command
// line, the written file's interface and the estimated latency before and
// after; with --precision int8, the quantisation error of every tensor;
// what was fused (per block:
// branches in, kernel out), what was not and why (the --explain remarks),
// parameters, multiply-adds and feature-map bytes per stage before and after,
// the --check result, and a drawing of the network before (blocks with their
// branches) and after (the deployed chain), as inline SVG. No script, no
// external resource: the page opens from disk anywhere.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_TRANSFORMS_REPORT_H
#define MOBILEONE_TRANSFORMS_REPORT_H

#include "mobileone/Target/Quantization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace mlir::mobileone {

/// One --explain remark: the ONNX node it is located at and its text.
struct ExplainRemark {
  std::string node;
  std::string text;
};

struct CheckOutcome {
  bool ran = false;
  double maxAbs = 0.0, relative = 0.0, rtol = 0.0;
  bool pass = false;
  std::string note; ///< why it did not run
};

struct ReportInput {
  std::string model;  ///< the input file, as the user named it
  std::string output; ///< the deployed file
  std::string tool;        ///< e.g. "mobileone-compile 0.2.0"
  std::string commandLine; ///< as run, arguments quoted where needed
  /// The written file's interface, one line per tensor: name, shape,
  /// element type, layout (as the summary prints it).
  std::vector<std::string> interface;
  std::string estimate; ///< "0.29 ms -> 0.05 ms on <machine>"
  /// --precision int8: what quantising cost, per tensor (SQNR of the int8
  /// model against the float32 one, dB), outputs flagged; empty otherwise.
  struct Int8Error {
    std::string tensor;
    double sqnr = 0.0;
    bool output = false;
  };
  std::vector<Int8Error> int8Errors;
  std::string int8Note; ///< how they were measured
  /// --precision int8: the quantisation-aware folding's candidates (kernels
  /// whose identity taps cost their weights precision) and its choice.
  struct Int8Fold {
    std::string layer;
    double sqnrIn = 0.0, sqnrOut = 0.0; ///< weight SQNR, tap in / out (dB)
    double cost = 0.0; ///< added latency, fraction of the model's estimate
    bool chosen = false;
    std::string reason; ///< why not, when not chosen
  };
  std::vector<Int8Fold> int8Folds;
  /// Input channels constant over the calibration set, folded into a
  /// layer's bias: (layer, channels).
  std::vector<std::pair<std::string, int>> int8ConstantChannels;
  /// --precision int8: each layer's int8 weights and output parameters (the
  /// per-layer table: how dominated each output channel is by one tap, how
  /// far apart the channels' ranges are, the output range, its SQNR, the
  /// choice); null otherwise. `int8Method` says how activations were
  /// ranged; `int8KeptFloat` the layers left in float32.
  const Int8Quantization *int8 = nullptr;
  std::string int8Method;
  std::vector<std::string> int8KeptFloat;
  func::FuncOp trainingTime; ///< as imported
  func::FuncOp recovered;    ///< blocks explicit, before merging
  func::FuncOp deployed;     ///< re-parameterised (mobileone dialect)
  std::vector<ExplainRemark> remarks;
  CheckOutcome check;
};

/// The whole page.
std::string renderReport(const ReportInput &in);

} // namespace mlir::mobileone

#endif
