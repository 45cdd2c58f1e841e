// GPU joint Thompson sampling of K objectives (see thompson_cuda.hpp): GaussianProcess's posterior and
// thompson.cpp's draw_in_place, step for step, with cuBLAS / cuSOLVER on one stream per objective.
// Steps per objective k (REFERENCE §7; n = |x| + |pending|, m = |c|, q = eps[k].cols()):
//  1. K = k(x, x) + σ_n² I (n₀ × n₀, full), L = chol(K) with cholesky_in_place's schedule (absolute 1e-8, ×10),
//     α = L⁻ᵀ L⁻¹ y_std (gp_regression.cpp: factor()).
//  2. Pending points (add_fantasies): their standardized targets are the posterior means k(x, p)ᵀ α; K, L and α
//     are formed again over x ∪ pending.
//  3. K* = k(X, C) (n × m); μ*_std = K*ᵀ α; V = L⁻¹ K* (trsm); Σ* = K** − VᵀV (syrk on the lower triangle of
//     K** = k(C, C)), mirrored to a full matrix so a failed potrf can be undone from the upper triangle.
//  4. L* = chol(Σ* + jitter·I), jitter 0, then 1e-8 × mean|diag Σ*|, ×10 per failed try (draw_in_place).
//  5. samples = μ* + scale · L* ε (trmm), μ* = μ*_std · scale + mean; the jitter is reported × scale².
// The K objectives are issued on K streams phase by phase (enqueue on every lane, then collect), so their
// factorizations overlap; every host wait is a D2H copy of what the next decision needs (info, a diagonal).
#include "gp/cuda/thompson_cuda.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cuda/device_query.hpp"
#include "gp/cholesky.hpp"
#include "gp/cuda/kernel_matrix.cuh"
#include "gp/cuda/sampler_context.hpp"
#include "gp/gp_regression.hpp"
#include "gp/kernel.hpp"
#include "host/core/error.hpp"

namespace sparse::gp::cuda {
namespace {

constexpr int kMaxTries = 10;               // cholesky_in_place's default number of jitter increases
constexpr double kTrainFirstJitter = 1e-8;  // GaussianProcess::factor(): cholesky_in_place(L_) defaults
constexpr double kSampleJitter = 1e-8;      // draw_in_place: first jitter = 1e-8 × mean posterior variance

// Row-major host copy of an Inputs (numeric, activity, categorical), the layout DevicePoints reads.
struct HostPoints {
  std::vector<double> numeric;
  std::vector<int> active, categorical;
};

HostPoints row_major(const Inputs& x) {
  const int n = x.size(), dn = x.num_numeric(), dc = x.num_categorical();
  HostPoints h;
  h.numeric.resize(size_t(n) * size_t(dn));
  h.active.resize(size_t(n) * size_t(dn));
  h.categorical.resize(size_t(n) * size_t(dc));
  for (int i = 0; i < n; ++i) {
    for (int d = 0; d < dn; ++d) {
      h.numeric[size_t(i) * size_t(dn) + size_t(d)] = x.numeric(i, d);
      h.active[size_t(i) * size_t(dn) + size_t(d)] = x.numeric_active(i, d);
    }
    for (int d = 0; d < dc; ++d) h.categorical[size_t(i) * size_t(dc) + size_t(d)] = x.categorical(i, d);
  }
  return h;
}

template <typename T>
void upload(const DeviceArray<T>& dst, const T* src, size_t count, cudaStream_t s) {
  if (count > 0) CUDA_CHECK(cudaMemcpyAsync(dst.get(), src, count * sizeof(T), cudaMemcpyHostToDevice, s));
}

template <typename T>
void download(T* dst, const T* src, size_t count, cudaStream_t s) {
  if (count > 0) CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(T), cudaMemcpyDeviceToHost, s));
}

// A point set on the device; view(first, count) is rows first .. first + count − 1.
struct PointsOnDevice {
  DeviceArray<double> numeric;
  DeviceArray<int> active, categorical;
  int dn = 0, dc = 0;
  PointsOnDevice(const SamplerContext& ctx, const Inputs& x, cudaStream_t s)
      : numeric(ctx, size_t(x.size()) * size_t(x.num_numeric()), s),
        active(ctx, size_t(x.size()) * size_t(x.num_numeric()), s),
        categorical(ctx, size_t(x.size()) * size_t(x.num_categorical()), s),
        dn(x.num_numeric()),
        dc(x.num_categorical()) {
    const HostPoints h = row_major(x);
    upload(numeric, h.numeric.data(), h.numeric.size(), s);
    upload(active, h.active.data(), h.active.size(), s);
    upload(categorical, h.categorical.data(), h.categorical.size(), s);
    CUDA_CHECK(cudaStreamSynchronize(s));  // the host copies die here, and other lanes read these arrays
  }
  DevicePoints view(int first, int count) const {
    DevicePoints p;
    p.numeric = numeric.get() ? numeric.get() + size_t(first) * size_t(dn) : nullptr;
    p.active = active.get() ? active.get() + size_t(first) * size_t(dn) : nullptr;
    p.categorical = categorical.get() ? categorical.get() + size_t(first) * size_t(dc) : nullptr;
    p.size = count;
    return p;
  }
};

// Waits for every lane when destroyed: declared after the device arrays that several lanes read, so that on
// an exception no array is freed while another stream still uses it.
struct DrainLanes {
  const std::vector<Lane>& lanes;
  ~DrainLanes() {
    for (const Lane& l : lanes) cudaStreamSynchronize(l.stream);
  }
};

// Everything one objective keeps on its lane.
struct Objective {
  Lane lane;
  Standardization st;
  Eigen::VectorXd y_std;       // standardized targets of x, then of x ∪ pending
  double noise = 0.0, sf2 = 0.0, inv_lact = 0.0;
  DeviceArray<double> inv_l, inv_lc;  // dn, dc
  DeviceArray<double> kxx;            // n × n: K + σ_n² I, then L in its lower triangle
  DeviceArray<double> alpha;          // n
  DeviceArray<double> fantasy;        // n₀ × p: k(x, pending), then the fantasy means in its first column block
  DeviceArray<double> kstar;          // n × m: K*, then V = L⁻¹ K*
  DeviceArray<double> sigma;          // m × m: Σ* (full), then L* in its lower triangle
  DeviceArray<double> mean;           // m: μ*_std
  DeviceArray<double> diag_saved;     // max(n, m): diagonal of the matrix being factored, before any try
  DeviceArray<double> diag_check;     // max(n, m): diagonal of the factor of the last try
  DeviceArray<double> eps, out;       // m × q
  DeviceArray<int> info;              // potrf's info
  DeviceArray<char> work;             // potrf's device workspace
  std::vector<char> host_work;        // potrf's host workspace
  DeviceHyper hyper() const {
    DeviceHyper h;
    h.inv_l = inv_l.get();
    h.inv_lc = inv_lc.get();
    h.inv_lact = inv_lact;
    h.sf2 = sf2;
    h.dn = int(inv_l.size());
    h.dc = int(inv_lc.size());
    return h;
  }
};

// potrf's workspace for the n × n matrix a (ld = n).
size_t potrf_workspace(const Lane& lane, int n, const double* a, size_t* host_bytes) {
  size_t dev = 0;
  *host_bytes = 0;
  if (n == 0) return 0;
  CUSOLVER_CHECK(cusolverDnXpotrf_bufferSize(lane.solver, lane.params, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, a, n,
                                             CUDA_R_64F, &dev, host_bytes));
  return dev;
}

// A symmetric matrix (full: both triangles hold A) factored in place with the jitter schedule of
// cholesky_in_place (gp/cholesky.cpp): try A, then A + j·I, j = first_jitter, ×10 per failed try, restoring the
// lower triangle from the upper one and the saved diagonal between tries. first_jitter is absolute, or, when
// relative, times max(mean |diag A|, 1e-300) (draw_in_place, gp/thompson.cpp).
struct FactorJob {
  Objective* o;
  double* a;
  int n;
  double first_jitter;
  bool relative;
  JitterInfo result;
};

void factor_with_jitter(std::vector<FactorJob>& jobs) {
  std::vector<double> jitter(jobs.size(), 0.0);
  std::vector<bool> done(jobs.size(), false);
  for (size_t t = 0; t < jobs.size(); ++t) {
    FactorJob& j = jobs[t];
    copy_diagonal(j.a, size_t(j.n), j.n, j.o->diag_saved.get(), j.o->lane.stream);
    done[t] = j.n == 0;
  }
  std::vector<int> info(jobs.size(), 0);
  for (int attempt = 0; attempt <= kMaxTries; ++attempt) {
    for (size_t t = 0; t < jobs.size(); ++t) {  // enqueue a try on every lane still factoring
      if (done[t]) continue;
      FactorJob& j = jobs[t];
      Objective& o = *j.o;
      if (attempt > 0) restore_lower_from_upper(j.a, size_t(j.n), j.n, o.diag_saved.get(), jitter[t], o.lane.stream);
      CUSOLVER_CHECK(cusolverDnXpotrf(o.lane.solver, o.lane.params, CUBLAS_FILL_MODE_LOWER, j.n, CUDA_R_64F, j.a, j.n,
                                      CUDA_R_64F, o.work.get(), o.work.size(), o.host_work.data(), o.host_work.size(),
                                      o.info.get()));
      copy_diagonal(j.a, size_t(j.n), j.n, o.diag_check.get(), o.lane.stream);
    }
    bool all = true;
    for (size_t t = 0; t < jobs.size(); ++t) {  // collect: dense::cholesky_lower's test (positive, finite pivots)
      if (done[t]) continue;
      FactorJob& j = jobs[t];
      Objective& o = *j.o;
      Eigen::VectorXd d(j.n);
      download(&info[t], o.info.get(), 1, o.lane.stream);
      download(d.data(), o.diag_check.get(), size_t(j.n), o.lane.stream);
      CUDA_CHECK(cudaStreamSynchronize(o.lane.stream));
      const bool ok = info[t] == 0 && (d.array() > 0.0).all() && d.allFinite();
      if (ok) {
        done[t] = true;
        j.result = JitterInfo{jitter[t], attempt};
      } else {
        if (attempt == 0 && j.relative) {  // the scale of the first jitter, needed only now
          download(d.data(), o.diag_saved.get(), size_t(j.n), o.lane.stream);
          CUDA_CHECK(cudaStreamSynchronize(o.lane.stream));
          j.first_jitter *= std::max(d.cwiseAbs().mean(), 1e-300);
        }
        jitter[t] = jitter[t] == 0.0 ? j.first_jitter : jitter[t] * 10.0;
        all = false;
      }
    }
    if (all) return;
  }
  for (size_t t = 0; t < jobs.size(); ++t) {
    if (done[t]) continue;
    const FactorJob& j = jobs[t];
    SPARSE_FAIL("Cholesky of a " << j.n << "×" << j.n << " matrix failed on the GPU after " << kMaxTries
                                 << " jitter increases (last jitter " << jitter[t] / 10.0
                                 << "); expected a symmetric positive semi-definite matrix");
  }
}

// Training factor and α over the first n points of X (n = n₀, or n₀ + p with the fantasies).
void factor_training(std::vector<Objective>& obj, const PointsOnDevice& xall, int n) {
  std::vector<FactorJob> jobs;
  for (Objective& o : obj) {
    const DevicePoints p = xall.view(0, n);
    kernel_matrix(p, p, o.hyper(), o.kxx.get(), size_t(n), false, o.lane.stream);
    add_to_diagonal(o.kxx.get(), size_t(n), n, o.noise, o.lane.stream);
    jobs.push_back(FactorJob{&o, o.kxx.get(), n, kTrainFirstJitter, false, {}});
  }
  factor_with_jitter(jobs);
  for (Objective& o : obj) {  // α = L⁻ᵀ (L⁻¹ y_std)
    upload(o.alpha, o.y_std.data(), size_t(n), o.lane.stream);
    CUBLAS_CHECK(cublasDtrsv(o.lane.blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, n, o.kxx.get(), n,
                             o.alpha.get(), 1));
    CUBLAS_CHECK(cublasDtrsv(o.lane.blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, CUBLAS_DIAG_NON_UNIT, n, o.kxx.get(), n,
                             o.alpha.get(), 1));
  }
}

void run_group(SamplerContext& ctx, const Inputs& x, const Inputs& pending, const Inputs& xall,
               const std::vector<ObjectiveGp>& gps, const Inputs& c, const std::vector<Eigen::MatrixXd>& eps,
               const std::vector<int>& group, std::vector<ThompsonDraw>& out) {
  const int n0 = x.size(), p = pending.size(), n = xall.size(), m = c.size();
  const KernelLayout layout = layout_of(x);
  std::vector<Lane> lanes;
  for (size_t g = 0; g < group.size(); ++g) lanes.push_back(ctx.lane(int(g)));
  const PointsOnDevice dx(ctx, xall, lanes[0].stream), dc(ctx, c, lanes[0].stream);
  std::vector<Objective> obj(group.size());
  for (size_t g = 0; g < group.size(); ++g) {
    const int k = group[g];
    const ObjectiveGp& gp = gps[size_t(k)];
    const int q = int(eps[size_t(k)].cols());
    Objective& o = obj[g];
    o.lane = lanes[g];
    const cudaStream_t s = o.lane.stream;
    o.st = standardization_of(gp.y);
    o.y_std.resize(n);
    o.y_std.head(n0) = (gp.y.array() - o.st.mean) / o.st.scale;
    o.noise = std::exp(gp.theta[layout.noise()]);
    o.sf2 = std::exp(gp.theta[layout.signal()]);
    o.inv_lact = std::exp(-gp.theta[layout.act()]);
    const Eigen::VectorXd inv_l = (-gp.theta.head(layout.num_numeric).array()).exp();
    const Eigen::VectorXd inv_lc = (-gp.theta.segment(layout.num_numeric, layout.num_categorical).array()).exp();
    o.inv_l = DeviceArray<double>(ctx, size_t(layout.num_numeric), s);
    o.inv_lc = DeviceArray<double>(ctx, size_t(layout.num_categorical), s);
    upload(o.inv_l, inv_l.data(), size_t(inv_l.size()), s);
    upload(o.inv_lc, inv_lc.data(), size_t(inv_lc.size()), s);
    o.kxx = DeviceArray<double>(ctx, size_t(n) * size_t(n), s);
    o.alpha = DeviceArray<double>(ctx, size_t(n), s);
    o.fantasy = DeviceArray<double>(ctx, size_t(n0) * size_t(p) + size_t(p), s);
    o.kstar = DeviceArray<double>(ctx, size_t(n) * size_t(m), s);
    o.sigma = DeviceArray<double>(ctx, size_t(m) * size_t(m), s);
    o.mean = DeviceArray<double>(ctx, size_t(m), s);
    o.diag_saved = DeviceArray<double>(ctx, size_t(std::max(n, m)), s);
    o.diag_check = DeviceArray<double>(ctx, size_t(std::max(n, m)), s);
    o.eps = DeviceArray<double>(ctx, size_t(m) * size_t(q), s);
    o.out = DeviceArray<double>(ctx, size_t(m) * size_t(q), s);
    o.info = DeviceArray<int>(ctx, 1, s);
    size_t host_n = 0, host_m = 0;  // workspace of the largest factorization (checked for both sizes)
    const size_t dev_bytes =
        std::max(potrf_workspace(o.lane, n, o.kxx.get(), &host_n), potrf_workspace(o.lane, m, o.sigma.get(), &host_m));
    o.work = DeviceArray<char>(ctx, std::max<size_t>(dev_bytes, 1), s);
    o.host_work.resize(std::max<size_t>(std::max(host_n, host_m), 1));
  }
  const DrainLanes drain{lanes};

  // 1–2. Training factor; with pending points, their fantasies and the factor over x ∪ pending.
  factor_training(obj, dx, n0);
  if (p > 0) {
    for (Objective& o : obj) {  // posterior mean (standardized) at the pending points: k(x, p)ᵀ α
      const double one = 1.0, zero = 0.0;
      double* kp = o.fantasy.get();
      double* f = kp + size_t(n0) * size_t(p);
      kernel_matrix(dx.view(0, n0), dx.view(n0, p), o.hyper(), kp, size_t(n0), false, o.lane.stream);
      CUBLAS_CHECK(cublasDgemv(o.lane.blas, CUBLAS_OP_T, n0, p, &one, kp, n0, o.alpha.get(), 1, &zero, f, 1));
    }
    for (Objective& o : obj) {
      Eigen::VectorXd f(p);
      download(f.data(), o.fantasy.get() + size_t(n0) * size_t(p), size_t(p), o.lane.stream);
      CUDA_CHECK(cudaStreamSynchronize(o.lane.stream));
      // add_fantasies: posterior mean on the caller's scale, then standardized again (the same roundings).
      const Eigen::VectorXd mean = f.array() * o.st.scale + o.st.mean;
      o.y_std.tail(p) = (mean.array() - o.st.mean) / o.st.scale;
    }
    factor_training(obj, dx, n);
  }
  if (m == 0) {
    for (size_t g = 0; g < group.size(); ++g) out[size_t(group[g])].samples.resize(0, eps[size_t(group[g])].cols());
    return;
  }

  // 3. μ*_std, V = L⁻¹ K*, Σ* = K** − VᵀV (lower), mirrored.
  std::vector<FactorJob> jobs;
  for (Objective& o : obj) {
    const double one = 1.0, zero = 0.0, minus_one = -1.0;
    kernel_matrix(dx.view(0, n), dc.view(0, m), o.hyper(), o.kstar.get(), size_t(n), false, o.lane.stream);
    CUBLAS_CHECK(cublasDgemv(o.lane.blas, CUBLAS_OP_T, n, m, &one, o.kstar.get(), n, o.alpha.get(), 1, &zero,
                             o.mean.get(), 1));
    CUBLAS_CHECK(cublasDtrsm(o.lane.blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, n,
                             m, &one, o.kxx.get(), n, o.kstar.get(), n));
    kernel_matrix(dc.view(0, m), dc.view(0, m), o.hyper(), o.sigma.get(), size_t(m), true, o.lane.stream);
    CUBLAS_CHECK(cublasDsyrk(o.lane.blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, m, n, &minus_one, o.kstar.get(), n,
                             &one, o.sigma.get(), m));
    mirror_lower_to_upper(o.sigma.get(), size_t(m), m, o.lane.stream);
    jobs.push_back(FactorJob{&o, o.sigma.get(), m, kSampleJitter, true, {}});
  }
  // 4. L* with the jitter schedule relative to the mean posterior variance.
  factor_with_jitter(jobs);
  // 5. L* ε, then μ* + scale · L* ε on the host, in draw_in_place's order of operations.
  for (size_t g = 0; g < group.size(); ++g) {
    Objective& o = obj[g];
    const Eigen::MatrixXd& e = eps[size_t(group[g])];
    const double one = 1.0;
    upload(o.eps, e.data(), size_t(e.size()), o.lane.stream);
    CUBLAS_CHECK(cublasDtrmm(o.lane.blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, m,
                             int(e.cols()), &one, o.sigma.get(), m, o.eps.get(), m, o.out.get(), m));
  }
  for (size_t g = 0; g < group.size(); ++g) {
    Objective& o = obj[g];
    ThompsonDraw& d = out[size_t(group[g])];
    const Eigen::Index q = eps[size_t(group[g])].cols();
    Eigen::VectorXd mean_std(m);
    d.samples.resize(m, q);
    download(mean_std.data(), o.mean.get(), size_t(m), o.lane.stream);
    download(d.samples.data(), o.out.get(), size_t(m) * size_t(q), o.lane.stream);
    CUDA_CHECK(cudaStreamSynchronize(o.lane.stream));
    const Eigen::VectorXd mean = mean_std.array() * o.st.scale + o.st.mean;
    d.jitter = jobs[g].result.jitter * o.st.scale * o.st.scale;
    if (o.st.scale != 1.0) d.samples *= o.st.scale;
    d.samples.colwise() += mean;
  }
}

void check_inputs(const Inputs& x, const Inputs& pending, const std::vector<ObjectiveGp>& gps, const Inputs& c,
                  const std::vector<Eigen::MatrixXd>& eps) {
  SPARSE_CHECK(!gps.empty(), "no objectives to sample");
  SPARSE_CHECK(eps.size() == gps.size(), "got " << eps.size() << " normal matrices for " << gps.size() << " objectives");
  SPARSE_CHECK(x.size() >= 1, "the GP has no training points");
  for (const Inputs* s : {&pending, &c})
    SPARSE_CHECK(s->num_numeric() == x.num_numeric() && s->num_categorical() == x.num_categorical(),
                 "point sets differ in dimensions: " << s->num_numeric() << "+" << s->num_categorical() << " vs "
                                                     << x.num_numeric() << "+" << x.num_categorical());
  const int size = layout_of(x).size();
  for (size_t k = 0; k < gps.size(); ++k) {
    SPARSE_CHECK(gps[k].y.size() == x.size(), "objective " << k << " has " << gps[k].y.size() << " targets for "
                                                            << x.size() << " inputs");
    SPARSE_CHECK(gps[k].theta.size() == size,
                 "objective " << k << " has " << gps[k].theta.size() << " hyper-parameters, expected " << size);
    SPARSE_CHECK(eps[k].rows() == c.size() && eps[k].cols() >= 1,
                 "normals of objective " << k << " are " << eps[k].rows() << "×" << eps[k].cols() << ", expected "
                                         << c.size() << " × q with q >= 1");
  }
  constexpr long long kIntMax = std::numeric_limits<int>::max();
  SPARSE_CHECK(static_cast<long long>(x.size()) + pending.size() < kIntMax && c.size() < kIntMax,
               "point sets too large for the GPU sampler");
}

}  // namespace

size_t bytes_per_objective(int n, int m, int q) {
  const size_t nn = size_t(n), mm = size_t(m), qq = size_t(q);
  // Σ*, K*, K, the two ε-shaped arrays, vectors; potrf's workspace is small against Σ* (a few MB), counted as
  // one extra column block of Σ*.
  return sizeof(double) * (mm * mm + nn * mm + nn * nn + 2 * mm * qq + 4 * (nn + mm) + 256 * std::max(nn, mm));
}

bool available(int device, std::string* reason) {
  const ::sparse::cuda::DeviceQuery q = ::sparse::cuda::query_devices();
  std::string why;
  if (q.devices.empty()) why = "no usable CUDA device: " + q.unavailable_reason;
  else if (device < 0 || device >= static_cast<int>(q.devices.size()))
    why = "cuda:" + std::to_string(device) + " requested, " + std::to_string(q.devices.size()) + " device(s) present";
  if (reason) *reason = why;
  return why.empty();
}

std::vector<ThompsonDraw> thompson_samples(const Inputs& x, const Inputs& pending, const std::vector<ObjectiveGp>& gps,
                                           const Inputs& c, const std::vector<Eigen::MatrixXd>& eps, int device) {
  check_inputs(x, pending, gps, c, eps);
  std::string why;
  SPARSE_CHECK(available(device, &why), "GPU Thompson sampling on cuda:" << device << ": " << why);
  const Inputs xall = pending.size() > 0 ? concat_inputs(x, pending) : x;
  std::vector<ThompsonDraw> out(gps.size());
  SamplerContext* ctx = nullptr;
  const std::unique_lock<std::mutex> lock = SamplerContext::acquire(device, ctx);
  const DeviceGuard guard(device);
  // Objectives per group: as many as device memory holds (free memory plus what the pool keeps idle).
  int q_max = 1;
  for (const Eigen::MatrixXd& e : eps) q_max = std::max(q_max, int(e.cols()));
  size_t free_bytes = 0, total_bytes = 0;
  CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const size_t usable = static_cast<size_t>(0.9 * double(free_bytes + ctx->pool_idle_bytes()));
  const size_t need = bytes_per_objective(xall.size(), c.size(), q_max);
  const size_t fit = usable / std::max<size_t>(need, 1);
  SPARSE_CHECK(fit >= 1, "GPU Thompson sampling on cuda:" << device << ": out of memory: one objective needs " << need
                                                            << " bytes (" << c.size() << " candidates, " << xall.size()
                                                            << " training points), " << usable << " usable");
  const int per_group = int(std::min<size_t>(fit, gps.size()));
  for (size_t k0 = 0; k0 < gps.size(); k0 += size_t(per_group)) {
    std::vector<int> group;
    for (size_t k = k0; k < std::min(gps.size(), k0 + size_t(per_group)); ++k) group.push_back(int(k));
    run_group(*ctx, x, pending, xall, gps, c, eps, group, out);
  }
  return out;
}

ThompsonDraw thompson_samples(const Inputs& x, const Inputs& pending, const ObjectiveGp& gp, const Inputs& c,
                              const Eigen::MatrixXd& eps, int device) {
  return thompson_samples(x, pending, std::vector<ObjectiveGp>{gp}, c, std::vector<Eigen::MatrixXd>{eps}, device).front();
}

}  // namespace sparse::gp::cuda
