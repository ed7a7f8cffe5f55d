//===- RecoverStructure.cpp - blocks and SE from a flat graph -------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

#include <list>

namespace mlir::mobileone {
#define GEN_PASS_DEF_RECOVERSTRUCTURE
#include "mobileone/Transforms/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {

//===----------------------------------------------------------------------===//
// Linear regions
//===----------------------------------------------------------------------===//

/// The name of the ONNX node at `loc`, or the printed location.
std::string nodeName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return "'" + name.getName().str() + "'";
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return "the value at line " + std::to_string(file.getLine());
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}

std::string valueName(Value v) {
  if (Operation *def = v.getDefiningOp())
    return nodeName(def->getLoc());
  return isa<BlockArgument>(v) &&
                 isa<func::FuncOp>(v.getParentRegion()->getParentOp())
             ? "the graph input"
             : "a block argument";
}

/// The map of a value from the input of the linear region it belongs to.
struct Form {
  Value root;
  math::LinearMap map;
  SmallVector<Operation *> ops; ///< in program order
  /// Ops after which the map cost more multiply-adds than its ops in
  /// sequence (a sum later may pay for it).
  SmallVector<Operation *, 1> overBudget;

  bool costsMore() const {
    return map.geometry.macs() > map.sequenceMacs;
  }
};

bool isConstant(Value v) {
  Operation *def = v.getDefiningOp();
  return def && def->hasTrait<OpTrait::ConstantLike>();
}

/// An f32 [N, C, H, W] or [N, C] result with static C, H, W.
bool isRegionType(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.getElementType().isF32() &&
         (r.getRank() == 2 || r.getRank() == 4) &&
         llvm::none_of(r.getShape().drop_front(), ShapedType::isDynamic);
}

class RegionFinder {
public:
  RegionFinder(Operation *root, bool explain) : explain(explain) {
    root->walk([&](Operation *op) {
      if (op->getParentOfType<BlockOp>() || isa<BlockOp>(op))
        return;
      if (isa<LinearMapOpInterface>(op) && op->getNumResults() == 1 &&
          isRegionType(op->getResult(0).getType()))
        ops.push_back(op);
    });
  }

  /// Finds the regions and forms their blocks. Returns how many.
  unsigned run() {
    // A value needed outside the region (by a nonlinear op, a return) that
    // also feeds further linear ops is their input instead: compute it once.
    // Until nothing changes: each round adds forced roots, never removes
    // one, so it ends within as many rounds as there are linear ops.
    for (;;) {
      compose();
      bool changed = false;
      for (auto &[v, form] : forms)
        if (consumed.lookup(v) > 0 && isNeeded(v) && forcedRoots.insert(v).second)
          changed = true;
      // A region that costs more fused than as it is starts again after
      // the first op that made it so (a depthwise kxk then a 1x1).
      for (auto &[v, form] : forms) {
        if (!isNeeded(v) || !form.costsMore() || form.overBudget.empty())
          continue;
        Operation *culprit = form.overBudget.front();
        for (Value operand : culprit->getOperands())
          if (forms.count(operand) && forcedRoots.insert(operand).second) {
            changed = true;
            const math::LinearMap &m = forms.find(culprit->getResult(0))->second.map;
            costRefusals.push_back(
                {culprit, "not fused with the region of " +
                              valueName(forms.find(operand)->second.root) +
                              ": the composed " +
                              std::to_string(m.geometry.kernel[0]) + "x" +
                              std::to_string(m.geometry.kernel[1]) +
                              " conv would cost " +
                              std::to_string(m.geometry.macs()) +
                              " multiply-adds, more than the " +
                              std::to_string(m.sequenceMacs) +
                              " of its ops in sequence"});
          }
      }
      if (!changed)
        break;
    }
    if (explain)
      for (auto &[op, why] : llvm::concat<std::pair<Operation *, std::string>>(
               costRefusals, refusals))
        emitRemark(op->getLoc()) << why;
    unsigned formed = 0;
    SmallVector<Value> outputs;
    for (Operation *op : ops) {
      Value v = op->getResult(0);
      auto it = forms.find(v);
      if (it == forms.end() || !isNeeded(v) || !worthABlock(it->second))
        continue;
      if (it->second.costsMore()) {
        if (explain)
          emitRemark(v.getLoc())
              << "not fused: one conv for the region of "
              << valueName(it->second.root) << " would cost "
              << it->second.map.geometry.macs()
              << " multiply-adds, more than the "
              << it->second.map.sequenceMacs << " of its ops";
        continue;
      }
      outputs.push_back(v);
    }
    for (Value v : outputs)
      formBlock(v, forms.find(v)->second), ++formed;
    // The original ops die unless something else still reads them.
    for (Operation *op : llvm::reverse(ops))
      if (op->use_empty())
        op->erase();
    return formed;
  }

private:
  bool isNeeded(Value v) {
    return static_cast<int64_t>(std::distance(v.use_begin(), v.use_end())) >
           consumed.lookup(v);
  }

  /// A region of two ops or more; an [N, C] one only with a linear layer
  /// (a lone BatchNorm1d chain stays as it is).
  bool worthABlock(const Form &f) {
    if (f.ops.size() < 2)
      return false;
    if (cast<RankedTensorType>(f.root.getType()).getRank() == 2)
      return llvm::any_of(f.ops, [](Operation *op) { return isa<LinearOp>(op); });
    return true;
  }

  Form trivial(Value v, LinearComposer &c) {
    Form f;
    f.root = v;
    if (std::optional<math::LinearMap> m = c.identity(v))
      f.map = std::move(*m);
    return f;
  }

  void compose() {
    forms.clear();
    consumed.clear();
    refusals.clear();
    // Where each value is read last: its map's weights are freed there
    // (blocks are formed from the ops; only geometry and costs are read
    // after), so composition holds the weights of a frontier, not of the
    // whole network (S4: 280 MB of doubles).
    llvm::DenseMap<Value, Operation *> lastReader;
    for (Operation *op : ops)
      for (Value v : cast<LinearMapOpInterface>(op).getLinearInputs())
        lastReader[v] = op;
    for (Operation *op : ops) {
      SmallVector<Value, 2> inputs;
      for (Value v : cast<LinearMapOpInterface>(op).getLinearInputs())
        if (!isConstant(v) && !llvm::is_contained(inputs, v))
          inputs.push_back(v);
      if (inputs.empty() || !llvm::all_of(inputs, [](Value v) {
            return isRegionType(v.getType());
          }))
        continue;
      llvm::DenseMap<Value, const math::LinearMap *> lookup;
      auto find = [&](Value v) -> const math::LinearMap * {
        return lookup.lookup(v);
      };
      LinearComposer c(true, find);
      // The inputs' forms: theirs, or a region starting at them.
      std::list<Form> starts;
      auto formOf = [&](Value v, bool fresh) -> const Form * {
        auto it = forms.find(v);
        if (fresh || it == forms.end() || forcedRoots.count(v) ||
            it->second.ops.front()->getBlock() != op->getBlock()) {
          starts.push_back(trivial(v, c));
          return &starts.back();
        }
        return &it->second;
      };
      std::optional<Form> result;
      std::string firstWhy;
      for (bool fresh : {false, true}) {
        SmallVector<const Form *, 2> in;
        for (Value v : inputs)
          in.push_back(formOf(v, fresh));
        if (llvm::any_of(in, [&](const Form *f) {
              return f->root != in.front()->root;
            })) {
          if (!fresh && firstWhy.empty())
            firstWhy = "not fused: its operands are not linear in one common "
                       "input (" +
                       valueName(in[0]->root) + " and " +
                       valueName(in[1]->root) + ")";
          break;
        }
        lookup.clear();
        for (auto [v, f] : llvm::zip(inputs, in))
          lookup[v] = &f->map;
        std::optional<math::LinearMap> m =
            cast<LinearMapOpInterface>(op).composeLinearMap(c);
        bool allFresh =
            llvm::all_of(in, [](const Form *f) { return f->ops.empty(); });
        if (!m) {
          if (firstWhy.empty()) {
            firstWhy = "not fused";
            if (!allFresh)
              firstWhy += " with the region of " + valueName(in.front()->root);
            firstWhy += ": " + c.why;
          }
          if (allFresh)
            break; // a fresh start cannot do better
          continue;
        }
        Form f;
        f.root = in.front()->root;
        f.map = std::move(*m);
        llvm::SetVector<Operation *> merged, overBudget;
        for (auto [v, inForm] : llvm::zip(inputs, in)) {
          merged.insert(inForm->ops.begin(), inForm->ops.end());
          overBudget.insert(inForm->overBudget.begin(),
                            inForm->overBudget.end());
          if (!inForm->ops.empty())
            consumed[v] += llvm::count(op->getOperands(), v);
        }
        f.ops.assign(merged.begin(), merged.end());
        llvm::sort(f.ops, [](Operation *a, Operation *b) {
          return a->isBeforeInBlock(b);
        });
        f.ops.push_back(op);
        f.overBudget.assign(overBudget.begin(), overBudget.end());
        if (f.costsMore() && inputs.size() == 1 && !in.front()->costsMore())
          f.overBudget.push_back(op);
        llvm::sort(f.overBudget, [](Operation *a, Operation *b) {
          return a->isBeforeInBlock(b);
        });
        result = std::move(f);
        break;
      }
      if (!firstWhy.empty())
        refusals.push_back({op, firstWhy});
      if (result) {
        Value out = op->getResult(0);
        forms[out] = std::move(*result);
        if (!lastReader.count(out))
          forms[out].map.dropValues(); // no linear op reads it
      }
      for (Value v : inputs) {
        auto it = forms.find(v);
        if (it != forms.end() && lastReader.lookup(v) == op)
          it->second.map.dropValues();
      }
    }
  }

  bool inRegion(Value v, const Form &f) {
    if (v == f.root)
      return true;
    Operation *def = v.getDefiningOp();
    return def && llvm::is_contained(f.ops, def);
  }

  /// The leaves of the add tree at `v` (within the region): the branches.
  void leaves(Value v, const Form &f, SmallVectorImpl<Value> &out) {
    auto add = v.getDefiningOp<AddOp>();
    if (add && v != f.root && inRegion(v, f) &&
        inRegion(add.getLhs(), f) && inRegion(add.getRhs(), f) &&
        add.getLhs().getType() == v.getType() &&
        add.getRhs().getType() == v.getType()) {
      leaves(add.getLhs(), f, out);
      leaves(add.getRhs(), f, out);
      return;
    }
    out.push_back(v);
  }

  /// "conv 3x3 -> bn", "(conv 3x3 - bn) -> mul".
  std::string describe(Value v, const Form &f) {
    if (v == f.root)
      return "identity";
    Operation *op = v.getDefiningOp();
    std::string name = op->getName().stripDialect().str();
    if (auto conv = dyn_cast<Conv2DOp>(op))
      name = "conv " + std::to_string(conv.getKernelH()) + "x" +
             std::to_string(conv.getKernelW());
    else if (isa<BatchNormOp>(op))
      name = "bn";
    SmallVector<Value, 2> inputs;
    for (Value operand : op->getOperands())
      if (inRegion(operand, f))
        inputs.push_back(operand);
    if (inputs.size() == 2)
      return "(" + describe(inputs[0], f) + (isa<SubOp>(op) ? " - " : " + ") +
             describe(inputs[1], f) + ")";
    if (inputs.empty())
      return name;
    std::string inner = describe(inputs.front(), f);
    return inner == "identity" ? name : inner + " -> " + name;
  }

  void formBlock(Value v, const Form &original) {
    // An earlier block may have replaced the root.
    Form f = original;
    if (Value r = replaced.lookup(f.root))
      f.root = r;
    Value root = f.root;
    const math::ConvGeometry &g = f.map.geometry;
    SmallVector<Value> branches;
    leaves(v, f, branches);
    if (explain) {
      std::string text;
      for (Value b : branches)
        text += (text.empty() ? "" : ", ") + describe(b, f);
      emitRemark(v.getLoc())
          << "fused " << f.ops.size() << " ops of " << valueName(f.root)
          << " (branches: " << text << ") into one "
          << (cast<RankedTensorType>(v.getType()).getRank() == 2
                  ? std::string("linear layer")
                  : std::to_string(g.kernel[0]) + "x" +
                        std::to_string(g.kernel[1]) + " conv (stride " +
                        std::to_string(g.strides[0]) + ", group " +
                        std::to_string(g.group) + ")");
    }
    OpBuilder b(v.getDefiningOp());
    auto block = b.create<BlockOp>(
        v.getLoc(), v.getType(), root, ArrayRef<int64_t>(g.kernel, 2),
        ArrayRef<int64_t>(g.strides, 2), ArrayRef<int64_t>(g.pads, 4),
        ArrayRef<int64_t>(g.dilations, 2), g.group);
    IRMapping map;
    map.map(root, block.getBranchInput());
    b.setInsertionPointToStart(&block.getBody().front());
    for (Operation *op : f.ops)
      b.clone(*op, map);
    SmallVector<Value> yields;
    for (Value branch : branches)
      yields.push_back(map.lookupOrDefault(branch));
    b.create<YieldOp>(v.getLoc(), yields);
    // The add tree's own adds are the block's sum now.
    SmallVector<Operation *> body;
    for (Operation &op : block.getBody().front().without_terminator())
      body.push_back(&op);
    for (Operation *op : llvm::reverse(body))
      if (op->use_empty())
        op->erase();
    v.replaceAllUsesWith(block.getOutput());
    replaced[v] = block.getOutput();
  }

  bool explain;
  SmallVector<Operation *> ops;
  llvm::DenseMap<Value, Form> forms;
  llvm::DenseMap<Value, int64_t> consumed;
  llvm::DenseSet<Value> forcedRoots;
  llvm::DenseMap<Value, Value> replaced;
  SmallVector<std::pair<Operation *, std::string>> refusals, costRefusals;
};

//===----------------------------------------------------------------------===//
// Squeeze-Excitation
//===----------------------------------------------------------------------===//

template <typename OpTy> OpTy singleUseDef(Value v) {
  auto op = v.getDefiningOp<OpTy>();
  return op && op->hasOneUse() ? op : OpTy();
}

bool isPointwiseWithBias(Conv2DOp conv) {
  return conv && conv.getBias() && conv.getKernelH() == 1 &&
         conv.getKernelW() == 1 && conv.getGroup() == 1 &&
         llvm::all_of(conv.getStrides(), [](int64_t s) { return s == 1; }) &&
         llvm::all_of(conv.getPads(), [](int64_t p) { return p == 0; });
}

/// A linear weight [M, K] as a 1x1 conv weight [M, K, 1, 1].
Value asConvWeight(OpBuilder &b, Value weight) {
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> data = getConstantF32(weight, storage);
  if (!data)
    return nullptr;
  ArrayRef<int64_t> s = cast<RankedTensorType>(weight.getType()).getShape();
  auto type = RankedTensorType::get({s[0], s[1], 1, 1}, b.getF32Type());
  return createWeightConstant(b, weight.getLoc(), type, *data, "se_weight");
}

bool formSqueezeExcite(MulOp mul) {
  for (int order = 0; order < 2; ++order) {
    Value x = mul->getOperand(order), gate = mul->getOperand(1 - order);
    auto xType = dyn_cast<RankedTensorType>(x.getType());
    if (!xType || xType.getRank() != 4 || mul.getType() != xType)
      continue;
    // The gate must be one value per (batch, channel) of x.
    int64_t n = xType.getDimSize(0), c = xType.getDimSize(1);
    auto isType = [](Value v, ArrayRef<int64_t> shape) {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      return t && t.getShape() == shape;
    };
    SmallVector<int64_t> gateShape = {n, c, 1, 1}, flatShape = {n, c};
    if (!isType(gate, gateShape))
      continue;
    SmallVector<Operation *> chain = {mul};
    if (auto reshape = singleUseDef<ReshapeOp>(gate)) {
      chain.push_back(reshape);
      gate = reshape.getInput();
      if (!isType(gate, gateShape) && !isType(gate, flatShape))
        continue;
    }
    auto sigmoid = singleUseDef<SigmoidOp>(gate);
    if (!sigmoid)
      continue;
    chain.push_back(sigmoid);
    Value reduceW, reduceB, expandW, expandB;
    OpBuilder b(mul);
    if (auto expand = singleUseDef<Conv2DOp>(sigmoid.getInput());
        isPointwiseWithBias(expand)) {
      auto relu = singleUseDef<ReluOp>(expand.getInput());
      auto reduce = relu ? singleUseDef<Conv2DOp>(relu.getInput()) : Conv2DOp();
      auto pool = isPointwiseWithBias(reduce)
                      ? singleUseDef<GlobalAvgPoolOp>(reduce.getInput())
                      : GlobalAvgPoolOp();
      if (!pool || pool.getInput() != x)
        continue;
      chain.append({expand, relu, reduce, pool});
      reduceW = reduce.getWeight();
      reduceB = reduce.getBias();
      expandW = expand.getWeight();
      expandB = expand.getBias();
    } else if (auto expand = singleUseDef<LinearOp>(sigmoid.getInput());
               expand && expand.getBias()) {
      auto relu = singleUseDef<ReluOp>(expand.getInput());
      auto reduce = relu ? singleUseDef<LinearOp>(relu.getInput()) : LinearOp();
      auto flat =
          reduce && reduce.getBias() && isType(reduce.getInput(), flatShape)
              ? singleUseDef<ReshapeOp>(reduce.getInput())
              : ReshapeOp();
      auto pool = flat ? singleUseDef<GlobalAvgPoolOp>(flat.getInput())
                       : GlobalAvgPoolOp();
      if (!pool || pool.getInput() != x)
        continue;
      reduceW = asConvWeight(b, reduce.getWeight());
      expandW = asConvWeight(b, expand.getWeight());
      if (!reduceW || !expandW) {
        if (reduceW)
          reduceW.getDefiningOp()->erase();
        if (expandW)
          expandW.getDefiningOp()->erase();
        continue;
      }
      chain.append({expand, relu, reduce, flat, pool});
      reduceB = reduce.getBias();
      expandB = expand.getBias();
    } else {
      continue;
    }
    auto se = b.create<SqueezeExciteOp>(mul.getLoc(), xType, x, reduceW,
                                        reduceB, expandW, expandB);
    mul.replaceAllUsesWith(se.getOutput());
    // Linear weights were re-made as conv weights: their constants may die.
    llvm::SetVector<Operation *> constants;
    for (Operation *op : chain)
      for (Value operand : op->getOperands())
        if (auto c = operand.getDefiningOp<arith::ConstantOp>())
          constants.insert(c);
    for (Operation *op : chain) // users before producers
      op->erase();
    for (Operation *c : constants)
      if (c->use_empty())
        c->erase();
    return true;
  }
  return false;
}

struct RecoverStructurePass
    : public mobileone::impl::RecoverStructureBase<RecoverStructurePass> {
  using RecoverStructureBase::RecoverStructureBase;
  void runOnOperation() override {
    RegionFinder(getOperation(), explain).run();
    SmallVector<MulOp> muls;
    getOperation()->walk([&](MulOp mul) {
      if (!mul->getParentOfType<BlockOp>())
        muls.push_back(mul);
    });
    for (MulOp mul : muls)
      formSqueezeExcite(mul);
  }
};

} // namespace
