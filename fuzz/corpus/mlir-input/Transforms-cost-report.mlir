// RUN: mobileone-opt %s --mobileone-cost-report=label=train -o /dev/null | FileCheck %s
// RUN: mobileone-opt %s --mobileone-reparameterize --mobileone-cost-report=label=deploy -o /dev/null | FileCheck %s --check-prefix=DEPLOY
// RUN: mobileone-opt %s --mobileone-cost-report="per-op=true machine=%S/Inputs/machine.txt" -o /dev/null | FileCheck %s --check-prefix=MEM
// RUN: mobileone-opt %s --mobileone-cost-report="per-op=true machine=%S/Inputs/machine-curve.txt" -o /dev/null | FileCheck %s --check-prefix=CURVE
// RUN: not mobileone-opt %s --mobileone-cost-report="machine=%S/Inputs/machine-bad.txt" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mobileone-opt %s --mobileone-cost-report="machine=%S/Inputs/machine-bad-curve.txt" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD-CURVE
// RUN: not mobileone-opt %s --mobileone-cost-report="machine=%t.missing" -o /dev/null 2>&1 | FileCheck %s --check-prefix=MISSING

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

// Bytes and the estimate, by hand, on Inputs/machine.txt: 1 GFLOP/s (1
// flop = 1e-3 us), 2 GB/s within 300 bytes of working set (1 byte = 5e-4
// us), 1 GB/s beyond (1e-3 us), 0.5 us per op. Float32: a 1x2x4x4 map is
// 32 elements, 128 bytes. Each op reads its activations, writes its result,
// reads its constants; time = max(compute, memory) + 0.5 us.
// - 3x3 depthwise: 288 MACs = 576 flops; 128 + 128 + 72 = 328 bytes > 300:
//   DRAM 0.328 us < 0.576 us compute: 1.076 us.
// MEM: op mobileone.conv2d at line [[#]]: flops 576, bytes 328 (read 128, written 128, weights 72), intensity 1.756 flop/B, 1.076 us (compute)
// - BN: 2 flops per element = 64; 128 + 128 + 4 * 2 * 4 = 288 bytes, in
//   cache: 0.144 us: 0.644 us.
// MEM-NEXT: op mobileone.batch_norm at line [[#]]: flops 64, bytes 288 (read 128, written 128, weights 32), intensity 0.222 flop/B, 0.644 us (memory)
// - 1x1 depthwise: 32 MACs = 64 flops; 128 + 128 + 8 = 264 bytes: 0.632 us.
// MEM-NEXT: op mobileone.conv2d at line [[#]]: flops 64, bytes 264 (read 128, written 128, weights 8), intensity 0.242 flop/B, 0.632 us (memory)
// MEM-NEXT: op mobileone.batch_norm at line [[#]]: flops 64, bytes 288 (read 128, written 128, weights 32), intensity 0.222 flop/B, 0.644 us (memory)
// MEM-NEXT: op mobileone.batch_norm at line [[#]]: flops 64, bytes 288 (read 128, written 128, weights 32), intensity 0.222 flop/B, 0.644 us (memory)
// - The block's sum: 3 branches read (384), one map written (128): 512
//   bytes > 300: DRAM 0.512 us; 2 adds per element = 64 flops: 1.012 us.
// MEM-NEXT: op mobileone.block at line [[#]]: flops 64, bytes 512 (read 384, written 128, weights 0), intensity 0.125 flop/B, 1.012 us (memory)
// - SE: its input read twice (pool, gate) 256, written 128, 7 weights 28:
//   412 bytes, DRAM 0.412 us; flops: pool 32 + gate 32 + 2 * 4 MACs = 72.
//   The gate waits for the pool: a sync point.
// MEM-NEXT: op mobileone.squeeze_excite at line [[#]]: flops 72, bytes 412 (read 256, written 128, weights 28), intensity 0.175 flop/B, 0.912 us (memory), sync point
// MEM-NEXT: op mobileone.relu at line [[#]]: flops 32, bytes 256 (read 128, written 128, weights 0), intensity 0.125 flop/B, 0.628 us (memory)
// MEM-NEXT: op mobileone.global_avg_pool at line [[#]]: flops 32, bytes 136 (read 128, written 8, weights 0), intensity 0.235 flop/B, 0.568 us (memory), sync point
// MEM-NEXT: op mobileone.reshape at line [[#]]: flops 0, bytes 16 (read 8, written 8, weights 0), intensity 0.000 flop/B, 0.508 us (memory)
// - Linear 2 -> 3: 6 MACs = 12 flops; 8 + 12 + (6 + 3) * 4 = 56 bytes.
// MEM-NEXT: op mobileone.linear at line [[#]]: flops 12, bytes 56 (read 8, written 12, weights 36), intensity 0.214 flop/B, 0.528 us (memory)
// Totals: 2844 bytes, 1044 flops; 0.576 us compute-bound, 1.720 us
// memory-bound, 11 ops * 0.5 us; stages: the 4x4 ops, then the head.
// MEM-NEXT: memory: bytes moved 2844 (0.00 MiB: activations read 1552, written 1052, weights 240), intensity 0.37 flop/B, sync points 2
// MEM-NEXT: estimate: 0.007796 ms on test machine (compute-bound ops 0.000576 ms, memory-bound 0.001720 ms, overhead 0.005500 ms for 11 ops)
// MEM-NEXT: stage 4x4: 9 ops, multiply-adds 324, bytes moved 2772, sync points 2, estimate 0.006760 ms
// MEM-NEXT: stage head: 2 ops, multiply-adds 6, bytes moved 72, sync points 0, estimate 0.001036 ms

// On Inputs/machine-curve.txt: the 3x3 conv's 576 flops at the 0.5 GFLOP/s
// conv ceiling (1.152 us) outweigh its 328 bytes at 2 GB/s (0.164 us); BN
// (no multiply-adds) moves 288 bytes at 2 GB/s; the block's 512 bytes lie
// beyond the curve (its last 2 GB/s); the pool's 136 bytes get 4 GB/s; the
// linear layer's 12 flops at 0.5 GFLOP/s (0.024 us) beat its 56 bytes at 4.
// CURVE: op mobileone.conv2d at line [[#]]: flops 576, {{.*}}, 1.152 us (compute)
// CURVE-NEXT: op mobileone.batch_norm at line [[#]]: flops 64, {{.*}}, 0.144 us (memory)
// CURVE: op mobileone.block at line [[#]]: flops 64, bytes 512 {{.*}}, 0.256 us (memory)
// CURVE: op mobileone.global_avg_pool at line [[#]]: flops 32, bytes 136 {{.*}}, 0.034 us (memory), sync point
// CURVE: op mobileone.linear at line [[#]]: flops 12, bytes 56 {{.*}}, 0.024 us (compute)
// CURVE: estimate: {{.*}} ms on curve machine

// BAD-CURVE: error: machine description '{{.*}}machine-bad-curve.txt': line 1: 'bandwidth_curve' needs ascending MiB:GB/s pairs, got '0.5:20'
// BAD: error: machine description '{{.*}}machine-bad.txt': line 1: 'peak_gflops' needs a positive number, got 'fast'
// MISSING: error: cannot read the machine description '{{.*}}.missing': No such file or directory

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
