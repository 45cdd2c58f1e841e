// Convolution and linear layers of the CPU backend through Eigen's GEMM kernel on row-major matrices (NHWC
// activations, HWIO weights viewed as a [kh·kw·c_in/groups, c_out] matrix, linear weights [in, out]).
// Invariants: one GEMM per chunk of images and group (im2col of at most kColBudget floats, L2-resident, built
// transposed when a group has fewer than 4 input channels), never per pixel; each thread writes only its own
// images of y/dx and its own scratch; backward-filter partial sums are reduced in thread order into dw; nothing
// is allocated once the scratch (im2col, partials, GEMM packing buffers) has grown to the largest layer.
#include "host/cpu/eigen.hpp"  // first: Eigen in the backend's private namespace

#include <algorithm>
#include <cstring>

#include "host/cpu/gemm_ops.hpp"

namespace sparse::cpu {
namespace {

using Index = Eigen::Index;

// Eigen's GEMM blocking with its packed panels in the thread's scratch instead of Eigen's own heap or stack
// buffers (Eigen allocates panels above 128 KB on the heap for every product).
class ScratchBlocking : public Eigen::internal::level3_blocking<float, float> {
 public:
  // For C [m, n] row-major, Eigen computes the column-major Cᵀ [n, m]: its lhs panel runs along n.
  ScratchBlocking(Index m, Index n, Index k, ThreadScratch& ws) {
    m_mc = n;
    m_nc = m;
    m_kc = k;
    Eigen::internal::computeProductBlockingSizes<float, float, 1>(m_kc, m_mc, m_nc, Index(1));
    m_blockA = ws.pack_a.get(size_t(m_mc * m_kc));
    m_blockB = ws.pack_b.get(size_t(m_kc * m_nc));
  }
};

template <int AOrder, int BOrder>
void gemm_kernel(Index m, Index n, Index k, const float* a, Index lda, const float* b, Index ldb, float* c, Index ldc,
                 ThreadScratch& ws) {
  ScratchBlocking blocking(m, n, k, ws);
  Eigen::internal::general_matrix_matrix_product<Index, float, AOrder, false, float, BOrder, false, Eigen::RowMajor,
                                                 1>::run(m, n, k, a, lda, b, ldb, c, 1, ldc, 1.0f, blocking, nullptr);
}

// C [m, n] (+)= op(A)·op(B), all row-major with leading dimensions: op(A) is A [m, k], or Aᵀ for A [k, m] when
// trans_a; op(B) is B [k, n], or Bᵀ for B [n, k] when trans_b.
void gemm(ThreadScratch& ws, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool trans_a,
          const float* b, int64_t ldb, bool trans_b, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (!accumulate)
    for (int64_t r = 0; r < m; ++r) std::fill(c + r * ldc, c + r * ldc + n, 0.0f);
  if (k <= 0) return;
  // A transposed row-major [k, m] is A column-major [m, k] with the same leading dimension.
  constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;
  if (!trans_a && !trans_b) gemm_kernel<R, R>(m, n, k, a, lda, b, ldb, c, ldc, ws);
  else if (!trans_a && trans_b) gemm_kernel<R, C>(m, n, k, a, lda, b, ldb, c, ldc, ws);
  else if (trans_a && !trans_b) gemm_kernel<C, R>(m, n, k, a, lda, b, ldb, c, ldc, ws);
  else gemm_kernel<C, C>(m, n, k, a, lda, b, ldb, c, ldc, ws);
}

// Short copies for im2col, whose rows are often a few floats (5 for a 5×5 conv on one channel): a jump to a
// constant-size memcpy (inlined as one or two vector moves) instead of a library call per row.
template <int N>
void copy_n(float* dst, const float* src) {
  std::memcpy(dst, src, N * sizeof(float));
}
void copy_floats(float* dst, const float* src, int64_t n) {
  switch (n) {
#define SPARSE_COPY_CASE(k) \
  case k:                   \
    return copy_n<k>(dst, src);
    SPARSE_COPY_CASE(1) SPARSE_COPY_CASE(2) SPARSE_COPY_CASE(3) SPARSE_COPY_CASE(4) SPARSE_COPY_CASE(5)
    SPARSE_COPY_CASE(6) SPARSE_COPY_CASE(7) SPARSE_COPY_CASE(8) SPARSE_COPY_CASE(9) SPARSE_COPY_CASE(10)
    SPARSE_COPY_CASE(11) SPARSE_COPY_CASE(12) SPARSE_COPY_CASE(13) SPARSE_COPY_CASE(14) SPARSE_COPY_CASE(15)
    SPARSE_COPY_CASE(16)
#undef SPARSE_COPY_CASE
    default:
      std::memcpy(dst, src, size_t(n) * sizeof(float));
  }
}
void zero_floats(float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f;
}
void add_floats(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}
// Every row of y [rows, c] set to bias [c].
void fill_rows(float* y, int64_t rows, int c, const float* bias) {
  for (int64_t r = 0; r < rows; ++r)
    for (int j = 0; j < c; ++j) y[r * c + j] = bias[j];
}

constexpr int64_t kColBudget = 96 * 1024;  // floats of im2col columns per GEMM (384 KB)
constexpr double kGemmGrain = 4e5;         // flops below which a second thread costs more than it saves
constexpr double kDirectGrain = 1e5;       // same for the direct depthwise loops

int group_in(const ConvShape& s) { return s.c_in / s.groups; }
int group_out(const ConvShape& s) { return s.c_out / s.groups; }
int64_t pixels_out(const ConvShape& s) { return int64_t(s.oh) * s.ow; }
int64_t pixels_in(const ConvShape& s) { return int64_t(s.h) * s.w; }
// Row length of the im2col matrix: (ky, kx, ci) of one group, the row order of the HWIO weights.
int64_t col_width(const ConvShape& s) { return int64_t(s.kh) * s.kw * group_in(s); }
bool is_depthwise(const ConvShape& s) { return s.groups > 1 && s.groups == s.c_in; }
// A 1×1 stride-1 unpadded conv is the GEMM [n·h·w, c_in]·[c_in, c_out] on the activations themselves.
bool is_pointwise(const ConvShape& s) {
  return s.kh == 1 && s.kw == 1 && s.stride == 1 && s.pad_top == 0 && s.pad_left == 0 && s.groups == 1 &&
         s.oh == s.h && s.ow == s.w;
}
// Images per im2col chunk.
int64_t images_per_chunk(const ConvShape& s) {
  return std::max<int64_t>(1, kColBudget / std::max<int64_t>(1, pixels_out(s) * col_width(s)));
}
double conv_flops(const ConvShape& s) { return 2.0 * double(s.y_count()) * double(col_width(s)); }

// col[(i·oh + oy)·ow + ox, (ky·kw + kx)·cig + ci] = x[img0 + i, iy, ix, g·cig + ci] (0 outside the input),
// for i < cnt: col is [cnt·oh·ow, kh·kw·cig].
void im2col(const ConvShape& s, const float* x, int64_t img0, int64_t cnt, int g, float* col) {
  const int cig = group_in(s);
  const int64_t width = col_width(s), row_len = int64_t(s.kw) * cig;
  for (int64_t i = 0; i < cnt; ++i) {
    const float* xi = x + (img0 + i) * pixels_in(s) * s.c_in + int64_t(g) * cig;
    for (int oy = 0; oy < s.oh; ++oy) {
      const int iy0 = oy * s.stride - s.pad_top;
      for (int ox = 0; ox < s.ow; ++ox) {
        const int ix0 = ox * s.stride - s.pad_left;
        float* dst = col + ((i * s.oh + oy) * s.ow + ox) * width;
        for (int ky = 0; ky < s.kh; ++ky, dst += row_len) {
          const int iy = iy0 + ky;
          if (iy < 0 || iy >= s.h) {
            zero_floats(dst, row_len);
            continue;
          }
          const float* row = xi + int64_t(iy) * s.w * s.c_in;
          if (s.groups == 1 && ix0 >= 0 && ix0 + s.kw <= s.w) {  // kw whole pixels, contiguous in NHWC
            copy_floats(dst, row + int64_t(ix0) * s.c_in, row_len);
            continue;
          }
          for (int kx = 0; kx < s.kw; ++kx) {
            const int ix = ix0 + kx;
            if (ix < 0 || ix >= s.w) zero_floats(dst + int64_t(kx) * cig, cig);
            else copy_floats(dst + int64_t(kx) * cig, row + int64_t(ix) * s.c_in, cig);
          }
        }
      }
    }
  }
}

// The adjoint of im2col: dx[img0 + i, iy, ix, g·cig + ci] += dcol[...] over every column entry reading it.
void col2im_add(const ConvShape& s, const float* dcol, int64_t img0, int64_t cnt, int g, float* dx) {
  const int cig = group_in(s);
  const int64_t width = col_width(s), row_len = int64_t(s.kw) * cig;
  for (int64_t i = 0; i < cnt; ++i) {
    float* dxi = dx + (img0 + i) * pixels_in(s) * s.c_in + int64_t(g) * cig;
    for (int oy = 0; oy < s.oh; ++oy) {
      const int iy0 = oy * s.stride - s.pad_top;
      for (int ox = 0; ox < s.ow; ++ox) {
        const int ix0 = ox * s.stride - s.pad_left;
        const float* src = dcol + ((i * s.oh + oy) * s.ow + ox) * width;
        for (int ky = 0; ky < s.kh; ++ky, src += row_len) {
          const int iy = iy0 + ky;
          if (iy < 0 || iy >= s.h) continue;
          float* row = dxi + int64_t(iy) * s.w * s.c_in;
          if (s.groups == 1 && ix0 >= 0 && ix0 + s.kw <= s.w) {
            add_floats(row + int64_t(ix0) * s.c_in, src, row_len);
            continue;
          }
          for (int kx = 0; kx < s.kw; ++kx) {
            const int ix = ix0 + kx;
            if (ix >= 0 && ix < s.w) add_floats(row + int64_t(ix) * s.c_in, src + int64_t(kx) * cig, cig);
          }
        }
      }
    }
  }
}

// Few input channels per group (the input layer): the columns are built transposed, colT [kh·kw·cig, rows]
// with rows = cnt·oh·ow, so each (k, output row) is one run of ow floats instead of ow runs of kw·cig floats.
bool use_transposed_cols(const ConvShape& s) { return group_in(s) < 4; }

// Output columns [lo, hi) of one kernel column kx whose input column ix = ox·stride − pad_left + kx is inside.
void valid_ox(const ConvShape& s, int kx, int* lo, int* hi) {
  const int first = s.pad_left - kx;  // ox·stride >= first
  *lo = first <= 0 ? 0 : (first + s.stride - 1) / s.stride;
  const int last = s.w - 1 + s.pad_left - kx;  // ox·stride <= last
  *hi = last < 0 ? 0 : std::min(s.ow, last / s.stride + 1);
  *lo = std::min(*lo, *hi);
}

// colT[(ky·kw + kx)·cig + ci, (i·oh + oy)·ow + ox] = x[img0 + i, iy, ix, g·cig + ci] (0 outside the input).
void im2col_transposed(const ConvShape& s, const float* x, int64_t img0, int64_t cnt, int g, float* colT) {
  const int cig = group_in(s);
  const int64_t rows = cnt * pixels_out(s);
  for (int ky = 0; ky < s.kh; ++ky)
    for (int kx = 0; kx < s.kw; ++kx) {
      int lo, hi;
      valid_ox(s, kx, &lo, &hi);
      for (int ci = 0; ci < cig; ++ci) {
        float* dk = colT + ((int64_t(ky) * s.kw + kx) * cig + ci) * rows;
        for (int64_t i = 0; i < cnt; ++i) {
          const float* xi = x + (img0 + i) * pixels_in(s) * s.c_in + int64_t(g) * cig + ci;
          for (int oy = 0; oy < s.oh; ++oy) {
            float* d = dk + (i * s.oh + oy) * s.ow;
            const int iy = oy * s.stride - s.pad_top + ky;
            if (iy < 0 || iy >= s.h) {
              zero_floats(d, s.ow);
              continue;
            }
            const float* row = xi + int64_t(iy) * s.w * s.c_in;
            zero_floats(d, lo);
            zero_floats(d + hi, s.ow - hi);
            const int64_t step = int64_t(s.stride) * s.c_in;
            const float* src = row + (int64_t(lo) * s.stride - s.pad_left + kx) * s.c_in;
            if (step == 1) {
              std::memcpy(d + lo, src, sizeof(float) * size_t(hi - lo));
            } else {
              for (int ox = lo; ox < hi; ++ox) d[ox] = src[int64_t(ox - lo) * step];
            }
          }
        }
      }
    }
}

// The adjoint of im2col_transposed: dx[...] += dcolT[k, row] over every entry reading it.
void col2im_transposed_add(const ConvShape& s, const float* dcolT, int64_t img0, int64_t cnt, int g, float* dx) {
  const int cig = group_in(s);
  const int64_t rows = cnt * pixels_out(s);
  for (int ky = 0; ky < s.kh; ++ky)
    for (int kx = 0; kx < s.kw; ++kx) {
      int lo, hi;
      valid_ox(s, kx, &lo, &hi);
      for (int ci = 0; ci < cig; ++ci) {
        const float* dk = dcolT + ((int64_t(ky) * s.kw + kx) * cig + ci) * rows;
        for (int64_t i = 0; i < cnt; ++i) {
          float* dxi = dx + (img0 + i) * pixels_in(s) * s.c_in + int64_t(g) * cig + ci;
          for (int oy = 0; oy < s.oh; ++oy) {
            const int iy = oy * s.stride - s.pad_top + ky;
            if (iy < 0 || iy >= s.h) continue;
            const float* d = dk + (i * s.oh + oy) * s.ow;
            float* dst = dxi + (int64_t(iy) * s.w + int64_t(lo) * s.stride - s.pad_left + kx) * s.c_in;
            const int64_t step = int64_t(s.stride) * s.c_in;
            for (int ox = lo; ox < hi; ++ox) dst[int64_t(ox - lo) * step] += d[ox];
          }
        }
      }
    }
}

// Sum of the rows of dy [rows, c] added into acc [c], 16 columns at a time in registers.
void add_row_sums(const float* dy, int64_t rows, int c, float* acc) {
  for (int j0 = 0; j0 < c; j0 += 16) {
    float sum[16] = {0};
    if (c - j0 >= 16) {
      for (int64_t r = 0; r < rows; ++r) {
        const float* d = dy + r * c + j0;
        for (int j = 0; j < 16; ++j) sum[j] += d[j];
      }
    } else {
      const int jn = c - j0;
      for (int64_t r = 0; r < rows; ++r) {
        const float* d = dy + r * c + j0;
        for (int j = 0; j < jn; ++j) sum[j] += d[j];
      }
    }
    for (int j = 0; j < std::min(16, c - j0); ++j) acc[j0 + j] += sum[j];
  }
}

// dw (+)= Σ_t partial_t for the `used` per-thread partials of `count` floats.
void reduce_partials(Team& team, int used, int64_t count, float* dst, bool accumulate, int64_t offset) {
  for (int64_t j = 0; j < count; ++j) {
    float acc = accumulate ? dst[j] : 0.0f;
    for (int t = 0; t < used; ++t) acc += team.scratch(t).partial.data()[offset + j];
    dst[j] = acc;
  }
}

// ---- depthwise (groups == c_in, multiplier m = c_out / c_in): direct loops, vectorized over channels ------

// Channel block of the m = 1 depthwise loops: local accumulators the compiler keeps in vector registers.
constexpr int kDwBlock = 16;

// Valid kernel taps [k0, k1) of output coordinate o: input o·stride − pad + k inside [0, size).
inline void tap_range(int o, int stride, int pad, int k, int size, int& k0, int& k1) {
  const int base = o * stride - pad;
  k0 = std::max(0, -base);
  k1 = std::min(k, size - base);
}

// m = 1 depthwise forward: y[n, oy, ox, c] = b[c] + Σ_{ky,kx} x[n, iy, ix, c]·w[ky, kx, c].
// CB > 0: every channel block has exactly CB channels (C % CB == 0), a compile-time trip count.
template <int CB>
void depthwise_forward_m1_impl(Team& team, const Conv2dForwardArgsT<float>& a) {
  const ConvShape& s = a.s;
  const int C = s.c_out;
  team.run(s.n, team.chunks_for(conv_flops(s), kDirectGrain), [&](int, int64_t b0, int64_t b1) {
    for (int64_t n = b0; n < b1; ++n) {
      const float* __restrict xn = a.x + n * pixels_in(s) * C;
      for (int oy = 0; oy < s.oh; ++oy) {
        int ky0, ky1;
        tap_range(oy, s.stride, s.pad_top, s.kh, s.h, ky0, ky1);
        for (int ox = 0; ox < s.ow; ++ox) {
          int kx0, kx1;
          tap_range(ox, s.stride, s.pad_left, s.kw, s.w, kx0, kx1);
          float* __restrict yp = a.y + ((n * s.oh + oy) * s.ow + ox) * C;
          for (int c0 = 0; c0 < C; c0 += (CB > 0 ? CB : kDwBlock)) {
            const int cb = CB > 0 ? CB : std::min(kDwBlock, C - c0);
            float acc[kDwBlock];
            for (int c = 0; c < cb; ++c) acc[c] = a.bias ? a.bias[c0 + c] : 0.0f;
            for (int ky = ky0; ky < ky1; ++ky) {
              const int iy = oy * s.stride - s.pad_top + ky;
              for (int kx = kx0; kx < kx1; ++kx) {
                const int ix = ox * s.stride - s.pad_left + kx;
                const float* __restrict xp = xn + (int64_t(iy) * s.w + ix) * C + c0;
                const float* __restrict wp = a.w + (int64_t(ky) * s.kw + kx) * C + c0;
                for (int c = 0; c < cb; ++c) acc[c] += xp[c] * wp[c];
              }
            }
            for (int c = 0; c < cb; ++c) yp[c0 + c] = acc[c];
          }
        }
      }
    }
  });
}

// m = 1 depthwise data gradient in gather form: dx[n, iy, ix, c] (+)= Σ dy[n, oy, ox, c]·w[ky, kx, c] over the
// taps with iy = oy·stride − pad_top + ky (and the same for x).
// CB > 0: every channel block has exactly CB channels (C % CB == 0), a compile-time trip count.
template <int CB>
void depthwise_backward_data_m1_impl(Team& team, const Conv2dBackwardDataArgsT<float>& a) {
  const ConvShape& s = a.s;
  const int C = s.c_in;
  team.run(s.n, team.chunks_for(conv_flops(s), kDirectGrain), [&](int, int64_t b0, int64_t b1) {
    for (int64_t n = b0; n < b1; ++n) {
      const float* __restrict dyn = a.dy + n * pixels_out(s) * C;
      for (int iy = 0; iy < s.h; ++iy)
        for (int ix = 0; ix < s.w; ++ix) {
          float* __restrict dxp = a.dx + ((n * s.h + iy) * s.w + ix) * C;
          for (int c0 = 0; c0 < C; c0 += (CB > 0 ? CB : kDwBlock)) {
            const int cb = CB > 0 ? CB : std::min(kDwBlock, C - c0);
            float acc[kDwBlock];
            for (int c = 0; c < cb; ++c) acc[c] = 0.0f;
            for (int ky = 0; ky < s.kh; ++ky) {
              const int ty = iy + s.pad_top - ky;
              if (ty < 0 || (s.stride > 1 && ty % s.stride)) continue;
              const int oy = s.stride > 1 ? ty / s.stride : ty;
              if (oy >= s.oh) continue;
              for (int kx = 0; kx < s.kw; ++kx) {
                const int tx = ix + s.pad_left - kx;
                if (tx < 0 || (s.stride > 1 && tx % s.stride)) continue;
                const int ox = s.stride > 1 ? tx / s.stride : tx;
                if (ox >= s.ow) continue;
                const float* __restrict dyp = dyn + (int64_t(oy) * s.ow + ox) * C + c0;
                const float* __restrict wp = a.w + (int64_t(ky) * s.kw + kx) * C + c0;
                for (int c = 0; c < cb; ++c) acc[c] += dyp[c] * wp[c];
              }
            }
            if (a.accumulate) {
              for (int c = 0; c < cb; ++c) dxp[c0 + c] += acc[c];
            } else {
              for (int c = 0; c < cb; ++c) dxp[c0 + c] = acc[c];
            }
          }
        }
    }
  });
}

// m = 1 depthwise filter gradient: per tap, dw[ky, kx, c] += Σ_{n, oy, ox} x[n, iy, ix, c]·dy[n, oy, ox, c]
// (per-thread partials, reduced in thread order as in the other backward-filter paths).
// CB > 0: every channel block has exactly CB channels (C % CB == 0), a compile-time trip count.
template <int CB>
void depthwise_backward_filter_m1_impl(Team& team, const Conv2dBackwardFilterArgsT<float>& a) {
  const ConvShape& s = a.s;
  const int C = s.c_out;
  const int64_t wcount = s.weight_count();  // [kh, kw, 1, c_out]
  const int used = team.run(s.n, team.chunks_for(conv_flops(s), kDirectGrain), [&](int t, int64_t b0, int64_t b1) {
    float* dwp = team.scratch(t).partial.get(size_t(wcount + C));
    float* dbp = dwp + wcount;
    std::fill(dwp, dwp + wcount + C, 0.0f);
    for (int64_t n = b0; n < b1; ++n) {
      const float* __restrict xn = a.x + n * pixels_in(s) * C;
      const float* __restrict dyn = a.dy + n * pixels_out(s) * C;
      for (int64_t p = 0; p < pixels_out(s); ++p)
        for (int c = 0; c < C; ++c) dbp[c] += dyn[p * C + c];
      for (int ky = 0; ky < s.kh; ++ky)
        for (int kx = 0; kx < s.kw; ++kx)
          for (int c0 = 0; c0 < C; c0 += (CB > 0 ? CB : kDwBlock)) {
            const int cb = CB > 0 ? CB : std::min(kDwBlock, C - c0);
            float acc[kDwBlock];
            for (int c = 0; c < cb; ++c) acc[c] = 0.0f;
            for (int oy = 0; oy < s.oh; ++oy) {
              const int iy = oy * s.stride - s.pad_top + ky;
              if (iy < 0 || iy >= s.h) continue;
              for (int ox = 0; ox < s.ow; ++ox) {
                const int ix = ox * s.stride - s.pad_left + kx;
                if (ix < 0 || ix >= s.w) continue;
                const float* __restrict xp = xn + (int64_t(iy) * s.w + ix) * C + c0;
                const float* __restrict dyp = dyn + (int64_t(oy) * s.ow + ox) * C + c0;
                for (int c = 0; c < cb; ++c) acc[c] += xp[c] * dyp[c];
              }
            }
            float* wp = dwp + (int64_t(ky) * s.kw + kx) * C + c0;
            for (int c = 0; c < cb; ++c) wp[c] += acc[c];
          }
    }
  });
  reduce_partials(team, used, wcount, a.dw, a.accumulate, 0);
  if (a.dbias) reduce_partials(team, used, C, a.dbias, a.accumulate, wcount);
}

// Channel-block dispatch of the m = 1 depthwise loops.
template <class Args, class F16, class F8, class F0>
void dw_dispatch(int C, F16 f16, F8 f8, F0 f0) {
  if (C % 16 == 0) f16();
  else if (C % 8 == 0) f8();
  else f0();
}
void depthwise_forward_m1(Team& team, const Conv2dForwardArgsT<float>& a) {
  dw_dispatch<int>(a.s.c_out, [&] { depthwise_forward_m1_impl<16>(team, a); }, [&] { depthwise_forward_m1_impl<8>(team, a); },
                   [&] { depthwise_forward_m1_impl<0>(team, a); });
}
void depthwise_backward_data_m1(Team& team, const Conv2dBackwardDataArgsT<float>& a) {
  dw_dispatch<int>(a.s.c_in, [&] { depthwise_backward_data_m1_impl<16>(team, a); },
                   [&] { depthwise_backward_data_m1_impl<8>(team, a); }, [&] { depthwise_backward_data_m1_impl<0>(team, a); });
}
void depthwise_backward_filter_m1(Team& team, const Conv2dBackwardFilterArgsT<float>& a) {
  dw_dispatch<int>(a.s.c_out, [&] { depthwise_backward_filter_m1_impl<16>(team, a); },
                   [&] { depthwise_backward_filter_m1_impl<8>(team, a); },
                   [&] { depthwise_backward_filter_m1_impl<0>(team, a); });
}

void depthwise_forward(Team& team, const Conv2dForwardArgsT<float>& a) {
  const ConvShape& s = a.s;
  const int m = group_out(s);
  if (m == 1) return depthwise_forward_m1(team, a);
  team.run(s.n, team.chunks_for(conv_flops(s), kDirectGrain), [&](int, int64_t b0, int64_t b1) {
    for (int64_t n = b0; n < b1; ++n) {
      const float* xn = a.x + n * pixels_in(s) * s.c_in;
      for (int oy = 0; oy < s.oh; ++oy)
        for (int ox = 0; ox < s.ow; ++ox) {
          float* yp = a.y + ((n * s.oh + oy) * s.ow + ox) * s.c_out;
          for (int co = 0; co < s.c_out; ++co) yp[co] = a.bias ? a.bias[co] : 0.0f;
          for (int ky = 0; ky < s.kh; ++ky) {
            const int iy = oy * s.stride - s.pad_top + ky;
            if (iy < 0 || iy >= s.h) continue;
            for (int kx = 0; kx < s.kw; ++kx) {
              const int ix = ox * s.stride - s.pad_left + kx;
              if (ix < 0 || ix >= s.w) continue;
              const float* xp = xn + (int64_t(iy) * s.w + ix) * s.c_in;
              const float* wp = a.w + (int64_t(ky) * s.kw + kx) * s.c_out;
              if (m == 1) {
                for (int c = 0; c < s.c_out; ++c) yp[c] += xp[c] * wp[c];
              } else {
                for (int ci = 0; ci < s.c_in; ++ci)
                  for (int j = 0; j < m; ++j) yp[ci * m + j] += xp[ci] * wp[ci * m + j];
              }
            }
          }
        }
    }
  });
}

void depthwise_backward_data(Team& team, const Conv2dBackwardDataArgsT<float>& a) {
  const ConvShape& s = a.s;
  const int m = group_out(s);
  if (m == 1) return depthwise_backward_data_m1(team, a);
  team.run(s.n, team.chunks_for(conv_flops(s), kDirectGrain), [&](int, int64_t b0, int64_t b1) {
    if (!a.accumulate) std::fill(a.dx + b0 * pixels_in(s) * s.c_in, a.dx + b1 * pixels_in(s) * s.c_in, 0.0f);
    for (int64_t n = b0; n < b1; ++n) {
      float* dxn = a.dx + n * pixels_in(s) * s.c_in;
      for (int oy = 0; oy < s.oh; ++oy)
        for (int ox = 0; ox < s.ow; ++ox) {
          const float* dyp = a.dy + ((n * s.oh + oy) * s.ow + ox) * s.c_out;
          for (int ky = 0; ky < s.kh; ++ky) {
            const int iy = oy * s.stride - s.pad_top + ky;
            if (iy < 0 || iy >= s.h) continue;
            for (int kx = 0; kx < s.kw; ++kx) {
              const int ix = ox * s.stride - s.pad_left + kx;
              if (ix < 0 || ix >= s.w) continue;
              float* dxp = dxn + (int64_t(iy) * s.w + ix) * s.c_in;
              const float* wp = a.w + (int64_t(ky) * s.kw + kx) * s.c_out;
              if (m == 1) {
                for (int c = 0; c < s.c_in; ++c) dxp[c] += dyp[c] * wp[c];
              } else {
                for (int ci = 0; ci < s.c_in; ++ci) {
                  float acc = 0.0f;
                  for (int j = 0; j < m; ++j) acc += dyp[ci * m + j] * wp[ci * m + j];
                  dxp[ci] += acc;
                }
              }
            }
          }
        }
    }
  });
}

void depthwise_backward_filter(Team& team, const Conv2dBackwardFilterArgsT<float>& a) {
  const ConvShape& s = a.s;
  const int m = group_out(s);
  if (m == 1) return depthwise_backward_filter_m1(team, a);
  const int64_t wcount = s.weight_count();  // [kh, kw, 1, c_out]
  const int used = team.run(s.n, team.chunks_for(conv_flops(s), kDirectGrain), [&](int t, int64_t b0, int64_t b1) {
    float* dwp = team.scratch(t).partial.get(size_t(wcount + s.c_out));
    float* dbp = dwp + wcount;
    std::fill(dwp, dwp + wcount + s.c_out, 0.0f);
    for (int64_t n = b0; n < b1; ++n) {
      const float* xn = a.x + n * pixels_in(s) * s.c_in;
      for (int oy = 0; oy < s.oh; ++oy)
        for (int ox = 0; ox < s.ow; ++ox) {
          const float* dyp = a.dy + ((n * s.oh + oy) * s.ow + ox) * s.c_out;
          for (int c = 0; c < s.c_out; ++c) dbp[c] += dyp[c];
          for (int ky = 0; ky < s.kh; ++ky) {
            const int iy = oy * s.stride - s.pad_top + ky;
            if (iy < 0 || iy >= s.h) continue;
            for (int kx = 0; kx < s.kw; ++kx) {
              const int ix = ox * s.stride - s.pad_left + kx;
              if (ix < 0 || ix >= s.w) continue;
              const float* xp = xn + (int64_t(iy) * s.w + ix) * s.c_in;
              float* wp = dwp + (int64_t(ky) * s.kw + kx) * s.c_out;
              if (m == 1) {
                for (int c = 0; c < s.c_out; ++c) wp[c] += xp[c] * dyp[c];
              } else {
                for (int ci = 0; ci < s.c_in; ++ci)
                  for (int j = 0; j < m; ++j) wp[ci * m + j] += xp[ci] * dyp[ci * m + j];
              }
            }
          }
        }
    }
  });
  reduce_partials(team, used, wcount, a.dw, a.accumulate, 0);
  if (a.dbias) reduce_partials(team, used, s.c_out, a.dbias, a.accumulate, wcount);
}

}  // namespace

// ---- convolution -----------------------------------------------------------------------------------------

void conv2d_forward(Team& team, const Conv2dForwardArgsT<float>& a) {
  const ConvShape& s = a.s;
  if (is_depthwise(s)) return depthwise_forward(team, a);
  const int chunks = team.chunks_for(conv_flops(s), kGemmGrain);
  if (is_pointwise(s)) {  // y [rows, c_out] = x [rows, c_in]·w [c_in, c_out] (+ bias)
    team.run(int64_t(s.n) * pixels_in(s), chunks, [&](int t, int64_t r0, int64_t r1) {
      float* y = a.y + r0 * s.c_out;
      if (a.bias) fill_rows(y, r1 - r0, s.c_out, a.bias);
      gemm(team.scratch(t), r1 - r0, s.c_out, s.c_in, a.x + r0 * s.c_in, s.c_in, false, a.w, s.c_out, false, y,
           s.c_out, a.bias != nullptr);
    });
    return;
  }
  const int cog = group_out(s);
  const int64_t width = col_width(s), per_image = pixels_out(s) * width, nb = images_per_chunk(s);
  const bool transposed = use_transposed_cols(s);
  team.run(s.n, chunks, [&](int t, int64_t b0, int64_t b1) {
    ThreadScratch& ws = team.scratch(t);
    float* col = ws.col.get(size_t(std::min(nb, std::max<int64_t>(b1 - b0, 1)) * per_image));
    for (int64_t i0 = b0; i0 < b1; i0 += nb) {
      const int64_t cnt = std::min(nb, b1 - i0), rows = cnt * pixels_out(s);
      float* y0 = a.y + i0 * pixels_out(s) * s.c_out;
      if (a.bias) fill_rows(y0, rows, s.c_out, a.bias);
      for (int g = 0; g < s.groups; ++g) {
        // y_g [rows, cog] (+)= col [rows, width]·w_g [width, cog] (col stored transposed: colT [width, rows]).
        const float* wg = a.w + int64_t(g) * cog;
        float* yg = y0 + int64_t(g) * cog;
        if (transposed) {
          im2col_transposed(s, a.x, i0, cnt, g, col);
          gemm(ws, rows, cog, width, col, rows, true, wg, s.c_out, false, yg, s.c_out, a.bias != nullptr);
        } else {
          im2col(s, a.x, i0, cnt, g, col);
          gemm(ws, rows, cog, width, col, width, false, wg, s.c_out, false, yg, s.c_out, a.bias != nullptr);
        }
      }
    }
  });
}

void conv2d_backward_data(Team& team, const Conv2dBackwardDataArgsT<float>& a) {
  const ConvShape& s = a.s;
  if (is_depthwise(s)) return depthwise_backward_data(team, a);
  const int chunks = team.chunks_for(conv_flops(s), kGemmGrain);
  if (is_pointwise(s)) {  // dx [rows, c_in] (+)= dy [rows, c_out]·wᵀ
    team.run(int64_t(s.n) * pixels_in(s), chunks, [&](int t, int64_t r0, int64_t r1) {
      gemm(team.scratch(t), r1 - r0, s.c_in, s.c_out, a.dy + r0 * s.c_out, s.c_out, false, a.w, s.c_out, true,
           a.dx + r0 * s.c_in, s.c_in, a.accumulate);
    });
    return;
  }
  const int cog = group_out(s);
  const int64_t width = col_width(s), per_image = pixels_out(s) * width, nb = images_per_chunk(s);
  const bool transposed = use_transposed_cols(s);
  team.run(s.n, chunks, [&](int t, int64_t b0, int64_t b1) {
    ThreadScratch& ws = team.scratch(t);
    float* dcol = ws.col.get(size_t(std::min(nb, std::max<int64_t>(b1 - b0, 1)) * per_image));
    if (!a.accumulate) std::fill(a.dx + b0 * pixels_in(s) * s.c_in, a.dx + b1 * pixels_in(s) * s.c_in, 0.0f);
    for (int64_t i0 = b0; i0 < b1; i0 += nb) {
      const int64_t cnt = std::min(nb, b1 - i0), rows = cnt * pixels_out(s);
      const float* dy0 = a.dy + i0 * pixels_out(s) * s.c_out;
      for (int g = 0; g < s.groups; ++g) {
        const float* dyg = dy0 + int64_t(g) * cog;
        const float* wg = a.w + int64_t(g) * cog;
        if (transposed) {  // dcolT [width, rows] = w_g [width, cog]·dy_gᵀ
          gemm(ws, width, rows, cog, wg, s.c_out, false, dyg, s.c_out, true, dcol, rows, false);
          col2im_transposed_add(s, dcol, i0, cnt, g, a.dx);
        } else {  // dcol [rows, width] = dy_g [rows, cog]·w_gᵀ
          gemm(ws, rows, width, cog, dyg, s.c_out, false, wg, s.c_out, true, dcol, width, false);
          col2im_add(s, dcol, i0, cnt, g, a.dx);
        }
      }
    }
  });
}

void conv2d_backward_filter(Team& team, const Conv2dBackwardFilterArgsT<float>& a) {
  const ConvShape& s = a.s;
  if (is_depthwise(s)) return depthwise_backward_filter(team, a);
  const int chunks = team.chunks_for(conv_flops(s), kGemmGrain);
  const int cog = group_out(s);
  const int64_t width = col_width(s), wcount = s.weight_count();  // dw [width, c_out]
  const int64_t per_image = pixels_out(s) * width, nb = images_per_chunk(s);
  const bool pointwise = is_pointwise(s), transposed = use_transposed_cols(s);
  const int used = team.run(s.n, chunks, [&](int t, int64_t b0, int64_t b1) {
    ThreadScratch& ws = team.scratch(t);
    float* dwp = ws.partial.get(size_t(wcount + s.c_out));  // this thread's dw [width, c_out] and dbias [c_out]
    float* dbp = dwp + wcount;
    std::fill(dwp, dwp + wcount + s.c_out, 0.0f);
    if (a.dbias) add_row_sums(a.dy + b0 * pixels_out(s) * s.c_out, (b1 - b0) * pixels_out(s), s.c_out, dbp);
    if (pointwise) {  // dw [c_in, c_out] += xᵀ·dy over this thread's rows
      const int64_t rows = (b1 - b0) * pixels_in(s);
      gemm(ws, s.c_in, s.c_out, rows, a.x + b0 * pixels_in(s) * s.c_in, s.c_in, true,
           a.dy + b0 * pixels_out(s) * s.c_out, s.c_out, false, dwp, s.c_out, true);
      return;
    }
    float* col = ws.col.get(size_t(std::min(nb, std::max<int64_t>(b1 - b0, 1)) * per_image));
    for (int64_t i0 = b0; i0 < b1; i0 += nb) {
      const int64_t cnt = std::min(nb, b1 - i0), rows = cnt * pixels_out(s);
      const float* dy0 = a.dy + i0 * pixels_out(s) * s.c_out;
      for (int g = 0; g < s.groups; ++g) {
        // dw_g [width, cog] += colᵀ [width, rows]·dy_g [rows, cog].
        const float* dyg = dy0 + int64_t(g) * cog;
        float* dwg = dwp + int64_t(g) * cog;
        if (transposed) {
          im2col_transposed(s, a.x, i0, cnt, g, col);
          gemm(ws, width, cog, rows, col, rows, false, dyg, s.c_out, false, dwg, s.c_out, true);
        } else {
          im2col(s, a.x, i0, cnt, g, col);
          gemm(ws, width, cog, rows, col, width, true, dyg, s.c_out, false, dwg, s.c_out, true);
        }
      }
    }
  });
  reduce_partials(team, used, wcount, a.dw, a.accumulate, 0);
  if (a.dbias) reduce_partials(team, used, s.c_out, a.dbias, a.accumulate, wcount);
}

// ---- linear ----------------------------------------------------------------------------------------------

void linear_forward(Team& team, const LinearForwardArgsT<float>& a) {
  const double flops = 2.0 * a.n * double(a.in) * a.out;
  team.run(a.n, team.chunks_for(flops, kGemmGrain), [&](int t, int64_t r0, int64_t r1) {
    float* y = a.y + r0 * a.out;
    if (a.bias) fill_rows(y, r1 - r0, a.out, a.bias);
    gemm(team.scratch(t), r1 - r0, a.out, a.in, a.x + r0 * a.in, a.in, false, a.w, a.out, false, y, a.out,
         a.bias != nullptr);
  });
}

void linear_backward_data(Team& team, const LinearBackwardDataArgsT<float>& a) {
  const double flops = 2.0 * a.n * double(a.in) * a.out;
  team.run(a.n, team.chunks_for(flops, kGemmGrain), [&](int t, int64_t r0, int64_t r1) {
    gemm(team.scratch(t), r1 - r0, a.in, a.out, a.dy + r0 * a.out, a.out, false, a.w, a.out, true, a.dx + r0 * a.in,
         a.in, a.accumulate);
  });
}

// Threads split the rows of dw: dw[k0:k1, :] (+)= x[:, k0:k1]ᵀ·dy, so no partial sums are needed.
void linear_backward_weight(Team& team, const LinearBackwardWeightArgsT<float>& a) {
  const double flops = 2.0 * a.n * double(a.in) * a.out;
  team.run(a.in, team.chunks_for(flops, kGemmGrain), [&](int t, int64_t k0, int64_t k1) {
    gemm(team.scratch(t), k1 - k0, a.out, a.n, a.x + k0, a.in, true, a.dy, a.out, false, a.dw + k0 * a.out, a.out,
         a.accumulate);
  }, 16);
  if (a.dbias) {
    if (!a.accumulate) std::fill(a.dbias, a.dbias + a.out, 0.0f);
    add_row_sums(a.dy, a.n, a.out, a.dbias);
  }
}

}  // namespace sparse::cpu
