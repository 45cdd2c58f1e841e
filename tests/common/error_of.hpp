// error_of(): the message of the sparse::Error a callable throws, or "" when it throws none.
#pragma once
#include <functional>
#include <string>

#include "host/core/error.hpp"

namespace sparse::test {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sparse::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace sparse::test
