/*
 * util.h -- small helpers the multi-threaded tests share: a monotonic
 * clock and a xorshift64 generator (each thread owns its state).
 */
#ifndef TC_TEST_UTIL_H
#define TC_TEST_UTIL_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64; *s must start non-zero. */
static inline uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#endif
