//===- Passes.td - mobileone passes -----------------------*- tablegen -*-===//

#ifndef MOBILEONE_TRANSFORMS_PASSES_TD
#define MOBILEONE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RecoverStructure : Pass<"mobileone-recover-structure"> {
  let summary = "Form a mobileone.block from every linear region, and squeeze_excite ops";
  let description = [{
    Finds the re-parameterisable structure in an imported graph:

    * **Linear regions.** Every op that implements `LinearMapOpInterface`
      (conv2d, batch_norm, avg_pool, linear, zero pad, neg, add/sub of two
      values, add/sub/mul/div by a per-channel constant) is composed, in
      program order, into the map of its result from a region input: the
      value where its linear chain starts (after a nonlinearity, a graph
      input, a value also used by a nonlinear op). Composition uses the ops'
      own rule, with weights: sums of branches, differences, per-channel
      scales, BN before or after a sum, sequences (`1x1 -> kxk`, a BN into
      the next conv or linear layer) and average pooling compose; a step
      that is not exact (a zero-padded conv after a biased or spatial map,
      mismatched strides or groups) or that would cost more multiply-adds
      than the sequence starts a new region instead. Each region result
      that took two ops or more becomes a `mobileone.block` holding those
      ops (the leaves of a final add tree as its branches), which
      `--mobileone-merge-branches` turns into one conv2d (or linear).
    * `x * sigmoid(conv(relu(conv(gap(x)))))` (1x1 convs with bias, or
      linear layers on the flattened pool, with an optional reshape of the
      gate) becomes a `mobileone.squeeze_excite`.

    The pass only moves (clones) ops; weights are not changed. With
    `explain`, every region formed gets a remark at its result's node (its
    input, branches and resulting kernel), and every op that could have
    joined a region but did not gets one with the reason.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let options = [
    Option<"explain", "explain", "bool", /*default=*/"false",
           "Emit a remark for every region formed and every op left out, with the reason">
  ];
}

def MergeBranches : Pass<"mobileone-merge-branches"> {
  let summary = "Collapse each block into one conv2d (or linear) and erase it";
  let description = [{
    Replaces every `mobileone.block` by one `conv2d` with bias and the
    block's stride, padding, dilation and group (a `linear` for a block on
    `[N, C]` tensors). The body is composed with the same rule the verifier
    checks (`LinearMapOpInterface`), now with the weights, in double
    precision, and rounded to f32 once. Fails on a body whose weights are
    not constants or whose composition is not exact.

    With `release-weights`, the weight blobs of each merged block are freed
    as it goes (resource blobs otherwise live as long as the context): for a
    caller that holds no other module sharing them, it bounds compile memory
    by about one copy of the weights.
  }];
  let options = [
    Option<"releaseWeights", "release-weights", "bool", "false",
           "Free each merged block's weight blobs (no other module may "
           "share them)">,
  ];
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
  let summary = "Print parameters, multiply-adds, bytes moved and a latency estimate";
  let description = [{
    Counts, per `func.func`, the parameters (elements of the weights and
    biases of conv2d, linear, batch_norm, squeeze_excite, including those
    inside blocks) and the multiply-adds of convolutions, linear layers and
    matmuls, with those of squeeze-excite modules (tiny 1x1 convs on pooled
    vectors) listed apart, as analytic counts of MobileOne usually leave them
    out. Prints two lines per function to stdout: the totals and a histogram
    of the ops.

    With `memory=true` (the default), also what the MobileOne paper says
    decides latency: the bytes every op moves (activations read and written,
    weights read), arithmetic intensity, synchronisation points (global
    pools, spatial reductions, squeeze-excite gates), and an estimated
    latency from a roofline of a machine description:
    `max(flops / peak, bytes / bandwidth) + per-op overhead` per op, the
    bandwidth of the cache when the op's working set fits in it, else of
    DRAM. Assumption: every op reads its activation operands from memory and
    writes its results to memory (nothing stays in registers between ops);
    weights are read once. Then one line per stage (ops grouped by the
    feature-map resolution they work at), and with `per-op=true` one line per
    op. `machine=file` reads the description `mobileone-machine` writes
    (`key=value` lines); without it, a default machine, named as such.
    Leaves the IR unchanged.
  }];
  let options = [
    Option<"label", "label", "std::string", "\"\"",
           "Text printed before the counts">,
    Option<"memory", "memory", "bool", "true",
           "Also print bytes moved, sync points, the estimate and stages">,
    Option<"perOp", "per-op", "bool", "false",
           "Print one line per op (flops, bytes, intensity, estimate)">,
    Option<"machine", "machine", "std::string", "\"\"",
           "Machine description (key=value lines from mobileone-machine)">
  ];
}

#endif
