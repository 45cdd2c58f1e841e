// Fixtures of the search tests: a narrow search space (tiny networks, a trial well under a second on one core),
// the synthetic dataset flags, a child `sparse` process that can be killed at any moment, store snapshots.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "host/core/file_io.hpp"
#include "host/search/search.hpp"
#include "host/space/space.hpp"
#include "host/store/sqlite_store.hpp"
#include "tests/common/temp_dir.hpp"

namespace sparse::test {

// Flags of 16x16x1 synthetic images of 4 classes.
inline std::string search_data(int train_size = 600) {
  return "--dataset synthetic --classes 4 --train-size " + std::to_string(train_size) +
         " --test-size 200 --image-size 16x16x1";
}

// The default space narrowed to tiny networks: at most 2 blocks of 2 layers of 1-6 filters, kernels 2-3, no
// pretraining or batch-norm, 100-1000 FC weights. Written to `dir`/space.json; returns its path.
inline std::string write_small_space(const TempDir& dir) {
  nlohmann::json j = read_json_file(space::default_space_path());
  auto& v = j["variables"];
  v["pretraining"]["levels"] = {false};
  v["pretraining"]["default"] = false;
  v["batch-norm"]["levels"] = {false};
  v["residual-connections"]["levels"] = {false};
  v["downsample-input-in-depth"]["levels"] = {false};
  v["input-downsampling-rate"]["range"] = {2, 2};
  v["num-conv-layers"]["range"] = {1, 2};
  v["layer-type"]["levels"] = {"Conv2D", "SeparableConv2D"};
  v["kernel-size"]["range"] = {2, 3};
  v["num-filters"]["range"] = {1, 6};
  v["num-filters"]["default"] = 4;
  v["total-fc-layer-weights"]["range"] = {100, 1000};
  v["total-fc-layer-weights"]["step"] = 100;
  v["total-fc-layer-weights"]["default"] = 500;
  const std::string p = (dir / "space.json").string();
  write_file_atomic(p, j.dump(2));
  return p;
}

// Settings of a search of `trials` one-epoch trials of tiny networks (write_small_space) on the search_data()
// images, with the dataset they load; `int8` off saves the int8 scoring.
inline search::SearchSettings small_search_settings(const TempDir& dir, int trials, data::Dataset& data,
                                                    bool int8 = true) {
  search::SearchSettings s;
  s.data.name = "synthetic";
  s.data.synthetic_classes = 4;
  s.data.synthetic_train = 600;
  s.data.synthetic_test = 200;
  s.data.image_shape = data::ImageShape{16, 16, 1};
  s.objectives = "acc,ms";
  s.plan = search::default_plan(trials);
  s.epochs = 1;
  s.morph_epochs = 1;
  s.int8 = int8;
  data = data::load_dataset(s.data);
  s.space = search::space_for_dataset(read_json_file(write_small_space(dir)), data);
  return s;
}

// Splits a command line on spaces (the tests' arguments hold no quoted spaces).
inline std::vector<std::string> split_args(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string a;
  while (ss >> a) out.push_back(a);
  return out;
}

// A `sparse` child process with stdout/stderr in files; killed (SIGKILL) and reaped at scope exit if still running.
class Child {
 public:
  Child(const std::string& args, const std::filesystem::path& log_prefix) {
    std::vector<std::string> argv = {SPARSE_BINARY};
    for (auto& a : split_args(args)) argv.push_back(a);
    out_ = log_prefix.string() + ".out";
    err_ = log_prefix.string() + ".err";
    pid_ = ::fork();
    if (pid_ == 0) {
      const int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      std::vector<char*> c;
      for (auto& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      ::execv(c[0], c.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool running() {
    if (status_ >= 0) return false;
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) status_ = decode(st);
    return status_ < 0;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // Exit code (128 + signal when killed); waits at most `timeout_s`, then kills.
  int wait(double timeout_s = 120) {
    const auto t0 = std::chrono::steady_clock::now();
    while (running()) {
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s)
        ::kill(pid_, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
  }
  std::string out() const { return read_text(out_); }
  std::string err() const { return read_text(err_); }

 private:
  static int decode(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }
  static std::string read_text(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  pid_t pid_ = -1;
  int status_ = -1;
  std::string out_, err_;
};

// An ended (done or failed) trial as it must stay forever: every column and its φ bytes.
struct EndedSnapshot {
  std::string row;
  std::vector<uint8_t> phi;
  bool operator==(const EndedSnapshot&) const = default;
};

// A done trial with the objectives the front and the hypervolume read (WM5 = WM6 = wm).
inline store::TrialRecord done_trial(int64_t id, double acc, int64_t ms, int64_t wm) {
  store::TrialRecord t;
  t.id = id;
  t.state = store::TrialState::Done;
  t.val_acc = acc;
  t.ms_bytes = ms;
  t.wm5_bytes = wm;
  t.wm6_bytes = wm;
  return t;
}

inline std::string row_of(const store::TrialRecord& t) {
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return nlohmann::json{{"id", t.id},
                        {"stage", t.stage},
                        {"reference", opt(t.reference_id)},
                        {"config", t.config},
                        {"morphs", t.morphs},
                        {"proposal", t.proposal},
                        {"state", to_string(t.state)},
                        {"device", t.device},
                        {"attempts", t.attempts},
                        {"created", t.created_at},
                        {"started", t.started_at},
                        {"finished", t.finished_at},
                        {"epochs", t.epochs},
                        {"val", opt(t.val_acc)},
                        {"test", opt(t.test_acc)},
                        {"int8", opt(t.int8_acc)},
                        {"ms", opt(t.ms_bytes)},
                        {"wm5", opt(t.wm5_bytes)},
                        {"wm6", opt(t.wm6_bytes)},
                        {"nz", opt(t.nonzeros)},
                        {"metrics", t.metrics},
                        {"error", t.error}}
      .dump();
}

inline std::map<int64_t, EndedSnapshot> snapshot_ended(store::TrialStore& st, int64_t search) {
  std::map<int64_t, EndedSnapshot> m;
  for (const auto& t : st.list_trials(search))
    if (t.state == store::TrialState::Done || t.state == store::TrialState::Failed)
      m[t.id] = {row_of(t), st.get_phi(t.id).value_or(std::vector<uint8_t>{})};
  return m;
}

}  // namespace sparse::test
