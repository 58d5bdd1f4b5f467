/*
 * tr_commands.h -- the tool's outputs, each from an analysed trace:
 * tr_summary.c (text), tr_json.c (Chrome Trace Event JSON), tr_html.c (one
 * self-contained page), tr_events.c (every event, one line each).  Each
 * returns 0, or -1 when out of memory or the output could not be written.
 */
#ifndef TR_COMMANDS_H
#define TR_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "tr_analyze.h"

typedef struct tr_opts {
    const char *path;  /* the trace's name, for titles */
    bool verbose;      /* summary: the per-cycle table */
    unsigned procs;    /* P for utilization; 0: tr_default_procs */
} tr_opts;

int tr_cmd_summary(FILE *out, const tr_analysis *a, const tr_opts *o);
int tr_cmd_json(FILE *out, const tr_analysis *a, const tr_opts *o);
int tr_cmd_html(FILE *out, const tr_analysis *a, const tr_opts *o);
int tr_cmd_events(FILE *out, const tr_analysis *a, const tr_opts *o);

/* The MMU windows the summary reports, in ns. */
#define TR_MMU_WINDOWS {1e6, 1e7, 1e8, 1e9}

#endif
