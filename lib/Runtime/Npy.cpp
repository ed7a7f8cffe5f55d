//===- Npy.cpp - float32 .npy files ---------------------------------------===//

#include "mobileone/Runtime/Npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>

using namespace mobileone::runtime;

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
  if (header.find("'descr': '<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    error = "'" + path + "': expected little-endian float32 in C order";
    return false;
  }
  size_t open = header.find("'shape': ("), close = header.find(')', open);
  if (open == std::string::npos || close == std::string::npos) {
    error = "'" + path + "': no shape in the .npy header";
    return false;
  }
  shape.clear();
  int64_t n = 1;
  const char *p = header.c_str() + open + 10, *end = header.c_str() + close;
  while (p < end) {
    char *next;
    long long d = std::strtoll(p, &next, 10);
    if (next == p) {
      ++p;
      continue;
    }
    if (d <= 0 || d > (1 << 30) || n > (int64_t(1) << 31) / d) {
      error = "'" + path + "': bad shape in the .npy header";
      return false;
    }
    shape.push_back(d);
    n *= d;
    p = next;
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
