/* AVR (ATmega328P, Arduino Uno) harness I/O under simavr: text on USART0, exit as a "sparse-exit=N" line then
 * sleep with interrupts off (simavr stops there), and stack painting for the high-water mark. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>
#include <stdint.h>

#include "harness_io.h"

#define SPARSE_STACK_PAINT 0xC5

extern uint8_t __heap_start;  /* end of .bss: the stack may grow down to here */

/* Runs before main (.init3): paint everything between .bss and the current stack pointer. */
__attribute__((naked, used, section(".init3"))) void sparse_paint_stack(void) {
  uint8_t* p = &__heap_start;
  while (p < (uint8_t*)SP - 16) *p++ = SPARSE_STACK_PAINT;
}

uint32_t sparse_stack_unused_bytes(void) {
  const uint8_t* p = &__heap_start;
  while (p < (const uint8_t*)RAMEND && *p == SPARSE_STACK_PAINT) ++p;
  return (uint32_t)(p - &__heap_start);
}

uint32_t sparse_stack_size_bytes(void) { return (uint32_t)((const uint8_t*)RAMEND + 1 - &__heap_start); }

static void put(char c) {
  UCSR0B |= (uint8_t)(1 << TXEN0);
  while (!(UCSR0A & (1 << UDRE0))) {
  }
  UDR0 = (uint8_t)c;
}

void semihost_write0(const char* text) {
  while (*text) put(*text++);
}

void semihost_write0_P(const char* text) {
  char c;
  while ((c = (char)pgm_read_byte(text++)) != 0) put(c);
}

void semihost_exit(int code) {
  semihost_write0_P(PSTR("\nsparse-exit="));
  semihost_write_i32(code);
  semihost_write0_P(PSTR("\n"));
  for (;;) {
    cli();
    sleep_cpu();
  }
}

/* avr-libc calls exit() when main returns; route it through the exit line. */
void exit(int code) __attribute__((noreturn));
void exit(int code) { semihost_exit(code); }
