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

Operation *MobileOneDialect::materializeConstant(OpBuilder &builder,
                                                 Attribute value, Type type,
                                                 Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return builder.create<arith::ConstantOp>(loc, type, typed);
}
