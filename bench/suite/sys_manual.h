/*
 * sys_manual.h -- the inline half of the two manually managed systems (see
 * sys.h): glibc's malloc (SYS_MALLOC) and mimalloc's mi_malloc (SYS_MIMALLOC,
 * Debian's libmimalloc, linked with -lmimalloc).  The workloads free every
 * object they drop (SYS_MANUAL_FREE), so these are the baselines a
 * collector competes with: no collection, no pauses, no write barrier.
 *
 * Debian's libmimalloc also exports malloc, so in the mimalloc programs
 * everything else (stdio, the suite's own tables) runs on mimalloc too;
 * the malloc programs never link it.
 */
#ifndef SUITE_SYS_MANUAL_H
#define SUITE_SYS_MANUAL_H

#include <stdlib.h>

#if defined(SYS_MIMALLOC)
#include <mimalloc.h>
#define SYS_RAW_ALLOC(n) mi_malloc(n)
#define SYS_RAW_FREE(p) mi_free(p)
#else
#define SYS_RAW_ALLOC(n) malloc(n)
#define SYS_RAW_FREE(p) free(p)
#endif

#define SYS_MANUAL_FREE 1

typedef size_t sys_type;

#define SYS_TYPE(T, ...) sizeof(T)
#define SYS_STORE(lvalue, value) ((lvalue) = (value))

static inline void *sys_new(sys_type size) { return SYS_RAW_ALLOC(size); }
static inline void *sys_alloc_noscan(size_t n) { return SYS_RAW_ALLOC(n); }
static inline void sys_free(void *p) { SYS_RAW_FREE(p); }

#endif /* SUITE_SYS_MANUAL_H */
