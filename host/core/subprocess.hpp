// run_process(): run an external program (compilers, emulators) with a time limit, capturing its output.
// Invariant: never leaves a child behind: on time-out the child's process group is killed and reaped.
#pragma once
#include <string>
#include <vector>

namespace sparse {

struct ProcessResult {
  int exit_code = -1;      // the program's exit status; 128 + signal when killed by a signal
  bool timed_out = false;  // killed after `timeout_seconds`
  std::string out, err;    // captured stdout and stderr
};

// argv[0] is looked up in PATH. Throws sparse::Error when the program cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_seconds);

// True when `program` is found in PATH (or is an executable path).
bool program_available(const std::string& program);

}  // namespace sparse
