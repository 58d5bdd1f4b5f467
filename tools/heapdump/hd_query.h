/*
 * hd_query.h -- questions asked of a parsed heap dump: objects and bytes
 * by type, reachability and the shortest path from a root to an object,
 * and the difference between two dumps.  See hd_query.c.
 */
#ifndef TC_TOOLS_HD_QUERY_H
#define TC_TOOLS_HD_QUERY_H

#include "hd_parse.h"

#define HD_EXAMPLES 3

/* Objects and bytes of one type name. */
typedef struct hd_by_type {
    const char *name;
    uint64_t objects, bytes;
    uint64_t example[HD_EXAMPLES]; /* the lowest addresses of such objects */
    size_t nexamples;
} hd_by_type;

/* Groups the objects (those with only[i] != 0 if only is not NULL) by type
 * name, largest bytes first, then most objects, then by name.  Returns the
 * number of rows and sets *rows (malloc'd), or returns HD_NONE when out of
 * memory. */
size_t hd_by_type_rows(const hd_dump *d, const uint8_t *only, hd_by_type **rows);

/* How an object was first reached by the breadth-first search from the
 * roots. */
typedef enum hd_seed_kind {
    HD_SEED_NONE = 0,
    HD_SEED_ROOT,              /* ref: a root range (hd_dump.roots) */
    HD_SEED_FINALIZER_ARG,     /* ref: a finalizer; the argument it keeps */
    HD_SEED_QUEUED_OBJECT,     /* ref: a queued finalizer's object */
    HD_SEED_QUEUED_ARG,        /* ref: a queued finalizer's argument */
    HD_SEED_WEAK_HANDLE,       /* ref: a weak record (hd_dump.weaks); it keeps its handle */
    HD_SEED_FINALIZER_REFERENT /* ref: a finalizer whose object keeps what it references */
} hd_seed_kind;

typedef struct hd_reach {
    /* Per object: */
    uint8_t *tier;      /* 0: unreachable; 1: from the roots; 2: only through finalizable objects */
    size_t *parent;     /* the object whose edge reached it; HD_NONE when reached from a seed */
    size_t *edge;       /* the edge (index into hd_dump.edges), or HD_NONE */
    uint8_t *seed_kind; /* hd_seed_kind when parent is HD_NONE */
    size_t *seed_ref;
    uint64_t objects[3], bytes[3]; /* per tier */
} hd_reach;

/* Breadth-first search from every root: first the roots proper (root
 * ranges, queued finalizers, finalizers' arguments, weak records' handles;
 * registered ranges and globals before stacks, so that among paths of one
 * length the precise root wins), then what finalizable objects reference
 * (which the collector also keeps).  Returns 0, or -1 out of memory. */
int hd_reach_compute(const hd_dump *d, hd_reach *r);
void hd_reach_free(hd_reach *r);

/* The chain of objects from the first one reached from a seed to obj
 * (inclusive), into *chain (malloc'd).  Returns its length, 0 if obj is
 * unreachable, HD_NONE when out of memory. */
size_t hd_reach_path(const hd_dump *d, const hd_reach *r, size_t obj, size_t **chain);

/* Per type name: objects and bytes in OLD and NEW, the largest growth in
 * bytes first (then in objects, then by name). */
typedef struct hd_diff_row {
    const char *name;
    uint64_t old_objects, old_bytes, new_objects, new_bytes;
} hd_diff_row;
size_t hd_diff_rows(const hd_dump *old, const hd_dump *new_, hd_diff_row **rows);

/* For each object of NEW, 1 if OLD has no object at the same address with
 * the same size and type name (a new object), else 0.  NULL when out of
 * memory. */
uint8_t *hd_new_objects(const hd_dump *old, const hd_dump *new_);

#endif
