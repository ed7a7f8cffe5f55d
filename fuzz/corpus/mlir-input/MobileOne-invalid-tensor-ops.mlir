// RUN: mobileone-opt %s -split-input-file -verify-diagnostics

func.func @concat_mismatch(%x: tensor<1x4x8x8xf32>, %y: tensor<1x2x4x8xf32>) {
  // expected-error @+2 {{input shapes [1, 4, 8, 8] and [1, 2, 4, 8] differ outside axis 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %c = mobileone.concat %x, %y {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x6x8x8xf32>
  return
}

// -----

func.func @concat_wrong_result(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{'mobileone.concat' op inferred type(s) 'tensor<1x8x8x8xf32>' are incompatible with return type(s) of operation 'tensor<1x6x8x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %c = mobileone.concat %x, %x {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x6x8x8xf32>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{perm [0, 1, 1, 3] is not a permutation of the 4 dimensions}}
  // expected-error @+1 {{failed to infer returned types}}
  %t = mobileone.transpose %x {perm = array<i64: 0, 1, 1, 3>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

func.func @split_sizes(%x: tensor<1x6x8x8xf32>) {
  // expected-error @+2 {{part sizes [2, 2] do not sum to dimension 1 (6)}}
  // expected-error @+1 {{failed to infer returned types}}
  %s:2 = mobileone.split %x {axis = 1 : i64, split = array<i64: 2, 2>} : (tensor<1x6x8x8xf32>) -> (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>)
  return
}

// -----

func.func @slice_not_normalised(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{slice of dimension 2 (size 8): start 0, end 9, step 1 are not normalised}}
  // expected-error @+1 {{failed to infer returned types}}
  %s = mobileone.slice %x {starts = array<i64: 0, 0, 0, 0>, ends = array<i64: 1, 4, 9, 8>, steps = array<i64: 1, 1, 1, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @pad_mode(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{unsupported pad mode 'wrap' (expected constant, reflect or edge)}}
  // expected-error @+1 {{failed to infer returned types}}
  %p = mobileone.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = "wrap", value = 0.0 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x10x10xf32>
  return
}

// -----

func.func @pad_reflect_too_wide(%x: tensor<1x4x2x2xf32>) {
  // expected-error @+2 {{reflect padding of dimension 2 must be smaller than its size 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %p = mobileone.pad %x {pads = array<i64: 0, 0, 2, 0, 0, 0, 0, 0>, mode = "reflect", value = 0.0 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x4x2xf32>
  return
}

// -----

func.func @reduce_axes(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{axes [3, 2] must be sorted, unique and within rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = mobileone.reduce_mean %x {axes = array<i64: 3, 2>, keepdims = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32>
  return
}

// -----

func.func @pool_too_big(%x: tensor<1x4x2x2xf32>) {
  // expected-error @+2 {{kernel [3, 3] does not fit the padded input [1, 4, 2, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %p = mobileone.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = 0 : i64} : (tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32>
  return
}

// -----

func.func @pool_pad_exceeds_kernel(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{pads [2, 0, 0, 0] must be smaller than the kernel [2, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %p = mobileone.avg_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 2, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = 0 : i64, count_include_pad = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x9x7xf32>
  return
}

// -----

func.func @matmul_inner(%x: tensor<2x3xf32>, %y: tensor<4x5xf32>) {
  // expected-error @+2 {{inner dimensions differ: [2, 3] x [4, 5]}}
  // expected-error @+1 {{failed to infer returned types}}
  %m = mobileone.matmul %x, %y : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @gather_axis(%x: tensor<3xi64>, %i: tensor<1xi64>) {
  // expected-error @+2 {{axis 1 is out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %g = mobileone.gather %x, %i {axis = 1 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  return
}

// -----

func.func @shape_range(%x: tensor<1x4xf32>) {
  // expected-error @+2 {{expected 0 <= start <= end <= rank (2), got start 1, end 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %s = mobileone.shape %x {start = 1 : i64, end = 3 : i64} : (tensor<1x4xf32>) -> tensor<2xi64>
  return
}

// -----

func.func @expand_bad(%x: tensor<3x1xf32>) {
  // expected-error @+1 {{'mobileone.expand' op cannot broadcast 'tensor<3x1xf32>' to 'tensor<2x4xf32>'}}
  %e = mobileone.expand %x : (tensor<3x1xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @binary_mixed_types(%x: tensor<3xf32>, %y: tensor<3xi64>) {
  // expected-error @+1 {{'mobileone.add' op expected operands and result of one element type, got 'f32', 'i64' -> 'f32'}}
  %a = mobileone.add %x, %y : (tensor<3xf32>, tensor<3xi64>) -> tensor<3xf32>
  return
}

// -----

func.func @gelu_mode(%x: tensor<3xf32>) {
  // expected-error @+1 {{'mobileone.gelu' op expected approximate = "none" or "tanh", got "fast"}}
  %a = mobileone.gelu %x {approximate = "fast"} : tensor<3xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<3xf32>) {
  // expected-error @+1 {{'mobileone.softmax' op axis 1 is out of range for rank 1}}
  %a = mobileone.softmax %x {axis = 1 : i64} : tensor<3xf32>
  return
}

// -----

func.func @layer_norm_scale(%x: tensor<2x8xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'mobileone.layer_norm' op expected scale and bias of shape [8], got 'tensor<4xf32>'}}
  %a = mobileone.layer_norm %x, %s {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @clip_nan(%x: tensor<3xf32>) {
  // expected-error @+1 {{'mobileone.clip' op expected non-NaN bounds}}
  %a = mobileone.clip %x {min = 0x7FC00000 : f32, max = 6.0 : f32} : tensor<3xf32>
  return
}

// -----

func.func @cast_shape(%x: tensor<3xf32>) {
  // expected-error @+1 {{'mobileone.cast' op expected the result shape to equal the input shape}}
  %a = mobileone.cast %x : (tensor<3xf32>) -> tensor<4xi64>
  return
}

// -----

func.func @reshape_types(%x: tensor<3xf32>) {
  // expected-error @+1 {{'mobileone.reshape' op expected the result element type to equal the input's, got 'f32' -> 'i64'}}
  %a = mobileone.reshape %x : (tensor<3xf32>) -> tensor<3x1xi64>
  return
}
