// An op the dialect does not have.
func.func @main(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %y = mobileone.frobnicate %x : tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}
