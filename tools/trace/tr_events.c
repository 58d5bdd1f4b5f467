/*
 * tr_events.c -- `tricolor-trace events`: every event, one line each, in
 * time order -- the trace as the parser read it, for checking a writer:
 *
 *     1.234567 ms  thread 2 (main)  STW_BEGIN "sweep termination"
 *
 * Times are ms from the trace's start with ns digits; strings are quoted
 * and printed with control characters as '?'.
 */
#include <string.h>

#include "tr_commands.h"
#include "tr_format.h"

static void put_quoted(FILE *out, const char *s, size_t len)
{
    putc('"', out);
    tr_put_plain(out, s, len);
    putc('"', out);
}

int tr_cmd_events(FILE *out, const tr_analysis *a, const tr_opts *o)
{
    (void)o;
    const tr_trace *t = a->trace;
    for (size_t i = 0; i < t->nevents; i++) {
        const tr_event *e = &t->events[i];
        const tr_thread *th = &t->threads[e->thread];
        fprintf(out, "%14.6f ms  thread %llu", tr_ns(t, e->time) / 1e6, (unsigned long long)th->id);
        if (th->name != 0) {
            fputs(" (", out);
            tr_put_plain(out, t->strings[th->name].s, t->strings[th->name].len);
            putc(')', out);
        }
        fprintf(out, "  %s", tr_ev_name(e->type));
        switch (e->type) {
        case TR_GC_BEGIN:
        case TR_SWEEP_END:
            fprintf(out, " %llu %llu", (unsigned long long)e->arg[0], (unsigned long long)e->arg[1]);
            break;
        case TR_GC_END: case TR_MARK_WORKER_END: case TR_ASSIST_END: case TR_HEAP_ALLOC:
        case TR_HEAP_GOAL: case TR_TASK_END:
            fprintf(out, " %llu", (unsigned long long)e->arg[0]);
            break;
        case TR_TASK_BEGIN:
            fprintf(out, " %llu ", (unsigned long long)e->arg[0]);
            put_quoted(out, t->strings[e->str].s, t->strings[e->str].len);
            break;
        case TR_LOG: {
            size_t len;
            const uint8_t *msg = tr_log_message(t, e, &len);
            putc(' ', out);
            put_quoted(out, t->strings[e->str].s, t->strings[e->str].len);
            putc(' ', out);
            put_quoted(out, (const char *)msg, len);
            break;
        }
        case TR_STW_BEGIN: case TR_PHASE: case TR_REGION_BEGIN: case TR_REGION_END: case TR_THREAD_NAME:
            putc(' ', out);
            put_quoted(out, t->strings[e->str].s, t->strings[e->str].len);
            break;
        default:
            break;
        }
        fprintf(out, "  @%llu\n", (unsigned long long)e->offset);
    }
    return ferror(out) ? -1 : 0;
}
