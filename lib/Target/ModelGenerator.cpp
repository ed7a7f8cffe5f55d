//===- ModelGenerator.cpp - training-time models in the dialect -----------===//
//
// Layout follows MOBILEONE.md: a stem block, four stages of [2, 8, 10, 1]
// depthwise + pointwise block pairs, global average pool and a linear head.
// Weights are drawn so that activations keep their scale through the
// network: conv weights ~ N(0, 2 / fan_in), and each of the n branches of a
// block gets a BN gain gamma / sqrt(var) of about 1 / sqrt(n).
//
//===----------------------------------------------------------------------===//

#include "mobileone/Target/ModelGenerator.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Random.h"
#include "mobileone/Support/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::mobileone;

namespace {

class ModelBuilder {
public:
  ModelBuilder(MLIRContext *context, uint64_t seed)
      : b(context), rng(seed, /*offset=*/1), f32(b.getF32Type()) {}

  RankedTensorType nchw(int64_t n, int64_t c, int64_t h, int64_t w) {
    return RankedTensorType::get({n, c, h, w}, f32);
  }

  Location loc(const std::string &name) {
    return NameLoc::get(b.getStringAttr(name));
  }

  Value constant(const std::string &name, ArrayRef<int64_t> shape,
                 const std::vector<float> &data) {
    return createWeightConstant(b, loc(name), RankedTensorType::get(shape, f32),
                                data, name);
  }

  Value randomNormal(const std::string &name, ArrayRef<int64_t> shape,
                     double stddev, double mean = 0.0) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    std::vector<float> data(n);
    for (float &v : data)
      v = static_cast<float>(mean + rng.normal(stddev));
    return constant(name, shape, data);
  }

  /// A conv2d (no bias) from `input`, He-initialised.
  Value conv(const std::string &name, Value input, int64_t outChannels,
             int64_t kernel, int64_t stride, int64_t pad, int64_t group) {
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t inPerGroup = inType.getDimSize(1) / group;
    Value weight = randomNormal(
        name + ".weight", {outChannels, inPerGroup, kernel, kernel},
        std::sqrt(2.0 / (inPerGroup * kernel * kernel)));
    auto out = [&](int64_t size) {
      return (size + 2 * pad - kernel) / stride + 1;
    };
    RankedTensorType type =
        nchw(inType.getDimSize(0), outChannels, out(inType.getDimSize(2)),
             out(inType.getDimSize(3)));
    return b.create<Conv2DOp>(loc(name), type, input, weight, Value(),
                              b.getDenseI64ArrayAttr({stride, stride}),
                              b.getDenseI64ArrayAttr({pad, pad, pad, pad}),
                              b.getDenseI64ArrayAttr({1, 1}),
                              b.getI64IntegerAttr(group));
  }

  /// A batch_norm with random statistics whose gain gamma / sqrt(var) is
  /// about `gain`.
  Value batchNorm(const std::string &name, Value input, double gain) {
    int64_t c = cast<RankedTensorType>(input.getType()).getDimSize(1);
    std::vector<float> scale(c), bias(c), mean(c), var(c);
    for (int64_t i = 0; i < c; ++i) {
      var[i] = static_cast<float>(rng.uniform(0.5, 2.0));
      scale[i] =
          static_cast<float>(gain * std::sqrt(var[i]) * rng.uniform(0.7, 1.3));
      mean[i] = static_cast<float>(rng.normal(0.1));
      bias[i] = static_cast<float>(rng.normal(0.1));
    }
    return b.create<BatchNormOp>(loc(name), input.getType(), input,
                                 constant(name + ".weight", {c}, scale),
                                 constant(name + ".bias", {c}, bias),
                                 constant(name + ".running_mean", {c}, mean),
                                 constant(name + ".running_var", {c}, var),
                                 b.getF64FloatAttr(1e-5));
  }

  /// A MobileOneBlock (without activation): k conv branches, optional scale
  /// and skip branches.
  Value block(const std::string &name, Value input, int64_t outChannels,
              int64_t kernel, int64_t stride, int64_t group, int64_t k,
              bool scale, bool identity) {
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t pad = kernel / 2;
    auto out = [&](int64_t size) {
      return (size + 2 * pad - kernel) / stride + 1;
    };
    RankedTensorType type =
        nchw(inType.getDimSize(0), outChannels, out(inType.getDimSize(2)),
             out(inType.getDimSize(3)));
    auto op = b.create<BlockOp>(
        loc(name), type, input, ArrayRef<int64_t>{kernel, kernel},
        ArrayRef<int64_t>{stride, stride},
        ArrayRef<int64_t>{pad, pad, pad, pad}, ArrayRef<int64_t>{1, 1}, group);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&op.getBody().front());
    Value in = op.getBranchInput();
    // Slightly below 1 / sqrt(n): the identity branch carries the positive
    // mean of the previous ReLU, which He initialisation does not account for.
    double gain = 0.85 / std::sqrt(double(k + scale + identity));
    SmallVector<Value> branches;
    for (int64_t i = 0; i < k; ++i) {
      std::string branch = name + ".rbr_conv." + std::to_string(i);
      branches.push_back(batchNorm(
          branch + ".bn",
          conv(branch + ".conv", in, outChannels, kernel, stride, pad, group),
          gain));
    }
    if (scale) {
      std::string branch = name + ".rbr_scale";
      branches.push_back(batchNorm(
          branch + ".bn",
          conv(branch + ".conv", in, outChannels, 1, stride, 0, group), gain));
    }
    if (identity)
      branches.push_back(batchNorm(name + ".rbr_skip", in, gain));
    b.create<YieldOp>(loc(name), branches);
    return op.getOutput();
  }

  Value relu(const std::string &name, Value x) {
    return b.create<ReluOp>(loc(name), x);
  }

  Value squeezeExcite(const std::string &name, Value x) {
    int64_t c = cast<RankedTensorType>(x.getType()).getDimSize(1);
    int64_t r = static_cast<int64_t>(c * 0.0625);
    Value rw =
        randomNormal(name + ".reduce.weight", {r, c, 1, 1}, std::sqrt(2.0 / c));
    Value rb = randomNormal(name + ".reduce.bias", {r}, 0.1);
    Value ew =
        randomNormal(name + ".expand.weight", {c, r, 1, 1}, std::sqrt(1.0 / r));
    // Gates near 0.9, so that twelve SE modules do not wash out the signal.
    Value eb = randomNormal(name + ".expand.bias", {c}, 0.3, 2.5);
    return b.create<SqueezeExciteOp>(loc(name), x.getType(), x, rw, rb, ew, eb);
  }

  /// Creates `func.func @main(input) -> ...` and positions the builder in it.
  func::FuncOp beginMain(ModuleOp module, RankedTensorType input) {
    b.setInsertionPointToEnd(module.getBody());
    auto func = b.create<func::FuncOp>(loc("main"), "main",
                                       b.getFunctionType({input}, {}));
    b.setInsertionPointToStart(func.addEntryBlock());
    return func;
  }

  void endMain(func::FuncOp func, Value result) {
    b.create<func::ReturnOp>(loc("output"), result);
    func.setFunctionType(
        b.getFunctionType(func.getArgumentTypes(), {result.getType()}));
  }

  OpBuilder b;
  SplitMix64 rng;
  Type f32;
};

} // namespace

OwningOpRef<ModuleOp> mobileone::generateMobileOne(
    MLIRContext *context, const MobileOneConfig &config, std::string &error) {
  context
      ->loadDialect<MobileOneDialect, func::FuncDialect, arith::ArithDialect>();
  struct Variant {
    double widths[4];
    int64_t k;
    bool se;
  };
  std::optional<Variant> v =
      llvm::StringSwitch<std::optional<Variant>>(config.variant)
          .Case("s0", Variant{{0.75, 1.0, 1.0, 2.0}, 4, false})
          .Case("s1", Variant{{1.5, 1.5, 2.0, 2.5}, 1, false})
          .Case("s2", Variant{{1.5, 2.0, 2.5, 4.0}, 1, false})
          .Case("s3", Variant{{2.0, 2.5, 3.0, 4.0}, 1, false})
          .Case("s4", Variant{{3.0, 3.5, 3.5, 4.0}, 1, true})
          .Default(std::nullopt);
  if (!v) {
    error = "unknown MobileOne variant '" + config.variant +
            "', expected one of s0, s1, s2, s3, s4";
    return nullptr;
  }
  if (config.resolution < 32 || config.batch < 1 || config.numClasses < 1) {
    error = "expected a resolution >= 32, a batch >= 1 and at least one class";
    return nullptr;
  }

  ModelBuilder g(context, config.seed);
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(g.loc("mobileone_" + config.variant));
  func::FuncOp func = g.beginMain(
      *module, g.nchw(config.batch, 3, config.resolution, config.resolution));
  Value x = func.getArgument(0);

  int64_t inPlanes = std::min<int64_t>(64, int64_t(64 * v->widths[0]));
  x = g.relu("stage0.act",
             g.block("stage0", x, inPlanes, 3, 2, 1, /*k=*/1, /*scale=*/true,
                     /*identity=*/false));
  const int64_t blocks[4] = {2, 8, 10, 1};
  const int64_t base[4] = {64, 128, 256, 512};
  const int64_t seBlocks[4] = {0, 0, v->se ? 5 : 0, v->se ? 1 : 0};
  for (int stage = 0; stage < 4; ++stage) {
    int64_t planes = int64_t(base[stage] * v->widths[stage]);
    for (int64_t i = 0; i < blocks[stage]; ++i) {
      int64_t stride = i == 0 ? 2 : 1;
      bool se = i >= blocks[stage] - seBlocks[stage];
      std::string name =
          "stage" + std::to_string(stage + 1) + "." + std::to_string(2 * i);
      x = g.block(name, x, inPlanes, 3, stride, inPlanes, v->k, true,
                  stride == 1);
      if (se)
        x = g.squeezeExcite(name + ".se", x);
      x = g.relu(name + ".act", x);
      name =
          "stage" + std::to_string(stage + 1) + "." + std::to_string(2 * i + 1);
      x = g.block(name, x, planes, 1, 1, 1, v->k, false, inPlanes == planes);
      if (se)
        x = g.squeezeExcite(name + ".se", x);
      x = g.relu(name + ".act", x);
      inPlanes = planes;
    }
  }
  Type f32 = g.f32;
  x = g.b.create<GlobalAvgPoolOp>(g.loc("gap"),
                                  g.nchw(config.batch, inPlanes, 1, 1), x);
  x = g.b.create<ReshapeOp>(
      g.loc("flatten"), RankedTensorType::get({config.batch, inPlanes}, f32),
      x);
  Value w = g.randomNormal("linear.weight", {config.numClasses, inPlanes},
                           std::sqrt(1.0 / inPlanes));
  Value bias = g.randomNormal("linear.bias", {config.numClasses}, 0.1);
  x = g.b.create<LinearOp>(
      g.loc("linear"),
      RankedTensorType::get({config.batch, config.numClasses}, f32), x, w,
      bias);
  g.endMain(func, x);
  return module;
}

std::string mobileone::parseBlockConfig(llvm::StringRef spec,
                                        BlockConfig &config) {
  SmallVector<StringRef> items;
  spec.split(items, ',', -1, /*KeepEmpty=*/false);
  for (StringRef item : items) {
    auto [key, value] = item.split('=');
    int64_t n;
    if (value.trim().getAsInteger(10, n))
      return "expected an integer for '" + key.str() +
             "' in block spec, got '" + value.str() + "'";
    int64_t *field = llvm::StringSwitch<int64_t *>(key.trim())
                         .Case("in", &config.inChannels)
                         .Case("out", &config.outChannels)
                         .Case("kernel", &config.kernel)
                         .Case("stride", &config.stride)
                         .Case("group", &config.group)
                         .Case("branches", &config.convBranches)
                         .Case("size", &config.size)
                         .Case("batch", &config.batch)
                         .Default(nullptr);
    if (field)
      *field = n;
    else if (key.trim() == "scale")
      config.scale = n != 0;
    else if (key.trim() == "identity")
      config.identity = n != 0;
    else if (key.trim() == "seed")
      config.seed = n;
    else
      return "unknown block spec key '" + key.str() +
             "' (expected in, out, kernel, stride, group, branches, scale, "
             "identity, size, batch, seed)";
  }
  return "";
}

OwningOpRef<ModuleOp> mobileone::generateBlock(MLIRContext *context,
                                               const BlockConfig &c,
                                               std::string &error) {
  context
      ->loadDialect<MobileOneDialect, func::FuncDialect, arith::ArithDialect>();
  if (c.inChannels < 1 || c.outChannels < 1 || c.kernel < 1 || c.stride < 1 ||
      c.group < 1 || c.convBranches < 0 || c.size < c.kernel || c.batch < 1) {
    error = "block spec out of range: channels, kernel, stride, group and "
            "batch must be positive, size >= kernel";
    return nullptr;
  }
  if (c.inChannels % c.group || c.outChannels % c.group) {
    error = "block spec: channels must be divisible by group";
    return nullptr;
  }
  if (c.convBranches + c.scale + c.identity == 0) {
    error = "block spec: a block needs at least one branch";
    return nullptr;
  }
  if (c.identity &&
      (c.inChannels != c.outChannels || c.stride != 1 || c.kernel % 2 == 0)) {
    error = "block spec: an identity branch needs in == out, stride 1 and an "
            "odd kernel";
    return nullptr;
  }
  if (c.scale && (c.kernel % 2 == 0)) {
    error = "block spec: a 1x1 scale branch needs an odd kernel";
    return nullptr;
  }
  ModelBuilder g(context, c.seed);
  OwningOpRef<ModuleOp> module = ModuleOp::create(g.loc("block"));
  func::FuncOp func =
      g.beginMain(*module, g.nchw(c.batch, c.inChannels, c.size, c.size));
  Value x = g.block("block", func.getArgument(0), c.outChannels, c.kernel,
                    c.stride, c.group, c.convBranches, c.scale, c.identity);
  g.endMain(func, g.relu("act", x));
  return module;
}
