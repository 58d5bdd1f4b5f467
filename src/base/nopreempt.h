/*
 * nopreempt.h -- code the collector's suspension signal must not stop.
 *
 * Functions marked NOPREEMPT_TEXT are placed in one linker section; the
 * signal handler (mutator/safepoint.c) declines to suspend a thread whose
 * interrupted instruction lies in it, and the thread is signalled again a
 * little later.  The allocation fast path and object lookup live there:
 * they update or read per-span state without locks, and the collector
 * touches that state while the world is stopped.  Longer runtime paths use
 * the per-thread counter mcache.nopreempt instead (they call out of the
 * section, to libc or to other files).
 */
#ifndef TC_BASE_NOPREEMPT_H
#define TC_BASE_NOPREEMPT_H

#define NOPREEMPT_TEXT __attribute__((section("tricolor_nopreempt"), noinline))

/* ThreadSanitizer defers a signal to its next interceptor or atomic
 * operation and reports the interrupted address as it was on arrival, so
 * the handler cannot tell where the thread really is.  In such builds the
 * public NOPREEMPT_TEXT entry points also raise this per-thread depth,
 * which the handler checks; elsewhere the macros compile to nothing. */
#include "throw.h"
#if TSAN_BUILD
extern __thread int tsan_nopreempt;
#define TSAN_NOPREEMPT_ENTER() (tsan_nopreempt++)
#define TSAN_NOPREEMPT_EXIT()  (tsan_nopreempt--)
#define TSAN_NOPREEMPT_HELD()  (tsan_nopreempt > 0)
#else
#define TSAN_NOPREEMPT_HELD()  0
#define TSAN_NOPREEMPT_ENTER() ((void)0)
#define TSAN_NOPREEMPT_EXIT()  ((void)0)
#endif

/* Runtime variables that hold heap addresses without owning objects (the
 * page allocator's search address, the page cache's base, arena hints)
 * live in this data section, which the collector's scan of global data
 * skips: otherwise they would keep whatever object sits at that address
 * alive. */
#define NOGC_DATA __attribute__((section("tricolor_nogc")))

#endif
