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

/* ---- The list of runtime locks, for fork() ----------------------------- */

#define MAX_LOCKS 1024
static lock_t *all_locks[MAX_LOCKS];
static int nlocks;
static pthread_mutex_t all_locks_mu = PTHREAD_MUTEX_INITIALIZER;

void lock_register(lock_t *l)
{
    /* By address: structs holding locks are cleared and set up again by
     * every tc_init, which resets their flag. */
    pthread_mutex_lock(&all_locks_mu);
    int found = 0;
    for (int i = 0; i < nlocks && !found; i++)
        found = all_locks[i] == l;
    if (!found) {
        if (nlocks == MAX_LOCKS)
            throw("too many runtime locks");
        all_locks[nlocks++] = l;
    }
    l->registered = 1;
    pthread_mutex_unlock(&all_locks_mu);
}

/* All locks, outermost rank first (the fork handler holds several of one
 * rank at once, which the debug checker would refuse, so it bypasses it). */
void locks_fork_prepare(void)
{
    pthread_mutex_lock(&all_locks_mu);
    int max = LOCK_RANK_NONE;
    for (int i = 0; i < nlocks; i++)
        if ((int)all_locks[i]->rank > max)
            max = (int)all_locks[i]->rank;
    for (int r = LOCK_RANK_INIT; r <= max; r++)
        for (int i = 0; i < nlocks; i++)
            if ((int)all_locks[i]->rank == r)
                pthread_mutex_lock(&all_locks[i]->mu);
}

void locks_fork_parent(void)
{
    for (int i = nlocks; i-- > 0;)
        pthread_mutex_unlock(&all_locks[i]->mu);
    pthread_mutex_unlock(&all_locks_mu);
}

void locks_fork_child(void)
{
    for (int i = 0; i < nlocks; i++)
        pthread_mutex_init(&all_locks[i]->mu, NULL);
    pthread_mutex_init(&all_locks_mu, NULL);
}

#if TC_DEBUG >= 1

#define LOCK_HELD_MAX 16

static const char *const rank_names[] = {
    "none",  "init",  "threads",  "roots",      "specials",      "finq",  "pacer", "mcentral",
    "scavenge", "heap", "types", "fixalloc", "persistent", "trace", "trace strings",
};

_Static_assert(sizeof rank_names / sizeof rank_names[0] == LOCK_RANK_TRACE_STR + 1,
               "a lock rank without a name");

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
