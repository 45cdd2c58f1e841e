// SpVD/BC training-step throughput (forward + backward + Adam, variational mode) of a Config on a backend, the
// figure of issue 4 next to ../shared/bench/peer_torch_spvd.py (bench/step_vs_torch.sh prints the ratio table).
// Usage: bench_step --net FILE --batch B --threads T [--device cpu|cuda:N] [--method spvd|bc] [--steps S]
//        [--warmup W] [--json]. Prints the median step time over S steps; --json prints one JSON line last with
// images_per_s and gflops (useful FLOPs: 2 per multiply-add of the mean and variance products, forward,
// filter gradient and data gradient; the first layer's data gradient is not computed and not counted).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "host/nn/backend_factory.hpp"
#include "host/nn/network.hpp"

using namespace sparse;

namespace {

struct Args {
  std::string net, device = "cpu", method = "spvd";
  int batch = 64, threads = 2, steps = 30, warmup = 5;
  bool json = false;
};

// Useful FLOPs of one variational training step (see the header comment).
double step_flops(const graph::Graph& g, int batch) {
  double flops = 0;
  bool first = true;
  for (const auto& n : g.nodes) {
    if (!n.has_weights()) continue;
    const auto& in = g.nodes[static_cast<size_t>(n.inputs[0])].out;
    double macs = 0;
    if (n.kind == graph::NodeKind::fc) macs = double(in.size()) * n.out.c;
    else if (n.kind == graph::NodeKind::depthwise_conv) macs = double(n.out.size()) * n.kernel * n.kernel;
    else macs = double(n.out.size()) * n.kernel * n.kernel * in.c;
    const int products = first ? 4 : 6;  // mean and variance: forward, filter gradient, (data gradient)
    flops += 2.0 * macs * products * batch;
    first = false;
  }
  return flops;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"SpVD/BC training-step throughput of a Config", "bench_step"};
  app.add_option("--net", a.net, "Config JSON (bench/networks/*.json)")->required();
  app.add_option("--batch", a.batch, "Minibatch size")->check(CLI::Range(1, 65536));
  app.add_option("--threads", a.threads, "CPU threads")->check(CLI::Range(1, 1024));
  app.add_option("--device", a.device, "cpu or cuda:N");
  app.add_option("--method", a.method, "spvd or bc");
  app.add_option("--steps", a.steps, "Timed steps (median reported)")->check(CLI::Range(1, 1000000));
  app.add_option("--warmup", a.warmup, "Untimed steps first")->check(CLI::Range(0, 1000000));
  app.add_flag("--json", a.json, "Print one JSON line last");
  CLI11_PARSE(app, argc, argv);
  try {
    const space::Config cfg = space::read_config(a.net);
    auto be = nn::make_backend(a.device, a.threads);
    nn::Network net(*be, cfg, nn::method_from_string(a.method), a.batch, 1);
    const auto& in = net.graph().nodes[0].out;
    PhiloxStream rng(7);
    std::vector<float> x(static_cast<size_t>(a.batch) * static_cast<size_t>(in.size()));
    for (auto& v : x) v = static_cast<float>(rng.normal());
    std::vector<int32_t> y(static_cast<size_t>(a.batch));
    for (auto& v : y) v = static_cast<int32_t>(rng.below(static_cast<uint64_t>(cfg.num_classes)));
    net.set_batch(x.data(), y.data(), a.batch);
    const float kl_scale = 0.1f / 55000.0f;  // the peer's objective: 55000·CE + 0.1·KL, scaled by 1/55000
    uint64_t step = 0;
    for (int i = 0; i < a.warmup; ++i) net.train_step(nn::Mode::variational, kl_scale, 1e-3f, ++step);
    be->synchronize();
    std::vector<double> ts;
    for (int i = 0; i < a.steps; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      net.train_step(nn::Mode::variational, kl_scale, 1e-3f, ++step);
      be->synchronize();
      ts.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ts.begin(), ts.end());
    const double med = ts[ts.size() / 2];
    const double flops = step_flops(net.graph(), a.batch);
    std::printf("sparse net=%s device=%s method=%s threads=%d batch=%d median_step_ms=%.3f images_per_s=%.0f "
                "gflops=%.2f\n",
                a.net.c_str(), be->name().c_str(), a.method.c_str(), a.threads, a.batch, med * 1e3, a.batch / med,
                flops / med / 1e9);
    if (a.json) {
      std::printf("%s\n", nlohmann::json({{"engine", "sparse"},
                                          {"net", a.net},
                                          {"device", be->name()},
                                          {"method", a.method},
                                          {"threads", a.threads},
                                          {"batch", a.batch},
                                          {"steps", a.steps},
                                          {"median_step_ms", med * 1e3},
                                          {"images_per_s", a.batch / med},
                                          {"gflops", flops / med / 1e9},
                                          {"flops_per_step", flops}})
                              .dump()
                              .c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_step: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
