// RUN: mobileone-opt %s -split-input-file --mobileone-pad-kernels | FileCheck %s
// RUN: mobileone-opt %s -split-input-file --mobileone-pad-kernels -verify-diagnostics -o /dev/null

// The 1x1 scale branch becomes a 3x3 kernel with the weight in its centre and
// takes the block's padding; the BN after it is kept.
// CHECK-LABEL: func.func @scale_branch
// CHECK: ^bb0(%[[IN:.*]]: tensor<1x2x4x4xf32>):
// CHECK: %[[K:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 2.500000e-01, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]]], {{\[}}{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 2.500000e-01, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]]]]> : tensor<2x1x3x3xf32>
// CHECK: %[[C:.*]] = mobileone.conv2d %[[IN]], %[[K]] {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
// CHECK: mobileone.batch_norm %[[C]]
func.func @scale_branch(%x: tensor<1x2x4x4xf32>, %p: tensor<2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<0.25> : tensor<2x1x1x1xf32>
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  ^bb0(%in: tensor<1x2x4x4xf32>):
    %c = mobileone.conv2d %in, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
    %b = mobileone.batch_norm %c, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    mobileone.yield %b : tensor<1x2x2x2xf32>
  }
  return %y : tensor<1x2x2x2xf32>
}

// -----

// An asymmetric 1x3 kernel (ACNet) inside a 3x3 block, with its bias.
// CHECK-LABEL: func.func @asymmetric
// CHECK: %[[K:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [1.000000e+00, 2.000000e+00, 3.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]]]]> : tensor<1x1x3x3xf32>
// CHECK: mobileone.conv2d %{{.*}}, %[[K]], %{{.*}} {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>
func.func @asymmetric(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w = arith.constant dense<[[[[1.0, 2.0, 3.0]]]]> : tensor<1x1x1x3xf32>
  %b = arith.constant dense<0.5> : tensor<1xf32>
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    %c = mobileone.conv2d %in, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 1, 0, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x3xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
    mobileone.yield %c : tensor<1x1x4x4xf32>
  }
  return %y : tensor<1x1x4x4xf32>
}

// -----

// Kernels of the block's size and plain convs outside blocks are left alone.
// CHECK-LABEL: func.func @nothing_to_pad
// CHECK: mobileone.conv2d %{{.*}}, %arg1 {
// CHECK: mobileone.conv2d %arg0, %arg2 {
func.func @nothing_to_pad(%x: tensor<1x1x4x4xf32>, %w3: tensor<1x1x3x3xf32>, %w1: tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32> {
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x4x4xf32>
    mobileone.yield %c : tensor<1x1x4x4xf32>
  }
  %z = mobileone.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  return %z : tensor<1x1x4x4xf32>
}

// -----

// A branch kernel that is not a constant cannot be padded: a warning, no change.
func.func @not_constant(%x: tensor<1x1x4x4xf32>, %w3: tensor<1x1x3x3xf32>, %w1: tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32> {
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    // expected-warning @+1 {{kernel is not a constant; left unpadded}}
    %c = mobileone.conv2d %in, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
    mobileone.yield %c : tensor<1x1x4x4xf32>
  }
  return %y : tensor<1x1x4x4xf32>
}
