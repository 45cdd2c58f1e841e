/* ARM semihosting (SYS_WRITE0 = 0x04, SYS_EXIT_EXTENDED = 0x20 carrying the exit code). */
#include "harness_io.h"

static uint32_t semihost_call(uint32_t op, const void* arg) {
  register uint32_t r0 __asm("r0") = op;
  register const void* r1 __asm("r1") = arg;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void semihost_write0(const char* text) { (void)semihost_call(0x04, text); }

void semihost_exit(int code) {
  /* SYS_EXIT_EXTENDED (0x20): block of reason ADP_Stopped_ApplicationExit (0x20026) and the exit code. */
  uint32_t block[2] = {0x20026u, (uint32_t)code};
  for (;;) (void)semihost_call(0x20, block);
}
