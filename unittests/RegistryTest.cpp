//===- RegistryTest.cpp - the runtime's operator table --------------------===//
//
// The table the loader and the executors dispatch through (Registry.h): one
// row per OpKind in order, each row's name TFLite's own name for its
// builtin number (a wrong number would decode one operator as another),
// no builtin read twice, and each row complete for what it claims (a
// kernel for every operator; int8 preparation and kernel together).
//
//===----------------------------------------------------------------------===//

#include "Registry.h"
#include "mobileone/Target/TFLite/schema_generated.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace mobileone::runtime;

namespace {

constexpr int kKinds = int(OpKind::ArgMax) + 1;

TEST(RegistryTest, OneRowPerKindInOrder) {
  for (int k = 0; k < kKinds; ++k)
    EXPECT_EQ(int(registration(OpKind(k)).kind), k) << k;
}

TEST(RegistryTest, NamesAreTFLitesForTheBuiltin) {
  std::set<int> builtins;
  for (int k = 0; k < kKinds; ++k) {
    const OpRegistration &r = registration(OpKind(k));
    ASSERT_GE(r.builtin, 0) << r.name;
    ASSERT_LE(r.builtin, int(tflite::BuiltinOperator_MAX)) << r.name;
    EXPECT_STREQ(r.name, tflite::EnumNameBuiltinOperator(
                             tflite::BuiltinOperator(r.builtin)));
    EXPECT_TRUE(builtins.insert(r.builtin).second)
        << r.name << " is read by two rows";
    EXPECT_EQ(registrationOf(r.builtin), &r) << r.name;
  }
  EXPECT_EQ(registrationOf(tflite::BuiltinOperator_LSTM), nullptr);
}

TEST(RegistryTest, RowsAreComplete) {
  for (int k = 0; k < kKinds; ++k) {
    const OpRegistration &r = registration(OpKind(k));
    EXPECT_NE(r.decode, nullptr) << r.name;
    const bool conversion =
        r.kind == OpKind::Quantize || r.kind == OpKind::Dequantize;
    // A float kernel, or the element function it is made of (QUANTIZE and
    // DEQUANTIZE of activations are int8 operators only).
    EXPECT_TRUE(conversion || r.reference || r.unary) << r.name;
    EXPECT_FALSE(r.reference && r.unary) << r.name;
    EXPECT_EQ(r.prepareInt8 == nullptr, r.runInt8 == nullptr) << r.name;
    // A function of one input has its int8 table.
    if (r.unary)
      EXPECT_EQ(r.runInt8, &int8::table) << r.name;
  }
}

TEST(RegistryTest, SupportedListsComeFromTheTable) {
  const std::string all = supportedOperators(false),
                    int8 = supportedOperators(true);
  EXPECT_NE(all.find("CONV_2D"), std::string::npos);
  EXPECT_NE(all.find("BATCH_MATMUL"), std::string::npos);
  EXPECT_EQ(int8.find("BATCH_MATMUL"), std::string::npos);
  EXPECT_NE(int8.find("DEPTHWISE_CONV_2D"), std::string::npos);
}

} // namespace
