//===- InterfaceTest.cpp - typed interface buffers and .npy files ---------===//
//
// The runtime's interface helpers: int8 and int32 values held in a float
// buffer (widenValues / narrowValues work in place over overlapping bytes),
// TensorInfo::quantize exactly as the QUANTIZE kernel rounds, and .npy
// files of every interface dtype (int8, int32, float32, float16 widened)
// written and read back, malformed ones refused.
//
//===----------------------------------------------------------------------===//

#include "Quantized.h"
#include "mobileone/Runtime/Npy.h"
#include "mobileone/Support/Half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

using namespace mobileone::runtime;

namespace {

std::string tempPath(const char *name) {
  return testing::TempDir() + "/mobileone-interface-" + name;
}

TEST(InterfaceTest, Int8ValuesRoundTripInPlace) {
  // Every int8 value, at every offset of a buffer the size of the tensor:
  // narrowing writes byte i over float i / 4, widening reads it back.
  std::vector<float> values;
  for (int v = -128; v <= 127; ++v)
    values.push_back(float(v));
  std::vector<float> buffer = values;
  narrowValues(DType::Int8, buffer.data(), buffer.size());
  const int8_t *bytes = reinterpret_cast<const int8_t *>(buffer.data());
  for (size_t i = 0; i < values.size(); ++i)
    ASSERT_EQ(bytes[i], int8_t(values[i])) << i;
  widenValues(DType::Int8, buffer.data(), buffer.size());
  EXPECT_EQ(buffer, values);
}

TEST(InterfaceTest, Int32ValuesRoundTripInPlace) {
  std::vector<float> values = {0.0f, -1.0f, 7.0f, 16777216.0f, -16777216.0f};
  std::vector<float> buffer = values;
  narrowValues(DType::Int32, buffer.data(), buffer.size());
  int32_t first;
  std::memcpy(&first, buffer.data() + 3, 4);
  EXPECT_EQ(first, 16777216);
  widenValues(DType::Int32, buffer.data(), buffer.size());
  EXPECT_EQ(buffer, values);
  // Float32 is left alone both ways.
  std::vector<float> f = {0.5f, -2.25f};
  narrowValues(DType::Float32, f.data(), f.size());
  widenValues(DType::Float32, f.data(), f.size());
  EXPECT_EQ(f, (std::vector<float>{0.5f, -2.25f}));
}

TEST(InterfaceTest, QuantizeIsTheQuantizeKernel) {
  TensorInfo t;
  t.dtype = DType::Int8;
  for (float scale : {0.0304761f, 1.0f / 256.0f, 0.5f, 3.0f})
    for (int zero : {-128, -2, 0, 8, 127}) {
      t.scale = scale;
      t.zeroPoint = zero;
      for (int k = -100000; k <= 100000; k += 7) {
        // Values around every step, ties included.
        float x = float(k) * scale / 64.0f;
        ASSERT_EQ(t.quantize(x), float(quantizeToInt8(x, scale, zero)))
            << "x " << x << " scale " << scale << " zero " << zero;
      }
      for (float x : {std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity(),
                      std::numeric_limits<float>::quiet_NaN(), 1e30f})
        EXPECT_EQ(t.quantize(x), float(quantizeToInt8(x, scale, zero)));
      for (int q = -128; q <= 127; ++q)
        EXPECT_EQ(t.real(float(q)),
                  float(double(scale) * double(q - zero)));
    }
  TensorInfo f; // float32: unchanged both ways
  EXPECT_EQ(f.quantize(0.123f), 0.123f);
  EXPECT_EQ(f.real(0.123f), 0.123f);
}

TEST(InterfaceTest, NpyOfEveryInterfaceDType) {
  const std::vector<int64_t> shape = {2, 3};
  const std::vector<float> ints = {-128, -1, 0, 1, 42, 127};
  for (DType dtype : {DType::Int8, DType::Int32, DType::Float32}) {
    std::string path = tempPath(dtypeName(dtype)) + ".npy", error;
    ASSERT_TRUE(writeNpy(path, shape, ints.data(), error, {}, dtype)) << error;
    std::vector<int64_t> readShape;
    std::vector<float> read;
    DType readType = DType::Float32;
    ASSERT_TRUE(readNpy(path, readShape, read, error, &readType)) << error;
    EXPECT_EQ(readShape, shape);
    EXPECT_EQ(read, ints);
    EXPECT_EQ(readType, dtype);
    // Without asking for integers, only float32 is read.
    if (dtype != DType::Float32) {
      EXPECT_FALSE(readNpy(path, readShape, read, error));
      EXPECT_NE(error.find("expected '<f4'"), std::string::npos) << error;
    }
    std::remove(path.c_str());
  }
}

TEST(InterfaceTest, Float16NpyIsWidened) {
  // numpy.save of a float16 [3] array, written by hand.
  std::string header = "{'descr': '<f2', 'fortran_order': False, 'shape': "
                       "(3,), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  const float values[3] = {1.5f, -0.099975586f, 65504.0f};
  for (float v : values) {
    uint16_t h = mlir::mobileone::toHalf(v);
    bytes.append(reinterpret_cast<const char *>(&h), 2);
  }
  std::string path = tempPath("half.npy"), error;
  std::ofstream(path, std::ios::binary) << bytes;
  std::vector<int64_t> shape;
  std::vector<float> read;
  ASSERT_TRUE(readNpy(path, shape, read, error)) << error;
  EXPECT_EQ(shape, std::vector<int64_t>{3});
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(read[i],
              mlir::mobileone::fromHalf(mlir::mobileone::toHalf(values[i])));
  // One byte short: the element count is checked at its width.
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 1);
  EXPECT_FALSE(readNpy(path, shape, read, error));
  EXPECT_NE(error.find("its shape [3] needs 3"), std::string::npos) << error;
  std::remove(path.c_str());
}

TEST(InterfaceTest, Int8InputsMustBeInt8Arrays) {
  TensorInfo t{"image", {1, 2, 2, 1}};
  t.dtype = DType::Int8;
  t.scale = 0.5f;
  t.zeroPoint = -3;
  const std::vector<float> q = {-128, 0, 5, 127};
  std::string path = tempPath("q.npy"), error;
  ASSERT_TRUE(writeNpy(path, t.shape, q.data(), error, {}, DType::Int8));
  std::vector<std::vector<float>> xs;
  ASSERT_TRUE(readTensors(path, {t}, xs, true, error)) << error;
  EXPECT_EQ(xs[0], q);
  // A float32 array for it: refused, with the quantisation to apply.
  ASSERT_TRUE(writeNpy(path, t.shape, q.data(), error));
  EXPECT_FALSE(readTensors(path, {t}, xs, true, error));
  EXPECT_NE(error.find("holds float32 values; the model's input 'image' "
                       "takes int8 (real = 0.5 x (q + 3): q = "
                       "numpy.clip(numpy.round(x / 0.5) - 3, -128, 127)"),
            std::string::npos)
      << error;
  std::remove(path.c_str());
}

} // namespace
