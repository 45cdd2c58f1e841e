// BatchIterator (see batches.hpp): one producer thread per iterator, a bounded queue, recycled buffers.
#include "datasets/batches.hpp"

#include <numeric>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"

namespace sparse::data {

BatchIterator::BatchIterator(const ImageSet& set, const Normalization& norm, BatchOptions options)
    : set_(set), norm_(norm), opt_(options) {
  SPARSE_CHECK(opt_.batch_size >= 1 && opt_.batch_size <= (1u << 20),
               "batch size " << opt_.batch_size << " is out of range, expected 1 to 1048576");
  SPARSE_CHECK(set_.size() > 0, "cannot iterate over an empty image set");
  SPARSE_CHECK(opt_.queue_depth >= 1, "prefetch queue depth must be at least 1");
  SPARSE_CHECK(norm_.mean.size() == static_cast<size_t>(set_.shape.channels) && norm_.std.size() == norm_.mean.size(),
               "normalization has " << norm_.mean.size() << " channels, images have " << set_.shape.channels);
  order_.resize(set_.size());
  std::iota(order_.begin(), order_.end(), 0);
}

BatchIterator::~BatchIterator() { stop_worker(); }

size_t BatchIterator::batches_per_epoch() const {
  const size_t n = set_.size(), b = opt_.batch_size;
  return opt_.drop_last ? n / b : (n + b - 1) / b;
}

void BatchIterator::fill(size_t batch_index, Batch& b) const {
  const size_t px = set_.shape.pixels();
  const size_t first = batch_index * opt_.batch_size;
  const size_t count = std::min(opt_.batch_size, set_.size() - first);
  if (b.x.size() != opt_.batch_size * px) b.x.resize(opt_.batch_size * px);
  if (b.y.size() != opt_.batch_size) b.y.resize(opt_.batch_size);
  b.size = count;
  for (size_t k = 0; k < count; ++k) {
    const size_t i = order_[first + k];
    norm_.apply(set_.image(i), px, set_.shape.channels, b.x.data() + k * px);
    b.y[k] = set_.labels[i];
  }
}

void BatchIterator::stop_worker() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_ = true;
  }
  cv_.notify_all();
  worker_.join();
  std::lock_guard<std::mutex> lock(mu_);
  while (!ready_.empty()) {
    free_.push_back(std::move(ready_.front()));
    ready_.pop_front();
  }
  cancel_ = false;
}

void BatchIterator::start_epoch(uint64_t epoch) {
  stop_worker();
  std::iota(order_.begin(), order_.end(), 0);
  if (opt_.shuffle) {
    PhiloxStream rng(opt_.seed, 0xE90C0000ull + epoch);
    rng.shuffle(order_.begin(), order_.end());
  }
  next_batch_ = 0;
  produced_ = 0;
  started_ = true;
  if (opt_.prefetch) worker_ = std::thread([this] { worker_loop(); });
}

void BatchIterator::worker_loop() {
  const size_t total = batches_per_epoch();
  for (size_t k = 0; k < total; ++k) {
    Batch b;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return cancel_ || ready_.size() < opt_.queue_depth; });
      if (cancel_) return;
      if (!free_.empty()) {
        b = std::move(free_.back());
        free_.pop_back();
      }
    }
    fill(k, b);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(b));
      ++produced_;
    }
    cv_.notify_all();
  }
}

bool BatchIterator::next(Batch& out) {
  if (!started_) start_epoch(0);
  const size_t total = batches_per_epoch();
  if (next_batch_ >= total) return false;
  if (!opt_.prefetch) {
    fill(next_batch_++, out);
    return true;
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !ready_.empty(); });
  std::swap(out, ready_.front());
  // The consumer's old buffer goes back to the pool when it has the right size.
  if (!ready_.front().x.empty()) free_.push_back(std::move(ready_.front()));
  ready_.pop_front();
  ++next_batch_;
  lock.unlock();
  cv_.notify_all();
  return true;
}

}  // namespace sparse::data
