// RUN: mobileone-opt %s -split-input-file --mobileone-recover-structure=explain=true -verify-diagnostics

// One add tree that is a block, one that is not: each gets its remark.
func.func @one_fused_one_not(%x: tensor<1x2x4x4xf32>, %y: tensor<1x2x4x4xf32>, %w3: tensor<2x2x3x3xf32>, %p: tensor<2xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %c3 = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  %s = mobileone.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{fused a block of 2 branches of the graph input (conv 3x3, bn) into one 3x3 conv (stride 1, group 1)}}
  %a = mobileone.add %c3, %s : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %r = mobileone.relu %a : tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused: its 2 summands are not branches (conv, conv + bn, bn or identity, each used once) of one common input}}
  %b = mobileone.add %r, %y : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %a, %b : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Branch convs of different strides.
func.func @strides_differ(%x: tensor<1x2x4x4xf32>, %w3: tensor<2x2x3x3xf32>, %w1: tensor<2x2x1x1xf32>) -> tensor<1x2x2x2xf32> {
  %c3 = mobileone.conv2d %x, %w3 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x2x2xf32>
  %c1 = mobileone.conv2d %x, %w1 {strides = array<i64: 3, 3>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{not fused: the branch convs differ in stride, dilation or group}}
  %a = mobileone.add %c3, %c1 : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %a : tensor<1x2x2x2xf32>
}

// -----

// A 2x2 kernel cannot be centred in a 3x3 one.
func.func @not_centrable(%x: tensor<1x2x4x4xf32>, %w3: tensor<2x2x3x3xf32>, %w2: tensor<2x2x2x2xf32>) -> tensor<1x2x4x4xf32> {
  %c3 = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  %c2 = mobileone.conv2d %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x2x2xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused: a branch kernel cannot be centred in the largest one}}
  %a = mobileone.add %c3, %c2 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %a : tensor<1x2x4x4xf32>
}

// -----

// An identity branch in a block whose kernel is even has no centre tap.
func.func @identity_even_kernel(%x: tensor<1x2x4x4xf32>, %w2: tensor<2x2x2x2xf32>) -> tensor<1x2x4x4xf32> {
  %c2 = mobileone.conv2d %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x2x2xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused: an identity branch needs equal input and output shapes, stride 1 and an odd kernel}}
  %a = mobileone.add %c2, %x : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %a : tensor<1x2x4x4xf32>
}
