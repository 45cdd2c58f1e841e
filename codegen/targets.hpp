// Build targets for generated C: the host compiler, and Cortex-M machines emulated by qemu-system-arm
// (micro:bit M0, MPS2 AN385 M3, AN386 M4, AN500 M7, AN505 M33) with the startup code and linker scripts
// in codegen/targets/cortex-m/, and the Arduino Uno's ATmega328P under simavr (codegen/targets/avr/).
// Output comes back through semihosting (Cortex-M) or USART0 (AVR); every emulator run has a time limit.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "host/core/subprocess.hpp"

namespace sparse::codegen {

struct Target {
  std::string name;          // "host", "cortex-m0", ... (the --target value)
  std::string qemu_machine;  // "" for host and AVR
  std::string avr_mcu;       // "atmega328p" for the AVR target
  std::string cpu;           // -mcpu / qemu -cpu
  std::vector<std::string> float_flags;  // -mfloat-abi / -mfpu
  std::string linker_script;             // file in codegen/targets/cortex-m/
  bool has_fpu = false;
  int64_t flash_bytes = 0, ram_bytes = 0;  // the emulated chip's memories (0: unlimited, the host)
};

const std::vector<Target>& targets();
const Target& find_target(const std::string& name);  // errors list the valid names

// Folder holding the Cortex-M startup code and linker scripts.
std::filesystem::path cortex_m_support_dir();
// Folder holding the AVR harness I/O.
std::filesystem::path avr_support_dir();

// Programs a target needs (compiler, emulator), and whether they are all installed.
std::vector<std::string> required_programs(const Target& t);
bool target_available(const Target& t, std::string* missing = nullptr);

struct BuildOptions {
  std::vector<std::filesystem::path> sources, include_dirs;
  std::vector<std::string> extra_flags;  // e.g. -O2, -fsanitize=address on the host
  std::filesystem::path output;          // executable or ELF
  int stack_bytes = 8192;                // Cortex-M stack reserved by the linker script
};

// Compiles with -std=c99 -Wall -Wextra -Werror -pedantic. Throws with the compiler's output on failure.
void build(const Target& t, const BuildOptions& options);

// Runs the built program: natively for host, under qemu-system-arm otherwise. `count_instructions` runs QEMU
// with -icount shift=0, so that virtual time advances 1 ns per executed guest instruction (the processor-clock
// SysTick then counts instructions / clock period); it does not change what the program computes.
ProcessResult run(const Target& t, const std::filesystem::path& program, double timeout_seconds,
                  bool count_instructions = false);

struct ElfSizes {
  long text = 0, data = 0, bss = 0;  // bytes, as arm-none-eabi-size reports them (flash = text + data)
};
ElfSizes elf_sizes(const Target& t, const std::filesystem::path& elf);

}  // namespace sparse::codegen
