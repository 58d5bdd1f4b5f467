/*
 * type.c -- registering object types.
 *
 * A type records where an object's pointers are (sorted byte offsets), or a
 * scan function for layouts offsets cannot describe.  Every type gets a
 * 16-bit id.  A span stores the one id all its objects share, or, once it
 * mixes types, an id per slot (span.h), so that the collector can scan
 * each object precisely and tc_type_of can answer, at no cost per object
 * in a span of one type and two bytes in a mixed one, instead of a header
 * word.  Large objects keep the type pointer in their span.
 *
 * type_table maps ids to types: 256 blocks of 256 entries, blocks made on
 * demand.  Entries go from NULL to a type once (release), read lock-free.
 *
 * Invariants: ids are dense from 1; type_table[id]->id == id.
 * Locking: type_lock (rank LOCK_RANK_TYPES) serialises registration.
 */
#include "type.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/lock.h"
#include "../base/throw.h"
#include "../offheap/persistent_alloc.h"
#include "size_class.h"

static lock_t type_lock = LOCK_INIT(LOCK_RANK_TYPES);
_Atomic(const tc_type *) *_Atomic type_table[(TYPE_MAX_ID + 1) / TYPE_BLOCK];
static uint32_t next_type_id = 1; /* under type_lock */

COLD void type_check_fail(const tc_type *t, const char *who)
{
    if (t == NULL) {
        log_str("tricolor: ");
        log_str(who);
        throw(": type is NULL");
    }
    if (t->magic != TYPE_MAGIC || t->self != t || type_by_id(t->id) != t) {
        log_str("tricolor: ");
        log_str(who);
        throw_addr(": not a type made by tc_type_new", t);
    }
}

void type_init(void)
{
    lock_register(&type_lock);
}

void type_reset_all(void)
{
    for (size_t i = 0; i < sizeof type_table / sizeof type_table[0]; i++)
        atomic_store(&type_table[i], NULL);
    next_type_id = 1;
}

static void type_reject(const char *name, const char *why, size_t value)
{
    fprintf(stderr, "tricolor: tc_type_new(\"%s\"): %s (%zu)\n", name ? name : "", why, value);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Copies and publishes a type; NULL when out of ids or memory. */
static const tc_type *type_register(const char *name, size_t size, const size_t *offs, size_t n,
                                    type_scan_fn scan)
{
    if (name == NULL)
        name = "";
    size_t nlen = strlen(name) + 1;
    lock_acquire(&type_lock);
    tc_type *t = NULL;
    if (next_type_id > TYPE_MAX_ID) {
        type_reject(name, "too many types", TYPE_MAX_ID);
        goto out;
    }
    uint16_t id = (uint16_t)next_type_id;
    _Atomic(const tc_type *) *block = atomic_load(&type_table[id / TYPE_BLOCK]);
    if (block == NULL) {
        block = persistent_alloc(TYPE_BLOCK * sizeof *block, 64, MEMSTAT_OTHER);
        if (block == NULL)
            goto out;
        atomic_store_explicit(&type_table[id / TYPE_BLOCK], block, memory_order_release);
    }
    t = persistent_alloc(sizeof *t + n * sizeof(size_t) + nlen, 8, MEMSTAT_OTHER);
    if (t == NULL)
        goto out;
    size_t *o = (size_t *)(t + 1);
    if (n > 0)
        memcpy(o, offs, n * sizeof(size_t));
    qsort(o, n, sizeof(size_t), cmp_size);
    char *nm = (char *)(o + n);
    memcpy(nm, name, nlen);
    t->magic = TYPE_MAGIC;
    t->id = id;
    t->self = t;
    t->size = size;
    t->name = nm;
    t->n_ptrs = n;
    t->ptr_offsets = o;
    t->scan = scan;
    size_class_init();
    t->spanclass = size <= MAX_SMALL_SIZE ? make_spanclass(size_to_class(size), type_is_noscan(t)) : 0;
    next_type_id++;
    atomic_store_explicit(&block[id % TYPE_BLOCK], t, memory_order_release);
out:
    lock_release(&type_lock);
    return t;
}

TC_API const tc_type *tc_type_new(const char *name, size_t size, const size_t *ptr_offsets, size_t n_ptrs)
{
    if (size == 0) {
        type_reject(name, "size is 0", size);
        return NULL;
    }
    if (n_ptrs > 0 && ptr_offsets == NULL) {
        type_reject(name, "ptr_offsets is NULL but n_ptrs is", n_ptrs);
        return NULL;
    }
    if (n_ptrs > size / sizeof(void *)) {
        type_reject(name, "more pointer fields than pointer-sized words; n_ptrs", n_ptrs);
        return NULL;
    }
    for (size_t i = 0; i < n_ptrs; i++) {
        size_t off = ptr_offsets[i];
        if (off % sizeof(void *) != 0) {
            type_reject(name, "pointer offset is not a multiple of sizeof(void *)", off);
            return NULL;
        }
        if (off > size - sizeof(void *) || size < sizeof(void *)) {
            type_reject(name, "pointer offset does not leave room for a pointer inside size", off);
            return NULL;
        }
    }
    /* Duplicates: sorted, they are neighbours. */
    size_t *sorted = NULL;
    if (n_ptrs > 1) {
        sorted = malloc(n_ptrs * sizeof(size_t));
        if (sorted == NULL)
            return NULL;
        memcpy(sorted, ptr_offsets, n_ptrs * sizeof(size_t));
        qsort(sorted, n_ptrs, sizeof(size_t), cmp_size);
        for (size_t i = 1; i < n_ptrs; i++)
            if (sorted[i] == sorted[i - 1]) {
                type_reject(name, "pointer offset given twice", sorted[i]);
                free(sorted);
                return NULL;
            }
    }
    const tc_type *t = type_register(name, size, sorted ? sorted : ptr_offsets, n_ptrs, NULL);
    free(sorted);
    return t;
}

TC_API const tc_type *tc_type_new_scan(const char *name, size_t size, type_scan_fn scan)
{
    if (size == 0) {
        type_reject(name, "size is 0", size);
        return NULL;
    }
    if (scan == NULL) {
        type_reject(name, "scan function is NULL", 0);
        return NULL;
    }
    return type_register(name, size, NULL, 0, scan);
}

TC_API const char *tc_type_name(const tc_type *t)
{
    type_check(t, "tc_type_name");
    return t->name;
}
