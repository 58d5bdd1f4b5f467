/*
 * gc_pause.c -- benchmark: stop-the-world pauses and operation latency with
 * a big live heap while the collector runs concurrently.
 *
 * The workload is the latency workload of docs/ANCHORS.md, scaled to a
 * 1 GiB live heap by default:
 *
 *   build   a table of NSLOTS slots, each holding a chain of CHAIN typed
 *           128-byte objects (struct node), NSLOTS = live / (CHAIN * 128);
 *           the collector runs as usual while the heap grows; then one
 *           forced cycle settles the pacer on the full live heap;
 *   run     THREADS threads each do OPS / THREADS replacements: pick a
 *           random slot of the thread's own stripe (slot % THREADS), build a
 *           fresh chain and store it into the slot with TC_STORE, making
 *           the old chain garbage.  Every replacement is timed with
 *           clock_gettime(CLOCK_MONOTONIC) into a log-linear histogram
 *           (64 sub-buckets per power of two: values within 1.6%).  The
 *           old chain is checked (length and tags) outside the timed
 *           region, and the whole table is checked after the run: a chain
 *           the collector freed while reachable shows up as a bad tag.
 *
 * Meanwhile the main thread samples tc_read_stats every SAMPLE_MS and
 * collects pause_ns of every cycle that ended (the ring holds 256 cycles;
 * sampling often keeps up with it).  Each ring entry is the total
 * stop-the-world time of one cycle (two stops, more if mark termination
 * found new work), so the largest entry of the run bounds the run's
 * longest single stop from above: the target (< 1 ms) is checked against
 * it.  pause_max_ns, the longest single stop since tc_init, is shown too;
 * it includes the cycles of the build phase.  The GC CPU share of the run
 * is derived from gc_cpu_fraction (a share since tc_init) read at both
 * ends of the run.
 *
 * The table is a malloc'd array registered with tc_root_add (scanned
 * concurrently), or with --table heap one heap array of NSLOTS pointers
 * (one big object, scanned as one piece).  It is never a global: globals
 * are scanned with the world stopped.
 *
 *   build/bench/gc_pause [--quick] [--live-mib N] [--ops N] [--threads N]
 *                        [--table root|heap]
 *
 * TRICOLOR=stw=1 (or any other setting) in the environment is honoured by
 * tc_init and echoed in the output.  Exit status 0; 1 on an allocation
 * failure or corrupted data; 2 on bad usage.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <tricolor.h>

#include "bench.h"

#define CHAIN 2            /* objects per slot */
#define SAMPLE_MS 20       /* how often the main thread reads the statistics */
#define MAX_THREADS 16
#define TAG_MAGIC 0x9e3779b97f4a7c15ull

/* 128 bytes: one pointer and a payload whose first word tags the node. */
struct node {
    struct node *next;
    uint64_t tag;          /* node_tag(slot, depth) */
    uint64_t payload[14];
};

static const tc_type *node_type;
static struct node **table;       /* see the top comment */
static size_t nslots;

static uint64_t node_tag(size_t slot, int depth)
{
    return ((uint64_t)slot * CHAIN + (uint64_t)depth) ^ TAG_MAGIC;
}

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "gc_pause: %s\n", what);
    exit(1);
}

/* A fresh chain for `slot`: the head has depth 0. */
static struct node *new_chain(size_t slot)
{
    struct node *head = NULL;
    for (int d = CHAIN - 1; d >= 0; d--) {
        struct node *n = tc_new(node_type);
        if (n == NULL)
            die("out of memory (tc_new returned NULL)");
        n->tag = node_tag(slot, d);
        n->payload[0] = (uint64_t)slot;
        TC_STORE(n->next, head);
        head = n;
    }
    return head;
}

/* 1 if the chain is exactly what new_chain(slot) builds. */
static int chain_ok(const struct node *n, size_t slot)
{
    for (int d = 0; d < CHAIN; d++, n = n->next)
        if (n == NULL || n->tag != node_tag(slot, d) || n->payload[0] != (uint64_t)slot)
            return 0;
    return n == NULL;
}

/* ---- Latency histogram: exact below 64 ns, then 64 buckets per power of two. */

#define SUB_BITS 6
#define SUB (1u << SUB_BITS)
#define NBUCKETS (64 * SUB)

typedef struct histogram {
    uint64_t count[NBUCKETS];
    uint64_t n, max, over_1ms;
} histogram;

static unsigned bucket_of(uint64_t v)
{
    if (v < SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    return (e - SUB_BITS + 1) * SUB + (unsigned)((v >> (e - SUB_BITS)) & (SUB - 1));
}

/* The middle of bucket b. */
static double bucket_value(unsigned b)
{
    if (b < SUB)
        return b;
    unsigned e = b / SUB + SUB_BITS - 1;
    uint64_t width = (uint64_t)1 << (e - SUB_BITS);
    uint64_t low = ((uint64_t)1 << e) | ((uint64_t)(b % SUB) << (e - SUB_BITS));
    return (double)low + (double)(width - 1) / 2;
}

static void hist_add(histogram *h, uint64_t v)
{
    h->count[bucket_of(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
    if (v > 1000000)
        h->over_1ms++;
}

static void hist_merge(histogram *into, const histogram *h)
{
    for (unsigned b = 0; b < NBUCKETS; b++)
        into->count[b] += h->count[b];
    into->n += h->n;
    into->over_1ms += h->over_1ms;
    if (h->max > into->max)
        into->max = h->max;
}

/* Nearest-rank percentile q (0..1) in ns. */
static double hist_percentile(const histogram *h, double q)
{
    uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999), seen = 0;
    if (rank == 0)
        rank = 1;
    for (unsigned b = 0; b < NBUCKETS; b++) {
        seen += h->count[b];
        if (seen >= rank)
            return bucket_value(b);
    }
    return (double)h->max;
}

/* ---- The worker threads ---------------------------------------------------- */

typedef struct worker {
    pthread_t thread;
    int id, nthreads;
    uint64_t ops;
    uint64_t bad;          /* old chains that failed the check */
    histogram hist;
} worker;

static pthread_barrier_t start_barrier;
static atomic_int workers_running;

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    if (tc_thread_attach() != 0)
        die("tc_thread_attach failed");
    uint64_t seed = 0x243f6a8885a308d3ull + (uint64_t)w->id * 0x13198a2e03707344ull;
    size_t stripe = (nslots - (size_t)w->id + (size_t)w->nthreads - 1) / (size_t)w->nthreads;
    tc_blocking_begin();
    pthread_barrier_wait(&start_barrier);
    tc_blocking_end();
    for (uint64_t i = 0; i < w->ops; i++) {
        size_t slot = (size_t)(rnd(&seed) % stripe) * (size_t)w->nthreads + (size_t)w->id;
        struct node *old = table[slot];
        uint64_t t0 = now_ns();
        struct node *chain = new_chain(slot);
        TC_STORE(table[slot], chain);
        uint64_t t1 = now_ns();
        hist_add(&w->hist, t1 - t0);
        if (!chain_ok(old, slot))
            w->bad++;
    }
    atomic_fetch_sub(&workers_running, 1);
    tc_thread_detach();
    return NULL;
}

/* ---- Statistics sampling ---------------------------------------------------- */

typedef struct pauses {
    uint32_t last_gc;      /* cycles harvested up to here */
    uint64_t *ns;          /* per-cycle stop-the-world totals */
    size_t n, cap, lost;
} pauses;

/* Takes pause_ns of every cycle that ended since the last call.  The entry
 * of cycle k (1-based) is pause_ns[(k - 1) % 256]; a running cycle writes
 * the entry of cycle num_gc - 255, so only the newest 255 are trusted. */
static void harvest(pauses *p, const tc_stats *st)
{
    for (uint32_t k = p->last_gc + 1; k != st->num_gc + 1; k++) {
        if (st->num_gc - k >= 255) {
            p->lost++;
            continue;
        }
        if (p->n == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 64;
            p->ns = realloc(p->ns, p->cap * sizeof *p->ns);
            if (p->ns == NULL)
                die("out of memory (malloc)");
        }
        p->ns[p->n++] = st->pause_ns[(k - 1) % 256];
    }
    p->last_gc = st->num_gc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t percentile_u64(const uint64_t *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(q * (double)n + 0.999999);
    return sorted[rank == 0 ? 0 : rank - 1];
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static double mib(uint64_t b) { return (double)b / (1 << 20); }

/* Whether the comma-separated settings in env include `setting`. */
static int has_setting(const char *env, const char *setting)
{
    size_t n = strlen(setting);
    for (const char *p = env;;) {
        if (strncmp(p, setting, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p = strchr(p, ',');
        if (p == NULL)
            return 0;
        p++;
    }
}

/* ---- main ------------------------------------------------------------------- */

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: gc_pause [--quick] [--live-mib N] [--ops N] [--threads N] [--table root|heap]\n"
            "  --live-mib N   live heap to build, MiB (16..65536; default 1024, --quick 64)\n"
            "  --ops N        replacements in all (1..10^10; default 20000000, --quick 1000000)\n"
            "  --threads N    mutator threads (1..%d; default 1)\n"
            "  --table T      root: malloc'd table registered with tc_root_add (default);\n"
            "                 heap: one heap array of pointers\n"
            "  TRICOLOR=...   collector settings (e.g. stw=1, gcpercent=N) are read by tc_init\n",
            MAX_THREADS);
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

int main(int argc, char **argv)
{
    long long live_mib = -1, ops = -1, threads = 1;
    int quick = 0, heap_table = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--live-mib") == 0)
            live_mib = parse_num(argv[++i], 16, 65536);
        else if (strcmp(argv[i], "--ops") == 0)
            ops = parse_num(argv[++i], 1, 10000000000LL);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = parse_num(argv[++i], 1, MAX_THREADS);
        else if (strcmp(argv[i], "--table") == 0 && i + 1 < argc && strcmp(argv[i + 1], "root") == 0)
            heap_table = 0, i++;
        else if (strcmp(argv[i], "--table") == 0 && i + 1 < argc && strcmp(argv[i + 1], "heap") == 0)
            heap_table = 1, i++;
        else
            usage();
    }
    if (live_mib < 0)
        live_mib = quick ? 64 : 1024;
    if (ops < 0)
        ops = quick ? 1000000 : 20000000;
    if (ops < threads)
        ops = threads;
    const char *env = getenv("TRICOLOR");
    nslots = (size_t)live_mib * (1 << 20) / (CHAIN * sizeof(struct node));

    uint64_t t_init = now_ns();
    int rc = tc_init(NULL);
    if (rc != 0) {
        fprintf(stderr, "gc_pause: tc_init: %s\n", tc_strerror(rc));
        return 1;
    }
    node_type = TC_TYPE(struct node, next);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    /* Build. */
    uint64_t b0 = now_ns();
    if (heap_table) {
        const tc_type *slot_type = tc_type_new("slot", sizeof(void *), (const size_t[]){0}, 1);
        table = tc_new_array(slot_type, nslots);
    } else {
        table = calloc(nslots, sizeof *table);
        if (table != NULL && tc_root_add(table, nslots * sizeof *table) != 0)
            die("tc_root_add failed");
    }
    if (table == NULL)
        die("out of memory for the slot table");
    for (size_t s = 0; s < nslots; s++) {
        struct node *chain = new_chain(s);
        TC_STORE(table[s], chain);
    }
    tc_collect();
    uint64_t build_ns = now_ns() - b0;

    /* Run. */
    tc_stats st0, st;
    tc_read_stats(&st0);
    uint64_t s0 = now_ns(); /* when st0 was read, for gc_cpu_fraction */
    pauses p = {.last_gc = st0.num_gc};
    uint64_t heap_alloc_max = st0.heap_alloc, heap_sys_max = st0.heap_sys;
    worker *w = calloc((size_t)threads, sizeof *w);
    if (w == NULL)
        die("out of memory (malloc)");
    pthread_barrier_init(&start_barrier, NULL, (unsigned)threads + 1);
    atomic_store(&workers_running, (int)threads);
    for (int i = 0; i < threads; i++) {
        w[i].id = i;
        w[i].nthreads = (int)threads;
        w[i].ops = (uint64_t)ops / (uint64_t)threads + ((uint64_t)i < (uint64_t)ops % (uint64_t)threads);
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
            die("pthread_create failed");
    }
    tc_blocking_begin();
    pthread_barrier_wait(&start_barrier);
    uint64_t r0 = now_ns();
    tc_blocking_end();
    while (atomic_load(&workers_running) > 0) {
        /* Sleep as a blocking thread: a stop of the world never waits for us.
         * (tc_read_stats is called outside the blocking region.) */
        tc_blocking_begin();
        nanosleep(&(struct timespec){0, SAMPLE_MS * 1000000L}, NULL);
        tc_blocking_end();
        tc_read_stats(&st);
        harvest(&p, &st);
        if (st.heap_alloc > heap_alloc_max)
            heap_alloc_max = st.heap_alloc;
        if (st.heap_sys > heap_sys_max)
            heap_sys_max = st.heap_sys;
    }
    tc_blocking_begin();
    for (int i = 0; i < threads; i++)
        pthread_join(w[i].thread, NULL);
    tc_blocking_end();
    uint64_t r1 = now_ns();
    tc_read_stats(&st);
    uint64_t s1 = now_ns();
    harvest(&p, &st);
    if (st.heap_sys > heap_sys_max)
        heap_sys_max = st.heap_sys;

    /* Check every slot. */
    uint64_t bad = 0;
    for (int i = 0; i < threads; i++)
        bad += w[i].bad;
    for (size_t s = 0; s < nslots; s++)
        if (!chain_ok(table[s], s))
            bad++;

    histogram *h = calloc(1, sizeof *h);
    if (h == NULL)
        die("out of memory (malloc)");
    for (int i = 0; i < threads; i++)
        hist_merge(h, &w[i].hist);
    if (p.n > 0)
        qsort(p.ns, p.n, sizeof *p.ns, cmp_u64);

    double run_s = (double)(r1 - r0) / 1e9;
    /* gc_cpu_fraction is GC CPU time / (time since tc_init * CPUs); the
     * controller's share of a cycle is added when the cycle ends. */
    double cpu0 = st0.gc_cpu_fraction * (double)(s0 - t_init) * (double)ncpu;
    double cpu1 = st.gc_cpu_fraction * (double)(s1 - t_init) * (double)ncpu;
    double run_frac = (cpu1 - cpu0) / ((double)(s1 - s0) * (double)ncpu);
    if (run_frac < 0)
        run_frac = 0;
    uint64_t pause_max_run = p.n ? p.ns[p.n - 1] : 0;

    printf("# gc_pause: %lld MiB live (%zu slots x %d objects of %zu B, table: %s), "
           "%lld replacements on %lld thread%s, %ld CPUs\n",
           live_mib, nslots, CHAIN, sizeof(struct node), heap_table ? "heap array" : "registered root",
           ops, threads, threads > 1 ? "s" : "", ncpu);
    printf("# mode: %s (TRICOLOR=%s)\n\n",
           env != NULL && has_setting(env, "stw=1") ? "stop-the-world (stw=1)" : "concurrent",
           env != NULL ? env : "unset");
    printf("| metric | value |\n|---|---:|\n");
    printf("| build (%zu chains + one forced cycle) | %.2f s |\n", nslots, (double)build_ns / 1e9);
    printf("| wall time of the run | %.2f s |\n", run_s);
    printf("| throughput | %.2f M ops/s |\n", (double)ops / run_s / 1e6);
    printf("| GC cycles during the run | %u |\n", st.num_gc - st0.num_gc);
    printf("| STW per cycle during the run: max | %.3f ms |\n", (double)pause_max_run / 1e6);
    printf("| STW per cycle during the run: p99 | %.3f ms |\n", (double)percentile_u64(p.ns, p.n, 0.99) / 1e6);
    printf("| STW per cycle during the run: p50 | %.3f ms |\n", (double)percentile_u64(p.ns, p.n, 0.50) / 1e6);
    printf("| operation latency p50 | %.2f us |\n", hist_percentile(h, 0.50) / 1e3);
    printf("| operation latency p99 | %.2f us |\n", hist_percentile(h, 0.99) / 1e3);
    printf("| operation latency p99.9 | %.2f us |\n", hist_percentile(h, 0.999) / 1e3);
    printf("| operation latency max | %.3f ms |\n", (double)h->max / 1e6);
    printf("| operations over 1 ms | %llu |\n", (unsigned long long)h->over_1ms);
    printf("| longest single stop since tc_init, build included (pause_max_ns) | %.3f ms |\n",
           (double)st.pause_max_ns / 1e6);
    printf("| GC CPU share during the run | %.1f%% |\n", 100.0 * run_frac);
    printf("| GC CPU share since tc_init (gc_cpu_fraction) | %.1f%% |\n", 100.0 * st.gc_cpu_fraction);
    printf("| heap_alloc max sampled / heap_sys max | %.0f / %.0f MiB |\n", mib(heap_alloc_max),
           mib(heap_sys_max));
    printf("| peak RSS (ru_maxrss) | %.0f MiB |\n", peak_rss_mib());
    printf("\n");
    if (p.lost)
        printf("note: %zu cycles ended between samples and left the 256-entry pause ring unread\n",
               p.lost);
    printf("Per-cycle STW is the sum of a cycle's stops (pause_ns ring, %zu cycles); "
           "latency buckets are within 1.6%%.\n",
           p.n);
    /* A cycle's pause_ns is the sum of its stops, so the largest entry of
     * the run bounds the run's longest single stop from above. */
    if (p.n > 0)
        printf("target: longest STW pause during the run < 1 ms: %s (at most %.3f ms)\n",
               pause_max_run < 1000000 ? "met" : "NOT met", (double)pause_max_run / 1e6);
    else
        printf("target: longest STW pause during the run < 1 ms: no cycle ran (use more --ops)\n");
    printf("ANCHORS goal: longest operation < 1 ms: %s (%.3f ms)\n",
           h->max < 1000000 ? "met" : "NOT met", (double)h->max / 1e6);

    if (bad) {
        fprintf(stderr, "gc_pause: %llu corrupted chains: the collector freed or overwrote live objects\n",
                (unsigned long long)bad);
        return 1;
    }
    if (!heap_table)
        tc_root_remove(table);
    free(h);
    free(w);
    free(p.ns);
    tc_shutdown();
    if (!heap_table)
        free(table);
    return 0;
}
