//===- LinearMapInterface.td - ops that compose kernels ----*- tablegen -*-===//

#ifndef MOBILEONE_LINEARMAPINTERFACE_TD
#define MOBILEONE_LINEARMAPINTERFACE_TD

include "mlir/IR/OpBase.td"

def MobileOne_LinearMapOpInterface : OpInterface<"LinearMapOpInterface"> {
  let cppNamespace = "::mlir::mobileone";
  let description = [{
    An op whose result is an affine function of values of a linear region:
    it says how it transforms the region's map (one convolution from the
    region input to each value) into the map of its result, or why it
    cannot. This is the single rule of re-parameterisation: the block
    verifier asks it with geometry only, structure recovery and branch
    merging with weights.
  }];
  let methods = [
    InterfaceMethod<[{
        The map of this op's result from the region input, composed from the
        maps of its region operands (`composer.mapOf`); nullopt with
        `composer.why` set if the op is not linear in them or the result is
        not exactly one convolution.
      }], "std::optional<::mlir::mobileone::math::LinearMap>",
      "composeLinearMap", (ins "::mlir::mobileone::LinearComposer &":$composer)>,
    InterfaceMethod<[{
        The operands the result is linear in (the others are weights):
        every operand unless the op says otherwise.
      }], "::llvm::SmallVector<::mlir::Value, 2>", "getLinearInputs", (ins),
      /*methodBody=*/"", /*defaultImplementation=*/[{
        return ::llvm::SmallVector<::mlir::Value, 2>($_op->getOperands());
      }]>
  ];
}

#endif
