/*
 * lock_test.c -- the lock order (src/base/lock.h, lock.c).  In every build:
 * locks exclude each other and may be released out of order.  In the
 * checked build (TC_DEBUG >= 1, which make test-asan is), taking a lock
 * of a rank not above every rank held -- an inner lock then an outer one,
 * or two locks of one rank -- aborts with a message naming both ranks.
 */
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/lock.h"
#include "test.h"

static lock_t outer = LOCK_INIT(LOCK_RANK_THREADS);
static lock_t middle = LOCK_INIT(LOCK_RANK_HEAP);
static lock_t inner = LOCK_INIT(LOCK_RANK_PERSISTENT);
static long counter;

static void *bump(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        lock_acquire(&outer);
        lock_acquire(&inner);
        counter++;
        lock_release(&outer); /* out of order on purpose */
        lock_release(&inner);
    }
    return NULL;
}

static void test_exclusion_and_release_order(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, bump, NULL);
    pthread_create(&b, NULL, bump, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    EXPECT_EQ(counter, 200000);
    lock_acquire(&middle); /* nothing held: any rank goes */
    lock_release(&middle);
}

#if TC_DEBUG >= 1
static lock_t middle2 = LOCK_INIT(LOCK_RANK_HEAP);

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
    char buf[512] = {0};
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(buf, needle) != NULL;
}

static void inner_then_outer(void)
{
    lock_acquire(&inner);
    lock_acquire(&middle);
}

static void same_rank_twice(void)
{
    lock_acquire(&middle);
    lock_acquire(&middle2);
}

static void test_order_violations_abort(void)
{
    EXPECT(aborts_with(inner_then_outer, "taking a heap lock while holding a persistent lock"));
    EXPECT(aborts_with(same_rank_twice, "taking a heap lock while holding a heap lock"));
}
#endif

int main(void)
{
    RUN(test_exclusion_and_release_order);
#if TC_DEBUG >= 1
    RUN(test_order_violations_abort);
#endif
    TEST_MAIN_END();
}
