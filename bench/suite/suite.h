/*
 * suite.h -- what every program of the cross-system benchmark suite shares,
 * whatever memory manager it runs on: the clock, the pause log, the
 * operation-latency histogram, argument parsing and the one RESULT line
 * that bench/run_suite.py parses.
 *
 * Nothing here allocates from the system under test.  The pause log is an
 * mmap'd array of fixed capacity, filled without locks or allocation, so
 * that bdwgc can append to it from its collection callback while the world
 * is stopped (a stopped thread may hold malloc's lock).  The histogram is
 * plain malloc'd memory that holds no heap pointers.
 *
 * The RESULT line is `RESULT key=value ...` on stdout, one per run, with
 * the fields described in bench/README.md ("Columns").  Fields a system
 * cannot report (GC counts of malloc, say) print as `na`.
 */
#ifndef SUITE_H
#define SUITE_H

#include <stddef.h>
#include <stdint.h>

/* ---- Errors and arguments ------------------------------------------------ */

/* The program's name for messages ("gcbench", ...); set by suite_start. */
extern const char *suite_prog;

/* Prints "<prog>: <message>" on stderr and exits with status 1. */
_Noreturn void suite_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value of argv[*i + 1] as an integer in [lo, hi]; advances *i.  A
 * missing or malformed value, or one out of range, calls usage(). */
long long suite_arg_num(int argc, char **argv, int *i, long long lo, long long hi,
                        void (*usage)(void));

/* The string after argv[*i]; advances *i; usage() if there is none. */
const char *suite_arg_str(int argc, char **argv, int *i, void (*usage)(void));

/* ---- Time and resources ---------------------------------------------------- */

uint64_t suite_now_ns(void);      /* CLOCK_MONOTONIC */
double suite_cpu_seconds(void);   /* user + system time of the whole process */
double suite_peak_rss_mib(void);  /* VmHWM of /proc/self/status (ru_maxrss if missing) */

/* Records the program's name and the start of its wall-clock time.  The
 * first call of main, before the memory manager is initialised. */
void suite_start(const char *prog);

/* ---- Pause log ---------------------------------------------------------------- */

/* One entry per garbage-collection cycle: the time the world was stopped
 * in that cycle, ns.  Appending is lock-free for one writer at a time
 * (the collector's callback, or the one sampling thread). */
typedef struct pause_log {
    uint64_t *ns;          /* mmap'd, PAUSE_LOG_CAP entries */
    size_t n;              /* entries recorded */
    uint64_t lost;         /* cycles whose pause could not be read, or did not fit */
} pause_log;

#define PAUSE_LOG_CAP (1u << 22)

void pause_log_init(pause_log *log);
void pause_log_add(pause_log *log, uint64_t ns);

/* ---- Operation-latency histogram ------------------------------------------------ */

/* Exact below 128 ns; above, 64 buckets per power of two, so a reported
 * percentile is within 1/128 (0.8%) of the true value.  The maximum is exact. */
#define HIST_SUB_BITS 6
#define HIST_EXACT (2u << HIST_SUB_BITS)           /* 128 */
#define HIST_BUCKETS (HIST_EXACT + (64 - HIST_SUB_BITS - 1) * (1u << HIST_SUB_BITS))

typedef struct histogram {
    uint64_t n, max, over_1ms;
    uint64_t count[HIST_BUCKETS];
} histogram;

histogram *hist_new(void);
void hist_add(histogram *h, uint64_t ns);
double hist_percentile(const histogram *h, double q); /* q in (0, 1]; ns */

/* ---- The result line --------------------------------------------------------------- */

/* What the memory manager reports about its collections; has_gc 0 for
 * malloc and mimalloc. */
typedef struct gc_report {
    int has_gc;
    uint64_t gcs;              /* cycles since initialisation */
    uint64_t single_max_ns;    /* longest single stop, where the system tells it (tricolor), else 0 */
    pause_log pauses;          /* per-cycle stop-the-world time */
} gc_report;

/* Prints "RESULT bench=... system=... threads=... wall_s=... cpu_s=...
 * rss_mib=... gcs=... pauses=... pauses_lost=... pause_max_ms=...
 * pause_p99_ms=... pause_p50_ms=... pause_total_ms=... check=ok" without
 * the newline; the caller adds its own fields and ends the line.  Wall
 * time runs from suite_start to this call.  Sorts gc->pauses. */
void suite_result_begin(const char *bench, const char *system, int threads, gc_report *gc);

#endif /* SUITE_H */
