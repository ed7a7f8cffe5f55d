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

#define GET_OP_CLASSES
#include "mobileone/Dialect/MobileOne/MobileOneOps.h.inc"

#endif
