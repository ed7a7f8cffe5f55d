// RUN: mobileone-opt %s -split-input-file --mobileone-merge-branches -verify-diagnostics | FileCheck %s

// A depthwise MobileOne block: 3x3 conv-BN + 1x1 conv-BN + BN skip, all with
// s = 4 / sqrt(3 + 1) = 2, mean 1, beta 0.5. Each branch bias is
// 0.5 - 1 * 2 = -1.5; the centre tap is 0.25*2 + 0.5*2 + 1*2 = 3.5.
// CHECK-LABEL: func.func @depthwise_block
// CHECK-NOT: mobileone.block
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[5.000000e-01, 5.000000e-01, 5.000000e-01], [5.000000e-01, 3.500000e+00, 5.000000e-01], [5.000000e-01, 5.000000e-01, 5.000000e-01]]], {{\[}}{{\[}}[5.000000e-01, 5.000000e-01, 5.000000e-01], [5.000000e-01, 3.500000e+00, 5.000000e-01], [5.000000e-01, 5.000000e-01, 5.000000e-01]]]]> : tensor<2x1x3x3xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<-4.500000e+00> : tensor<2xf32>
// CHECK: %[[Y:.*]] = mobileone.conv2d %arg0, %[[W]], %[[B]] {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
// CHECK: %[[R:.*]] = mobileone.relu %[[Y]]
// CHECK-NOT: arith.constant
// CHECK: return %[[R]]
func.func @depthwise_block(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w3 = arith.constant dense<0.25> : tensor<2x1x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x1x1x1xf32>
  %gamma = arith.constant dense<4.0> : tensor<2xf32>
  %beta = arith.constant dense<0.5> : tensor<2xf32>
  %mean = arith.constant dense<1.0> : tensor<2xf32>
  %var = arith.constant dense<3.0> : tensor<2xf32>
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  ^bb0(%in: tensor<1x2x4x4xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32>
    %cb = mobileone.batch_norm %c, %gamma, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %s = mobileone.conv2d %in, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
    %sb = mobileone.batch_norm %s, %gamma, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %i = mobileone.batch_norm %in, %gamma, %beta, %mean, %var {epsilon = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    mobileone.yield %cb, %sb, %i : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  }
  %r = mobileone.relu %y : tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// Already folded branches (conv with bias, as an ONNX eval-mode export has
// them) and a plain identity: weights 1 + 2 + identity, biases add up.
// CHECK-LABEL: func.func @folded_branches
// CHECK-DAG: arith.constant dense<4.000000e+00> : tensor<1x1x1x1xf32>
// CHECK-DAG: arith.constant dense<7.500000e-01> : tensor<1xf32>
// CHECK: mobileone.conv2d %arg0, {{.*}}pads = array<i64: 0, 0, 0, 0>
func.func @folded_branches(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w1 = arith.constant dense<1.0> : tensor<1x1x1x1xf32>
  %b1 = arith.constant dense<0.5> : tensor<1xf32>
  %w2 = arith.constant dense<2.0> : tensor<1x1x1x1xf32>
  %b2 = arith.constant dense<0.25> : tensor<1xf32>
  %y = mobileone.block %x {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    %a = mobileone.conv2d %in, %w1, %b1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
    %b = mobileone.conv2d %in, %w2, %b2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
    mobileone.yield %a, %b, %in : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
  }
  return %y : tensor<1x1x4x4xf32>
}

// -----

func.func @not_constant(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{'mobileone.block' op 'mobileone.conv2d' does not compose: the weight is not a constant}}
  %y = mobileone.block %x {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    // expected-note @+1 {{here}}
    %a = mobileone.conv2d %in, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
    mobileone.yield %in, %a : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
  }
  return %y : tensor<1x1x4x4xf32>
}

// -----

func.func @bn_not_constant(%x: tensor<1x1x4x4xf32>, %p: tensor<1xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{'mobileone.block' op 'mobileone.batch_norm' does not compose: the scale is not a constant}}
  %y = mobileone.block %x {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    // expected-note @+1 {{here}}
    %a = mobileone.batch_norm %in, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
    mobileone.yield %a : tensor<1x1x4x4xf32>
  }
  return %y : tensor<1x1x4x4xf32>
}

// -----

// Weights decide what geometry cannot: zero padding after a map whose bias
// is not zero would put the bias, not zeros, at the border.
func.func @padded_bias(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x6x6xf32> {
  %w = arith.constant dense<2.0> : tensor<1x1x1x1xf32>
  %b = arith.constant dense<0.5> : tensor<1xf32>
  // expected-error @+1 {{'mobileone.block' op 'mobileone.pad' does not compose: zero padding follows a map with a non-zero bias: the composed conv would see the bias, not zeros, at the border}}
  %y = mobileone.block %x {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x6x6xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    %a = mobileone.conv2d %in, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
    // expected-note @+1 {{here}}
    %p = mobileone.pad %a {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = "constant", value = 0.0 : f32} : (tensor<1x1x4x4xf32>) -> tensor<1x1x6x6xf32>
    mobileone.yield %p : tensor<1x1x6x6xf32>
  }
  return %y : tensor<1x1x6x6xf32>
}
