// The kernels of one SpVD training step (issue 7), op by op at the shapes of bench/networks/{tiny,lenet5}.json at
// batch 256 (--batch), on the CUDA backend (cuda:0) and the CPU backend as a second column, plus the whole step.
// Cases are named <device>/<net>/<node>/<op> (<device> cuda or cpu, <node> the graph node's name): per weighted
// node the mean product forward (conv2d_forward or linear_forward; the variance product has the same shape), the
// filter gradient (conv2d_backward_filter / linear_backward_weight), the data gradient (not for a node reading
// the input image, which the step does not compute), lrt_sample_forward/backward, spvd_kl_forward/backward and
// adam over θ; per max-pool node its forward and backward; softmax_cross_entropy; and <device>/<net>/step/train_step
// (Network::train_step, variational). Times are wall time per op (manual time): on CUDA each timed iteration issues
// the op `kCudaReps` times and then synchronizes, so launch cost counts and the synchronization is amortized.
// Counters: FLOPS (2 per multiply-add) for the products, bytes_per_second for the rest (bytes read + written).
// Without a usable CUDA device every cuda/ case reports SkipWithError with the reason, never a time.
// Usage: bench_kernels [--networks DIR] [--batch B] [--cpu-threads T] [--devices cuda,cpu] [--benchmark_*...]
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cuda/device_query.hpp"
#include "host/core/backend.hpp"
#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "host/core/threads.hpp"
#include "host/graph/graph.hpp"
#include "host/nn/backend_factory.hpp"
#include "host/nn/network.hpp"
#include "host/space/config.hpp"

using namespace sparse;

namespace {

constexpr int kCudaReps = 20;  // ops per timed iteration on CUDA (one synchronization each)
int g_cpu_threads = 0;         // 0: hardware_threads()

// Backends made once per process; a device that cannot be made keeps its reason.
struct BackendSlot {
  std::unique_ptr<Backend> backend;
  std::string error;
};
BackendSlot& backend_slot(const std::string& device) {
  static std::map<std::string, BackendSlot> slots;
  auto it = slots.find(device);
  if (it != slots.end()) return it->second;
  BackendSlot s;
  try {
    s.backend = nn::make_backend(device == "cuda" ? "cuda:0" : device, g_cpu_threads);
  } catch (const std::exception& e) {
    s.error = e.what();
  }
  return slots.emplace(device, std::move(s)).first->second;
}

// Buffers of one case, filled with uniform random values in [lo, hi).
class Pool {
 public:
  explicit Pool(Backend& b) : be_(b) {}
  float* f(int64_t count, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> h(static_cast<size_t>(count));
    for (auto& v : h) v = lo + (hi - lo) * float(rng_.uniform());
    floats_.emplace_back(be_, h.size());
    floats_.back().upload(h);
    return floats_.back().data();
  }
  int32_t* labels(int64_t count, int classes) {
    std::vector<int32_t> h(static_cast<size_t>(count));
    for (auto& v : h) v = int32_t(rng_.below(uint64_t(classes)));
    ints_.emplace_back(be_, h.size());
    ints_.back().upload(h);
    return ints_.back().data();
  }
  int32_t* ints(int64_t count) {  // zeroed
    ints_.emplace_back(be_, size_t(count));
    ints_.back().zero();
    return ints_.back().data();
  }

 private:
  Backend& be_;
  PhiloxStream rng_{12345};
  std::vector<Buffer<float>> floats_;
  std::vector<Buffer<int32_t>> ints_;
};

// A case: allocates its buffers in the pool and returns the op to time.
using Launch = std::function<void()>;
using Setup = std::function<Launch(Backend&, Pool&)>;

void run_case(benchmark::State& st, const std::string& device, const Setup& setup, double flops, double bytes,
              int reps) {
  BackendSlot& slot = backend_slot(device);
  if (!slot.backend) {
    st.SkipWithError(slot.error.c_str());
    return;
  }
  Backend& be = *slot.backend;
  try {
    Pool pool(be);
    Launch op = setup(be, pool);
    op();  // first call: scratch grows here, not in the timed loop
    be.synchronize();
    for (auto _ : st) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r) op();
      be.synchronize();
      st.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps);
    }
    if (flops > 0) st.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
    if (bytes > 0) st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(bytes));
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
  }
}

// Register the cases of one network on one device.
void register_net(const std::string& device, const std::string& net_name, const space::Config& cfg, int batch) {
  const graph::Graph g = graph::build_graph(cfg);
  const int reps = device == "cpu" ? 1 : kCudaReps;
  const int n = batch;
  auto add = [&](const std::string& node, const std::string& op, Setup setup, double flops, double bytes) {
    const std::string name = device + "/" + net_name + "/" + node + "/" + op;
    benchmark::RegisterBenchmark(name.c_str(),
                                 [=](benchmark::State& st) { run_case(st, device, setup, flops, bytes, reps); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  };
  for (size_t i = 1; i < g.nodes.size(); ++i) {
    const graph::Node& nd = g.nodes[i];
    const graph::Shape in = g.nodes[size_t(nd.inputs[0])].out, out = nd.out;
    const int64_t out_count = int64_t(n) * out.size(), in_count = int64_t(n) * in.size();
    if (nd.kind == graph::NodeKind::max_pool) {
      const int k = nd.kernel;
      add(nd.name, "max_pool_forward", [=](Backend& be, Pool& p) -> Launch {
            const float* x = p.f(in_count);
            float* y = p.f(out_count);
            int32_t* am = p.ints(out_count);
            return [&be, x, y, am, n, in, out, k] { be.max_pool_forward({n, in.h, in.w, in.c, k, k, out.h, out.w, x, y, am}); };
          }, 0, 4.0 * in_count + 8.0 * out_count);
      add(nd.name, "max_pool_backward", [=](Backend& be, Pool& p) -> Launch {
            const float *x = p.f(in_count), *dy = p.f(out_count);
            float *y = p.f(out_count), *dx = p.f(in_count);
            int32_t* am = p.ints(out_count);
            be.max_pool_forward({n, in.h, in.w, in.c, k, k, out.h, out.w, x, y, am});  // the argmax of real data
            return [&be, dy, am, dx, n, in, out] { be.max_pool_backward({n, in.h, in.w, in.c, out.h, out.w, dy, am, dx, false}); };
          }, 0, 8.0 * out_count + 4.0 * in_count);
      continue;
    }
    if (!nd.has_weights()) continue;
    const bool fc = nd.kind == graph::NodeKind::fc;
    const int groups = nd.kind == graph::NodeKind::depthwise_conv ? in.c : 1;
    const ConvShape s = fc ? ConvShape{} : conv_shape(n, in.h, in.w, in.c, out.c, nd.kernel,
                                                       nd.padding == space::Padding::same, 1, groups);
    const int64_t wcount = fc ? in.size() * out.c : s.weight_count();
    const double macs = fc ? double(n) * double(in.size()) * out.c : double(s.y_count()) * nd.kernel * nd.kernel * (in.c / groups);
    const int in_size = int(in.size()), cout = out.c;
    const bool first = nd.inputs[0] == 0;  // reads the input image: no data gradient in the step
    if (fc) {
      add(nd.name, "linear_forward", [=](Backend& be, Pool& p) -> Launch {
            const float *x = p.f(in_count), *w = p.f(wcount), *b = p.f(cout);
            float* y = p.f(out_count);
            return [&be, x, w, b, y, n, in_size, cout] { be.linear_forward({n, in_size, cout, x, w, b, y}); };
          }, 2 * macs, 0);
      add(nd.name, "linear_backward_weight", [=](Backend& be, Pool& p) -> Launch {
            const float *x = p.f(in_count), *dy = p.f(out_count);
            float *dw = p.f(wcount), *db = p.f(cout);
            return [&be, x, dy, dw, db, n, in_size, cout] { be.linear_backward_weight({n, in_size, cout, x, dy, dw, db, false}); };
          }, 2 * macs, 0);
      if (!first)
        add(nd.name, "linear_backward_data", [=](Backend& be, Pool& p) -> Launch {
              const float *dy = p.f(out_count), *w = p.f(wcount);
              float* dx = p.f(in_count);
              return [&be, dy, w, dx, n, in_size, cout] { be.linear_backward_data({n, in_size, cout, dy, w, dx, true}); };
            }, 2 * macs, 0);
    } else {
      add(nd.name, "conv2d_forward", [=](Backend& be, Pool& p) -> Launch {
            const float *x = p.f(in_count), *w = p.f(wcount), *b = p.f(cout);
            float* y = p.f(out_count);
            return [&be, s, x, w, b, y] { be.conv2d_forward({s, x, w, b, y}); };
          }, 2 * macs, 0);
      add(nd.name, "conv2d_backward_filter", [=](Backend& be, Pool& p) -> Launch {
            const float *x = p.f(in_count), *dy = p.f(out_count);
            float *dw = p.f(wcount), *db = p.f(cout);
            return [&be, s, x, dy, dw, db] { be.conv2d_backward_filter({s, x, dy, dw, db, false}); };
          }, 2 * macs, 0);
      if (!first)
        add(nd.name, "conv2d_backward_data", [=](Backend& be, Pool& p) -> Launch {
              const float *dy = p.f(out_count), *w = p.f(wcount);
              float* dx = p.f(in_count);
              return [&be, s, dy, w, dx] { be.conv2d_backward_data({s, dy, w, dx, true}); };
            }, 2 * macs, 0);
    }
    add(nd.name, "lrt_sample_forward", [=](Backend& be, Pool& p) -> Launch {
          const float *mu = p.f(out_count), *var = p.f(out_count, 0.0f, 1.0f);
          float* y = p.f(out_count);
          return [&be, mu, var, y, out_count] { be.lrt_sample_forward({out_count, 7, 3, mu, var, y}); };
        }, 0, 12.0 * out_count);
    add(nd.name, "lrt_sample_backward", [=](Backend& be, Pool& p) -> Launch {
          const float *var = p.f(out_count, 0.0f, 1.0f), *dy = p.f(out_count), *mu = p.f(out_count), *y = p.f(out_count);
          float* dvar = p.f(out_count);
          return [&be, var, dy, mu, y, dvar, out_count] {
            be.lrt_sample_backward({out_count, 7, 3, var, dy, nullptr, dvar, false, mu, y});
          };
        }, 0, 20.0 * out_count);
    add(nd.name, "spvd_kl_forward", [=](Backend& be, Pool& p) -> Launch {
          const float *th = p.f(wcount), *ls = p.f(wcount, -12.0f, -8.0f);
          float* kl = p.f(1);
          return [&be, th, ls, kl, wcount] { be.spvd_kl_forward({wcount, th, ls, kl}); };
        }, 0, 8.0 * wcount);
    add(nd.name, "spvd_kl_backward", [=](Backend& be, Pool& p) -> Launch {
          const float *th = p.f(wcount), *ls = p.f(wcount, -12.0f, -8.0f);
          float *dth = p.f(wcount), *dls = p.f(wcount);
          return [&be, th, ls, dth, dls, wcount] { be.spvd_kl_backward({wcount, 1e-6f, th, ls, dth, dls, true}); };
        }, 0, 24.0 * wcount);
    add(nd.name, "adam", [=](Backend& be, Pool& p) -> Launch {
          float* param = p.f(wcount);
          const float* grad = p.f(wcount);
          float *m = p.f(wcount), *v = p.f(wcount, 0.0f, 1.0f);
          return [&be, param, grad, m, v, wcount] { be.adam({wcount, 10, 1e-3f, 0.9f, 0.999f, 1e-8f, param, grad, m, v}); };
        }, 0, 28.0 * wcount);
  }
  const int classes = g.nodes.back().out.c;
  add("output", "softmax_cross_entropy", [=](Backend& be, Pool& p) -> Launch {
        const float* logits = p.f(int64_t(n) * classes);
        const int32_t* labels = p.labels(n, classes);
        float *loss = p.f(1), *dlogits = p.f(int64_t(n) * classes);
        int32_t* correct = p.ints(1);
        return [&be, logits, labels, loss, dlogits, correct, n, classes] {
          be.softmax_cross_entropy({n, classes, 1.0f, logits, labels, loss, dlogits, correct});
        };
      }, 0, 8.0 * n * classes);
  // The whole step (forward, backward, Adam) through Network, as bench_step times it.
  const std::string step_name = device + "/" + net_name + "/step/train_step";
  benchmark::RegisterBenchmark(step_name.c_str(), [=](benchmark::State& st) {
    BackendSlot& slot = backend_slot(device);
    if (!slot.backend) {
      st.SkipWithError(slot.error.c_str());
      return;
    }
    try {
      nn::Network net(*slot.backend, cfg, nn::Method::spvd, n, 1);
      const auto& image = net.graph().nodes[0].out;
      PhiloxStream rng(7);
      std::vector<float> x(size_t(n) * size_t(image.size()));
      for (auto& v : x) v = float(rng.normal());
      std::vector<int32_t> y(static_cast<size_t>(n));
      for (auto& v : y) v = int32_t(rng.below(uint64_t(cfg.num_classes)));
      net.set_batch(x.data(), y.data(), n);
      uint64_t step = 0;
      net.train_step(nn::Mode::variational, 0.1f / 55000.0f, 1e-3f, ++step);
      slot.backend->synchronize();
      for (auto _ : st) {
        const auto t0 = std::chrono::steady_clock::now();
        net.train_step(nn::Mode::variational, 0.1f / 55000.0f, 1e-3f, ++step);
        slot.backend->synchronize();
        st.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      st.SetItemsProcessed(int64_t(st.iterations()) * n);  // images/s
    } catch (const std::exception& e) {
      st.SkipWithError(e.what());
    }
  })->UseManualTime()->Unit(benchmark::kMicrosecond);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);  // removes the --benchmark_* flags
  std::string networks = "bench/networks", devices = "cuda,cpu";
  int batch = 256;
  for (int i = 1; i < argc; ++i) {
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_kernels: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--networks")) networks = value("--networks");
    else if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(value("--batch"));
    else if (!std::strcmp(argv[i], "--cpu-threads")) g_cpu_threads = std::atoi(value("--cpu-threads"));
    else if (!std::strcmp(argv[i], "--devices")) devices = value("--devices");
    else {
      std::fprintf(stderr,
                   "usage: %s [--networks DIR] [--batch B] [--cpu-threads T] [--devices cuda,cpu] [--benchmark_*...]\n",
                   argv[0]);
      return 2;
    }
  }
  if (batch < 1) {
    std::fprintf(stderr, "bench_kernels: --batch must be >= 1\n");
    return 2;
  }
  if (g_cpu_threads <= 0) g_cpu_threads = hardware_threads();
  const cuda::DeviceQuery q = cuda::query_devices();
  benchmark::AddCustomContext("cuda_device", q.devices.empty() ? "none: " + q.unavailable_reason : q.devices[0].name);
  benchmark::AddCustomContext("cpu_threads", std::to_string(g_cpu_threads));
  benchmark::AddCustomContext("batch", std::to_string(batch));
  try {
    for (const std::string& device : split(devices)) {
      if (device != "cuda" && device != "cpu") {
        std::fprintf(stderr, "bench_kernels: --devices: '%s' is neither cuda nor cpu\n", device.c_str());
        return 2;
      }
      for (const char* net : {"tiny", "lenet5"})
        register_net(device, net, space::read_config(networks + "/" + net + ".json"), batch);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kernels: error: %s\n", e.what());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
