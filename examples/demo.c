/*
 * demo.c -- what `make demo` runs: an allocation workload on the tricolor
 * heap, then a report of what the allocator did.
 *
 * Two threads each build binary trees of typed nodes, strings of assorted
 * lengths (pointer-free) and a few large buffers, as an interpreter or a
 * document model would.  Then the program walks the heap and prints the
 * objects by size, and the statistics: bytes in objects, in spans, mapped
 * from the OS, and GC metadata.  Collection arrives with the collector;
 * until then nothing is freed.
 *
 *   demo [--quick]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tricolor.h>

struct tree {
    struct tree *left, *right;
    long key;
};

static const tc_type *tree_type;
static int depth = 18;

static struct tree *build(int d, long key)
{
    struct tree *t = tc_new(tree_type);
    if (t == NULL) {
        fprintf(stderr, "demo: out of memory\n");
        exit(1);
    }
    t->key = key;
    if (d > 0) {
        t->left = build(d - 1, 2 * key);
        t->right = build(d - 1, 2 * key + 1);
    }
    return t;
}

static long check(const struct tree *t)
{
    return t->left ? 1 + check(t->left) + check(t->right) : 1;
}

typedef struct result {
    long nodes, strings, large;
    double seconds;
} result;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *workload(void *arg)
{
    result *r = arg;
    int attached_here = tc_thread_attach() == 0; /* TC_EBUSY on the main thread: tc_init attached it */
    double t0 = now();
    struct tree *t = build(depth, 1);
    r->nodes = check(t);
    unsigned seed = 12345;
    for (int i = 0; i < (1 << depth) / 4; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t len = 8 + (seed >> 16) % 600;
        char *s = tc_alloc_noscan(len);
        memset(s, 'a' + i % 26, len - 1);
        r->strings++;
    }
    for (int i = 0; i < 4; i++) {
        unsigned char *buf = tc_alloc_noscan((size_t)(1 + i) << 20);
        buf[0] = 1;
        r->large++;
    }
    r->seconds = now() - t0;
    if (attached_here)
        tc_thread_detach();
    return NULL;
}

typedef struct census {
    unsigned long count[8];
    unsigned long bytes[8];
} census;

static const char *bucket_names[8] = {"<= 16 B", "<= 64 B", "<= 256 B", "<= 1 KiB",
                                      "<= 8 KiB", "<= 32 KiB", "large", ""};

static void count(void *obj, size_t size, const tc_type *t, void *arg)
{
    (void)obj;
    (void)t;
    census *c = arg;
    int b = size <= 16 ? 0 : size <= 64 ? 1 : size <= 256 ? 2 : size <= 1024 ? 3
          : size <= 8192 ? 4 : size <= 32768 ? 5 : 6;
    c->count[b]++;
    c->bytes[b] += size;
}

static double mib(uint64_t b) { return (double)b / (1 << 20); }

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--quick") == 0)
        depth = 12;
    else if (argc > 1) {
        fprintf(stderr, "usage: demo [--quick]\n");
        return 2;
    }
    int rc = tc_init(NULL);
    if (rc != 0) {
        fprintf(stderr, "demo: tc_init: %s\n", tc_strerror(rc));
        return 1;
    }
    tree_type = TC_TYPE(struct tree, left, right);

    pthread_t th;
    result r[2];
    memset(r, 0, sizeof r);
    pthread_create(&th, NULL, workload, &r[1]);
    workload(&r[0]);
    pthread_join(th, NULL);

    printf("tricolor demo: 2 threads, binary trees of depth %d, strings, large buffers\n\n", depth);
    for (int i = 0; i < 2; i++)
        printf("  thread %d: %ld tree nodes, %ld strings, %ld large buffers in %.3f s\n", i,
               r[i].nodes, r[i].strings, r[i].large, r[i].seconds);

    census c;
    memset(&c, 0, sizeof c);
    tc_heap_walk(count, &c);
    printf("\n  objects by size (tc_heap_walk)\n  %-10s %12s %12s\n", "size", "objects", "MiB");
    for (int b = 0; b < 7; b++)
        printf("  %-10s %12lu %12.2f\n", bucket_names[b], c.count[b], mib(c.bytes[b]));

    tc_stats st;
    tc_read_stats(&st);
    printf("\n  statistics (tc_read_stats)\n");
    printf("  mallocs        %12llu  objects allocated\n", (unsigned long long)st.mallocs);
    printf("  heap_alloc     %12.2f  MiB in objects\n", mib(st.heap_alloc));
    printf("  heap_inuse     %12.2f  MiB in spans\n", mib(st.heap_inuse));
    printf("  heap_idle      %12.2f  MiB free in arenas (%.2f MiB never touched or released)\n",
           mib(st.heap_idle), mib(st.heap_released));
    printf("  heap_sys       %12.2f  MiB of arenas mapped\n", mib(st.heap_sys));
    printf("  gc_sys         %12.2f  MiB of GC metadata (arena maps, span bits, page summaries)\n",
           mib(st.gc_sys));
    printf("  other_sys      %12.2f  MiB of other runtime records (spans, caches, types)\n",
           mib(st.other_sys));
    printf("  sys            %12.2f  MiB obtained from the OS in all\n", mib(st.sys));
    printf("  size-class waste: %.1f%% of span bytes hold no object\n",
           st.heap_inuse ? 100.0 * (double)(st.heap_inuse - st.heap_alloc) / (double)st.heap_inuse : 0.0);
    tc_shutdown();
    return 0;
}
