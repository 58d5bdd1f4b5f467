/*
 * size_class.h -- Go's size classes and span classes.
 *
 * A small object (at most MAX_SMALL_SIZE bytes) is rounded up to one of
 * NUM_SIZE_CLASSES - 1 sizes; each size class has a fixed span size in
 * pages chosen (by Go's mksizeclasses) to bound tail waste.  Class 0 means
 * "large": an object with a span of its own.
 *
 * The table is Go's (1.8 to 1.15 form): the 66 object classes up to 32 KiB.
 * Go's later 24-byte class is left out because the API promises 16-byte
 * alignment for every object of 16 bytes or more, and 24-byte slots would
 * break it.
 *
 * A span class is size class * 2 + noscan: pointer-free objects get spans
 * of their own, which the collector never scans.
 *
 * Object index from a byte offset inside a span is a multiply and a shift:
 * index = (offset * divmul) >> 32 with divmul = (2^32 - 1) / size + 1,
 * exact for every offset inside a span (Go 1.17's divideByElemSize).
 */
#ifndef TC_HEAP_SIZE_CLASS_H
#define TC_HEAP_SIZE_CLASS_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 13
#define PAGE_SIZE ((size_t)1 << PAGE_SHIFT)  /* the runtime's page: 8 KiB */
#define MAX_SMALL_SIZE 32768
#define NUM_SIZE_CLASSES 67                  /* including class 0 (large) */
#define NUM_SPAN_CLASSES (NUM_SIZE_CLASSES * 2)
#define MAX_OBJS_PER_SPAN 1024
#define SMALL_SIZE_DIV 8
#define SMALL_SIZE_MAX 1024
#define LARGE_SIZE_DIV 128

typedef uint8_t spanclass_t;

typedef struct size_class_info {
    uint32_t size;     /* bytes per object */
    uint32_t npages;   /* pages per span */
    uint32_t nelems;   /* objects per span */
    uint32_t divmul;   /* 2^32 / size + 1 */
} size_class_info;

extern size_class_info size_classes[NUM_SIZE_CLASSES];
extern uint8_t size_to_class8[SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1];
extern uint8_t size_to_class128[(MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1];

void size_class_init(void); /* fills the tables, once per process; any thread, any time */

/* The size class for a small request, 1 <= size <= MAX_SMALL_SIZE. */
static inline unsigned size_to_class(size_t size)
{
    if (size <= SMALL_SIZE_MAX - 8)
        return size_to_class8[(size + SMALL_SIZE_DIV - 1) / SMALL_SIZE_DIV];
    return size_to_class128[(size + LARGE_SIZE_DIV - 1 - SMALL_SIZE_MAX) / LARGE_SIZE_DIV];
}

static inline spanclass_t make_spanclass(unsigned sizeclass, int noscan)
{
    return (spanclass_t)(sizeclass << 1 | (noscan ? 1u : 0u));
}
static inline unsigned spanclass_sizeclass(spanclass_t sc) { return sc >> 1; }
static inline int spanclass_noscan(spanclass_t sc) { return sc & 1; }

#endif
