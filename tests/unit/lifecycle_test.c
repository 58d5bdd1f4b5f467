/*
 * lifecycle_test.c -- tc_init / tc_shutdown (src/api.c): shutdown returns
 * every byte obtained from the OS, init works again afterwards, and misuse
 * is caught: allocation or detach from an unattached thread aborts with a
 * message, attach before init is TC_ESTATE, shutdown with other threads
 * still attached aborts.
 */
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heap/heap_verify.h"
#include "sys/sys.h"
#include "test.h"
#include "tricolor.h"

static uint64_t sys_total(void)
{
    return memstat_get(MEMSTAT_HEAP) + memstat_get(MEMSTAT_GC) + memstat_get(MEMSTAT_OTHER);
}

static void test_shutdown_returns_everything(void)
{
    for (int cycle = 0; cycle < 3; cycle++) {
        REQUIRE(tc_init(NULL) == 0);
        const tc_type *t = tc_type_new("rec", 64, (size_t[]){0, 8}, 2);
        REQUIRE(t != NULL);
        for (int i = 0; i < 20000; i++)
            REQUIRE(tc_new(t) != NULL);
        REQUIRE(tc_alloc(100 << 20) != NULL);
        EXPECT(sys_total() > (100u << 20));
        EXPECT_EQ(heap_verify(NULL), 0);
        tc_shutdown();
        EXPECT_EQ(sys_total(), 0);
        EXPECT_EQ(memstat_get(MEMSTAT_HEAP), 0);
    }
    tc_shutdown(); /* a second shutdown is harmless */
}

static int aborts_with(void (*fn)(void), const char *needle)
{
    int fds[2];
    if (pipe(fds) != 0)
        return 0;
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        fn();
        _exit(0);
    }
    close(fds[1]);
    char buf[1024] = {0};
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT))
        return 0;
    if (strstr(buf, needle) == NULL) {
        fprintf(stderr, "message was: %s\n", buf);
        return 0;
    }
    return 1;
}

static void alloc_uninitialised(void) { (void)tc_alloc(10); }
static void alloc_zero_uninitialised(void) { (void)tc_alloc(0); }
static void detach_unattached(void) { tc_thread_detach(); }

static void *idle_thread(void *arg)
{
    (void)arg;
    tc_thread_attach();
    pause();
    return NULL;
}

static void shutdown_with_attached_thread(void)
{
    tc_init(NULL);
    pthread_t th;
    pthread_create(&th, NULL, idle_thread, NULL);
    usleep(20000);
    tc_shutdown();
}

static void *alloc_unattached_thread(void *arg)
{
    (void)arg;
    (void)tc_alloc(100000);
    return NULL;
}

static void alloc_from_unattached_thread(void)
{
    tc_init(NULL);
    pthread_t th;
    pthread_create(&th, NULL, alloc_unattached_thread, NULL);
    pthread_join(th, NULL);
}

static void test_misuse(void)
{
    EXPECT_EQ(tc_thread_attach(), TC_ESTATE);
    EXPECT(aborts_with(alloc_uninitialised, "not attached"));
    EXPECT(aborts_with(alloc_zero_uninitialised, "not attached"));
    EXPECT(aborts_with(detach_unattached, "not attached"));
    EXPECT(aborts_with(shutdown_with_attached_thread, "still attached"));
    EXPECT(aborts_with(alloc_from_unattached_thread, "not attached"));
}

/* Every mapping tc_init makes fails in turn: each failure must leave no
 * memory behind and a later tc_init must work. */
static void test_failed_init_leaves_nothing(void)
{
    int failures = 0;
    for (long n = 1; n <= 40; n++) {
        sys_fail_after(n, 0);
        int rc = tc_init(NULL);
        sys_fail_after(0, 0);
        if (rc == 0) {
            tc_shutdown();
        } else {
            failures++;
            EXPECT_EQ(rc, TC_ENOMEM);
            EXPECT_EQ(sys_total(), 0);
        }
        EXPECT_EQ(sys_total(), 0);
        REQUIRE(tc_init(NULL) == 0);
        REQUIRE(tc_alloc(100) != NULL);
        tc_shutdown();
    }
    EXPECT(failures > 0);
}

int main(void)
{
    RUN(test_failed_init_leaves_nothing);
    RUN(test_shutdown_returns_everything);
    RUN(test_misuse);
    TEST_MAIN_END();
}
