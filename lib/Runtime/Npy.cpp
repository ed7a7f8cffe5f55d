//===- Npy.cpp - float32 .npy files ---------------------------------------===//

#include "mobileone/Runtime/Npy.h"
#include "mobileone/Support/Limits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mobileone::runtime;

namespace {

/// Parses the header dict of a .npy file as numpy writes it and reads it:
/// exactly the keys 'descr' (a string), 'fortran_order' (True or False) and
/// 'shape' (a tuple of integers), each once, then only spaces up to the
/// final newline.
bool parseHeader(const std::string &h, std::string &descr, bool &fortran,
                 std::vector<int64_t> &shape, std::string &why) {
  size_t i = 0;
  auto skip = [&] {
    while (i < h.size() && h[i] == ' ')
      ++i;
  };
  auto expect = [&](char c) {
    skip();
    if (i < h.size() && h[i] == c) {
      ++i;
      return true;
    }
    why = std::string("expected '") + c + "' at byte " + std::to_string(i);
    return false;
  };
  auto string = [&](std::string &out) {
    skip();
    if (i >= h.size() || (h[i] != '\'' && h[i] != '"')) {
      why = "expected a quoted string at byte " + std::to_string(i);
      return false;
    }
    char q = h[i++];
    size_t end = h.find(q, i);
    if (end == std::string::npos) {
      why = "unterminated string";
      return false;
    }
    out = h.substr(i, end - i);
    i = end + 1;
    return true;
  };
  if (!expect('{'))
    return false;
  bool seenDescr = false, seenOrder = false, seenShape = false;
  shape.clear();
  while (true) {
    skip();
    if (i < h.size() && h[i] == '}') {
      ++i;
      break;
    }
    std::string key;
    if (!string(key) || !expect(':'))
      return false;
    skip();
    if (key == "descr" && !seenDescr) {
      seenDescr = true;
      if (!string(descr))
        return false;
    } else if (key == "fortran_order" && !seenOrder) {
      seenOrder = true;
      if (h.compare(i, 4, "True") == 0) {
        fortran = true;
        i += 4;
      } else if (h.compare(i, 5, "False") == 0) {
        fortran = false;
        i += 5;
      } else {
        why = "fortran_order must be True or False";
        return false;
      }
    } else if (key == "shape" && !seenShape) {
      seenShape = true;
      if (!expect('('))
        return false;
      while (true) {
        skip();
        if (i < h.size() && h[i] == ')') {
          ++i;
          break;
        }
        size_t start = i;
        while (i < h.size() && h[i] >= '0' && h[i] <= '9' && i - start < 12)
          ++i;
        if (i == start || (i < h.size() && h[i] >= '0' && h[i] <= '9')) {
          why = "shape entries must be non-negative integers";
          return false;
        }
        shape.push_back(std::stoll(h.substr(start, i - start)));
        skip();
        if (i < h.size() && h[i] == ',')
          ++i;
        else if (!(i < h.size() && h[i] == ')')) {
          why = "expected ',' or ')' in the shape";
          return false;
        }
      }
    } else {
      why = "unexpected or repeated key '" + key + "'";
      return false;
    }
    skip();
    if (i < h.size() && h[i] == ',')
      ++i;
    else if (!(i < h.size() && h[i] == '}')) {
      why = "expected ',' or '}' after '" + key + "'";
      return false;
    }
  }
  if (!seenDescr || !seenOrder || !seenShape) {
    why = "missing one of 'descr', 'fortran_order', 'shape'";
    return false;
  }
  skip();
  if (i + 1 != h.size() || h[i] != '\n') {
    why = "bytes after the header dict (expected spaces and a newline)";
    return false;
  }
  return true;
}

} // namespace

bool mobileone::runtime::readNpy(const std::string &path,
                                 std::vector<int64_t> &shape,
                                 std::vector<float> &data, std::string &error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot open '" + path + "'";
    return false;
  }
  char magic[8];
  if (!f.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    error = "'" + path + "' is not a .npy file";
    return false;
  }
  uint32_t len = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char *>(b), 2);
    len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    f.read(reinterpret_cast<char *>(b), 4);
    len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  if (!f || len > 1 << 16) {
    error = "'" + path + "': bad .npy header";
    return false;
  }
  std::string header(len, '\0');
  f.read(header.data(), len);
  if (!f) {
    error = "'" + path + "': truncated .npy header";
    return false;
  }
  std::string why;
  std::string descr;
  bool fortran = false;
  if (!parseHeader(header, descr, fortran, shape, why)) {
    error = "'" + path + "': malformed .npy header: " + why;
    return false;
  }
  if (descr != "<f4") {
    error = "'" + path + "' holds dtype '" + descr + "'" +
            (descr == "<f8" ? " (float64)" : "") +
            "; expected '<f4' (little-endian float32): save it with "
            "x.astype(numpy.float32)";
    return false;
  }
  if (fortran) {
    error = "'" + path +
            "' is in Fortran order; expected C order "
            "(numpy.ascontiguousarray)";
    return false;
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0 || n > mlir::mobileone::kMaxTensorElements / d) {
      error = "'" + path + "': shape dimensions must be positive, at most " +
              std::string(mlir::mobileone::kMaxTensorElementsText) +
              " elements in all";
      return false;
    }
    n *= d;
  }
  data.resize(n);
  if (!f.read(reinterpret_cast<char *>(data.data()), n * sizeof(float))) {
    error = "'" + path + "': the file holds fewer values than its shape";
    return false;
  }
  return true;
}

bool mobileone::runtime::writeFileWhole(const std::string &path,
                                        const std::string &bytes,
                                        const std::vector<std::string> &protect,
                                        std::string &error) {
  auto fail = [&](const std::string &why) {
    error = "cannot write '" + path + "': " + why;
    return false;
  };
  struct stat target;
  bool exists = ::stat(path.c_str(), &target) == 0;
  for (const std::string &p : protect) {
    struct stat other;
    if (exists && !p.empty() && ::stat(p.c_str(), &other) == 0 &&
        other.st_dev == target.st_dev && other.st_ino == target.st_ino)
      return fail("it is '" + p +
                  "', a file this run reads or writes (choose another path)");
  }
  auto writeAll = [&](int fd) -> std::string {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t k = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        return k < 0 ? std::strerror(errno) : "no progress";
      done += size_t(k);
    }
    return "";
  };
  if (exists && !S_ISREG(target.st_mode)) {
    // Never replaced: a device is written in place, the rest refused.
    if (S_ISDIR(target.st_mode))
      return fail("it is a directory");
    if (!S_ISCHR(target.st_mode) && !S_ISBLK(target.st_mode))
      return fail("it is not a regular file (a FIFO or socket)");
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return fail(std::strerror(errno));
    std::string why = writeAll(fd);
    if (::close(fd) != 0 && why.empty())
      why = std::strerror(errno);
    return why.empty() ? true : fail(why);
  }
  // A temporary file beside the target, renamed over it only when whole and
  // on disk: a failed write leaves any earlier file unchanged.
  std::string tmp;
  int fd = -1;
  for (unsigned attempt = 0; fd < 0; ++attempt) {
    tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
          std::to_string(attempt);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt == 127))
      return fail(std::strerror(errno));
  }
  std::string why = writeAll(fd);
  if (why.empty() && ::fsync(fd) != 0)
    why = std::strerror(errno);
  if (::close(fd) != 0 && why.empty())
    why = std::strerror(errno);
  if (why.empty() && std::rename(tmp.c_str(), path.c_str()) != 0)
    why = std::strerror(errno);
  if (!why.empty()) {
    ::unlink(tmp.c_str());
    return fail(why + " (any earlier file there is unchanged)");
  }
  return true;
}

bool mobileone::runtime::writeNpy(const std::string &path,
                                  const std::vector<int64_t> &shape,
                                  const float *data, std::string &error,
                                  const std::vector<std::string> &protect) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  int64_t n = 1;
  for (int64_t d : shape) {
    header += std::to_string(d) + ", ";
    n *= d;
  }
  header += "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char *>(data), n * sizeof(float));
  return writeFileWhole(path, bytes, protect, error);
}

mobileone::runtime::Difference
mobileone::runtime::difference(const float *out, const float *ref, size_t n) {
  Difference d;
  for (size_t j = 0; j < n; ++j) {
    double e = std::fabs(double(out[j]) - double(ref[j]));
    if (!(e <= d.maxAbs) && !std::isnan(d.maxAbs)) // NaN sticks: a failure
      d.maxAbs = e;
    d.maxRef = std::max(d.maxRef, std::fabs(double(ref[j])));
  }
  d.relative = d.maxRef > 0.0 ? d.maxAbs / d.maxRef : d.maxAbs;
  return d;
}
