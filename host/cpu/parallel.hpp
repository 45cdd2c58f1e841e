// Threads of the CPU backend: a fixed-size OpenMP team splitting a range into contiguous chunks, and grow-only
// per-thread scratch. Invariants: at most threads() chunks run at once, chunk t only touches scratch slot t;
// an exception in a chunk is rethrown in the caller after the region;
// chunk boundaries are multiples of `align` (except the end) and depend only on (count, chunks, align), so
// results are reproducible for a given thread count; scratch only grows (no allocation in the steady state).
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <new>
#include <vector>

namespace sparse::cpu {

// Grow-only 64-byte aligned buffer of T.
template <class T>
class Scratch {
 public:
  Scratch() = default;
  ~Scratch() { std::free(data_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Scratch(Scratch&& o) noexcept : data_(o.data_), capacity_(o.capacity_) {
    o.data_ = nullptr;
    o.capacity_ = 0;
  }
  // At least `count` elements; contents are unspecified after growing.
  T* get(size_t count) {
    if (count > capacity_) {
      std::free(data_);
      const size_t bytes = (std::max<size_t>(count, 1) * sizeof(T) + 63) / 64 * 64;
      data_ = static_cast<T*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      capacity_ = count;
    }
    return data_;
  }
  T* data() { return data_; }

 private:
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

// What one thread owns: im2col columns, partial weight gradients, GEMM packing panels, partial double sums.
struct ThreadScratch {
  Scratch<float> col, partial, pack_a, pack_b;
  Scratch<double> sums;
};

class Team {
 public:
  explicit Team(int threads) : threads_(std::max(1, threads)), scratch_(static_cast<size_t>(threads_)) {}
  int threads() const { return threads_; }
  ThreadScratch& scratch(int t) { return scratch_[static_cast<size_t>(t)]; }

  // Chunks worth running for `work` units when one chunk should carry at least `grain` units.
  int chunks_for(double work, double grain) const {
    const double c = work / grain;
    return c >= threads_ ? threads_ : std::max(1, static_cast<int>(c));
  }

  // Calls f(t, begin, end) for t < the returned chunk count (<= chunks, <= threads()), covering [0, count)
  // in order; a chunk may be empty. Scratch slot t belongs to chunk t for the duration of the call.
  template <class F>
  int run(int64_t count, int chunks, F&& f, int64_t align = 1) {
    const int64_t units = (count + align - 1) / align;
    chunks = static_cast<int>(std::min<int64_t>(std::min(chunks, threads_), std::max<int64_t>(units, 1)));
    if (chunks <= 1) {
      f(0, int64_t(0), count);
      return 1;
    }
    int used = chunks;
    std::exception_ptr error;  // an exception must not leave the parallel region (scratch growth may throw)
#pragma omp parallel num_threads(chunks)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      if (t == 0) used = nt;
      const int64_t b = std::min(count, units * t / nt * align);
      const int64_t e = std::min(count, units * (t + 1) / nt * align);
      try {
        f(t, b, e);
      } catch (...) {
#pragma omp critical(sparse_cpu_team_error)
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return used;
  }

 private:
  int threads_;
  std::vector<ThreadScratch> scratch_;
};

}  // namespace sparse::cpu
