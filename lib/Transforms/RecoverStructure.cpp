//===- RecoverStructure.cpp - blocks and SE from a flat graph -------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::mobileone {
#define GEN_PASS_DEF_RECOVERSTRUCTURE
#include "mobileone/Transforms/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {

//===----------------------------------------------------------------------===//
// Blocks
//===----------------------------------------------------------------------===//

/// An add whose only user is another add of the same type: part of a larger
/// sum.
bool isInnerAdd(AddOp add) {
  if (!add->hasOneUse())
    return false;
  auto user = dyn_cast<AddOp>(*add->user_begin());
  return user && user.getType() == add.getType();
}

/// Collects the leaves of the add tree rooted at `root` and its adds.
/// Returns false if an add in the tree broadcasts.
bool collectLeaves(AddOp root, SmallVectorImpl<Value> &leaves,
                   SmallVectorImpl<AddOp> &adds) {
  adds.push_back(root);
  for (Value operand : root->getOperands()) {
    if (operand.getType() != root.getType())
      return false;
    auto inner = operand.getDefiningOp<AddOp>();
    if (inner && isInnerAdd(inner)) {
      if (!collectLeaves(inner, leaves, adds))
        return false;
    } else {
      leaves.push_back(operand);
    }
  }
  return true;
}

/// The values a leaf could be a branch of: the leaf itself (identity), the
/// input of a BN-only branch, the input of a conv or conv + BN branch.
SmallVector<Value, 3> branchInputs(Value leaf) {
  SmallVector<Value, 3> inputs = {leaf};
  Value core = leaf;
  if (auto bn = core.getDefiningOp<BatchNormOp>()) {
    inputs.push_back(bn.getInput());
    core = bn.getInput();
  }
  if (auto conv = core.getDefiningOp<Conv2DOp>())
    inputs.push_back(conv.getInput());
  return inputs;
}

/// The ops of the branch `leaf` of input `x`, producers first; nullopt if
/// `leaf` is not such a branch or its ops have other users.
std::optional<SmallVector<Operation *, 2>> branchOps(Value leaf, Value x) {
  SmallVector<Operation *, 2> ops;
  Value core = leaf;
  while (core != x) {
    Operation *def = core.getDefiningOp();
    if (!def || !def->hasOneUse() || !isa<BatchNormOp, Conv2DOp>(def))
      return std::nullopt;
    ops.insert(ops.begin(), def);
    core = def->getOperand(0);
    if (isa<Conv2DOp>(def) && core != x)
      return std::nullopt;
  }
  if (ops.size() == 2 && !isa<Conv2DOp>(ops[0]))
    return std::nullopt; // bn(bn(x))
  return ops;
}

struct BlockShape {
  SmallVector<int64_t, 2> kernel, strides, dilations;
  SmallVector<int64_t, 4> pads;
  int64_t group = 1;
};

/// The block the branches form, or nullopt if they violate a block rule.
std::optional<BlockShape>
inferBlock(Value x, Type resultType, ArrayRef<SmallVector<Operation *, 2>> ops,
           std::string &why) {
  SmallVector<Conv2DOp> convs;
  bool identity = false;
  for (const auto &branch : ops) {
    if (!branch.empty() && isa<Conv2DOp>(branch.front()))
      convs.push_back(cast<Conv2DOp>(branch.front()));
    else
      identity = true;
  }
  BlockShape s;
  auto inType = cast<RankedTensorType>(x.getType());
  if (convs.empty()) {
    s.kernel = {1, 1};
    s.strides = {1, 1};
    s.dilations = {1, 1};
    s.pads = {0, 0, 0, 0};
    s.group = inType.getDimSize(1);
  } else {
    Conv2DOp first = convs.front();
    s.strides.assign(first.getStrides().begin(), first.getStrides().end());
    s.dilations.assign(first.getDilations().begin(),
                       first.getDilations().end());
    s.group = first.getGroup();
    Conv2DOp tallest = first, widest = first;
    for (Conv2DOp c : convs) {
      if (c.getStrides() != ArrayRef<int64_t>(s.strides) ||
          c.getDilations() != ArrayRef<int64_t>(s.dilations) ||
          c.getGroup() != s.group) {
        why = "the branch convs differ in stride, dilation or group";
        return std::nullopt;
      }
      if (c.getKernelH() > tallest.getKernelH())
        tallest = c;
      if (c.getKernelW() > widest.getKernelW())
        widest = c;
    }
    s.kernel = {tallest.getKernelH(), widest.getKernelW()};
    s.pads = {tallest.getPads()[0], widest.getPads()[1], tallest.getPads()[2],
              widest.getPads()[3]};
    for (Conv2DOp c : convs) {
      int64_t dy = s.kernel[0] - c.getKernelH(),
              dx = s.kernel[1] - c.getKernelW();
      if (dy % 2 || dx % 2) {
        why = "a branch kernel cannot be centred in the largest one";
        return std::nullopt;
      }
      SmallVector<int64_t, 4> expected = {
          s.pads[0] - dy / 2, s.pads[1] - dx / 2, s.pads[2] - dy / 2,
          s.pads[3] - dx / 2};
      if (c.getPads() != ArrayRef<int64_t>(expected)) {
        why = "a branch conv's padding is not centred with the others'";
        return std::nullopt;
      }
    }
  }
  if (identity &&
      (x.getType() != resultType || s.strides[0] != 1 || s.strides[1] != 1 ||
       s.kernel[0] % 2 == 0 || s.kernel[1] % 2 == 0)) {
    why = "an identity branch needs equal input and output shapes, stride 1 "
          "and an odd kernel";
    return std::nullopt;
  }
  return s;
}

/// The name of the ONNX node at `loc`, or the printed location.
std::string nodeName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return "'" + name.getName().str() + "'";
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}

std::string describeBranch(ArrayRef<Operation *> ops) {
  if (ops.empty())
    return "identity";
  std::string s;
  if (auto conv = dyn_cast<Conv2DOp>(ops.front())) {
    s = "conv " + std::to_string(conv.getKernelH()) + "x" +
        std::to_string(conv.getKernelW());
    if (ops.size() > 1)
      s += " + bn";
    return s;
  }
  return "bn";
}

/// Forms a block from the add tree at `root` if it is one. Otherwise sets
/// `why`.
bool formBlock(AddOp root, bool explain, std::string &why) {
  SmallVector<Value> leaves;
  SmallVector<AddOp> adds;
  if (!collectLeaves(root, leaves, adds) || leaves.size() < 2) {
    why = "an add of the tree broadcasts";
    return false;
  }
  why = "its " + std::to_string(leaves.size()) +
        " summands are not branches (conv, conv + bn, bn or identity, each "
        "used once) of one common input";

  // The one value every leaf can be a branch of.
  SmallVector<Value, 3> candidates = branchInputs(leaves.front());
  for (Value leaf : ArrayRef<Value>(leaves).drop_front()) {
    SmallVector<Value, 3> inputs = branchInputs(leaf);
    llvm::erase_if(candidates,
                   [&](Value c) { return !llvm::is_contained(inputs, c); });
  }
  for (Value x : candidates) {
    auto xType = dyn_cast<RankedTensorType>(x.getType());
    if (!xType || xType.getRank() != 4)
      continue;
    SmallVector<SmallVector<Operation *, 2>> ops;
    for (Value leaf : leaves) {
      std::optional<SmallVector<Operation *, 2>> branch = branchOps(leaf, x);
      if (!branch)
        break;
      ops.push_back(*branch);
    }
    if (ops.size() != leaves.size())
      continue;
    std::optional<BlockShape> shape =
        inferBlock(x, root.getType(), ops, why);
    if (!shape)
      continue;
    if (explain) {
      std::string branches;
      for (const auto &branch : ops)
        branches += (branches.empty() ? "" : ", ") + describeBranch(branch);
      emitRemark(root.getLoc())
          << "fused a block of " << ops.size() << " branches of "
          << (x.getDefiningOp() ? nodeName(x.getDefiningOp()->getLoc())
                                : std::string("the graph input"))
          << " (" << branches << ") into one " << shape->kernel[0] << "x"
          << shape->kernel[1] << " conv (stride " << shape->strides[0]
          << ", group " << shape->group << ")";
    }

    OpBuilder b(root);
    auto block = b.create<BlockOp>(root.getLoc(), root.getType(), x,
                                   shape->kernel, shape->strides, shape->pads,
                                   shape->dilations, shape->group);
    Block &body = block.getBody().front();
    IRMapping map;
    map.map(x, body.getArgument(0));
    b.setInsertionPointToStart(&body);
    SmallVector<Value> yields;
    for (auto [leaf, branch] : llvm::zip(leaves, ops)) {
      for (Operation *op : branch)
        b.clone(*op, map);
      yields.push_back(map.lookupOrDefault(leaf));
    }
    b.create<YieldOp>(root.getLoc(), yields);
    root.replaceAllUsesWith(block.getOutput());
    for (AddOp add : adds) // root first, then its operands: users go first
      add.erase();
    for (const auto &branch : ops)
      for (Operation *op : llvm::reverse(branch))
        op->erase();
    return true;
  }
  return false;
}

/// Forms a block from the add tree at `root`, or else from its largest
/// sub-trees that are blocks: a residual shortcut added to a block's sum
/// (RepGhost: `(dw(y) + bn(y)) + shortcut`) is not a branch of the block's
/// input, but the inner sum is a block.
void formBlocks(AddOp root, bool explain) {
  std::string why;
  if (formBlock(root, explain, why))
    return;
  bool inner = false;
  for (Value operand : root->getOperands())
    if (auto add = operand.getDefiningOp<AddOp>(); add && isInnerAdd(add)) {
      inner = true;
      formBlocks(add, explain);
    }
  if (explain && !inner)
    emitRemark(root.getLoc()) << "not fused: " << why;
}

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
    SmallVector<AddOp> roots;
    SmallVector<MulOp> muls;
    getOperation()->walk([&](Operation *op) {
      if (op->getParentOfType<BlockOp>())
        return;
      if (auto add = dyn_cast<AddOp>(op); add && !isInnerAdd(add))
        roots.push_back(add);
      if (auto mul = dyn_cast<MulOp>(op))
        muls.push_back(mul);
    });
    for (AddOp root : roots)
      formBlocks(root, explain);
    for (MulOp mul : muls)
      formSqueezeExcite(mul);
  }
};

} // namespace
