// sparse::Error helpers (see error.hpp).
#include "host/core/error.hpp"

namespace sparse {

std::string Error::where() const {
  if (file_.empty()) return "";
  std::string s = expression_.empty() ? std::string("raised") : "check '" + expression_ + "' failed";
  return s + " at " + file_ + ":" + std::to_string(line_);
}

void throw_error(const std::string& message, const char* expression, const char* file, int line) {
  throw Error(message, expression, file, line);
}

}  // namespace sparse
