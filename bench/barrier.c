/*
 * barrier.c -- benchmark: what the write barrier costs per pointer store.
 *
 * Four loops store STORES pointers into a heap array of NSLOTS slots, each
 * store replacing one heap pointer by another (slot i % NSLOTS gets value
 * (i * stride + 7) % NVALS; values are NVALS typed heap objects, so old and new
 * values are always heap pointers).  The values were allocated one after
 * another, 256 to a span, so with the default stride of 31 objects about
 * eight stores in a row hit one span before the next: the flush's span memo
 * (mark_pointers in gc/mark.c) misses about one value in eight.  --stride 1
 * is the friendliest case (a miss every 256 stores); values scattered over
 * a large heap would miss every time and gain nothing from the memo.
 * Five loops:
 *
 *   plain       *slot = v                                collector idle
 *   tc_store    tc_store(slot, v), barrier off           collector idle
 *   buffered    tc_store(slot, v), barrier on            while marking
 *               (appends old and new to the thread's buffer; a full buffer
 *               calls tc__wb_slow, which shades all of it)
 *   unbuffered  mark_pointer(old), mark_pointer(v), store   while marking
 *               (shades both values on every store: the internal
 *               mark_pointer of gc/mark.h, inline in the loop, with nothing
 *               published: a lower bound for any barrier without a buffer)
 *   per store   tc_store(slot, v) with a buffer of no room   while marking
 *               (every store calls tc__wb_slow, which shades both values
 *               and publishes them: the barrier tricolor would have
 *               without a buffer, as checkptr mode runs it)
 *
 * "While marking" is staged without a real cycle racing the loops: with
 * collection off (gc_percent = -1, one mark worker at most), the program
 * sets gc_phase_now to GC_MARK and turns the barrier on (wbbuf_set_enabled),
 * runs the marking loops, then restores GC_OFF and the barrier off, empties its
 * barrier buffer and drains the grey objects it made (mark_drain).  The mark
 * bits it set stay set; no cycle runs afterwards.  An untimed pass of each
 * loop first marks every value, so the timed passes measure the steady
 * state: shading an object already marked returns early.  That is fair to
 * both variants, which shade the same values.
 *
 * Each loop is a separate function, never inlined or merged; an empty asm
 * statement with a memory clobber after each store keeps the compiler from
 * merging or vectorising the stores, the same way in every loop.  The
 * loops run REPS times, interleaved; ns/store figures are medians, and each
 * ratio is the median of the per-repetition ratios of loops run back to
 * back.  Targets: tc_store with the collector idle <= 1.2x a plain store;
 * the buffered barrier >= 3x cheaper than the per-store one while marking.
 *
 *   build/bench/barrier [--quick] [--stores N] [--reps N] [--stride N] [--callgrind]
 *
 * --callgrind runs each loop once (no timing) for instruction counting:
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
 *       build/bench/barrier --callgrind
 *   callgrind_annotate --inclusive=yes /tmp/cg.out | grep loop_
 * Exit status 0; 1 on an allocation failure; 2 on bad usage.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tricolor.h>

#include "bench.h"

#include "gc/mark.h"
#include "gc/wbbuf.h"
#include "gc/workbuf.h"
#include "mutator/thread.h"

#define NSLOTS 4096        /* 32 KiB of slots: the stores hit L1 */
#define NVALS 4096         /* distinct values: 128 KiB of objects */
#define MAX_REPS 101

/* Objects apart of values stored one after another (--stride). */
static uint64_t stride = 31;

struct value {
    struct value *next;    /* a pointer field: values are scanned objects */
    uint64_t payload[3];
};

#define COMPILER_BARRIER() __asm__ volatile("" ::: "memory")

/* Loops are never inlined, and never folded into one another (gcc's
 * identical-code folding would merge loop_tc_store and loop_buffered). */
#if defined(__clang__)
#define LOOP_FN __attribute__((noinline))
#else
#define LOOP_FN __attribute__((noinline, noipa))
#endif

/* ---- The four loops ------------------------------------------------------ */

LOOP_FN static void loop_plain(void **slots, void *const *vals, uint64_t n)
{
    const uint64_t k = stride; /* a local: the asm clobber does not reload it */
    for (uint64_t i = 0; i < n; i++) {
        slots[i % NSLOTS] = vals[(i * k + 7) % NVALS];
        COMPILER_BARRIER();
    }
}

LOOP_FN static void loop_tc_store(void **slots, void *const *vals, uint64_t n)
{
    const uint64_t k = stride; /* a local: the asm clobber does not reload it */
    for (uint64_t i = 0; i < n; i++) {
        tc_store(&slots[i % NSLOTS], vals[(i * k + 7) % NVALS]);
        COMPILER_BARRIER();
    }
}

/* The same code as loop_tc_store; a second name so that profiles and
 * callgrind tell the barrier-on run from the barrier-off one. */
LOOP_FN static void loop_buffered(void **slots, void *const *vals, uint64_t n)
{
    const uint64_t k = stride; /* a local: the asm clobber does not reload it */
    for (uint64_t i = 0; i < n; i++) {
        tc_store(&slots[i % NSLOTS], vals[(i * k + 7) % NVALS]);
        COMPILER_BARRIER();
    }
}

/* The same code again, run with a write-barrier buffer of no room: every
 * store goes through the library's slow path (tc__wb_slow), which shades
 * both values and publishes them at once -- the barrier tricolor would
 * have without a buffer (checkptr mode runs it this way). */
LOOP_FN static void loop_perstore(void **slots, void *const *vals, uint64_t n)
{
    const uint64_t k = stride; /* a local: the asm clobber does not reload it */
    for (uint64_t i = 0; i < n; i++) {
        tc_store(&slots[i % NSLOTS], vals[(i * k + 7) % NVALS]);
        COMPILER_BARRIER();
    }
}

/* Shades what the slot loses and what it gains, then stores: the barrier
 * without a buffer (the same tests as wbbuf_flush: words under 4096 are
 * never pointers). */
LOOP_FN static void loop_unbuffered(void **slots, void *const *vals, uint64_t n,
                                                      gcwork *gw)
{
    const uint64_t k = stride; /* a local: the asm clobber does not reload it */
    for (uint64_t i = 0; i < n; i++) {
        void **slot = &slots[i % NSLOTS];
        void *v = vals[(i * k + 7) % NVALS];
        uintptr_t old = (uintptr_t)*slot;
        if (old >= 4096)
            mark_pointer(old, gw);
        if ((uintptr_t)v >= 4096)
            mark_pointer((uintptr_t)v, gw);
        *slot = v;
        COMPILER_BARRIER();
    }
}

/* ---- Staging "while marking" ------------------------------------------------ */

static void marking_begin(void)
{
    atomic_store(&gc_phase_now, GC_MARK);
    wbbuf_set_enabled(1);
}

/* Back to idle, leaving no grey object and no buffered entry behind. */
static void marking_end(gcwork *gw)
{
    thread_ctx *t = tls_thread;
    wbbuf_set_enabled(0);
    atomic_store(&gc_phase_now, GC_OFF);
    thread_wbuf_reset(t);
    /* Grey objects: in gw, in the thread's gcwork, on the global list. */
    mark_drain(gw, -1);
    mark_drain(&t->work, -1);
    gcwork_dispose(gw);
    gcwork_dispose(&t->work);
    gw->bytes_marked = gw->scan_work = 0;
    t->work.bytes_marked = t->work.scan_work = 0;
}

/* ---- Reporting ------------------------------------------------------------- */

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: barrier [--quick] [--stores N] [--reps N] [--stride N] [--callgrind]\n"
            "  --stores N   stores per timed loop (1000..10^10; default 5000000, --quick 200000)\n"
            "  --reps N     repetitions; medians are reported (1..%d; default 21, --quick 3)\n"
            "  --stride N   values stored one after another lie N objects apart (1..%d; default 31)\n"
            "  --callgrind  run each loop once, untimed, for instruction counting\n",
            MAX_REPS, NVALS - 1);
    exit(2);
}

static long long parse_num(const char *s, long long lo, long long hi)
{
    char *end;
    if (s == NULL)
        usage();
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        usage();
    return v;
}

enum { PLAIN, TC_STORE_IDLE, BUFFERED, UNBUFFERED, PERSTORE, NLOOPS };
static const char *const loop_names[NLOOPS] = {"plain store", "tc_store", "tc_store (buffered barrier)",
                                               "unbuffered barrier (shade old + new)",
                                               "tc_store, buffer of 0 entries (slow path per store)"};
static const char *const loop_phase[NLOOPS] = {"idle", "idle (barrier off)", "marking", "marking",
                                               "marking"};

static void set_capacity(int entries)
{
    wbbuf_capacity = entries;
    thread_wbuf_reset(tls_thread);
}

int main(int argc, char **argv)
{
    long long stores = -1, reps = -1;
    int quick = 0, callgrind = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--callgrind") == 0)
            callgrind = 1;
        else if (strcmp(argv[i], "--stores") == 0)
            stores = parse_num(argv[++i], 1000, 10000000000LL);
        else if (strcmp(argv[i], "--stride") == 0)
            stride = (uint64_t)parse_num(argv[++i], 1, NVALS - 1);
        else if (strcmp(argv[i], "--reps") == 0)
            reps = parse_num(argv[++i], 1, MAX_REPS);
        else
            usage();
    }
    if (stores < 0)
        stores = quick ? 200000 : callgrind ? 1000000 : 5000000;
    if (reps < 0)
        reps = quick ? 3 : 21;
    if (callgrind)
        reps = 1;

    /* Collection off: no cycle may start while the phase is staged.  One
     * mark worker at most, so no dedicated worker thread drains in the
     * background while the phase says GC_MARK. */
    tc_options opts = {.gc_percent = -1, .mark_workers = 1};
    int rc = tc_init(&opts);
    if (rc != 0) {
        fprintf(stderr, "barrier: tc_init: %s\n", tc_strerror(rc));
        return 1;
    }
    const tc_type *value_type = TC_TYPE(struct value, next);
    const tc_type *slot_type = tc_type_new("slot", sizeof(void *), (const size_t[]){0}, 1);
    void **slots = tc_new_array(slot_type, NSLOTS);
    void **vals = malloc(NVALS * sizeof *vals);
    if (slots == NULL || vals == NULL || tc_root_add(vals, NVALS * sizeof *vals) != 0) {
        fprintf(stderr, "barrier: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < NVALS; i++) {
        vals[i] = tc_new(value_type);
        if (vals[i] == NULL) {
            fprintf(stderr, "barrier: out of memory\n");
            return 1;
        }
    }
    for (size_t i = 0; i < NSLOTS; i++)
        tc_store(&slots[i], vals[(i * 7) % NVALS]);
    gcwork gw = {0};

    if (callgrind) {
        loop_plain(slots, vals, (uint64_t)stores);
        loop_tc_store(slots, vals, (uint64_t)stores);
        marking_begin();
        loop_buffered(slots, vals, (uint64_t)stores);
        loop_unbuffered(slots, vals, (uint64_t)stores, &gw);
        marking_end(&gw);
        printf("ran loop_plain, loop_tc_store, loop_buffered and loop_unbuffered once each, %lld stores;\n"
               "instructions per store = inclusive Ir of the loop / %lld\n",
               stores, stores);
        tc_root_remove(vals);
        tc_shutdown();
        free(vals);
        return 0;
    }

    /* Warm-up: every value gets marked once (untimed), caches and the
     * branch predictors settle. */
    loop_plain(slots, vals, NSLOTS * 4);
    loop_tc_store(slots, vals, NSLOTS * 4);
    marking_begin();
    loop_buffered(slots, vals, NSLOTS * 4);
    loop_unbuffered(slots, vals, NSLOTS * 4, &gw);
    set_capacity(0);
    loop_perstore(slots, vals, NSLOTS * 4);
    set_capacity(WBBUF_ENTRIES);
    marking_end(&gw);

    double ns[NLOOPS][MAX_REPS];
    for (int r = 0; r < reps; r++) {
        /* The idle pair and the marking pair, each pair in alternating order. */
        for (int k = 0; k < 2; k++) {
            int which = (k + r) % 2 ? TC_STORE_IDLE : PLAIN;
            uint64_t t0 = now_ns();
            if (which == PLAIN)
                loop_plain(slots, vals, (uint64_t)stores);
            else
                loop_tc_store(slots, vals, (uint64_t)stores);
            ns[which][r] = (double)(now_ns() - t0) / (double)stores;
        }
        marking_begin();
        for (int k = 0; k < 3; k++) {
            int which = (k + r) % 3 == 0 ? BUFFERED : (k + r) % 3 == 1 ? UNBUFFERED : PERSTORE;
            uint64_t t0 = now_ns();
            if (which == BUFFERED) {
                loop_buffered(slots, vals, (uint64_t)stores);
            } else if (which == UNBUFFERED) {
                loop_unbuffered(slots, vals, (uint64_t)stores, &gw);
            } else {
                set_capacity(0);
                t0 = now_ns();
                loop_perstore(slots, vals, (uint64_t)stores);
            }
            ns[which][r] = (double)(now_ns() - t0) / (double)stores;
            if (which == PERSTORE)
                set_capacity(WBBUF_ENTRIES);
        }
        marking_end(&gw);
    }

    /* Ratios are medians of per-repetition ratios: the two loops of a
     * ratio run back to back, so a slow stretch of the machine moves both. */
    double idle_ratios[MAX_REPS], mark_ratios[MAX_REPS], slow_ratios[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        idle_ratios[r] = ns[TC_STORE_IDLE][r] / ns[PLAIN][r];
        mark_ratios[r] = ns[UNBUFFERED][r] / ns[BUFFERED][r];
        slow_ratios[r] = ns[PERSTORE][r] / ns[BUFFERED][r];
    }
    double idle_ratio = median(idle_ratios, (int)reps);
    double mark_ratio = median(mark_ratios, (int)reps);
    double slow_ratio = median(slow_ratios, (int)reps);
    double med[NLOOPS], lo[NLOOPS], hi[NLOOPS];
    for (int l = 0; l < NLOOPS; l++) {
        med[l] = median(ns[l], (int)reps); /* sorts */
        lo[l] = ns[l][0];
        hi[l] = ns[l][reps - 1];
    }

    printf("# barrier: %lld stores per loop, %lld repetitions (median, min, max; ratios: median of\n"
           "# per-repetition ratios), %d slots, %d values, stride %llu objects\n",
           stores, reps, NSLOTS, NVALS, (unsigned long long)stride);
    printf("# each store replaces a heap pointer by another; while marking, every value is already\n"
           "# marked (steady state: shading returns early), the same values for both barriers\n\n");
    printf("| loop | collector | ns/store | min | max |\n|---|---|---:|---:|---:|\n");
    for (int l = 0; l < NLOOPS; l++)
        printf("| %s | %s | %.2f | %.2f | %.2f |\n", loop_names[l], loop_phase[l], med[l], lo[l], hi[l]);
    printf("\n");
    printf("idle: tc_store / plain store = %.2fx (target <= 1.2x): %s\n", idle_ratio,
           idle_ratio <= 1.2 ? "met" : "NOT met");
    printf("marking: the library's barrier with no buffer (slow path per store) / buffered = %.2fx "
           "(target >= 3x): %s\n", slow_ratio, slow_ratio >= 3.0 ? "met" : "NOT met");
    printf("marking: bare shading per store (mark_pointer old + new, no publishing) / buffered = %.2fx\n"
           "  (a lower bound for any unbuffered barrier: the shading work itself, which the buffered\n"
           "  barrier does too, at flush time)\n", mark_ratio);

    tc_root_remove(vals);
    tc_shutdown();
    free(vals);
    return 0;
}
