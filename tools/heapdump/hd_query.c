/*
 * hd_query.c -- what tricolor-heapdump computes from parsed dumps.
 *
 * By type: objects are bucketed by their type index (two more buckets for
 * untyped scanned and untyped noscan memory), then buckets whose types
 * share a name are merged -- two tc_types made from one struct are one row
 * -- and the rows sorted.  Linear in the objects plus T log T in the types.
 *
 * Reachability: one breadth-first search over every object, from all the
 * roots at once, records for each object the edge it was first reached by,
 * so a path to any object is read backwards from it in O(path length) and
 * is a shortest one.  Seeds are visited in a fixed order (registered
 * ranges, globals, queued finalizers, finalizers' arguments, weak handles,
 * then stacks and registers, which are conservative and noisier), so ties
 * between paths of one length go to the more telling root.  What the
 * collector keeps because a finalizable object references it is a second
 * tier, searched only after everything the roots proper reach: an object
 * reached only that way is reported as such.
 *
 * Diff: rows by type name from each dump, merged by name.  New objects are
 * found by walking both dumps' objects in address order together.
 */
#include "hd_query.h"

#include <stdlib.h>
#include <string.h>

#include "dump/heapdump_format.h"

/* ---- By type --------------------------------------------------------------------- */

static int cmp_row_name(const void *a, const void *b)
{
    return strcmp(((const hd_by_type *)a)->name, ((const hd_by_type *)b)->name);
}

static int cmp_row_size(const void *a, const void *b)
{
    const hd_by_type *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->objects != y->objects)
        return x->objects > y->objects ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void add_example(hd_by_type *row, uint64_t addr)
{
    /* Keeps the HD_EXAMPLES lowest addresses, ascending. */
    size_t n = row->nexamples;
    if (n == HD_EXAMPLES && addr >= row->example[n - 1])
        return;
    size_t i = n < HD_EXAMPLES ? n : n - 1;
    while (i > 0 && row->example[i - 1] > addr) {
        row->example[i] = row->example[i - 1];
        i--;
    }
    row->example[i] = addr;
    if (n < HD_EXAMPLES)
        row->nexamples++;
}

size_t hd_by_type_rows(const hd_dump *d, const uint8_t *only, hd_by_type **rows)
{
    /* Buckets: 0 untyped scanned, 1 untyped noscan, 1 + i type i. */
    size_t nb = d->ntypes + 2;
    hd_by_type *b = calloc(nb, sizeof *b);
    if (b == NULL)
        return HD_NONE;
    for (size_t i = 0; i < d->nobjects; i++) {
        if (only != NULL && !only[i])
            continue;
        const hd_object *o = &d->objects[i];
        size_t k = o->type != 0 ? (size_t)o->type + 1 : o->scan == HD_SCAN_NONE ? 1 : 0;
        if (b[k].objects == 0)
            b[k].name = hd_object_type_name(d, o);
        b[k].objects++;
        b[k].bytes += o->size;
        if (b[k].nexamples < HD_EXAMPLES) /* objects are in address order */
            b[k].example[b[k].nexamples++] = o->addr;
    }
    size_t n = 0;
    for (size_t k = 0; k < nb; k++)
        if (b[k].objects != 0)
            b[n++] = b[k];
    if (n > 1)
        qsort(b, n, sizeof *b, cmp_row_name);
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (m > 0 && strcmp(b[m - 1].name, b[k].name) == 0) {
            b[m - 1].objects += b[k].objects;
            b[m - 1].bytes += b[k].bytes;
            for (size_t e = 0; e < b[k].nexamples; e++)
                add_example(&b[m - 1], b[k].example[e]);
        } else {
            b[m++] = b[k];
        }
    }
    if (m > 1)
        qsort(b, m, sizeof *b, cmp_row_size);
    *rows = b;
    return m;
}

/* ---- Reachability ------------------------------------------------------------------ */

void hd_reach_free(hd_reach *r)
{
    free(r->tier);
    free(r->parent);
    free(r->edge);
    free(r->seed_kind);
    free(r->seed_ref);
    memset(r, 0, sizeof *r);
}

typedef struct bfs {
    const hd_dump *d;
    hd_reach *r;
    size_t *queue;
    size_t head, tail;
    uint8_t tier;
} bfs;

static void visit(bfs *q, size_t obj, size_t parent, size_t edge, hd_seed_kind kind, size_t ref)
{
    hd_reach *r = q->r;
    if (obj == HD_NONE || r->tier[obj] != 0)
        return;
    r->tier[obj] = q->tier;
    r->parent[obj] = parent;
    r->edge[obj] = edge;
    r->seed_kind[obj] = (uint8_t)(parent == HD_NONE ? kind : HD_SEED_NONE);
    r->seed_ref[obj] = parent == HD_NONE ? ref : HD_NONE;
    r->objects[q->tier]++;
    r->bytes[q->tier] += q->d->objects[obj].size;
    q->queue[q->tail++] = obj;
}

static void drain(bfs *q)
{
    const hd_dump *d = q->d;
    while (q->head < q->tail) {
        size_t o = q->queue[q->head++];
        const hd_object *ob = &d->objects[o];
        for (size_t e = ob->edge_first; e < ob->edge_first + ob->nedges; e++)
            visit(q, d->edges[e].to, o, e, HD_SEED_NONE, HD_NONE);
    }
}

static void seed_roots_of_kind(bfs *q, uint64_t kind, bool others)
{
    const hd_dump *d = q->d;
    for (size_t i = 0; i < d->nroots; i++) {
        const hd_root *rt = &d->roots[i];
        bool known = rt->kind >= HD_ROOT_STACK && rt->kind <= HD_ROOT_REGISTERED;
        if (others ? known : rt->kind != kind)
            continue;
        for (size_t e = rt->edge_first; e < rt->edge_first + rt->nedges; e++)
            visit(q, d->edges[e].to, HD_NONE, e, HD_SEED_ROOT, i);
    }
}

int hd_reach_compute(const hd_dump *d, hd_reach *r)
{
    memset(r, 0, sizeof *r);
    size_t n = d->nobjects ? d->nobjects : 1;
    r->tier = calloc(n, 1);
    r->parent = malloc(n * sizeof *r->parent);
    r->edge = malloc(n * sizeof *r->edge);
    r->seed_kind = calloc(n, 1);
    r->seed_ref = malloc(n * sizeof *r->seed_ref);
    bfs q = {d, r, malloc(n * sizeof(size_t)), 0, 0, 1};
    if (!r->tier || !r->parent || !r->edge || !r->seed_kind || !r->seed_ref || !q.queue) {
        free(q.queue);
        hd_reach_free(r);
        return -1;
    }
    for (size_t i = 0; i < d->nobjects; i++)
        r->parent[i] = r->edge[i] = r->seed_ref[i] = HD_NONE;

    seed_roots_of_kind(&q, HD_ROOT_REGISTERED, false);
    seed_roots_of_kind(&q, HD_ROOT_GLOBAL, false);
    for (size_t i = 0; i < d->nfinalizers; i++)
        if (d->finalizers[i].queued) {
            visit(&q, d->finalizers[i].obj_index, HD_NONE, HD_NONE, HD_SEED_QUEUED_OBJECT, i);
            visit(&q, d->finalizers[i].arg_index, HD_NONE, HD_NONE, HD_SEED_QUEUED_ARG, i);
        }
    for (size_t i = 0; i < d->nfinalizers; i++)
        if (!d->finalizers[i].queued)
            visit(&q, d->finalizers[i].arg_index, HD_NONE, HD_NONE, HD_SEED_FINALIZER_ARG, i);
    for (size_t i = 0; i < d->nweaks; i++)
        visit(&q, d->weaks[i].handle_index, HD_NONE, HD_NONE, HD_SEED_WEAK_HANDLE, i);
    seed_roots_of_kind(&q, HD_ROOT_STACK, false);
    seed_roots_of_kind(&q, HD_ROOT_REGISTERS, false);
    seed_roots_of_kind(&q, 0, true);
    drain(&q);

    q.tier = 2;
    for (size_t i = 0; i < d->nfinalizers; i++) {
        if (d->finalizers[i].queued)
            continue;
        const hd_object *f = &d->objects[d->finalizers[i].obj_index];
        for (size_t e = f->edge_first; e < f->edge_first + f->nedges; e++)
            visit(&q, d->edges[e].to, HD_NONE, e, HD_SEED_FINALIZER_REFERENT, i);
    }
    drain(&q);
    for (size_t i = 0; i < d->nobjects; i++)
        if (r->tier[i] == 0) {
            r->objects[0]++;
            r->bytes[0] += d->objects[i].size;
        }
    free(q.queue);
    return 0;
}

size_t hd_reach_path(const hd_dump *d, const hd_reach *r, size_t obj, size_t **chain)
{
    *chain = NULL;
    if (obj >= d->nobjects || r->tier[obj] == 0)
        return 0;
    size_t len = 1;
    for (size_t o = obj; r->parent[o] != HD_NONE; o = r->parent[o])
        len++;
    size_t *c = malloc(len * sizeof *c);
    if (c == NULL)
        return HD_NONE;
    size_t i = len;
    for (size_t o = obj;; o = r->parent[o]) {
        c[--i] = o;
        if (r->parent[o] == HD_NONE)
            break;
    }
    *chain = c;
    return len;
}

/* ---- Diff ---------------------------------------------------------------------------- */

static int cmp_diff(const void *a, const void *b)
{
    const hd_diff_row *x = a, *y = b;
    int64_t gx = (int64_t)(x->new_bytes - x->old_bytes), gy = (int64_t)(y->new_bytes - y->old_bytes);
    if (gx != gy)
        return gx > gy ? -1 : 1;
    int64_t ox = (int64_t)(x->new_objects - x->old_objects), oy = (int64_t)(y->new_objects - y->old_objects);
    if (ox != oy)
        return ox > oy ? -1 : 1;
    return strcmp(x->name, y->name);
}

size_t hd_diff_rows(const hd_dump *old, const hd_dump *new_, hd_diff_row **rows)
{
    hd_by_type *a = NULL, *b = NULL;
    size_t na = hd_by_type_rows(old, NULL, &a), nb = na == HD_NONE ? HD_NONE : hd_by_type_rows(new_, NULL, &b);
    hd_diff_row *out = na != HD_NONE && nb != HD_NONE ? calloc(na + nb + 1, sizeof *out) : NULL;
    if (out == NULL) {
        if (na != HD_NONE)
            free(a);
        if (nb != HD_NONE)
            free(b);
        return HD_NONE;
    }
    if (na > 1)
        qsort(a, na, sizeof *a, cmp_row_name);
    if (nb > 1)
        qsort(b, nb, sizeof *b, cmp_row_name);
    size_t i = 0, j = 0, n = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].name, b[j].name);
        hd_diff_row *r = &out[n++];
        if (c <= 0) {
            r->name = a[i].name;
            r->old_objects = a[i].objects;
            r->old_bytes = a[i].bytes;
            i++;
        }
        if (c >= 0) {
            r->name = b[j].name;
            r->new_objects = b[j].objects;
            r->new_bytes = b[j].bytes;
            j++;
        }
    }
    free(a);
    free(b);
    if (n > 1)
        qsort(out, n, sizeof *out, cmp_diff);
    *rows = out;
    return n;
}

uint8_t *hd_new_objects(const hd_dump *old, const hd_dump *new_)
{
    uint8_t *m = malloc(new_->nobjects ? new_->nobjects : 1);
    if (m == NULL)
        return NULL;
    size_t i = 0;
    for (size_t j = 0; j < new_->nobjects; j++) {
        const hd_object *o = &new_->objects[j];
        while (i < old->nobjects && old->objects[i].addr < o->addr)
            i++;
        bool same = i < old->nobjects && old->objects[i].addr == o->addr && old->objects[i].size == o->size &&
                    strcmp(hd_object_type_name(old, &old->objects[i]), hd_object_type_name(new_, o)) == 0;
        m[j] = !same;
    }
    return m;
}
