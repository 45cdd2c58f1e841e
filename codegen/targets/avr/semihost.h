/* Harness I/O for the AVR target: text over USART0 (simavr prints it), and an exit code line. Same API as the
 * Cortex-M semihosting so one harness serves every target. */
#ifndef SPARSE_SEMIHOST_H
#define SPARSE_SEMIHOST_H
#include <stdint.h>

void semihost_write0(const char* text);
void semihost_write_u32(uint32_t value);
void semihost_write_i32(int32_t value);
__attribute__((noreturn)) void semihost_exit(int code);

#endif
