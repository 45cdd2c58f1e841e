// Error types and checking macros: library code throws sparse::Error; only the CLI turns it into a message.
// Invariant: what() is the user-facing message (names the file, field or value and what was expected);
// expression(), file() and line() record where the check failed, for --verbose and for bug reports.
// A DeviceError is an Error of the device, not of the computation asked of it: the search re-queues its trial.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace sparse {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* expression = "", const char* file = "", int line = 0)
      : std::runtime_error(message), expression_(expression), file_(file), line_(line) {}
  const std::string& expression() const { return expression_; }
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  // "expr at file:line" or "" when unknown.
  std::string where() const;

 private:
  std::string expression_, file_;
  int line_;
};

// The device itself failed (any CUDA or cuBLAS error: illegal address, launch failure, device out of memory), so
// the same work may succeed on another device or on a rebuilt backend. device(): "cuda:N" ("" when unknown);
// op(): the backend call that reported it ("" when unknown; a kernel's asynchronous fault surfaces at a later call
// that synchronizes); reason(): the runtime's words. what() is "device: op: reason" without the empty parts.
class DeviceError : public Error {
 public:
  DeviceError(std::string device, std::string op, std::string reason, const char* expression = "",
              const char* file = "", int line = 0);
  const std::string& device() const { return device_; }
  const std::string& op() const { return op_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string device_, op_, reason_;
};

[[noreturn]] void throw_error(const std::string& message, const char* expression, const char* file, int line);

}  // namespace sparse

// SPARSE_CHECK(cond, stream-expression): throws sparse::Error with the streamed message when cond is false.
#define SPARSE_CHECK(cond, msg)                                              \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::ostringstream sparse_check_os_;                                   \
      sparse_check_os_ << msg;                                               \
      ::sparse::throw_error(sparse_check_os_.str(), #cond, __FILE__, __LINE__); \
    }                                                                        \
  } while (0)

// SPARSE_FAIL(stream-expression): unconditional error.
#define SPARSE_FAIL(msg)                                                   \
  do {                                                                     \
    std::ostringstream sparse_check_os_;                                   \
    sparse_check_os_ << msg;                                               \
    ::sparse::throw_error(sparse_check_os_.str(), "", __FILE__, __LINE__); \
  } while (0)
