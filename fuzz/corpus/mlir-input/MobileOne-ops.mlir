// RUN: mobileone-opt %s | FileCheck %s
// Round trip through the generic form too.
// RUN: mobileone-opt %s --mlir-print-op-generic | mobileone-opt | FileCheck %s

// CHECK-LABEL: func.func @block
// CHECK: %[[Y:.*]] = mobileone.block %{{.*}} {dilations = array<i64: 1, 1>, group = 2 : i64, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: tensor<1x2x6x6xf32>):
// CHECK: %[[C:.*]] = mobileone.conv2d %[[IN]], %{{.*}} {dilations
// CHECK: %[[BN:.*]] = mobileone.batch_norm %[[C]]
// CHECK: %[[S:.*]] = mobileone.conv2d %[[IN]]
// CHECK: mobileone.yield %[[BN]], %[[S]], %[[IN]] :
// CHECK: mobileone.relu %[[Y]] : tensor<1x2x6x6xf32>
func.func @block(%x: tensor<1x2x6x6xf32>, %w3: tensor<2x1x3x3xf32>, %w1: tensor<2x1x1x1xf32>, %p: tensor<2xf32>) -> tensor<1x2x6x6xf32> {
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32> {
  ^bb0(%in: tensor<1x2x6x6xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x6x6xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x6x6xf32>
    %bn = mobileone.batch_norm %c, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x6x6xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x6x6xf32>
    %s = mobileone.conv2d %in, %w1, %p {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x6x6xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x6x6xf32>
    mobileone.yield %bn, %s, %in : tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>
  }
  %r = mobileone.relu %y : tensor<1x2x6x6xf32>
  return %r : tensor<1x2x6x6xf32>
}

// CHECK-LABEL: func.func @head
// CHECK: mobileone.squeeze_excite
// CHECK: mobileone.sigmoid
// CHECK: mobileone.mul %{{.*}}, %{{.*}} : (tensor<1x8x4x4xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x4x4xf32>
// CHECK: mobileone.add
// CHECK: mobileone.global_avg_pool
// CHECK: mobileone.reshape
// CHECK: mobileone.linear
func.func @head(%x: tensor<1x8x4x4xf32>, %rw: tensor<2x8x1x1xf32>, %rb: tensor<2xf32>, %ew: tensor<8x2x1x1xf32>, %eb: tensor<8xf32>, %g: tensor<1x8x1x1xf32>, %lw: tensor<10x8xf32>, %lb: tensor<10xf32>) -> tensor<1x10xf32> {
  %se = mobileone.squeeze_excite %x, %rw, %rb, %ew, %eb : (tensor<1x8x4x4xf32>, tensor<2x8x1x1xf32>, tensor<2xf32>, tensor<8x2x1x1xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  %sg = mobileone.sigmoid %g : tensor<1x8x1x1xf32>
  %m = mobileone.mul %se, %sg : (tensor<1x8x4x4xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x4x4xf32>
  %a = mobileone.add %m, %x : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %p = mobileone.global_avg_pool %a : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  %f = mobileone.reshape %p : (tensor<1x8x1x1xf32>) -> tensor<1x8xf32>
  %l = mobileone.linear %f, %lw, %lb : (tensor<1x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x10xf32>
  return %l : tensor<1x10xf32>
}

// Large weights as dense_resource blobs survive bytecode.
// RUN: mobileone-opt %s --emit-bytecode | mobileone-opt | FileCheck %s --check-prefix=BLOB
// BLOB-LABEL: func.func @blob
// BLOB: arith.constant dense_resource<w> : tensor<1x1x1x2xf32>
// BLOB: w: "0x0400000000000040000080BF"
func.func @blob(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense_resource<w> : tensor<1x1x1x2xf32>
  %wt = arith.constant dense<1.0> : tensor<2x1x1x1xf32>
  %y = mobileone.conv2d %x, %wt {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x0400000000000040000080BF"
    }
  }
#-}
