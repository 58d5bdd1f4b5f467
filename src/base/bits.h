/*
 * bits.h -- bit tricks and alignment helpers used by every layer.
 */
#ifndef TC_BASE_BITS_H
#define TC_BASE_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uintptr_t align_up(uintptr_t x, uintptr_t a) { return (x + a - 1) & ~(a - 1); }
static inline uintptr_t align_down(uintptr_t x, uintptr_t a) { return x & ~(a - 1); }
static inline bool is_aligned(uintptr_t x, uintptr_t a) { return (x & (a - 1)) == 0; }

static inline unsigned ctz64(uint64_t x) { return (unsigned)__builtin_ctzll(x); } /* x != 0 */
static inline unsigned clz64(uint64_t x) { return (unsigned)__builtin_clzll(x); } /* x != 0 */
static inline unsigned popcount64(uint64_t x) { return (unsigned)__builtin_popcountll(x); }

/* Bit i of a little-endian array of 64-bit words. */
static inline bool bit_get(const uint64_t *w, size_t i) { return (w[i / 64] >> (i % 64)) & 1; }
static inline void bit_set(uint64_t *w, size_t i) { w[i / 64] |= (uint64_t)1 << (i % 64); }
static inline void bit_clear(uint64_t *w, size_t i) { w[i / 64] &= ~((uint64_t)1 << (i % 64)); }

/* Number of 64-bit words holding n bits. */
static inline size_t bit_words(size_t n) { return (n + 63) / 64; }

/* 64 bits of w starting at bit i (i a multiple of 64 gives one word;
 * otherwise the two words are spliced).  Bits past n_words read as 1. */
static inline uint64_t bit_window(const uint64_t *w, size_t n_words, size_t i)
{
    size_t wi = i / 64, sh = i % 64;
    uint64_t lo = wi < n_words ? w[wi] : ~(uint64_t)0;
    if (sh == 0)
        return lo;
    uint64_t hi = wi + 1 < n_words ? w[wi + 1] : ~(uint64_t)0;
    return (lo >> sh) | (hi << (64 - sh));
}

#endif
