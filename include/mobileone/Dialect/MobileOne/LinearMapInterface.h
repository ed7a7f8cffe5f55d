//===- LinearMapInterface.h - ops that compose kernels ----------*- C++ -*-===//
//
// The op interface of linear ops and the composer they answer to: it holds
// the maps of a region's values, reads constants (with weights) and applies
// the composition rules of mobileone/Math/Reparam.h.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_DIALECT_MOBILEONE_LINEARMAPINTERFACE_H
#define MOBILEONE_DIALECT_MOBILEONE_LINEARMAPINTERFACE_H

#include "mobileone/Math/Reparam.h"

#include "mlir/IR/OpDefinition.h"

#include <optional>
#include <string>

namespace mlir::mobileone {

class LinearComposer {
public:
  /// `lookup` gives the map of a region value, or null for other values.
  LinearComposer(bool withValues,
                 function_ref<const math::LinearMap *(Value)> lookup)
      : withValues(withValues), lookup(lookup) {}

  /// Compose weights too (recovery, merging), or geometry only (verifier).
  const bool withValues;
  /// Why the last composition failed.
  std::string why;

  const math::LinearMap *mapOf(Value v) const { return lookup(v); }

  /// Sets `why` and returns nullopt.
  std::nullopt_t fail(const Twine &reason);

  /// `local` applied to the region value `input`.
  std::optional<math::LinearMap> apply(Value input,
                                       const math::LinearMap &local);
  /// `a + sign * b` of two region values.
  std::optional<math::LinearMap> sum(Value a, Value b, double sign);
  /// `scale * input + shift` per channel (either may be null).
  std::optional<math::LinearMap>
  channelAffine(Value input, const std::vector<double> *scale,
                const std::vector<double> *shift);

  /// The per-channel values of the constant `c` broadcast against `x`
  /// ([N, C, ...]): one per channel of x, or nullopt (and `why`) if `c` is
  /// not a constant or varies along another axis. Without values, the shape
  /// is checked and an empty vector returned.
  std::optional<std::vector<double>> perChannel(Value c, Value x);
  /// The constant `v` in double, or nullopt and `why`.
  std::optional<std::vector<double>> constant(Value v, StringRef what);

  /// The identity map of `v`: [N, C, H, W] or [N, C] with static C, H, W;
  /// nullopt (and `why`) otherwise.
  std::optional<math::LinearMap> identity(Value v);

private:
  function_ref<const math::LinearMap *(Value)> lookup;
};

} // namespace mlir::mobileone

#include "mobileone/Dialect/MobileOne/LinearMapInterface.h.inc"

#endif
