/*
 * demo.c -- what `make demo` runs: an in-memory key-value cache served by
 * three threads on the tricolor heap while the collector runs.
 *
 * The cache is a hash table whose bucket array lives in the GC heap.  Each
 * bucket holds a short chain of entries, most recently used first; an
 * entry is a typed object pointing to its key (a string) and its value (a
 * byte buffer), both pointer-free (tc_alloc_noscan).  Every pointer stored
 * into the heap goes through TC_STORE, the write barrier.  Nothing is ever
 * freed by hand: an entry that is replaced, deleted or evicted is simply
 * unlinked, and the collector reclaims it.
 *
 * Each worker loops over random operations on random keys for a few
 * seconds: 70% lookups (a hit moves the entry to the front of its chain),
 * 20% sets (a fresh entry replaces the old one; a bucket already holding
 * MAX_CHAIN entries evicts its least recently used one) and 10% deletes.
 * Every lookup checks the value it finds, byte by byte, and the whole table
 * is checked at the end: a collector that freed a live object would show
 * up as a wrong byte.  The main thread samples tc_read_stats and prints a
 * summary.  With TRICOLOR unset, the demo sets TRICOLOR=gctrace=1 (one
 * line per cycle on stderr); --quick (a smoke test: 0.3 s) leaves it unset.
 *
 *   demo [--quick]        exit status 0; 1 on corrupted data; 2 on bad usage
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <tricolor.h>

#define NTHREADS 3
#define NSTRIPES 256        /* bucket locks */
#define MAX_CHAIN 4         /* entries per bucket before eviction */

struct entry {
    struct entry *next;     /* the bucket's chain */
    char *key;              /* "key:<id>", tc_alloc_noscan */
    unsigned char *value;   /* value_byte(id, version, i) for i < len, tc_alloc_noscan */
    uint64_t id, version, len;
};

static const tc_type *entry_type;
static struct entry **buckets;  /* a heap array; this global is a root */
static size_t nbuckets, nkeys;
static pthread_mutex_t stripes[NSTRIPES];
static atomic_bool stop;
static atomic_ulong corrupt;

typedef struct counts {
    unsigned long hits, misses, sets, deletes, evictions;
} counts;

static unsigned char value_byte(uint64_t id, uint64_t version, uint64_t i)
{
    return (unsigned char)(id * 131 + version * 31 + i * 7);
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static uint64_t rnd(uint64_t *s) /* xorshift64 */
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xalloc(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "demo: out of memory\n");
        exit(1);
    }
    return p;
}

/* Waiting for a lock is blocking: the collector must not wait for us. */
static void lock(pthread_mutex_t *m)
{
    if (pthread_mutex_trylock(m) == 0)
        return;
    tc_blocking_begin();
    pthread_mutex_lock(m);
    tc_blocking_end();
}

/* Whether e is intact: its key names its id, its value has the right bytes. */
static int entry_ok(const struct entry *e)
{
    char key[32];
    snprintf(key, sizeof key, "key:%llu", (unsigned long long)e->id);
    if (e->key == NULL || strcmp(e->key, key) != 0 || e->value == NULL)
        return 0;
    for (uint64_t i = 0; i < e->len; i++)
        if (e->value[i] != value_byte(e->id, e->version, i))
            return 0;
    return 1;
}

static void report_corruption(const struct entry *e)
{
    if (atomic_fetch_add(&corrupt, 1) < 5)
        fprintf(stderr, "demo: CORRUPTED entry %p (key %llu)\n", (const void *)e, (unsigned long long)e->id);
}

/* One operation on key `id`, under its bucket's lock.  `prev` walks the
 * chain as the address of the link to rewrite: the bucket or a next field. */
static void operate(uint64_t id, unsigned op, uint64_t *seed, counts *c)
{
    char key[32];
    snprintf(key, sizeof key, "key:%llu", (unsigned long long)id);
    size_t b = hash_key(key) % nbuckets;
    pthread_mutex_t *m = &stripes[b % NSTRIPES];
    lock(m);
    struct entry **prev = &buckets[b], *e;
    size_t depth = 0;
    while ((e = *prev) != NULL && strcmp(e->key, key) != 0) {
        prev = &e->next;
        depth++;
    }
    if (op < 70) {                                   /* lookup */
        if (e == NULL) {
            c->misses++;
        } else {
            if (!entry_ok(e))
                report_corruption(e);
            c->hits++;
            if (prev != &buckets[b]) {               /* move to the front */
                TC_STORE(*prev, e->next);
                TC_STORE(e->next, buckets[b]);
                TC_STORE(buckets[b], e);
            }
        }
    } else if (op < 90) {                            /* set */
        struct entry *n = xalloc(tc_new(entry_type));
        n->id = id;
        n->version = rnd(seed) % 1000;
        n->len = 16 + rnd(seed) % 500;
        TC_STORE(n->key, xalloc(tc_alloc_noscan(strlen(key) + 1)));
        memcpy(n->key, key, strlen(key) + 1);
        TC_STORE(n->value, xalloc(tc_alloc_noscan(n->len)));
        for (uint64_t i = 0; i < n->len; i++)
            n->value[i] = value_byte(id, n->version, i);
        if (e != NULL) {                             /* unlink the old version */
            TC_STORE(*prev, e->next);
            depth = 0;
            for (e = buckets[b]; e != NULL; e = e->next)
                depth++;
        }
        if (depth >= MAX_CHAIN) {                    /* evict the tail */
            struct entry **tail = &buckets[b];
            while ((*tail)->next != NULL)
                tail = &(*tail)->next;
            TC_STORE(*tail, NULL);
            c->evictions++;
        }
        TC_STORE(n->next, buckets[b]);
        TC_STORE(buckets[b], n);
        c->sets++;
    } else if (e != NULL) {                          /* delete */
        TC_STORE(*prev, e->next);
        c->deletes++;
    }
    pthread_mutex_unlock(m);
}

static void *worker(void *arg)
{
    counts *c = arg;
    tc_thread_attach();
    uint64_t seed = 0x9e3779b97f4a7c15ull ^ (uintptr_t)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed))
        for (int i = 0; i < 256; i++) {
            operate(rnd(&seed) % nkeys, (unsigned)(rnd(&seed) % 100), &seed, c);
            tc_safepoint(); /* lookups never allocate: poll, so a stop never waits for us */
        }
    tc_thread_detach();
    return NULL;
}

/* Statistics sampled by the main thread: the largest heap_alloc seen, and
 * the stop-the-world time of each cycle.  pause_ns is a ring of 256
 * cycles, cycle k (from 1) at [(k - 1) % 256]; a running cycle overwrites
 * the oldest entry, so only the newest 255 are read. */
static uint64_t pauses[4096], heap_max;
static size_t npauses;
static uint32_t seen;

static void sample(tc_stats *st)
{
    tc_read_stats(st);
    if (st->heap_alloc > heap_max)
        heap_max = st->heap_alloc;
    for (; seen != st->num_gc; seen++)
        if (st->num_gc - seen <= 255 && npauses < 4096)
            pauses[npauses++] = st->pause_ns[seen % 256];
}

static int cmp_u64(const void *a, const void *b)
{
    return (*(const uint64_t *)a > *(const uint64_t *)b) - (*(const uint64_t *)a < *(const uint64_t *)b);
}

int main(int argc, char **argv)
{
    int quick = argc == 2 && strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: demo [--quick]\n");
        return 2;
    }
    double seconds = quick ? 0.3 : 4.0;
    nbuckets = quick ? 4096 : 65536;
    nkeys = nbuckets * MAX_CHAIN * 3 / 2;            /* more keys than room: evictions */
    if (!quick)
        setenv("TRICOLOR", "gctrace=1", 0);          /* 0: a user's TRICOLOR wins */
    int rc = tc_init(NULL);
    if (rc != 0) {
        fprintf(stderr, "demo: tc_init: %s\n", tc_strerror(rc));
        return 1;
    }
    entry_type = TC_TYPE(struct entry, next, key, value);
    const tc_type *link = tc_type_new("bucket", sizeof(void *), (const size_t[]){0}, 1);
    buckets = xalloc(tc_new_array(link, nbuckets));
    for (int i = 0; i < NSTRIPES; i++)
        pthread_mutex_init(&stripes[i], NULL);

    printf("tricolor demo: a key-value cache, %d threads, %zu buckets, %zu keys, %.1f s\n\n", NTHREADS,
           nbuckets, nkeys, seconds);
    fflush(stdout);
    pthread_t th[NTHREADS];
    counts c[NTHREADS];
    memset(c, 0, sizeof c);
    tc_stats st;
    sample(&st);
    uint32_t gc0 = st.num_gc;
    double t0 = now();
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, worker, &c[i]);
    while (now() - t0 < seconds) {                   /* sleeping is blocking too */
        tc_blocking_begin();
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
        tc_blocking_end();
        sample(&st);
    }
    atomic_store(&stop, true);
    tc_blocking_begin();                             /* joining is waiting */
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    tc_blocking_end();
    double elapsed = now() - t0;

    /* Check every entry: in the right bucket, intact, chains not too long. */
    unsigned long entries = 0;
    for (size_t b = 0; b < nbuckets; b++) {
        size_t depth = 0;
        for (struct entry *e = buckets[b]; e != NULL; e = e->next, depth++, entries++)
            if (!entry_ok(e) || hash_key(e->key) % nbuckets != b || depth >= MAX_CHAIN)
                report_corruption(e);
    }

    sample(&st);
    qsort(pauses, npauses, sizeof *pauses, cmp_u64);
    counts all = c[0];
    for (int i = 1; i < NTHREADS; i++) {
        all.hits += c[i].hits, all.misses += c[i].misses, all.sets += c[i].sets;
        all.deletes += c[i].deletes, all.evictions += c[i].evictions;
    }
    unsigned long ops = all.hits + all.misses + all.sets + all.deletes;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("  operations   %lu in %.2f s (%.2f M/s): %lu lookups (%lu hits), %lu sets, %lu deletes,\n"
           "               %lu evictions; %lu entries in the cache at the end\n",
           ops, elapsed, (double)ops / elapsed / 1e6, all.hits + all.misses, all.hits, all.sets,
           all.deletes, all.evictions, entries);
    printf("  verified     %lu values on lookup and %lu entries at the end: %s\n", all.hits, entries,
           atomic_load(&corrupt) ? "CORRUPTED" : "all intact");
    printf("  gc cycles    %u during the run (%u in all)\n", st.num_gc - gc0, st.num_gc);
    if (npauses > 0)
        printf("  pauses       per cycle: p50 %.3f ms, p99 %.3f ms, max %.3f ms; longest single stop %.3f ms\n",
               (double)pauses[(npauses - 1) / 2] / 1e6, (double)pauses[(npauses * 99 + 99) / 100 - 1] / 1e6,
               (double)pauses[npauses - 1] / 1e6, (double)st.pause_max_ns / 1e6);
    printf("  gc cpu       %.1f%% of the CPU time available since tc_init\n", 100.0 * st.gc_cpu_fraction);
    printf("  heap         peak heap_alloc %.1f MiB, heap_sys %.1f MiB\n", heap_max / 1048576.0,
           st.heap_sys / 1048576.0);
    printf("  rss          peak %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);

    if (atomic_load(&corrupt)) {
        fprintf(stderr, "demo: %lu corrupted entries\n", atomic_load(&corrupt));
        return 1;
    }
    tc_shutdown();
    return 0;
}
