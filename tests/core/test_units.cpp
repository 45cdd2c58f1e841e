// parse_bytes / parse_duration: units, rounding and errors naming the flag.
#include <gtest/gtest.h>

#include "host/core/error.hpp"
#include "host/core/units.hpp"

TEST(Units, Bytes) {
  EXPECT_EQ(sparse::parse_bytes("2048", "--max-ms"), 2048);
  EXPECT_EQ(sparse::parse_bytes("2KB", "--max-ms"), 2048);
  EXPECT_EQ(sparse::parse_bytes("2 KiB", "--max-ms"), 2048);
  EXPECT_EQ(sparse::parse_bytes("1.5kb", "--max-ms"), 1536);
  EXPECT_EQ(sparse::parse_bytes("1MB", "--max-ms"), 1048576);
  EXPECT_EQ(sparse::parse_bytes("10b", "--max-ms"), 10);
  for (const char* bad : {"", "KB", "-1KB", "2XB", "nan", "1e300MB"}) {
    try {
      sparse::parse_bytes(bad, "--max-wm");
      ADD_FAILURE() << bad;
    } catch (const sparse::Error& e) {
      EXPECT_NE(std::string(e.what()).find("--max-wm '" + std::string(bad) + "' is not a size"), std::string::npos);
    }
  }
}

TEST(Units, Durations) {
  EXPECT_DOUBLE_EQ(sparse::parse_duration("90", "--time"), 90);
  EXPECT_DOUBLE_EQ(sparse::parse_duration("30m", "--time"), 1800);
  EXPECT_DOUBLE_EQ(sparse::parse_duration("1.5h", "--time"), 5400);
  EXPECT_DOUBLE_EQ(sparse::parse_duration("2d", "--time"), 172800);
  EXPECT_THROW(sparse::parse_duration("0", "--time"), sparse::Error);
  EXPECT_THROW(sparse::parse_duration("5y", "--time"), sparse::Error);
}
