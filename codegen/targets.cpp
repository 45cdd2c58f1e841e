// Target table, cross builds and emulator runs (see targets.hpp).
#include "codegen/targets.hpp"

#include <sstream>

#include "host/core/error.hpp"

namespace sparse::codegen {

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"host", "", "", {}, "", true},
      {"cortex-m0", "microbit", "cortex-m0", {"-mfloat-abi=soft"}, "microbit.ld", false},
      {"cortex-m3", "mps2-an385", "cortex-m3", {"-mfloat-abi=soft"}, "mps2.ld", false},
      {"cortex-m4", "mps2-an386", "cortex-m4", {"-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"}, "mps2.ld", true},
      {"cortex-m7", "mps2-an500", "cortex-m7", {"-mfloat-abi=hard", "-mfpu=fpv5-d16"}, "mps2.ld", true},
      {"cortex-m33", "mps2-an505", "cortex-m33", {"-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"}, "mps2_an505.ld", true},
  };
  return all;
}

const Target& find_target(const std::string& name) {
  std::string names;
  for (const Target& t : targets()) {
    if (t.name == name || (t.name == "cortex-" + name)) return t;
    names += (names.empty() ? "" : ", ") + t.name;
  }
  SPARSE_FAIL("unknown target '" << name << "', expected one of: " << names);
}

std::filesystem::path cortex_m_support_dir() { return std::filesystem::path(SPARSE_CODEGEN_DIR) / "targets" / "cortex-m"; }

std::vector<std::string> required_programs(const Target& t) {
  if (t.qemu_machine.empty()) return {"cc"};
  return {"arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm"};
}

bool target_available(const Target& t, std::string* missing) {
  for (const auto& p : required_programs(t))
    if (!program_available(p)) {
      if (missing) *missing = p;
      return false;
    }
  return true;
}

void build(const Target& t, const BuildOptions& o) {
  std::vector<std::string> argv;
  const bool host = t.qemu_machine.empty();
  argv.push_back(host ? "cc" : "arm-none-eabi-gcc");
  for (const char* f : {"-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"}) argv.push_back(f);
  if (!host) {
    const auto dir = cortex_m_support_dir();
    argv.push_back("-mcpu=" + t.cpu);
    argv.push_back("-mthumb");
    argv.insert(argv.end(), t.float_flags.begin(), t.float_flags.end());
    for (const char* f : {"-ffunction-sections", "-fdata-sections", "-nostartfiles", "-specs=nano.specs"}) argv.push_back(f);
    argv.push_back("-I" + dir.string());
    argv.push_back("-L" + dir.string());
    argv.push_back("-T" + (dir / t.linker_script).string());
    argv.push_back("-Wl,--gc-sections");
    argv.push_back("-Wl,--defsym=__stack_size=" + std::to_string(o.stack_bytes));
    argv.push_back((dir / "startup.c").string());
    argv.push_back((dir / "semihost.c").string());
  }
  argv.insert(argv.end(), o.extra_flags.begin(), o.extra_flags.end());
  for (const auto& d : o.include_dirs) argv.push_back("-I" + d.string());
  for (const auto& s : o.sources) argv.push_back(s.string());
  argv.push_back("-o");
  argv.push_back(o.output.string());
  if (!host) {
    argv.push_back("-lc");
    argv.push_back("-lgcc");
  }
  const ProcessResult r = run_process(argv, 300);
  if (r.exit_code != 0 || r.timed_out) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    SPARSE_FAIL("build for target " << t.name << " failed" << (r.timed_out ? " (timed out)" : "") << ":\n"
                                    << r.err.substr(0, 4000) << r.out.substr(0, 1000) << "\ncommand: " << cmd);
  }
}

ProcessResult run(const Target& t, const std::filesystem::path& program, double timeout_seconds) {
  if (t.qemu_machine.empty()) return run_process({program.string()}, timeout_seconds);
  // Semihosting output goes to a stdio chardev so that it arrives on stdout (QEMU's default is stderr).
  return run_process({"qemu-system-arm", "-machine", t.qemu_machine, "-cpu", t.cpu, "-nographic", "-monitor", "none",
                      "-serial", "none", "-chardev", "stdio,id=semihost", "-semihosting-config",
                      "enable=on,target=native,chardev=semihost", "-kernel", program.string()},
                     timeout_seconds);
}

ElfSizes elf_sizes(const Target& t, const std::filesystem::path& elf) {
  const ProcessResult r = run_process({t.qemu_machine.empty() ? "size" : "arm-none-eabi-size", elf.string()}, 30);
  SPARSE_CHECK(r.exit_code == 0, "cannot read section sizes of '" << elf.string() << "': " << r.err);
  // Berkeley format: header line, then "text data bss dec hex filename".
  std::istringstream in(r.out);
  std::string header;
  std::getline(in, header);
  ElfSizes s;
  in >> s.text >> s.data >> s.bss;
  SPARSE_CHECK(static_cast<bool>(in), "unexpected output of size for '" << elf.string() << "': " << r.out);
  return s;
}

}  // namespace sparse::codegen
