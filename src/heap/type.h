/*
 * type.h -- object types: pointer layouts for precise scanning.
 * See type.c.
 */
#ifndef TC_HEAP_TYPE_H
#define TC_HEAP_TYPE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tricolor.h"

#define TYPE_MAGIC 0x74797065u /* "type" */
#define TYPE_MAX_ID 65535      /* ids are 16 bits, 0 = untyped */

typedef void (*type_scan_fn)(const void *obj, size_t size,
                             void (*mark)(const void *ptr, void *ctx), void *ctx);

/* Off-heap (persistent memory), immutable once published, live until
 * tc_shutdown. */
struct tc_type {
    uint32_t magic;         /* TYPE_MAGIC: tells a tc_type from a stray pointer */
    uint16_t id;            /* 1..TYPE_MAX_ID, the key of type_table */
    uint8_t spanclass;      /* of one element if it is small; 0 if it is large */
    const struct tc_type *self; /* itself: a copy of a tc_type is no type */
    size_t size;            /* bytes of one element */
    const char *name;
    size_t n_ptrs;          /* pointer slots per element */
    const size_t *ptr_offsets; /* sorted, distinct, multiples of 8, < size */
    type_scan_fn scan;      /* non-NULL: the collector asks it for pointers */
};

/* type_table: 256 blocks of TYPE_BLOCK ids, made on demand; an entry
 * goes from NULL to its type once (release).  Read lock-free. */
#define TYPE_BLOCK 256
extern _Atomic(const tc_type *) *_Atomic type_table[(TYPE_MAX_ID + 1) / TYPE_BLOCK];

/* The type with this id, or NULL for id 0.  Lock-free; inline, because
 * marking asks it for every object it scans. */
static inline const tc_type *type_by_id(uint16_t id)
{
    _Atomic(const tc_type *) *block =
        atomic_load_explicit(&type_table[id / TYPE_BLOCK], memory_order_acquire);
    if (block == NULL)
        return NULL;
    return atomic_load_explicit(&block[id % TYPE_BLOCK], memory_order_acquire);
}

/* Whether objects of type t hold no pointers the collector must find: they
 * go to noscan spans. */
static inline bool type_is_noscan(const tc_type *t)
{
    return t->n_ptrs == 0 && t->scan == NULL;
}

/* Aborts with a message if t is not a type made by tc_type_new(_scan).
 * Inline, because every tc_new checks its argument. */
void type_check_fail(const tc_type *t, const char *who);
static inline void type_check(const tc_type *t, const char *who)
{
    if (__builtin_expect(t == NULL || t->magic != TYPE_MAGIC || t->self != t, 0))
        type_check_fail(t, who);
}

void type_init(void);      /* tc_init */
void type_reset_all(void); /* tc_shutdown */

#endif
