/*
 * throw.c -- allocation-free diagnostics (see throw.h).
 *
 * Everything here writes with write(2) from stack buffers, so it is safe on
 * paths where the heap or a lock is broken: inside the allocator, during a
 * stop-the-world, in a signal handler.
 */
#include "throw.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void log_str(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void log_hex(uintptr_t v)
{
    char buf[2 + 16 + 1];
    int i = (int)sizeof buf - 1;
    buf[i] = 0;
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0);
    buf[--i] = 'x';
    buf[--i] = '0';
    log_str(buf + i);
}

void log_dec(uint64_t v)
{
    char buf[24];
    int i = (int)sizeof buf - 1;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    log_str(buf + i);
}

void throw(const char *msg)
{
    log_str("tricolor: fatal error: ");
    log_str(msg);
    log_str("\n");
    abort();
}

void throw_addr(const char *msg, const void *addr)
{
    log_str("tricolor: fatal error: ");
    log_str(msg);
    log_str(" (address ");
    log_hex((uintptr_t)addr);
    log_str(")\n");
    abort();
}
