// The backend interface (DESIGN.md "The backend"): memory and the ops of host/core/op_list.hpp.
// Invariants: every pointer an op takes was allocated by the same backend; ops are issued in order on the
// backend's stream and may run asynchronously (CUDA), so host code reads results only through download(),
// which waits; no op allocates memory (scratch is reserved up front by reserve_workspace or grown once on first
// use, never inside a steady-state training step). Errors throw sparse::Error; a failure of the device itself
// (CUDA error, device out of memory) throws sparse::DeviceError. free() never throws (it runs in destructors,
// also during unwinding): a backend whose free fails records it and throws a DeviceError from its next call.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/core/op_list.hpp"

namespace sparse {

class Backend {
 public:
  virtual ~Backend() = default;
  // "cpu" or "cuda:N".
  virtual std::string name() const = 0;

  // Backend memory, 64-byte aligned; free(nullptr) is a no-op. free never throws (see the file comment).
  virtual void* alloc(size_t bytes) = 0;
  virtual void free(void* p) noexcept = 0;
  virtual void upload(void* dst, const void* src, size_t bytes) = 0;    // host -> backend
  virtual void download(void* dst, const void* src, size_t bytes) = 0;  // backend -> host (waits)
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;      // backend -> backend
  virtual void zero(void* p, size_t bytes) = 0;
  virtual void synchronize() = 0;

#define SPARSE_BACKEND_DECLARE_OP(op, Args) virtual void op(const Args<float>& a) = 0;
  SPARSE_OP_LIST(SPARSE_BACKEND_DECLARE_OP)
#undef SPARSE_BACKEND_DECLARE_OP
};

// Move-only owner of `count` elements of T in a backend's memory. Never throws from its destructor, move or
// reset(): Backend::free is noexcept.
template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(Backend& b, size_t count) : backend_(&b), count_(count) {
    if (count) data_ = static_cast<T*>(b.alloc(count * sizeof(T)));
  }
  ~Buffer() { reset(); }
  Buffer(Buffer&& o) noexcept { *this = std::move(o); }
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      reset();
      backend_ = std::exchange(o.backend_, nullptr);
      data_ = std::exchange(o.data_, nullptr);
      count_ = std::exchange(o.count_, 0);
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }
  void upload(const std::vector<T>& host) { upload(host.data(), host.size()); }
  void upload(const T* host, size_t count) {
    if (count) backend_->upload(data_, host, count * sizeof(T));
  }
  std::vector<T> download() const {
    std::vector<T> h(count_);
    if (count_) backend_->download(h.data(), data_, bytes());
    return h;
  }
  void zero() {
    if (count_) backend_->zero(data_, bytes());
  }
  void reset() {
    if (backend_ && data_) backend_->free(data_);
    data_ = nullptr;
    count_ = 0;
  }

 private:
  Backend* backend_ = nullptr;
  T* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace sparse
