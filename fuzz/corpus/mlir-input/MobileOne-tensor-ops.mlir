// RUN: mobileone-opt %s | mobileone-opt | FileCheck %s
// The ops around re-param blocks: they parse, verify (result types are the
// inferred ones) and print back.

// CHECK-LABEL: func.func @activations
func.func @activations(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // CHECK: mobileone.gelu %{{.*}} {approximate = "none"}
  %0 = mobileone.gelu %x {approximate = "none"} : tensor<1x4x8x8xf32>
  // CHECK: mobileone.hard_sigmoid %{{.*}} {alpha = 0.166666672 : f32, beta = 5.000000e-01 : f32}
  %1 = mobileone.hard_sigmoid %0 {alpha = 0.166666672 : f32, beta = 0.5 : f32} : tensor<1x4x8x8xf32>
  // CHECK: mobileone.hard_swish
  %2 = mobileone.hard_swish %1 : tensor<1x4x8x8xf32>
  // CHECK: mobileone.clip %{{.*}} {max = 6.000000e+00 : f32, min = 0.000000e+00 : f32}
  %3 = mobileone.clip %2 {min = 0.0 : f32, max = 6.0 : f32} : tensor<1x4x8x8xf32>
  // CHECK: mobileone.leaky_relu
  %4 = mobileone.leaky_relu %3 {alpha = 0.01 : f32} : tensor<1x4x8x8xf32>
  // CHECK: mobileone.tanh
  %5 = mobileone.tanh %4 : tensor<1x4x8x8xf32>
  // CHECK: mobileone.erf
  %6 = mobileone.erf %5 : tensor<1x4x8x8xf32>
  // CHECK: mobileone.softmax %{{.*}} {axis = 1 : i64}
  %7 = mobileone.softmax %6 {axis = 1 : i64} : tensor<1x4x8x8xf32>
  return %7 : tensor<1x4x8x8xf32>
}

// CHECK-LABEL: func.func @layout
func.func @layout(%x: tensor<1x4x8x8xf32>, %y: tensor<1x2x8x8xf32>) -> tensor<1x8x3x6xf32> {
  // CHECK: mobileone.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x6x8x8xf32>
  %c = mobileone.concat %x, %y {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x6x8x8xf32>
  // CHECK: mobileone.split %{{.*}} {axis = 1 : i64, split = array<i64: 2, 4>} : (tensor<1x6x8x8xf32>) -> (tensor<1x2x8x8xf32>, tensor<1x4x8x8xf32>)
  %s:2 = mobileone.split %c {axis = 1 : i64, split = array<i64: 2, 4>} : (tensor<1x6x8x8xf32>) -> (tensor<1x2x8x8xf32>, tensor<1x4x8x8xf32>)
  // CHECK: mobileone.transpose %{{.*}} {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x8x8x4xf32>
  %t = mobileone.transpose %s#1 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x8x8x4xf32>
  // CHECK: mobileone.slice
  %l = mobileone.slice %t {starts = array<i64: 0, 0, 7, 0>, ends = array<i64: 1, 8, -1, 4>, steps = array<i64: 1, 1, -3, 1>} : (tensor<1x8x8x4xf32>) -> tensor<1x8x3x4xf32>
  // CHECK: mobileone.pad %{{.*}} {mode = "reflect", pads = array<i64: 0, 0, 0, 1, 0, 0, 0, 1>, value = 0.000000e+00 : f32}
  %p = mobileone.pad %l {pads = array<i64: 0, 0, 0, 1, 0, 0, 0, 1>, mode = "reflect", value = 0.0 : f32} : (tensor<1x8x3x4xf32>) -> tensor<1x8x3x6xf32>
  return %p : tensor<1x8x3x6xf32>
}

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<2x4x9x9xf32>, %s: tensor<9xf32>, %m: tensor<4x9x5xf32>) -> (tensor<2x4x1x1xf32>, tensor<2x4x4x4xf32>, tensor<2x4x5x5xf32>, tensor<2x4x9x9xf32>, tensor<2x4x9x5xf32>) {
  // CHECK: mobileone.reduce_mean %{{.*}} {axes = array<i64: 2, 3>, keepdims = 1 : i64}
  %r = mobileone.reduce_mean %x {axes = array<i64: 2, 3>, keepdims = 1 : i64} : (tensor<2x4x9x9xf32>) -> tensor<2x4x1x1xf32>
  // CHECK: mobileone.max_pool
  %mp = mobileone.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = 0 : i64} : (tensor<2x4x9x9xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: mobileone.avg_pool
  %ap = mobileone.avg_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = 0 : i64, count_include_pad = 0 : i64} : (tensor<2x4x9x9xf32>) -> tensor<2x4x5x5xf32>
  // CHECK: mobileone.layer_norm
  %ln = mobileone.layer_norm %x, %s, %s {axis = 3 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x4x9x9xf32>, tensor<9xf32>, tensor<9xf32>) -> tensor<2x4x9x9xf32>
  // CHECK: mobileone.matmul %{{.*}}, %{{.*}} : (tensor<2x4x9x9xf32>, tensor<4x9x5xf32>) -> tensor<2x4x9x5xf32>
  %mm = mobileone.matmul %x, %m : (tensor<2x4x9x9xf32>, tensor<4x9x5xf32>) -> tensor<2x4x9x5xf32>
  return %r, %mp, %ap, %ln, %mm : tensor<2x4x1x1xf32>, tensor<2x4x4x4xf32>, tensor<2x4x5x5xf32>, tensor<2x4x9x9xf32>, tensor<2x4x9x5xf32>
}

// CHECK-LABEL: func.func @shapes
func.func @shapes(%x: tensor<2x4x8x8xf32>, %i: tensor<2xi64>) -> (tensor<3xi64>, tensor<2xi64>, tensor<2x1xi64>, tensor<2xi1>, tensor<2xi64>) {
  // CHECK: mobileone.shape %{{.*}} {end = 4 : i64, start = 1 : i64} : (tensor<2x4x8x8xf32>) -> tensor<3xi64>
  %s = mobileone.shape %x {start = 1 : i64, end = 4 : i64} : (tensor<2x4x8x8xf32>) -> tensor<3xi64>
  // CHECK: mobileone.gather
  %g = mobileone.gather %s, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi64>) -> tensor<2xi64>
  // CHECK: mobileone.reshape
  %r = mobileone.reshape %g : (tensor<2xi64>) -> tensor<2x1xi64>
  // CHECK: mobileone.equal
  %e = mobileone.equal %g, %i : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi1>
  // CHECK: mobileone.where
  %w = mobileone.where %e, %g, %i : (tensor<2xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %s, %g, %r, %e, %w : tensor<3xi64>, tensor<2xi64>, tensor<2x1xi64>, tensor<2xi1>, tensor<2xi64>
}

// CHECK-LABEL: func.func @more_elementwise
func.func @more_elementwise(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x1xf32>, tensor<3xf32>) {
  // CHECK: mobileone.exp
  %e = mobileone.exp %x : tensor<2x3xf32>
  // CHECK: mobileone.neg
  %n = mobileone.neg %e : tensor<2x3xf32>
  // CHECK: mobileone.reciprocal
  %r = mobileone.reciprocal %n : tensor<2x3xf32>
  // CHECK: mobileone.sqrt
  %s = mobileone.sqrt %r : tensor<2x3xf32>
  // CHECK: mobileone.pow
  %p = mobileone.pow %s, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: mobileone.reduce_sum %{{.*}} {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  %rs = mobileone.reduce_sum %p {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  // CHECK: mobileone.reduce_max %{{.*}} {axes = array<i64: 0>, keepdims = 0 : i64} : (tensor<2x3xf32>) -> tensor<3xf32>
  %rm = mobileone.reduce_max %p {axes = array<i64: 0>, keepdims = 0 : i64} : (tensor<2x3xf32>) -> tensor<3xf32>
  return %p, %rs, %rm : tensor<2x3xf32>, tensor<2x1xf32>, tensor<3xf32>
}
