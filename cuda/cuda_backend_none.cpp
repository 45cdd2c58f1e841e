// make_cuda_backend for builds without CUDA (SPARSE_CUDA=OFF or no nvcc).
#include "cuda/cuda_backend.hpp"

#include "host/core/error.hpp"

namespace sparse::cuda {

std::unique_ptr<Backend> make_cuda_backend(int device) {
  SPARSE_FAIL("device 'cuda:" << device
                              << "': this build has no CUDA backend (configured with SPARSE_CUDA=OFF or without nvcc)");
}

}  // namespace sparse::cuda
