// Verification of exported C and its memory report: the host build (with AddressSanitizer and UBSan) must print
// scores identical bit for bit to nn::run_int8 on every embedded image; each emulated target's build must print
// the host's scores; per target the model's flash and RAM are measured, never estimated:
//  - flash: (text + data) of a linked footprint ELF calling predict() minus that of the same program without
//    the model (emit_footprint), both --gc-sections: the model's code, its constants (weights, sparse indices,
//    bias, requantization), the runtime kernels it calls and the libgcc helpers they pull in;
//  - static RAM: (data + bss) difference of the same two ELFs (the arena, and any other static of the model);
//  - stack: predict()'s high-water mark under the emulator (stack painted below the caller's frame, scanned
//    after each call; max over images);
//  - total RAM = static RAM + stack + the caller's buffers that must be RAM: the scores, and the raw input only
//    when the model does not downsample it (a downsampling model reads the raw image in place, e.g. from flash,
//    or by rows: lowering.hpp);
//  - RAM against the paper's working memory: total RAM <= WM eq. 6 (8-bit, memory_report's default, the
//    downsampled image as the first layer's input) + runtime overhead, where the overhead is
//      predict()'s measured stack (kernel frames and locals, predict_rows' raw row) + the planner's excess
//      max(0, arena + input in RAM + scores − WM6) (bytes eq. 6 does not count: the scores buffer kept through every layer,
//      tensors a branch keeps alive across other layers, first-fit gaps) + alignment: static RAM − arena, at
//      most 7 B (the linker rounds objects and sections to 4 or 8 bytes);
//    any other static byte (a copy of the raw input, constants copied to RAM) breaks it (TargetReport::wm_error);
//  - a run whose stack reaches the statics (the harness checks a painted guard after each call and, on AVR, in
//    the timer interrupt) is reported as a stack overflow with the RAM figures, one that never ends as hung with
//    the images it printed; neither as a bare time-out;
//  - instructions per inference (Cortex-M): QEMU -icount shift=0 makes virtual time 1 ns per instruction;
//    SysTick on the processor clock counts ticks over each call, converted by a calibration loop of known length
//    (2 instructions per iteration). Resolution: one tick (2·iterations / calib ticks instructions, 40 on
//    MPS2's 25 MHz). AVR: CPU cycles from Timer1 under simavr (cycle-accurate), including its overflow
//    interrupt (about 30 cycles per 65536).
// Invariant: a target whose tools are missing is reported skipped with the reason, never as passed.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codegen/export.hpp"
#include "codegen/targets.hpp"

namespace sparse::codegen {

struct TargetReport {
  std::string target;
  bool ran = false;
  std::string skipped;            // why it did not run (missing tool)
  int images = 0, correct = 0;
  int mismatches = 0;             // images whose scores differ from the reference (host: run_int8; target: host)
  std::string first_mismatch;
  // Measured figures (MCU targets; -1 when not measured).
  int64_t flash_bytes = -1, static_ram_bytes = -1, stack_bytes = -1, total_ram_bytes = -1;
  int64_t chip_flash = 0, chip_ram = 0;
  double per_inference = -1;      // instructions (Cortex-M) or cycles (AVR), mean over images
  double resolution = 0;          // instructions per SysTick tick
  std::string per_inference_unit;  // "instructions" | "cycles"
  std::string fit_error;          // set when the model exceeds the chip's flash or RAM (or its stack overflowed)
  std::string run_error;          // set when the emulated run hung (time limit) without reporting an overflow
  // RAM against WM eq. 6 (see above); -1 when not measured.
  int64_t input_ram_bytes = 0;    // raw input bytes that must be in RAM (0 when the input is downsampled on read)
  int64_t ram_overhead_bytes = -1, planner_excess_bytes = -1, alignment_bytes = -1, wm_bound_bytes = -1;
  std::string wm_error;           // set when total RAM > WM6 + overhead
  double seconds = 0;
  bool ok() const { return ran && mismatches == 0 && fit_error.empty() && run_error.empty() && wm_error.empty(); }
};

struct VerifyReport {
  std::string name;
  int64_t data_bytes = 0, weight_value_bytes = 0, index_bytes = 0, param_bytes = 0;
  int64_t arena_bytes = 0, arena_lower_bound = 0, input_bytes = 0, output_bytes = 0;
  int64_t raw_input_bytes = 0;    // the raw image; input_bytes is what of it must be in RAM (0 when fused)
  int64_t model_input_bytes = 0;  // the downsampled image (an arena tensor) when fused, else the raw image
  bool input_fused = false;       // input downsampling fused into reading the raw image
  int64_t ms_bytes = 0, wm5_bytes = 0, wm6_bytes = 0;
  int orders_tried = 0;
  std::vector<TargetReport> targets;
  bool ok() const;  // every target ran, bit-exact and fitting (a skipped target is not ok)
};

struct VerifyOptions {
  std::vector<std::string> targets = {"host"};  // "host" first; others are compared with it
  double timeout_seconds = 300;                  // per emulator run
  bool sanitize_host = true;                     // -fsanitize=address,undefined on the host build
};

// Builds and runs `name` from `src_dir` (write_sources' files with a harness) in `work_dir`.
// `expected` holds nn::run_int8's scores per embedded image.
VerifyReport verify(const PreparedModel& p, const std::string& name, const std::filesystem::path& src_dir,
                    const std::filesystem::path& work_dir, const std::vector<std::vector<int8_t>>& expected,
                    const VerifyOptions& options);

// Checks that the planned RAM and the constant data fit `t` before any build; throws with the numbers.
void check_fits(const LoweredModel& m, const Target& t);
// RAM check of a measured target (see above): fills input_ram_bytes, ram_overhead_bytes, planner_excess_bytes,
// wm_bound_bytes and wm_error from static_ram_bytes, stack_bytes and total_ram_bytes.
void check_ram_against_wm(TargetReport& r, const LoweredModel& m, int64_t wm6_bytes);
// Checks that `images` embedded test images (m.input_bytes() each, kept in flash) fit `t` beside the constants,
// and, on AVR, in one array (avr-gcc's largest object is 32767 bytes); throws with the numbers and the largest
// count that fits.
void check_test_images_fit(const LoweredModel& m, const Target& t, size_t images);

std::string format_report(const VerifyReport& r);
nlohmann::json to_json(const VerifyReport& r);
// Lines for the header comment (one per measured target).
std::vector<std::string> measured_lines(const VerifyReport& r);

}  // namespace sparse::codegen
