/* SpArSe runtime for generated models: integer-only int8 kernels (TFLite int8 scheme, REFERENCE.md §6).
 * C99, no malloc, no libc beyond <stdint.h>/<string.h>. Activations NHWC int8 with a per-tensor zero point;
 * weights int8 per output channel (zero point 0) in one of three encodings (dense, bitmask, relative index;
 * see codegen/weight_encoding.hpp); bias int32; requantization by a Q31 multiplier and a shift (positive =
 * left) per output channel, rounding as gemmlowp's SaturatingRoundingDoublingHighMul (ties toward +infinity) +
 * RoundingDivideByPOT (ties away from zero).
 * The host int8 executor computes the same integers; generated code is checked against it bit for bit.
 * Portable to 16-bit int (AVR): every index and product that can exceed 32767 is computed in int32_t. */
#ifndef SPARSE_RT_H
#define SPARSE_RT_H
#include <stdint.h>

/* Constant model data (weights, biases, requantization parameters) lives in flash. On Cortex-M `const` data
 * is in flash already; on AVR (Harvard) it must be declared PROGMEM and read with pgm_read_*. Generated code
 * declares such arrays `static const T name[] SPRT_FLASH`, and the kernels read them through SPRT_RD_*. */
#if defined(__AVR__)
#include <avr/pgmspace.h>
#define SPRT_FLASH PROGMEM
#define SPRT_RD_U8(p) ((uint8_t)pgm_read_byte(p))
#define SPRT_RD_I8(p) ((int8_t)pgm_read_byte(p))
#define SPRT_RD_I32(p) ((int32_t)pgm_read_dword(p))
#else
#define SPRT_FLASH
#define SPRT_RD_U8(p) (*(const uint8_t*)(p))
#define SPRT_RD_I8(p) (*(const int8_t*)(p))
#define SPRT_RD_I32(p) (*(const int32_t*)(p))
#endif

enum { SPRT_DENSE = 0, SPRT_BITMASK = 1, SPRT_RELATIVE_INDEX = 2 };

typedef struct {
  uint8_t encoding;     /* SPRT_DENSE, SPRT_BITMASK or SPRT_RELATIVE_INDEX */
  const uint8_t* data;  /* in flash; rows = output channels, cols = KH·KW·(Cin/groups) in (kh, kw, ci) order */
} sprt_weights;

/* round(a·b / 2^31) to nearest, ties toward +infinity (gemmlowp's nudge then truncation: 0.5 -> 1, -0.5 -> 0,
 * -1.5 -> -1); INT32_MIN·INT32_MIN saturates to INT32_MAX. */
int32_t sprt_srdhm(int32_t a, int32_t b);
/* x / 2^exponent rounded half away from zero, 0 <= exponent <= 31. */
int32_t sprt_rdbpot(int32_t x, int exponent);
/* x · multiplier · 2^(shift−31). */
int32_t sprt_mbqm(int32_t x, int32_t multiplier, int shift);

typedef struct {
  int h, w, c;       /* input H, W, C */
  int32_t zero_point;
} sprt_shape;

/* Convolution (regular, grouped/depthwise, 1×1; a fully connected layer is a 1×1 conv on a 1×1×C input).
 * y[OH, OW, cout] = clamp(zp_y + requant(bias[o] + Σ w[o, kh, kw, ci]·(x[iy, ix, g·cpg + ci] − zp_x)));
 * padded positions contribute nothing. x and y are in RAM; w->data, bias, multiplier and shift in flash. */
void sprt_conv2d(const int8_t* x, sprt_shape in, const sprt_weights* w, const int32_t* bias, const int32_t* multiplier,
                 const int8_t* shift, int cout, int kh, int kw, int stride, int pad_top, int pad_left, int groups,
                 int oh, int ow, int32_t y_zero_point, int32_t act_min, int32_t act_max, int8_t* y);

/* Max pooling, window k×k, stride s, no padding; quantization unchanged. */
void sprt_max_pool(const int8_t* x, sprt_shape in, int k, int stride, int oh, int ow, int8_t* y);

/* Max over the channel axis (downsample-input-in-depth): y[H, W, 1]. */
void sprt_channel_max(const int8_t* x, sprt_shape in, int8_t* y);

/* Input acquisition fused with the input downsampling (REFERENCE.md §1: part of reading the image, not a
 * layer): folds one raw row (int8 [.][c], any readable memory: RAM, memory-mapped flash, a sensor's row buffer)
 * into row y [ow][depth_max ? 1 : c] of the downsampled image: the max over the row's k·ow × c values of each
 * k-wide window (and over the channels when depth_max). first = 1 for the first raw row of a window (row % k
 * == 0) sets y; later rows keep the running max. Raw rows k·oh and beyond and columns k·ow and beyond are
 * dropped by the caller (floor pooling, as max_pool). Equal, integer for integer, to channel_max then k×k
 * max_pool over the whole image. */
void sprt_pool_row(const int8_t* row, int c, int depth_max, int k, int first, int ow, int8_t* y);

/* y = x1 + x2 in real values (TFLite ADD): both inputs shifted left by 20, scaled to a common scale, summed and
 * requantized. */
void sprt_add(const int8_t* x1, int32_t zp1, int32_t m1, int s1, const int8_t* x2, int32_t zp2, int32_t m2, int s2,
              int32_t n, int32_t zp_y, int32_t m_y, int s_y, int32_t act_min, int32_t act_max, int8_t* y);

/* Copy `c_part` channels of each of `pixels` positions into y (channel stride c_total, starting at channel
 * c_offset), requantizing from (zp_x) to (zp_y) by (m, s) unless identity is set. */
void sprt_concat_channels(const int8_t* x, int32_t pixels, int c_part, int32_t zp_x, int identity, int32_t m, int s,
                          int c_total, int c_offset, int32_t zp_y, int8_t* y);

#endif
