/* SpArSe runtime kernels (see sparse_rt.h). Plain loops, written for clarity and exactness first. */
#include "sparse_rt.h"

#include <string.h>

int32_t sprt_srdhm(int32_t a, int32_t b) {
  int64_t ab, nudge;
  if (a == b && a == INT32_MIN) return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t sprt_rdbpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t sprt_mbqm(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return sprt_rdbpot(sprt_srdhm((int32_t)((int64_t)x * ((int64_t)1 << left)), multiplier), right);
}

static int8_t clamp8(int32_t v, int32_t lo, int32_t hi) { return (int8_t)(v < lo ? lo : (v > hi ? hi : v)); }

/* Bytes of one encoded row, so rows can be walked in sequence. */
static const uint8_t* row_end(const sprt_weights* w, const uint8_t* row, int32_t cols) {
  if (w->encoding == SPRT_DENSE) return row + cols;
  if (w->encoding == SPRT_BITMASK) {
    const int32_t mask_bytes = (cols + 7) / 8;
    int32_t nnz = 0, j;
    for (j = 0; j < mask_bytes; ++j) {
      uint8_t m = SPRT_RD_U8(row + j);
      while (m) {
        nnz += m & 1u;
        m >>= 1;
      }
    }
    return row + mask_bytes + nnz;
  }
  return row + 2 + 2 * (uint32_t)(uint16_t)(SPRT_RD_U8(row) | ((uint16_t)SPRT_RD_U8(row + 1) << 8));
}

/* Σ over the row's non-zero weights of w·(x − zp) at one output position; `base_y`, `base_x` are the top-left
 * input coordinates of the window, `c0` the group's first input channel. Columns are (ky, kx, ci) with ci
 * fastest; the walk keeps the three coordinates as counters (no division per tap). */
static int32_t row_dot(const sprt_weights* w, const uint8_t* row, int32_t cols, const int8_t* x, sprt_shape in, int base_y,
                       int base_x, int kw, int cpg, int c0) {
  int32_t acc = 0;
  int32_t j;
  int ci = 0, kx = 0, ky = 0; /* coordinates of the current column */
#define SPRT_TAP(wv)                                                                        \
  do {                                                                                      \
    const int iy_ = base_y + ky, ix_ = base_x + kx;                                         \
    if (iy_ >= 0 && iy_ < in.h && ix_ >= 0 && ix_ < in.w)                                   \
      acc += (int32_t)(wv) *                                                                \
             ((int32_t)x[((int32_t)iy_ * in.w + ix_) * in.c + c0 + ci] - in.zero_point);    \
  } while (0)
#define SPRT_ADVANCE(n)       \
  do {                        \
    ci += (n);                \
    while (ci >= cpg) {       \
      ci -= cpg;              \
      if (++kx == kw) {       \
        kx = 0;               \
        ++ky;                 \
      }                       \
    }                         \
  } while (0)
  if (w->encoding == SPRT_DENSE) {
    for (j = 0; j < cols; ++j) {
      const int8_t v = SPRT_RD_I8(row + j);
      if (v) SPRT_TAP(v);
      SPRT_ADVANCE(1);
    }
  } else if (w->encoding == SPRT_BITMASK) {
    const uint8_t* v = row + (cols + 7) / 8;
    for (j = 0; j < cols; ++j) {
      if (SPRT_RD_U8(row + (j >> 3)) & (1u << (j & 7))) {
        SPRT_TAP(SPRT_RD_I8(v));
        ++v;
      }
      SPRT_ADVANCE(1);
    }
  } else {
    const uint16_t count = (uint16_t)(SPRT_RD_U8(row) | ((uint16_t)SPRT_RD_U8(row + 1) << 8));
    const uint8_t* e = row + 2;
    uint16_t k;
    for (k = 0; k < count; ++k, e += 2) { /* entry: skip `gap` columns, then one value */
      const int8_t v = SPRT_RD_I8(e + 1);
      SPRT_ADVANCE(SPRT_RD_U8(e));
      if (v) SPRT_TAP(v);
      SPRT_ADVANCE(1);
    }
  }
#undef SPRT_TAP
#undef SPRT_ADVANCE
  return acc;
}

void sprt_conv2d(const int8_t* x, sprt_shape in, const sprt_weights* w, const int32_t* bias, const int32_t* multiplier,
                 const int8_t* shift, int cout, int kh, int kw, int stride, int pad_top, int pad_left, int groups,
                 int oh, int ow, int32_t y_zero_point, int32_t act_min, int32_t act_max, int8_t* y) {
  const int cpg = in.c / groups, opg = cout / groups;
  const int32_t cols = (int32_t)kh * kw * cpg;
  const uint8_t* row = w->data;
  int o, py, px;
  for (o = 0; o < cout; ++o) {
    const int c0 = (o / opg) * cpg;
    for (py = 0; py < oh; ++py)
      for (px = 0; px < ow; ++px) {
        const int32_t acc =
            SPRT_RD_I32(bias + o) + row_dot(w, row, cols, x, in, py * stride - pad_top, px * stride - pad_left, kw, cpg, c0);
        y[((int32_t)py * ow + px) * cout + o] =
            clamp8(sprt_mbqm(acc, SPRT_RD_I32(multiplier + o), SPRT_RD_I8(shift + o)) + y_zero_point, act_min, act_max);
      }
    row = row_end(w, row, cols);
  }
}

void sprt_max_pool(const int8_t* x, sprt_shape in, int k, int stride, int oh, int ow, int8_t* y) {
  int py, px, c, dy, dx;
  for (py = 0; py < oh; ++py)
    for (px = 0; px < ow; ++px)
      for (c = 0; c < in.c; ++c) {
        int8_t m = INT8_MIN;
        for (dy = 0; dy < k; ++dy)
          for (dx = 0; dx < k; ++dx) {
            const int iy = py * stride + dy, ix = px * stride + dx;
            if (iy < in.h && ix < in.w) {
              const int8_t v = x[((int32_t)iy * in.w + ix) * in.c + c];
              if (v > m) m = v;
            }
          }
        y[((int32_t)py * ow + px) * in.c + c] = m;
      }
}

void sprt_channel_max(const int8_t* x, sprt_shape in, int8_t* y) {
  int32_t p;
  int c;
  for (p = 0; p < (int32_t)in.h * in.w; ++p) {
    int8_t m = x[p * in.c];
    for (c = 1; c < in.c; ++c)
      if (x[p * in.c + c] > m) m = x[p * in.c + c];
    y[p] = m;
  }
}

void sprt_pool_row(const int8_t* row, int c, int depth_max, int k, int first, int ow, int8_t* y) {
  const int cy = depth_max ? 1 : c;
  const int span = depth_max ? c : 1; /* channels folded into one output value */
  int ox, ch, j;
  for (ox = 0; ox < ow; ++ox)
    for (ch = 0; ch < cy; ++ch) {
      const int32_t o = (int32_t)ox * cy + ch;
      const int8_t* p = row + (int32_t)ox * k * c + ch;
      int8_t m = first ? INT8_MIN : y[o];
      for (j = 0; j < k; ++j) {
        int s;
        for (s = 0; s < span; ++s)
          if (p[s] > m) m = p[s];
        p += c;
      }
      y[o] = m;
    }
}

void sprt_add(const int8_t* x1, int32_t zp1, int32_t m1, int s1, const int8_t* x2, int32_t zp2, int32_t m2, int s2,
              int32_t n, int32_t zp_y, int32_t m_y, int s_y, int32_t act_min, int32_t act_max, int8_t* y) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t a = sprt_mbqm(((int32_t)x1[i] - zp1) * ((int32_t)1 << 20), m1, s1);
    const int32_t b = sprt_mbqm(((int32_t)x2[i] - zp2) * ((int32_t)1 << 20), m2, s2);
    y[i] = clamp8(sprt_mbqm(a + b, m_y, s_y) + zp_y, act_min, act_max);
  }
}

void sprt_concat_channels(const int8_t* x, int32_t pixels, int c_part, int32_t zp_x, int identity, int32_t m, int s,
                          int c_total, int c_offset, int32_t zp_y, int8_t* y) {
  int32_t p;
  int c;
  for (p = 0; p < pixels; ++p) {
    if (identity) {
      memcpy(y + p * c_total + c_offset, x + p * c_part, (size_t)c_part);
      continue;
    }
    for (c = 0; c < c_part; ++c)
      y[p * c_total + c_offset + c] = clamp8(sprt_mbqm((int32_t)x[p * c_part + c] - zp_x, m, s) + zp_y, -128, 127);
  }
}
