/*
 * special.h -- off-heap records attached to heap objects: finalizers and
 * weak handles (Go's "specials").  See special.c.
 */
#ifndef TC_GC_SPECIAL_H
#define TC_GC_SPECIAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../heap/span.h"
#include "workbuf.h"

typedef enum special_kind {
    SPECIAL_FINALIZER = 1,
    SPECIAL_WEAK = 2,
} special_kind;

typedef struct special {
    struct special *next;  /* the span's list, sorted by (index, kind) */
    uint32_t index;        /* the object's slot in the span */
    uint8_t kind;          /* special_kind */
    union {
        struct {
            void (*fn)(void *obj, void *arg);
            void *arg;     /* any word; a root while the record exists */
        } fin;
        struct {
            void **handle; /* the weak handle object (noscan, one word: the target) */
        } weak;
    } u;
} special;

/* Live records by kind (for the statistics). */
extern _Atomic uint64_t specials_weak_live;

void specials_init(void);

/* All the functions below take specials_lock themselves unless their name
 * ends in _locked. */
void specials_lock_acquire(void);
void specials_lock_release(void);

/* The record of `kind` for slot idx of s, or NULL.  Under the lock. */
special *special_find_locked(span *s, uint32_t idx, special_kind kind);
/* Links a new record (from special_alloc) into s's list.  Under the lock. */
void special_insert_locked(span *s, special *sp);
/* Unlinks and frees the record.  Under the lock. */
void special_remove_locked(span *s, special *sp);
special *special_alloc(void); /* NULL when out of memory; under the lock */

/* Marking: for every record of every span, the words it keeps alive --
 * a finalizable object's contents (not the object: it must be able to
 * die), a finalizer's argument, a weak handle object.  Concurrent with
 * mutators.  Returns the bytes scanned. */
size_t specials_mark_roots(gcwork *gw);

/* What marking would have done for one finalizer record, for records
 * added or changed while the collector marks. */
void special_mark_finalizer(uintptr_t base, span *s, void *arg, gcwork *gw);

/* Sweeping, before s's mark bits are read: for each unmarked object with
 * records, clears its weak handles and, if it has a finalizer, marks it
 * again (it lives until the finalizer ran) and queues the finalizer.
 * Called by the span's sweeper. */
void specials_sweep(span *s);

/* Calls fn(s, sp, arg) for every record of every in-use span, holding
 * specials_lock around each span's list: fn reads the record, takes no
 * lock of rank LOCK_RANK_SPECIALS or lower and allocates nothing in the GC
 * heap.  For observers (heap dumps). */
void specials_for_each(void (*fn)(span *s, const special *sp, void *arg), void *arg);

#endif
