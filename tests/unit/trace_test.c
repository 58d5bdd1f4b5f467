/*
 * trace_test.c -- the execution tracer (src/trace/trace.c, src/api_trace.c).
 *
 * A small decoder of docs/trace-format.md (independent of the tools) reads
 * what tc_trace_read hands out and checks:
 *
 *  - test_round_trip: every event kind appears with its arguments: cycles
 *    (GC_BEGIN/GC_END with matching numbers), stops with their reasons,
 *    phases, mark work, assists (a thread allocating hard during marking),
 *    sweeps, heap allocated and goal, attach/detach, blocking, tasks,
 *    regions and logs (text intact), thread names; times never decrease
 *    within a batch and all lie within the trace's duration.
 *  - test_concurrent_writers: four threads log numbered messages while a
 *    reader thread reads: every message arrives exactly once, in order per
 *    thread, across many buffers.
 *  - test_stop_while_reader_waits: a reader blocked in tc_trace_read gets
 *    the rest, the footer and NULL when another thread stops the trace.
 *  - test_restart: start, stop, start again: the second trace is complete
 *    on its own; tc_trace_start while tracing is TC_EBUSY, tc_trace_stop
 *    with no trace TC_ESTATE.
 *  - test_long_log_is_cut_visibly: a message longer than the limit arrives
 *    cut, with a note saying so.
 *  - test_two_readers_abort: a second concurrent reader aborts with a
 *    message (child process).
 *  - test_trace_file and test_trace_env: tc_trace_start_file and
 *    TRICOLOR=trace=FILE write a complete file (header .. footer).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "child.h"
#include "util.h"
#include "tricolor.h"

/* ---- A decoder ------------------------------------------------------------- */

enum {
    EV_GC_BEGIN = 0x10, EV_GC_END, EV_STW_BEGIN, EV_STW_END, EV_PHASE, EV_MARK_BEGIN, EV_MARK_END,
    EV_ASSIST_BEGIN, EV_ASSIST_END, EV_SWEEP_BEGIN, EV_SWEEP_END, EV_HEAP_ALLOC, EV_HEAP_GOAL,
    EV_ATTACH, EV_DETACH, EV_BLOCK_BEGIN, EV_BLOCK_END, EV_TASK_BEGIN, EV_TASK_END, EV_REGION_BEGIN,
    EV_REGION_END, EV_LOG, EV_THREAD_NAME, EV_LAST = EV_THREAD_NAME
};
static const int nargs_of[EV_LAST + 1] = {
    [EV_GC_BEGIN] = 2, [EV_GC_END] = 1, [EV_STW_BEGIN] = 1, [EV_PHASE] = 1, [EV_MARK_END] = 1,
    [EV_ASSIST_END] = 1, [EV_SWEEP_END] = 2, [EV_HEAP_ALLOC] = 1, [EV_HEAP_GOAL] = 1,
    [EV_TASK_BEGIN] = 2, [EV_TASK_END] = 1, [EV_REGION_BEGIN] = 1, [EV_REGION_END] = 1,
    [EV_LOG] = 1, [EV_THREAD_NAME] = 1,
};

typedef struct ev {
    uint32_t tid;
    uint8_t type;
    uint64_t time, a[2];
    char *text; /* LOG message */
} ev;

typedef struct trace {
    uint8_t *data;
    size_t len;
    ev *evs;
    size_t nevs;
    char **strs; /* by id */
    size_t nstrs;
    uint64_t duration;
    int batches, footer;
    char err[160];
} trace;

static int uv(const uint8_t *d, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = d[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

#define BAD(t, ...) (snprintf((t)->err, sizeof (t)->err, __VA_ARGS__), -1)

static int decode(trace *t)
{
    const uint8_t *d = t->data;
    size_t len = t->len, pos = 16;
    if (len < 16 || memcmp(d, "TCTRACE\0", 8) != 0 || d[8] != 1)
        return BAD(t, "bad header");
    size_t cap = 1024;
    t->evs = calloc(cap, sizeof *t->evs);
    while (pos < len) {
        uint8_t tag = d[pos++];
        if (tag == 0x01) {
            uint64_t tid, base, blen;
            if (uv(d, len, &pos, &tid) || uv(d, len, &pos, &base))
                return BAD(t, "batch header at %zu", pos);
            size_t lpos = pos;
            if (uv(d, len, &pos, &blen) || pos - lpos != 3 || pos + blen > len)
                return BAD(t, "batch length at %zu", lpos);
            size_t end = pos + blen;
            uint64_t last = base;
            t->batches++;
            while (pos < end) {
                uint8_t type = d[pos++];
                if (type < EV_GC_BEGIN || type > EV_LAST)
                    return BAD(t, "event type 0x%x at %zu", type, pos - 1);
                uint64_t dt;
                if (uv(d, end, &pos, &dt))
                    return BAD(t, "time at %zu", pos);
                if (t->nevs == cap)
                    t->evs = realloc(t->evs, (cap *= 2) * sizeof *t->evs);
                ev *e = &t->evs[t->nevs++];
                memset(e, 0, sizeof *e);
                e->tid = (uint32_t)tid;
                e->type = type;
                e->time = base + dt;
                if (e->time < last)
                    return BAD(t, "time went back at %zu", pos);
                last = e->time;
                for (int i = 0; i < nargs_of[type]; i++)
                    if (uv(d, end, &pos, &e->a[i]))
                        return BAD(t, "argument at %zu", pos);
                if (type == EV_LOG) {
                    uint64_t n;
                    if (uv(d, end, &pos, &n) || pos + n > end)
                        return BAD(t, "log text at %zu", pos);
                    e->text = strndup((const char *)d + pos, n);
                    pos += n;
                }
            }
        } else if (tag == 0x02) {
            uint64_t freq, wall, n;
            if (uv(d, len, &pos, &freq) || uv(d, len, &pos, &wall) || uv(d, len, &pos, &t->duration) ||
                uv(d, len, &pos, &n) || freq != 1000000000u)
                return BAD(t, "footer at %zu", pos);
            t->nstrs = 4096 + 2;
            t->strs = calloc(t->nstrs, sizeof *t->strs);
            for (uint64_t i = 0; i < n; i++) {
                uint64_t id, sl;
                if (uv(d, len, &pos, &id) || uv(d, len, &pos, &sl) || pos + sl > len || id >= t->nstrs)
                    return BAD(t, "string at %zu", pos);
                t->strs[id] = strndup((const char *)d + pos, sl);
                pos += sl;
            }
            if (pos >= len || d[pos++] != 0x03 || pos != len)
                return BAD(t, "end byte at %zu", pos);
            t->footer = 1;
        } else {
            return BAD(t, "tag 0x%x at %zu", tag, pos - 1);
        }
    }
    if (!t->footer)
        return BAD(t, "no footer");
    return 0;
}

static const char *str(const trace *t, uint64_t id)
{
    if (id == 0)
        return "";
    return id < t->nstrs && t->strs[id] != NULL ? t->strs[id] : "<missing>";
}

static void trace_free(trace *t)
{
    for (size_t i = 0; i < t->nevs; i++)
        free(t->evs[i].text);
    for (size_t i = 0; i < t->nstrs; i++)
        free(t->strs[i]);
    free(t->strs);
    free(t->evs);
    free(t->data);
    memset(t, 0, sizeof *t);
}

/* Reads chunks until NULL into t->data; returns the number of chunks. */
static int read_all(trace *t)
{
    size_t cap = 1 << 20, len;
    int chunks = 0;
    const void *p;
    t->data = malloc(cap);
    t->len = 0;
    while ((p = tc_trace_read(&len)) != NULL) {
        while (t->len + len > cap)
            t->data = realloc(t->data, cap *= 2);
        memcpy(t->data + t->len, p, len);
        t->len += len;
        chunks++;
    }
    return chunks;
}

static void *reader_thread(void *arg)
{
    trace *t = arg;
    read_all(t);
    return NULL;
}

static size_t count(const trace *t, int type)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nevs; i++)
        n += t->evs[i].type == type;
    return n;
}

static int has_str_event(const trace *t, int type, const char *s)
{
    for (size_t i = 0; i < t->nevs; i++)
        if (t->evs[i].type == type && strcmp(str(t, t->evs[i].a[0]), s) == 0)
            return 1;
    return 0;
}

/* ---- Workloads ------------------------------------------------------------- */

struct node {
    struct node *next;
    uint64_t pad[5];
};
static const tc_type *node_type;
static struct node *keep[1]; /* a registered root */

static void *idle_thread(void *arg)
{
    (void)arg;
    tc_thread_attach();
    tc_blocking_begin();
    usleep(1000);
    tc_blocking_end();
    tc_thread_detach();
    return NULL;
}

/* Allocates a linked list of n nodes held by keep[0]: marking it takes a
 * while, so an allocating thread assists meanwhile. */
static void build_list(size_t n)
{
    struct node *head = NULL;
    for (size_t i = 0; i < n; i++) {
        struct node *x = tc_new(node_type);
        TC_STORE(x->next, head);
        head = x;
    }
    tc_store(&keep[0], head);
}

static void test_round_trip(void)
{
    trace t = {0};
    pthread_t rd;
    REQUIRE(tc_trace_start() == 0);
    REQUIRE(pthread_create(&rd, NULL, reader_thread, &t) == 0);
    uint64_t task = tc_trace_task_begin("load");
    tc_trace_region_begin("build");
    build_list(300000);
    tc_trace_region_end("build");
    tc_trace_log("note", "hello, trace");
    tc_blocking_begin();
    usleep(100);
    tc_blocking_end();
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, idle_thread, NULL) == 0);
    tc_blocking_begin();
    pthread_join(th, NULL);
    tc_blocking_end();
    /* Cycles with allocation during marking: assists. */
    tc_set_gc_percent(10);
    uint64_t end = now_ns() + 3000000000ull;
    while (now_ns() < end) {
        for (int i = 0; i < 20000; i++)
            tc_new(node_type);
        tc_stats st;
        tc_read_stats(&st);
        if (st.num_gc >= 6)
            break;
    }
    tc_set_gc_percent(100);
    tc_collect();
    tc_trace_task_end(task);
    REQUIRE(tc_trace_stop() == 0);
    tc_blocking_begin();
    pthread_join(rd, NULL);
    tc_blocking_end();
    int rc = decode(&t);
    if (rc != 0)
        T_FAIL("decode: %s", t.err);
    REQUIRE(rc == 0);
    for (int type = EV_GC_BEGIN; type <= EV_LAST; type++)
        if (count(&t, type) == 0)
            T_FAIL("no event of type 0x%x", type);
    EXPECT(t.batches >= 2);
    /* Cycles pair up. */
    size_t begins = 0, ends = 0;
    for (size_t i = 0; i < t.nevs; i++) {
        if (t.evs[i].type == EV_GC_BEGIN)
            begins++;
        if (t.evs[i].type == EV_GC_END) {
            ends++;
            int found = 0;
            for (size_t j = 0; j < i; j++)
                found |= t.evs[j].type == EV_GC_BEGIN && t.evs[j].a[0] == t.evs[i].a[0];
            EXPECT(found);
        }
        EXPECT(t.evs[i].time <= t.duration);
    }
    EXPECT(begins >= 2 && ends >= 2);
    EXPECT(has_str_event(&t, EV_STW_BEGIN, "sweep termination"));
    EXPECT(has_str_event(&t, EV_STW_BEGIN, "mark termination"));
    EXPECT(has_str_event(&t, EV_STW_BEGIN, "trace start"));
    EXPECT(has_str_event(&t, EV_PHASE, "mark"));
    EXPECT(has_str_event(&t, EV_PHASE, "sweep"));
    EXPECT(has_str_event(&t, EV_REGION_BEGIN, "build"));
    EXPECT(has_str_event(&t, EV_REGION_END, "build"));
    EXPECT(has_str_event(&t, EV_THREAD_NAME, "gc controller"));
    int log_ok = 0, task_ok = 0, task_end_ok = 0;
    for (size_t i = 0; i < t.nevs; i++) {
        ev *e = &t.evs[i];
        if (e->type == EV_LOG && strcmp(str(&t, e->a[0]), "note") == 0 && strcmp(e->text, "hello, trace") == 0)
            log_ok = 1;
        if (e->type == EV_TASK_BEGIN && e->a[0] == task && strcmp(str(&t, e->a[1]), "load") == 0)
            task_ok = 1;
        if (e->type == EV_TASK_END && e->a[0] == task)
            task_end_ok = 1;
    }
    EXPECT(log_ok && task_ok && task_end_ok);
    /* Blocking sections pair up per thread: an END always follows a BEGIN
     * (tc_blocking_begin, runtime waits and detaching all write one),
     * except a thread's first END when the trace began inside the section. */
    for (size_t i = 0; i < t.nevs; i++) {
        if (t.evs[i].type != EV_BLOCK_END)
            continue;
        int open = 0, earlier = 0;
        for (size_t j = 0; j < i; j++) {
            if (t.evs[j].tid != t.evs[i].tid)
                continue;
            if (t.evs[j].type == EV_BLOCK_BEGIN)
                open++, earlier++;
            else if (t.evs[j].type == EV_BLOCK_END && open > 0)
                open--;
            else if (t.evs[j].type == EV_BLOCK_END)
                earlier++;
        }
        if (open != 1 && !(open == 0 && earlier == 0)) {
            T_FAIL("BLOCKING_END of thread %u at %llu without a BLOCKING_BEGIN", t.evs[i].tid,
                   (unsigned long long)t.evs[i].time);
            break;
        }
    }
    fprintf(stderr, "    %zu events in %d batches, %zu bytes, %zu cycles\n", t.nevs, t.batches, t.len, begins);
    tc_store(&keep[0], NULL);
    trace_free(&t);
}

/* ---- Concurrent writers ------------------------------------------------------ */

#define WRITERS 4
#define PER_WRITER 20000

static void *log_thread(void *arg)
{
    int w = (int)(intptr_t)arg;
    tc_thread_attach();
    char cat[16], msg[32];
    snprintf(cat, sizeof cat, "w%d", w);
    for (int i = 0; i < PER_WRITER; i++) {
        snprintf(msg, sizeof msg, "%d", i);
        tc_trace_log(cat, msg);
    }
    tc_thread_detach();
    return NULL;
}

static void test_concurrent_writers(void)
{
    trace t = {0};
    pthread_t rd, th[WRITERS];
    REQUIRE(tc_trace_start() == 0);
    REQUIRE(pthread_create(&rd, NULL, reader_thread, &t) == 0);
    for (int w = 0; w < WRITERS; w++)
        REQUIRE(pthread_create(&th[w], NULL, log_thread, (void *)(intptr_t)w) == 0);
    tc_blocking_begin();
    for (int w = 0; w < WRITERS; w++)
        pthread_join(th[w], NULL);
    tc_blocking_end();
    REQUIRE(tc_trace_stop() == 0);
    tc_blocking_begin();
    pthread_join(rd, NULL);
    tc_blocking_end();
    int rc = decode(&t);
    if (rc != 0)
        T_FAIL("decode: %s", t.err);
    REQUIRE(rc == 0);
    int next[WRITERS] = {0}, bad = 0;
    for (size_t i = 0; i < t.nevs; i++) {
        ev *e = &t.evs[i];
        if (e->type != EV_LOG)
            continue;
        const char *c = str(&t, e->a[0]);
        if (c[0] != 'w')
            continue;
        int w = atoi(c + 1);
        if (w < 0 || w >= WRITERS || atoi(e->text) != next[w])
            bad++;
        else
            next[w]++;
    }
    EXPECT_EQ(bad, 0);
    for (int w = 0; w < WRITERS; w++)
        EXPECT_EQ(next[w], PER_WRITER);
    EXPECT(t.batches > WRITERS); /* several buffers each */
    trace_free(&t);
}

/* ---- Stop while the reader waits ---------------------------------------------- */

static _Atomic int reader_waiting_done;

static void *blocked_reader(void *arg)
{
    trace *t = arg;
    read_all(t);
    atomic_store(&reader_waiting_done, 1);
    return NULL;
}

static void test_stop_while_reader_waits(void)
{
    trace t = {0};
    pthread_t rd;
    REQUIRE(tc_trace_start() == 0);
    tc_trace_log("before", "the reader blocks after the header");
    REQUIRE(pthread_create(&rd, NULL, blocked_reader, &t) == 0);
    tc_blocking_begin();
    usleep(100000); /* the reader is waiting for a full buffer by now */
    tc_blocking_end();
    EXPECT(!atomic_load(&reader_waiting_done));
    REQUIRE(tc_trace_stop() == 0);
    tc_blocking_begin();
    pthread_join(rd, NULL);
    tc_blocking_end();
    EXPECT(atomic_load(&reader_waiting_done));
    EXPECT_EQ(decode(&t), 0);
    EXPECT(count(&t, EV_LOG) == 1);
    trace_free(&t);
}

/* ---- Restart and errors --------------------------------------------------------- */

static void test_restart(void)
{
    EXPECT_EQ(tc_trace_stop(), TC_ESTATE);
    for (int round = 0; round < 3; round++) {
        trace t = {0};
        pthread_t rd;
        REQUIRE(tc_trace_start() == 0);
        EXPECT_EQ(tc_trace_start(), TC_EBUSY);
        REQUIRE(pthread_create(&rd, NULL, reader_thread, &t) == 0);
        char msg[32];
        snprintf(msg, sizeof msg, "round %d", round);
        tc_trace_log("restart", msg);
        tc_collect();
        REQUIRE(tc_trace_stop() == 0);
        tc_blocking_begin();
        pthread_join(rd, NULL);
        tc_blocking_end();
        if (decode(&t) != 0)
            T_FAIL("decode: %s", t.err);
        int found = 0;
        for (size_t i = 0; i < t.nevs; i++)
            found += t.evs[i].type == EV_LOG && strcmp(t.evs[i].text, msg) == 0 &&
                     strcmp(str(&t, t.evs[i].a[0]), "restart") == 0;
        EXPECT_EQ(found, 1);
        EXPECT_EQ(count(&t, EV_GC_BEGIN), 1);
        trace_free(&t);
    }
    size_t len = 123;
    EXPECT(tc_trace_read(&len) == NULL && len == 0); /* no trace: nothing */
}

static void test_long_log_is_cut_visibly(void)
{
    trace t = {0};
    pthread_t rd;
    size_t n = 100000;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    REQUIRE(tc_trace_start() == 0);
    REQUIRE(pthread_create(&rd, NULL, reader_thread, &t) == 0);
    tc_trace_log("big", big);
    REQUIRE(tc_trace_stop() == 0);
    tc_blocking_begin();
    pthread_join(rd, NULL);
    tc_blocking_end();
    EXPECT_EQ(decode(&t), 0);
    int cut = 0;
    for (size_t i = 0; i < t.nevs; i++)
        if (t.evs[i].type == EV_LOG)
            cut = strlen(t.evs[i].text) < n && strstr(t.evs[i].text, "[cut:") != NULL;
    EXPECT(cut);
    free(big);
    trace_free(&t);
}

/* ---- Misuse, files -------------------------------------------------------------- */

static void *spin_reader(void *arg)
{
    (void)arg;
    size_t len;
    for (;;)
        tc_trace_read(&len);
    return NULL;
}

static int two_readers_child(int unused)
{
    (void)unused;
    tc_options o = {.gc_percent = -1};
    if (tc_init(&o) != 0 || tc_trace_start() != 0)
        return 1;
    pthread_t a, b;
    pthread_create(&a, NULL, spin_reader, NULL);
    pthread_create(&b, NULL, spin_reader, NULL);
    for (int i = 0; i < 200; i++) {
        tc_trace_log("x", "y");
        usleep(10000);
    }
    return 0; /* not reached: the second reader aborts */
}

static void test_two_readers_abort(void)
{
    child_result r;
    run_child(two_readers_child, 0, 30, &r);
    EXPECT(!r.timed_out);
    EXPECT(r.status != 0);
    EXPECT(strstr(r.out, "one reader") != NULL);
}

static int load_file(trace *t, const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    struct stat sb;
    fstat(fd, &sb);
    t->data = malloc((size_t)sb.st_size + 1);
    t->len = (size_t)read(fd, t->data, (size_t)sb.st_size);
    close(fd);
    return decode(t);
}

static void test_trace_file(void)
{
    char path[] = "/tmp/tricolor_trace_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    REQUIRE(tc_trace_start_file(path) == 0);
    tc_trace_log("file", "to a file");
    tc_collect();
    REQUIRE(tc_trace_stop() == 0);
    trace t = {0};
    int rc = load_file(&t, path);
    if (rc != 0)
        T_FAIL("decode %s: %s", path, t.err);
    EXPECT(count(&t, EV_GC_BEGIN) == 1 && count(&t, EV_LOG) == 1);
    trace_free(&t);
    unlink(path);
    EXPECT_EQ(tc_trace_start_file("/nonexistent-dir/trace"), TC_EIO);
}

static char env_path[64];

static int env_child(int unused)
{
    (void)unused;
    char setting[128];
    snprintf(setting, sizeof setting, "trace=%s", env_path);
    setenv("TRICOLOR", setting, 1);
    tc_options o = {.gc_percent = -1};
    if (tc_init(&o) != 0)
        return 1;
    tc_trace_log("env", "from init to exit");
    tc_collect();
    exit(0); /* the atexit handler completes the file */
}

static void test_trace_env(void)
{
    snprintf(env_path, sizeof env_path, "/tmp/tricolor_env_trace_%d", (int)getpid());
    child_result r;
    run_child(env_child, 0, 30, &r);
    EXPECT(!r.timed_out);
    EXPECT_EQ(r.status, 0);
    trace t = {0};
    int rc = load_file(&t, env_path);
    if (rc != 0)
        T_FAIL("decode %s: %s", env_path, t.err);
    EXPECT(count(&t, EV_LOG) == 1 && count(&t, EV_GC_END) == 1);
    trace_free(&t);
    unlink(env_path);
}

int main(void)
{
    tc_options o = {.gc_percent = -1};
    REQUIRE(tc_init(&o) == 0);
    node_type = TC_TYPE(struct node, next);
    REQUIRE(tc_root_add(keep, sizeof keep) == 0);
    RUN(test_round_trip);
    RUN(test_concurrent_writers);
    RUN(test_stop_while_reader_waits);
    RUN(test_restart);
    RUN(test_long_log_is_cut_visibly);
    RUN(test_trace_file);
    tc_root_remove(keep);
    tc_shutdown();
    RUN(test_two_readers_abort);
    RUN(test_trace_env);
    TEST_MAIN_END();
}
