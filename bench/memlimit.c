/*
 * memlimit.c -- benchmark: giving memory back to the OS, and holding a
 * heap under a memory limit.  Each scenario runs in a fresh child process,
 * so its RSS is its own.
 *
 *   spike   16 MiB live (512-byte objects) under the default settings, then
 *           a spike of SPIKE MiB (256 KiB noscan objects, every byte
 *           written) that is dropped and collected twice; RSS and
 *           memory_total are sampled every SAMPLE_MS until they are back
 *           within RETURN_SLACK of where they were (or RETURN_TIMEOUT
 *           passes).  The background scavenger runs at its default share of
 *           a CPU.  Then the same spike is allocated again: its time and
 *           minor page faults are printed against the number of 4 KiB pages
 *           (each released page costs the kernel one fault and one zeroed
 *           page when reused; more than that would be the scavenger
 *           releasing what the program is about to use).  Last, RSS after
 *           tc_shutdown.
 *   limit   gcpercent=-1 and a LIMIT MiB memory limit: LIVE MiB of live
 *           leaves (OBJ bytes each, written, noscan, in 4 KiB pointer-table
 *           chunks) built, then CHURN MiB of random leaf replacements; the
 *           statistics are read every 16 allocations and RSS every 64 for
 *           the peaks of memory_total and RSS.  Every leaf is checked at the
 *           end.
 *
 *   build/bench/memlimit [--quick] [--spike-mib N] [--live-mib N] [--limit-mib N]
 *                        [--churn-mib N] [--obj N] [--only spike|limit]
 *
 * Defaults: a 1 GiB spike; 200 MiB live under a 256 MiB limit, 2 GiB of
 * churn, 16 KiB leaves.  --quick: a 64 MiB spike (followed for 0.3 s),
 * 48 MiB live under 64 MiB, 256 MiB of churn: about a second in all.  TRICOLOR settings apply as usual.
 * Exit status 0; 1 on an allocation failure or a corrupted leaf; 2 on bad
 * usage; 3 if a scenario's child failed to run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tricolor.h>

#include "bench.h"

#include "gc/scavenger.h"

#define MiB ((uint64_t)1 << 20)
#define SAMPLE_MS 100
#define RETURN_SLACK (16 * MiB)
#define SPIKE_OBJ (256u << 10)
#define LIVE_SMALL 32768           /* 16 MiB of 512-byte objects */
#define CHUNK 512                  /* pointers per table chunk */

static struct {
    int quick;
    long spike_mib, live_mib, limit_mib, churn_mib, obj;
    const char *only;
} cfg;

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static double mib(uint64_t b) { return (double)b / (double)MiB; }

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "memlimit: %s\n", what);
    exit(1);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- spike ------------------------------------------------------------------ */

void *bench_live_small[LIVE_SMALL];   /* globals (external: their stores stay) */
void **bench_spike;                   /* the spike's table (a heap object) */

static void spike_alloc(size_t n)
{
    bench_spike = tc_alloc(n * sizeof(void *));
    if (bench_spike == NULL)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        void *p = tc_alloc_noscan(SPIKE_OBJ);
        if (p == NULL)
            die("out of memory");
        memset(p, 0x5a, SPIKE_OBJ);
        tc_store(&bench_spike[i], p);
    }
}

static int run_spike(void)
{
    uint64_t rss_pre = rss_bytes();
    if (tc_init(NULL) != 0)
        return 3;
    for (int i = 0; i < LIVE_SMALL; i++) {
        void *p = tc_alloc_noscan(512);
        if (p == NULL)
            die("out of memory");
        memset(p, 1, 512);
        bench_live_small[i] = p;
    }
    tc_collect();
    tc_collect();
    tc_stats st;
    tc_read_stats(&st);
    uint64_t rss0 = rss_bytes(), tot0 = st.memory_total;
    size_t n = (size_t)((uint64_t)cfg.spike_mib * MiB / SPIKE_OBJ);
    uint64_t t0 = now_ns();
    spike_alloc(n);
    double grow_s = (double)(now_ns() - t0) / 1e9;
    tc_read_stats(&st);
    uint64_t rss1 = rss_bytes(), tot1 = st.memory_total;
    bench_spike = NULL;
    tc_collect();
    tc_collect();
    tc_read_stats(&st);
    uint64_t rss2 = rss_bytes(), tot2 = st.memory_total;

    printf("# spike: %ld MiB of %u KiB objects over 16 MiB live, default settings (TRICOLOR=%s)\n",
           cfg.spike_mib, SPIKE_OBJ >> 10, getenv("TRICOLOR") ? getenv("TRICOLOR") : "");
    printf("%-28s %10s %14s\n", "when", "RSS MiB", "memory_total");
    printf("%-28s %10.1f %14.1f\n", "before", mib(rss0), mib(tot0));
    printf("%-28s %10.1f %14.1f   (allocated in %.2f s)\n", "with the spike", mib(rss1), mib(tot1), grow_s);
    printf("%-28s %10.1f %14.1f\n", "dropped, 2 collections", mib(rss2), mib(tot2));

    double timeout = cfg.quick ? 0.3 : 30.0;
    uint64_t t1 = now_ns(), rss3 = rss2, tot3 = tot2;
    int half_printed = 0;
    scavenger_stats s0 = scavenger_read_stats();
    while ((double)(now_ns() - t1) / 1e9 < timeout) {
        struct timespec ts = {0, SAMPLE_MS * 1000000L};
        nanosleep(&ts, NULL);
        tc_read_stats(&st);
        rss3 = rss_bytes();
        tot3 = st.memory_total;
        if (!half_printed && tot3 <= tot0 + (tot2 - tot0) / 2) {
            printf("%-28s %10.1f %14.1f   (after %.2f s)\n", "half given back", mib(rss3), mib(tot3),
                   (double)(now_ns() - t1) / 1e9);
            half_printed = 1;
        }
        if (rss3 <= rss0 + RETURN_SLACK && tot3 <= tot0 + RETURN_SLACK)
            break;
    }
    double return_s = (double)(now_ns() - t1) / 1e9;
    scavenger_stats s1 = scavenger_read_stats();
    tc_read_stats(&st);
    printf("%-28s %10.1f %14.1f   (after %.2f s%s)\n", "given back", mib(rss3), mib(tot3), return_s,
           rss3 <= rss0 + RETURN_SLACK ? "" : ", timed out");
    printf("scavenger: %.1f MiB released in %.1f ms of work (%.2f%% of the wall time), %.0f MiB/s\n",
           mib(s1.released_bytes - s0.released_bytes), (double)(s1.work_ns - s0.work_ns) / 1e6,
           100.0 * (double)(s1.work_ns - s0.work_ns) / (double)(now_ns() - t1),
           mib(s1.released_bytes - s0.released_bytes) / return_s);

    long f0 = minor_faults();
    uint64_t t2 = now_ns();
    spike_alloc(n);
    double regrow_s = (double)(now_ns() - t2) / 1e9;
    long faults = minor_faults() - f0;
    long pages = (long)((uint64_t)cfg.spike_mib * MiB / 4096);
    tc_read_stats(&st);
    printf("regrow: %.2f s, %ld minor faults for %ld pages (%.2f per page), RSS %.1f MiB, memory_total %.1f MiB\n",
           regrow_s, faults, pages, (double)faults / (double)pages, mib(rss_bytes()), mib(st.memory_total));
    bench_spike = NULL;
    tc_shutdown();
    printf("after tc_shutdown: RSS %.1f MiB (%.1f MiB before tc_init)\n", mib(rss_bytes()), mib(rss_pre));
    return 0;
}

/* ---- limit ------------------------------------------------------------------ */

void **bench_chunks[65536];

static uint64_t leaf_tag(size_t i, uint64_t gen) { return (uint64_t)i * 0x9e3779b97f4a7c15ull ^ gen; }

static int run_limit(void)
{
    uint64_t limit = (uint64_t)cfg.limit_mib * MiB, obj = (uint64_t)cfg.obj;
    tc_options o = {.gc_percent = -1, .memory_limit = (int64_t)limit};
    if (tc_init(&o) != 0)
        return 3;
    size_t n = (size_t)((uint64_t)cfg.live_mib * MiB / obj), nchunks = (n + CHUNK - 1) / CHUNK;
    if (nchunks > sizeof bench_chunks / sizeof bench_chunks[0])
        die("too many leaves");
    uint64_t *gens = calloc(n, sizeof *gens);
    if (gens == NULL)
        die("out of memory");
    for (size_t c = 0; c < nchunks; c++)
        if ((bench_chunks[c] = tc_alloc(CHUNK * sizeof(void *))) == NULL)
            die("out of memory");
    size_t total = n + (size_t)((uint64_t)cfg.churn_mib * MiB / obj);
    uint64_t x = 0x2545f4914f6cdd1dull, peak_total = 0, peak_rss = 0, t0 = now_ns(), t_built = 0;
    tc_stats st;
    for (size_t k = 0; k < total; k++) {
        if (k == n)
            t_built = now_ns();
        size_t i = k < n ? k : (size_t)(rnd(&x) % n);
        uint64_t *p = tc_alloc_noscan(obj);
        if (p == NULL)
            die("out of memory");
        memset(p, 0x5a, obj);
        p[0] = leaf_tag(i, k);
        tc_store(&bench_chunks[i / CHUNK][i % CHUNK], p);
        gens[i] = k;
        if (k % 16 == 0) {
            tc_read_stats(&st);
            if (st.memory_total > peak_total)
                peak_total = st.memory_total;
        }
        if (k % 64 == 0) {
            uint64_t r = rss_bytes();
            if (r > peak_rss)
                peak_rss = r;
        }
    }
    double churn_s = (double)(now_ns() - t_built) / 1e9;
    (void)t0;
    for (size_t i = 0; i < n; i++) {
        uint64_t *p = bench_chunks[i / CHUNK][i % CHUNK];
        if (p[0] != leaf_tag(i, gens[i]))
            die("corrupted leaf");
    }
    free(gens);
    tc_read_stats(&st);
    printf("# limit: %ld MiB live in %ld-byte leaves, memory limit %ld MiB, gcpercent=-1, %ld MiB churn "
           "(TRICOLOR=%s)\n",
           cfg.live_mib, cfg.obj, cfg.limit_mib, cfg.churn_mib, getenv("TRICOLOR") ? getenv("TRICOLOR") : "");
    printf("peak memory_total %.1f MiB (%.1f%% of the limit), peak RSS %.1f MiB\n", mib(peak_total),
           100.0 * (double)peak_total / (double)limit, mib(peak_rss));
    printf("%u cycles (%u ended over the limit), limiter on %.1f ms, GC CPU %.1f%%, %.1f MiB released, "
           "churn %.2f s (%.0f MiB/s)\n",
           st.num_gc, st.limit_exceeded_cycles, (double)st.limiter_ns / 1e6, st.gc_cpu_fraction * 100,
           mib(st.released_total), churn_s, churn_s > 0 ? (double)cfg.churn_mib / churn_s : 0.0);
    tc_shutdown();
    return 0;
}

/* ---- main ------------------------------------------------------------------- */

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: memlimit [--quick] [--spike-mib N] [--live-mib N] [--limit-mib N] [--churn-mib N]\n"
            "                [--obj N] [--only spike|limit]\n"
            "  --spike-mib N  the spike, MiB (16..65536; default 1024, --quick 64)\n"
            "  --live-mib N   live heap under the limit, MiB (1..65536; default 200, --quick 48)\n"
            "  --limit-mib N  the memory limit, MiB (1..65536; default 256, --quick 64)\n"
            "  --churn-mib N  replacements under the limit, MiB (0..10^6; default 2048, --quick 256)\n"
            "  --obj N        leaf size under the limit, bytes (16..1048576; default 16384)\n");
    exit(2);
}

static long parse_num(const char *s, long lo, long hi)
{
    char *end;
    if (s == NULL)
        usage();
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v < lo || v > hi)
        usage();
    return v;
}

/* Runs fn in a child; its exit status. */
static int in_child(int (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 3;
    if (pid == 0) {
        int rc = fn();
        fflush(stdout);
        _exit(rc);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return 3;
    return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
    cfg.spike_mib = cfg.live_mib = cfg.limit_mib = cfg.churn_mib = -1;
    cfg.obj = 16384;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            cfg.quick = 1;
        else if (strcmp(argv[i], "--spike-mib") == 0)
            cfg.spike_mib = parse_num(argv[++i], 16, 65536);
        else if (strcmp(argv[i], "--live-mib") == 0)
            cfg.live_mib = parse_num(argv[++i], 1, 65536);
        else if (strcmp(argv[i], "--limit-mib") == 0)
            cfg.limit_mib = parse_num(argv[++i], 1, 65536);
        else if (strcmp(argv[i], "--churn-mib") == 0)
            cfg.churn_mib = parse_num(argv[++i], 0, 1000000);
        else if (strcmp(argv[i], "--obj") == 0)
            cfg.obj = parse_num(argv[++i], 16, 1 << 20);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
                 (strcmp(argv[i + 1], "spike") == 0 || strcmp(argv[i + 1], "limit") == 0))
            cfg.only = argv[++i];
        else
            usage();
    }
    if (cfg.spike_mib < 0)
        cfg.spike_mib = cfg.quick ? 64 : 1024;
    if (cfg.live_mib < 0)
        cfg.live_mib = cfg.quick ? 48 : 200;
    if (cfg.limit_mib < 0)
        cfg.limit_mib = cfg.quick ? 64 : 256;
    if (cfg.churn_mib < 0)
        cfg.churn_mib = cfg.quick ? 256 : 2048;
    int rc = 0;
    if (cfg.only == NULL || strcmp(cfg.only, "spike") == 0)
        rc = in_child(run_spike);
    if (rc == 0 && (cfg.only == NULL || strcmp(cfg.only, "limit") == 0)) {
        if (cfg.only == NULL)
            printf("\n");
        rc = in_child(run_limit);
    }
    return rc;
}
