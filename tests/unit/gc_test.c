/*
 * gc_test.c -- the cycle (src/gc/gc.c) and sweeping (src/gc/sweep.c) seen
 * from the API: tc_collect runs a forced cycle and the statistics record
 * it (num_gc, num_forced_gc, the pause ring, last_gc, next_gc, frees);
 * gc_percent < 0 stops automatic cycles and tc_set_gc_percent returns the
 * previous value; gctrace=1 prints Go's line per cycle; stw=1 collects
 * correctly; swept slots are reused; clobberfree=1 poisons freed objects.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reach.h"
#include "test.h"
#include "tricolor.h"

struct node {
    struct node *next;
    long value;
};

/* Runs fn in a child with TRICOLOR=settings, stderr captured into out. */
static int run_child(const char *settings, int (*fn)(void), char *out, size_t outlen)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        setenv("TRICOLOR", settings, 1);
        _exit(fn());
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n < outlen - 1 && (r = read(fds[0], out + n, outlen - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

__attribute__((noinline)) static void make_garbage(size_t bytes)
{
    for (size_t done = 0; done < bytes; done += 64)
        (void)tc_alloc(64);
}

static void test_collect_statistics(void)
{
    REQUIRE(tc_init(NULL) == 0);
    tc_stats a, b;
    tc_read_stats(&a);
    make_garbage(8 << 20);
    tc_collect();
    tc_read_stats(&b);
    EXPECT(b.num_gc > a.num_gc);
    EXPECT_EQ(b.num_forced_gc, a.num_forced_gc + 1);
    unsigned last = (b.num_gc + 255) % 256;
    EXPECT(b.pause_ns[last] > 0);
    EXPECT(b.pause_end_ns[last] == b.last_gc_ns);
    EXPECT(b.last_gc_ns > 1600000000ull * 1000000000ull); /* wall clock, after 2020 */
    EXPECT(b.pause_total_ns >= b.pause_max_ns && b.pause_max_ns > 0);
    EXPECT(b.next_gc >= 4u << 20);
    EXPECT(b.frees > a.frees);
    EXPECT(b.heap_alloc < 4u << 20); /* the garbage is gone */
    EXPECT(b.gc_cpu_fraction > 0 && b.gc_cpu_fraction < 1);
    tc_shutdown();
}

static void test_gc_percent(void)
{
    REQUIRE(tc_init(NULL) == 0);
    EXPECT_EQ(tc_set_gc_percent(-1), 100);
    tc_stats a, b;
    tc_read_stats(&a);
    make_garbage(64 << 20);
    tc_read_stats(&b);
    EXPECT_EQ(b.num_gc, a.num_gc); /* no automatic cycle */
    EXPECT_EQ(tc_set_gc_percent(100), -1);
    make_garbage(64 << 20);
    tc_read_stats(&b);
    EXPECT(b.num_gc > a.num_gc);
    tc_shutdown();
}

static int gctrace_child(void)
{
    if (tc_init(NULL) != 0)
        return 1;
    make_garbage(1 << 20);
    tc_collect();
    tc_shutdown();
    return 0;
}

static void test_gctrace(void)
{
    char out[4096];
    EXPECT_EQ(run_child("gctrace=1", gctrace_child, out, sizeof out), 0);
    if (strstr(out, "gc 1 @") == NULL || strstr(out, "ms clock") == NULL ||
        strstr(out, "MB goal") == NULL || strstr(out, "(forced)") == NULL)
        T_FAIL("gctrace output: %s", out);
}

static int list_child(void)
{
    if (tc_init(NULL) != 0)
        return 1;
    const tc_type *t = TC_TYPE(struct node, next);
    struct node *list = NULL;
    for (long i = 0; i < 50000; i++) {
        struct node *n = tc_new(t);
        n->value = i;
        TC_STORE(n->next, list);
        list = n;
        if (i % 2500 == 0)
            make_garbage(2 << 20);
    }
    tc_collect();
    long expect = 49999;
    for (struct node *n = list; n != NULL; n = n->next, expect--)
        if (n->value != expect)
            return 2;
    tc_stats st;
    tc_read_stats(&st);
    tc_shutdown();
    return expect == -1 && st.num_gc >= 3 ? 0 : 3;
}

static void test_stop_the_world_mode(void)
{
    char out[256];
    EXPECT_EQ(run_child("stw=1", list_child, out, sizeof out), 0);
}

static int cmp_uptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

static void test_slots_reused(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0);
    enum { N = 20000 };
    static uintptr_t first[N]; /* addresses only, disguised: not roots */
    for (int i = 0; i < N; i++)
        first[i] = ~(uintptr_t)tc_alloc(48);
    qsort(first, N, sizeof first[0], cmp_uptr);
    tc_collect();
    tc_stats a, b;
    tc_read_stats(&a);
    size_t reused = 0;
    for (int i = 0; i < N; i++) {
        uintptr_t key = ~(uintptr_t)tc_alloc(48);
        reused += bsearch(&key, first, N, sizeof first[0], cmp_uptr) != NULL;
    }
    tc_read_stats(&b);
    EXPECT(reused > N / 2);
    EXPECT_EQ(b.heap_sys, a.heap_sys);
    tc_shutdown();
}

__attribute__((noinline)) static uintptr_t hidden_object(void)
{
    unsigned char *p = tc_alloc(256);
    memset(p, 0x11, 256);
    return ~(uintptr_t)p;
}


static int clobber_child(void)
{
    if (tc_init(&(tc_options){.gc_percent = -1}) != 0)
        return 1;
    uintptr_t hidden = hidden_object();
    scrub_stack();
    tc_collect();
    const unsigned char *p = (const unsigned char *)~hidden;
    int poisoned = p[0] == 0xef && p[1] == 0xbe && p[2] == 0xad && p[3] == 0xde;
    tc_shutdown();
    return poisoned ? 0 : 4;
}

static void test_clobberfree(void)
{
    char out[256];
    EXPECT_EQ(run_child("clobberfree=1", clobber_child, out, sizeof out), 0);
}

int main(void)
{
    RUN(test_collect_statistics);
    RUN(test_gc_percent);
    RUN(test_gctrace);
    RUN(test_stop_the_world_mode);
    RUN(test_slots_reused);
    RUN(test_clobberfree);
    TEST_MAIN_END();
}
