//===- RunnerHarness.cpp - a @main for mlir-cpu-runner --------------------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Evaluator/Evaluator.h"
#include "mobileone/Support/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

LogicalResult mobileone::addRunnerHarness(ModuleOp module, uint64_t seed,
                                          ArrayRef<std::vector<float>> given) {
  func::FuncOp model = findEntryFunction(module);
  if (!model)
    return failure();
  OpBuilder b(module.getContext());
  Location loc = model.getLoc();
  model.setSymName("model");
  b.setInsertionPointToEnd(module.getBody());
  // One printer per result element type (the runner utilities' C
  // interface): printMemrefF32, printMemrefI64 (ArgMax's indices), ...
  llvm::DenseMap<Type, func::FuncOp> printers;
  for (Type t : model.getResultTypes()) {
    Type elem = cast<ShapedType>(t).getElementType();
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
    inputs.push_back(createWeightConstant(b, loc, ranked, t.data,
                                          "input" + std::to_string(i)));
  }
  auto call = b.create<func::CallOp>(loc, model, inputs);
  for (Value r : call.getResults()) {
    Type elem = cast<ShapedType>(r.getType()).getElementType();
    b.create<func::CallOp>(
        loc, printers[elem],
        ValueRange{b.create<tensor::CastOp>(
            loc, UnrankedTensorType::get(elem), r)});
  }
  b.create<func::ReturnOp>(loc);
  return success();
}
