// RUN: mobileone-opt %s -split-input-file -verify-diagnostics

// Every structural fault the block verifier rejects, one per case.

func.func @branch_not_reading_input(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #0: 'mobileone.conv2d' does not read the block input}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @branch_foreign_op(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #1: expected a conv2d or batch_norm reading the block input, got 'mobileone.relu'}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    %r = mobileone.relu %in : tensor<1x4x8x8xf32>
    mobileone.yield %c, %r : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @branch_outside_value(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #0: expected a conv2d or batch_norm reading the block input, got a value from outside the block}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    mobileone.yield %x : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @branch_shape_mismatch(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w3: tensor<4x4x3x3xf32>, %w8: tensor<8x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #1: expected the block result type 'tensor<1x4x8x8xf32>', got 'tensor<1x8x8x8xf32>'}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    %d = mobileone.conv2d %in, %w8 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32>
    mobileone.yield %c, %d : tensor<1x4x8x8xf32>, tensor<1x8x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @stride_mismatch(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #0: stride 2x2 differs from the block's 1x1}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x4x4xf32>
    mobileone.yield %c : tensor<1x4x4x4xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @dilation_mismatch(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #0: dilation 2x2 differs from the block's 1x1}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @group_mismatch(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #0: group 2 differs from the block's 1}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @kernel_too_large(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w: tensor<4x4x5x5xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #0: kernel 5x5 is larger than the block kernel 3x3}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x5x5xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @kernel_not_centrable(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w: tensor<4x4x2x2xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #0: kernel 2x2 cannot be centred in the block kernel 3x3 (K - k must be even)}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x2x2xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @padding_not_centred(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w3: tensor<4x4x3x3xf32>, %w5: tensor<4x4x5x5xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #1: padding [2, 2, 0, 0] is not centred in the block: a 3x3 kernel in a 5x5 block with pads [2, 2, 2, 2] needs pads [1, 1, 1, 1]}}
  %y = mobileone.block %x {kernel = array<i64: 5, 5>, strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w5 {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x5x5xf32>) -> tensor<1x4x8x8xf32>
    %d = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c, %d : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

func.func @identity_channel_mismatch(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w8: tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{branch #1: identity branch needs equal input and output channels, got 4 -> 8}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w8 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32>
    %i = mobileone.batch_norm %in, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c, %i : tensor<1x8x8x8xf32>, tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x8x8x8xf32>
}

// -----

func.func @identity_stride(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{branch #1: identity branch needs stride 1, the block has stride 2x2}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x4x4xf32>
    %i = mobileone.batch_norm %in, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c, %i : tensor<1x4x4x4xf32>, tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x4x4xf32>
}

// -----

func.func @identity_even_kernel(%x: tensor<1x4x8x8xf32>, %p: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #0: identity branch needs an odd block kernel, got 2x2}}
  %y = mobileone.block %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    mobileone.yield %in : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

