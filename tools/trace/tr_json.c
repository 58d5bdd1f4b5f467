/*
 * tr_json.c -- `tricolor-trace json`: the trace as Chrome Trace Event JSON
 * (the {"traceEvents": [...]} object form), which chrome://tracing,
 * Perfetto (ui.perfetto.dev) and speedscope open.
 *
 * Tracks (tids of one process, pid 1):
 *   1          "GC": one slice per cycle ("GC 7"), its stop-the-world
 *              pauses nested inside ("STW: mark termination");
 *   2          "GC phases": sweep termination, mark, mark termination, ...;
 *              on a track of their own because a phase change happens in
 *              the middle of a pause, and slices on one track must nest;
 *   3 + i      the trace's thread i, named by its THREAD_NAME: regions,
 *              blocking sections, assists, mark work and sweeps as slices,
 *              logs as instant events.
 * Counters "heap allocated" and "heap goal" ("C" events, bytes); tasks as
 * async slices ("b"/"e", cat "task", id the task id), which may end on
 * another thread.
 *
 * Slices on one track must nest; the trace promises that only per thread
 * and per kind.  So each track's slices are sorted outermost-first and a
 * slice that starts inside another but ends after it is cut at the outer
 * one's end, with "cut": true in its args.  Times are microseconds with
 * nanosecond decimals.
 */
#include <stdlib.h>
#include <string.h>

#include "tr_commands.h"
#include "tr_format.h"
#include "tr_mmu.h"

#define TID_GC 1
#define TID_PHASES 2
#define TID_THREAD0 3

typedef struct slice {
    uint64_t start, end;
    const tr_span *span;
    uint32_t tid;
    uint8_t rank; /* outer first among equal intervals */
    bool cut;
} slice;

static int slice_order(const void *x, const void *y)
{
    const slice *p = x, *q = y;
    if (p->tid != q->tid)
        return p->tid < q->tid ? -1 : 1;
    if (p->start != q->start)
        return p->start < q->start ? -1 : 1;
    if (p->end != q->end)
        return p->end > q->end ? -1 : 1;
    return p->rank < q->rank ? -1 : p->rank > q->rank;
}

/* Which track a span goes on and how it ranks there; false: not a slice. */
static bool place(const tr_span *s, uint32_t *tid, uint8_t *rank)
{
    switch (s->kind) {
    case TR_SPAN_CYCLE: *tid = TID_GC, *rank = 0; return true;
    case TR_SPAN_STW: *tid = TID_GC, *rank = 1; return true;
    case TR_SPAN_PHASE: *tid = TID_PHASES, *rank = 0; return true;
    case TR_SPAN_REGION: *tid = TID_THREAD0 + s->thread, *rank = 0; return true;
    case TR_SPAN_BLOCKING: *tid = TID_THREAD0 + s->thread, *rank = 1; return true;
    case TR_SPAN_MARK: case TR_SPAN_ASSIST: case TR_SPAN_SWEEP:
        *tid = TID_THREAD0 + s->thread, *rank = 2;
        return true;
    default:
        return false;
    }
}

static void put_us(FILE *out, const tr_trace *t, uint64_t ticks)
{
    fprintf(out, "%.3f", tr_ns(t, ticks) / 1e3);
}

static void put_str(FILE *out, const tr_trace *t, uint32_t str)
{
    tr_put_json_string(out, t->strings[str].s, t->strings[str].len, false);
}

static void put_lit(FILE *out, const char *s)
{
    tr_put_json_string(out, s, strlen(s), false);
}

static void put_slice(FILE *out, const tr_trace *t, const slice *sl, const char *sep)
{
    const tr_span *s = sl->span;
    char name[64];
    fprintf(out, "%s{\"ph\":\"X\",\"pid\":1,\"tid\":%u,\"ts\":", sep, sl->tid);
    put_us(out, t, sl->start);
    fputs(",\"dur\":", out);
    put_us(out, t, sl->end - sl->start);
    fputs(",\"name\":", out);
    switch (s->kind) {
    case TR_SPAN_CYCLE:
        snprintf(name, sizeof name, "GC %llu%s", (unsigned long long)s->arg[0], s->arg[1] ? " (forced)" : "");
        put_lit(out, name);
        fprintf(out, ",\"cat\":\"gc\",\"args\":{\"cycle\":%llu,\"forced\":%s", (unsigned long long)s->arg[0],
                s->arg[1] ? "true" : "false");
        break;
    case TR_SPAN_STW: {
        const tr_string *r = &t->strings[s->name];
        char *n = s->name != 0 ? malloc(r->len + 5) : NULL;
        if (n != NULL) {
            memcpy(n, "STW: ", 5);
            memcpy(n + 5, r->s, r->len);
            tr_put_json_string(out, n, r->len + 5, false);
            free(n);
        } else {
            put_lit(out, "stop-the-world");
        }
        fputs(",\"cat\":\"gc,stw\",\"args\":{\"reason\":", out);
        put_str(out, t, s->name);
        break;
    }
    case TR_SPAN_PHASE:
        put_str(out, t, s->name);
        fputs(",\"cat\":\"gc,phase\",\"args\":{", out);
        break;
    case TR_SPAN_MARK:
        fprintf(out, "\"mark worker\",\"cat\":\"gc,mark\",\"args\":{\"bytes\":%llu", (unsigned long long)s->arg[0]);
        break;
    case TR_SPAN_ASSIST:
        fprintf(out, "\"mark assist\",\"cat\":\"gc,assist\",\"args\":{\"bytes\":%llu", (unsigned long long)s->arg[0]);
        break;
    case TR_SPAN_SWEEP:
        fprintf(out, "\"sweep\",\"cat\":\"gc,sweep\",\"args\":{\"pages_swept\":%llu,\"pages_freed\":%llu",
                (unsigned long long)s->arg[0], (unsigned long long)s->arg[1]);
        break;
    case TR_SPAN_BLOCKING:
        fputs("\"blocking\",\"cat\":\"blocking\",\"args\":{", out);
        break;
    default: /* TR_SPAN_REGION */
        put_str(out, t, s->name);
        fputs(",\"cat\":\"region\",\"args\":{", out);
        break;
    }
    /* args so far end either after "{" or after a value */
    bool empty = s->kind == TR_SPAN_PHASE || s->kind == TR_SPAN_BLOCKING || s->kind == TR_SPAN_REGION;
    const char *comma = empty ? "" : ",";
    if (s->flags & TR_SPAN_OPEN_START) {
        fprintf(out, "%s\"began_before_trace\":true", comma);
        comma = ",";
    }
    if (s->flags & TR_SPAN_OPEN_END) {
        fprintf(out, "%s\"open_at_trace_end\":true", comma);
        comma = ",";
    }
    if (sl->cut)
        fprintf(out, "%s\"cut\":true", comma);
    fputs("}}", out);
}

static void put_meta(FILE *out, uint32_t tid, const char *what, const char *key, const char *sep)
{
    fprintf(out, "%s{\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"name\":\"%s\",\"args\":{\"%s\":", sep, tid, what, key);
}

static void put_threads(FILE *out, const tr_analysis *a)
{
    const tr_trace *t = a->trace;
    put_meta(out, 0, "process_name", "name", "\n");
    fputs("\"tricolor\"}}", out);
    put_meta(out, TID_GC, "thread_name", "name", ",\n");
    fputs("\"GC\"}}", out);
    put_meta(out, TID_GC, "thread_sort_index", "sort_index", ",\n");
    fputs("-2}}", out);
    put_meta(out, TID_PHASES, "thread_name", "name", ",\n");
    fputs("\"GC phases\"}}", out);
    put_meta(out, TID_PHASES, "thread_sort_index", "sort_index", ",\n");
    fputs("-1}}", out);
    for (uint32_t i = 0; i < t->nthreads; i++) {
        put_meta(out, TID_THREAD0 + i, "thread_name", "name", ",\n");
        if (t->threads[i].name != 0) {
            put_str(out, t, t->threads[i].name);
        } else {
            char n[48];
            snprintf(n, sizeof n, "thread %llu", (unsigned long long)t->threads[i].id);
            put_lit(out, n);
        }
        fputs("}}", out);
    }
    for (uint32_t k = 0; k < t->nthreads; k++) {
        put_meta(out, TID_THREAD0 + a->by_id[k], "thread_sort_index", "sort_index", ",\n");
        fprintf(out, "%u}}", k);
    }
}

static int put_slices(FILE *out, const tr_analysis *a)
{
    slice *v = malloc((a->nspans ? a->nspans : 1) * sizeof *v);
    slice **stack = malloc((a->nspans ? a->nspans : 1) * sizeof *stack);
    if (v == NULL || stack == NULL) {
        free(v), free(stack);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < a->nspans; i++) {
        const tr_span *s = &a->spans[i];
        uint32_t tid;
        uint8_t rank;
        if (place(s, &tid, &rank))
            v[n++] = (slice){s->start, s->end, s, tid, rank, false};
    }
    qsort(v, n, sizeof *v, slice_order);
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        slice *sl = &v[i];
        while (depth > 0 && (stack[depth - 1]->tid != sl->tid || stack[depth - 1]->end <= sl->start))
            depth--;
        if (depth > 0 && sl->end > stack[depth - 1]->end) {
            sl->end = stack[depth - 1]->end;
            sl->cut = true;
        }
        stack[depth++] = sl;
        put_slice(out, a->trace, sl, ",\n");
    }
    free(v), free(stack);
    return 0;
}

static void put_counters(FILE *out, const tr_trace *t, const tr_point *p, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, ",\n{\"ph\":\"C\",\"pid\":1,\"name\":\"%s\",\"ts\":", name);
        put_us(out, t, p[i].time);
        fprintf(out, ",\"args\":{\"bytes\":%llu}}", (unsigned long long)p[i].value);
    }
}

static void put_logs(FILE *out, const tr_trace *t)
{
    for (size_t i = 0; i < t->nevents; i++) {
        const tr_event *e = &t->events[i];
        if (e->type != TR_LOG)
            continue;
        size_t len;
        const uint8_t *msg = tr_log_message(t, e, &len);
        fprintf(out, ",\n{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%u,\"ts\":", TID_THREAD0 + e->thread);
        put_us(out, t, e->time);
        fputs(",\"name\":", out);
        if (e->str != 0)
            put_str(out, t, e->str);
        else
            put_lit(out, "log");
        fputs(",\"cat\":\"log\",\"args\":{\"category\":", out);
        put_str(out, t, e->str);
        fputs(",\"message\":", out);
        tr_put_json_string(out, (const char *)msg, len, false);
        fputs("}}", out);
    }
}

static void put_tasks(FILE *out, const tr_analysis *a)
{
    const tr_trace *t = a->trace;
    for (size_t i = 0; i < a->nspans; i++) {
        const tr_span *s = &a->spans[i];
        if (s->kind != TR_SPAN_TASK)
            continue;
        char name[48];
        for (int end = 0; end < 2; end++) {
            fprintf(out, ",\n{\"ph\":\"%s\",\"cat\":\"task\",\"id\":\"%llu\",\"pid\":1,\"tid\":%u,\"ts\":",
                    end ? "e" : "b", (unsigned long long)s->arg[0],
                    TID_THREAD0 + (end ? s->end_thread : s->thread));
            put_us(out, t, end ? s->end : s->start);
            fputs(",\"name\":", out);
            if (s->name != 0) {
                put_str(out, t, s->name);
            } else {
                snprintf(name, sizeof name, "task %llu", (unsigned long long)s->arg[0]);
                put_lit(out, name);
            }
            if (!end)
                fprintf(out, ",\"args\":{\"task\":%llu%s%s}", (unsigned long long)s->arg[0],
                        s->flags & TR_SPAN_OPEN_START ? ",\"began_before_trace\":true" : "",
                        s->flags & TR_SPAN_OPEN_END ? ",\"open_at_trace_end\":true" : "");
            fputs("}", out);
        }
    }
}

int tr_cmd_json(FILE *out, const tr_analysis *a, const tr_opts *o)
{
    const tr_trace *t = a->trace;
    unsigned procs = o->procs ? o->procs : tr_default_procs(a);
    tr_util u;
    if (tr_util_build(a, procs, &u) < 0)
        return -1;
    fputs("{\"displayTimeUnit\":\"ms\",\n\"otherData\":{\"trace\":", out);
    tr_put_json_string(out, o->path, strlen(o->path), false);
    fprintf(out, ",\"format_version\":%u,\"start_unix_ns\":%llu,\"duration_ns\":%.0f,\"procs\":%u,"
                 "\"gc_cpu_share\":%.6f},\n\"traceEvents\":[",
            t->version, (unsigned long long)t->start_wall, tr_ns(t, t->end), procs, 1.0 - tr_util_mean(&u));
    tr_util_free(&u);
    put_threads(out, a);
    if (put_slices(out, a) < 0)
        return -1;
    put_counters(out, t, a->heap, a->nheap, "heap allocated");
    put_counters(out, t, a->goal, a->ngoal, "heap goal");
    put_logs(out, t);
    put_tasks(out, a);
    fputs("\n]}\n", out);
    return ferror(out) ? -1 : 0;
}
