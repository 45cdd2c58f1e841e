// Builds, runs and measures exported C on the host and emulated targets (see verify.hpp).
#include "codegen/verify.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <sstream>

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"

namespace sparse::codegen {

namespace fs = std::filesystem;

bool VerifyReport::ok() const {
  if (targets.empty()) return false;
  for (const auto& t : targets)
    if (!t.ok()) return false;  // a skipped target was not verified: not ok either
  return true;
}

void check_fits(const LoweredModel& m, const Target& t) {
  if (t.flash_bytes <= 0) return;
  const int64_t ram = m.plan.arena_bytes + m.input_ram_bytes() + m.output_bytes();
  SPARSE_CHECK(m.data_bytes() <= t.flash_bytes,
               "the model does not fit " << t.name << ": its constants alone take " << m.data_bytes()
                                         << " bytes of flash (weights " << m.weight_value_bytes() << " + indices "
                                         << m.index_bytes() << " + bias/requantization " << m.param_bytes()
                                         << "), the chip has " << t.flash_bytes);
  SPARSE_CHECK(ram <= t.ram_bytes, "the model does not fit " << t.name << ": it needs " << ram << " bytes of RAM before any stack "
                                                             << "(arena " << m.plan.arena_bytes << " + input "
                                                             << m.input_ram_bytes() << " + scores " << m.output_bytes()
                                                             << (m.fused_input() ? "; the raw input is read in place, "
                                                                                   "not stored"
                                                                                 : "")
                                                             << "), the chip has " << t.ram_bytes);
}

void check_test_images_fit(const LoweredModel& m, const Target& t, size_t images) {
  if (images == 0 || t.flash_bytes <= 0) return;
  const int64_t each = m.input_bytes();
  const int64_t bytes = static_cast<int64_t>(images) * each;
  if (!t.avr_mcu.empty()) {
    constexpr int64_t kAvrLargestObject = 32767;  // PTRDIFF_MAX of a 16-bit target
    SPARSE_CHECK(bytes <= kAvrLargestObject,
                 "--test-images " << images << " does not fit " << t.name << ": " << images << " images of " << each
                                  << " bytes take " << bytes << " bytes in one array, avr-gcc's largest object is "
                                  << kAvrLargestObject << " bytes (use --test-images " << kAvrLargestObject / each
                                  << " or fewer)");
  }
  const int64_t left = t.flash_bytes - m.data_bytes();
  SPARSE_CHECK(bytes <= left, "--test-images " << images << " does not fit " << t.name << ": " << images << " images of "
                                               << each << " bytes take " << bytes << " bytes of flash beside the model's "
                                               << m.data_bytes() << " bytes of constants, the chip has "
                                               << t.flash_bytes << " (use --test-images " << std::max<int64_t>(0, left) / each
                                               << " or fewer, before code)");
}

void check_ram_against_wm(TargetReport& r, const LoweredModel& m, int64_t wm6_bytes) {
  r.input_ram_bytes = m.input_ram_bytes();
  if (r.static_ram_bytes < 0 || r.stack_bytes < 0) return;
  r.planner_excess_bytes =
      std::max<int64_t>(0, m.plan.arena_bytes + m.input_ram_bytes() + m.output_bytes() - wm6_bytes);
  // Object and section alignment (4 or 8 bytes on the targets' linker scripts) may round the arena's footprint up.
  r.alignment_bytes = std::clamp<int64_t>(r.static_ram_bytes - m.plan.arena_bytes, 0, 7);
  r.ram_overhead_bytes = r.stack_bytes + r.planner_excess_bytes + r.alignment_bytes;
  r.wm_bound_bytes = wm6_bytes + r.ram_overhead_bytes;
  r.wm_error.clear();
  if (r.total_ram_bytes > r.wm_bound_bytes)
    r.wm_error = "RAM " + std::to_string(r.total_ram_bytes) + " B (static " + std::to_string(r.static_ram_bytes) +
                 " + stack " + std::to_string(r.stack_bytes) + " + input " + std::to_string(r.input_ram_bytes) +
                 " + scores " + std::to_string(m.output_bytes()) + ") exceeds WM eq.6 " + std::to_string(wm6_bytes) +
                 " B + runtime overhead " + std::to_string(r.ram_overhead_bytes) + " B (stack " +
                 std::to_string(r.stack_bytes) + " + planner excess " + std::to_string(r.planner_excess_bytes) +
                 " + alignment " + std::to_string(r.alignment_bytes) + "): " + std::to_string(r.total_ram_bytes - r.wm_bound_bytes) + " B in RAM that neither accounts for";
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string scores_str(const std::vector<int8_t>& s) {
  std::string r;
  for (int8_t v : s) r += (r.empty() ? "" : " ") + std::to_string(v);
  return r;
}

// Compares per-image scores; fills mismatches / first_mismatch.
void compare(TargetReport& r, const HarnessOutput& out, const std::vector<std::vector<int8_t>>& want, const std::string& what) {
  r.images = static_cast<int>(out.images.size());
  r.correct = out.correct;
  if (out.images.size() != want.size()) {
    r.mismatches = static_cast<int>(std::max(out.images.size(), want.size()));
    r.first_mismatch = "printed " + std::to_string(out.images.size()) + " images, expected " + std::to_string(want.size());
    return;
  }
  for (size_t i = 0; i < want.size(); ++i)
    if (out.images[i].scores != want[i]) {
      if (r.mismatches++ == 0)
        r.first_mismatch = "image " + std::to_string(i) + ": scores " + scores_str(out.images[i].scores) + ", " + what +
                           " " + scores_str(want[i]);
    }
}

BuildOptions base_options(const fs::path& src_dir, const std::string& name) {
  BuildOptions o;
  o.sources = {src_dir / (name + ".c"), src_dir / "sparse_rt.c"};
  o.include_dirs = {src_dir};
  return o;
}

void measure_footprint(TargetReport& r, const Target& t, const PreparedModel& p, const std::string& name,
                       const fs::path& src_dir, const fs::path& dir, int stack_bytes) {
  ElfSizes sizes[2];
  for (int with = 0; with < 2; ++with) {
    const fs::path src = dir / (std::string("footprint_") + (with ? "model" : "base") + ".c");
    write_file_atomic(src, emit_footprint(p.lowered, name, with != 0));
    BuildOptions o = base_options(src_dir, name);
    o.sources.push_back(src);
    o.output = dir / (std::string("footprint_") + (with ? "model" : "base") + ".elf");
    o.extra_flags = {"-Os"};
    if (!t.avr_mcu.empty())  // the Cortex-M builds garbage-collect sections already (targets.cpp)
      for (const char* f : {"-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections"}) o.extra_flags.push_back(f);
    o.stack_bytes = stack_bytes;
    build(t, o);
    sizes[with] = elf_sizes(t, o.output);
  }
  r.flash_bytes = (sizes[1].text + sizes[1].data) - (sizes[0].text + sizes[0].data);
  r.static_ram_bytes = (sizes[1].data + sizes[1].bss) - (sizes[0].data + sizes[0].bss);
}

}  // namespace

VerifyReport verify(const PreparedModel& p, const std::string& name, const fs::path& src_dir, const fs::path& work_dir,
                    const std::vector<std::vector<int8_t>>& expected, const VerifyOptions& options) {
  const LoweredModel& m = p.lowered;
  VerifyReport rep;
  rep.name = name;
  rep.data_bytes = m.data_bytes();
  rep.weight_value_bytes = m.weight_value_bytes();
  rep.index_bytes = m.index_bytes();
  rep.param_bytes = m.param_bytes();
  rep.arena_bytes = m.plan.arena_bytes;
  rep.arena_lower_bound = m.plan.live_bytes_bound;
  rep.orders_tried = m.plan.orders_tried;
  rep.input_bytes = m.input_ram_bytes();
  rep.raw_input_bytes = m.raw_input_bytes();
  rep.model_input_bytes = m.q.nodes[static_cast<size_t>(m.model_input)].out.size();
  rep.input_fused = m.fused_input();
  rep.output_bytes = m.output_bytes();
  rep.ms_bytes = p.facts.paper.ms_bytes;
  rep.wm5_bytes = p.facts.paper.wm5_bytes;
  rep.wm6_bytes = p.facts.paper.wm6_bytes;
  const fs::path harness = src_dir / (name + "_test.c");
  SPARSE_CHECK(fs::exists(harness), "verify needs the test harness " << harness.string() << " (export with --test-images K)");
  fs::create_directories(work_dir);

  std::vector<std::vector<int8_t>> host_scores;
  std::vector<std::string> names = options.targets;
  if (std::find(names.begin(), names.end(), "host") == names.end()) names.insert(names.begin(), "host");
  std::stable_partition(names.begin(), names.end(), [](const std::string& n) { return n == "host"; });
  for (const std::string& tn : names) {
    const Target& t = find_target(tn);
    TargetReport r;
    r.target = t.name;
    r.chip_flash = t.flash_bytes;
    r.chip_ram = t.ram_bytes;
    const auto t0 = std::chrono::steady_clock::now();
    std::string missing;
    if (!target_available(t, &missing)) {
      r.skipped = "needs '" + missing + "' (scripts/install-deps.sh installs it)";
      SPARSE_CHECK(t.name != "host", "the host C compiler is missing: " << r.skipped);
      rep.targets.push_back(r);
      continue;
    }
    const bool host = t.name == "host", avr = !t.avr_mcu.empty();
    const fs::path dir = work_dir / t.name;
    fs::create_directories(dir);
    int stack_bytes = 8192;
    if (!host) {
      try {
        check_fits(m, t);
      } catch (const Error& e) {
        r.fit_error = e.what();
        rep.targets.push_back(r);
        continue;
      }
      if (!avr) {  // leave the linker's stack reservation room beside the arena and the harness buffers
        const int64_t left = t.ram_bytes - (m.plan.arena_bytes + m.input_ram_bytes() + m.output_bytes()) - 1024;
        stack_bytes = static_cast<int>(std::clamp<int64_t>(left, 0, 8192)) & ~7;
        if (stack_bytes < 1024) {
          r.fit_error = "the model does not fit " + t.name + ": after the arena (" + std::to_string(m.plan.arena_bytes) +
                        " B) and I/O buffers only " + std::to_string(std::max<int64_t>(left, 0)) + " of " +
                        std::to_string(t.ram_bytes) + " bytes of RAM remain for the stack";
          rep.targets.push_back(r);
          continue;
        }
      }
    }
    BuildOptions o = base_options(src_dir, name);
    o.sources.push_back(harness);
    o.output = dir / (name + (host ? "_test" : "_test.elf"));
    o.stack_bytes = stack_bytes;
    if (host) {
      o.extra_flags = {"-O1", "-g"};
      if (options.sanitize_host)
        for (const char* f : {"-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"})
          o.extra_flags.push_back(f);
    } else {
      o.extra_flags = {"-Os", "-DSPARSE_ON_MCU"};
    }
    build(t, o);
    // Host: the generated code never allocates, so LeakSanitizer (which needs ptrace, not always allowed in
    // containers) is off; ASan and UBSan stay on and any report fails the run (-fno-sanitize-recover).
    const ProcessResult pr =
        host && options.sanitize_host
            ? run_process({"env", "ASAN_OPTIONS=detect_leaks=0", o.output.string()}, options.timeout_seconds)
            : run(t, o.output, options.timeout_seconds, !host && !avr);
    if (!host && (pr.timed_out || pr.out.find("stack-overflow") != std::string::npos)) {
      // Say what happened, with the RAM figures of the very program that ran (its statics include the harness's).
      const ElfSizes whole = elf_sizes(t, o.output);
      const int64_t statics = whole.data + whole.bss;
      int printed = 0;
      int64_t last_stack = -1;
      {
        std::istringstream in(pr.out);
        std::string line;
        while (std::getline(in, line))
          if (line.rfind("img ", 0) == 0) {
            ++printed;
            const auto at = line.find(" stack ");
            if (at != std::string::npos) last_stack = std::atoll(line.c_str() + at + 7);
          }
      }
      std::ostringstream why;
      const auto ov = pr.out.find("stack-overflow");
      if (ov != std::string::npos) {
        std::istringstream ls(pr.out.substr(ov));
        std::string tag, k1, k2;
        int64_t a = -1, b = -1;
        ls >> tag >> k1 >> a >> k2 >> b;
        why << "stack overflow on " << t.name << " while predicting image " << printed << ": predict()'s stack reached "
            << "the end of the statics, so all " << t.ram_bytes << " bytes of RAM were in use (static data + bss of the "
            << "test program " << statics << " B, of which the model's arena " << m.plan.arena_bytes << " B; "
            << (avr ? "stack space left " + std::to_string(t.ram_bytes - statics) + " B"
                    : "stack reserved " + std::to_string(a) + " B")
            << "); the chip has " << t.ram_bytes << " B";
        r.fit_error = why.str();
      } else {
        why << t.name << " run hung: no exit after " << options.timeout_seconds << " s, having printed " << printed
            << " of " << expected.size() << " images";
        if (last_stack >= 0) why << " (last stack " << last_stack << " B)";
        why << "; static data + bss of the test program " << statics << " B (model arena " << m.plan.arena_bytes
            << " B) of the chip's " << t.ram_bytes << " B";
        if (avr && last_stack >= 0 && statics + last_stack >= t.ram_bytes - 64)
          why << ": statics + stack come within 64 B of the RAM, most likely a stack overflow the guard missed";
        r.run_error = why.str();
      }
      r.images = printed;
      r.seconds = seconds_since(t0);
      rep.targets.push_back(r);
      continue;
    }
    SPARSE_CHECK(!pr.timed_out, t.name << " run of " << o.output.string() << " timed out after " << options.timeout_seconds
                                       << " s");
    SPARSE_CHECK(pr.exit_code == 0, t.name << " run of " << o.output.string() << " exited with " << pr.exit_code << ":\n"
                                           << pr.err.substr(0, 4000) << pr.out.substr(0, 2000));
    const HarnessOutput out = parse_harness_output(pr.out);
    r.ran = true;
    if (host) {
      compare(r, out, expected, "run_int8 gives");
      for (const auto& im : out.images) host_scores.push_back(im.scores);
    } else {
      compare(r, out, host_scores, "the host gives");
      int64_t stack = 0, ticks = 0;
      bool wrapped = false;
      for (const auto& im : out.images) {
        stack = std::max(stack, im.stack);
        ticks += im.ticks;
        wrapped = wrapped || im.wrapped;
      }
      r.stack_bytes = stack;
      if (avr) {
        r.per_inference_unit = "cycles";
        r.resolution = 1;
        if (!out.images.empty()) r.per_inference = static_cast<double>(ticks) / static_cast<double>(out.images.size());
      } else {
        r.per_inference_unit = "instructions";
        if (out.calib_ticks > 0 && !wrapped && !out.images.empty()) {
          r.resolution = 2.0 * static_cast<double>(out.calib_iterations) / static_cast<double>(out.calib_ticks);
          r.per_inference = static_cast<double>(ticks) / static_cast<double>(out.images.size()) * r.resolution;
        }
      }
      measure_footprint(r, t, p, name, src_dir, dir, stack_bytes);
      r.total_ram_bytes = r.static_ram_bytes + r.stack_bytes + m.input_ram_bytes() + m.output_bytes();
      check_ram_against_wm(r, m, p.facts.paper.wm6_bytes);
      if (r.flash_bytes > t.flash_bytes)
        r.fit_error = "the model takes " + std::to_string(r.flash_bytes) + " bytes of flash, " + t.name + " has " +
                      std::to_string(t.flash_bytes);
      else if (r.total_ram_bytes > t.ram_bytes)
        r.fit_error = "the model takes " + std::to_string(r.total_ram_bytes) + " bytes of RAM (static " +
                      std::to_string(r.static_ram_bytes) + " + stack " + std::to_string(r.stack_bytes) + " + I/O " +
                      std::to_string(m.input_ram_bytes() + m.output_bytes()) + "), " + t.name + " has " +
                      std::to_string(t.ram_bytes);
    }
    r.seconds = seconds_since(t0);
    rep.targets.push_back(r);
  }
  return rep;
}

std::string format_report(const VerifyReport& r) {
  std::ostringstream o;
  o << "model " << r.name << ": constants " << r.data_bytes << " B (weights " << r.weight_value_bytes << " + indices "
    << r.index_bytes << " + bias/requant " << r.param_bytes << "), arena " << r.arena_bytes << " B (live-bytes bound "
    << r.arena_lower_bound << ", " << r.orders_tried << " orders tried), input " << r.input_bytes << " B";
  if (r.input_fused)
    o << " (raw " << r.raw_input_bytes << " B read in place or by rows, downsampled on read into " << r.model_input_bytes
      << " B of the arena)";
  o << ", scores " << r.output_bytes << " B\n";
  o << "paper models (8-bit): MS " << r.ms_bytes << " B, WM eq.5 " << r.wm5_bytes << " B, WM eq.6 " << r.wm6_bytes << " B\n";
  o << std::left << std::setw(11) << "target" << std::right << std::setw(9) << "bit-exact" << std::setw(9) << "correct"
    << std::setw(10) << "flash B" << std::setw(10) << "static B" << std::setw(9) << "stack B" << std::setw(11) << "RAM B"
    << std::setw(19) << "chip flash/RAM" << "  per inference\n";
  for (const auto& t : r.targets) {
    o << std::left << std::setw(11) << t.target << std::right;
    if (!t.skipped.empty()) {
      o << "  skipped: " << t.skipped << "\n";
      continue;
    }
    if (!t.ran) {  // not built (does not fit), or built and ran but hung or overflowed its stack
      const bool failed_run = !t.run_error.empty() || t.fit_error.find("stack overflow") != std::string::npos;
      o << (failed_run ? "  RUN FAILED: " : "  not run: ") << (t.run_error.empty() ? t.fit_error : t.run_error) << "\n";
      continue;
    }
    auto num = [](int64_t v) { return v < 0 ? std::string("-") : std::to_string(v); };
    o << std::setw(9) << (std::to_string(t.images - t.mismatches) + "/" + std::to_string(t.images)) << std::setw(9)
      << (std::to_string(t.correct) + "/" + std::to_string(t.images)) << std::setw(10) << num(t.flash_bytes) << std::setw(10)
      << num(t.static_ram_bytes) << std::setw(9) << num(t.stack_bytes) << std::setw(11) << num(t.total_ram_bytes)
      << std::setw(19) << (t.chip_flash ? std::to_string(t.chip_flash) + "/" + std::to_string(t.chip_ram) : std::string("-"));
    if (t.per_inference >= 0) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "  %.0f %s (±%.4g)", t.per_inference, t.per_inference_unit.c_str(), t.resolution);
      o << buf;
    } else {
      o << "  -";
    }
    o << "  " << std::fixed << std::setprecision(1) << t.seconds << " s" << std::defaultfloat << "\n";
    if (t.mismatches) o << "  MISMATCH on " << t.mismatches << " images; first: " << t.first_mismatch << "\n";
    if (!t.fit_error.empty()) o << "  DOES NOT FIT: " << t.fit_error << "\n";
    if (t.wm_bound_bytes >= 0)
      o << "  RAM vs WM: " << t.total_ram_bytes << " B <= WM eq.6 " << r.wm6_bytes << " + overhead "
        << t.ram_overhead_bytes << " (stack " << t.stack_bytes << " + planner excess " << t.planner_excess_bytes
        << " + alignment " << t.alignment_bytes << ") = " << t.wm_bound_bytes << " B: " << (t.wm_error.empty() ? "ok" : "NO, " + t.wm_error) << "\n";
  }
  bool skipped = false, failed = false;
  for (const auto& t : r.targets) (t.skipped.empty() ? failed : skipped) |= !t.ok();
  o << (r.ok() ? "verify: ok" : failed ? "verify: FAILED" : "verify: INCOMPLETE (a target was skipped)") << "\n";
  return o.str();
}

nlohmann::json to_json(const VerifyReport& r) {
  nlohmann::json j = {{"name", r.name},
                      {"ok", r.ok()},
                      {"constants_bytes", r.data_bytes},
                      {"weight_value_bytes", r.weight_value_bytes},
                      {"index_bytes", r.index_bytes},
                      {"param_bytes", r.param_bytes},
                      {"arena_bytes", r.arena_bytes},
                      {"arena_lower_bound", r.arena_lower_bound},
                      {"orders_tried", r.orders_tried},
                      {"input_bytes", r.input_bytes},
                      {"raw_input_bytes", r.raw_input_bytes},
                      {"model_input_bytes", r.model_input_bytes},
                      {"input_fused", r.input_fused},
                      {"output_bytes", r.output_bytes},
                      {"ms_bytes", r.ms_bytes},
                      {"wm5_bytes", r.wm5_bytes},
                      {"wm6_bytes", r.wm6_bytes}};
  nlohmann::json ts = nlohmann::json::array();
  for (const auto& t : r.targets) {
    nlohmann::json x = {{"target", t.target}, {"ran", t.ran}, {"ok", t.ok()}, {"images", t.images},
                        {"correct", t.correct}, {"mismatches", t.mismatches}, {"seconds", t.seconds}};
    if (!t.skipped.empty()) x["skipped"] = t.skipped;
    if (!t.first_mismatch.empty()) x["first_mismatch"] = t.first_mismatch;
    if (!t.fit_error.empty()) x["fit_error"] = t.fit_error;
    if (!t.run_error.empty()) x["run_error"] = t.run_error;
    if (t.wm_bound_bytes >= 0)
      x["ram_vs_wm"] = {{"total_ram_bytes", t.total_ram_bytes}, {"wm6_bytes", r.wm6_bytes},
                        {"overhead_bytes", t.ram_overhead_bytes}, {"stack_bytes", t.stack_bytes},
                        {"planner_excess_bytes", t.planner_excess_bytes}, {"alignment_bytes", t.alignment_bytes},
                        {"bound_bytes", t.wm_bound_bytes},
                        {"ok", t.wm_error.empty()}};
    if (!t.wm_error.empty()) x["wm_error"] = t.wm_error;
    if (t.flash_bytes >= 0) {
      x["flash_bytes"] = t.flash_bytes;
      x["static_ram_bytes"] = t.static_ram_bytes;
      x["stack_bytes"] = t.stack_bytes;
      x["total_ram_bytes"] = t.total_ram_bytes;
      x["chip_flash_bytes"] = t.chip_flash;
      x["chip_ram_bytes"] = t.chip_ram;
    }
    if (t.per_inference >= 0) {
      x["per_inference"] = t.per_inference;
      x["per_inference_unit"] = t.per_inference_unit;
      x["resolution"] = t.resolution;
    }
    ts.push_back(x);
  }
  j["targets"] = ts;
  return j;
}

std::vector<std::string> measured_lines(const VerifyReport& r) {
  std::vector<std::string> lines;
  for (const auto& t : r.targets) {
    if (!t.ran || t.flash_bytes < 0) continue;
    std::ostringstream o;
    o << "measured on " << t.target << ": flash " << t.flash_bytes << " (code + constants), RAM " << t.total_ram_bytes
      << " = static " << t.static_ram_bytes << " + stack " << t.stack_bytes << " + I/O " << r.input_bytes + r.output_bytes;
    if (t.per_inference >= 0) o << ", " << static_cast<int64_t>(t.per_inference + 0.5) << " " << t.per_inference_unit << "/inference";
    o << (t.mismatches ? ", SCORES DIFFER FROM HOST" : ", scores = host");
    lines.push_back(o.str());
  }
  return lines;
}

}  // namespace sparse::codegen
