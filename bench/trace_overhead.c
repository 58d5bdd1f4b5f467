/*
 * trace_overhead.c -- benchmark: what the execution tracer costs a
 * GC-heavy program.
 *
 * The workload is binary-trees (the Benchmarks Game algorithm): a
 * long-lived tree of depth D, then for each depth d = 4, 6, .., D,
 * 2^(D - d + 4) short-lived trees of depth d built bottom-up and checked
 * (node count), all with typed nodes through the write barrier.  It
 * allocates fast and keeps the collector busy: every cycle writes its
 * events (stops, phases, mark work, sweeps, heap samples), and assists and
 * lazy sweeps write theirs from the allocating thread.
 *
 * Each repetition runs the workload twice in this process, once with the
 * tracer off and once tracing to a file (tc_trace_start_file: a writer
 * thread drains the buffers as a real user's would), in alternating order.
 * Figures: median wall time of each, the median of the per-repetition
 * ratios (on / off), events' bytes per second.  Target: on / off <= 1.05.
 * The "off" figure is the cost of the event sites themselves (one
 * predictable branch each): compare it with a build where they compile to
 * nothing to see that it does not show (the sites are not on the allocation
 * fast path, which has none).
 *
 *   build/bench/trace_overhead [--quick] [--depth D] [--reps N] [--out FILE]
 *
 * Exit status 0; 1 on a failure (allocation, a wrong check count, the
 * trace); 2 on bad usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <tricolor.h>

#include "bench.h"

#define MAX_REPS 51

struct node {
    struct node *left, *right;
};

static const tc_type *node_type;

static struct node *make(int depth)
{
    struct node *n = tc_new(node_type);
    if (n == NULL) {
        fprintf(stderr, "trace_overhead: out of memory\n");
        exit(1);
    }
    if (depth > 0) {
        struct node *l = make(depth - 1);
        TC_STORE(n->left, l);
        struct node *r = make(depth - 1);
        TC_STORE(n->right, r);
    }
    return n;
}

static long check(const struct node *n)
{
    return n->left == NULL ? 1 : 1 + check(n->left) + check(n->right);
}

static uint64_t cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* One run of binary-trees; returns its wall time in ns. */
static uint64_t binary_trees(int max_depth)
{
    uint64_t t0 = now_ns();
    struct node *long_lived = make(max_depth);
    for (int d = 4; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + 4), sum = 0;
        for (long i = 0; i < iters; i++)
            sum += check(make(d));
        if (sum != iters * ((1L << (d + 1)) - 1)) {
            fprintf(stderr, "trace_overhead: wrong check at depth %d\n", d);
            exit(1);
        }
    }
    if (check(long_lived) != (1L << (max_depth + 1)) - 1) {
        fprintf(stderr, "trace_overhead: wrong check of the long-lived tree\n");
        exit(1);
    }
    return now_ns() - t0;
}

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: trace_overhead [--quick] [--depth D] [--reps N] [--out FILE]\n"
                    "  --depth D   binary-trees depth (6..24; default 18, --quick 12)\n"
                    "  --reps N    repetitions, each off and on (1..%d; default 9, --quick 2)\n"
                    "  --out FILE  where the trace goes (default a temporary file, removed)\n",
            MAX_REPS);
    exit(2);
}

static long parse_num(const char *s, long lo, long hi)
{
    char *end;
    if (s == NULL)
        usage();
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    int quick = 0;
    long depth = -1, reps = -1;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--depth") == 0)
            depth = parse_num(argv[++i], 6, 24);
        else if (strcmp(argv[i], "--reps") == 0)
            reps = parse_num(argv[++i], 1, MAX_REPS);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else
            usage();
    }
    if (depth < 0)
        depth = quick ? 12 : 18;
    if (reps < 0)
        reps = quick ? 2 : 9;
    char tmp[] = "/tmp/tricolor_trace_overhead_XXXXXX";
    if (out == NULL) {
        int fd = mkstemp(tmp);
        if (fd < 0) {
            perror("trace_overhead: mkstemp");
            return 1;
        }
        close(fd);
        out = tmp;
    }
    int rc = tc_init(NULL);
    if (rc != 0) {
        fprintf(stderr, "trace_overhead: tc_init: %s\n", tc_strerror(rc));
        return 1;
    }
    node_type = TC_TYPE(struct node, left, right);
    binary_trees((int)depth); /* warm-up: the heap grows to its size */

    double off[MAX_REPS], on[MAX_REPS], ratio[MAX_REPS];
    double coff[MAX_REPS], con[MAX_REPS], cratio[MAX_REPS];
    uint64_t trace_bytes = 0, traced_ns = 0;
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < 2; k++) {
            int tracing = (k + r) % 2;
            if (tracing && (rc = tc_trace_start_file(out)) != 0) {
                fprintf(stderr, "trace_overhead: tc_trace_start_file(%s): %s\n", out, tc_strerror(rc));
                return 1;
            }
            uint64_t c0 = cpu_ns();
            uint64_t ns = binary_trees((int)depth);
            if (tracing) {
                if ((rc = tc_trace_stop()) != 0) {
                    fprintf(stderr, "trace_overhead: tc_trace_stop: %s\n", tc_strerror(rc));
                    return 1;
                }
                struct stat sb;
                if (stat(out, &sb) == 0)
                    trace_bytes += (uint64_t)sb.st_size;
                traced_ns += ns;
                on[r] = (double)ns;
                con[r] = (double)(cpu_ns() - c0); /* the writer thread and the stop included */
            } else {
                off[r] = (double)ns;
                coff[r] = (double)(cpu_ns() - c0);
            }
        }
        ratio[r] = on[r] / off[r];
        cratio[r] = con[r] / coff[r];
    }
    tc_stats st;
    tc_read_stats(&st);
    double mr = median(ratio, (int)reps), mc = median(cratio, (int)reps);
    printf("# trace_overhead: binary-trees depth %ld, %ld repetitions (medians), %u cycles in all\n", depth,
           reps, st.num_gc);
    printf("| tracer | wall ms | CPU ms (all threads) |\n|---|---:|---:|\n");
    printf("| off | %.1f | %.1f |\n", median(off, (int)reps) / 1e6, median(coff, (int)reps) / 1e6);
    printf("| on (to a file) | %.1f | %.1f |\n", median(on, (int)reps) / 1e6, median(con, (int)reps) / 1e6);
    printf("\nwall: tracing on / off = %.3fx (target <= 1.05x): %s\n", mr, mr <= 1.05 ? "met" : "NOT met");
    printf("CPU:  tracing on / off = %.3fx\n", mc);
    printf("trace written: %.1f KiB per traced second\n",
           traced_ns ? (double)trace_bytes / 1024.0 / ((double)traced_ns / 1e9) : 0.0);
    tc_shutdown();
    if (out == tmp)
        unlink(tmp);
    return 0;
}
