/*
 * rss.h -- the process's resident memory, for the memory-limit and
 * scavenger tests, and whether a sanitizer runs (its shadow memory and
 * allocator inflate RSS: tests that compare RSS with a bound loosen or skip
 * the comparison, each saying why).
 */
#ifndef TC_TEST_RSS_H
#define TC_TEST_RSS_H

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif
#ifndef TEST_TSAN
#define TEST_TSAN 0
#endif

/* Resident bytes (/proc/self/statm, second field), 0 if unreadable. */
static inline uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

#endif
