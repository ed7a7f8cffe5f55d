//===- Graph.h - a TFLite subgraph before serialisation (internal) -*- C++ -*-===//
//
// The emitter builds the model as plain records (tensors, operators,
// buffers) and serialises them last, so that passes over the emitted graph
// (int8 quantisation) rewrite records, not FlatBuffer bytes. Operator
// options are tables already in the builder that serialises the graph.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_LIB_TARGET_TFLITE_GRAPH_H
#define MOBILEONE_LIB_TARGET_TFLITE_GRAPH_H

#include "mobileone/Target/TFLite.h"
#include "mobileone/Target/TFLite/schema_generated.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::mobileone::tfl {

struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zeroPoint;
  int32_t axis = 0;
};

struct TensorRecord {
  std::vector<int32_t> shape;
  tflite::TensorType type = tflite::TensorType_FLOAT32;
  std::string name;
  /// Index into Graph::buffers; 0 (the empty buffer) for an activation.
  uint32_t buffer = 0;
  Quantization quant;
  /// The name of the op (or part of it, e.g. "<op>/kernel") that computes
  /// the tensor, before names were made unique.
  std::string origin;
};

struct OpRecord {
  tflite::BuiltinOperator code;
  std::vector<int32_t> inputs, outputs;
  tflite::BuiltinOptions optionsType = tflite::BuiltinOptions_NONE;
  flatbuffers::Offset<void> options = 0;
  /// An AVERAGE_POOL_2D whose window is its whole input (no padding).
  bool globalAverage = false;
};

/// A constant's bytes: its own copy, or a view of a weight blob of the
/// module being emitted (which the emitter frees only after serialising).
struct Buffer {
  std::vector<uint8_t> owned;
  const uint8_t *view = nullptr;
  size_t viewSize = 0;

  const uint8_t *data() const { return view ? view : owned.data(); }
  size_t size() const { return view ? viewSize : owned.size(); }
};

struct Graph {
  /// Buffer 0 is the empty sentinel every activation refers to.
  std::vector<Buffer> buffers{1};

  /// A new buffer holding a copy of `bytes` bytes at `data`, or (`borrow`)
  /// referring to them.
  uint32_t addBuffer(const void *data, size_t bytes, bool borrow = false) {
    const uint8_t *p = static_cast<const uint8_t *>(data);
    Buffer b;
    if (borrow) {
      b.view = p;
      b.viewSize = bytes;
    } else {
      b.owned.assign(p, p + bytes);
    }
    buffers.push_back(std::move(b));
    return buffers.size() - 1;
  }
  std::vector<TensorRecord> tensors;
  std::vector<OpRecord> ops;
  std::vector<int32_t> inputs, outputs;

  bool isConstant(int32_t t) const { return tensors[t].buffer != 0; }
  const float *floats(int32_t t) const {
    return reinterpret_cast<const float *>(buffers[tensors[t].buffer].data());
  }
  int64_t elements(int32_t t) const {
    int64_t n = 1;
    for (int32_t d : tensors[t].shape)
      n *= d;
    return n;
  }
};

/// Rewrites the float32 graph `g` to TFLite's int8 scheme with the
/// activation ranges `ranges` (by tensor index; every float activation's
/// [min, max] over the calibration set). Operators without an int8 form
/// stay float32 between a DEQUANTIZE and a QUANTIZE; graph inputs and
/// outputs stay float32 unless `int8Interface` (--io-dtype int8; else
/// `interfaceError` says why not). `unique` makes a tensor name unique;
/// `fbb` holds the options of operators the rewrite creates.
/// Operators whose layer (their output's origin without a kKernelPart or
/// kIdentityPart suffix) is in `folding.keepFloat` stay float32 (their
/// weights float16 behind a DEQUANTIZE if in `folding.halfWeights`);
/// `unmatched` gets the names of `keepFloat` that match no operator.
void quantizeGraph(Graph &g, const std::vector<TensorRange> &ranges,
                   const std::function<std::string(const std::string &)> &unique,
                   flatbuffers::FlatBufferBuilder &fbb,
                   QuantizationSummary *summary, const Int8Folding &folding,
                   std::vector<std::string> &unmatched, bool int8Interface,
                   std::string &interfaceError);

/// The origins of an identity split's two terms (IdentitySplit.h): "<conv>"
/// followed by these.
constexpr const char kKernelPart[] = "/kernel", kIdentityPart[] = "/identity";

/// The int8 quantisation of the quantised graph `g` by origin: each op's
/// last int8 activation, each int8 convolution's and fully connected
/// layer's weights in ONNX layout.
void collectQuantization(const Graph &g, Int8Quantization &out);

} // namespace mlir::mobileone::tfl

#endif
