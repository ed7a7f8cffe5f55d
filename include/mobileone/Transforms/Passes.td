//===- Passes.td - mobileone passes -----------------------*- tablegen -*-===//

#ifndef MOBILEONE_TRANSFORMS_PASSES_TD
#define MOBILEONE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RecoverStructure : Pass<"mobileone-recover-structure"> {
  let summary = "Form mobileone.block and squeeze_excite ops from a flat graph";
  let description = [{
    Finds the re-parameterisable structure in an imported graph:

    * a tree of `add` ops (any association, each inner add used once) whose
      leaves are branches reading one value `x`: `conv2d(x)`,
      `batch_norm(conv2d(x))`, `batch_norm(x)` or `x` itself, becomes a
      `mobileone.block` when the branches satisfy the block verifier (same
      stride, dilation and group; kernels centrable in the largest one;
      centred padding; identity branches only with equal shapes and
      stride 1). A tree that is no block is searched for sub-trees that
      are (a residual shortcut added to a block's sum). Anything else is
      left alone.
    * `x * sigmoid(conv(relu(conv(gap(x)))))` (1x1 convs with bias, or
      linear layers on the flattened pool, with an optional reshape of the
      gate) becomes a `mobileone.squeeze_excite`.

    Branch ops must have no other users. The pass only moves ops; weights are
    not touched. With `explain`, every add tree gets a remark at its node:
    the block it formed (branches, resulting kernel), or why it formed none.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let options = [
    Option<"explain", "explain", "bool", /*default=*/"false",
           "Emit a remark for every add tree: the block formed, or why none">
  ];
}

def FoldBatchNorm : Pass<"mobileone-fold-batch-norm"> {
  let summary = "Fold batch_norm into the conv2d that feeds it";
  let description = [{
    Rewrites `batch_norm(conv2d(x, W, b))` into `conv2d(x, W', b')` with
    `s = scale / sqrt(var + eps)`, `W' = W * s`, `b' = beta + (b - mean) * s`,
    inside block branches and in the plain graph alike. The conv must have
    constant weights and no other user. BNs that do not follow a conv
    (identity branches, a BN after a sum) are left alone.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def IdentityToConv : Pass<"mobileone-identity-to-conv"> {
  let summary = "Turn identity (skip) branches into conv2d branches";
  let description = [{
    An identity branch of a `mobileone.block` (`batch_norm(input)` or the
    block input itself) becomes a `conv2d` with the identity kernel of the
    block's shape: 1 at `[i, i mod (C / group), K / 2, K / 2]`. Works for
    dense, depthwise and grouped blocks. A BN on the branch stays, now after
    the conv, for `--mobileone-fold-batch-norm`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def PadKernels : Pass<"mobileone-pad-kernels"> {
  let summary = "Zero-pad smaller branch kernels to the block kernel";
  let description = [{
    A conv branch with a `k x k` kernel inside a `K x K` block (`K - k` even,
    which the block verifier guarantees) gets its kernel zero-padded by
    `(K - k) / 2` on each side and the block's padding; the result is
    unchanged because the branch padding was centred.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def MergeBranches : Pass<"mobileone-merge-branches"> {
  let summary = "Sum the branches of each block into one conv2d and erase it";
  let description = [{
    Replaces every `mobileone.block` by one `conv2d` with bias and the
    block's stride, padding, dilation and group. Each branch may still be in
    any verified form (conv, conv + BN, BN-only identity, plain identity,
    smaller kernel): the branch kernels are derived, folded, padded and
    summed in double precision and rounded to f32 once, so this pass alone
    re-parameterises a block exactly. Fails on a branch whose weights are not
    constants.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def CheckSqueezeExcite : Pass<"mobileone-check-se"> {
  let summary = "Report Squeeze-Excitation modules and check their placement";
  let description = [{
    Emits a remark for every `mobileone.squeeze_excite` with its position
    (index among the network's blocks and stage), channels and reduced
    channels, and checks the placement rules selected by the options. It
    never changes the IR. Stages are counted as in MobileOne: the stem is
    stage 0 and a stage starts at every block with stride 2.
  }];
  let options = [
    Option<"maxCount", "max-count", "int64_t", "-1",
           "Maximum number of SE modules (-1: no limit)">,
    ListOption<"allowedStages", "allowed-stages", "int64_t",
               "Stages in which SE is allowed (empty: all)">,
    Option<"requireAfterSum", "require-after-sum", "bool", "false",
           "Require each SE to read a block sum and feed a ReLU">,
    Option<"report", "report", "bool", "true",
           "Emit a remark per SE module">,
    Option<"asErrors", "errors", "bool", "false",
           "Report violations as errors (failing the pass), not warnings">
  ];
}

def CostReport : Pass<"mobileone-cost-report", "::mlir::ModuleOp"> {
  let summary = "Print parameters and multiply-adds of every function";
  let description = [{
    Counts, per `func.func`, the parameters (elements of the weights and
    biases of conv2d, linear, batch_norm, squeeze_excite, including those
    inside blocks) and the multiply-adds of convolutions and linear layers,
    with those of squeeze-excite modules (tiny 1x1 convs on pooled vectors)
    listed apart, as analytic counts of MobileOne usually leave them out.
    Prints two lines per function to stdout: the totals and a histogram of
    the ops. Leaves the IR unchanged.
  }];
  let options = [
    Option<"label", "label", "std::string", "\"\"",
           "Text printed before the counts">
  ];
}

#endif
