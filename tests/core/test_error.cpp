// SPARSE_CHECK records the message, expression, file and line.
#include <gtest/gtest.h>

#include "host/core/error.hpp"

TEST(Error, CheckRecordsMessageAndLocation) {
  try {
    const int batch = -3;
    SPARSE_CHECK(batch > 0, "batch size " << batch << " must be positive");
    FAIL() << "no throw";
  } catch (const sparse::Error& e) {
    EXPECT_STREQ(e.what(), "batch size -3 must be positive");
    EXPECT_EQ(e.expression(), "batch > 0");
    EXPECT_NE(e.file().find("test_error.cpp"), std::string::npos);
    EXPECT_GT(e.line(), 0);
    EXPECT_NE(e.where().find("check 'batch > 0' failed at"), std::string::npos);
  }
}

TEST(Error, PassingCheckDoesNotThrow) { EXPECT_NO_THROW(SPARSE_CHECK(1 + 1 == 2, "math")); }
