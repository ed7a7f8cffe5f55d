// RUN: mobileone-opt %s -split-input-file -verify-diagnostics

func.func @bn_channel_mismatch(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %q: tensor<3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.batch_norm' op expected 'mean' to have 4 entries (one per channel), got 3}}
  %y = mobileone.batch_norm %x, %p, %p, %q, %p {epsilon = 1.0e-05 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @bn_eps_zero(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.batch_norm' op expected 'epsilon' > 0, got 0}}
  %y = mobileone.batch_norm %x, %p, %p, %p, %p {epsilon = 0.0 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @bn_eps_negative(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.batch_norm' op expected 'epsilon' > 0, got -1.000000e-05}}
  %y = mobileone.batch_norm %x, %p, %p, %p, %p {epsilon = -1.0e-05 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @bn_negative_variance(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  %v = arith.constant dense<[1.0, 0.5, -0.25, 2.0]> : tensor<4xf32>
  // expected-error @+1 {{'mobileone.batch_norm' op expected a non-negative variance, got variance[2] = -2.500000e-01}}
  %y = mobileone.batch_norm %x, %p, %p, %p, %v {epsilon = 1.0e-05 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_group_split(%x: tensor<1x6x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.conv2d' op input channels (6) are not divisible by group (4)}}
  %y = mobileone.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 4 : i64} : (tensor<1x6x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_weight_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.conv2d' op expected weight dimension 1 to be input channels / group = 2, got 4}}
  %y = mobileone.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_result_shape(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.conv2d' op expected result shape 1x4x4x4, got 1x4x8x8}}
  %y = mobileone.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>, %b: tensor<5xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.conv2d' op expected 'bias' to have 4 entries (one per channel), got 5}}
  %y = mobileone.conv2d %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>, tensor<5xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_strides(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.conv2d' op expected 'strides' to be two positive integers}}
  %y = mobileone.conv2d %x, %w {strides = array<i64: 0, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_pads(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.conv2d' op expected 'pads' to be four non-negative integers [top, left, bottom, right]}}
  %y = mobileone.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_kernel_too_big(%x: tensor<1x4x2x2xf32>, %w: tensor<4x4x5x5xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{'mobileone.conv2d' op kernel 5x5 does not fit the padded input 1x4x2x2}}
  %y = mobileone.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x2x2xf32>, tensor<4x4x5x5xf32>) -> tensor<1x4x1x1xf32>
  return %y : tensor<1x4x1x1xf32>
}

// -----

func.func @add_not_broadcastable(%a: tensor<1x4x8x8xf32>, %b: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.add' op operand shapes 1x4x8x8 and 1x3x8x8 are not broadcastable}}
  %y = mobileone.add %a, %b : (tensor<1x4x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @mul_result(%a: tensor<1x4x8x8xf32>, %b: tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{'mobileone.mul' op expected result dimension 2 to be 8, got 1}}
  %y = mobileone.mul %a, %b : (tensor<1x4x8x8xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  return %y : tensor<1x4x1x1xf32>
}

// -----

func.func @gap_shape(%a: tensor<1x4x8x8xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{'mobileone.global_avg_pool' op expected result shape 1x4x1x1, got 1x4x2x2}}
  %y = mobileone.global_avg_pool %a : (tensor<1x4x8x8xf32>) -> tensor<1x4x2x2xf32>
  return %y : tensor<1x4x2x2xf32>
}

// -----

func.func @reshape_count(%a: tensor<1x4x1x1xf32>) -> tensor<1x5xf32> {
  // expected-error @+1 {{'mobileone.reshape' op cannot reshape 1x4x1x1 (4 elements) to 1x5 (5 elements)}}
  %y = mobileone.reshape %a : (tensor<1x4x1x1xf32>) -> tensor<1x5xf32>
  return %y : tensor<1x5xf32>
}

// -----

func.func @linear_features(%a: tensor<1x8xf32>, %w: tensor<10x7xf32>) -> tensor<1x10xf32> {
  // expected-error @+1 {{'mobileone.linear' op expected weight [M, K] with K = 8 input features, got 10x7}}
  %y = mobileone.linear %a, %w : (tensor<1x8xf32>, tensor<10x7xf32>) -> tensor<1x10xf32>
  return %y : tensor<1x10xf32>
}

// -----

func.func @se_shape(%x: tensor<1x8x4x4xf32>, %rw: tensor<2x4x1x1xf32>, %rb: tensor<2xf32>, %ew: tensor<8x2x1x1xf32>, %eb: tensor<8xf32>) -> tensor<1x8x4x4xf32> {
  // expected-error @+1 {{'mobileone.squeeze_excite' op expected 'reduce_weight' of shape 2x8x1x1 (a 1x1 conv from 8 channels), got 2x4x1x1}}
  %y = mobileone.squeeze_excite %x, %rw, %rb, %ew, %eb : (tensor<1x8x4x4xf32>, tensor<2x4x1x1xf32>, tensor<2xf32>, tensor<8x2x1x1xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// -----

func.func @block_kernel_attr(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.block' op expected 'kernel' to be two positive integers [KH, KW]}}
  %y = mobileone.block %x {kernel = array<i64: 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    mobileone.yield %in : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @block_no_branch(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.block' op expected at least one branch}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    mobileone.yield
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @block_result_shape(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.block' op expected result shape 1x4x4x4, got 1x4x8x8}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    mobileone.yield %in : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @block_argument(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.block' op expected the body to take one argument of the block input type 'tensor<1x4x8x8xf32>'}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>, %other: tensor<1x4x8x8xf32>):
    mobileone.yield %in : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @block_terminator(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    // expected-error @+1 {{block with no terminator}}
    %r = mobileone.relu %in : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}
