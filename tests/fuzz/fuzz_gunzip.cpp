// libFuzzer target for gunzip(): corrupt or truncated streams raise sparse::Error, never crash.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 16)) return 0;
  std::vector<uint8_t> in(data, data + size);
  if (in.size() >= 2) in[0] = 0x1f, in[1] = 0x8b;  // always a gzip candidate
  try {
    const auto out = sparse::gunzip(in, "fuzz");
    if (out.size() > (size_t(1) << 31)) __builtin_trap();
  } catch (const sparse::Error&) {
  }
  return 0;
}
