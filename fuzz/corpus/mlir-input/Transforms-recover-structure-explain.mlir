// RUN: mobileone-opt %s -split-input-file --mobileone-recover-structure=explain=true -verify-diagnostics

// Every region formed gets a remark, and every op that could have joined a
// region and did not, with the reason: one case per reason.

// A region that fuses, and an add of two different inputs: each gets its remark.
func.func @one_fused_one_not(%x: tensor<1x2x4x4xf32>, %y: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %c3 = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  %s = mobileone.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{fused 3 ops of the graph input (branches: conv 3x3, bn) into one 3x3 conv (stride 1, group 1)}}
  %a = mobileone.add %c3, %s : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %r = mobileone.relu %a : tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused: its operands are not linear in one common input (the value at line 16 and the graph input)}}
  %b = mobileone.add %r, %y : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %a, %b : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Summands of different strides (a 2x2 stride-2 conv and a 3x3 stride-1 conv, both 2x2 out).
func.func @different_strides(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x2x2xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %w2 = arith.constant dense<0.5> : tensor<2x2x2x2xf32>
  %a = mobileone.conv2d %x, %w2 {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %b = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{not fused with the region of the graph input: the summands have different strides (2x2 and 1x1)}}
  %s = mobileone.add %a, %b : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %s : tensor<1x2x2x2xf32>
}

// -----

// A zero-padded conv after a BN: the BN shift would reach the border.
func.func @padded_after_bias(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %n = mobileone.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused with the region of the graph input: a zero-padded conv follows a map with a non-zero bias (e.g. a batch_norm shift): the composed conv would see the bias, not zeros, at the border}}
  %c = mobileone.conv2d %n, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  return %c : tensor<1x2x4x4xf32>
}

// -----

// A zero-padded conv after a 3x3 conv.
func.func @padded_after_spatial(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %a = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused with the region of the graph input: a zero-padded conv follows a 3x3 stride 1x1 map: the composed conv cannot reproduce the zero border}}
  %b = mobileone.conv2d %a, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  return %b : tensor<1x2x4x4xf32>
}

// -----

// A depthwise 3x3 then a 1x1: one dense 3x3 conv would cost more.
func.func @costs_more(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %a = mobileone.conv2d %x, %dw {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused with the region of the graph input: the composed 3x3 conv would cost 576 multiply-adds, more than the 352 of its ops in sequence}}
  %b = mobileone.conv2d %a, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %b : tensor<1x2x4x4xf32>
}

// -----

// A product of two values of one input is not linear.
func.func @product(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %a = mobileone.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused with the region of the graph input: a product of two values of the region is not linear}}
  %m = mobileone.mul %a, %x : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %m : tensor<1x2x4x4xf32>
}

// -----

// A conv whose weight is not a constant.
func.func @weight_not_constant(%x: tensor<1x2x4x4xf32>, %wv: tensor<2x2x1x1xf32>) -> (tensor<1x2x4x4xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  // expected-remark @+1 {{not fused: the weight is not a constant}}
  %a = mobileone.conv2d %x, %wv {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %n = mobileone.batch_norm %a, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %n : tensor<1x2x4x4xf32>
}

// -----

// Reflection padding is not linear in the sense of a conv (its border copies pixels).
func.func @reflect_pad(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x6x6xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %a = mobileone.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused with the region of the graph input: only zero padding of H and W is linear in the input}}
  %q = mobileone.pad %a {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = "reflect", value = 0.0 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x6x6xf32>
  return %q : tensor<1x2x6x6xf32>
}

// -----

// A multiplier that varies over H and W is not a per-channel scale.
func.func @spatial_constant(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %k = arith.constant dense<2.0> : tensor<1x1x4x4xf32>
  %a = mobileone.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused with the region of the graph input: the constant 'tensor<1x1x4x4xf32>' is not one value per channel}}
  %m = mobileone.mul %a, %k : (tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %m : tensor<1x2x4x4xf32>
}

// -----

// An average pool that excludes padding from its count.
func.func @avg_pool_excluding_pad(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %dw = arith.constant dense<0.125> : tensor<2x1x3x3xf32>
  %p = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %a = mobileone.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused with the region of the graph input: an average pool that excludes padding from its count divides border pixels differently}}
  %q = mobileone.avg_pool %a {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = 0 : i64, count_include_pad = 0 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %q : tensor<1x2x4x4xf32>
}
