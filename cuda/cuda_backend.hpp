// The CUDA backend (DESIGN.md "The backend") behind a plain C++ interface: nothing outside cuda/ includes a CUDA
// header. Built from cuda_backend.cu / conv_ops.cu / cuda_ops.cu when nvcc is found; otherwise
// cuda_backend_none.cpp provides a make_cuda_backend that throws.
#pragma once
#include <memory>

#include "host/core/backend.hpp"

namespace sparse::cuda {

// The backend on device `device` (one stream, one cuBLAS handle). Throws sparse::Error naming the device and the
// runtime's reason when it cannot be used, or when this build has no CUDA backend. Device allocation failures
// thrown later by alloc() contain "out of memory".
std::unique_ptr<Backend> make_cuda_backend(int device);

}  // namespace sparse::cuda
