// parse_bytes / parse_duration (see units.hpp).
#include "host/core/units.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "host/core/error.hpp"

namespace sparse {

namespace {

// Splits "1.5 KiB" into 1.5 and "kib" (lower case, spaces dropped); false when the number is malformed.
bool split_number_unit(const std::string& text, double* value, std::string* unit) {
  std::string t;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t.empty()) return false;
  char* end = nullptr;
  *value = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || !std::isfinite(*value)) return false;
  *unit = std::string(end);
  return true;
}

}  // namespace

int64_t parse_bytes(const std::string& text, const std::string& what) {
  double v = 0;
  std::string unit;
  const bool ok = split_number_unit(text, &v, &unit);
  double scale = -1;
  if (ok) {
    if (unit.empty() || unit == "b") scale = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib") scale = 1024;
    else if (unit == "m" || unit == "mb" || unit == "mib") scale = 1024.0 * 1024;
  }
  SPARSE_CHECK(ok && scale > 0 && v >= 0 && v * scale < 9e15,
               what << " '" << text << "' is not a size, expected a non-negative number with an optional unit B, KB or MB "
                    << "(1 KB = 1024 bytes), e.g. 2KB");
  return static_cast<int64_t>(std::floor(v * scale));
}

double parse_duration(const std::string& text, const std::string& what) {
  double v = 0;
  std::string unit;
  const bool ok = split_number_unit(text, &v, &unit);
  double scale = -1;
  if (ok) {
    if (unit.empty() || unit == "s") scale = 1;
    else if (unit == "m" || unit == "min") scale = 60;
    else if (unit == "h") scale = 3600;
    else if (unit == "d") scale = 86400;
  }
  SPARSE_CHECK(ok && scale > 0 && v > 0, what << " '" << text
                                              << "' is not a duration, expected a positive number with an optional unit "
                                              << "s, m, h or d, e.g. 30m");
  return v * scale;
}

}  // namespace sparse
