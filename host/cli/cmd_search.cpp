// `sparse search` and `sparse worker`: start a SpArSe search in a new trial store (--store FILE|URL), continue one
// (--resume FILE|URL), or join a running one as one more worker (worker --store FILE|URL); a line per ended trial and
// a status line, then the Pareto table. Invariants: a store holds one search; --resume takes every search-defining
// setting from the store and refuses a flag that contradicts it (naming the setting); device flags (--devices,
// --cpu-workers, --threads, --workers-per-gpu, --heartbeat) are per session and free. Any number of these processes
// may run on one study at once: each is a worker under the store's leases (trial_store.hpp), the trial and time
// budgets are the study's, and each prints the workers it joins.
// CUDA: plan_devices() finds the GPUs; a GPU whose training backend cannot be created is refused here, at planning
// time (the default device list then falls back to the CPU with a note; an explicit cuda:N is an error).
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "cuda/device_query.hpp"
#include "host/cli/cli.hpp"
#include "host/cli/dataset_flags.hpp"
#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/core/threads.hpp"
#include "host/core/units.hpp"
#include "host/nn/backend_factory.hpp"
#include "host/search/devices.hpp"
#include "host/search/front.hpp"
#include "host/search/refine.hpp"
#include "host/search/search.hpp"
#include "host/space/space.hpp"
#include "host/store/open_store.hpp"

namespace sparse::cli {

namespace {

std::atomic<int> g_interrupts{0};
extern "C" void on_interrupt(int) { g_interrupts.fetch_add(1); }

struct SearchFlags {
  std::string store, resume, objectives = "acc,ms,wm5", max_ms, max_wm, time, stage_trials, rho, space;
  std::string wm_input = "downsampled", early_stop = "off", pruning = "on";
  int early_stop_peers = 5;
  int refine = 0, refine_epochs = 8;
  double refine_after = 0.8;
  double min_acc = 0;
  int trials = 0, initial = 0;
  int epochs = 8, morph_epochs = 2, pretrain_epochs = -1, batch = 64, calibration_images = 256;
  double lr = 1e-3, log_variance_lr_scale = 1;
  long long train_limit = 0, val_limit = 0;
  bool no_int8 = false;
  int candidates = 300, max_morphs = 3;
  double prescreen = 0, prescreen_wm = 0;
  long long seed = 0;
  search::DeviceRequest devices;
  double heartbeat = 10;
  std::string worker_data_dir;  // `worker --data-dir`: where this machine keeps the search's dataset
};

// Search-defining flag -> its key in the settings JSON (search::to_json), for --resume conflicts.
const std::vector<std::pair<std::string, std::string>> kFlagKeys = {
    {"--dataset", "/data/name"},
    {"--data-dir", "/data/data_dir"},
    {"--split-seed", "/data/split_seed"},
    {"--val-size", "/data/val_size"},
    {"--image-size", "/data/image_shape"},
    {"--classes", "/data/synthetic_classes"},
    {"--train-size", "/data/synthetic_train"},
    {"--test-size", "/data/synthetic_test"},
    {"--noise", "/data/synthetic_noise"},
    {"--objectives", "/objectives"},
    {"--max-ms", "/budgets/max_ms_bytes"},
    {"--max-wm", "/budgets/max_wm_bytes"},
    {"--min-acc", "/budgets/min_acc"},
    {"--wm-input", "/wm_input"},
    {"--trials", "/budgets/trials"},
    {"--time", "/budgets/time_seconds"},
    {"--initial", "/plan/initial"},
    {"--stage-trials", "/plan/stage_trials"},
    {"--rho", "/rho"},
    {"--epochs", "/train/epochs"},
    {"--morph-epochs", "/train/morph_epochs"},
    {"--pretrain-epochs", "/train/pretrain_epochs"},
    {"--batch", "/train/batch_size"},
    {"--lr", "/train/lr"},
    {"--log-variance-lr-scale", "/train/log_variance_lr_scale"},
    {"--pruning", "/train/pruning"},
    {"--early-stop", "/train/early_stop"},
    {"--early-stop-peers", "/train/early_stop_peers"},
    {"--train-limit", "/train/train_limit"},
    {"--val-limit", "/train/val_limit"},
    {"--calibration-images", "/train/calibration_images"},
    {"--no-int8", "/train/int8"},
    {"--candidates", "/proposals/candidates"},
    {"--max-morphs", "/proposals/max_morphs"},
    {"--prescreen", "/proposals/prescreen"},
    {"--prescreen-wm", "/proposals/prescreen_wm"},
    {"--refine", "/refine/trials"},
    {"--refine-epochs", "/refine/epochs"},
    {"--refine-after", "/refine/after"},
    {"--space", "/space"},
    {"--seed", "/seed"}};

bool given(CLI::App* cmd, const std::string& flag) { return cmd->get_option(flag)->count() > 0; }

template <class T, size_t N>
std::array<T, N> parse_list(const std::string& text, const std::string& flag) {
  std::array<T, N> out{};
  std::stringstream ss(text);
  std::string item;
  size_t n = 0;
  while (std::getline(ss, item, ',')) {
    SPARSE_CHECK(n < N, flag << " '" << text << "': expected " << N << " comma-separated values");
    try {
      size_t used = 0;
      if constexpr (std::is_integral_v<T>)
        out[n] = static_cast<T>(std::stoll(item, &used));
      else
        out[n] = static_cast<T>(std::stod(item, &used));
      SPARSE_CHECK(used == item.size(), flag << " '" << text << "': '" << item << "' is not a number");
    } catch (const std::logic_error&) {
      SPARSE_FAIL(flag << " '" << text << "': '" << item << "' is not a number");
    }
    ++n;
  }
  SPARSE_CHECK(n == N, flag << " '" << text << "': expected " << N << " comma-separated values, got " << n);
  return out;
}

// The stage plan from --trials, --initial and --stage-trials (settings.hpp has the defaults).
search::StagePlan plan_from_flags(CLI::App* cmd, const SearchFlags& f) {
  const bool has_trials = given(cmd, "--trials"), has_initial = given(cmd, "--initial"),
             has_stages = given(cmd, "--stage-trials");
  search::StagePlan p = search::default_plan(has_trials ? f.trials : 0);
  if (has_stages) {
    p.stage_trials = parse_list<int, 3>(f.stage_trials, "--stage-trials");
    const int staged = p.stage_trials[0] + p.stage_trials[1] + p.stage_trials[2];
    if (has_initial)
      p.initial = f.initial;
    else if (has_trials)
      p.initial = f.trials - staged;
    else
      p.initial = std::max(2, static_cast<int>(std::lround(staged / 12.0)));
    SPARSE_CHECK(!has_trials || p.total() == f.trials, "--trials " << f.trials << " disagrees with --initial "
                                                                   << p.initial << " + --stage-trials "
                                                                   << f.stage_trials << " = " << p.total());
  } else if (has_initial) {
    p.initial = f.initial;
    if (has_trials) {
      SPARSE_CHECK(f.initial <= f.trials, "--initial " << f.initial << " is larger than --trials " << f.trials);
      const int rest = f.trials - f.initial;
      for (int m = 0; m < 3; ++m) p.stage_trials[static_cast<size_t>(m)] = rest / 3 + (m < rest % 3 ? 1 : 0);
    }
  }
  return p;
}

// Settings as the flags describe them (unset flags at their defaults); `space_json` is the space file's JSON.
search::SearchSettings settings_from_flags(CLI::App* cmd, const SearchFlags& f, const DatasetFlags& df) {
  search::SearchSettings s;
  s.data = df.options();
  s.objectives = f.objectives;
  if (!f.max_ms.empty()) s.max_ms_bytes = parse_bytes(f.max_ms, "--max-ms");
  if (!f.max_wm.empty()) s.max_wm_bytes = parse_bytes(f.max_wm, "--max-wm");
  if (given(cmd, "--min-acc")) s.min_acc = f.min_acc;
  SPARSE_CHECK(f.wm_input == "downsampled" || f.wm_input == "raw",
               "--wm-input '" << f.wm_input << "': expected downsampled or raw");
  s.wm_input = memory::parse_wm_input(f.wm_input);
  s.plan = plan_from_flags(cmd, f);
  if (!f.time.empty()) s.time_seconds = parse_duration(f.time, "--time");
  if (!f.rho.empty()) s.rho = parse_list<double, 3>(f.rho, "--rho");
  s.epochs = f.epochs;
  s.morph_epochs = f.morph_epochs;
  s.pretrain_epochs = f.pretrain_epochs;
  s.batch_size = f.batch;
  s.lr = f.lr;
  s.log_variance_lr_scale = f.log_variance_lr_scale;
  SPARSE_CHECK(f.pruning == "on" || f.pruning == "off", "--pruning '" << f.pruning << "': expected on or off");
  s.pruning = f.pruning == "on";
  s.early_stop = f.early_stop;
  s.early_stop_peers = f.early_stop_peers;
  s.train_limit = f.train_limit;
  s.val_limit = f.val_limit;
  s.calibration_images = f.calibration_images;
  s.int8 = !f.no_int8;
  s.candidates = f.candidates;
  s.max_morphs = f.max_morphs;
  s.prescreen = f.prescreen;
  s.prescreen_wm = f.prescreen_wm;
  s.refine_trials = f.refine;
  s.refine_epochs = f.refine_epochs;
  s.refine_after = f.refine_after;
  s.seed = static_cast<uint64_t>(f.seed);
  s.space = read_json_file(f.space.empty() ? space::default_space_path() : std::filesystem::path(f.space));
  return s;
}

std::vector<search::DeviceSlot> plan_slots(CLI::App* cmd, const SearchFlags& f, std::string& note) {
  const cuda::DeviceQuery q = cuda::query_devices();
  std::vector<search::DeviceSlot> slots = search::plan_devices(f.devices, q, hardware_threads());
  for (const auto& slot : slots) {
    if (!slot.cuda) continue;
    try {
      nn::make_backend("cuda:" + std::to_string(slot.device), 1);
    } catch (const std::exception& e) {
      SPARSE_CHECK(!given(cmd, "--devices"),
                   "--devices " << f.devices.devices << ": " << slot.name << " cannot train: " << e.what());
      note =
          std::string("note: CUDA devices found but not usable for training (") + e.what() + "); searching on the CPU";
      search::DeviceRequest cpu = f.devices;
      cpu.devices = "cpu";
      return search::plan_devices(cpu, q, hardware_threads());
    }
  }
  return slots;
}

std::string duration_text(double s) {
  if (s < 0) return "?";
  char b[64];
  const long long t = static_cast<long long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%lldh%02lldm%02llds", t / 3600, t / 60 % 60, t % 60);
  else if (t >= 60)
    std::snprintf(b, sizeof b, "%lldm%02llds", t / 60, t % 60);
  else
    std::snprintf(b, sizeof b, "%.1fs", s);
  return b;
}

void print_progress(std::FILE* os, const search::Progress& p, const search::Objectives& o) {
  const auto& t = p.trial;
  const double secs = t.finished_at - t.started_at;
  const std::string ref = t.reference_id ? std::to_string(*t.reference_id) : "-";
  if (t.state == store::TrialState::Done) {
    const auto wm = search::wm_bytes(t, o);
    std::fprintf(os, "trial %4lld  stage %d  ref %4s  acc %.4f  MS %7lld B  WM %7s B  feasible %-3s  %7.1f s  %s%s\n",
                 static_cast<long long>(t.id), t.stage, ref.c_str(), *t.val_acc, static_cast<long long>(*t.ms_bytes),
                 wm ? std::to_string(*wm).c_str() : "-", t.metrics.value("feasible", false) ? "yes" : "no", secs,
                 p.slot.c_str(), search::is_refinement(t) ? "  refinement" : "");
  } else {
    std::fprintf(os, "trial %4lld  stage %d  ref %4s  FAILED: %s  %7.1f s  %s\n", static_cast<long long>(t.id), t.stage,
                 ref.c_str(), t.error.substr(0, 160).c_str(), secs, p.slot.c_str());
  }
  std::string best = "none";
  if (p.best_feasible) {
    char b[96];
    std::snprintf(b, sizeof b, "%.4f (trial %lld)", *p.best_feasible->val_acc,
                  static_cast<long long>(p.best_feasible->id));
    best = b;
  }
  std::fprintf(os, "  [done %d, running %d, failed %d of %d | best feasible %s | elapsed %s | ETA %s]\n", p.done,
               p.running, p.failed, p.total, best.c_str(), duration_text(p.elapsed_seconds).c_str(),
               duration_text(p.eta_seconds).c_str());
  std::fflush(os);
}

std::string plan_text(const search::SearchSettings& s) {
  std::ostringstream os;
  os << s.trials() << " trials (" << s.plan.initial << " random, then " << s.plan.stage_trials[0] << "/"
     << s.plan.stage_trials[1] << "/" << s.plan.stage_trials[2] << " in stages 1/2/3, rho " << s.rho[0] << "/"
     << s.rho[1] << "/" << s.rho[2] << ")";
  if (s.time_seconds > 0) os << ", time " << duration_text(s.time_seconds);
  if (s.max_ms_bytes) os << ", MS <= " << *s.max_ms_bytes << " B";
  if (s.max_wm_bytes) os << ", WM <= " << *s.max_wm_bytes << " B";
  if (s.min_acc) os << ", validation accuracy >= " << *s.min_acc;
  os << ", WM counts the " << (s.wm_input == memory::WmInput::raw ? "raw" : "downsampled") << " input";
  if (!s.pruning) os << ", no pruning (dense trials)";
  if (s.refine_trials > 0) {
    os << ", refines its best " << s.refine_trials << " for " << s.refine_epochs << " epochs";
    if (s.time_seconds > 0) os << " from " << s.refine_after * 100 << " % of the time";
  }
  return os.str();
}

enum class Mode { New, Resume, Worker };

// The workers holding running trials of the search, as a line for a process that joins it: "live workers: W (trials
// 3, 5), ..." or "no live worker" (a dead one's trials are re-queued once their heartbeat is 3 periods old).
std::string live_workers_line(store::TrialStore& st, int64_t search_id) {
  std::map<std::string, std::vector<int64_t>> held;
  for (const auto& t : st.list_trials(search_id, store::TrialState::Running))
    held[t.worker.empty() ? std::string("(unknown worker)") : t.worker].push_back(t.id);
  if (held.empty()) return "no live worker";
  std::string line = "live workers (joined under the same leases):";
  for (const auto& [w, ids] : held) {
    line += " " + w + " (trial" + (ids.size() > 1 ? "s" : "");
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? ", " : " ") + std::to_string(ids[i]);
    line += ")";
  }
  return line;
}

// Per-session flags of `search` and `worker`: where this process trains and how often it heartbeats.
void add_session_flags(CLI::App* cmd, SearchFlags& f) {
  cmd->add_option("--devices", f.devices.devices,
                  "cpu, cuda, cuda:0,cuda:1, cpu,cuda:0 (default: all GPUs, else the CPU)");
  cmd->add_option("--cpu-workers", f.devices.cpu_workers, "Workers for the CPU entry")->capture_default_str();
  cmd->add_option("--threads", f.devices.threads_per_cpu_worker,
                  "Threads per CPU worker (0: the machine's threads divided among the CPU workers)")
      ->capture_default_str();
  cmd->add_option("--workers-per-gpu", f.devices.workers_per_gpu, "Workers per GPU")->capture_default_str();
  cmd->add_option("--heartbeat", f.heartbeat,
                  "Heartbeat period in seconds; running trials 3 periods stale are re-queued")
      ->capture_default_str();
}

// The session `search` (new or --resume) and `worker` run: open or create the store, plan the devices, train trials
// until the search is complete, its time is spent or it is interrupted; then the Pareto table.
void run_session(CLI::App* cmd, const SearchFlags& f, const DatasetFlags& df, const Output& out, Mode mode) {
  std::FILE* log = out.json ? stderr : stdout;
  const bool resume = mode != Mode::New;
  const std::string path = mode == Mode::Resume ? f.resume : f.store;
  const std::string label = store::store_label(path);
  std::unique_ptr<store::TrialStore> st;
  search::SearchSettings settings;
  int64_t search_id = 0;
  data::Dataset data;
  std::string note;
  const auto slots = plan_slots(cmd, f, note);  // before a new store is created: a bad --devices leaves no file
  if (resume) {
    st = store::open_store(path, false);
    search_id = search::sole_search(*st, label);
    settings = search::settings_from_record(st->get_search(search_id), "store '" + label + "'");
    if (!f.worker_data_dir.empty()) settings.data.data_dir = f.worker_data_dir;  // the fingerprint below still holds
    data = data::load_dataset(settings.data);
    const nlohmann::json fp = search::dataset_fingerprint(data);
    SPARSE_CHECK(settings.dataset_fingerprint.is_null() || settings.dataset_fingerprint == fp,
                 "store '" << label << "': the dataset differs from the one the search started on (stored "
                           << settings.dataset_fingerprint.dump() << ", now " << fp.dump() << ")");
    if (mode == Mode::Resume) {  // a worker takes no search-defining flag
      search::SearchSettings asked = settings_from_flags(cmd, f, df);
      if (given(cmd, "--space")) asked.space = search::space_for_dataset(asked.space, data);
      std::vector<std::string> keys;
      for (const auto& [flag, key] : kFlagKeys)
        if (given(cmd, flag) && flag != "--time") keys.push_back(key);  // a budget a resume may change
      const auto diff = search::conflicts(settings, asked, keys);
      if (!diff.empty()) {
        std::ostringstream os;
        for (size_t i = 0; i < diff.size(); ++i) os << (i ? "; " : "") << diff[i];
        SPARSE_FAIL(
            "--resume " << label << ": conflicting settings: " << os.str()
                        << " (a resumed search keeps its stored settings; drop the flag or start a new --store)");
      }
      if (given(cmd, "--time") && asked.time_seconds != settings.time_seconds) {
        const double before = settings.time_seconds;
        search::set_time_budget(*st, search_id, settings, asked.time_seconds);
        std::fprintf(stderr, "time budget of search %lld changed from %s to %s\n", static_cast<long long>(search_id),
                     before > 0 ? duration_text(before).c_str() : "none",
                     settings.time_seconds > 0 ? duration_text(settings.time_seconds).c_str() : "none");
      }
    }
  } else {
    if (store::is_store_url(path)) {  // a URL never "exists" as a file: its study must hold no search yet
      st = store::open_store(path, true);
      const auto searches = st->list_searches();
      SPARSE_CHECK(searches.empty(), "store '" << store::store_label(path) << "' already holds search "
                                               << searches.front().id << " (" << searches.front().dataset << ", "
                                               << searches.front().objectives << "); continue it with --resume "
                                               << store::store_label(path) << " or choose a new study");
    } else if (std::filesystem::exists(path)) {
      const auto existing = store::open_store(path, false);
      const auto searches = existing->list_searches();
      SPARSE_CHECK(searches.empty(), "store '" << path << "' already holds search " << searches.front().id << " ("
                                               << searches.front().dataset << ", " << searches.front().objectives
                                               << "); continue it with --resume " << path
                                               << " or choose a new --store");
    }
    settings = settings_from_flags(cmd, f, df);
    search::check_settings(settings);
    data = data::load_dataset(settings.data);
    settings.space = search::space_for_dataset(settings.space, data);
    search::search_space(settings, f.space.empty() ? space::default_space_path().string() : f.space);  // validates
    settings.dataset_fingerprint = search::dataset_fingerprint(data);
    if (!st) st = store::open_store(path, true);
    search_id = search::create_search(*st, settings);
  }
  const search::Objectives obj = search::parse_objectives(settings.objectives);
  if (!note.empty()) std::fprintf(stderr, "%s\n", note.c_str());
  std::fprintf(log, "%s search %lld in %s: %s (%zu/%zu/%zu), %s (%s), %s\n",
               mode == Mode::New ? "new" : mode == Mode::Resume ? "resuming" : "worker joins",
               static_cast<long long>(search_id), label.c_str(), data.name.c_str(), data.train.size(), data.val.size(),
               data.test.size(), settings.objectives.c_str(), nn::to_string(obj.method), plan_text(settings).c_str());
  std::string devs;
  for (const auto& s : slots)
    devs += (devs.empty() ? "" : ", ") + s.name + (s.cuda ? "" : " (" + std::to_string(s.threads) + " threads)");
  std::fprintf(log, "devices: %s\n", devs.c_str());
  if (resume) std::fprintf(log, "%s\n", live_workers_line(*st, search_id).c_str());
  std::fprintf(log, "worker %s\n", st->worker_id().c_str());
  std::fflush(log);
  std::fflush(log);

  search::SessionOptions so;
  so.heartbeat_seconds = f.heartbeat;
  so.interrupts = &g_interrupts;
  so.on_hard_stop = [] {
    std::fprintf(stderr, "sparse: interrupted twice: running trials re-queued; resume with --resume\n");
    std::_Exit(130);
  };
  so.on_trial_end = [log, obj](const search::Progress& p) { print_progress(log, p, obj); };
  so.on_lease_lost = [log](const search::DeviceSlot& slot, int64_t trial_id, const std::string& what) {
    std::fprintf(log, "lease lost on %s, trial %lld not written: %s\n", slot.name.c_str(),
                 static_cast<long long>(trial_id), what.c_str());
    std::fflush(log);
  };
  so.on_device_failure = [log](const search::DeviceSlot& slot, int64_t trial_id, const std::string& what,
                               bool retired) {
    std::fprintf(log, "device failure on %s, trial %lld re-queued: %s\n", slot.name.c_str(),
                 static_cast<long long>(trial_id), what.c_str());
    if (retired) std::fprintf(log, "%s is retired: no more trials run on it\n", slot.name.c_str());
    std::fflush(log);
  };
  g_interrupts = 0;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  search::SessionReport rep;
  try {
    rep = search::run_search(*st, search_id, settings, data, slots, so);
  } catch (...) {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    throw;
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  const auto trials = st->list_trials(search_id);
  const search::FrontReport front = search::pareto_report(trials, settings);
  std::string device_failures;
  for (const auto& s : rep.slots)
    if (!s.device_failure.empty())
      device_failures += (device_failures.empty() ? "" : "; ") + s.device_failure;  // names the slot
  const char* state = rep.complete      ? "complete"
                      : rep.interrupted ? "interrupted"
                      : rep.time_up     ? "time budget spent"
                                        : "stopped";
  if (out.json) {
    nlohmann::json j = search::front_json(front, settings);
    j["store"] = label;
    j["worker"] = st->worker_id();
    j["search_id"] = search_id;
    j["state"] = state;
    j["trials"] = {{"total", rep.total},     {"done", rep.done},     {"failed", rep.failed},
                   {"running", rep.running}, {"queued", rep.queued}, {"requeued_at_start", rep.requeued_at_start}};
    j["elapsed_seconds"] = rep.elapsed_seconds;
    j["session_seconds"] = rep.session_seconds;
    j["device_failures"] = device_failures;
    out.print_json(j);
  } else {
    std::printf("search %s: %d done, %d failed of %d trials in %s (this session %s)%s\n", state, rep.done, rep.failed,
                rep.total, duration_text(rep.elapsed_seconds).c_str(), duration_text(rep.session_seconds).c_str(),
                rep.complete ? "" : ("; continue with sparse search --resume " + label).c_str());
    std::printf("%s", search::front_table(front, settings).c_str());
  }
  SPARSE_CHECK(rep.complete || rep.interrupted || rep.time_up,
               "every device failed (" << device_failures << "); the search is not complete (" << rep.queued
                                       << " trial(s) queued), continue it with --resume " << label);
}

}  // namespace

void add_search_command(CLI::App& app) {
  static Output out;
  static DatasetFlags df;
  static SearchFlags f;
  CLI::App* cmd = app.add_subcommand("search", "Run a SpArSe search (new with --store, or continue one with --resume)");
  cmd->add_option("--store", f.store,
                  "Trial store of a new search: a new SQLite file, or a postgresql://...?study=NAME URL of a new study");
  cmd->add_option("--resume", f.resume,
                  "Continue the search of this store (file or URL); while other processes run it, join them as a "
                  "worker");
  df.add(cmd);
  cmd->add_option("--objectives", f.objectives,
                  "acc,ms (SpVD, §4.1), acc,ms,wm5 or acc,ms,wm6 (BC, int8 sizes, §4.2; WM eq. 5 or 6)")
      ->capture_default_str();
  cmd->add_option("--max-ms", f.max_ms, "Model-size budget, e.g. 2KB (1 KB = 1024 B)");
  cmd->add_option("--max-wm", f.max_wm, "Working-memory budget, e.g. 2KB");
  cmd->add_option("--min-acc", f.min_acc,
                  "Accuracy floor in [0, 1): a trial below this validation accuracy is infeasible, like a budget");
  cmd->add_option("--wm-input", f.wm_input,
                  "downsampled (default, as the paper: input downsampling is part of the input) or raw (the raw image "
                  "counts as a layer input)")
      ->capture_default_str();
  cmd->add_option("--trials", f.trials, "Trial budget (default 325: 25 random + 100 per stage)")
      ->check(CLI::Range(1, 3000000));
  cmd->add_option("--time", f.time, "Time budget over all sessions, e.g. 30m, 1h (running trials finish); with --resume it replaces the stored one");
  cmd->add_option("--initial", f.initial, "Initial random configs (default: 10% of --trials, at least 2)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--stage-trials", f.stage_trials,
                  "T_1,T_2,T_3: proposals per stage (default: the rest, split evenly)");
  cmd->add_option("--rho", f.rho,
                  "rho_1,rho_2,rho_3: probability of a model-based proposal per stage (default 0.7,0.8,0.9)");
  cmd->add_option("--epochs", f.epochs, "Variational epochs of a fresh (random) config")->capture_default_str();
  cmd->add_option("--morph-epochs", f.morph_epochs, "Variational epochs of a morph (inherits φ)")
      ->capture_default_str();
  cmd->add_option("--pretrain-epochs", f.pretrain_epochs,
                  "Deterministic pretraining epochs (-1: 2 for a fresh config "
                  "that asks for it, 0 for a morph)")
      ->capture_default_str();
  cmd->add_option("--batch", f.batch, "Minibatch size")->capture_default_str();
  cmd->add_option("--lr", f.lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--early-stop", f.early_stop,
                  "off or median: stop a trial after an epoch where it is below the median of its peers (multi-fidelity)")
      ->capture_default_str();
  cmd->add_option("--early-stop-peers", f.early_stop_peers,
                  "Done trials of the same kind needed at an epoch before the median rule applies")
      ->capture_default_str();
  cmd->add_option("--log-variance-lr-scale", f.log_variance_lr_scale,
                  "Learning rate of the log-variances relative to --lr (BC/SpVD pruning speed)")
      ->capture_default_str();
  cmd->add_option("--pruning", f.pruning,
                  "on (Bayesian pruning, SpVD or BC by --objectives) or off (dense trials, the paper's Figure 3a "
                  "baseline: same epochs, deterministic training)")
      ->capture_default_str();
  cmd->add_option("--train-limit", f.train_limit, "Training images per epoch (0: the whole split)")
      ->capture_default_str();
  cmd->add_option("--val-limit", f.val_limit,
                  "Validation images scored after each epoch (0: all; the final score uses all)")
      ->capture_default_str();
  cmd->add_option("--calibration-images", f.calibration_images, "int8 calibration images")->capture_default_str();
  cmd->add_flag("--no-int8", f.no_int8, "Skip the int8 test accuracy of each trial");
  cmd->add_option("--candidates", f.candidates, "Candidate morphs per model-based proposal")->capture_default_str();
  cmd->add_option("--max-morphs", f.max_morphs, "At most this many morphs per candidate")->capture_default_str();
  cmd->add_option("--prescreen", f.prescreen,
                  "Do not propose configs whose dense MS or WM exceeds this factor of the budgets (0: off)")
      ->capture_default_str();
  cmd->add_option("--prescreen-wm", f.prescreen_wm,
                  "The prescreen's factor for WM alone (pruning seldom shrinks WM within a trial; 0: --prescreen's)")
      ->capture_default_str();
  cmd->add_option("--refine", f.refine,
                  "Refinement stage: continue the best N feasible trials (same config, inherited φ) for "
                  "--refine-epochs, from --refine-after of the time budget or as the plan's last N trials (0: off)")
      ->capture_default_str();
  cmd->add_option("--refine-epochs", f.refine_epochs, "Variational epochs of a refinement")->capture_default_str();
  cmd->add_option("--refine-after", f.refine_after,
                  "Share of the time budget after which refinements are proposed, in (0, 1]")
      ->capture_default_str();
  cmd->add_option("--space", f.space, "Search-space JSON (default: host/space/default_space.json)");
  cmd->add_option("--seed", f.seed, "Search seed (proposals; trial seeds derive from it and the trial id)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_session_flags(cmd, f);
  out.add_flag(cmd);
  cmd->callback([cmd] {
    SPARSE_CHECK(f.store.empty() != f.resume.empty(),
                 (f.store.empty() ? "give --store FILE for a new search or --resume FILE to continue one"
                                  : "give either --store (new search) or --resume (continue), not both"));
    run_session(cmd, f, df, out, f.resume.empty() ? Mode::New : Mode::Resume);
  });
}

void add_worker_command(CLI::App& app) {
  static Output out;
  static DatasetFlags df;  // unused: a worker's data are the search's
  static SearchFlags f;
  CLI::App* cmd = app.add_subcommand(
      "worker", "Join the search of a store as one more worker (any number, on any machines; each claims queued trials, "
                "proposes new ones and trains them on its devices)");
  cmd->add_option("--store", f.store, "The study: a postgresql://...?study=NAME URL, or a SQLite file on this machine")
      ->required();
  cmd->add_option("--data-dir", f.worker_data_dir,
                  "Where this machine keeps the search's dataset files (default: the folder the search was started "
                  "with); the data must be the same (checked by fingerprint)");
  add_session_flags(cmd, f);
  out.add_flag(cmd);
  cmd->callback([cmd] { run_session(cmd, f, df, out, Mode::Worker); });
}

}  // namespace sparse::cli
