/*
 * gcbench.c -- GCBench (John Ellis and Pete Kovac, C version by Hans Boehm),
 * for every system of the suite (sys.h): the same code compiled against
 * tricolor, bdwgc, glibc malloc and mimalloc; bench/suite/go/gcbench.go is
 * the same algorithm in Go.
 *
 * What it measures: allocation and collection of binary trees of 24-byte
 * nodes (two pointers, two ints) while a long-lived tree and a big
 * pointer-free array stay live, so every collection has something to
 * trace.  With the classic parameters:
 *
 *   1. a "stretch" tree of depth 18 is built bottom-up and dropped;
 *   2. a long-lived tree of depth 16 is built top-down, and an array of
 *      500 000 doubles (filled in its first half) is allocated;
 *   3. for depth 4, 6, ..., 16: NumIters(depth) = 2 * TreeSize(18) /
 *      TreeSize(depth) short-lived trees are built top-down (a root, then
 *      Populate fills in children), then as many bottom-up (MakeTree
 *      builds the children first); each tree is dropped once built.
 *      --reps repeats this loop (the suite runs it 8 times, as
 *      docs/ANCHORS.md does, so that a run lasts seconds, not tenths);
 *   4. the long-lived tree and the array are checked.
 *
 * Verification: every node records its height (i); the number of nodes
 * made is counted and must equal the exact total the parameters imply; the
 * last tree of every batch, the stretch tree and the long-lived tree are
 * walked and must have the right shape, height marks and node count; the
 * array must hold 1/i.  Any mismatch exits with status 1.  Under
 * malloc and mimalloc every dropped tree is freed by a post-order walk
 * (SYS_MANUAL_FREE); the collectors simply drop the root.
 *
 *   gcbench [--gc MODE] [--reps N] [--stretch-depth N] [--long-depth N]
 *           [--min-depth N] [--max-depth N] [--array N]
 *
 * Prints a few progress lines and one RESULT line (suite.h).
 */
#include "sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gnode {
    struct gnode *left, *right;
    int i, j;              /* i: the node's height (leaves 0); j: unused, as in GCBench */
};

static sys_type gnode_type;
static uint64_t nodes_made;

static struct gnode *new_node(struct gnode *left, struct gnode *right, int height)
{
    struct gnode *n = sys_new(gnode_type);
    if (n == NULL)
        suite_die("out of memory after %llu nodes", (unsigned long long)nodes_made);
    SYS_STORE(n->left, left);
    SYS_STORE(n->right, right);
    n->i = height;
    n->j = 0;
    nodes_made++;
    return n;
}

static uint64_t tree_size(int depth) { return ((uint64_t)1 << (depth + 1)) - 1; }

/* Top-down: gives node (of height `depth`) two children, and so on down. */
static void populate(int depth, struct gnode *node)
{
    if (depth <= 0)
        return;
    depth--;
    SYS_STORE(node->left, new_node(NULL, NULL, depth));
    SYS_STORE(node->right, new_node(NULL, NULL, depth));
    populate(depth, node->left);
    populate(depth, node->right);
}

/* Bottom-up: the children first, then their parent. */
static struct gnode *make_tree(int depth)
{
    if (depth <= 0)
        return new_node(NULL, NULL, 0);
    struct gnode *left = make_tree(depth - 1);
    struct gnode *right = make_tree(depth - 1);
    return new_node(left, right, depth);
}

/* The number of nodes under n if it is a complete tree of the given
 * height with the right marks; 0 if anything is wrong. */
static uint64_t check_tree(const struct gnode *n, int height)
{
    if (n == NULL || n->i != height || n->j != 0)
        return 0;
    if (height == 0)
        return n->left == NULL && n->right == NULL;
    uint64_t l = check_tree(n->left, height - 1), r = check_tree(n->right, height - 1);
    return l && r ? 1 + l + r : 0;
}

static void free_tree(struct gnode *n)
{
    if (n == NULL)
        return;
    free_tree(n->left);
    free_tree(n->right);
    sys_free(n);
}

static void expect_tree(const struct gnode *t, int depth, const char *what)
{
    if (check_tree(t, depth) != tree_size(depth))
        suite_die("%s of depth %d is damaged", what, depth);
}

static uint64_t num_iters(int depth, int stretch_depth)
{
    return 2 * tree_size(stretch_depth) / tree_size(depth);
}

static void time_construction(int depth, int stretch_depth)
{
    uint64_t iters = num_iters(depth, stretch_depth);
    for (uint64_t k = 0; k < iters; k++) {
        struct gnode *t = new_node(NULL, NULL, depth);
        populate(depth, t);
        if (k == iters - 1)
            expect_tree(t, depth, "top-down tree");
        if (SYS_MANUAL_FREE)
            free_tree(t);
    }
    for (uint64_t k = 0; k < iters; k++) {
        struct gnode *t = make_tree(depth);
        if (k == iters - 1)
            expect_tree(t, depth, "bottom-up tree");
        if (SYS_MANUAL_FREE)
            free_tree(t);
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: gcbench [--gc MODE] [--reps N] [--stretch-depth N] [--long-depth N]\n"
            "               [--min-depth N] [--max-depth N] [--array N]\n"
            "  --gc MODE          the system's configuration (bdwgc: default, par, incr)\n"
            "  --reps N           times the short-lived depth loop runs (default 1)\n"
            "  --stretch-depth N  depth of the stretch tree (default 18)\n"
            "  --long-depth N     depth of the long-lived tree (default 16)\n"
            "  --min-depth N, --max-depth N  short-lived depths, step 2 (default 4..16)\n"
            "  --array N          doubles in the long-lived array (default 500000)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    suite_start("gcbench");
    const char *mode = "default";
    int reps = 1, stretch_depth = 18, long_depth = 16, min_depth = 4, max_depth = 16;
    long long array_size = 500000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--gc") == 0)
            mode = suite_arg_str(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--reps") == 0)
            reps = (int)suite_arg_num(argc, argv, &i, 1, 1000, usage);
        else if (strcmp(argv[i], "--stretch-depth") == 0)
            stretch_depth = (int)suite_arg_num(argc, argv, &i, 1, 30, usage);
        else if (strcmp(argv[i], "--long-depth") == 0)
            long_depth = (int)suite_arg_num(argc, argv, &i, 1, 30, usage);
        else if (strcmp(argv[i], "--min-depth") == 0)
            min_depth = (int)suite_arg_num(argc, argv, &i, 1, 30, usage);
        else if (strcmp(argv[i], "--max-depth") == 0)
            max_depth = (int)suite_arg_num(argc, argv, &i, 1, 30, usage);
        else if (strcmp(argv[i], "--array") == 0)
            array_size = suite_arg_num(argc, argv, &i, 2002, 1LL << 30, usage);
        else
            usage();
    }
    if (min_depth > max_depth || max_depth > stretch_depth)
        usage();
    if (sys_init(mode) != 0)
        suite_die("%s has no configuration '%s'", sys_name(), mode);
    gnode_type = SYS_TYPE(struct gnode, left, right);
    printf("gcbench on %s: stretch depth %d, long-lived depth %d, array %lld, depths %d..%d x %d\n",
           sys_name(), stretch_depth, long_depth, array_size, min_depth, max_depth, reps);

    /* 1. Stretch the heap. */
    struct gnode *stretch = make_tree(stretch_depth);
    expect_tree(stretch, stretch_depth, "stretch tree");
    if (SYS_MANUAL_FREE)
        free_tree(stretch);
    stretch = NULL;

    /* 2. The long-lived data. */
    struct gnode *long_lived = new_node(NULL, NULL, long_depth);
    populate(long_depth, long_lived);
    double *array = sys_alloc_noscan((size_t)array_size * sizeof(double));
    if (array == NULL)
        suite_die("out of memory (array)");
    array[0] = 0.0;
    for (long long k = 1; k < array_size / 2; k++)
        array[k] = 1.0 / (double)k;

    /* 3. Short-lived trees. */
    for (int r = 0; r < reps; r++)
        for (int d = min_depth; d <= max_depth; d += 2)
            time_construction(d, stretch_depth);

    /* 4. Everything still there, and all the work done. */
    expect_tree(long_lived, long_depth, "long-lived tree");
    if (array[1000] != 1.0 / 1000.0 || array[array_size / 2 - 1] != 1.0 / (double)(array_size / 2 - 1))
        suite_die("the long-lived array is damaged");
    uint64_t expected = tree_size(stretch_depth) + tree_size(long_depth);
    for (int d = min_depth; d <= max_depth; d += 2)
        expected += (uint64_t)reps * 2 * num_iters(d, stretch_depth) * tree_size(d);
    if (nodes_made != expected)
        suite_die("made %llu nodes, expected %llu", (unsigned long long)nodes_made,
                  (unsigned long long)expected);
    if (SYS_MANUAL_FREE) {
        free_tree(long_lived);
        sys_free(array);
    }

    gc_report gc;
    sys_finish(&gc);
    suite_result_begin("gcbench", sys_name(), 1, &gc);
    printf(" nodes=%llu\n", (unsigned long long)nodes_made);
    return 0;
}
