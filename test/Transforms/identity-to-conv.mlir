// RUN: mobileone-opt %s -split-input-file --mobileone-identity-to-conv | FileCheck %s

// Dense 3x3 block: the kernel is 1 at [i, i, 1, 1].
// CHECK-LABEL: func.func @dense
// CHECK: ^bb0(%[[IN:.*]]: tensor<1x2x4x4xf32>):
// CHECK: %[[K:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]], {{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]]], {{\[}}{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]], {{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]]]]> : tensor<2x2x3x3xf32>
// CHECK: %[[C:.*]] = mobileone.conv2d %[[IN]], %[[K]] {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
// CHECK: %[[BN:.*]] = mobileone.batch_norm %[[C]]
// CHECK: mobileone.yield %[[BN]]
func.func @dense(%x: tensor<1x2x4x4xf32>, %p: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  ^bb0(%in: tensor<1x2x4x4xf32>):
    %s = mobileone.batch_norm %in, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    mobileone.yield %s : tensor<1x2x4x4xf32>
  }
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Depthwise: one input channel per group, so the kernel is 1 at [i, 0, 1, 1].
// CHECK-LABEL: func.func @depthwise
// CHECK: arith.constant dense<{{\[}}{{\[}}{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]]], {{\[}}{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]]]]> : tensor<2x1x3x3xf32>
// CHECK: mobileone.conv2d {{.*}}group = 2 : i64
func.func @depthwise(%x: tensor<1x2x4x4xf32>, %p: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  ^bb0(%in: tensor<1x2x4x4xf32>):
    %s = mobileone.batch_norm %in, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    mobileone.yield %s : tensor<1x2x4x4xf32>
  }
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Grouped 1x1, 4 channels in 2 groups: 1 at [i, i mod 2, 0, 0]. A plain
// identity branch (no BN) becomes the conv itself.
// CHECK-LABEL: func.func @grouped_plain_identity
// CHECK: ^bb0(%[[IN:.*]]: tensor<1x4x4x4xf32>):
// CHECK: %[[K:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]], {{\[}}[0.000000e+00]]], {{\[}}{{\[}}[0.000000e+00]], {{\[}}[1.000000e+00]]], {{\[}}{{\[}}[1.000000e+00]], {{\[}}[0.000000e+00]]], {{\[}}{{\[}}[0.000000e+00]], {{\[}}[1.000000e+00]]]]> : tensor<4x2x1x1xf32>
// CHECK: %[[C:.*]] = mobileone.conv2d %[[IN]], %[[K]] {{{.*}}group = 2 : i64, pads = array<i64: 0, 0, 0, 0>
// CHECK: mobileone.yield %[[C]] :
func.func @grouped_plain_identity(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %y = mobileone.block %x {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%in: tensor<1x4x4x4xf32>):
    mobileone.yield %in : tensor<1x4x4x4xf32>
  }
  return %y : tensor<1x4x4x4xf32>
}

// -----

// Conv branches are not touched.
// CHECK-LABEL: func.func @conv_branch_untouched
// CHECK-COUNT-1: mobileone.conv2d
// CHECK-NOT: mobileone.conv2d
func.func @conv_branch_untouched(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32> {
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  ^bb0(%in: tensor<1x2x4x4xf32>):
    %c = mobileone.conv2d %in, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x2x2xf32>
    mobileone.yield %c : tensor<1x2x2x2xf32>
  }
  %r = mobileone.relu %y : tensor<1x2x2x2xf32>
  return %x : tensor<1x2x4x4xf32>
}
