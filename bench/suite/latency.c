/*
 * latency.c -- the latency workload of docs/ANCHORS.md, for every system
 * of the suite (sys.h): the same code compiled against tricolor, bdwgc,
 * glibc malloc and mimalloc.  bench/suite/go/latency.go is the same
 * algorithm in Go.  (bench/gc_pause.c measures the same kind of workload
 * for tricolor alone, with more detail on its collector.)
 *
 * What it measures: how long single operations take while a big heap of
 * small objects is live and constantly replaced -- the pauses as a user
 * of a cache or an interpreter feels them, whatever causes them (stops of
 * the world, mark assists, sweeping, page faults, free()).
 *
 *   build  a table of NSLOTS slots, each holding a chain of CHAIN 128-byte
 *          nodes (one pointer, a tag, 14 words of payload), NSLOTS =
 *          live / (CHAIN * 128): 1 GiB live by default.  The table is
 *          calloc'd and registered as a root (sys_root_add).  Then one full
 *          collection (sys_collect) so that every collector starts the run
 *          with the whole live heap known;
 *   run    OPS replacements on one thread: pick a slot at random
 *          (xorshift, fixed seed), check its chain, then -- timed with two
 *          clock_gettime(CLOCK_MONOTONIC) calls -- build a fresh chain,
 *          store it into the slot (SYS_STORE) and, under malloc and
 *          mimalloc, free the old chain.  Each time goes into a histogram
 *          (suite.h: within 0.8%, the maximum exact);
 *   check  every slot's chain: length, tags and payload.  A chain a
 *          collector freed while it was reachable shows up as a bad tag.
 *
 * Reported on the RESULT line, besides the common fields: ops, build_s,
 * run_s, op_p50_us, op_p99_us, op_p999_us, op_max_ms and ops_over_1ms.
 *
 *   latency [--gc MODE] [--live-mib N] [--ops N]
 */
#include "sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN 2
#define PAYLOAD_WORDS 14
#define TAG_KEY 0x2545f4914f6cdd1dull

struct lnode {
    struct lnode *next;
    uint64_t tag;                    /* node_tag(slot, position in the chain) */
    uint64_t payload[PAYLOAD_WORDS]; /* payload[k] = slot * 16 + k */
};

static sys_type lnode_type;

static uint64_t node_tag(uint64_t slot, int pos) { return (slot * CHAIN + (uint64_t)pos) * TAG_KEY; }

static struct lnode *new_chain(uint64_t slot)
{
    struct lnode *head = NULL;
    for (int pos = CHAIN - 1; pos >= 0; pos--) {
        struct lnode *n = sys_new(lnode_type);
        if (n == NULL)
            suite_die("out of memory building slot %llu", (unsigned long long)slot);
        n->tag = node_tag(slot, pos);
        for (int k = 0; k < PAYLOAD_WORDS; k++)
            n->payload[k] = slot * 16 + (uint64_t)k;
        SYS_STORE(n->next, head);
        head = n;
    }
    return head;
}

static int chain_ok(const struct lnode *n, uint64_t slot)
{
    for (int pos = 0; pos < CHAIN; pos++, n = n->next)
        if (n == NULL || n->tag != node_tag(slot, pos) || n->payload[0] != slot * 16 ||
            n->payload[PAYLOAD_WORDS - 1] != slot * 16 + PAYLOAD_WORDS - 1)
            return 0;
    return n == NULL;
}

static void free_chain(struct lnode *n)
{
    while (n != NULL) {
        struct lnode *next = n->next;
        sys_free(n);
        n = next;
    }
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: latency [--gc MODE] [--live-mib N] [--ops N]\n"
            "  --gc MODE     the system's configuration (bdwgc: default, par, incr)\n"
            "  --live-mib N  live heap, MiB (1..65536; default 1024)\n"
            "  --ops N       replacements (1..10^11; default 10000000)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    suite_start("latency");
    const char *mode = "default";
    long long live_mib = 1024, ops = 10000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--gc") == 0)
            mode = suite_arg_str(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--live-mib") == 0)
            live_mib = suite_arg_num(argc, argv, &i, 1, 65536, usage);
        else if (strcmp(argv[i], "--ops") == 0)
            ops = suite_arg_num(argc, argv, &i, 1, 100000000000LL, usage);
        else
            usage();
    }
    if (sys_init(mode) != 0)
        suite_die("%s has no configuration '%s'", sys_name(), mode);
    lnode_type = SYS_TYPE(struct lnode, next);
    uint64_t nslots = (uint64_t)live_mib * (1 << 20) / (CHAIN * sizeof(struct lnode));
    printf("latency on %s: %llu MiB live (%llu slots x %d nodes of %zu B), %lld replacements\n",
           sys_name(), live_mib, (unsigned long long)nslots, CHAIN, sizeof(struct lnode), ops);
    histogram *h = hist_new();

    /* Build. */
    uint64_t b0 = suite_now_ns();
    size_t table_bytes = (size_t)nslots * sizeof(struct lnode *);
    struct lnode **table = calloc((size_t)nslots, sizeof *table);
    if (table == NULL)
        suite_die("out of memory (table)");
    sys_root_add(table, table_bytes);
    for (uint64_t s = 0; s < nslots; s++)
        SYS_STORE(table[s], new_chain(s));
    sys_collect();

    /* Run. */
    uint64_t r0 = suite_now_ns(), seed = 0x9e3779b97f4a7c15ull, bad = 0;
    for (long long i = 0; i < ops; i++) {
        uint64_t s = xorshift(&seed) % nslots;
        struct lnode *old = table[s];
        if (!chain_ok(old, s))
            bad++;
        uint64_t t0 = suite_now_ns();
        struct lnode *fresh = new_chain(s);
        SYS_STORE(table[s], fresh);
        if (SYS_MANUAL_FREE)
            free_chain(old);
        uint64_t t1 = suite_now_ns();
        hist_add(h, t1 - t0);
    }
    uint64_t r1 = suite_now_ns();

    /* Check. */
    for (uint64_t s = 0; s < nslots; s++)
        if (!chain_ok(table[s], s))
            bad++;
    if (bad)
        suite_die("%llu damaged chains: live objects were freed or overwritten", (unsigned long long)bad);
    if (SYS_MANUAL_FREE)
        for (uint64_t s = 0; s < nslots; s++)
            free_chain(table[s]);

    gc_report gc;
    sys_finish(&gc);
    suite_result_begin("latency", sys_name(), 1, &gc);
    printf(" live_mib=%lld ops=%lld build_s=%.3f run_s=%.3f op_p50_us=%.3f op_p99_us=%.3f"
           " op_p999_us=%.3f op_max_ms=%.3f ops_over_1ms=%llu\n",
           live_mib, ops, (double)(r0 - b0) / 1e9, (double)(r1 - r0) / 1e9,
           hist_percentile(h, 0.50) / 1e3, hist_percentile(h, 0.99) / 1e3,
           hist_percentile(h, 0.999) / 1e3, (double)h->max / 1e6,
           (unsigned long long)h->over_1ms);
    sys_root_remove(table, table_bytes);
    free(table);
    free(h);
    return 0;
}
