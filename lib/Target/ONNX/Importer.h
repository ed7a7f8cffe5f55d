//===- Importer.h - the ONNX importer's shared state and helpers -*- C++
//-*-===//
//
// Internal to lib/Target/ONNX. The importer walks the graph in order and
// dispatches each node through a registry: one entry per ONNX op type, with
// the opset range its handler implements. Handlers live with their op family
// (ImportNN.cpp, ImportElementwise.cpp, ImportTensor.cpp) and see the graph
// through `Importer`: typed inputs, constant inputs, attributes, and
// `create<OpTy>` which infers result types and folds constants.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_LIB_TARGET_ONNX_IMPORTER_H
#define MOBILEONE_LIB_TARGET_ONNX_IMPORTER_H

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Limits.h"
#include "mobileone/Target/ONNX.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <onnx/onnx_pb.h>

#include <optional>
#include <string>
#include <vector>

namespace mlir::mobileone::onnx_import {

/// The newest and oldest default-domain opsets whose semantics the registry
/// implements.
constexpr int64_t kMinOpset = 11, kMaxOpset = 21;

class Importer;
using NodeHandler = LogicalResult (*)(Importer &, const onnx::NodeProto &);

/// One ONNX op type: the handler implements its semantics for opsets
/// `[sinceOpset, kMaxOpset]` (the op did not exist, or meant something else
/// this importer does not implement, before `sinceOpset`).
struct OpEntry {
  const char *opType;
  int64_t sinceOpset;
  NodeHandler handler;
};

// The op families, each in its own file.
ArrayRef<OpEntry> nnOps();
ArrayRef<OpEntry> elementwiseOps();
ArrayRef<OpEntry> tensorOps();

class Importer {
public:
  Importer(MLIRContext *context, StringRef path,
           const ONNXImportOptions &options);
  OwningOpRef<ModuleOp> run();

  //===--------------------------------------------------------------------===//
  // The API of node handlers.
  //===--------------------------------------------------------------------===//

  int64_t opset() const { return opsetVersion; }
  OpBuilder &builder() { return b; }
  MLIRContext *context() { return b.getContext(); }
  /// The node's location: its name (or a synthesised one).
  Location loc() const { return nodeLoc; }

  /// An error prefixed with "node 'name' (OpType): ".
  InFlightDiagnostic nodeError(const onnx::NodeProto &node);

  /// Whether the node gives input `i`. Every input the handler asks about
  /// counts as read: an input no handler asks about is refused as extra.
  bool hasInput(const onnx::NodeProto &node, int i) const {
    if (i >= 0 && i < 64)
      inputsSeen |= uint64_t(1) << i;
    return node.input_size() > i && !node.input(i).empty();
  }
  /// Input `i` of any element type; an error if missing.
  FailureOr<Value> input(const onnx::NodeProto &node, int i);
  /// Input `i`, which must be an f32 tensor.
  FailureOr<Value> floatInput(const onnx::NodeProto &node, int i);
  /// Optional input `i` (f32): a null Value when the node omits it.
  FailureOr<Value> optionalFloatInput(const onnx::NodeProto &node, int i) {
    return hasInput(node, i) ? floatInput(node, i) : FailureOr<Value>(Value());
  }
  /// Input `i` as the values of an integer constant; an error naming the
  /// producer when it depends on data.
  FailureOr<SmallVector<int64_t>> intInput(const onnx::NodeProto &node, int i);
  /// Input `i` as the values of an f32 constant.
  FailureOr<SmallVector<float>> floatConstantInput(const onnx::NodeProto &node,
                                                   int i);
  /// Binds output `i` of the node.
  LogicalResult define(const onnx::NodeProto &node, Value v, int output = 0);

  /// Builds `OpTy` with inferred result types and folds it when its operands
  /// are constants. Invalid operands or attributes give a diagnostic at the
  /// node, never a crash.
  template <typename OpTy>
  FailureOr<SmallVector<Value>> create(ValueRange operands,
                                       ArrayRef<NamedAttribute> attrs = {});
  template <typename OpTy>
  FailureOr<Value> create1(ValueRange operands,
                           ArrayRef<NamedAttribute> attrs = {}) {
    FailureOr<SmallVector<Value>> r = create<OpTy>(operands, attrs);
    if (failed(r))
      return failure();
    return (*r)[0];
  }
  /// Builds an op whose result type the handler computed, folding it.
  template <typename OpTy, typename... Args>
  Value createTyped(Type type, Args &&...args) {
    return foldOp(b.create<OpTy>(nodeLoc, type, std::forward<Args>(args)...))
        .front();
  }

  Value f32Constant(ArrayRef<int64_t> shape, ArrayRef<float> data,
                    StringRef name);
  Value i64Constant(ArrayRef<int64_t> shape, ArrayRef<int64_t> data);

  /// Reads a TensorProto (initializer or Constant) as a constant value.
  /// `adoptable`: `t` itself, when its raw FLOAT bytes may become the
  /// weight as they are (taken from the proto, not copied).
  FailureOr<Value> tensorConstant(const onnx::TensorProto &t, StringRef name,
                                  onnx::TensorProto *adoptable = nullptr);

  //===--------------------------------------------------------------------===//
  // Attribute readers. Each checks the attribute's ONNX type (a flag's value
  // is 0 or 1) and returns `def` when the node omits it. A mismatch is an
  // error at the node, naming the attribute, the expected and the found type:
  // the node then fails whatever its handler returns. Every attribute read
  // counts as understood; after the handler, one it did not read is refused
  // unless it holds the ONNX default (see checkUnreadInputsAndAttributes).
  //===--------------------------------------------------------------------===//

  int64_t intAttr(const onnx::NodeProto &node, StringRef name, int64_t def);
  bool flagAttr(const onnx::NodeProto &node, StringRef name, bool def);
  float floatAttr(const onnx::NodeProto &node, StringRef name, float def);
  std::vector<int64_t> intsAttr(const onnx::NodeProto &node, StringRef name,
                                std::vector<int64_t> def);
  std::string stringAttr(const onnx::NodeProto &node, StringRef name,
                         StringRef def);
  /// The attribute, if the node gives it with the `expected` type; null if
  /// absent (and an error if of another type).
  const onnx::AttributeProto *
  findAttr(const onnx::NodeProto &node, StringRef name,
           onnx::AttributeProto::AttributeType expected);

  NamedAttribute attr(StringRef name, Attribute value) {
    return b.getNamedAttr(name, value);
  }
  NamedAttribute i64(StringRef name, int64_t v) {
    return attr(name, b.getI64IntegerAttr(v));
  }
  NamedAttribute f32(StringRef name, float v) {
    return attr(name, b.getF32FloatAttr(v));
  }
  NamedAttribute array(StringRef name, ArrayRef<int64_t> v) {
    return attr(name, b.getDenseI64ArrayAttr(v));
  }

private:
  std::unique_ptr<onnx::ModelProto> parse();
  LogicalResult checkOpsSupported(const onnx::GraphProto &graph);
  LogicalResult readExternalData(const onnx::TensorProto &t, Location loc,
                                 StringRef &bytes);
  LogicalResult sliceExternal(const onnx::TensorProto &t, Location loc,
                              StringRef location, StringRef all, int64_t offset,
                              int64_t length, StringRef &bytes);
  LogicalResult importNode(const onnx::NodeProto &node, int64_t index);
  LogicalResult checkDuplicateAttributes(const onnx::NodeProto &node);
  LogicalResult checkUnreadInputsAndAttributes(const onnx::NodeProto &node);

  SmallVector<Value> foldOp(Operation *op);
  LogicalResult inferFailed(StringRef opName);

  OpBuilder b;
  std::string path;
  ONNXImportOptions options;
  int64_t opsetVersion = 0;
  const onnx::NodeProto *currentNode = nullptr;
  /// What the current node's handler read: inputs (bit i), attributes (by
  /// index), and whether an attribute reader found an error.
  mutable uint64_t inputsSeen = 0;
  SmallVector<bool> attrsRead;
  bool attrError = false;
  Location nodeLoc;
  Location fileLoc;
  llvm::StringMap<Value> values;
  /// External data files by location, mapped once.
  llvm::StringMap<std::unique_ptr<llvm::MemoryBuffer>> externalFiles;
};

/// Ops with inherent attributes keep them in a `Properties` struct.
template <typename T, typename = void>
struct HasProperties : std::false_type {};
template <typename T>
struct HasProperties<T, std::void_t<typename T::Properties>> : std::true_type {
};

template <typename OpTy>
FailureOr<SmallVector<Value>> Importer::create(ValueRange operands,
                                               ArrayRef<NamedAttribute> attrs) {
  MLIRContext *ctx = context();
  DictionaryAttr dict = DictionaryAttr::get(ctx, attrs);
  SmallVector<Type> types;
  if constexpr (HasProperties<OpTy>::value) {
    typename OpTy::Properties props;
    bool badAttrs = false;
    auto emitErr = [&]() {
      badAttrs = true;
      return emitError(nodeLoc);
    };
    if (failed(OpTy::setPropertiesFromAttr(props, dict, emitErr)) || badAttrs)
      return failure();
    typename OpTy::Adaptor adaptor(operands, dict, props, {});
    if (failed(OpTy::inferReturnTypes(ctx, nodeLoc, adaptor, types)))
      return failure();
  } else {
    typename OpTy::Adaptor adaptor(operands, dict);
    if (failed(OpTy::inferReturnTypes(ctx, nodeLoc, adaptor, types)))
      return failure();
  }
  return foldOp(b.create<OpTy>(nodeLoc, types, operands, attrs));
}

std::string formatShape(ArrayRef<int64_t> shape);
ArrayRef<int64_t> shapeOf(Value v);
/// Every dimension non-negative and at most kMaxTensorElements in all.
bool validShape(ArrayRef<int64_t> shape);
/// Empty if validShape, else what is wrong ("shape [...] has more than 2^28
/// elements, the limit per tensor").
std::string invalidShapeReason(ArrayRef<int64_t> shape);
/// Normalises a possibly negative axis into [0, rank); nullopt if outside.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

} // namespace mlir::mobileone::onnx_import

#endif
