//===- CostReport.cpp - counts, bytes moved and a latency estimate --------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Transforms/Cost.h"
#include "mobileone/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

namespace mlir::mobileone {
#define GEN_PASS_DEF_COSTREPORT
#include "mobileone/Transforms/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {

int64_t numElements(Value v) {
  auto t = dyn_cast_or_null<RankedTensorType>(v ? v.getType() : Type());
  return t && t.hasStaticShape() ? t.getNumElements() : 0;
}

int64_t bytesOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape())
    return 0;
  Type e = t.getElementType();
  int64_t bits = e.isIntOrFloat() ? e.getIntOrFloatBitWidth() : 32;
  return t.getNumElements() * std::max<int64_t>(1, bits / 8);
}

bool isConstant(Value v) {
  Operation *def = v.getDefiningOp();
  return def && def->hasTrait<OpTrait::ConstantLike>();
}

/// Ops that only move or re-view data: no arithmetic.
bool isLayoutOnly(Operation *op) {
  return op->hasTrait<OpTrait::MobileOneDataMovement>();
}

/// Flops per output element of an element-wise op: what a vectorised
/// implementation spends (a polynomial for exp and erf, a few ops for the
/// hard variants), so that activations are not all alike to the estimate.
int64_t elementwiseFlops(Operation *op) {
  if (isa<GeluOp>(op))
    return 14;
  if (isa<ErfOp>(op))
    return 12;
  if (isa<SiluOp>(op))
    return 11;
  if (isa<SigmoidOp, TanhOp, ExpOp>(op))
    return 10;
  if (isa<LayerNormOp, SoftmaxOp>(op))
    return 5;
  if (isa<HardSwishOp>(op))
    return 4;
  if (isa<HardSigmoidOp>(op))
    return 3;
  if (isa<LeakyReluOp, BatchNormOp>(op))
    return 2;
  return 1;
}

} // namespace

void Cost::add(const Cost &c) {
  params += c.params;
  macs += c.macs;
  seMacs += c.seMacs;
  flops += c.flops;
  bytesRead += c.bytesRead;
  bytesWritten += c.bytesWritten;
  weightBytes += c.weightBytes;
  syncPoints += c.syncPoints;
}

Cost mobileone::opCost(Operation *op) {
  Cost c;
  if (op->hasTrait<OpTrait::ConstantLike>() ||
      op->hasTrait<OpTrait::IsTerminator>())
    return c;
  int64_t outputs = 0;
  for (Value r : op->getResults()) {
    c.bytesWritten += bytesOf(r);
    outputs += numElements(r);
  }
  auto block = dyn_cast<BlockOp>(op);
  if (block) {
    // The block's own work is the sum of its branches: each branch result
    // read back, the sum written. Its input is read by the ops inside.
    int64_t branches = block.getBranches().size();
    c.bytesRead = branches * bytesOf(block.getOutput());
    c.flops = std::max<int64_t>(0, branches - 1) * outputs;
    return c;
  }
  for (Value v : op->getOperands()) {
    if (isConstant(v))
      c.weightBytes += bytesOf(v);
    else
      c.bytesRead += bytesOf(v);
  }

  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    c.params = numElements(conv.getWeight()) + numElements(conv.getBias());
    // Every output element takes (IC / group) * KH * KW multiply-adds.
    auto w = conv.getWeight().getType();
    c.macs = numElements(conv.getOutput()) * w.getDimSize(1) * w.getDimSize(2) *
             w.getDimSize(3);
  } else if (auto ct = dyn_cast<ConvTranspose2DOp>(op)) {
    c.params = numElements(ct.getWeight()) + numElements(ct.getBias());
    // Every input element takes (OC / group) * KH * KW multiply-adds.
    auto w = ct.getWeight().getType();
    c.macs = numElements(ct.getInput()) * w.getDimSize(1) * w.getDimSize(2) *
             w.getDimSize(3);
  } else if (isa<ResizeOp>(op)) {
    // Linear: 3 lerps of 2 flops per output element; nearest copies.
    c.flops = cast<ResizeOp>(op).getMode() == "linear" ? 6 * outputs : 0;
  } else if (auto lin = dyn_cast<LinearOp>(op)) {
    c.params = numElements(lin.getWeight()) + numElements(lin.getBias());
    c.macs =
        numElements(lin.getOutput()) * lin.getWeight().getType().getDimSize(1);
  } else if (auto mm = dyn_cast<MatMulOp>(op)) {
    auto lhs = cast<RankedTensorType>(mm->getOperand(0).getType());
    c.macs = outputs * lhs.getDimSize(lhs.getRank() - 1);
  } else if (auto bn = dyn_cast<BatchNormOp>(op)) {
    // Learned parameters only (as PyTorch counts them): scale and bias.
    c.params = numElements(bn.getScale()) + numElements(bn.getBias());
    c.flops = 2 * outputs;
  } else if (auto se = dyn_cast<SqueezeExciteOp>(op)) {
    c.params =
        numElements(se.getReduceWeight()) + numElements(se.getReduceBias()) +
        numElements(se.getExpandWeight()) + numElements(se.getExpandBias());
    int64_t batch = se.getInput().getType().getDimSize(0);
    c.seMacs = 2 * batch * se.getChannels() * se.getReducedChannels();
    // Pool (read every input element), gate (scale every output element).
    c.flops = numElements(se.getInput()) + outputs;
    // The input is read twice: once by the pool, once by the gate.
    c.bytesRead += bytesOf(se.getInput());
    c.syncPoints = 1;
  } else if (isa<GlobalAvgPoolOp, AvgPoolOp, MaxPoolOp>(op)) {
    c.flops = numElements(op->getOperand(0));
    c.syncPoints = isa<GlobalAvgPoolOp>(op);
  } else if (isa<ReduceMeanOp, ReduceSumOp, ReduceMaxOp>(op)) {
    c.flops = numElements(op->getOperand(0));
    auto type = cast<RankedTensorType>(op->getOperand(0).getType());
    ArrayRef<int64_t> axes = cast<DenseI64ArrayAttr>(op->getAttr("axes"));
    bool spatial = axes.empty() && type.getRank() == 4;
    for (int64_t a : axes)
      spatial |= type.getRank() == 4 && (a == 2 || a == 3);
    c.syncPoints = spatial;
  } else if (!isLayoutOnly(op)) {
    c.flops = elementwiseFlops(op) * outputs;
  }
  c.flops += 2 * (c.macs + c.seMacs);
  return c;
}

Cost mobileone::computeCost(func::FuncOp func) {
  Cost total;
  func.walk([&](Operation *op) {
    if (op == func || op->hasTrait<OpTrait::IsTerminator>())
      return;
    ++total.ops[op->getName().getStringRef()];
    total.add(opCost(op));
  });
  return total;
}

bool mobileone::parseMachine(StringRef text, Machine &m, std::string &error) {
  SmallVector<StringRef> lines;
  text.split(lines, '\n');
  for (auto [i, raw] : llvm::enumerate(lines)) {
    StringRef line = raw.split('#').first.trim();
    if (line.empty())
      continue;
    auto [key, value] = line.split('=');
    key = key.trim();
    value = value.trim();
    if (key == "name") {
      m.name = value.str();
      continue;
    }
    if (key == "bandwidth_curve") {
      m.bandwidthCurve.clear();
      SmallVector<StringRef> points;
      value.split(points, ' ', -1, /*KeepEmpty=*/false);
      for (StringRef point : points) {
        auto [mib, gbs] = point.split(':');
        double x, y;
        if (mib.getAsDouble(x) || gbs.getAsDouble(y) || !(x > 0) || !(y > 0) ||
            (!m.bandwidthCurve.empty() &&
             !(x * 1048576.0 > m.bandwidthCurve.back().first))) {
          error = "line " + std::to_string(i + 1) +
                  ": 'bandwidth_curve' needs ascending MiB:GB/s pairs, got '" +
                  point.str() + "'";
          return false;
        }
        m.bandwidthCurve.push_back({x * 1048576.0, y});
      }
      continue;
    }
    if (key == "int8_isa") {
      m.int8Vnni = value == "vnni";
      continue;
    }
    double *field = llvm::StringSwitch<double *>(key)
                        .Case("peak_gflops", &m.peakGflops)
                        .Case("peak_int8_gops", &m.peakInt8Gops)
                        .Case("conv_gflops", &m.convGflops)
                        .Case("cache_bandwidth_gbs", &m.cacheBandwidthGBs)
                        .Case("dram_bandwidth_gbs", &m.dramBandwidthGBs)
                        .Case("cache_bytes", &m.cacheBytes)
                        .Case("op_overhead_us", &m.opOverheadUs)
                        .Default(nullptr);
    if (!field)
      continue; // other facts the tool prints (isa, threads)
    double v;
    bool zeroOk = key == "op_overhead_us" || key == "conv_gflops";
    if (value.getAsDouble(v) || !std::isfinite(v) || v < 0 ||
        (v == 0 && !zeroOk)) {
      error = "line " + std::to_string(i + 1) + ": '" + key.str() + "' needs " +
              (zeroOk ? "a number >= 0" : "a positive number") + ", got '" +
              value.str() + "'";
      return false;
    }
    *field = v;
  }
  return true;
}

double mobileone::estimateMs(const Cost &c, const Machine &m,
                             bool *memoryBound) {
  double bytes = double(c.bytesMoved());
  double bandwidth =
      bytes <= m.cacheBytes ? m.cacheBandwidthGBs : m.dramBandwidthGBs;
  if (!m.bandwidthCurve.empty()) {
    bandwidth = m.bandwidthCurve.back().second;
    for (auto [size, gbs] : m.bandwidthCurve)
      if (bytes <= size) {
        bandwidth = gbs;
        break;
      }
  }
  // GFLOP/s = 1e6 flop/ms, GB/s = 1e6 byte/ms.
  double ceiling = m.peakGflops;
  if (c.macs > 0 && m.convGflops > 0)
    ceiling = std::min(ceiling, m.convGflops);
  double compute = double(c.flops) / (ceiling * 1e6);
  double memory = bytes / (bandwidth * 1e6);
  if (memoryBound)
    *memoryBound = memory > compute;
  return std::max(compute, memory) + m.opOverheadUs * 1e-3;
}

bool mobileone::readMachine(StringRef path, Machine &m, std::string &error) {
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!file) {
    error = "cannot read the machine description '" + path.str() +
            "': " + file.getError().message();
    return false;
  }
  if (!parseMachine((*file)->getBuffer(), m, error)) {
    error = "machine description '" + path.str() + "': " + error;
    return false;
  }
  return true;
}

Estimate mobileone::estimateFunction(
    func::FuncOp func, const Machine &m,
    llvm::function_ref<void(Operation *, const Cost &, double, bool)> perOp) {
  Estimate e;
  double overhead = m.opOverheadUs * 1e-3;
  func.walk([&](Operation *op) {
    if (op == func || op->hasTrait<OpTrait::ConstantLike>() ||
        op->hasTrait<OpTrait::IsTerminator>())
      return;
    Cost c = opCost(op);
    bool memoryBound;
    double ms = estimateMs(c, m, &memoryBound);
    ++e.ops;
    e.totalMs += ms;
    e.overheadMs += overhead;
    (memoryBound ? e.memoryMs : e.computeMs) += ms - overhead;
    if (perOp)
      perOp(op, c, ms, memoryBound);
  });
  return e;
}

namespace {

std::string spatialKey(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  if (!r || r.getRank() != 4 || !r.hasStaticShape() ||
      r.getDimSize(2) * r.getDimSize(3) <= 1)
    return "";
  return std::to_string(r.getDimSize(2)) + "x" + std::to_string(r.getDimSize(3));
}

} // namespace

SmallVector<std::pair<Operation *, std::string>>
mobileone::stagesOf(func::FuncOp f) {
  SmallVector<Operation *> ops;
  if (f && !f.getBody().empty())
    for (Operation &op : f.getBody().front())
      if (!op.hasTrait<OpTrait::ConstantLike>() &&
          !op.hasTrait<OpTrait::IsTerminator>())
        ops.push_back(&op);
  int64_t lastSpatial = -1;
  for (auto [i, op] : llvm::enumerate(ops)) {
    bool spatial = false;
    for (Value v : op->getOperands())
      spatial |= !spatialKey(v.getType()).empty();
    for (Value v : op->getResults())
      spatial |= !spatialKey(v.getType()).empty();
    if (spatial)
      lastSpatial = i;
  }
  SmallVector<std::pair<Operation *, std::string>> out;
  std::string current;
  for (auto [i, op] : llvm::enumerate(ops)) {
    std::string key = op->getNumResults()
                          ? spatialKey(op->getResult(0).getType())
                          : std::string();
    if (key.empty() && current.empty() && op->getNumOperands())
      key = spatialKey(op->getOperand(0).getType());
    if (!key.empty())
      current = key;
    out.push_back({op, int64_t(i) > lastSpatial ? std::string("head")
                       : current.empty()        ? std::string("input")
                                                : current});
  }
  return out;
}

namespace {

std::string nodeOf(Operation *op) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc()))
    return "'" + n.getName().str() + "'";
  if (auto f = dyn_cast<FileLineColLoc>(op->getLoc()))
    return "line " + std::to_string(f.getLine());
  return "?";
}

struct CostReportPass : public mobileone::impl::CostReportBase<CostReportPass> {
  using CostReportBase::CostReportBase;

  void runOnOperation() override {
    markAllAnalysesPreserved();
    Machine m;
    std::string error;
    if (!machine.empty() && !readMachine(machine, m, error)) {
      getOperation().emitError(error);
      return signalPassFailure();
    }
    llvm::raw_ostream &os = llvm::outs();
    getOperation().walk([&](func::FuncOp func) {
      Cost total = computeCost(func);
      if (!label.empty())
        os << label << ": ";
      os << "@" << func.getSymName() << ": parameters "
         << llvm::format("%.3f", total.params / 1e6) << " M (" << total.params
         << "), multiply-adds " << llvm::format("%.1f", total.macs / 1e6)
         << " M (" << total.macs << ")";
      if (total.seMacs)
        os << " + squeeze-excite " << llvm::format("%.1f", total.seMacs / 1e6)
           << " M (" << total.seMacs << ")";
      os << "\n  ops:";
      for (auto [name, n] : total.ops)
        os << " " << name << "=" << n;
      os << "\n";
      if (!memory)
        return;

      // Bytes and the estimate, op by op (a block's contents are its ops),
      // summed per stage.
      llvm::DenseMap<Operation *, std::string> stageOf;
      std::vector<std::pair<std::string, std::pair<Cost, double>>> stages;
      for (auto &[top, stage] : stagesOf(func)) {
        stageOf[top] = stage;
        if (llvm::none_of(stages, [&](auto &s) { return s.first == stage; }))
          stages.push_back({stage, {Cost(), 0.0}});
      }
      Estimate e = estimateFunction(
          func, m, [&](Operation *op, const Cost &c, double ms, bool memoryBound) {
            Operation *top = op;
            while (top->getParentOp() != func)
              top = top->getParentOp();
            for (auto &s : stages)
              if (s.first == stageOf.lookup(top)) {
                s.second.first.add(c);
                ++s.second.first.ops[op->getName().getStringRef()];
                s.second.second += ms;
              }
            if (!perOp)
              return;
            os << "  op " << op->getName().getStringRef() << " at "
               << nodeOf(op) << ": flops " << c.flops << ", bytes "
               << c.bytesMoved() << " (read " << c.bytesRead << ", written "
               << c.bytesWritten << ", weights " << c.weightBytes
               << "), intensity "
               << llvm::format("%.3f", c.bytesMoved()
                                           ? double(c.flops) / c.bytesMoved()
                                           : 0.0)
               << " flop/B, " << llvm::format("%.3f", ms * 1e3) << " us ("
               << (memoryBound ? "memory" : "compute") << ")"
               << (c.syncPoints ? ", sync point" : "") << "\n";
          });
      double computeMs = e.computeMs, memoryMs = e.memoryMs,
             overheadMs = e.overheadMs;
      int64_t timedOps = e.ops;
      os << "  memory: bytes moved " << total.bytesMoved() << " ("
         << llvm::format("%.2f", total.bytesMoved() / 1048576.0)
         << " MiB: activations read " << total.bytesRead << ", written "
         << total.bytesWritten << ", weights " << total.weightBytes
         << "), intensity "
         << llvm::format("%.2f", total.bytesMoved()
                                     ? double(total.flops) / total.bytesMoved()
                                     : 0.0)
         << " flop/B, sync points " << total.syncPoints << "\n";
      os << "  estimate: " << llvm::format("%.6f", computeMs + memoryMs + overheadMs)
         << " ms on " << m.name << " (compute-bound ops "
         << llvm::format("%.6f", computeMs) << " ms, memory-bound "
         << llvm::format("%.6f", memoryMs) << " ms, overhead "
         << llvm::format("%.6f", overheadMs) << " ms for " << timedOps
         << " ops)\n";
      for (auto &[name, row] : stages) {
        int64_t n = 0;
        for (auto &kv : row.first.ops)
          n += kv.second;
        os << "  stage " << name << ": " << n << " ops, multiply-adds "
           << row.first.macs + row.first.seMacs << ", bytes moved "
           << row.first.bytesMoved() << ", sync points "
           << row.first.syncPoints << ", estimate "
           << llvm::format("%.6f", row.second) << " ms\n";
      }
    });
  }
};
} // namespace
