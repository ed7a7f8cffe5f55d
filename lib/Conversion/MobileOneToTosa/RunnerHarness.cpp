//===- RunnerHarness.cpp - a @main for mlir-cpu-runner --------------------===//

#include "mobileone/Conversion/Int8ToTosa.h"
#include "mobileone/Conversion/Passes.h"
#include "mobileone/Evaluator/Evaluator.h"
#include "mobileone/Support/Weights.h"

#include "../../Runtime/Quantized.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

LogicalResult mlir::mobileone::addRunnerHarness(ModuleOp module, uint64_t seed,
                                          ArrayRef<std::vector<float>> given) {
  func::FuncOp model = findEntryFunction(module);
  if (!model)
    return failure();
  OpBuilder b(module.getContext());
  Location loc = model.getLoc();
  model.setSymName("model");
  b.setInsertionPointToEnd(module.getBody());
  // An int8 interface tensor (quantised TOSA) carries its float meaning:
  // the harness quantises a float input as the .tflite's QUANTIZE does and
  // prints int8 results as integers (printMemrefI32).
  auto quantOf = [](DictionaryAttr attrs) -> std::optional<std::pair<float, int32_t>> {
    auto scale = attrs ? attrs.getAs<FloatAttr>(kQuantScaleAttr)
                       : FloatAttr();
    auto zero = attrs ? attrs.getAs<IntegerAttr>(kQuantZeroPointAttr)
                      : IntegerAttr();
    if (!scale || !zero)
      return std::nullopt;
    return std::make_pair(float(scale.getValueAsDouble()),
                          int32_t(zero.getInt()));
  };
  // One printer per printed element type (the runner utilities' C
  // interface): printMemrefF32, printMemrefI64 (ArgMax's indices), ...
  llvm::DenseMap<Type, func::FuncOp> printers;
  SmallVector<Type> printed;
  for (auto [i, t] : llvm::enumerate(model.getResultTypes())) {
    Type elem = cast<ShapedType>(t).getElementType();
    if (elem.isInteger(8))
      elem = b.getI32Type();
    printed.push_back(elem);
    if (printers.count(elem))
      continue;
    std::string name = elem.isF32()           ? "printMemrefF32"
                       : elem.isInteger(64)   ? "printMemrefI64"
                       : elem.isInteger(32)   ? "printMemrefI32"
                                              : "";
    if (name.empty())
      return model.emitError("runner harness: cannot print a result of ")
             << t;
    auto unranked = UnrankedTensorType::get(elem);
    auto print = b.create<func::FuncOp>(loc, name,
                                        b.getFunctionType({unranked}, {}));
    print.setPrivate();
    print->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    printers[elem] = print;
  }
  auto main = b.create<func::FuncOp>(loc, "main", b.getFunctionType({}, {}));
  b.setInsertionPointToStart(main.addEntryBlock());
  SmallVector<Value> inputs;
  for (auto [i, type] : llvm::enumerate(model.getArgumentTypes())) {
    auto ranked = dyn_cast<RankedTensorType>(type);
    if (!ranked || !ranked.hasStaticShape())
      return model.emitError("runner harness: expected static inputs");
    Tensor t = randomTensor(ranked.getShape(), seed + i);
    if (i < given.size() && !given[i].empty()) {
      const std::vector<float> &input = given[i];
      if (int64_t(input.size()) != ranked.getNumElements())
        return model.emitError("runner harness: input #")
               << i << " has " << input.size() << " elements, the model's "
               << ranked << " " << ranked.getNumElements();
      t.data.assign(input.begin(), input.end());
    }
    if (auto quant = quantOf(model.getArgAttrDict(i));
        quant && ranked.getElementType().isInteger(8)) {
      std::vector<int8_t> q;
      for (float v : t.data)
        q.push_back(::mobileone::runtime::quantizeToInt8(v, quant->first,
                                                         quant->second));
      inputs.push_back(b.create<tosa::ConstOp>(
          loc, ranked, DenseElementsAttr::get(ranked, ArrayRef<int8_t>(q))));
      continue;
    }
    if (!ranked.getElementType().isF32())
      return model.emitError("runner harness: cannot make an input of ")
             << ranked;
    inputs.push_back(createWeightConstant(b, loc, ranked, t.data,
                                          "input" + std::to_string(i)));
  }
  auto call = b.create<func::CallOp>(loc, model, inputs);
  for (auto [i, result] : llvm::enumerate(call.getResults())) {
    Value r = result;
    Type elem = printed[i];
    if (elem != cast<ShapedType>(r.getType()).getElementType())
      r = b.create<tosa::CastOp>(
          loc,
          RankedTensorType::get(cast<ShapedType>(r.getType()).getShape(), elem),
          r);
    b.create<func::CallOp>(
        loc, printers[elem],
        ValueRange{b.create<tensor::CastOp>(
            loc, UnrankedTensorType::get(elem), r)});
  }
  b.create<func::ReturnOp>(loc);
  return success();
}
