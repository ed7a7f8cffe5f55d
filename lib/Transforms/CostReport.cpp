//===- CostReport.cpp - parameters and multiply-adds ----------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Transforms/Cost.h"
#include "mobileone/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"

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

} // namespace

Cost mobileone::opCost(Operation *op) {
  Cost c;
  if (!op->hasTrait<OpTrait::ConstantLike>() &&
      !op->hasTrait<OpTrait::IsTerminator>())
    for (Value r : op->getResults())
      c.activationBytes += bytesOf(r);
  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    c.params = numElements(conv.getWeight()) + numElements(conv.getBias());
    // Every output element takes (IC / group) * KH * KW multiply-adds.
    auto w = conv.getWeight().getType();
    c.macs = numElements(conv.getOutput()) * w.getDimSize(1) * w.getDimSize(2) *
             w.getDimSize(3);
  } else if (auto lin = dyn_cast<LinearOp>(op)) {
    c.params = numElements(lin.getWeight()) + numElements(lin.getBias());
    c.macs =
        numElements(lin.getOutput()) * lin.getWeight().getType().getDimSize(1);
  } else if (auto bn = dyn_cast<BatchNormOp>(op)) {
    // Learned parameters only (as PyTorch counts them): scale and bias.
    c.params = numElements(bn.getScale()) + numElements(bn.getBias());
  } else if (auto se = dyn_cast<SqueezeExciteOp>(op)) {
    c.params =
        numElements(se.getReduceWeight()) + numElements(se.getReduceBias()) +
        numElements(se.getExpandWeight()) + numElements(se.getExpandBias());
    int64_t batch = se.getInput().getType().getDimSize(0);
    c.seMacs = 2 * batch * se.getChannels() * se.getReducedChannels();
  }
  return c;
}

Cost mobileone::computeCost(func::FuncOp func) {
  Cost total;
  func.walk([&](Operation *op) {
    if (op == func || op->hasTrait<OpTrait::IsTerminator>())
      return;
    ++total.ops[op->getName().getStringRef()];
    Cost c = opCost(op);
    total.params += c.params;
    total.macs += c.macs;
    total.seMacs += c.seMacs;
    total.activationBytes += c.activationBytes;
  });
  return total;
}

namespace {

struct CostReportPass : public mobileone::impl::CostReportBase<CostReportPass> {
  using CostReportBase::CostReportBase;

  void runOnOperation() override {
    markAllAnalysesPreserved();
    getOperation().walk([&](func::FuncOp func) {
      Cost total = computeCost(func);
      llvm::raw_ostream &os = llvm::outs();
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
    });
  }
};
} // namespace
