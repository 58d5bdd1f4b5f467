/*
 * throw.h -- fatal errors and checks that must never allocate.
 *
 * throw() is tricolor's answer to a broken invariant or to misuse that would
 * corrupt the heap (a foreign pointer where a heap pointer is required, a
 * call from an unattached thread): it prints one line on stderr, with no
 * allocation and no lock, and aborts, as the Go runtime's throw does.
 * Recoverable conditions (out of memory, malformed settings) are returned
 * as TC_E codes instead; see docs/HACKING.md "Errors".
 *
 * CHECK(cond) states an internal invariant that is cheap enough to keep in
 * release builds.  DCHECK(cond) is compiled only at TC_DEBUG >= 1.
 */
#ifndef TC_BASE_THROW_H
#define TC_BASE_THROW_H

#include <stddef.h>
#include <stdint.h>

#ifndef TC_DEBUG
#define TC_DEBUG 0
#endif

/* 1 when built with ThreadSanitizer (gcc or clang). */
#if defined(__SANITIZE_THREAD__)
#define TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN_BUILD 1
#endif
#endif
#ifndef TSAN_BUILD
#define TSAN_BUILD 0
#endif

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NOINLINE    __attribute__((noinline))
#define COLD        __attribute__((cold, noinline))

/* Prints "tricolor: fatal error: <msg>" and aborts. */
_Noreturn void throw(const char *msg) COLD;
/* The same with an address, printed in hex after the message. */
_Noreturn void throw_addr(const char *msg, const void *addr) COLD;

/* Allocation-free writers to stderr, for diagnostics on failure paths. */
void log_str(const char *s);
void log_hex(uintptr_t v);
void log_dec(uint64_t v);

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (unlikely(!(cond)))                                             \
            throw("check failed: " #cond " at " __FILE__);                 \
    } while (0)

#if TC_DEBUG >= 1
#define DCHECK(cond) CHECK(cond)
#else
#define DCHECK(cond) ((void)0)
#endif

#endif
