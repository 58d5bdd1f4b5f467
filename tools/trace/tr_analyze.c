/*
 * tr_analyze.c -- pairing events into spans and summing them up.
 *
 * One pass over the events in time order keeps, per thread, the open span
 * of each non-nesting kind (mark work, assist, sweep, blocking, attached)
 * and a stack of open regions, and globally the open cycle, stop-the-world,
 * phase and the task begins; the pairing rules are in tr_analyze.h.  A
 * second step sorts the spans, derives the cycles from the cycle spans,
 * attributes every span to the cycle it began in, and sums per cycle and
 * per thread.
 *
 * Invariants of the result: every span has start <= end <= trace->end;
 * cycles do not overlap (a GC_BEGIN while a cycle is open closes it); a
 * phase span lies inside its cycle; pauses[] holds exactly the STW spans'
 * lengths.  Any trace tr_parse accepted is analysed without failing, except
 * for running out of memory.
 */
#include "tr_analyze.h"

#include <stdlib.h>
#include <string.h>

/* The per-thread kinds that do not nest: one open span at a time. */
enum { SLOT_MARK, SLOT_ASSIST, SLOT_SWEEP, SLOT_BLOCKING, SLOT_ATTACHED, SLOTS };
static const uint8_t slot_kind[SLOTS] = {TR_SPAN_MARK, TR_SPAN_ASSIST, TR_SPAN_SWEEP, TR_SPAN_BLOCKING,
                                         TR_SPAN_ATTACHED};

typedef struct open_region {
    uint32_t name;
    uint64_t start;
} open_region;

typedef struct thread_state {
    bool open[SLOTS];
    bool seen[SLOTS]; /* a span of this kind has begun: a later stray END is ignored */
    uint64_t since[SLOTS];
    open_region *regions;
    size_t nregions, cap_regions;
    bool wrote_mutator, wrote_collector; /* see "Mutator threads" in tr_analyze.h */
} thread_state;

typedef struct task_mark {
    uint64_t id, time;
    uint32_t thread, name;
    bool used;
} task_mark;

typedef struct builder {
    const tr_trace *t;
    tr_analysis *a;
    size_t cap_spans, cap_heap, cap_goal;
    thread_state *ts;
    task_mark *begins, *ends;
    size_t nbegins, nends, cap_begins, cap_ends;
} builder;

static const char *const kind_names[TR_SPAN_KINDS] = {
    "cycle", "phase", "stop-the-world", "mark", "assist", "sweep", "blocking", "region", "task", "attached",
};

const char *tr_span_kind_name(unsigned kind)
{
    return kind < TR_SPAN_KINDS ? kind_names[kind] : "?";
}

/* Grows *v (of *cap elements of size sz) to hold one more than n. */
static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *nv = realloc(*v, ncap * sz);
    if (nv == NULL)
        return -1;
    *v = nv;
    *cap = ncap;
    return 0;
}

static int add_span(builder *b, uint8_t kind, uint32_t thread, uint64_t start, uint64_t end, uint8_t flags)
{
    tr_analysis *a = b->a;
    if (grow((void **)&a->spans, &b->cap_spans, a->nspans, sizeof(tr_span)) < 0)
        return -1;
    a->spans[a->nspans++] = (tr_span){
        .start = start, .end = end, .thread = thread, .end_thread = thread,
        .cycle = TR_NONE, .kind = kind, .flags = flags,
    };
    return 0;
}

static tr_span *last_span(builder *b)
{
    return &b->a->spans[b->a->nspans - 1];
}

static int add_point(tr_point **v, size_t *n, size_t *cap, uint64_t time, uint64_t value)
{
    if (grow((void **)v, cap, *n, sizeof(tr_point)) < 0)
        return -1;
    (*v)[(*n)++] = (tr_point){time, value};
    return 0;
}

static int add_task_mark(task_mark **v, size_t *n, size_t *cap, const tr_event *e)
{
    if (grow((void **)v, cap, *n, sizeof(task_mark)) < 0)
        return -1;
    (*v)[(*n)++] = (task_mark){.id = e->arg[0], .time = e->time, .thread = e->thread, .name = e->str};
    return 0;
}

static bool is_collector_event(unsigned type)
{
    return type == TR_MARK_WORKER_BEGIN || type == TR_MARK_WORKER_END || type == TR_GC_BEGIN ||
           type == TR_GC_END || type == TR_PHASE;
}

static bool is_mutator_event(unsigned type)
{
    switch (type) {
    case TR_THREAD_ATTACH: case TR_THREAD_DETACH: case TR_BLOCKING_BEGIN: case TR_BLOCKING_END:
    case TR_ASSIST_BEGIN: case TR_ASSIST_END: case TR_TASK_BEGIN: case TR_TASK_END:
    case TR_REGION_BEGIN: case TR_REGION_END: case TR_LOG:
        return true;
    default:
        return false;
    }
}

static int slot_begin(builder *b, const tr_event *e, int slot)
{
    thread_state *s = &b->ts[e->thread];
    if (!s->open[slot]) { /* a second BEGIN keeps the first */
        s->open[slot] = true;
        s->seen[slot] = true;
        s->since[slot] = e->time;
    }
    return 0;
}

static int slot_end(builder *b, const tr_event *e, int slot)
{
    thread_state *s = &b->ts[e->thread];
    uint64_t start = 0;
    uint8_t flags = TR_SPAN_OPEN_START;
    if (s->open[slot]) {
        start = s->since[slot];
        flags = 0;
        s->open[slot] = false;
    } else if (s->seen[slot]) {
        return 0; /* an END twice: only the trace's first END can close a span begun before it */
    }
    s->seen[slot] = true;
    if (add_span(b, slot_kind[slot], e->thread, start, e->time, flags) < 0)
        return -1;
    last_span(b)->arg[0] = e->arg[0];
    last_span(b)->arg[1] = e->arg[1];
    return 0;
}

static int region_end(builder *b, const tr_event *e)
{
    thread_state *s = &b->ts[e->thread];
    uint64_t start = 0;
    uint8_t flags = TR_SPAN_OPEN_START;
    for (size_t i = s->nregions; i-- > 0;)
        if (s->regions[i].name == e->str) {
            start = s->regions[i].start;
            flags = 0;
            memmove(&s->regions[i], &s->regions[i + 1], (s->nregions - i - 1) * sizeof(open_region));
            s->nregions--;
            break;
        }
    if (add_span(b, TR_SPAN_REGION, e->thread, start, e->time, flags) < 0)
        return -1;
    last_span(b)->name = e->str;
    return 0;
}

/* The open global spans. */
typedef struct global_state {
    bool cycle_open, stw_open, phase_open;
    bool cycle_seen, stw_seen; /* as thread_state.seen */
    tr_span cycle, stw, phase;
} global_state;

static int close_global(builder *b, bool *open, tr_span *s, uint64_t end, uint8_t flags)
{
    if (!*open)
        return 0;
    *open = false;
    if (add_span(b, s->kind, s->thread, s->start, end, s->flags | flags) < 0)
        return -1;
    tr_span *n = last_span(b);
    n->arg[0] = s->arg[0];
    n->arg[1] = s->arg[1];
    n->name = s->name;
    return 0;
}

static int pair_events(builder *b, global_state *g)
{
    const tr_trace *t = b->t;
    tr_analysis *a = b->a;
    for (size_t i = 0; i < t->nevents; i++) {
        const tr_event *e = &t->events[i];
        if (is_mutator_event(e->type))
            b->ts[e->thread].wrote_mutator = true;
        if (is_collector_event(e->type))
            b->ts[e->thread].wrote_collector = true;
        int rc = 0;
        switch (e->type) {
        case TR_GC_BEGIN:
            rc = close_global(b, &g->cycle_open, &g->cycle, e->time, 0);
            g->cycle_open = g->cycle_seen = true;
            g->cycle = (tr_span){.kind = TR_SPAN_CYCLE, .thread = e->thread, .start = e->time,
                                 .arg = {e->arg[0], e->arg[1]}};
            break;
        case TR_GC_END:
            if (g->cycle_open && g->cycle.arg[0] == e->arg[0]) {
                rc = close_global(b, &g->cycle_open, &g->cycle, e->time, 0);
            } else if (!g->cycle_open && !g->cycle_seen) {
                g->cycle_seen = true;
                rc = add_span(b, TR_SPAN_CYCLE, e->thread, 0, e->time, TR_SPAN_OPEN_START);
                if (rc == 0)
                    last_span(b)->arg[0] = e->arg[0];
            } else if (g->cycle_open) { /* the END of a cycle that never began: the open one ends here */
                rc = close_global(b, &g->cycle_open, &g->cycle, e->time, 0);
            }
            break;
        case TR_STW_BEGIN:
            rc = close_global(b, &g->stw_open, &g->stw, e->time, 0);
            g->stw_open = g->stw_seen = true;
            g->stw = (tr_span){.kind = TR_SPAN_STW, .thread = e->thread, .start = e->time, .name = e->str};
            break;
        case TR_STW_END:
            if (g->stw_open)
                rc = close_global(b, &g->stw_open, &g->stw, e->time, 0);
            else if (!g->stw_seen)
                rc = add_span(b, TR_SPAN_STW, e->thread, 0, e->time, TR_SPAN_OPEN_START);
            g->stw_seen = true;
            break;
        case TR_PHASE:
            rc = close_global(b, &g->phase_open, &g->phase, e->time, 0);
            if (strcmp(tr_str(t, e->str), "off") != 0 && e->str != 0) {
                g->phase_open = true;
                g->phase = (tr_span){.kind = TR_SPAN_PHASE, .thread = e->thread, .start = e->time,
                                     .name = e->str};
            }
            break;
        case TR_MARK_WORKER_BEGIN: rc = slot_begin(b, e, SLOT_MARK); break;
        case TR_MARK_WORKER_END: rc = slot_end(b, e, SLOT_MARK); break;
        case TR_ASSIST_BEGIN: rc = slot_begin(b, e, SLOT_ASSIST); break;
        case TR_ASSIST_END: rc = slot_end(b, e, SLOT_ASSIST); break;
        case TR_SWEEP_BEGIN: rc = slot_begin(b, e, SLOT_SWEEP); break;
        case TR_SWEEP_END: rc = slot_end(b, e, SLOT_SWEEP); break;
        case TR_BLOCKING_BEGIN: rc = slot_begin(b, e, SLOT_BLOCKING); break;
        case TR_BLOCKING_END: rc = slot_end(b, e, SLOT_BLOCKING); break;
        case TR_THREAD_ATTACH: rc = slot_begin(b, e, SLOT_ATTACHED); break;
        case TR_THREAD_DETACH: rc = slot_end(b, e, SLOT_ATTACHED); break;
        case TR_HEAP_ALLOC:
            rc = add_point(&a->heap, &a->nheap, &b->cap_heap, e->time, e->arg[0]);
            break;
        case TR_HEAP_GOAL:
            rc = add_point(&a->goal, &a->ngoal, &b->cap_goal, e->time, e->arg[0]);
            break;
        case TR_TASK_BEGIN:
            rc = add_task_mark(&b->begins, &b->nbegins, &b->cap_begins, e);
            break;
        case TR_TASK_END:
            rc = add_task_mark(&b->ends, &b->nends, &b->cap_ends, e);
            break;
        case TR_REGION_BEGIN: {
            thread_state *s = &b->ts[e->thread];
            rc = grow((void **)&s->regions, &s->cap_regions, s->nregions, sizeof(open_region));
            if (rc == 0)
                s->regions[s->nregions++] = (open_region){e->str, e->time};
            break;
        }
        case TR_REGION_END: rc = region_end(b, e); break;
        case TR_LOG: a->nlogs++; break;
        default: break;
        }
        if (rc < 0)
            return -1;
    }
    for (uint32_t th = 0; th < t->nthreads; th++)
        a->threads[th].mutator = b->ts[th].wrote_mutator || !b->ts[th].wrote_collector;
    /* The trace's end closes what is still open. */
    uint64_t end = t->end;
    if (close_global(b, &g->cycle_open, &g->cycle, end, TR_SPAN_OPEN_END) < 0 ||
        close_global(b, &g->stw_open, &g->stw, end, TR_SPAN_OPEN_END) < 0 ||
        close_global(b, &g->phase_open, &g->phase, end, TR_SPAN_OPEN_END) < 0)
        return -1;
    for (uint32_t th = 0; th < t->nthreads; th++) {
        thread_state *s = &b->ts[th];
        for (int slot = 0; slot < SLOTS; slot++)
            if (s->open[slot] && add_span(b, slot_kind[slot], th, s->since[slot], end, TR_SPAN_OPEN_END) < 0)
                return -1;
        for (size_t r = 0; r < s->nregions; r++) {
            if (add_span(b, TR_SPAN_REGION, th, s->regions[r].start, end, TR_SPAN_OPEN_END) < 0)
                return -1;
            last_span(b)->name = s->regions[r].name;
        }
    }
    return 0;
}

static int task_order(const void *x, const void *y)
{
    const task_mark *p = x, *q = y;
    if (p->id != q->id)
        return p->id < q->id ? -1 : 1;
    return p->time < q->time ? -1 : p->time > q->time;
}

/* Tasks pair by id: each END takes the earliest unused BEGIN of its id at
 * or before it. */
static int pair_tasks(builder *b)
{
    if (b->nbegins > 1)
        qsort(b->begins, b->nbegins, sizeof(task_mark), task_order);
    for (size_t i = 0; i < b->nends; i++) {
        const task_mark *e = &b->ends[i];
        size_t lo = 0, hi = b->nbegins;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (b->begins[mid].id < e->id)
                lo = mid + 1;
            else
                hi = mid;
        }
        task_mark *m = NULL;
        for (; lo < b->nbegins && b->begins[lo].id == e->id && b->begins[lo].time <= e->time; lo++)
            if (!b->begins[lo].used) {
                m = &b->begins[lo];
                break;
            }
        if (add_span(b, TR_SPAN_TASK, m ? m->thread : e->thread, m ? m->time : 0, e->time,
                     m ? 0 : TR_SPAN_OPEN_START) < 0)
            return -1;
        tr_span *s = last_span(b);
        s->end_thread = e->thread;
        s->arg[0] = e->id;
        if (m != NULL) {
            m->used = true;
            s->name = m->name;
        }
    }
    for (size_t i = 0; i < b->nbegins; i++) {
        const task_mark *m = &b->begins[i];
        if (m->used)
            continue;
        if (add_span(b, TR_SPAN_TASK, m->thread, m->time, b->t->end, TR_SPAN_OPEN_END) < 0)
            return -1;
        last_span(b)->arg[0] = m->id;
        last_span(b)->name = m->name;
    }
    return 0;
}

static int span_order(const void *x, const void *y)
{
    const tr_span *p = x, *q = y;
    if (p->start != q->start)
        return p->start < q->start ? -1 : 1;
    if (p->kind != q->kind)
        return p->kind < q->kind ? -1 : 1;
    if (p->end != q->end)
        return p->end > q->end ? -1 : 1;
    return p->thread < q->thread ? -1 : p->thread > q->thread;
}

static int u64_order(const void *x, const void *y)
{
    uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;
    return p < q ? -1 : p > q;
}

/* The value of the last point at or before time, or 0. */
static uint64_t value_at(const tr_point *v, size_t n, uint64_t time)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].time <= time)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : v[lo - 1].value;
}

/* The cycle a span starting at `time` began in, or TR_NONE. */
static uint32_t cycle_at(const tr_analysis *a, uint64_t time)
{
    size_t lo = 0, hi = a->ncycles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->cycles[mid].start <= time)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || a->cycles[lo - 1].end < time)
        return TR_NONE;
    return (uint32_t)(lo - 1);
}

/* The first cycle starting after time, or TR_NONE. */
static uint32_t cycle_after(const tr_analysis *a, uint64_t time)
{
    size_t lo = 0, hi = a->ncycles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->cycles[mid].start <= time)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->ncycles ? (uint32_t)lo : TR_NONE;
}

static int build_cycles(tr_analysis *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nspans; i++)
        n += a->spans[i].kind == TR_SPAN_CYCLE;
    a->cycles = calloc(n ? n : 1, sizeof(tr_cycle));
    if (a->cycles == NULL)
        return -1;
    for (size_t i = 0; i < a->nspans; i++) {
        tr_span *s = &a->spans[i];
        if (s->kind != TR_SPAN_CYCLE)
            continue;
        s->cycle = (uint32_t)a->ncycles;
        tr_cycle *c = &a->cycles[a->ncycles++];
        c->number = s->arg[0];
        c->forced = s->arg[1] != 0;
        c->flags = s->flags;
        c->start = s->start;
        c->end = s->end;
        c->heap_start = value_at(a->heap, a->nheap, s->start);
        c->heap_end = value_at(a->heap, a->nheap, s->end);
        c->goal = value_at(a->goal, a->ngoal, s->end);
        a->ncomplete += s->flags == 0;
        a->nforced += c->forced;
    }
    for (size_t i = 0; i < a->nspans; i++) {
        tr_span *s = &a->spans[i];
        if (s->kind == TR_SPAN_CYCLE)
            continue;
        s->cycle = cycle_at(a, s->start);
        if (s->kind == TR_SPAN_PHASE) {
            /* Phases nest in their cycle; outside one, they stop where the next begins. */
            if (s->cycle != TR_NONE) {
                if (s->end > a->cycles[s->cycle].end)
                    s->end = a->cycles[s->cycle].end;
            } else {
                uint32_t next = cycle_after(a, s->start);
                if (next != TR_NONE && s->end > a->cycles[next].start)
                    s->end = a->cycles[next].start;
            }
        }
        if (s->cycle == TR_NONE)
            continue;
        tr_cycle *c = &a->cycles[s->cycle];
        uint64_t d = s->end - s->start;
        switch (s->kind) {
        case TR_SPAN_STW:
            c->nstw++;
            c->stw_total += d;
            if (d > c->stw_max)
                c->stw_max = d;
            break;
        case TR_SPAN_MARK: c->mark_time += d; c->mark_bytes += s->arg[0]; break;
        case TR_SPAN_ASSIST: c->assist_time += d; c->assist_bytes += s->arg[0]; break;
        case TR_SPAN_SWEEP: c->sweep_time += d; break;
        default: break;
        }
    }
    return 0;
}

typedef struct work_interval {
    uint32_t thread;
    uint64_t start, end;
} work_interval;

static int work_order(const void *x, const void *y)
{
    const work_interval *p = x, *q = y;
    if (p->thread != q->thread)
        return p->thread < q->thread ? -1 : 1;
    return p->start < q->start ? -1 : p->start > q->start;
}

static bool is_gc_work(unsigned kind)
{
    return kind == TR_SPAN_STW || kind == TR_SPAN_MARK || kind == TR_SPAN_ASSIST || kind == TR_SPAN_SWEEP;
}

static int thread_totals(tr_analysis *a)
{
    const tr_trace *t = a->trace;
    bool *saw_attached = calloc(t->nthreads ? t->nthreads : 1, sizeof(bool));
    work_interval *work = malloc((a->nspans ? a->nspans : 1) * sizeof(work_interval));
    if (saw_attached == NULL || work == NULL) {
        free(saw_attached), free(work);
        return -1;
    }
    size_t nwork = 0;
    for (size_t i = 0; i < a->nspans; i++) {
        const tr_span *s = &a->spans[i];
        tr_thread_stats *ts = &a->threads[s->thread];
        uint64_t d = s->end - s->start;
        if (is_gc_work(s->kind) && !ts->mutator)
            work[nwork++] = (work_interval){s->thread, s->start, s->end};
        switch (s->kind) {
        case TR_SPAN_STW: ts->stw += d; a->stw_total += d; break;
        case TR_SPAN_MARK: ts->mark += d; a->mark_total += d; a->mark_bytes += s->arg[0]; break;
        case TR_SPAN_ASSIST: ts->assist += d; a->assist_total += d; a->assist_bytes += s->arg[0]; break;
        case TR_SPAN_SWEEP: ts->sweep += d; a->sweep_total += d; break;
        case TR_SPAN_BLOCKING: ts->blocking += d; break;
        case TR_SPAN_ATTACHED: ts->attached += d; saw_attached[s->thread] = true; break;
        case TR_SPAN_REGION: a->nregions++; break;
        case TR_SPAN_TASK:
            a->ntasks++;
            a->ntasks_ended += !(s->flags & TR_SPAN_OPEN_END);
            break;
        default: break;
        }
    }
    for (uint32_t th = 0; th < t->nthreads; th++) {
        tr_thread_stats *ts = &a->threads[th];
        if (!ts->mutator)
            continue;
        a->nmutators++;
        if (!saw_attached[th])
            ts->attached = t->end;
        ts->busy = ts->attached > ts->blocking ? ts->attached - ts->blocking : 0;
    }
    /* Busy time of runtime threads: the union of their GC work. */
    qsort(work, nwork, sizeof *work, work_order);
    for (size_t i = 0; i < nwork;) {
        uint32_t th = work[i].thread;
        uint64_t total = 0, cur_start = work[i].start, cur_end = work[i].end;
        for (i++; i < nwork && work[i].thread == th; i++) {
            if (work[i].start <= cur_end) {
                if (work[i].end > cur_end)
                    cur_end = work[i].end;
                continue;
            }
            total += cur_end - cur_start;
            cur_start = work[i].start, cur_end = work[i].end;
        }
        a->threads[th].busy = total + (cur_end - cur_start);
    }
    free(saw_attached), free(work);
    return 0;
}

typedef struct id_index {
    uint64_t id;
    uint32_t index;
} id_index;

static int id_order(const void *x, const void *y)
{
    const id_index *p = x, *q = y;
    return p->id < q->id ? -1 : p->id > q->id;
}

/* a->by_id: thread indexes by thread id. */
static int order_threads(const tr_trace *t, tr_analysis *a)
{
    id_index *v = malloc((t->nthreads ? t->nthreads : 1) * sizeof *v);
    a->by_id = malloc((t->nthreads ? t->nthreads : 1) * sizeof(uint32_t));
    if (v == NULL || a->by_id == NULL) {
        free(v);
        return -1;
    }
    for (uint32_t i = 0; i < t->nthreads; i++)
        v[i] = (id_index){t->threads[i].id, i};
    qsort(v, t->nthreads, sizeof *v, id_order);
    for (uint32_t i = 0; i < t->nthreads; i++)
        a->by_id[i] = v[i].index;
    free(v);
    return 0;
}

int tr_analyze(const tr_trace *t, tr_analysis *a)
{
    memset(a, 0, sizeof *a);
    a->trace = t;
    builder b = {.t = t, .a = a};
    global_state g = {0};
    int rc = -1;
    b.ts = calloc(t->nthreads ? t->nthreads : 1, sizeof(thread_state));
    a->threads = calloc(t->nthreads ? t->nthreads : 1, sizeof(tr_thread_stats));
    if (b.ts == NULL || a->threads == NULL || order_threads(t, a) < 0)
        goto out;
    if (pair_events(&b, &g) < 0 || pair_tasks(&b) < 0)
        goto out;
    if (a->nspans > 1)
        qsort(a->spans, a->nspans, sizeof(tr_span), span_order);
    if (build_cycles(a) < 0)
        goto out;
    if (a->nspans > 1) /* clipping phases may have moved their ends */
        qsort(a->spans, a->nspans, sizeof(tr_span), span_order);
    a->pauses = malloc((a->nspans ? a->nspans : 1) * sizeof(uint64_t));
    if (a->pauses == NULL)
        goto out;
    for (size_t i = 0; i < a->nspans; i++)
        if (a->spans[i].kind == TR_SPAN_STW)
            a->pauses[a->npauses++] = a->spans[i].end - a->spans[i].start;
    qsort(a->pauses, a->npauses, sizeof(uint64_t), u64_order);
    for (size_t i = 0; i < a->nheap; i++)
        if (a->heap[i].value > a->heap_peak)
            a->heap_peak = a->heap[i].value;
    if (thread_totals(a) < 0)
        goto out;
    rc = 0;
out:
    if (b.ts != NULL)
        for (size_t i = 0; i < t->nthreads; i++)
            free(b.ts[i].regions);
    free(b.ts);
    free(b.begins);
    free(b.ends);
    if (rc < 0)
        tr_analysis_free(a);
    return rc;
}

void tr_analysis_free(tr_analysis *a)
{
    free(a->spans);
    free(a->cycles);
    free(a->pauses);
    free(a->threads);
    free(a->by_id);
    free(a->heap);
    free(a->goal);
    memset(a, 0, sizeof *a);
}

uint64_t tr_pause_percentile(const tr_analysis *a, double p)
{
    if (a->npauses == 0)
        return 0;
    double rank = p / 100.0 * (double)a->npauses; /* nearest rank: ceil(p/100 * n) */
    size_t r = (size_t)rank;
    if ((double)r < rank)
        r++;
    if (r < 1)
        r = 1;
    if (r > a->npauses)
        r = a->npauses;
    return a->pauses[r - 1];
}
