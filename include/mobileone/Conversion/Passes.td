//===- Passes.td - mobileone conversions ------------------*- tablegen -*-===//

#ifndef MOBILEONE_CONVERSION_PASSES_TD
#define MOBILEONE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMobileOneToTosa : Pass<"convert-mobileone-to-tosa", "::mlir::ModuleOp"> {
  let summary = "Lower a re-parameterised mobileone module to TOSA";
  let description = [{
    Lowers every function of a deploy-time module (after
    `--mobileone-reparameterize`) to TOSA in the LLVM 19 syntax, so that the
    upstream `tosa-to-linalg` pipeline compiles and runs it. It is the one
    lowering path of every target: the TFLite emitter maps its output
    one-to-one (`target=tflite`). It is a DialectConversion
    (`populateMobileOneToTosaPatterns`: a pattern per op of the dialect) whose
    target (`configureMobileOneToTosaTarget`) defines what each output may
    hold.

    Layout: every value keeps its logical (ONNX, NCHW) shape; each op with a
    layout is wrapped in explicit `tosa.transpose`s (NCHW -> NHWC in, back
    out). A cleanup then sinks transposes through layout-free ops (element-wise
    ops, whose constant and broadcast operands are re-laid out at compile time;
    concat, reductions and slices, with their axes renumbered; reshapes that
    only move unit dimensions) and composes them, so a network is NHWC from
    its first transpose to its last. The function keeps its NCHW interface.

    | mobileone | TOSA |
    |---|---|
    | conv2d, group 1 | `tosa.conv2d` (weights OIHW -> OHWI) |
    | conv2d, group = C (depthwise, any multiplier) | `tosa.depthwise_conv2d` (weights -> HWCM) |
    | conv2d, other groups | `tosa.slice` per group, `tosa.conv2d`, `tosa.concat` |
    | relu, clip | `tosa.clamp` |
    | leaky_relu | `tosa.maximum(x, alpha * x)` (`minimum` for alpha > 1) |
    | sigmoid, tanh, erf, exp, neg, reciprocal | the TOSA op of that name |
    | sqrt | `tosa.pow(x, 0.5)` |
    | hard_sigmoid, hard_swish | `tosa.clamp` of an affine map (times x) |
    | gelu | with `tosa.erf` (exact) or `tosa.tanh` (approximate) |
    | softmax | reduce_max, sub, exp, reduce_sum, reciprocal, mul |
    | add, sub, mul, pow | the TOSA op, ranks lifted NumPy-style |
    | div | `tosa.mul` by the reciprocal (folded for constants) |
    | batch_norm (left over, constant) | `tosa.mul` + `tosa.add` per channel |
    | global_avg_pool, avg_pool, max_pool | `tosa.avg_pool2d`, `tosa.max_pool2d` (`tosa.pad` first when padding counts) |
    | reshape, transpose, concat, slice (step 1), split, pad (constant), expand | `tosa.reshape`, `transpose`, `concat`, `slice`, `pad`, `tile` |
    | reduce_mean, reduce_sum, reduce_max | `tosa.reduce_sum` / `reduce_max` per axis (mean scaled) |
    | layer_norm | reductions, `tosa.pow(., -0.5)` (upstream cannot run scalar `math.rsqrt`), mul, add |
    | linear, matmul | `tosa.fully_connected`, `tosa.matmul` (batch collapsed, broadcast by `tosa.tile`) |
    | squeeze_excite | avg_pool2d, fully_connected, clamp, fully_connected, sigmoid, mul |

    With `target=tflite`, gelu, hard_swish, leaky_relu, sqrt and softmax on
    the last axis are legal and stay mobileone ops (TFLite has them as
    builtins).

    A `mobileone.block` (not re-parameterised), a shape computation that did
    not fold, or any op without an entry is an error naming the op and the
    target.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"tosa\"",
           "tosa (pure TOSA) or tflite (keep the element-wise ops TFLite has)">,
    Option<"interfaceLayout", "interface-layout", "std::string",
           /*default=*/"\"nhwc\"",
           "target=tflite: nhwc (TFLite's convention: 4-D inputs and outputs "
           "transposed) or nchw (the ONNX model's interface kept)">
  ];
  let dependentDialects = ["::mlir::tosa::TosaDialect"];
}

#endif
