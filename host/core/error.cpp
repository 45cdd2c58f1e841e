// sparse::Error and sparse::DeviceError helpers (see error.hpp).
#include "host/core/error.hpp"

#include <utility>

namespace sparse {

namespace {
std::string device_message(const std::string& device, const std::string& op, const std::string& reason) {
  std::string m;
  for (const std::string* part : {&device, &op})
    if (!part->empty()) m += *part + ": ";
  return m + reason;
}
}  // namespace

DeviceError::DeviceError(std::string device, std::string op, std::string reason, const char* expression,
                         const char* file, int line)
    : Error(device_message(device, op, reason), expression, file, line),
      device_(std::move(device)),
      op_(std::move(op)),
      reason_(std::move(reason)) {}

std::string Error::where() const {
  if (file_.empty()) return "";
  std::string s = expression_.empty() ? std::string("raised") : "check '" + expression_ + "' failed";
  return s + " at " + file_ + ":" + std::to_string(line_);
}

void throw_error(const std::string& message, const char* expression, const char* file, int line) {
  throw Error(message, expression, file, line);
}

}  // namespace sparse
