// Valid IR that the evaluator cannot run: an arith op on tensors.
func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %y = arith.addf %x, %x : tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
