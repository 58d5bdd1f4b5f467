/*
 * tr_mmu.c -- the utilization step function and windowed minimums
 * (definitions in tr_mmu.h).
 *
 * Building u: every stop-the-world span contributes a +1/-1 edge to a
 * "stopped" count; every thread's mark-worker and assist spans, merged per
 * thread first so that a thread never counts twice, contribute +1/-1 edges
 * to a "collecting" count.  Sorting the edges and sweeping them gives the
 * steps: m = 0 while stopped, else procs - min(collecting, procs); equal
 * neighbours are merged.
 */
#include "tr_mmu.h"

#include <stdlib.h>
#include <string.h>

typedef struct edge {
    uint64_t time;
    int8_t stopped, collecting; /* +1 / -1 / 0 */
} edge;

typedef struct work {
    uint32_t thread;
    uint64_t start, end;
} work;

static int work_order(const void *x, const void *y)
{
    const work *p = x, *q = y;
    if (p->thread != q->thread)
        return p->thread < q->thread ? -1 : 1;
    return p->start < q->start ? -1 : p->start > q->start;
}

static int edge_order(const void *x, const void *y)
{
    const edge *p = x, *q = y;
    return p->time < q->time ? -1 : p->time > q->time;
}

unsigned tr_default_procs(const tr_analysis *a)
{
    if (a->nmutators == 0)
        return 1;
    return a->nmutators > 1u << 20 ? 1u << 20 : (unsigned)a->nmutators;
}

int tr_util_build(const tr_analysis *a, unsigned procs, tr_util *u)
{
    memset(u, 0, sizeof *u);
    u->end = a->trace->end;
    u->procs = procs ? procs : 1;
    size_t cap = 2 * a->nspans + 2;
    edge *edges = malloc(cap * sizeof(edge));
    work *w = malloc((a->nspans + 1) * sizeof(work));
    u->t = malloc(cap * sizeof(uint64_t));
    u->m = malloc(cap * sizeof(uint32_t));
    u->acc = malloc(cap * sizeof(tr_u128));
    if (edges == NULL || w == NULL || u->t == NULL || u->m == NULL || u->acc == NULL) {
        free(edges), free(w);
        tr_util_free(u);
        return -1;
    }
    size_t ne = 0, nw = 0;
    for (size_t i = 0; i < a->nspans; i++) {
        const tr_span *s = &a->spans[i];
        if (s->start == s->end)
            continue;
        if (s->kind == TR_SPAN_STW) {
            edges[ne++] = (edge){s->start, 1, 0};
            edges[ne++] = (edge){s->end, -1, 0};
        } else if (s->kind == TR_SPAN_MARK || s->kind == TR_SPAN_ASSIST) {
            w[nw++] = (work){s->thread, s->start, s->end};
        }
    }
    qsort(w, nw, sizeof *w, work_order);
    for (size_t i = 0; i < nw;) {
        uint32_t th = w[i].thread;
        uint64_t start = w[i].start, end = w[i].end;
        for (i++; i < nw && w[i].thread == th && w[i].start <= end; i++)
            if (w[i].end > end)
                end = w[i].end;
        edges[ne++] = (edge){start, 0, 1};
        edges[ne++] = (edge){end, 0, -1};
    }
    free(w);
    qsort(edges, ne, sizeof *edges, edge_order);

    /* Sweep: one step per distinct edge time, merging equal neighbours. */
    long stopped = 0, collecting = 0;
    size_t n = 0; /* the open step */
    u->t[0] = 0;
    u->m[0] = u->procs;
    for (size_t i = 0; i < ne;) {
        uint64_t time = edges[i].time;
        for (; i < ne && edges[i].time == time; i++) {
            stopped += edges[i].stopped;
            collecting += edges[i].collecting;
        }
        if (time >= u->end)
            break;
        uint32_t m = stopped > 0 ? 0 : collecting >= (long)u->procs ? 0 : u->procs - (uint32_t)collecting;
        if (time == u->t[n])
            u->m[n] = m; /* only at time 0: the first step starts with this edge */
        else if (m != u->m[n]) {
            n++;
            u->t[n] = time;
            u->m[n] = m;
        }
    }
    u->n = u->end == 0 ? 0 : n + 1;
    u->t[u->n] = u->end;
    u->acc[0] = 0;
    for (size_t i = 0; i < u->n; i++)
        u->acc[i + 1] = u->acc[i] + (tr_u128)u->m[i] * (u->t[i + 1] - u->t[i]);
    free(edges);
    return 0;
}

void tr_util_free(tr_util *u)
{
    free(u->t);
    free(u->m);
    free(u->acc);
    memset(u, 0, sizeof *u);
}

static double ratio(tr_u128 num, tr_u128 den)
{
    return (double)((long double)num / (long double)den);
}

double tr_util_mean(const tr_util *u)
{
    return u->end == 0 ? 1.0 : ratio(u->acc[u->n], (tr_u128)u->procs * u->end);
}

/* The integral of m over [0, x]; *seg only moves forward between calls. */
static tr_u128 integral(const tr_util *u, size_t *seg, uint64_t x)
{
    while (*seg < u->n && u->t[*seg + 1] <= x)
        (*seg)++;
    if (*seg == u->n)
        return u->acc[u->n];
    return u->acc[*seg] + (tr_u128)u->m[*seg] * (x - u->t[*seg]);
}

double tr_mmu(const tr_util *u, uint64_t window)
{
    if (u->end == 0)
        return 1.0;
    if (window == 0) { /* the lowest step */
        uint32_t low = u->procs;
        for (size_t i = 0; i < u->n; i++)
            if (u->m[i] < low)
                low = u->m[i];
        return (double)low / u->procs;
    }
    if (window >= u->end)
        return tr_util_mean(u);
    /* Candidate window starts: the steps t[i] <= end - w, and t[k] - w for
     * the steps t[k] >= w, merged in increasing order. */
    uint64_t last = u->end - window;
    size_t i = 0, k = 0, seg_lo = 0, seg_hi = 0;
    while (k <= u->n && u->t[k] < window)
        k++;
    tr_u128 best = (tr_u128)u->procs * window;
    for (;;) {
        bool from_i = i <= u->n && u->t[i] <= last;
        bool from_k = k <= u->n;
        if (!from_i && !from_k)
            break;
        uint64_t x;
        if (from_i && (!from_k || u->t[i] <= u->t[k] - window))
            x = u->t[i++];
        else
            x = u->t[k++] - window;
        tr_u128 lo = integral(u, &seg_lo, x);
        tr_u128 v = integral(u, &seg_hi, x + window) - lo;
        if (v < best)
            best = v;
    }
    return ratio(best, (tr_u128)u->procs * window);
}
