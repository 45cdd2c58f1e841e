// Parsing of user-facing quantities: byte budgets ("2KB") and durations ("30m"). 1 KB = 1024 bytes, as MCU
// datasheets count RAM and flash.
#pragma once
#include <cstdint>
#include <string>

namespace sparse {

// "2048", "2KB", "2 KiB", "1.5kb", "1MB" -> bytes (integer, rounded down). `what` names the flag in errors.
int64_t parse_bytes(const std::string& text, const std::string& what);
// "90", "90s", "30m", "1.5h", "2d" -> seconds.
double parse_duration(const std::string& text, const std::string& what);

}  // namespace sparse
