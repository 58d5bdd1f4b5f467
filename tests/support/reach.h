/*
 * reach.h -- helpers for tests that drop objects and expect them collected
 * despite conservative stack scanning: addresses kept as hidden integers,
 * and a stack scrubber that overwrites the frames below the caller, where
 * stale copies of pointers would keep objects alive.
 */
#ifndef TC_TEST_REACH_H
#define TC_TEST_REACH_H

#include <stdint.h>
#include <string.h>

#define REACH_HIDE 0x5a5a5a5a5a5a5a5aull

static inline uintptr_t hide(const void *p) { return (uintptr_t)p ^ REACH_HIDE; }
static inline void *unhide(uintptr_t h) { return (void *)(h ^ REACH_HIDE); }

/* Zeroes 64 KiB of stack below the caller.  Not instrumented:
 * AddressSanitizer would leave redzones around the array, right below the
 * caller, unwritten. */
__attribute__((no_sanitize("address"), noinline, unused)) static void scrub_stack(void)
{
    volatile unsigned char junk[64 * 1024];
    memset((void *)junk, 0, sizeof junk);
    __asm__ volatile("" ::"r"(junk) : "memory");
}

#endif
