// RUN: mobileone-opt %s -split-input-file --convert-mobileone-to-tosa -verify-diagnostics | FileCheck %s
// Errors name the target the user asked for.
// RUN: not mobileone-opt %s -split-input-file --convert-mobileone-to-tosa 2>&1 | FileCheck %s --check-prefix=WHO-TOSA
// RUN: not mobileone-opt %s -split-input-file --convert-mobileone-to-tosa=target=tflite 2>&1 | FileCheck %s --check-prefix=WHO-TFLITE
// WHO-TOSA: error: TOSA lowering cannot express 'mobileone.slice' with steps other than 1
// WHO-TFLITE: error: TFLite target cannot express 'mobileone.slice' with steps other than 1

// Dense conv + ReLU: one transpose in (NCHW -> NHWC), OIHW weights become
// OHWI at compile time, ONNX pads [t, l, b, r] become TOSA [t, b, l, r].
// CHECK-LABEL: func.func @dense
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x5x5xf32>) -> tensor<1x2x3x2xf32>
// W[o][i][y][x] = 8*o + 4*i + 2*y + x  ->  OHWI: [o][y][x][i]
// CHECK-DAG: %[[W:.*]] = "tosa.const"() <{value = dense<{{\[}}{{\[}}{{\[}}[0.000000e+00, 4.000000e+00], [1.000000e+00, 5.000000e+00]], {{\[}}[2.000000e+00, 6.000000e+00], [3.000000e+00, 7.000000e+00]]], {{\[}}{{\[}}[8.000000e+00, 1.200000e+01], [9.000000e+00, 1.300000e+01]], {{\[}}[1.000000e+01, 1.400000e+01], [1.100000e+01, 1.500000e+01]]]]> : tensor<2x2x2x2xf32>}>
// CHECK-DAG: %[[B:.*]] = "tosa.const"() <{value = dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>}>
// CHECK-DAG: %[[PERM:.*]] = "tosa.const"() <{value = dense<[0, 2, 3, 1]> : tensor<4xi32>}>
// CHECK: %[[IN:.*]] = tosa.transpose %[[X]], %[[PERM]] : (tensor<1x2x5x5xf32>, tensor<4xi32>) -> tensor<1x5x5x2xf32>
// CHECK: %[[C:.*]] = tosa.conv2d %[[IN]], %[[W]], %[[B]] {dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x5x5x2xf32>, tensor<2x2x2x2xf32>, tensor<2xf32>) -> tensor<1x3x2x2xf32>
// CHECK: %[[R:.*]] = tosa.clamp %[[C]] {max_fp = 3.40282347E+38 : f32, max_int = 9223372036854775807 : i64, min_fp = 0.000000e+00 : f32, min_int = 0 : i64}
// CHECK: %[[OUT:.*]] = tosa.transpose %[[R]], %{{.*}} : (tensor<1x3x2x2xf32>, tensor<4xi32>) -> tensor<1x2x3x2xf32>
// CHECK-NOT: tosa.transpose
// CHECK: return %[[OUT]]
func.func @dense(%x: tensor<1x2x5x5xf32>) -> tensor<1x2x3x2xf32> {
  %w = arith.constant dense<[[[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]], [[[8.0, 9.0], [10.0, 11.0]], [[12.0, 13.0], [14.0, 15.0]]]]> : tensor<2x2x2x2xf32>
  %b = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %c = mobileone.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 0, 1, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<2x2x2x2xf32>, tensor<2xf32>) -> tensor<1x2x3x2xf32>
  %r = mobileone.relu %c : tensor<1x2x3x2xf32>
  return %r : tensor<1x2x3x2xf32>
}

// -----

// Depthwise with multiplier 2: [C*M, 1, KH, KW] -> HWCM, channel c*M + m;
// no bias gives a zero bias.
// CHECK-LABEL: func.func @depthwise
// CHECK-DAG: "tosa.const"() <{value = dense<{{\[}}{{\[}}{{\[}}[0.000000e+00, 1.000000e+00], [2.000000e+00, 3.000000e+00]]]]> : tensor<1x1x2x2xf32>}>
// CHECK-DAG: "tosa.const"() <{value = dense<0.000000e+00> : tensor<4xf32>}>
// CHECK: tosa.depthwise_conv2d {{.*}} {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<1x1x2x2xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
func.func @depthwise(%x: tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %w = arith.constant dense<[[[[0.0]]], [[[1.0]]], [[[2.0]]], [[[3.0]]]]> : tensor<4x1x1x1xf32>
  %c = mobileone.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<4x1x1x1xf32>) -> tensor<1x4x4x4xf32>
  return %c : tensor<1x4x4x4xf32>
}

// -----

// Grouped (2 groups of 2 channels): a slice and a conv per group, concatenated.
// CHECK-LABEL: func.func @grouped
// CHECK: %[[IN:.*]] = tosa.transpose
// CHECK: %[[S0:.*]] = tosa.slice %[[IN]] {size = array<i64: 1, 4, 4, 2>, start = array<i64: 0, 0, 0, 0>}
// CHECK: %[[C0:.*]] = tosa.conv2d %[[S0]]
// CHECK: %[[S1:.*]] = tosa.slice %[[IN]] {size = array<i64: 1, 4, 4, 2>, start = array<i64: 0, 0, 0, 2>}
// CHECK: %[[C1:.*]] = tosa.conv2d %[[S1]]
// CHECK: tosa.concat %[[C0]], %[[C1]] {axis = 3 : i32} : (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) -> tensor<1x4x4x4xf32>
func.func @grouped(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2x1x1xf32>
  %c = mobileone.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x4x4xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x4x4xf32>
  return %c : tensor<1x4x4x4xf32>
}

// -----

// The head: SE and a left-over BN on a graph input stay NCHW (nothing
// there has a layout); each pooling transposes its input to NHWC, and the
// reshape to [N, C] drops the transpose back (it only moves unit dims).
// CHECK-LABEL: func.func @head
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x4x4xf32>)
// CHECK: %[[XT:.*]] = tosa.transpose %[[X]]
// CHECK: %[[SEPOOL:.*]] = tosa.avg_pool2d %[[XT]] {acc_type = f32, kernel = array<i64: 4, 4>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x8xf32>) -> tensor<1x1x1x8xf32>
// CHECK: %[[FLAT:.*]] = tosa.reshape %[[SEPOOL]] {new_shape = array<i64: 1, 8>}
// CHECK: %[[H:.*]] = tosa.fully_connected %[[FLAT]], %{{.*}}, %{{.*}} : (tensor<1x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<1x2xf32>
// CHECK: tosa.clamp %[[H]]
// CHECK: %[[E:.*]] = tosa.fully_connected %{{.*}} : (tensor<1x2xf32>, tensor<8x2xf32>, tensor<8xf32>) -> tensor<1x8xf32>
// CHECK: %[[G:.*]] = tosa.sigmoid %[[E]]
// CHECK: %[[GR:.*]] = tosa.reshape %[[G]] {new_shape = array<i64: 1, 8, 1, 1>}
// CHECK: %[[SE:.*]] = tosa.mul %[[X]], %[[GR]] {shift = 0 : i8} : (tensor<1x8x4x4xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x4x4xf32>
// CHECK: %[[BNM:.*]] = tosa.mul %[[SE]], %{{.*}} {shift = 0 : i8} : (tensor<1x8x4x4xf32>, tensor<1x8x1x1xf32>)
// CHECK: %[[BN:.*]] = tosa.add %[[BNM]], %{{.*}} : (tensor<1x8x4x4xf32>, tensor<1x8x1x1xf32>)
// CHECK: %[[BNT:.*]] = tosa.transpose %[[BN]]
// CHECK: %[[P:.*]] = tosa.avg_pool2d %[[BNT]]
// CHECK-NOT: tosa.transpose
// CHECK: %[[F:.*]] = tosa.reshape %[[P]] {new_shape = array<i64: 1, 8>}
// CHECK: %[[L:.*]] = tosa.fully_connected %[[F]], %{{.*}}, %{{.*}} : (tensor<1x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<1x3xf32>
// CHECK: return %[[L]]
func.func @head(%x: tensor<1x8x4x4xf32>) -> tensor<1x3xf32> {
  %rw = arith.constant dense<0.5> : tensor<2x8x1x1xf32>
  %rb = arith.constant dense<0.5> : tensor<2xf32>
  %ew = arith.constant dense<0.5> : tensor<8x2x1x1xf32>
  %eb = arith.constant dense<0.5> : tensor<8xf32>
  %p = arith.constant dense<1.0> : tensor<8xf32>
  %lw = arith.constant dense<0.5> : tensor<3x8xf32>
  %lb = arith.constant dense<0.5> : tensor<3xf32>
  %se = mobileone.squeeze_excite %x, %rw, %rb, %ew, %eb : (tensor<1x8x4x4xf32>, tensor<2x8x1x1xf32>, tensor<2xf32>, tensor<8x2x1x1xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  %bn = mobileone.batch_norm %se, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  %g = mobileone.global_avg_pool %bn : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
  %f = mobileone.reshape %g : (tensor<1x8x1x1xf32>) -> tensor<1x8xf32>
  %l = mobileone.linear %f, %lw, %lb : (tensor<1x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<1x3xf32>
  return %l : tensor<1x3xf32>
}

// -----

// Element-wise ops on a graph input: nothing has a layout, no transpose.
// CHECK-LABEL: func.func @elementwise
// CHECK-NOT: tosa.transpose
// CHECK: tosa.add {{.*}} : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x3x3xf32>
// CHECK: tosa.sigmoid
// CHECK: tosa.mul {{.*}} {shift = 0 : i8}
// CHECK-NOT: tosa.transpose
func.func @elementwise(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %c = arith.constant dense<[[[[1.0]], [[2.0]]]]> : tensor<1x2x1x1xf32>
  %a = mobileone.add %x, %c : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  %s = mobileone.sigmoid %a : tensor<1x2x3x3xf32>
  %m = mobileone.mul %s, %x : (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %m : tensor<1x2x3x3xf32>
}

// -----

// Two convs with a GELU, a residual add with an NCHW constant bias and a
// concat on channels between them: the transposes in the middle cancel
// (the constant is re-laid out, the concat axis becomes 3); one transpose
// in, one out. A reshape of the map is a plain reshape of NCHW values.
// CHECK-LABEL: func.func @chain
// CHECK: tosa.transpose
// CHECK: %[[C1:.*]] = tosa.conv2d
// CHECK-NOT: tosa.transpose
// CHECK: tosa.erf
// CHECK-NOT: tosa.transpose
// CHECK: tosa.add %{{.*}}, %{{.*}} : (tensor<1x3x3x2xf32>, tensor<1x1x1x2xf32>)
// CHECK-NOT: tosa.transpose
// CHECK: %[[C2:.*]] = tosa.conv2d
// CHECK: tosa.concat %{{.*}}, %[[C2]] {axis = 3 : i32} : (tensor<1x3x3x2xf32>, tensor<1x3x3x2xf32>) -> tensor<1x3x3x4xf32>
// CHECK: %[[T:.*]] = tosa.transpose
// CHECK: tosa.reshape %[[T]] {new_shape = array<i64: 1, 36>}
func.func @chain(%x: tensor<1x2x3x3xf32>) -> tensor<1x36xf32> {
  %w = arith.constant dense<0.25> : tensor<2x2x1x1xf32>
  %bias = arith.constant dense<[[[[1.0]], [[2.0]]]]> : tensor<1x2x1x1xf32>
  %c1 = mobileone.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  %g = mobileone.gelu %c1 {approximate = "none"} : tensor<1x2x3x3xf32>
  %a = mobileone.add %g, %bias : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  %c2 = mobileone.conv2d %a, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  %cat = mobileone.concat %a, %c2 {axis = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x4x3x3xf32>
  %f = mobileone.reshape %cat : (tensor<1x4x3x3xf32>) -> tensor<1x36xf32>
  return %f : tensor<1x36xf32>
}

// -----

// target=tflite keeps the element-wise ops TFLite has (GELU here), and
// makes 4-D inputs and outputs NHWC: the input's transpose cancels.
// RUN: mobileone-opt %s -split-input-file --convert-mobileone-to-tosa=target=tflite -verify-diagnostics | FileCheck %s --check-prefix=TFLITE
// TFLITE-LABEL: func.func @chain
// TFLITE-SAME: (%[[X:.*]]: tensor<1x3x3x2xf32>) -> tensor<1x36xf32>
// TFLITE-NOT: tosa.transpose
// TFLITE: tosa.conv2d %[[X]]
// TFLITE-NOT: tosa.transpose
// TFLITE: mobileone.gelu %{{.*}} {approximate = "none"} : tensor<1x3x3x2xf32>
// TFLITE: tosa.concat
// TFLITE: tosa.transpose
// TFLITE: tosa.reshape

// Decompositions: hard sigmoid, softmax, layer norm, pools.
// CHECK-LABEL: func.func @decompose
// CHECK: tosa.clamp {{.*}} {max_fp = 1.000000e+00 : f32, {{.*}} min_fp = 0.000000e+00 : f32
// CHECK: tosa.reduce_max {{.*}} {axis = 3 : i32}
// CHECK: tosa.exp
// CHECK: tosa.reduce_sum {{.*}} {axis = 3 : i32}
// CHECK: tosa.reciprocal
// CHECK: tosa.pow
// CHECK: tosa.pad
// CHECK: tosa.avg_pool2d {{.*}} pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>
// CHECK: tosa.max_pool2d {{.*}} {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>}
func.func @decompose(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %s = arith.constant dense<1.0> : tensor<4xf32>
  %h = mobileone.hard_sigmoid %x {alpha = 0.2 : f32, beta = 0.5 : f32} : tensor<1x2x4x4xf32>
  %sm = mobileone.softmax %h {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %ln = mobileone.layer_norm %sm, %s, %s {axis = 3 : i64, epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x2x4x4xf32>
  %ap = mobileone.avg_pool %ln {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = 0 : i64, count_include_pad = 1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  %mp = mobileone.max_pool %ln {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = 0 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  return %ln, %ap, %mp : tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}

// -----

func.func @strided_slice(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x4xf32> {
  // expected-error @+1 {{cannot express 'mobileone.slice' with steps other than 1}}
  %s = mobileone.slice %x {starts = array<i64: 0, 0, 0, 0>, ends = array<i64: 1, 2, 4, 4>, steps = array<i64: 1, 1, 2, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x4xf32>
  return %s : tensor<1x2x2x4xf32>
}

// -----

// Reflect padding: the mirrored rows as slices, concatenated around the
// input, one dimension after the other (H: rows 1 and 2, W likewise).
// CHECK-LABEL: func.func @reflect_pad
// CHECK: tosa.slice %{{.*}} {size = array<i64: 1, 2, 1, 4>, start = array<i64: 0, 0, 1, 0>}
// CHECK: tosa.slice %{{.*}} {size = array<i64: 1, 2, 1, 4>, start = array<i64: 0, 0, 2, 0>}
// CHECK: tosa.concat {{.*}} {axis = 2 : i32} : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x6x4xf32>
// CHECK: tosa.concat {{.*}} {axis = 3 : i32} : (tensor<1x2x6x1xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x1xf32>) -> tensor<1x2x6x6xf32>
func.func @reflect_pad(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x6x6xf32> {
  %p = mobileone.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = "reflect", value = 0.0 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x6x6xf32>
  return %p : tensor<1x2x6x6xf32>
}

// -----

func.func @block_left(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{cannot express 'mobileone.block' (a training-time multi-branch block); run --mobileone-reparameterize first}}
  %y = mobileone.block %x {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    mobileone.yield %in : tensor<1x1x4x4xf32>
  }
  return %y : tensor<1x1x4x4xf32>
}

// -----

func.func @weights_not_constant(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{(weights are re-laid out at compile time): the conv weight must be a constant}}
  %c = mobileone.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  return %c : tensor<1x1x4x4xf32>
}

// -----

func.func @batch_norm_not_constant(%x: tensor<1x2x4x4xf32>, %mean: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %one = arith.constant dense<1.0> : tensor<2xf32>
  %zero = arith.constant dense<0.0> : tensor<2xf32>
  // expected-error @+1 {{: the mean of the batch_norm must be a constant}}
  %y = mobileone.batch_norm %x, %one, %zero, %mean, %one {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}
