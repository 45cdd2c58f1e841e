// Dataset benchmarks: full Fashion-MNIST load from the .gz IDX files, and normalized batch throughput.
// Run: build/bench/bench_datasets --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <filesystem>

#include "datasets/batches.hpp"
#include "datasets/idx.hpp"
#include "datasets/preset.hpp"
#include "datasets/synthetic.hpp"

namespace {

const char* kFashion = "/usr/share/datasets/fashion-mnist";

bool have_fashion(benchmark::State& state) {
  if (std::filesystem::exists(std::string(kFashion) + "/train-images-idx3-ubyte.gz")) return true;
  state.SkipWithError("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
  return false;
}

// The whole preset: inflate 4 gzip files, parse IDX, draw the validation split, fit normalization.
void BM_LoadFashionMnistPreset(benchmark::State& state) {
  if (!have_fashion(state)) return;
  sparse::data::DatasetOptions o;
  o.name = "fashion-mnist";
  size_t images = 0;
  for (auto _ : state) {
    const auto d = sparse::data::load_dataset(o);
    images = d.train.size() + d.val.size() + d.test.size();
    benchmark::DoNotOptimize(d.train.pixels.data());
  }
  state.counters["images"] = static_cast<double>(images);
}
BENCHMARK(BM_LoadFashionMnistPreset)->Unit(benchmark::kMillisecond)->UseRealTime();

// Inflate + parse of the training pair only (60,000 images, 26 MB compressed).
void BM_InflateParseFashionTrainIdx(benchmark::State& state) {
  if (!have_fashion(state)) return;
  const std::filesystem::path dir = kFashion;
  for (auto _ : state) {
    const auto s = sparse::data::load_idx_pair(dir / "train-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz", 10);
    benchmark::DoNotOptimize(s.pixels.data());
  }
}
BENCHMARK(BM_InflateParseFashionTrainIdx)->Unit(benchmark::kMillisecond)->UseRealTime();

// Normalized, shuffled batches of 28×28×1 with background prefetch (arg: batch size).
void BM_BatchIterator(benchmark::State& state) {
  sparse::data::SyntheticSpec spec;
  const auto set = sparse::data::generate_synthetic(spec, 20000, 0);
  const auto norm = sparse::data::Normalization::fit(set);
  sparse::data::BatchOptions o;
  o.batch_size = static_cast<size_t>(state.range(0));
  sparse::data::BatchIterator it(set, norm, o);
  sparse::data::Batch b;
  uint64_t epoch = 0;
  size_t images = 0;
  for (auto _ : state) {
    it.start_epoch(epoch++);
    while (it.next(b)) images += b.size;
    benchmark::DoNotOptimize(b.x.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(images));
}
BENCHMARK(BM_BatchIterator)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
