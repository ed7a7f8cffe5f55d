//===- Kernels.h - native convolution kernels -------------------*- C++ -*-===//
//
// Kernels for the operators that carry a deployed MobileOne's time: dense
// convolution (a register-blocked GEMM for 1x1 layers and the classifier, a
// direct kernel for the stem) and 3x3 depthwise convolution with its weights
// held in registers. They run NHWC in place of XNNPACK's operators where the
// CPU has AVX-512F or AVX2 + FMA (one build of each, chosen at run time) and
// the shape is one they measured faster on; elsewhere they are never created
// and XNNPACK runs everything. No intrinsics leak out of the kernels' files.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_LIB_RUNTIME_KERNELS_H
#define MOBILEONE_LIB_RUNTIME_KERNELS_H

#include <cstddef>
#include <cstdint>
#include <memory>

typedef struct pthreadpool *pthreadpool_t;

namespace mobileone::runtime {
struct Model;
struct Op;
} // namespace mobileone::runtime

namespace mobileone::runtime::kernels {

/// The vector ISA classes the kernels are built for, narrowest first.
enum class Isa { None, Avx2, Avx512 };

/// The widest class this CPU runs (AVX2 needs FMA too), detected once.
Isa detectIsa();
/// detectIsa(), or AVX2 in place of AVX-512 when `allowAvx512` is false (to
/// measure the AVX2 path on an AVX-512 machine).
Isa chooseIsa(bool allowAvx512);
/// "avx512", "avx2" or "none".
const char *isaName(Isa isa);

/// One NHWC convolution: input [batch, inH, inW, inC] -> output
/// [batch, outH, outW, outC], explicit padding, fused clamp.
struct ConvShape {
  int batch = 1, inH = 0, inW = 0, inC = 0, outH = 0, outW = 0, outC = 0;
  int kernelH = 1, kernelW = 1, strideH = 1, strideW = 1;
  int dilationH = 1, dilationW = 1, padTop = 0, padLeft = 0;
  float outMin, outMax;
  /// A LeakyReLU fused before the clamp: max(x, slope x), slope in [0, 1]
  /// (1: none). Dense convolutions (GEMM and direct) only.
  float slope = 1.0f;
};

class RowProducer;

/// A prepared operator: weights packed at creation, run many times.
class Kernel {
public:
  virtual ~Kernel() = default;
  /// `pool` may be null (one thread).
  virtual void run(const float *input, float *output,
                   pthreadpool_t pool) const = 0;
  /// With several threads, whether each thread writes a range of output
  /// channels of every pixel (rather than a range of pixels).
  virtual bool splitsByChannel() const { return false; }
  /// The input will be written split by channel: split the same way where
  /// that is possible, so each thread reads what its core wrote.
  virtual void preferChannelSplit() {}
  /// This kernel as a producer of whole output rows another kernel can
  /// compute on demand, or null.
  virtual const RowProducer *asRowProducer() const { return nullptr; }
  /// Computes `producer`'s output (this kernel's input, read by nothing
  /// else) inside run(), block by block, instead of reading it from memory:
  /// run() then takes the producer's input. False (and nothing changes)
  /// where this kernel cannot, or would not gain on `threads` threads.
  virtual bool fuseProducer(const RowProducer &producer, int threads) {
    return false;
  }
};

/// A kernel whose output rows can be computed one range at a time
/// (depthwise 3x3): for the consumer that fuses it.
class RowProducer {
public:
  virtual ~RowProducer() = default;
  /// Output rows [row, row + rows) of the batch (row = image * outH + y),
  /// clamped, written contiguously from `out` (rows * outW * outC floats).
  virtual void computeRows(const float *input, float *out, size_t row,
                           size_t rows) const = 0;
  virtual const ConvShape &shape() const = 0;
  /// The ISA it was built for (a consumer fuses only its own).
  virtual const void *isaTag() const = 0;
};

/// Whether our dense convolution is the faster choice for this shape.
/// Measured against XNNPACK 2022-02 (one and two threads):
///  - a stem (at most 64 taps x channels, e.g. 3x3x3, or fewer than 16
///    channels under at most 64 taps, e.g. 7x7x3) runs direct, without
///    im2col: about 105 GFLOP/s against XNNPACK's 60-80 on Zen 4, 235
///    against 150 on Zen 5 (ResNet's 7x7x3 stride-2 stem 1.07 ms against
///    1.62);
///  - every 1x1 layer: on Zen 5 (full-width AVX-512) the GEMM runs
///    MobileOne's 56x56 and 28x28 layers at 250-267 GFLOP/s against
///    XNNPACK's 220-223 (S1: 6.9 -> 6.5 ms on one thread) and the 7x7 stage
///    in half XNNPACK's time (which re-streams all weights for every seven
///    rows). (On Zen 4, weights that stay in L2 had run 2-5% faster under
///    XNNPACK's order; that CPU is no longer the one measured.)
///  - other kernels of at most 64 taps with at least 16 input channels: the
///    GEMM summing over the taps, each tile's rows read where they are
///    (implicit im2col without packing): on Zen 5, one thread, RepVGG's
///    deployed 3x3 layers in 0.66-0.86x XNNPACK's time (48 to 1280
///    channels; the model 14.2 -> 11.1 ms), ResNet-style 3x3 layers
///    0.72-0.84x (64 to 512).
bool convBeatsXnnpack(const ConvShape &shape);

/// Dense convolution with OHWI weights [outC, kH, kW, inC] and a bias of
/// outC (or null): direct for few taps (kH x kW x inC at most 64), else a
/// GEMM (1x1 stride 1 without padding reading the input as it is, other
/// kernels of at most 64 spatial taps summed tap by tap), built
/// for `isa`. Null for larger kernels, for Isa::None or an ISA this CPU
/// does not have.
std::unique_ptr<Kernel> createConv(const ConvShape &shape, const float *weights,
                                   const float *bias, Isa isa);

/// Depthwise 3x3 convolution, stride 1 or 2 (both ways), multiplier 1, with
/// TFLite weights [1, 3, 3, C]. Null for other shapes, for Isa::None or an
/// ISA this CPU does not have.
std::unique_ptr<Kernel> createDepthwiseConv(const ConvShape &shape,
                                            const float *weights,
                                            const float *bias, Isa isa);

/// Whether createDepthwiseConv is the faster choice than XNNPACK 2022-02:
/// stride 1, 0.55-0.9x its time in the network; stride 2 on outputs at
/// least 28 wide (Zen 5, one thread: S0's 56x56x48 and 28x28x48 layers in
/// 0.65-0.75x its time, S4's 28x28x192 level), not on 14x14 and 7x7 maps,
/// where most of a row's steps are bounds-checked (1.2-1.9x its time).
bool depthwise3x3BeatsXnnpack(const ConvShape &shape);

/// Depthwise convolution of any kernel size and stride, any depth
/// multiplier (outC a multiple of inC), no dilation, TFLite weights
/// [1, KH, KW, outC], built for `isa` (KernelsImpl.h). Null for a dilated
/// shape, Isa::None or an ISA this CPU does not have.
std::unique_ptr<Kernel> createDepthwiseKxK(const ConvShape &shape,
                                           const float *weights,
                                           const float *bias, Isa isa);

/// Whether createDepthwiseKxK is the faster choice for this shape than
/// XNNPACK 2022-02: kernels larger than 3x3 (XNNPACK ran FastViT's 7x7
/// layers at 5-6 GFLOP/s on Zen 4, its 7x7 stride-2 multiplier-2 layers at
/// 12 on Zen 5) and any multiplier above 1 (its 3x3 multiplier-2 layer at
/// 7).
bool depthwiseKxKBeatsXnnpack(const ConvShape &shape);

/// GELU (exact, or the tanh approximation) over `elements` floats, a
/// vector at a time, split over the pool in chunks, built for `isa`
/// (KernelsImpl.h). |error| against the exact GELU about 2e-7 * |x|. Null
/// for Isa::None, an ISA this CPU does not have, or no elements.
std::unique_ptr<Kernel> createGelu(size_t elements, bool approximate, Isa isa);

/// An int8 convolution in TFLite's scheme (Quantized.h): per-tensor affine
/// int8 activations, symmetric int8 weights, int32 bias, per output channel
/// (or one) fixed-point multiplier and shift, the output clamped to
/// [activationMin, activationMax]. Pointers are read at creation only.
struct QuantizedConv {
  ConvShape shape; ///< outMin, outMax and slope unused
  bool depthwise = false;
  const int8_t *weights = nullptr; ///< OHWI, or [1, kH, kW, C] depthwise
  const int32_t *bias = nullptr;   ///< outC, or null
  int32_t inputZero = 0, outputZero = 0;
  int32_t activationMin = -128, activationMax = 127;
  /// `channels` (outC or 1) multipliers and shifts of quantizeMultiplier.
  const int32_t *multiplier = nullptr;
  const int *shift = nullptr;
  size_t channels = 1;
};

/// A prepared int8 operator: NHWC int8 in, int8 out.
class KernelInt8 {
public:
  virtual ~KernelInt8() = default;
  virtual void run(const int8_t *input, int8_t *output,
                   pthreadpool_t pool) const = 0;
};

/// The int8 convolution on AVX2 (KernelsInt8.cpp), bit-exact to the
/// reference kernels of Quantized.cpp: dense convolutions of any kernel,
/// stride, dilation and padding (groups 1; fully connected as a 1x1) as a
/// GEMM on int16 pairs (vpmaddwd: exact, never saturates) over rows packed
/// from the input (im2col for kernels past 1x1); depthwise convolutions of
/// any kernel (multiplier 1) with two taps per vpmaddwd. Requantisation
/// (TFLite's single rounding, per channel), the zero points and the clamp
/// in each kernel's epilogue. Null for other shapes, or where `isa` is
/// Isa::None or not this CPU's. With Isa::Avx512 on a CPU with AVX-512
/// VNNI (hasVnni), the kernels of KernelsInt8Vnni.cpp instead: dense
/// convolutions on a vpdpbusd GEMM (int8 quads, twice vpmaddwd's rate),
/// depthwise ones 32 channels at a time (vpdpwssd).
std::unique_ptr<KernelInt8> createConvInt8(const QuantizedConv &conv, Isa isa);

/// Whether this CPU has AVX-512 VNNI (with BW and VL), detected once.
bool hasVnni();

/// TFLite's AffineQuantize of n floats (round half away from zero of
/// v / scale, plus the zero point, saturated; NaN to the zero point), bit-
/// exact to Quantized.cpp's scalar loop, on AVX2. False where the CPU has
/// no AVX2 (nothing written: the caller's scalar loop runs).
bool quantizeFloats(const float *in, int8_t *out, size_t n, float scale,
                    int32_t zero);

/// int8 MUL of a [images, pixels, channels] tensor `a` by `b`, either the
/// same shape (bPerPixel), [images, 1, channels] (broadcast over the
/// pixels: squeeze-excite's gate) or one value (bScalar), TFLite's arithmetic: (a - zeroA) x
/// (b - zeroB) requantised by (multiplier, shift), plus the output zero
/// point, clamped. Bit-exact to Quantized.cpp's MUL.
struct MulInt8 {
  const int8_t *a = nullptr, *b = nullptr;
  int8_t *out = nullptr;
  size_t images = 0, pixels = 0, channels = 0;
  bool bPerPixel = false;
  bool bScalar = false; ///< b is one value (a requantisation when it is 1)
  int32_t zeroA = 0, zeroB = 0, outputZero = 0;
  int32_t multiplier = 0;
  int shift = 0;
  int32_t activationMin = -128, activationMax = 127;
};
/// False where the CPU has no AVX2 (nothing written).
bool mulInt8(const MulInt8 &mul);

/// int8 ADD (or SUB) of two tensors of one shape, TFLite's arithmetic: each
/// input (q - z) << 20 requantised onto twice the larger input scale, the
/// sum requantised to the output, plus its zero point, clamped; bit-exact
/// to the reference kernel.
struct AddInt8 {
  const int8_t *a = nullptr, *b = nullptr;
  int8_t *out = nullptr;
  size_t elements = 0;
  bool subtract = false;
  int32_t zeroA = 0, zeroB = 0, outputZero = 0;
  int32_t multiplierA = 0, multiplierB = 0, multiplier = 0;
  int shiftA = 0, shiftB = 0, shift = 0;
  int32_t activationMin = -128, activationMax = 127;
};
/// On `isa` (16 lanes at a time where it is AVX-512 and the CPU has VNNI,
/// with BW and VL); false where it is Isa::None or not this CPU's (nothing
/// written).
bool addInt8(const AddInt8 &add, Isa isa = detectIsa());

/// out[i] = table[in[i] + 128] for n int8 values (the int8 kernels'
/// tabulated functions: LOGISTIC, LEAKY_RELU, HARD_SWISH, ...), 32 at a
/// time with vpshufb over the table's sixteen 16-byte rows. False where the
/// CPU has no AVX2 (nothing written).
bool lookupInt8(const int8_t *in, int8_t *out, size_t n, const int8_t *table);

/// The kernel shape of a model's convolution (dense or depthwise, weights
/// OHWI or [1, kH, kW, C]) or fully connected layer (rows of K times
/// [N, K]: a 1x1 convolution over the rows); false for other ops and
/// inconsistent shapes. outMin and outMax are left to the caller.
bool convShapeOf(const Model &model, const Op &op, ConvShape &shape);

/// createConvInt8 for a model's int8 operator whose load-time checks
/// (prepareQuantizedOp) passed: dense with one group, fully connected,
/// depthwise with multiplier 1; null otherwise (the reference runs it).
std::unique_ptr<KernelInt8> createConvInt8(const Model &model, const Op &op,
                                           Isa isa);

namespace detail {
/// The kernels built per ISA (KernelsImpl.h), by the shape class
/// createConv and createDepthwiseConv have checked.
enum class KernelKind { Direct, Pointwise, Depthwise3x3, DepthwiseKxK };
std::unique_ptr<Kernel> createAvx512(KernelKind kind, const ConvShape &shape,
                                     const float *weights, const float *bias);
std::unique_ptr<Kernel> createAvx2(KernelKind kind, const ConvShape &shape,
                                   const float *weights, const float *bias);
std::unique_ptr<Kernel> createGeluAvx512(size_t elements, bool approximate);
std::unique_ptr<Kernel> createGeluAvx2(size_t elements, bool approximate);
/// The int8 convolution for `conv`, checked: null for what no kernel
/// takes; dense convolutions on the VNNI GEMM where `vnni`.
std::unique_ptr<KernelInt8> createConvInt8X86(const QuantizedConv &conv,
                                              bool vnni);
std::unique_ptr<KernelInt8> createGemmInt8Vnni(const QuantizedConv &conv);
std::unique_ptr<KernelInt8>
createDepthwiseInt8Vnni(const QuantizedConv &conv);
void quantizeFloatsAvx2(const float *in, int8_t *out, size_t n, float scale,
                        int32_t zero);
void mulInt8Avx2(const MulInt8 &mul);
void addInt8Avx2(const AddInt8 &add);
void addInt8Vnni(const AddInt8 &add);
void lookupInt8Avx2(const int8_t *in, int8_t *out, size_t n,
                    const int8_t *table);
} // namespace detail

} // namespace mobileone::runtime::kernels

#endif
