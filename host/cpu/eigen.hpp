// Eigen for the CPU backend's kernels, renamed into a private namespace (sparse_cpu_eigen) and single-threaded.
// Invariants: sparse_cpu is compiled for the build machine's instruction set (SPARSE_CPU_ARCH) while other
// targets (gp, tests) use Eigen with the default flags, so the two must not share Eigen's inline and template
// symbols (an ODR clash would mix SSE and AVX-512 GEMM packing, or aligned_malloc with another aligned_free):
// every sparse_cpu file includes Eigen only through this header, first. The backend threads over the batch
// itself, so Eigen's own OpenMP parallelism is off.
#pragma once
#if defined(EIGEN_CORE_H) || defined(EIGEN_WORLD_VERSION)
#error "host/cpu/eigen.hpp must be the first Eigen include of a sparse_cpu source file"
#endif

#define Eigen sparse_cpu_eigen
#define EIGEN_DONT_PARALLELIZE
// GCC 12 reports false -W(maybe-)uninitialized inside its own AVX-512 intrinsics (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <Eigen/Core>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
