// RUN: mobileone-opt %s -split-input-file --mobileone-recover-structure | FileCheck %s

// A RepVGG block as an ONNX import writes it: three branches of %x summed
// by a chain of adds, in any association.
// CHECK-LABEL: func.func @repvgg
// CHECK: %[[B:.*]] = mobileone.block %arg0 {dilations = array<i64: 1, 1>, group = 1 : i64, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: tensor<1x2x4x4xf32>):
// CHECK-DAG: %[[C3:.*]] = mobileone.conv2d %[[IN]], %{{.*}} {{{.*}}pads = array<i64: 1, 1, 1, 1>
// CHECK-DAG: %[[C1:.*]] = mobileone.conv2d %[[IN]], %{{.*}} {{{.*}}pads = array<i64: 0, 0, 0, 0>
// CHECK-DAG: %[[S:.*]] = mobileone.batch_norm %[[IN]]
// CHECK: mobileone.yield
// CHECK-NOT: mobileone.add
// CHECK: mobileone.relu %[[B]]
func.func @repvgg(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.375> : tensor<2x2x1x1xf32>
  %p = arith.constant dense<0.5> : tensor<2xf32>
  %c3 = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  %b3 = mobileone.batch_norm %c3, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %c1 = mobileone.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %b1 = mobileone.batch_norm %c1, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %s = mobileone.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %a0 = mobileone.add %s, %b1 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %a1 = mobileone.add %b3, %a0 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %r = mobileone.relu %a1 : tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// Eval-mode export: branch convs carry the folded BN as a bias; stride 2,
// depthwise, a 1x1 scale branch centred in the 3x3 block.
// CHECK-LABEL: func.func @folded_stride2
// CHECK: mobileone.block %arg0 {dilations = array<i64: 1, 1>, group = 2 : i64, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
func.func @folded_stride2(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %w3 = arith.constant dense<0.25> : tensor<2x1x3x3xf32>
  %w1 = arith.constant dense<0.375> : tensor<2x1x1x1xf32>
  %b = arith.constant dense<0.5> : tensor<2xf32>
  %c3 = mobileone.conv2d %x, %w3, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %c1 = mobileone.conv2d %x, %w1, %b {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %a = mobileone.add %c1, %c3 : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %a : tensor<1x2x2x2xf32>
}

// -----

// Left alone: a residual through an activation (not a linear map of %x)
// and a sum with a conv whose result a relu also reads (the conv is then a
// region input of its own). An off-centre kernel is fine: its window lies in
// the union of the summands'.
// CHECK-LABEL: func.func @not_blocks
// CHECK: mobileone.add %arg0
// CHECK: mobileone.block %arg0 {dilations = array<i64: 1, 1>, group = 1 : i64, kernel = array<i64: 3, 3>, pads = array<i64: 2, 2, 0, 0>
// CHECK-NOT: mobileone.block
// CHECK: mobileone.add
// CHECK-NOT: mobileone.add
func.func @not_blocks(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w3 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %w1 = arith.constant dense<0.375> : tensor<2x2x1x1xf32>
  %c = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  %r = mobileone.relu %c : tensor<1x2x4x4xf32>
  %res = mobileone.add %x, %r : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %d1 = mobileone.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %d3 = mobileone.conv2d %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  %notcentred = mobileone.add %d1, %d3 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e = mobileone.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %shared = mobileone.add %e, %x : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %out = mobileone.relu %e : tensor<1x2x4x4xf32>
  return %res, %notcentred, %shared : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// SE with 1x1 convs and the gate reshaped (view(-1, c, 1, 1) in PyTorch).
// CHECK-LABEL: func.func @se_conv
// CHECK: %[[SE:.*]] = mobileone.squeeze_excite %arg0, %arg1, %arg2, %arg3, %arg4
// CHECK-NOT: mobileone.sigmoid
// CHECK: return %[[SE]]
func.func @se_conv(%x: tensor<1x8x4x4xf32>, %rw: tensor<2x8x1x1xf32>, %rb: tensor<2xf32>, %ew: tensor<8x2x1x1xf32>, %eb: tensor<8xf32>) -> tensor<1x8x4x4xf32> {
  %p = mobileone.global_avg_pool %x : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  %r = mobileone.conv2d %p, %rw, %rb {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x8x1x1xf32>, tensor<2x8x1x1xf32>, tensor<2xf32>) -> tensor<1x2x1x1xf32>
  %a = mobileone.relu %r : tensor<1x2x1x1xf32>
  %e = mobileone.conv2d %a, %ew, %eb {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x1x1xf32>, tensor<8x2x1x1xf32>, tensor<8xf32>) -> tensor<1x8x1x1xf32>
  %s = mobileone.sigmoid %e : tensor<1x8x1x1xf32>
  %g = mobileone.reshape %s : (tensor<1x8x1x1xf32>) -> tensor<1x8x1x1xf32>
  %y = mobileone.mul %x, %g : (tensor<1x8x4x4xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// -----

// SE with linear layers on the flattened pool: weights become 1x1 convs.
// CHECK-LABEL: func.func @se_linear
// CHECK-DAG: %[[RW:.*]] = arith.constant dense<5.000000e-01> : tensor<2x8x1x1xf32>
// CHECK-DAG: %[[EW:.*]] = arith.constant dense<2.500000e-01> : tensor<8x2x1x1xf32>
// CHECK: mobileone.squeeze_excite %arg0, %[[RW]], %{{.*}}, %[[EW]], %{{.*}} :
// CHECK-NOT: mobileone.linear
func.func @se_linear(%x: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
  %rw = arith.constant dense<0.5> : tensor<2x8xf32>
  %rb = arith.constant dense<0.5> : tensor<2xf32>
  %ew = arith.constant dense<0.25> : tensor<8x2xf32>
  %eb = arith.constant dense<0.5> : tensor<8xf32>
  %p = mobileone.global_avg_pool %x : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  %f = mobileone.reshape %p : (tensor<1x8x1x1xf32>) -> tensor<1x8xf32>
  %r = mobileone.linear %f, %rw, %rb : (tensor<1x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %a = mobileone.relu %r : tensor<1x2xf32>
  %e = mobileone.linear %a, %ew, %eb : (tensor<1x2xf32>, tensor<8x2xf32>, tensor<8xf32>) -> tensor<1x8xf32>
  %s = mobileone.sigmoid %e : tensor<1x8xf32>
  %g = mobileone.reshape %s : (tensor<1x8xf32>) -> tensor<1x8x1x1xf32>
  %y = mobileone.mul %g, %x : (tensor<1x8x1x1xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// -----

// Not an SE: the pool reads another tensor than the one gated.
// CHECK-LABEL: func.func @not_se
// CHECK-NOT: squeeze_excite
func.func @not_se(%x: tensor<1x8x4x4xf32>, %z: tensor<1x8x4x4xf32>, %rw: tensor<2x8x1x1xf32>, %rb: tensor<2xf32>, %ew: tensor<8x2x1x1xf32>, %eb: tensor<8xf32>) -> tensor<1x8x4x4xf32> {
  %p = mobileone.global_avg_pool %z : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  %r = mobileone.conv2d %p, %rw, %rb {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x8x1x1xf32>, tensor<2x8x1x1xf32>, tensor<2xf32>) -> tensor<1x2x1x1xf32>
  %a = mobileone.relu %r : tensor<1x2x1x1xf32>
  %e = mobileone.conv2d %a, %ew, %eb {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x1x1xf32>, tensor<8x2x1x1xf32>, tensor<8xf32>) -> tensor<1x8x1x1xf32>
  %s = mobileone.sigmoid %e : tensor<1x8x1x1xf32>
  %y = mobileone.mul %x, %s : (tensor<1x8x4x4xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// -----

// RepGhost: a depthwise conv and a BN-only fusion branch of %y, and a
// residual shortcut %s added to their sum. The outer add is not linear in
// one input; the inner sum is a region, and the shortcut add stays.
// CHECK-LABEL: func.func @repghost_shortcut
// CHECK-SAME: (%[[Y:.*]]: tensor<1x4x8x8xf32>, %[[S:.*]]: tensor<1x4x8x8xf32>
// CHECK: %[[B:.*]] = mobileone.block %[[Y]] {dilations = array<i64: 1, 1>, group = 4 : i64, kernel = array<i64: 3, 3>
// CHECK: mobileone.yield
// CHECK: %[[R:.*]] = mobileone.add %[[B]], %[[S]]
// CHECK: return %[[R]]
func.func @repghost_shortcut(%y: tensor<1x4x8x8xf32>, %s: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = arith.constant dense<0.25> : tensor<4x1x3x3xf32>
  %b = arith.constant dense<0.375> : tensor<4xf32>
  %p = arith.constant dense<0.5> : tensor<4xf32>
  %dw = mobileone.conv2d %y, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %f = mobileone.batch_norm %y, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %sum = mobileone.add %dw, %f : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %r = mobileone.add %sum, %s : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %r : tensor<1x4x8x8xf32>
}
