/*
 * options.h -- the runtime settings, read once from one table.
 *
 * Settings come from tc_options (the API) and from the TRICOLOR environment
 * variable, comma-separated key=value pairs that override the API, as Go's
 * GODEBUG/GOGC/GOMEMLIMIT do.  Each setting is one row of the table in
 * options.c (name, kind, field, help); docs/options.md documents the same
 * rows.  The parsed values live in `options`, written by tc_init before it
 * attaches any thread or starts the collector, read-only until tc_shutdown
 * (tc_set_gc_percent also updates gc_percent).
 */
#ifndef TC_BASE_OPTIONS_H
#define TC_BASE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

typedef struct options {
    int     gc_percent;     /* gcpercent=N    (GOGC); < 0: no automatic collection */
    int64_t memory_limit;   /* memlimit=SIZE  (GOMEMLIMIT); 0: none */
    int     stop_the_world; /* stw=1          whole cycles with the world stopped */
    int     mark_workers;   /* markworkers=N  0: from the number of CPUs */
    int     gctrace;        /* gctrace=1      one line per cycle on stderr */
    int     checkmark;      /* checkmark=1    re-mark with the world stopped and compare */
    int     checkptr;       /* checkptr=1     every barrier takes the slow path and checks the slot */
    int     clobberfree;    /* clobberfree=1  poison freed objects */
    int64_t stress;         /* stress=N       a cycle every N allocations; 0: off */
    char    trace[256];     /* trace=FILE     execution trace from init to exit */
    int     signal;         /* signal=N       the signal that suspends threads (default SIGURG) */
} options_t;

extern options_t options;

/* Parses a TRICOLOR string into *o (which holds the defaults on entry).
 * Returns 0, or TC_EINVAL after writing into err (err_len bytes) a message
 * naming the offending setting. */
int options_parse(options_t *o, const char *text, char *err, size_t err_len);

/* Parses a size such as "512MiB", "2GiB", "4096" (bytes).  Returns 0 or -1. */
int options_parse_size(const char *s, size_t len, int64_t *out);

#endif
