// RUN: mobileone-opt %s -canonicalize -split-input-file | FileCheck %s
// The folders and patterns the importer relies on.

// Apple's `x.view(x.size(0), -1)` as PyTorch 1.13 exports it: Shape ->
// Gather -> Unsqueeze -> Concat -> Reshape becomes a constant target shape.
// CHECK-LABEL: func.func @view_batch_minus_one
func.func @view_batch_minus_one(%x: tensor<2x8x1x1xf32>) -> tensor<2xi64> {
  %s = mobileone.shape %x {start = 0 : i64, end = 4 : i64} : (tensor<2x8x1x1xf32>) -> tensor<4xi64>
  %zero = arith.constant dense<0> : tensor<i64>
  %n = mobileone.gather %s, %zero {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %n1 = mobileone.reshape %n : (tensor<i64>) -> tensor<1xi64>
  %m1 = arith.constant dense<-1> : tensor<1xi64>
  %target = mobileone.concat %n1, %m1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // CHECK: %[[C:.*]] = arith.constant dense<[2, -1]> : tensor<2xi64>
  // CHECK-NEXT: return %[[C]]
  return %target : tensor<2xi64>
}

// -----

// Integer arithmetic, slices, casts, Equal/Where and Expand on constants.
// CHECK-LABEL: func.func @int_arith
func.func @int_arith(%x: tensor<1x6x4x4xf32>) -> (tensor<2xi64>, tensor<3xi64>, tensor<2xf32>) {
  %s = mobileone.shape %x {start = 1 : i64, end = 4 : i64} : (tensor<1x6x4x4xf32>) -> tensor<3xi64>
  %two = arith.constant dense<2> : tensor<i64>
  %h = mobileone.div %s, %two : (tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  %m = mobileone.mul %h, %two : (tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  %d = mobileone.sub %m, %two : (tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  %a = mobileone.add %d, %two : (tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  %sl = mobileone.slice %a {starts = array<i64: 2>, ends = array<i64: -1>, steps = array<i64: -2>} : (tensor<3xi64>) -> tensor<2xi64>
  %eq = mobileone.equal %a, %two : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %e = mobileone.expand %two : (tensor<i64>) -> tensor<3xi64>
  %w = mobileone.where %eq, %e, %a : (tensor<3xi1>, tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %f = mobileone.cast %sl : (tensor<2xi64>) -> tensor<2xf32>
  // CHECK-DAG: arith.constant dense<[4, 6]> : tensor<2xi64>
  // CHECK-DAG: arith.constant dense<[6, 4, 4]> : tensor<3xi64>
  // CHECK-DAG: arith.constant dense<[4.000000e+00, 6.000000e+00]> : tensor<2xf32>
  // CHECK-NOT: mobileone.
  return %sl, %w, %f : tensor<2xi64>, tensor<3xi64>, tensor<2xf32>
}

// -----

// Division by zero is not folded: the verifier-free fold would be undefined.
// CHECK-LABEL: func.func @div_by_zero
func.func @div_by_zero() -> tensor<1xi64> {
  %a = arith.constant dense<4> : tensor<1xi64>
  %z = arith.constant dense<0> : tensor<1xi64>
  // CHECK: mobileone.div
  %d = mobileone.div %a, %z : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %d : tensor<1xi64>
}

// -----

// The GELU that exporters before opset 20 write, in both associations.
// CHECK-LABEL: func.func @gelu_decomposed
// CHECK-SAME: (%[[X:.*]]: tensor<1x8xf32>
func.func @gelu_decomposed(%x: tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %d = mobileone.div %x, %sqrt2 : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %e = mobileone.erf %d : tensor<1x8xf32>
  %a = mobileone.add %e, %one : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %m = mobileone.mul %x, %a : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %g = mobileone.mul %m, %half : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  // x * ((erf(x * 1/sqrt2) + 1) * 0.5)
  %r = arith.constant dense<0.707106769> : tensor<f32>
  %d2 = mobileone.mul %x, %r : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %e2 = mobileone.erf %d2 : tensor<1x8xf32>
  %a2 = mobileone.add %one, %e2 : (tensor<f32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %h2 = mobileone.mul %a2, %half : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %g2 = mobileone.mul %x, %h2 : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  // CHECK: %[[G:.*]] = mobileone.gelu %[[X]] {approximate = "none"}
  // CHECK: %[[G2:.*]] = mobileone.gelu %[[X]] {approximate = "none"}
  // CHECK: return %[[G]], %[[G2]]
  return %g, %g2 : tensor<1x8xf32>, tensor<1x8xf32>
}

// -----

// Not a GELU: the erf reads another value.
// CHECK-LABEL: func.func @not_gelu
func.func @not_gelu(%x: tensor<1x8xf32>, %y: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %d = mobileone.div %y, %sqrt2 : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %e = mobileone.erf %d : tensor<1x8xf32>
  %a = mobileone.add %e, %one : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %m = mobileone.mul %x, %a : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %g = mobileone.mul %m, %half : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  // CHECK-NOT: mobileone.gelu
  // CHECK: mobileone.erf
  return %g : tensor<1x8xf32>
}

// -----

// A zero Pad of H and W in front of a conv becomes its padding; an all-zero
// Pad disappears; a Pad of channels or with a non-zero value stays.
// CHECK-LABEL: func.func @pads
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8x8xf32>, %[[W:.*]]: tensor<4x4x3x3xf32>
func.func @pads(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) -> (tensor<1x4x9x7xf32>, tensor<1x4x8x8xf32>, tensor<1x4x10x10xf32>) {
  %p = mobileone.pad %x {pads = array<i64: 0, 0, 1, 0, 0, 0, 2, 1>, mode = "constant", value = 0.0 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x11x9xf32>
  // CHECK: mobileone.conv2d %[[X]], %[[W]] {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 0, 2, 1>, strides = array<i64: 1, 1>}
  %c = mobileone.conv2d %p, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x11x9xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x9x7xf32>
  %z = mobileone.pad %x {pads = array<i64: 0, 0, 0, 0, 0, 0, 0, 0>, mode = "constant", value = 0.0 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: mobileone.pad %[[X]] {mode = "constant", pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, value = 1.000000e+00 : f32}
  %o = mobileone.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = "constant", value = 1.0 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x10x10xf32>
  // CHECK: return %{{.*}}, %[[X]], %{{.*}}
  return %c, %z, %o : tensor<1x4x9x7xf32>, tensor<1x4x8x8xf32>, tensor<1x4x10x10xf32>
}

// -----

// SiLU as PyTorch exports it, in either operand order; a product with the
// sigmoid of something else stays.
// CHECK-LABEL: func.func @silu
// CHECK-SAME: (%[[X:.*]]: tensor<1x8xf32>, %[[Y:.*]]: tensor<1x8xf32>)
func.func @silu(%x: tensor<1x8xf32>, %y: tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>) {
  %s = mobileone.sigmoid %x : tensor<1x8xf32>
  %a = mobileone.mul %x, %s : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %b = mobileone.mul %s, %x : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %c = mobileone.mul %y, %s : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  // CHECK: %[[A:.*]] = mobileone.silu %[[X]]
  // CHECK: %[[B:.*]] = mobileone.silu %[[X]]
  // CHECK: %[[C:.*]] = mobileone.mul %[[Y]]
  return %a, %b, %c : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>
}
