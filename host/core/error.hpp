// Error type and checking macros: library code throws sparse::Error; only the CLI turns it into a message and an exit code.
// Invariant: what() is the user-facing message (names the file, field or value and what was expected);
// expression(), file() and line() record where the check failed, for --verbose and for bug reports.
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
