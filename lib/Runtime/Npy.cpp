//===- Npy.cpp - float32 .npy files ---------------------------------------===//

#include "mobileone/Runtime/Npy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

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
    if (d <= 0 || d > (1 << 30) || n > (int64_t(1) << 31) / d) {
      error = "'" + path +
              "': shape dimensions must be positive, at most "
              "2^31 elements in all";
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

bool mobileone::runtime::writeNpy(const std::string &path,
                                  const std::vector<int64_t> &shape,
                                  const float *data, std::string &error) {
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
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) {
      error = "cannot write '" + path + "'";
      return false;
    }
    uint16_t len = uint16_t(header.size());
    f.write("\x93NUMPY\x01\x00", 8);
    char lenBytes[2] = {char(len & 0xff), char(len >> 8)};
    f.write(lenBytes, 2);
    f << header;
    f.write(reinterpret_cast<const char *>(data), n * sizeof(float));
    if (!f) {
      error = "cannot write '" + path + "'";
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot write '" + path + "'";
    std::remove(tmp.c_str());
    return false;
  }
  return true;
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
