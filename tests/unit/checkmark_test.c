/*
 * checkmark_test.c -- TRICOLOR=checkmark=1 catches a store that bypassed
 * the write barrier (src/gc/checkmark.c), and the barrier itself prevents
 * exactly that loss.
 *
 * The scenario, run in a forked child each time: a chain D -> C1 -> ... ->
 * Z of typed nodes (long, so that marking it takes a while) hangs off a
 * root, and Z->extra holds the only pointer to a victim X.  Everything is
 * built by a helper thread that detaches and exits before the cycle, so no
 * stack holds D..Z or X when the cycle starts (stacks are scanned
 * conservatively).  A second helper thread runs tc_collect.  The main
 * thread waits, through the collector's internals, until
 *   - the phase is GC_MARK (stacks and globals were scanned),
 *   - C64 is marked, so D was scanned: its extra slot (offset 0) was read
 *     before its next slot, so D is black,
 *   - neither Z nor X is marked, so Z was not scanned yet,
 * then moves X from Z->extra into D->extra.
 *
 *  - plain stores (no barrier): D (black) -> X (white) and the old slot is
 *    gone, so X is lost; the child must abort with a "checkmark" message
 *    naming X, the holder D and offset 0 -> test_plain_store_reported.
 *  - the same into a registered root slot scanned before the move: the
 *    report names the root slot -> test_plain_root_store_reported.
 *  - tc_store, tc_cas, tc_memmove for both the insertion and the deletion:
 *    no report, and X stays allocated and intact through later cycles ->
 *    test_barriered_moves_keep_object.
 *
 *  - test_correct_program_not_reported: a program whose stores all use the
 *    barrier, allocating while cycles run back to back, is never reported
 *    (checkmark must have no false positives, or its reports mean nothing).
 *
 * "Z not scanned" is re-checked after the slot was cleared (with a fence),
 * so an attempt counts as armed only when the lost pointer is certain; an
 * attempt that raced with the marker is retried with a longer chain.  A
 * child that armed the scenario and survived a plain-store run is a
 * checkmark failure (exit 3).
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
#include "heap/span.h"
#include "test.h"
#include "util.h"
#include "child.h"
#include "tricolor.h"

struct cm_node {
    struct cm_node *extra; /* offset 0: scanned before next */
    struct cm_node *next;
    uint64_t magic;
    uint64_t id;
};

#define NODE_MAGIC   0x8badf00dc0ffee01ull
#define VICTIM_MAGIC 0x8badf00dfeedbeefull
#define HIDE         0xa5a5a5a5a5a5a5a5ull /* pointers kept as hidden integers */
#define ATTEMPTS     6

enum mode { PLAIN_HEAP, PLAIN_ROOT, BARRIER_STORE, BARRIER_CAS, BARRIER_MEMMOVE };

static const tc_type *node_type;
static struct cm_node *g_head;        /* the chain's root in the heap modes (global data) */
static struct cm_node **g_roots;      /* malloc'd, registered: [0] head in PLAIN_ROOT, [1] target */
static uintptr_t g_c64, g_z, g_x;     /* hidden: C64, Z, X */
static size_t g_len;
static int g_mode;

static void *unhide(uintptr_t h) { return (void *)(h ^ HIDE); }
static uintptr_t hide(const void *p) { return (uintptr_t)p ^ HIDE; }

/* 1 if the object at p is marked in the current cycle, 0 if not, -1 if p
 * is not a heap object. */
static int marked(const void *p)
{
    span *s = span_of_heap((uintptr_t)p);
    if (s == NULL)
        return -1;
    size_t idx = span_is_large(s) ? 0 : span_object_index(s, (uintptr_t)p);
    return span_is_marked(s, idx) ? 1 : 0;
}

static int phase(void) { return atomic_load(&gc_phase_now); }

static atomic_int fence_word;

static void *builder(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    struct cm_node *x = tc_new(node_type);
    x->magic = VICTIM_MAGIC;
    x->id = 0xfffffff;
    struct cm_node *z = tc_new(node_type);
    z->magic = NODE_MAGIC;
    z->id = g_len - 1;
    TC_STORE(z->extra, x);
    struct cm_node *cur = z, *c64 = NULL;
    for (size_t i = g_len - 1; i-- > 0;) {
        struct cm_node *n = tc_new(node_type);
        n->magic = NODE_MAGIC;
        n->id = i;
        TC_STORE(n->next, cur);
        cur = n;
        if (i == 64)
            c64 = n;
    }
    if (g_mode == PLAIN_ROOT)
        tc_store(&g_roots[0], cur);
    else
        g_head = cur; /* global data: scanned with the stacks, no barrier needed */
    g_c64 = hide(c64);
    g_z = hide(z);
    g_x = hide(x);
    cur = z = x = c64 = NULL;
    tc_thread_detach();
    return NULL;
}

static atomic_int collect_done;

static void *collector(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    tc_collect();
    atomic_store(&collect_done, 1);
    tc_thread_detach();
    return NULL;
}

static int victim_ok(struct cm_node *x)
{
    return tc_base(x) == x && x->magic == VICTIM_MAGIC && x->id == 0xfffffff && x->next == NULL &&
           x->extra == NULL;
}

/* One attempt.  Returns 1 if armed (the lost pointer is certain for the
 * plain modes; the same situation was set up for the barriered ones). */
static int attempt(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, builder, NULL) != 0)
        _exit(10);
    tc_blocking_begin();
    pthread_join(th, NULL);
    tc_blocking_end();

    atomic_store(&collect_done, 0);
    if (pthread_create(&th, NULL, collector, NULL) != 0)
        _exit(10);
    /* On a loaded machine this thread may miss the whole mark phase: the
     * attempt is then not armed and is retried. */
    uint64_t deadline = now_ns() + 60000000000ull;
    while (phase() != GC_MARK && !atomic_load(&collect_done)) {
        tc_safepoint();
        if (now_ns() > deadline) {
            fprintf(stderr, "the cycle neither began marking nor ended\n");
            _exit(11);
        }
    }
    int armed = 0;
    struct cm_node *c64 = unhide(g_c64);
    while (marked(c64) != 1 && phase() == GC_MARK)
        tc_safepoint();
    struct cm_node *z = unhide(g_z), *x = unhide(g_x);
    struct cm_node *d = g_mode == PLAIN_ROOT ? g_roots[0] : g_head;
    void **target = g_mode == PLAIN_ROOT ? (void **)&g_roots[1] : (void **)&d->extra;
    if (phase() == GC_MARK && marked(c64) == 1 && marked(z) == 0 && marked(x) == 0) {
        fprintf(stderr, "victim=0x%lx holder=0x%lx slot=0x%lx\n", (unsigned long)x,
                (unsigned long)d, (unsigned long)target);
        void *moved = NULL;
        switch (g_mode) {
        case PLAIN_HEAP:
        case PLAIN_ROOT:
            moved = z->extra;         /* plain load */
            *target = moved;          /* plain store into a black object / scanned root */
            z->extra = NULL;          /* plain delete: no barrier shades X */
            atomic_fetch_add(&fence_word, 1); /* a full fence (TSan does not take atomic_thread_fence) */
            armed = marked(z) == 0 && marked(x) == 0;
            break;
        case BARRIER_STORE:
            moved = z->extra;
            tc_store(target, moved);
            TC_STORE(z->extra, NULL);
            armed = 1;
            break;
        case BARRIER_CAS:
            moved = z->extra;
            armed = tc_cas(target, NULL, moved) == 1 && tc_cas(&z->extra, moved, NULL) == 1;
            if (!armed)
                _exit(12);
            break;
        case BARRIER_MEMMOVE: {
            void *none = NULL;
            tc_memmove(target, &z->extra, sizeof(void *));
            tc_memmove(&z->extra, &none, sizeof(void *));
            armed = 1;
            break;
        }
        }
        if (*target != x || z->extra != NULL)
            _exit(13);
    }
    tc_blocking_begin();
    pthread_join(th, NULL);
    tc_blocking_end();
    if (!armed)
        return 0;
    if (g_mode == PLAIN_HEAP || g_mode == PLAIN_ROOT) {
        fprintf(stderr, "armed a lost object and checkmark said nothing\n");
        _exit(3);
    }
    /* Barriered: X survived the cycle and keeps surviving. */
    for (int i = 0; i < 4; i++) {
        if (!victim_ok(x) || *target != x) {
            fprintf(stderr, "victim 0x%lx lost after cycle %d\n", (unsigned long)x, i);
            _exit(2);
        }
        for (int k = 0; k < 20000; k++)
            (void)tc_new(node_type); /* would reuse X's slot if it had been freed */
        tc_collect();
    }
    return 1;
}

static int child(int mode)
{
    setenv("TRICOLOR", "checkmark=1,gcpercent=-1", 1);
    if (tc_init(NULL) != 0)
        return 20;
    node_type = TC_TYPE(struct cm_node, extra, next);
    g_mode = mode;
    g_roots = calloc(2, sizeof *g_roots);
    if (node_type == NULL || g_roots == NULL || tc_root_add(g_roots, 2 * sizeof *g_roots) != 0)
        return 21;
    g_len = SANITIZED ? 50000 : 200000;
    for (int a = 0; a < ATTEMPTS; a++, g_len = g_len < 800000 ? g_len * 2 : g_len) {
        if (attempt())
            return 0;
        fprintf(stderr, "attempt %d not armed (chain of %zu)\n", a, g_len);
    }
    return 4;
}

/* ---- Running a child --------------------------------------------------- */

static const char *mode_name(int mode)
{
    static const char *const names[] = {"plain heap store", "plain root store", "tc_store", "tc_cas",
                                        "tc_memmove"};
    return names[mode];
}

static void dump(const char *what, const child_result *r)
{
    fprintf(stderr, "--- %s: status 0x%x%s; child output:\n%s---\n", what, r->status,
            r->timed_out ? " (timed out)" : "", r->out);
}

/* The addresses the child printed for its last armed attempt. */
static int last_armed(const char *out, unsigned long *victim, unsigned long *holder, unsigned long *slot)
{
    const char *p = out, *last = NULL;
    while ((p = strstr(p, "victim=")) != NULL)
        last = p++;
    return last != NULL && sscanf(last, "victim=0x%lx holder=0x%lx slot=0x%lx", victim, holder, slot) == 3;
}

static void expect_checkmark_report(int mode)
{
    child_result *r = malloc(sizeof *r);
    REQUIRE(r != NULL);
    run_child(child, mode, SANITIZED ? 120 : 40, r);
    int ok = 1;
    unsigned long victim = 0, holder = 0, slot = 0;
    if (r->timed_out || !WIFSIGNALED(r->status) || WTERMSIG(r->status) != SIGABRT) {
        T_FAIL("%s: the child did not abort", mode_name(mode));
        ok = 0;
    } else if (!last_armed(r->out, &victim, &holder, &slot)) {
        T_FAIL("%s: the child never printed its victim", mode_name(mode));
        ok = 0;
    } else {
        char want[128];
        const char *msg = strstr(r->out, "checkmark:");
        EXPECT(msg != NULL);
        if (msg == NULL)
            ok = 0;
        snprintf(want, sizeof want, "object 0x%lx (struct cm_node", victim);
        if (msg != NULL && strstr(msg, want) == NULL) {
            T_FAIL("%s: the report does not name the victim (%s)", mode_name(mode), want);
            ok = 0;
        }
        if (mode == PLAIN_HEAP)
            snprintf(want, sizeof want, "from 0x%lx, offset 0 of the marked object 0x%lx (struct cm_node)",
                     slot, holder);
        else
            snprintf(want, sizeof want, "from 0x%lx in registered root", slot);
        if (msg != NULL && strstr(msg, want) == NULL) {
            T_FAIL("%s: the report does not name the slot (%s)", mode_name(mode), want);
            ok = 0;
        }
    }
    if (!ok)
        dump(mode_name(mode), r);
    free(r);
}

/* A correct program (barriered stores, or none at all) allocating while
 * cycles run back to back: checkmark must never report it. */
static atomic_int quiet_stop;

static void *quiet_collector(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    uint64_t end = now_ns() + (SANITIZED ? 10000000000ull : 4000000000ull);
    for (int i = 0; i < (SANITIZED ? 60 : 200) && !atomic_load(&quiet_stop) && now_ns() < end; i++)
        tc_collect();
    atomic_store(&quiet_stop, 1);
    tc_thread_detach();
    return NULL;
}

static int quiet_child(int unused)
{
    (void)unused;
    setenv("TRICOLOR", "checkmark=1", 1);
    if (tc_init(NULL) != 0)
        return 20;
    node_type = TC_TYPE(struct cm_node, extra, next);
    struct cm_node **ring = calloc(256, sizeof *ring);
    if (ring == NULL || tc_root_add(ring, 256 * sizeof *ring) != 0)
        return 21;
    pthread_t th;
    if (pthread_create(&th, NULL, quiet_collector, NULL) != 0)
        return 22;
    uint64_t i = 0;
    while (!atomic_load(&quiet_stop)) {
        (void)tc_alloc(64); /* garbage */
        if (++i % 16 == 0) {
            struct cm_node *n = tc_new(node_type);
            n->magic = NODE_MAGIC;
            TC_STORE(n->next, tc_new(node_type));
            TC_STORE(n->extra, ring[(i / 16 + 1) % 256] ? ring[(i / 16 + 1) % 256]->next : NULL);
            tc_store(&ring[(i / 16) % 256], n);
        }
    }
    tc_blocking_begin();
    pthread_join(th, NULL);
    tc_blocking_end();
    return 0;
}

static void test_correct_program_not_reported(void)
{
    child_result *r = malloc(sizeof *r);
    REQUIRE(r != NULL);
    run_child(quiet_child, 0, SANITIZED ? 120 : 40, r);
    if (r->timed_out || !WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
        T_FAIL("checkmark=1 stopped a program with no missing barrier (status 0x%x)", r->status);
        dump("correct program", r);
    }
    free(r);
}

static void test_plain_store_reported(void) { expect_checkmark_report(PLAIN_HEAP); }
static void test_plain_root_store_reported(void) { expect_checkmark_report(PLAIN_ROOT); }

static void test_barriered_moves_keep_object(void)
{
    child_result *r = malloc(sizeof *r);
    REQUIRE(r != NULL);
    for (int mode = BARRIER_STORE; mode <= BARRIER_MEMMOVE; mode++) {
        run_child(child, mode, SANITIZED ? 120 : 40, r);
        int ok = !r->timed_out && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
        if (!ok) {
            T_FAIL("%s: the object moved with barriers was not kept (status 0x%x)", mode_name(mode),
                   r->status);
            dump(mode_name(mode), r);
        }
        EXPECT(strstr(r->out, "checkmark") == NULL);
    }
    free(r);
}

int main(void)
{
    RUN(test_plain_store_reported);
    RUN(test_plain_root_store_reported);
    RUN(test_barriered_moves_keep_object);
    RUN(test_correct_program_not_reported);
    TEST_MAIN_END();
}
