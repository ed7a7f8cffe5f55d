//===- Limits.h - the size limits every layer enforces -----------*- C++ -*-===//
//
// One bound on tensor sizes for the importer, the dialect's verifiers, the
// evaluator, the writers and the runtime's loader: a tensor of more elements
// is refused with the node or tensor named, before anything is allocated.
// 2^28 elements (1 GiB of f32) is over 100x the largest activation or weight
// of the models this project deploys (a 640x640 detector's input is 1.2 M
// elements), and keeps every shape product far from int64 overflow and every
// buffer far from the allocator's limits under `ulimit -v 8G`.
// Dependency-free: the runtime includes it too.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_SUPPORT_LIMITS_H
#define MOBILEONE_SUPPORT_LIMITS_H

#include <cstdint>

namespace mlir::mobileone {

constexpr int64_t kMaxTensorElements = int64_t(1) << 28;
/// The limit as the error messages name it.
constexpr const char *kMaxTensorElementsText = "2^28";

} // namespace mlir::mobileone

#endif
