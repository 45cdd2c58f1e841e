// Whole-file reading with gzip detection, JSON parsing and atomic writes (see file_io.hpp).
#include "host/core/file_io.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "host/core/error.hpp"

namespace sparse {

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  SPARSE_CHECK(std::filesystem::exists(path, ec), "file '" << path.string() << "' does not exist");
  SPARSE_CHECK(!std::filesystem::is_directory(path, ec),
               "'" << path.string() << "' is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  SPARSE_CHECK(in.good(), "cannot open '" << path.string() << "': " << std::strerror(errno));
  std::vector<uint8_t> bytes;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  SPARSE_CHECK(size >= 0, "cannot read '" << path.string() << "'");
  bytes.resize(static_cast<size_t>(size));
  if (size > 0) in.read(reinterpret_cast<char*>(bytes.data()), size);
  SPARSE_CHECK(in.good() || in.eof(), "error reading '" << path.string() << "'");
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return gunzip(bytes, path.string());
  return bytes;
}

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& compressed, const std::string& name) {
  z_stream zs{};
  SPARSE_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, "zlib: cannot initialise inflate for '" << name << "'");
  std::vector<uint8_t> out;
  // The gzip trailer holds the uncompressed size mod 2^32: a good first guess.
  size_t guess = compressed.size() * 4;
  if (compressed.size() >= 18) {
    const uint8_t* t = compressed.data() + compressed.size() - 4;
    const size_t isize = t[0] | (t[1] << 8) | (t[2] << 16) | (static_cast<size_t>(t[3]) << 24);
    // Deflate expands at most ~1032:1, so a trailer claiming more is not trusted for the allocation.
    if (isize > 0) guess = std::min(isize, compressed.size() * 1032 + 1024);
  }
  out.resize(guess + 1);
  zs.next_in = const_cast<Bytef*>(compressed.data());
  zs.avail_in = static_cast<uInt>(compressed.size());
  int ret = Z_OK;
  size_t produced = 0;
  while (true) {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    ret = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (ret == Z_STREAM_END) break;
    if (ret == Z_BUF_ERROR && zs.avail_in == 0) {
      const size_t at = compressed.size();
      inflateEnd(&zs);
      SPARSE_FAIL("file '" << name << "': truncated gzip stream: compressed data ends at byte offset " << at
                           << " before the end of the stream (" << produced << " bytes inflated so far)");
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      const size_t at = compressed.size() - zs.avail_in;
      const std::string why = zs.msg ? zs.msg : "error " + std::to_string(ret);
      inflateEnd(&zs);
      SPARSE_FAIL("file '" << name << "': corrupt gzip stream near compressed byte offset " << at << " (zlib: " << why
                           << ")");
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  try {
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::parse_error& e) {
    SPARSE_FAIL("file '" << path.string() << "': invalid JSON at byte " << e.byte << ": " << e.what());
  }
}

void write_file_atomic(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    SPARSE_CHECK(out.good(), "cannot write '" << tmp.string() << "': " << std::strerror(errno));
    out << text;
    out.flush();
    SPARSE_CHECK(out.good(), "error writing '" << tmp.string() << "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  SPARSE_CHECK(!ec, "cannot rename '" << tmp.string() << "' to '" << path.string() << "': " << ec.message());
}

}  // namespace sparse
