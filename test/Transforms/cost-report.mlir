// RUN: mobileone-opt %s --mobileone-cost-report=label=train -o /dev/null | FileCheck %s
// RUN: mobileone-opt %s --mobileone-reparameterize --mobileone-cost-report=label=deploy -o /dev/null | FileCheck %s --check-prefix=DEPLOY

// Training time: branch weights 2*1*3*3 + 2*1*1*1 = 20, three BNs with
// 2 channels * 2 learned parameters = 12, SE 1*2 + 1 + 2*1 + 2 = 7, linear
// 3*2 + 3 = 9; total 48.
// Multiply-adds: 3x3 depthwise on 4x4 -> 32 outputs * 9 = 288, 1x1 scale
// 32 * 1 = 32, linear 3 * 2 = 6; total 326. SE: 2 * 2 * 1 = 4 apart.
// CHECK: train: @main: parameters 0.000 M (48), multiply-adds 0.0 M (326) + squeeze-excite 0.0 M (4)
// CHECK-NEXT: ops: arith.constant=9 mobileone.conv2d=2 mobileone.batch_norm=3 mobileone.block=1 mobileone.squeeze_excite=1 mobileone.relu=1 mobileone.global_avg_pool=1 mobileone.reshape=1 mobileone.linear=1

// Deployed: one 3x3 conv with bias 18 + 2, SE 7, linear 9 = 36; 288 + 6.
// DEPLOY: deploy: @main: parameters 0.000 M (36), multiply-adds 0.0 M (294) + squeeze-excite 0.0 M (4)
// DEPLOY-NEXT: ops: arith.constant=8 mobileone.conv2d=1 mobileone.squeeze_excite=1 mobileone.relu=1 mobileone.global_avg_pool=1 mobileone.reshape=1 mobileone.linear=1

func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x3xf32> {
  %w3 = arith.constant dense<0.25> : tensor<2x1x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<2x1x1x1xf32>
  %p = arith.constant dense<1.0> : tensor<2xf32>
  %rw = arith.constant dense<0.5> : tensor<1x2x1x1xf32>
  %rb = arith.constant dense<0.5> : tensor<1xf32>
  %ew = arith.constant dense<0.5> : tensor<2x1x1x1xf32>
  %eb = arith.constant dense<0.5> : tensor<2xf32>
  %lw = arith.constant dense<0.5> : tensor<3x2xf32>
  %lb = arith.constant dense<0.5> : tensor<3xf32>
  %y = mobileone.block %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  ^bb0(%in: tensor<1x2x4x4xf32>):
    %c = mobileone.conv2d %in, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32>
    %cb = mobileone.batch_norm %c, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %s = mobileone.conv2d %in, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
    %sb = mobileone.batch_norm %s, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %i = mobileone.batch_norm %in, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    mobileone.yield %cb, %sb, %i : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  }
  %se = mobileone.squeeze_excite %y, %rw, %rb, %ew, %eb : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>, tensor<1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %r = mobileone.relu %se : tensor<1x2x4x4xf32>
  %g = mobileone.global_avg_pool %r : (tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32>
  %f = mobileone.reshape %g : (tensor<1x2x1x1xf32>) -> tensor<1x2xf32>
  %l = mobileone.linear %f, %lw, %lb : (tensor<1x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<1x3xf32>
  return %l : tensor<1x3xf32>
}
