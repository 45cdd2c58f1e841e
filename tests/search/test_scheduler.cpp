// Scheduler and device planning: every proposal runs once, errors fail only their trial, a device failure
// re-queues its trial, a device failing 3 times in a row is retired and its trials re-run elsewhere (none lost, even
// with every slot retired), heartbeats advance during long trials, stop ends the search.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "host/search/scheduler.hpp"
#include "host/store/sqlite_store.hpp"
#include "tests/common/temp_dir.hpp"

using namespace sparse;
using namespace sparse::search;
using sparse::test::TempDir;

namespace {

std::vector<DeviceSlot> cpu_slots(int n) {
  std::vector<DeviceSlot> s;
  for (int i = 0; i < n; ++i) s.push_back({"cpu:" + std::to_string(i), false, i, 1});
  return s;
}

// Proposes one trial per call until `total` exist, config {"x": index}.
Proposer counting_proposer(int total) {
  return [total](store::TrialStore& s, int64_t search) {
    const auto n = static_cast<int>(s.list_trials(search).size());
    if (n >= total) return false;
    store::TrialRecord t;
    t.search_id = search;
    t.config = {{"x", n}};
    s.add_trial(t);
    return true;
  };
}

int64_t new_search(store::TrialStore& s) {
  store::SearchRecord r;
  r.dataset = "synthetic";
  r.objectives = "acc,ms";
  return s.create_search(r);
}

}  // namespace

TEST(Scheduler, RunsEveryProposalOnceAndRecordsFailures) {
  TempDir d;
  store::SqliteStore st((d / "s.db").string(), true);
  const int64_t search = new_search(st);
  std::atomic<int> calls{0};
  TrialRunner runner = [&](const store::TrialRecord& t, const DeviceSlot&) {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    TrialOutcome o;
    const int x = t.config["x"];
    if (x % 5 == 3) {
      o.error = "diverged at epoch 1, step " + std::to_string(x);
      return o;
    }
    if (x == 7) throw std::runtime_error("bad config: kernel larger than input");
    o.ok = true;
    o.result.val_acc = 0.5 + x / 100.0;
    o.phi = {static_cast<uint8_t>(x), 1, 2};
    return o;
  };
  int ended = 0;
  SchedulerOptions opt;
  opt.on_trial_end = [&](const store::TrialRecord&, const DeviceSlot&) { ++ended; };
  Scheduler sch(st, search, cpu_slots(3), runner, counting_proposer(20), opt);
  const auto reports = sch.run();
  EXPECT_EQ(calls.load(), 20);
  EXPECT_EQ(ended, 20);
  const auto all = st.list_trials(search);
  ASSERT_EQ(all.size(), 20u);
  int done = 0, failed = 0;
  for (const auto& t : all) {
    const int x = t.config["x"];
    EXPECT_EQ(t.attempts, 1);
    if (x % 5 == 3 || x == 7) {
      EXPECT_EQ(t.state, store::TrialState::Failed) << x;
      EXPECT_FALSE(t.error.empty());
      ++failed;
    } else {
      EXPECT_EQ(t.state, store::TrialState::Done) << x;
      EXPECT_DOUBLE_EQ(*t.val_acc, 0.5 + x / 100.0);
      EXPECT_EQ((*st.get_phi(t.id))[0], x);
      ++done;
    }
  }
  EXPECT_EQ(st.get_trial(all[7].id).error, "bad config: kernel larger than input");
  int rep_done = 0, rep_failed = 0;
  for (const auto& r : reports) rep_done += r.done, rep_failed += r.failed;
  EXPECT_EQ(rep_done, done);
  EXPECT_EQ(rep_failed, failed);
}

TEST(Scheduler, FailingDeviceIsRetiredAndItsTrialRunsElsewhere) {
  TempDir d;
  store::SqliteStore st((d / "s.db").string(), true);
  const int64_t search = new_search(st);
  std::atomic<int> failures{0};
  TrialRunner runner = [&](const store::TrialRecord&, const DeviceSlot& slot) {
    if (slot.name == "cpu:1") {
      ++failures;
      throw DeviceFailure("cuda:1", "alloc", "cudaErrorMemoryAllocation: out of memory");
    }
    // cpu:0 waits until cpu:1 has failed three times, so the retirement does not depend on thread timing.
    for (int i = 0; i < 4000 && failures.load() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    TrialOutcome o;
    o.ok = true;
    return o;
  };
  std::vector<std::string> seen;
  SchedulerOptions opt;
  opt.on_device_failure = [&](const DeviceSlot& slot, int64_t, const std::string& what, bool retired) {
    seen.push_back(slot.name + (retired ? " retired: " : ": ") + what);
  };
  Scheduler sch(st, search, cpu_slots(2), runner, counting_proposer(6), opt);
  const auto reports = sch.run();
  EXPECT_EQ(st.list_trials(search, store::TrialState::Done).size(), 6u);
  EXPECT_EQ(reports[1].device_failure,
            "cpu:1 retired after 3 consecutive device failures (last: cuda:1: alloc: cudaErrorMemoryAllocation: out "
            "of memory)");
  EXPECT_EQ(reports[1].device_failures, 3);
  EXPECT_EQ(reports[1].done, 0);
  EXPECT_EQ(reports[0].done, 6);
  EXPECT_EQ(reports[0].device_failures, 0);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2], "cpu:1 retired: cuda:1: alloc: cudaErrorMemoryAllocation: out of memory");
  int retries = 0;
  for (const auto& t : st.list_trials(search)) {
    EXPECT_EQ(t.device, "cpu:0");
    retries += t.attempts - 1;
  }
  EXPECT_EQ(retries, 3);  // every failure re-queued its trial once
}

TEST(Scheduler, ASlotThatRecoversBetweenFailuresIsNotRetired) {
  TempDir d;
  store::SqliteStore st((d / "s.db").string(), true);
  const int64_t search = new_search(st);
  int calls = 0;
  TrialRunner runner = [&](const store::TrialRecord&, const DeviceSlot&) {
    if (++calls % 3 != 0) throw DeviceFailure("cpu:0", "adam", "transient");  // two failures, then a success
    TrialOutcome o;
    o.ok = true;
    return o;
  };
  const auto reports = Scheduler(st, search, cpu_slots(1), runner, counting_proposer(4)).run();
  EXPECT_EQ(st.list_trials(search, store::TrialState::Done).size(), 4u);
  EXPECT_TRUE(reports[0].device_failure.empty()) << reports[0].device_failure;
  EXPECT_EQ(reports[0].device_failures, 8);
  for (const auto& t : st.list_trials(search)) EXPECT_EQ(t.attempts, 3);
}

TEST(Scheduler, WhenEverySlotIsRetiredTheTrialStaysQueued) {
  TempDir d;
  store::SqliteStore st((d / "s.db").string(), true);
  const int64_t search = new_search(st);
  TrialRunner runner = [&](const store::TrialRecord&, const DeviceSlot& slot) -> TrialOutcome {
    throw DeviceError(slot.name, "synchronize", "cudaErrorIllegalAddress");  // a plain DeviceError counts too
  };
  SchedulerOptions opt;
  opt.max_consecutive_device_failures = 2;
  const auto reports = Scheduler(st, search, cpu_slots(2), runner, counting_proposer(5), opt).run();
  for (const auto& r : reports) {
    EXPECT_EQ(r.device_failures, 2);
    EXPECT_NE(r.device_failure.find(r.slot.name + " retired after 2 consecutive device failures (last: " +
                                    r.slot.name + ": synchronize: cudaErrorIllegalAddress)"),
              std::string::npos)
        << r.device_failure;
  }
  const auto all = st.list_trials(search);
  EXPECT_FALSE(all.empty());
  int attempts = 0;
  for (const auto& t : all) {
    EXPECT_EQ(t.state, store::TrialState::Queued);
    attempts += t.attempts;
  }
  EXPECT_EQ(attempts, 4);
}

TEST(Scheduler, HeartbeatAdvancesDuringALongTrial) {
  TempDir d;
  store::SqliteStore st((d / "s.db").string(), true);
  const int64_t search = new_search(st);
  double beat_seen = 0, started = 0;
  TrialRunner runner = [&](const store::TrialRecord& t, const DeviceSlot&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const auto now = st.get_trial(t.id);
    beat_seen = now.heartbeat_at;
    started = now.started_at;
    TrialOutcome o;
    o.ok = true;
    return o;
  };
  SchedulerOptions opt;
  opt.heartbeat_seconds = 0.05;
  Scheduler(st, search, cpu_slots(1), runner, counting_proposer(1), opt).run();
  EXPECT_GT(beat_seen, started + 0.1);
}

TEST(Scheduler, AnOutcomeWhoseLeaseWasLostIsDroppedAndCounted) {
  TempDir d;
  const auto path = (d / "s.db").string();
  store::SqliteStore st(path, true);
  store::SqliteStore other(path, false);  // a second process on the same store
  const int64_t search = new_search(st);
  TrialRunner runner = [&](const store::TrialRecord& t, const DeviceSlot&) {
    if (t.attempts == 1) {  // this process stalls; the other finds the trial stale, takes it over and finishes it
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      EXPECT_EQ(other.requeue_stale(search, 0.01), 1);
      const auto taken = other.claim_next(search, "cpu:9");
      EXPECT_TRUE(taken && taken->id == t.id);
      store::TrialResult r;
      r.val_acc = 0.25;
      other.finish(t.id, r);
    }
    TrialOutcome o;
    o.ok = true;
    o.result.val_acc = 0.75;
    o.phi = {1};
    return o;
  };
  std::vector<std::string> lost;
  SchedulerOptions opt;
  opt.heartbeat_seconds = 60;
  opt.on_lease_lost = [&](const DeviceSlot&, int64_t, const std::string& what) { lost.push_back(what); };
  const auto reports = Scheduler(st, search, cpu_slots(1), runner, counting_proposer(1), opt).run();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].leases_lost, 1);
  EXPECT_EQ(reports[0].done, 0);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_NE(lost[0].find("lost its lease"), std::string::npos) << lost[0];
  const auto all = st.list_trials(search);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, store::TrialState::Done);
  EXPECT_EQ(all[0].worker, other.worker_id());
  EXPECT_DOUBLE_EQ(*all[0].val_acc, 0.25);  // the last claimant's result, written once
  EXPECT_FALSE(st.get_phi(all[0].id));      // the stale process wrote no φ either
}

TEST(Scheduler, StopFlagEndsTheSearch) {
  TempDir d;
  store::SqliteStore st((d / "s.db").string(), true);
  const int64_t search = new_search(st);
  std::atomic<bool> stop{false};
  std::atomic<int> n{0};
  TrialRunner runner = [&](const store::TrialRecord&, const DeviceSlot&) {
    if (++n == 4) stop = true;
    TrialOutcome o;
    o.ok = true;
    return o;
  };
  SchedulerOptions opt;
  opt.stop = &stop;
  Scheduler(st, search, cpu_slots(1), runner, counting_proposer(1000), opt).run();
  EXPECT_EQ(n.load(), 4);
}

TEST(DevicePlan, DefaultsAndErrors) {
  cuda::DeviceQuery none;
  none.unavailable_reason = "no driver";
  cuda::DeviceQuery two;
  two.built_with_cuda = true;
  two.devices.resize(2);
  auto s = plan_devices({}, none, 8);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "cpu:0");
  EXPECT_EQ(s[0].threads, 8);
  s = plan_devices({}, two, 8);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].name, "cuda:1");
  DeviceRequest r;
  r.devices = "cpu,cuda:1";
  r.cpu_workers = 2;
  r.workers_per_gpu = 3;
  s = plan_devices(r, two, 8);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].name, "cuda:1#0");
  EXPECT_EQ(s[2].name, "cuda:1#2");
  EXPECT_EQ(s[3].threads, 4);
  auto err = [](const DeviceRequest& req, const cuda::DeviceQuery& q) {
    try {
      plan_devices(req, q, 2);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  r = {};
  r.devices = "cuda:3";
  EXPECT_NE(err(r, two).find("cuda:3 requested, this machine has 2 CUDA device(s)"), std::string::npos);
  r.devices = "cuda";
  EXPECT_NE(err(r, none).find("no CUDA device is usable (no driver)"), std::string::npos);
  r.devices = "tpu";
  EXPECT_NE(err(r, two).find("'tpu' is not a device"), std::string::npos);
  r.devices = "cuda:x";
  EXPECT_NE(err(r, two).find("'cuda:x' is not a device"), std::string::npos);
  r = {};
  r.workers_per_gpu = 0;
  EXPECT_NE(err(r, two).find("--workers-per-gpu 0 is out of range"), std::string::npos);
}
