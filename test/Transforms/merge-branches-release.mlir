// Freeing each merged block's weight blobs (release-weights, what
// mobileone-compile does when it keeps no copy of the model) frees only
// blobs nothing reads any more: a weight two blocks share survives the first
// merge, and the result is the same as without the option.
// RUN: mobileone-opt %s --mobileone-merge-branches=release-weights=true -o %t.release.mlir
// RUN: mobileone-opt %s --mobileone-merge-branches -o %t.keep.mlir
// RUN: diff %t.release.mlir %t.keep.mlir
// RUN: FileCheck %s < %t.release.mlir

// CHECK-LABEL: func.func @shared
// CHECK-NOT: mobileone.block
// CHECK: arith.constant dense<{{.*}}1.250000e+00
// CHECK: mobileone.conv2d
// CHECK: arith.constant dense<{{.*}}1.250000e+00
// CHECK: mobileone.conv2d
func.func @shared(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense_resource<shared_w> : tensor<2x1x3x3xf32>
  %b = arith.constant dense_resource<shared_b> : tensor<2xf32>
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  ^bb0(%in: tensor<1x2x4x4xf32>):
    %c = mobileone.conv2d %in, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    mobileone.yield %c, %in : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  }
  %r = mobileone.relu %y : tensor<1x2x4x4xf32>
  %z = mobileone.block %r {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  ^bb0(%in: tensor<1x2x4x4xf32>):
    %c = mobileone.conv2d %in, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    mobileone.yield %c, %in : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  }
  return %z : tensor<1x2x4x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      shared_w: "0x040000000000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E0000803E",
      shared_b: "0x040000000000003F0000003F"
    }
  }
#-}
