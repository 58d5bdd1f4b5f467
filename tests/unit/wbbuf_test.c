/*
 * wbbuf_test.c -- the write barrier (tricolor.h's tc_store, src/gc/wbbuf.c).
 *
 *  - test_idle_store_is_plain: with no cycle running, tc_store / TC_STORE
 *    only store: the value lands in heap slots, registered roots, globals
 *    and locals, and the thread's barrier buffer does not move.
 *  - test_marking_store_is_buffered: while a cycle marks, tc_store appends
 *    the slot's old value and the new value to the thread's buffer, then
 *    stores.
 *  - test_cas_semantics: tc_cas returns 1 and stores when the slot holds
 *    the expected value, returns 0 and leaves the slot alone otherwise,
 *    idle and while marking.
 *  - test_cas_concurrent_stack: threads push typed nodes onto a shared
 *    lock-free stack with tc_cas while cycles run back to back: every node
 *    is there exactly once and intact afterwards (a lost head update or a
 *    node freed while reachable shows).
 *  - test_memmove_overlap: tc_memmove copies overlapping ranges in both
 *    directions, at any byte offset and length, like memmove.
 *  - test_memmove_concurrent: overlapping tc_memmoves inside and between
 *    large conservatively scanned pointer arrays while cycles run: the
 *    arrays hold exactly what a shadow copy says and every node they point
 *    to is alive and intact (the bulk barrier shades what moves).
 *  - test_checkptr_*: with TRICOLOR=checkptr=1, tc_store, tc_cas and
 *    tc_memmove of a heap pointer into malloc'd memory abort (forked
 *    child) with a message naming the value and the slot; stores into a
 *    heap object, a registered root, the thread's own stack and another
 *    attached thread's stack do not abort, nor do stores into global data,
 *    whether or not a cycle ran before.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gc/mark.h"
#include "test.h"
#include "util.h"
#include "child.h"
#include "tricolor.h"

#define NODE_MAGIC 0x9e3779b97f4a7c15ull

struct node {
    struct node *left, *right;
    uint64_t magic;
    uint64_t id;
};

static const tc_type *node_type;

static struct node *new_node(uint64_t id)
{
    struct node *n = tc_new(node_type);
    if (n == NULL) { /* not REQUIRE: called from several threads */
        fprintf(stderr, "tc_new failed\n");
        abort();
    }
    n->magic = NODE_MAGIC;
    n->id = id;
    return n;
}

static int node_ok(const struct node *n, uint64_t id)
{
    return n != NULL && tc_base(n) == n && n->magic == NODE_MAGIC && n->id == id;
}

static void init_with(const char *settings)
{
    if (settings != NULL)
        setenv("TRICOLOR", settings, 1);
    else
        unsetenv("TRICOLOR");
    REQUIRE(tc_init(NULL) == 0);
    node_type = TC_TYPE(struct node, left, right);
    REQUIRE(node_type != NULL);
}

/* A thread that runs cycles back to back until told to stop. */
static atomic_int driver_stop;
static atomic_int cycles_done;

static void *driver(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    while (!atomic_load(&driver_stop)) {
        tc_collect();
        atomic_fetch_add(&cycles_done, 1);
    }
    tc_thread_detach();
    return NULL;
}

static void driver_start(pthread_t *th)
{
    atomic_store(&driver_stop, 0);
    atomic_store(&cycles_done, 0);
    REQUIRE(pthread_create(th, NULL, driver, NULL) == 0);
}

static void driver_join(pthread_t th)
{
    atomic_store(&driver_stop, 1);
    tc_blocking_begin();
    pthread_join(th, NULL);
    tc_blocking_end();
}

/* ---- Idle stores ---------------------------------------------------------- */

static struct node *g_slot;

static void test_idle_store_is_plain(void)
{
    init_with("gcpercent=-1"); /* no cycle can start by itself */
    struct node *a = new_node(1), *b = new_node(2);
    void **root = calloc(4, sizeof(void *));
    REQUIRE(root != NULL && tc_root_add(root, 4 * sizeof(void *)) == 0);
    struct node *local = NULL;

    EXPECT_EQ(atomic_load(&gc_phase_now), GC_OFF);
    EXPECT_EQ(__atomic_load_n(&tc__wb_enabled, __ATOMIC_RELAXED), 0);
    void **before = tc__wbuf_cur->next;
    for (int i = 0; i < 1000; i++) {
        TC_STORE(a->left, b);       /* heap object, type-checked */
        TC_STORE(a->right, a);
        tc_store(&root[i % 4], b);  /* registered root */
        TC_STORE(g_slot, a);        /* global */
        TC_STORE(local, b);         /* local */
        EXPECT(a->left == b && a->right == a && root[i % 4] == b && g_slot == a && local == b);
        TC_STORE(a->left, NULL);
        EXPECT(a->left == NULL);
    }
    EXPECT(tc__wbuf_cur->next == before);
    EXPECT(node_ok(a, 1) && node_ok(b, 2));
    EXPECT_EQ(tc_root_remove(root), 0);
    free(root);
    g_slot = NULL;
    tc_shutdown();
}

/* ---- Stores while marking ---------------------------------------------- */

static struct node *volatile g_chain; /* a long chain: marking it takes a while (volatile: keep the stores) */
static atomic_int collect_done;

static void *collect_once(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    tc_collect();
    atomic_store(&collect_done, 1);
    tc_thread_detach();
    return NULL;
}

static size_t g_chain_len;
static int during_mark(int (*fn)(void *), void *arg);

/* Adds len nodes at the head of the chain. */
static void build_chain(size_t len)
{
    struct node *cur = g_chain;
    for (size_t i = 0; i < len; i++) {
        struct node *n = new_node(i);
        TC_STORE(n->left, cur);
        cur = n;
    }
    g_chain = cur;
    g_chain_len += len;
}

/* Runs fn while marking, lengthening the chain after missed attempts (the
 * thread may wake from the cycle's first pause only after a short mark
 * phase ended, on a loaded machine). */
static int probe_during_mark(int (*fn)(void *), void *arg)
{
    const size_t max = SANITIZED ? 800000 : 2400000;
    for (int attempt = 0; attempt < 24; attempt++) {
        if (attempt > 0 && attempt % 3 == 0 && g_chain_len < max)
            build_chain(g_chain_len);
        if (during_mark(fn, arg) == 1)
            return 1;
    }
    return 0;
}

/* Runs fn(arg) once the phase is GC_MARK during a cycle started by
 * another thread; returns fn's result, or -1 if the mark phase was missed. */
static int during_mark(int (*fn)(void *), void *arg)
{
    pthread_t th;
    atomic_store(&collect_done, 0);
    REQUIRE(pthread_create(&th, NULL, collect_once, NULL) == 0);
    while (atomic_load(&gc_phase_now) != GC_MARK && !atomic_load(&collect_done))
        tc_safepoint();
    int r = -1;
    if (atomic_load(&gc_phase_now) == GC_MARK)
        r = fn(arg);
    tc_blocking_begin();
    pthread_join(th, NULL);
    tc_blocking_end();
    return r;
}

typedef struct store_probe {
    struct node *holder, *a, *b;
} store_probe;

static int probe_buffered_store(void *arg)
{
    store_probe *p = arg;
    for (int tries = 0; tries < 1000 && atomic_load(&gc_phase_now) == GC_MARK; tries++) {
        tc__wbuf *b = tc__wbuf_cur;
        void **next = b->next;
        if (b->end - next < 2) {
            tc_store(&p->holder->right, NULL); /* full: let the slow path flush it */
            continue;
        }
        struct node *old = p->holder->left, *neu = old == p->a ? p->b : p->a;
        tc_store(&p->holder->left, neu);
        /* A stop-the-world between reading next and the store may have
         * flushed the buffer: then try again. */
        if (b->next == next + 2 && next[0] == (void *)old && next[1] == (void *)neu &&
            p->holder->left == neu)
            return 1;
    }
    return 0;
}

static void test_marking_store_is_buffered(void)
{
    init_with("gcpercent=-1");
    build_chain(SANITIZED ? 100000 : 300000);
    store_probe p = {new_node(10), new_node(11), new_node(12)};
    TC_STORE(p.holder->left, p.a);
    EXPECT(probe_during_mark(probe_buffered_store, &p));
    EXPECT(node_ok(p.holder, 10) && node_ok(p.a, 11) && node_ok(p.b, 12));
    g_chain = NULL;
    g_chain_len = 0;
    tc_shutdown();
}

/* ---- tc_cas --------------------------------------------------------------- */

static void cas_checks(struct node *holder, struct node *a, struct node *b)
{
    TC_STORE(holder->left, a);
    EXPECT_EQ(tc_cas(&holder->left, b, a), 0); /* slot holds a, not b */
    EXPECT(holder->left == a);
    EXPECT_EQ(tc_cas(&holder->left, a, b), 1);
    EXPECT(holder->left == b);
    EXPECT_EQ(tc_cas(&holder->left, a, NULL), 0);
    EXPECT(holder->left == b);
    EXPECT_EQ(tc_cas(&holder->left, b, NULL), 1);
    EXPECT(holder->left == NULL);
    EXPECT_EQ(tc_cas(&holder->left, NULL, a), 1);
    EXPECT(holder->left == a);
    EXPECT_EQ(tc_cas(&holder->left, NULL, b), 0);
    EXPECT(holder->left == a);
}

typedef struct cas_probe {
    struct node *holder, *a, *b;
} cas_probe;

static int probe_cas(void *arg)
{
    cas_probe *p = arg;
    cas_checks(p->holder, p->a, p->b);
    return 1;
}

static void test_cas_semantics(void)
{
    init_with("gcpercent=-1");
    cas_probe p = {new_node(1), new_node(2), new_node(3)};
    cas_checks(p.holder, p.a, p.b); /* idle */
    build_chain(SANITIZED ? 100000 : 300000);
    EXPECT(probe_during_mark(probe_cas, &p));
    tc_collect();
    EXPECT(node_ok(p.holder, 1) && node_ok(p.a, 2) && node_ok(p.b, 3));
    g_chain = NULL;
    g_chain_len = 0;
    tc_shutdown();
}

/* A lock-free stack pushed with tc_cas from several threads. */
#define PUSHERS 4
struct stack_holder {
    struct node *head;
    struct node *unused;
};
static struct stack_holder *g_stack; /* a heap object, referenced from global data */
static atomic_ulong cas_failures;

static atomic_int pusher_stalled;

static void *pusher(void *arg)
{
    uint64_t tid = (uint64_t)(uintptr_t)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    size_t per = SANITIZED ? 20000 : 100000, chunk = per / 10;
    for (size_t i = 0; i < per; i++) {
        /* At most per/10 pushes per cycle: the pushes span ten cycles. */
        if (i % chunk == 0) {
            uint64_t give_up = now_ns() + 20000000000ull;
            while (atomic_load(&cycles_done) < (int)(i / chunk)) {
                if (now_ns() > give_up) {
                    atomic_store(&pusher_stalled, 1);
                    break;
                }
                tc_blocking_begin();
                usleep(200);
                tc_blocking_end();
            }
        }
        struct node *n = new_node(tid << 32 | i);
        for (;;) {
            struct node *old = __atomic_load_n(&g_stack->head, __ATOMIC_ACQUIRE);
            TC_STORE(n->left, old);
            if (tc_cas(&g_stack->head, old, n))
                break;
            atomic_fetch_add(&cas_failures, 1);
        }
        if (i % 64 == 0)
            (void)tc_alloc(200); /* garbage to reuse freed slots */
    }
    tc_thread_detach();
    return NULL;
}

static void test_cas_concurrent_stack(void)
{
    init_with(NULL);
    const tc_type *ht = TC_TYPE(struct stack_holder, head, unused);
    g_stack = tc_new(ht);
    REQUIRE(g_stack != NULL);
    pthread_t drv, th[PUSHERS];
    driver_start(&drv);
    for (uintptr_t t = 0; t < PUSHERS; t++)
        REQUIRE(pthread_create(&th[t], NULL, pusher, (void *)t) == 0);
    tc_blocking_begin();
    for (int t = 0; t < PUSHERS; t++)
        pthread_join(th[t], NULL);
    tc_blocking_end();
    driver_join(drv);
    EXPECT(atomic_load(&cycles_done) >= 9);
    EXPECT(!atomic_load(&pusher_stalled));

    size_t per = SANITIZED ? 20000 : 100000;
    unsigned char *seen = calloc(PUSHERS * per, 1);
    REQUIRE(seen != NULL);
    size_t count = 0, bad = 0;
    for (struct node *n = g_stack->head; n != NULL && bad == 0; n = n->left) {
        uint64_t t = n->id >> 32, i = n->id & 0xffffffffu;
        if (tc_base(n) != n || n->magic != NODE_MAGIC || t >= PUSHERS || i >= per || seen[t * per + i]) {
            T_FAIL("stack node %zu at %p is corrupt or repeated (magic %llx id %llx)", count, (void *)n,
                   tc_base(n) == n ? (unsigned long long)n->magic : 0ull,
                   tc_base(n) == n ? (unsigned long long)n->id : 0ull);
            bad++;
            break;
        }
        seen[t * per + i] = 1;
        count++;
    }
    EXPECT_EQ(count, PUSHERS * per);
    free(seen);
    g_stack = NULL;
    tc_shutdown();
}

/* ---- tc_memmove ------------------------------------------------------------ */

static void test_memmove_overlap(void)
{
    init_with("gcpercent=-1");
    enum { SIZE = 4096 };
    unsigned char *buf = tc_alloc(SIZE);
    unsigned char *shadow = malloc(SIZE);
    REQUIRE(buf != NULL && shadow != NULL);
    uint64_t seed = 12345;
    for (size_t i = 0; i < SIZE; i++)
        buf[i] = shadow[i] = (unsigned char)rnd(&seed);
    int mismatches = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rnd(&seed) % 600, s, d;
        if (iter % 3 == 0)
            n &= ~(size_t)7; /* whole words too */
        s = rnd(&seed) % (SIZE - n + 1);
        long delta = (long)(rnd(&seed) % 161) - 80; /* mostly overlapping */
        long dd = (long)s + delta;
        if (dd < 0)
            dd = 0;
        if ((size_t)dd > SIZE - n)
            dd = (long)(SIZE - n);
        d = (size_t)dd;
        if (iter % 2 == 0) { /* word aligned ends */
            s &= ~(size_t)7;
            d &= ~(size_t)7;
        }
        tc_memmove(buf + d, buf + s, n);
        memmove(shadow + d, shadow + s, n);
        if (memcmp(buf, shadow, SIZE) != 0 && mismatches++ == 0)
            T_FAIL("tc_memmove(buf+%zu, buf+%zu, %zu) differs from memmove", d, s, n);
    }
    EXPECT_EQ(mismatches, 0);
    /* Pointer arrays, overlapping both ways, and a zero-length copy. */
    struct node *nodes[16];
    void **arr = tc_alloc(32 * sizeof(void *));
    REQUIRE(arr != NULL);
    for (int i = 0; i < 16; i++) {
        nodes[i] = new_node((uint64_t)i);
        tc_store(&arr[i], nodes[i]);
    }
    tc_memmove(arr + 4, arr, 16 * sizeof(void *)); /* forward: arr[4..19] = old arr[0..15] */
    for (int i = 0; i < 16; i++)
        EXPECT(arr[4 + i] == nodes[i]);
    tc_memmove(arr, arr + 4, 16 * sizeof(void *)); /* back */
    for (int i = 0; i < 16; i++)
        EXPECT(arr[i] == nodes[i]);
    tc_memmove(arr, arr + 8, 0);
    EXPECT(arr[0] == nodes[0]);
    free(shadow);
    tc_shutdown();
}

#define ARR 8192 /* 64 KiB: a large object */

typedef struct ptr_array {
    void **slot;
    uint64_t *id; /* shadow: the id of the node each slot points to, 0 for NULL */
} ptr_array;

static int array_check(const ptr_array *a, const char *name)
{
    for (size_t i = 0; i < ARR; i++) {
        struct node *n = a->slot[i];
        if (a->id[i] == 0 ? n != NULL : !node_ok(n, a->id[i])) {
            T_FAIL("%s[%zu] = %p: expected node id %llu, found %s (id %llu)", name, i, (void *)n,
                   (unsigned long long)a->id[i], n == NULL ? "NULL" : tc_base(n) != n ? "a free slot" : "an object",
                   n != NULL && tc_base(n) == n ? (unsigned long long)n->id : 0ull);
            return 0;
        }
    }
    return 1;
}

static void test_memmove_concurrent(void)
{
    init_with(NULL);
    ptr_array a[2];
    uint64_t next_id = 1, seed = 777;
    for (int k = 0; k < 2; k++) {
        a[k].slot = tc_alloc(ARR * sizeof(void *));
        a[k].id = calloc(ARR, sizeof(uint64_t));
        REQUIRE(a[k].slot != NULL && a[k].id != NULL);
        for (size_t i = 0; i < ARR; i++) {
            tc_store(&a[k].slot[i], new_node(next_id));
            a[k].id[i] = next_id++;
        }
    }
    pthread_t drv;
    driver_start(&drv);
    uint64_t end = now_ns() + (SANITIZED ? 1500000000ull : 1500000000ull);
    int ok = 1;
    long moves = 0;
    while (ok && now_ns() < end) {
        for (int r = 0; r < 200; r++, moves++) {
            int from = (int)(rnd(&seed) & 1), to = (int)(rnd(&seed) & 1);
            size_t n = 1 + rnd(&seed) % 2048;
            size_t s = rnd(&seed) % (ARR - n + 1), d;
            if (from == to) {
                long dd = (long)s + (long)(rnd(&seed) % 513) - 256;
                d = dd < 0 ? 0 : (size_t)dd > ARR - n ? ARR - n : (size_t)dd;
            } else {
                d = rnd(&seed) % (ARR - n + 1);
            }
            tc_memmove(&a[to].slot[d], &a[from].slot[s], n * sizeof(void *));
            memmove(&a[to].id[d], &a[from].id[s], n * sizeof(uint64_t));
            /* Fresh nodes replace some slots, so that freed memory is reused. */
            for (int k = 0; k < 8; k++) {
                int w = (int)(rnd(&seed) & 1);
                size_t i = rnd(&seed) % ARR;
                if (rnd(&seed) % 4 == 0) {
                    tc_store(&a[w].slot[i], NULL);
                    a[w].id[i] = 0;
                } else {
                    tc_store(&a[w].slot[i], new_node(next_id));
                    a[w].id[i] = next_id++;
                }
            }
        }
        ok = array_check(&a[0], "a") && array_check(&a[1], "b");
    }
    driver_join(drv);
    EXPECT(ok);
    EXPECT(atomic_load(&cycles_done) >= 5);
    tc_collect();
    EXPECT(array_check(&a[0], "a") && array_check(&a[1], "b"));
    fprintf(stderr, "    %ld tc_memmoves during %d cycles\n", moves, atomic_load(&cycles_done));
    free(a[0].id);
    free(a[1].id);
    tc_shutdown();
}

/* ---- checkptr ------------------------------------------------------------- */

enum { BAD_STORE, BAD_TC_STORE_FIELD, BAD_CAS, BAD_MEMMOVE };

struct plain_record {
    uint64_t tag;
    struct node *ptr;
};

static int checkptr_bad_child(int how)
{
    setenv("TRICOLOR", "checkptr=1", 1);
    if (tc_init(NULL) != 0)
        return 20;
    node_type = TC_TYPE(struct node, left, right);
    struct node *obj = new_node(5);
    struct plain_record *rec = malloc(sizeof *rec); /* never seen by the collector */
    void **slot = (void **)&rec->ptr;
    fprintf(stderr, "value=0x%lx slot=0x%lx\n", (unsigned long)obj, (unsigned long)slot);
    switch (how) {
    case BAD_STORE:
        tc_store(slot, obj);
        break;
    case BAD_TC_STORE_FIELD:
        TC_STORE(rec->ptr, obj);
        break;
    case BAD_CAS:
        tc_cas(slot, NULL, obj);
        break;
    case BAD_MEMMOVE: {
        void *src[1] = {obj};
        tc_memmove(slot, src, sizeof src);
        break;
    }
    }
    return 0; /* not reported */
}

static struct node *g_checkptr_global;
static struct node **g_other_stack_slot;
static atomic_int other_ready, other_release;

static void *other_stack_thread(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    struct node *volatile mine = NULL;
    g_other_stack_slot = (struct node **)&mine;
    atomic_store(&other_ready, 1);
    tc_blocking_begin();
    while (!atomic_load(&other_release))
        usleep(1000);
    tc_blocking_end();
    int ok = mine != NULL && tc_base(mine) == mine;
    tc_thread_detach();
    return (void *)(uintptr_t)ok;
}

enum { GOOD_HEAP_ROOTS_STACKS, GOOD_GLOBAL_FIRST, GOOD_GLOBAL_AFTER_CYCLE };

static int checkptr_good_child(int what)
{
    setenv("TRICOLOR", "checkptr=1", 1);
    if (tc_init(NULL) != 0)
        return 20;
    node_type = TC_TYPE(struct node, left, right);
    struct node *obj = new_node(5), *holder = new_node(6);
    if (what == GOOD_GLOBAL_FIRST || what == GOOD_GLOBAL_AFTER_CYCLE) {
        if (what == GOOD_GLOBAL_AFTER_CYCLE)
            tc_collect();
        TC_STORE(g_checkptr_global, obj);        /* global data */
        tc_cas(&g_checkptr_global, obj, holder);
        tc_memmove(&g_checkptr_global, &obj, sizeof(void *));
        tc_collect();
        return g_checkptr_global == obj && node_ok(obj, 5) ? 0 : 23;
    }
    TC_STORE(holder->left, obj);                 /* a heap object */
    tc_cas(&holder->right, NULL, obj);
    tc_memmove(&holder->left, &holder->right, sizeof(void *));
    void **root = calloc(2, sizeof(void *));
    if (root == NULL || tc_root_add(root, 2 * sizeof(void *)) != 0)
        return 21;
    tc_store(&root[0], obj);                     /* a registered root */
    tc_cas(&root[1], NULL, obj);
    struct node *local = NULL;
    TC_STORE(local, obj);                        /* this thread's stack */
    pthread_t th;
    if (pthread_create(&th, NULL, other_stack_thread, NULL) != 0)
        return 22;
    while (!atomic_load(&other_ready))
        usleep(1000);
    TC_STORE(*g_other_stack_slot, obj);          /* another attached thread's stack */
    atomic_store(&other_release, 1);
    void *ok;
    tc_blocking_begin();
    pthread_join(th, &ok);
    tc_blocking_end();
    void **plain = malloc(2 * sizeof(void *));
    tc_store(&plain[0], NULL);                   /* not heap pointers */
    tc_store(&plain[1], &g_checkptr_global);
    tc_collect();
    if (!ok || local != obj || root[0] != obj || root[1] != obj || holder->left != obj || !node_ok(obj, 5))
        return 23;
    return 0;
}

static void test_checkptr_reports_foreign_slot(void)
{
    static const char *const names[] = {"tc_store", "TC_STORE", "tc_cas", "tc_memmove"};
    child_result *r = malloc(sizeof *r);
    REQUIRE(r != NULL);
    for (int how = BAD_STORE; how <= BAD_MEMMOVE; how++) {
        run_child(checkptr_bad_child, how, SANITIZED ? 60 : 20, r);
        unsigned long value = 0, slot = 0;
        const char *line = strstr(r->out, "value=");
        int ok = WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGABRT && line != NULL &&
                 sscanf(line, "value=0x%lx slot=0x%lx", &value, &slot) == 2;
        const char *msg = strstr(r->out, "checkptr");
        char want_v[64], want_s[64];
        snprintf(want_v, sizeof want_v, "0x%lx", value);
        snprintf(want_s, sizeof want_s, "0x%lx", slot);
        ok = ok && msg != NULL && strstr(msg, want_v) != NULL && strstr(msg, want_s) != NULL;
        if (!ok)
            T_FAIL("%s of a heap pointer into malloc'd memory: status 0x%x, output:\n%s", names[how],
                   r->status, r->out);
    }
    free(r);
}

static void expect_checkptr_accepts(int what, const char *name)
{
    child_result *r = malloc(sizeof *r);
    REQUIRE(r != NULL);
    run_child(checkptr_good_child, what, SANITIZED ? 60 : 20, r);
    if (!(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0))
        T_FAIL("barriered stores into %s under checkptr: status 0x%x, output:\n%s", name, r->status, r->out);
    free(r);
}

static void test_checkptr_accepts_heap_roots_stacks(void)
{
    expect_checkptr_accepts(GOOD_HEAP_ROOTS_STACKS,
                            "a heap object, a registered root, this thread's and another thread's stack");
}

static void test_checkptr_accepts_global_before_first_cycle(void)
{
    expect_checkptr_accepts(GOOD_GLOBAL_FIRST, "global data, before any cycle ran");
}

static void test_checkptr_accepts_global_after_cycle(void)
{
    expect_checkptr_accepts(GOOD_GLOBAL_AFTER_CYCLE, "global data, after a cycle");
}

int main(void)
{
    RUN(test_idle_store_is_plain);
    RUN(test_marking_store_is_buffered);
    RUN(test_cas_semantics);
    RUN(test_cas_concurrent_stack);
    RUN(test_memmove_overlap);
    RUN(test_memmove_concurrent);
    RUN(test_checkptr_reports_foreign_slot);
    RUN(test_checkptr_accepts_heap_roots_stacks);
    RUN(test_checkptr_accepts_global_before_first_cycle);
    RUN(test_checkptr_accepts_global_after_cycle);
    TEST_MAIN_END();
}
