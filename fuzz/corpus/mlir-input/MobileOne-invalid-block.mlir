// RUN: mobileone-opt %s -split-input-file -verify-diagnostics

// Every structural fault the block verifier rejects, one per case: the
// verifier composes the body's geometry with the rule merging uses.

// An op of the body must read the body argument or a value computed from it.
func.func @op_not_reading_the_body(%x: tensor<1x4x8x8xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.conv2d' does not read a value of the body}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    // expected-note @+1 {{here}}
    %c = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// Every op of the body must be linear (LinearMapOpInterface).
func.func @nonlinear_op(%x: tensor<1x4x8x8xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.relu' in the body is not linear}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    // expected-note @+1 {{here}}
    %r = mobileone.relu %c : tensor<1x4x8x8xf32>
    mobileone.yield %r : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// A branch must be computed in the body.
func.func @branch_from_outside(%x: tensor<1x4x8x8xf32>, %v: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{branch #0: expected a value computed in the body from its argument, got a value from outside the block}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    mobileone.yield %v : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// Every branch has the block result type.
func.func @branch_type(%x: tensor<1x4x8x8xf32>, %w1: tensor<4x4x1x1xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{branch #0: expected the block result type 'tensor<1x4x4x4xf32>', got 'tensor<1x4x8x8xf32>'}}
  %y = mobileone.block %x {kernel = array<i64: 1, 1>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x4x4xf32>
}

// -----

// Summands must have one stride: a 2x2 stride-2 conv and a 5x5 stride-1 conv both make 4x4.
func.func @different_strides(%x: tensor<1x4x8x8xf32>, %w2: tensor<4x4x2x2xf32>, %w5: tensor<4x4x5x5xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{branch #1 does not add up: the summands have different strides (2x2 and 1x1)}}
  %y = mobileone.block %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %a = mobileone.conv2d %in, %w2 {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x2x2xf32>) -> tensor<1x4x4x4xf32>
    %b = mobileone.conv2d %in, %w5 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x5x5xf32>) -> tensor<1x4x4x4xf32>
    mobileone.yield %a, %b : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
  }
  return %y : tensor<1x4x4x4xf32>
}

// -----

// A dilated branch does not fit an undilated block.
func.func @different_dilation(%x: tensor<1x4x8x8xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{the body composes to a conv that does not fit the block: the summands have different dilations (1x1 and 2x2)}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// The composed window must lie inside the block kernel.
func.func @kernel_too_large(%x: tensor<1x4x8x8xf32>, %w5: tensor<4x4x5x5xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{does not fit the block: it is a 5x5 conv with pads [2, 2, 2, 2], which does not fit in the block's 3x3 kernel with pads [1, 1, 1, 1]}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w5 {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x5x5xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// A dense body does not fit a grouped block.
func.func @group_too_coarse(%x: tensor<1x4x8x8xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{does not fit the block: it needs group 1, the block has group 2}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// A product of two values of the body is not linear.
func.func @product(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.mul' does not compose: a product of two values of the region is not linear}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    // expected-note @+1 {{here}}
    %m = mobileone.mul %in, %in : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %m : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// Only zero padding is linear.
func.func @reflect_pad(%x: tensor<1x4x8x8xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.pad' does not compose: only zero padding of H and W is linear in the input}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    // expected-note @+1 {{here}}
    %p = mobileone.pad %in {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = "reflect", value = 0.0 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x10x10xf32>
    %c = mobileone.conv2d %p, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x10x10xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %c : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// A zero-padded conv after a spatial conv: the border would differ.
func.func @padded_sequence(%x: tensor<1x4x8x8xf32>, %w3: tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.conv2d' does not compose: a zero-padded conv follows a 3x3 stride 1x1 map: the composed conv cannot reproduce the zero border}}
  %y = mobileone.block %x {kernel = array<i64: 5, 5>, strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    %a = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    // expected-note @+1 {{here}}
    %b = mobileone.conv2d %a, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %b : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// A multiplier must be one value per channel.
func.func @spatial_constant(%x: tensor<1x4x8x8xf32>, %k: tensor<1x1x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.mul' does not compose: the constant 'tensor<1x1x8x8xf32>' is not one value per channel}}
  %y = mobileone.block %x {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    // expected-note @+1 {{here}}
    %m = mobileone.mul %in, %k : (tensor<1x4x8x8xf32>, tensor<1x1x8x8xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %m : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// An average pool that excludes padding divides border pixels differently.
func.func @avg_pool_excluding_pad(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mobileone.avg_pool' does not compose: an average pool that excludes padding from its count divides border pixels differently}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 4 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  ^bb0(%in: tensor<1x4x8x8xf32>):
    // expected-note @+1 {{here}}
    %p = mobileone.avg_pool %in {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = 0 : i64, count_include_pad = 0 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    mobileone.yield %p : tensor<1x4x8x8xf32>
  }
  return %y : tensor<1x4x8x8xf32>
}

// -----

// A block on [N, C] tensors is a linear layer: 1x1, stride 1, group 1.
func.func @head_with_kernel(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{a block on [N, C] tensors needs a 1x1 kernel, stride 1, no padding and group 1}}
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%in: tensor<1x8xf32>):
    mobileone.yield %in : tensor<1x8xf32>
  }
  return %y : tensor<1x8xf32>
}
