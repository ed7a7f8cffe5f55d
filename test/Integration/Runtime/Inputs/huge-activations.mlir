// A few hundred bytes of FlatBuffer that would make a runtime allocate
// 2 x 8 GiB of activations.
func.func @main(%x: tensor<1x1x46340x46340xf32>) -> tensor<1x1x46340x46340xf32> {
  %r = mobileone.relu %x : tensor<1x1x46340x46340xf32>
  %s = mobileone.sigmoid %r : tensor<1x1x46340x46340xf32>
  return %s : tensor<1x1x46340x46340xf32>
}
