//===- Model.cpp - load and validate a TFLite model -----------------------===//

#include "Decode.h"
#include "Model.h"
#include "Registry.h"

#include "mobileone/Runtime/Npy.h"

#include "mobileone/Support/Half.h"
#include "mobileone/Support/Limits.h"
#include "mobileone/Target/TFLite/schema_generated.h"

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mobileone::runtime;

namespace {

constexpr int64_t kMaxElements = mlir::mobileone::kMaxTensorElements;
/// All activations together (1 GiB of floats): a bound on what a model file
/// can make the runtime allocate.
constexpr int64_t kMaxActivationElements = int64_t(1) << 28;

class Loader {
public:
  Loader(Model &m, std::string &error) : m(m), error(error) {}
  bool run();

private:
  bool fail(const std::string &msg) {
    error = msg;
    return false;
  }
  bool failOp(size_t index, const std::string &name, const std::string &msg) {
    return fail("operator #" + std::to_string(index) + " (" + name +
                "): " + msg);
  }
  bool loadTensors(const tflite::SubGraph &g, const tflite::Model &model);
  bool loadQuantization(const tflite::Tensor &t, Tensor &out,
                        const std::string &what);
  bool loadOp(size_t index, const tflite::Operator &op,
              const tflite::Model &model);
  static std::string shapeStr(const std::vector<int64_t> &s) {
    return shapeText(s);
  }

  Model &m;
  std::string &error;
};

bool Loader::loadTensors(const tflite::SubGraph &g,
                         const tflite::Model &model) {
  const auto *tensors = g.tensors();
  const auto *buffers = model.buffers();
  if (!tensors || tensors->size() == 0)
    return fail("the subgraph has no tensors");
  for (uint32_t i = 0; i < tensors->size(); ++i) {
    const tflite::Tensor *t = tensors->Get(i);
    Tensor out;
    out.name = t->name() ? t->name()->str() : "#" + std::to_string(i);
    std::string what = "tensor #" + std::to_string(i) + " '" + out.name + "'";
    switch (t->type()) {
    case tflite::TensorType_FLOAT32:
      out.type = ElementType::Float32;
      break;
    case tflite::TensorType_INT32:
      out.type = ElementType::Int32;
      break;
    case tflite::TensorType_FLOAT16:
      out.type = ElementType::Float16;
      break;
    case tflite::TensorType_INT8:
      out.type = ElementType::Int8;
      break;
    default:
      return fail(what + " has type " + tflite::EnumNameTensorType(t->type()) +
                  "; only FLOAT32 and INT8 (INT32 shapes and biases, FLOAT16 "
                  "weights) are supported");
    }
    out.elements = 1;
    if (t->shape())
      for (int32_t d : *t->shape()) {
        // An INT32 tensor may be empty: RESHAPE's new_shape of a scalar.
        if (d < 0 || (d == 0 && !out.isInt32()))
          return fail(what + " has a non-positive dimension " +
                      std::to_string(d));
        out.shape.push_back(d);
        out.elements *= d;
        if (out.elements > kMaxElements)
          return fail(what + " has more than " +
                      mlir::mobileone::kMaxTensorElementsText + " elements");
      }
    if (t->buffer() != 0) {
      if (!buffers || t->buffer() >= buffers->size())
        return fail(what + " refers to buffer " + std::to_string(t->buffer()) +
                    ", the model has " +
                    std::to_string(buffers ? buffers->size() : 0));
      const tflite::Buffer *b = buffers->Get(t->buffer());
      if (b->data() && b->data()->size() > 0) {
        size_t width = out.elementBytes();
        size_t expected = out.bytes();
        if (b->data()->size() != expected)
          return fail(what + " of shape " + shapeStr(out.shape) + " needs " +
                      std::to_string(expected) + " bytes, its buffer has " +
                      std::to_string(b->data()->size()));
        if (reinterpret_cast<uintptr_t>(b->data()->data()) % width != 0)
          return fail(what + ": buffer data is not " + std::to_string(width) +
                      "-byte aligned");
        out.data = b->data()->data();
      }
    }
    if (!loadQuantization(*t, out, what))
      return false;
    m.tensors.push_back(std::move(out));
  }
  return true;
}

bool Loader::loadQuantization(const tflite::Tensor &t, Tensor &out,
                              const std::string &what) {
  const tflite::QuantizationParameters *q = t.quantization();
  const auto *scale = q ? q->scale() : nullptr;
  const auto *zero = q ? q->zero_point() : nullptr;
  const bool present = scale && scale->size() > 0;
  if (!present) {
    if (out.isInt8())
      return fail(what + " is INT8 without quantisation parameters (scale "
                         "and zero point)");
    return true; // a float, or a plain INT32 shape
  }
  if (!out.isInt8() && !out.isInt32())
    return true; // min/max or scales on a float tensor: informative only
  if (q->details_type() != tflite::QuantizationDetails_NONE)
    return fail(what + " has custom quantisation details; only affine "
                       "quantisation is supported");
  if (!zero || zero->size() != scale->size())
    return fail(what + " has " + std::to_string(scale->size()) +
                " scales and " + std::to_string(zero ? zero->size() : 0) +
                " zero points; expected as many of each");
  const int64_t rank = int64_t(out.shape.size());
  if (scale->size() > 1) {
    int64_t axis = q->quantized_dimension();
    if (axis < 0 || axis >= rank)
      return fail(what + ": quantized_dimension " + std::to_string(axis) +
                  " is out of range for rank " + std::to_string(rank));
    if (int64_t(scale->size()) != out.shape[axis])
      return fail(what + " has " + std::to_string(scale->size()) +
                  " scales for the " + std::to_string(out.shape[axis]) +
                  " slices of dimension " + std::to_string(axis));
    out.quant.axis = int(axis);
  }
  const int64_t lo = out.isInt8() ? -128 : 0, hi = out.isInt8() ? 127 : 0;
  for (uint32_t i = 0; i < scale->size(); ++i) {
    float s = scale->Get(i);
    int64_t z = zero->Get(i);
    // Scales far from 1 would overflow the fixed-point multipliers derived
    // from them; 2^-40 .. 2^40 spans every real model by far.
    if (!(s > 0.0f) || !std::isfinite(s) || s < 0x1p-40f || s > 0x1p40f)
      return fail(what + " has scale " + numberText(s) + " at slice " +
                  std::to_string(i) +
                  "; expected a finite value in [2^-40, 2^40]");
    if (z < lo || z > hi)
      return fail(what + " has zero point " + std::to_string(z) +
                  " at slice " + std::to_string(i) + "; expected " +
                  (out.isInt8() ? "[-128, 127]" : "0 (an int32 bias)"));
    out.quant.scale.push_back(s);
    out.quant.zeroPoint.push_back(int32_t(z));
  }
  return true;
}

bool Loader::loadOp(size_t index, const tflite::Operator &op,
                    const tflite::Model &model) {
  const auto *codes = model.operator_codes();
  if (!codes || op.opcode_index() >= codes->size())
    return fail("operator #" + std::to_string(index) +
                " has an invalid opcode index " +
                std::to_string(op.opcode_index()));
  const tflite::OperatorCode *code = codes->Get(op.opcode_index());
  int32_t builtin =
      std::max<int32_t>(code->builtin_code(), code->deprecated_builtin_code());
  std::string name = (builtin >= 0 && builtin <= tflite::BuiltinOperator_MAX)
                         ? tflite::EnumNameBuiltinOperator(
                               static_cast<tflite::BuiltinOperator>(builtin))
                         : "";
  if (name.empty())
    name = "builtin " + std::to_string(builtin);
  if (code->custom_code())
    return failOp(index, "custom " + code->custom_code()->str(),
                  "custom operators are not supported");

  Op out;
  out.opName = name;
  auto checkIndices = [&](const flatbuffers::Vector<int32_t> *v,
                          std::vector<int> &dst, const char *what) {
    if (!v)
      return true;
    for (int32_t t : *v) {
      if (t == -1 &&
          ((dst.size() == 2 &&
            (builtin == tflite::BuiltinOperator_CONV_2D ||
             builtin == tflite::BuiltinOperator_DEPTHWISE_CONV_2D ||
             builtin == tflite::BuiltinOperator_FULLY_CONNECTED)) ||
           (dst.size() == 3 &&
            builtin == tflite::BuiltinOperator_TRANSPOSE_CONV)))
        continue; // an absent optional bias
      if (t < 0 || t >= int32_t(m.tensors.size()))
        return failOp(index, name,
                      std::string(what) + " tensor index " + std::to_string(t) +
                          " out of range");
      dst.push_back(t);
    }
    return true;
  };
  std::vector<int> outputs;
  if (!checkIndices(op.inputs(), out.inputs, "input") ||
      !checkIndices(op.outputs(), outputs, "output"))
    return false;
  if (outputs.size() != 1)
    return failOp(index, name, "expected one output");
  out.output = outputs[0];
  const Tensor &y = m.tensors[out.output];
  // INT32 activations are indices: ARG_MAX writes them, RESHAPE moves them.
  const bool indices = builtin == tflite::BuiltinOperator_ARG_MAX ||
                       (builtin == tflite::BuiltinOperator_RESHAPE &&
                        !out.inputs.empty() &&
                        m.tensors[out.inputs[0]].isInt32() &&
                        !m.tensors[out.inputs[0]].data);
  if (y.data || (y.isInt32() && !indices) || y.isFloat16())
    return failOp(index, name, "writes a constant, INT32 or FLOAT16 tensor");
  if (indices && !y.isInt32())
    return failOp(index, name, "expected an INT32 output");
  for (int t : out.inputs)
    if (m.tensors[t].isFloat16() &&
        builtin != tflite::BuiltinOperator_DEQUANTIZE)
      return failOp(index, name,
                    "reads FLOAT16 tensor '" + m.tensors[t].name +
                        "'; FLOAT16 weights must go through DEQUANTIZE");

  const OpRegistration *reg = registrationOf(builtin);
  if (!reg)
    return failOp(index, name,
                  "unsupported operator; supported: " +
                      supportedOperators(/*int8=*/false));
  out.kind = reg->kind;
  Decoder decoder{m, op, out, index, error};
  if (!reg->decode(decoder))
    return false;
  if (decoder.emit)
    m.ops.push_back(std::move(out));
  return true;
}

bool Loader::run() {
  const uint8_t *data = m.data;
  size_t size = m.size;
  if (size < 8)
    return fail("the file is too small to be a TFLite model (" +
                std::to_string(size) + " bytes)");
  if (!tflite::ModelBufferHasIdentifier(data))
    return fail("not a TFLite model: the FlatBuffer identifier is not TFL3");
  flatbuffers::Verifier verifier(data, size, /*max_depth=*/64,
                                 /*max_tables=*/10000000);
  if (!tflite::VerifyModelBuffer(verifier))
    return fail("the FlatBuffer does not verify (corrupt or truncated file)");
  const tflite::Model *model = tflite::GetModel(data);
  if (model->version() != 3)
    return fail("unsupported schema version " +
                std::to_string(model->version()) + ", expected 3");
  if (!model->subgraphs() || model->subgraphs()->size() != 1)
    return fail("expected exactly one subgraph");
  const tflite::SubGraph &g = *model->subgraphs()->Get(0);
  m.nhwcInterface = !model->description() ||
                    model->description()->str() != kNCHWInterfaceDescription;
  if (!loadTensors(g, *model))
    return false;
  if (!g.inputs() || g.inputs()->size() == 0 || !g.outputs() ||
      g.outputs()->size() == 0)
    return fail("expected at least one graph input and one graph output");
  for (bool isInput : {true, false}) {
    const char *what = isInput ? "graph input" : "graph output";
    for (int32_t t : isInput ? *g.inputs() : *g.outputs()) {
      std::string which = std::string(what) + " " + std::to_string(t);
      if (t < 0 || t >= int(m.tensors.size()))
        return fail(which + " is not a tensor index");
      const Tensor &x = m.tensors[t];
      // Outputs may be INT32 indices (ARG_MAX's, checked with the
      // operator that writes them); inputs are FLOAT32 or, for an int8
      // model's int8 interface, INT8 per tensor (each reader checks it
      // takes int8).
      if ((x.isInt32() && isInput) || x.data || x.isFloat16())
        return fail(which + " '" + x.name +
                    "' is not a FLOAT32 or INT8 activation (a constant, "
                    "INT32 or FLOAT16)");
      if (x.isInt8() && x.quant.perAxis())
        return fail(which + " '" + x.name +
                    "' is INT8 with per-axis parameters; an interface "
                    "tensor has one scale and zero point");
      std::vector<int> &list = isInput ? m.inputs : m.outputs;
      if (std::count(m.inputs.begin(), m.inputs.end(), t) ||
          std::count(list.begin(), list.end(), t))
        return fail(which + " '" + x.name +
                    "' is listed twice (or is also an input): an output "
                    "must be computed by its own operator");
      list.push_back(t);
    }
  }

  std::vector<bool> defined(m.tensors.size(), false);
  for (size_t i = 0; i < m.tensors.size(); ++i)
    defined[i] = m.tensors[i].data != nullptr;
  for (int t : m.inputs)
    defined[t] = true;
  if (!g.operators() || g.operators()->size() == 0)
    return fail("the subgraph has no operators");
  for (uint32_t i = 0; i < g.operators()->size(); ++i) {
    size_t before = m.ops.size();
    if (!loadOp(i, *g.operators()->Get(i), *model))
      return false;
    if (m.ops.size() == before) {
      // Folded into a constant (DEQUANTIZE): defined from now on, and not
      // a graph output (outputs are computed).
      for (int32_t t : *g.operators()->Get(i)->outputs()) {
        if (m.isOutput(t))
          return failOp(i, "DEQUANTIZE", "writes a graph output");
        defined[t] = true;
      }
      continue;
    }
    Op &op = m.ops.back();
    if (isQuantizedOp(m, op)) {
      std::string why;
      if (!prepareQuantizedOp(m, op, why))
        return failOp(i, op.opName, why);
    }
    for (int t : op.inputs)
      if (!defined[t])
        return failOp(i, op.opName,
                      "reads tensor '" + m.tensors[t].name +
                          "' before it is computed");
    if (defined[op.output])
      return failOp(i, op.opName,
                    "writes tensor '" + m.tensors[op.output].name +
                        "', which already has a value");
    defined[op.output] = true;
  }
  for (int t : m.outputs)
    if (!defined[t])
      return fail("no operator computes the graph output '" +
                  m.tensors[t].name + "'");
  int64_t activations = 0;
  for (int t : m.inputs)
    activations += m.tensors[t].elements;
  for (const Op &op : m.ops) {
    activations += m.tensors[op.output].elements;
    if (activations > kMaxActivationElements)
      return fail("the activations need more than 2^28 floats (1 GiB); "
                  "refusing to allocate them");
  }
  auto info = [&](int t) {
    const Tensor &x = m.tensors[t];
    TensorInfo i{x.name, x.shape};
    i.dtype = x.isInt32() ? DType::Int32
              : x.isInt8() ? DType::Int8
                           : DType::Float32;
    if (x.isInt8()) {
      i.scale = x.quant.scale[0];
      i.zeroPoint = x.quant.zeroPoint[0];
    }
    return i;
  };
  for (int t : m.inputs)
    m.inputInfos.push_back(info(t));
  for (int t : m.outputs)
    m.outputInfos.push_back(info(t));
  return true;
}

/// Folds a PAD whose only reader is a convolution into the convolution's
/// own (explicit) padding: one pass over the largest activations less. The
/// same for the PADV2 of H and W with -FLT_MAX (or less) that the compiler
/// writes before a max pool whose padding TFLite's SAME cannot express:
/// the pool's own padding is left out of each window's max, the same result
/// where each window keeps a real element (all padding of a side, the
/// pool's own included, narrower than the window) and no real element is
/// below -FLT_MAX (the padded map comes from an op clamped to a finite
/// minimum, e.g. a fused ReLU; a NaN still makes its window NaN). ResNet's
/// 114x114x64 PADV2: 0.24 ms less on one thread.
void fusePads(Model &m) {
  std::vector<int> readers(m.tensors.size(), 0);
  for (const Op &op : m.ops)
    for (int t : op.inputs)
      ++readers[t];
  std::vector<int> producer(m.tensors.size(), -1);
  for (size_t i = 0; i < m.ops.size(); ++i)
    producer[m.ops[i].output] = int(i);
  std::vector<bool> dead(m.ops.size(), false);
  for (Op &op : m.ops) {
    const bool pool = op.kind == OpKind::MaxPool;
    if (!pool && op.kind != OpKind::Conv && op.kind != OpKind::DepthwiseConv)
      continue;
    int p = producer[op.inputs[0]];
    if (p < 0 || readers[op.inputs[0]] != 1 || m.isOutput(op.inputs[0]))
      continue;
    const Op &pad = m.ops[p];
    const std::vector<int64_t> &v = pad.ints;
    int64_t add[4]; // top, bottom, left, right
    if (!pool && pad.kind == OpKind::Pad) {
      add[0] = pad.padTop, add[1] = pad.padBottom;
      add[2] = pad.padLeft, add[3] = pad.padRight;
    } else if (pool && pad.kind == OpKind::PadV2 && v.size() == 8 && !v[0] &&
               !v[1] && !v[6] && !v[7]) {
      int source = producer[pad.inputs[0]];
      if (!(pad.alpha <= -std::numeric_limits<float>::max()) ||
          op.padTop + v[2] >= op.kernelH || op.padBottom + v[3] >= op.kernelH ||
          op.padLeft + v[4] >= op.kernelW || op.padRight + v[5] >= op.kernelW ||
          source < 0 ||
          !(m.ops[source].outMin > -std::numeric_limits<float>::max()))
        continue;
      std::copy(v.begin() + 2, v.begin() + 6, add);
    } else {
      continue;
    }
    op.padTop += int(add[0]);
    op.padBottom += int(add[1]);
    op.padLeft += int(add[2]);
    op.padRight += int(add[3]);
    op.inputs[0] = pad.inputs[0];
    dead[p] = true;
  }
  std::vector<Op> kept;
  for (size_t i = 0; i < m.ops.size(); ++i)
    if (!dead[i])
      kept.push_back(std::move(m.ops[i]));
  m.ops = std::move(kept);
}

} // namespace

Model::~Model() {
  if (mapping)
    munmap(mapping, size);
}

void Model::releasePages(int tensor) const {
  const Tensor &t = tensors[tensor];
  if (!mapping || !t.data)
    return;
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t begin = reinterpret_cast<uintptr_t>(t.data);
  uintptr_t end = begin + size_t(t.elements) * 4;
  // Only pages of the file mapping: widened FLOAT16 weights live on the
  // heap, where MADV_DONTNEED would zero them.
  uintptr_t fileBegin = reinterpret_cast<uintptr_t>(data);
  if (begin < fileBegin || end > fileBegin + size)
    return;
  begin = (begin + page - 1) / page * page; // whole pages inside the tensor
  end = end / page * page;
  if (end > begin)
    madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

std::unique_ptr<Model> Model::load(std::vector<uint8_t> bytes,
                                   std::string &error) {
  auto m = std::make_unique<Model>();
  m->owned = std::move(bytes);
  m->data = m->owned.data();
  m->size = m->owned.size();
  if (!Loader(*m, error).run())
    return nullptr;
  fusePads(*m);
  return m;
}

std::unique_ptr<Model> Model::loadView(const uint8_t *data, size_t size,
                                       std::string &error) {
  auto m = std::make_unique<Model>();
  m->data = data;
  m->size = size;
  if (!Loader(*m, error).run())
    return nullptr;
  fusePads(*m);
  return m;
}

std::unique_ptr<Model> Model::loadFile(const std::string &path,
                                       std::string &error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size > (off_t(1) << 31)) {
    close(fd);
    error = "'" + path + "' is not a regular file of at most 2 GiB";
    return nullptr;
  }
  auto m = std::make_unique<Model>();
  m->size = size_t(st.st_size);
  if (m->size > 0) {
    void *p = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      close(fd);
      error = "cannot map '" + path + "': " + std::strerror(errno);
      return nullptr;
    }
    m->mapping = p;
    m->data = static_cast<const uint8_t *>(p);
  }
  close(fd);
  if (!Loader(*m, error).run())
    return nullptr;
  fusePads(*m);
  return m;
}
