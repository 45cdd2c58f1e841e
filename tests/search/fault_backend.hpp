// A fault-injecting Backend for the device-failure tests: it forwards every call to a real (CPU) backend and
// throws sparse::DeviceError, as the CUDA backend does on a CUDA error, at the Nth call of one op, once
// (transient) or at every later call too (sticky: a lost CUDA context). It can also fail its frees the way
// CudaBackend does: recorded, never thrown, and reported by the next call.
// Invariants: the counters live in a FaultPlan shared by every backend built for one device, so a sticky fault
// outlives the runner's rebuild of the slot's backend; free() never throws.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "host/core/backend.hpp"
#include "host/core/error.hpp"

namespace sparse::test {

struct FaultPlan {
  std::string op;           // the op whose calls are counted ("alloc", "linear_forward", ...; "" = every call)
  int fail_at = 0;          // the call (1-based) of `op` that throws, counted over all backends of the plan; 0: none
  bool sticky = false;      // after it, every call of every backend of the plan throws
  bool fail_frees = false;  // every free fails (recorded; the backend's next call throws)
  std::atomic<int> calls{0};      // counted calls of `op`
  std::atomic<int> faults{0};     // DeviceErrors thrown
  std::atomic<bool> tripped{false};
  std::atomic<int> backends{0};   // backends built with this plan
};

class FaultBackend final : public Backend {
 public:
  // `device` is the name the errors carry (e.g. the slot's name).
  FaultBackend(std::unique_ptr<Backend> inner, std::shared_ptr<FaultPlan> plan, std::string device)
      : inner_(std::move(inner)), plan_(std::move(plan)), device_(std::move(device)) {
    ++plan_->backends;
  }
  std::string name() const override { return device_; }

  void* alloc(size_t bytes) override {
    check("alloc");
    return inner_->alloc(bytes);
  }
  void free(void* p) noexcept override {
    if (p && plan_->fail_frees) failed_free_ = true;
    inner_->free(p);  // the memory is released all the same: the test leaks nothing
  }
  void upload(void* dst, const void* src, size_t bytes) override {
    check("upload");
    inner_->upload(dst, src, bytes);
  }
  void download(void* dst, const void* src, size_t bytes) override {
    check("download");
    inner_->download(dst, src, bytes);
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    check("copy");
    inner_->copy(dst, src, bytes);
  }
  void zero(void* p, size_t bytes) override {
    check("zero");
    inner_->zero(p, bytes);
  }
  void synchronize() override {
    check("synchronize");
    inner_->synchronize();
  }

#define SPARSE_FAULT_DEFINE_OP(op, Args) \
  void op(const Args<float>& a) override { \
    check(#op);                            \
    inner_->op(a);                         \
  }
  SPARSE_OP_LIST(SPARSE_FAULT_DEFINE_OP)
#undef SPARSE_FAULT_DEFINE_OP

 private:
  void check(const char* op) {
    if (failed_free_) fault(op, "an earlier free failed (injected)");
    if (plan_->sticky && plan_->tripped) fault(op, "CUDA error cudaErrorIllegalAddress (injected, sticky)");
    if (plan_->fail_at > 0 && (plan_->op.empty() || plan_->op == op) && ++plan_->calls == plan_->fail_at) {
      plan_->tripped = true;
      fault(op, plan_->sticky ? "CUDA error cudaErrorIllegalAddress (injected, sticky)"
                              : "CUDA error cudaErrorLaunchFailure (injected, transient)");
    }
  }
  [[noreturn]] void fault(const char* op, const std::string& reason) {
    ++plan_->faults;
    throw DeviceError(device_, op, reason, "injected", __FILE__, __LINE__);
  }

  std::unique_ptr<Backend> inner_;
  std::shared_ptr<FaultPlan> plan_;
  std::string device_;
  bool failed_free_ = false;
};

}  // namespace sparse::test
