//===- MobileOneOps.td - mobileone operations -------------*- tablegen -*-===//

#ifndef MOBILEONE_OPS_TD
#define MOBILEONE_OPS_TD

include "mobileone/Dialect/MobileOne/MobileOneDialect.td"
include "mobileone/Dialect/MobileOne/LinearMapInterface.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def F32Tensor4D : 4DTensorOf<[F32]>;
def F32Tensor1D : 1DTensorOf<[F32]>;
def F32Tensor2D : 2DTensorOf<[F32]>;
/// [N, C, H, W] or [N, C]: what a linear region (a block) maps.
def F32Tensor2DOr4D : TensorRankOf<[F32], [2, 4]>;
/// Linear: says how it composes a kernel (LinearMapOpInterface).
def Linear : DeclareOpInterfaceMethods<MobileOne_LinearMapOpInterface>;
/// Linear in its first operand only (the others are weights).
def LinearInInput : DeclareOpInterfaceMethods<MobileOne_LinearMapOpInterface,
                                              ["getLinearInputs"]>;
/// Each result element is a function of the operand elements at its
/// (broadcast) position: commutes with any permutation of the dimensions
/// (so a layout transpose moves through it), a few operations per element.
def ElementwiseMap : NativeOpTrait<"MobileOneElementwise">;
/// Moves, copies or computes the shapes of elements without arithmetic on
/// their values (reshape, transpose, concatenation, slicing, padding,
/// broadcasting, gathering, shapes, casts).
def DataMovement : NativeOpTrait<"MobileOneDataMovement">;
def F32OrI64Tensor : TensorOf<[F32, I64]>;
def I64Tensor1D : 1DTensorOf<[I64]>;

//===----------------------------------------------------------------------===//
// Convolution and normalisation
//===----------------------------------------------------------------------===//

def MobileOne_Conv2DOp : MobileOne_Op<"conv2d", [Pure, LinearInInput]> {
  let summary = "2-D convolution with ONNX Conv semantics";
  let description = [{
    NCHW input `[N, C, H, W]`, weight `[OC, C / group, KH, KW]`, optional bias
    `[OC]`. `pads` is in ONNX order `[top, left, bottom, right]`; `strides`
    and `dilations` are `[h, w]`. The result shape is checked against the
    ONNX formula `(H + top + bottom - dh * (KH - 1) - 1) / sh + 1`.

    ```mlir
    %y = mobileone.conv2d %x, %w, %b {strides = array<i64: 2, 2>,
           pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
           group = 1 : i64}
         : (tensor<1x3x224x224xf32>, tensor<48x3x3x3xf32>, tensor<48xf32>)
           -> tensor<1x48x112x112xf32>
    ```
  }];
  let arguments = (ins F32Tensor4D:$input, F32Tensor4D:$weight,
                   Optional<F32Tensor1D>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs F32Tensor4D:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    int64_t getKernelH() { return getWeight().getType().getDimSize(2); }
    int64_t getKernelW() { return getWeight().getType().getDimSize(3); }
    int64_t getOutChannels() { return getWeight().getType().getDimSize(0); }
  }];
}

def MobileOne_BatchNormOp : MobileOne_Op<"batch_norm", [Pure, LinearInInput]> {
  let summary = "batch normalisation in inference form";
  let description = [{
    `y = scale * (x - mean) / sqrt(var + epsilon) + bias`, per channel of an
    NCHW (or, as BatchNorm1d, an [N, C]) tensor. The four parameters are 1-D tensors with one entry per
    channel. The verifier rejects `epsilon <= 0` and, when the variance is a
    constant, any negative entry.
  }];
  let arguments = (ins F32Tensor2DOr4D:$input, F32Tensor1D:$scale,
                   F32Tensor1D:$bias, F32Tensor1D:$mean, F32Tensor1D:$variance,
                   F64Attr:$epsilon);
  let results = (outs F32Tensor2DOr4D:$output);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Element-wise
//===----------------------------------------------------------------------===//

class MobileOne_UnaryOp<string mnemonic, string sum, dag attrs = (ins),
                        string desc = "", list<Trait> traits = [],
                        bit elementwise = 1>
    : MobileOne_Op<mnemonic,
                   !listconcat([Pure, SameOperandsAndResultType],
                               !if(elementwise, [ElementwiseMap], []),
                               traits)> {
  let summary = sum;
  let description = desc;
  let arguments = !con((ins TensorOf<[F32]>:$input), attrs);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def MobileOne_ReluOp : MobileOne_UnaryOp<"relu", "rectified linear unit">;
def MobileOne_SigmoidOp : MobileOne_UnaryOp<"sigmoid", "logistic sigmoid">;
def MobileOne_TanhOp : MobileOne_UnaryOp<"tanh", "hyperbolic tangent">;
def MobileOne_ErfOp : MobileOne_UnaryOp<"erf", "Gauss error function">;
def MobileOne_SqrtOp : MobileOne_UnaryOp<"sqrt", "square root">;
def MobileOne_ExpOp : MobileOne_UnaryOp<"exp", "exponential">;
def MobileOne_NegOp : MobileOne_UnaryOp<"neg", "negation", (ins), "", [Linear]>;
def MobileOne_ReciprocalOp : MobileOne_UnaryOp<"reciprocal", "1 / x">;
def MobileOne_SiluOp : MobileOne_UnaryOp<"silu",
    "x * sigmoid(x) (SiLU, Swish)", (ins), [{
    What PyTorch's `nn.SiLU` exports as `Mul(x, Sigmoid(x))`: the importer's
    canonicalisation recognises that pair (either operand order) as one op.
  }]>;
def MobileOne_HardSwishOp : MobileOne_UnaryOp<"hard_swish",
    "x * max(0, min(1, x / 6 + 1 / 2)) (ONNX HardSwish)">;
def MobileOne_GeluOp : MobileOne_UnaryOp<"gelu",
    "Gaussian error linear unit (ONNX Gelu)", (ins StrAttr:$approximate), [{
    `approximate = "none"`: `0.5 * x * (1 + erf(x / sqrt(2)))`;
    `approximate = "tanh"`: `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))`.
    The importer also recognises the `Div -> Erf -> Add -> Mul -> Mul`
    decomposition that exporters write before opset 20.
  }]> {
  let hasVerifier = 1;
}
def MobileOne_HardSigmoidOp : MobileOne_UnaryOp<"hard_sigmoid",
    "max(0, min(1, alpha * x + beta)) (ONNX HardSigmoid)",
    (ins F32Attr:$alpha, F32Attr:$beta)>;
def MobileOne_LeakyReluOp : MobileOne_UnaryOp<"leaky_relu",
    "x >= 0 ? x : alpha * x (ONNX LeakyRelu)", (ins F32Attr:$alpha)>;
def MobileOne_ClipOp : MobileOne_UnaryOp<"clip",
    "min(max(x, min), max) (ONNX Clip; ReLU6 is min = 0, max = 6)",
    (ins F32Attr:$min, F32Attr:$max)> {
  let hasVerifier = 1;
}
def MobileOne_SoftmaxOp : MobileOne_UnaryOp<"softmax",
    "softmax along one axis (ONNX Softmax, opset 13 semantics)",
    (ins I64Attr:$axis), "", [], /*elementwise=*/0> {
  let hasVerifier = 1;
}

class MobileOne_BinaryOp<string mnemonic, string sum,
                         list<Trait> traits = []>
    : MobileOne_Op<mnemonic, !listconcat([Pure, ElementwiseMap], traits)> {
  let summary = sum;
  let description = [{
    Element-wise with NumPy (ONNX multidirectional) broadcasting; the result
    type must be the broadcast shape of the operands. On `i64` tensors (shape
    arithmetic) it folds when both operands are constants.
  }];
  let arguments = (ins F32OrI64Tensor:$lhs, F32OrI64Tensor:$rhs);
  let results = (outs F32OrI64Tensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def MobileOne_AddOp : MobileOne_BinaryOp<"add", "element-wise addition",
                                         [Linear]>;
def MobileOne_SubOp : MobileOne_BinaryOp<"sub", "element-wise subtraction",
                                         [Linear]>;
def MobileOne_MulOp : MobileOne_BinaryOp<"mul", "element-wise multiplication",
                                         [Linear]> {
  let hasCanonicalizer = 1;
}
def MobileOne_DivOp : MobileOne_BinaryOp<"div",
    "element-wise division (integer division truncates, as ONNX Div)", [Linear]>;
def MobileOne_PowOp : MobileOne_BinaryOp<"pow", "element-wise power (f32)">;

//===----------------------------------------------------------------------===//
// Head
//===----------------------------------------------------------------------===//

def MobileOne_GlobalAvgPoolOp : MobileOne_Op<"global_avg_pool", [Pure]> {
  let summary = "global average pooling, NCHW -> NC11";
  let arguments = (ins F32Tensor4D:$input);
  let results = (outs F32Tensor4D:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def MobileOne_ReshapeOp : MobileOne_Op<"reshape", [Pure, DataMovement]> {
  let summary = "reshape to the result type (ONNX Reshape, Flatten, Squeeze, Unsqueeze)";
  let arguments = (ins F32OrI64Tensor:$input);
  let results = (outs F32OrI64Tensor:$output);
  let hasFolder = 1;
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def MobileOne_LinearOp : MobileOne_Op<"linear", [Pure, LinearInInput]> {
  let summary = "fully connected layer (ONNX Gemm with transB = 1)";
  let description = [{
    `y = x * transpose(weight) + bias` with `x: [N, K]`, `weight: [M, K]`,
    optional `bias: [M]`.
  }];
  let arguments = (ins F32Tensor2D:$input, F32Tensor2D:$weight,
                   Optional<F32Tensor1D>:$bias);
  let results = (outs F32Tensor2D:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MobileOne_SqueezeExciteOp : MobileOne_Op<"squeeze_excite", [Pure]> {
  let summary = "Squeeze-Excitation: x * sigmoid(W2 relu(W1 gap(x) + b1) + b2)";
  let description = [{
    The SE module of MobileOne: global average pool, a 1x1 conv `C -> R` with
    bias (`reduce_weight: [R, C, 1, 1]`, `reduce_bias: [R]`), ReLU, a 1x1 conv
    `R -> C` with bias (`expand_weight: [C, R, 1, 1]`, `expand_bias: [C]`),
    sigmoid, and a channel-wise multiply with the input. It has no
    re-parameterisable structure and survives re-parameterisation unchanged.
  }];
  let arguments = (ins F32Tensor4D:$input, F32Tensor4D:$reduce_weight,
                   F32Tensor1D:$reduce_bias, F32Tensor4D:$expand_weight,
                   F32Tensor1D:$expand_bias);
  let results = (outs F32Tensor4D:$output);
  let assemblyFormat = [{
    $input `,` $reduce_weight `,` $reduce_bias `,` $expand_weight `,`
    $expand_bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getChannels() { return getInput().getType().getDimSize(1); }
    int64_t getReducedChannels() {
      return getReduceWeight().getType().getDimSize(0);
    }
  }];
}

//===----------------------------------------------------------------------===//
// Tensor and shape ops. Result types are inferred from the operands and
// attributes (InferTypeOpAdaptor): the importer builds them without computing
// shapes, and the verifier checks the same rule. On i64 constants (the shape
// subgraphs exporters write) they fold, so `Shape -> Gather -> Concat ->
// Reshape` becomes a constant target shape by canonicalisation.
//===----------------------------------------------------------------------===//

class MobileOne_InferredOp<string mnemonic, list<Trait> traits = []>
    : MobileOne_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptor], traits)>;

def MobileOne_ShapeOp : MobileOne_InferredOp<"shape", [DataMovement]> {
  let summary = "the shape of a tensor as a 1-D i64 tensor (ONNX Shape)";
  let description = [{
    Dimensions `[start, end)` of the input's shape (ONNX Shape-15 `start` and
    `end`, already clamped to `[0, rank]`). Always folds to a constant: every
    tensor in this dialect is statically shaped.
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$start, I64Attr:$end);
  let results = (outs I64Tensor1D:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MobileOne_GatherOp : MobileOne_InferredOp<"gather", [DataMovement]> {
  let summary = "gather slices along an axis (ONNX Gather)";
  let description = [{
    `output = data[..., indices, ...]` along `axis`; the result shape is
    `data.shape[:axis] + indices.shape + data.shape[axis+1:]`. Negative
    indices count from the end. Folds on constant i64 data.
  }];
  let arguments = (ins F32OrI64Tensor:$data, I64Tensor:$indices, I64Attr:$axis);
  let results = (outs F32OrI64Tensor:$output);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MobileOne_CastOp : MobileOne_Op<"cast", [Pure, DataMovement]> {
  let summary = "element type conversion between f32, i64 and i1 (ONNX Cast)";
  let description = [{
    f32 to i64 truncates toward zero, as ONNX (and C) do. Folds on constants.
  }];
  let arguments = (ins TensorOf<[F32, I64, I1]>:$input);
  let results = (outs TensorOf<[F32, I64, I1]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def MobileOne_ConcatOp : MobileOne_InferredOp<"concat", [DataMovement]> {
  let summary = "concatenation along an axis (ONNX Concat)";
  let arguments = (ins Variadic<F32OrI64Tensor>:$inputs, I64Attr:$axis);
  let results = (outs F32OrI64Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MobileOne_SliceOp : MobileOne_InferredOp<"slice", [DataMovement]> {
  let summary = "strided slice (ONNX Slice with constant starts, ends, axes, steps)";
  let description = [{
    One entry per dimension of the input, already normalised by the
    importer: `starts` in `[0, dim]` (`[-1, dim - 1]` for negative steps),
    `ends` likewise, `steps` non-zero. The result has `ceil((end - start) /
    step)` elements (at least 0) along each dimension.
  }];
  let arguments = (ins F32OrI64Tensor:$input, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$steps);
  let results = (outs F32OrI64Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MobileOne_ExpandOp : MobileOne_Op<"expand", [Pure, DataMovement]> {
  let summary = "broadcast to the result shape (ONNX Expand)";
  let arguments = (ins F32OrI64Tensor:$input);
  let results = (outs F32OrI64Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def MobileOne_EqualOp : MobileOne_InferredOp<"equal", [ElementwiseMap]> {
  let summary = "element-wise equality with broadcasting (ONNX Equal)";
  let arguments = (ins F32OrI64Tensor:$lhs, F32OrI64Tensor:$rhs);
  let results = (outs TensorOf<[I1]>:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MobileOne_WhereOp : MobileOne_InferredOp<"where", [ElementwiseMap]> {
  let summary = "element-wise select with broadcasting (ONNX Where)";
  let arguments = (ins TensorOf<[I1]>:$condition, F32OrI64Tensor:$lhs,
                   F32OrI64Tensor:$rhs);
  let results = (outs F32OrI64Tensor:$output);
  let assemblyFormat = [{
    $condition `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasFolder = 1;
}

def MobileOne_TransposeOp : MobileOne_InferredOp<"transpose", [DataMovement]> {
  let summary = "permutation of dimensions (ONNX Transpose)";
  let arguments = (ins F32OrI64Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs F32OrI64Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MobileOne_SplitOp : MobileOne_InferredOp<"split", [DataMovement]> {
  let summary = "split into parts along an axis (ONNX Split)";
  let description = [{
    One result per entry of `split` (the part sizes, summing to the
    dimension).
  }];
  let arguments = (ins TensorOf<[F32]>:$input, I64Attr:$axis,
                   DenseI64ArrayAttr:$split);
  let results = (outs Variadic<TensorOf<[F32]>>:$outputs);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def MobileOne_PadOp : MobileOne_InferredOp<"pad", [Linear, DataMovement]> {
  let summary = "padding (ONNX Pad: constant, reflect or edge)";
  let description = [{
    `pads` holds `2 * rank` non-negative entries in ONNX order (all begins,
    then all ends). A zero constant padding of H and W in front of a
    `conv2d` folds into the convolution (canonicalisation).
  }];
  let arguments = (ins TensorOf<[F32]>:$input, DenseI64ArrayAttr:$pads,
                   StrAttr:$mode, F32Attr:$value);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Reductions, pooling, normalisation, matrix products
//===----------------------------------------------------------------------===//

class MobileOne_ReduceOp<string mnemonic, string sum>
    : MobileOne_InferredOp<mnemonic> {
  let summary = sum;
  let description = [{
    `axes` sorted, unique and non-negative; an empty list reduces every
    dimension. `keepdims` keeps reduced dimensions as size 1.
  }];
  let arguments = (ins TensorOf<[F32]>:$input, DenseI64ArrayAttr:$axes,
                   I64Attr:$keepdims);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def MobileOne_ReduceMeanOp : MobileOne_ReduceOp<"reduce_mean",
    "mean over axes (ONNX ReduceMean)">;
def MobileOne_ReduceSumOp : MobileOne_ReduceOp<"reduce_sum",
    "sum over axes (ONNX ReduceSum)">;
def MobileOne_ReduceMaxOp : MobileOne_ReduceOp<"reduce_max",
    "maximum over axes (ONNX ReduceMax)">;

class MobileOne_PoolOp<string mnemonic, string sum, dag extra,
                       list<Trait> traits = []>
    : MobileOne_InferredOp<mnemonic, traits> {
  let summary = sum;
  let description = [{
    NCHW; `kernel_shape`, `strides` and `dilations` are `[h, w]`, `pads` in
    ONNX order `[top, left, bottom, right]`. `ceil_mode = 1` rounds the
    output size up (a window may then start in the end padding but never
    past it).
  }];
  let arguments = !con((ins F32Tensor4D:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$ceil_mode), extra);
  let results = (outs F32Tensor4D:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def MobileOne_MaxPoolOp : MobileOne_PoolOp<"max_pool",
    "2-D max pooling (ONNX MaxPool)", (ins)>;
def MobileOne_AvgPoolOp : MobileOne_PoolOp<"avg_pool",
    "2-D average pooling (ONNX AveragePool)", (ins I64Attr:$count_include_pad),
    [Linear]>;

def MobileOne_ArgMaxOp : MobileOne_InferredOp<"argmax"> {
  let summary = "index of the largest element along an axis (ONNX ArgMax)";
  let description = [{
    The first index of the maximum along `axis` (the last with
    `select_last_index = 1`); `keepdims = 1` keeps the axis as size 1. The
    result is i64, as in ONNX (the TFLite target writes int32 indices).
  }];
  let arguments = (ins TensorOf<[F32]>:$input, I64Attr:$axis,
                   I64Attr:$keepdims, I64Attr:$select_last_index);
  let results = (outs TensorOf<[I64]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def MobileOne_LayerNormOp : MobileOne_Op<"layer_norm", [Pure]> {
  let summary = "layer normalisation over the dimensions from `axis` on";
  let description = [{
    `y = (x - mean) / sqrt(var + epsilon) * scale + bias` with mean and
    (biased) variance over dimensions `axis..rank-1`; `scale` and `bias` have
    the shape of those dimensions (ONNX LayerNormalization, `stash_type` 1).
  }];
  let arguments = (ins TensorOf<[F32]>:$input, TensorOf<[F32]>:$scale,
                   Optional<TensorOf<[F32]>>:$bias, I64Attr:$axis,
                   F64Attr:$epsilon);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MobileOne_MatMulOp : MobileOne_InferredOp<"matmul"> {
  let summary = "matrix product with batch broadcasting (ONNX MatMul)";
  let description = [{
    NumPy `matmul`: both operands of rank >= 2 (the importer reshapes 1-D
    operands), batch dimensions broadcast. A batch_norm whose channels reach
    the contracted axis through reshapes and transposes folds into a
    constant right operand (attention's BN2d -> flatten -> projections).
  }];
  let arguments = (ins TensorOf<[F32]>:$lhs, TensorOf<[F32]>:$rhs);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Upsampling
//===----------------------------------------------------------------------===//

def MobileOne_ResizeOp : MobileOne_Op<"resize", [Pure]> {
  let summary = "2-D resize of an NCHW tensor (ONNX Resize: nearest or linear)";
  let description = [{
    Resizes H and W to the result type's. Output pixel `o` of a dimension of
    input length `in` and output length `out` reads the source coordinate

    | `coordinate_transformation_mode` | source coordinate |
    |---|---|
    | `asymmetric` | `o / scale` |
    | `half_pixel` | `(o + 0.5) / scale - 0.5` |
    | `pytorch_half_pixel` | as `half_pixel`, 0 when `out == 1` |
    | `align_corners` | `o * (in - 1) / (out - 1)`, 0 when `out == 1` |

    with `scale` the dimension's entry of `scales` (`[h, w]`: the ONNX scales,
    or `out / in` when the model gave sizes). `mode = "nearest"` rounds it
    by `nearest_mode` (`round_prefer_floor`, `round_prefer_ceil`, `floor`,
    `ceil`) and clamps it to `[0, in - 1]`; `mode = "linear"` interpolates
    between its two neighbours, clamped to the input (edge replication).
    The verifier checks that every `out` is `floor(in * scale)` or, for
    sizes, that `scale` is `out / in`.

    ```mlir
    %y = mobileone.resize %x {mode = "nearest",
           coordinate_transformation_mode = "asymmetric",
           nearest_mode = "floor", scales = array<f64: 2.0, 2.0>}
         : (tensor<1x64x20x20xf32>) -> tensor<1x64x40x40xf32>
    ```
  }];
  let arguments = (ins F32Tensor4D:$input, StrAttr:$mode,
                   StrAttr:$coordinate_transformation_mode,
                   StrAttr:$nearest_mode, DenseF64ArrayAttr:$scales);
  let results = (outs F32Tensor4D:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def MobileOne_ConvTranspose2DOp : MobileOne_Op<"conv_transpose2d", [Pure]> {
  let summary = "2-D transposed convolution with ONNX ConvTranspose semantics";
  let description = [{
    NCHW input `[N, C, H, W]`, weight `[C, OC / group, KH, KW]` (the ONNX
    layout: input channels first), optional bias `[OC]`. Input pixel `i`
    contributes to output pixel `i * stride + k * dilation - pad_begin` for
    every kernel tap `k`; `pads` is in ONNX order `[top, left, bottom,
    right]` and crops the full output, `output_padding` `[h, w]` extends its
    end. The result size is
    `stride * (H - 1) + output_padding + dilation * (KH - 1) + 1 - top - bottom`.

    ```mlir
    %y = mobileone.conv_transpose2d %x, %w, %b {strides = array<i64: 2, 2>,
           pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>,
           output_padding = array<i64: 0, 0>, group = 1 : i64}
         : (tensor<1x64x20x20xf32>, tensor<64x64x2x2xf32>, tensor<64xf32>)
           -> tensor<1x64x40x40xf32>
    ```

    A per-channel affine map after it (batch_norm, a per-channel multiply or
    add by constants) folds into its weight and bias.
  }];
  let arguments = (ins F32Tensor4D:$input, F32Tensor4D:$weight,
                   Optional<F32Tensor1D>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DenseI64ArrayAttr:$output_padding, I64Attr:$group);
  let results = (outs F32Tensor4D:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    int64_t getOutChannels() {
      return getWeight().getType().getDimSize(1) * getGroup();
    }
  }];
}

//===----------------------------------------------------------------------===//
// The re-parameterisable block
//===----------------------------------------------------------------------===//

def MobileOne_BlockOp : MobileOne_Op<"block", [
    RecursiveMemoryEffects, SingleBlock]> {
  let summary = "a linear region that becomes one convolution";
  let description = [{
    A re-parameterisable block: a linear region of the training-time graph,
    held explicitly so that the structure the compiler relies on is visible
    and verified. The single region takes the block input as its only
    argument; its ops are linear ops (`LinearMapOpInterface`: conv2d,
    batch_norm, avg_pool, linear, zero pad, neg, add/sub of region values,
    add/sub/mul/div by per-channel constants) whose every path starts at the
    argument; it yields one value per branch, and the block's result is the
    sum of the branches. Branches may be sequences (`1x1 -> kxk`), sums and
    differences of sums, scaled, normalised before or after a sum.

    The block attributes describe the single convolution the block becomes:
    kernel size `[KH, KW]`, `strides`, `pads` (ONNX order), `dilations` and
    `group`. The verifier composes the body's geometry with the same rule
    that merging uses for the weights and checks that the result fits this
    convolution: every op linear, strides and dilations that compose, a
    window inside the block kernel, a grouping the block's group divides.
    A block on `[N, C]` tensors (a classifier head) has a 1x1 kernel and
    group 1 and becomes a `mobileone.linear`.

    ```mlir
    %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>,
           pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64}
         : (tensor<1x8x16x16xf32>) -> tensor<1x8x16x16xf32> {
    ^bb0(%in: tensor<1x8x16x16xf32>):
      %c = mobileone.conv2d %in, %w3 {...} : ...
      %cb = mobileone.batch_norm %c, %g, %b, %m, %v {epsilon = 1.0e-05 : f64} : ...
      %s = mobileone.batch_norm %in, %g2, %b2, %m2, %v2 {epsilon = 1.0e-05 : f64} : ...
      mobileone.yield %cb, %s : tensor<1x8x16x16xf32>, tensor<1x8x16x16xf32>
    }
    ```
  }];
  let arguments = (ins F32Tensor2DOr4D:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs F32Tensor2DOr4D:$output);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $input attr-dict `:` functional-type($input, results) $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "Type":$resultType, "Value":$input, "ArrayRef<int64_t>":$kernel,
      "ArrayRef<int64_t>":$strides, "ArrayRef<int64_t>":$pads,
      "ArrayRef<int64_t>":$dilations, "int64_t":$group)>
  ];
  let extraClassDeclaration = [{
    /// The region argument every branch starts at.
    BlockArgument getBranchInput() { return getBody().getArgument(0); }
    /// The values summed into the block result, one per branch.
    OperandRange getBranches();
    /// The convolution the block becomes.
    math::ConvGeometry getGeometry();
    /// The map of the block's result: the body composed (with weights or
    /// geometry only) and fitted into getGeometry(). Emits an error at the
    /// offending op and returns nullopt on failure.
    std::optional<math::LinearMap> composeBody(bool withValues);
  }];
}

def MobileOne_YieldOp : MobileOne_Op<"yield", [
    Pure, Terminator, HasParent<"BlockOp">]> {
  let summary = "yields the branch results of a mobileone.block";
  let arguments = (ins Variadic<F32Tensor2DOr4D>:$branches);
  let assemblyFormat = "attr-dict ($branches^ `:` type($branches))?";
}

#endif // MOBILEONE_OPS_TD
