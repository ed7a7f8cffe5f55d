//===- FileKind.h - what kind of model a file holds -------------*- C++ -*-===//
//
// One sniffing rule for every tool, by content, not name. Dependency-free:
// mobileone-run, which links neither MLIR nor LLVM, includes it too (the
// namespace is only a name there).
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_SUPPORT_FILEKIND_H
#define MOBILEONE_SUPPORT_FILEKIND_H

#include <cstddef>
#include <cstring>

namespace mlir::mobileone {

enum class FileKind { TFLite, MLIRBytecode, Text, ONNX, Unknown };

/// Bytes of a file's head that classifyFileHead looks at.
constexpr size_t kFileHeadBytes = 64;

/// The kind of file whose first `n` bytes (up to kFileHeadBytes are used)
/// are `head`: a TFLite FlatBuffer (identifier "TFL3" at offset 4), MLIR
/// bytecode ("ML\xefR"), printable text (MLIR text, for the tools that read
/// it), an ONNX ModelProto (it starts with ir_version, field 1 as a varint:
/// 0x08, and has binary bytes soon after), or none of those.
inline FileKind classifyFileHead(const char *head, size_t n) {
  if (n >= 8 && std::memcmp(head + 4, "TFL3", 4) == 0)
    return FileKind::TFLite;
  if (n >= 4 && std::memcmp(head, "ML\xef\x52", 4) == 0)
    return FileKind::MLIRBytecode;
  if (n > kFileHeadBytes)
    n = kFileHeadBytes;
  bool printable = n > 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(head[i]);
    if (c < 0x09 || (c > 0x0d && c < 0x20))
      printable = false;
  }
  if (printable)
    return FileKind::Text;
  if (n >= 2 && head[0] == 0x08)
    return FileKind::ONNX;
  return FileKind::Unknown;
}

} // namespace mlir::mobileone

#endif
