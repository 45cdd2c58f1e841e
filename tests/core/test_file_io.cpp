// read_file_bytes / gunzip / read_json_file: gzip detection, truncated and corrupt streams, missing files.
#include <gtest/gtest.h>

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "tests/common/error_of.hpp"
#include "tests/common/gzip.hpp"
#include "tests/common/temp_dir.hpp"

using sparse::test::error_of;
using sparse::test::TempDir;


TEST(FileIo, ReadsRawAndGzipIdentically) {
  TempDir d;
  std::vector<uint8_t> raw(100000);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>((i * 31) ^ (i >> 7));
  sparse::test::write_bytes(d / "a.bin", raw);
  sparse::test::write_bytes(d / "a.bin.gz", sparse::test::gzip(raw));
  EXPECT_EQ(sparse::read_file_bytes(d / "a.bin"), raw);
  EXPECT_EQ(sparse::read_file_bytes(d / "a.bin.gz"), raw);
}

TEST(FileIo, TruncatedGzipNamesFileAndOffset) {
  TempDir d;
  std::vector<uint8_t> raw(50000, 7);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i * 131 + (i >> 3));
  auto gz = sparse::test::gzip(raw);
  gz.resize(gz.size() / 2);
  sparse::test::write_bytes(d / "t.gz", gz);
  const std::string msg = error_of([&] { sparse::read_file_bytes(d / "t.gz"); });
  EXPECT_NE(msg.find("t.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated gzip"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte offset " + std::to_string(gz.size())), std::string::npos) << msg;
}

TEST(FileIo, CorruptGzipIsAnError) {
  TempDir d;
  auto gz = sparse::test::gzip(std::vector<uint8_t>(5000, 3));
  for (size_t i = 12; i < gz.size(); ++i) gz[i] ^= 0x5a;
  sparse::test::write_bytes(d / "c.gz", gz);
  const std::string msg = error_of([&] { sparse::read_file_bytes(d / "c.gz"); });
  EXPECT_NE(msg.find("c.gz"), std::string::npos) << msg;
  EXPECT_TRUE(msg.find("corrupt gzip") != std::string::npos || msg.find("truncated gzip") != std::string::npos) << msg;
}

TEST(FileIo, MissingFileAndDirectory) {
  TempDir d;
  EXPECT_NE(error_of([&] { sparse::read_file_bytes(d / "nope.bin"); }).find("nope.bin' does not exist"), std::string::npos);
  EXPECT_NE(error_of([&] { sparse::read_file_bytes(d.path()); }).find("is a directory"), std::string::npos);
}

TEST(FileIo, JsonErrorsNameTheFile) {
  TempDir d;
  sparse::test::write_text(d / "good.json", R"({"a": [1, 2]})");
  sparse::test::write_text(d / "bad.json", R"({"a": [1, 2)");
  EXPECT_EQ(sparse::read_json_file(d / "good.json")["a"][1], 2);
  const std::string msg = error_of([&] { sparse::read_json_file(d / "bad.json"); });
  EXPECT_NE(msg.find("bad.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
}

TEST(FileIo, AtomicWriteReplacesContent) {
  TempDir d;
  sparse::write_file_atomic(d / "x.txt", "first");
  sparse::write_file_atomic(d / "x.txt", "second");
  const auto b = sparse::read_file_bytes(d / "x.txt");
  EXPECT_EQ(std::string(b.begin(), b.end()), "second");
  EXPECT_FALSE(std::filesystem::exists(d / "x.txt.tmp"));
}
