/* Harness I/O of generated test programs, one API on every emulated target: text output and an exit code.
 * Cortex-M implements it with ARM semihosting (cortex-m/semihost.c), AVR with USART0 (avr/uart_io.c);
 * harness_fmt.c formats numbers on top of semihost_write0. */
#ifndef SPARSE_HARNESS_IO_H
#define SPARSE_HARNESS_IO_H
#include <stdint.h>

void semihost_write0(const char* text);
void semihost_write_u32(uint32_t value);
void semihost_write_i32(int32_t value);
__attribute__((noreturn)) void semihost_exit(int code);
#ifdef __AVR__
/* text in flash (PSTR / PROGMEM): AVR would copy string literals to RAM */
void semihost_write0_P(const char* text);
#endif

#endif
