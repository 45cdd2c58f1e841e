// GPU Thompson sampling for builds without CUDA (SPARSE_CUDA=OFF or no nvcc): available() says why, sampling
// throws sparse::Error, so callers (gp::Proposer) link either way and fall back to the CPU path.
#include "gp/cuda/thompson_cuda.hpp"

#include <algorithm>

#include "host/core/error.hpp"

namespace sparse::gp::cuda {
namespace {
constexpr const char* kNotBuilt = "engine built without CUDA (nvcc not found or -DSPARSE_CUDA=OFF)";
}  // namespace

bool available(int, std::string* reason) {
  if (reason) *reason = kNotBuilt;
  return false;
}

std::vector<ThompsonDraw> thompson_samples(const Inputs&, const Inputs&, const std::vector<ObjectiveGp>&, const Inputs&,
                                           const std::vector<Eigen::MatrixXd>&, int device) {
  SPARSE_FAIL("GPU Thompson sampling on cuda:" << device << ": " << kNotBuilt);
}

ThompsonDraw thompson_samples(const Inputs&, const Inputs&, const ObjectiveGp&, const Inputs&, const Eigen::MatrixXd&,
                              int device) {
  SPARSE_FAIL("GPU Thompson sampling on cuda:" << device << ": " << kNotBuilt);
}

size_t bytes_per_objective(int n, int m, int q) {
  const size_t nn = size_t(n), mm = size_t(m), qq = size_t(q);
  return sizeof(double) * (mm * mm + nn * mm + nn * nn + 2 * mm * qq + 4 * (nn + mm) + 256 * std::max(nn, mm));
}

}  // namespace sparse::gp::cuda
