// RUN: mobileone-opt %s --mobileone-reparameterize | FileCheck %s
// The same through the MLIR pass-pipeline syntax, with the SE report on.
// RUN: mobileone-opt %s --pass-pipeline="builtin.module(mobileone-reparameterize{check-se=true})" 2>&1 | FileCheck %s --check-prefixes=CHECK,SE
// The pipeline's passes show up in --mlir-print-ir-after-all.
// RUN: mobileone-opt %s --mobileone-reparameterize --mlir-print-ir-after-all -o /dev/null 2>&1 | FileCheck %s --check-prefix=AFTER

// SE: remark: squeeze_excite #0 after layer #1 (stage 0): 2 channels, 1 reduced
// AFTER: IR Dump After RecoverStructure (mobileone-recover-structure)
// AFTER: IR Dump After MergeBranches (mobileone-merge-branches)

// CHECK-LABEL: func.func @main
// CHECK-NOT: mobileone.block
// CHECK: %[[STEM:.*]] = mobileone.conv2d %arg0, %{{.*}}, %{{.*}} {{{.*}}strides = array<i64: 2, 2>}
// CHECK: %[[A:.*]] = mobileone.relu %[[STEM]]
// CHECK: %[[B:.*]] = mobileone.conv2d %[[A]], %{{.*}}, %{{.*}} {{{.*}}group = 2 : i64
// CHECK: %[[SE:.*]] = mobileone.squeeze_excite %[[B]]
// CHECK: %[[R:.*]] = mobileone.relu %[[SE]]
// A BN after an activation has no conv to fold into and stays.
// CHECK: mobileone.batch_norm %[[R]]
// CHECK-NOT: mobileone.batch_norm
func.func @main(%x: tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w3 = arith.constant dense<0.25> : tensor<2x1x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x1x1x1xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %rw = arith.constant dense<0.5> : tensor<1x2x1x1xf32>
  %rb = arith.constant dense<0.5> : tensor<1xf32>
  %ew = arith.constant dense<0.5> : tensor<2x1x1x1xf32>
  %eb = arith.constant dense<0.5> : tensor<2xf32>
  // A stem outside any block: conv -> BN, a linear region of its own.
  %c0 = mobileone.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x8x8xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  %b0 = mobileone.batch_norm %c0, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %a0 = mobileone.relu %b0 : tensor<1x2x4x4xf32>
  %y = mobileone.block %a0 {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  ^bb0(%in: tensor<1x2x4x4xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32>
    %cb = mobileone.batch_norm %c, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %s = mobileone.conv2d %in, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
    %sb = mobileone.batch_norm %s, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %i = mobileone.batch_norm %in, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    mobileone.yield %cb, %sb, %i : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  }
  %se = mobileone.squeeze_excite %y, %rw, %rb, %ew, %eb : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>, tensor<1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %r = mobileone.relu %se : tensor<1x2x4x4xf32>
  %n = mobileone.batch_norm %r, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %n : tensor<1x2x4x4xf32>
}

// The pipeline preserves what the module computes.
// RUN: mobileone-opt %s --mobileone-reparameterize -o %t.mlir
// RUN: mobileone-run %s --compare %t.mlir --rtol 1e-6 | FileCheck %s --check-prefix=EQUIV
// EQUIV-LABEL: output #0
// EQUIV-SAME: PASS
