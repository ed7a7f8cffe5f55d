//===- MobileOneDialect.td - the mobileone dialect ---------*- tablegen -*-===//

#ifndef MOBILEONE_DIALECT_TD
#define MOBILEONE_DIALECT_TD

include "mlir/IR/OpBase.td"

def MobileOne_Dialect : Dialect {
  let name = "mobileone";
  let cppNamespace = "::mlir::mobileone";
  let summary = "Training-time re-parameterisable networks (MobileOne, RepVGG).";
  let description = [{
    The `mobileone` dialect models the training-time graph of structurally
    re-parameterisable convolutional networks. Tensors are NCHW and f32.
    Convolutions follow ONNX `Conv` semantics. The central op,
    `mobileone.block`, holds the parallel branches of a re-parameterisable
    block explicitly in a region so that the structure the compiler relies on
    is visible and verified. Weights are `arith.constant` values, large ones
    stored as `dense_resource` blobs.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  // Folded shape computations become `arith.constant`s.
  let hasConstantMaterializer = 1;
}

class MobileOne_Op<string mnemonic, list<Trait> traits = []>
    : Op<MobileOne_Dialect, mnemonic, traits>;

#endif // MOBILEONE_DIALECT_TD
