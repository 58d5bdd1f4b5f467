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

/* Runtime variables that hold heap addresses without owning objects (the
 * page allocator's search address, the page cache's base, arena hints)
 * live in this data section, which the collector's scan of global data
 * skips: otherwise they would keep whatever object sits at that address
 * alive. */
#define NOGC_DATA __attribute__((section("tricolor_nogc")))

#endif
