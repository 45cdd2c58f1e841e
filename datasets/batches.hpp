// Minibatch iteration: seeded shuffling per epoch, float NHWC normalized batches, background prefetch.
// Invariants: the batch sequence depends only on (set, seed, epoch, batch size), never on timing;
// buffers are allocated once (a small pool), so iterating allocates nothing after the first epoch.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "datasets/image_set.hpp"
#include "datasets/normalization.hpp"

namespace sparse::data {

struct Batch {
  std::vector<float> x;    // [capacity, H, W, C]; the first `size` images are valid
  std::vector<int32_t> y;  // [capacity]
  size_t size = 0;
};

struct BatchOptions {
  size_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;  // drop the final partial batch
  uint64_t seed = 0;
  bool prefetch = true;    // fill batches on a background thread
  size_t queue_depth = 2;  // batches prepared ahead
};

class BatchIterator {
 public:
  BatchIterator(const ImageSet& set, const Normalization& norm, BatchOptions options);
  ~BatchIterator();
  BatchIterator(const BatchIterator&) = delete;
  BatchIterator& operator=(const BatchIterator&) = delete;

  // Begin epoch `epoch`: order = Philox permutation of (seed, epoch) when shuffling, else file order.
  void start_epoch(uint64_t epoch);
  // Next batch of the epoch into `out` (buffers are swapped, not copied); false at the end of the epoch.
  bool next(Batch& out);
  size_t batches_per_epoch() const;

 private:
  void fill(size_t batch_index, Batch& b) const;
  void worker_loop();
  void stop_worker();

  const ImageSet& set_;
  const Normalization& norm_;
  BatchOptions opt_;
  std::vector<size_t> order_;
  size_t next_batch_ = 0;  // synchronous mode cursor, and prefetch consumer count

  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;  // filled, in order
  std::vector<Batch> free_;  // recycled buffers
  size_t produced_ = 0;
  bool cancel_ = false;
  bool started_ = false;
};

}  // namespace sparse::data
