/*
 * tr_summary.c -- `tricolor-trace summary`: the trace's figures as text.
 *
 * Definitions (also in tools/trace/README.md):
 *  - pause percentiles are nearest-rank over every stop-the-world;
 *  - GC CPU share is 1 - the mean mutator utilization (tr_mmu.h): the
 *    stop-the-world time of all P processors plus each thread's mark-worker
 *    and assist time, over P times the trace's length;
 *  - MMU windows longer than the trace are cut to it, and marked '*'.
 */
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "tr_commands.h"
#include "tr_format.h"
#include "tr_mmu.h"

static void put_name(FILE *out, const tr_trace *t, uint32_t str, int width)
{
    const tr_string *s = &t->strings[str];
    size_t len = s->len;
    if (width > 0 && len > (size_t)width)
        len = (size_t)width;
    tr_put_plain(out, s->s, len);
    for (size_t i = len; width > 0 && i < (size_t)width; i++)
        putc(' ', out);
}

static void print_header(FILE *out, const tr_analysis *a, const tr_opts *o)
{
    const tr_trace *t = a->trace;
    char when[64] = "";
    time_t secs = (time_t)(t->start_wall / 1000000000u);
    struct tm tm;
    if (t->start_wall != 0 && gmtime_r(&secs, &tm) != NULL)
        strftime(when, sizeof when, ", started %Y-%m-%d %H:%M:%S UTC", &tm);
    fprintf(out, "trace: ");
    tr_put_plain(out, o->path, strlen(o->path));
    fprintf(out, " (format %u, %.3f s, %zu events in %llu batches, %zu threads, %zu of them mutators%s)\n",
            t->version, tr_ns(t, t->end) / 1e9, t->nevents, (unsigned long long)t->nbatches,
            t->nthreads, a->nmutators, when);
}

static void print_cycles(FILE *out, const tr_analysis *a)
{
    const tr_trace *t = a->trace;
    char b1[32], b2[32], b3[32];
    fprintf(out, "\n%8s %12s %11s %6s %6s %11s %11s %11s %11s  %s\n", "cycle", "start ms", "length ms",
            "forced", "pauses", "pause ms", "max ms", "mark ms", "assist ms", "heap -> heap (goal)");
    for (size_t i = 0; i < a->ncycles; i++) {
        const tr_cycle *c = &a->cycles[i];
        fprintf(out, "%7llu%c %12.3f %11.3f %6s %6u %11.3f %11.3f %11.3f %11.3f  %s -> %s (%s)\n",
                (unsigned long long)c->number, c->flags ? '*' : ' ', tr_ns(t, c->start) / 1e6,
                tr_ns(t, c->end - c->start) / 1e6, c->forced ? "yes" : "", c->nstw,
                tr_ns(t, c->stw_total) / 1e6, tr_ns(t, c->stw_max) / 1e6, tr_ns(t, c->mark_time) / 1e6,
                tr_ns(t, c->assist_time) / 1e6, tr_fmt_bytes(b1, c->heap_start), tr_fmt_bytes(b2, c->heap_end),
                tr_fmt_bytes(b3, c->goal));
    }
    fprintf(out, "(* cut by the trace's start or end)\n");
}

static void print_threads(FILE *out, const tr_analysis *a)
{
    const tr_trace *t = a->trace;
    fprintf(out, "\n%6s %-20s %-8s %11s %11s %11s %11s %11s %11s\n", "thread", "name", "kind", "busy ms",
            "blocking ms", "assist ms", "mark ms", "sweep ms", "stw ms");
    for (size_t k = 0; k < t->nthreads; k++) {
        uint32_t i = a->by_id[k];
        const tr_thread_stats *s = &a->threads[i];
        fprintf(out, "%6llu ", (unsigned long long)t->threads[i].id);
        put_name(out, t, t->threads[i].name, 20);
        fprintf(out, " %-8s %11.3f %11.3f %11.3f %11.3f %11.3f %11.3f\n", s->mutator ? "mutator" : "runtime",
                tr_ns(t, s->busy) / 1e6, tr_ns(t, s->blocking) / 1e6, tr_ns(t, s->assist) / 1e6,
                tr_ns(t, s->mark) / 1e6, tr_ns(t, s->sweep) / 1e6, tr_ns(t, s->stw) / 1e6);
    }
}

int tr_cmd_summary(FILE *out, const tr_analysis *a, const tr_opts *o)
{
    const tr_trace *t = a->trace;
    unsigned procs = o->procs ? o->procs : tr_default_procs(a);
    tr_util u;
    if (tr_util_build(a, procs, &u) < 0)
        return -1;
    char b1[32], b2[32], b3[32], b4[32];

    print_header(out, a, o);
    fprintf(out, "GC cycles: %zu (%zu complete, %zu forced)\n", a->ncycles, a->ncomplete, a->nforced);
    fprintf(out, "stop-the-world: %zu pauses, total %s; p50 %s, p99 %s, max %s\n", a->npauses,
            tr_fmt_ms(b1, tr_ns(t, a->stw_total)), tr_fmt_ms(b2, tr_ns(t, tr_pause_percentile(a, 50))),
            tr_fmt_ms(b3, tr_ns(t, tr_pause_percentile(a, 99))),
            tr_fmt_ms(b4, tr_ns(t, a->npauses ? a->pauses[a->npauses - 1] : 0)));
    fprintf(out, "GC CPU share: %.1f%% of %u processor%s (-p; default: the mutator threads)\n",
            100.0 * (1.0 - tr_util_mean(&u)), procs, procs == 1 ? "" : "s");
    fprintf(out, "MMU:");
    static const double windows[] = TR_MMU_WINDOWS;
    bool cut = false;
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        uint64_t w = tr_ticks(t, windows[i]);
        bool longer = w >= t->end;
        cut |= longer;
        fprintf(out, "  %s %.1f%%%s", tr_fmt_window(b1, windows[i]), 100.0 * tr_mmu(&u, w), longer ? "*" : "");
    }
    fprintf(out, "%s\n", cut ? "  (* window not shorter than the trace: the whole trace)" : "");
    fprintf(out, "mark assists: %s, %s scanned\n", tr_fmt_ms(b1, tr_ns(t, a->assist_total)),
            tr_fmt_bytes(b2, a->assist_bytes));
    fprintf(out, "mark workers: %s, %s scanned\n", tr_fmt_ms(b1, tr_ns(t, a->mark_total)),
            tr_fmt_bytes(b2, a->mark_bytes));
    fprintf(out, "sweeping: %s\n", tr_fmt_ms(b1, tr_ns(t, a->sweep_total)));
    fprintf(out, "heap: peak %s allocated, last goal %s\n", tr_fmt_bytes(b1, a->heap_peak),
            tr_fmt_bytes(b2, a->ngoal ? a->goal[a->ngoal - 1].value : 0));
    fprintf(out, "tasks: %zu (%zu ended), regions: %zu, logs: %zu\n", a->ntasks, a->ntasks_ended, a->nregions,
            a->nlogs);
    print_threads(out, a);
    if (o->verbose && a->ncycles > 0)
        print_cycles(out, a);
    tr_util_free(&u);
    return ferror(out) ? -1 : 0;
}
