/* Decimal output for harnesses, shared by every target: built on the target's semihost_write0. */
#include "harness_io.h"

void semihost_write_u32(uint32_t value) {
  char buf[11];
  int i = 10;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + (char)(value % 10u));
    value /= 10u;
  } while (value && i > 0);
  semihost_write0(&buf[i]);
}

void semihost_write_i32(int32_t value) {
  if (value < 0) {
    semihost_write0("-");
    semihost_write_u32((uint32_t)(-(int64_t)value));
  } else {
    semihost_write_u32((uint32_t)value);
  }
}
