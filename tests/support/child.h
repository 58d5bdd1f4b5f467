/*
 * child.h -- running a test scenario in a forked child.
 *
 * Scenarios that must abort (checkmark reports, checkptr) or that could
 * stall (stopping the world) run in a child process with a deadline: its
 * stderr is collected into r->out (the end kept when it overflows), a
 * child still running at the deadline is killed and marked timed_out, and
 * the child never outlives the test (PR_SET_PDEATHSIG).  Include after
 * test.h.
 */
#ifndef TC_TEST_CHILD_H
#define TC_TEST_CHILD_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Runs fn(arg) in a child process; its exit status is fn's result. */
typedef struct child_result {
    int status;
    int timed_out;
    char out[32768];
} child_result;

static void run_child(int (*fn)(int), int arg, int timeout_s, child_result *r)
{
    memset(r, 0, sizeof *r);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        _exit(fn(arg));
    }
    close(fds[1]);
    size_t n = 0;
    uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000u;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline) {
            kill(pid, SIGKILL);
            r->timed_out = 1;
            break;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        int k = poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            continue;
        char tmp[4096];
        ssize_t m = read(fds[0], tmp, sizeof tmp);
        if (m <= 0)
            break;
        if (n + (size_t)m >= sizeof r->out) { /* keep the end */
            size_t drop = n + (size_t)m - (sizeof r->out - 1);
            if (drop > n)
                drop = n;
            memmove(r->out, r->out + drop, n - drop);
            n -= drop;
        }
        size_t take = (size_t)m < sizeof r->out - 1 - n ? (size_t)m : sizeof r->out - 1 - n;
        memcpy(r->out + n, tmp, take);
        n += take;
        r->out[n] = 0;
    }
    close(fds[0]);
    waitpid(pid, &r->status, 0);
}

#endif
