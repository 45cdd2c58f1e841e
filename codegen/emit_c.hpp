// C emitter for a LoweredModel: `<name>.h` (API, input quantization macros, header comment with accuracy and
// memory figures), `<name>.c` (const weights in flash, one static arena, predict() calling sparse_rt kernels
// in the planned order), an optional test harness embedding int8 test images, and a footprint program used
// to read the model's flash and static RAM from a linked ELF.
// Invariants of the emitted C: C99, no malloc, only <stdint.h>/<string.h> (and sparse_rt.h); every constant
// array is `static const ... SPRT_FLASH` (flash on Cortex-M and AVR); the same files build for every target;
// predict() computes exactly nn::run_int8's integers (the kernels are REFERENCE.md §6's arithmetic) and
// returns the first index of the largest score, as nn::predict does.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codegen/lowering.hpp"
#include "datasets/normalization.hpp"
#include "host/memory/memory.hpp"

namespace sparse::codegen {

// Throws unless `name` is a C identifier ([A-Za-z_][A-Za-z0-9_]*, at most 48 characters, not a C keyword).
void check_c_name(const std::string& name);

// Facts for the header comment; empty optionals are left out.
struct ModelFacts {
  std::string source;                  // where the trial came from
  std::string dataset;                 // dataset name
  std::optional<double> float_test_acc, int8_test_acc;  // as the trial recorded them
  std::optional<double> int8_acc_here;  // int8 accuracy recomputed at export on the test split
  size_t test_images = 0;              // images behind int8_acc_here
  std::optional<data::Normalization> norm;
  memory::MemoryReport paper;          // MS, WM eq. 5, WM eq. 6 of the pruned network (8-bit)
  std::vector<std::string> measured;   // lines added by --verify (per target: flash, RAM, stack, instructions)
};

struct EmittedModel {
  std::string header, source;  // <name>.h, <name>.c
};

EmittedModel emit_model(const LoweredModel& m, const std::string& name, const ModelFacts& facts);

// A main() that predicts each embedded image (int8, [count, H, W, C]) and prints one line per image:
//   "img <i> pred <p> label <l> stack <bytes> ticks <t> wrap <0|1> scores <s0> <s1> ..."
// and at the end "calib <iterations> <ticks>" then "done <correct>". On Cortex-M (SPARSE_ON_MCU, __arm__)
// `stack` is predict()'s stack high-water mark (stack painted below the caller's SP before each call, scanned
// after) and `ticks` SysTick ticks of the processor clock over the call (read the SysTick count under QEMU
// -icount, where virtual time advances per instruction; `calib` times a loop of 2·iterations instructions so
// ticks convert to instructions); `wrap` 1 means the 24-bit counter wrapped (ticks unusable). On AVR `ticks`
// are CPU cycles from Timer1 (prescaler 1, overflow interrupt) and calib is "calib 0 0". On the host both are
// -1.
std::string emit_harness(const LoweredModel& m, const std::string& name, const std::vector<int8_t>& images,
                         const std::vector<int>& labels);

// main() calling predict once on static buffers (with_model) or only touching the same buffers: the
// difference of two linked ELFs is the model's flash (code + constants) and static RAM.
std::string emit_footprint(const LoweredModel& m, const std::string& name, bool with_model);

// One parsed harness line per image, plus the calibration.
struct HarnessImage {
  int index = 0, pred = 0, label = 0;
  int64_t stack = -1, ticks = -1;
  bool wrapped = false;
  std::vector<int8_t> scores;
};
struct HarnessOutput {
  std::vector<HarnessImage> images;
  int64_t calib_iterations = 0, calib_ticks = 0;
  int correct = -1;
};
// Parses the harness's stdout; throws naming the line when it is malformed or "done" is missing.
HarnessOutput parse_harness_output(const std::string& text);

}  // namespace sparse::codegen
