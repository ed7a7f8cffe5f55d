//===- MobileOneOps.h - mobileone operations --------------------*- C++ -*-===//

#ifndef MOBILEONE_DIALECT_MOBILEONE_MOBILEONEOPS_H
#define MOBILEONE_DIALECT_MOBILEONE_MOBILEONEOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mobileone/Dialect/MobileOne/MobileOneDialect.h"
#include "mobileone/Dialect/MobileOne/LinearMapInterface.h"

#include <functional>
#include <optional>

namespace mlir::OpTrait {
/// ODS `ElementwiseMap`: each result element is a function of the operand
/// elements at its (broadcast) position, so it commutes with a permutation
/// of the dimensions.
template <typename ConcreteType>
class MobileOneElementwise
    : public TraitBase<ConcreteType, MobileOneElementwise> {};
/// ODS `DataMovement`: moves, copies or describes elements, no arithmetic.
template <typename ConcreteType>
class MobileOneDataMovement
    : public TraitBase<ConcreteType, MobileOneDataMovement> {};
} // namespace mlir::OpTrait

namespace mlir::mobileone {
/// NumPy (ONNX multidirectional) broadcast of two shapes, or nullopt.
std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                    ArrayRef<int64_t> b);
/// Folds a broadcasting i64 binary op whose operands are constants; `fn`
/// returns nullopt where the result is undefined (division by zero).
/// `2x3x?x4`: a shape in diagnostics (`?` for a dynamic dimension).
std::string formatDims(ArrayRef<int64_t> shape);
/// Output size of one dimension of a transposed convolution (ONNX
/// ConvTranspose); dynamic in, dynamic out.
int64_t convTransposeOutputSize(int64_t in, int64_t kernel, int64_t stride,
                                int64_t padBegin, int64_t padEnd,
                                int64_t dilation, int64_t outputPadding);
OpFoldResult
foldIntBinary(Type resultType, Attribute lhs, Attribute rhs,
              function_ref<std::optional<int64_t>(int64_t, int64_t)> fn);
} // namespace mlir::mobileone

#define GET_OP_CLASSES
#include "mobileone/Dialect/MobileOne/MobileOneOps.h.inc"

namespace mlir::mobileone {
/// The per-channel `scale` and `shift` a batch_norm computes
/// (math::batchNormAffine), its four parameters each read by `read` (the
/// LinearComposer's constant reader, or a plain one); false where `read`
/// returns nullopt for one of them.
bool batchNormAffine(
    BatchNormOp bn,
    function_ref<std::optional<std::vector<double>>(Value, StringRef what)>
        read,
    std::vector<double> &scale, std::vector<double> &shift);
} // namespace mlir::mobileone

#endif
