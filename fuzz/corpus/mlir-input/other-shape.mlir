func.func @main(%x: tensor<1x5xf32>) -> tensor<1x5xf32> {
  return %x : tensor<1x5xf32>
}
