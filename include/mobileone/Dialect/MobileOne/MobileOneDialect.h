//===- MobileOneDialect.h - the mobileone dialect ---------------*- C++ -*-===//

#ifndef MOBILEONE_DIALECT_MOBILEONE_MOBILEONEDIALECT_H
#define MOBILEONE_DIALECT_MOBILEONE_MOBILEONEDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"

#include "mobileone/Dialect/MobileOne/MobileOneOpsDialect.h.inc"

#endif
