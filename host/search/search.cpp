// run_search and helpers (see search.hpp): budgets, resume, interrupts, progress.
#include "host/search/search.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "host/core/error.hpp"
#include "host/search/front.hpp"
#include "host/search/proposals.hpp"
#include "host/search/refine.hpp"
#include "host/search/runner.hpp"
#include "host/search/session_store.hpp"

namespace sparse::search {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

nlohmann::json space_for_dataset(nlohmann::json space, const data::Dataset& d) {
  const auto& s = d.train.shape;
  space["input"] = {{"height", s.height}, {"width", s.width}, {"channels", s.channels}};
  space["num-classes"] = d.train.num_classes;
  return space;
}

space::Space search_space(const SearchSettings& s, const std::string& origin) {
  return space::space_from_json(s.space, origin);
}

int64_t create_search(store::TrialStore& store, const SearchSettings& s) {
  check_settings(s);
  return store.create_search(record_of(s));
}

void set_time_budget(store::TrialStore& store, int64_t search_id, SearchSettings& s, double seconds) {
  SearchSettings changed = s;
  changed.time_seconds = seconds;
  check_settings(changed);
  store::SearchRecord r = record_of(changed);
  r.id = search_id;
  store.update_search(r);
  s = changed;
}

int64_t sole_search(store::TrialStore& store, const std::string& path) {
  const auto all = store.list_searches();
  SPARSE_CHECK(!all.empty(), "store '" << path << "' holds no search (start one with --store " << path << ")");
  SPARSE_CHECK(all.size() == 1, "store '" << path << "' holds " << all.size()
                                          << " searches; this engine runs one search per store file");
  return all.front().id;
}

double spent_seconds(const std::vector<store::TrialRecord>& trials, double now) {
  std::vector<std::pair<double, double>> iv;
  double recorded = 0;
  for (const auto& t : trials) {
    if (now > 0 && t.state == store::TrialState::Running && t.started_at > 0 && now >= t.started_at)
      iv.emplace_back(t.started_at, now);
    if (t.state != store::TrialState::Done && t.state != store::TrialState::Failed) continue;
    if (t.metrics.contains("search_seconds") && t.metrics["search_seconds"].is_number())
      recorded = std::max(recorded, t.metrics["search_seconds"].get<double>());
    if (t.started_at > 0 && t.finished_at >= t.started_at) iv.emplace_back(t.started_at, t.finished_at);
  }
  std::sort(iv.begin(), iv.end());
  double total = 0, start = 0, end = -1;
  for (const auto& [a, b] : iv) {
    if (a > end) {
      if (end > start) total += end - start;
      start = a;
      end = b;
    } else {
      end = std::max(end, b);
    }
  }
  if (end > start) total += end - start;
  return std::max(total, recorded);
}

SessionReport run_search(store::TrialStore& store, int64_t search_id, const SearchSettings& settings,
                         const data::Dataset& data, const std::vector<DeviceSlot>& slots,
                         const SessionOptions& options) {
  check_settings(settings);
  SPARSE_CHECK(options.heartbeat_seconds > 0, "--heartbeat " << options.heartbeat_seconds << " s: expected > 0");
  const space::Space space = search_space(settings, "search space of search " + std::to_string(search_id));
  const double stale = 3 * options.heartbeat_seconds;
  const int total = settings.trials();
  const auto t0 = Clock::now();

  SessionReport report;
  report.total = total;
  store.set_stale_after(stale);  // other workers judge this one's trials by its own heartbeat
  report.requeued_at_start = store.requeue_stale(search_id, stale);
  const double spent_before = spent_seconds(store.list_trials(search_id), store::unix_now());
  auto elapsed = [&] { return spent_before + since(t0); };
  auto time_up = [&] { return settings.time_seconds > 0 && elapsed() >= settings.time_seconds; };

  // The GP samples on the first GPU the search trains on, if any (the proposer falls back to the CPU itself).
  std::string gp_device = "cpu";
  for (const auto& slot : slots)
    if (slot.cuda) {
      gp_device = "cuda:" + std::to_string(slot.device);
      break;
    }
  StageProposer proposer(settings, space, search_id, gp_device);
  SessionStore session(store);
  SearchRunner runner(settings, space, data, session, options.make_backend);
  std::mutex own_mu;
  std::set<int64_t> own_running;  // trials this process is training now
  std::atomic<bool> stop{false}, finished{false}, saw_time_up{false}, saw_interrupt{false};
  std::atomic<int> ended_in_session{0};

  TrialRunner run_one = [&](const store::TrialRecord& t, const DeviceSlot& slot) {
    {
      std::lock_guard<std::mutex> l(own_mu);
      own_running.insert(t.id);
    }
    struct Erase {
      std::mutex& mu;
      std::set<int64_t>& set;
      int64_t id;
      ~Erase() {
        std::lock_guard<std::mutex> l(mu);
        set.erase(id);
      }
    } erase{own_mu, own_running, t.id};
    TrialOutcome out = runner(t, slot);
    // The search time when this trial ended: the next session resumes the time budget from the largest.
    if (out.ok)
      out.result.metrics["search_seconds"] = elapsed();
    else
      session.set_failure_metrics(t.id, {{"search_seconds", elapsed()}});
    return out;
  };

  std::optional<Clock::time_point> turn_wait;  // since when another worker holds the proposal turn
  Proposer propose_unguarded = [&](store::TrialStore& st, int64_t id) {
    if (stop.load() || time_up()) return false;
    // One worker of the study proposes at a time; the others claim what it adds (waiting costs them one query per
    // poll, not a list of the trials). A turn held longer than the staleness limit (a stopped process) is passed
    // over: add_trial_at still keeps a raced proposal out.
    if (!st.try_proposal_turn(id)) {
      if (!turn_wait) turn_wait = Clock::now();
      if (since(*turn_wait) < stale) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return !stop.load();
      }
    }
    turn_wait.reset();
    struct Turn {
      store::TrialStore& st;
      int64_t id;
      bool held = true;
      void release() {
        if (!std::exchange(held, false)) return;
        try {
          st.release_proposal_turn(id);
        } catch (const std::exception&) {  // a lost connection released it
        }
      }
      ~Turn() { release(); }
    } turn{st, id};
    const auto trials = st.list_trials(id);  // as the previous turn's holder left them
    if (static_cast<int>(trials.size()) < total) {
      std::optional<store::TrialRecord> refine;
      if (refinement_due(settings, trials.size(), elapsed()))
        refine = refinement_trial(trials, settings, space, id, settings.plan.stage_of(static_cast<int64_t>(trials.size())),
                                  settings.time_seconds > 0 ? settings.time_seconds - elapsed() : -1.0);
      if (refine) refine->proposal["index"] = trials.size();
      // Trial number trials.size() lands only if no other process added one since list_trials: else this proposal
      // is dropped and the next call proposes again from the trials as they are (the budget stays study-wide).
      st.add_trial_at(refine ? *refine : proposer.next(trials), static_cast<int64_t>(trials.size()));
      return true;
    }
    turn.release();
    // Every planned trial exists: take over those of dead processes, wait for those of live ones.
    if (st.requeue_stale(id, stale) > 0) return true;
    bool foreign = false, queued = false;
    {
      std::lock_guard<std::mutex> l(own_mu);
      for (const auto& t : trials) {
        queued = queued || t.state == store::TrialState::Queued;
        foreign = foreign || (t.state == store::TrialState::Running && !own_running.count(t.id));
      }
    }
    if (queued) return true;
    if (foreign) {
      std::this_thread::sleep_for(std::chrono::duration<double>(std::min(0.5, options.heartbeat_seconds)));
      return !stop.load();
    }
    return false;
  };

  // An error while proposing (e.g. a search space with no buildable config) ends the session with that error
  // instead of escaping a worker thread.
  std::mutex fatal_mu;
  std::string fatal;
  Proposer propose = [&](store::TrialStore& st, int64_t id) {
    try {
      return propose_unguarded(st, id);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> l(fatal_mu);
      fatal = e.what();
      stop = true;
      return false;
    }
  };

  SchedulerOptions so;
  so.heartbeat_seconds = options.heartbeat_seconds;
  so.stop = &stop;
  so.on_device_failure = options.on_device_failure;
  so.on_lease_lost = options.on_lease_lost;
  so.on_trial_end = [&](const store::TrialRecord& t, const DeviceSlot& slot) {
    ++ended_in_session;
    if (!options.on_trial_end) return;
    Progress p;
    p.trial = t;
    p.slot = slot.name;
    p.total = total;
    for (const auto& x : store.list_trials(search_id)) {
      switch (x.state) {
        case store::TrialState::Done:
          ++p.done;
          break;
        case store::TrialState::Failed:
          ++p.failed;
          break;
        case store::TrialState::Running:
          ++p.running;
          break;
        case store::TrialState::Queued:
          ++p.queued;
          break;
      }
      if (feasible(x, settings) && (!p.best_feasible || *x.val_acc > *p.best_feasible->val_acc)) p.best_feasible = x;
    }
    p.elapsed_seconds = elapsed();
    const int remaining = total - p.done - p.failed;
    const double rate = ended_in_session.load() / std::max(1e-9, since(t0));  // trials per second this session
    p.eta_seconds = remaining / rate;
    if (settings.time_seconds > 0)
      p.eta_seconds = std::min(p.eta_seconds, std::max(0.0, settings.time_seconds - p.elapsed_seconds));
    options.on_trial_end(p);
  };

  if (time_up()) {  // a resumed search whose time budget is already spent starts nothing
    saw_time_up = true;
    stop = true;
  }
  // Watcher: time budget and interrupts.
  std::thread watcher([&] {
    while (!finished.load()) {
      const int irq = options.interrupts ? options.interrupts->load() : 0;
      if (irq >= 1 && !stop.load()) {
        saw_interrupt = true;
        stop = true;
      }
      if (irq >= 2) {
        std::vector<int64_t> ids;
        {
          std::lock_guard<std::mutex> l(own_mu);
          ids.assign(own_running.begin(), own_running.end());
        }
        for (int64_t id : ids) session.detach(id);
        if (options.on_hard_stop) options.on_hard_stop();
        break;
      }
      if (!stop.load() && time_up()) {
        saw_time_up = true;
        stop = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  try {
    report.slots = Scheduler(session, search_id, slots, run_one, propose, so).run();
  } catch (...) {
    finished = true;
    watcher.join();
    throw;
  }
  finished = true;
  watcher.join();
  SPARSE_CHECK(fatal.empty(), "search " << search_id << ": cannot propose the next trial: " << fatal);

  const auto trials = store.list_trials(search_id);
  for (const auto& x : trials) {
    switch (x.state) {
      case store::TrialState::Done:
        ++report.done;
        break;
      case store::TrialState::Failed:
        ++report.failed;
        break;
      case store::TrialState::Running:
        ++report.running;
        break;
      case store::TrialState::Queued:
        ++report.queued;
        break;
    }
  }
  report.complete = static_cast<int>(trials.size()) >= total && report.running == 0 && report.queued == 0;
  report.time_up = saw_time_up.load() || (!report.complete && time_up());
  report.interrupted = saw_interrupt.load();
  report.session_seconds = since(t0);
  report.elapsed_seconds = elapsed();
  return report;
}

}  // namespace sparse::search
