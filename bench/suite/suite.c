/*
 * suite.c -- the helpers of suite.h: clock, resources, pause log, latency
 * histogram, argument parsing and the RESULT line.
 *
 * It is compiled into every C program of the suite, once per system, and
 * calls nothing of the system under test: its memory comes from mmap and
 * glibc's malloc (which, in the mimalloc programs, Debian's libmimalloc
 * replaces -- harmless, these blocks are few and outside the timed work).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "suite.h"

const char *suite_prog = "suite";
static uint64_t start_ns;

_Noreturn void suite_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", suite_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

long long suite_arg_num(int argc, char **argv, int *i, long long lo, long long hi,
                        void (*usage)(void))
{
    if (*i + 1 >= argc)
        usage();
    const char *s = argv[++*i];
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        usage();
    return v;
}

const char *suite_arg_str(int argc, char **argv, int *i, void (*usage)(void))
{
    if (*i + 1 >= argc)
        usage();
    return argv[++*i];
}

uint64_t suite_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

double suite_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* VmHWM, the high-water mark of this process's resident memory, KiB.
 * getrusage's ru_maxrss would do, but Linux carries it over execve: a
 * program started by a big parent (the Python runner) inherits the
 * parent's peak.  VmHWM belongs to the address space exec made. */
double suite_peak_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %lld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    if (kib < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kib = ru.ru_maxrss; /* KiB on Linux */
    }
    return (double)kib / 1024.0;
}

void suite_start(const char *prog)
{
    suite_prog = prog;
    start_ns = suite_now_ns();
}

/* ---- Pause log -------------------------------------------------------------- */

void pause_log_init(pause_log *log)
{
    /* Untouched pages cost nothing: only the entries written are faulted in. */
    void *p = mmap(NULL, PAUSE_LOG_CAP * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        suite_die("mmap of the pause log failed");
    log->ns = p;
    log->n = 0;
    log->lost = 0;
}

void pause_log_add(pause_log *log, uint64_t ns)
{
    if (log->n < PAUSE_LOG_CAP)
        log->ns[log->n++] = ns;
    else
        log->lost++;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest entry with at least q * n entries <= it. */
static uint64_t sorted_percentile(const uint64_t *v, size_t n, double q)
{
    size_t rank = (size_t)(q * (double)n);
    if ((double)rank < q * (double)n)
        rank++;
    if (rank == 0)
        rank = 1;
    return v[rank - 1];
}

/* ---- Histogram ------------------------------------------------------------------ */

histogram *hist_new(void)
{
    histogram *h = calloc(1, sizeof *h);
    if (h == NULL)
        suite_die("out of memory (histogram)");
    return h;
}

/* Values below HIST_EXACT have their own bucket; above, a value with
 * highest bit e lands in one of the 2^HIST_SUB_BITS buckets of [2^e, 2^(e+1)),
 * chosen by the HIST_SUB_BITS bits below the highest. */
static unsigned bucket_of(uint64_t v)
{
    if (v < HIST_EXACT)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned sub = (unsigned)(v >> (e - HIST_SUB_BITS)) - (1u << HIST_SUB_BITS);
    return HIST_EXACT + (e - HIST_SUB_BITS - 1) * (1u << HIST_SUB_BITS) + sub;
}

/* The middle of bucket b, ns. */
static double bucket_mid(unsigned b)
{
    if (b < HIST_EXACT)
        return (double)b;
    unsigned k = b - HIST_EXACT;
    unsigned e = k / (1u << HIST_SUB_BITS) + HIST_SUB_BITS + 1;
    uint64_t m = (1u << HIST_SUB_BITS) + k % (1u << HIST_SUB_BITS);
    uint64_t width = (uint64_t)1 << (e - HIST_SUB_BITS);
    return (double)(m * width) + (double)(width - 1) / 2;
}

void hist_add(histogram *h, uint64_t ns)
{
    h->count[bucket_of(ns)]++;
    h->n++;
    if (ns > h->max)
        h->max = ns;
    if (ns > 1000000)
        h->over_1ms++;
}

double hist_percentile(const histogram *h, double q)
{
    if (h->n == 0)
        return 0;
    double want = q * (double)h->n;
    uint64_t seen = 0;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += h->count[b];
        if ((double)seen >= want && seen > 0) {
            double v = bucket_mid(b);
            return v > (double)h->max ? (double)h->max : v;
        }
    }
    return (double)h->max;
}

/* ---- RESULT ----------------------------------------------------------------------- */

void suite_result_begin(const char *bench, const char *system, int threads, gc_report *gc)
{
    double wall = (double)(suite_now_ns() - start_ns) / 1e9;
    printf("RESULT bench=%s system=%s threads=%d wall_s=%.3f cpu_s=%.3f rss_mib=%.1f", bench,
           system, threads, wall, suite_cpu_seconds(), suite_peak_rss_mib());
    if (!gc->has_gc) {
        printf(" gcs=na pauses=na pauses_lost=na pause_max_ms=na pause_p99_ms=na"
               " pause_p50_ms=na pause_total_ms=na");
    } else {
        pause_log *p = &gc->pauses;
        qsort(p->ns, p->n, sizeof *p->ns, cmp_u64);
        uint64_t max = p->n ? p->ns[p->n - 1] : 0, total = 0;
        for (size_t i = 0; i < p->n; i++)
            total += p->ns[i];
        /* A lost entry may have been the longest: the system's own maximum
         * (a single stop, at most a cycle's total) still bounds it. */
        if (gc->single_max_ns > max)
            max = gc->single_max_ns;
        printf(" gcs=%llu pauses=%zu pauses_lost=%llu pause_max_ms=%.3f", (unsigned long long)gc->gcs,
               p->n, (unsigned long long)p->lost, (double)max / 1e6);
        if (p->n)
            printf(" pause_p99_ms=%.3f pause_p50_ms=%.3f", (double)sorted_percentile(p->ns, p->n, 0.99) / 1e6,
                   (double)sorted_percentile(p->ns, p->n, 0.50) / 1e6);
        else
            printf(" pause_p99_ms=na pause_p50_ms=na");
        printf(" pause_total_ms=%.3f", (double)total / 1e6);
    }
    printf(" check=ok");
}
