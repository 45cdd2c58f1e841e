// The launch plans of launch_config.hpp: grid and block of every kernel from the op's shapes and the SM count.
// Plain C++ (no CUDA): the CUDA ops execute these plans, the CPU test checks them.
#include "cuda/launch_config.hpp"

#include <algorithm>
#include <initializer_list>

namespace sparse::cuda {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

bool is_plain_1x1(const ConvShape& s) {
  return s.kh == 1 && s.kw == 1 && s.stride == 1 && s.pad_top == 0 && s.pad_left == 0 && s.groups == 1 &&
         s.oh == s.h && s.ow == s.w;
}

Launch as_combine(Launch l) {
  l.role = LaunchRole::combine;
  return l;
}

// Workspace regions of `sizes` bytes each, 256-byte aligned, in order.
void layout(OpPlan& p, std::initializer_list<size_t> sizes) {
  size_t at = 0;
  int r = 0;
  for (size_t s : sizes) {
    p.scratch_at[size_t(r++)] = at;
    at += align256(s);
  }
  p.scratch_bytes = at;
}

// A column reduction over [rows, cols] into `out` slots: partials, plus a combine pass when it has > 1 chunk.
void column_reduction(OpPlan& p, int partials_slot, int combine_slot, const char* partials, const char* combine,
                      int64_t rows, int64_t cols, int sms) {
  if (cols <= 0) return;
  p.k[size_t(partials_slot)] = column_partials(partials, rows, cols, sms);
  if (chunks_of(p.k[size_t(partials_slot)]) > 1)
    p.k[size_t(combine_slot)] = as_combine(grid_stride(combine, cols, sms));
}

// Bytes of a column reduction's partials ([chunks, cols] of elem_bytes); 0 when it has one chunk (no partials).
size_t column_scratch(const OpPlan& p, int partials_slot, int64_t cols, size_t elem_bytes) {
  const Launch& l = p.k[size_t(partials_slot)];
  if (!l || chunks_of(l) <= 1) return 0;
  return size_t(chunks_of(l)) * size_t(cols) * elem_bytes;
}

OpPlan one(const char* kernel, int64_t items, int sms) {
  OpPlan p;
  p.k[kOnly] = grid_stride(kernel, items, sms);
  return p;
}

// A block reduction of `items` terms: per-block partials (double), then one block sums them.
OpPlan block_reduction(const char* partials, int64_t items, int sms) {
  OpPlan p;
  p.k[kKlPartials] = grid_stride(partials, items, sms);
  p.k[kKlPartials].role = LaunchRole::partials;
  const int64_t blocks = p.k[kKlPartials] ? int64_t(p.k[kKlPartials].grid.x) : 0;
  p.k[kKlCombine] = single_block("sum_block_partials", blocks);
  layout(p, {size_t(std::max<int64_t>(blocks, 1)) * sizeof(double)});
  return p;
}

}  // namespace

const char* to_string(LaunchRole r) {
  switch (r) {
    case LaunchRole::parallel: return "parallel";
    case LaunchRole::partials: return "partials";
    case LaunchRole::combine: return "combine";
  }
  return "?";
}

Launch grid_stride(const char* kernel, int64_t items, int sms) {
  Launch l;
  if (items <= 0) return l;
  sms = std::max(sms, 1);
  const int64_t fill = int64_t(kFillBlocksPerSm) * sms;
  const int64_t block = std::clamp<int64_t>(items / fill / kWarp * kWarp, kWarp, kMaxBlockThreads);
  l.kernel = kernel;
  l.block.x = unsigned(block);
  l.grid.x = unsigned(std::min<int64_t>(ceil_div(items, block), int64_t(kMaxBlocksPerSm) * sms));
  l.items = items;
  l.max_blocks = ceil_div(items, kWarp);
  return l;
}

Launch column_partials(const char* kernel, int64_t rows, int64_t cols, int sms) {
  Launch l;
  if (cols <= 0) return l;
  sms = std::max(sms, 1);
  const int64_t col_blocks = ceil_div(cols, kColumnLanes);
  const int64_t max_chunks = std::clamp<int64_t>(ceil_div(std::max<int64_t>(rows, 0), kColumnRows), 1, 65535);
  const int64_t want = ceil_div(int64_t(kFillBlocksPerSm) * sms, col_blocks);
  l.kernel = kernel;
  l.role = LaunchRole::partials;
  l.block = Dim3{unsigned(kColumnLanes), unsigned(kColumnRows), 1};
  l.grid = Dim3{unsigned(col_blocks), unsigned(std::clamp<int64_t>(want, 1, max_chunks)), 1};
  l.items = rows;
  l.max_blocks = col_blocks * max_chunks;
  return l;
}

Launch single_block(const char* kernel, int64_t partials) {
  Launch l;
  l.kernel = kernel;
  l.role = LaunchRole::combine;
  l.block.x = unsigned(kMaxBlockThreads);
  l.items = partials;
  l.max_blocks = 1;
  return l;
}

// ---- convolution and linear ----------------------------------------------------------------------------------

OpPlan plan(const Conv2dForwardArgsT<float>& a, int sms) {
  const ConvShape& s = a.s;
  OpPlan p;
  if (is_plain_1x1(s)) {
    p.cublas = true;
    if (a.bias) p.k[kBroadcastBias] = grid_stride("broadcast_rows", int64_t(s.n) * s.h * s.w * s.c_out, sms);
    return p;
  }
  p.k[kConvForward] = grid_stride("conv_forward", s.y_count(), sms);
  return p;
}

OpPlan plan(const Conv2dBackwardDataArgsT<float>& a, int sms) {
  if (is_plain_1x1(a.s)) {
    OpPlan p;
    p.cublas = true;
    return p;
  }
  return one("conv_backward_data", a.s.x_count(), sms);
}

OpPlan plan(const Conv2dBackwardFilterArgsT<float>& a, int sms) {
  const ConvShape& s = a.s;
  OpPlan p;
  const int64_t positions = int64_t(s.n) * s.oh * s.ow;
  // Columns of the filter gradient: (tap, co) flattened as dw's index, tap = (ky·kw + kx)·cig + ci.
  const int64_t columns = int64_t(s.kh) * s.kw * (s.c_in / std::max(s.groups, 1)) * s.c_out;
  if (is_plain_1x1(s)) p.cublas = true;
  else column_reduction(p, kFilterPartials, kFilterCombine, "conv_filter_partials", "sum_partials", positions, columns, sms);
  if (a.dbias) column_reduction(p, kBiasPartials, kBiasCombine, "column_sum_partials", "sum_partials", positions, s.c_out, sms);
  layout(p, {column_scratch(p, kFilterPartials, columns, sizeof(float)),
             column_scratch(p, kBiasPartials, s.c_out, sizeof(float))});
  return p;
}

OpPlan plan(const LinearForwardArgsT<float>& a, int sms) {
  OpPlan p;
  p.cublas = true;
  if (a.bias) p.k[kBroadcastBias] = grid_stride("broadcast_rows", int64_t(a.n) * a.out, sms);
  return p;
}

OpPlan plan(const LinearBackwardDataArgsT<float>&, int) {
  OpPlan p;
  p.cublas = true;
  return p;
}

OpPlan plan(const LinearBackwardWeightArgsT<float>& a, int sms) {
  OpPlan p;
  p.cublas = true;
  if (a.dbias) column_reduction(p, kBiasPartials, kBiasCombine, "column_sum_partials", "sum_partials", a.n, a.out, sms);
  layout(p, {0, column_scratch(p, kBiasPartials, a.out, sizeof(float))});
  return p;
}

// ---- pooling, batch norm, elementwise ------------------------------------------------------------------------

OpPlan plan(const MaxPoolForwardArgsT<float>& a, int sms) {
  return one("max_pool_forward", int64_t(a.n) * a.oh * a.ow * a.c, sms);
}
OpPlan plan(const MaxPoolBackwardArgsT<float>& a, int sms) {
  return one("max_pool_backward", int64_t(a.n) * a.oh * a.ow * a.c, sms);
}
OpPlan plan(const ChannelMaxForwardArgsT<float>& a, int sms) {
  return one("channel_max_forward", int64_t(a.n) * a.h * a.w, sms);
}

OpPlan plan(const BatchNormForwardArgsT<float>& a, int sms) {
  OpPlan p;
  if (a.c <= 0 || a.rows <= 0) return p;
  if (!a.training) {
    p.k[kBnEval] = grid_stride("batch_norm_eval", a.rows * a.c, sms);
    return p;
  }
  p.k[kBnSumPartials] = column_partials("bn_sum_partials", a.rows, a.c, sms);
  p.k[kBnMean] = as_combine(grid_stride("bn_mean", a.c, sms));
  p.k[kBnSquarePartials] = column_partials("bn_square_partials", a.rows, a.c, sms);
  p.k[kBnStatistics] = as_combine(grid_stride("bn_statistics", a.c, sms));
  p.k[kBnNormalize] = grid_stride("bn_normalize", a.rows * a.c, sms);
  const size_t c = size_t(a.c), chunks = size_t(chunks_of(p.k[kBnSumPartials]));
  layout(p, {chunks * c * sizeof(double), c * sizeof(double), c * sizeof(double)});
  return p;
}

OpPlan plan(const BatchNormBackwardArgsT<float>& a, int sms) {
  OpPlan p;
  if (a.c <= 0) return p;
  p.k[kBnGradPartials] = column_partials("bn_grad_partials", a.rows, a.c, sms);
  p.k[kBnGradCombine] = as_combine(grid_stride("bn_grad_combine", a.c, sms));
  p.k[kBnDx] = grid_stride("bn_dx", a.rows * a.c, sms);
  const size_t c = size_t(a.c), chunks = size_t(chunks_of(p.k[kBnGradPartials]));
  layout(p, {2 * chunks * c * sizeof(double), 2 * c * sizeof(double)});
  return p;
}

OpPlan plan(const ReluForwardArgsT<float>& a, int sms) { return one("relu_forward", a.count, sms); }
OpPlan plan(const ReluBackwardArgsT<float>& a, int sms) { return one("relu_backward", a.count, sms); }

OpPlan plan(const AddForwardArgsT<float>& a, int sms) {
  return one("add_forward", int64_t(a.n) * a.oh * a.ow * a.c, sms);
}
OpPlan plan(const AddBackwardArgsT<float>& a, int sms) {
  OpPlan p;
  if (a.da) p.k[kAddDa] = grid_stride("add_backward_da", int64_t(a.n) * a.oh * a.ow * a.c, sms);
  if (a.db) p.k[kAddDb] = grid_stride("add_backward_db", int64_t(a.n) * a.bh * a.bw * a.c, sms);
  return p;
}
OpPlan plan(const ConcatForwardArgsT<float>& a, int sms) { return one("concat_forward", a.rows * a.c_part, sms); }
OpPlan plan(const ConcatBackwardArgsT<float>& a, int sms) { return one("concat_backward", a.rows * a.c_part, sms); }

OpPlan plan(const SoftmaxCrossEntropyArgsT<float>& a, int sms) {
  OpPlan p;
  p.k[kSoftmaxRows] = grid_stride("softmax_cross_entropy_rows", a.n, sms);
  p.k[kSoftmaxRows].role = LaunchRole::partials;
  p.k[kSoftmaxCombine] = single_block("softmax_cross_entropy_combine", a.n);
  const size_t n = size_t(std::max(a.n, 1));
  layout(p, {n * sizeof(double), n * sizeof(double)});
  return p;
}

OpPlan plan(const SquareForwardArgsT<float>& a, int sms) { return one("square_forward", a.count, sms); }
OpPlan plan(const SquareBackwardArgsT<float>& a, int sms) { return one("square_backward", a.count, sms); }
OpPlan plan(const SpvdVarianceForwardArgsT<float>& a, int sms) { return one("spvd_variance_forward", a.count, sms); }
OpPlan plan(const SpvdVarianceBackwardArgsT<float>& a, int sms) { return one("spvd_variance_backward", a.count, sms); }

// ---- SpVD and BC -----------------------------------------------------------------------------------------------

// One thread per 4 consecutive elements: one Philox call gives their four ε.
OpPlan plan(const LrtSampleForwardArgsT<float>& a, int sms) {
  return one("lrt_sample_forward", (a.count + 3) / 4, sms);
}
OpPlan plan(const LrtSampleBackwardArgsT<float>& a, int sms) { return one("lrt_sample_backward", a.count, sms); }
OpPlan plan(const LogAlphaArgsT<float>& a, int sms) { return one("log_alpha", a.count, sms); }
OpPlan plan(const SpvdKlForwardArgsT<float>& a, int sms) { return block_reduction("spvd_kl_partials", a.count, sms); }
OpPlan plan(const SpvdKlBackwardArgsT<float>& a, int sms) { return one("spvd_kl_backward", a.count, sms); }
OpPlan plan(const BcSampleZForwardArgsT<float>& a, int sms) {
  return one("bc_sample_z_forward", int64_t(a.n) * a.groups, sms);
}
// One thread per group: Σ over the batch in the reference's order.
OpPlan plan(const BcSampleZBackwardArgsT<float>& a, int sms) { return one("bc_sample_z_backward", a.groups, sms); }
OpPlan plan(const ScaleGroupsForwardArgsT<float>& a, int sms) {
  return one("scale_groups_forward", int64_t(a.n) * a.pixels * a.groups, sms);
}
// One thread per (example, group): Σ over pixels in the reference's order (bit-identical dz).
OpPlan plan(const ScaleGroupsBackwardArgsT<float>& a, int sms) {
  return one("scale_groups_backward", int64_t(a.n) * a.groups, sms);
}
OpPlan plan(const BcEpilogueForwardArgsT<float>& a, int sms) {
  return one("bc_epilogue_forward", int64_t(a.n) * a.pixels * a.groups, sms);
}
OpPlan plan(const BcEpilogueBackwardArgsT<float>& a, int sms) {
  return one("bc_epilogue_backward", int64_t(a.n) * a.groups, sms);
}
OpPlan plan(const BcKlForwardArgsT<float>& a, int sms) {
  return block_reduction("bc_kl_partials", a.groups + a.weights, sms);
}
OpPlan plan(const BcKlBackwardArgsT<float>& a, int sms) { return one("bc_kl_backward", a.groups + a.weights, sms); }
OpPlan plan(const AdamArgsT<float>& a, int sms) { return one("adam", a.count, sms); }
OpPlan plan(const PruneMaskArgsT<float>& a, int sms) { return one("prune_mask", a.count, sms); }

// ---- gp/cuda ---------------------------------------------------------------------------------------------------

Launch gp_kernel_matrix(int64_t rows, int64_t cols) {
  Launch l;
  if (rows <= 0 || cols <= 0) return l;
  l.kernel = "kernel_matrix_tiles";
  l.block = Dim3{unsigned(kGpTile), unsigned(kGpTile), 1};
  l.grid = Dim3{unsigned(ceil_div(rows, kGpTile)), unsigned(ceil_div(cols, kGpTile)), 1};
  l.items = rows * cols;
  l.max_blocks = int64_t(l.grid.count());
  return l;
}

Launch gp_triangle_copy(int64_t n) {
  Launch l;
  if (n <= 0) return l;
  const unsigned t = unsigned(ceil_div(n, kGpTriangleTile));
  l.kernel = "triangle_copy";
  l.block = Dim3{unsigned(kGpTriangleTile), unsigned(kGpTriangleRows), 1};
  l.grid = Dim3{t, t, 1};
  l.items = n * n;
  l.max_blocks = int64_t(l.grid.count());
  return l;
}

Launch gp_diagonal(const char* kernel, int64_t n, int sms) { return grid_stride(kernel, n, sms); }

}  // namespace sparse::cuda
