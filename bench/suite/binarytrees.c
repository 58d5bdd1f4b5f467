/*
 * binarytrees.c -- binary-trees, the Computer Language Benchmarks Game
 * algorithm, for every system of the suite (sys.h); the same code compiled
 * against tricolor, bdwgc, glibc malloc and mimalloc.
 * bench/suite/go/binarytrees.go is the same algorithm in Go.
 *
 * What it measures: the cost of allocating and dropping a very large
 * number of small (16-byte, two-pointer) objects while one big tree stays
 * live -- allocation throughput, collection throughput, and with
 * --threads 2 how both scale when two threads allocate at once.
 *
 * The algorithm, for a maximum depth N (the suite uses 21):
 *
 *   1. a stretch tree of depth N + 1 is built bottom-up, checked, dropped;
 *   2. a long-lived tree of depth N is built;
 *   3. for depth d = 4, 6, ..., N: 2^(N - d + 4) trees of depth d are
 *      built, checked and dropped, one at a time;
 *   4. the long-lived tree is checked.
 *
 * A tree is built bottom-up (both children, then the node) and "checked"
 * by counting its nodes (item_check), as the Benchmarks Game programs do.
 * The sums are printed in the Benchmarks Game's format and compared with
 * the exact values (a tree of depth d has 2^(d+1) - 1 nodes); any
 * difference exits with status 1.
 *
 * With --threads T, the main thread does steps 1, 2 and 4 and T worker
 * threads share step 3: worker w builds the trees whose index i (within
 * each depth) has i % T == w.  Workers are registered with the system
 * (tricolor: tc_thread_attach/tc_thread_detach), and the main thread
 * waits for them in a blocking region.  With --threads 1 the main thread
 * does step 3 itself.  Under malloc and mimalloc every dropped tree is
 * freed by a post-order walk after its check.
 *
 *   binarytrees [--gc MODE] [--depth N] [--threads T]
 *
 * Prints the Benchmarks Game's lines and one RESULT line (suite.h).
 */
#include "sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_DEPTH 4
#define MAX_THREADS 64

struct tnode {
    struct tnode *left, *right;
};

static sys_type tnode_type;

static struct tnode *bottom_up_tree(int depth)
{
    struct tnode *left = NULL, *right = NULL;
    if (depth > 0) {
        left = bottom_up_tree(depth - 1);
        right = bottom_up_tree(depth - 1);
    }
    struct tnode *n = sys_new(tnode_type);
    if (n == NULL)
        suite_die("out of memory");
    SYS_STORE(n->left, left);
    SYS_STORE(n->right, right);
    return n;
}

static uint64_t item_check(const struct tnode *n)
{
    if (n->left == NULL)
        return 1;
    return 1 + item_check(n->left) + item_check(n->right);
}

static void free_tree(struct tnode *n)
{
    if (n->left != NULL) {
        free_tree(n->left);
        free_tree(n->right);
    }
    sys_free(n);
}

static uint64_t tree_nodes(int depth) { return ((uint64_t)1 << (depth + 1)) - 1; }

/* Builds, checks and drops `iterations` trees of `depth`: those of index
 * first, first + step, ...  Returns the sum of their checks. */
static uint64_t churn(int depth, uint64_t iterations, uint64_t first, uint64_t step)
{
    uint64_t check = 0;
    for (uint64_t i = first; i < iterations; i += step) {
        struct tnode *t = bottom_up_tree(depth);
        check += item_check(t);
        if (SYS_MANUAL_FREE)
            free_tree(t);
    }
    return check;
}

typedef struct worker {
    pthread_t thread;
    int id, nthreads, max_depth;
    uint64_t check[32];    /* by depth */
} worker;

static uint64_t iterations_at(int depth, int max_depth)
{
    return (uint64_t)1 << (max_depth - depth + MIN_DEPTH);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    sys_thread_begin();
    for (int d = MIN_DEPTH; d <= w->max_depth; d += 2)
        w->check[d] = churn(d, iterations_at(d, w->max_depth), (uint64_t)w->id, (uint64_t)w->nthreads);
    sys_thread_end();
    return NULL;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: binarytrees [--gc MODE] [--depth N] [--threads T]\n"
            "  --gc MODE    the system's configuration (bdwgc: default, par, incr)\n"
            "  --depth N    maximum depth (%d..28; default 21)\n"
            "  --threads T  threads building the short-lived trees (1..%d; default 1)\n",
            MIN_DEPTH + 2, MAX_THREADS);
    exit(2);
}

int main(int argc, char **argv)
{
    suite_start("binarytrees");
    const char *mode = "default";
    int max_depth = 21, nthreads = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--gc") == 0)
            mode = suite_arg_str(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--depth") == 0)
            max_depth = (int)suite_arg_num(argc, argv, &i, MIN_DEPTH + 2, 28, usage);
        else if (strcmp(argv[i], "--threads") == 0)
            nthreads = (int)suite_arg_num(argc, argv, &i, 1, MAX_THREADS, usage);
        else
            usage();
    }
    if (sys_init(mode) != 0)
        suite_die("%s has no configuration '%s'", sys_name(), mode);
    tnode_type = SYS_TYPE(struct tnode, left, right);
    int failed = 0;

    /* 1. Stretch. */
    struct tnode *stretch = bottom_up_tree(max_depth + 1);
    uint64_t c = item_check(stretch);
    printf("stretch tree of depth %d\t check: %llu\n", max_depth + 1, (unsigned long long)c);
    failed |= c != tree_nodes(max_depth + 1);
    if (SYS_MANUAL_FREE)
        free_tree(stretch);
    stretch = NULL;

    /* 2. Long-lived. */
    struct tnode *long_lived = bottom_up_tree(max_depth);

    /* 3. Short-lived trees, on the main thread or shared by workers. */
    uint64_t check[32] = {0};
    if (nthreads == 1) {
        for (int d = MIN_DEPTH; d <= max_depth; d += 2)
            check[d] = churn(d, iterations_at(d, max_depth), 0, 1);
    } else {
        worker *w = calloc((size_t)nthreads, sizeof *w);
        if (w == NULL)
            suite_die("out of memory (workers)");
        for (int t = 0; t < nthreads; t++) {
            w[t].id = t;
            w[t].nthreads = nthreads;
            w[t].max_depth = max_depth;
            if (pthread_create(&w[t].thread, NULL, worker_main, &w[t]) != 0)
                suite_die("pthread_create failed");
        }
        sys_wait_begin();
        for (int t = 0; t < nthreads; t++)
            pthread_join(w[t].thread, NULL);
        sys_wait_end();
        for (int t = 0; t < nthreads; t++)
            for (int d = MIN_DEPTH; d <= max_depth; d += 2)
                check[d] += w[t].check[d];
        free(w);
    }
    for (int d = MIN_DEPTH; d <= max_depth; d += 2) {
        uint64_t iters = iterations_at(d, max_depth);
        printf("%llu\t trees of depth %d\t check: %llu\n", (unsigned long long)iters, d,
               (unsigned long long)check[d]);
        failed |= check[d] != iters * tree_nodes(d);
    }

    /* 4. The long-lived tree survived everything. */
    c = item_check(long_lived);
    printf("long lived tree of depth %d\t check: %llu\n", max_depth, (unsigned long long)c);
    failed |= c != tree_nodes(max_depth);
    if (failed)
        suite_die("a check differs from the exact node count");
    if (SYS_MANUAL_FREE)
        free_tree(long_lived);

    gc_report gc;
    sys_finish(&gc);
    suite_result_begin("binarytrees", sys_name(), nthreads, &gc);
    printf(" depth=%d\n", max_depth);
    return 0;
}
