/*
 * heapdump_fuzz.c -- the libFuzzer target for the heap dump reader
 * (tools/heapdump/hd_parse.c) and the queries the tool runs on what it
 * reads (hd_query.c).
 *
 * Each input is parsed twice: as the tool parses (checksum enforced) and
 * with the checksum ignored, so that mutated inputs -- whose CRC a fuzzer
 * cannot fix up -- still reach resolution and the queries.  A failed parse
 * must leave an "offset N: ..." message and nothing allocated (LeakSanitizer
 * watches); a successful one must satisfy what the tool relies on --
 * objects sorted and disjoint, every edge resolved to the object it names
 * -- and then every query runs: by-type rows, the reachability search, the
 * path to each object (checked edge by edge), and a diff of the dump with
 * itself (no growth, no new objects).  A broken property aborts, which the
 * fuzzer reports as a crash.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by `make
 * fuzz-heapdump`; heapdump_corpus_test.c links this file into a plain
 * program that replays the committed corpus with any compiler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_parse.h"
#include "hd_query.h"

#define MUST(cond)                                                              \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "heapdump_fuzz: property failed: %s (line %d)\n",   \
                    #cond, __LINE__);                                           \
            abort();                                                            \
        }                                                                       \
    } while (0)

static void check_parsed(const hd_dump *d)
{
    uint64_t total = 0;
    for (size_t i = 0; i < d->nobjects; i++) {
        const hd_object *o = &d->objects[i];
        MUST(o->size > 0);
        MUST(i == 0 || d->objects[i - 1].addr + d->objects[i - 1].size <= o->addr);
        MUST(o->type <= d->ntypes);
        MUST(o->edge_first + o->nedges <= d->nedges);
        MUST(hd_object_find(d, o->addr) == i && hd_object_find(d, o->addr + o->size - 1) == i);
        MUST(hd_object_type_name(d, o) != NULL);
        total += o->size;
    }
    MUST(total == d->total_bytes);
    for (size_t e = 0; e < d->nedges; e++) {
        const hd_edge *x = &d->edges[e];
        MUST(x->to < d->nobjects && d->objects[x->to].addr == x->target);
        MUST(x->target_off < d->objects[x->to].size);
    }
    for (size_t i = 0; i < d->nroots; i++)
        MUST(d->roots[i].edge_first + d->roots[i].nedges <= d->nedges);
    for (size_t i = 0; i < d->nfinalizers; i++) {
        MUST(d->finalizers[i].obj_index < d->nobjects);
        MUST(d->finalizers[i].arg_target == 0 || d->finalizers[i].arg_index < d->nobjects);
    }
    for (size_t i = 0; i < d->nweaks; i++)
        MUST(d->weaks[i].obj_index < d->nobjects && d->weaks[i].handle_index < d->nobjects);
}

static void run_queries(const hd_dump *d)
{
    hd_by_type *rows;
    size_t n = hd_by_type_rows(d, NULL, &rows);
    MUST(n != HD_NONE);
    uint64_t objects = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        objects += rows[i].objects;
        bytes += rows[i].bytes;
        MUST(i == 0 || rows[i - 1].bytes >= rows[i].bytes);
        MUST(rows[i].nexamples >= 1 && rows[i].nexamples <= HD_EXAMPLES);
    }
    MUST(objects == d->nobjects && bytes == d->total_bytes);
    free(rows);

    hd_reach r;
    MUST(hd_reach_compute(d, &r) == 0);
    MUST(r.objects[0] + r.objects[1] + r.objects[2] == d->nobjects);
    for (size_t i = 0; i < d->nobjects && i < 256; i++) {
        size_t *chain;
        size_t len = hd_reach_path(d, &r, i, &chain);
        MUST(len != HD_NONE);
        MUST((len == 0) == (r.tier[i] == 0));
        if (len > 0) {
            MUST(chain[len - 1] == i && r.parent[chain[0]] == HD_NONE && r.seed_kind[chain[0]] != 0);
            for (size_t k = 1; k < len; k++) {
                const hd_object *from = &d->objects[chain[k - 1]];
                size_t e = r.edge[chain[k]];
                MUST(e >= from->edge_first && e < from->edge_first + from->nedges && d->edges[e].to == chain[k]);
            }
        }
        free(chain);
    }
    hd_reach_free(&r);

    hd_diff_row *dr;
    size_t nd = hd_diff_rows(d, d, &dr);
    MUST(nd != HD_NONE);
    for (size_t i = 0; i < nd; i++)
        MUST(dr[i].old_objects == dr[i].new_objects && dr[i].old_bytes == dr[i].new_bytes);
    free(dr);
    uint8_t *fresh = hd_new_objects(d, d);
    MUST(fresh != NULL);
    for (size_t i = 0; i < d->nobjects; i++)
        MUST(fresh[i] == 0);
    free(fresh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned modes[] = {0, HD_PARSE_NO_CHECKSUM};
    for (size_t m = 0; m < 2; m++) {
        hd_dump d;
        if (hd_parse(data, size, modes[m], &d) == 0) {
            check_parsed(&d);
            run_queries(&d);
            hd_free(&d);
        } else {
            MUST(strncmp(d.error, "offset ", 7) == 0);
            MUST(d.objects == NULL && d.edges == NULL && d.strings == NULL && d.nobjects == 0);
        }
    }
    return 0;
}
