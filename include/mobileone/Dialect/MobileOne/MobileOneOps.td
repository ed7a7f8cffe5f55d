//===- MobileOneOps.td - mobileone operations -------------*- tablegen -*-===//

#ifndef MOBILEONE_OPS_TD
#define MOBILEONE_OPS_TD

include "mobileone/Dialect/MobileOne/MobileOneDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def F32Tensor4D : 4DTensorOf<[F32]>;
def F32Tensor1D : 1DTensorOf<[F32]>;
def F32Tensor2D : 2DTensorOf<[F32]>;

//===----------------------------------------------------------------------===//
// Convolution and normalisation
//===----------------------------------------------------------------------===//

def MobileOne_Conv2DOp : MobileOne_Op<"conv2d", [Pure]> {
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
  let extraClassDeclaration = [{
    int64_t getKernelH() { return getWeight().getType().getDimSize(2); }
    int64_t getKernelW() { return getWeight().getType().getDimSize(3); }
    int64_t getOutChannels() { return getWeight().getType().getDimSize(0); }
  }];
}

def MobileOne_BatchNormOp : MobileOne_Op<"batch_norm", [Pure]> {
  let summary = "batch normalisation in inference form";
  let description = [{
    `y = scale * (x - mean) / sqrt(var + epsilon) + bias`, per channel of an
    NCHW tensor. The four parameters are 1-D tensors with one entry per
    channel. The verifier rejects `epsilon <= 0` and, when the variance is a
    constant, any negative entry.
  }];
  let arguments = (ins F32Tensor4D:$input, F32Tensor1D:$scale,
                   F32Tensor1D:$bias, F32Tensor1D:$mean, F32Tensor1D:$variance,
                   F64Attr:$epsilon);
  let results = (outs F32Tensor4D:$output);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Element-wise
//===----------------------------------------------------------------------===//

class MobileOne_UnaryOp<string mnemonic, string sum>
    : MobileOne_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = sum;
  let arguments = (ins TensorOf<[F32]>:$input);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def MobileOne_ReluOp : MobileOne_UnaryOp<"relu", "rectified linear unit">;
def MobileOne_SigmoidOp : MobileOne_UnaryOp<"sigmoid", "logistic sigmoid">;

class MobileOne_BinaryOp<string mnemonic, string sum>
    : MobileOne_Op<mnemonic, [Pure]> {
  let summary = sum;
  let description = [{
    Element-wise with NumPy (ONNX multidirectional) broadcasting; the result
    type must be the broadcast shape of the operands.
  }];
  let arguments = (ins TensorOf<[F32]>:$lhs, TensorOf<[F32]>:$rhs);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MobileOne_AddOp : MobileOne_BinaryOp<"add", "element-wise addition">;
def MobileOne_MulOp : MobileOne_BinaryOp<"mul", "element-wise multiplication">;

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

def MobileOne_ReshapeOp : MobileOne_Op<"reshape", [Pure]> {
  let summary = "reshape (ONNX Flatten and Reshape) to the result type";
  let arguments = (ins TensorOf<[F32]>:$input);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def MobileOne_LinearOp : MobileOne_Op<"linear", [Pure]> {
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
// The re-parameterisable block
//===----------------------------------------------------------------------===//

def MobileOne_BlockOp : MobileOne_Op<"block", [
    RecursiveMemoryEffects, SingleBlock]> {
  let summary = "a re-parameterisable block: the sum of parallel branches";
  let description = [{
    The block's single region takes the block input as its only argument and
    yields one value per branch; the block's result is the sum of the
    branches. Each branch is one of:

    * a conv branch: `conv2d(arg)`, optionally followed by `batch_norm`;
    * an identity (skip) branch: `batch_norm(arg)` or `arg` itself.

    The block attributes describe the single convolution the block becomes
    after re-parameterisation: kernel size `[KH, KW]`, `strides`, `pads`
    (ONNX order), `dilations` and `group`. The verifier checks everything the
    re-parameterisation math relies on: every branch reads the block input,
    branch result types equal the block result type, every conv branch has
    the block's stride, dilation and group, a kernel no larger than the block
    kernel and centred padding (`pad_branch = pad_block - (K - k) / 2`), and
    identity branches need `in == out` channels and stride 1.

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
  let arguments = (ins F32Tensor4D:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs F32Tensor4D:$output);
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
    /// The region argument every branch must read.
    BlockArgument getBranchInput() { return getBody().getArgument(0); }
    /// The values summed into the block result, one per branch.
    OperandRange getBranches();
    /// Checks a branch `conv2d` (`core`) against the block attributes.
    LogicalResult verifyConvBranch(
        Value core, llvm::function_ref<InFlightDiagnostic()> diag);
  }];
}

def MobileOne_YieldOp : MobileOne_Op<"yield", [
    Pure, Terminator, HasParent<"BlockOp">]> {
  let summary = "yields the branch results of a mobileone.block";
  let arguments = (ins Variadic<F32Tensor4D>:$branches);
  let assemblyFormat = "attr-dict ($branches^ `:` type($branches))?";
}

#endif // MOBILEONE_OPS_TD
