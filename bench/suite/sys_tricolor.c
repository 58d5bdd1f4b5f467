/*
 * sys_tricolor.c -- tricolor behind the suite's system interface (sys.h),
 * using only the public header and libtricolor.a.
 *
 * Configurations: tc_init(NULL) reads TRICOLOR from the environment, so
 * the runner makes "tricolor-stw" by setting TRICOLOR=stw=1; the mode
 * argument only accepts "default".
 *
 * Pauses: tc_stats.pause_ns is a ring of the last 256 cycles' stop-the-
 * world totals (cycle k, counted from 1, at index (k - 1) % 256), and a
 * running cycle overwrites the entry of cycle num_gc - 255, so only the
 * newest 255 entries can be trusted.  A sampling thread reads the
 * statistics every SAMPLE_MS and appends the pause of every cycle that
 * ended since its last read; cycles that fell out of the ring in between
 * are counted as lost.  The thread is attached and sleeps inside
 * tc_blocking_begin/_end, so a stop of the world never waits for it.
 * pause_max_ns (the longest single stop) is reported as well and bounds
 * any lost entry's stops.
 */
#include "sys.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAMPLE_MS 20

static pause_log pauses;
static uint32_t harvested_gc;      /* cycles read into pauses so far; sampler only */
static tc_stats *stats;            /* malloc'd: the struct is 4 KiB */
static pthread_t sampler;
static atomic_int sampler_stop;

static void harvest(const tc_stats *st)
{
    for (uint32_t k = harvested_gc + 1; k != st->num_gc + 1; k++) {
        if (st->num_gc - k >= 255)
            pauses.lost++;
        else
            pause_log_add(&pauses, st->pause_ns[(k - 1) % 256]);
    }
    harvested_gc = st->num_gc;
}

static void *sampler_main(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        suite_die("tc_thread_attach failed in the sampler");
    while (!atomic_load(&sampler_stop)) {
        tc_blocking_begin();
        nanosleep(&(struct timespec){0, SAMPLE_MS * 1000000L}, NULL);
        tc_blocking_end();
        tc_read_stats(stats);
        harvest(stats);
    }
    tc_thread_detach();
    return NULL;
}

/* Whether the comma-separated TRICOLOR settings include `setting`. */
static int env_has(const char *setting)
{
    size_t n = strlen(setting);
    const char *p = getenv("TRICOLOR");
    while (p != NULL) {
        if (strncmp(p, setting, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p = strchr(p, ',');
        if (p != NULL)
            p++;
    }
    return 0;
}

int sys_init(const char *mode)
{
    if (strcmp(mode, "default") != 0)
        return -1;
    int rc = tc_init(NULL);
    if (rc != 0)
        suite_die("tc_init: %s", tc_strerror(rc));
    pause_log_init(&pauses);
    stats = malloc(sizeof *stats);
    if (stats == NULL)
        suite_die("out of memory (tc_stats)");
    if (pthread_create(&sampler, NULL, sampler_main, NULL) != 0)
        suite_die("pthread_create failed (sampler)");
    return 0;
}

const char *sys_name(void)
{
    return env_has("stw=1") ? "tricolor-stw" : "tricolor";
}

void sys_thread_begin(void)
{
    if (tc_thread_attach() != 0)
        suite_die("tc_thread_attach failed");
}

void sys_thread_end(void) { tc_thread_detach(); }
void sys_wait_begin(void) { tc_blocking_begin(); }
void sys_wait_end(void) { tc_blocking_end(); }

void sys_root_add(void *start, size_t size)
{
    if (tc_root_add(start, size) != 0)
        suite_die("tc_root_add failed");
}

void sys_root_remove(void *start, size_t size)
{
    (void)size;
    tc_root_remove(start);
}
void sys_collect(void) { tc_collect(); }

void sys_finish(gc_report *out)
{
    atomic_store(&sampler_stop, 1);
    tc_blocking_begin();
    pthread_join(sampler, NULL);
    tc_blocking_end();
    tc_read_stats(stats);
    harvest(stats);
    out->has_gc = 1;
    out->gcs = stats->num_gc;
    out->single_max_ns = stats->pause_max_ns;
    out->pauses = pauses;
}
