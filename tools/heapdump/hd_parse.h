/*
 * hd_parse.h -- reading a tricolor heap dump (docs/heapdump-format.md) into
 * memory: the parser shared by tricolor-heapdump, the tests and the fuzz
 * target.  See hd_parse.c.
 */
#ifndef TC_TOOLS_HD_PARSE_H
#define TC_TOOLS_HD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HD_NONE ((size_t)-1)

/* An outgoing pointer: of an object, or of a root range. */
typedef struct hd_edge {
    uint64_t slot;       /* offset in the holder; for a scan function the report's
                            ordinal; for registers the register number */
    uint64_t target;     /* base address of the object pointed to */
    uint64_t target_off; /* where in that object the word pointed */
    size_t to;           /* index of the target in hd_dump.objects */
} hd_edge;

typedef struct hd_type {
    const char *name;    /* from the string table; "" if the type had none */
    uint64_t size;       /* bytes of one element */
    unsigned scan;       /* HD_SCAN_OFFSETS or HD_SCAN_FUNCTION */
    size_t noffsets;
    uint64_t *offsets;   /* pointer offsets in an element */
} hd_type;

typedef struct hd_object {
    uint64_t addr, size;
    uint32_t type;       /* 1-based index into hd_dump.types; 0: untyped */
    uint8_t scan;        /* enum hd_scan */
    size_t edge_first;   /* its edges are hd_dump.edges[edge_first .. + nedges) */
    size_t nedges;
    uint64_t rec_off;    /* file offset of its record, for messages */
} hd_object;

typedef struct hd_thread {
    uint64_t id, state, flags;
    uint64_t stack_lo, stack_hi, scan_lo, nregs;
} hd_thread;

typedef struct hd_root {
    uint64_t kind;       /* enum hd_root_kind; other values from newer writers are kept */
    uint64_t owner;      /* the thread id for stacks and registers */
    uint64_t lo, hi;
    size_t edge_first, nedges;
    uint64_t rec_off;
} hd_root;

typedef struct hd_finalizer {
    uint64_t obj, fn, arg;
    uint64_t arg_target, arg_off; /* the object arg points into (0: none) */
    bool queued;                  /* QUEUED_FINALIZER: found unreachable, waiting to run */
    size_t obj_index, arg_index;  /* into objects; arg_index HD_NONE if none */
    uint64_t rec_off;
} hd_finalizer;

typedef struct hd_weak {
    uint64_t obj, handle;
    size_t obj_index, handle_index;
    uint64_t rec_off;
} hd_weak;

typedef struct hd_stat {
    char *name;
    uint64_t value;
} hd_stat;

typedef struct hd_dump {
    unsigned version;
    bool has_info;
    uint64_t time_ns, pid, phase, num_gc;

    char **strings;       size_t nstrings;   /* the string table, 0-based here */
    hd_type *types;       size_t ntypes;     /* 0-based here; hd_object.type is 1-based */
    hd_object *objects;   size_t nobjects;   /* sorted by address */
    hd_edge *edges;       size_t nedges;     /* of objects and roots */
    hd_thread *threads;   size_t nthreads;
    hd_root *roots;       size_t nroots;
    hd_finalizer *finalizers; size_t nfinalizers; /* set and queued, in file order */
    hd_weak *weaks;       size_t nweaks;
    hd_stat *stats;       size_t nstats;
    uint64_t nrecords;    /* records before END */
    uint64_t total_bytes; /* sum of object sizes */

    char error[256];      /* after a failure: "offset N: what is wrong" */
} hd_dump;

/* hd_parse flags */
#define HD_PARSE_NO_CHECKSUM 1u /* accept a CRC mismatch (the fuzz target's deeper runs) */

/* Parses len bytes into *d (which it zeroes first).  Returns 0, or -1 with
 * d->error set and nothing left allocated.  Never reads outside data. */
int hd_parse(const uint8_t *data, size_t len, unsigned flags, hd_dump *d);

/* Reads a whole file and parses it; errors name the file. */
int hd_load(const char *path, unsigned flags, hd_dump *d);

void hd_free(hd_dump *d);

/* The object whose [addr, addr + size) holds a, or HD_NONE. */
size_t hd_object_find(const hd_dump *d, uint64_t a);

/* A printable name for the object's type: the type's name, "(unnamed
 * type)", "(tc_alloc)" for untyped scanned memory, "(tc_alloc_noscan)". */
const char *hd_object_type_name(const hd_dump *d, const hd_object *o);

/* The value of statistic `name`, or `dflt` if the dump has none. */
uint64_t hd_stat_value(const hd_dump *d, const char *name, uint64_t dflt);

#endif
