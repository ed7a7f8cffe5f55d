//===- MobileOneDialect.cpp - the mobileone dialect -----------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneDialect.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"

using namespace mlir;
using namespace mlir::mobileone;

#include "mobileone/Dialect/MobileOne/MobileOneOpsDialect.cpp.inc"

void MobileOneDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mobileone/Dialect/MobileOne/MobileOneOps.cpp.inc"
      >();
}
