// Target table, cross builds and emulator runs (see targets.hpp).
#include "codegen/targets.hpp"

#include <sstream>

#include "host/core/error.hpp"

namespace sparse::codegen {

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      // Memories are the linker scripts' (micro:bit nRF51822 256 KB / 16 KB; MPS2 code and data SSRAM 4 MB each)
      // and the ATmega328P's 32 KB flash / 2 KB SRAM.
      {"host", "", "", "", {}, "", true, 0, 0},
      {"cortex-m0", "microbit", "", "cortex-m0", {"-mfloat-abi=soft"}, "microbit.ld", false, 256 << 10, 16 << 10},
      {"cortex-m3", "mps2-an385", "", "cortex-m3", {"-mfloat-abi=soft"}, "mps2.ld", false, 4 << 20, 4 << 20},
      {"cortex-m4", "mps2-an386", "", "cortex-m4", {"-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"}, "mps2.ld", true, 4 << 20,
       4 << 20},
      {"cortex-m7", "mps2-an500", "", "cortex-m7", {"-mfloat-abi=hard", "-mfpu=fpv5-d16"}, "mps2.ld", true, 4 << 20,
       4 << 20},
      {"cortex-m33", "mps2-an505", "", "cortex-m33", {"-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"}, "mps2_an505.ld", true,
       4 << 20, 4 << 20},
      {"avr", "", "atmega328p", "", {}, "", false, 32 << 10, 2 << 10},
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
std::filesystem::path avr_support_dir() { return std::filesystem::path(SPARSE_CODEGEN_DIR) / "targets" / "avr"; }

namespace {

bool is_avr(const Target& t) { return !t.avr_mcu.empty(); }
bool is_host(const Target& t) { return t.qemu_machine.empty() && t.avr_mcu.empty(); }

// simavr prints USART0 lines on stderr as ESC[32m<line>.\n ESC[0m (the newline shown as '.'): strip that back
// to the text, and take the exit code from the harness's "sparse-exit=N" line.
ProcessResult parse_simavr(ProcessResult r) {
  std::string text;
  for (size_t i = 0; i < r.err.size(); ++i) {
    if (r.err[i] == '\033') {
      while (i < r.err.size() && r.err[i] != 'm') ++i;
      continue;
    }
    text += r.err[i];
  }
  std::istringstream in(text);
  std::string line, out;
  int code = -1;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '.') line.pop_back();
    if (line.rfind("sparse-exit=", 0) == 0) {
      code = std::stoi(line.substr(12));
      continue;
    }
    if (!line.empty()) out += line + "\n";
  }
  ProcessResult p = r;
  p.out = out;
  p.err = r.out;  // simavr's own messages ("Loaded ... .text")
  if (!r.timed_out) p.exit_code = code >= 0 ? code : 125;  // 125: the program never printed its exit line
  return p;
}

}  // namespace

std::vector<std::string> required_programs(const Target& t) {
  if (is_avr(t)) return {"avr-gcc", "avr-size", "simavr"};
  if (is_host(t)) return {"cc"};
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
  const bool host = is_host(t), avr = is_avr(t);
  argv.push_back(host ? "cc" : (avr ? "avr-gcc" : "arm-none-eabi-gcc"));
  for (const char* f : {"-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"}) argv.push_back(f);
  const auto common = std::filesystem::path(SPARSE_CODEGEN_DIR) / "targets";
  if (!host) {
    argv.push_back("-I" + common.string());
    argv.push_back((common / "harness_fmt.c").string());
  }
  if (avr) {
    argv.push_back("-mmcu=" + t.avr_mcu);
    argv.push_back((avr_support_dir() / "uart_io.c").string());
  } else if (!host) {
    const auto dir = cortex_m_support_dir();
    argv.push_back("-mcpu=" + t.cpu);
    argv.push_back("-mthumb");
    argv.insert(argv.end(), t.float_flags.begin(), t.float_flags.end());
    for (const char* f : {"-ffunction-sections", "-fdata-sections", "-nostartfiles", "-specs=nano.specs"}) argv.push_back(f);
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
  if (!host && !avr) {
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

ProcessResult run(const Target& t, const std::filesystem::path& program, double timeout_seconds,
                  bool count_instructions) {
  if (is_host(t)) return run_process({program.string()}, timeout_seconds);
  if (is_avr(t))
    return parse_simavr(run_process({"simavr", "-m", t.avr_mcu, "-f", "16000000", program.string()}, timeout_seconds));
  // Semihosting output goes to a stdio chardev so that it arrives on stdout (QEMU's default is stderr).
  std::vector<std::string> argv = {"qemu-system-arm", "-machine", t.qemu_machine, "-cpu", t.cpu, "-nographic",
                                   "-monitor", "none", "-serial", "none", "-chardev", "stdio,id=semihost",
                                   "-semihosting-config", "enable=on,target=native,chardev=semihost"};
  if (count_instructions) argv.insert(argv.end(), {"-icount", "shift=0"});
  argv.insert(argv.end(), {"-kernel", program.string()});
  return run_process(argv, timeout_seconds);
}

ElfSizes elf_sizes(const Target& t, const std::filesystem::path& elf) {
  const ProcessResult r =
      run_process({is_host(t) ? "size" : (is_avr(t) ? "avr-size" : "arm-none-eabi-size"), elf.string()}, 30);
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
