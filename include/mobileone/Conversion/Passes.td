//===- Passes.td - mobileone conversions ------------------*- tablegen -*-===//

#ifndef MOBILEONE_CONVERSION_PASSES_TD
#define MOBILEONE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMobileOneToTosa : Pass<"convert-mobileone-to-tosa", "::mlir::ModuleOp"> {
  let summary = "Lower a re-parameterised mobileone module to TOSA";
  let description = [{
    Lowers every function of a deploy-time module (after
    `--mobileone-reparameterize`) to TOSA in the LLVM 19 syntax, so that the
    upstream `tosa-to-linalg` pipeline compiles and runs it.

    Layout: the function keeps its NCHW interface; activations are NHWC
    inside, with one `tosa.transpose` after each 4-D input and one before
    each 4-D result, none between layers. Weights are re-laid out at compile
    time: dense conv weights OIHW -> OHWI, depthwise weights -> HWCM.

    | mobileone | TOSA |
    |---|---|
    | conv2d, group 1 | `tosa.conv2d` |
    | conv2d, group = C (depthwise, any multiplier) | `tosa.depthwise_conv2d` |
    | conv2d, other groups | `tosa.slice` per group, `tosa.conv2d`, `tosa.concat` |
    | relu | `tosa.clamp` [0, max] |
    | sigmoid | `tosa.sigmoid` |
    | add, mul | `tosa.add`, `tosa.mul` (constants re-laid out, ranks matched) |
    | batch_norm (left over, constant) | `tosa.mul` + `tosa.add` per channel |
    | global_avg_pool | `tosa.avg_pool2d` over the whole map |
    | reshape | `tosa.reshape` (through NCHW when H, W > 1) |
    | linear | `tosa.fully_connected` |
    | squeeze_excite | avg_pool2d, fully_connected, clamp, fully_connected, sigmoid, mul |

    A `mobileone.block` (not re-parameterised) or any other op is an error
    naming the op and the target.
  }];
  let dependentDialects = ["::mlir::tosa::TosaDialect"];
}

#endif
