/*
 * reclaim_test.c -- garbage is reclaimed, and exactly what the roots and
 * pointer layouts say is live is kept.
 *
 *  - test_churn_reclaims: 4 GiB (512 MiB under sanitizers) of short-lived
 *    objects of assorted sizes, large ones (> 32 KiB) included, written as
 *    programs write what they allocate, with about 8 MiB kept live in a
 *    registered root ring: heap_sys stays within 128 MiB (two arenas),
 *    frees keeps up with mallocs, after a final tc_collect heap_alloc is
 *    close to the live set, and every ring object is intact (a live object
 *    freed and reused shows as a wrong pattern).
 *  - test_churn_reclaims_one_cpu: the same with the program and the
 *    collector on one CPU: the heap must stay bounded even when the
 *    collector gets the CPU only when the scheduler hands it over.
 *  - test_interior_pointers_keep_alive: a pointer to the middle of an
 *    object, held in a registered root, a typed pointer field, a
 *    conservatively scanned object or a local, keeps the whole object.
 *  - test_noscan_does_not_keep_alive: the only pointer to X stored inside
 *    a tc_alloc_noscan buffer: X is collected (tc_base of its address
 *    becomes NULL) while the buffer survives.
 *  - test_precise_fields: a typed object's integer field holding X's
 *    address does not keep X alive; its pointer field keeps Y alive.
 *  - test_scan_function: objects of a tc_type_new_scan type keep what the
 *    scan function reports (pointers stored encoded, invisible to
 *    conservative scanning) and nothing else.
 *  - test_root_add_remove: tc_root_add keeps an object alive, tc_root_remove
 *    stops keeping it alive; the error codes of both.
 *  - test_global_keeps_alive: a static variable keeps its object alive, and
 *    clearing it lets the object go.
 *  - test_unreachable_first_object_collected, test_unreachable_list_collected:
 *    nothing but the program's roots keeps objects: the first object of a
 *    fresh heap, and every node of an unreachable list, are collected
 *    (the runtime's own variables holding heap addresses must not count).
 *  - test_stats_restart_from_zero: after tc_shutdown and tc_init the
 *    statistics describe the new heap only (frees, heap_objects,
 *    heap_alloc start from zero).
 *
 * "Collected" is observed as tc_base(old address) == NULL right after
 * tc_collect (nothing allocates in between).  The objects are made in
 * separate stack frames and their addresses kept only as hidden integers,
 * and the stack is scrubbed before collecting, so conservative stack
 * scanning does not keep them by accident; a few tries are allowed.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>

#include "reach.h"
#include "test.h"
#include "util.h"
#include "tricolor.h"

#define NOINLINE __attribute__((noinline))
#define OBJ_MAGIC 0xfeedfacecafebeefull

static NOINLINE void collect_scrubbed(void)
{
    scrub_stack();
    tc_collect();
}

/* COLLECTED(h, tries): scrubs the stack below the calling test function
 * first, where the frame that made the object was (a frame's unwritten
 * slots -- padding, sanitizer redzones -- would otherwise keep its stale
 * copies inside collected's own frame), then collected(). */
#define COLLECTED(h, tries) (scrub_stack(), collected((h), (tries)))

/* Collects until the object at the hidden address is gone (tries times);
 * returns 1 if it went.  The address is recomputed from a volatile after
 * each cycle: a loop-invariant unhide() would be hoisted into a
 * callee-saved register, which the collector scans. */
static NOINLINE int collected(uintptr_t hidden, int tries)
{
    volatile uintptr_t h = hidden;
    for (int i = 0; i < tries; i++) {
        collect_scrubbed();
        if (tc_base(unhide(h)) == NULL)
            return 1;
    }
    return 0;
}

/* A typed object with one pointer field and one integer field. */
struct obj {
    uint64_t magic;
    void *ptr;        /* pointer field */
    uintptr_t word;   /* an integer: not a pointer field */
    uint64_t id;
};
static const tc_type *obj_type;

static struct obj *new_obj(uint64_t id)
{
    struct obj *o = tc_new(obj_type);
    REQUIRE(o != NULL);
    o->magic = OBJ_MAGIC;
    o->id = id;
    return o;
}

static int obj_ok(const struct obj *o, uint64_t id)
{
    return tc_base(o) == o && o->magic == OBJ_MAGIC && o->id == id;
}

/* Test functions never hold an address they want collected, not even in a
 * register: they pass hidden addresses to these helpers (a value left in a
 * callee-saved register of the test function is scanned conservatively). */
static NOINLINE int hidden_obj_ok(uintptr_t h, uint64_t id) { return obj_ok(unhide(h), id); }
static NOINLINE int hidden_equals(uintptr_t h, const void *p) { return hide(p) == h; }

static void *volatile g_first; /* see init */

static void init_bare(void)
{
    g_first = NULL; /* a new heap starts at the same address as the last one */
    unsetenv("TRICOLOR");
    REQUIRE(tc_init(NULL) == 0);
    obj_type = TC_TYPE(struct obj, ptr);
    REQUIRE(obj_type != NULL);
}

/* The first object of a fresh heap is kept alive by the runtime's own
 * global data (test_unreachable_first_object_collected shows it); the
 * other tests keep such an object themselves so that what they observe is
 * their own roots. */
static void init(void)
{
    init_bare();
    g_first = tc_alloc(64);
}

/* Allocates garbage of the sizes a freed object would be reused for. */
static NOINLINE void churn(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        (void)tc_new(obj_type);
        (void)tc_alloc(48);
        (void)tc_alloc_noscan(256);
    }
}

/* ---- Churn ----------------------------------------------------------------- */

#define RING 8192

typedef struct ring_entry {
    uint64_t seq;    /* what the object's bytes derive from; 0: empty */
    size_t size;
    int kind;        /* 0: noscan bytes, 1: typed obj pointing to a noscan buffer */
} ring_entry;

static void fill(unsigned char *p, size_t n, uint64_t seq)
{
    uint64_t s = seq * 0x9e3779b97f4a7c15ull | 1;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v = rnd(&s);
        memcpy(p + i, &v, 8);
    }
}

static int filled(const unsigned char *p, size_t n, uint64_t seq)
{
    uint64_t s = seq * 0x9e3779b97f4a7c15ull | 1;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v = rnd(&s), w;
        memcpy(&w, p + i, 8);
        if (v != w)
            return 0;
    }
    return 1;
}

static int ring_ok(void *p, const ring_entry *e)
{
    if (tc_base(p) != p)
        return 0;
    if (e->kind == 0)
        return tc_size(p) >= e->size && filled(p, e->size, e->seq);
    const struct obj *o = p;
    return o->magic == OBJ_MAGIC && o->id == e->seq && tc_base(o->ptr) == o->ptr &&
           filled(o->ptr, e->size, e->seq);
}

/* one_cpu: the program and the collector's threads share one CPU (they
 * inherit the affinity set before tc_init), so the collector's latency is
 * the scheduler's and not the machine's load. */
static void churn_scenario(int one_cpu)
{
    cpu_set_t old_set, one;
    if (one_cpu) {
        REQUIRE(sched_getaffinity(0, sizeof old_set, &old_set) == 0);
        CPU_ZERO(&one);
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &old_set)) {
                CPU_SET(c, &one);
                break;
            }
        REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
    }
    init();
    void **ring = calloc(RING, sizeof(void *));
    ring_entry *meta = calloc(RING, sizeof *meta);
    REQUIRE(ring != NULL && meta != NULL);
    REQUIRE(tc_root_add(ring, RING * sizeof(void *)) == 0);
    tc_stats st0, st;
    tc_read_stats(&st0);
    const uint64_t total = SANITIZED ? (512ull << 20) : (4ull << 30);
    uint64_t done = 0, seq = 0, seed = 42, max_sys = 0, max_inuse = 0, large = 0, corrupt = 0;
    uint64_t t0 = now_ns();
    while (done < total) {
        uint64_t r = rnd(&seed);
        size_t size;
        switch (r % 16) {
        case 0:
            size = 32 * 1024 + 1 + (size_t)(r >> 8) % (224 * 1024); /* large */
            large++;
            break;
        case 1: case 2:
            size = 2048 + (size_t)(r >> 8) % 30000;
            break;
        default:
            size = 8 + (size_t)(r >> 8) % 2000;
        }
        void *p;
        int kind = (r >> 40) % 3 == 0 && size <= 32 * 1024;
        int keep = size <= 2048 && (r >> 32) % (SANITIZED ? 2 : 8) == 0; /* fills the ring either way */
        if (kind) {
            struct obj *o = new_obj(++seq);
            unsigned char *b = tc_alloc_noscan(size);
            REQUIRE(b != NULL);
            if (keep)
                fill(b, size, seq);
            else
                memset(b, 0xcd, size);
            TC_STORE(o->ptr, b);
            p = o;
        } else {
            p = (r >> 41) & 1 ? tc_alloc_noscan(size) : tc_alloc(size);
            REQUIRE(p != NULL);
            ++seq;
            if (keep)
                fill(p, size, seq);
            else
                memset(p, 0xab, size); /* programs write what they allocate */
        }
        done += size;
        if (keep) {
            size_t i = (size_t)(r >> 48) % RING;
            if (ring[i] != NULL && !ring_ok(ring[i], &meta[i]) && corrupt++ == 0)
                T_FAIL("ring object %zu (seq %llu) at %p was corrupted or freed", i,
                       (unsigned long long)meta[i].seq, ring[i]);
            meta[i] = (ring_entry){seq, size, kind};
            tc_store(&ring[i], p);
        }
        if (seq % 4096 == 0) {
            tc_read_stats(&st);
            if (st.heap_sys > max_sys)
                max_sys = st.heap_sys;
            if (st.heap_inuse > max_inuse)
                max_inuse = st.heap_inuse;
        }
    }
    uint64_t elapsed = now_ns() - t0;
    tc_read_stats(&st);
    EXPECT_EQ(corrupt, 0);
    EXPECT(max_sys <= (128ull << 20)); /* heap_sys grows by whole 64 MiB arenas */
    EXPECT(st.num_gc - st0.num_gc >= (SANITIZED ? 5 : 20));
    EXPECT(st.total_alloc - st0.total_alloc >= total);
    /* Nearly everything allocated was freed. */
    /* Everything was freed but what the ring holds (two objects a slot at
     * most) and what the last cycles have not swept yet. */
    uint64_t mallocs = st.mallocs - st0.mallocs, frees = st.frees - st0.frees;
    EXPECT(frees + 2 * RING + 20000 >= mallocs);

    /* Only the ring is left: heap_alloc is close to it. */
    collect_scrubbed();
    collect_scrubbed();
    uint64_t live = 0;
    for (size_t i = 0; i < RING; i++) {
        if (ring[i] == NULL)
            continue;
        if (!ring_ok(ring[i], &meta[i]) && corrupt++ == 0)
            T_FAIL("ring object %zu (seq %llu) at %p was corrupted or freed", i,
                   (unsigned long long)meta[i].seq, ring[i]);
        live += tc_size(ring[i]);
        if (meta[i].kind)
            live += tc_size(((struct obj *)ring[i])->ptr);
    }
    EXPECT_EQ(corrupt, 0);
    tc_read_stats(&st);
    /* As deltas from the start: test_stats_restart_from_zero covers the
     * absolute values after a restart. */
    uint64_t heap_alloc = st.heap_alloc - st0.heap_alloc;
    EXPECT(live > (4ull << 20));
    EXPECT(heap_alloc >= live);
    EXPECT(heap_alloc <= live + live / 8 + (1u << 20));
    fprintf(stderr,
            "    %llu MiB in %.2f s (%llu large objects), %u cycles; max heap_sys %llu MiB, heap_inuse %llu MiB; "
            "live %llu KiB, heap_alloc %llu KiB\n",
            (unsigned long long)(done >> 20), (double)elapsed / 1e9, (unsigned long long)large,
            st.num_gc - st0.num_gc, (unsigned long long)(max_sys >> 20), (unsigned long long)(max_inuse >> 20),
            (unsigned long long)(live >> 10),
            (unsigned long long)(heap_alloc >> 10));

    /* Dropping the ring frees it all. */
    for (size_t i = 0; i < RING; i++)
        tc_store(&ring[i], NULL);
    collect_scrubbed();
    tc_read_stats(&st);
    EXPECT(st.heap_alloc - st0.heap_alloc < (1u << 20));
    EXPECT_EQ(tc_root_remove(ring), 0);
    free(ring);
    free(meta);
    tc_shutdown();
    if (one_cpu)
        REQUIRE(sched_setaffinity(0, sizeof old_set, &old_set) == 0);
}

static void test_churn_reclaims(void) { churn_scenario(0); }
static void test_churn_reclaims_one_cpu(void) { churn_scenario(1); }

/* ---- Interior pointers ----------------------------------------------------- */

static void **g_iroot;             /* registered */
static struct obj *g_iholder;      /* typed holder: ptr field -> middle of an object */
static void **g_icons;             /* tc_alloc'd holder */

#define INTERIOR_KINDS 4

/* Makes four objects (one of them large) and keeps only interior pointers. */
static NOINLINE void make_interior(uintptr_t hidden[INTERIOR_KINDS], unsigned char **local_mid)
{
    static const size_t sizes[INTERIOR_KINDS] = {256, 4000, 100000, 1024};
    for (int k = 0; k < INTERIOR_KINDS; k++) {
        unsigned char *p = tc_alloc_noscan(sizes[k]);
        REQUIRE(p != NULL);
        fill(p, sizes[k], 1000 + (uint64_t)k);
        hidden[k] = hide(p);
        unsigned char *mid = p + sizes[k] / 2 + 3;
        switch (k) {
        case 0: tc_store(&g_iroot[0], mid); break;
        case 1: TC_STORE(g_iholder->ptr, mid); break;
        case 2: tc_store(&g_icons[1], mid); break;
        case 3: *local_mid = mid; break;
        }
    }
}

static NOINLINE int hidden_filled(uintptr_t h, size_t n, uint64_t seq)
{
    unsigned char *p = unhide(h);
    return tc_base(p) == p && filled(p, n, seq);
}

static void test_interior_pointers_keep_alive(void)
{
    init();
    static const size_t sizes[INTERIOR_KINDS] = {256, 4000, 100000, 1024};
    static const char *const where[INTERIOR_KINDS] = {"registered root", "typed pointer field",
                                                      "tc_alloc object", "local variable"};
    g_iroot = calloc(1, sizeof(void *));
    REQUIRE(g_iroot != NULL && tc_root_add(g_iroot, sizeof(void *)) == 0);
    g_iholder = new_obj(1);
    g_icons = tc_alloc(4 * sizeof(void *));
    uintptr_t hidden[INTERIOR_KINDS];
    unsigned char *volatile local_mid = NULL;
    make_interior(hidden, (unsigned char **)&local_mid);
    for (int round = 0; round < 5; round++) {
        churn(20000);
        collect_scrubbed();
        for (int k = 0; k < INTERIOR_KINDS; k++) {
            if (!hidden_filled(hidden[k], sizes[k], 1000 + (uint64_t)k)) {
                T_FAIL("object kept by an interior pointer in a %s was freed (round %d)", where[k], round);
                hidden[k] = hide(NULL);
            }
        }
    }
    EXPECT(hidden_equals(hidden[3], tc_base(local_mid)));
    EXPECT_EQ(tc_root_remove(g_iroot), 0);
    free(g_iroot);
    g_iholder = NULL;
    g_icons = NULL;
    tc_shutdown();
}

/* ---- Noscan ------------------------------------------------------------- */

static void **g_noscan_buf; /* global data: keeps the noscan buffer itself */

static NOINLINE uintptr_t make_noscan_holder(void)
{
    struct obj *x = new_obj(77);
    void **buf = tc_alloc_noscan(8 * sizeof(void *));
    REQUIRE(buf != NULL);
    buf[3] = x; /* a noscan object holds no GC pointers: no barrier, never scanned */
    g_noscan_buf = buf;
    return hide(x);
}

static void test_noscan_does_not_keep_alive(void)
{
    init();
    uintptr_t hx = make_noscan_holder();
    EXPECT(hidden_obj_ok(hx, 77));
    EXPECT(COLLECTED(hx, 5));
    EXPECT(tc_base(g_noscan_buf) == g_noscan_buf);
    EXPECT(hidden_equals(hx, g_noscan_buf[3])); /* the bytes are untouched */
    g_noscan_buf = NULL;
    tc_shutdown();
}

/* ---- Precise fields ------------------------------------------------------ */

static struct obj *g_precise; /* global: the holder */

static NOINLINE void make_precise(uintptr_t *hx, uintptr_t *hy)
{
    struct obj *x = new_obj(1), *y = new_obj(2);
    g_precise = new_obj(3);
    g_precise->word = (uintptr_t)x; /* an integer field: not scanned */
    TC_STORE(g_precise->ptr, y);    /* the pointer field */
    *hx = hide(x);
    *hy = hide(y);
}

static void test_precise_fields(void)
{
    init();
    uintptr_t hx, hy;
    make_precise(&hx, &hy);
    EXPECT(COLLECTED(hx, 5));
    EXPECT(hidden_obj_ok(hy, 2));
    EXPECT(hidden_equals(hy, g_precise->ptr));
    EXPECT(hidden_equals(hx, (void *)g_precise->word));
    churn(20000);
    collect_scrubbed();
    EXPECT(hidden_obj_ok(hy, 2));
    g_precise = NULL;
    tc_shutdown();
}

/* ---- Scan functions ----------------------------------------------------- */

#define KEY 0xc3c3c3c3c3c3c3c3ull

/* Words [0, n) hold pointers XOR KEY (not recognisable as pointers);
 * the words after hold raw addresses that are not pointers of the type. */
struct tagged {
    uint64_t n;
    uint64_t word[7];
};

static void tagged_scan(const void *obj, size_t size, void (*mark)(const void *ptr, void *ctx), void *ctx)
{
    const struct tagged *t = obj;
    (void)size;
    uint64_t n = __atomic_load_n(&t->n, __ATOMIC_RELAXED);
    for (uint64_t i = 0; i < n && i < 7; i++) {
        uint64_t w = __atomic_load_n(&t->word[i], __ATOMIC_RELAXED);
        if (w != 0)
            mark((const void *)(uintptr_t)(w ^ KEY), ctx);
    }
}

static struct tagged *g_tagged;

static NOINLINE void make_tagged(const tc_type *tt, uintptr_t kept[3], uintptr_t dropped[2])
{
    struct tagged *t = tc_new(tt);
    REQUIRE(t != NULL);
    for (int i = 0; i < 3; i++) {
        struct obj *o = new_obj(100 + (uint64_t)i);
        t->word[i] = (uint64_t)(uintptr_t)o ^ KEY; /* the scan function's own encoding */
        kept[i] = hide(o);
    }
    for (int i = 0; i < 2; i++) {
        struct obj *o = new_obj(200 + (uint64_t)i);
        t->word[5 + i] = (uint64_t)(uintptr_t)o; /* a raw address the function does not report */
        dropped[i] = hide(o);
    }
    t->n = 3;
    g_tagged = t;
}

static void test_scan_function(void)
{
    init();
    const tc_type *tt = tc_type_new_scan("tagged", sizeof(struct tagged), tagged_scan);
    REQUIRE(tt != NULL);
    uintptr_t kept[3], dropped[2];
    make_tagged(tt, kept, dropped);
    EXPECT(COLLECTED(dropped[0], 5));
    EXPECT(COLLECTED(dropped[1], 5));
    for (int round = 0; round < 3; round++) {
        churn(20000);
        collect_scrubbed();
        for (int i = 0; i < 3; i++)
            if (!hidden_obj_ok(kept[i], 100 + (uint64_t)i))
                T_FAIL("object %d reported by the scan function was freed (round %d)", i, round);
    }
    EXPECT(tc_type_of(g_tagged) == tt);
    g_tagged = NULL;
    tc_shutdown();
}

/* ---- Registered roots ----------------------------------------------------- */

static NOINLINE uintptr_t make_rooted(void **root)
{
    struct obj *x = new_obj(55);
    tc_store(&root[1], x);
    return hide(x);
}

static void test_root_add_remove(void)
{
    init();
    void **root = calloc(4, sizeof(void *));
    REQUIRE(root != NULL);
    EXPECT_EQ(tc_root_add(root, 4 * sizeof(void *)), 0);
    EXPECT_EQ(tc_root_add(root, 4 * sizeof(void *)), TC_EBUSY);
    EXPECT_EQ(tc_root_add(NULL, 8), TC_EINVAL);
    EXPECT_EQ(tc_root_add(root, 0), TC_EINVAL);
    EXPECT_EQ(tc_root_remove(root + 1), TC_EINVAL);
    uintptr_t hx = make_rooted(root);
    for (int round = 0; round < 3; round++) {
        churn(20000);
        collect_scrubbed();
        EXPECT(hidden_obj_ok(hx, 55));
    }
    EXPECT_EQ(tc_root_remove(root), 0);
    EXPECT_EQ(tc_root_remove(root), TC_EINVAL);
    EXPECT(COLLECTED(hx, 5));
    EXPECT(hidden_equals(hx, root[1])); /* the memory itself is untouched */
    free(root);
    tc_shutdown();
}

/* ---- Globals -------------------------------------------------------------- */

static struct obj *volatile g_kept; /* volatile: a write-only static would be optimised away */

static NOINLINE uintptr_t make_global(void)
{
    g_kept = new_obj(66);
    return hide(g_kept);
}

static void test_global_keeps_alive(void)
{
    init();
    uintptr_t hx = make_global();
    for (int round = 0; round < 3; round++) {
        churn(20000);
        collect_scrubbed();
        EXPECT(hidden_obj_ok(hx, 66));
    }
    g_kept = NULL; /* the negative control: now it goes */
    EXPECT(COLLECTED(hx, 5));
    tc_shutdown();
}

/* ---- Nothing else keeps objects ------------------------------------------ */

/* These two run on a thread with a fresh, zeroed stack while the main
 * thread is detached: earlier tests leave stale words on the main stack
 * that, the heap restarting at the same addresses, may point into these
 * objects (conservative scanning would rightly keep them). */
static void on_fresh_stack(void *(*fn)(void *), void *arg)
{
    size_t size = 1u << 20;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(stack != MAP_FAILED);
    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstack(&attr, stack, size) == 0);
    tc_thread_detach();
    pthread_t th;
    REQUIRE(pthread_create(&th, &attr, fn, arg) == 0);
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
    munmap(stack, size);
    REQUIRE(tc_thread_attach() == 0);
}

static NOINLINE uintptr_t make_first(void)
{
    return hide(new_obj(1)); /* the first object of a fresh heap */
}

static void *first_object_body(void *arg)
{
    int *ok = arg;
    if (tc_thread_attach() != 0)
        return NULL;
    uintptr_t hx = make_first();
    *ok = COLLECTED(hx, 5);
    tc_thread_detach();
    return NULL;
}

static void test_unreachable_first_object_collected(void)
{
    init_bare();
    int ok = 0;
    on_fresh_stack(first_object_body, &ok);
    EXPECT(ok);
    tc_shutdown();
}

struct link {
    struct link *next;
    uint64_t pad[7];
};

static NOINLINE void make_garbage_list(const tc_type *lt, size_t n)
{
    struct link *head = tc_new(lt), *cur = head;
    for (size_t i = 1; i < n; i++) {
        struct link *l = tc_new(lt);
        TC_STORE(cur->next, l);
        cur = l;
    }
}

static void *list_body(void *arg)
{
    uint64_t *kept = arg;
    if (tc_thread_attach() != 0)
        return NULL;
    const tc_type *lt = TC_TYPE(struct link, next);
    tc_stats st0, st;
    tc_read_stats(&st0);
    make_garbage_list(lt, 200000);
    collect_scrubbed();
    collect_scrubbed();
    tc_read_stats(&st);
    *kept = (st.mallocs - st0.mallocs) - (st.frees - st0.frees);
    tc_thread_detach();
    return NULL;
}

static void test_unreachable_list_collected(void)
{
    init_bare();
    uint64_t kept = ~0ull;
    on_fresh_stack(list_body, &kept);
    if (kept > 64)
        T_FAIL("%llu objects of an unreachable 200000-object list were kept", (unsigned long long)kept);
    tc_shutdown();
}

/* ---- Statistics across tc_shutdown / tc_init ------------------------------ */

static NOINLINE void make_garbage(size_t n)
{
    for (size_t i = 0; i < n; i++)
        (void)tc_alloc_noscan(1000);
}

static void test_stats_restart_from_zero(void)
{
    init_bare();
    make_garbage(10000);
    collect_scrubbed();
    tc_stats st;
    tc_read_stats(&st);
    EXPECT(st.frees >= 9000);
    tc_shutdown();
    init_bare(); /* a new heap: its counters start from zero */
    tc_read_stats(&st);
    EXPECT_EQ(st.frees, 0);
    EXPECT_EQ(st.mallocs, 0);
    EXPECT_EQ(st.heap_objects, 0);
    EXPECT_EQ(st.heap_alloc, 0);
    EXPECT_EQ(st.num_gc, 0);
    make_garbage(100);
    tc_read_stats(&st);
    EXPECT_EQ(st.heap_objects, 100);
    EXPECT(st.heap_alloc >= 100 * 1000 && st.heap_alloc < 100 * 1100);
    tc_shutdown();
}

int main(void)
{
    RUN(test_churn_reclaims);
    RUN(test_churn_reclaims_one_cpu);
    RUN(test_interior_pointers_keep_alive);
    RUN(test_noscan_does_not_keep_alive);
    RUN(test_precise_fields);
    RUN(test_scan_function);
    RUN(test_root_add_remove);
    RUN(test_global_keeps_alive);
    RUN(test_unreachable_first_object_collected);
    RUN(test_unreachable_list_collected);
    RUN(test_stats_restart_from_zero);
    TEST_MAIN_END();
}
