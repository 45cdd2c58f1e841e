// conv_shape(): the ConvShape of a "same" or "valid" conv (host/core/op_args.hpp); rejects shapes that no
// backend op could run (groups not dividing the channels, a valid kernel larger than the input).
#include "host/core/op_args.hpp"

#include "host/core/error.hpp"

namespace sparse {

ConvShape conv_shape(int n, int h, int w, int c_in, int c_out, int k, bool same, int stride, int groups) {
  SPARSE_CHECK(n >= 1 && h >= 1 && w >= 1 && c_in >= 1 && c_out >= 1,
               "conv shape: n, h, w, c_in, c_out must be >= 1, got " << n << ", " << h << ", " << w << ", " << c_in
                                                                     << ", " << c_out);
  SPARSE_CHECK(k >= 1 && stride >= 1, "conv shape: kernel " << k << " and stride " << stride << " must be >= 1");
  SPARSE_CHECK(groups >= 1 && c_in % groups == 0 && c_out % groups == 0,
               "conv shape: groups " << groups << " must divide c_in " << c_in << " and c_out " << c_out);
  ConvShape s;
  s.n = n;
  s.h = h;
  s.w = w;
  s.c_in = c_in;
  s.c_out = c_out;
  s.kh = s.kw = k;
  s.stride = stride;
  s.groups = groups;
  if (same) {
    // pad (k-1)/2 before, the rest after; oh = ceil(h / stride).
    s.pad_top = s.pad_left = (k - 1) / 2;
    s.oh = (h + stride - 1) / stride;
    s.ow = (w + stride - 1) / stride;
  } else {
    SPARSE_CHECK(h >= k && w >= k, "conv shape: valid " << k << "x" << k << " kernel larger than the " << h << "x"
                                                        << w << " input");
    s.oh = (h - k) / stride + 1;
    s.ow = (w - k) / stride + 1;
  }
  return s;
}

}  // namespace sparse
