//===- Registry.cpp - the runtime's operators, one row each ---------------===//

#include "Registry.h"
#include "Kernels.h"

#include "mobileone/Target/TFLite/schema_generated.h"

#include <algorithm>

using namespace mobileone::runtime;
namespace tfl = tflite;

namespace {

// One row per OpKind, in OpKind's order (checked at compile time below):
// kind, name, builtin, decode, reference, unary, int8 prepare, int8 kernel,
// XNNPACK node, and our own float and int8 kernels where there are any.
constexpr OpRegistration kRegistry[] = {
    {OpKind::Conv, "CONV_2D", tfl::BuiltinOperator_CONV_2D, decode::conv,
     reference::conv, nullptr, int8::prepareConv, int8::conv, xnn::conv,
     native::conv, kernels::createConvInt8},
    {OpKind::DepthwiseConv, "DEPTHWISE_CONV_2D",
     tfl::BuiltinOperator_DEPTHWISE_CONV_2D, decode::conv,
     reference::depthwiseConv, nullptr, int8::prepareConv, int8::conv,
     xnn::depthwiseConv, native::conv, kernels::createConvInt8},
    {OpKind::Pad, "PAD", tfl::BuiltinOperator_PAD, decode::pad, reference::pad,
     nullptr, int8::prepareMove, int8::pad, xnn::pad},
    {OpKind::AveragePool, "AVERAGE_POOL_2D",
     tfl::BuiltinOperator_AVERAGE_POOL_2D, decode::pool, reference::averagePool,
     nullptr, int8::preparePool, int8::averagePool, xnn::averagePool},
    {OpKind::FullyConnected, "FULLY_CONNECTED",
     tfl::BuiltinOperator_FULLY_CONNECTED, decode::fullyConnected,
     reference::fullyConnected, nullptr, int8::prepareConv,
     int8::fullyConnected, xnn::fullyConnected, native::conv,
     kernels::createConvInt8},
    {OpKind::Add, "ADD", tfl::BuiltinOperator_ADD, decode::binary,
     reference::add, nullptr, int8::prepareAdd, int8::add, xnn::add},
    {OpKind::Mul, "MUL", tfl::BuiltinOperator_MUL, decode::binary,
     reference::mul, nullptr, int8::prepareMul, int8::mul, xnn::mul},
    {OpKind::Logistic, "LOGISTIC", tfl::BuiltinOperator_LOGISTIC, decode::unary,
     nullptr, reference::logistic, int8::prepareTable, int8::table,
     xnn::logistic},
    {OpKind::Relu, "RELU", tfl::BuiltinOperator_RELU, decode::unary, nullptr,
     reference::relu, int8::prepareTable, int8::table, xnn::relu},
    {OpKind::Relu6, "RELU6", tfl::BuiltinOperator_RELU6, decode::unary, nullptr,
     reference::relu6, int8::prepareTable, int8::table, xnn::relu6},
    {OpKind::Reshape, "RESHAPE", tfl::BuiltinOperator_RESHAPE, decode::reshape,
     reference::copy, nullptr, int8::prepareMove, int8::copy, nullptr},
    {OpKind::Mean, "MEAN", tfl::BuiltinOperator_MEAN, decode::mean,
     reference::mean, nullptr, int8::prepareMean, int8::mean, xnn::mean},
    {OpKind::Sub, "SUB", tfl::BuiltinOperator_SUB, decode::binary,
     reference::sub, nullptr, int8::prepareAdd, int8::add, xnn::sub},
    {OpKind::Div, "DIV", tfl::BuiltinOperator_DIV, decode::binary,
     reference::div, nullptr, nullptr, nullptr, xnn::div},
    {OpKind::Maximum, "MAXIMUM", tfl::BuiltinOperator_MAXIMUM, decode::binary,
     reference::maximum, nullptr, int8::prepareSameScale, int8::maxMin,
     xnn::maximum},
    {OpKind::Minimum, "MINIMUM", tfl::BuiltinOperator_MINIMUM, decode::binary,
     reference::minimum, nullptr, int8::prepareSameScale, int8::maxMin,
     xnn::minimum},
    {OpKind::Pow, "POW", tfl::BuiltinOperator_POW, decode::binary,
     reference::pow, nullptr, nullptr, nullptr, nullptr},
    {OpKind::Gelu, "GELU", tfl::BuiltinOperator_GELU, decode::unary, nullptr,
     reference::gelu, int8::prepareTable, int8::table, nullptr, native::gelu},
    {OpKind::HardSwish, "HARD_SWISH", tfl::BuiltinOperator_HARD_SWISH,
     decode::unary, nullptr, reference::hardSwish, int8::prepareTable,
     int8::table, xnn::hardSwish},
    {OpKind::LeakyRelu, "LEAKY_RELU", tfl::BuiltinOperator_LEAKY_RELU,
     decode::unary, nullptr, reference::leakyRelu, int8::prepareTable,
     int8::table, xnn::leakyRelu},
    {OpKind::ReluN1To1, "RELU_N1_TO_1", tfl::BuiltinOperator_RELU_N1_TO_1,
     decode::unary, nullptr, reference::reluN1To1, int8::prepareTable,
     int8::table, xnn::reluN1To1},
    {OpKind::Tanh, "TANH", tfl::BuiltinOperator_TANH, decode::unary, nullptr,
     reference::tanh, int8::prepareTable, int8::table, nullptr},
    {OpKind::Exp, "EXP", tfl::BuiltinOperator_EXP, decode::unary, nullptr,
     reference::exp, int8::prepareTable, int8::table, nullptr},
    {OpKind::Neg, "NEG", tfl::BuiltinOperator_NEG, decode::unary, nullptr,
     reference::neg, int8::prepareTable, int8::table, xnn::neg},
    {OpKind::Sqrt, "SQRT", tfl::BuiltinOperator_SQRT, decode::unary, nullptr,
     reference::sqrt, int8::prepareTable, int8::table, xnn::sqrt},
    {OpKind::Rsqrt, "RSQRT", tfl::BuiltinOperator_RSQRT, decode::unary, nullptr,
     reference::rsqrt, int8::prepareTable, int8::table, nullptr},
    {OpKind::MaxPool, "MAX_POOL_2D", tfl::BuiltinOperator_MAX_POOL_2D,
     decode::pool, reference::maxPool, nullptr, int8::preparePool,
     int8::maxPool, xnn::maxPool},
    {OpKind::Concatenation, "CONCATENATION", tfl::BuiltinOperator_CONCATENATION,
     decode::concatenation, reference::concatenation, nullptr,
     int8::prepareConcatenation, int8::concatenation, nullptr},
    {OpKind::Slice, "SLICE", tfl::BuiltinOperator_SLICE, decode::slice,
     reference::gather, nullptr, int8::prepareMove, int8::gather, nullptr},
    {OpKind::Transpose, "TRANSPOSE", tfl::BuiltinOperator_TRANSPOSE,
     decode::transpose, reference::gather, nullptr, int8::prepareMove,
     int8::gather, nullptr},
    {OpKind::Tile, "TILE", tfl::BuiltinOperator_TILE, decode::tile,
     reference::gather, nullptr, int8::prepareMove, int8::gather, nullptr},
    {OpKind::PadV2, "PADV2", tfl::BuiltinOperator_PADV2, decode::padV2,
     reference::padV2, nullptr, int8::preparePadV2, int8::padV2, nullptr},
    {OpKind::Sum, "SUM", tfl::BuiltinOperator_SUM, decode::reduce,
     reference::reduce, nullptr, nullptr, nullptr, nullptr},
    {OpKind::ReduceMax, "REDUCE_MAX", tfl::BuiltinOperator_REDUCE_MAX,
     decode::reduce, reference::reduce, nullptr, nullptr, nullptr, nullptr},
    {OpKind::Softmax, "SOFTMAX", tfl::BuiltinOperator_SOFTMAX, decode::softmax,
     reference::softmax, nullptr, nullptr, nullptr, xnn::softmax},
    {OpKind::BatchMatMul, "BATCH_MATMUL", tfl::BuiltinOperator_BATCH_MATMUL,
     decode::batchMatMul, reference::batchMatMul, nullptr, nullptr, nullptr,
     nullptr},
    {OpKind::Quantize, "QUANTIZE", tfl::BuiltinOperator_QUANTIZE,
     decode::quantize, nullptr, nullptr, int8::prepareQuantize, int8::quantize,
     nullptr},
    {OpKind::Dequantize, "DEQUANTIZE", tfl::BuiltinOperator_DEQUANTIZE,
     decode::dequantize, nullptr, nullptr, int8::prepareDequantize,
     int8::dequantize, nullptr},
    {OpKind::TransposeConv, "TRANSPOSE_CONV",
     tfl::BuiltinOperator_TRANSPOSE_CONV, decode::transposeConv,
     reference::transposeConv, nullptr, nullptr, nullptr, xnn::transposeConv},
    {OpKind::ResizeNearest, "RESIZE_NEAREST_NEIGHBOR",
     tfl::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR, decode::resize,
     reference::resize, nullptr, int8::prepareMove, int8::resizeNearest,
     nullptr},
    {OpKind::ResizeBilinear, "RESIZE_BILINEAR",
     tfl::BuiltinOperator_RESIZE_BILINEAR, decode::resize, reference::resize,
     nullptr, nullptr, nullptr, nullptr},
    {OpKind::ArgMax, "ARG_MAX", tfl::BuiltinOperator_ARG_MAX, decode::argMax,
     reference::argMax, nullptr, nullptr, nullptr, nullptr},
};

constexpr size_t kKinds = size_t(OpKind::ArgMax) + 1;
constexpr bool inKindOrder() {
  for (size_t k = 0; k < std::size(kRegistry); ++k)
    if (size_t(kRegistry[k].kind) != k)
      return false;
  return std::size(kRegistry) == kKinds;
}
static_assert(inKindOrder(), "one registration per OpKind, in OpKind's order");

} // namespace

const OpRegistration &mobileone::runtime::registration(OpKind kind) {
  return kRegistry[size_t(kind)];
}

const OpRegistration *mobileone::runtime::registrationOf(int builtin) {
  for (const OpRegistration &r : kRegistry)
    if (r.builtin == builtin)
      return &r;
  return nullptr;
}

std::string mobileone::runtime::supportedOperators(bool int8) {
  std::vector<std::string> names;
  for (const OpRegistration &r : kRegistry)
    if (!int8 || r.prepareInt8)
      names.push_back(r.name);
  std::sort(names.begin(), names.end());
  std::string text;
  for (const std::string &n : names)
    text += (text.empty() ? "" : ", ") + n;
  return text;
}
