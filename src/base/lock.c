/*
 * lock.c -- checking the lock order at TC_DEBUG >= 1 (see lock.h).
 *
 * Each thread keeps the ranks it holds on a small stack; acquiring a lock
 * whose rank is not above the top of that stack is a lock-order violation.
 * Releases may come in any order.
 */
#include "lock.h"

#include <stdio.h>

__thread int locks_held __attribute__((tls_model("initial-exec")));

#if TC_DEBUG >= 1

#define LOCK_HELD_MAX 16

static const char *const rank_names[] = {
    "none", "init", "threads", "roots", "mcentral", "heap", "types", "fixalloc", "persistent",
};

static __thread lock_rank held[LOCK_HELD_MAX];
static __thread int nheld;

void lock_rank_acquire(const lock_t *l)
{
    if (l->rank == LOCK_RANK_NONE)
        throw("lock without a rank");
    if (nheld > 0 && l->rank <= held[nheld - 1]) {
        char msg[128];
        snprintf(msg, sizeof msg, "lock order: taking a %s lock while holding a %s lock",
                 rank_names[l->rank], rank_names[held[nheld - 1]]);
        throw(msg);
    }
    if (nheld == LOCK_HELD_MAX)
        throw("lock order: too many locks held");
    held[nheld++] = l->rank;
}

void lock_rank_release(const lock_t *l)
{
    for (int i = nheld - 1; i >= 0; i--) {
        if (held[i] == l->rank) {
            for (int j = i; j < nheld - 1; j++)
                held[j] = held[j + 1];
            nheld--;
            return;
        }
    }
    throw("lock order: releasing a lock that is not held");
}

#endif
