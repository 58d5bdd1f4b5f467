/*
 * heapdump_test.c -- tc_heap_dump (src/dump/heapdump.c) read back with the
 * tool's parser and queries (tools/heapdump/hd_parse.c, hd_query.c).
 *
 *  - test_known_graph: a graph of typed (pointer offsets, an array, a
 *    large array, a scan function), untyped and noscan objects, held by a
 *    registered root and a global, plus a finalizer (with an argument and
 *    a referent only it keeps), a weak handle and garbage.  The dump is
 *    checked object by object (address, size, type name, scan kind, every
 *    edge: slot, target, offset into the target), against tc_heap_walk
 *    (the same set of objects), root by root (the registered range, the
 *    global's segment, the threads), finalizer and weak records, the
 *    statistics, and path by path: the chain the BFS returns for each
 *    object, which root it starts from, and which objects have none.
 *  - test_errors: an unattached thread and a blocking one get TC_ESTATE, a
 *    negative fd TC_EINVAL, an fd that cannot be written TC_EIO; no
 *    memory is left charged afterwards.
 *  - test_concurrent: while two threads build and drop lists and a third
 *    forces collections, repeated dumps each parse (every edge leads to an
 *    object of the same snapshot, checksums agree).
 *
 * With an argument DIR, test_known_graph also leaves its dump in
 * DIR/known_graph.tchd and the address of its deepest object in
 * DIR/known_graph.addr, for tests/heapdump/tool_test.sh.
 *
 * Addresses are kept hidden (reach.h) and the stack scrubbed before the
 * dump, so the conservatively scanned stack does not hold the graph's
 * objects; if it does anyway, the path checks that depend on it say so and
 * check only that the path is a real one.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump/heapdump_format.h"
#include "hd_parse.h"
#include "hd_query.h"
#include "reach.h"
#include "sys/sys.h"
#include "test.h"
#include "heap/heap_verify.h"
#include "mutator/thread.h"
#include "tricolor.h"

#define NOINLINE __attribute__((noinline))

struct node {
    struct node *next, *other;
    long value;
};

struct tagged {
    uintptr_t word;  /* a pointer with bit 0 set */
    uintptr_t plain; /* a pointer or 0 */
};

static const tc_type *node_t, *leaf_t, *tagged_t;

static void scan_tagged(const void *obj, size_t size, void (*mark)(const void *, void *), void *ctx)
{
    (void)size;
    const struct tagged *t = obj;
    if (t->word & 1)
        mark((const void *)(t->word & ~(uintptr_t)1), ctx);
    if (t->plain)
        mark((const void *)t->plain, ctx);
}

static void fin_fn(void *obj, void *arg)
{
    (void)obj;
    (void)arg;
}

/* The graph, addresses hidden. */
enum { A, B, U, T, L, N, G, ARR, BIG, X, F, R, FA, W, H, Z, NOBJ };
static const char *const obj_names[NOBJ] = {"A", "B", "U", "T", "L", "N", "G", "ARR", "BIG",
                                            "X", "F", "R", "FA", "W", "H", "Z"};
static uintptr_t hidden[NOBJ];
static void *global_slot; /* a root in global data: holds G */
static void **table;      /* registered root: table[3] holds A */
#define BIG_N 2000

static uintptr_t addr_of(int k) { return (uintptr_t)unhide(hidden[k]); }

static NOINLINE void build_graph(void)
{
    struct node *a = tc_new(node_t), *b = tc_new(node_t), *g = tc_new(node_t), *x = tc_new(node_t);
    struct node *f = tc_new(node_t), *r = tc_new(node_t), *w = tc_new(node_t);
    struct node *arr = tc_new_array(node_t, 4), *big = tc_new_array(node_t, BIG_N);
    void **u = tc_alloc(64), **n = tc_alloc_noscan(32), *fa = tc_new(leaf_t), *l = tc_new(leaf_t);
    void *z = tc_alloc(16);
    struct tagged *t = tc_new(tagged_t);
    REQUIRE(a && b && g && x && f && r && w && arr && big && u && n && fa && l && z && t);

    TC_STORE(a->next, b);
    tc_store(&a->other, n);
    tc_store(&b->other, u);
    tc_store(&u[1], t);
    tc_store(&u[5], (char *)b + 8); /* interior */
    t->word = (uintptr_t)l | 1;
    t->plain = (uintptr_t)u;
    n[0] = a; /* noscan: not an edge */
    TC_STORE(g->next, &arr[1]); /* interior: arr + 24 */
    TC_STORE(arr[2].other, big);
    TC_STORE(big[BIG_N - 1].next, x);
    TC_STORE(f->next, r);
    REQUIRE(tc_set_finalizer(f, fin_fn, fa) == 0);
    void *h = tc_weak_new(w);
    REQUIRE(h != NULL);

    table = malloc(8 * sizeof(void *));
    REQUIRE(table != NULL);
    memset(table, 0, 8 * sizeof(void *));
    REQUIRE(tc_root_add(table, 8 * sizeof(void *)) == 0);
    tc_store(&table[3], a);
    global_slot = g;

    const void *all[NOBJ] = {a, b, u, t, l, n, g, arr, big, x, f, r, fa, w, h, z};
    for (int k = 0; k < NOBJ; k++)
        hidden[k] = hide(all[k]);
}

/* Dumps into a fresh temporary file and parses it. */
static NOINLINE int dump_and_parse(hd_dump *d, const char *keep)
{
    char path[] = "/tmp/heapdump_test.XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    unlink(path);
    scrub_stack();
    int rc = tc_heap_dump(fd);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    off_t len = lseek(fd, 0, SEEK_END);
    REQUIRE(len > 0);
    uint8_t *buf = malloc((size_t)len);
    REQUIRE(buf != NULL);
    REQUIRE(pread(fd, buf, (size_t)len, 0) == len);
    close(fd);
    if (keep != NULL) {
        FILE *out = fopen(keep, "wb");
        REQUIRE(out != NULL && fwrite(buf, 1, (size_t)len, out) == (size_t)len);
        fclose(out);
    }
    rc = hd_parse(buf, (size_t)len, 0, d);
    if (rc != 0)
        fprintf(stderr, "parse: %s\n", d->error);
    free(buf);
    return rc;
}

/* ---- What tc_heap_walk sees --------------------------------------------------------- */

typedef struct walked {
    uintptr_t addr;
    size_t size;
    const tc_type *t;
} walked;

static walked *walk_list;
static size_t walk_n, walk_cap;

static void walk_fn(void *obj, size_t size, const tc_type *t, void *arg)
{
    (void)arg;
    if (walk_n < walk_cap)
        walk_list[walk_n] = (walked){(uintptr_t)obj, size, t};
    walk_n++;
}

static int cmp_walked(const void *a, const void *b)
{
    const walked *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* ---- Expected edges ----------------------------------------------------------------- */

typedef struct want_edge {
    uint64_t slot;
    int to;          /* graph object */
    uint64_t off;    /* into it */
} want_edge;

static const hd_object *find(const hd_dump *d, int k)
{
    size_t i = hd_object_find(d, addr_of(k));
    if (i == HD_NONE || d->objects[i].addr != addr_of(k)) {
        T_FAIL("object %s (0x%lx) is not in the dump", obj_names[k], (unsigned long)addr_of(k));
        return NULL;
    }
    return &d->objects[i];
}

static void check_object(const hd_dump *d, int k, const char *type, unsigned scan, const want_edge *edges,
                         size_t nedges)
{
    const hd_object *o = find(d, k);
    if (o == NULL)
        return;
    EXPECT_EQ(o->size, tc_size(unhide(hidden[k])));
    if (strcmp(hd_object_type_name(d, o), type) != 0)
        T_FAIL("object %s: type %s, expected %s", obj_names[k], hd_object_type_name(d, o), type);
    EXPECT_EQ(o->scan, scan);
    if (o->nedges != nedges) {
        T_FAIL("object %s: %zu edges, expected %zu", obj_names[k], o->nedges, nedges);
        return;
    }
    for (size_t i = 0; i < nedges; i++) {
        const hd_edge *e = &d->edges[o->edge_first + i];
        if (e->slot != edges[i].slot || e->target != addr_of(edges[i].to) || e->target_off != edges[i].off ||
            e->to == HD_NONE || d->objects[e->to].addr != addr_of(edges[i].to))
            T_FAIL("object %s edge %zu: slot %llu -> 0x%llx+%llu, expected slot %llu -> %s+%llu", obj_names[k], i,
                   (unsigned long long)e->slot, (unsigned long long)e->target, (unsigned long long)e->target_off,
                   (unsigned long long)edges[i].slot, obj_names[edges[i].to], (unsigned long long)edges[i].off);
    }
}

/* Whether any stack or register root points at graph object k. */
static bool on_a_stack(const hd_dump *d, int k)
{
    for (size_t i = 0; i < d->nroots; i++) {
        const hd_root *r = &d->roots[i];
        if (r->kind != HD_ROOT_STACK && r->kind != HD_ROOT_REGISTERS)
            continue;
        for (size_t e = r->edge_first; e < r->edge_first + r->nedges; e++)
            if (d->edges[e].target == addr_of(k))
                return true;
    }
    return false;
}

/* Checks that obj's path is chain[0..n) from a seed of `kind` (a root of
 * `root_kind` for HD_SEED_ROOT) -- or, if a stack holds a copy of one of
 * them, at least a real path no longer than that. */
static void check_path(const hd_dump *d, const hd_reach *r, int obj, const int *chain, size_t n,
                       hd_seed_kind kind, uint64_t root_kind, int tier)
{
    size_t oi = hd_object_find(d, addr_of(obj));
    REQUIRE(oi != HD_NONE);
    size_t *got;
    size_t len = hd_reach_path(d, r, oi, &got);
    bool stacked = false;
    for (size_t i = 0; i < n; i++)
        stacked |= on_a_stack(d, chain[i]);
    if (n == 0) {
        if (stacked)
            fprintf(stderr, "  note: a stack holds %s, which should be unreachable\n", obj_names[obj]);
        else
            EXPECT_EQ(len, 0);
        free(got);
        return;
    }
    if (len == 0 || len == HD_NONE) {
        T_FAIL("no path to %s", obj_names[obj]);
        return;
    }
    /* Always: consecutive objects are joined by the recorded edge. */
    for (size_t i = 1; i < len; i++) {
        size_t e = r->edge[got[i]];
        EXPECT(e != HD_NONE && d->edges[e].to == got[i] && e >= d->objects[got[i - 1]].edge_first &&
               e < d->objects[got[i - 1]].edge_first + d->objects[got[i - 1]].nedges);
    }
    if (stacked) {
        fprintf(stderr, "  note: a stack holds an object on %s's path; checking it is a real path\n",
                obj_names[obj]);
        EXPECT(len <= n);
        free(got);
        return;
    }
    if (len != n) {
        T_FAIL("path to %s has %zu objects, expected %zu", obj_names[obj], len, n);
    } else {
        for (size_t i = 0; i < n; i++)
            if (d->objects[got[i]].addr != addr_of(chain[i]))
                T_FAIL("path to %s: step %zu is 0x%llx, expected %s", obj_names[obj], i,
                       (unsigned long long)d->objects[got[i]].addr, obj_names[chain[i]]);
    }
    EXPECT_EQ(r->tier[oi], tier);
    EXPECT_EQ(r->seed_kind[got[0]], kind);
    if (kind == HD_SEED_ROOT && r->seed_ref[got[0]] != HD_NONE)
        EXPECT_EQ(d->roots[r->seed_ref[got[0]]].kind, root_kind);
    free(got);
}

static const char *keep_dir;

/* registry.count, read as the runtime does: blocking, under its lock. */
static size_t attached_threads(void)
{
    tc_blocking_begin();
    lock_acquire(&registry.lock);
    size_t n = registry.count;
    lock_release(&registry.lock);
    tc_blocking_end();
    return n;
}

static void test_known_graph(void)
{
    build_graph();
    /* The finalizer thread, started by tc_set_finalizer, attaches on its own. */
    for (int i = 0; i < 5000 && attached_threads() < 2; i++)
        usleep(1000);
    scrub_stack(); /* build_graph's frame, where dump_and_parse's will be */
    hd_dump d;
    char keep[512];
    if (keep_dir != NULL)
        snprintf(keep, sizeof keep, "%s/known_graph.tchd", keep_dir);
    REQUIRE(dump_and_parse(&d, keep_dir ? keep : NULL) == 0);

    /* The same objects as tc_heap_walk, with the same sizes and types. */
    walk_cap = d.nobjects + 64;
    walk_list = malloc(walk_cap * sizeof *walk_list);
    REQUIRE(walk_list != NULL);
    walk_n = 0;
    tc_heap_walk(walk_fn, NULL);
    EXPECT_EQ(walk_n, d.nobjects);
    if (walk_n == d.nobjects) {
        qsort(walk_list, walk_n, sizeof *walk_list, cmp_walked);
        for (size_t i = 0; i < walk_n; i++) {
            const hd_object *o = &d.objects[i];
            EXPECT_EQ(o->addr, walk_list[i].addr);
            EXPECT_EQ(o->size, walk_list[i].size);
            const char *want = walk_list[i].t ? tc_type_name(walk_list[i].t) : NULL;
            if (want != NULL && strcmp(want, hd_object_type_name(&d, o)) != 0)
                T_FAIL("object 0x%llx: type %s, walk says %s", (unsigned long long)o->addr,
                       hd_object_type_name(&d, o), want);
            EXPECT(want != NULL || o->type == 0);
        }
    }
    free(walk_list);

    /* Object by object. */
    const want_edge a_e[] = {{0, B, 0}, {8, N, 0}}, b_e[] = {{8, U, 0}}, u_e[] = {{8, T, 0}, {40, B, 8}};
    const want_edge t_e[] = {{0, L, 0}, {1, U, 0}}, g_e[] = {{0, ARR, 24}}, arr_e[] = {{56, BIG, 0}};
    const want_edge big_e[] = {{(BIG_N - 1) * sizeof(struct node), X, 0}}, f_e[] = {{0, R, 0}};
    check_object(&d, A, "struct node", HD_SCAN_OFFSETS, a_e, 2);
    check_object(&d, B, "struct node", HD_SCAN_OFFSETS, b_e, 1);
    check_object(&d, U, "(tc_alloc)", HD_SCAN_CONSERVATIVE, u_e, 2);
    check_object(&d, T, "tagged", HD_SCAN_FUNCTION, t_e, 2);
    check_object(&d, L, "struct leaf", HD_SCAN_NONE, NULL, 0);
    check_object(&d, N, "(tc_alloc_noscan)", HD_SCAN_NONE, NULL, 0);
    check_object(&d, G, "struct node", HD_SCAN_OFFSETS, g_e, 1);
    check_object(&d, ARR, "struct node", HD_SCAN_OFFSETS, arr_e, 1);
    check_object(&d, BIG, "struct node", HD_SCAN_OFFSETS, big_e, 1);
    check_object(&d, X, "struct node", HD_SCAN_OFFSETS, NULL, 0);
    check_object(&d, F, "struct node", HD_SCAN_OFFSETS, f_e, 1);
    check_object(&d, R, "struct node", HD_SCAN_OFFSETS, NULL, 0);
    check_object(&d, FA, "struct leaf", HD_SCAN_NONE, NULL, 0);
    check_object(&d, W, "struct node", HD_SCAN_OFFSETS, NULL, 0);
    check_object(&d, H, "tc_weak_handle", HD_SCAN_NONE, NULL, 0);
    check_object(&d, Z, "(tc_alloc)", HD_SCAN_CONSERVATIVE, NULL, 0);
    EXPECT(find(&d, BIG) != NULL && find(&d, BIG)->size > 32768);

    /* Types: the pointer layout of struct node. */
    bool node_seen = false;
    for (size_t i = 0; i < d.ntypes; i++)
        if (strcmp(d.types[i].name, "struct node") == 0) {
            node_seen = true;
            EXPECT_EQ(d.types[i].size, sizeof(struct node));
            EXPECT_EQ(d.types[i].scan, HD_SCAN_OFFSETS);
            EXPECT(d.types[i].noffsets == 2 && d.types[i].offsets[0] == 0 && d.types[i].offsets[1] == 8);
        } else if (strcmp(d.types[i].name, "tagged") == 0) {
            EXPECT_EQ(d.types[i].scan, HD_SCAN_FUNCTION);
        }
    EXPECT(node_seen);

    /* Roots: the registered range holds A at word 3, the global G. */
    size_t nreg = 0, nglobal_hits = 0, nself = 0, nstacks = 0;
    for (size_t i = 0; i < d.nroots; i++) {
        const hd_root *r = &d.roots[i];
        if (r->kind == HD_ROOT_REGISTERED && r->lo == (uintptr_t)table) {
            nreg++;
            EXPECT_EQ(r->hi, (uintptr_t)table + 8 * sizeof(void *));
            EXPECT_EQ(r->nedges, 1);
            if (r->nedges == 1) {
                EXPECT_EQ(d.edges[r->edge_first].slot, 3 * sizeof(void *));
                EXPECT_EQ(d.edges[r->edge_first].target, addr_of(A));
            }
        }
        if (r->kind == HD_ROOT_GLOBAL && r->lo <= (uintptr_t)&global_slot && (uintptr_t)&global_slot < r->hi)
            for (size_t e = r->edge_first; e < r->edge_first + r->nedges; e++)
                if (d.edges[e].slot == (uintptr_t)&global_slot - r->lo) {
                    nglobal_hits++;
                    EXPECT_EQ(d.edges[e].target, addr_of(G));
                }
        if (r->kind == HD_ROOT_STACK)
            nstacks++;
    }
    EXPECT_EQ(nreg, 1);
    EXPECT_EQ(nglobal_hits, 1);
    /* Threads: this one and the finalizer thread, each with its stack. */
    EXPECT_EQ(d.nthreads, 2);
    EXPECT_EQ(nstacks, d.nthreads);
    for (size_t i = 0; i < d.nthreads; i++) {
        nself += (d.threads[i].flags & HD_THREAD_FLAG_SELF) != 0;
        EXPECT(d.threads[i].stack_lo <= d.threads[i].scan_lo && d.threads[i].scan_lo <= d.threads[i].stack_hi);
        if (d.threads[i].flags & HD_THREAD_FLAG_SELF) {
            uintptr_t here = (uintptr_t)&d;
            EXPECT(d.threads[i].stack_lo <= here && here < d.threads[i].stack_hi);
            EXPECT_EQ(d.threads[i].state, HD_THREAD_BLOCKING);
        }
    }
    EXPECT_EQ(nself, 1);

    /* Finalizer and weak records. */
    EXPECT_EQ(d.nfinalizers, 1);
    if (d.nfinalizers == 1) {
        const hd_finalizer *f = &d.finalizers[0];
        EXPECT(!f->queued);
        EXPECT_EQ(f->obj, addr_of(F));
        EXPECT_EQ(f->fn, (uintptr_t)fin_fn);
        EXPECT_EQ(f->arg, addr_of(FA));
        EXPECT_EQ(f->arg_target, addr_of(FA));
        EXPECT(f->arg_index != HD_NONE && d.objects[f->arg_index].addr == addr_of(FA));
    }
    EXPECT_EQ(d.nweaks, 1);
    if (d.nweaks == 1) {
        EXPECT_EQ(d.weaks[0].obj, addr_of(W));
        EXPECT_EQ(d.weaks[0].handle, addr_of(H));
    }

    /* Information and statistics. */
    EXPECT(d.has_info);
    EXPECT_EQ(d.pid, (uint64_t)getpid());
    EXPECT_EQ(d.phase, HD_PHASE_OFF);
    EXPECT(d.time_ns > 1600000000ull * 1000000000ull);
    tc_stats st;
    tc_read_stats(&st);
    EXPECT_EQ(hd_stat_value(&d, "mallocs", 0), st.mallocs);
    EXPECT_EQ(hd_stat_value(&d, "heap_objects", 0), st.heap_objects);
    EXPECT_EQ(hd_stat_value(&d, "heap_objects", 0), d.nobjects);
    EXPECT_EQ(hd_stat_value(&d, "weak_handles", 99), 1);

    /* Path by path. */
    hd_reach r;
    REQUIRE(hd_reach_compute(&d, &r) == 0);
    const int to_l[] = {A, B, U, T, L}, to_x[] = {G, ARR, BIG, X}, to_n[] = {A, N}, to_r[] = {R};
    const int to_fa[] = {FA}, to_h[] = {H};
    check_path(&d, &r, L, to_l, 5, HD_SEED_ROOT, HD_ROOT_REGISTERED, 1);
    check_path(&d, &r, U, to_l, 3, HD_SEED_ROOT, HD_ROOT_REGISTERED, 1);
    check_path(&d, &r, X, to_x, 4, HD_SEED_ROOT, HD_ROOT_GLOBAL, 1);
    check_path(&d, &r, N, to_n, 2, HD_SEED_ROOT, HD_ROOT_REGISTERED, 1);
    check_path(&d, &r, FA, to_fa, 1, HD_SEED_FINALIZER_ARG, 0, 1);
    check_path(&d, &r, H, to_h, 1, HD_SEED_WEAK_HANDLE, 0, 1);
    check_path(&d, &r, R, to_r, 1, HD_SEED_FINALIZER_REFERENT, 0, 2);
    check_path(&d, &r, F, NULL, 0, HD_SEED_NONE, 0, 0); /* finalizable garbage */
    check_path(&d, &r, W, NULL, 0, HD_SEED_NONE, 0, 0); /* only weakly referenced */
    check_path(&d, &r, Z, NULL, 0, HD_SEED_NONE, 0, 0); /* garbage */
    hd_reach_free(&r);

    /* By type: struct node's row counts every node, array and large one. */
    hd_by_type *rows;
    size_t nrows = hd_by_type_rows(&d, NULL, &rows);
    REQUIRE(nrows != HD_NONE);
    uint64_t node_bytes = 0, node_objects = 0;
    for (size_t i = 0; i < d.nobjects; i++)
        if (strcmp(hd_object_type_name(&d, &d.objects[i]), "struct node") == 0)
            node_bytes += d.objects[i].size, node_objects++;
    for (size_t i = 0; i < nrows; i++) {
        if (i > 0)
            EXPECT(rows[i - 1].bytes >= rows[i].bytes);
        if (strcmp(rows[i].name, "struct node") == 0) {
            EXPECT_EQ(rows[i].objects, node_objects);
            EXPECT_EQ(rows[i].bytes, node_bytes);
            EXPECT_EQ(node_objects, 9);
        }
    }
    free(rows);

    if (keep_dir != NULL) {
        snprintf(keep, sizeof keep, "%s/known_graph.addr", keep_dir);
        FILE *f = fopen(keep, "w");
        REQUIRE(f != NULL);
        fprintf(f, "0x%lx 0x%lx 0x%lx\n", (unsigned long)addr_of(L), (unsigned long)addr_of(Z),
                (unsigned long)addr_of(R));
        fclose(f);
    }
    hd_free(&d);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* ---- Errors --------------------------------------------------------------------------- */

static void *unattached_dump(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)tc_heap_dump(1);
}

static void test_errors(void)
{
    uint64_t other = memstat_get(MEMSTAT_OTHER);
    pthread_t th;
    void *rc;
    REQUIRE(pthread_create(&th, NULL, unattached_dump, NULL) == 0);
    pthread_join(th, &rc);
    EXPECT_EQ((intptr_t)rc, TC_ESTATE);
    EXPECT_EQ(tc_heap_dump(-1), TC_EINVAL);
    tc_blocking_begin();
    int blocked = tc_heap_dump(1);
    tc_blocking_end();
    EXPECT_EQ(blocked, TC_ESTATE);
    int p[2];
    REQUIRE(pipe(p) == 0);
    EXPECT_EQ(tc_heap_dump(p[0]), TC_EIO); /* the read end */
    close(p[0]);
    close(p[1]);
    int fd = open("/dev/null", O_RDONLY);
    REQUIRE(fd >= 0);
    EXPECT_EQ(tc_heap_dump(fd), TC_EIO);
    close(fd);
    fd = open("/dev/null", O_WRONLY);
    REQUIRE(fd >= 0);
    EXPECT_EQ(tc_heap_dump(fd), 0);
    close(fd);
    EXPECT_EQ(memstat_get(MEMSTAT_OTHER), other); /* the buffers were given back */
}

/* ---- Dumps while the heap changes ------------------------------------------------- */

/* The harness's counters are not for other threads: they abort instead. */
#define THREAD_REQUIRE(cond)                                                     \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                             \
        }                                                                        \
    } while (0)

static atomic_int stop_mutators;

static void *mutator(void *arg)
{
    (void)arg;
    THREAD_REQUIRE(tc_thread_attach() == 0);
    void **root = malloc(sizeof(void *));
    THREAD_REQUIRE(root != NULL);
    *root = NULL;
    THREAD_REQUIRE(tc_root_add(root, sizeof(void *)) == 0);
    for (long i = 0; !atomic_load(&stop_mutators); i++) {
        struct node *n = tc_new(node_t);
        n->value = i;
        TC_STORE(n->next, *root);
        if (i % 500 == 0)
            tc_store(root, NULL); /* drop the list */
        else
            tc_store(root, n);
        if (i % 7 == 0)
            tc_alloc(40 + (size_t)(i % 200));
    }
    tc_root_remove(root);
    free(root);
    tc_thread_detach();
    return NULL;
}

static void *collector(void *arg)
{
    (void)arg;
    THREAD_REQUIRE(tc_thread_attach() == 0);
    while (!atomic_load(&stop_mutators)) {
        tc_collect();
        usleep(2000);
    }
    tc_thread_detach();
    return NULL;
}

static void test_concurrent(void)
{
    int old = tc_set_gc_percent(20);
    pthread_t th[3];
    atomic_store(&stop_mutators, 0);
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&th[i], NULL, mutator, NULL) == 0);
    REQUIRE(pthread_create(&th[2], NULL, collector, NULL) == 0);
    usleep(20000);
    for (int i = 0; i < 8; i++) {
        hd_dump d;
        int rc = dump_and_parse(&d, NULL);
        EXPECT_EQ(rc, 0);
        if (rc == 0) {
            EXPECT(d.nthreads >= 3);
            EXPECT(d.nobjects > 0);
            hd_free(&d);
        }
        usleep(5000);
    }
    atomic_store(&stop_mutators, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    tc_set_gc_percent(old);
    EXPECT_EQ(heap_verify(NULL), 0);
}

int main(int argc, char **argv)
{
    keep_dir = argc > 1 ? argv[1] : NULL;
    tc_options o = {.gc_percent = -1};
    REQUIRE(tc_init(&o) == 0);
    node_t = TC_TYPE(struct node, next, other);
    leaf_t = tc_type_new("struct leaf", 16, NULL, 0);
    tagged_t = tc_type_new_scan("tagged", sizeof(struct tagged), scan_tagged);
    REQUIRE(node_t && leaf_t && tagged_t);
    RUN(test_known_graph);
    RUN(test_errors);
    RUN(test_concurrent);
    tc_shutdown();
    TEST_MAIN_END();
}
