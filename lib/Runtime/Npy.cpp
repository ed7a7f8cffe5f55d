//===- Npy.cpp - float32 .npy files ---------------------------------------===//

#include "mobileone/Runtime/Npy.h"
#include "mobileone/Support/Half.h"
#include "mobileone/Support/Limits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

namespace {

/// Parses a .npy file's bytes; `what` names it in errors ("'x.npy'", or
/// "'x.npz' array 'a'").
/// `dtype` null: float32 only; else float32, int32 or int8, said there
/// (integers converted to float values).
bool parseNpy(const uint8_t *p, size_t size, const std::string &what,
              std::vector<int64_t> &shape, std::vector<float> &data,
              std::string &error, DType *dtype) {
  if (size < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) {
    error = what + " is not a .npy file";
    return false;
  }
  size_t pos = 8;
  uint32_t len = 0;
  if (p[6] == 1) {
    len = p[8] | (p[9] << 8);
    pos = 10;
  } else if ((p[6] == 2 || p[6] == 3) && size >= 12) {
    len = p[8] | (p[9] << 8) | (p[10] << 16) | (uint32_t(p[11]) << 24);
    pos = 12;
  } else {
    error = what + ": unsupported .npy version " + std::to_string(p[6]);
    return false;
  }
  if (len > 1 << 16) {
    error = what + ": bad .npy header";
    return false;
  }
  if (size - pos < len) {
    error = what + ": truncated .npy header";
    return false;
  }
  std::string header(reinterpret_cast<const char *>(p + pos), len);
  pos += len;
  std::string why, descr;
  bool fortran = false;
  shape.clear();
  if (!parseHeader(header, descr, fortran, shape, why)) {
    error = what + ": malformed .npy header: " + why;
    return false;
  }
  DType type = DType::Float32;
  // float16 (a half model's data) widens exactly to float32.
  const bool half = descr == "<f2";
  if (dtype && descr == "<i4")
    type = DType::Int32;
  else if (dtype && (descr == "|i1" || descr == "<i1"))
    type = DType::Int8;
  else if (descr != "<f4" && !half) {
    error = what + " holds dtype '" + descr + "'" +
            (descr == "<f8" ? " (float64)" : "") +
            "; expected '<f4' (little-endian float32, or '<f2' float16): "
            "save it with "
            "x.astype(numpy.float32)" +
            (dtype ? ", or '|i1' (int8) for an int8 interface" : "");
    return false;
  }
  if (fortran) {
    error = what + " is in Fortran order; expected C order "
                   "(numpy.ascontiguousarray)";
    return false;
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0 || n > mlir::mobileone::kMaxTensorElements / d) {
      error = what + ": shape dimensions must be positive, at most " +
              std::string(mlir::mobileone::kMaxTensorElementsText) +
              " elements in all";
      return false;
    }
    n *= d;
  }
  const size_t width = half ? 2 : dtypeBytes(type);
  if (size - pos != size_t(n) * width) {
    error = what + " holds " + std::to_string((size - pos) / width) +
            " values; its shape " + shapeText(shape) + " needs " +
            std::to_string(n);
    return false;
  }
  data.resize(n);
  if (half) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, p + pos + 2 * i, 2);
      data[i] = mlir::mobileone::fromHalf(h);
    }
  } else {
    std::memcpy(data.data(), p + pos, size_t(n) * width);
    widenValues(type, data.data(), size_t(n));
  }
  if (dtype)
    *dtype = type;
  return true;
}

bool readWholeFile(const std::string &path, std::vector<uint8_t> &bytes,
                   std::string &error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "'" + path + "' is not a regular file";
    return false;
  }
  std::ifstream f(path, std::ios::binary);
  bytes.resize(size_t(st.st_size));
  if (!f || !f.read(reinterpret_cast<char *>(bytes.data()), st.st_size)) {
    error = "cannot read '" + path + "'";
    return false;
  }
  return true;
}

/// CRC-32 (ISO-HDLC, as zip uses it).
uint32_t crc32(const uint8_t *p, size_t n) {
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> t(256);
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i)
    c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint64_t le(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}

} // namespace

std::string mobileone::runtime::quantizationText(const TensorInfo &t) {
  if (t.dtype != DType::Int8)
    return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "real = %g x (q %c %d)", double(t.scale),
                t.zeroPoint < 0 ? '+' : '-', std::abs(int(t.zeroPoint)));
  return buf;
}

std::string mobileone::runtime::quantizeHint(const TensorInfo &t) {
  char buf[128];
  std::snprintf(buf, sizeof buf,
                ": q = numpy.clip(numpy.round(x / %g) %c %d, -128, "
                "127).astype(numpy.int8))",
                double(t.scale), t.zeroPoint < 0 ? '-' : '+',
                std::abs(int(t.zeroPoint)));
  return "(" + quantizationText(t) + buf;
}

std::string mobileone::runtime::shapeText(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

bool mobileone::runtime::readNpy(const std::string &path,
                                 std::vector<int64_t> &shape,
                                 std::vector<float> &data, std::string &error,
                                 DType *dtype) {
  std::vector<uint8_t> bytes;
  return readWholeFile(path, bytes, error) &&
         parseNpy(bytes.data(), bytes.size(), "'" + path + "'", shape, data,
                  error, dtype);
}

bool mobileone::runtime::readNpz(const std::string &path,
                                 std::vector<NamedArray> &arrays,
                                 std::string &error, bool integers) {
  std::vector<uint8_t> bytes;
  if (!readWholeFile(path, bytes, error))
    return false;
  const uint8_t *b = bytes.data();
  const size_t size = bytes.size();
  auto fail = [&](const std::string &why) {
    error = "'" + path + "': " + why;
    return false;
  };
  // The end of central directory record: 22 bytes and a comment.
  size_t eocd = size;
  for (size_t i = size >= 22 ? size - 22 : size;
       size >= 22 && i + 22 + 65535 >= size; --i) {
    if (le(b + i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
    if (i == 0)
      break;
  }
  if (eocd == size)
    return fail("not a .npz file (no zip directory; write it with "
                "numpy.savez)");
  uint64_t count = le(b + eocd + 10, 2), dirOffset = le(b + eocd + 16, 4);
  // ZIP64, as numpy writes large archives: the locator before the record.
  if ((count == 0xFFFF || dirOffset == 0xFFFFFFFF) && eocd >= 20 &&
      le(b + eocd - 20, 4) == 0x07064b50) {
    uint64_t rec = le(b + eocd - 12, 8);
    if (rec > size || size - rec < 56 || le(b + rec, 4) != 0x06064b50)
      return fail("corrupt ZIP64 directory");
    count = le(b + rec + 32, 8);
    dirOffset = le(b + rec + 48, 8);
  }
  size_t pos = dirOffset;
  arrays.clear();
  for (uint64_t e = 0; e < count; ++e) {
    if (pos > size || size - pos < 46 || le(b + pos, 4) != 0x02014b50)
      return fail("corrupt zip directory");
    uint64_t method = le(b + pos + 10, 2), crc = le(b + pos + 16, 4);
    uint64_t csize = le(b + pos + 20, 4), usize = le(b + pos + 24, 4);
    uint64_t nameLen = le(b + pos + 28, 2), extraLen = le(b + pos + 30, 2);
    uint64_t commentLen = le(b + pos + 32, 2), local = le(b + pos + 42, 4);
    if (size - pos - 46 < nameLen + extraLen + commentLen)
      return fail("corrupt zip directory");
    std::string name(reinterpret_cast<const char *>(b + pos + 46), nameLen);
    // ZIP64 sizes and offset, each present where the 32-bit field is full.
    const uint8_t *x = b + pos + 46 + nameLen, *xEnd = x + extraLen;
    while (xEnd - x >= 4) {
      uint64_t id = le(x, 2), n = le(x + 2, 2);
      if (uint64_t(xEnd - x - 4) < n)
        return fail("corrupt zip extra field");
      if (id == 1) {
        const uint8_t *f = x + 4, *fEnd = f + n;
        for (uint64_t *v : {&usize, &csize, &local})
          if (*v == 0xFFFFFFFF) {
            if (fEnd - f < 8)
              return fail("corrupt ZIP64 field");
            *v = le(f, 8);
            f += 8;
          }
      }
      x += 4 + n;
    }
    pos += 46 + nameLen + extraLen + commentLen;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    if (method != 0)
      return fail("array '" + name +
                  "' is compressed (numpy.savez_compressed); write the "
                  "file with numpy.savez");
    if (local > size || size - local < 30 || le(b + local, 4) != 0x04034b50)
      return fail("corrupt zip entry '" + name + "'");
    uint64_t start = local + 30 + le(b + local + 26, 2) + le(b + local + 28, 2);
    if (start > size || size - start < csize || csize != usize)
      return fail("zip entry '" + name + "' is truncated");
    if (crc32(b + start, csize) != crc)
      return fail("zip entry '" + name + "' fails its CRC check (corrupt)");
    for (const NamedArray &a : arrays)
      if (a.name == name)
        return fail("array '" + name + "' appears twice");
    NamedArray a;
    a.name = name;
    if (!parseNpy(b + start, csize, "'" + path + "' array '" + name + "'",
                  a.shape, a.data, error, integers ? &a.dtype : nullptr))
      return false;
    arrays.push_back(std::move(a));
  }
  return true;
}

/// Values (as floats) stored as `dtype`.
static std::string npyBytes(const std::vector<int64_t> &shape,
                            const float *data, DType dtype = DType::Float32) {
  std::string header = std::string("{'descr': '") +
                       (dtype == DType::Int32  ? "<i4"
                        : dtype == DType::Int8 ? "|i1"
                                               : "<f4") +
                       "', 'fortran_order': False, 'shape': (";
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
  std::vector<float> narrow;
  if (dtype != DType::Float32) {
    narrow.assign(data, data + n);
    narrowValues(dtype, narrow.data(), size_t(n));
    data = narrow.data();
  }
  bytes.append(reinterpret_cast<const char *>(data), n * dtypeBytes(dtype));
  return bytes;
}

bool mobileone::runtime::writeNpz(const std::string &path,
                                  const std::vector<NamedArray> &arrays,
                                  std::string &error,
                                  const std::vector<std::string> &protect) {
  // Stored (uncompressed) entries, as numpy.savez writes them.
  std::string zip, dir;
  auto put = [](std::string &s, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      s += char(v >> (8 * i) & 0xFF);
  };
  for (const NamedArray &a : arrays) {
    std::string body = npyBytes(a.shape, a.data.data(), a.dtype);
    std::string name = a.name + ".npy";
    if (zip.size() + body.size() + name.size() + 30 > 0xFFFFFFFFull) {
      error = "cannot write '" + path + "': over 4 GiB, too large for .npz "
              "without ZIP64";
      return false;
    }
    uint32_t crc = crc32(reinterpret_cast<const uint8_t *>(body.data()),
                         body.size());
    uint64_t offset = zip.size();
    for (std::string *s : {&zip, &dir}) {
      bool central = s == &dir;
      put(*s, central ? 0x02014b50 : 0x04034b50, 4);
      if (central)
        put(*s, 20, 2); // made by
      put(*s, 20, 2);   // version needed
      put(*s, 0, 2);    // flags
      put(*s, 0, 2);    // stored
      put(*s, 0, 2);    // time
      put(*s, 0x21, 2); // date: 1980-01-01
      put(*s, crc, 4);
      put(*s, body.size(), 4);
      put(*s, body.size(), 4);
      put(*s, name.size(), 2);
      put(*s, 0, 2); // extra
      if (central) {
        put(*s, 0, 2); // comment
        put(*s, 0, 2); // disk
        put(*s, 0, 2); // internal attributes
        put(*s, 0, 4); // external attributes
        put(*s, offset, 4);
      }
      *s += name;
    }
    zip += body;
  }
  uint64_t dirOffset = zip.size();
  zip += dir;
  put(zip, 0x06054b50, 4);
  put(zip, 0, 4);
  put(zip, arrays.size(), 2);
  put(zip, arrays.size(), 2);
  put(zip, dir.size(), 4);
  put(zip, dirOffset, 4);
  put(zip, 0, 2);
  return writeFileWhole(path, zip, protect, error);
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
                                  const std::vector<std::string> &protect,
                                  DType dtype) {
  return writeFileWhole(path, npyBytes(shape, data, dtype), protect, error);
}

static bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

static std::string names(const std::vector<TensorInfo> &ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i)
    s += (i ? ", '" : "'") + ts[i].name + "' " + shapeText(ts[i].shape);
  return s;
}

/// Checks one array against the interface tensor it feeds; the layout hint
/// where the array is that tensor in NCHW.
static bool checkShape(const std::string &what, const std::vector<int64_t> &shape,
                const TensorInfo &t, bool nhwcInterface, std::string &error) {
  if (shape == t.shape)
    return true;
  const std::vector<int64_t> &s = t.shape;
  bool nchw = nhwcInterface && shape.size() == 4 && s.size() == 4 &&
              shape[0] == s[0] &&
              shape[1] == s[3] && shape[2] == s[1] && shape[3] == s[2];
  error = what + " has shape " + shapeText(shape) + ", the model's input '" +
          t.name + "' is " + shapeText(s) +
          (nchw ? " (NHWC; from NCHW use x.transpose(0, 2, 3, 1))" : "");
  return false;
}

/// The array's dtype must be the input's: int8 values for an int8
/// interface (the message says how to quantise real ones), float32 else.
static bool checkDType(const std::string &what, DType dtype,
                       const TensorInfo &t, std::string &error) {
  if (dtype == t.dtype)
    return true;
  error = what + " holds " + dtypeName(dtype) + " values; the model's input '" +
          t.name + "' takes " + dtypeName(t.dtype);
  error += t.dtype == DType::Int8 ? " " + quantizeHint(t)
                                  : std::string(" (x.astype(numpy.float32))");
  return false;
}

bool mobileone::runtime::readTensors(const std::string &path,
                                     const std::vector<TensorInfo> &ins,
                                     std::vector<std::vector<float>> &xs,
                                     bool nhwcInterface, std::string &error) {
  xs.resize(ins.size());
  if (!endsWith(path, ".npz")) {
    if (ins.size() != 1) {
      error = "the model has " + std::to_string(ins.size()) + " inputs (" +
              names(ins) + "): give them as one .npz keyed by input name "
              "(numpy.savez(path, name=array, ...)), not '" + path + "'";
      return false;
    }
    std::vector<int64_t> shape;
    DType dtype;
    return readNpy(path, shape, xs[0], error, &dtype) &&
           checkShape(path, shape, ins[0], nhwcInterface, error) &&
           checkDType("'" + path + "'", dtype, ins[0], error);
  }
  std::vector<NamedArray> arrays;
  if (!readNpz(path, arrays, error, /*integers=*/true))
    return false;
  for (const NamedArray &a : arrays)
    if (std::none_of(ins.begin(), ins.end(),
                     [&](const TensorInfo &t) { return t.name == a.name; })) {
      error = path + " holds array '" + a.name +
              "', which is not an input of the model (its inputs: " +
              names(ins) + ")";
      return false;
    }
  for (size_t i = 0; i < ins.size(); ++i) {
    auto it = std::find_if(arrays.begin(), arrays.end(), [&](const auto &a) {
      return a.name == ins[i].name;
    });
    if (it == arrays.end()) {
      error = path + " has no array '" + ins[i].name +
              "' for the model's input '" + ins[i].name + "' " +
              shapeText(ins[i].shape);
      return false;
    }
    if (!checkShape(path + " array '" + it->name + "'", it->shape, ins[i],
                    nhwcInterface, error) ||
        !checkDType("'" + path + "' array '" + it->name + "'", it->dtype,
                    ins[i], error))
      return false;
    xs[i] = std::move(it->data);
  }
  return true;
}

bool mobileone::runtime::writeTensors(
    const std::string &path, const std::vector<TensorInfo> &ts,
    const std::vector<std::vector<float>> &values, const char *option,
    const char *what, std::string &error,
    const std::vector<std::string> &protect) {
  if (endsWith(path, ".npz")) {
    std::vector<NamedArray> arrays;
    for (size_t i = 0; i < ts.size(); ++i)
      arrays.push_back({ts[i].name, ts[i].shape, values[i], ts[i].dtype});
    return writeNpz(path, arrays, error, protect);
  }
  if (ts.size() != 1) {
    error = std::string(option) + " " + path + ": the model has " +
            std::to_string(ts.size()) + " " + what + " (" + names(ts) +
            "); write them all with " + option + " y.npz";
    return false;
  }
  return writeNpy(path, ts[0].shape, values[0].data(), error, protect,
                  ts[0].dtype);
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
