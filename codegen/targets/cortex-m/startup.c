/* Minimal Cortex-M startup for generated models under QEMU: vector table, .data/.bss set-up, FPU enable
 * (M4/M7/M33 builds), stack painting for the high-water mark, then main() and a semihosting exit with its
 * return code. C99, no libc start files. */
#include <stdint.h>

#include "harness_io.h"

extern uint32_t __stack_top, __stack_limit;
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
int main(void);

#define SPARSE_STACK_PAINT 0xC5C5C5C5u

void Reset_Handler(void);
void Fault_Handler(void);

/* Exception vectors 1..15; the linker script places the initial stack pointer (vector 0) just before. */
__attribute__((section(".vectors"), used)) static void (*const vector_table[15])(void) = {
    Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, 0, 0, 0, 0,
    Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler};

void Fault_Handler(void) {
  semihost_write0("sparse: hard fault\n");
  semihost_exit(0xFA);
}

/* Bytes of stack never written since reset (the paint is intact), counted from the limit upward. */
uint32_t sparse_stack_unused_bytes(void) {
  const uint32_t* p = &__stack_limit;
  while (p < &__stack_top && *p == SPARSE_STACK_PAINT) ++p;
  return (uint32_t)((const uint8_t*)p - (const uint8_t*)&__stack_limit);
}

uint32_t sparse_stack_size_bytes(void) { return (uint32_t)((uint8_t*)&__stack_top - (uint8_t*)&__stack_limit); }

__attribute__((naked, noreturn)) void Reset_Handler(void) {
  __asm volatile(
      "ldr r0, =__stack_top\n"
      "mov sp, r0\n"
      "bl sparse_c_start\n");
}

__attribute__((noreturn, used)) void sparse_c_start(void) {
  uint32_t* src = &__data_load;
  for (uint32_t* dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t* dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
#if defined(__ARM_FP)
  /* CPACR: full access to CP10 and CP11 (the FPU). */
  *(volatile uint32_t*)0xE000ED88u |= (0xFu << 20);
  __asm volatile("dsb\n isb\n");
#endif
  /* Paint the stack below the current frame so the high-water mark can be read after inference. */
  {
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t* p = &__stack_limit; (uint32_t)p < sp - 256u; ++p) *p = SPARSE_STACK_PAINT;
  }
  semihost_exit(main());
}
