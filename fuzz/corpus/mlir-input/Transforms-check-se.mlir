// Default: one remark per SE, nothing else, IR unchanged.
// RUN: mobileone-opt %s --mobileone-check-se -verify-diagnostics | FileCheck %s --check-prefix=IR
// RUN: mobileone-opt %s --mobileone-check-se=report=false 2>&1 | FileCheck %s --check-prefix=QUIET

// Options: warnings by default, errors (and a failing pass) with errors=true.
// RUN: mobileone-opt %s --mobileone-check-se="report=false allowed-stages=1" 2>&1 | FileCheck %s --check-prefix=STAGES
// RUN: mobileone-opt %s --mobileone-check-se="report=false require-after-sum=true" 2>&1 | FileCheck %s --check-prefix=PLACE
// RUN: not mobileone-opt %s --mobileone-check-se="report=false max-count=2 errors=true" 2>&1 | FileCheck %s --check-prefix=COUNT
// RUN: mobileone-opt %s --mobileone-check-se="report=false max-count=3 allowed-stages=0,1 errors=true" 2>&1 | FileCheck %s --check-prefix=QUIET

// IR-LABEL: func.func @net
// IR-COUNT-3: mobileone.squeeze_excite
// QUIET-NOT: remark
// QUIET-NOT: warning
// QUIET-NOT: error

func.func @net(%x: tensor<1x8x16x16xf32>, %w: tensor<8x1x3x3xf32>, %rw: tensor<2x8x1x1xf32>, %rb: tensor<2xf32>, %ew: tensor<8x2x1x1xf32>, %eb: tensor<8xf32>) -> tensor<1x8x4x4xf32> {
  %stem = mobileone.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<1x8x16x16xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32>
  %a0 = mobileone.relu %stem : tensor<1x8x8x8xf32>
  %b1 = mobileone.block %a0 {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  ^bb0(%in: tensor<1x8x8x8xf32>):
    %c = mobileone.conv2d %in, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32>
    mobileone.yield %c : tensor<1x8x8x8xf32>
  }
  // STAGES: check-se.mlir:[[# @LINE + 2]]:{{.*}} warning: squeeze_excite in stage 0, allowed only in stages [1]
  // expected-remark @+1 {{squeeze_excite #0 after layer #1 (stage 0): 8 channels, 2 reduced}}
  %s1 = mobileone.squeeze_excite %b1, %rw, %rb, %ew, %eb : (tensor<1x8x8x8xf32>, tensor<2x8x1x1xf32>, tensor<2xf32>, tensor<8x2x1x1xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %a1 = mobileone.relu %s1 : tensor<1x8x8x8xf32>
  %b2 = mobileone.block %a1 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32> {
  ^bb0(%in: tensor<1x8x8x8xf32>):
    %c = mobileone.conv2d %in, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x4x4xf32>
    mobileone.yield %c : tensor<1x8x4x4xf32>
  }
  // expected-remark @+1 {{squeeze_excite #1 after layer #2 (stage 1): 8 channels, 2 reduced}}
  %s2 = mobileone.squeeze_excite %b2, %rw, %rb, %ew, %eb : (tensor<1x8x4x4xf32>, tensor<2x8x1x1xf32>, tensor<2xf32>, tensor<8x2x1x1xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  %a2 = mobileone.relu %s2 : tensor<1x8x4x4xf32>
  // PLACE: check-se.mlir:[[# @LINE + 5]]:{{.*}} warning: squeeze_excite must read a block sum (a 'mobileone.block' or its merged conv2d), got 'mobileone.relu'
  // PLACE: check-se.mlir:[[# @LINE + 4]]:{{.*}} warning: squeeze_excite must feed the block activation 'mobileone.relu', got 'func.return'
  // COUNT: check-se.mlir:[[# @LINE + 3]]:{{.*}} error: more than 2 squeeze_excite modules (max-count)
  // STAGES-NOT: warning
  // expected-remark @+1 {{squeeze_excite #2 after layer #2 (stage 1): 8 channels, 2 reduced}}
  %s3 = mobileone.squeeze_excite %a2, %rw, %rb, %ew, %eb : (tensor<1x8x4x4xf32>, tensor<2x8x1x1xf32>, tensor<2xf32>, tensor<8x2x1x1xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  return %s3 : tensor<1x8x4x4xf32>
}
