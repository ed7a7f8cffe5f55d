//===- Cost.h - what a model costs: counts, bytes, a latency estimate -*- C++ -*-//
//
// Parameters and multiply-adds, the two counts the MobileOne paper argues
// predict latency badly, and what it says matters: the bytes every op moves
// (the activations a training-time graph's branches write and read back) and
// synchronisation points (a global pool must finish before its gate). A
// roofline of a machine description turns them into an estimated latency:
//
//   op time = max(flops / ceiling, bytes / bandwidth) + per-op overhead
//
// The compute ceiling is the FMA peak, or for ops with multiply-adds
// (convolutions, linear layers, matmuls) what the runtime's dense kernels
// reach, if the machine description says.
//
// Memory assumption (the streaming bound): every op reads its activation
// operands from memory and writes its results to memory, nothing stays in
// registers between ops; weights are read once per inference. The bandwidth
// is the cache's when the op's working set (inputs + outputs + weights) fits
// in the last-level cache, else DRAM's.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_TRANSFORMS_COST_H
#define MOBILEONE_TRANSFORMS_COST_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::mobileone {

struct Cost {
  int64_t params = 0;
  int64_t macs = 0;   ///< convolutions, linear layers, matmuls
  int64_t seMacs = 0; ///< the two 1x1 convs of squeeze-excite modules
  /// Floating-point operations: 2 per multiply-add (SE included), 1 per
  /// element a pool or reduction reads, and per element an element-wise op
  /// writes: 1 (relu, add, ...), 2 (BN, leaky relu), 3 (hard sigmoid), 4
  /// (hard swish), 5 (layer norm, softmax), 10 (sigmoid, tanh, exp), 12
  /// (erf), 14 (gelu).
  int64_t flops = 0;
  int64_t bytesRead = 0;    ///< activation operands (not constants)
  int64_t bytesWritten = 0; ///< results (every op result once)
  int64_t weightBytes = 0;  ///< constant operands
  /// Ops that need their whole input before producing any output: global
  /// pools, reductions over the spatial axes, squeeze-excite gates.
  int64_t syncPoints = 0;
  /// Ops by name, in order of first appearance (constants, blocks and their
  /// contents included; terminators excluded).
  llvm::MapVector<StringRef, int64_t> ops;

  int64_t bytesMoved() const { return bytesRead + bytesWritten + weightBytes; }
  void add(const Cost &c);
};

/// Counts `func`, blocks included. See --mobileone-cost-report.
Cost computeCost(func::FuncOp func);

/// The cost of one op alone (a block's contents not included); `ops` empty.
/// Constants cost nothing.
Cost opCost(Operation *op);

/// The machine a latency is estimated for (`mobileone-machine` measures one).
struct Machine {
  double peakGflops = 100.0;       ///< fp32, the widest vector ISA
  /// What the runtime's dense kernels reach (0: the peak): the compute
  /// ceiling of ops with multiply-adds; other ops use the peak.
  double convGflops = 0.0;
  double cacheBandwidthGBs = 100.0; ///< working sets within cacheBytes
  double dramBandwidthGBs = 15.0;   ///< larger working sets
  double cacheBytes = 32.0 * (1 << 20);
  double opOverheadUs = 1.0; ///< fixed cost of running one op
  /// Measured bandwidth by working set, ascending (bytes, GB/s): if given,
  /// an op moves its bytes at the bandwidth of the smallest measured
  /// working set at least as large as its own (the largest one's beyond),
  /// instead of the two levels above.
  std::vector<std::pair<double, double>> bandwidthCurve;
  /// The int8 multiply-add peak in GOPS (0: not measured; 1.5x the fp32
  /// FMA rate is assumed, as the exact int16-pair kernels peak) and whether
  /// it is VNNI's (vpdpbusd, four int8 multiply-adds per int32 lane).
  double peakInt8Gops = 0.0;
  bool int8Vnni = false;
  std::string name = "default machine (not measured)";
};

/// Reads `key=value` lines (peak_gflops, conv_gflops, cache_bandwidth_gbs,
/// dram_bandwidth_gbs, cache_bytes, op_overhead_us, peak_int8_gops,
/// int8_isa, name, and
/// bandwidth_curve = "MiB:GB/s MiB:GB/s ..." ascending; `#` comments;
/// other keys ignored). Returns false with a message naming the line.
bool parseMachine(llvm::StringRef text, Machine &machine, std::string &error);

/// The estimated time of one op's cost on `machine`, in milliseconds; sets
/// `memoryBound` if the bytes, not the flops, decide it.
double estimateMs(const Cost &op, const Machine &machine,
                  bool *memoryBound = nullptr);

/// The estimate of a whole function: the sum of its ops' (blocks' contents
/// included), split by what bounds each op.
struct Estimate {
  double totalMs = 0, computeMs = 0, memoryMs = 0, overheadMs = 0;
  int64_t ops = 0;
};
/// Calls `perOp` (if given) with each op, its cost and estimated time.
Estimate estimateFunction(
    func::FuncOp func, const Machine &machine,
    llvm::function_ref<void(Operation *, const Cost &, double ms,
                            bool memoryBound)>
        perOp = nullptr);

/// Reads a machine description file; false with a message naming it.
bool readMachine(llvm::StringRef path, Machine &machine, std::string &error);

/// Each top-level op of `func` (constants excluded) with its stage: the
/// spatial size "HxW" it works at (token ops and SE gates take the latest
/// one before them), "head" after the last op that touches a spatial map.
SmallVector<std::pair<Operation *, std::string>> stagesOf(func::FuncOp func);

} // namespace mlir::mobileone

#endif
