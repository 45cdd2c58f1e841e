// Device failures through the real runner and scheduler (run_search with a fault-injecting backend factory): a
// transient DeviceError re-queues its trial, which runs again on a rebuilt backend and finishes with the result
// it would have had; a sticky one retires its slot after 3 failures while the other slot finishes the search; with
// no slot left the trial stays queued and a resume runs it; no trial is lost or run twice to an end; a free that
// fails while a Buffer unwinds is reported by the backend's next call instead of terminating the process.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

#include "host/core/backend.hpp"
#include "host/nn/backend_factory.hpp"
#include "host/search/search.hpp"
#include "tests/search/fault_backend.hpp"
#include "tests/search/search_fixtures.hpp"

using namespace sparse;
using sparse::test::FaultBackend;
using sparse::test::FaultPlan;
using sparse::test::TempDir;

namespace {

// A search of `trials` one-epoch trials of tiny networks on 16x16 synthetic images (a fraction of a second each).
struct SmallSearch {
  search::SearchSettings s;
  data::Dataset data;
  explicit SmallSearch(const TempDir& d, int trials) { s = test::small_search_settings(d, trials, data, false); }
};

std::vector<search::DeviceSlot> cpu_slots(int n) {
  std::vector<search::DeviceSlot> v;
  for (int i = 0; i < n; ++i) v.push_back({"cpu:" + std::to_string(i), false, i, 1});
  return v;
}

std::unique_ptr<Backend> cpu_backend() { return nn::make_backend("cpu", 1); }

// Every planned trial exists once and has ended; returns the attempts beyond the first, over all trials.
int expect_all_ended_once(store::TrialStore& st, int64_t id, int total) {
  const auto trials = st.list_trials(id);
  EXPECT_EQ(static_cast<int>(trials.size()), total);
  std::set<int64_t> ids;
  int retries = 0;
  for (const auto& t : trials) {
    ids.insert(t.id);
    EXPECT_TRUE(t.state == store::TrialState::Done || t.state == store::TrialState::Failed) << t.id;
    EXPECT_GE(t.attempts, 1);
    retries += t.attempts - 1;
  }
  EXPECT_EQ(ids.size(), trials.size());
  return retries;
}

}  // namespace

TEST(DeviceFailure, ErrorsCarryDeviceOpAndReason) {
  const DeviceError e("cuda:1", "download", "CUDA error cudaErrorIllegalAddress: an illegal memory access");
  EXPECT_STREQ(e.what(), "cuda:1: download: CUDA error cudaErrorIllegalAddress: an illegal memory access");
  EXPECT_EQ(e.device(), "cuda:1");
  EXPECT_EQ(e.op(), "download");
  const search::DeviceFailure f("cudaErrorMemoryAllocation: out of memory");
  EXPECT_STREQ(f.what(), "cudaErrorMemoryAllocation: out of memory");
  EXPECT_EQ(f.reason(), "cudaErrorMemoryAllocation: out of memory");
  const Error& base = f;  // a DeviceFailure is a DeviceError is an Error
  EXPECT_NE(dynamic_cast<const DeviceError*>(&base), nullptr);
}

TEST(DeviceFailure, FailedFreeWhileUnwindingIsReportedByTheNextCall) {
  static_assert(noexcept(std::declval<Backend&>().free(nullptr)), "Backend::free must not throw");
  static_assert(std::is_nothrow_destructible_v<Buffer<float>>);
  static_assert(std::is_nothrow_move_assignable_v<Buffer<float>>);
  auto plan = std::make_shared<FaultPlan>();
  plan->fail_frees = true;
  FaultBackend b(cpu_backend(), plan, "cuda:9");
  try {
    Buffer<float> x(b, 16);
    Buffer<float> y(b, 8);
    x.zero();
    throw std::runtime_error("a kernel failed");  // x and y are freed while this unwinds; both frees fail
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "a kernel failed");  // the original error arrives, the process lives
  }
  try {
    Buffer<float> z(b, 4);
    FAIL() << "the backend's next call must report the failed free";
  } catch (const DeviceError& e) {
    EXPECT_EQ(e.device(), "cuda:9");
    EXPECT_EQ(e.op(), "alloc");
    EXPECT_NE(e.reason().find("free failed"), std::string::npos) << e.what();
  }
}

TEST(DeviceFailure, TransientFaultRequeuesTheTrialWhichFinishesOnARebuiltBackend) {
  TempDir d;
  SmallSearch ss(d, 4);
  auto plan = std::make_shared<FaultPlan>();
  plan->op = "adam";
  plan->fail_at = 3;  // inside the first trial's first training step
  search::SessionOptions so;
  so.make_backend = [plan](const search::DeviceSlot& slot) {
    return std::make_unique<FaultBackend>(cpu_backend(), plan, slot.name);
  };
  std::vector<std::pair<int64_t, bool>> events;
  so.on_device_failure = [&](const search::DeviceSlot&, int64_t trial, const std::string& what, bool retired) {
    events.emplace_back(trial, retired);
    EXPECT_NE(what.find("cpu:0: adam: CUDA error cudaErrorLaunchFailure (injected, transient)"), std::string::npos)
        << what;
  };
  store::SqliteStore st((d / "s.db").string(), true);
  const int64_t id = search::create_search(st, ss.s);
  const auto rep = search::run_search(st, id, ss.s, ss.data, cpu_slots(1), so);
  EXPECT_TRUE(rep.complete);
  EXPECT_EQ(rep.done + rep.failed, 4);
  EXPECT_EQ(rep.queued, 0);
  EXPECT_EQ(plan->faults.load(), 1);
  EXPECT_EQ(plan->backends.load(), 2);  // dropped after the fault, built again for the retry
  ASSERT_EQ(rep.slots.size(), 1u);
  EXPECT_EQ(rep.slots[0].device_failures, 1);
  EXPECT_TRUE(rep.slots[0].device_failure.empty()) << rep.slots[0].device_failure;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].second);
  EXPECT_EQ(expect_all_ended_once(st, id, 4), 1);
  const store::TrialRecord retried = st.get_trial(events[0].first);
  EXPECT_EQ(retried.attempts, 2);
  EXPECT_EQ(retried.state, store::TrialState::Done) << retried.error;
  ASSERT_TRUE(retried.metrics.contains("device_failures")) << retried.metrics.dump();
  ASSERT_EQ(retried.metrics["device_failures"].size(), 1u);
  EXPECT_NE(retried.metrics["device_failures"][0].get<std::string>().find("adam"), std::string::npos);
  for (const auto& t : st.list_trials(id))
    if (t.id != retried.id) {
      EXPECT_EQ(t.attempts, 1);
      EXPECT_FALSE(t.metrics.contains("device_failures"));
    }

  // The retry's result is the one a run without the fault gives: the rebuilt backend starts clean.
  TempDir d2;
  store::SqliteStore clean((d2 / "s.db").string(), true);
  const int64_t id2 = search::create_search(clean, ss.s);
  search::SessionOptions plain;
  plain.make_backend = [](const search::DeviceSlot&) { return cpu_backend(); };
  const auto rep2 = search::run_search(clean, id2, ss.s, ss.data, cpu_slots(1), plain);
  ASSERT_TRUE(rep2.complete);
  const store::TrialRecord same = clean.list_trials(id2).at(0);
  ASSERT_EQ(retried.id, st.list_trials(id).at(0).id);
  EXPECT_EQ(same.config, retried.config);
  ASSERT_TRUE(same.val_acc && retried.val_acc);
  EXPECT_EQ(*same.val_acc, *retried.val_acc);
}

TEST(DeviceFailure, StickyFaultRetiresItsSlotAndTheOtherSlotFinishesTheSearch) {
  TempDir d;
  SmallSearch ss(d, 5);
  auto broken = std::make_shared<FaultPlan>();
  broken->fail_at = 1;  // the first call on cpu:1 fails, and every later one
  broken->sticky = true;
  auto healthy = std::make_shared<FaultPlan>();
  search::SessionOptions so;
  so.make_backend = [&](const search::DeviceSlot& slot) -> std::unique_ptr<Backend> {
    if (slot.name == "cpu:1") return std::make_unique<FaultBackend>(cpu_backend(), broken, slot.name);
    // cpu:0 starts training only once cpu:1 is retired, so the retirement happens whatever the thread timing.
    const auto t0 = std::chrono::steady_clock::now();
    while (broken->faults.load() < 3 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return std::make_unique<FaultBackend>(cpu_backend(), healthy, slot.name);
  };
  std::vector<bool> retired_flags;
  so.on_device_failure = [&](const search::DeviceSlot& slot, int64_t, const std::string&, bool retired) {
    EXPECT_EQ(slot.name, "cpu:1");
    retired_flags.push_back(retired);
  };
  store::SqliteStore st((d / "s.db").string(), true);
  const int64_t id = search::create_search(st, ss.s);
  const auto rep = search::run_search(st, id, ss.s, ss.data, cpu_slots(2), so);
  EXPECT_TRUE(rep.complete);
  EXPECT_EQ(rep.done + rep.failed, 5);
  ASSERT_EQ(rep.slots.size(), 2u);
  EXPECT_EQ(rep.slots[1].device_failures, 3);
  EXPECT_EQ(rep.slots[1].done + rep.slots[1].failed, 0);
  EXPECT_NE(rep.slots[1].device_failure.find("cpu:1 retired after 3 consecutive device failures"), std::string::npos)
      << rep.slots[1].device_failure;
  EXPECT_NE(rep.slots[1].device_failure.find("injected, sticky"), std::string::npos) << rep.slots[1].device_failure;
  EXPECT_EQ(rep.slots[0].done + rep.slots[0].failed, 5);
  EXPECT_TRUE(rep.slots[0].device_failure.empty());
  EXPECT_EQ(retired_flags, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(broken->backends.load(), 3);  // rebuilt after each failure
  EXPECT_EQ(broken->faults.load(), 3);
  EXPECT_EQ(expect_all_ended_once(st, id, 5), 3);
  for (const auto& t : st.list_trials(id)) EXPECT_EQ(t.device, "cpu:0");
}

TEST(DeviceFailure, WithEverySlotRetiredTheTrialStaysQueuedAndAResumeRunsIt) {
  TempDir d;
  SmallSearch ss(d, 2);
  auto broken = std::make_shared<FaultPlan>();
  broken->op = "upload";
  broken->fail_at = 1;
  broken->sticky = true;
  search::SessionOptions so;
  so.make_backend = [broken](const search::DeviceSlot& slot) {
    return std::make_unique<FaultBackend>(cpu_backend(), broken, slot.name);
  };
  store::SqliteStore st((d / "s.db").string(), true);
  const int64_t id = search::create_search(st, ss.s);
  const auto rep = search::run_search(st, id, ss.s, ss.data, cpu_slots(1), so);
  EXPECT_FALSE(rep.complete);
  EXPECT_EQ(rep.done + rep.failed + rep.running, 0);
  EXPECT_EQ(rep.queued, 1);
  ASSERT_EQ(rep.slots.size(), 1u);
  EXPECT_NE(rep.slots[0].device_failure.find("cpu:0 retired after 3 consecutive device failures (last: cpu:0: "),
            std::string::npos)
      << rep.slots[0].device_failure;
  auto trials = st.list_trials(id);
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].state, store::TrialState::Queued);
  EXPECT_EQ(trials[0].attempts, 3);
  const int64_t kept = trials[0].id;

  // A resume on a working device runs the kept trial (same id) and the rest of the plan.
  search::SessionOptions plain;
  plain.make_backend = [](const search::DeviceSlot&) { return cpu_backend(); };
  const auto rep2 = search::run_search(st, id, ss.s, ss.data, cpu_slots(1), plain);
  EXPECT_TRUE(rep2.complete);
  EXPECT_EQ(expect_all_ended_once(st, id, 2), 3);
  const auto again = st.get_trial(kept);
  EXPECT_EQ(again.attempts, 4);
  EXPECT_EQ(again.state, store::TrialState::Done) << again.error;
}
