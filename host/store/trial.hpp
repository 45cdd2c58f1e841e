// Trial and search records as the store keeps them; configs, morphs, metrics and proposals are JSON.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sparse::store {

// Seconds since the Unix epoch (the store's clock).
double unix_now();
// "host:pid:nonce": a worker identity, new for every store object (the nonce tells two of one process apart).
std::string new_worker_id();

// How both stores write a record's fields: JSON as text (`empty` where the field is null), and 0, which is how a
// trial reads an unset time or limit, as NULL.
inline std::string json_text(const nlohmann::json& j, const nlohmann::json& empty) {
  return (j.is_null() ? empty : j).dump();
}
inline std::optional<double> zero_as_null(double v) { return v == 0 ? std::nullopt : std::optional<double>(v); }

enum class TrialState { Queued, Running, Done, Failed };
const char* to_string(TrialState s);
TrialState trial_state_from_string(const std::string& s);  // throws on an unknown name

struct SearchRecord {
  int64_t id = 0;
  std::string dataset;
  std::string objectives;   // e.g. "acc,ms,wm5"
  uint64_t seed = 0;
  nlohmann::json budgets;   // {"max_ms_bytes": 2048, ...}
  nlohmann::json settings;  // everything else needed to resume (stages, ρ_m, epochs, devices, ...)
  double created_at = 0;    // Unix seconds
};

struct TrialRecord {
  int64_t id = 0;
  int64_t search_id = 0;
  int stage = 0;                       // 0 = initial random, 1..3 = the paper's stages (§3.5)
  std::optional<int64_t> reference_id;  // trial whose φ is inherited (a morph), none for a random config
  nlohmann::json config;               // Config Ω
  nlohmann::json morphs;               // morphs applied to the reference's config (array of names)
  nlohmann::json proposal;             // optimizer's choice: λ, sampled objective values
  TrialState state = TrialState::Queued;
  std::string device;                  // "cpu:0", "cuda:1", ...
  std::string worker;                  // the process holding a running trial's lease: "host:pid:nonce" ("" when none)
  double stale_after = 0;              // its claimant's staleness limit in seconds (3 heartbeats; 0: not recorded)
  int attempts = 0;                    // times the trial was claimed (re-queues after a crash add one)
  double created_at = 0, started_at = 0, finished_at = 0, heartbeat_at = 0;
  int epochs = 0;
  std::optional<double> val_acc, test_acc, int8_acc;
  std::optional<int64_t> ms_bytes, wm5_bytes, wm6_bytes, nonzeros;
  nlohmann::json metrics;              // per-layer details, timings, anything else
  std::string error;                   // why a failed trial failed
};

// What a finished trial reports.
struct TrialResult {
  int epochs = 0;
  std::optional<double> val_acc, test_acc, int8_acc;
  std::optional<int64_t> ms_bytes, wm5_bytes, wm6_bytes, nonzeros;
  nlohmann::json metrics = nlohmann::json::object();
};

}  // namespace sparse::store
