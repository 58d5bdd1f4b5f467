/*
 * sys_bdwgc.h -- the inline half of the bdwgc system (see sys.h): Debian's
 * libgc (bdwgc 8.2), built with thread support and parallel marking.
 *
 * Objects come from GC_MALLOC and are scanned conservatively, as C programs
 * that use bdwgc normally allocate (typed allocation through gc_typed.h is
 * slower per object in bdwgc); pointer-free memory from GC_MALLOC_ATOMIC.
 * bdwgc needs no write barrier: its incremental mode finds modified pages
 * through the virtual-memory system.  GC_THREADS before <gc.h> makes
 * pthread_create and pthread_join the collector's wrappers, which
 * register each new thread.
 */
#ifndef SUITE_SYS_BDWGC_H
#define SUITE_SYS_BDWGC_H

#define GC_THREADS 1
#include <gc.h>

#define SYS_MANUAL_FREE 0

typedef size_t sys_type;

#define SYS_TYPE(T, ...) sizeof(T)
#define SYS_STORE(lvalue, value) ((lvalue) = (value))

static inline void *sys_new(sys_type size) { return GC_MALLOC(size); }
static inline void *sys_alloc_noscan(size_t n) { return GC_MALLOC_ATOMIC(n); }
static inline void sys_free(void *p) { (void)p; }

#endif /* SUITE_SYS_BDWGC_H */
